//! Persons' Ed25519 keys as the log records them, and the signatures that statements carry.
//!
//! A person enrols a key by signing a key statement with it (proof of possession), rotates
//! it by signing the new key's statement with both the old and the new key, and revokes it by
//! signing with it, or through the secretariat when the key is lost. A key is never enrolled
//! twice, by the same person or another: a rotated or revoked key stays retired.
//!
//! The bytes that are signed are the canonical statements of `ledger::canonical`
//! (docs/encoding.md); this module only holds what the log records.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::calendar::Instant;
use super::event::Fact;
use super::ids::PersonId;
use super::model::Association;
use crate::ledger::canonical::{
    BallotStatement, DeclarationStatement, KeyAction, KeyStatement, ProxyStatement, ResolutionVoteStatement,
};

/// `N` raw bytes, written as lowercase hexadecimal in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes<const N: usize>(pub [u8; N]);

/// A public Ed25519 key: 32 bytes.
pub type KeyBytes = Bytes<32>;
/// An Ed25519 signature: 64 bytes.
pub type SignatureBytes = Bytes<64>;
/// A SHA-256 digest: 32 bytes (the scan of a paper proxy).
pub type Sha256Bytes = Bytes<32>;

impl<const N: usize> Bytes<N> {
    pub fn to_hex(&self) -> String {
        ::hex::encode(self.0)
    }

    /// Exactly `2 × N` hexadecimal digits (either case; no sign, which `u8::from_str_radix`
    /// alone would take).
    pub fn from_hex(text: &str) -> Option<Self> {
        Self::decode(text, &HEX_DIGITS)
    }

    /// Exactly `2 × N` lowercase hexadecimal digits: the one spelling the service writes, and
    /// the only one an export may hold (two spellings of one hash would make two exports of
    /// one log).
    pub fn from_lower_hex(text: &str) -> Option<Self> {
        Self::decode(text, &LOWER_HEX_DIGITS)
    }

    /// Every log entry carries keys and signatures: decoded through a table of the digits'
    /// values, not through `from_str_radix`.
    fn decode(text: &str, digits: &[u8; 256]) -> Option<Self> {
        if text.len() != 2 * N {
            return None;
        }
        let mut out = [0u8; N];
        for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let (high, low) = (digits[usize::from(pair[0])], digits[usize::from(pair[1])]);
            if high > 0xf || low > 0xf {
                return None;
            }
            *byte = (high << 4) | low;
        }
        Some(Self(out))
    }
}

/// The value of each hexadecimal digit, 0xff for every other byte; uppercase digits only when
/// `upper`.
const fn digit_table(upper: bool) -> [u8; 256] {
    let mut table = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        if upper {
            table[b'A' as usize + i] = 10 + i as u8;
        }
        i += 1;
    }
    table
}

/// Digits of either case.
const HEX_DIGITS: [u8; 256] = digit_table(true);
/// Lowercase digits only.
const LOWER_HEX_DIGITS: [u8; 256] = digit_table(false);

impl<const N: usize> From<[u8; N]> for Bytes<N> {
    fn from(bytes: [u8; N]) -> Self {
        Self(bytes)
    }
}

impl<const N: usize> fmt::Debug for Bytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> fmt::Display for Bytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl<const N: usize> Serialize for Bytes<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de, const N: usize> Deserialize<'de> for Bytes<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("expected {} hexadecimal digits", 2 * N)))
    }
}

/// The author's signature on a statement: the key that signed, the signer's sequence number
/// (strictly increasing over everything the key signs) and the Ed25519 signature over the
/// statement's canonical bytes, which the log rebuilds from the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub key: KeyBytes,
    pub sequence: u64,
    pub signature: SignatureBytes,
}

/// A signature by a key named elsewhere (a key's own statement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySignature {
    pub sequence: u64,
    pub signature: SignatureBytes,
}

/// What became of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// The person's key: what it signs counts.
    Current,
    /// Replaced by a newer key; what it signs from then on is refused.
    Rotated,
    /// Revoked; what it signs from then on is refused.
    Revoked,
}

/// One key the log has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    pub key: KeyBytes,
    pub person: PersonId,
    pub status: KeyStatus,
    pub enrolled_at: Instant,
    pub retired_at: Option<Instant>,
    /// The highest sequence number this key has signed.
    pub last_sequence: u64,
}

/// Every key enrolled in an association, and each person's current key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRing {
    pub keys: BTreeMap<KeyBytes, KeyRecord>,
    pub current: BTreeMap<PersonId, KeyBytes>,
}

impl KeyRing {
    /// The person's current key.
    pub fn current_of(&self, person: PersonId) -> Option<&KeyRecord> {
        self.current.get(&person).and_then(|k| self.keys.get(k))
    }

    pub fn get(&self, key: &KeyBytes) -> Option<&KeyRecord> {
        self.keys.get(key)
    }

    /// The keys a person has had, oldest first.
    pub fn of_person(&self, person: PersonId) -> Vec<&KeyRecord> {
        let mut keys: Vec<&KeyRecord> = self.keys.values().filter(|r| r.person == person).collect();
        keys.sort_by_key(|r| r.enrolled_at);
        keys
    }

    pub(crate) fn enrol(&mut self, person: PersonId, key: KeyBytes, sequence: u64, at: Instant) {
        self.keys.insert(
            key,
            KeyRecord {
                key,
                person,
                status: KeyStatus::Current,
                enrolled_at: at,
                retired_at: None,
                last_sequence: sequence,
            },
        );
        self.current.insert(person, key);
    }

    pub(crate) fn retire(&mut self, key: &KeyBytes, status: KeyStatus, at: Instant) {
        if let Some(record) = self.keys.get_mut(key) {
            record.status = status;
            record.retired_at = Some(at);
            if self.current.get(&record.person) == Some(key) {
                self.current.remove(&record.person);
            }
        }
    }

    /// Records that `key` signed `sequence`.
    pub(crate) fn used(&mut self, key: &KeyBytes, sequence: u64) {
        if let Some(record) = self.keys.get_mut(key) {
            record.last_sequence = record.last_sequence.max(sequence);
        }
    }
}

/// One signature an event carries: the key, the canonical bytes it signs and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBytes {
    pub key: KeyBytes,
    pub bytes: Vec<u8>,
    pub signature: SignatureBytes,
}

/// The signatures `fact` carries, with the canonical statement bytes each one signs, rebuilt
/// from the fact and `state`, the state just before the fact. The core checks these when it
/// decides; the auditor's verifier checks them again, in batches. A proxy signed with a key
/// that `state` does not know yields nothing (the core refuses such a proxy).
pub fn signatures_in(state: &Association, fact: &Fact) -> Vec<SignedBytes> {
    let key_statement = |person, key: &KeyBytes, action, sequence| {
        KeyStatement { association: state.id, person, public_key: key.0, action, sequence }.to_bytes()
    };
    match fact {
        Fact::KeyEnrolled { person, key, sequence, signature } => vec![SignedBytes {
            key: *key,
            bytes: key_statement(*person, key, KeyAction::Enrol, *sequence),
            signature: *signature,
        }],
        Fact::KeyRotated { person, old_key, key, sequence, signature, new_key_signature } => {
            let bytes = key_statement(*person, key, KeyAction::Rotate, *sequence);
            vec![
                SignedBytes { key: *old_key, bytes: bytes.clone(), signature: *signature },
                SignedBytes { key: *key, bytes, signature: *new_key_signature },
            ]
        }
        Fact::KeyRevoked { person, key, signed: Some(s) } => vec![SignedBytes {
            key: *key,
            bytes: key_statement(*person, key, KeyAction::Revoke, s.sequence),
            signature: s.signature,
        }],
        Fact::BallotCast { meeting, poll, item, ballot } => ballot
            .signed
            .map(|signed| SignedBytes {
                key: signed.key,
                bytes: BallotStatement {
                    association: state.id,
                    meeting: *meeting,
                    item: *item,
                    poll: *poll,
                    member: ballot.member,
                    person: ballot.person,
                    choice: ballot.choice,
                    sequence: signed.sequence,
                }
                .to_bytes(),
                signature: signed.signature,
            })
            .into_iter()
            .collect(),
        Fact::ResolutionVoteCast { resolution, ballot } => ballot
            .signed
            .map(|signed| SignedBytes {
                key: signed.key,
                bytes: ResolutionVoteStatement {
                    association: state.id,
                    resolution: *resolution,
                    member: ballot.member,
                    person: ballot.person,
                    choice: ballot.choice,
                    sequence: signed.sequence,
                }
                .to_bytes(),
                signature: signed.signature,
            })
            .into_iter()
            .collect(),
        Fact::ProxyGranted { meeting, proxy } => proxy
            .signed
            .and_then(|signed| {
                let person = state.keys.get(&signed.key)?.person;
                Some(SignedBytes {
                    key: signed.key,
                    bytes: ProxyStatement {
                        association: state.id,
                        meeting: *meeting,
                        proxy: proxy.id,
                        grantor: proxy.grantor,
                        person,
                        holder: proxy.holder,
                        instructions: proxy.instructions.clone(),
                        sequence: signed.sequence,
                    }
                    .to_bytes(),
                    signature: signed.signature,
                })
            })
            .into_iter()
            .collect(),
        Fact::ResultDeclared { meeting, poll, by, outcome, signed } => {
            let counts = state
                .meetings
                .get(meeting)
                .and_then(|m| m.polls.get(poll))
                .and_then(|p| p.result.as_ref())
                .map(|r| r.counts)
                .unwrap_or_default();
            vec![SignedBytes {
                key: signed.key,
                bytes: DeclarationStatement {
                    association: state.id,
                    meeting: *meeting,
                    poll: *poll,
                    chair: *by,
                    outcome: *outcome,
                    votes_for: counts.in_favour,
                    votes_against: counts.against,
                    abstentions: counts.abstain,
                    sequence: signed.sequence,
                }
                .to_bytes(),
                signature: signed.signature,
            }]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_either_case_and_lowercase_only() {
        let bytes = KeyBytes::from([0xab; 32]);
        let lower = bytes.to_hex();
        let upper = lower.to_uppercase();
        assert_eq!(KeyBytes::from_hex(&lower), Some(bytes));
        assert_eq!(KeyBytes::from_hex(&upper), Some(bytes));
        assert_eq!(KeyBytes::from_lower_hex(&lower), Some(bytes));
        assert_eq!(KeyBytes::from_lower_hex(&upper), None);
        let mixed = format!("A{}", &lower[1..]);
        assert_eq!(KeyBytes::from_lower_hex(&mixed), None);
        for bad in [&lower[1..], "+b".repeat(32).as_str(), "0x".repeat(32).as_str(), "gg".repeat(32).as_str()]
        {
            assert_eq!(KeyBytes::from_hex(bad), None, "{bad}");
            assert_eq!(KeyBytes::from_lower_hex(bad), None, "{bad}");
        }
        let all: Vec<u8> = (0..=255).collect();
        let every = SignatureBytes::from(<[u8; 64]>::try_from(&all[..64]).unwrap_or([0; 64]));
        assert_eq!(SignatureBytes::from_lower_hex(&every.to_hex()), Some(every));
    }
}
