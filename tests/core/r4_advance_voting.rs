//! R4 Advance electronic voting (Art. 8.13): the window of thirty days on both edges, in
//! Dutch time across the changes to and from summer time; advance ballots as votes cast and
//! as presence; replacement, lapse on amendment, and the end of the window at the opening.

use stembus::core::{
    Choice, Command, Convener, ConvocationStatement, DecisionKind, Fact, Instant, Outcome, RuleId,
    RulesProfile, Via,
};

use crate::support::{
    ALV, CONVENED_AT, Fixture, alv, assert_violation, chair, create_meeting_command, member, motion, rep, t,
};

/// Creates the standard meeting (one ordinary motion) starting at `starts_at` and convenes
/// it at `convened_at`.
fn convene_at(f: &mut Fixture, convened_at: &str, starts_at: &str, advance_voting: bool) {
    f.at(convened_at);
    f.run(create_meeting_command(ALV, DecisionKind::Ordinary, starts_at));
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting,
        electronic_participation: Some("Via the video link in this convocation.".into()),
    });
}

/// Member `i` votes on the motion through its own representative (before the meeting: an
/// advance ballot).
fn ballot(i: usize, choice: Choice) -> Command {
    Command::CastBallot {
        meeting: alv(),
        item: motion(),
        member: member(i),
        person: rep(i),
        choice,
        signed: None,
    }
}

fn window_opens(f: &Fixture) -> Instant {
    f.state.meetings[&alv()]
        .advance_window()
        .map(|w| w.opens)
        .unwrap_or_else(|| panic!("the convocation opened no advance voting"))
}

fn advance_ballot_count(f: &Fixture) -> usize {
    f.state.meetings[&alv()].advance_ballots.get(&motion()).map_or(0, |b| b.len())
}

fn advance_choice(f: &Fixture, i: usize) -> Option<Choice> {
    f.state.meetings[&alv()].advance_ballots.get(&motion()).and_then(|b| b.get(&member(i))).map(|b| b.choice)
}

/// Checks in members `1..=present` at 18:50 and opens the standard meeting at 19:00.
fn open_with(f: &mut Fixture, present: usize) {
    f.at("2026-06-10T18:50:00+02:00");
    for i in 1..=present {
        f.check_in(i);
    }
    f.at("2026-06-10T19:00:00+02:00");
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
}

#[test]
fn the_window_opens_at_midnight_amsterdam_thirty_days_before_the_day_of_the_meeting_art_8_13() {
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-05-01T10:00:00+02:00", "2026-06-10T19:00:00+02:00", true);
    assert_eq!(window_opens(&f), t("2026-05-11T00:00:00+02:00"));
}

#[test]
fn an_advance_ballot_at_23_59_on_the_31st_day_before_the_meeting_is_refused_art_8_13() {
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-05-01T10:00:00+02:00", "2026-06-10T19:00:00+02:00", true);
    f.at("2026-05-10T23:59:00+02:00");
    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R4, "8.13", "ballot.before_window");
    assert_eq!(advance_ballot_count(&f), 0);
}

#[test]
fn an_advance_ballot_at_00_00_on_the_30th_day_before_the_meeting_is_accepted_art_8_13() {
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-05-01T10:00:00+02:00", "2026-06-10T19:00:00+02:00", true);
    f.at("2026-05-11T00:00:00+02:00");
    let events = f.run(ballot(1, Choice::For));
    assert!(
        matches!(&events[..], [e] if matches!(&e.fact, Fact::BallotCast { poll: None, ballot, .. } if ballot.via == Via::Advance))
    );
    assert_eq!(advance_choice(&f, 1), Some(Choice::For));
}

#[test]
fn the_window_of_a_summer_meeting_opens_at_midnight_winter_time_art_8_13() {
    // Meeting on Wednesday 15 April 2026 (CEST); day − 30 is Monday 16 March (CET): the
    // window opens at 2026-03-16 00:00 CET = 2026-03-15 23:00 UTC, not an hour earlier.
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-03-01T10:00:00+01:00", "2026-04-15T19:00:00+02:00", true);
    assert_eq!(window_opens(&f), t("2026-03-15T23:00:00Z"));

    f.at("2026-03-15T23:59:00+01:00");
    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R4, "8.13", "ballot.before_window");

    f.at("2026-03-16T00:00:00+01:00");
    f.run(ballot(1, Choice::For));
    assert_eq!(advance_choice(&f, 1), Some(Choice::For));
}

#[test]
fn the_window_of_a_winter_meeting_opens_at_midnight_summer_time_art_8_13() {
    // Meeting on Tuesday 10 November 2026 (CET); day − 30 is Sunday 11 October (CEST): the
    // window opens at 2026-10-11 00:00 CEST = 2026-10-10 22:00 UTC, not an hour later.
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-10-01T10:00:00+02:00", "2026-11-10T19:00:00+01:00", true);
    assert_eq!(window_opens(&f), t("2026-10-10T22:00:00Z"));

    f.at("2026-10-10T23:59:00+02:00");
    let v = f.refuse(ballot(1, Choice::Against));
    assert_violation(&v, RuleId::R4, "8.13", "ballot.before_window");

    f.at("2026-10-11T00:00:00+02:00");
    f.run(ballot(1, Choice::Against));
    assert_eq!(advance_choice(&f, 1), Some(Choice::Against));
}

#[test]
fn the_window_never_opens_before_the_convocation_art_8_13() {
    // Convened on 20 May for 10 June: day − 30 (11 May) has passed, so the window opens
    // with the convocation itself.
    let mut f = Fixture::new(3);
    f.at("2026-05-15T10:00:00+02:00");
    f.create_meeting(DecisionKind::Ordinary, "2026-06-10T19:00:00+02:00");
    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R4, "8.13", "ballot.not_convened");

    f.at(CONVENED_AT);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: None,
    });
    assert_eq!(window_opens(&f), t(CONVENED_AT));
    let statements =
        &f.state.meetings[&alv()].convocation.as_ref().unwrap_or_else(|| panic!("not convened")).statements;
    assert!(statements.iter().any(
        |s| matches!(s, ConvocationStatement::AdvanceVotingOpen { opens, .. } if *opens == t(CONVENED_AT))
    ));
    f.run(ballot(1, Choice::For));
    assert_eq!(advance_choice(&f, 1), Some(Choice::For));
}

#[test]
fn advance_voting_not_opened_in_the_convocation_is_refused_art_8_13() {
    let mut f = Fixture::new(3);
    convene_at(&mut f, "2026-05-01T10:00:00+02:00", "2026-06-10T19:00:00+02:00", false);
    assert!(f.state.meetings[&alv()].advance_window().is_none());
    f.at("2026-06-01T12:00:00+02:00");
    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R4, "8.13", "ballot.advance_voting_not_opened");
}

#[test]
fn advance_ballots_count_as_votes_cast_and_make_the_member_present_for_the_quorum_art_8_13() {
    // 10 members, quorum 5. Three attend; members 5 and 6 voted in advance.
    let mut f = Fixture::new(10);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(5, Choice::For));
    f.run(ballot(6, Choice::Against));
    open_with(&mut f, 3);

    let r = f.poll_with("p1", 3, 0, 0);

    assert_eq!((r.counts.in_favour, r.counts.against, r.votes_cast), (4, 1, 5));
    assert_eq!((r.presence.electronically, r.presence.by_advance_ballot, r.presence.total()), (3, 2, 5));
    assert_eq!((r.quorum.needed, r.quorum.met), (5, true));
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn with_advance_ballot_counts_as_present_off_advance_voters_do_not_make_the_quorum_art_8_13() {
    let mut profile = RulesProfile::dimpact_2023();
    profile.readings.advance_ballot_counts_as_present = false;
    let mut f = Fixture::with_profile(10, profile);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(5, Choice::For));
    f.run(ballot(6, Choice::Against));
    open_with(&mut f, 3);

    let r = f.poll_with("p1", 3, 0, 0);

    // Still votes cast (Art. 8.13), but the members are not present or represented.
    assert_eq!((r.counts.in_favour, r.counts.against), (4, 1));
    assert_eq!((r.presence.by_advance_ballot, r.presence.total()), (0, 3));
    assert_eq!((r.quorum.needed, r.quorum.met), (5, false));
    assert_eq!(r.outcome, Outcome::NoQuorum);
}

#[test]
fn a_later_advance_ballot_replaces_the_earlier_one_art_8_13() {
    let mut f = Fixture::new(4);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(1, Choice::For));
    f.at("2026-06-02T12:00:00+02:00");
    f.run(ballot(1, Choice::Against));
    assert_eq!(advance_ballot_count(&f), 1);
    assert_eq!(advance_choice(&f, 1), Some(Choice::Against));
}

#[test]
fn a_ballot_cast_in_the_meeting_replaces_the_advance_ballot_art_8_13() {
    // Member 1 voted against in advance, attends and votes for; member 6 voted for in
    // advance and stays away.
    let mut f = Fixture::new(10);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(1, Choice::Against));
    f.run(ballot(6, Choice::For));
    open_with(&mut f, 5);

    let r = f.poll_with("p1", 5, 0, 0);

    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain), (6, 0, 0));
    assert_eq!((r.presence.electronically, r.presence.by_advance_ballot), (5, 1));
    let p = &f.state.meetings[&alv()].polls[&crate::support::poll("p1")];
    assert_eq!(p.ballots.get(&member(1)).map(|b| (b.choice, b.via)), Some((Choice::For, Via::Own)));
}

#[test]
fn amending_the_motion_lapses_its_advance_ballots_and_the_result_says_how_many_art_8_13() {
    let mut f = Fixture::new(10);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    for i in [6, 7, 8] {
        f.run(ballot(i, Choice::Against));
    }
    open_with(&mut f, 5);

    let events = f.run(Command::AmendMotion {
        meeting: alv(),
        item: motion(),
        text: "Het voorstel wordt gewijzigd aangenomen.".into(),
    });

    assert!(
        matches!(&events[..], [e] if matches!(e.fact, Fact::MotionAmended { lapsed_advance_ballots: 3, .. }))
    );
    assert_eq!(advance_ballot_count(&f), 0);
    let r = f.poll_with("p1", 5, 0, 0);
    assert_eq!(r.lapsed_advance_ballots, 3);
    assert_eq!((r.counts.in_favour, r.counts.against), (5, 0));
    assert_eq!((r.presence.by_advance_ballot, r.presence.total()), (0, 5));
}

#[test]
fn advance_ballots_close_when_the_meeting_opens_art_8_13() {
    let mut f = Fixture::new(10);
    f.convened(DecisionKind::Ordinary);
    open_with(&mut f, 5);
    f.at("2026-06-10T19:01:00+02:00");

    // Without a poll there is nothing to vote in.
    let v = f.refuse(ballot(6, Choice::For));
    assert_violation(&v, RuleId::R6, "8.10", "ballot.no_open_poll");
    // With a poll open, an absent member cannot vote from afar any more.
    f.open_poll("p1");
    let v = f.refuse(ballot(6, Choice::For));
    assert_violation(&v, RuleId::R5, "8.11", "ballot.not_present");
    assert_eq!(advance_ballot_count(&f), 0);
}
