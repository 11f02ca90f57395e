//! R2 Representation and proxies (Art. 8.5), with the readings on proxies in force,
//! revocation, chains, own presence and voting instructions.

use std::collections::BTreeMap;

use stembus::core::register::Capacity;
use stembus::core::{
    AttendsAs, Choice, Command, DecisionKind, Instruction, Mode, PersonId, ProxyForm, ProxyHolder, ProxyId,
    RuleId, RulesProfile, Sha256Bytes, Via,
};

use crate::support::{self, Fixture, alv, chair, lawyer, member, motion, notary, poll, rep};

fn to_member(i: usize) -> ProxyHolder {
    ProxyHolder::Member { member: member(i) }
}

fn to_chair() -> ProxyHolder {
    ProxyHolder::SupervisoryBoardChair { person: chair() }
}

fn grant(name: &str, grantor: usize, holder: ProxyHolder) -> Command {
    grant_with(name, grantor, holder, BTreeMap::new())
}

fn grant_with(
    name: &str,
    grantor: usize,
    holder: ProxyHolder,
    instructions: BTreeMap<stembus::core::AgendaItemId, Instruction>,
) -> Command {
    Command::GrantProxy {
        meeting: alv(),
        proxy: ProxyId::named(name),
        grantor: member(grantor),
        holder,
        instructions,
        form: ProxyForm::Electronic,
        signed: None,
        scan_sha256: None,
    }
}

/// `grant`, in the given form, with a scan's SHA-256.
fn with_scan(
    name: &str,
    grantor: usize,
    holder: ProxyHolder,
    form: ProxyForm,
    scan: Option<[u8; 32]>,
) -> Command {
    let mut command = grant(name, grantor, holder);
    if let Command::GrantProxy { form: f, scan_sha256, .. } = &mut command {
        *f = form;
        *scan_sha256 = scan.map(Sha256Bytes::from);
    }
    command
}

fn instructed(instruction: Instruction) -> BTreeMap<stembus::core::AgendaItemId, Instruction> {
    BTreeMap::from([(motion(), instruction)])
}

fn revoke(name: &str) -> Command {
    Command::RevokeProxy { meeting: alv(), proxy: ProxyId::named(name) }
}

fn check_in(i: usize, person: PersonId) -> Command {
    Command::CheckIn { meeting: alv(), member: member(i), person, mode: Mode::Electronic }
}

fn ballot(i: usize, person: PersonId, choice: Choice) -> Command {
    Command::CastBallot { meeting: alv(), item: motion(), member: member(i), person, choice, signed: None }
}

fn on_the_day(f: &mut Fixture) {
    f.at("2026-06-10T18:50:00+02:00");
}

fn open_meeting(f: &mut Fixture) {
    f.at("2026-06-10T19:00:00+02:00");
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
}

fn proxies_in_force_held_by(f: &Fixture, holder: ProxyHolder) -> usize {
    f.state.meetings[&alv()].proxies_in_force().filter(|p| p.holder == holder).count()
}

fn register_official_of(f: &mut Fixture, name: &str, i: usize) -> PersonId {
    let person = PersonId::named(name);
    f.run(Command::RegisterPerson {
        person,
        name: format!("Ambtenaar {name}"),
        email: None,
        profession: None,
    });
    f.run(Command::AssignRepresentative { person, member: member(i), capacity: Capacity::Official });
    person
}

// ---- the cap ---------------------------------------------------------------------------------

#[test]
fn a_member_may_act_by_proxy_for_two_members_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    f.run(grant("m2", 2, to_member(1)));
    f.run(grant("m3", 3, to_member(1)));

    assert_eq!(proxies_in_force_held_by(&f, to_member(1)), 2);
}

#[test]
fn proxy_holder_may_not_hold_a_third_proxy_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2", 2, to_member(1)));
    f.run(grant("m3", 3, to_member(1)));

    let v = f.refuse(grant("m4", 4, to_member(1)));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.cap_exceeded");
    assert_eq!(proxies_in_force_held_by(&f, to_member(1)), 2);
}

#[test]
fn a_revoked_proxy_no_longer_counts_toward_the_cap_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2", 2, to_member(1)));
    f.run(grant("m3", 3, to_member(1)));
    f.run(revoke("m3"));

    f.run(grant("m4", 4, to_member(1)));

    assert_eq!(proxies_in_force_held_by(&f, to_member(1)), 2);
}

#[test]
fn the_chair_of_the_supervisory_board_may_hold_thirty_nine_proxies_art_8_5() {
    let mut f = Fixture::new(40);
    f.convened(DecisionKind::Ordinary);

    for i in 2..=40 {
        f.run(grant(&format!("m{i}"), i, to_chair()));
    }
    on_the_day(&mut f);
    f.check_in(1);
    open_meeting(&mut f);
    let r = f.poll_with("p", 1, 0, 0);

    assert_eq!(proxies_in_force_held_by(&f, to_chair()), 39);
    assert_eq!((r.presence.electronically, r.presence.by_proxy), (1, 39));
    assert_eq!(r.quorum.present_or_represented, 40);
}

#[test]
fn a_notary_and_a_lawyer_may_hold_any_number_of_proxies_art_8_5() {
    let mut f = Fixture::new(12);
    f.convened(DecisionKind::Ordinary);

    for i in 2..=6 {
        f.run(grant(&format!("m{i}"), i, ProxyHolder::Notary { person: notary() }));
    }
    for i in 7..=12 {
        f.run(grant(&format!("m{i}"), i, ProxyHolder::Lawyer { person: lawyer() }));
    }

    assert_eq!(proxies_in_force_held_by(&f, ProxyHolder::Notary { person: notary() }), 5);
    assert_eq!(proxies_in_force_held_by(&f, ProxyHolder::Lawyer { person: lawyer() }), 6);
}

#[test]
fn a_notary_is_capped_when_the_profile_does_not_exempt_notaries_art_8_5() {
    let original = RulesProfile::dimpact_2023_toml();
    let text = original.replace(
        "unlimited_holders = [\"supervisory_board_chair\", \"notary\", \"lawyer\"]",
        "unlimited_holders = [\"supervisory_board_chair\", \"lawyer\"]",
    );
    assert_ne!(text, original, "the profile no longer lists the unlimited holders");
    let profile =
        RulesProfile::from_toml(&text).unwrap_or_else(|e| panic!("the modified profile is refused: {e}"));
    let mut f = Fixture::with_profile(5, profile);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2", 2, ProxyHolder::Notary { person: notary() }));
    f.run(grant("m3", 3, ProxyHolder::Notary { person: notary() }));

    let v = f.refuse(grant("m4", 4, ProxyHolder::Notary { person: notary() }));
    f.run(grant("m5", 5, ProxyHolder::Lawyer { person: lawyer() }));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.cap_exceeded");
}

#[test]
fn a_person_who_is_not_the_chair_of_the_supervisory_board_cannot_hold_a_proxy_as_its_chair_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    let v = f.refuse(grant("m2", 2, ProxyHolder::SupervisoryBoardChair { person: rep(1) }));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.not_supervisory_board_chair");
}

#[test]
fn a_person_not_registered_as_a_notary_cannot_hold_a_proxy_as_a_notary_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    let v = f.refuse(grant("m2", 2, ProxyHolder::Notary { person: lawyer() }));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.not_notary_or_lawyer");
}

// ---- the proxy reaches the chair before the meeting opens ------------------------------------

#[test]
fn a_proxy_received_just_before_the_meeting_opens_is_accepted_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-10T18:59:59+02:00");

    f.run(grant("m2", 2, to_chair()));

    assert!(f.state.meetings[&alv()].proxy_of(member(2)).is_some());
}

#[test]
fn a_proxy_that_arrives_after_the_meeting_opens_is_refused_art_8_5() {
    let mut f = Fixture::new(5);
    f.opened(DecisionKind::Ordinary, 3);

    let v = f.refuse(grant("m4", 4, to_chair()));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.after_opening");
}

#[test]
fn a_member_may_revoke_its_proxy_until_the_meeting_opens() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2", 2, to_member(1)));
    f.at("2026-06-10T18:59:00+02:00");

    f.run(revoke("m2"));

    assert!(f.state.meetings[&alv()].proxy_of(member(2)).is_none());
}

#[test]
fn a_proxy_cannot_be_revoked_once_the_meeting_has_opened_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2", 2, to_chair()));
    open_meeting(&mut f);

    let v = f.refuse(revoke("m2"));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.revoked_after_opening");
    assert!(f.state.meetings[&alv()].proxy_of(member(2)).is_some());
}

// ---- one proxy per member, no chains ---------------------------------------------------------

#[test]
fn a_member_has_at_most_one_proxy_in_force_for_a_meeting() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m3-to-m1", 3, to_member(1)));

    let v = f.refuse(grant("m3-to-m2", 3, to_member(2)));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.one_per_member");
}

#[test]
fn a_member_that_revoked_its_proxy_may_give_a_new_one() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m3-to-m1", 3, to_member(1)));
    f.run(revoke("m3-to-m1"));

    f.run(grant("m3-to-m2", 3, to_member(2)));

    let holder = f.state.meetings[&alv()].proxy_of(member(3)).map(|p| p.holder);
    assert_eq!(holder, Some(to_member(2)));
}

#[test]
fn a_member_that_gave_its_proxy_away_cannot_receive_one_no_chains() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m3", 2, to_member(3)));

    let v = f.refuse(grant("m1-to-m2", 1, to_member(2)));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.chain");
}

#[test]
fn a_member_that_holds_a_proxy_cannot_give_its_own_away_no_chains() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m1-to-m2", 1, to_member(2)));

    let to_a_member = f.refuse(grant("m2-to-m3", 2, to_member(3)));
    let to_the_chair = f.refuse(grant("m2-to-chair", 2, to_chair()));

    support::assert_violation(&to_a_member, RuleId::R2, "8.5", "proxy.chain");
    support::assert_violation(&to_the_chair, RuleId::R2, "8.5", "proxy.chain");
}

#[test]
fn a_member_cannot_give_a_proxy_to_itself_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    let v = f.refuse(grant("m1-to-m1", 1, to_member(1)));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.to_self");
}

// ---- in case of its absence: own presence first ----------------------------------------------

#[test]
fn a_grantor_that_attends_itself_is_not_voted_for_by_its_proxy_holder_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);
    f.check_in(1);
    f.check_in(2);
    open_meeting(&mut f);
    f.open_poll("p");

    let v = f.refuse(ballot(2, rep(1), Choice::For));
    f.vote(2, Choice::Against);

    support::assert_violation(&v, RuleId::R2, "8.5", "ballot.grantor_present");
    let b = f.state.meetings[&alv()].polls[&poll("p")].ballots.get(&member(2)).map(|b| b.via);
    assert_eq!(b, Some(Via::Own));
}

#[test]
fn a_grantor_arriving_after_its_holder_checked_it_in_attends_itself_and_the_proxy_is_not_used_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);
    f.check_in(1);
    f.run(check_in(2, rep(1)));
    open_meeting(&mut f);
    f.at("2026-06-10T19:10:00+02:00");

    f.check_in(2);
    f.open_poll("p");
    let v = f.refuse(ballot(2, rep(1), Choice::For));

    support::assert_violation(&v, RuleId::R2, "8.5", "ballot.grantor_present");
    let m = &f.state.meetings[&alv()];
    let attends = m.current_attendance(member(2)).map(|a| (a.person, a.attends_as));
    assert_eq!(attends, Some((rep(2), AttendsAs::Own)));
}

#[test]
fn a_grantor_that_left_the_meeting_may_be_represented_by_its_holder_again_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);
    f.check_in(1);
    f.check_in(2);
    open_meeting(&mut f);
    f.at("2026-06-10T19:30:00+02:00");
    f.run(Command::CheckOut { meeting: alv(), member: member(2) });

    f.run(check_in(2, rep(1)));
    f.open_poll("p");
    f.run(ballot(2, rep(1), Choice::For));

    let b = f.state.meetings[&alv()].polls[&poll("p")].ballots.get(&member(2)).map(|b| b.via);
    assert_eq!(b, Some(Via::Proxy { proxy: ProxyId::named("m2-to-m1") }));
}

#[test]
fn without_the_reading_on_own_presence_the_holder_keeps_the_grantor_checked_in() {
    let original = RulesProfile::dimpact_2023_toml();
    let text = original.replace("own_presence_precedes_proxy = true", "own_presence_precedes_proxy = false");
    assert_ne!(text, original, "the profile no longer has the own_presence_precedes_proxy setting");
    let profile =
        RulesProfile::from_toml(&text).unwrap_or_else(|e| panic!("the modified profile is refused: {e}"));
    let mut f = Fixture::with_profile(5, profile);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);
    f.check_in(1);
    f.run(check_in(2, rep(1)));

    let v = f.refuse(check_in(2, rep(2)));

    support::assert_violation(&v, RuleId::R5, "8.11", "attendance.already_present");
}

#[test]
fn the_chair_does_not_use_a_proxy_whose_grantor_attends_itself_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-chair", 2, to_chair()));
    on_the_day(&mut f);
    f.check_in(2);
    open_meeting(&mut f);
    f.open_poll("p");

    let v = f.refuse(ballot(2, chair(), Choice::For));
    f.vote(2, Choice::Against);
    let r = f.close_poll("p");

    support::assert_violation(&v, RuleId::R2, "8.5", "ballot.grantor_present");
    assert_eq!((r.presence.electronically, r.presence.by_proxy), (1, 0));
}

// ---- voting instructions -----------------------------------------------------------------------

/// Member 2 gives member 1 a proxy with `instruction` on the motion; member 1 checks in itself
/// and member 2 by proxy, and a poll on the motion is opened.
fn proxy_with_instruction(instruction: Instruction) -> Fixture {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant_with("m2-to-m1", 2, to_member(1), instructed(instruction)));
    on_the_day(&mut f);
    f.check_in(1);
    f.run(check_in(2, rep(1)));
    open_meeting(&mut f);
    f.open_poll("p");
    f
}

#[test]
fn a_ballot_that_contradicts_the_voting_instruction_is_refused() {
    let mut f = proxy_with_instruction(Instruction::For);

    let against = f.refuse(ballot(2, rep(1), Choice::Against));
    let abstain = f.refuse(ballot(2, rep(1), Choice::Abstain));

    support::assert_violation(&against, RuleId::R2, "8.5", "ballot.contradicts_instruction");
    support::assert_violation(&abstain, RuleId::R2, "8.5", "ballot.contradicts_instruction");
}

#[test]
fn a_ballot_that_follows_the_voting_instruction_is_accepted() {
    let mut f = proxy_with_instruction(Instruction::Abstain);

    f.run(ballot(2, rep(1), Choice::Abstain));
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain), (0, 0, 1));
    assert_eq!(r.presence.by_proxy, 1);
}

#[test]
fn a_free_instruction_leaves_the_choice_to_the_holder() {
    let mut f = proxy_with_instruction(Instruction::Free);

    f.run(ballot(2, rep(1), Choice::Against));
    f.run(ballot(2, rep(1), Choice::Abstain));
    f.run(ballot(2, rep(1), Choice::For));
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain), (1, 0, 0));
}

// ---- exercising a proxy ------------------------------------------------------------------------

#[test]
fn a_proxy_holder_checks_the_grantor_in_by_proxy_before_voting_for_it() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);
    f.check_in(1);
    open_meeting(&mut f);
    f.open_poll("p");

    let v = f.refuse(ballot(2, rep(1), Choice::For));
    f.run(check_in(2, rep(1)));
    f.run(ballot(2, rep(1), Choice::For));

    support::assert_violation(&v, RuleId::R5, "8.11", "ballot.proxy_not_present");
    let b = f.state.meetings[&alv()].polls[&poll("p")].ballots.get(&member(2)).map(|b| b.via);
    assert_eq!(b, Some(Via::Proxy { proxy: ProxyId::named("m2-to-m1") }));
}

#[test]
fn a_notary_holding_a_proxy_checks_the_grantor_in_before_voting_for_it() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-notary", 2, ProxyHolder::Notary { person: notary() }));
    open_meeting(&mut f);
    f.open_poll("p");

    let v = f.refuse(ballot(2, notary(), Choice::For));
    f.run(check_in(2, notary()));
    f.run(ballot(2, notary(), Choice::For));

    support::assert_violation(&v, RuleId::R5, "8.11", "ballot.proxy_not_present");
}

#[test]
fn the_chair_votes_on_the_proxies_it_holds_without_checking_the_grantors_in_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-chair", 2, to_chair()));
    open_meeting(&mut f);
    f.open_poll("p");

    f.run(ballot(2, chair(), Choice::For));
    let r = f.close_poll("p");

    assert_eq!((r.counts.in_favour, r.presence.by_proxy), (1, 1));
}

#[test]
fn only_the_holder_exercises_a_proxy_art_8_5() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    on_the_day(&mut f);

    let v = f.refuse(check_in(2, rep(3)));

    support::assert_violation(&v, RuleId::R2, "8.5", "attendance.not_representative");
}

// ---- who may give and hold a proxy -----------------------------------------------------------

#[test]
fn a_suspended_member_cannot_give_a_proxy_art_6_9() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(Command::SuspendMember { member: member(2) });

    let v = f.refuse(grant("m2-to-m1", 2, to_member(1)));

    support::assert_violation(&v, RuleId::R1, "6.9, 8.8", "proxy.suspended_grantor");
}

#[test]
fn a_suspended_member_cannot_hold_a_proxy_art_6_9() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(Command::SuspendMember { member: member(1) });

    let v = f.refuse(grant("m2-to-m1", 2, to_member(1)));

    support::assert_violation(&v, RuleId::R1, "6.9, 8.8", "proxy.suspended_holder");
}

#[test]
fn a_proxy_to_a_connected_person_needs_that_person_registered_for_the_grantor_art_8_5() {
    let mut f = Fixture::new(5);
    let official = register_official_of(&mut f, "ambtenaar-m2", 2);
    f.convened(DecisionKind::Ordinary);

    f.run(grant("m2-to-official", 2, ProxyHolder::ConnectedPerson { person: official }));
    let v = f.refuse(grant("m3-to-official", 3, ProxyHolder::ConnectedPerson { person: official }));

    support::assert_violation(&v, RuleId::R2, "8.5", "proxy.not_connected");
    let holder = f.state.meetings[&alv()].proxy_of(member(2)).map(|p| p.holder);
    assert_eq!(holder, Some(ProxyHolder::ConnectedPerson { person: official }));
}

#[test]
fn a_member_suspended_after_receiving_a_proxy_cannot_exercise_it_art_6_9() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);
    f.run(grant("m2-to-m1", 2, to_member(1)));
    f.run(Command::SuspendMember { member: member(1) });
    on_the_day(&mut f);

    let v = f.refuse(check_in(2, rep(1)));

    support::assert_violation(&v, RuleId::R1, "6.9, 8.8", "proxy.suspended_holder");
}

#[test]
fn a_paper_proxy_carries_its_scans_hash_into_the_log_and_an_electronic_one_has_none_art_8_5() {
    let mut f = Fixture::new(6);
    f.convened(DecisionKind::Ordinary);
    let scan = [7u8; 32];
    let events = f.run(with_scan("paper", 2, to_member(1), ProxyForm::Paper, Some(scan)));
    let proxy = match &events[..] {
        [stembus::core::Event { fact: stembus::core::Fact::ProxyGranted { proxy, .. }, .. }] => proxy.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(proxy.scan_sha256, Some(Sha256Bytes::from(scan)));
    assert_eq!(proxy.form, ProxyForm::Paper);
    // In the event as logged, in lowercase hex; a paper proxy without a scan has no such field,
    // so the events of logs made before it are unchanged.
    let logged = serde_json::to_string(&events[0]).unwrap_or_else(|e| panic!("{e}"));
    assert!(logged.contains(&format!("\"scan_sha256\":\"{}\"", "07".repeat(32))), "{logged}");
    let unscanned = f.run(with_scan("unscanned", 3, to_member(1), ProxyForm::Paper, None));
    let logged = serde_json::to_string(&unscanned[0]).unwrap_or_else(|e| panic!("{e}"));
    assert!(!logged.contains("scan_sha256"), "{logged}");
    // A scan belongs to paper: an electronic proxy that names one is refused.
    let electronic = with_scan("electronic", 4, to_member(5), ProxyForm::Electronic, Some(scan));
    let refused = f.refuse(electronic);
    support::assert_violation(&refused, RuleId::R2, "8.5", "proxy.scan_not_paper");
}
