//! One line of an export (`stembus-export` v1, src/ledger/export.rs) from arbitrary bytes, as
//! the verifier reads each line.
//!
//! Properties: never panics; a line that parses writes back to JSON that parses to the same
//! line (nothing is lost or changed between reading and writing), and written twice it is the
//! same text (one spelling per line, which the verifier demands); the bytes a header's
//! signature covers can be computed for any header. The verifier's readers of the exact spelling
//! (`stembus::ledger::exact`) take only what serde_json reads as the same value and writes back
//! as the same text, for lines and for the bodies of ballots.
#![no_main]

use libfuzzer_sys::fuzz_target;
use stembus::core::Event;
use stembus::ledger::exact;
use stembus::ledger::export::Line;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(entry) = exact::entry_line(text) {
            let read: Line = serde_json::from_str(text).unwrap_or_else(|e| panic!("exact reads what serde_json refuses: {e}"));
            assert_eq!(read, Line::Entry(entry.clone()), "exact and serde_json read a line differently");
            let written = serde_json::to_string(&Line::Entry(entry)).unwrap_or_default();
            assert_eq!(written, text, "exact reads a line that is not spelled as the export writes it");
        }
        if let Some(event) = exact::ballot_event(text) {
            let read: Event = serde_json::from_str(text).unwrap_or_else(|e| panic!("exact reads what serde_json refuses: {e}"));
            assert_eq!(read, event, "exact and serde_json read a ballot differently");
            let written = serde_json::to_value(&event).map(|v| v.to_string()).unwrap_or_default();
            assert_eq!(written, text, "exact reads a ballot that is not spelled as the service writes it");
        }
    }
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
