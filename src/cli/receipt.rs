//! A ballot's receipt: what the voter keeps to show later that the ballot is in the meeting's
//! log, and `stembus receipt check`, which shows it. A vote on a resolution outside a meeting
//! has a receipt of its own kind (`stembus-resolution-vote-receipt`), against the association's
//! log; `receipt check` reads both.
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
use crate::ledger::canonical::{BallotStatement, ResolutionVoteStatement};
use crate::ledger::log::{SignedTreeHead, hex, unhex};
use crate::ledger::merkle::{verify_consistency, verify_inclusion};
use crate::ledger::signature::{self, PublicKey};

/// The `format` field of a receipt file.
pub const FORMAT: &str = "stembus-ballot-receipt";
/// The version of the receipt file this build writes and reads.
pub const VERSION: u32 = 1;

/// The `format` field of the receipt file of a vote on a resolution outside a meeting.
pub const RESOLUTION_FORMAT: &str = "stembus-resolution-vote-receipt";

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

/// The receipt of a vote on a resolution outside a meeting (Art. 8.12), as
/// `stembus resolution-vote` stores it: the same parts as a ballot's, against the association's
/// log.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolutionReceipt {
    pub format: String,
    pub version: u32,
    pub server: String,
    pub association: String,
    pub resolution: String,
    pub member: String,
    /// The person who cast and signed the vote.
    pub person: String,
    /// `for`, `against` or `abstain`.
    pub choice: String,
    pub cast_at: String,
    /// The canonical bytes of the resolution vote statement that were signed, hex.
    pub statement: String,
    pub signature: SignatureView,
    /// The vote's position in the association's log (from 0).
    pub leaf_index: u64,
    pub leaf_hash: String,
    pub inclusion_proof: Vec<String>,
    pub tree_head: TreeHeadView,
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

/// A receipt file of either kind.
enum AnyReceipt {
    Ballot(Box<StoredReceipt>),
    ResolutionVote(Box<ResolutionReceipt>),
}

/// Reads a receipt file of either kind, by its `format` and `version`.
fn load_any(path: &Path) -> Result<AnyReceipt, CliError> {
    let error = |reason: String| CliError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| error(format!("not a Stembus receipt: {e}")))?;
    let (format, version) = (value["format"].as_str().unwrap_or_default(), value["version"].as_u64());
    let not_one = |e: serde_json::Error| error(format!("not a Stembus receipt of format {format}: {e}"));
    match (format, version) {
        (FORMAT, Some(v)) if v == u64::from(VERSION) => {
            Ok(AnyReceipt::Ballot(Box::new(serde_json::from_str(&text).map_err(not_one)?)))
        }
        (RESOLUTION_FORMAT, Some(v)) if v == u64::from(VERSION) => {
            Ok(AnyReceipt::ResolutionVote(Box::new(serde_json::from_str(&text).map_err(not_one)?)))
        }
        _ => Err(error(format!(
            "a receipt of format {format} version {}; this build reads {FORMAT} and {RESOLUTION_FORMAT}, version {VERSION}",
            version.map_or_else(|| "none".to_owned(), |v| v.to_string())
        ))),
    }
}

/// Writes a receipt to a new file `name` in `dir` (mode 0600: it says how the member voted);
/// returns the path.
fn store_private(receipt: &impl Serialize, dir: &Path, name: &str) -> Result<PathBuf, CliError> {
    let path = dir.join(name);
    let mut bytes = serde_json::to_vec_pretty(receipt)
        .map_err(|e| CliError::File { path: path.display().to_string(), reason: e.to_string() })?;
    bytes.push(b'\n');
    crate::keys::create_private(&path, &bytes)
        .map_err(|e| CliError::File { path: path.display().to_string(), reason: e.to_string() })?;
    Ok(path)
}

/// A statement's signature as a receipt holds it, checked over `bytes`; `bad` words a failure.
fn verify_statement_signature(
    signed: &SignatureView,
    bytes: &[u8],
    bad: impl Fn(String) -> CliError,
) -> Result<(), CliError> {
    let key = PublicKey::from_hex(&signed.key).map_err(|e| bad(format!("names an unusable key: {e}")))?;
    let sig: [u8; 64] = unhex(&signed.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("has a signature that is not 128 hex digits".into()))?;
    signature::verify(&key, bytes, &sig).map_err(|e| bad(format!("is not signed by key {}: {e}", signed.key)))
}

impl StoredReceipt {
    pub fn load(path: &Path) -> Result<Self, CliError> {
        match load_any(path)? {
            AnyReceipt::Ballot(r) => Ok(*r),
            AnyReceipt::ResolutionVote(_) => Err(CliError::File {
                path: path.display().to_string(),
                reason: format!("a receipt of a vote on a resolution ({RESOLUTION_FORMAT}), not of a ballot"),
            }),
        }
    }

    /// Writes the receipt to a new file in `dir` (mode 0600: it says how the member voted),
    /// named after the meeting and the ballot's place in its log; returns the path.
    pub fn store(&self, dir: &Path) -> Result<PathBuf, CliError> {
        store_private(self, dir, &format!("receipt-{}-{}.json", self.meeting, self.leaf_index))
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
        verify_statement_signature(&self.signature, &bytes, bad)
    }
}

impl ResolutionReceipt {
    /// Writes the receipt to a new file in `dir` (mode 0600), named after the resolution and
    /// the vote's place in the association's log; returns the path.
    pub fn store(&self, dir: &Path) -> Result<PathBuf, CliError> {
        store_private(self, dir, &format!("receipt-resolution-{}-{}.json", self.resolution, self.leaf_index))
    }

    /// The receipt on its own: the statement and its signature agree with the receipt's fields,
    /// the head of the association's log is signed by the receipt's service key, and the proof
    /// leads from the leaf to its root. Returns the association, the service key and the head.
    pub fn verify_offline(&self) -> Result<(AssociationId, PublicKey, SignedTreeHead), CliError> {
        let association: AssociationId =
            self.association.parse().map_err(|e| failed(format!("the receipt's association: {e}")))?;
        let service_key = PublicKey::from_hex(&self.service_key)
            .map_err(|e| failed(format!("the receipt's service key cannot be used: {e}")))?;
        let bad = |what: String| failed(format!("the receipt's resolution vote statement {what}"));
        let bytes = unhex(&self.statement).ok_or_else(|| bad("is not hex".into()))?;
        let statement =
            ResolutionVoteStatement::from_bytes(&bytes).map_err(|e| bad(format!("is not canonical: {e}")))?;
        let same = statement.association == association
            && statement.resolution.to_string() == self.resolution
            && statement.member.to_string() == self.member
            && statement.person.to_string() == self.person
            && super::choice_word(statement.choice) == self.choice
            && statement.sequence == self.signature.sequence;
        if !same {
            return Err(bad(
                "does not say what the receipt says (resolution, member, person, choice or sequence)".into(),
            ));
        }
        verify_statement_signature(&self.signature, &bytes, bad)?;
        let head = verify_log_receipt(
            self.leaf_index,
            &self.leaf_hash,
            &self.inclusion_proof,
            &self.tree_head,
            &service_key,
            association,
            None,
        )
        .map_err(|e| failed(format!("the receipt does not hold together: {e}")))?;
        Ok((association, service_key, head))
    }
}

/// `stembus receipt check --server URL FILE`: a ballot's receipt or a resolution vote's.
pub fn check(server: &str, path: &Path) -> Result<(), CliError> {
    match load_any(path)? {
        AnyReceipt::Ballot(receipt) => check_ballot(server, &receipt),
        AnyReceipt::ResolutionVote(receipt) => check_resolution_vote(server, &receipt),
    }
}

/// The log a receipt is of: a meeting's, or the association's own.
struct Log {
    association: AssociationId,
    meeting: Option<MeetingId>,
}

impl Log {
    fn base(&self) -> String {
        match self.meeting {
            Some(m) => format!("/associations/{}/meetings/{m}", self.association),
            None => format!("/associations/{}", self.association),
        }
    }

    fn name(&self) -> &'static str {
        if self.meeting.is_some() { "the meeting's" } else { "the association's" }
    }
}

/// What a receipt holds that the log must still prove.
struct Kept<'a> {
    service_key: PublicKey,
    head: SignedTreeHead,
    leaf_index: u64,
    leaf_hash: &'a str,
    /// `ballot` or `vote`, for the messages.
    what: &'static str,
}

/// Checks the kept receipt against `log` as the service serves it now: the service key
/// unchanged, the latest head signed, a fresh inclusion proof against it, and a consistency
/// proof from the receipt's head. Returns the latest head.
fn check_in_log(api: &Api, log: &Log, kept: &Kept<'_>) -> Result<SignedTreeHead, CliError> {
    let Kept { service_key, head: kept_head, leaf_index, leaf_hash, what } = kept;
    let now_key = client::service_key(api)?;
    if now_key != *service_key {
        return Err(failed(format!(
            "the service now signs with key {now_key}, but the receipt's head was signed with key {service_key}: the service's key was replaced, or {} is not the service the {what} was cast with",
            api.server()
        )));
    }
    let base = log.base();
    let latest: TreeHeadView = api.get(&format!("{base}/log/head"))?;
    let mut latest = verify_head(&latest, service_key, log.association, log.meeting)
        .map_err(|e| failed(format!("{} latest head: {e}", log.name())))?;
    let fresh: LogReceipt = api.get(&format!("{base}/log/entries/{leaf_index}/receipt"))?;
    let fresh_head = verify_head(&fresh.tree_head, service_key, log.association, log.meeting)
        .map_err(|e| failed(format!("the head of the service's new receipt: {e}")))?;
    if fresh_head.head.size < latest.head.size {
        return Err(failed(format!(
            "the service proved entry {leaf_index} against a head of size {}, older than its latest head of size {}",
            fresh_head.head.size, latest.head.size
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

    let (from, to) = (kept_head.head.size, latest.head.size);
    if to < from {
        return Err(failed(format!(
            "{} latest head has {to} entries, fewer than the {from} of the head in the receipt: the log shrank",
            log.name()
        )));
    }
    let proof = if to == from {
        Vec::new()
    } else {
        let c: Consistency = api.get(&format!("{base}/log/consistency?from={from}&to={to}"))?;
        client::hashes(&c.proof).map_err(|e| failed(format!("the consistency proof: {e}")))?
    };
    verify_consistency(from, to, &kept_head.head.root, &latest.head.root, &proof).map_err(|e| {
        failed(format!(
            "the latest head (size {to}, signed at {}) does not extend the head in the receipt (size {from}, signed at {}): {e}; the service signed two heads that contradict each other (keep the receipt and the latest head as evidence)",
            stamp(&latest),
            stamp(kept_head)
        ))
    })?;

    let leaf = client::hash(leaf_hash).unwrap_or_default();
    let fresh_proof = client::hashes(&fresh.inclusion_proof)
        .map_err(|e| failed(format!("the service's inclusion proof: {e}")))?;
    verify_inclusion(&leaf, *leaf_index, to, &fresh_proof, &latest.head.root).map_err(|e| {
        failed(format!(
            "the {what} (entry {leaf_index}, leaf hash {leaf_hash}) is not proven to be in the latest head of size {to}: {e}"
        ))
    })?;
    Ok(latest)
}

fn check_ballot(server: &str, receipt: &StoredReceipt) -> Result<(), CliError> {
    let (association, meeting) = receipt.ids()?;
    let api = Api::with_session(server)?;
    let (service_key, kept) = receipt.verify_signed()?;
    let log = Log { association, meeting: Some(meeting) };
    if let Err(e) = verify_leaf(receipt.leaf_index, &receipt.leaf_hash, &receipt.inclusion_proof, &kept) {
        return Err(diagnose(&api, &log, receipt.leaf_index, &receipt.leaf_hash, e));
    }
    let kept = Kept {
        service_key,
        head: kept,
        leaf_index: receipt.leaf_index,
        leaf_hash: &receipt.leaf_hash,
        what: "ballot",
    };
    let latest = check_in_log(&api, &log, &kept)?;
    let closed = api.get::<Meeting>(&log.base()).map(|m| m.phase == "closed").unwrap_or(false);
    println!("included in the head of size {} signed at {}", latest.head.size, stamp(&latest));
    println!(
        "  the ballot for member {} ({}; entry {} of the meeting's log), signed by key {} at sequence {}",
        receipt.member, receipt.choice, receipt.leaf_index, receipt.signature.key, receipt.signature.sequence
    );
    println!(
        "  the head extends the one in the receipt (size {}, signed at {}); both signed by the service key {}",
        kept.head.head.size,
        stamp(&kept.head),
        kept.service_key
    );
    if closed {
        println!("  the meeting is closed: this is its final head");
    }
    Ok(())
}

fn check_resolution_vote(server: &str, receipt: &ResolutionReceipt) -> Result<(), CliError> {
    let (association, service_key, kept) = receipt.verify_offline()?;
    let api = Api::with_session(server)?;
    let log = Log { association, meeting: None };
    let kept = Kept {
        service_key,
        head: kept,
        leaf_index: receipt.leaf_index,
        leaf_hash: &receipt.leaf_hash,
        what: "vote",
    };
    let latest = check_in_log(&api, &log, &kept)?;
    println!("included in the head of size {} signed at {}", latest.head.size, stamp(&latest));
    println!(
        "  the vote on resolution {} for member {} ({}; entry {} of the association's log), signed by key {} at sequence {}",
        receipt.resolution,
        receipt.member,
        receipt.choice,
        receipt.leaf_index,
        receipt.signature.key,
        receipt.signature.sequence
    );
    println!(
        "  the head extends the one in the receipt (size {}, signed at {}); both signed by the service key {}",
        kept.head.head.size,
        stamp(&kept.head),
        kept.service_key
    );
    Ok(())
}

fn stamp(head: &SignedTreeHead) -> String {
    head.head.timestamp.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The receipt's proof does not lead from its leaf to its signed head; asks the service for the
/// entry's leaf hash to say which part was changed. Only a diagnosis: the check has failed
/// either way.
fn diagnose(api: &Api, log: &Log, leaf_index: u64, leaf_hash: &str, error: String) -> CliError {
    let message = format!("the receipt does not hold together: {error}");
    let path = format!("{}/log/entries/{leaf_index}/receipt", log.base());
    let Ok(fresh) = api.get::<LogReceipt>(&path) else { return failed(message) };
    let hint = if !fresh.leaf_hash.eq_ignore_ascii_case(leaf_hash) {
        format!(
            "the log's entry {leaf_index} has leaf hash {}, the receipt says {leaf_hash}: the receipt's leaf hash was changed",
            fresh.leaf_hash
        )
    } else {
        "the leaf hash is the log's, so a hash of the receipt's inclusion proof was changed".to_owned()
    };
    failed(format!("{message}; {hint}"))
}
