//! The verifier runs as a pipeline (workers parse lines and verify batches of signatures while
//! the checks in order go on): on an export of many chunks of lines and several batches of
//! signatures, it names the same first failure as a reading line by line would, whichever
//! stage finds it.

use ed25519_dalek::SigningKey;
use stembus::core::register::Person;
use stembus::core::{Event, Fact, KeyBytes, PersonId};
use stembus::ledger::audit::{Check, Options, Report, verify_export};
use stembus::ledger::canonical::{KeyAction, KeyStatement};
use stembus::ledger::export::{End, Entry, Head, Line};
use stembus::ledger::log::{TreeHead, entry_hash, hex};
use stembus::ledger::merkle::MerkleTree;
use stembus::ledger::signature::sign;

use crate::support::*;

/// Persons in the synthetic register: each is registered and enrols a key, so the export has
/// two entries and one signature per person, and more signatures than one batch holds.
const PERSONS: usize = 4500;
/// A signed tree head after every this many entries.
const HEAD_EVERY: usize = 97;

fn person(i: usize) -> PersonId {
    PersonId::named(&format!("pipeline person {i}"))
}

fn person_key(i: usize) -> SigningKey {
    let mut seed = [7u8; 32];
    seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
    SigningKey::from_bytes(&seed)
}

/// The events of the register: person `i` registered, then enrolling its key. `bad_signature`
/// names a person whose enrolment is signed over other bytes.
fn events(bad_signature: Option<usize>) -> Vec<Event> {
    let at = t("2022-11-01T09:00:00+01:00");
    let mut out = Vec::with_capacity(2 * PERSONS);
    for i in 0..PERSONS {
        out.push(Event {
            at,
            fact: Fact::PersonRegistered {
                person: Person { id: person(i), name: format!("Persoon {i}"), email: None, profession: None },
            },
        });
        let key = person_key(i);
        let public = key.verifying_key().to_bytes();
        let statement = KeyStatement {
            association: dimpact(),
            person: person(i),
            public_key: public,
            action: KeyAction::Enrol,
            sequence: if bad_signature == Some(i) { 2 } else { 1 },
        };
        out.push(Event {
            at,
            fact: Fact::KeyEnrolled {
                person: person(i),
                key: KeyBytes::from(public),
                sequence: 1,
                signature: sign(&key, &statement.to_bytes()).into(),
            },
        });
    }
    out
}

/// The export lines of `events` in the association's stream, under the demo export's header:
/// every leaf hash right, a signed head every [`HEAD_EVERY`] entries and after the last.
fn export_lines(events: &[Event]) -> Vec<String> {
    let key = service_key();
    let header = demo_export().lines().next().unwrap_or_default().to_owned();
    let mut out = vec![header];
    let mut tree = MerkleTree::new();
    let mut heads = 0u64;
    for (i, event) in events.iter().enumerate() {
        let body = serde_json::to_string(event).unwrap_or_default();
        let (index, seq) = (i as u64, i as u64 + 1);
        let leaf = entry_hash(dimpact(), None, index, seq, event.at, body.as_bytes());
        tree.push_leaf_hash(leaf);
        let entry = Entry { seq, stream: "association".into(), index, body, leaf_hash: hex(&leaf) };
        out.push(serde_json::to_string(&Line::Entry(entry)).unwrap_or_default());
        if (i + 1) % HEAD_EVERY == 0 || i + 1 == events.len() {
            let head = TreeHead {
                association: dimpact(),
                meeting: None,
                size: tree.len(),
                root: tree.root(),
                timestamp: event.at,
            };
            out.push(
                serde_json::to_string(&Line::Head(Head::of("association", &head.sign(&key))))
                    .unwrap_or_default(),
            );
            heads += 1;
        }
    }
    let end = End { entries: events.len() as u64, heads };
    out.push(serde_json::to_string(&Line::End(end)).unwrap_or_default());
    out
}

fn text(lines: &[String]) -> String {
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// The line (from 1) of the entry of event `i`.
fn line_of_event(lines: &[String], i: usize) -> u64 {
    let needle = format!("\"seq\":{},", i + 1);
    let at = lines.iter().position(|l| l.starts_with("{\"type\":\"entry\"") && l.contains(&needle));
    at.map(|n| n as u64 + 1).unwrap_or_else(|| panic!("no entry {i}"))
}

/// Another spelling of line `no` (a space after its first brace).
fn misspell(lines: &mut [String], no: u64) {
    let line = &mut lines[no as usize - 1];
    line.insert(1, ' ');
}

fn verify_both(text: &str) -> (Report, Report) {
    let batch = verify_export(text.as_bytes(), Options::default());
    let strict = verify_export(text.as_bytes(), Options { strict: true, ..Options::default() });
    (batch, strict)
}

fn assert_first(text: &str, line: u64, check: Check, reason_part: &str) {
    let (batch, strict) = verify_both(text);
    for report in [batch, strict] {
        assert!(!report.verified, "verified");
        let f = report.failure.unwrap_or_else(|| panic!("no failure"));
        assert_eq!((f.line, f.check), (line, check), "{}", f.reason);
        assert!(f.reason.contains(reason_part), "{reason_part:?} not in {:?}", f.reason);
    }
}

#[test]
fn a_long_export_verifies_through_the_pipeline() {
    let lines = export_lines(&events(None));
    assert!(lines.len() > 8 * 512, "many chunks of lines: {}", lines.len());
    let (batch, strict) = verify_both(&text(&lines));
    for report in [batch, strict] {
        assert!(report.verified, "{}", report.to_text());
        assert_eq!(report.signatures, PERSONS as u64, "more than one batch");
        assert_eq!(report.entries, 2 * PERSONS as u64);
    }
}

#[test]
fn an_early_bad_signature_is_named_before_a_later_misspelt_line() {
    let mut lines = export_lines(&events(Some(40)));
    let bad = line_of_event(&lines, 2 * 40 + 1);
    let later = line_of_event(&lines, 2 * PERSONS - 300);
    misspell(&mut lines, later);
    assert_first(&text(&lines), bad, Check::Signature, "does not verify");
}

#[test]
fn an_early_misspelt_line_is_named_before_a_later_bad_signature() {
    let mut lines = export_lines(&events(Some(PERSONS - 100)));
    let early = line_of_event(&lines, 90);
    misspell(&mut lines, early);
    assert_first(&text(&lines), early, Check::Format, "not written as an export writes it");
}

#[test]
fn a_bad_signature_in_a_later_batch_is_named_alone() {
    // Past the first batch of 4,096 signatures.
    let lines = export_lines(&events(Some(PERSONS - 7)));
    let bad = line_of_event(&lines, 2 * (PERSONS - 7) + 1);
    assert_first(&text(&lines), bad, Check::Signature, "signature on the key_enrolled");
}

#[test]
fn a_refusal_by_the_core_and_a_bad_signature_are_named_in_line_order() {
    // Person 3000 registered twice: the core refuses the second registration.
    let mut twice = events(None);
    let again = twice[2 * 3000].clone();
    twice.insert(2 * 3000 + 1, again);
    let refused = |lines: &[String]| line_of_event(lines, 2 * 3000 + 1);

    let lines = export_lines(&twice);
    assert_first(&text(&lines), refused(&lines), Check::Rules, "person.exists");

    // With a bad signature before it, in an earlier batch, the signature is named.
    let mut both = events(Some(100));
    both.insert(2 * 3000 + 1, again_of(&both, 3000));
    let lines = export_lines(&both);
    assert_first(&text(&lines), line_of_event(&lines, 2 * 100 + 1), Check::Signature, "does not verify");

    // With a bad signature after it, the refusal is named.
    let mut both = events(Some(4000));
    both.insert(2 * 3000 + 1, again_of(&both, 3000));
    let lines = export_lines(&both);
    assert_first(&text(&lines), refused(&lines), Check::Rules, "person.exists");
}

fn again_of(events: &[Event], person: usize) -> Event {
    events[2 * person].clone()
}

#[test]
fn a_changed_leaf_hash_in_a_later_chunk_is_named_by_its_line() {
    let mut lines = export_lines(&events(None));
    let no = line_of_event(&lines, 5000);
    let Ok(Line::Entry(mut entry)) = serde_json::from_str::<Line>(&lines[no as usize - 1]) else {
        panic!("no entry at line {no}")
    };
    entry.leaf_hash = hex(&[0u8; 32]);
    lines[no as usize - 1] = serde_json::to_string(&Line::Entry(entry)).unwrap_or_default();
    assert_first(&text(&lines), no, Check::Entry, "is not the hash of the entry's bytes");
}

#[test]
fn an_export_cut_anywhere_is_named_cut_after_its_last_line() {
    // Within the first chunk (verified on the calling thread), at chunk boundaries and later.
    let lines = export_lines(&events(None));
    for n in [2usize, 300, 512, 513, 514, 1025, 1026, 4000] {
        let report = verify_export(text(&lines[..n]).as_bytes(), Options::default());
        let f = report.failure.unwrap_or_else(|| panic!("{n} lines verified"));
        assert_eq!((f.line, f.check), (n as u64 + 1, Check::Truncated), "{n}: {}", f.reason);
        assert!(f.reason.contains(&format!("ends after line {n} without its end line")), "{}", f.reason);
    }
}
