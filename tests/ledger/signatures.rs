//! Canonical statement bytes and strict Ed25519 signatures: the published v1 vectors
//! (tests/vectors/encoding-v1.json, made by an independent implementation of docs/encoding.md),
//! tampering, replay into another context, non-canonical input, the C2SP Ed25519 edge cases,
//! batch verification and the replay guard.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use serde_json::Value;
use stembus::core::ids::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, ResolutionId,
};
use stembus::core::{Choice, Instruction, Outcome, ProxyHolder};
use stembus::ledger::canonical::{
    BallotStatement, DeclarationStatement, EncodingError, KeyAction, KeyStatement, ProxyStatement,
    ResolutionVoteStatement, Statement, StatementKind,
};
use stembus::ledger::signature::{
    AdmitError, BatchItem, PublicKey, PublicKeyError, SequenceError, SequenceGuard, SignatureError, sign,
    verify, verify_batch,
};

// ---------------------------------------------------------------------------------------------
// Helpers

fn vectors_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

fn load_json(relative: &str) -> Value {
    let path = vectors_dir().join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex {text:?}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or_else(|e| panic!("hex {text:?}: {e}")))
        .collect()
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.try_into().unwrap_or_else(|_| panic!("expected {N} bytes, got {}", bytes.len()))
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn number(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} is not a u64 in {v}"))
}

fn id<T: std::str::FromStr>(v: &Value, key: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text(v, key).parse().unwrap_or_else(|e| panic!("{key}: {e}"))
}

fn choice(name: &str) -> Choice {
    match name {
        "for" => Choice::For,
        "against" => Choice::Against,
        "abstain" => Choice::Abstain,
        other => panic!("choice {other}"),
    }
}

fn instruction(name: &str) -> Instruction {
    match name {
        "for" => Instruction::For,
        "against" => Instruction::Against,
        "abstain" => Instruction::Abstain,
        "free" => Instruction::Free,
        other => panic!("instruction {other}"),
    }
}

fn outcome(name: &str) -> Outcome {
    match name {
        "adopted" => Outcome::Adopted,
        "rejected" => Outcome::Rejected,
        "no_quorum" => Outcome::NoQuorum,
        other => panic!("outcome {other}"),
    }
}

fn key_action(name: &str) -> KeyAction {
    match name {
        "enrol" => KeyAction::Enrol,
        "rotate" => KeyAction::Rotate,
        "revoke" => KeyAction::Revoke,
        other => panic!("key action {other}"),
    }
}

fn holder(v: &Value) -> ProxyHolder {
    match text(v, "holder") {
        "member" => ProxyHolder::Member { member: id(v, "member") },
        "connected_person" => ProxyHolder::ConnectedPerson { person: id(v, "person") },
        "supervisory_board_chair" => ProxyHolder::SupervisoryBoardChair { person: id(v, "person") },
        "notary" => ProxyHolder::Notary { person: id(v, "person") },
        "lawyer" => ProxyHolder::Lawyer { person: id(v, "person") },
        other => panic!("holder {other}"),
    }
}

/// The statement a vector's fields describe, built by hand (not by parsing its bytes).
fn statement_of(kind: &str, f: &Value) -> Statement {
    match kind {
        "ballot" => Statement::Ballot(BallotStatement {
            association: id(f, "association"),
            meeting: id(f, "meeting"),
            item: id(f, "item"),
            poll: if f["poll"].is_null() { None } else { Some(id(f, "poll")) },
            member: id(f, "member"),
            person: id(f, "person"),
            choice: choice(text(f, "choice")),
            sequence: number(f, "sequence"),
        }),
        "proxy" => {
            let entries = f["instructions"].as_array().unwrap_or_else(|| panic!("instructions in {f}"));
            let instructions: BTreeMap<AgendaItemId, Instruction> = entries
                .iter()
                .map(|pair| {
                    let item = pair[0].as_str().unwrap_or_else(|| panic!("item in {pair}"));
                    let what = pair[1].as_str().unwrap_or_else(|| panic!("instruction in {pair}"));
                    (item.parse().unwrap_or_else(|e| panic!("{e}")), instruction(what))
                })
                .collect();
            assert_eq!(instructions.len(), entries.len(), "no duplicate items in {f}");
            Statement::Proxy(ProxyStatement {
                association: id(f, "association"),
                meeting: id(f, "meeting"),
                proxy: id(f, "proxy"),
                grantor: id(f, "grantor"),
                person: id(f, "person"),
                holder: holder(&f["holder"]),
                instructions,
                sequence: number(f, "sequence"),
            })
        }
        "declaration" => Statement::Declaration(DeclarationStatement {
            association: id(f, "association"),
            meeting: id(f, "meeting"),
            poll: id(f, "poll"),
            chair: id(f, "chair"),
            outcome: outcome(text(f, "outcome")),
            votes_for: number(f, "for"),
            votes_against: number(f, "against"),
            abstentions: number(f, "abstain"),
            sequence: number(f, "sequence"),
        }),
        "key" => Statement::Key(KeyStatement {
            association: id(f, "association"),
            person: id(f, "person"),
            public_key: array(&unhex(text(f, "public_key"))),
            action: key_action(text(f, "action")),
            sequence: number(f, "sequence"),
        }),
        "resolution-vote" => Statement::ResolutionVote(ResolutionVoteStatement {
            association: id(f, "association"),
            resolution: id(f, "resolution"),
            member: id(f, "member"),
            person: id(f, "person"),
            choice: choice(text(f, "choice")),
            sequence: number(f, "sequence"),
        }),
        other => panic!("statement kind {other}"),
    }
}

fn key_of_seed(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn ballot() -> BallotStatement {
    BallotStatement {
        association: AssociationId::named("dimpact"),
        meeting: MeetingId::named("alv-2024-12-11"),
        item: AgendaItemId::named("jaarrekening-2023"),
        poll: Some(PollId::named("jaarrekening-2023-1")),
        member: MemberId::named("raalte"),
        person: PersonId::named("j-jansen"),
        choice: Choice::For,
        sequence: 1,
    }
}

fn resolution_vote() -> ResolutionVoteStatement {
    ResolutionVoteStatement {
        association: AssociationId::named("dimpact"),
        resolution: ResolutionId::named("contributie-2027"),
        member: MemberId::named("raalte"),
        person: PersonId::named("j-jansen"),
        choice: Choice::For,
        sequence: 4,
    }
}

fn proxy() -> ProxyStatement {
    ProxyStatement {
        association: AssociationId::named("dimpact"),
        meeting: MeetingId::named("alv-2024-12-11"),
        proxy: ProxyId::named("deventer-2024"),
        grantor: MemberId::named("deventer"),
        person: PersonId::named("p-de-boer"),
        holder: ProxyHolder::Member { member: MemberId::named("raalte") },
        instructions: [
            (AgendaItemId::named("jaarrekening-2023"), Instruction::For),
            (AgendaItemId::named("begroting-2025"), Instruction::Free),
            (AgendaItemId::named("statuten"), Instruction::Against),
        ]
        .into_iter()
        .collect(),
        sequence: 1,
    }
}

// ---------------------------------------------------------------------------------------------
// The published vectors

#[test]
fn the_published_vectors_encode_parse_and_verify() {
    let doc = load_json("encoding-v1.json");
    let vectors = doc["vectors"].as_array().unwrap_or_else(|| panic!("no vectors"));
    let mut kinds = BTreeSet::new();
    for v in vectors {
        let name = text(v, "name");
        let kind = text(v, "kind");
        let statement = statement_of(kind, &v["fields"]);
        let bytes = unhex(text(v, "bytes"));
        kinds.insert(statement.kind());

        // The encoding is exactly the published bytes, of the published length.
        assert_eq!(hex(&statement.to_bytes()), text(v, "bytes"), "{name}: encoding");
        assert_eq!(bytes.len() as u64, number(v, "length"), "{name}: length");
        assert!(bytes.starts_with(statement.kind().tag()), "{name}: tag");

        // The strict parser gives back the statement, and the same bytes again.
        let parsed = Statement::from_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed, statement, "{name}: parse");
        assert_eq!(parsed.to_bytes(), bytes, "{name}: round trip");
        match &statement {
            Statement::Ballot(s) => assert_eq!(BallotStatement::from_bytes(&bytes).as_ref(), Ok(s)),
            Statement::Proxy(s) => assert_eq!(ProxyStatement::from_bytes(&bytes).as_ref(), Ok(s)),
            Statement::Declaration(s) => assert_eq!(DeclarationStatement::from_bytes(&bytes).as_ref(), Ok(s)),
            Statement::Key(s) => assert_eq!(KeyStatement::from_bytes(&bytes).as_ref(), Ok(s)),
            Statement::ResolutionVote(s) => {
                assert_eq!(ResolutionVoteStatement::from_bytes(&bytes).as_ref(), Ok(s))
            }
        }

        // The key of the seed, the deterministic signature, and strict verification.
        let signing_key = SigningKey::from_bytes(&array(&unhex(text(v, "seed"))));
        let public = PublicKey::from_hex(text(v, "public_key")).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(PublicKey::of(&signing_key), public, "{name}: public key of the seed");
        let signature: [u8; 64] = array(&unhex(text(v, "signature")));
        assert_eq!(hex(&sign(&signing_key, &bytes)), text(v, "signature"), "{name}: signature");
        assert_eq!(verify(&public, &bytes, &signature), Ok(()), "{name}: verify");
    }
    assert_eq!(vectors.len(), 12);
    assert_eq!(kinds.len(), StatementKind::ALL.len(), "every kind has a vector");
}

#[test]
fn the_published_vectors_name_their_ids_as_the_rust_ids_do() {
    let doc = load_json("encoding-v1.json");
    let names = doc["names"].as_object().unwrap_or_else(|| panic!("no names"));
    for (uuid, name) in names {
        let name = name.as_str().unwrap_or_else(|| panic!("name of {uuid}"));
        let (kind, key) = name.split_once(' ').unwrap_or_else(|| panic!("name {name}"));
        let expected = match kind {
            "association" => AssociationId::named(key).to_string(),
            "meeting" => MeetingId::named(key).to_string(),
            "item" => AgendaItemId::named(key).to_string(),
            "poll" => PollId::named(key).to_string(),
            "member" => MemberId::named(key).to_string(),
            "person" => PersonId::named(key).to_string(),
            "resolution" => ResolutionId::named(key).to_string(),
            other => panic!("kind {other}"),
        };
        assert_eq!(&expected, uuid, "{name}");
    }
    // The worked resolution vote is the one the tests below build.
    let vote = &doc["vectors"][10];
    assert_eq!(
        statement_of(text(vote, "kind"), &vote["fields"]),
        Statement::ResolutionVote(resolution_vote())
    );
}

#[test]
fn the_published_invalid_inputs_are_refused_for_the_published_reason() {
    let doc = load_json("encoding-v1.json");
    let invalid = doc["invalid"].as_array().unwrap_or_else(|| panic!("no invalid inputs"));
    for case in invalid {
        let name = text(case, "name");
        let bytes = unhex(text(case, "bytes"));
        let error = Statement::from_bytes(&bytes).err().unwrap_or_else(|| panic!("{name}: accepted"));
        let reason = match error {
            EncodingError::Truncated { .. } => "truncated",
            EncodingError::UnknownTag { .. } => "unknown_tag",
            EncodingError::UnknownVersion { .. } => "unknown_version",
            EncodingError::UnknownKind { .. } => "unknown_kind",
            EncodingError::WrongKind { .. } => "wrong_kind",
            EncodingError::UnknownCode { .. } => "unknown_code",
            EncodingError::BadPresence { .. } => "bad_presence",
            EncodingError::Unsorted { .. } => "unsorted",
            EncodingError::Duplicate { .. } => "duplicate",
            EncodingError::TrailingBytes { .. } => "trailing_bytes",
        };
        assert_eq!(reason, text(case, "error"), "{name}: {error}");
    }
    assert_eq!(invalid.len(), 22);
}

// ---------------------------------------------------------------------------------------------
// Tampering and replay into another context

#[test]
fn changing_any_single_byte_of_a_statement_breaks_its_signature() {
    let key = key_of_seed(1);
    let public = PublicKey::of(&key);
    let statements: Vec<Vec<u8>> = vec![
        ballot().to_bytes(),
        BallotStatement { poll: None, ..ballot() }.to_bytes(),
        proxy().to_bytes(),
        DeclarationStatement {
            association: AssociationId::named("dimpact"),
            meeting: MeetingId::named("alv-2024-12-11"),
            poll: PollId::named("jaarrekening-2023-1"),
            chair: PersonId::named("voorzitter-rvc"),
            outcome: Outcome::Rejected,
            votes_for: 10,
            votes_against: 11,
            abstentions: 0,
            sequence: 5,
        }
        .to_bytes(),
        KeyStatement {
            association: AssociationId::named("dimpact"),
            person: PersonId::named("j-jansen"),
            public_key: public.to_bytes(),
            action: KeyAction::Enrol,
            sequence: 0,
        }
        .to_bytes(),
        resolution_vote().to_bytes(),
    ];
    let mut tried = 0;
    for bytes in &statements {
        let signature = sign(&key, bytes);
        assert_eq!(verify(&public, bytes, &signature), Ok(()));
        for position in 0..bytes.len() {
            for flip in [0x01u8, 0xff] {
                let mut changed = bytes.clone();
                changed[position] ^= flip;
                assert_eq!(
                    verify(&public, &changed, &signature),
                    Err(SignatureError::Mismatch),
                    "byte {position} ^ {flip:#04x}"
                );
                tried += 1;
            }
        }
        // Neither a byte more nor a byte less.
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(verify(&public, &longer, &signature), Err(SignatureError::Mismatch));
        assert_eq!(verify(&public, &bytes[..bytes.len() - 1], &signature), Err(SignatureError::Mismatch));
        // And a changed signature fails too, whatever check catches it.
        for position in 0..64 {
            let mut changed = signature;
            changed[position] ^= 0x01;
            assert!(verify(&public, bytes, &changed).is_err(), "signature byte {position}");
        }
    }
    assert!(tried > 1000, "{tried}");
}

#[test]
fn a_ballot_signature_moved_to_another_context_is_refused() {
    let key = key_of_seed(1);
    let public = PublicKey::of(&key);
    let original = ballot();
    let signature = sign(&key, &original.to_bytes());
    assert_eq!(verify(&public, &original.to_bytes(), &signature), Ok(()));

    let moved = [
        ("another poll", BallotStatement { poll: Some(PollId::named("jaarrekening-2023-2")), ..original }),
        ("an advance ballot", BallotStatement { poll: None, ..original }),
        ("another meeting", BallotStatement { meeting: MeetingId::named("alv-2025-06-18"), ..original }),
        (
            "another association",
            BallotStatement { association: AssociationId::named("other-coop"), ..original },
        ),
        ("another member", BallotStatement { member: MemberId::named("deventer"), ..original }),
        ("another person", BallotStatement { person: PersonId::named("p-de-boer"), ..original }),
        ("another item", BallotStatement { item: AgendaItemId::named("begroting-2025"), ..original }),
        ("another choice", BallotStatement { choice: Choice::Against, ..original }),
        ("another sequence", BallotStatement { sequence: 2, ..original }),
    ];
    for (what, statement) in moved {
        assert_ne!(statement, original);
        assert_eq!(
            verify(&public, &statement.to_bytes(), &signature),
            Err(SignatureError::Mismatch),
            "{what}"
        );
    }

    // An advance ballot's signature does not become a poll's either.
    let advance = BallotStatement { poll: None, ..original };
    let advance_signature = sign(&key, &advance.to_bytes());
    assert_eq!(verify(&public, &original.to_bytes(), &advance_signature), Err(SignatureError::Mismatch));

    // Another person's key does not verify it.
    let other = PublicKey::of(&key_of_seed(9));
    assert_eq!(verify(&other, &original.to_bytes(), &signature), Err(SignatureError::Mismatch));
}

#[test]
fn a_resolution_vote_signature_moved_to_another_context_is_refused() {
    let key = key_of_seed(1);
    let public = PublicKey::of(&key);
    let original = resolution_vote();
    let signature = sign(&key, &original.to_bytes());
    assert_eq!(verify(&public, &original.to_bytes(), &signature), Ok(()));

    let moved = [
        (
            "another resolution",
            ResolutionVoteStatement { resolution: ResolutionId::named("contributie-2028"), ..original },
        ),
        (
            "another association",
            ResolutionVoteStatement { association: AssociationId::named("other-coop"), ..original },
        ),
        ("another member", ResolutionVoteStatement { member: MemberId::named("deventer"), ..original }),
        ("another person", ResolutionVoteStatement { person: PersonId::named("p-de-boer"), ..original }),
        ("another choice", ResolutionVoteStatement { choice: Choice::Against, ..original }),
        ("another sequence", ResolutionVoteStatement { sequence: 5, ..original }),
    ];
    for (what, statement) in moved {
        assert_ne!(statement, original);
        assert_eq!(
            verify(&public, &statement.to_bytes(), &signature),
            Err(SignatureError::Mismatch),
            "{what}"
        );
    }
    // The same ids in a ballot are another statement: the resolution's id read as a meeting.
    let as_ballot = BallotStatement {
        association: original.association,
        meeting: MeetingId::from_uuid(original.resolution.uuid()),
        item: AgendaItemId::from_uuid(original.resolution.uuid()),
        poll: None,
        member: original.member,
        person: original.person,
        choice: original.choice,
        sequence: original.sequence,
    };
    assert_eq!(verify(&public, &as_ballot.to_bytes(), &signature), Err(SignatureError::Mismatch));
    assert_eq!(
        BallotStatement::from_bytes(&original.to_bytes()),
        Err(EncodingError::WrongKind {
            expected: StatementKind::Ballot,
            found: StatementKind::ResolutionVote
        })
    );
}

#[test]
fn the_domain_tag_keeps_kinds_apart() {
    let bytes = ballot().to_bytes();
    assert_eq!(
        DeclarationStatement::from_bytes(&bytes),
        Err(EncodingError::WrongKind { expected: StatementKind::Declaration, found: StatementKind::Ballot })
    );
    assert_eq!(
        ProxyStatement::from_bytes(&bytes),
        Err(EncodingError::WrongKind { expected: StatementKind::Proxy, found: StatementKind::Ballot })
    );
    // Bytes that begin alike differ from the first byte after "stembus/v1/".
    let tags: BTreeSet<&[u8]> = StatementKind::ALL.iter().map(|k| k.tag()).collect();
    assert_eq!(tags.len(), 5);
    for a in StatementKind::ALL {
        for b in StatementKind::ALL {
            if a != b {
                assert!(!a.tag().starts_with(b.tag()), "{a} tag starts with {b} tag");
            }
        }
    }
}

#[test]
fn a_replayed_or_reordered_statement_is_refused_by_the_guard() {
    let key = key_of_seed(1);
    let public = PublicKey::of(&key);
    let mut guard = SequenceGuard::new();
    let first = ballot();
    let second = BallotStatement { sequence: 2, choice: Choice::Against, ..ballot() };
    let third = BallotStatement { sequence: 5, choice: Choice::Abstain, ..ballot() };
    let signed = |s: &BallotStatement| (s.to_bytes(), sign(&key, &s.to_bytes()));

    let (b1, s1) = signed(&first);
    let (b2, s2) = signed(&second);
    let (b5, s5) = signed(&third);
    assert_eq!(guard.admit(&public, &b1, &s1), Ok(Statement::Ballot(first)));
    assert_eq!(guard.admit(&public, &b2, &s2), Ok(Statement::Ballot(second)));
    assert_eq!(
        guard.admit(&public, &b2, &s2),
        Err(AdmitError::Sequence(SequenceError::Replayed { signer: public.to_hex(), sequence: 2 }))
    );
    assert_eq!(
        guard.admit(&public, &b1, &s1),
        Err(AdmitError::Sequence(SequenceError::OutOfOrder {
            signer: public.to_hex(),
            sequence: 1,
            last: 2
        }))
    );
    assert_eq!(guard.last(&public), Some(2));
    // A gap is fine: the counter only has to increase.
    assert_eq!(guard.admit(&public, &b5, &s5), Ok(Statement::Ballot(third)));
    assert_eq!(guard.last(&public), Some(5));

    // Nothing is recorded for a statement that fails its signature or encoding.
    let forged = BallotStatement { sequence: 9, ..ballot() };
    assert_eq!(
        guard.admit(&public, &forged.to_bytes(), &s5),
        Err(AdmitError::Signature(SignatureError::Mismatch))
    );
    let mut trailing = b5.clone();
    trailing.push(0);
    assert!(matches!(guard.admit(&public, &trailing, &s5), Err(AdmitError::Encoding(_))));
    assert_eq!(guard.last(&public), Some(5));

    // Each signer has its own counter.
    let other_key = key_of_seed(2);
    let other = PublicKey::of(&other_key);
    assert_eq!(guard.check(&other, 0), Ok(()));
    assert_eq!(guard.accept(&other, 0), Ok(()));
    assert_eq!(guard.accept(&other, 0), Err(SequenceError::Replayed { signer: other.to_hex(), sequence: 0 }));
    assert_eq!(guard.last(&public), Some(5));
}

// ---------------------------------------------------------------------------------------------
// Non-canonical input

fn refused(bytes: &[u8]) -> EncodingError {
    Statement::from_bytes(bytes).err().unwrap_or_else(|| panic!("accepted {}", hex(bytes)))
}

#[test]
fn unknown_tags_and_versions_are_refused() {
    let body = &ballot().to_bytes()[18..];
    let with_tag = |tag: &[u8]| [tag, body].concat();
    assert!(
        matches!(refused(&with_tag(b"stembus/v2/ballot\0")), EncodingError::UnknownVersion { version, .. } if version == "v2")
    );
    assert!(matches!(refused(&with_tag(b"stembus/v0/ballot\0")), EncodingError::UnknownVersion { .. }));
    assert!(matches!(refused(&with_tag(b"stembus/V1/ballot\0")), EncodingError::UnknownVersion { .. }));
    assert!(
        matches!(refused(&with_tag(b"stembus/v1/Ballot\0")), EncodingError::UnknownKind { kind, .. } if kind == "Ballot")
    );
    assert!(matches!(refused(&with_tag(b"stembus/v1/ballot/x\0")), EncodingError::UnknownKind { .. }));
    assert!(matches!(refused(&with_tag(b"stembus/v1\0")), EncodingError::UnknownTag { .. }));
    assert!(matches!(refused(&with_tag(b"Stembus/v1/ballot\0")), EncodingError::UnknownTag { .. }));
    assert!(matches!(refused(&with_tag(b"\0")), EncodingError::UnknownTag { .. }));
    assert!(matches!(refused(&[0xff; 100]), EncodingError::UnknownTag { .. }));
    assert!(matches!(refused(b"stembus/v1/ballo"), EncodingError::Truncated { field: "domain tag", .. }));
    assert!(matches!(refused(b""), EncodingError::Truncated { .. }));
}

#[test]
fn unknown_codes_and_presence_bytes_are_refused() {
    let ballot_bytes = ballot().to_bytes();
    for code in [0x00u8, 0x04, 0x7f, 0xff] {
        let mut b = ballot_bytes.clone();
        b[98] = code;
        assert_eq!(refused(&b), EncodingError::UnknownCode { field: "choice", code, offset: 98 });
    }
    for byte in [0x02u8, 0x80, 0xff] {
        let mut b = ballot_bytes.clone();
        b[107] = byte;
        assert_eq!(refused(&b), EncodingError::BadPresence { field: "poll", byte, offset: 107 });
    }
    let proxy_bytes = proxy().to_bytes();
    for code in [0x00u8, 0x06, 0xff] {
        let mut b = proxy_bytes.clone();
        b[97] = code;
        assert_eq!(refused(&b), EncodingError::UnknownCode { field: "holder kind", code, offset: 97 });
    }
    for code in [0x00u8, 0x05] {
        let mut b = proxy_bytes.clone();
        b[126 + 16] = code;
        assert_eq!(refused(&b), EncodingError::UnknownCode { field: "instruction", code, offset: 142 });
    }
    let declaration = DeclarationStatement {
        association: AssociationId::named("dimpact"),
        meeting: MeetingId::named("alv-2024-12-11"),
        poll: PollId::named("p"),
        chair: PersonId::named("c"),
        outcome: Outcome::NoQuorum,
        votes_for: 0,
        votes_against: 0,
        abstentions: 0,
        sequence: 0,
    };
    let mut b = declaration.to_bytes();
    b[87] = 0x04;
    assert_eq!(refused(&b), EncodingError::UnknownCode { field: "outcome", code: 4, offset: 87 });
    let key = KeyStatement {
        association: AssociationId::named("dimpact"),
        person: PersonId::named("c"),
        public_key: [0; 32],
        action: KeyAction::Revoke,
        sequence: 0,
    };
    let mut b = key.to_bytes();
    b[47] = 0x00;
    assert_eq!(refused(&b), EncodingError::UnknownCode { field: "key action", code: 0, offset: 47 });
    let vote_bytes = resolution_vote().to_bytes();
    for code in [0x00u8, 0x04, 0xff] {
        let mut b = vote_bytes.clone();
        b[91] = code;
        assert_eq!(refused(&b), EncodingError::UnknownCode { field: "choice", code, offset: 91 });
    }
}

#[test]
fn truncated_and_trailing_input_is_refused_for_every_kind() {
    let encodings: Vec<Vec<u8>> = vec![
        ballot().to_bytes(),
        BallotStatement { poll: None, ..ballot() }.to_bytes(),
        proxy().to_bytes(),
        ProxyStatement { instructions: BTreeMap::new(), ..proxy() }.to_bytes(),
        DeclarationStatement {
            association: AssociationId::named("a"),
            meeting: MeetingId::named("m"),
            poll: PollId::named("p"),
            chair: PersonId::named("c"),
            outcome: Outcome::Adopted,
            votes_for: 1,
            votes_against: 0,
            abstentions: 0,
            sequence: 1,
        }
        .to_bytes(),
        KeyStatement {
            association: AssociationId::named("a"),
            person: PersonId::named("c"),
            public_key: [3; 32],
            action: KeyAction::Enrol,
            sequence: 1,
        }
        .to_bytes(),
        resolution_vote().to_bytes(),
    ];
    for bytes in &encodings {
        assert_eq!(Statement::from_bytes(bytes).map(|s| s.to_bytes()).as_ref(), Ok(bytes));
        for len in 0..bytes.len() {
            let error = refused(&bytes[..len]);
            assert!(matches!(error, EncodingError::Truncated { .. }), "cut at {len}: {error}");
        }
        for extra in [&[0u8][..], &[1], &[0; 16]] {
            let longer = [bytes.as_slice(), extra].concat();
            assert_eq!(
                refused(&longer),
                EncodingError::TrailingBytes { offset: bytes.len(), count: extra.len() }
            );
        }
    }
}

#[test]
fn unsorted_or_duplicate_instructions_are_refused() {
    let bytes = proxy().to_bytes();
    assert_eq!(bytes.len(), 126 + 3 * 17);
    let entries: Vec<&[u8]> = bytes[126..].chunks(17).collect();
    let with_entries = |list: &[&[u8]]| {
        let mut b = bytes[..122].to_vec();
        b.extend_from_slice(&(list.len() as u32).to_be_bytes());
        for entry in list {
            b.extend_from_slice(entry);
        }
        b
    };
    assert_eq!(with_entries(&entries), bytes);
    assert_eq!(
        refused(&with_entries(&[entries[1], entries[0], entries[2]])),
        EncodingError::Unsorted { field: "instructions", offset: 143 }
    );
    assert_eq!(
        refused(&with_entries(&[entries[0], entries[2], entries[1]])),
        EncodingError::Unsorted { field: "instructions", offset: 160 }
    );
    assert_eq!(
        refused(&with_entries(&[entries[0], entries[0], entries[1]])),
        EncodingError::Duplicate { field: "instructions", offset: 143 }
    );
    // The same item twice with different instructions is a duplicate too.
    let mut other_instruction = entries[0].to_vec();
    other_instruction[16] = if other_instruction[16] == 1 { 2 } else { 1 };
    assert_eq!(
        refused(&with_entries(&[entries[0], &other_instruction, entries[1]])),
        EncodingError::Duplicate { field: "instructions", offset: 143 }
    );
    // A count that does not match the entries.
    let mut b = bytes.clone();
    b[122..126].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(refused(&b), EncodingError::Truncated { field: "instruction item", .. }));
    b[122..126].copy_from_slice(&2u32.to_be_bytes());
    assert_eq!(refused(&b), EncodingError::TrailingBytes { offset: 160, count: 17 });
}

fn any_uuid() -> impl Strategy<Value = uuid::Uuid> {
    any::<[u8; 16]>().prop_map(uuid::Uuid::from_bytes)
}

fn five_uuids() -> impl Strategy<Value = [uuid::Uuid; 5]> {
    any::<[[u8; 16]; 5]>().prop_map(|ids| ids.map(uuid::Uuid::from_bytes))
}

fn any_statement() -> impl Strategy<Value = Statement> {
    let choice = prop_oneof![Just(Choice::For), Just(Choice::Against), Just(Choice::Abstain)];
    let instruction = prop_oneof![
        Just(Instruction::For),
        Just(Instruction::Against),
        Just(Instruction::Abstain),
        Just(Instruction::Free)
    ];
    let outcome = prop_oneof![Just(Outcome::Adopted), Just(Outcome::Rejected), Just(Outcome::NoQuorum)];
    let action = prop_oneof![Just(KeyAction::Enrol), Just(KeyAction::Rotate), Just(KeyAction::Revoke)];
    let holder = (0u8..5, any_uuid()).prop_map(|(k, id)| match k {
        0 => ProxyHolder::Member { member: MemberId::from_uuid(id) },
        1 => ProxyHolder::ConnectedPerson { person: PersonId::from_uuid(id) },
        2 => ProxyHolder::SupervisoryBoardChair { person: PersonId::from_uuid(id) },
        3 => ProxyHolder::Notary { person: PersonId::from_uuid(id) },
        _ => ProxyHolder::Lawyer { person: PersonId::from_uuid(id) },
    });
    prop_oneof![
        (five_uuids(), proptest::option::of(any_uuid()), choice.clone(), any::<u64>()).prop_map(
            |(i, poll, choice, sequence)| {
                Statement::Ballot(BallotStatement {
                    association: AssociationId::from_uuid(i[0]),
                    meeting: MeetingId::from_uuid(i[1]),
                    item: AgendaItemId::from_uuid(i[2]),
                    poll: poll.map(PollId::from_uuid),
                    member: MemberId::from_uuid(i[3]),
                    person: PersonId::from_uuid(i[4]),
                    choice,
                    sequence,
                })
            }
        ),
        (five_uuids(), holder, proptest::collection::btree_map(any_uuid(), instruction, 0..6), any::<u64>())
            .prop_map(|(i, holder, instructions, sequence)| {
                Statement::Proxy(ProxyStatement {
                    association: AssociationId::from_uuid(i[0]),
                    meeting: MeetingId::from_uuid(i[1]),
                    proxy: ProxyId::from_uuid(i[2]),
                    grantor: MemberId::from_uuid(i[3]),
                    person: PersonId::from_uuid(i[4]),
                    holder,
                    instructions: instructions
                        .into_iter()
                        .map(|(k, v)| (AgendaItemId::from_uuid(k), v))
                        .collect(),
                    sequence,
                })
            }),
        (five_uuids(), outcome, any::<[u64; 4]>()).prop_map(|(i, outcome, n)| {
            Statement::Declaration(DeclarationStatement {
                association: AssociationId::from_uuid(i[0]),
                meeting: MeetingId::from_uuid(i[1]),
                poll: PollId::from_uuid(i[2]),
                chair: PersonId::from_uuid(i[3]),
                outcome,
                votes_for: n[0],
                votes_against: n[1],
                abstentions: n[2],
                sequence: n[3],
            })
        }),
        (five_uuids(), any::<[u8; 32]>(), action, any::<u64>()).prop_map(
            |(i, public_key, action, sequence)| {
                Statement::Key(KeyStatement {
                    association: AssociationId::from_uuid(i[0]),
                    person: PersonId::from_uuid(i[1]),
                    public_key,
                    action,
                    sequence,
                })
            }
        ),
        (five_uuids(), choice, any::<u64>()).prop_map(|(i, choice, sequence)| {
            Statement::ResolutionVote(ResolutionVoteStatement {
                association: AssociationId::from_uuid(i[0]),
                resolution: ResolutionId::from_uuid(i[1]),
                member: MemberId::from_uuid(i[2]),
                person: PersonId::from_uuid(i[3]),
                choice,
                sequence,
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_statement_round_trips(statement in any_statement()) {
        let bytes = statement.to_bytes();
        prop_assert!(bytes.starts_with(statement.kind().tag()));
        prop_assert_eq!(Statement::from_bytes(&bytes), Ok(statement.clone()));
    }

    /// Whatever bytes the parser accepts, it re-encodes to exactly those bytes: no two byte
    /// strings mean the same statement.
    #[test]
    fn accepted_bytes_are_exactly_the_canonical_bytes(
        statement in any_statement(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        extra in proptest::collection::vec(any::<u8>(), 0..3),
    ) {
        let mut bytes = statement.to_bytes();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            let len = cut.index(bytes.len() + 1);
            bytes.truncate(len);
        }
        bytes.extend_from_slice(&extra);
        if let Ok(parsed) = Statement::from_bytes(&bytes) {
            prop_assert_eq!(parsed.to_bytes(), bytes);
        }
    }

    #[test]
    fn random_bytes_that_parse_are_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(parsed) = Statement::from_bytes(&bytes) {
            prop_assert_eq!(parsed.to_bytes(), bytes);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

#[test]
fn weak_and_non_canonical_keys_are_refused() {
    let point = |h: &str| -> [u8; 32] { array(&unhex(h)) };
    // The identity, points of order 2, 4 and 8, and non-canonical encodings (C2SP README).
    let small = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    ];
    for h in small {
        assert_eq!(PublicKey::from_bytes(&point(h)), Err(PublicKeyError::SmallOrder), "{h}");
    }
    let non_canonical = [
        "0100000000000000000000000000000000000000000000000000000000000080",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];
    for h in non_canonical {
        assert_eq!(PublicKey::from_bytes(&point(h)), Err(PublicKeyError::NonCanonical), "{h}");
    }
    // y = 2 is not on the curve.
    assert_eq!(
        PublicKey::from_bytes(&point("0200000000000000000000000000000000000000000000000000000000000000")),
        Err(PublicKeyError::NotOnCurve)
    );
    assert_eq!(PublicKey::from_slice(&[1; 31]), Err(PublicKeyError::WrongLength(31)));
    // An honest key is accepted.
    let honest = PublicKey::of(&key_of_seed(1));
    assert_eq!(PublicKey::from_bytes(&honest.to_bytes()), Ok(honest));
}

// ---------------------------------------------------------------------------------------------
// The C2SP Ed25519 edge cases

const FLAGS_STRICT_MUST_REJECT: [&str; 4] =
    ["non_canonical_A", "non_canonical_R", "low_order_A", "low_order_R"];

struct EdgeCase {
    number: u64,
    key: [u8; 32],
    signature: [u8; 64],
    message: Vec<u8>,
    flags: BTreeSet<String>,
}

fn edge_cases() -> Vec<EdgeCase> {
    let doc = load_json("ed25519/ed25519vectors.json");
    let list = doc.as_array().unwrap_or_else(|| panic!("ed25519vectors.json is not a list"));
    list.iter()
        .map(|v| EdgeCase {
            number: number(v, "number"),
            key: array(&unhex(text(v, "key"))),
            signature: array(&unhex(text(v, "sig"))),
            message: text(v, "msg").as_bytes().to_vec(),
            flags: v["flags"]
                .as_array()
                .map(|f| {
                    f.iter().map(|x| x.as_str().unwrap_or_else(|| panic!("flag {x}")).to_owned()).collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// Stembus's verification: parse the key strictly, then verify strictly; why it refuses.
fn stembus_verdict(case: &EdgeCase) -> Result<(), String> {
    let key = PublicKey::from_bytes(&case.key).map_err(|e| format!("key: {e:?}"))?;
    verify(&key, &case.message, &case.signature).map_err(|e| format!("signature: {e:?}"))
}

#[test]
fn strict_verification_of_the_c2sp_edge_cases() {
    let cases = edge_cases();
    assert_eq!(cases.len(), 914, "the whole C2SP set");

    let mut accepted: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut refused_for: BTreeMap<String, usize> = BTreeMap::new();
    let mut dalek_accepted: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for case in &cases {
        let flags: Vec<String> = case.flags.iter().cloned().collect();
        let verdict = stembus_verdict(case);
        let ours = verdict.is_ok();
        if let Err(reason) = verdict {
            *refused_for.entry(reason).or_default() += 1;
        }
        if FLAGS_STRICT_MUST_REJECT.iter().any(|f| case.flags.contains(*f)) {
            assert!(!ours, "vector {} ({flags:?}) must be rejected", case.number);
        }
        if ours {
            *accepted.entry(flags.clone()).or_default() += 1;
        }
        // The layer below: ed25519-dalek's verify_strict with its own key parsing.
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(&case.key).is_ok_and(|key| {
            key.verify_strict(&case.message, &ed25519_dalek::Signature::from_bytes(&case.signature)).is_ok()
        });
        if dalek {
            *dalek_accepted.entry(flags).or_default() += 1;
        }
        // Stembus never accepts what verify_strict refuses.
        assert!(!ours || dalek, "vector {}", case.number);
    }

    // ed25519-dalek's verify_strict accepts exactly the vectors whose flags are a subset of
    // {low_order_component_A, low_order_component_R}: 1 without flags, 7 with
    // low_order_component_A, 35 with both (43 of 914).
    let subset = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let expected_dalek: BTreeMap<Vec<String>, usize> = [
        (subset(&[]), 1),
        (subset(&["low_order_component_A"]), 7),
        (subset(&["low_order_component_A", "low_order_component_R"]), 35),
    ]
    .into_iter()
    .collect();
    assert_eq!(dalek_accepted, expected_dalek);

    // Stembus also refuses keys with a low-order component (PublicKeyError::MixedOrder), so it
    // accepts exactly one vector: the one without any flag. Every other vector is refused.
    let expected_ours: BTreeMap<Vec<String>, usize> = [(subset(&[]), 1)].into_iter().collect();
    assert_eq!(accepted, expected_ours);
    assert_eq!(accepted.values().sum::<usize>(), 1);

    // What refuses the other 913: the first check that fails.
    let expected_reasons: BTreeMap<String, usize> = [
        ("key: NonCanonical", 226),
        ("key: SmallOrder", 300),
        ("key: MixedOrder", 360),
        ("signature: RNonCanonical", 12),
        ("signature: RSmallOrder", 8),
        ("signature: Mismatch", 7),
    ]
    .into_iter()
    .map(|(reason, n)| (reason.to_owned(), n))
    .collect();
    assert_eq!(refused_for, expected_reasons);
    assert_eq!(refused_for.values().sum::<usize>(), 913);
}

#[test]
fn batch_verification_of_the_c2sp_edge_cases() {
    // Each edge case alone as a batch: the batch accepts exactly what verify accepts. The one
    // kind of signature the batch equation could let through, an R with a low-order component,
    // is refused alone, because its weight is odd (docs/encoding.md).
    let mut accepted = 0;
    let mut refused = 0;
    for case in edge_cases() {
        let Ok(key) = PublicKey::from_bytes(&case.key) else { continue };
        let single = verify(&key, &case.message, &case.signature);
        for _ in 0..8 {
            let batch = verify_batch(&[BatchItem {
                key: &key,
                statement_bytes: &case.message,
                signature: &case.signature,
            }]);
            match (&single, &batch) {
                (Ok(()), Ok(())) => accepted += 1,
                (Err(_), Ok(())) => panic!("vector {}: the batch accepts what verify refuses", case.number),
                (Ok(()), Err(e)) => panic!("vector {}: batch refuses what verify accepts: {e}", case.number),
                (Err(e), Err(b)) => {
                    refused += 1;
                    assert_eq!(b, &SignatureError::InBatch { index: 0, reason: Box::new(e.clone()) });
                }
            }
        }
    }
    // Eight times each (the weights are drawn anew each time): the one vector that verifies,
    // and the 27 with a prime-order key that verify refuses (R non-canonical 12, R of small
    // order 8, mismatch 7, the low-order residues among these) refused every time.
    assert_eq!(accepted, 8);
    assert_eq!(refused, 27 * 8);
}

// ---------------------------------------------------------------------------------------------
// Batch verification

#[derive(Clone)]
struct Signed {
    key: PublicKey,
    bytes: Vec<u8>,
    signature: [u8; 64],
}

fn hundred_signed_ballots() -> Vec<Signed> {
    (0..100u64)
        .map(|i| {
            let signing_key = SigningKey::from_bytes(&[(i % 7) as u8 + 1; 32]);
            let statement = BallotStatement {
                member: MemberId::named(&format!("member-{i}")),
                choice: [Choice::For, Choice::Against, Choice::Abstain][(i % 3) as usize],
                sequence: i + 1,
                ..ballot()
            };
            let bytes = statement.to_bytes();
            let signature = sign(&signing_key, &bytes);
            Signed { key: PublicKey::of(&signing_key), bytes, signature }
        })
        .collect()
}

fn items(signed: &[Signed]) -> Vec<BatchItem<'_>> {
    signed
        .iter()
        .map(|s| BatchItem { key: &s.key, statement_bytes: &s.bytes, signature: &s.signature })
        .collect()
}

#[test]
fn a_batch_of_valid_signatures_verifies() {
    let signed = hundred_signed_ballots();
    assert_eq!(verify_batch(&items(&signed)), Ok(()));
    assert_eq!(verify_batch(&items(&signed[..1])), Ok(()));
    assert_eq!(verify_batch(&[]), Ok(()));
}

#[test]
fn signatures_of_one_key_swapped_between_its_statements_do_not_verify_together() {
    // A key's terms are merged in the batch equation; two signatures of one key, each on the
    // other's statement, still fail, and the first is named.
    let mut signed = hundred_signed_ballots();
    let (a, b) = (signed[3].signature, signed[10].signature);
    assert_eq!(signed[3].key, signed[10].key);
    signed[3].signature = b;
    signed[10].signature = a;
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 3, reason: Box::new(SignatureError::Mismatch) })
    );
    // All by one key: the equation has one key point.
    let one_key: Vec<Signed> = signed.iter().filter(|s| s.key == signed[0].key).cloned().collect();
    assert!(one_key.len() > 10);
    assert_eq!(verify_batch(&items(&one_key)), Ok(()));
}

#[test]
fn one_bad_signature_in_a_batch_of_a_hundred_is_named_by_index() {
    let valid = hundred_signed_ballots();
    // A signature over other bytes.
    let mut signed = valid.clone();
    signed[37].bytes[100] ^= 0x01;
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 37, reason: Box::new(SignatureError::Mismatch) })
    );

    // A signature by another key.
    let mut signed = valid.clone();
    signed[99].key = PublicKey::of(&key_of_seed(42));
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 99, reason: Box::new(SignatureError::Mismatch) })
    );

    // A malleated signature (S + l) is caught before the batch equation, by name.
    let mut signed = valid.clone();
    let mut s = [0u8; 32];
    s.copy_from_slice(&signed[5].signature[32..]);
    let order: [u8; 32] = array(&unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010"));
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(order[i]) + carry;
        s[i] = sum as u8;
        carry = sum >> 8;
    }
    signed[5].signature[32..].copy_from_slice(&s);
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 5, reason: Box::new(SignatureError::NonCanonicalScalar) })
    );

    // A small-order R, at index 63.
    let mut signed = valid.clone();
    signed[63].signature[..32].copy_from_slice(&[0; 32]);
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 63, reason: Box::new(SignatureError::RSmallOrder) })
    );

    // Two bad ones: the first is named, though the later fails an earlier check.
    let mut signed = valid.clone();
    signed[80].signature[..32].copy_from_slice(&[0; 32]);
    signed[12].bytes[0] ^= 0x01;
    assert_eq!(
        verify_batch(&items(&signed)),
        Err(SignatureError::InBatch { index: 12, reason: Box::new(SignatureError::Mismatch) })
    );
}
