//! The small real export that seeds the verifier's fuzz target (fuzz/fuzz_targets/
//! verify_export.rs), kept true to the code: made here from `fuzz/seeds/small-meeting.toml`
//! through the service and compared with the committed `fuzz/seeds/export/small-meeting.jsonl`
//! (`STEMBUS_BLESS=1` writes it anew). And the inputs the fuzzers found, as regressions.

use stembus::core::{MeetingId, RulesProfile};
use stembus::ledger::audit::Check;
use stembus::scenario::Scenario;
use stembus::service::{Notices, Service};
use stembus::store::Store;

use crate::db::{Backend, TestDb};
use crate::support::*;

const SCENARIO: &str = include_str!("../../fuzz/seeds/small-meeting.toml");
const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/export/small-meeting.jsonl");

fn small_export() -> String {
    let db = TestDb::new(Backend::Sqlite);
    let store = Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::new(store, service_key());
    let start = t("2026-01-05T09:00:00+01:00");
    service
        .create_association(dimpact(), "Coöperatie Klein U.A.", RulesProfile::dimpact_2023_toml(), start)
        .unwrap_or_else(|e| panic!("{e}"));
    let scenario = Scenario::from_toml(SCENARIO).unwrap_or_else(|e| panic!("{e}"));
    let mut at = None;
    for step in scenario.step {
        let moment = step.at.or(at).unwrap_or(start);
        at = Some(moment);
        service
            .execute_scenario_with(dimpact(), step.command, moment, Notices::Withhold)
            .unwrap_or_else(|e| panic!("the seed meeting's step at {moment} is refused: {e}"));
    }
    let mut out = Vec::new();
    service
        .export(dimpact(), MeetingId::named("alv"), t("2026-02-21T09:00:00+01:00"), &mut out)
        .unwrap_or_else(|e| panic!("{e}"));
    String::from_utf8(out).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_fuzz_seed_export_is_the_small_meeting_and_verifies() {
    let made = small_export();
    let report = verify(&made);
    assert!(report.verified, "{}", report.to_text());
    assert_eq!(report.polls.len(), 1);
    assert!(
        report.signatures >= 5,
        "ballots, a proxy, a declaration and key enrolments: {}",
        report.signatures
    );
    if std::env::var_os("STEMBUS_BLESS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(SEED).parent().unwrap_or_else(|| panic!("{SEED}")))
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(SEED, &made).unwrap_or_else(|e| panic!("{e}"));
    }
    let committed = std::fs::read_to_string(SEED).unwrap_or_else(|e| panic!("{SEED}: {e}"));
    assert_eq!(committed, made, "the committed fuzz seed is stale: run with STEMBUS_BLESS=1");
}

fn seed() -> String {
    std::fs::read_to_string(SEED).unwrap_or_else(|e| panic!("{SEED}: {e}"))
}

fn refused(text: &str, check: Check, reason_part: &str) {
    let report = verify(text);
    assert!(!report.verified, "verified: {text:?}");
    let failure = report.failure.unwrap_or_else(|| panic!("no failure named"));
    assert_eq!(failure.check, check, "{}", failure.reason);
    assert!(failure.reason.contains(reason_part), "{reason_part:?} not in {:?}", failure.reason);
}

// The property of the verify_export fuzz target (only the exact bytes of the real export verify)
// did not hold: the verifier read lines with `BufRead::lines`, which takes `\r\n` for `\n` and a
// last line without its newline for a whole one, so the export with its last byte dropped, or
// with Windows line ends, verified.

#[test]
fn an_export_without_its_last_newline_does_not_verify() {
    let text = seed();
    assert!(verify(&text).verified);
    let cut = text.strip_suffix('\n').unwrap_or_else(|| panic!("the export ends in a newline"));
    refused(cut, Check::Truncated, "does not end in a newline");
}

#[test]
fn an_export_with_windows_line_ends_does_not_verify() {
    let crlf = seed().replace('\n', "\r\n");
    refused(&crlf, Check::Format, "line 1 is not written as an export writes it");
    // One line end changed is enough.
    let text = seed();
    let at = text.find('\n').map_or(0, |n| text[n + 1..].find('\n').map_or(0, |m| n + 1 + m));
    let one = format!("{}\r{}", &text[..at], &text[at..]);
    refused(&one, Check::Format, "line 2 is not written as an export writes it");
}

#[test]
fn an_export_that_is_not_utf8_is_refused_with_its_line() {
    let mut bytes = seed().into_bytes();
    let second = bytes.iter().position(|b| *b == b'\n').map_or(0, |n| n + 1);
    bytes[second + 3] = 0xff;
    let report = stembus::ledger::audit::verify_export(bytes.as_slice(), Default::default());
    let failure = report.failure.unwrap_or_else(|| panic!("verified"));
    assert_eq!((failure.line, failure.check), (2, Check::Format), "{}", failure.reason);
}
