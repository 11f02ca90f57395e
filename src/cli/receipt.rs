//! A ballot's receipt: what the voter keeps to show later that the ballot is in the meeting's
//! log, and `stembus receipt check`, which shows it.
//!
//! The receipt file (JSON) holds the ballot as signed (the canonical statement in hex and the
//! signature), where it is in the meeting's log (leaf index and hash), the inclusion proof, the
//! signed tree head it was proven against, and the service key that signed that head. With the
//! service key kept in the receipt, a later check notices a service that signs with another key.
//!
//! `receipt check` first checks the receipt on its own (the ballot's signature, the head's
//! signature, the proof from the leaf to the head's root), then asks the service for the
//! meeting's latest signed head (the final head once the meeting is closed), verifies its
//! signature, verifies that it extends the receipt's head (a consistency proof) and that the
//! ballot's leaf is in it (a fresh inclusion proof). The service's answers are never trusted:
//! every proof is checked against the hashes the voter already holds.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::CliError;
use super::client::{self, Api, Consistency, LogReceipt, Meeting, SignatureView, TreeHeadView};
use crate::core::{AssociationId, MeetingId};
use crate::ledger::canonical::BallotStatement;
use crate::ledger::log::{SignedTreeHead, hex, unhex};
use crate::ledger::merkle::{verify_consistency, verify_inclusion};
use crate::ledger::signature::{self, PublicKey};

/// The `format` field of a receipt file.
pub const FORMAT: &str = "stembus-ballot-receipt";
/// The version of the receipt file this build writes and reads.
pub const VERSION: u32 = 1;

/// A ballot's receipt as `stembus vote` stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredReceipt {
    pub format: String,
    pub version: u32,
    /// The service the ballot was cast with (for the voter's information; `receipt check`
    /// asks the service named on its command line).
    pub server: String,
    pub association: String,
    pub meeting: String,
    pub item: String,
    /// The poll the ballot was cast in; null for an advance ballot.
    pub poll: Option<String>,
    pub member: String,
    /// The person who cast and signed the ballot.
    pub person: String,
    /// `for`, `against` or `abstain`.
    pub choice: String,
    /// `own`, `proxy` or `advance`.
    pub via: String,
    pub cast_at: String,
    /// The canonical bytes of the ballot statement that were signed (docs/encoding.md), hex.
    pub statement: String,
    pub signature: SignatureView,
    /// The ballot's position in the meeting's log (from 0).
    pub leaf_index: u64,
    /// SHA-256(0x00 ‖ entry bytes) of the ballot's entry, hex.
    pub leaf_hash: String,
    /// The RFC 6962 inclusion proof of the leaf in `tree_head`, hex hashes from the leaf up.
    pub inclusion_proof: Vec<String>,
    /// The head the service signed after storing the ballot.
    pub tree_head: TreeHeadView,
    /// The service's public key that signed `tree_head`, hex.
    pub service_key: String,
}

fn failed(what: impl Into<String>) -> CliError {
    CliError::Verification(what.into())
}

/// Checks a receipt for entry `index` with leaf hash `leaf_hash` of the log of `meeting` (the
/// association's own log when `None`): the head's signature by `service_key`, that the head is
/// of that log, and the inclusion proof from the leaf to the head's root. Returns the head.
pub fn verify_log_receipt(
    leaf_index: u64,
    leaf_hash: &str,
    inclusion_proof: &[String],
    tree_head: &TreeHeadView,
    service_key: &PublicKey,
    association: AssociationId,
    meeting: Option<MeetingId>,
) -> Result<SignedTreeHead, String> {
    let head = verify_head(tree_head, service_key, association, meeting)?;
    verify_leaf(leaf_index, leaf_hash, inclusion_proof, &head)?;
    Ok(head)
}

/// Checks the inclusion proof from the leaf of entry `leaf_index` to the root of `head`.
pub fn verify_leaf(
    leaf_index: u64,
    leaf_hash: &str,
    inclusion_proof: &[String],
    head: &SignedTreeHead,
) -> Result<(), String> {
    let leaf = client::hash(leaf_hash)
        .ok_or_else(|| format!("the leaf hash {leaf_hash} is not a 64-digit hex hash"))?;
    let proof = client::hashes(inclusion_proof)?;
    verify_inclusion(&leaf, leaf_index, head.head.size, &proof, &head.head.root).map_err(|e| {
        format!(
            "the inclusion proof does not lead from the leaf hash of entry {leaf_index} to the root of the signed head of size {} ({e})",
            head.head.size
        )
    })
}

/// A signed head, checked: its signature by `service_key`, and that it is of the log asked for.
pub fn verify_head(
    view: &TreeHeadView,
    service_key: &PublicKey,
    association: AssociationId,
    meeting: Option<MeetingId>,
) -> Result<SignedTreeHead, String> {
    let head = view.to_signed()?;
    head.verify(service_key).map_err(|e| {
        format!(
            "the tree head of size {} signed at {} does not verify with the service key {service_key}: {e}",
            view.size, view.timestamp
        )
    })?;
    if head.head.association != association || head.head.meeting != meeting {
        let log = |m: Option<MeetingId>| {
            m.map_or("the association's own log".to_owned(), |m| format!("meeting {m}"))
        };
        return Err(format!(
            "the tree head is of {} in association {}, not of {} in association {association}",
            log(head.head.meeting),
            head.head.association,
            log(meeting)
        ));
    }
    Ok(head)
}

impl StoredReceipt {
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let error = |reason: String| CliError::File { path: path.display().to_string(), reason };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let receipt: StoredReceipt =
            serde_json::from_str(&text).map_err(|e| error(format!("not a Stembus ballot receipt: {e}")))?;
        if receipt.format != FORMAT || receipt.version != VERSION {
            return Err(error(format!(
                "a receipt of format {} version {}; this build reads {FORMAT} version {VERSION}",
                receipt.format, receipt.version
            )));
        }
        Ok(receipt)
    }

    /// Writes the receipt to a new file in `dir` (mode 0600: it says how the member voted),
    /// named after the meeting and the ballot's place in its log; returns the path.
    pub fn store(&self, dir: &Path) -> Result<PathBuf, CliError> {
        let path = dir.join(format!("receipt-{}-{}.json", self.meeting, self.leaf_index));
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| CliError::File { path: path.display().to_string(), reason: e.to_string() })?;
        bytes.push(b'\n');
        crate::keys::create_private(&path, &bytes)
            .map_err(|e| CliError::File { path: path.display().to_string(), reason: e.to_string() })?;
        Ok(path)
    }

    fn ids(&self) -> Result<(AssociationId, MeetingId), CliError> {
        let association =
            self.association.parse().map_err(|e| failed(format!("the receipt's association: {e}")))?;
        let meeting = self.meeting.parse().map_err(|e| failed(format!("the receipt's meeting: {e}")))?;
        Ok((association, meeting))
    }

    /// The receipt on its own: the ballot statement and its signature agree with the receipt's
    /// fields, the head is signed by the receipt's service key, and the proof leads from the
    /// leaf to the head's root. Returns the service key and the head.
    pub fn verify_offline(&self) -> Result<(PublicKey, SignedTreeHead), CliError> {
        let (service_key, head) = self.verify_signed()?;
        verify_leaf(self.leaf_index, &self.leaf_hash, &self.inclusion_proof, &head)
            .map_err(|e| failed(format!("the receipt does not hold together: {e}")))?;
        Ok((service_key, head))
    }

    /// What the receipt's signatures cover: the ballot statement, and the head by the receipt's
    /// service key.
    fn verify_signed(&self) -> Result<(PublicKey, SignedTreeHead), CliError> {
        let (association, meeting) = self.ids()?;
        let service_key = PublicKey::from_hex(&self.service_key)
            .map_err(|e| failed(format!("the receipt's service key cannot be used: {e}")))?;
        self.verify_statement(association, meeting)?;
        let head = verify_head(&self.tree_head, &service_key, association, Some(meeting))
            .map_err(|e| failed(format!("the receipt does not hold together: {e}")))?;
        Ok((service_key, head))
    }

    fn verify_statement(&self, association: AssociationId, meeting: MeetingId) -> Result<(), CliError> {
        let bad = |what: String| failed(format!("the receipt's ballot statement {what}"));
        let bytes = unhex(&self.statement).ok_or_else(|| bad("is not hex".into()))?;
        let statement =
            BallotStatement::from_bytes(&bytes).map_err(|e| bad(format!("is not canonical: {e}")))?;
        let same = statement.association == association
            && statement.meeting == meeting
            && statement.item.to_string() == self.item
            && statement.poll.map(|p| p.to_string()) == self.poll
            && statement.member.to_string() == self.member
            && statement.person.to_string() == self.person
            && super::choice_word(statement.choice) == self.choice
            && statement.sequence == self.signature.sequence;
        if !same {
            return Err(bad(
                "does not say what the receipt says (item, poll, member, person, choice or sequence)".into(),
            ));
        }
        let key = PublicKey::from_hex(&self.signature.key)
            .map_err(|e| bad(format!("names an unusable key: {e}")))?;
        let sig: [u8; 64] = unhex(&self.signature.signature)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("has a signature that is not 128 hex digits".into()))?;
        signature::verify(&key, &bytes, &sig)
            .map_err(|e| bad(format!("is not signed by key {}: {e}", self.signature.key)))
    }
}

/// `stembus receipt check --server URL FILE`.
pub fn check(server: &str, path: &Path) -> Result<(), CliError> {
    let receipt = StoredReceipt::load(path)?;
    let (association, meeting) = receipt.ids()?;
    let api = Api::with_session(server)?;
    let (service_key, kept) = receipt.verify_signed()?;
    if let Err(e) = verify_leaf(receipt.leaf_index, &receipt.leaf_hash, &receipt.inclusion_proof, &kept) {
        return Err(diagnose(&api, &receipt, association, meeting, e));
    }

    let now_key = client::service_key(&api)?;
    if now_key != service_key {
        return Err(failed(format!(
            "the service now signs with key {now_key}, but the receipt's head was signed with key {service_key}: the service's key was replaced, or {} is not the service the ballot was cast with",
            api.server()
        )));
    }

    let base = format!("/associations/{association}/meetings/{meeting}");
    let latest: TreeHeadView = api.get(&format!("{base}/log/head"))?;
    let mut latest = verify_head(&latest, &service_key, association, Some(meeting))
        .map_err(|e| failed(format!("the meeting's latest head: {e}")))?;
    let fresh: LogReceipt = api.get(&format!("{base}/log/entries/{}/receipt", receipt.leaf_index))?;
    let fresh_head = verify_head(&fresh.tree_head, &service_key, association, Some(meeting))
        .map_err(|e| failed(format!("the head of the service's new receipt: {e}")))?;
    if fresh_head.head.size < latest.head.size {
        return Err(failed(format!(
            "the service proved entry {} against a head of size {}, older than its latest head of size {}",
            receipt.leaf_index, fresh_head.head.size, latest.head.size
        )));
    }
    // The log may have grown between the two requests: the newer head is the latest.
    if fresh_head.head.size > latest.head.size {
        latest = fresh_head;
    } else if fresh_head.head.root != latest.head.root {
        return Err(failed(format!(
            "the service signed two different heads of size {}: roots {} and {} (keep both: this is evidence of a forked log)",
            latest.head.size,
            hex(&latest.head.root),
            hex(&fresh_head.head.root)
        )));
    }

    let (from, to) = (kept.head.size, latest.head.size);
    if to < from {
        return Err(failed(format!(
            "the meeting's latest head has {to} entries, fewer than the {from} of the head in the receipt: the log shrank"
        )));
    }
    let proof = if to == from {
        Vec::new()
    } else {
        let c: Consistency = api.get(&format!("{base}/log/consistency?from={from}&to={to}"))?;
        client::hashes(&c.proof).map_err(|e| failed(format!("the consistency proof: {e}")))?
    };
    verify_consistency(from, to, &kept.head.root, &latest.head.root, &proof).map_err(|e| {
        failed(format!(
            "the latest head (size {to}, signed at {}) does not extend the head in the receipt (size {from}, signed at {}): {e}; the service signed two heads that contradict each other (keep the receipt and the latest head as evidence)",
            stamp(&latest),
            stamp(&kept)
        ))
    })?;

    let leaf = client::hash(&receipt.leaf_hash).unwrap_or_default();
    let fresh_proof = client::hashes(&fresh.inclusion_proof)
        .map_err(|e| failed(format!("the service's inclusion proof: {e}")))?;
    verify_inclusion(&leaf, receipt.leaf_index, to, &fresh_proof, &latest.head.root).map_err(|e| {
        failed(format!(
            "the ballot (entry {}, leaf hash {}) is not proven to be in the latest head of size {to}: {e}",
            receipt.leaf_index, receipt.leaf_hash
        ))
    })?;

    let closed = api.get::<Meeting>(&base).map(|m| m.phase == "closed").unwrap_or(false);
    println!("included in the head of size {to} signed at {}", stamp(&latest));
    println!(
        "  the ballot for member {} ({}; entry {} of the meeting's log), signed by key {} at sequence {}",
        receipt.member, receipt.choice, receipt.leaf_index, receipt.signature.key, receipt.signature.sequence
    );
    println!(
        "  the head extends the one in the receipt (size {from}, signed at {}); both signed by the service key {service_key}",
        stamp(&kept)
    );
    if closed {
        println!("  the meeting is closed: this is its final head");
    }
    Ok(())
}

fn stamp(head: &SignedTreeHead) -> String {
    head.head.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The receipt's proof does not lead from its leaf to its signed head; asks the service for the
/// entry's leaf hash to say which part was changed. Only a diagnosis: the check has failed
/// either way.
fn diagnose(
    api: &Api,
    receipt: &StoredReceipt,
    association: AssociationId,
    meeting: MeetingId,
    error: String,
) -> CliError {
    let message = format!("the receipt does not hold together: {error}");
    let path =
        format!("/associations/{association}/meetings/{meeting}/log/entries/{}/receipt", receipt.leaf_index);
    let Ok(fresh) = api.get::<LogReceipt>(&path) else { return failed(message) };
    let hint = if !fresh.leaf_hash.eq_ignore_ascii_case(&receipt.leaf_hash) {
        format!(
            "the log's entry {} has leaf hash {}, the receipt says {}: the receipt's leaf hash was changed",
            receipt.leaf_index, fresh.leaf_hash, receipt.leaf_hash
        )
    } else {
        "the leaf hash is the log's, so a hash of the receipt's inclusion proof was changed".to_owned()
    };
    failed(format!("{message}; {hint}"))
}
