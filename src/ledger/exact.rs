//! Readers of the one spelling the export writes, for what makes up nearly all of a large
//! export: entry lines, and the bodies of ballots. The auditor's verifier tries these first and
//! serde_json after them.
//!
//! Each reader accepts only text that is, byte for byte, what serde_json writes for the value it
//! returns (keys in the order written, no spaces, numbers without leading zeros, strings with no
//! escape but `\"` and `\\`), and returns None for any other text, which the verifier then reads
//! with serde_json as before: to refuse it, or to accept it as serde_json does. A text these
//! readers accept is read by serde_json as the same value (the tests and the `export` fuzz target
//! hold them to that), so they change how fast the verifier reads, never what it accepts.

use serde::Deserialize;
use serde::de::IntoDeserializer;

use super::export::Entry;
use crate::core::{Ballot, Choice, Event, Fact, Instant, KeyBytes, SignatureBytes, Signed, Via};

/// What is left of the text being read.
struct Cursor<'a>(&'a str);

impl<'a> Cursor<'a> {
    /// Takes `literal`, which must come next.
    fn take(&mut self, literal: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(literal)?;
        Some(())
    }

    /// A string without escapes or control characters, its quotes taken.
    fn plain(&mut self) -> Option<&'a str> {
        let rest = self.0.strip_prefix('"')?;
        let end = rest.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        let (text, after) = rest.split_at(end);
        self.0 = after.get(1..)?;
        Some(text)
    }

    /// An unsigned integer as serde_json writes one: digits, no leading zero, no overflow.
    fn number(&mut self) -> Option<u64> {
        let digits = self.0.bytes().take_while(u8::is_ascii_digit).count();
        let text = self.0.get(..digits)?;
        if text.is_empty() || (text.len() > 1 && text.starts_with('0')) {
            return None;
        }
        let n = text.parse().ok()?;
        self.0 = self.0.get(digits..)?;
        Some(n)
    }

    /// A string as serde_json writes it, its escapes undone: only `\"` and `\\` are taken,
    /// since serde_json writes every other character as itself, except control characters,
    /// which it escapes and which are left to serde_json here.
    fn string(&mut self) -> Option<String> {
        let rest = self.0.strip_prefix('"')?;
        let bytes = rest.as_bytes();
        let mut out = String::with_capacity(rest.len().min(4096));
        let mut start = 0;
        let mut end = None;
        for i in memchr::memchr2_iter(b'"', b'\\', bytes) {
            if i < start {
                // The character after a backslash, taken with it.
                continue;
            }
            if bytes.get(i) == Some(&b'"') {
                end = Some(i);
                break;
            }
            out.push_str(rest.get(start..i)?);
            match *bytes.get(i + 1)? {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                _ => return None,
            }
            start = i + 2;
        }
        let end = end?;
        if bytes.get(..end)?.iter().any(|b| *b < 0x20) {
            return None;
        }
        out.push_str(rest.get(start..end)?);
        self.0 = rest.get(end + 1..)?;
        Some(out)
    }

    /// A moment: `YYYY-MM-DDTHH:MM:SSZ` read here, as chrono reads it; any other spelling (a
    /// fraction of a second, an offset, a leap second) read by chrono's own `Deserialize`.
    fn instant(&mut self) -> Option<Instant> {
        let saved = self.0;
        let text = self.plain()?;
        let b = text.as_bytes();
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = b.get(range)?;
            part.iter()
                .all(u8::is_ascii_digit)
                .then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        };
        let simple = b.len() == 20
            && b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && b.get(10) == Some(&b'T')
            && b.get(13) == Some(&b':')
            && b.get(16) == Some(&b':')
            && b.get(19) == Some(&b'Z');
        let read = simple
            .then(|| {
                let date = chrono::NaiveDate::from_ymd_opt(
                    i32::try_from(digits(0..4)?).ok()?,
                    digits(5..7)?,
                    digits(8..10)?,
                )?;
                Some(date.and_hms_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?)?.and_utc())
            })
            .flatten();
        if read.is_some() {
            return read;
        }
        self.0 = saved;
        self.value()
    }

    /// A string read by `T`'s own `Deserialize`, as serde_json hands it a string.
    fn value<T: for<'de> Deserialize<'de>>(&mut self) -> Option<T> {
        let text = self.plain()?;
        T::deserialize(IntoDeserializer::<serde::de::value::Error>::into_deserializer(text)).ok()
    }

    /// An id, spelled as the service writes ids: a UUID in lowercase with hyphens (an id also
    /// reads from other text, a readable key, which is left to serde_json here), read by
    /// `FromStr`, which is what its `Deserialize` does with the string it reads.
    fn id<T: std::str::FromStr>(&mut self) -> Option<T> {
        let text = self.plain()?;
        let spelt = text.len() == 36
            && text.bytes().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => b == b'-',
                _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
            });
        spelt.then(|| text.parse().ok()).flatten()
    }

    /// `N` bytes in lowercase hexadecimal, as the service writes keys and signatures.
    fn hex<const N: usize>(&mut self) -> Option<crate::core::keys::Bytes<N>> {
        let text = self.plain()?;
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        crate::core::keys::Bytes::from_hex(text)
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// An entry line, `{"type":"entry","seq":…,"stream":…,"index":…,"body":…,"leaf_hash":…}`.
pub fn entry_line(text: &str) -> Option<Entry> {
    let mut c = Cursor(text);
    c.take(r#"{"type":"entry","seq":"#)?;
    let seq = c.number()?;
    c.take(r#","stream":"#)?;
    let stream = c.plain()?.to_owned();
    c.take(r#","index":"#)?;
    let index = c.number()?;
    c.take(r#","body":"#)?;
    let body = c.string()?;
    c.take(r#","leaf_hash":"#)?;
    let leaf_hash = c.plain()?.to_owned();
    c.take("}")?;
    c.end()?;
    Some(Entry { seq, stream, index, body, leaf_hash })
}

/// The body of a `ballot_cast` event, as the service stores it (through `serde_json::Value`,
/// keys in alphabetical order):
/// `{"at":…,"ballot":{"cast_at":…,"choice":…,"member":…,"person":…[,"signed":{"key":…,"sequence":…,"signature":…}],"via":…},"event":"ballot_cast","item":…,"meeting":…,"poll":…}`.
pub fn ballot_event(body: &str) -> Option<Event> {
    let mut c = Cursor(body);
    c.take(r#"{"at":"#)?;
    let at = c.instant()?;
    c.take(r#","ballot":{"cast_at":"#)?;
    let cast_at = c.instant()?;
    c.take(r#","choice":"#)?;
    let choice: Choice = c.value()?;
    c.take(r#","member":"#)?;
    let member = c.id()?;
    c.take(r#","person":"#)?;
    let person = c.id()?;
    let signed = if c.take(r#","signed":{"key":"#).is_some() {
        let key: KeyBytes = c.hex()?;
        c.take(r#","sequence":"#)?;
        let sequence = c.number()?;
        c.take(r#","signature":"#)?;
        let signature: SignatureBytes = c.hex()?;
        c.take("}")?;
        Some(Signed { key, sequence, signature })
    } else {
        None
    };
    c.take(r#","via":{"#)?;
    let via = if c.take(r#""proxy":"#).is_some() {
        let proxy = c.id()?;
        c.take(r#","via":"proxy"}"#)?;
        Via::Proxy { proxy }
    } else if c.take(r#""via":"own"}"#).is_some() {
        Via::Own
    } else {
        c.take(r#""via":"advance"}"#)?;
        Via::Advance
    };
    c.take(r#"},"event":"ballot_cast","item":"#)?;
    let item = c.id()?;
    c.take(r#","meeting":"#)?;
    let meeting = c.id()?;
    c.take(r#","poll":"#)?;
    let poll = if c.take("null").is_some() { None } else { Some(c.id()?) };
    c.take("}")?;
    c.end()?;
    let ballot = Ballot { member, person, choice, via, cast_at, signed };
    Some(Event { at, fact: Fact::BallotCast { meeting, poll, item, ballot } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId};
    use crate::ledger::export::Line;
    use proptest::prelude::*;

    fn body_of(event: &Event) -> String {
        serde_json::to_value(event).map(|v| v.to_string()).unwrap_or_default()
    }

    fn line_of(entry: &Entry) -> String {
        serde_json::to_string(&Line::Entry(entry.clone())).unwrap_or_default()
    }

    /// Whatever the readers take, serde_json reads as the same value and writes back as the
    /// same text.
    fn agrees(text: &str) {
        if let Some(entry) = entry_line(text) {
            assert_eq!(line_of(&entry), text);
            let line: Line = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(line, Line::Entry(entry));
        }
        if let Some(event) = ballot_event(text) {
            assert_eq!(body_of(&event), text);
            let read: Event = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
            assert_eq!(read, event);
        }
    }

    fn ballot(n: u8, choice: Choice, via: Via, signed: bool, poll: bool) -> Event {
        let at: Instant = "2026-06-10T17:06:00Z".parse().unwrap_or_default();
        let signed = signed.then_some(Signed {
            key: KeyBytes::from([n; 32]),
            sequence: u64::from(n) * 1_000_000_007,
            signature: SignatureBytes::from([n ^ 0x5a; 64]),
        });
        Event {
            at,
            fact: Fact::BallotCast {
                meeting: MeetingId::named("alv"),
                poll: poll.then(|| PollId::named(&format!("poll-{n}"))),
                item: AgendaItemId::named("item-3"),
                ballot: Ballot {
                    member: MemberId::named(&format!("member-{n}")),
                    person: PersonId::named("person"),
                    choice,
                    via,
                    cast_at: at + chrono::Duration::seconds(i64::from(n)),
                    signed,
                },
            },
        }
    }

    fn ballots() -> Vec<Event> {
        let mut all = Vec::new();
        for (n, choice) in [Choice::For, Choice::Against, Choice::Abstain].into_iter().enumerate() {
            for via in [Via::Own, Via::Advance, Via::Proxy { proxy: ProxyId::named("proxy-1") }] {
                for signed in [true, false] {
                    for poll in [true, false] {
                        all.push(ballot(n as u8, choice, via, signed, poll));
                    }
                }
            }
        }
        all
    }

    #[test]
    fn every_kind_of_ballot_reads_as_serde_json_reads_it() {
        for event in ballots() {
            let body = body_of(&event);
            assert_eq!(ballot_event(&body), Some(event), "{body}");
            agrees(&body);
        }
    }

    #[test]
    fn other_events_and_other_spellings_are_left_to_serde_json() {
        let body = body_of(&ballot(1, Choice::For, Via::Own, true, true));
        let respelt = [
            body.replacen(r#"{"at""#, r#"{ "at""#, 1),
            body.replacen(r#""choice":"for""#, r#""choice":"f\u006fr""#, 1),
            body.replacen(r#""sequence":1000000007"#, r#""sequence":01000000007"#, 1),
            body.replacen(r#""sequence":1000000007"#, r#""sequence":1000000007.0"#, 1),
            body.replacen(r#""poll":"#, r#""extra":1,"poll":"#, 1),
            // An id also reads from a readable key, and hexadecimal in capitals: both read as
            // values the service would write otherwise.
            {
                let meeting = MeetingId::named("alv").to_string();
                body.replacen(&meeting, "alv", 1)
            },
            body.replacen("01010101", "0A010101", 1),
            format!("{body} "),
            body.to_uppercase(),
        ];
        for text in respelt {
            assert_ne!(text, body);
            assert_eq!(ballot_event(&text), None, "{text}");
        }
    }

    #[test]
    fn entry_lines_read_as_serde_json_reads_them() {
        let body = body_of(&ballot(2, Choice::Against, Via::Own, true, true));
        for body in [body.as_str(), "", r#"a "quoted" \ back\\slash"#, "é ✓ \u{7f}"] {
            let entry = Entry {
                seq: 42,
                stream: "association".into(),
                index: 0,
                body: body.into(),
                leaf_hash: "ab".repeat(32),
            };
            let line = line_of(&entry);
            assert_eq!(entry_line(&line), Some(entry), "{line}");
            agrees(&line);
        }
        // A control character is escaped by serde_json: left to it.
        let entry =
            Entry { seq: 1, stream: "s".into(), index: 1, body: "a\nb".into(), leaf_hash: String::new() };
        assert_eq!(entry_line(&line_of(&entry)), None);
    }

    proptest! {
        /// Any text at all: what the readers take, serde_json takes as the same value.
        #[test]
        fn the_readers_take_nothing_serde_json_reads_otherwise(
            seq in any::<u64>(),
            index in any::<u64>(),
            body in ".*",
            stream in "[a-z0-9\"\\\\-]{0,40}",
            cut in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let entry = Entry { seq, stream, index, body, leaf_hash: "0f".repeat(32) };
            let line = line_of(&entry);
            if let Some(read) = entry_line(&line) {
                prop_assert_eq!(read, entry);
            }
            agrees(&line);
            // The line with one byte changed, where that leaves UTF-8.
            let mut bytes = line.clone().into_bytes();
            let at = cut.index(bytes.len());
            bytes[at] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
            // A ballot's body with one byte changed.
            let event = &ballots()[cut.index(36)];
            let mut bytes = body_of(event).into_bytes();
            let at = cut.index(bytes.len());
            bytes[at] = byte;
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }
}
