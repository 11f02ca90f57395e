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
//!
//! It runs as a pipeline over the machine's cores, in memory bounded by the size of the
//! association (the state the core replays) and not by the length of the log:
//!
//! - the calling thread reads the export in chunks of lines;
//! - worker threads take a chunk each and do what needs no other line: the line's one
//!   spelling, the event in an entry's body, the leaf hash, and the keys that sign (decoded;
//!   a key that a statement enrols also checked for torsion, as the core would);
//! - the calling thread takes the chunks back in their order and makes every check that
//!   depends on what came before: order, stream indexes, the Merkle trees (compact: O(log n)
//!   hashes each, `merkle::CompactTree`), the tree heads, and the replay through the core;
//! - the signatures are collected in batches, which the worker threads verify while the
//!   replay goes on.
//!
//! Every stage stops at its first failure and the report names the earliest line among them,
//! as a reading line by line would. An export that ends within its first chunk is verified on
//! the calling thread alone.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::BufRead;
use std::ops::Range;
use std::sync::{Arc, Mutex, mpsc};

use serde::Serialize;

use super::export::{End, Entry, FORMAT, Head, Header, Line, VERSION};
use super::log::{SignedTreeHead, TreeHead, entry_hash, hex};
use super::merkle::{CompactTree, Hash, verify_consistency};
use super::signature::{BatchItem, PublicKey, PublicKeyError, verify, verify_batch};
use crate::core::inverse::candidate_commands;
use crate::core::{
    Association, AssociationId, CheckedKey, Event, Fact, KeyBytes, MeetingId, Outcome, RulesProfile, apply,
    handle_preverified_with_keys, signatures_in,
};

/// Signatures are verified in batches of this many.
const BATCH: usize = 4096;
/// No command causes more events than this; the verifier reads this far ahead.
const MAX_EVENTS_PER_COMMAND: usize = 2;
/// Lines a worker parses at a time.
const CHUNK_LINES: usize = 512;
/// Chunks read and parsed ahead of the checks in order, per worker.
const CHUNKS_AHEAD_PER_WORKER: usize = 3;
/// Batches of signatures being verified while the replay goes on.
const BATCHES_AHEAD: usize = 3;
/// Worker threads at most.
const MAX_WORKERS: usize = 8;
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
    tree: CompactTree,
    last_head: Option<(u64, Hash, SignedTreeHead)>,
}

/// A key that signs in an event, decoded by a worker.
struct DecodedKey {
    key: KeyBytes,
    /// Parsed with every check, torsion included (a key the statement enrols); otherwise only
    /// decoded, for a key that must be in the key ring, where it passed every check when it
    /// was enrolled.
    strict: bool,
    parsed: Result<PublicKey, PublicKeyError>,
}

/// Where an entry is, kept with its event until the replay and with each of its signatures
/// until their batch verifies. Its texts are shared (a stream's name, an event's kind), not
/// copied per entry: an [`EntryRef`] is made of it only for the report of a failure.
#[derive(Debug, Clone)]
struct Place {
    seq: u64,
    stream: Arc<str>,
    index: u64,
    kind: Arc<str>,
}

impl Place {
    fn entry_ref(&self) -> EntryRef {
        EntryRef {
            seq: self.seq,
            stream: self.stream.to_string(),
            index: self.index,
            event: self.kind.to_string(),
        }
    }
}

/// An event read and waiting for its replay.
struct Queued {
    line: u64,
    at: Place,
    keys: Vec<DecodedKey>,
}

/// What a signature signs, for the report when it does not verify.
enum Signs {
    /// A statement in the event at `Pending::at`.
    Statement,
    /// The service's tree head of this size of this stream.
    Head { size: u64, stream: String },
}

struct Pending {
    line: u64,
    at: Option<Place>,
    signs: Signs,
    key: PublicKey,
    bytes: Vec<u8>,
    signature: [u8; 64],
}

impl Pending {
    fn what(&self) -> String {
        match &self.signs {
            Signs::Statement => {
                format!("signature on the {}", self.at.as_ref().map_or("entry", |at| &*at.kind))
            }
            Signs::Head { size, stream } => format!("service's tree head of size {size} of stream {stream}"),
        }
    }
}

/// One line as the reader found it.
enum RawLine {
    /// A whole line: its bytes in the chunk, without the newline.
    Whole(Range<usize>),
    /// The last line, without its newline.
    Cut,
    /// The export could not be read further.
    Unreadable(String),
}

/// Consecutive lines, parsed by one worker.
struct Chunk {
    /// The number of the first line (from 1).
    first: u64,
    data: Vec<u8>,
    lines: Vec<RawLine>,
}

/// Reads lines into chunks; the line numbers count on.
struct Reader<R> {
    input: R,
    lines: u64,
    done: bool,
}

impl<R: BufRead> Reader<R> {
    /// The next chunk of at most `max` lines; empty at the end.
    fn chunk(&mut self, max: usize) -> Chunk {
        let mut chunk = Chunk {
            first: self.lines + 1,
            // Room for lines of a ballot entry's length (about 850 bytes), so a chunk seldom grows.
            data: Vec::with_capacity(max * 1024),
            lines: Vec::with_capacity(max),
        };
        while !self.done && chunk.lines.len() < max {
            let start = chunk.data.len();
            match self.input.read_until(b'\n', &mut chunk.data) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    self.lines += 1;
                    // Every line ends in exactly one \n, as the export writes it: a last line
                    // without one is cut off, and a \r before it is another spelling of the
                    // line (refused with the line's own check).
                    if chunk.data.last() == Some(&b'\n') {
                        chunk.lines.push(RawLine::Whole(start..chunk.data.len() - 1));
                    } else {
                        chunk.lines.push(RawLine::Cut);
                        self.done = true;
                    }
                }
                Err(e) => {
                    chunk.data.truncate(start);
                    chunk.lines.push(RawLine::Unreadable(e.to_string()));
                    self.done = true;
                }
            }
        }
        chunk
    }
}

/// What the header says that workers need: the association and the streams.
struct Context {
    association: AssociationId,
    streams: Vec<(Arc<str>, Option<MeetingId>)>,
}

impl Context {
    /// A stream the header lists: its name, shared, and its meeting (None for the
    /// association's own stream).
    fn stream(&self, name: &str) -> Option<&(Arc<str>, Option<MeetingId>)> {
        self.streams.iter().find(|(n, _)| &**n == name)
    }
}

/// An entry as a worker parsed it, with what the checks in order need.
struct ParsedEntry {
    seq: u64,
    /// Shared with the header's list when the stream is listed there.
    stream: Arc<str>,
    index: u64,
    /// The leaf hash as the line writes it, kept only when it is not `leaf` (or `leaf` is
    /// unknown): the entry's report needs it then.
    leaf_hash: Option<String>,
    event: Result<Event, String>,
    /// The event's kind, e.g. `ballot_cast` (`entry` when the body is no event).
    kind: Arc<str>,
    /// The leaf hash of the entry's bytes, when its stream is listed and its body an event.
    leaf: Option<Hash>,
    /// Whether `leaf_hash` is `leaf` in lowercase hexadecimal.
    leaf_matches: bool,
    /// The body's bytes, kept only when the leaf was not hashed.
    body: Option<String>,
    keys: Vec<DecodedKey>,
}

/// A line as a worker parsed it.
enum Parsed {
    /// The line is no whole line: cut off, unreadable or not UTF-8. Nothing else is looked at.
    Broken(Check, String),
    /// Not a line of an export, or not spelled as an export writes it.
    Misspelt(String),
    Header(Box<Header>),
    Entry(Box<ParsedEntry>),
    Head(Head),
    End(End),
}

/// Keys a worker decoded, kept while the worker reads on: decoding is a point decompression,
/// and in a meeting each key signs many ballots. A map per worker thread from the key's 32 bytes
/// to what decoding them gave, emptied when it holds [`DECODED_KEPT`] keys (a few megabytes), so
/// that an association of any size keeps it bounded. Decoding is a function of the 32 bytes, so a
/// kept result is the result decoding would give again.
const DECODED_KEPT: usize = 16_384;

thread_local! {
    static DECODED: std::cell::RefCell<HashMap<KeyBytes, Result<PublicKey, PublicKeyError>>> =
        std::cell::RefCell::new(HashMap::new());
}

/// [`PublicKey::from_checked_bytes`] of `key`, remembered per worker thread.
fn decoded(key: &KeyBytes) -> Result<PublicKey, PublicKeyError> {
    DECODED.with(|cell| {
        let mut kept = cell.borrow_mut();
        if let Some(parsed) = kept.get(key) {
            return parsed.clone();
        }
        if kept.len() >= DECODED_KEPT {
            kept.clear();
        }
        let parsed = PublicKey::from_checked_bytes(&key.0);
        kept.insert(*key, parsed.clone());
        parsed
    })
}

/// The keys that sign in `fact`: a key it enrols parsed with every check, a key that must be
/// in the key ring only decoded.
fn keys_of(fact: &Fact) -> Vec<DecodedKey> {
    let ring = |key: &KeyBytes| DecodedKey { key: *key, strict: false, parsed: decoded(key) };
    let new = |key: &KeyBytes| DecodedKey { key: *key, strict: true, parsed: PublicKey::from_bytes(&key.0) };
    match fact {
        Fact::KeyEnrolled { key, .. } => vec![new(key)],
        Fact::KeyRotated { old_key, key, .. } => vec![ring(old_key), new(key)],
        Fact::KeyRevoked { key, signed: Some(_), .. } => vec![ring(key)],
        Fact::BallotCast { ballot, .. } => ballot.signed.iter().map(|s| ring(&s.key)).collect(),
        Fact::ResolutionVoteCast { ballot, .. } => ballot.signed.iter().map(|s| ring(&s.key)).collect(),
        Fact::ProxyGranted { proxy, .. } => proxy.signed.iter().map(|s| ring(&s.key)).collect(),
        Fact::ResultDeclared { signed, .. } => vec![ring(&signed.key)],
        _ => Vec::new(),
    }
}

/// Parses line `no`: everything about it that needs no other line. `context` is the header's,
/// once it is known.
fn parse_line(
    no: u64,
    data: &[u8],
    raw: &RawLine,
    context: Option<&Context>,
    scratch: &mut Scratch,
) -> Parsed {
    let range = match raw {
        RawLine::Whole(range) => range.clone(),
        RawLine::Cut => {
            return Parsed::Broken(
                Check::Truncated,
                format!("line {no} does not end in a newline: the export is cut off"),
            );
        }
        RawLine::Unreadable(e) => {
            return Parsed::Broken(Check::Format, format!("the export cannot be read: {e}"));
        }
    };
    let Some(Ok(text)) = data.get(range).map(std::str::from_utf8) else {
        return Parsed::Broken(Check::Format, format!("line {no} is not UTF-8"));
    };
    let not_a_line =
        |e: serde_json::Error| Parsed::Misspelt(format!("line {no} is not a line of an export: {e}"));
    // Entry lines are read first by the reader of their exact spelling, which takes a line only
    // when it is spelled as the export writes it; every other line is read by serde_json and
    // written out again to compare.
    let parsed = match super::exact::entry_line(text) {
        Some(entry) => Line::Entry(entry),
        None => {
            let parsed: Line = match serde_json::from_str(text) {
                Ok(line) => line,
                Err(e) => return not_a_line(e),
            };
            // One spelling per line: what the export writes, byte for byte. Two spellings of
            // one moment or one hash would let an export change without anything else
            // changing.
            let spelling = &mut scratch.spelling;
            spelling.clear();
            if serde_json::to_writer(&mut *spelling, &parsed).is_err()
                || spelling.as_slice() != text.as_bytes()
            {
                return Parsed::Misspelt(format!(
                    "line {no} is not written as an export writes it (another spelling of the same values)"
                ));
            }
            parsed
        }
    };
    match parsed {
        Line::Header(h) => Parsed::Header(Box::new(h)),
        Line::Entry(e) => Parsed::Entry(Box::new(parse_entry(e, context, &mut scratch.kinds))),
        Line::Head(h) => Parsed::Head(h),
        Line::End(e) => Parsed::End(e),
    }
}

fn parse_entry(e: Entry, context: Option<&Context>, kinds: &mut Kinds) -> ParsedEntry {
    // A ballot, nearly every entry of a large export, is read by the reader of its exact
    // spelling; everything else, and a ballot spelled otherwise, by serde_json.
    let event: Result<Event, String> = match super::exact::ballot_event(&e.body) {
        Some(event) => Ok(event),
        None => serde_json::from_str(&e.body).map_err(|err| err.to_string()),
    };
    let listed = context.and_then(|c| c.stream(&e.stream));
    let (kind, leaf, keys) = match &event {
        Ok(event) => {
            let leaf = context.zip(listed).map(|(c, (_, meeting))| {
                entry_hash(c.association, *meeting, e.index, e.seq, event.at, e.body.as_bytes())
            });
            (kinds.of(event), leaf, keys_of(&event.fact))
        }
        Err(_) => (Arc::from("entry"), None, Vec::new()),
    };
    let leaf_matches = leaf.is_some_and(|leaf| lower_hex::<32>(&e.leaf_hash) == Some(leaf));
    let body = leaf.is_none().then_some(e.body);
    ParsedEntry {
        seq: e.seq,
        stream: listed.map_or_else(|| Arc::from(e.stream.as_str()), |(name, _)| Arc::clone(name)),
        index: e.index,
        leaf_hash: (!leaf_matches).then_some(e.leaf_hash),
        event,
        kind,
        leaf,
        leaf_matches,
        body,
        keys,
    }
}

/// What a worker reuses from line to line.
#[derive(Default)]
struct Scratch {
    /// The line as the export writes it.
    spelling: Vec<u8>,
    kinds: Kinds,
}

/// The kind of each event variant met so far: the kind is the variant's tag, the same for every
/// event of the variant, so it is written out once per variant, not once per entry.
#[derive(Default)]
struct Kinds(Vec<(std::mem::Discriminant<Fact>, Arc<str>)>);

impl Kinds {
    fn of(&mut self, event: &Event) -> Arc<str> {
        let variant = std::mem::discriminant(&event.fact);
        if let Some((_, kind)) = self.0.iter().find(|(v, _)| *v == variant) {
            return Arc::clone(kind);
        }
        let kind: Arc<str> = Arc::from(kind_of(event));
        self.0.push((variant, Arc::clone(&kind)));
        kind
    }
}

fn parse_chunk(chunk: &Chunk, context: Option<&Context>) -> Vec<Parsed> {
    let mut scratch = Scratch::default();
    (chunk.first..)
        .zip(&chunk.lines)
        .map(|(no, raw)| parse_line(no, &chunk.data, raw, context, &mut scratch))
        .collect()
}

/// Verifies a batch of signatures: the first that does not verify, as a failure.
fn verify_pending(batch: &[Pending], strict: bool) -> Option<Failure> {
    let bad = if strict {
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
    let (i, e) = bad?;
    let p = batch.get(i)?;
    Some(Failure {
        line: p.line,
        entry: p.at.as_ref().map(Place::entry_ref),
        check: Check::Signature,
        reason: format!("the {} by key {} does not verify: {e}", p.what(), p.key.to_hex()),
    })
}

type Job = Box<dyn FnOnce() + Send>;

/// Hands work to the worker threads and keeps the results in order.
struct Pool {
    /// None for an export short enough to be verified on the calling thread alone.
    jobs: Option<mpsc::Sender<Job>>,
    workers: usize,
}

impl Pool {
    /// No worker threads: every job runs at once on the calling thread.
    fn inline() -> Self {
        Pool { jobs: None, workers: 1 }
    }

    /// Runs `work` on a worker; its result comes on the receiver.
    fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> mpsc::Receiver<T> {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        match &self.jobs {
            Some(jobs) => {
                if let Err(mpsc::SendError(job)) = jobs.send(job) {
                    // No worker is left (cannot happen while the pool lives): do it here.
                    job();
                }
            }
            None => job(),
        }
        rx
    }
}

struct Verifier {
    options: Options,
    header: Option<Header>,
    service_key: Option<PublicKey>,
    state: Option<Association>,
    streams: BTreeMap<String, StreamState>,
    last_seq: u64,
    /// Events read and not yet replayed, and where each is.
    events: VecDeque<Event>,
    queue: VecDeque<Queued>,
    batch: Vec<Pending>,
    /// Batches being verified, oldest first.
    verifying: VecDeque<mpsc::Receiver<Option<Failure>>>,
    entries: u64,
    heads: u64,
    signatures: u64,
    ended: bool,
    failure: Option<Failure>,
}

/// Verifies an export read from `input`. Never panics on bad input: every fault is a failure
/// in the report.
pub fn verify_export(input: impl BufRead, options: Options) -> Report {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WORKERS);
    let mut v = Verifier {
        options,
        header: None,
        service_key: None,
        state: None,
        streams: BTreeMap::new(),
        last_seq: 0,
        events: VecDeque::new(),
        queue: VecDeque::new(),
        batch: Vec::new(),
        verifying: VecDeque::new(),
        entries: 0,
        heads: 0,
        signatures: 0,
        ended: false,
        failure: None,
    };
    let mut reader = Reader { input, lines: 0, done: false };
    // The header and the first chunk are read first: an export that ends within them (a small
    // meeting, a fuzzer's input) is verified on the calling thread, without starting workers.
    let header = reader.chunk(1);
    let first = reader.chunk(CHUNK_LINES);
    if reader.done {
        v.run(header, first, &mut reader, &Pool::inline());
        return v.report();
    }
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Mutex::new(queue);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let queue = &queue;
            scope.spawn(move || {
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => break,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            });
        }
        let pool = Pool { jobs: Some(jobs), workers };
        v.run(header, first, &mut reader, &pool);
        // The pool's sender goes here: the workers end, and the scope waits for them.
        drop(pool);
    });
    v.report()
}

/// Exactly `N` bytes as lowercase hexadecimal: the export writes nothing else, so nothing else
/// is accepted (two spellings of one hash would make two exports of one log).
fn lower_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    crate::core::keys::Bytes::<N>::from_lower_hex(text).map(|bytes| bytes.0)
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

    /// Reads, checks and replays the whole export, then the checks at its end.
    /// `header` holds the first line and `first` the chunk after it, both read already.
    fn run<R: BufRead>(&mut self, header: Chunk, first: Chunk, reader: &mut Reader<R>, pool: &Pool) {
        // The header on its own: the workers need the association and the streams it names.
        let mut scratch = Scratch::default();
        for (no, raw) in (header.first..).zip(&header.lines) {
            let parsed = parse_line(no, &header.data, raw, None, &mut scratch);
            self.line(no, parsed, pool);
        }
        let mut first = Some(first).filter(|chunk| !chunk.lines.is_empty());
        if self.failure.is_none()
            && let Some(h) = &self.header
        {
            let context = Arc::new(Context {
                association: h.association,
                streams: self.streams.iter().map(|(name, s)| (Arc::from(name.as_str()), s.meeting)).collect(),
            });
            let mut ahead: VecDeque<(u64, mpsc::Receiver<Vec<Parsed>>)> = VecDeque::new();
            'reading: loop {
                while ahead.len() < pool.workers * CHUNKS_AHEAD_PER_WORKER {
                    let chunk = match first.take() {
                        Some(chunk) => chunk,
                        None if reader.done => break,
                        None => reader.chunk(CHUNK_LINES),
                    };
                    if chunk.lines.is_empty() {
                        break;
                    }
                    let context = std::sync::Arc::clone(&context);
                    let first = chunk.first;
                    ahead.push_back((first, pool.run(move || parse_chunk(&chunk, Some(&context)))));
                }
                let Some((first, parsed)) = ahead.pop_front() else { break };
                let Ok(parsed) = parsed.recv() else {
                    self.fail(first, None, Check::Format, format!("line {first} could not be parsed"));
                    break;
                };
                for (no, line) in (first..).zip(parsed) {
                    self.line(no, line, pool);
                    if self.failure.is_some() {
                        break 'reading;
                    }
                }
                self.collect_verified(false);
                if self.failure.is_some() {
                    break;
                }
            }
        }
        let line_no = reader.lines;
        let stopped_early = self.failure.is_some();
        if !stopped_early {
            if self.header.is_none() {
                self.fail(line_no.max(1), None, Check::Header, "the export is empty: no header".into());
            } else if !self.ended {
                self.fail(
                    line_no + 1,
                    None,
                    Check::Truncated,
                    format!("the export ends after line {line_no} without its end line: it is cut off"),
                );
            }
        }
        // Entries read but not replayed, and signatures not verified yet, may hold an earlier
        // failure than the one that stopped the reading.
        let cut = stopped_early || !self.ended;
        self.replay(true, cut);
        self.flush(pool);
        self.collect_verified(true);
        if self.failure.is_none() {
            self.all_covered(line_no);
        }
    }

    fn line(&mut self, no: u64, parsed: Parsed, pool: &Pool) {
        if let Parsed::Broken(check, reason) = parsed {
            return self.fail(no, None, check, reason);
        }
        if self.ended {
            self.fail(no, None, Check::Format, "there is more after the end line".into());
            return;
        }
        match (parsed, self.header.is_some()) {
            (Parsed::Broken(check, reason), _) => self.fail(no, None, check, reason),
            (Parsed::Misspelt(reason), _) => self.fail(no, None, Check::Format, reason),
            (Parsed::Header(h), false) => self.header(no, *h),
            (Parsed::Header(_), true) => self.fail(no, None, Check::Header, "a second header".into()),
            (_, false) => {
                self.fail(no, None, Check::Header, "the export does not start with its header".into())
            }
            (Parsed::Entry(e), true) => self.entry(no, *e),
            (Parsed::Head(h), true) => self.head(no, h),
            (Parsed::End(e), true) => self.end(no, e),
        }
        if self.failure.is_none() {
            self.replay(false, false);
        }
        if self.batch.len() >= BATCH {
            self.flush(pool);
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
                .insert(stream.clone(), StreamState { meeting, tree: CompactTree::new(), last_head: None });
        }
        self.state = Some(Association::with_id(h.association, profile));
        self.service_key = Some(key);
        self.header = Some(h);
    }

    fn association(&self) -> AssociationId {
        self.header.as_ref().map_or(AssociationId::from_uuid(uuid::Uuid::nil()), |h| h.association)
    }

    fn entry(&mut self, no: u64, e: ParsedEntry) {
        let association = self.association();
        // Where the entry is, for a failure: `entry` until its body is known to be an event.
        let at = |kind: &str| EntryRef {
            seq: e.seq,
            stream: e.stream.to_string(),
            index: e.index,
            event: kind.into(),
        };
        if e.seq <= self.last_seq {
            return self.fail(
                no,
                Some(at("entry")),
                Check::Order,
                format!(
                    "entry seq {} comes after seq {}: entries are out of order or repeated",
                    e.seq, self.last_seq
                ),
            );
        }
        let Some(stream) = self.streams.get(&*e.stream) else {
            return self.fail(
                no,
                Some(at("entry")),
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
            return self.fail(no, Some(at("entry")), Check::Stream, reason);
        }
        let event = match e.event {
            Ok(event) => event,
            Err(err) => {
                return self.fail(
                    no,
                    Some(at("entry")),
                    Check::Entry,
                    format!("the body is no event: {err}"),
                );
            }
        };
        if event.fact.meeting() != stream.meeting {
            let reason = format!("a {} event does not belong in stream {}", e.kind, e.stream);
            return self.fail(no, Some(at(&e.kind)), Check::Stream, reason);
        }
        // The worker hashed the entry's bytes when it knew the header; otherwise it kept them.
        let written = e.leaf_hash.as_deref().unwrap_or_default();
        let (leaf, matches) = match (e.leaf, &e.body) {
            (Some(leaf), _) => (leaf, e.leaf_matches),
            (None, body) => {
                let body = body.as_deref().unwrap_or_default();
                let leaf = entry_hash(association, stream.meeting, e.index, e.seq, event.at, body.as_bytes());
                (leaf, lower_hex::<32>(written) == Some(leaf))
            }
        };
        if !matches {
            return self.fail(
                no,
                Some(at(&e.kind)),
                Check::Entry,
                format!("the leaf hash {} is not the hash of the entry's bytes ({})", written, hex(&leaf)),
            );
        }
        if let Some(stream) = self.streams.get_mut(&*e.stream) {
            stream.tree.push_leaf_hash(leaf);
        }
        self.last_seq = e.seq;
        self.entries += 1;
        self.events.push_back(event);
        let place = Place { seq: e.seq, stream: e.stream, index: e.index, kind: e.kind };
        self.queue.push_back(Queued { line: no, at: place, keys: e.keys });
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
        // The size is the tree's: its root is the root at the head's size.
        if stream.tree.root() != root {
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
            // The tree is marked at the previous head, so the proof runs from its size.
            let proof = stream.tree.consistency_proof().unwrap_or_default();
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
        let bytes = signed.head.to_bytes();
        if let Some(stream) = self.streams.get_mut(&h.stream) {
            stream.last_head = Some((h.size, root, signed));
            stream.tree.mark();
        }
        self.batch.push(Pending {
            line: no,
            at: None,
            signs: Signs::Head { size: h.size, stream: h.stream },
            key,
            bytes,
            signature,
        });
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
            let look = self.events.len().min(MAX_EVENTS_PER_COMMAND);
            let events = &self.events.make_contiguous()[..look];
            let Some(now) = events.first().map(|e| e.at) else { return };
            // The keys a statement enrols, checked by the worker for the core.
            let checked: Vec<CheckedKey> =
                first.keys.iter().filter(|k| k.strict).map(|k| (k.key, k.parsed.clone())).collect();
            let mut why: Option<(Check, String)> = None;
            let mut accepted = None;
            for command in candidate_commands(state, events) {
                match handle_preverified_with_keys(state, command, now, &checked) {
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
                            why = Some((Check::Decision, decision_difference(events, &decided)));
                        }
                    }
                    Err(v) => {
                        if why.as_ref().is_none_or(|(c, _)| *c != Check::Rules) {
                            why = Some((
                                Check::Rules,
                                format!("the core refuses this {}: {} [{}]", first.at.kind, v, v.code),
                            ));
                        }
                    }
                }
            }
            let Some(n) = accepted else {
                let (check, reason) = why.unwrap_or_else(|| {
                    (Check::Rules, format!("no command causes a {} event at this point", first.at.kind))
                });
                let (line, at) = (first.line, first.at.entry_ref());
                self.fail(line, Some(at), check, reason);
                self.queue.clear();
                self.events.clear();
                return;
            };
            for _ in 0..n {
                let (Some(q), Some(event)) = (self.queue.pop_front(), self.events.pop_front()) else { break };
                let signed = signatures_in(state, &event.fact);
                let count = signed.len();
                let mut at = Some(q.at);
                for (i, s) in signed.into_iter().enumerate() {
                    let at = if i + 1 == count { at.take() } else { at.clone() };
                    // A key of the ring passed every check when it was enrolled, and a key the
                    // statement enrols was checked by the worker and accepted by the core:
                    // decoded once, by the worker. Any other key is checked here.
                    let in_ring = state.keys.get(&s.key).is_some();
                    let decoded = q
                        .keys
                        .iter()
                        .find(|k| k.key == s.key && (k.strict || in_ring))
                        .and_then(|k| k.parsed.as_ref().ok().copied());
                    match decoded.map_or_else(|| PublicKey::from_bytes(&s.key.0), Ok) {
                        Ok(key) => self.batch.push(Pending {
                            line: q.line,
                            at,
                            signs: Signs::Statement,
                            key,
                            bytes: s.bytes,
                            signature: s.signature.0,
                        }),
                        Err(e) => {
                            let kind = at.as_ref().map_or("entry", |a| &*a.kind);
                            let reason =
                                format!("the key {} that signed this {kind} cannot be used: {e}", s.key);
                            if self.failure.as_ref().is_none_or(|f| q.line < f.line) {
                                self.failure = Some(Failure {
                                    line: q.line,
                                    entry: at.as_ref().map(Place::entry_ref),
                                    check: Check::Signature,
                                    reason,
                                });
                            }
                        }
                    }
                    self.signatures += 1;
                }
                apply(state, &event);
            }
        }
    }

    /// Sends the signatures collected so far to be verified by a worker. Keeps a few batches
    /// in flight: more wait for the oldest.
    fn flush(&mut self, pool: &Pool) {
        if self.batch.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let strict = self.options.strict;
        self.verifying.push_back(pool.run(move || verify_pending(&batch, strict)));
        while self.verifying.len() > BATCHES_AHEAD {
            self.collect_one(true);
        }
    }

    /// Takes in the outcome of verified batches, oldest first: all of them when `wait`,
    /// otherwise those done.
    fn collect_verified(&mut self, wait: bool) {
        while !self.verifying.is_empty() {
            if !self.collect_one(wait) {
                return;
            }
        }
    }

    /// Takes in the oldest batch's outcome; false when it is not done and `wait` is not set.
    fn collect_one(&mut self, wait: bool) -> bool {
        let Some(batch) = self.verifying.front() else { return false };
        let outcome = if wait {
            batch.recv().ok()
        } else {
            match batch.try_recv() {
                Ok(outcome) => Some(outcome),
                Err(mpsc::TryRecvError::Empty) => return false,
                Err(mpsc::TryRecvError::Disconnected) => None,
            }
        };
        self.verifying.pop_front();
        match outcome {
            Some(Some(f)) => self.fail(f.line, f.entry, f.check, f.reason),
            Some(None) => {}
            None => {
                self.fail(1, None, Check::Signature, "a batch of signatures could not be verified".into())
            }
        }
        true
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind kept per variant is the kind every event of the fuzz seed's export (every
    /// kind a small meeting has) is written with.
    #[test]
    fn the_kind_kept_per_variant_is_the_events_own() {
        let export = include_str!("../../fuzz/seeds/export/small-meeting.jsonl");
        let mut kinds = Kinds::default();
        let mut seen = std::collections::BTreeSet::new();
        for line in export.lines() {
            let Ok(Line::Entry(e)) = serde_json::from_str::<Line>(line) else { continue };
            let Ok(event) = serde_json::from_str::<Event>(&e.body) else { panic!("{}", e.body) };
            assert_eq!(&*kinds.of(&event), kind_of(&event).as_str());
            seen.insert(kind_of(&event));
        }
        assert!(seen.len() >= 8, "{seen:?}");
        assert_eq!(kinds.0.len(), seen.len());
    }

    /// Every line and every body of a small meeting's export: what the readers of the exact
    /// spelling take is what serde_json reads; they take every entry line and every ballot, and
    /// nothing else. A line spelled otherwise is left to serde_json and refused as misspelt.
    #[test]
    fn the_readers_of_the_exact_spelling_take_the_exports_own_lines() {
        let export = include_str!("../../fuzz/seeds/export/small-meeting.jsonl");
        let (mut entries, mut ballots) = (0, 0);
        for line in export.lines() {
            let general: Option<Line> = serde_json::from_str(line).ok();
            match super::super::exact::entry_line(line) {
                Some(direct) => {
                    assert_eq!(Some(Line::Entry(direct.clone())), general);
                    entries += 1;
                    let event: Option<Event> = serde_json::from_str(&direct.body).ok();
                    match super::super::exact::ballot_event(&direct.body) {
                        Some(ballot) => {
                            assert_eq!(Some(ballot), event);
                            ballots += 1;
                        }
                        None => assert!(
                            !matches!(event, Some(Event { fact: Fact::BallotCast { .. }, .. })),
                            "{}",
                            direct.body
                        ),
                    }
                }
                None => assert!(!matches!(general, Some(Line::Entry(_))), "{line}"),
            }
        }
        assert!(entries > 20, "{entries}");
        assert!(ballots >= 3, "{ballots}");
        let line = export.lines().nth(1).unwrap_or_default();
        let spaced = line.replacen(",\"seq\":", ", \"seq\":", 1);
        assert!(super::super::exact::entry_line(&spaced).is_none());
        let Parsed::Misspelt(reason) =
            parse_line(2, spaced.as_bytes(), &RawLine::Whole(0..spaced.len()), None, &mut Scratch::default())
        else {
            panic!("taken: {spaced}")
        };
        assert!(reason.contains("not written as an export writes it"), "{reason}");
        let unknown = line.replacen(",\"seq\":", ",\"extra\":1,\"seq\":", 1);
        let Parsed::Misspelt(reason) = parse_line(
            2,
            unknown.as_bytes(),
            &RawLine::Whole(0..unknown.len()),
            None,
            &mut Scratch::default(),
        ) else {
            panic!("taken: {unknown}")
        };
        assert!(reason.contains("is not a line of an export"), "{reason}");
    }
}
