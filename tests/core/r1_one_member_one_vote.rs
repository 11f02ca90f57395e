//! R1 One member, one vote (Art. 8.6, 6.9, 8.8), and the reading of "members in office" for
//! the quorum (Art. 17.4a).

use stembus::core::profile::MembersInOffice;
use stembus::core::register::Capacity;
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Choice, Command, Convener, Counts, DecisionKind, Mode, Outcome, PersonId,
    PollMethod, ProxyHolder, RuleId, RulesProfile, Via,
};

use crate::support::{self, ALV, Fixture, MEETING_STARTS, alv, chair, member, motion, poll, rep};

/// The standard meeting with an extra item that treats the suspension of member `i`.
fn meeting_treating_the_suspension_of(i: usize) -> Command {
    let mut command = support::create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS);
    if let Command::CreateMeeting { agenda, .. } = &mut command {
        agenda.push(AgendaItemSpec {
            item: AgendaItemId::named("suspension"),
            title: format!("Beroep van Gemeente {i} tegen de schorsing"),
            motion: None,
            carried_from: None,
            concerns_member: Some(member(i)),
            annual_accounts: false,
        });
    }
    command
}

fn convene_created_meeting(f: &mut Fixture) {
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: Some("Via the video link in this convocation.".into()),
    });
}

fn check_in_command(i: usize, person: PersonId) -> Command {
    Command::CheckIn { meeting: alv(), member: member(i), person, mode: Mode::Electronic }
}

fn ballot(i: usize, person: PersonId, choice: Choice) -> Command {
    Command::CastBallot { meeting: alv(), item: motion(), member: member(i), person, choice, signed: None }
}

fn open_meeting(f: &mut Fixture) {
    f.at("2026-06-10T19:00:00+02:00");
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
}

/// Members `1..=present` check in at 18:50 and the chair opens the convened meeting at 19:00.
fn open_with_present(f: &mut Fixture, present: usize) {
    f.at("2026-06-10T18:50:00+02:00");
    for i in 1..=present {
        f.check_in(i);
    }
    open_meeting(f);
}

fn suspend(f: &mut Fixture, i: usize) {
    f.run(Command::SuspendMember { member: member(i) });
}

fn profile_with_all_members_in_office() -> RulesProfile {
    let original = RulesProfile::dimpact_2023_toml();
    let text = original.replace("members_in_office = \"not_suspended\"", "members_in_office = \"all\"");
    assert_ne!(text, original, "the profile no longer has the members_in_office setting");
    RulesProfile::from_toml(&text).unwrap_or_else(|e| panic!("the modified profile is refused: {e}"))
}

// ---- a suspended member has no vote ------------------------------------------------------

#[test]
fn a_suspended_member_has_no_vote_in_the_meeting_art_8_6() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 3);
    f.opened(DecisionKind::Ordinary, 2);
    f.open_poll("p");

    let v = f.refuse(ballot(3, rep(3), Choice::For));

    support::assert_violation(&v, RuleId::R1, "8.6", "ballot.suspended_member");
}

#[test]
fn a_suspended_member_casts_no_advance_ballot_art_8_6() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    suspend(&mut f, 3);
    f.at("2026-06-01T12:00:00+02:00");

    let v = f.refuse(ballot(3, rep(3), Choice::Against));

    support::assert_violation(&v, RuleId::R1, "8.6", "ballot.suspended_member");
}

#[test]
fn an_advance_ballot_cast_before_the_suspension_no_longer_counts_art_8_6() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(3, rep(3), Choice::Against));
    suspend(&mut f, 3);
    open_with_present(&mut f, 2);

    let r = f.poll_with("p", 2, 0, 0);

    assert_eq!((r.counts.in_favour, r.counts.against), (2, 0));
    assert_eq!(r.presence.by_advance_ballot, 0);
}

#[test]
fn a_suspended_member_may_not_attend_a_meeting_that_does_not_treat_its_suspension_art_8_8() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 3);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-10T18:50:00+02:00");

    let electronic = f.refuse(check_in_command(3, rep(3)));
    let in_person = f.refuse(Command::CheckIn {
        meeting: alv(),
        member: member(3),
        person: rep(3),
        mode: Mode::InPerson,
    });

    support::assert_violation(&electronic, RuleId::R1, "6.9, 8.8", "attendance.suspended_member");
    support::assert_violation(&in_person, RuleId::R1, "6.9, 8.8", "attendance.suspended_member");
}

#[test]
fn a_suspended_member_attends_the_meeting_that_treats_its_suspension_but_does_not_vote_art_6_9() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 3);
    f.at(support::CONVENED_AT);
    f.run(meeting_treating_the_suspension_of(3));
    convene_created_meeting(&mut f);
    f.at("2026-06-10T18:50:00+02:00");
    f.check_in(1);
    f.check_in(2);

    f.check_in(3);
    open_meeting(&mut f);
    f.open_poll("p");
    let v = f.refuse(ballot(3, rep(3), Choice::Against));
    f.vote(1, Choice::For);
    f.vote(2, Choice::For);
    let r = f.close_poll("p");

    support::assert_violation(&v, RuleId::R1, "8.6", "ballot.suspended_member");
    assert!(f.state.meetings[&alv()].current_attendance(member(3)).is_some());
    // It attends, but it is not a member in office and does not count as present.
    assert_eq!(r.presence.total(), 2);
    assert_eq!((r.quorum.members_in_office, r.quorum.needed, r.quorum.met), (4, 2, true));
}

#[test]
fn an_item_on_another_members_suspension_does_not_admit_a_suspended_member_art_8_8() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 3);
    suspend(&mut f, 4);
    f.at(support::CONVENED_AT);
    f.run(meeting_treating_the_suspension_of(3));
    convene_created_meeting(&mut f);
    f.at("2026-06-10T18:50:00+02:00");

    let v = f.refuse(check_in_command(4, rep(4)));

    support::assert_violation(&v, RuleId::R1, "6.9, 8.8", "attendance.suspended_member");
}

#[test]
fn a_proxy_given_before_the_suspension_gives_no_vote_art_6_9() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.grant_proxy("m3-to-chair", 3, ProxyHolder::SupervisoryBoardChair { person: chair() })
        .unwrap_or_else(|v| panic!("refused: {v}"));
    suspend(&mut f, 3);
    open_with_present(&mut f, 2);
    f.open_poll("p");

    let v = f.refuse(ballot(3, chair(), Choice::For));
    f.vote(1, Choice::For);
    let r = f.close_poll("p");

    support::assert_violation(&v, RuleId::R1, "8.6", "ballot.suspended_member");
    assert_eq!(r.presence.by_proxy, 0, "the chair's proxy of a suspended member does not represent it");
    assert_eq!(r.quorum.members_in_office, 4);
}

#[test]
fn a_reinstated_member_votes_again_art_8_6() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 3);
    f.run(Command::ReinstateMember { member: member(3) });
    f.opened(DecisionKind::Ordinary, 3);

    let r = f.poll_with("p", 3, 0, 0);

    assert_eq!(r.counts.in_favour, 3);
    assert_eq!(r.quorum.members_in_office, 5);
}

// ---- never two effective ballots -----------------------------------------------------------

#[test]
fn a_later_ballot_replaces_the_earlier_and_the_member_is_counted_once_art_8_6() {
    let mut f = Fixture::new(5);
    f.opened(DecisionKind::Ordinary, 3);
    f.open_poll("p");

    f.vote(1, Choice::For);
    f.vote(1, Choice::Against);
    f.vote(2, Choice::For);
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain), (1, 1, 0));
    assert_eq!(r.votes_cast, 2);
    let p = &f.state.meetings[&alv()].polls[&poll("p")];
    assert_eq!(p.ballots.len(), 2);
    assert_eq!(p.ballots.get(&member(1)).map(|b| b.choice), Some(Choice::Against));
}

#[test]
fn a_ballot_in_the_meeting_replaces_the_advance_ballot_art_8_6_8_13() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    f.run(ballot(1, rep(1), Choice::For));
    f.run(ballot(1, rep(1), Choice::Abstain));
    f.run(ballot(2, rep(2), Choice::For));
    open_with_present(&mut f, 1);
    f.open_poll("p");

    f.vote(1, Choice::Against);
    let r = f.close_poll("p");

    // Member 1: one ballot (against, in the meeting); member 2: its advance ballot.
    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain), (1, 1, 0));
    assert_eq!((r.presence.electronically, r.presence.by_advance_ballot), (1, 1));
}

#[test]
fn a_member_voting_itself_after_its_proxy_holder_voted_is_counted_once_art_8_6() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.grant_proxy("m2-to-m1", 2, ProxyHolder::Member { member: member(1) })
        .unwrap_or_else(|v| panic!("refused: {v}"));
    f.at("2026-06-10T18:50:00+02:00");
    f.check_in(1);
    f.run(check_in_command(2, rep(1)));
    open_meeting(&mut f);
    f.open_poll("p");
    f.run(ballot(2, rep(1), Choice::For));

    f.at("2026-06-10T19:20:00+02:00");
    f.check_in(2);
    f.vote(2, Choice::Against);
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.counts.against), (0, 1));
    let b = f.state.meetings[&alv()].polls[&poll("p")].ballots.get(&member(2)).map(|b| (b.choice, b.via));
    assert_eq!(b, Some((Choice::Against, Via::Own)));
}

#[test]
fn a_person_registered_for_two_members_casts_one_ballot_for_each_art_8_5_8_6() {
    let mut f = Fixture::new(5);
    let shared = PersonId::named("gedeelde-ambtenaar");
    f.run(Command::RegisterPerson {
        person: shared,
        name: "Gedeelde ambtenaar".into(),
        email: None,
        profession: None,
    });
    f.run(Command::AssignRepresentative { person: shared, member: member(4), capacity: Capacity::Official });
    f.run(Command::AssignRepresentative { person: shared, member: member(5), capacity: Capacity::Official });
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-10T18:50:00+02:00");
    f.run(check_in_command(4, shared));
    f.run(check_in_command(5, shared));
    open_meeting(&mut f);
    f.open_poll("p");

    f.run(ballot(4, shared, Choice::For));
    f.run(ballot(4, shared, Choice::For));
    f.run(ballot(5, shared, Choice::Against));
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.counts.against), (1, 1));
    assert_eq!(r.presence.total(), 2);
}

#[test]
fn the_chairs_counts_of_a_vote_by_voice_cannot_exceed_the_members_with_a_vote_art_8_6() {
    let mut f = Fixture::new(5);
    suspend(&mut f, 5);
    f.opened(DecisionKind::Ordinary, 3);
    f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("voice"),
        item: motion(),
        method: PollMethod::Voice,
        by: chair(),
        revote_of: None,
    });
    let close = |in_favour, against, abstain| Command::ClosePoll {
        meeting: alv(),
        poll: poll("voice"),
        by: chair(),
        counts: Some(Counts { in_favour, against, abstain }),
    };

    let v = f.refuse(close(2, 1, 1));
    f.run(close(2, 0, 1));

    support::assert_violation(&v, RuleId::R1, "8.6", "poll.more_votes_than_members");
    assert_eq!(f.result("voice").votes_cast, 2);
}

// ---- members in office for the quorum ------------------------------------------------------

#[test]
fn suspended_members_are_not_in_office_for_the_quorum_art_17_4a() {
    let mut f = Fixture::new(10);
    suspend(&mut f, 9);
    suspend(&mut f, 10);
    f.opened(DecisionKind::Ordinary, 4);

    let r = f.poll_with("p", 4, 0, 0);

    assert_eq!(
        (r.quorum.members_in_office, r.quorum.needed, r.quorum.present_or_represented, r.quorum.met),
        (8, 4, 4, true)
    );
    assert_eq!(r.outcome, Outcome::Adopted);
}

#[test]
fn with_members_in_office_all_suspended_members_count_for_the_quorum_art_17_4a() {
    let profile = profile_with_all_members_in_office();
    assert_eq!(profile.readings.members_in_office, MembersInOffice::All);
    let mut f = Fixture::with_profile(10, profile);
    suspend(&mut f, 9);
    suspend(&mut f, 10);
    f.opened(DecisionKind::Ordinary, 4);

    let r = f.poll_with("p", 4, 0, 0);

    assert_eq!(
        (r.quorum.members_in_office, r.quorum.needed, r.quorum.present_or_represented, r.quorum.met),
        (10, 5, 4, false)
    );
    assert_eq!(r.outcome, Outcome::NoQuorum);
}

#[test]
fn with_members_in_office_all_a_suspended_member_still_has_no_vote_art_8_6() {
    let mut f = Fixture::with_profile(5, profile_with_all_members_in_office());
    suspend(&mut f, 3);
    f.opened(DecisionKind::Ordinary, 2);
    f.open_poll("p");

    let v = f.refuse(ballot(3, rep(3), Choice::For));

    support::assert_violation(&v, RuleId::R1, "8.6", "ballot.suspended_member");
}

#[test]
fn counts_that_overflow_are_refused_like_any_count_above_the_members_present_art_8_6() {
    use stembus::core::{Counts, PollMethod};
    let mut f = Fixture::new(5);
    f.opened(DecisionKind::Ordinary, 5);
    f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("voice"),
        item: motion(),
        method: PollMethod::Voice,
        by: chair(),
        revote_of: None,
    });
    let v = f.refuse(Command::ClosePoll {
        meeting: alv(),
        poll: poll("voice"),
        by: chair(),
        counts: Some(Counts { in_favour: u64::MAX, against: 1, abstain: 0 }),
    });
    support::assert_violation(&v, RuleId::R1, "8.6", "poll.more_votes_than_members");
}
