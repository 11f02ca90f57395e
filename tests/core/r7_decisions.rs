//! R7 What a decision needs (Art. 17.2–17.4, 4.6, 20.1, 20.2, 21.1): quorum and majority at
//! their boundaries in an association of 40 members, unanimity, and the new meeting after a
//! failed quorum with its window and convocation.

use chrono::NaiveDate;
use stembus::core::{
    AgendaItemSpec, Choice, Command, Convener, ConvocationStatement, DecisionKind, MeetingId, Mode,
    MotionSpec, Outcome, PollId, PollMethod, PollResult, RuleId,
};

use crate::support::{
    Fixture, alv, assert_violation, chair, create_meeting_command, member, motion, poll, rep,
};

fn declare(f: &mut Fixture, name: &str, outcome: Outcome) {
    f.run(Command::DeclareResult { meeting: alv(), poll: poll(name), by: chair(), outcome, signed: None });
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("bad date {y}-{m}-{d}"))
}

/// The standard meeting of 40 members with `present` of them, one motion of `kind`, polled
/// with these votes.
fn polled(kind: DecisionKind, present: usize, for_: usize, against: usize, abstain: usize) -> PollResult {
    let mut f = Fixture::new(40);
    f.opened(kind, present);
    f.poll_with("p1", for_, against, abstain)
}

// ---- quorum (Art. 17.4a, 20.1) --------------------------------------------------------------

#[test]
fn ordinary_quorum_met_with_20_of_40_art_17_4a() {
    let r = polled(DecisionKind::Ordinary, 20, 11, 9, 0);
    assert_eq!((r.quorum.members_in_office, r.quorum.needed, r.quorum.present_or_represented), (40, 20, 20));
    assert!(r.quorum.met);
    assert_eq!(r.outcome, Outcome::Adopted);
    assert!(r.follow_up.is_none());
}

#[test]
fn ordinary_quorum_not_met_with_19_of_40_gives_no_quorum_and_a_follow_up_window_art_17_4() {
    let r = polled(DecisionKind::Ordinary, 19, 19, 0, 0);
    assert_eq!((r.quorum.needed, r.quorum.present_or_represented, r.quorum.met), (20, 19, false));
    assert_eq!(r.outcome, Outcome::NoQuorum);
    assert_eq!((r.decided_by.rule, r.decided_by.article.as_str()), (RuleId::R7, "17.2, 17.4a"));
    let w = r.follow_up.unwrap_or_else(|| panic!("no follow-up window: {}", r.explanation));
    assert_eq!((w.earliest, w.latest, w.article.as_str()), (day(2026, 6, 11), day(2026, 7, 10), "17.4b–c"));
}

#[test]
fn two_thirds_quorum_met_with_27_of_40_art_20_1() {
    let r = polled(DecisionKind::StatuteAmendment, 27, 27, 0, 0);
    assert_eq!((r.quorum.needed, r.quorum.present_or_represented, r.quorum.met), (27, 27, true));
    assert_eq!(r.outcome, Outcome::Adopted);
    assert_eq!(r.decided_by.article, "20.1");
}

#[test]
fn two_thirds_quorum_not_met_with_26_of_40_art_20_1() {
    let r = polled(DecisionKind::StatuteAmendment, 26, 26, 0, 0);
    assert_eq!((r.quorum.needed, r.quorum.present_or_represented, r.quorum.met), (27, 26, false));
    assert_eq!(r.outcome, Outcome::NoQuorum);
    let w = r.follow_up.unwrap_or_else(|| panic!("no follow-up window: {}", r.explanation));
    assert_eq!((w.earliest, w.latest, w.article.as_str()), (day(2026, 6, 24), day(2026, 7, 22), "20.1"));
}

// ---- majority (Art. 17.2, 17.3, 4.6) --------------------------------------------------------

#[test]
fn two_thirds_majority_reached_with_exactly_18_of_27_votes_cast_art_4_6() {
    // Three abstentions are not votes cast.
    let r = polled(DecisionKind::TwoThirds, 30, 18, 9, 3);
    assert_eq!((r.votes_cast, r.majority.needed_for, r.majority.reached), (27, 18, true));
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn two_thirds_majority_missed_with_17_of_27_votes_cast_art_4_6() {
    let r = polled(DecisionKind::TwoThirds, 30, 17, 10, 3);
    assert_eq!((r.votes_cast, r.majority.needed_for, r.majority.reached), (27, 18, false));
    assert_eq!(r.outcome, Outcome::Rejected);
    assert_eq!(r.decided_by.article, "4.6, 6.3, 17.4a");
}

#[test]
fn a_majority_of_one_vote_adopts_an_ordinary_motion_art_17_2() {
    let r = polled(DecisionKind::Ordinary, 21, 11, 10, 0);
    assert_eq!((r.majority.needed_for, r.outcome), (11, Outcome::Adopted));
}

#[test]
fn a_tie_is_rejected_art_17_3() {
    let r = polled(DecisionKind::Ordinary, 20, 10, 10, 0);
    assert_eq!(r.outcome, Outcome::Rejected);
    assert_eq!((r.decided_by.rule, r.decided_by.article.as_str()), (RuleId::R7, "17.3"));
    assert!(r.explanation.contains("tie"), "{}", r.explanation);
}

#[test]
fn no_votes_cast_is_rejected_art_17_2() {
    let r = polled(DecisionKind::Ordinary, 20, 0, 0, 20);
    assert_eq!((r.votes_cast, r.counts.abstain), (0, 20));
    assert!(r.quorum.met);
    assert_eq!(r.outcome, Outcome::Rejected);
    assert!(r.explanation.contains("no votes cast"), "{}", r.explanation);
}

// ---- unanimity (Art. 20.2) ------------------------------------------------------------------

#[test]
fn an_entrenched_provision_is_adopted_unanimously_with_all_40_present_art_20_2() {
    let r = polled(DecisionKind::Entrenched, 40, 40, 0, 0);
    assert_eq!((r.quorum.needed, r.quorum.met), (40, true));
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn one_vote_against_rejects_an_entrenched_provision_art_20_2() {
    let r = polled(DecisionKind::Entrenched, 40, 39, 1, 0);
    assert_eq!(r.outcome, Outcome::Rejected);
    assert_eq!(r.decided_by.article, "20.2");
}

#[test]
fn an_abstention_does_not_block_unanimity_in_a_meeting_art_20_2() {
    let r = polled(DecisionKind::Entrenched, 40, 39, 0, 1);
    assert_eq!((r.votes_cast, r.outcome), (39, Outcome::Adopted));
}

#[test]
fn an_entrenched_provision_needs_all_members_present_art_20_2() {
    let r = polled(DecisionKind::Entrenched, 39, 39, 0, 0);
    assert_eq!((r.quorum.needed, r.quorum.met), (40, false));
    assert_eq!(r.outcome, Outcome::NoQuorum);
    let w = r.follow_up.unwrap_or_else(|| panic!("no follow-up window: {}", r.explanation));
    assert_eq!((w.earliest, w.latest, w.article.as_str()), (day(2026, 6, 24), day(2026, 7, 10), "20.2"));
}

// ---- the new meeting after a failed quorum (Art. 17.4b–c, 20.1, 20.2) -----------------------

const FOLLOW_UP: &str = "alv-2";

fn alv2() -> MeetingId {
    MeetingId::named(FOLLOW_UP)
}

/// The standard meeting of `members` members on 10 June 2026 in which only `present`
/// attended, so the motion failed its quorum; declared and closed at 21:00.
fn failed_quorum(kind: DecisionKind, members: usize, present: usize) -> Fixture {
    let mut f = Fixture::new(members);
    f.opened(kind, present);
    let r = f.poll_with("p1", present, 0, 0);
    assert_eq!(r.outcome, Outcome::NoQuorum, "{}", r.explanation);
    declare(&mut f, "p1", Outcome::NoQuorum);
    f.at("2026-06-10T21:00:00+02:00");
    f.run(Command::CloseMeeting { meeting: alv(), by: chair() });
    f
}

/// The new meeting carrying the first meeting's motion, with the same text.
fn follow_up(kind: DecisionKind, starts_at: &str) -> Command {
    let mut command = create_meeting_command(FOLLOW_UP, kind, starts_at);
    if let Command::CreateMeeting { follow_up_of, agenda, .. } = &mut command {
        *follow_up_of = Some(alv());
        for item in agenda.iter_mut().filter(|i| i.motion.is_some()) {
            item.carried_from = Some(motion());
        }
    }
    command
}

fn convene_follow_up() -> Command {
    Command::ConveneMeeting {
        meeting: alv2(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: Some("Via the link.".into()),
    }
}

fn follow_up_statement(f: &Fixture) -> Option<ConvocationStatement> {
    let c = f.state.meetings[&alv2()].convocation.as_ref()?;
    c.statements.iter().find(|s| matches!(s, ConvocationStatement::FollowUp { .. })).cloned()
}

/// Holds the poll on the carried motion in the new meeting: members `1..=present` check
/// in and vote `for_` for and the rest against.
fn poll_in_follow_up(f: &mut Fixture, opens_at: &str, present: usize, for_: usize) -> PollResult {
    f.at(opens_at);
    for i in 1..=present {
        f.run(Command::CheckIn {
            meeting: alv2(),
            member: member(i),
            person: rep(i),
            mode: Mode::Electronic,
        });
    }
    f.run(Command::OpenMeeting { meeting: alv2(), chair: chair(), appointed_by_meeting: false });
    let p = PollId::named("p1");
    f.run(Command::OpenPoll {
        meeting: alv2(),
        poll: p,
        item: motion(),
        method: PollMethod::Electronic,
        by: chair(),
        revote_of: None,
    });
    for i in 1..=present {
        let choice = if i <= for_ { Choice::For } else { Choice::Against };
        f.run(Command::CastBallot {
            meeting: alv2(),
            item: motion(),
            member: member(i),
            person: rep(i),
            choice,
            signed: None,
        });
    }
    f.run(Command::ClosePoll { meeting: alv2(), poll: p, by: chair(), counts: None });
    f.state.meetings[&alv2()].polls[&p].result.clone().unwrap_or_else(|| panic!("no result"))
}

#[test]
fn a_new_meeting_within_one_month_decides_an_ordinary_item_whatever_the_attendance_art_17_4c() {
    // 4 of 10 attended on 10 June. The new meeting on 25 June is attended by 3.
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    f.run(follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00"));
    f.run(convene_follow_up());

    let r = poll_in_follow_up(&mut f, "2026-06-25T19:00:00+02:00", 3, 2);

    assert_eq!(
        (r.quorum.needed, r.quorum.present_or_represented, r.quorum.met, r.quorum.waived),
        (5, 3, false, true)
    );
    assert_eq!(r.outcome, Outcome::Adopted);
    assert!(r.explanation.contains("whatever the attendance"), "{}", r.explanation);
    assert!(r.follow_up.is_none(), "a new meeting has no new meeting of its own");
}

#[test]
fn the_convocation_of_the_new_meeting_says_it_decides_whatever_the_attendance_art_17_4c() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    f.run(follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00"));
    f.run(convene_follow_up());

    match follow_up_statement(&f) {
        Some(ConvocationStatement::FollowUp { first_meeting, first_day, items, article, text }) => {
            assert_eq!((first_meeting, first_day), (alv(), day(2026, 6, 10)));
            assert_eq!(items, vec![motion()]);
            assert_eq!(article, "17.4b–c");
            assert!(text.contains("whatever the number of members present or represented"), "{text}");
        }
        other => panic!("the convocation carries no follow-up statement: {other:?}"),
    }
}

#[test]
fn a_new_ordinary_meeting_on_the_last_day_of_the_month_is_accepted_art_17_4c() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    f.run(follow_up(DecisionKind::Ordinary, "2026-07-10T19:00:00+02:00"));
    assert!(f.state.meetings.contains_key(&alv2()));
}

#[test]
fn a_new_ordinary_meeting_after_the_month_is_refused_with_the_window_art_17_4c() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");

    let v = f.refuse(follow_up(DecisionKind::Ordinary, "2026-07-11T19:00:00+02:00"));

    assert_violation(&v, RuleId::R7, "17.4b–c", "follow_up.outside_window");
    assert!(v.message.contains("2026-06-11") && v.message.contains("2026-07-10"), "{}", v.message);
}

#[test]
fn the_new_meeting_still_needs_ten_days_notice_art_8_3() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    f.run(follow_up(DecisionKind::Ordinary, "2026-06-21T19:00:00+02:00"));

    let v = f.refuse(convene_follow_up());

    assert_violation(&v, RuleId::R3, "8.3", "convocation.too_late");
}

/// Whether a new meeting for a failed motion of `kind` may be held `days` days after the
/// first meeting of 10 June 2026.
fn follow_up_after(
    kind: DecisionKind,
    present: usize,
    days: u64,
) -> Result<(), stembus::core::RuleViolation> {
    let mut f = failed_quorum(kind, 10, present);
    f.at("2026-06-10T21:30:00+02:00");
    let starts =
        day(2026, 6, 10).checked_add_days(chrono::Days::new(days)).unwrap_or_else(|| panic!("no such day"));
    let command = follow_up(kind, &format!("{starts}T19:00:00+02:00"));
    match stembus::core::execute(&mut f.state, command, f.now) {
        Ok(_) => {
            assert_eq!(f.state.meetings.get(&alv2()).map(|m| m.follow_up_of), Some(Some(alv())));
            Ok(())
        }
        Err(v) => Err(v),
    }
}

#[test]
fn a_new_meeting_on_a_statute_amendment_is_held_two_to_six_weeks_after_the_first_art_20_1() {
    // 6 of 10 present: two thirds (7) not met.
    for days in [14, 42] {
        assert!(
            follow_up_after(DecisionKind::StatuteAmendment, 6, days).is_ok(),
            "{days} days after should be accepted"
        );
    }
    for days in [13, 43] {
        match follow_up_after(DecisionKind::StatuteAmendment, 6, days) {
            Err(v) => assert_violation(&v, RuleId::R7, "20.1", "follow_up.outside_window"),
            Ok(()) => panic!("{days} days after should be refused"),
        }
    }
}

#[test]
fn a_second_meeting_on_an_entrenched_provision_is_held_14_to_30_days_after_the_first_art_20_2() {
    // 9 of 10 present: all members needed.
    for days in [14, 30] {
        assert!(
            follow_up_after(DecisionKind::Entrenched, 9, days).is_ok(),
            "{days} days after should be accepted"
        );
    }
    for days in [13, 31] {
        match follow_up_after(DecisionKind::Entrenched, 9, days) {
            Err(v) => assert_violation(&v, RuleId::R7, "20.2", "follow_up.outside_window"),
            Ok(()) => panic!("{days} days after should be refused"),
        }
    }
}

#[test]
fn the_new_meeting_on_a_statute_amendment_still_needs_fourteen_days_notice_art_20_3() {
    // Held 14 days after the first is within the window, but the first meeting closed on
    // the 10th, so the proposal cannot reach the members fourteen clear days before.
    let mut f = failed_quorum(DecisionKind::StatuteAmendment, 10, 6);
    f.at("2026-06-10T21:30:00+02:00");
    f.run(follow_up(DecisionKind::StatuteAmendment, "2026-06-24T19:00:00+02:00"));

    let v = f.refuse(convene_follow_up());

    assert_violation(&v, RuleId::R3, "20.3", "convocation.too_late");
}

#[test]
fn the_new_meeting_decides_a_statute_amendment_by_two_thirds_whatever_the_attendance_art_20_1() {
    let mut f = failed_quorum(DecisionKind::StatuteAmendment, 10, 6);
    f.at("2026-06-10T21:30:00+02:00");
    f.run(follow_up(DecisionKind::StatuteAmendment, "2026-06-25T19:00:00+02:00"));
    f.run(convene_follow_up());

    let r = poll_in_follow_up(&mut f, "2026-06-25T19:00:00+02:00", 3, 2);

    assert_eq!((r.quorum.met, r.quorum.waived), (false, true));
    assert_eq!((r.majority.needed_for, r.outcome), (2, Outcome::Adopted));
    assert_eq!(r.decided_by.article, "20.1");
}

#[test]
fn the_convocation_of_a_second_meeting_on_an_entrenched_provision_says_so_art_20_2() {
    let mut f = failed_quorum(DecisionKind::Entrenched, 10, 9);
    f.at("2026-06-10T21:30:00+02:00");
    f.run(follow_up(DecisionKind::Entrenched, "2026-07-10T19:00:00+02:00"));
    f.run(convene_follow_up());

    match follow_up_statement(&f) {
        Some(ConvocationStatement::FollowUp { article, text, .. }) => {
            assert_eq!(article, "20.2");
            assert!(text.contains("second general meeting"), "{text}");
        }
        other => panic!("the convocation carries no follow-up statement: {other:?}"),
    }
    // The second meeting still decides unanimously: one vote against rejects.
    let r = poll_in_follow_up(&mut f, "2026-07-10T19:00:00+02:00", 3, 2);
    assert_eq!((r.quorum.waived, r.outcome), (true, Outcome::Rejected));
}

#[test]
fn a_new_meeting_cannot_carry_an_item_that_met_its_quorum_art_17_4c() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 6);
    let r = f.poll_with("p1", 6, 0, 0);
    declare(&mut f, "p1", r.outcome);
    f.run(Command::CloseMeeting { meeting: alv(), by: chair() });
    f.at("2026-06-11T10:00:00+02:00");

    let v = f.refuse(follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00"));

    assert_violation(&v, RuleId::R7, "17.4b–c", "follow_up.quorum_not_failed");
}

#[test]
fn a_new_meeting_decides_on_the_same_text_art_17_4c() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    let mut command = follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00");
    if let Command::CreateMeeting { agenda, .. } = &mut command {
        for m in agenda.iter_mut().filter_map(|i| i.motion.as_mut()) {
            m.text = "Het voorstel wordt in gewijzigde vorm aangenomen.".into();
        }
    }

    let v = f.refuse(command);

    assert_violation(&v, RuleId::R7, "17.4b–c", "follow_up.different_motion");
}

#[test]
fn a_new_meeting_carries_no_new_motions_art_17_4c() {
    let mut f = failed_quorum(DecisionKind::Ordinary, 10, 4);
    f.at("2026-06-11T10:00:00+02:00");
    let mut command = follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00");
    if let Command::CreateMeeting { agenda, .. } = &mut command {
        agenda.push(AgendaItemSpec {
            item: stembus::core::AgendaItemId::named("new"),
            title: "Nieuw voorstel".into(),
            motion: Some(MotionSpec {
                text: "Iets nieuws.".into(),
                kind: DecisionKind::Ordinary,
                proposal: None,
                board_proposal_approved: false,
            }),
            carried_from: None,
            concerns_member: None,
            annual_accounts: false,
        });
    }

    let v = f.refuse(command);

    assert_violation(&v, RuleId::R7, "17.4b–c", "follow_up.new_motion");
}

#[test]
fn a_new_meeting_follows_only_a_closed_first_meeting_art_17_4c() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 4);
    let r = f.poll_with("p1", 4, 0, 0);
    declare(&mut f, "p1", r.outcome);

    let v = f.refuse(follow_up(DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00"));

    assert_violation(&v, RuleId::R7, "17.4b–c", "follow_up.first_not_closed");
    assert_eq!(f.state.meetings.len(), 1);
}
