//! The export of a meeting's log: format `stembus-export`, version 1, documented in
//! `docs/audit.md`. JSON Lines (one JSON object per line, UTF-8, `\n`), so it is written and
//! verified as a stream in bounded memory:
//!
//! 1. one `header`: the association, the meeting, the streams the export holds (the
//!    association's own stream with the register and the keys, the meeting's stream, and the
//!    streams of the meetings it follows up), the service's public key and the rules profile;
//! 2. every `entry` of those streams in log order (`seq`), each with its stream, its index in
//!    the stream, the event's exact stored bytes (`body`) and its leaf hash; each stream's
//!    signed tree heads (`head`) follow the entry that brings the stream to their size;
//! 3. one `end` with the counts, so that a cut-off export is told from a whole one.
//!
//! The signatures of ballots, proxies, declarations and keys are inside the event bodies; the
//! statements they sign are rebuilt from the events (docs/encoding.md).

use serde::{Deserialize, Serialize};

use super::log::{SignedTreeHead, hex};
use crate::core::{AssociationId, Instant, MeetingId};

/// The name of the format, in every header.
pub const FORMAT: &str = "stembus-export";
/// The version this build writes and reads.
pub const VERSION: u32 = 1;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Line {
    Header(Header),
    Entry(Entry),
    Head(Head),
    End(End),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    pub association: AssociationId,
    pub association_name: String,
    pub meeting: MeetingId,
    /// The streams the export holds: `association` and meeting ids.
    pub streams: Vec<String>,
    /// The public key that signs the tree heads, hex.
    pub service_key: String,
    /// The association's rules profile, as TOML.
    pub profile: String,
    pub exported_at: Instant,
    /// The service's signature over [`Header::to_bytes`], hex: the service vouches for the
    /// association, the meeting, the streams and the rules profile the log was decided under.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The position in the association's log (1, 2, …; other meetings' entries are left out).
    pub seq: u64,
    /// `association` or the meeting's id.
    pub stream: String,
    /// The position in the stream: 0, 1, 2, … without gaps.
    pub index: u64,
    /// The event exactly as stored: the bytes the leaf hashes.
    pub body: String,
    /// SHA-256(0x00 ‖ entry bytes), hex (docs/encoding.md, "Log entries").
    pub leaf_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub stream: String,
    pub size: u64,
    /// The root of the stream's tree over its first `size` entries, hex.
    pub root: String,
    pub timestamp: Instant,
    /// The service's signature over the tree head bytes, hex.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct End {
    pub entries: u64,
    pub heads: u64,
}

/// The domain tag of a signed export header, version 1 (with its 0x00).
pub const TAG_HEADER: &[u8] = b"stembus/v1/export-header\0";

impl Header {
    /// The bytes the service signs (docs/audit.md): the tag, the association's and the
    /// meeting's 16 UUID bytes, the name and the profile each as a big-endian `u32` length and
    /// UTF-8 bytes, the moment of export in microseconds (`i64`), and the streams as a `u32`
    /// count and 16 bytes each (the association's own stream as the nil UUID). The format and
    /// version are in the tag; the service key is the key that verifies.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(TAG_HEADER.len() + 64 + self.profile.len() + 16 * self.streams.len());
        out.extend_from_slice(TAG_HEADER);
        out.extend_from_slice(self.association.uuid().as_bytes());
        out.extend_from_slice(self.meeting.uuid().as_bytes());
        for text in [&self.association_name, &self.profile] {
            out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&super::log::micros(self.exported_at).to_be_bytes());
        out.extend_from_slice(&u32::try_from(self.streams.len()).unwrap_or(u32::MAX).to_be_bytes());
        for stream in &self.streams {
            let uuid = stream.parse::<uuid::Uuid>().unwrap_or(uuid::Uuid::nil());
            out.extend_from_slice(uuid.as_bytes());
        }
        out
    }
}

impl Head {
    pub fn of(stream: &str, signed: &SignedTreeHead) -> Self {
        Head {
            stream: stream.to_owned(),
            size: signed.head.size,
            root: hex(&signed.head.root),
            timestamp: signed.head.timestamp,
            signature: hex(&signed.signature),
        }
    }
}

impl Line {
    /// Writes the line: compact JSON and a newline.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}
