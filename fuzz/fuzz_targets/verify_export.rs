//! The auditor's verifier (`ledger::audit::verify_export`) on arbitrary bytes. The seed corpus
//! is a small real export (fuzz/seeds/export/small-meeting.jsonl) and its mutations.
//!
//! Properties: never panics; the real export verifies (checked once, so the property below is
//! not empty); any other bytes do not: a report that says "verified" is only ever given for the
//! exact bytes of the real export, so no flipped, inserted or dropped byte anywhere, and no
//! other spelling of a line, goes unnoticed; a report that says "not verified" names a failure
//! or a declaration that disagrees with the count; the report's text can always be written.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use stembus::ledger::audit::{Options, verify_export};

const EXPORT: &[u8] = include_bytes!("../seeds/export/small-meeting.jsonl");

static SOUND: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SOUND.call_once(|| {
        let report = verify_export(EXPORT, Options::default());
        assert!(report.verified, "the seed export does not verify: {:?}", report.failure);
        assert!(report.entries > 0 && report.signatures > 0 && !report.polls.is_empty());
    });
    let report = verify_export(data, Options::default());
    if report.verified {
        assert_eq!(data, EXPORT, "bytes other than the real export verify");
    } else {
        assert!(
            report.failure.is_some() || report.polls.iter().any(|p| p.agrees == Some(false)),
            "not verified, and no reason given"
        );
    }
    let _ = report.to_text();
});
