//! The iCalendar invitation that goes with a convocation (RFC 5545, `METHOD:REQUEST` as RFC
//! 5546 describes it): one `VCALENDAR` with one `VEVENT`, times in UTC, text escaped and
//! lines folded at 75 octets, every line ended by CRLF.
//!
//! Written here rather than taken from a crate: it is one object with a dozen properties, and
//! what matters (escaping, folding, CRLF) is tested below.

use chrono::Duration;

use crate::core::Instant;

/// The MIME type of the attachment.
pub const CONTENT_TYPE: &str = "text/calendar; method=REQUEST; charset=UTF-8";

/// How long a meeting is taken to last when nothing says otherwise.
pub const DEFAULT_DURATION_HOURS: i64 = 2;

/// One meeting as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Globally unique and stable for the meeting, e.g. `MEETING_ID@stembus`, so a later
    /// invitation for the same meeting updates the same calendar entry.
    pub uid: String,
    /// When the invitation was made (the convocation).
    pub stamp: Instant,
    pub start: Instant,
    pub end: Instant,
    pub summary: String,
    pub location: String,
    pub description: String,
    /// A link to join or read about the meeting, if there is one.
    pub url: Option<String>,
    /// The organiser's name (the association) and a URI for it.
    pub organizer_name: String,
    pub organizer_uri: String,
    /// The addressee: name and e-mail address.
    pub attendee: Option<(String, String)>,
}

/// The end of a meeting that starts at `start` when its end is not known.
pub fn default_end(start: Instant) -> Instant {
    start + Duration::hours(DEFAULT_DURATION_HOURS)
}

/// The invitation as an iCalendar object: CRLF line ends, folded lines.
pub fn invitation(inv: &Invitation) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Stembus//Stembus//NL".into(),
        "CALSCALE:GREGORIAN".into(),
        "METHOD:REQUEST".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape_text(&inv.uid)),
        format!("DTSTAMP:{}", utc(inv.stamp)),
        format!("DTSTART:{}", utc(inv.start)),
        format!("DTEND:{}", utc(inv.end.max(inv.start))),
        "SEQUENCE:0".into(),
        "STATUS:CONFIRMED".into(),
        "TRANSP:OPAQUE".into(),
        format!("SUMMARY:{}", escape_text(&inv.summary)),
        format!("LOCATION:{}", escape_text(&inv.location)),
        format!("DESCRIPTION:{}", escape_text(&inv.description)),
    ];
    if let Some(url) = inv.url.as_deref().filter(|u| is_uri(u)) {
        lines.push(format!("URL:{url}"));
    }
    if is_uri(&inv.organizer_uri) {
        lines.push(format!("ORGANIZER;CN={}:{}", param_value(&inv.organizer_name), inv.organizer_uri));
    }
    if let Some((name, address)) = &inv.attendee
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        lines.push(format!(
            "ATTENDEE;CN={};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{address}",
            param_value(name)
        ));
    }
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

/// A moment as an iCalendar UTC date-time: `20260610T170000Z`.
pub fn utc(moment: Instant) -> String {
    moment.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545, 3.3.11): backslash, semicolon and comma escaped, every line
/// break (CRLF, LF or CR) as `\n`, other control characters dropped.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value (RFC 5545, 3.2): always quoted; a double quote cannot appear in one
/// and becomes a single quote, control characters are dropped.
pub fn param_value(text: &str) -> String {
    let inner: String =
        text.chars().filter(|c| !c.is_control()).map(|c| if c == '"' { '\'' } else { c }).collect();
    format!("\"{inner}\"")
}

/// One content line, folded (RFC 5545, 3.1): no line longer than 75 octets, a continuation
/// begins with a space, never inside a UTF-8 character; every line ends with CRLF.
pub fn fold(line: &str) -> String {
    const LIMIT: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / LIMIT * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > LIMIT {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
    out
}

/// Unfolds a folded iCalendar text: the inverse of [`fold`], for tests and readers.
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else { return false };
    !scheme.is_empty()
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Instant {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn sample() -> Invitation {
        Invitation {
            uid: "0b3c@stembus".into(),
            stamp: t("2026-05-20T10:00:00+02:00"),
            start: t("2026-06-10T19:00:00+02:00"),
            end: default_end(t("2026-06-10T19:00:00+02:00")),
            summary: "ALV; statuten, begroting\\2026".into(),
            location: "Stadhuis, Raadzaal".into(),
            description: "1. Opening\n2. Statutenwijziging (voorstel bijgevoegd)\r\n3. Rondvraag".into(),
            url: Some("https://meet.example.org/alv".into()),
            organizer_name: "Coöperatie \"Dimpact\" U.A.".into(),
            organizer_uri: "https://stembus.example.org".into(),
            attendee: Some(("Gemeente Assen".into(), "alv@assen.example.org".into())),
        }
    }

    #[test]
    fn text_values_escape_backslash_semicolon_comma_and_line_breaks() {
        assert_eq!(escape_text("a,b;c\\d"), "a\\,b\\;c\\\\d");
        assert_eq!(escape_text("one\ntwo\r\nthree\rfour"), "one\\ntwo\\nthree\\nfour");
        assert_eq!(escape_text("bell\u{7}"), "bell");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let line = format!("DESCRIPTION:{}", "é".repeat(100));
        let folded = fold(&line);
        assert!(folded.ends_with("\r\n"));
        for l in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
        assert_eq!(fold("SHORT:x"), "SHORT:x\r\n");
        let exact = "X".repeat(75);
        assert_eq!(fold(&exact), format!("{exact}\r\n"));
        assert_eq!(fold(&"X".repeat(76)), format!("{}\r\n X\r\n", "X".repeat(75)));
    }

    #[test]
    fn the_invitation_is_a_request_with_utc_times_and_crlf_lines() {
        let ics = invitation(&sample());
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'), "a bare LF");
        let lines = unfold(&ics);
        for needle in [
            "METHOD:REQUEST\r\n",
            "UID:0b3c@stembus\r\n",
            "DTSTAMP:20260520T080000Z\r\n",
            "DTSTART:20260610T170000Z\r\n",
            "DTEND:20260610T190000Z\r\n",
            "SUMMARY:ALV\\; statuten\\, begroting\\\\2026\r\n",
            "LOCATION:Stadhuis\\, Raadzaal\r\n",
            "DESCRIPTION:1. Opening\\n2. Statutenwijziging (voorstel bijgevoegd)\\n3. Rondvraag\r\n",
            "URL:https://meet.example.org/alv\r\n",
            "ORGANIZER;CN=\"Coöperatie 'Dimpact' U.A.\":https://stembus.example.org\r\n",
            "RSVP=FALSE:mailto:alv@assen.example.org\r\n",
        ] {
            assert!(lines.contains(needle), "missing {needle:?} in\n{lines}");
        }
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
    }

    #[test]
    fn a_place_that_is_no_link_gives_no_url() {
        let mut inv = sample();
        inv.url = Some("Stadhuis, Raadzaal".into());
        assert!(!invitation(&inv).contains("\r\nURL:"));
    }
}
