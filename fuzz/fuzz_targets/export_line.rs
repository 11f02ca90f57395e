//! One line of an export (`stembus-export` v1, src/ledger/export.rs) from arbitrary bytes, as
//! the verifier reads each line.
//!
//! Properties: never panics; a line that parses writes back to JSON that parses to the same
//! line (nothing is lost or changed between reading and writing), and written twice it is the
//! same text (one spelling per line, which the verifier demands); the bytes a header's
//! signature covers can be computed for any header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stembus::ledger::export::Line;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = serde_json::from_slice::<Line>(data) else { return };
    let mut written = Vec::new();
    line.write_to(&mut written).unwrap_or_else(|e| panic!("a parsed line cannot be written: {e}"));
    assert_eq!(written.last(), Some(&b'\n'));
    let text = &written[..written.len() - 1];
    assert!(!text.contains(&b'\n'), "a written line holds a newline");
    let again: Line =
        serde_json::from_slice(text).unwrap_or_else(|e| panic!("a written line does not parse: {e}"));
    assert_eq!(again, line, "reading back a written line changes it");
    let mut rewritten = Vec::new();
    again.write_to(&mut rewritten).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rewritten, written, "one line, two spellings");
    if let Line::Header(header) = &line {
        let bytes = header.to_bytes();
        assert!(bytes.starts_with(stembus::ledger::export::TAG_HEADER));
    }
});
