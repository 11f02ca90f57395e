//! Resolutions outside a meeting (Art. 8.12): unanimous, every member voting for, with the
//! prior knowledge of the board and the supervisory board; never for a statute amendment. Each
//! vote is signed by the person who casts it (R8): `Fixture::run` signs it with the voter's
//! scenario key; tests/core/r8_signatures.rs refuses unsigned and badly signed votes.

use stembus::core::{Choice, Command, DecisionKind, Outcome, ResolutionId, ResolutionResult, RuleId};

use crate::support::{Fixture, assert_violation, member, rep, t};

const MEMBERS: usize = 10;
const CLOSES_AT: &str = "2026-01-19T17:00:00+01:00";

fn resolution() -> ResolutionId {
    ResolutionId::named("r1")
}

fn propose(kind: DecisionKind, board_informed: bool, supervisory_board_informed: bool) -> Command {
    Command::ProposeResolution {
        resolution: resolution(),
        text: "De contributie voor 2027 wordt vastgesteld op het voorgestelde bedrag.".into(),
        kind,
        closes_at: t(CLOSES_AT),
        board_informed,
        supervisory_board_informed,
    }
}

fn vote(i: usize, choice: Choice) -> Command {
    Command::CastResolutionVote {
        resolution: resolution(),
        member: member(i),
        person: rep(i),
        choice,
        signed: None,
    }
}

fn conclude() -> Command {
    Command::ConcludeResolution { resolution: resolution() }
}

/// Proposes an ordinary resolution with prior knowledge and lets the members vote as given,
/// in order from member 1.
fn proposed_and_voted(choices: &[Choice]) -> Fixture {
    let mut f = Fixture::new(MEMBERS);
    f.run(propose(DecisionKind::Ordinary, true, true));
    f.at("2026-01-06T10:00:00+01:00");
    for (i, choice) in choices.iter().enumerate() {
        f.run(vote(i + 1, *choice));
    }
    f
}

fn result(f: &Fixture) -> ResolutionResult {
    f.state.resolutions[&resolution()]
        .result
        .clone()
        .unwrap_or_else(|| panic!("the resolution is not concluded"))
}

#[test]
fn every_member_voting_for_adopts_a_resolution_outside_a_meeting_art_8_12() {
    let mut f = proposed_and_voted(&[Choice::For; MEMBERS]);

    f.run(conclude());

    let r = result(&f);
    assert_eq!((r.counts.in_favour, r.not_voted, r.members_in_office), (10, 0, 10));
    assert_eq!(r.outcome, Outcome::Adopted);
    assert_eq!((r.decided_by.rule, r.decided_by.article.as_str()), (RuleId::R7, "8.12"));
    // Every vote counted carries the signature of the person who cast it, by that person's key.
    let votes = &f.state.resolutions[&resolution()].votes;
    assert_eq!(votes.len(), MEMBERS);
    for (m, ballot) in votes {
        let signed = ballot.signed.unwrap_or_else(|| panic!("the vote of {m} is unsigned"));
        assert_eq!(f.state.keys.get(&signed.key).map(|k| k.person), Some(ballot.person), "{m}");
    }
}

#[test]
fn one_abstention_blocks_a_resolution_outside_a_meeting_art_8_12() {
    let mut choices = [Choice::For; MEMBERS];
    choices[3] = Choice::Abstain;
    let mut f = proposed_and_voted(&choices);

    f.run(conclude());

    let r = result(&f);
    assert_eq!((r.counts.in_favour, r.counts.abstain, r.counts.against), (9, 1, 0));
    assert_eq!(r.outcome, Outcome::Rejected);
}

#[test]
fn one_vote_against_blocks_a_resolution_outside_a_meeting_art_8_12() {
    let mut choices = [Choice::For; MEMBERS];
    choices[9] = Choice::Against;
    let mut f = proposed_and_voted(&choices);

    f.run(conclude());

    let r = result(&f);
    assert_eq!((r.counts.in_favour, r.counts.against), (9, 1));
    assert_eq!(r.outcome, Outcome::Rejected);
}

#[test]
fn a_resolution_outside_a_meeting_needs_the_prior_knowledge_of_the_board_and_the_supervisory_board_art_8_12()
{
    let mut f = Fixture::new(MEMBERS);
    for (board, supervisory_board) in [(false, false), (true, false), (false, true)] {
        let v = f.refuse(propose(DecisionKind::Ordinary, board, supervisory_board));
        assert_violation(&v, RuleId::R7, "8.12", "resolution.without_prior_knowledge");
    }
    f.run(propose(DecisionKind::Ordinary, true, true));
    assert!(f.state.resolutions.contains_key(&resolution()));
}

#[test]
fn a_statute_amendment_cannot_be_decided_outside_a_meeting_art_20_3() {
    let mut f = Fixture::new(MEMBERS);
    for kind in [
        DecisionKind::StatuteAmendment,
        DecisionKind::Dissolution,
        DecisionKind::Regulations,
        DecisionKind::Entrenched,
    ] {
        let v = f.refuse(propose(kind, true, true));
        assert_violation(&v, RuleId::R3, "20.3", "resolution.needs_special_meeting");
    }
    assert!(f.state.resolutions.is_empty());
}

#[test]
fn a_resolution_is_concluded_before_its_deadline_only_once_every_member_has_voted_art_8_12() {
    let mut f = proposed_and_voted(&[Choice::For; MEMBERS - 1]);

    let v = f.refuse(conclude());
    assert_violation(&v, RuleId::R7, "8.12", "resolution.still_open");

    f.run(vote(MEMBERS, Choice::For));
    f.run(conclude());
    assert_eq!(result(&f).outcome, Outcome::Adopted);
}

#[test]
fn a_member_that_did_not_vote_by_the_deadline_blocks_the_resolution_art_8_12() {
    let mut f = proposed_and_voted(&[Choice::For; MEMBERS - 1]);
    f.at(CLOSES_AT);

    let v = f.refuse(vote(MEMBERS, Choice::For));
    assert_violation(&v, RuleId::R7, "8.12", "resolution.closed");
    f.run(conclude());

    let r = result(&f);
    assert_eq!((r.counts.in_favour, r.not_voted), (9, 1));
    assert_eq!(r.outcome, Outcome::Rejected);
}
