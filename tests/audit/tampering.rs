//! Every kind of tampering with a real exported meeting is detected, with a precise reason.
//!
//! Two kinds of attacker: one who edits the export (the signed tree heads then give it away),
//! and a dishonest service that holds the service key and re-signs everything after its edit
//! ("resealing"): then the authors' signatures and the rules must give it away.

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use serde_json::Value;
use stembus::core::{Choice, Command, Event, Fact, KeyBytes, Outcome, PersonId};
use stembus::ledger::audit::{Check, Report};
use stembus::ledger::export::{Entry, Head, Line};
use stembus::ledger::log::{SignedTreeHead, TreeHead, entry_hash, hex};
use stembus::ledger::merkle::MerkleTree;

use crate::support::*;

fn failed(report: &Report) -> &stembus::ledger::audit::Failure {
    assert!(!report.verified, "the tampering went unnoticed:\n{}", report.to_text());
    report.failure.as_ref().unwrap_or_else(|| panic!("no failure named:\n{}", report.to_text()))
}

fn assert_fails(text: &str, check: Check, reason_part: &str) -> Report {
    let report = verify(text);
    let f = failed(&report);
    assert_eq!(f.check, check, "{}", report.to_text());
    assert!(f.reason.contains(reason_part), "expected {reason_part:?} in: {}", f.reason);
    report
}

fn join(lines: &[String]) -> String {
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

fn raw_lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_owned).collect()
}

fn event_of(e: &Entry) -> Event {
    serde_json::from_str(&e.body).unwrap_or_else(|err| panic!("{err}"))
}

/// The entries of the export, in order.
fn entries(text: &str) -> Vec<Entry> {
    lines(text)
        .into_iter()
        .filter_map(|l| match l {
            Line::Entry(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// What a dishonest service holding the service key writes after changing the entries: the
/// header re-signed, every leaf hash recomputed, a freshly signed head after every entry, and
/// the end line counted anew. Entries keep the seq and index given.
fn reseal(text: &str, entries: &[Entry]) -> String {
    let key = service_key();
    let all = lines(text);
    let Some(Line::Header(mut header)) = all.first().cloned() else { panic!("no header") };
    header.signature = hex(&stembus::ledger::signature::sign(&key, &header.to_bytes()));
    let mut out = vec![serde_json::to_string(&Line::Header(header)).unwrap_or_default()];
    let mut trees: BTreeMap<String, MerkleTree> = BTreeMap::new();
    let mut last = t("2000-01-01T00:00:00Z");
    let mut heads = 0;
    for e in entries {
        let event = event_of(e);
        let meeting = event.fact.meeting();
        let leaf = entry_hash(dimpact(), meeting, e.index, e.seq, event.at, e.body.as_bytes());
        let entry = Entry { leaf_hash: hex(&leaf), ..e.clone() };
        out.push(serde_json::to_string(&Line::Entry(entry)).unwrap_or_default());
        let tree = trees.entry(e.stream.clone()).or_default();
        tree.push_leaf_hash(leaf);
        last = last.max(event.at);
        let head = TreeHead {
            association: dimpact(),
            meeting,
            size: tree.len(),
            root: tree.root(),
            timestamp: last,
        };
        let signed: SignedTreeHead = head.sign(&key);
        out.push(serde_json::to_string(&Line::Head(Head::of(&e.stream, &signed))).unwrap_or_default());
        heads += 1;
    }
    out.push(
        serde_json::to_string(&Line::End(stembus::ledger::export::End {
            entries: entries.len() as u64,
            heads,
        }))
        .unwrap_or_default(),
    );
    join(&out)
}

/// Replaces the body of `entry` by `event`, as JSON.
fn with_event(entry: &Entry, event: &Event) -> Entry {
    Entry { body: serde_json::to_string(event).unwrap_or_default(), ..entry.clone() }
}

fn position(entries: &[Entry], what: impl Fn(&Event) -> bool) -> usize {
    entries.iter().position(|e| what(&event_of(e))).unwrap_or_else(|| panic!("no such entry"))
}

fn is_ballot_in_poll(e: &Event) -> bool {
    matches!(&e.fact, Fact::BallotCast { poll: Some(_), .. })
}

#[test]
fn the_untouched_export_and_its_reseal_verify() {
    // The reseal itself is faithful: what it signs verifies when nothing was changed.
    let text = demo_export();
    assert!(verify(text).verified);
    let resealed = reseal(text, &entries(text));
    let report = verify(&resealed);
    assert!(report.verified, "{}", report.to_text());
}

#[test]
fn flipping_any_single_byte_is_detected() {
    let text = demo_export();
    let bytes = text.as_bytes();
    // One byte in every fourth line (so every kind of line and field is hit), and bytes spread
    // evenly over the whole export; each flipped in its lowest bit and in its case bit.
    let mut positions: Vec<usize> = Vec::new();
    let mut start = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        if n % 4 == 0 {
            positions.push(start + (n * 37) % line.len());
        }
        start += line.len();
    }
    positions.extend((0..bytes.len()).step_by(bytes.len() / 100 + 1));
    positions.sort_unstable();
    positions.dedup();
    for at in positions {
        for flip in [0x01u8, 0x20] {
            let mut changed = bytes.to_vec();
            changed[at] ^= flip;
            let report = stembus::ledger::audit::verify_export(
                &changed[..],
                stembus::ledger::audit::Options::default(),
            );
            assert!(
                !report.verified && report.failure.is_some(),
                "flipping byte {at} with {flip:#04x} went unnoticed"
            );
        }
    }
}

#[test]
fn a_changed_ballot_is_caught_by_the_signed_head() {
    let text = demo_export();
    let mut all = raw_lines(text);
    let i = all
        .iter()
        .position(|l| l.contains(r#"\"choice\":\"against\""#))
        .unwrap_or_else(|| panic!("no ballot against"));
    // The attacker changes the body and recomputes the leaf hash, but cannot sign a head.
    let Line::Entry(e) = serde_json::from_str(&all[i]).unwrap_or_else(|e| panic!("{e}")) else {
        panic!("no entry")
    };
    let changed = Entry { body: e.body.replace(r#""choice":"against""#, r#""choice":"for""#), ..e };
    let event = event_of(&changed);
    let leaf = entry_hash(
        dimpact(),
        event.fact.meeting(),
        changed.index,
        changed.seq,
        event.at,
        changed.body.as_bytes(),
    );
    all[i] =
        serde_json::to_string(&Line::Entry(Entry { leaf_hash: hex(&leaf), ..changed })).unwrap_or_default();
    // The changed ballot's own signature gives it away, before the next signed head does.
    let report = assert_fails(&join(&all), Check::Signature, "does not verify");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.event.as_str()), Some("ballot_cast"));
}

#[test]
fn a_dropped_entry_is_detected() {
    let text = demo_export();
    let all = raw_lines(text);
    let i = all
        .iter()
        .position(|l| l.contains(r#"\"event\":\"ballot_cast\""#))
        .unwrap_or_else(|| panic!("no ballot"));
    let mut dropped = all.clone();
    dropped.remove(i);
    // The head signed after the dropped entry counts it.
    assert_fails(&join(&dropped), Check::TreeHead, "signs entries that are not in the export");
    // Dropped with its head, the gap in the stream's indexes shows.
    let mut dropped = all.clone();
    dropped.drain(i..i + 2);
    let report = assert_fails(&join(&dropped), Check::Stream, "are missing");
    assert!(report.failure.as_ref().and_then(|f| f.entry.as_ref()).is_some());
}

#[test]
fn the_last_entry_dropped_with_its_heads_leaves_the_end_line_counting_wrong() {
    let text = demo_export();
    let mut all = raw_lines(text);
    let end = all.pop().unwrap_or_default();
    // Drop the last entry and the heads after it; keep the end line.
    while all.last().is_some_and(|l| l.contains(r#""type":"head""#)) {
        all.pop();
    }
    all.pop();
    all.push(end);
    assert_fails(&join(&all), Check::Truncated, "the end line counts");
}

#[test]
fn a_dropped_ballot_resealed_is_caught_by_the_recount() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, is_ballot_in_poll);
    let stream = es[i].stream.clone();
    es.remove(i);
    for e in es.iter_mut().skip(i) {
        if e.stream == stream {
            e.index -= 1;
        }
    }
    let report = assert_fails(&reseal(text, &es), Check::Decision, "result");
    let f = failed(&report);
    assert_eq!(f.entry.as_ref().map(|e| e.event.as_str()), Some("poll_closed"), "{}", f.reason);
}

#[test]
fn a_duplicated_entry_is_detected() {
    let text = demo_export();
    let mut all = raw_lines(text);
    let i = all
        .iter()
        .position(|l| l.contains(r#"\"event\":\"ballot_cast\""#))
        .unwrap_or_else(|| panic!("no ballot"));
    let copy = all[i].clone();
    all.insert(i + 1, copy);
    assert_fails(&join(&all), Check::Order, "out of order or repeated");
}

#[test]
fn a_duplicated_ballot_resealed_is_refused_as_a_replay() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, is_ballot_in_poll);
    let mut copy = es[i].clone();
    // The same signed ballot again, as the next entry of its stream.
    copy.seq += 1;
    copy.index += 1;
    for e in es.iter_mut().skip(i + 1) {
        e.seq += 1;
        if e.stream == copy.stream {
            e.index += 1;
        }
    }
    es.insert(i + 1, copy);
    let report = assert_fails(&reseal(text, &es), Check::Rules, "signature.replayed");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.seq), Some(es[i + 1].seq));
}

#[test]
fn reordered_entries_are_detected() {
    let text = demo_export();
    let all = raw_lines(text);
    let i = all
        .iter()
        .position(|l| l.contains(r#"\"event\":\"ballot_cast\""#))
        .unwrap_or_else(|| panic!("no ballot"));
    let j = (i + 1..all.len()).find(|&j| all[j].contains(r#""type":"entry""#)).unwrap_or(i + 1);
    let mut swapped = all.clone();
    swapped.swap(i, j);
    assert_fails(&join(&swapped), Check::Stream, "missing here (dropped or moved)");
    // Two entries of one stream swapped with their heads: the later one comes first.
    let (a, b) = (i, j);
    let mut moved = all.clone();
    let later = moved.remove(b);
    moved.insert(a, later);
    assert_fails(&join(&moved), Check::Stream, "missing here");
}

#[test]
fn an_inserted_ballot_signed_by_an_unenrolled_key_is_refused() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, is_ballot_in_poll);
    let mut event = event_of(&es[i]);
    let Fact::BallotCast { ballot, .. } = &mut event.fact else { panic!("no ballot") };
    // A key nobody enrolled signs the same ballot anew.
    let stranger = SigningKey::from_bytes(&[9u8; 32]);
    let signed = ballot.signed.as_mut().unwrap_or_else(|| panic!("unsigned"));
    signed.key = KeyBytes::from(stranger.verifying_key().to_bytes());
    signed.sequence += 1000;
    es[i] = with_event(&es[i], &event);
    let report = assert_fails(&reseal(text, &es), Check::Rules, "signature.wrong_key");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.event.as_str()), Some("ballot_cast"));
}

#[test]
fn an_inserted_ballot_for_a_member_that_did_not_vote_is_caught_by_its_signature() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, is_ballot_in_poll);
    // A dishonest service adds a second ballot "by" the same person with a made-up signature.
    let mut event = event_of(&es[i]);
    let Fact::BallotCast { ballot, .. } = &mut event.fact else { panic!("no ballot") };
    let signed = ballot.signed.as_mut().unwrap_or_else(|| panic!("unsigned"));
    signed.sequence += 1;
    let mut extra = with_event(&es[i], &event);
    extra.seq += 1;
    extra.index += 1;
    for e in es.iter_mut().skip(i + 1) {
        e.seq += 1;
        if e.stream == extra.stream {
            e.index += 1;
        }
    }
    es.insert(i + 1, extra);
    let report = assert_fails(&reseal(text, &es), Check::Signature, "does not verify");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.seq), Some(es[i + 1].seq));
}

#[test]
fn a_ballot_moved_to_another_poll_is_detected() {
    let text = demo_export();
    let mut es = entries(text);
    let polls: Vec<Value> = es
        .iter()
        .filter_map(|e| match event_of(e).fact {
            Fact::PollOpened { poll, .. } => Some(Value::String(poll.to_string())),
            _ => None,
        })
        .collect();
    let i = position(&es, is_ballot_in_poll);
    let mut body: Value = serde_json::from_str(&es[i].body).unwrap_or_default();
    let other = polls.iter().find(|p| Some(*p) != body.get("poll")).cloned().unwrap_or_default();
    body["poll"] = other;
    es[i].body = body.to_string();
    assert_fails(&reseal(text, &es), Check::Decision, "poll");
}

#[test]
fn a_ballot_signed_with_a_revoked_key_is_refused() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, is_ballot_in_poll);
    let Fact::BallotCast { ballot, .. } = event_of(&es[i]).fact else { panic!("no ballot") };
    let key = ballot.signed.map(|s| s.key).unwrap_or_else(|| panic!("unsigned"));
    // The secretariat revoked the voter's key just before the ballot: the key signs nothing after.
    let revoked = Event {
        at: event_of(&es[i]).at,
        fact: Fact::KeyRevoked { person: ballot.person, key, signed: None },
    };
    let association_index = es.iter().take(i).filter(|e| e.stream == "association").count() as u64;
    let inserted = Entry {
        seq: es[i].seq,
        stream: "association".into(),
        index: association_index,
        body: serde_json::to_string(&revoked).unwrap_or_default(),
        leaf_hash: String::new(),
    };
    for e in es.iter_mut().skip(i) {
        e.seq += 1;
        if e.stream == "association" {
            e.index += 1;
        }
    }
    es.insert(i, inserted);
    let report = assert_fails(&reseal(text, &es), Check::Rules, "signature.key_revoked");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.event.as_str()), Some("ballot_cast"));
}

#[test]
fn a_declaration_that_contradicts_the_count_is_refused() {
    let text = demo_export();
    let mut es = entries(text);
    let i = position(&es, |e| matches!(e.fact, Fact::ResultDeclared { .. }));
    let mut event = event_of(&es[i]);
    let Fact::ResultDeclared { outcome, by, .. } = &mut event.fact else { panic!("no declaration") };
    assert_eq!(*outcome, Outcome::Adopted);
    *outcome = Outcome::Rejected;
    // Even the chair's own key (the demo's keys are public) cannot make it count.
    let _chair: PersonId = *by;
    es[i] = with_event(&es[i], &event);
    let report = assert_fails(&reseal(text, &es), Check::Rules, "declaration.contradicts_count");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.event.as_str()), Some("result_declared"));
}

#[test]
fn a_cut_off_export_is_detected() {
    let text = demo_export();
    let half = &text[..text.len() / 2];
    let cut = &half[..half.rfind('\n').map_or(0, |n| n + 1)];
    assert_fails(cut, Check::Truncated, "cut off");
}

#[test]
fn another_service_key_is_refused_when_the_auditor_pins_the_published_one() {
    let text = demo_export();
    let other = hex(&SigningKey::from_bytes(&[1u8; 32]).verifying_key().to_bytes());
    let options = stembus::ledger::audit::Options { service_key: Some(other), strict: false };
    let report = stembus::ledger::audit::verify_export(text.as_bytes(), options);
    assert_eq!(failed(&report).check, Check::Header);
    let published = hex(&service_key().verifying_key().to_bytes());
    let options = stembus::ledger::audit::Options { service_key: Some(published), strict: true };
    assert!(stembus::ledger::audit::verify_export(text.as_bytes(), options).verified);
}

/// The demo association with a resolution outside a meeting after the meeting (Art. 8.12), on
/// which two members voted, each vote signed by the person who cast it; and its export.
fn with_resolution_votes() -> String {
    let (_db, service) = demo_service(crate::db::Backend::Sqlite);
    let voters: Vec<(PersonId, stembus::core::MemberId)> = service
        .read(dimpact(), |s| s.register.representatives.keys().take(2).copied().collect())
        .unwrap_or_else(|e| panic!("{e}"));
    let resolution = stembus::core::ResolutionId::named("contributie-2023");
    let at = t("2022-12-08T09:00:00+01:00");
    let propose = Command::ProposeResolution {
        resolution,
        text: "De contributie voor 2023 wordt vastgesteld op het voorgestelde bedrag.".into(),
        kind: stembus::core::DecisionKind::Ordinary,
        closes_at: t("2022-12-22T17:00:00+01:00"),
        board_informed: true,
        supervisory_board_informed: true,
    };
    service.execute_scenario(dimpact(), propose, at).unwrap_or_else(|e| panic!("{e}"));
    for (person, member) in voters {
        let vote =
            Command::CastResolutionVote { resolution, member, person, choice: Choice::For, signed: None };
        service.execute_scenario(dimpact(), vote, at).unwrap_or_else(|e| panic!("{e}"));
    }
    export(&service, meeting_2022())
}

fn is_resolution_vote(e: &Event) -> bool {
    matches!(&e.fact, Fact::ResolutionVoteCast { .. })
}

#[test]
fn a_resolution_vote_in_the_association_stream_is_verified_by_its_signature() {
    let text = with_resolution_votes();
    let report = verify(&text);
    assert!(report.verified, "{}", report.to_text());
    assert_eq!(report.signatures, verify(demo_export()).signatures + 2, "both votes' signatures checked");

    // A dishonest service changes the choice of a vote and reseals: the voter's signature says so.
    let mut es = entries(&text);
    let i = position(&es, is_resolution_vote);
    let mut event = event_of(&es[i]);
    let Fact::ResolutionVoteCast { ballot, .. } = &mut event.fact else { panic!("no vote") };
    ballot.choice = Choice::Against;
    es[i] = with_event(&es[i], &event);
    let report = assert_fails(&reseal(&text, &es), Check::Signature, "does not verify");
    assert_eq!(failed(&report).entry.as_ref().map(|e| e.event.as_str()), Some("resolution_vote_cast"));

    // Or drops the signature: the core refuses an unsigned vote.
    let mut es = entries(&text);
    let mut event = event_of(&es[i]);
    let Fact::ResolutionVoteCast { ballot, .. } = &mut event.fact else { panic!("no vote") };
    ballot.signed = None;
    es[i] = with_event(&es[i], &event);
    assert_fails(&reseal(&text, &es), Check::Rules, "resolution_vote.unsigned");
}
