//! The auditor's verifier: reads an export (`ledger::export`, docs/audit.md) as a stream and
//! checks, without the server and without trusting it:
//!
//! - **the log**: entries in order, every stream's indexes without gaps or repeats, every
//!   leaf hash recomputed from the entry's bytes, every stream's Merkle tree rebuilt, every
//!   signed tree head's root equal to the rebuilt root at its size, consecutive heads
//!   consistent, every entry covered by a signed head, and the service's signatures;
//! - **the signatures**: every ballot, proxy, declaration and key statement rebuilt from its
//!   event and verified, in batches (`signature::verify_batch`), or one by one (`strict`);
//! - **the rules**: every event replayed through the core. For each event the verifier finds
//!   the command that causes it (`core::inverse`) and runs the core on the state before it;
//!   the core must accept it and decide exactly the logged events. So every ballot is checked
//!   for eligibility (one member one vote, proxies and their cap, instructions, the advance
//!   window, suspensions), the key that signed it for being its author's current key with a
//!   fresh sequence number, every poll is recounted and every declaration compared with the
//!   count.
//!
//! The report names the first failing entry, or lists per poll what was counted and declared.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::io::BufRead;

use serde::Serialize;

use super::export::{End, Entry, FORMAT, Head, Header, Line, VERSION};
use super::log::{SignedTreeHead, TreeHead, entry_hash, hex, unhex};
use super::merkle::{Hash, MerkleTree, verify_consistency};
use super::signature::{BatchItem, PublicKey, verify, verify_batch};
use crate::core::inverse::candidate_commands;
use crate::core::{
    Association, AssociationId, Event, MeetingId, Outcome, RulesProfile, apply, handle_preverified,
    signatures_in,
};

/// Signatures are verified in batches of this many.
const BATCH: usize = 4096;
/// No command causes more events than this; the verifier reads this far ahead.
const MAX_EVENTS_PER_COMMAND: usize = 2;

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The service key the auditor obtained independently (hex); the export's must equal it.
    pub service_key: Option<String>,
    /// Verify every signature on its own with `verify_strict` instead of in batches.
    pub strict: bool,
}

/// Which kind of check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The export is not well-formed.
    Format,
    /// The header is missing or wrong.
    Header,
    /// Entries are out of order or repeated.
    Order,
    /// A stream's entries have a gap, a repeat, or belong elsewhere.
    Stream,
    /// An entry's leaf hash does not match its bytes, or its body is no event.
    Entry,
    /// A signed tree head does not match the entries, is out of place, or is missing.
    TreeHead,
    /// Two tree heads are not consistent.
    Consistency,
    /// A signature does not verify.
    Signature,
    /// The core refuses an event: it breaks a rule.
    Rules,
    /// The core decides other events than the log holds.
    Decision,
    /// The export is cut off.
    Truncated,
}

/// Where in the export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryRef {
    pub seq: u64,
    pub stream: String,
    pub index: u64,
    /// The event's kind, e.g. `ballot_cast`.
    pub event: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The line of the export (from 1).
    pub line: u64,
    /// The entry, when the failure is in an entry.
    pub entry: Option<EntryRef>,
    pub check: Check,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamSummary {
    pub stream: String,
    pub entries: u64,
    /// The last signed tree head: size, root (hex) and time.
    pub head_size: u64,
    pub head_root: String,
    pub head_timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counted {
    #[serde(rename = "for")]
    pub in_favour: u64,
    pub against: u64,
    pub abstain: u64,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PollReport {
    pub meeting: String,
    pub meeting_title: String,
    pub poll: String,
    pub item: String,
    pub item_title: String,
    /// `electronic`, `voice` or `paper`.
    pub method: String,
    /// The recount by the core; none while the poll is open.
    pub counted: Option<Counted>,
    /// The chair's declaration; none when not declared.
    pub declared: Option<Outcome>,
    /// Whether the declaration follows the count; none when not declared.
    pub agrees: Option<bool>,
    /// The result in a sentence: the rule that decides it and the numbers.
    pub why: String,
    pub challenged: bool,
    /// The new poll that voided this one (Art. 17.5).
    pub voided_by: Option<String>,
}

/// What the verification found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verified: bool,
    pub association: Option<String>,
    pub association_name: Option<String>,
    pub meeting: Option<String>,
    pub service_key: Option<String>,
    /// Whether the service key was compared with one the auditor gave.
    pub service_key_pinned: bool,
    pub entries: u64,
    pub tree_heads: u64,
    pub signatures: u64,
    pub streams: Vec<StreamSummary>,
    pub polls: Vec<PollReport>,
    pub failure: Option<Failure>,
}

struct StreamState {
    meeting: Option<MeetingId>,
    tree: MerkleTree,
    last_head: Option<(u64, Hash, SignedTreeHead)>,
}

struct Queued {
    line: u64,
    at: EntryRef,
    event: Event,
}

struct Pending {
    line: u64,
    at: Option<EntryRef>,
    what: String,
    key: PublicKey,
    bytes: Vec<u8>,
    signature: [u8; 64],
}

struct Verifier {
    options: Options,
    header: Option<Header>,
    service_key: Option<PublicKey>,
    state: Option<Association>,
    streams: BTreeMap<String, StreamState>,
    last_seq: u64,
    queue: VecDeque<Queued>,
    batch: Vec<Pending>,
    entries: u64,
    heads: u64,
    signatures: u64,
    ended: bool,
    failure: Option<Failure>,
}

/// Verifies an export read from `input`. Never panics on bad input: every fault is a failure
/// in the report.
pub fn verify_export(mut input: impl BufRead, options: Options) -> Report {
    let mut v = Verifier {
        options,
        header: None,
        service_key: None,
        state: None,
        streams: BTreeMap::new(),
        last_seq: 0,
        queue: VecDeque::new(),
        batch: Vec::new(),
        entries: 0,
        heads: 0,
        signatures: 0,
        ended: false,
        failure: None,
    };
    let mut line_no = 0u64;
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match input.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                v.fail(line_no + 1, None, Check::Format, format!("the export cannot be read: {e}"));
                break;
            }
        }
        line_no += 1;
        // Every line ends in exactly one \n, as the export writes it: a last line without
        // one is cut off, and a \r before it is another spelling of the line (refused with
        // the line's own check below).
        let Some(bytes) = buffer.strip_suffix(b"\n") else {
            v.fail(
                line_no,
                None,
                Check::Truncated,
                format!("line {line_no} does not end in a newline: the export is cut off"),
            );
            break;
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            v.fail(line_no, None, Check::Format, format!("line {line_no} is not UTF-8"));
            break;
        };
        v.line(line_no, text);
        if v.failure.is_some() {
            break;
        }
    }
    let stopped_early = v.failure.is_some();
    if !stopped_early {
        if v.header.is_none() {
            v.fail(line_no.max(1), None, Check::Header, "the export is empty: no header".into());
        } else if !v.ended {
            v.fail(
                line_no + 1,
                None,
                Check::Truncated,
                format!("the export ends after line {line_no} without its end line: it is cut off"),
            );
        }
    }
    // Entries read but not replayed, and signatures not verified yet, may hold an earlier
    // failure than the one that stopped the reading.
    v.replay(true, stopped_early || !v.ended);
    v.flush();
    if v.failure.is_none() {
        v.all_covered(line_no);
    }
    v.report()
}

/// Exactly `N` bytes as lowercase hexadecimal: the export writes nothing else, so nothing else
/// is accepted (two spellings of one hash would make two exports of one log).
fn lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return None;
    }
    unhex(text)?.try_into().ok()
}

fn kind_of(event: &Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("event").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "event".to_owned())
}

/// The first place where two JSON values differ, as `path: a ≠ b`.
fn first_difference(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let short = |v: &Value| {
        let mut s = v.to_string();
        if s.len() > 120 {
            let cut = (0..=120).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0);
            s.truncate(cut);
            s.push('…');
        }
        s
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                first_difference(&p, x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null))
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(&format!("{path}[{i}]"), p, q)),
        _ if a == b => None,
        _ => Some(format!("{path}: the log has {}, the core decides {}", short(a), short(b))),
    }
}

impl Verifier {
    /// Records a failure unless an earlier one is known: the report names the first.
    fn fail(&mut self, line: u64, entry: Option<EntryRef>, check: Check, reason: String) {
        if self.failure.as_ref().is_none_or(|f| line < f.line) {
            self.failure = Some(Failure { line, entry, check, reason });
        }
    }

    fn line(&mut self, no: u64, text: &str) {
        if self.ended {
            self.fail(no, None, Check::Format, "there is more after the end line".into());
            return;
        }
        let parsed: Line = match serde_json::from_str(text) {
            Ok(line) => line,
            Err(e) => {
                self.fail(no, None, Check::Format, format!("line {no} is not a line of an export: {e}"));
                return;
            }
        };
        // One spelling per line: what the export writes, byte for byte. Two spellings of one
        // moment or one hash would let an export change without anything else changing.
        if serde_json::to_string(&parsed).ok().as_deref() != Some(text) {
            self.fail(
                no,
                None,
                Check::Format,
                format!(
                    "line {no} is not written as an export writes it (another spelling of the same values)"
                ),
            );
            return;
        }
        match (parsed, self.header.is_some()) {
            (Line::Header(h), false) => self.header(no, h),
            (Line::Header(_), true) => self.fail(no, None, Check::Header, "a second header".into()),
            (_, false) => {
                self.fail(no, None, Check::Header, "the export does not start with its header".into())
            }
            (Line::Entry(e), true) => self.entry(no, e),
            (Line::Head(h), true) => self.head(no, h),
            (Line::End(e), true) => self.end(no, e),
        }
        if self.failure.is_none() {
            self.replay(false, false);
        }
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    fn header(&mut self, no: u64, h: Header) {
        if h.format != FORMAT || h.version != VERSION {
            return self.fail(
                no,
                None,
                Check::Header,
                format!(
                    "format {} version {}; this verifier reads {FORMAT} version {VERSION}",
                    h.format, h.version
                ),
            );
        }
        let key = match lower_hex::<32>(&h.service_key).map(|k| PublicKey::from_bytes(&k)) {
            Some(Ok(key)) => key,
            Some(Err(e)) => return self.fail(no, None, Check::Header, format!("the service key: {e}")),
            None => {
                return self.fail(
                    no,
                    None,
                    Check::Header,
                    "the service key is not 64 lowercase hexadecimal digits".into(),
                );
            }
        };
        let Some(signature) = lower_hex::<64>(&h.signature) else {
            return self.fail(
                no,
                None,
                Check::Header,
                "the header's signature is not 128 lowercase hexadecimal digits".into(),
            );
        };
        if let Err(e) = verify(&key, &h.to_bytes(), &signature) {
            return self.fail(
                no,
                None,
                Check::Header,
                format!("the service's signature on the header (association, meeting, streams, rules profile) does not verify: {e}"),
            );
        }
        if let Some(pinned) = &self.options.service_key
            && !pinned.eq_ignore_ascii_case(&h.service_key)
        {
            return self.fail(
                no,
                None,
                Check::Header,
                format!(
                    "the export's service key {} is not the service key you gave ({pinned}): it was not signed by that service",
                    h.service_key
                ),
            );
        }
        let profile = match RulesProfile::from_toml(&h.profile) {
            Ok(p) => p,
            Err(e) => return self.fail(no, None, Check::Header, format!("the rules profile: {e}")),
        };
        let meeting = h.meeting.to_string();
        if !h.streams.iter().any(|s| s == super::super::store::log::ASSOCIATION_STREAM)
            || !h.streams.contains(&meeting)
        {
            return self.fail(
                no,
                None,
                Check::Header,
                "the header must list the association's stream and the meeting's".into(),
            );
        }
        for stream in &h.streams {
            let meeting = if stream == crate::store::log::ASSOCIATION_STREAM {
                None
            } else {
                match stream.parse() {
                    Ok(m) => Some(m),
                    Err(_) => {
                        return self.fail(no, None, Check::Header, format!("{stream:?} is not a stream"));
                    }
                }
            };
            self.streams
                .insert(stream.clone(), StreamState { meeting, tree: MerkleTree::new(), last_head: None });
        }
        self.state = Some(Association::with_id(h.association, profile));
        self.service_key = Some(key);
        self.header = Some(h);
    }

    fn association(&self) -> AssociationId {
        self.header.as_ref().map_or(AssociationId::from_uuid(uuid::Uuid::nil()), |h| h.association)
    }

    fn entry(&mut self, no: u64, e: Entry) {
        let association = self.association();
        let mut at = EntryRef { seq: e.seq, stream: e.stream.clone(), index: e.index, event: "entry".into() };
        if e.seq <= self.last_seq {
            return self.fail(
                no,
                Some(at),
                Check::Order,
                format!(
                    "entry seq {} comes after seq {}: entries are out of order or repeated",
                    e.seq, self.last_seq
                ),
            );
        }
        let Some(stream) = self.streams.get(&e.stream) else {
            return self.fail(
                no,
                Some(at),
                Check::Stream,
                format!("the header lists no stream {:?}", e.stream),
            );
        };
        let expected = stream.tree.len();
        if e.index != expected {
            let reason = if e.index < expected {
                format!(
                    "index {} of stream {} comes again after index {}: a repeated or reordered entry",
                    e.index,
                    e.stream,
                    expected - 1
                )
            } else {
                format!(
                    "index {} of stream {} follows index {}: entries {}..{} are missing here (dropped or moved)",
                    e.index,
                    e.stream,
                    expected as i128 - 1,
                    expected,
                    e.index - 1
                )
            };
            return self.fail(no, Some(at), Check::Stream, reason);
        }
        let event: Event = match serde_json::from_str(&e.body) {
            Ok(event) => event,
            Err(err) => return self.fail(no, Some(at), Check::Entry, format!("the body is no event: {err}")),
        };
        at.event = kind_of(&event);
        if event.fact.meeting() != stream.meeting {
            let reason = format!("a {} event does not belong in stream {}", at.event, e.stream);
            return self.fail(no, Some(at), Check::Stream, reason);
        }
        let leaf = entry_hash(association, stream.meeting, e.index, e.seq, event.at, e.body.as_bytes());
        if hex(&leaf) != e.leaf_hash {
            return self.fail(
                no,
                Some(at),
                Check::Entry,
                format!(
                    "the leaf hash {} is not the hash of the entry's bytes ({})",
                    e.leaf_hash,
                    hex(&leaf)
                ),
            );
        }
        if let Some(stream) = self.streams.get_mut(&e.stream) {
            stream.tree.push_leaf_hash(leaf);
        }
        self.last_seq = e.seq;
        self.entries += 1;
        self.queue.push_back(Queued { line: no, at, event });
    }

    fn head(&mut self, no: u64, h: Head) {
        let association = self.association();
        let at = None;
        let Some(stream) = self.streams.get(&h.stream) else {
            return self.fail(
                no,
                at,
                Check::TreeHead,
                format!("a tree head of stream {:?}, which the header does not list", h.stream),
            );
        };
        let (Some(root), Some(signature)) = (lower_hex::<32>(&h.root), lower_hex::<64>(&h.signature)) else {
            return self.fail(
                no,
                at,
                Check::TreeHead,
                "a tree head's root or signature is not lowercase hexadecimal of the right length".into(),
            );
        };
        let len = stream.tree.len();
        if h.size != len {
            let reason = if h.size > len {
                format!(
                    "the tree head of size {} of stream {} signs entries that are not in the export (it holds {len} here)",
                    h.size, h.stream
                )
            } else {
                format!(
                    "the tree head of size {} of stream {} is out of place: it follows entry {} of the stream",
                    h.size,
                    h.stream,
                    len.saturating_sub(1)
                )
            };
            return self.fail(no, at, Check::TreeHead, reason);
        }
        if stream.tree.root_at(h.size) != Some(root) {
            return self.fail(
                no,
                at,
                Check::TreeHead,
                format!(
                    "the signed root of size {} of stream {} is not the root of the entries in the export: an entry was changed, dropped or added",
                    h.size, h.stream
                ),
            );
        }
        if let Some((size, prev_root, prev)) = &stream.last_head {
            if h.timestamp < prev.head.timestamp {
                return self.fail(
                    no,
                    at,
                    Check::TreeHead,
                    format!("the tree head of size {} is signed before the one of size {size}", h.size),
                );
            }
            let proof = stream.tree.consistency_proof(*size, h.size).unwrap_or_default();
            if let Err(e) = verify_consistency(*size, h.size, prev_root, &root, &proof) {
                return self.fail(
                    no,
                    at,
                    Check::Consistency,
                    format!(
                        "the heads of size {size} and {} of stream {} are not consistent: {e}",
                        h.size, h.stream
                    ),
                );
            }
        }
        let signed = SignedTreeHead {
            head: TreeHead {
                association,
                meeting: stream.meeting,
                size: h.size,
                root,
                timestamp: h.timestamp,
            },
            signature,
        };
        let Some(key) = self.service_key else { return };
        self.batch.push(Pending {
            line: no,
            at: None,
            what: format!("service's tree head of size {} of stream {}", h.size, h.stream),
            key,
            bytes: signed.head.to_bytes(),
            signature,
        });
        if let Some(stream) = self.streams.get_mut(&h.stream) {
            stream.last_head = Some((h.size, root, signed));
        }
        self.heads += 1;
    }

    fn end(&mut self, no: u64, e: End) {
        if e.entries != self.entries || e.heads != self.heads {
            return self.fail(
                no,
                None,
                Check::Truncated,
                format!(
                    "the end line counts {} entries and {} tree heads; the export holds {} and {}",
                    e.entries, e.heads, self.entries, self.heads
                ),
            );
        }
        self.ended = true;
    }

    /// Replays queued events through the core. Keeps a command's worth of events queued
    /// unless `drain`; `cut` says the export stopped early, so a command whose later events
    /// are missing is not itself at fault.
    fn replay(&mut self, drain: bool, cut: bool) {
        while let Some(first) = self.queue.front() {
            if !drain && self.queue.len() <= MAX_EVENTS_PER_COMMAND {
                return;
            }
            let Some(state) = self.state.as_mut() else { return };
            let (line, at) = (first.line, first.at.clone());
            let events: Vec<Event> =
                self.queue.iter().take(MAX_EVENTS_PER_COMMAND).map(|q| q.event.clone()).collect();
            let candidates = candidate_commands(state, &events);
            let mut why: Option<(Check, String)> = None;
            let mut accepted = None;
            for command in candidates {
                match handle_preverified(state, command, events[0].at) {
                    Ok(decided)
                        if decided.len() <= events.len() && decided[..] == events[..decided.len()] =>
                    {
                        accepted = Some(decided.len());
                        break;
                    }
                    Ok(decided)
                        if decided.len() > events.len() && decided[..events.len()] == events[..] && cut =>
                    {
                        accepted = Some(events.len());
                        break;
                    }
                    Ok(decided) => {
                        if why.is_none() {
                            why = Some((Check::Decision, decision_difference(&events, &decided)));
                        }
                    }
                    Err(v) => {
                        if why.as_ref().is_none_or(|(c, _)| *c != Check::Rules) {
                            why = Some((
                                Check::Rules,
                                format!("the core refuses this {}: {} [{}]", at.event, v, v.code),
                            ));
                        }
                    }
                }
            }
            let Some(n) = accepted else {
                let (check, reason) = why.unwrap_or((
                    Check::Rules,
                    format!("no command causes a {} event at this point", at.event),
                ));
                self.fail(line, Some(at), check, reason);
                self.queue.clear();
                return;
            };
            for _ in 0..n {
                let Some(q) = self.queue.pop_front() else { break };
                for s in signatures_in(state, &q.event.fact) {
                    match PublicKey::from_bytes(&s.key.0) {
                        Ok(key) => self.batch.push(Pending {
                            line: q.line,
                            at: Some(q.at.clone()),
                            what: format!("signature on the {}", q.at.event),
                            key,
                            bytes: s.bytes,
                            signature: s.signature.0,
                        }),
                        Err(e) => {
                            let reason = format!(
                                "the key {} that signed this {} cannot be used: {e}",
                                s.key, q.at.event
                            );
                            if self.failure.as_ref().is_none_or(|f| q.line < f.line) {
                                self.failure = Some(Failure {
                                    line: q.line,
                                    entry: Some(q.at.clone()),
                                    check: Check::Signature,
                                    reason,
                                });
                            }
                        }
                    }
                    self.signatures += 1;
                }
                apply(state, &q.event);
            }
        }
    }

    /// Verifies the signatures collected so far.
    fn flush(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        let bad = if self.options.strict {
            batch
                .iter()
                .enumerate()
                .find_map(|(i, p)| verify(&p.key, &p.bytes, &p.signature).err().map(|e| (i, e)))
        } else {
            let items: Vec<BatchItem<'_>> = batch
                .iter()
                .map(|p| BatchItem { key: &p.key, statement_bytes: &p.bytes, signature: &p.signature })
                .collect();
            match verify_batch(&items) {
                Ok(()) => None,
                Err(super::signature::SignatureError::InBatch { index, reason }) => Some((index, *reason)),
                Err(other) => Some((0, other)),
            }
        };
        if let Some((i, e)) = bad
            && let Some(p) = batch.get(i)
        {
            let reason = format!("the {} by key {} does not verify: {e}", p.what, p.key.to_hex());
            self.fail(p.line, p.at.clone(), Check::Signature, reason);
        }
    }

    /// Every entry is covered by a signed tree head of its stream.
    fn all_covered(&mut self, last_line: u64) {
        let uncovered: Option<(String, u64, u64)> = self.streams.iter().find_map(|(name, s)| {
            let signed = s.last_head.as_ref().map_or(0, |(size, _, _)| *size);
            (signed < s.tree.len()).then(|| (name.clone(), signed, s.tree.len()))
        });
        if let Some((stream, signed, len)) = uncovered {
            self.fail(
                last_line,
                None,
                Check::TreeHead,
                format!(
                    "entries {signed}..{} of stream {stream} are covered by no signed tree head",
                    len - 1
                ),
            );
        }
    }

    fn report(self) -> Report {
        let header = self.header.as_ref();
        let mut polls = Vec::new();
        if let (Some(state), Some(h)) = (&self.state, header) {
            for stream in &h.streams {
                let Ok(id) = stream.parse::<MeetingId>() else { continue };
                let Some(m) = state.meetings.get(&id) else { continue };
                let mut in_order: Vec<_> = m.polls.values().collect();
                in_order.sort_by_key(|p| p.opened_at);
                for p in in_order {
                    let item = m.agenda.iter().find(|i| i.id == p.item);
                    let counted = p.result.as_ref().map(|r| Counted {
                        in_favour: r.counts.in_favour,
                        against: r.counts.against,
                        abstain: r.counts.abstain,
                        outcome: r.outcome,
                    });
                    let declared = p.declaration.as_ref().map(|d| d.outcome);
                    polls.push(PollReport {
                        meeting: id.to_string(),
                        meeting_title: m.title.clone(),
                        poll: p.id.to_string(),
                        item: p.item.to_string(),
                        item_title: item.map_or_else(String::new, |i| i.title.clone()),
                        method: serde_json::to_value(p.method)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        agrees: declared.zip(counted.as_ref()).map(|(d, c)| d == c.outcome),
                        counted,
                        declared,
                        why: p
                            .result
                            .as_ref()
                            .map_or_else(|| "the poll is still open".to_owned(), |r| r.explanation.clone()),
                        challenged: p.challenge.is_some(),
                        voided_by: p.voided_by.map(|v| v.to_string()),
                    });
                }
            }
        }
        let streams = self
            .streams
            .iter()
            .map(|(name, s)| StreamSummary {
                stream: name.clone(),
                entries: s.tree.len(),
                head_size: s.last_head.as_ref().map_or(0, |(size, _, _)| *size),
                head_root: s.last_head.as_ref().map_or_else(String::new, |(_, root, _)| hex(root)),
                head_timestamp: s.last_head.as_ref().map(|(_, _, h)| h.head.timestamp.to_rfc3339()),
            })
            .collect();
        let disagreement = polls.iter().any(|p| p.agrees == Some(false));
        Report {
            verified: self.failure.is_none() && !disagreement && header.is_some(),
            association: header.map(|h| h.association.to_string()),
            association_name: header.map(|h| h.association_name.clone()),
            meeting: header.map(|h| h.meeting.to_string()),
            service_key: header.map(|h| h.service_key.clone()),
            service_key_pinned: self.options.service_key.is_some(),
            entries: self.entries,
            tree_heads: self.heads,
            signatures: self.signatures,
            streams,
            polls,
            failure: self.failure,
        }
    }
}

fn decision_difference(logged: &[Event], decided: &[Event]) -> String {
    for (i, (l, d)) in logged.iter().zip(decided).enumerate() {
        if l != d {
            let (lv, dv) =
                (serde_json::to_value(l).unwrap_or_default(), serde_json::to_value(d).unwrap_or_default());
            let diff = first_difference("", &lv, &dv).unwrap_or_else(|| "the events differ".to_owned());
            let which = if i == 0 { String::new() } else { format!(" (event {} of the command)", i + 1) };
            return format!("the core, given the log before it, decides otherwise{which}: {diff}");
        }
    }
    format!(
        "the core decides {} event(s) where the log holds {}",
        decided.len(),
        logged.len().min(decided.len().max(1))
    )
}

impl Report {
    /// The report as a person reads it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Stembus audit of meeting {} of {} ({})",
            self.meeting.as_deref().unwrap_or("?"),
            self.association_name.as_deref().unwrap_or("?"),
            self.association.as_deref().unwrap_or("?")
        );
        let _ = writeln!(
            out,
            "Service key: {}{}",
            self.service_key.as_deref().unwrap_or("?"),
            if self.service_key_pinned {
                " (as given)"
            } else {
                " (taken from the export: compare it with the published key)"
            }
        );
        let _ = writeln!(
            out,
            "Checked: {} entries, {} signed tree heads, {} signatures.",
            self.entries, self.tree_heads, self.signatures
        );
        for s in &self.streams {
            let _ = writeln!(
                out,
                "  stream {}: {} entries, last signed head of size {} root {}{}",
                s.stream,
                s.entries,
                s.head_size,
                s.head_root,
                s.head_timestamp.as_deref().map(|t| format!(" at {t}")).unwrap_or_default()
            );
        }
        if !self.polls.is_empty() {
            let _ = writeln!(out, "\nPolls:");
        }
        for p in &self.polls {
            let counted = p.counted.as_ref().map_or_else(
                || "not closed".to_owned(),
                |c| {
                    format!(
                        "{} for, {} against, {} abstain: {}",
                        c.in_favour,
                        c.against,
                        c.abstain,
                        outcome_words(c.outcome)
                    )
                },
            );
            let declared = p
                .declared
                .map_or_else(|| "not declared".to_owned(), |d| format!("declared {}", outcome_words(d)));
            let verdict = match p.agrees {
                Some(true) => "agrees",
                Some(false) => "DOES NOT AGREE",
                None => "nothing to compare",
            };
            let _ = writeln!(out, "  {} — {} ({}, poll {})", p.meeting_title, p.item_title, p.method, p.poll);
            let _ = writeln!(out, "    counted: {counted}; {declared}; {verdict}");
            let _ = writeln!(out, "    why: {}", p.why);
            if let Some(v) = &p.voided_by {
                let _ = writeln!(out, "    challenged and voided by the new poll {v} (Art. 17.5)");
            } else if p.challenged {
                let _ = writeln!(out, "    the declaration was challenged");
            }
        }
        match &self.failure {
            None if self.verified => {
                let _ = writeln!(
                    out,
                    "\nVERIFIED: the log is whole and signed, every signature checks, and every event follows from the rules."
                );
            }
            None => {
                let _ = writeln!(out, "\nFAILED: a declaration does not agree with the count.");
            }
            Some(f) => {
                let place = f.entry.as_ref().map_or_else(
                    || format!("line {}", f.line),
                    |e| {
                        format!(
                            "line {}, entry seq {} ({} #{} in stream {})",
                            f.line, e.seq, e.event, e.index, e.stream
                        )
                    },
                );
                let _ = writeln!(out, "\nFAILED at {place}: {}", f.reason);
            }
        }
        out
    }
}

fn outcome_words(o: Outcome) -> &'static str {
    match o {
        Outcome::Adopted => "adopted",
        Outcome::Rejected => "rejected",
        Outcome::NoQuorum => "no quorum",
    }
}
