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

/// The bytes that end a run of a string's plain characters: its closing quote, an escape, and
/// the control characters, which serde_json always escapes.
const SPECIAL: [bool; 256] = {
    let mut special = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        special[b] = true;
        b += 1;
    }
    special[b'"' as usize] = true;
    special[b'\\' as usize] = true;
    special
};

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
    ///
    /// One pass over the bytes: an entry's body escapes every quote of the event inside it, one
    /// every few bytes, too often for a search for the next escape to pay.
    fn string(&mut self) -> Option<String> {
        let rest = self.0.strip_prefix('"')?;
        let bytes = rest.as_bytes();
        let mut out = String::with_capacity(rest.len().min(4096));
        let mut run = 0;
        let mut i = 0;
        let end = loop {
            while bytes.get(i).is_some_and(|b| !SPECIAL[usize::from(*b)]) {
                i += 1;
            }
            // A run ends before an ASCII byte, so it is whole characters of `rest`.
            out.push_str(rest.get(run..i)?);
            match *bytes.get(i)? {
                b'"' => break i,
                b'\\' => {
                    match *bytes.get(i + 1)? {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        _ => return None,
                    }
                    i += 2;
                    run = i;
                }
                // A control character, which serde_json never writes as itself.
                _ => return None,
            }
        };
        self.0 = rest.get(end + 1..)?;
        Some(out)
    }

    /// A moment as chrono writes one (RFC 3339 in UTC with `Z`, the fraction of a second in 3,
    /// 6 or 9 digits, the fewest that hold it, none when it is zero):
    /// `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z`, read here; any other spelling (an offset, a leap
    /// second) read by chrono's own `Deserialize` and taken only when it is the spelling chrono
    /// writes.
    fn instant(&mut self) -> Option<Instant> {
        let saved = self.0;
        let text = self.plain()?;
        if let Some(moment) = rfc3339_utc(text) {
            return Some(moment);
        }
        // Read by chrono, and taken only when chrono writes it back the same (an offset such
        // as `+00:00` reads as the same moment, written with `Z`).
        self.0 = saved;
        let moment: Instant = self.value()?;
        (serde_json::to_value(moment).ok()?.as_str()? == text).then_some(moment)
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
        crate::core::keys::Bytes::from_lower_hex(self.plain()?)
    }

    fn end(&self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff[fff[fff]]]Z` exactly as chrono writes the moment it returns; None
/// for anything else.
fn rfc3339_utc(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.last() != Some(&b'Z') || !separators.iter().all(|(i, c)| b.get(*i) == Some(c)) {
        return None;
    }
    // The fraction: none, or 3, 6 or 9 digits; chrono writes the fewest that hold it, so 3
    // digits are never all zero, and 6 or 9 never end in three zeros.
    let nanos = match b.len() {
        20 => 0,
        24 | 27 | 30 if b.get(19) == Some(&b'.') => {
            let width = b.len() - 21;
            let fraction = digits(20..20 + width)?;
            let shortest = if width == 3 { fraction != 0 } else { fraction % 1000 != 0 };
            if !shortest {
                return None;
            }
            fraction * 10u32.pow(9 - width as u32)
        }
        _ => return None,
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(i32::try_from(digits(0..4)?).ok()?, digits(5..7)?, digits(8..10)?)?;
    Some(date.and_hms_nano_opt(digits(11..13)?, digits(14..16)?, digits(17..19)?, nanos)?.and_utc())
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
        // Moments with a fraction of a second, as the service's clock gives them, in each of
        // the widths chrono writes.
        let fractional = [120_000_000, 123_456_000, 123_456_789, 1].map(|nanos| {
            let mut event = ballot(4, Choice::For, Via::Own, true, true);
            event.at += chrono::Duration::nanoseconds(nanos);
            event
        });
        for event in ballots().into_iter().chain(fractional) {
            let body = body_of(&event);
            assert_eq!(ballot_event(&body), Some(event), "{body}");
            agrees(&body);
        }
    }

    #[test]
    fn a_string_is_taken_only_with_the_escapes_serde_json_writes() {
        let read = |text: &str| {
            let mut c = Cursor(text);
            c.string().map(|s| (s, c.0.to_owned()))
        };
        let taken = [
            (r#""""#, ""),
            (r#""plain","#, "plain"),
            (r#""{\"at\":\"x\"}""#, r#"{"at":"x"}"#),
            (r#""back\\slash""#, r"back\slash"),
            (r#""\\\"""#, r#"\""#),
            (r#""Coöperatie € 🗳""#, "Coöperatie € 🗳"),
        ];
        for (text, value) in taken {
            let (read_value, after) = read(text).unwrap_or_else(|| panic!("not taken: {text}"));
            assert_eq!(read_value, value, "{text}");
            assert_eq!(
                serde_json::from_str::<String>(&text[..text.len() - after.len()]).ok(),
                Some(read_value)
            );
            assert_eq!(serde_json::to_string(value).ok().as_deref(), Some(&text[..text.len() - after.len()]));
        }
        // Escapes serde_json does not write for these characters, control characters written
        // as themselves, and a string that does not end.
        for text in
            [r#""\u0041""#, r#""\/""#, r#""\n""#, "\"tab\there\"", r#""open"#, r#""dangling\"#, r#""x\""#]
        {
            assert_eq!(read(text), None, "{text:?}");
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
            // The same moment with an offset instead of `Z`, and a second written with a
            // fraction of zero: read by chrono as the same moment, written otherwise.
            body.replacen(r#""at":"2026-06-10T17:06:00Z""#, r#""at":"2026-06-10T17:06:00+00:00""#, 1),
            body.replacen(r#""at":"2026-06-10T17:06:00Z""#, r#""at":"2026-06-10T17:06:00.000Z""#, 1),
            body.replacen(r#""at":"2026-06-10T17:06:00Z""#, r#""at":"2026-06-10T17:06:00.123000Z""#, 1),
            body.replacen(r#""at":"2026-06-10T17:06:00Z""#, r#""at":"2026-06-10T17:06:00.12Z""#, 1),
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
