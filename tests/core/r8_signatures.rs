//! R8 (Art. 8.11, 17.6): every ballot, vote on a resolution outside a meeting, electronic proxy
//! and declaration is signed by its author's enrolled key, over the canonical statement, with a sequence number above every one
//! that key signed before; keys are enrolled with proof of possession, rotated with both keys'
//! signatures and revoked by their holder or the secretariat, all in the log.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use stembus::core::keys::signatures_in;
use stembus::core::register::Capacity;
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Association, AssociationId, Choice, Command, Convener, DecisionKind, Fact,
    Instruction, KeyBytes, KeySignature, KeyStatus, MeetingId, MotionSpec, Outcome, PersonId, PollMethod,
    ProxyForm, ProxyHolder, ProxyId, ResolutionId, RuleId, RuleViolation, RulesProfile, SignatureBytes,
    Signed, apply, execute, handle, handle_preverified, handle_preverified_with_keys,
};
use stembus::ledger::author::{
    enrol, key_bytes, revoke, rotate, scenario_key, sign, statement_for, with_signature,
};
use stembus::ledger::canonical::{
    BallotStatement, DeclarationStatement, KeyAction, KeyStatement, ProxyStatement, ResolutionVoteStatement,
    Statement,
};
use stembus::ledger::signature::{self, PublicKey};

use crate::support::{
    self, ALV, CONVENED_AT, Fixture, MEETING_STARTS, alv, chair, create_meeting_command, member, motion,
    poll, rep, t,
};

/// The article the profile gives for signed records.
const ART: &str = "8.11, 17.6";
/// A moment inside the advance voting window of the standard meeting.
const ADVANCE: &str = "2026-06-01T12:00:00+02:00";

#[track_caller]
fn assert_refused(v: &RuleViolation, code: &str) {
    support::assert_violation(v, RuleId::R8, ART, code);
}

/// The scenario key of a person (public knowledge; for tests).
fn key_of(person: PersonId) -> SigningKey {
    scenario_key(person)
}

/// A key that is nobody's scenario key.
fn other_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

fn ballot(i: usize, choice: Choice) -> Command {
    ballot_by(i, rep(i), choice)
}

fn ballot_by(i: usize, person: PersonId, choice: Choice) -> Command {
    Command::CastBallot { meeting: alv(), item: motion(), member: member(i), person, choice, signed: None }
}

fn declaration(name: &str, outcome: Outcome) -> Command {
    Command::DeclareResult { meeting: alv(), poll: poll(name), by: chair(), outcome, signed: None }
}

fn proxy(name: &str, grantor: usize, holder: ProxyHolder, form: ProxyForm) -> Command {
    Command::GrantProxy {
        meeting: alv(),
        proxy: ProxyId::named(name),
        grantor: member(grantor),
        holder,
        instructions: BTreeMap::new(),
        form,
        signed: None,
        scan_sha256: None,
    }
}

fn to_member(i: usize) -> ProxyHolder {
    ProxyHolder::Member { member: member(i) }
}

/// The standard meeting, convened with advance voting, on a day inside the window.
fn advance_voting(members: usize) -> Fixture {
    let mut f = Fixture::new(members);
    f.convened(DecisionKind::Ordinary);
    f.at(ADVANCE);
    f
}

/// Enrols `key` as `person`'s key, signed at `sequence`.
fn enrol_key(f: &mut Fixture, person: PersonId, key: &SigningKey, sequence: u64) {
    let command = enrol(&f.state, person, key, sequence);
    f.run_as_is(command);
}

/// `command` signed with `key` at `sequence` over the statement as the state now stands.
fn signed_with(f: &Fixture, command: Command, key: &SigningKey, sequence: u64) -> Command {
    sign(&f.state, command, key, sequence)
}

/// The statement `command` needs signed at `sequence`.
fn statement_of(f: &Fixture, command: &Command, sequence: u64) -> Statement {
    statement_for(&f.state, command, sequence)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("no statement for {command:?}"))
}

/// The signature `key` makes over `statement`.
fn signature_on(key: &SigningKey, statement: &Statement) -> Signed {
    Signed {
        key: key_bytes(key),
        sequence: statement.sequence(),
        signature: SignatureBytes::from(signature::sign(key, &statement.to_bytes())),
    }
}

/// The signature a command carries.
fn signature_of(command: &Command) -> Signed {
    match command {
        Command::CastBallot { signed: Some(s), .. }
        | Command::CastResolutionVote { signed: Some(s), .. }
        | Command::GrantProxy { signed: Some(s), .. }
        | Command::DeclareResult { signed: Some(s), .. } => *s,
        other => panic!("not signed: {other:?}"),
    }
}

/// The command with one bit of its signature flipped.
fn with_flipped_bit(command: Command) -> Command {
    let mut signed = signature_of(&command);
    signed.signature.0[10] ^= 1;
    with_signature(command, signed)
}

/// The bytes of a key statement in the fixture's association.
fn key_statement(f: &Fixture, person: PersonId, key: [u8; 32], action: KeyAction, sequence: u64) -> Vec<u8> {
    KeyStatement { association: f.state.id, person, public_key: key, action, sequence }.to_bytes()
}

fn last_sequence(f: &Fixture, key: &SigningKey) -> u64 {
    f.state.keys.get(&key_bytes(key)).map(|r| r.last_sequence).unwrap_or_else(|| panic!("key not enrolled"))
}

fn status(f: &Fixture, key: &SigningKey) -> KeyStatus {
    f.state.keys.get(&key_bytes(key)).map(|r| r.status).unwrap_or_else(|| panic!("key not enrolled"))
}

fn advance_ballot_of(f: &Fixture, i: usize) -> Option<stembus::core::Ballot> {
    f.state.meetings[&alv()].advance_ballots.get(&motion()).and_then(|b| b.get(&member(i))).cloned()
}

/// Small-order points (weak keys): the identity (0, 1), the point of order 2 (0, -1) and a
/// point of order 4 (y = 0).
const WEAK_KEYS: [[u8; 32]; 3] = {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut minus_one = [0xffu8; 32];
    minus_one[0] = 0xec;
    minus_one[31] = 0x7f;
    [identity, minus_one, [0u8; 32]]
};

// ---- enrolment -------------------------------------------------------------------------------

#[test]
fn a_key_is_enrolled_with_proof_of_possession_art_8_11() {
    let mut f = Fixture::new(2);
    let key = other_key(7);

    let events = f.run_as_is(enrol(&f.state, rep(1), &key, 1));

    assert!(matches!(
        events.as_slice(),
        [e] if matches!(e.fact, Fact::KeyEnrolled { person, key: k, sequence: 1, .. } if person == rep(1) && k == key_bytes(&key))
    ));
    let record = f.state.keys.current_of(rep(1)).unwrap_or_else(|| panic!("no current key"));
    assert_eq!((record.key, record.person, record.status), (key_bytes(&key), rep(1), KeyStatus::Current));
    assert_eq!((record.enrolled_at, record.retired_at, record.last_sequence), (f.now, None, 1));
    assert!(f.state.keys.current_of(rep(2)).is_none());
}

#[test]
fn an_enrolment_not_signed_by_the_key_itself_is_refused_art_8_11() {
    let mut f = Fixture::new(2);
    let key = other_key(7);
    let Command::EnrolKey { signature: own, .. } = enrol(&f.state, rep(1), &key, 1) else {
        panic!("not an enrolment")
    };
    // Another key signs the same statement: no proof that the person holds `key`.
    let Command::EnrolKey { signature: by_another, .. } = enrol(&f.state, rep(1), &other_key(8), 1) else {
        panic!("not an enrolment")
    };
    let bytes = key_statement(&f, rep(1), key_bytes(&key).0, KeyAction::Enrol, 1);
    let signed_by_another = SignatureBytes::from(signature::sign(&other_key(8), &bytes));

    for signature in [by_another, signed_by_another] {
        let v = f.refuse_as_is(Command::EnrolKey {
            person: rep(1),
            key: key_bytes(&key),
            sequence: 1,
            signature,
        });
        assert_refused(&v, "signature.invalid");
    }
    // The key's own signature, but over another sequence number, for another person, or for a
    // rotation instead of an enrolment.
    let v = f.refuse_as_is(Command::EnrolKey {
        person: rep(1),
        key: key_bytes(&key),
        sequence: 2,
        signature: own,
    });
    assert_refused(&v, "signature.invalid");
    let v = f.refuse_as_is(Command::EnrolKey {
        person: rep(2),
        key: key_bytes(&key),
        sequence: 1,
        signature: own,
    });
    assert_refused(&v, "signature.invalid");
    let as_rotation = SignatureBytes::from(signature::sign(
        &key,
        &key_statement(&f, rep(1), key_bytes(&key).0, KeyAction::Rotate, 1),
    ));
    let v = f.refuse_as_is(Command::EnrolKey {
        person: rep(1),
        key: key_bytes(&key),
        sequence: 1,
        signature: as_rotation,
    });
    assert_refused(&v, "signature.invalid");

    f.run_as_is(Command::EnrolKey { person: rep(1), key: key_bytes(&key), sequence: 1, signature: own });
}

#[test]
fn an_enrolment_signed_for_another_association_is_refused_art_8_11() {
    let mut f = Fixture::new(1);
    let elsewhere = Association::with_id(AssociationId::named("elsewhere"), RulesProfile::dimpact_2023());

    let v = f.refuse_as_is(enrol(&elsewhere, rep(1), &key_of(rep(1)), 1));

    assert_refused(&v, "signature.invalid");
}

#[test]
fn a_second_key_while_one_is_current_is_refused_art_8_11() {
    let mut f = Fixture::new(1);
    enrol_key(&mut f, rep(1), &other_key(7), 1);

    let v = f.refuse_as_is(enrol(&f.state, rep(1), &other_key(8), 1));

    assert_refused(&v, "key.already_enrolled");
    assert_eq!(f.state.keys.of_person(rep(1)).len(), 1);
}

#[test]
fn a_key_enrolled_before_is_never_enrolled_again_by_the_same_or_another_person_art_8_11() {
    let mut f = Fixture::new(3);
    let first = other_key(7);
    let second = other_key(8);
    enrol_key(&mut f, rep(1), &first, 1);

    // Another person cannot take a current key, ...
    let v = f.refuse_as_is(enrol(&f.state, rep(2), &first, 1));
    assert_refused(&v, "key.reused");
    // ... nor a rotated one, ...
    f.at("2026-01-06T09:00:00+01:00");
    f.run_as_is(rotate(&f.state, rep(1), &first, &second, 2));
    let v = f.refuse_as_is(enrol(&f.state, rep(2), &first, 10));
    assert_refused(&v, "key.reused");
    // ... and after its revocation the person cannot enrol the same key again.
    f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&second), signed: None });
    for (person, key) in [(rep(1), &first), (rep(1), &second), (rep(3), &second)] {
        let v = f.refuse_as_is(enrol(&f.state, person, key, 20));
        assert_refused(&v, "key.reused");
    }
}

#[test]
fn a_weak_key_of_small_order_is_refused_art_8_11() {
    let mut f = Fixture::new(1);
    for weak in WEAK_KEYS {
        let command = Command::EnrolKey {
            person: rep(1),
            key: KeyBytes::from(weak),
            sequence: 1,
            signature: [0u8; 64].into(),
        };

        let v = f.refuse_as_is(command.clone());
        assert_refused(&v, "key.invalid");
        // Not even a caller that verified the signatures itself gets a weak key past the core.
        let v = handle_preverified(&f.state, command, f.now).err().unwrap_or_else(|| panic!("accepted"));
        assert_refused(&v, "key.invalid");
    }
    assert!(f.state.keys.keys.is_empty());
}

/// A caller that checked an enrolled key in full already (the auditor's workers) gives the
/// core the outcome: a key that failed is refused as the core refuses it, with the same
/// refusal, and a key that passed is taken; keys not given are checked by the core.
#[test]
fn a_key_checked_by_the_caller_is_decided_as_the_core_decides_it_art_8_11() {
    let f = Fixture::new(1);
    for weak in WEAK_KEYS {
        let command = Command::EnrolKey {
            person: rep(1),
            key: KeyBytes::from(weak),
            sequence: 1,
            signature: [0u8; 64].into(),
        };
        let own =
            handle_preverified(&f.state, command.clone(), f.now).err().unwrap_or_else(|| panic!("accepted"));
        let checked = [(KeyBytes::from(weak), PublicKey::from_bytes(&weak))];
        assert!(checked[0].1.is_err());
        let given = handle_preverified_with_keys(&f.state, command.clone(), f.now, &checked)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(given, own);
        // Given no outcome for this key, the core checks it itself.
        let other = [(KeyBytes::from([9u8; 32]), PublicKey::from_bytes(&[9u8; 32]))];
        let unchecked = handle_preverified_with_keys(&f.state, command, f.now, &other)
            .err()
            .unwrap_or_else(|| panic!("accepted"));
        assert_eq!(unchecked, own);
    }
    let key = key_of(rep(1));
    let command = enrol(&f.state, rep(1), &key, 1);
    let checked = [(key_bytes(&key), PublicKey::from_bytes(&key_bytes(&key).0))];
    assert_eq!(
        handle_preverified_with_keys(&f.state, command.clone(), f.now, &checked),
        handle(&f.state, command, f.now)
    );
}

#[test]
fn an_unknown_person_cannot_enrol_a_key_art_8_5() {
    let mut f = Fixture::new(1);

    let v = f.refuse_as_is(enrol(&f.state, PersonId::named("nobody"), &other_key(7), 1));

    support::assert_violation(&v, RuleId::R2, "8.5", "person.unknown");
}

// ---- rotation --------------------------------------------------------------------------------

#[test]
fn a_rotation_signed_by_the_current_and_the_new_key_replaces_the_key_art_8_11() {
    let mut f = advance_voting(2);
    let (old, new) = (other_key(7), other_key(8));
    enrol_key(&mut f, rep(1), &old, 1);
    f.at("2026-06-02T12:00:00+02:00");

    f.run_as_is(rotate(&f.state, rep(1), &old, &new, 2));

    assert_eq!(f.state.keys.current_of(rep(1)).map(|r| r.key), Some(key_bytes(&new)));
    assert_eq!(status(&f, &old), KeyStatus::Rotated);
    assert_eq!(f.state.keys.get(&key_bytes(&old)).and_then(|r| r.retired_at), Some(f.now));
    let history: Vec<KeyBytes> = f.state.keys.of_person(rep(1)).iter().map(|r| r.key).collect();
    assert_eq!(history, [key_bytes(&old), key_bytes(&new)]);

    // The old key signs nothing any more, not even with a fresh sequence number.
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &old, 100));
    assert_refused(&v, "signature.key_rotated");
    // Nor can it rotate again or revoke the new key.
    let v = f.refuse_as_is(rotate(&f.state, rep(1), &old, &other_key(9), 101));
    assert_refused(&v, "signature.invalid");
    let v = f.refuse_as_is(revoke(&f.state, rep(1), &old, 102));
    assert_refused(&v, "key.already_retired");

    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &new, 3));
    assert_eq!(advance_ballot_of(&f, 1).and_then(|b| b.signed).map(|s| s.key), Some(key_bytes(&new)));
}

#[test]
fn a_rotation_needs_both_signatures_art_8_11() {
    let mut f = Fixture::new(1);
    let (old, new, stranger) = (other_key(7), other_key(8), other_key(9));
    enrol_key(&mut f, rep(1), &old, 1);
    let Command::RotateKey { key, sequence, signature, new_key_signature, .. } =
        rotate(&f.state, rep(1), &old, &new, 2)
    else {
        panic!("not a rotation")
    };
    let bytes = key_statement(&f, rep(1), key.0, KeyAction::Rotate, 2);
    let by_stranger = SignatureBytes::from(signature::sign(&stranger, &bytes));
    let rotation = |signature, new_key_signature| Command::RotateKey {
        person: rep(1),
        key,
        sequence,
        signature,
        new_key_signature,
    };

    for (by_old, by_new) in [
        (by_stranger, new_key_signature),
        (signature, by_stranger),
        (new_key_signature, signature),
        (signature, signature),
        (new_key_signature, new_key_signature),
    ] {
        let v = f.refuse_as_is(rotation(by_old, by_new));
        assert_refused(&v, "signature.invalid");
    }
    // A rotation to another key than the one both signed.
    let v = f.refuse_as_is(Command::RotateKey {
        person: rep(1),
        key: key_bytes(&stranger),
        sequence,
        signature,
        new_key_signature,
    });
    assert_refused(&v, "signature.invalid");

    f.run_as_is(rotation(signature, new_key_signature));
}

#[test]
fn after_a_rotation_the_new_keys_sequence_continues_from_the_rotation_art_8_11() {
    let mut f = advance_voting(1);
    let (old, new) = (other_key(7), other_key(8));
    enrol_key(&mut f, rep(1), &old, 5);

    // The rotation is a statement of the old key: its sequence number must be fresh.
    let v = f.refuse_as_is(rotate(&f.state, rep(1), &old, &new, 5));
    assert_refused(&v, "signature.replayed");
    f.run_as_is(rotate(&f.state, rep(1), &old, &new, 10));

    assert_eq!((last_sequence(&f, &old), last_sequence(&f, &new)), (10, 10));
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &new, 10));
    assert_refused(&v, "signature.replayed");
    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &new, 11));
    assert_eq!(last_sequence(&f, &new), 11);
}

#[test]
fn a_rotation_to_a_key_enrolled_before_is_refused_art_8_11() {
    let mut f = Fixture::new(2);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    for new in [key_of(rep(1)), key_of(rep(2))] {
        let v = f.refuse_as_is(rotate(&f.state, rep(1), &key_of(rep(1)), &new, 2));
        assert_refused(&v, "key.reused");
    }
}

#[test]
fn a_rotation_to_a_weak_key_is_refused_art_8_11() {
    let mut f = Fixture::new(1);
    let old = other_key(7);
    enrol_key(&mut f, rep(1), &old, 1);

    for weak in WEAK_KEYS {
        let signature = SignatureBytes::from(signature::sign(
            &old,
            &key_statement(&f, rep(1), weak, KeyAction::Rotate, 2),
        ));
        let v = f.refuse_as_is(Command::RotateKey {
            person: rep(1),
            key: KeyBytes::from(weak),
            sequence: 2,
            signature,
            new_key_signature: [0u8; 64].into(),
        });
        assert_refused(&v, "key.invalid");
    }
}

#[test]
fn a_person_without_a_key_has_nothing_to_rotate_art_8_11() {
    let mut f = Fixture::new(1);

    let v = f.refuse_as_is(rotate(&f.state, rep(1), &other_key(7), &other_key(8), 2));

    assert_refused(&v, "signature.no_key");
}

// ---- revocation ------------------------------------------------------------------------------

#[test]
fn a_person_revokes_their_key_by_signing_with_it_art_8_11() {
    let mut f = advance_voting(1);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);

    f.run_as_is(revoke(&f.state, rep(1), &key, 2));

    assert_eq!(status(&f, &key), KeyStatus::Revoked);
    assert_eq!(last_sequence(&f, &key), 2);
    assert!(f.state.keys.current_of(rep(1)).is_none());
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &key, 3));
    assert_refused(&v, "signature.key_revoked");
}

#[test]
fn a_signed_revocation_must_verify_and_be_fresh_art_8_11() {
    let mut f = Fixture::new(1);
    let key = other_key(7);
    enrol_key(&mut f, rep(1), &key, 4);

    let v = f.refuse_as_is(revoke(&f.state, rep(1), &key, 4));
    assert_refused(&v, "signature.replayed");
    let Command::RevokeKey { signed: Some(by_another), .. } = revoke(&f.state, rep(1), &other_key(8), 5)
    else {
        panic!("not signed")
    };
    let v =
        f.refuse_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&key), signed: Some(by_another) });
    assert_refused(&v, "signature.invalid");
    // The enrolment statement is not a revocation.
    let Command::EnrolKey { signature, .. } = enrol(&f.state, rep(1), &key, 5) else {
        panic!("not an enrolment")
    };
    let v = f.refuse_as_is(Command::RevokeKey {
        person: rep(1),
        key: key_bytes(&key),
        signed: Some(KeySignature { sequence: 5, signature }),
    });
    assert_refused(&v, "signature.invalid");

    f.run_as_is(revoke(&f.state, rep(1), &key, 5));
}

#[test]
fn the_secretariat_revokes_a_lost_key_without_its_signature_art_8_11() {
    let mut f = advance_voting(1);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);
    f.run(ballot(1, Choice::For));

    let events = f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&key), signed: None });

    assert!(matches!(events.as_slice(), [e] if matches!(e.fact, Fact::KeyRevoked { signed: None, .. })));
    assert_eq!((status(&f, &key), last_sequence(&f, &key)), (KeyStatus::Revoked, 2));
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::Against), &key, 3));
    assert_refused(&v, "signature.key_revoked");
    let v = f.refuse_as_is(ballot(1, Choice::Against));
    assert_refused(&v, "ballot.unsigned");
    // The ballot signed before the revocation stands.
    assert_eq!(advance_ballot_of(&f, 1).map(|b| b.choice), Some(Choice::For));
}

#[test]
fn after_a_revocation_the_person_enrols_a_new_key_art_8_11() {
    let mut f = advance_voting(1);
    let (lost, new) = (key_of(rep(1)), other_key(8));
    enrol_key(&mut f, rep(1), &lost, 1);
    f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&lost), signed: None });

    enrol_key(&mut f, rep(1), &new, 1);

    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &new, 2));
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::Against), &lost, 100));
    assert_refused(&v, "signature.key_revoked");
    assert_eq!(f.state.keys.of_person(rep(1)).len(), 2);
}

#[test]
fn a_key_is_revoked_once_and_a_rotated_key_cannot_be_revoked_art_8_11() {
    let mut f = Fixture::new(1);
    let (first, second) = (other_key(7), other_key(8));
    enrol_key(&mut f, rep(1), &first, 1);
    f.run_as_is(rotate(&f.state, rep(1), &first, &second, 2));

    let v = f.refuse_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&first), signed: None });
    assert_refused(&v, "key.already_retired");

    f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&second), signed: None });
    let v = f.refuse_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&second), signed: None });
    assert_refused(&v, "key.already_retired");
    let v = f.refuse_as_is(revoke(&f.state, rep(1), &second, 3));
    assert_refused(&v, "key.already_retired");
}

#[test]
fn a_person_cannot_revoke_another_persons_key_nor_an_unknown_one_art_8_11() {
    let mut f = Fixture::new(2);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    let v =
        f.refuse_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&key_of(rep(2))), signed: None });
    assert_refused(&v, "key.unknown");
    let v = f.refuse_as_is(revoke(&f.state, rep(1), &key_of(rep(2)), 2));
    assert_refused(&v, "key.unknown");
    let v =
        f.refuse_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&other_key(7)), signed: None });
    assert_refused(&v, "key.unknown");
    assert_eq!(status(&f, &key_of(rep(2))), KeyStatus::Current);
}

// ---- ballots ---------------------------------------------------------------------------------

#[test]
fn a_signed_ballot_is_accepted_and_keeps_its_signature_art_8_11() {
    let mut f = advance_voting(1);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let command = signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 2);

    f.run_as_is(command.clone());

    assert_eq!(advance_ballot_of(&f, 1).and_then(|b| b.signed), Some(signature_of(&command)));
    assert_eq!(last_sequence(&f, &key_of(rep(1))), 2);
}

#[test]
fn an_unsigned_ballot_is_refused_art_8_11() {
    let mut f = advance_voting(2);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);

    for i in [1, 2] {
        let v = f.refuse_as_is(ballot(i, Choice::For));
        assert_refused(&v, "ballot.unsigned");
    }
}

#[test]
fn a_ballot_signed_with_another_persons_key_is_refused_art_8_11() {
    let mut f = advance_voting(2);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &key_of(rep(2)), 2));
    assert_refused(&v, "signature.wrong_key");
    // A key nobody enrolled.
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &other_key(7), 2));
    assert_refused(&v, "signature.wrong_key");
}

#[test]
fn a_ballot_by_a_person_without_a_key_is_refused_art_8_11() {
    let mut f = advance_voting(2);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    for key in [key_of(rep(1)), key_of(rep(2)), other_key(7)] {
        let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &key, 2));
        assert_refused(&v, "signature.no_key");
    }
}

/// The standard meeting with a second motion, convened with advance voting; on 1 June.
fn two_motions(members: usize) -> Fixture {
    let mut f = Fixture::new(members);
    let mut create = create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS);
    if let Command::CreateMeeting { agenda, .. } = &mut create {
        agenda.push(AgendaItemSpec {
            item: second_motion(),
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
    f.at(CONVENED_AT);
    f.run(create);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: None,
    });
    f.at(ADVANCE);
    f
}

fn second_motion() -> AgendaItemId {
    AgendaItemId::named("motion-2")
}

#[test]
fn a_signature_over_another_choice_member_or_item_is_refused_art_8_11() {
    let mut f = two_motions(2);
    // The representative of member 1 also represents member 2 (Art. 8.5).
    f.run(Command::AssignRepresentative { person: rep(1), member: member(2), capacity: Capacity::Official });
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let signed = signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 2);

    let tampered: [fn(&mut Command); 4] = [
        |c| {
            if let Command::CastBallot { choice, .. } = c {
                *choice = Choice::Against;
            }
        },
        |c| {
            if let Command::CastBallot { member: m, .. } = c {
                *m = member(2);
            }
        },
        |c| {
            if let Command::CastBallot { item, .. } = c {
                *item = second_motion();
            }
        },
        |c| {
            if let Command::CastBallot { signed: Some(s), .. } = c {
                s.sequence = 3;
            }
        },
    ];
    for change in tampered {
        let mut command = signed.clone();
        change(&mut command);
        assert_ne!(command, signed);
        let v = f.refuse_as_is(command);
        assert_refused(&v, "signature.invalid");
    }
    let v = f.refuse_as_is(with_flipped_bit(signed.clone()));
    assert_refused(&v, "signature.invalid");
    // A signature whose scalar S is not canonical (its top byte set) is refused however it
    // was made.
    let mut malleable = signature_of(&signed);
    malleable.signature.0[63] |= 0xf0;
    let v = f.refuse_as_is(with_signature(signed.clone(), malleable));
    assert_refused(&v, "signature.invalid");

    f.run_as_is(signed);
    let for_member_2 = Command::CastBallot {
        meeting: alv(),
        item: second_motion(),
        member: member(2),
        person: rep(1),
        choice: Choice::Against,
        signed: None,
    };
    f.run_as_is(signed_with(&f, for_member_2, &key_of(rep(1)), 3));
}

#[test]
fn a_ballot_signed_for_one_poll_is_refused_in_the_new_poll_after_a_challenge_art_8_11() {
    let mut f = Fixture::new(6);
    f.opened(DecisionKind::Ordinary, 6);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    f.open_poll("p1");
    // Member 1 signs a ballot for the first poll that never reaches the service.
    let for_p1 = signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 100);
    assert!(handle(&f.state, for_p1.clone(), f.now).is_ok(), "the ballot is good in the first poll");
    let cast_in_p1 = f.signed(ballot(2, Choice::For));
    f.run_as_is(cast_in_p1.clone());
    for i in 3..=6 {
        f.vote(i, Choice::Against);
    }
    let r = f.close_poll("p1");
    f.run(declaration("p1", r.outcome));
    f.run(Command::ChallengeDeclaration {
        meeting: alv(),
        poll: poll("p1"),
        supporters: vec![member(3), member(4), member(5), member(6)],
    });
    f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("p2"),
        item: motion(),
        method: PollMethod::Electronic,
        by: chair(),
        revote_of: Some(poll("p1")),
    });

    // The statement names the poll: the signature does not carry over to the new poll.
    let v = f.refuse_as_is(for_p1);
    assert_refused(&v, "signature.invalid");
    // A ballot cast in the first poll, replayed into the new one, is stale as well.
    let v = f.refuse_as_is(cast_in_p1);
    assert_refused(&v, "signature.replayed");

    f.vote(1, Choice::For);
    f.vote(2, Choice::For);
    let p2 = &f.state.meetings[&alv()].polls[&poll("p2")];
    assert_eq!(p2.ballots.len(), 2);
}

#[test]
fn an_advance_ballots_signature_is_refused_in_the_meeting_art_8_11() {
    let mut f = advance_voting(3);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let advance = signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 50);
    assert!(handle(&f.state, advance.clone(), f.now).is_ok(), "the ballot is good in advance");
    f.at("2026-06-10T18:50:00+02:00");
    for i in 1..=3 {
        f.check_in(i);
    }
    f.at(MEETING_STARTS);
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    f.open_poll("p");

    let v = f.refuse_as_is(advance);

    assert_refused(&v, "signature.invalid");
    f.vote(1, Choice::For);
}

#[test]
fn a_ballot_signed_for_another_meeting_is_refused_art_8_11() {
    let mut f = advance_voting(2);
    let other = MeetingId::named("other");
    f.run(create_meeting_command("other", DecisionKind::Ordinary, "2026-06-17T19:00:00+02:00"));
    f.run(Command::ConveneMeeting {
        meeting: other,
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: None,
    });
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let for_alv = signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 2);

    let mut for_other = for_alv.clone();
    if let Command::CastBallot { meeting, .. } = &mut for_other {
        *meeting = other;
    }
    let v = f.refuse_as_is(for_other);

    assert_refused(&v, "signature.invalid");
    f.run_as_is(for_alv);
}

#[test]
fn a_ballot_signed_for_another_association_is_refused_art_8_11() {
    let mut f = advance_voting(1);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    // The same register and meeting, in another association.
    let elsewhere = Association { id: AssociationId::named("elsewhere"), ..f.state.clone() };
    assert_ne!(elsewhere.id, f.state.id);
    let command = sign(&elsewhere, ballot(1, Choice::For), &key_of(rep(1)), 2);

    let v = f.refuse_as_is(command);

    assert_refused(&v, "signature.invalid");
    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &key_of(rep(1)), 2));
}

#[test]
fn the_same_signed_ballot_is_accepted_once_art_8_11() {
    let mut f = advance_voting(1);
    let command = f.signed(ballot(1, Choice::For));
    f.run_as_is(command.clone());

    let v = f.refuse_as_is(command);

    assert_refused(&v, "signature.replayed");
}

#[test]
fn a_lower_sequence_after_a_higher_one_is_refused_art_8_11() {
    let mut f = advance_voting(1);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);
    let third = signed_with(&f, ballot(1, Choice::Abstain), &key, 3);
    let fifth = signed_with(&f, ballot(1, Choice::For), &key, 5);

    f.run_as_is(fifth);
    let v = f.refuse_as_is(third);
    assert_refused(&v, "signature.replayed");
    // The same number again, over another statement, is a replay too; one above is fresh.
    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::Against), &key, 5));
    assert_refused(&v, "signature.replayed");
    f.run_as_is(signed_with(&f, ballot(1, Choice::Against), &key, 6));

    assert_eq!(advance_ballot_of(&f, 1).map(|b| b.choice), Some(Choice::Against));
    assert_eq!(last_sequence(&f, &key), 6);
}

#[test]
fn the_enrolment_counts_as_the_keys_first_statement_art_8_11() {
    let mut f = advance_voting(1);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 0);

    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::For), &key, 0));
    assert_refused(&v, "signature.replayed");
    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &key, 1));
}

#[test]
fn a_key_that_signed_the_highest_sequence_number_signs_nothing_more_art_8_11() {
    let mut f = advance_voting(1);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);
    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &key, u64::MAX));

    let v = f.refuse_as_is(signed_with(&f, ballot(1, Choice::Against), &key, u64::MAX));
    assert_refused(&v, "signature.replayed");
    let v = f.refuse_as_is(rotate(&f.state, rep(1), &key, &other_key(8), u64::MAX));
    assert_refused(&v, "signature.replayed");
    let v = f.refuse_as_is(revoke(&f.state, rep(1), &key, u64::MAX));
    assert_refused(&v, "signature.replayed");
    // The secretariat revokes the exhausted key; the person enrols a new one.
    f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&key), signed: None });
    enrol_key(&mut f, rep(1), &other_key(8), 1);
    f.run_as_is(signed_with(&f, ballot(1, Choice::Against), &other_key(8), 2));
}

#[test]
fn sequence_numbers_run_per_key_across_ballots_and_declarations_art_8_11() {
    let mut f = Fixture::new(3);
    f.convened(DecisionKind::Ordinary);
    let to_chair = ProxyHolder::SupervisoryBoardChair { person: chair() };
    f.run(proxy("m2", 2, to_chair, ProxyForm::Electronic));
    f.at("2026-06-10T18:50:00+02:00");
    f.check_in(1);
    f.at(MEETING_STARTS);
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    let key = key_of(chair());
    enrol_key(&mut f, chair(), &key, 1);
    f.open_poll("p");
    // The chair exercises the proxy of member 2 and signs its ballot at 5.
    f.run_as_is(signed_with(&f, ballot_by(2, chair(), Choice::For), &key, 5));
    f.vote(1, Choice::For);
    let r = f.close_poll("p");

    let v = f.refuse_as_is(signed_with(&f, declaration("p", r.outcome), &key, 5));
    assert_refused(&v, "signature.replayed");
    let v = f.refuse_as_is(signed_with(&f, declaration("p", r.outcome), &key, 4));
    assert_refused(&v, "signature.replayed");
    f.run_as_is(signed_with(&f, declaration("p", r.outcome), &key, 6));

    assert_eq!(last_sequence(&f, &key), 6);
}

// ---- electronic proxies ----------------------------------------------------------------------

#[test]
fn an_unsigned_electronic_proxy_is_refused_art_8_11() {
    let mut f = Fixture::new(2);
    f.convened(DecisionKind::Ordinary);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    let v = f.refuse_as_is(proxy("m2", 2, to_member(1), ProxyForm::Electronic));

    assert_refused(&v, "proxy.unsigned");
}

#[test]
fn a_paper_proxy_needs_no_signature_art_8_5() {
    let mut f = Fixture::new(2);
    f.convened(DecisionKind::Ordinary);

    f.run_as_is(proxy("m2", 2, to_member(1), ProxyForm::Paper));

    let granted = &f.state.meetings[&alv()].proxies[&ProxyId::named("m2")];
    assert_eq!((granted.form, granted.signed), (ProxyForm::Paper, None));
    assert!(f.state.keys.keys.is_empty(), "nobody needed a key");
}

#[test]
fn an_electronic_proxy_signed_by_the_grantors_representative_is_accepted_art_8_11() {
    let mut f = Fixture::new(2);
    f.convened(DecisionKind::Ordinary);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);
    let command = signed_with(&f, proxy("m2", 2, to_member(1), ProxyForm::Electronic), &key_of(rep(2)), 2);

    f.run_as_is(command.clone());

    let granted = &f.state.meetings[&alv()].proxies[&ProxyId::named("m2")];
    assert_eq!(granted.signed, Some(signature_of(&command)));
    assert_eq!(last_sequence(&f, &key_of(rep(2))), 2);
}

#[test]
fn a_proxy_signed_by_a_person_who_does_not_represent_the_grantor_is_refused_art_8_11() {
    let mut f = Fixture::new(2);
    f.convened(DecisionKind::Ordinary);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    // The holder's representative signs the grantor's proxy to itself.
    let command = proxy("m2", 2, to_member(1), ProxyForm::Electronic);
    let v = f.refuse_as_is(signed_with(&f, command.clone(), &key_of(rep(1)), 2));
    assert_refused(&v, "proxy.not_signed_by_representative");
    let v = f.refuse_as_is(signed_with(&f, command.clone(), &other_key(7), 2));
    assert_refused(&v, "signature.unknown_key");
    // A paper proxy that carries a signature is held to it as well.
    let v = f.refuse_as_is(with_signature(
        proxy("m2", 2, to_member(1), ProxyForm::Paper),
        signature_of(&signed_with(&f, command, &key_of(rep(1)), 2)),
    ));
    assert_refused(&v, "proxy.not_signed_by_representative");
}

#[test]
fn a_proxy_whose_instructions_or_holder_changed_after_signing_is_refused_art_8_11() {
    let mut f = Fixture::new(3);
    f.convened(DecisionKind::Ordinary);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);
    let mut command = proxy("m2", 2, to_member(1), ProxyForm::Electronic);
    if let Command::GrantProxy { instructions, .. } = &mut command {
        instructions.insert(motion(), Instruction::For);
    }
    let signed = signed_with(&f, command, &key_of(rep(2)), 2);

    let tampered: [fn(&mut Command); 4] = [
        |c| {
            if let Command::GrantProxy { instructions, .. } = c {
                instructions.insert(motion(), Instruction::Against);
            }
        },
        |c| {
            if let Command::GrantProxy { instructions, .. } = c {
                instructions.clear();
            }
        },
        |c| {
            if let Command::GrantProxy { holder, .. } = c {
                *holder = to_member(3);
            }
        },
        |c| {
            if let Command::GrantProxy { proxy, .. } = c {
                *proxy = ProxyId::named("another");
            }
        },
    ];
    for change in tampered {
        let mut command = signed.clone();
        change(&mut command);
        assert_ne!(command, signed);
        let v = f.refuse_as_is(command);
        assert_refused(&v, "signature.invalid");
    }
    f.run_as_is(signed);
}

#[test]
fn a_proxy_signed_with_a_rotated_key_is_refused_art_8_11() {
    let mut f = Fixture::new(2);
    f.convened(DecisionKind::Ordinary);
    let (old, new) = (key_of(rep(2)), other_key(8));
    enrol_key(&mut f, rep(2), &old, 1);
    f.run_as_is(rotate(&f.state, rep(2), &old, &new, 2));

    let v = f.refuse_as_is(signed_with(&f, proxy("m2", 2, to_member(1), ProxyForm::Electronic), &old, 3));

    assert_refused(&v, "signature.key_rotated");
}

// ---- declarations ----------------------------------------------------------------------------

/// Three members present, an electronic poll "p" of two for and one against, closed.
fn closed_poll() -> Fixture {
    let mut f = Fixture::new(3);
    f.opened(DecisionKind::Ordinary, 3);
    let r = f.poll_with("p", 2, 1, 0);
    assert_eq!(r.outcome, Outcome::Adopted);
    enrol_key(&mut f, chair(), &key_of(chair()), 1);
    f
}

#[test]
fn an_unsigned_declaration_is_refused_art_8_11() {
    let mut f = closed_poll();

    let v = f.refuse_as_is(declaration("p", Outcome::Adopted));

    assert_refused(&v, "declaration.unsigned");
}

#[test]
fn a_declaration_signed_over_other_counts_outcome_or_poll_is_refused_art_8_11() {
    let mut f = closed_poll();
    let command = declaration("p", Outcome::Adopted);
    let Statement::Declaration(honest) = statement_of(&f, &command, 2) else { panic!("not a declaration") };
    assert_eq!((honest.votes_for, honest.votes_against, honest.abstentions), (2, 1, 0));

    let changes: [fn(&mut DeclarationStatement); 5] = [
        |s| s.votes_for = 3,
        |s| s.votes_against = 0,
        |s| s.abstentions = 1,
        |s| s.outcome = Outcome::Rejected,
        |s| s.poll = poll("q"),
    ];
    for change in changes {
        let mut statement = honest;
        change(&mut statement);
        let signed = signature_on(&key_of(chair()), &Statement::Declaration(statement));
        let v = f.refuse_as_is(with_signature(command.clone(), signed));
        assert_refused(&v, "signature.invalid");
    }
    f.run_as_is(with_signature(command, signature_on(&key_of(chair()), &Statement::Declaration(honest))));
}

#[test]
fn a_declaration_contradicting_the_count_is_refused_before_its_signature_art_17_5() {
    let mut f = closed_poll();
    // Properly signed, but over an outcome the count does not give.
    let command = signed_with(&f, declaration("p", Outcome::Rejected), &key_of(chair()), 2);

    let v = f.refuse_as_is(command);

    support::assert_violation(&v, RuleId::R6, "17.5", "declaration.contradicts_count");
}

#[test]
fn a_declaration_signed_by_another_key_than_the_chairs_is_refused_art_8_11() {
    let mut f = closed_poll();

    // Member 1's representative holds a key (it voted), but does not chair.
    let v = f.refuse_as_is(signed_with(&f, declaration("p", Outcome::Adopted), &key_of(rep(1)), 3));

    assert_refused(&v, "signature.wrong_key");
}

// ---- votes on a resolution outside a meeting --------------------------------------------------

fn resolution() -> ResolutionId {
    ResolutionId::named("r1")
}

fn propose_resolution(id: ResolutionId, closes_at: &str) -> Command {
    Command::ProposeResolution {
        resolution: id,
        text: "De contributie voor 2027 wordt vastgesteld op het voorgestelde bedrag.".into(),
        kind: DecisionKind::Ordinary,
        closes_at: t(closes_at),
        board_informed: true,
        supervisory_board_informed: true,
    }
}

fn resolution_vote(i: usize, choice: Choice) -> Command {
    Command::CastResolutionVote {
        resolution: resolution(),
        member: member(i),
        person: rep(i),
        choice,
        signed: None,
    }
}

/// `members` members and the ordinary resolution `r1` proposed outside a meeting (Art. 8.12),
/// open for votes until 19 January.
fn proposed_resolution(members: usize) -> Fixture {
    let mut f = Fixture::new(members);
    f.run(propose_resolution(resolution(), "2026-01-19T17:00:00+01:00"));
    f.at("2026-01-06T10:00:00+01:00");
    f
}

fn resolution_vote_of(f: &Fixture, i: usize) -> Option<stembus::core::Ballot> {
    f.state.resolutions[&resolution()].votes.get(&member(i)).cloned()
}

#[test]
fn a_signed_resolution_vote_is_accepted_and_keeps_its_signature_art_8_11() {
    let mut f = proposed_resolution(1);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let command = signed_with(&f, resolution_vote(1, Choice::For), &key_of(rep(1)), 2);

    f.run_as_is(command.clone());

    assert_eq!(resolution_vote_of(&f, 1).and_then(|b| b.signed), Some(signature_of(&command)));
    assert_eq!(last_sequence(&f, &key_of(rep(1))), 2);
}

#[test]
fn an_unsigned_resolution_vote_is_refused_art_8_11() {
    let mut f = proposed_resolution(2);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);

    // With a key enrolled or without one.
    for i in [1, 2] {
        let v = f.refuse_as_is(resolution_vote(i, Choice::For));
        assert_refused(&v, "resolution_vote.unsigned");
    }
    // The rules of Art. 8.12 are checked first: a vote for a member the person does not
    // represent is refused as such, signed or not.
    let for_another = Command::CastResolutionVote {
        resolution: resolution(),
        member: member(2),
        person: rep(1),
        choice: Choice::For,
        signed: None,
    };
    let v = f.refuse_as_is(for_another);
    support::assert_violation(&v, RuleId::R2, "8.5", "ballot.not_representative");
    assert!(resolution_vote_of(&f, 1).is_none());
}

#[test]
fn a_resolution_vote_signed_with_another_persons_key_is_refused_art_8_11() {
    let mut f = proposed_resolution(3);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    let v = f.refuse_as_is(signed_with(&f, resolution_vote(1, Choice::For), &key_of(rep(2)), 2));
    assert_refused(&v, "signature.wrong_key");
    // A key nobody enrolled.
    let v = f.refuse_as_is(signed_with(&f, resolution_vote(1, Choice::For), &other_key(7), 2));
    assert_refused(&v, "signature.wrong_key");
    // A person without a key signs nothing, whatever key they use.
    for key in [key_of(rep(3)), key_of(rep(1)), other_key(7)] {
        let v = f.refuse_as_is(signed_with(&f, resolution_vote(3, Choice::For), &key, 2));
        assert_refused(&v, "signature.no_key");
    }
    // A rotated key no longer signs.
    f.run_as_is(rotate(&f.state, rep(2), &key_of(rep(2)), &other_key(8), 2));
    let v = f.refuse_as_is(signed_with(&f, resolution_vote(2, Choice::For), &key_of(rep(2)), 3));
    assert_refused(&v, "signature.key_rotated");
    f.run_as_is(signed_with(&f, resolution_vote(2, Choice::For), &other_key(8), 3));
}

#[test]
fn a_replayed_resolution_vote_is_refused_art_8_11() {
    let mut f = proposed_resolution(1);
    let key = key_of(rep(1));
    let first = f.signed(resolution_vote(1, Choice::Against));
    assert_eq!(signature_of(&first).sequence, 2, "the enrolment signed 1");
    f.run_as_is(first.clone());

    // The same signed vote again.
    let v = f.refuse_as_is(first);
    assert_refused(&v, "signature.replayed");
    // A later vote replaces the earlier one (Art. 8.12 as the profile reads it), but only
    // with a sequence number above every one the key signed, of any kind.
    let fifth = signed_with(&f, resolution_vote(1, Choice::For), &key, 5);
    let fourth = signed_with(&f, resolution_vote(1, Choice::Abstain), &key, 4);
    f.run_as_is(fifth);
    let v = f.refuse_as_is(fourth);
    assert_refused(&v, "signature.replayed");
    let v = f.refuse_as_is(signed_with(&f, resolution_vote(1, Choice::Abstain), &key, 5));
    assert_refused(&v, "signature.replayed");

    assert_eq!(resolution_vote_of(&f, 1).map(|b| b.choice), Some(Choice::For));
    assert_eq!(last_sequence(&f, &key), 5);
}

#[test]
fn a_resolution_vote_whose_choice_member_or_resolution_changed_after_signing_is_refused_art_8_11() {
    let mut f = proposed_resolution(2);
    f.run(propose_resolution(ResolutionId::named("r2"), "2026-01-19T17:00:00+01:00"));
    // The representative of member 1 also represents member 2 (Art. 8.5).
    f.run(Command::AssignRepresentative { person: rep(1), member: member(2), capacity: Capacity::Official });
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let signed = signed_with(&f, resolution_vote(1, Choice::For), &key_of(rep(1)), 2);

    let tampered: [fn(&mut Command); 4] = [
        |c| {
            if let Command::CastResolutionVote { choice, .. } = c {
                *choice = Choice::Against;
            }
        },
        |c| {
            if let Command::CastResolutionVote { member: m, .. } = c {
                *m = member(2);
            }
        },
        |c| {
            if let Command::CastResolutionVote { resolution, .. } = c {
                *resolution = ResolutionId::named("r2");
            }
        },
        |c| {
            if let Command::CastResolutionVote { signed: Some(s), .. } = c {
                s.sequence = 3;
            }
        },
    ];
    for change in tampered {
        let mut command = signed.clone();
        change(&mut command);
        assert_ne!(command, signed);
        let v = f.refuse_as_is(command);
        assert_refused(&v, "signature.invalid");
    }
    let v = f.refuse_as_is(with_flipped_bit(signed.clone()));
    assert_refused(&v, "signature.invalid");

    // The same fields signed as another kind of statement, or for another association, do not
    // count either.
    let Statement::ResolutionVote(honest) = statement_of(&f, &signed, 2) else { panic!("not a vote") };
    let as_ballot = Statement::Ballot(BallotStatement {
        association: honest.association,
        meeting: MeetingId::from_uuid(honest.resolution.uuid()),
        item: AgendaItemId::from_uuid(honest.resolution.uuid()),
        poll: None,
        member: honest.member,
        person: honest.person,
        choice: honest.choice,
        sequence: 2,
    });
    let elsewhere = Statement::ResolutionVote(ResolutionVoteStatement {
        association: AssociationId::named("x"),
        ..honest
    });
    for statement in [as_ballot, elsewhere] {
        let v = f.refuse_as_is(with_signature(signed.clone(), signature_on(&key_of(rep(1)), &statement)));
        assert_refused(&v, "signature.invalid");
    }

    f.run_as_is(signed);
    assert_eq!(resolution_vote_of(&f, 1).map(|b| b.choice), Some(Choice::For));
    assert!(resolution_vote_of(&f, 2).is_none());
}

#[test]
fn handle_preverified_checks_a_resolution_votes_key_and_sequence_but_not_its_signature_art_8_11() {
    let mut f = proposed_resolution(2);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    let bad = with_flipped_bit(signed_with(&f, resolution_vote(1, Choice::For), &key, 2));
    let v = handle(&f.state, bad.clone(), f.now).err().unwrap_or_else(|| panic!("accepted"));
    assert_refused(&v, "signature.invalid");
    let events = handle_preverified(&f.state, bad, f.now).unwrap_or_else(|v| panic!("{v}"));
    assert!(matches!(events.as_slice(), [e] if matches!(e.fact, Fact::ResolutionVoteCast { .. })));

    let refusal = |command: Command| {
        handle_preverified(&f.state, command, f.now).err().unwrap_or_else(|| panic!("accepted"))
    };
    assert_refused(&refusal(resolution_vote(1, Choice::For)), "resolution_vote.unsigned");
    assert_refused(
        &refusal(with_flipped_bit(signed_with(&f, resolution_vote(1, Choice::For), &key_of(rep(2)), 2))),
        "signature.wrong_key",
    );
    assert_refused(
        &refusal(with_flipped_bit(signed_with(&f, resolution_vote(1, Choice::For), &key, 1))),
        "signature.replayed",
    );
}

// ---- handle_preverified ----------------------------------------------------------------------

#[test]
fn handle_preverified_skips_only_the_cryptographic_check_art_8_11() {
    let mut f = advance_voting(2);
    let key = key_of(rep(1));
    enrol_key(&mut f, rep(1), &key, 1);
    enrol_key(&mut f, rep(2), &key_of(rep(2)), 1);

    // A signature that does not verify passes a caller that verified the log's signatures.
    let bad = with_flipped_bit(signed_with(&f, ballot(1, Choice::For), &key, 2));
    let v = handle(&f.state, bad.clone(), f.now).err().unwrap_or_else(|| panic!("accepted"));
    assert_refused(&v, "signature.invalid");
    let events = handle_preverified(&f.state, bad, f.now).unwrap_or_else(|v| panic!("{v}"));
    assert!(matches!(events.as_slice(), [e] if matches!(e.fact, Fact::BallotCast { .. })));

    let preverified_refusal = |f: &Fixture, command: Command| {
        handle_preverified(&f.state, command, f.now).err().unwrap_or_else(|| panic!("accepted"))
    };
    // Everything else is still checked: the key, ...
    let v = preverified_refusal(
        &f,
        with_flipped_bit(signed_with(&f, ballot(1, Choice::For), &key_of(rep(2)), 2)),
    );
    assert_refused(&v, "signature.wrong_key");
    let v = preverified_refusal(&f, ballot(1, Choice::For));
    assert_refused(&v, "ballot.unsigned");
    // ... the sequence number, ...
    f.run_as_is(signed_with(&f, ballot(1, Choice::For), &key, 2));
    let v = preverified_refusal(&f, with_flipped_bit(signed_with(&f, ballot(1, Choice::Against), &key, 2)));
    assert_refused(&v, "signature.replayed");
    // ... and whether the key was rotated or revoked.
    f.run_as_is(Command::RevokeKey { person: rep(1), key: key_bytes(&key), signed: None });
    let v = preverified_refusal(&f, with_flipped_bit(signed_with(&f, ballot(1, Choice::Against), &key, 3)));
    assert_refused(&v, "signature.key_revoked");
    let (old, new) = (key_of(rep(2)), other_key(8));
    f.run_as_is(rotate(&f.state, rep(2), &old, &new, 2));
    let v = preverified_refusal(&f, with_flipped_bit(signed_with(&f, ballot(2, Choice::Against), &old, 3)));
    assert_refused(&v, "signature.key_rotated");
    // Key commands likewise: a rotation's bad signatures pass, a reused key does not.
    let mut rotation = rotate(&f.state, rep(2), &new, &other_key(9), 3);
    if let Command::RotateKey { signature, new_key_signature, .. } = &mut rotation {
        signature.0[0] ^= 1;
        new_key_signature.0[0] ^= 1;
    }
    assert!(handle_preverified(&f.state, rotation.clone(), f.now).is_ok());
    assert_refused(
        &handle(&f.state, rotation, f.now).err().unwrap_or_else(|| panic!("accepted")),
        "signature.invalid",
    );
    let v = preverified_refusal(&f, rotate(&f.state, rep(2), &new, &old, 3));
    assert_refused(&v, "key.reused");
}

// ---- the signatures an event carries ---------------------------------------------------------

/// Runs the command (made from the fixture as it stands) and checks that, folding its events one by one, `signatures_in` gives for
/// each the key and the bytes `expected` (in order) with a signature that verifies strictly.
#[track_caller]
fn run_checking_signatures(
    f: &mut Fixture,
    command: impl FnOnce(&Fixture) -> Command,
    expected: &[(KeyBytes, Vec<u8>)],
) {
    let command = command(f);
    let mut state = f.state.clone();
    let events = f.run_as_is(command);
    let mut found = Vec::new();
    for event in &events {
        found.extend(signatures_in(&state, &event.fact));
        apply(&mut state, event);
    }
    assert_eq!(state, f.state, "folding the events one by one gives the state");
    let keys_and_bytes: Vec<(KeyBytes, Vec<u8>)> = found.iter().map(|s| (s.key, s.bytes.clone())).collect();
    assert_eq!(keys_and_bytes, expected);
    for s in &found {
        let public = PublicKey::from_bytes(&s.key.0).unwrap_or_else(|e| panic!("{e}"));
        signature::verify(&public, &s.bytes, &s.signature.0).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn every_signed_event_yields_its_canonical_statement_and_a_signature_that_verifies_art_17_6() {
    let mut f = Fixture::new(3);
    f.convened(DecisionKind::Ordinary);
    let id = f.state.id;
    let key_bytes_of = |key: &SigningKey| key_bytes(key).0;
    let (r1, r2, c) = (key_of(rep(1)), key_of(rep(2)), key_of(chair()));
    let (spare, lost) = (other_key(8), other_key(9));

    // Key statements.
    let expected = key_statement(&f, rep(1), key_bytes_of(&r1), KeyAction::Enrol, 1);
    run_checking_signatures(&mut f, |f| enrol(&f.state, rep(1), &r1, 1), &[(key_bytes(&r1), expected)]);
    enrol_key(&mut f, rep(2), &r2, 1);
    enrol_key(&mut f, chair(), &c, 1);
    enrol_key(&mut f, rep(3), &spare, 1);
    let expected = key_statement(&f, rep(3), key_bytes_of(&lost), KeyAction::Rotate, 2);
    run_checking_signatures(
        &mut f,
        |f| rotate(&f.state, rep(3), &spare, &lost, 2),
        &[(key_bytes(&spare), expected.clone()), (key_bytes(&lost), expected)],
    );
    let expected = key_statement(&f, rep(3), key_bytes_of(&lost), KeyAction::Revoke, 3);
    run_checking_signatures(&mut f, |f| revoke(&f.state, rep(3), &lost, 3), &[(key_bytes(&lost), expected)]);
    enrol_key(&mut f, rep(3), &key_of(rep(3)), 1);
    run_checking_signatures(
        &mut f,
        |_| Command::RevokeKey { person: rep(3), key: key_bytes(&key_of(rep(3))), signed: None },
        &[],
    );

    // An electronic proxy, and a paper one that carries no signature.
    let mut grant =
        proxy("m2", 2, ProxyHolder::SupervisoryBoardChair { person: chair() }, ProxyForm::Electronic);
    if let Command::GrantProxy { instructions, .. } = &mut grant {
        instructions.insert(motion(), Instruction::For);
    }
    let expected = ProxyStatement {
        association: id,
        meeting: alv(),
        proxy: ProxyId::named("m2"),
        grantor: member(2),
        person: rep(2),
        holder: ProxyHolder::SupervisoryBoardChair { person: chair() },
        instructions: BTreeMap::from([(motion(), Instruction::For)]),
        sequence: 2,
    }
    .to_bytes();
    run_checking_signatures(&mut f, |f| signed_with(f, grant, &r2, 2), &[(key_bytes(&r2), expected)]);
    run_checking_signatures(&mut f, |_| proxy("m3", 3, to_member(1), ProxyForm::Paper), &[]);

    // An advance ballot: no poll.
    f.at(ADVANCE);
    let advance = BallotStatement {
        association: id,
        meeting: alv(),
        item: motion(),
        poll: None,
        member: member(1),
        person: rep(1),
        choice: Choice::Against,
        sequence: 2,
    };
    run_checking_signatures(
        &mut f,
        |f| signed_with(f, ballot(1, Choice::Against), &r1, 2),
        &[(key_bytes(&r1), advance.to_bytes())],
    );

    // A ballot in the poll, by the chair holding a proxy, and the chair's declaration.
    f.at("2026-06-10T18:50:00+02:00");
    f.check_in(1);
    f.at(MEETING_STARTS);
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    f.open_poll("p");
    let in_poll = BallotStatement {
        poll: Some(poll("p")),
        member: member(2),
        person: chair(),
        choice: Choice::For,
        ..advance
    };
    run_checking_signatures(
        &mut f,
        |f| signed_with(f, ballot_by(2, chair(), Choice::For), &c, 2),
        &[(key_bytes(&c), in_poll.to_bytes())],
    );
    f.vote(1, Choice::For);
    let r = f.close_poll("p");
    let expected = DeclarationStatement {
        association: id,
        meeting: alv(),
        poll: poll("p"),
        chair: chair(),
        outcome: r.outcome,
        votes_for: r.counts.in_favour,
        votes_against: r.counts.against,
        abstentions: r.counts.abstain,
        sequence: 3,
    };
    assert_eq!((expected.votes_for, expected.votes_against, expected.abstentions), (2, 0, 0));
    run_checking_signatures(
        &mut f,
        |f| signed_with(f, declaration("p", r.outcome), &c, 3),
        &[(key_bytes(&c), expected.to_bytes())],
    );

    // A vote on a resolution outside a meeting.
    f.run(propose_resolution(resolution(), "2026-06-30T17:00:00+02:00"));
    let sequence = last_sequence(&f, &r1) + 1;
    let vote = ResolutionVoteStatement {
        association: id,
        resolution: resolution(),
        member: member(1),
        person: rep(1),
        choice: Choice::Abstain,
        sequence,
    };
    run_checking_signatures(
        &mut f,
        |f| signed_with(f, resolution_vote(1, Choice::Abstain), &r1, sequence),
        &[(key_bytes(&r1), vote.to_bytes())],
    );

    // Facts that carry no author's signature.
    run_checking_signatures(&mut f, |_| Command::CheckOut { meeting: alv(), member: member(1) }, &[]);
}

#[test]
fn signatures_in_gives_the_bytes_the_author_signed_art_17_6() {
    // The client's statement and the core's rebuilt bytes agree, for every kind `statement_for`
    // knows: what the author signs is what the auditor verifies.
    let mut f = advance_voting(2);
    enrol_key(&mut f, rep(1), &key_of(rep(1)), 1);
    let command = ballot(1, Choice::Abstain);
    let statement = statement_of(&f, &command, 2);
    let before = f.state.clone();

    let events = f.run_as_is(signed_with(&f, command, &key_of(rep(1)), 2));

    let [event] = events.as_slice() else { panic!("one event expected") };
    let found = signatures_in(&before, &event.fact);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].bytes, statement.to_bytes());
    assert_eq!(Statement::from_bytes(&found[0].bytes).ok(), Some(statement));
}

// ---- a property ------------------------------------------------------------------------------

/// Ballots in the order cast: (member index, sequence number).
fn sequenced_ballots() -> impl Strategy<Value = Vec<(usize, u64)>> {
    prop::collection::vec((1..=3usize, 0..=12u64), 0..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// R8 (Art. 8.11, 17.6): a signed ballot is accepted exactly when its sequence number is
    /// above every one its key signed before (the enrolment at 1 included); a refusal says so
    /// and changes nothing; the key's last sequence is the highest accepted.
    #[test]
    fn a_ballot_is_accepted_iff_its_sequence_is_above_every_earlier_one_of_its_key_art_8_11(ballots in sequenced_ballots()) {
        let mut f = advance_voting(3);
        let mut last: BTreeMap<usize, u64> = BTreeMap::new();
        for i in 1..=3 {
            enrol_key(&mut f, rep(i), &key_of(rep(i)), 1);
            last.insert(i, 1);
        }
        for (n, (i, sequence)) in ballots.iter().copied().enumerate() {
            let choice = [Choice::For, Choice::Against, Choice::Abstain][n % 3];
            let command = sign(&f.state, ballot(i, choice), &key_of(rep(i)), sequence);
            let before = f.state.clone();
            let highest = last[&i];
            match execute(&mut f.state, command, f.now) {
                Ok(_) => {
                    prop_assert!(sequence > highest, "{sequence} accepted after {highest}");
                    last.insert(i, sequence);
                    prop_assert_eq!(advance_ballot_of(&f, i).map(|b| b.choice), Some(choice));
                }
                Err(v) => {
                    prop_assert!(sequence <= highest, "{sequence} refused after {highest}: {v}");
                    prop_assert_eq!(v.code.as_str(), "signature.replayed");
                    prop_assert_eq!(&f.state, &before);
                }
            }
        }
        for i in 1..=3 {
            prop_assert_eq!(last_sequence(&f, &key_of(rep(i))), last[&i]);
            let signed = advance_ballot_of(&f, i).and_then(|b| b.signed).map(|s| s.sequence);
            prop_assert_eq!(signed.unwrap_or(1), last[&i]);
        }
    }
}
