//! Persons' keys and the signatures on ballots, electronic proxies and declarations over HTTP
//! (R8, Art. 8.11, 17.6): enrolment, rotation and revocation, what a signature must bind, and
//! the receipts that prove an accepted statement is in the log.
//!
//! The register and the meetings are set up through the service directly; every key, ballot,
//! proxy and declaration goes over HTTP, signed in as the person who acts.

use ed25519_dalek::SigningKey;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Choice, Command, Convener, DecisionKind, MeetingId, Mode, MotionSpec,
    PersonId, PollId,
};
use stembus::ledger::author::{self, key_bytes, scenario_key};
use stembus::ledger::canonical::{BallotStatement, KeyAction, KeyStatement, Statement};

use crate::api_test;
use crate::polls::{email, execute, member, register, rep};
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop, key_named, signature_json, tree_head};

const CHAIR: &str = "voorzitter@rvc.example";
const R8: Option<(&str, &str)> = Some(("R8", "8.11, 17.6"));

fn keys_of(person: PersonId) -> String {
    format!("/associations/coop/persons/{person}/keys")
}

pub(crate) fn ballots(meeting: &str, item: &str) -> String {
    format!("/associations/coop/meetings/{meeting}/agenda-items/{item}/ballots")
}

fn polls(meeting: &str) -> String {
    format!("/associations/coop/meetings/{meeting}/polls")
}

/// Three municipalities, each with a portfolio holder `p{i}`, and the chair of the supervisory
/// board; the meetings `alv` (10 June 2026, items `a` and `b`) and `alv-2` (24 June, item `c`),
/// both convened on 20 May with advance electronic voting. The clock stands at 20 May.
fn association(app: &TestApp) {
    register(app, 3);
    app.at("2026-05-20T10:00:00+02:00");
    for (meeting, day, items) in [
        ("alv", "2026-06-10T19:00:00+02:00", &["a", "b"][..]),
        ("alv-2", "2026-06-24T19:00:00+02:00", &["c"][..]),
    ] {
        execute(
            app,
            Command::CreateMeeting {
                meeting: MeetingId::named(meeting),
                title: format!("ALV {meeting}"),
                starts_at: crate::support::t(day),
                place: "Enschede".into(),
                agenda: items
                    .iter()
                    .map(|item| AgendaItemSpec {
                        item: AgendaItemId::named(item),
                        title: format!("Item {item}"),
                        motion: Some(MotionSpec {
                            text: format!("Motion {item}."),
                            kind: DecisionKind::Ordinary,
                            proposal: None,
                            board_proposal_approved: false,
                        }),
                        carried_from: None,
                        concerns_member: None,
                        annual_accounts: false,
                    })
                    .collect(),
                follow_up_of: None,
                request: None,
            },
        );
        execute(
            app,
            Command::ConveneMeeting {
                meeting: MeetingId::named(meeting),
                by: Convener::Board,
                advance_voting: true,
                electronic_participation: None,
            },
        );
    }
}

/// The association, with `alv` open and every member present, and an electronic poll `pa` open
/// on item `a`; returns the chair's token.
pub(crate) fn poll_open(app: &TestApp) -> String {
    association(app);
    app.at("2026-06-10T18:50:00+02:00");
    for i in 1..=3 {
        execute(
            app,
            Command::CheckIn {
                meeting: MeetingId::named("alv"),
                member: member(i),
                person: rep(i),
                mode: Mode::InPerson,
            },
        );
    }
    app.at("2026-06-10T19:00:00+02:00");
    execute(
        app,
        Command::OpenMeeting {
            meeting: MeetingId::named("alv"),
            chair: PersonId::named("chair"),
            appointed_by_meeting: false,
        },
    );
    let chair = app.sign_in(CHAIR);
    open_poll(app, &chair, "pa", "a");
    chair
}

/// The chair opens an electronic poll `id` on `item` of `alv`.
fn open_poll(app: &TestApp, chair: &str, id: &str, item: &str) {
    let poll = json!({"id": id, "item": item, "method": "electronic"});
    app.ok(Method::POST, &polls("alv"), chair, Some(poll), StatusCode::CREATED);
}

/// The ballot statement of `p{i}` for member `i` with `choice`, as signed for `meeting`, `item`
/// and `poll`, whatever the state.
fn ballot_statement(
    meeting: &str,
    item: &str,
    poll: Option<&str>,
    i: usize,
    choice: Choice,
    sequence: u64,
) -> Statement {
    Statement::Ballot(BallotStatement {
        association: coop(),
        meeting: MeetingId::named(meeting),
        item: AgendaItemId::named(item),
        poll: poll.map(PollId::named),
        member: member(i),
        person: rep(i),
        choice,
        sequence,
    })
}

/// The ballot of the owner of `key` for member `i` on item `a` of `alv`, signed; it must be
/// accepted.
fn cast(app: &TestApp, token: &str, key: &SigningKey, i: usize, choice: &str) -> Value {
    let ballot = app.signed_ballot(key, "alv", "a", &member(i).to_string(), choice);
    app.ok(Method::POST, &ballots("alv", "a"), token, Some(ballot), StatusCode::CREATED)
}

fn ballot_body(i: usize, choice: &str, signature: Value) -> Value {
    json!({"member": member(i).to_string(), "choice": choice, "signature": signature})
}

/// The statement by which `person` revokes `key`, signed by it at `sequence`: the body of the DELETE.
fn revocation(person: PersonId, key: &SigningKey, sequence: u64) -> Value {
    let statement = Statement::Key(KeyStatement {
        association: coop(),
        person,
        public_key: key_bytes(key).0,
        action: KeyAction::Revoke,
        sequence,
    });
    let signed = signature_json(key, sequence, &statement);
    json!({"sequence": sequence, "signature": signed["signature"]})
}

fn key_path(person: PersonId, key: &SigningKey) -> String {
    format!("{}/{}", keys_of(person), key_bytes(key).to_hex())
}

// ---- Ballots must be signed by their caster's current key --------------------------------------

api_test!(an_unsigned_ballot_is_refused_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let unsigned =
        app.post(&ballots("alv", "a"), &p1, json!({"member": member(1).to_string(), "choice": "for"}));
    assert_problem(&unsigned, StatusCode::UNPROCESSABLE_ENTITY, "ballot.unsigned", R8);

    // Signed by a key nobody enrolled: the caster has no key.
    let stray = key_named("stray");
    let signature = signature_json(&stray, 1, &ballot_statement("alv", "a", Some("pa"), 1, Choice::For, 1));
    let no_key = app.post(&ballots("alv", "a"), &p1, ballot_body(1, "for", signature));
    assert_problem(&no_key, StatusCode::UNPROCESSABLE_ENTITY, "signature.no_key", R8);

    // Signed by another person's key.
    let p2 = app.sign_in(&email(2));
    let other = app.enrol(&p2, rep(2));
    app.enrol(&p1, rep(1));
    let signature = signature_json(&other, 2, &ballot_statement("alv", "a", Some("pa"), 1, Choice::For, 2));
    let wrong = app.post(&ballots("alv", "a"), &p1, ballot_body(1, "for", signature));
    assert_problem(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "signature.wrong_key", R8);

    let chair = app.sign_in(CHAIR);
    let (_, poll) = app.get(&format!("{}/pa", polls("alv")), &chair);
    assert_eq!(poll["ballots"], 0, "refused ballots leave no trace");

    let key = app.signer(&p1, rep(1));
    let accepted = cast(&app, &p1, &key, 1, "for");
    assert_eq!(accepted["choice"], "for");
    app.verify_receipt(&accepted["log_receipt"]);
});

api_test!(a_ballot_signed_for_another_poll_or_meeting_or_choice_is_refused_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let key = app.enrol(&p1, rep(1));
    let sequence = app.next_sequence(&key);
    // Each signature is fresh and by the caster's current key; only what it binds differs.
    let cases = [
        ("another poll", ballot_statement("alv", "a", Some("pb"), 1, Choice::For, sequence)),
        ("another item", ballot_statement("alv", "b", Some("pa"), 1, Choice::For, sequence)),
        ("another meeting", ballot_statement("alv-2", "a", Some("pa"), 1, Choice::For, sequence)),
        ("an advance ballot", ballot_statement("alv", "a", None, 1, Choice::For, sequence)),
        ("another choice", ballot_statement("alv", "a", Some("pa"), 1, Choice::Against, sequence)),
    ];
    for (what, statement) in cases {
        let refused = app.post(
            &ballots("alv", "a"),
            &p1,
            ballot_body(1, "for", signature_json(&key, sequence, &statement)),
        );
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.invalid", R8);
        assert!(
            refused.1["detail"].as_str().is_some_and(|d| d.contains("does not verify")),
            "{what}: {}",
            refused.1
        );
    }

    // A ballot signed in the other meeting's advance window cannot be carried to this meeting.
    let advance = app.signed_ballot(&key, "alv-2", "c", &member(1).to_string(), "for");
    let moved = app.post(&ballots("alv", "a"), &p1, advance.clone());
    assert_problem(&moved, StatusCode::UNPROCESSABLE_ENTITY, "signature.invalid", R8);
    let cast = app.ok(Method::POST, &ballots("alv-2", "c"), &p1, Some(advance), StatusCode::CREATED);
    assert_eq!(cast["via"], "advance");

    // Nor one signed for this meeting's poll on another item.
    let on_a = app.signed_ballot(&key, "alv", "a", &member(1).to_string(), "for");
    let chair = app.sign_in(CHAIR);
    open_poll(&app, &chair, "pb", "b");
    let crossed = app.post(&ballots("alv", "b"), &p1, on_a.clone());
    assert_problem(&crossed, StatusCode::UNPROCESSABLE_ENTITY, "signature.invalid", R8);
    app.ok(Method::POST, &ballots("alv", "a"), &p1, Some(on_a), StatusCode::CREATED);
});

/// The size of the meeting `alv`'s log as last signed.
pub(crate) fn alv_log_size(app: &TestApp, token: &str) -> u64 {
    let (status, head) = app.get("/associations/coop/meetings/alv/log/head", token);
    assert_eq!(status, StatusCode::OK, "{head}");
    head["size"].as_u64().unwrap_or_else(|| panic!("no size in {head}"))
}

/// The number of ballots in poll `pa` so far.
fn ballots_in_pa(app: &TestApp, token: &str) -> u64 {
    let (_, poll) = app.get(&format!("{}/pa", polls("alv")), token);
    poll["ballots"].as_u64().unwrap_or_else(|| panic!("no ballots in {poll}"))
}

api_test!(an_identical_retry_gets_the_recorded_ballot_and_a_used_sequence_number_stays_refused_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let key = app.enrol(&p1, rep(1));
    let first = app.signed_ballot(&key, "alv", "a", &member(1).to_string(), "against");
    let recorded = app.ok(Method::POST, &ballots("alv", "a"), &p1, Some(first.clone()), StatusCode::CREATED);
    assert_eq!(recorded["already_recorded"], false, "{recorded}");
    let size = alv_log_size(&app, &p1);

    // The same signed ballot sent again, later (a client retrying after an answer that never
    // came), is answered with the ballot as recorded the first time; nothing is stored again.
    app.at("2026-06-10T19:20:00+02:00");
    let again = app.ok(Method::POST, &ballots("alv", "a"), &p1, Some(first.clone()), StatusCode::OK);
    assert_eq!(again["already_recorded"], true, "{again}");
    for field in ["seq", "stream_index", "cast_at", "poll", "member", "person", "choice", "via"] {
        assert_eq!(again[field], recorded[field], "{field}: {again} / {recorded}");
    }
    assert_eq!(again["log_receipt"]["leaf_index"], recorded["log_receipt"]["leaf_index"]);
    assert_eq!(again["log_receipt"]["leaf_hash"], recorded["log_receipt"]["leaf_hash"]);
    app.verify_receipt(&again["log_receipt"]);
    assert_eq!(alv_log_size(&app, &p1), size, "the retry added nothing to the log");
    assert_eq!(ballots_in_pa(&app, &p1), 1);

    // A different ballot with a used sequence number is a replay: another choice under the
    // same signature, or a new signature over another choice with the same or an older number.
    let last = first["signature"]["sequence"].as_u64().unwrap_or_default();
    let mut tampered = first.clone();
    tampered["choice"] = json!("for");
    let refused = app.post(&ballots("alv", "a"), &p1, tampered);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.replayed", R8);
    let command = Command::CastBallot {
        meeting: MeetingId::named("alv"),
        item: AgendaItemId::named("a"),
        member: member(1),
        person: rep(1),
        choice: Choice::For,
        signed: None,
    };
    for sequence in [last, last - 1, 0] {
        let stale = ballot_body(1, "for", app.signature_at(&command, &key, sequence));
        let refused = app.post(&ballots("alv", "a"), &p1, stale);
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.replayed", R8);
    }
    // Another member's representative cannot pass the ballot off as a retry of their own.
    let p2 = app.sign_in(&email(2));
    let borrowed = app.post(&ballots("alv", "a"), &p2, first.clone());
    assert!(borrowed.0.is_client_error(), "{borrowed:?}");
    let (_, keys) = app.get(&keys_of(rep(1)), &p1);
    assert_eq!(keys[0]["last_sequence"], last);

    // A fresh sequence number replaces the ballot, and skipping numbers is allowed.
    let later = ballot_body(1, "for", app.signature_at(&command, &key, last + 10));
    app.ok(Method::POST, &ballots("alv", "a"), &p1, Some(later), StatusCode::CREATED);
    // The first ballot retried now is still answered with its record: it is in the log, though
    // the later ballot is the one that counts.
    let replaced = app.ok(Method::POST, &ballots("alv", "a"), &p1, Some(first), StatusCode::OK);
    assert_eq!(
        (replaced["seq"].clone(), replaced["choice"].clone()),
        (recorded["seq"].clone(), json!("against"))
    );
    let chair = app.sign_in(CHAIR);
    let closed = app.ok(Method::POST, &format!("{}/pa/closing", polls("alv")), &chair, None, StatusCode::OK);
    assert_eq!(closed["result"]["counts"]["for"], 1);
    assert_eq!(closed["result"]["counts"]["against"], 0);
});

api_test!(identical_ballots_sent_at_once_are_stored_once_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let key = app.enrol(&p1, rep(1));
    let body = app.signed_ballot(&key, "alv", "a", &member(1).to_string(), "for");
    let size = alv_log_size(&app, &p1);
    // The client sends its ballot, times out and sends it again while the first is still being
    // stored: every copy is answered with the one ballot the log holds.
    const COPIES: usize = 6;
    let barrier = std::sync::Barrier::new(COPIES);
    let answers: Vec<(StatusCode, Value)> = std::thread::scope(|scope| {
        let sends: Vec<_> = (0..COPIES)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    app.post(&ballots("alv", "a"), &p1, body.clone())
                })
            })
            .collect();
        sends.into_iter().map(|s| s.join().unwrap_or_else(|_| panic!("a sender panicked"))).collect()
    });
    let created = answers.iter().filter(|(status, _)| *status == StatusCode::CREATED).count();
    let retried = answers
        .iter()
        .filter(|(status, a)| *status == StatusCode::OK && a["already_recorded"] == true)
        .count();
    assert_eq!((created, retried), (1, COPIES - 1), "{answers:?}");
    let seqs: std::collections::BTreeSet<String> =
        answers.iter().map(|(_, a)| a["seq"].to_string()).collect();
    assert_eq!(seqs.len(), 1, "{answers:?}");
    assert_eq!(alv_log_size(&app, &p1), size + 1);
    assert_eq!(ballots_in_pa(&app, &p1), 1);
});

// ---- Enrolment, rotation and revocation ----------------------------------------------------------

api_test!(a_person_enrols_their_key_and_everyone_in_the_association_reads_it, |app| {
    association(&app);
    let p1 = app.sign_in(&email(1));
    let key = scenario_key(rep(1));
    let (status, enrolled) = app.enrol_key(&p1, rep(1), &key);
    assert_eq!(status, StatusCode::CREATED, "{enrolled}");
    assert_eq!(enrolled["key"], key_bytes(&key).to_hex());
    assert_eq!(enrolled["status"], "current");
    assert_eq!(enrolled["enrolled_at"], "2026-05-20T08:00:00Z");
    assert!(enrolled["retired_at"].is_null());
    assert_eq!(enrolled["last_sequence"], 1);
    // The enrolment is in the association's log.
    let head = app.verify_receipt(&enrolled["log_receipt"]);
    assert!(head.head.meeting.is_none());

    let p2 = app.sign_in(&email(2));
    let (status, keys) = app.get(&keys_of(rep(1)), &p2);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(keys.as_array().map(Vec::len), Some(1));
    assert_eq!(keys[0]["key"], enrolled["key"]);
    assert!(keys[0].get("log_receipt").is_none(), "{keys}");
    let (_, none) = app.get(&keys_of(rep(2)), &p1);
    assert_eq!(none, json!([]));
    assert_problem(
        &app.get(&keys_of(PersonId::named("nobody")), &p1),
        StatusCode::NOT_FOUND,
        "person.unknown",
        None,
    );

    // A person has one current key; a key is enrolled once, by one person.
    let twice = app.enrol_key(&p1, rep(1), &key_named("second"));
    assert_problem(&twice, StatusCode::UNPROCESSABLE_ENTITY, "key.already_enrolled", R8);
    let taken = app.enrol_key(&p2, rep(2), &key);
    assert_problem(&taken, StatusCode::UNPROCESSABLE_ENTITY, "key.reused", R8);

    // The proof of possession must be the key's own signature over its statement.
    let mine = key_named("p2");
    let command = app.state(|s| author::enrol(s, rep(2), &key_named("not p2"), 1));
    let Command::EnrolKey { signature, .. } = command else { panic!("{command:?}") };
    let forged = app.post(
        &keys_of(rep(2)),
        &p2,
        json!({"key": key_bytes(&mine).to_hex(), "sequence": 1, "signature": signature}),
    );
    assert_problem(&forged, StatusCode::UNPROCESSABLE_ENTITY, "signature.invalid", R8);
    let malformed =
        app.post(&keys_of(rep(2)), &p2, json!({"key": "abc", "sequence": 1, "signature": signature}));
    assert_problem(&malformed, StatusCode::BAD_REQUEST, "request.invalid_json", None);
    let (status, _) = app.enrol_key(&p2, rep(2), &mine);
    assert_eq!(status, StatusCode::CREATED);
});

api_test!(only_the_person_enrols_their_key_and_the_secretariat_revokes_a_lost_one, |app| {
    association(&app);
    let p1 = app.sign_in(&email(1));
    let p2 = app.sign_in(&email(2));
    let secretariat = app.sign_in(SECRETARIAT);
    let key = scenario_key(rep(1));

    // Nobody enrols a key for someone else, not even the secretariat.
    assert_problem(&app.enrol_key(&p2, rep(1), &key), StatusCode::FORBIDDEN, "access.not_the_person", None);
    assert_problem(
        &app.enrol_key(&secretariat, rep(1), &key),
        StatusCode::FORBIDDEN,
        "access.not_the_person",
        None,
    );
    let (_, keys) = app.get(&keys_of(rep(1)), &p1);
    assert_eq!(keys, json!([]));
    app.enrol(&p1, rep(1));

    // Revoking without the key's signature is the secretariat's, for a lost key.
    let path = key_path(rep(1), &key);
    assert_problem(&app.delete(&path, &p1), StatusCode::FORBIDDEN, "access.role_required", None);
    // Another voter cannot revoke it, even with a signature the holder made.
    let signed = revocation(rep(1), &key, 2);
    let foreign = app.call(Method::DELETE, &path, Some(&p2), Some(signed));
    assert_problem(&foreign, StatusCode::FORBIDDEN, "access.not_the_person", None);
    let half = app.call(Method::DELETE, &path, Some(&p1), Some(json!({"sequence": 2})));
    assert_problem(&half, StatusCode::UNPROCESSABLE_ENTITY, "request.signature_incomplete", None);

    app.at("2026-05-21T09:00:00+02:00");
    let secretariat = app.sign_in(SECRETARIAT);
    let revoked = app.ok(Method::DELETE, &path, &secretariat, None, StatusCode::OK);
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["retired_at"], "2026-05-21T07:00:00Z");
    app.verify_receipt(&revoked["log_receipt"]);
    let again = app.delete(&path, &secretariat);
    assert_problem(&again, StatusCode::UNPROCESSABLE_ENTITY, "key.already_retired", R8);
    let unknown = app.delete(&key_path(rep(1), &key_named("never")), &secretariat);
    assert_problem(&unknown, StatusCode::NOT_FOUND, "key.unknown", R8);
    let not_hex = app.delete(&format!("{}/zz", keys_of(rep(1))), &secretariat);
    assert_problem(&not_hex, StatusCode::NOT_FOUND, "route.invalid_id", None);

    // What the lost key signs now is refused; the person enrols a new key (not the old one).
    let p1 = app.sign_in(&email(1));
    let advance = Statement::Ballot(BallotStatement {
        association: coop(),
        meeting: MeetingId::named("alv"),
        item: AgendaItemId::named("a"),
        poll: None,
        member: member(1),
        person: rep(1),
        choice: Choice::For,
        sequence: 5,
    });
    let stolen =
        app.post(&ballots("alv", "a"), &p1, ballot_body(1, "for", signature_json(&key, 5, &advance)));
    assert_problem(&stolen, StatusCode::UNPROCESSABLE_ENTITY, "signature.key_revoked", R8);
    assert_problem(&app.enrol_key(&p1, rep(1), &key), StatusCode::UNPROCESSABLE_ENTITY, "key.reused", R8);
    let new = key_named("p1 new");
    let (status, _) = app.enrol_key(&p1, rep(1), &new);
    assert_eq!(status, StatusCode::CREATED);
    cast(&app, &p1, &new, 1, "for");
    let (_, keys) = app.get(&keys_of(rep(1)), &secretariat);
    let statuses: Vec<&str> =
        keys.as_array().into_iter().flatten().filter_map(|k| k["status"].as_str()).collect();
    assert_eq!(statuses, ["revoked", "current"]);

    // Nobody of another association reads them.
    let other = app.other_association();
    for path in [keys_of(rep(1)), "/associations/coop/log/head".to_owned()] {
        assert_problem(&app.get(&path, &other), StatusCode::FORBIDDEN, "access.other_association", None);
    }
});

api_test!(a_ballot_signed_with_a_revoked_key_is_refused_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let key = app.enrol(&p1, rep(1));
    let before = app.signed_ballot(&key, "alv", "a", &member(1).to_string(), "for");

    // The holder revokes their own key with its signature.
    let sequence = app.next_sequence(&key);
    let revoked = app.ok(
        Method::DELETE,
        &key_path(rep(1), &key),
        &p1,
        Some(revocation(rep(1), &key, sequence)),
        StatusCode::OK,
    );
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["last_sequence"], sequence);

    let refused = app.post(&ballots("alv", "a"), &p1, before);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.key_revoked", R8);
    let fresh = ballot_body(
        1,
        "for",
        signature_json(
            &key,
            sequence + 1,
            &ballot_statement("alv", "a", Some("pa"), 1, Choice::For, sequence + 1),
        ),
    );
    let refused = app.post(&ballots("alv", "a"), &p1, fresh);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.key_revoked", R8);
    let chair = app.sign_in(CHAIR);
    let (_, poll) = app.get(&format!("{}/pa", polls("alv")), &chair);
    assert_eq!(poll["ballots"], 0);
});

api_test!(after_rotation_the_old_key_is_refused_and_the_new_one_counts_r8, |app| {
    poll_open(&app);
    let p1 = app.sign_in(&email(1));
    let old = app.enrol(&p1, rep(1));
    let new = key_named("p1 rotated");
    let signed_before = app.signed_ballot(&old, "alv", "a", &member(1).to_string(), "against");

    let sequence = app.next_sequence(&old);
    let command = app.state(|s| author::rotate(s, rep(1), &old, &new, sequence));
    let Command::RotateKey { key, sequence, signature, new_key_signature, .. } = command else {
        panic!("{command:?}")
    };
    let body = json!({"key": key, "sequence": sequence, "signature": signature, "new_key_signature": new_key_signature});
    let rotation = format!("{}/rotation", keys_of(rep(1)));
    // Only the person rotates their key; both signatures must verify.
    let p2 = app.sign_in(&email(2));
    assert_problem(
        &app.post(&rotation, &p2, body.clone()),
        StatusCode::FORBIDDEN,
        "access.not_the_person",
        None,
    );
    let mut forged = body.clone();
    forged["new_key_signature"] = body["signature"].clone();
    assert_problem(
        &app.post(&rotation, &p1, forged),
        StatusCode::UNPROCESSABLE_ENTITY,
        "signature.invalid",
        R8,
    );

    let rotated = app.ok(Method::POST, &rotation, &p1, Some(body.clone()), StatusCode::CREATED);
    assert_eq!(rotated["key"], key_bytes(&new).to_hex());
    assert_eq!(rotated["status"], "current");
    app.verify_receipt(&rotated["log_receipt"]);
    assert_problem(&app.post(&rotation, &p1, body), StatusCode::UNPROCESSABLE_ENTITY, "key.reused", R8);
    let (_, keys) = app.get(&keys_of(rep(1)), &p1);
    let listed: Vec<(&str, &str)> = keys
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| Some((k["key"].as_str()?, k["status"].as_str()?)))
        .collect();
    let (old_hex, new_hex) = (key_bytes(&old).to_hex(), key_bytes(&new).to_hex());
    assert_eq!(listed, [(old_hex.as_str(), "rotated"), (new_hex.as_str(), "current")]);
    assert!(keys[0]["retired_at"].is_string());

    // A ballot the old key signed before the rotation, or signs after it, is refused.
    let refused = app.post(&ballots("alv", "a"), &p1, signed_before);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.key_rotated", R8);
    let command = Command::CastBallot {
        meeting: MeetingId::named("alv"),
        item: AgendaItemId::named("a"),
        member: member(1),
        person: rep(1),
        choice: Choice::Against,
        signed: None,
    };
    let after = ballot_body(1, "against", app.signature_at(&command, &old, 100));
    let refused = app.post(&ballots("alv", "a"), &p1, after);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.key_rotated", R8);
    // A rotated key cannot be revoked any more; the new key signs.
    let retired = app.delete(&key_path(rep(1), &old), &app.sign_in(SECRETARIAT));
    assert_problem(&retired, StatusCode::UNPROCESSABLE_ENTITY, "key.already_retired", R8);
    assert_eq!(cast(&app, &p1, &new, 1, "for")["choice"], "for");
});

// ---- Receipts for proxies, declarations and keys ---------------------------------------------------

api_test!(proxy_and_declaration_answers_carry_receipts_that_verify_r8, |app| {
    association(&app);
    app.at("2026-06-01T12:00:00+02:00");
    let p2 = app.sign_in(&email(2));
    let key = app.enrol(&p2, rep(2));
    let proxy = json!({"id": "p2", "grantor": member(2).to_string(), "holder": {"holder": "member", "member": member(1).to_string()},
                       "instructions": {"a": "for"}});
    let proxies = "/associations/coop/meetings/alv/proxies";

    // An electronic proxy is signed, and its signature covers the proxy's id: no id, no proxy.
    assert_problem(
        &app.post(proxies, &p2, proxy.clone()),
        StatusCode::UNPROCESSABLE_ENTITY,
        "proxy.unsigned",
        R8,
    );
    let mut nameless = app.signed_proxy(&key, "alv", proxy.clone());
    nameless.as_object_mut().map(|o| o.remove("id"));
    let refused = app.post(proxies, &p2, nameless);
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "request.proxy_id_missing", None);
    assert!(refused.1["detail"].as_str().is_some_and(|d| d.contains("`id`")), "{}", refused.1);
    // Its instructions are signed too.
    let mut changed = app.signed_proxy(&key, "alv", proxy.clone());
    changed["instructions"] = json!({"a": "against"});
    assert_problem(
        &app.post(proxies, &p2, changed),
        StatusCode::UNPROCESSABLE_ENTITY,
        "signature.invalid",
        R8,
    );

    let granted =
        app.ok(Method::POST, proxies, &p2, Some(app.signed_proxy(&key, "alv", proxy)), StatusCode::CREATED);
    assert_eq!(granted["form"], "electronic");
    let head = app.verify_receipt(&granted["log_receipt"]);
    assert_eq!(head.head.meeting, Some(MeetingId::named("alv")));
    let (_, list) = app.get(proxies, &p2);
    assert!(list[0].get("log_receipt").is_none(), "{list}");

    // The meeting: member 1 holds member 2's proxy and votes for both.
    app.at("2026-06-10T18:50:00+02:00");
    let p1 = app.sign_in(&email(1));
    for m in [1, 2] {
        app.ok(
            Method::POST,
            "/associations/coop/meetings/alv/attendance",
            &p1,
            Some(json!({"member": member(m).to_string(), "mode": "in_person"})),
            StatusCode::CREATED,
        );
    }
    app.at("2026-06-10T19:00:00+02:00");
    let chair = app.sign_in(CHAIR);
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &chair, None, StatusCode::OK);
    open_poll(&app, &chair, "pa", "a");
    let voter = app.enrol(&p1, rep(1));
    for m in [1, 2] {
        app.verify_receipt(&cast(&app, &p1, &voter, m, "for")["log_receipt"]);
    }
    app.ok(Method::POST, &format!("{}/pa/closing", polls("alv")), &chair, None, StatusCode::OK);

    // The chair signs the declaration, which binds the outcome and the counts.
    let declaration = format!("{}/pa/declaration", polls("alv"));
    let unsigned = app.post(&declaration, &chair, json!({"outcome": "adopted"}));
    assert_problem(&unsigned, StatusCode::UNPROCESSABLE_ENTITY, "declaration.unsigned", R8);
    let chair_key = app.enrol(&chair, PersonId::named("chair"));
    let by_voter = app.signed_declaration(&voter, "alv", "pa", "adopted");
    assert_problem(
        &app.post(&declaration, &chair, by_voter),
        StatusCode::UNPROCESSABLE_ENTITY,
        "signature.wrong_key",
        R8,
    );
    let declared = app.ok(
        Method::POST,
        &declaration,
        &chair,
        Some(app.signed_declaration(&chair_key, "alv", "pa", "adopted")),
        StatusCode::OK,
    );
    assert_eq!(declared["declaration"]["outcome"], "adopted");
    let declared_head = app.verify_receipt(&declared["log_receipt"]);
    assert!(declared_head.head.size > head.head.size);
    let (_, read_back) = app.get(&format!("{}/pa", polls("alv")), &p1);
    assert!(read_back.get("log_receipt").is_none(), "{read_back}");

    // The meeting's log proves that the head kept with the proxy's receipt is a prefix of the latest.
    app.verify_consistency("/associations/coop/meetings/alv/log", &p1, &head, &declared_head);
});

api_test!(the_association_log_serves_heads_receipts_and_consistency_for_key_events, |app| {
    association(&app);
    let p1 = app.sign_in(&email(1));
    let (_, first) = app.enrol_key(&p1, rep(1), &scenario_key(rep(1)));
    let first_head = app.verify_receipt(&first["log_receipt"]);
    let index = first["log_receipt"]["leaf_index"].as_u64().unwrap_or(u64::MAX);

    let p2 = app.sign_in(&email(2));
    let (_, second) = app.enrol_key(&p2, rep(2), &scenario_key(rep(2)));
    let second_index = second["log_receipt"]["leaf_index"].as_u64().unwrap_or_default();
    assert_eq!(second_index, index + 1);

    // Any signed-in person of the association reads the association's log.
    let (status, latest) = app.get("/associations/coop/log/head", &p2);
    assert_eq!(status, StatusCode::OK, "{latest}");
    assert!(latest["meeting"].is_null(), "{latest}");
    let latest = tree_head(&latest);
    assert_eq!(latest.verify(&app.service_key()), Ok(()));
    assert_eq!(latest.head.size, second_index + 1);

    // A receipt asked later for the first enrolment proves it against the latest head.
    let (status, receipt) = app.get(&format!("/associations/coop/log/entries/{index}/receipt"), &p2);
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["leaf_hash"], first["log_receipt"]["leaf_hash"]);
    assert_eq!(app.verify_receipt(&receipt), latest);
    let beyond = app.get(&format!("/associations/coop/log/entries/{}/receipt", latest.head.size), &p2);
    assert_problem(&beyond, StatusCode::NOT_FOUND, "log.no_proof", None);

    let consistency = app.verify_consistency("/associations/coop/log", &p1, &first_head, &latest);
    assert_eq!(tree_head(&consistency["from"]), first_head);
    let missing = app.get("/associations/coop/log/consistency", &p1);
    assert_problem(&missing, StatusCode::BAD_REQUEST, "request.invalid_query", None);
});
