//! R5 The meeting in session and R6 Polls (Art. 8.4, 8.10, 8.11, 17.5): who chairs,
//! attendance over time and the moment the quorum is taken, who runs a poll, the chair's
//! declaration and its challenge, written polls on paper.

use stembus::core::profile::QuorumMoment;
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Choice, Command, Convener, Counts, DecisionKind, Fact, MotionSpec, Outcome,
    PersonId, Phase, PollMethod, PollResult, RuleId, RulesProfile,
};

use crate::support::{
    ALV, Fixture, MEETING_STARTS, alv, assert_violation, chair, create_meeting_command, member, motion, poll,
    rep, t,
};

fn open_meeting(chair: PersonId, appointed_by_meeting: bool) -> Command {
    Command::OpenMeeting { meeting: alv(), chair, appointed_by_meeting }
}

fn open_poll(name: &str, method: PollMethod, by: PersonId) -> Command {
    Command::OpenPoll { meeting: alv(), poll: poll(name), item: motion(), method, by, revote_of: None }
}

fn close_poll(name: &str, by: PersonId, counts: Option<Counts>) -> Command {
    Command::ClosePoll { meeting: alv(), poll: poll(name), by, counts }
}

fn declare(name: &str, by: PersonId, outcome: Outcome) -> Command {
    Command::DeclareResult { meeting: alv(), poll: poll(name), by, outcome, signed: None }
}

fn challenge(name: &str, supporters: &[usize]) -> Command {
    Command::ChallengeDeclaration {
        meeting: alv(),
        poll: poll(name),
        supporters: supporters.iter().map(|i| member(*i)).collect(),
    }
}

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

fn counts(in_favour: u64, against: u64, abstain: u64) -> Counts {
    Counts { in_favour, against, abstain }
}

/// A poll by voice or on paper, closed with the chair's counts and declared as counted.
fn held_by_hand(f: &mut Fixture, name: &str, method: PollMethod, c: Counts) -> PollResult {
    f.run(open_poll(name, method, chair()));
    f.run(close_poll(name, chair(), Some(c)));
    let r = f.result(name);
    f.run(declare(name, chair(), r.outcome));
    r
}

/// An electronic poll with these votes, declared as counted.
fn held_electronically(
    f: &mut Fixture,
    name: &str,
    for_: usize,
    against: usize,
    abstain: usize,
) -> PollResult {
    let r = f.poll_with(name, for_, against, abstain);
    f.run(declare(name, chair(), r.outcome));
    r
}

// ---- R5: who chairs (Art. 8.4) --------------------------------------------------------------

#[test]
fn only_the_chair_of_the_supervisory_board_opens_the_meeting_art_8_4() {
    let mut f = Fixture::new(4);
    f.convened(DecisionKind::Ordinary);
    f.at(MEETING_STARTS);

    let v = f.refuse(open_meeting(rep(1), false));
    assert_violation(&v, RuleId::R5, "8.4", "chair.not_supervisory_board_chair");

    f.run(open_meeting(chair(), false));
    let m = &f.state.meetings[&alv()];
    assert_eq!((m.phase, m.chair), (Phase::Open, Some(chair())));
}

#[test]
fn the_deputy_of_the_supervisory_board_chair_opens_the_meeting_art_8_4() {
    let mut f = Fixture::new(4);
    let deputy = PersonId::named("deputy");
    f.run(Command::RegisterPerson {
        person: deputy,
        name: "Vicevoorzitter RvC".into(),
        email: None,
        profession: None,
    });
    f.run(Command::AppointSupervisoryBoardChair { person: deputy, deputy: true });
    f.convened(DecisionKind::Ordinary);
    f.at(MEETING_STARTS);

    f.run(open_meeting(deputy, false));

    assert_eq!(f.state.meetings[&alv()].chair, Some(deputy));
}

#[test]
fn a_chair_appointed_by_the_general_meeting_opens_and_leads_it_art_8_4() {
    let mut f = Fixture::new(4);
    f.convened(DecisionKind::Ordinary);
    f.at(MEETING_STARTS);

    let events = f.run(open_meeting(rep(1), true));

    assert!(
        matches!(&events[..], [e] if matches!(e.fact, Fact::MeetingOpened { appointed_by_meeting: true, .. }))
    );
    f.run(open_poll("p1", PollMethod::Electronic, rep(1)));
    assert!(f.state.meetings[&alv()].open_poll_on(motion()).is_some());
}

#[test]
fn after_the_general_meeting_appoints_another_chair_only_that_chair_runs_the_polls_art_8_4() {
    let mut f = Fixture::new(4);
    f.opened(DecisionKind::Ordinary, 4);

    f.run(Command::AppointChair { meeting: alv(), person: rep(2) });

    let v = f.refuse(open_poll("p1", PollMethod::Electronic, chair()));
    assert_violation(&v, RuleId::R5, "8.4", "chair.not_chair");
    f.run(open_poll("p1", PollMethod::Electronic, rep(2)));
    assert_eq!(f.state.meetings[&alv()].chair, Some(rep(2)));
}

// ---- R5: attendance over time (Art. 8.11) ---------------------------------------------------

#[test]
fn a_member_that_checks_out_before_the_poll_closes_is_not_present_at_the_close_art_8_11() {
    // 10 members, quorum 5. Five attend; member 5 leaves during the poll without voting.
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 5);
    f.at("2026-06-10T19:10:00+02:00");
    f.open_poll("p1");
    for i in 1..=4 {
        f.vote(i, Choice::For);
    }
    f.at("2026-06-10T19:20:00+02:00");
    f.run(Command::CheckOut { meeting: alv(), member: member(5) });
    f.at("2026-06-10T19:25:00+02:00");

    let r = f.close_poll("p1");

    assert_eq!(r.taken_at, t("2026-06-10T19:25:00+02:00"));
    assert_eq!((r.presence.total(), r.quorum.needed, r.quorum.met), (4, 5, false));
    assert_eq!(r.outcome, Outcome::NoQuorum);
    let left =
        f.state.meetings[&alv()].attendance_spans().find(|a| a.member == member(5)).and_then(|a| a.left);
    assert_eq!(left, Some(t("2026-06-10T19:20:00+02:00")));
}

#[test]
fn with_quorum_taken_at_poll_open_a_member_that_leaves_during_the_poll_still_counts_art_8_11() {
    let mut profile = RulesProfile::dimpact_2023();
    profile.readings.quorum_taken_at = QuorumMoment::PollOpen;
    let mut f = Fixture::with_profile(10, profile);
    f.opened(DecisionKind::Ordinary, 5);
    f.at("2026-06-10T19:10:00+02:00");
    f.open_poll("p1");
    for i in 1..=4 {
        f.vote(i, Choice::For);
    }
    f.at("2026-06-10T19:20:00+02:00");
    f.run(Command::CheckOut { meeting: alv(), member: member(5) });
    f.at("2026-06-10T19:25:00+02:00");

    let r = f.close_poll("p1");

    assert_eq!(r.taken_at, t("2026-06-10T19:10:00+02:00"));
    assert_eq!((r.presence.total(), r.quorum.met), (5, true));
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn a_member_that_checks_in_during_the_poll_is_present_at_the_close_art_8_11() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 4);
    f.at("2026-06-10T19:10:00+02:00");
    f.open_poll("p1");
    for i in 1..=4 {
        f.vote(i, Choice::For);
    }
    f.at("2026-06-10T19:15:00+02:00");
    f.check_in(5);
    f.at("2026-06-10T19:20:00+02:00");

    let r = f.close_poll("p1");

    assert_eq!((r.presence.total(), r.quorum.met), (5, true));
    assert_eq!(r.outcome, Outcome::Adopted);
}

// ---- R6: polls (Art. 8.10) ------------------------------------------------------------------

#[test]
fn ballots_are_cast_only_while_a_poll_is_open_art_8_10() {
    let mut f = Fixture::new(4);
    f.opened(DecisionKind::Ordinary, 4);

    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R6, "8.10", "ballot.no_open_poll");

    f.open_poll("p1");
    f.vote(1, Choice::For);
    f.close_poll("p1");

    let v = f.refuse(ballot(2, Choice::For));
    assert_violation(&v, RuleId::R6, "8.10", "ballot.no_open_poll");
    assert_eq!(f.result("p1").counts.in_favour, 1);
}

#[test]
fn only_the_chair_opens_closes_and_declares_a_poll_art_8_4() {
    let mut f = Fixture::new(4);
    f.opened(DecisionKind::Ordinary, 4);

    let v = f.refuse(open_poll("p1", PollMethod::Electronic, rep(1)));
    assert_violation(&v, RuleId::R5, "8.4", "chair.not_chair");
    f.run(open_poll("p1", PollMethod::Electronic, chair()));
    f.vote(1, Choice::For);

    let v = f.refuse(close_poll("p1", rep(1), None));
    assert_violation(&v, RuleId::R5, "8.4", "chair.not_chair");
    f.run(close_poll("p1", chair(), None));

    let v = f.refuse(declare("p1", rep(1), Outcome::Adopted));
    assert_violation(&v, RuleId::R5, "8.4", "chair.not_chair");
    f.run(declare("p1", chair(), Outcome::Adopted));
    let decided = f.state.meetings[&alv()].decision_on(motion()).and_then(|p| p.declaration.clone());
    assert_eq!(decided.map(|d| (d.by, d.outcome)), Some((chair(), Outcome::Adopted)));
}

#[test]
fn a_declaration_that_contradicts_the_count_is_refused_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    let r = f.poll_with("p1", 4, 1, 1);
    assert_eq!(r.outcome, Outcome::Adopted);

    for wrong in [Outcome::Rejected, Outcome::NoQuorum] {
        let v = f.refuse(declare("p1", chair(), wrong));
        assert_violation(&v, RuleId::R6, "17.5", "declaration.contradicts_count");
    }
    f.run(declare("p1", chair(), Outcome::Adopted));
}

// ---- R6: challenging the declaration (Art. 17.5) --------------------------------------------

#[test]
fn after_a_poll_by_voice_a_single_voter_may_demand_a_new_poll_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    held_by_hand(&mut f, "p1", PollMethod::Voice, counts(4, 2, 0));

    let events = f.run(challenge("p1", &[3]));

    assert!(
        matches!(&events[..], [e] if matches!(&e.fact, Fact::DeclarationChallenged { supporters, .. } if *supporters == vec![member(3)]))
    );
    assert!(f.state.meetings[&alv()].polls[&poll("p1")].challenge.is_some());
}

#[test]
fn after_an_electronic_poll_a_single_voter_cannot_demand_a_new_poll_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    held_electronically(&mut f, "p1", 4, 2, 0);

    let v = f.refuse(challenge("p1", &[5]));
    assert_violation(&v, RuleId::R6, "17.5", "challenge.needs_majority");
    // Half of the six members present is not a majority either.
    let v = f.refuse(challenge("p1", &[4, 5, 6]));
    assert_violation(&v, RuleId::R6, "17.5", "challenge.needs_majority");
}

#[test]
fn after_an_electronic_poll_a_majority_of_the_members_present_demands_a_new_poll_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    held_electronically(&mut f, "p1", 4, 2, 0);

    f.run(challenge("p1", &[3, 4, 5, 6]));

    let c = f.state.meetings[&alv()].polls[&poll("p1")].challenge.clone();
    assert_eq!(c.map(|c| c.supporters.len()), Some(4));
}

#[test]
fn after_a_written_poll_only_a_majority_of_the_members_present_demands_a_new_poll_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    held_by_hand(&mut f, "p1", PollMethod::Written, counts(4, 2, 0));

    let v = f.refuse(challenge("p1", &[5]));
    assert_violation(&v, RuleId::R6, "17.5", "challenge.needs_majority");
    f.run(challenge("p1", &[2, 4, 5, 6]));
    assert!(f.state.meetings[&alv()].polls[&poll("p1")].challenge.is_some());
}

#[test]
fn a_challenge_after_another_poll_has_opened_is_too_late_art_17_5() {
    // A meeting with two motions; the first is decided by voice, then the second is put to
    // the vote. Only then does a voter dispute the first declaration.
    let mut f = Fixture::new(6);
    let second = AgendaItemId::named("motion-2");
    let mut create = create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS);
    if let Command::CreateMeeting { agenda, .. } = &mut create {
        agenda.push(AgendaItemSpec {
            item: second,
            title: "Tweede voorstel".into(),
            motion: Some(MotionSpec {
                text: "Het tweede voorstel wordt aangenomen.".into(),
                kind: DecisionKind::Ordinary,
                proposal: None,
                board_proposal_approved: false,
            }),
            carried_from: None,
            concerns_member: None,
            annual_accounts: false,
        });
    }
    f.at(crate::support::CONVENED_AT);
    f.run(create);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: Some("Via the link.".into()),
    });
    f.at("2026-06-10T18:50:00+02:00");
    for i in 1..=6 {
        f.check_in(i);
    }
    f.at(MEETING_STARTS);
    f.run(open_meeting(chair(), false));
    f.at("2026-06-10T19:10:00+02:00");
    held_by_hand(&mut f, "p1", PollMethod::Voice, counts(4, 2, 0));
    f.at("2026-06-10T19:15:00+02:00");
    f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("p2"),
        item: second,
        method: PollMethod::Electronic,
        by: chair(),
        revote_of: None,
    });
    f.at("2026-06-10T19:16:00+02:00");

    let v = f.refuse(challenge("p1", &[3]));

    assert_violation(&v, RuleId::R6, "17.5", "challenge.too_late");
}

#[test]
fn the_new_poll_voids_the_first_and_its_declaration_decides_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    f.at("2026-06-10T19:10:00+02:00");
    held_by_hand(&mut f, "p1", PollMethod::Voice, counts(4, 2, 0));
    f.run(challenge("p1", &[3]));
    f.at("2026-06-10T19:12:00+02:00");

    let events = f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("p2"),
        item: motion(),
        method: PollMethod::Electronic,
        by: chair(),
        revote_of: Some(poll("p1")),
    });

    assert!(events.iter().any(
        |e| matches!(e.fact, Fact::PollVoided { poll: p, by, .. } if p == poll("p1") && by == poll("p2"))
    ));
    assert!(f.state.meetings[&alv()].decision_on(motion()).is_none(), "the voided poll no longer decides");
    for i in 1..=2 {
        f.vote(i, Choice::For);
    }
    for i in 3..=6 {
        f.vote(i, Choice::Against);
    }
    let r = f.close_poll("p2");
    assert_eq!(r.outcome, Outcome::Rejected);
    f.run(declare("p2", chair(), Outcome::Rejected));

    let m = &f.state.meetings[&alv()];
    assert_eq!(m.polls[&poll("p1")].voided_by, Some(poll("p2")));
    let decision = m.decision_on(motion());
    assert_eq!(decision.map(|p| p.id), Some(poll("p2")));
    assert_eq!(decision.and_then(|p| p.declaration.as_ref()).map(|d| d.outcome), Some(Outcome::Rejected));
}

#[test]
fn after_a_challenge_the_next_poll_on_the_item_is_the_new_poll_art_17_5() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    held_by_hand(&mut f, "p1", PollMethod::Voice, counts(4, 2, 0));
    f.run(challenge("p1", &[3]));

    let v = f.refuse(open_poll("p2", PollMethod::Electronic, chair()));

    assert_violation(&v, RuleId::R6, "17.5", "poll.revote_required");
}

// ---- R6: written polls on paper (Art. 8.10) -------------------------------------------------

#[test]
fn a_written_poll_records_the_chairs_counts_and_is_not_verifiable_ballot_by_ballot_art_8_10() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 6);
    f.run(open_poll("p1", PollMethod::Written, chair()));

    let v = f.refuse(ballot(1, Choice::For));
    assert_violation(&v, RuleId::R6, "8.10", "ballot.not_electronic");
    let v = f.refuse(close_poll("p1", chair(), None));
    assert_violation(&v, RuleId::R6, "8.10", "poll.counts_missing");

    f.run(close_poll("p1", chair(), Some(counts(4, 1, 1))));

    let p = &f.state.meetings[&alv()].polls[&poll("p1")];
    assert_eq!(p.recorded_counts, Some(counts(4, 1, 1)));
    assert!(p.ballots.is_empty());
    let r = f.result("p1");
    assert_eq!((r.method, r.verifiable_ballot_by_ballot), (PollMethod::Written, false));
    assert_eq!((r.counts, r.votes_cast), (counts(4, 1, 1), 5));
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn an_electronic_poll_is_verifiable_ballot_by_ballot_art_8_10() {
    let mut f = Fixture::new(4);
    f.opened(DecisionKind::Ordinary, 4);
    let r = f.poll_with("p1", 3, 1, 0);
    assert!(r.verifiable_ballot_by_ballot);
    assert_eq!(f.state.meetings[&alv()].polls[&poll("p1")].ballots.len(), 4);
}

#[test]
fn written_poll_counts_exceeding_the_members_present_are_refused_art_8_6() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 6);
    f.run(open_poll("p1", PollMethod::Written, chair()));

    let v = f.refuse(close_poll("p1", chair(), Some(counts(4, 2, 1))));
    assert_violation(&v, RuleId::R1, "8.6", "poll.more_votes_than_members");

    // Exactly the six present is accepted.
    f.run(close_poll("p1", chair(), Some(counts(4, 2, 0))));
    assert_eq!(f.result("p1").counts, counts(4, 2, 0));
}

#[test]
fn closing_the_meeting_with_a_poll_open_is_refused_art_8_10() {
    let mut f = Fixture::new(4);
    f.opened(DecisionKind::Ordinary, 4);
    f.open_poll("p1");
    f.vote(1, Choice::For);

    let v = f.refuse(Command::CloseMeeting { meeting: alv(), by: chair() });
    assert_violation(&v, RuleId::R6, "8.10", "meeting.poll_open");

    f.close_poll("p1");
    f.run(declare("p1", chair(), Outcome::Adopted));
    f.run(Command::CloseMeeting { meeting: alv(), by: chair() });
    assert_eq!(f.state.meetings[&alv()].phase, Phase::Closed);
}
