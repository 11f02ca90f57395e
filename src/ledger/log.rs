//! The bytes of the log itself: each logged event as a leaf of its stream's Merkle tree, and the
//! tree heads the service signs. Documented in docs/encoding.md ("Log entries and tree heads").
//!
//! A leaf binds the event's exact stored bytes to its place: association, stream, position in
//! the stream, position in the association's log, and time. An auditor hashes the bytes the
//! export carries; nobody re-serialises an event to check it.

use ed25519_dalek::SigningKey;

use super::merkle::{Hash, leaf_hash};
use super::signature::{self, PublicKey, SignatureError};
use crate::core::{AssociationId, Instant, MeetingId};

pub const TAG_ENTRY: &[u8] = b"stembus/v1/entry\0";
pub const TAG_TREE_HEAD: &[u8] = b"stembus/v1/tree-head\0";

/// The stream a leaf belongs to: a meeting's log, or the association's own stream (the
/// register, members' requests, resolutions outside a meeting), written as the nil UUID.
pub fn stream_bytes(meeting: Option<MeetingId>) -> [u8; 16] {
    meeting.map_or([0u8; 16], |m| *m.uuid().as_bytes())
}

/// Microseconds since the Unix epoch, as the log encodes a moment.
pub fn micros(at: Instant) -> i64 {
    at.timestamp_micros()
}

/// The leaf data of one logged event.
pub fn entry_bytes(
    association: AssociationId,
    meeting: Option<MeetingId>,
    stream_index: u64,
    seq: u64,
    at: Instant,
    body: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(TAG_ENTRY.len() + 16 + 16 + 8 + 8 + 8 + 4 + body.len());
    out.extend_from_slice(TAG_ENTRY);
    out.extend_from_slice(association.uuid().as_bytes());
    out.extend_from_slice(&stream_bytes(meeting));
    out.extend_from_slice(&stream_index.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&micros(at).to_be_bytes());
    // A body longer than 4 GiB cannot be logged; the service never makes one.
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The leaf hash of one logged event.
pub fn entry_hash(
    association: AssociationId,
    meeting: Option<MeetingId>,
    stream_index: u64,
    seq: u64,
    at: Instant,
    body: &[u8],
) -> Hash {
    leaf_hash(&entry_bytes(association, meeting, stream_index, seq, at, body))
}

/// The state of one stream's tree that the service vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    pub association: AssociationId,
    pub meeting: Option<MeetingId>,
    pub size: u64,
    pub root: Hash,
    pub timestamp: Instant,
}

impl TreeHead {
    /// The bytes the service signs.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(TAG_TREE_HEAD.len() + 16 + 16 + 8 + 32 + 8);
        out.extend_from_slice(TAG_TREE_HEAD);
        out.extend_from_slice(self.association.uuid().as_bytes());
        out.extend_from_slice(&stream_bytes(self.meeting));
        out.extend_from_slice(&self.size.to_be_bytes());
        out.extend_from_slice(&self.root);
        out.extend_from_slice(&micros(self.timestamp).to_be_bytes());
        out
    }

    pub fn sign(self, key: &SigningKey) -> SignedTreeHead {
        SignedTreeHead { signature: signature::sign(key, &self.to_bytes()), head: self }
    }
}

/// A tree head with the service's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedTreeHead {
    pub head: TreeHead,
    pub signature: [u8; 64],
}

impl SignedTreeHead {
    /// Checks the service's signature, strictly.
    pub fn verify(&self, service_key: &PublicKey) -> Result<(), SignatureError> {
        signature::verify(service_key, &self.head.to_bytes(), &self.signature)
    }
}

/// Lowercase hex of bytes, as the API and the export write hashes, keys and signatures.
pub fn hex(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

/// Bytes from lowercase or uppercase hex: hexadecimal digits only (`u8::from_str_radix` alone
/// would also take a `+` sign as the first of two digits).
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Instant {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_entry_binds_its_place_and_its_bytes() {
        let a = AssociationId::named("a");
        let m = Some(MeetingId::named("m"));
        let at = t("2026-06-10T19:00:00+02:00");
        let base = entry_hash(a, m, 3, 10, at, b"{}");
        assert_ne!(base, entry_hash(a, m, 4, 10, at, b"{}"));
        assert_ne!(base, entry_hash(a, m, 3, 11, at, b"{}"));
        assert_ne!(base, entry_hash(a, None, 3, 10, at, b"{}"));
        assert_ne!(base, entry_hash(AssociationId::named("b"), m, 3, 10, at, b"{}"));
        assert_ne!(base, entry_hash(a, m, 3, 10, t("2026-06-10T19:00:01+02:00"), b"{}"));
        assert_ne!(base, entry_hash(a, m, 3, 10, at, b"{ }"));
        let bytes = entry_bytes(a, m, 3, 10, at, b"{}");
        assert_eq!(bytes.len(), TAG_ENTRY.len() + 16 + 16 + 8 + 8 + 8 + 4 + 2);
        assert!(bytes.starts_with(TAG_ENTRY));
    }

    #[test]
    fn a_signed_tree_head_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = PublicKey::of(&key);
        let head = TreeHead {
            association: AssociationId::named("a"),
            meeting: Some(MeetingId::named("m")),
            size: 5,
            root: [9u8; 32],
            timestamp: t("2026-06-10T19:00:00Z"),
        };
        let signed = head.sign(&key);
        assert_eq!(signed.verify(&public), Ok(()));
        let mut other = signed;
        other.head.size = 6;
        assert!(other.verify(&public).is_err());
        let mut other = signed;
        other.head.root[0] ^= 1;
        assert!(other.verify(&public).is_err());
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 0xab, 0xff])), Some(vec![0, 1, 0xab, 0xff]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
    }
}
