//! The crash test: the real `stembus` binary on a SQLite file, killed with SIGKILL at a random
//! moment while voters cast signed ballots, restarted on the same files, and checked after
//! every restart (docs/reliability.md, "Crash safety"):
//!
//! - every ballot for which a receipt was returned is in the log, at the index its receipt
//!   names, with the leaf hash its receipt names (no index lost or reused), its receipt's
//!   signed head verifies, and the log after the restart is consistent with that head;
//! - the service's latest signed head is the head of the log stored in its database;
//! - the exported log verifies as an auditor verifies it (`ledger::audit::verify_export`), and
//!   holds the entries read from the database (after every `STEMBUS_CRASH_FULL_EVERY` cycles);
//! - every ballot that got no answer, retried as the same signed request, is acknowledged
//!   (201 when it had not been stored, 200 `already_recorded` when it had), and the log then
//!   holds every acknowledged ballot exactly once and nothing else.
//!
//! Settings (environment): `STEMBUS_CRASH_CYCLES` (default 100), `STEMBUS_CRASH_SEED` (default
//! from the clock; printed, so a failing run can be repeated), `STEMBUS_CRASH_VOTERS` (default
//! 8), `STEMBUS_CRASH_FULL_EVERY` (default 1), `STEMBUS_CRASH_BINARY` (default: the `stembus` this test was built with). The summary
//! line at the end gives the counts docs/reliability.md reports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant as Clock};

use chrono::Utc;
use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use stembus::core::register::{Capacity, MemberKind};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, AssociationId, Choice, Command, Convener, DecisionKind, Fact, Instant,
    MeetingId, MemberId, Mode, MotionSpec, PersonId, PollId, PollMethod, RulesProfile, SignatureBytes,
};
use stembus::ledger::audit::{Options, verify_export};
use stembus::ledger::author;
use stembus::ledger::canonical::BallotStatement;
use stembus::ledger::export::Line;
use stembus::ledger::log::{SignedTreeHead, TreeHead, unhex};
use stembus::ledger::merkle::{Hash, MerkleTree, verify_consistency, verify_inclusion};
use stembus::ledger::signature::{self, PublicKey};
use stembus::service::Service;
use stembus::store::{Store, access, log};

const ASSOCIATION: &str = "crash-coop";
const MEETING: &str = "alv";
const ITEM: &str = "contribution";
const POLL: &str = "contribution-poll";

fn association() -> AssociationId {
    AssociationId::named(ASSOCIATION)
}

fn meeting() -> MeetingId {
    MeetingId::named(MEETING)
}

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|e| panic!("{name}={v}: {e}")),
        Err(_) => default,
    }
}

/// SplitMix64: a small seeded generator, so a run is repeated from its printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// A voter: a member's representative with a key and a session.
struct Voter {
    member: MemberId,
    person: PersonId,
    key: SigningKey,
    token: String,
    /// The sequence number the voter signs next.
    next_sequence: u64,
}

/// A signed ballot as sent: the request body and what names it in the log.
#[derive(Clone)]
struct Sent {
    body: Value,
    /// The key (hex) and sequence number that sign it.
    id: (String, u64),
}

impl Voter {
    fn ballot(&mut self, choice: Choice) -> Sent {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let statement = BallotStatement {
            association: association(),
            meeting: meeting(),
            item: AgendaItemId::named(ITEM),
            poll: Some(PollId::named(POLL)),
            member: self.member,
            person: self.person,
            choice,
            sequence,
        };
        let key = author::key_bytes(&self.key).to_hex();
        let signature = SignatureBytes::from(signature::sign(&self.key, &statement.to_bytes())).to_hex();
        let word = match choice {
            Choice::For => "for",
            Choice::Against => "against",
            Choice::Abstain => "abstain",
        };
        Sent {
            body: json!({
                "member": self.member.to_string(),
                "choice": word,
                "signature": {"key": key, "sequence": sequence, "signature": signature},
            }),
            id: (key, sequence),
        }
    }
}

/// A receipt the service returned: where it says the ballot is, and the head it proved it in.
struct Ack {
    id: (String, u64),
    leaf_index: u64,
    leaf_hash: Hash,
    proof: Vec<Hash>,
    head: SignedTreeHead,
    /// The cycle it was returned in: checked in full then, by its leaf ever after.
    cycle: u64,
}

fn hash(v: &Value) -> Hash {
    v.as_str().and_then(unhex).and_then(|b| b.try_into().ok()).unwrap_or_else(|| panic!("not a hash: {v}"))
}

fn tree_head(v: &Value) -> SignedTreeHead {
    SignedTreeHead {
        head: TreeHead {
            association: association(),
            meeting: Some(meeting()),
            size: v["size"].as_u64().unwrap_or_else(|| panic!("no size in {v}")),
            root: hash(&v["root"]),
            timestamp: v["timestamp"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("no timestamp in {v}")),
        },
        signature: v["signature"]
            .as_str()
            .and_then(unhex)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_else(|| panic!("no signature in {v}")),
    }
}

fn ack_of(sent: &Sent, answer: &Value, cycle: u64) -> Ack {
    let r = &answer["log_receipt"];
    Ack {
        id: sent.id.clone(),
        leaf_index: r["leaf_index"].as_u64().unwrap_or_else(|| panic!("no leaf index in {answer}")),
        leaf_hash: hash(&r["leaf_hash"]),
        proof: r["inclusion_proof"].as_array().into_iter().flatten().map(hash).collect(),
        head: tree_head(&r["tree_head"]),
        cycle,
    }
}

/// The files of one service: its database, its key, its outbox and its log.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn database(&self) -> PathBuf {
        self.dir.join("stembus.sqlite")
    }
    fn key(&self) -> PathBuf {
        self.dir.join("service.key")
    }
}

fn execute(service: &Service, command: Command, now: Instant) {
    let shown = format!("{command:?}");
    service.execute(association(), command, now).unwrap_or_else(|e| panic!("refused: {e}\n{shown}"));
}

/// The association with `voters` members, each with a representative who has an enrolled key
/// and a session, and the meeting in session with an electronic poll open, set up through the
/// library on the service's files before the first start. The meeting started an hour ago:
/// ballots carry the real clock. Returns the voters and the auditor's token.
fn prepare(files: &Files, voters: usize, seed: u64) -> (Vec<Voter>, String) {
    let store = Store::open(&files.database().display().to_string()).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let key = stembus::keys::load_or_create(&files.key()).unwrap_or_else(|e| panic!("{e}"));
    let service = Service::new(store, key);
    let now = Utc::now();
    let at = |minutes_ago: i64| now - chrono::Duration::minutes(minutes_ago);
    let a = association();
    stembus::app::create_association(
        &service,
        a,
        "Coöperatie Crash U.A.",
        RulesProfile::dimpact_2023_toml(),
        "Secretariaat",
        "secretariaat@crash.example",
        at(40 * 24 * 60),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let register = at(40 * 24 * 60);
    for i in 1..=voters {
        let (member, person) = (MemberId::named(&format!("m{i}")), PersonId::named(&format!("p{i}")));
        execute(
            &service,
            Command::RegisterMember {
                member,
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            },
            register,
        );
        execute(
            &service,
            Command::RegisterPerson {
                person,
                name: format!("Wethouder {i}"),
                email: format!("wethouder@gemeente{i}.example").parse().ok(),
                profession: None,
            },
            register,
        );
        execute(
            &service,
            Command::AssignRepresentative { person, member, capacity: Capacity::PortfolioHolder },
            register,
        );
    }
    let chair = PersonId::named("chair");
    execute(
        &service,
        Command::RegisterPerson {
            person: chair,
            name: "Voorzitter RvC".into(),
            email: "voorzitter@rvc.example".parse().ok(),
            profession: None,
        },
        register,
    );
    execute(&service, Command::AppointSupervisoryBoardChair { person: chair, deputy: false }, register);
    execute(
        &service,
        Command::CreateMeeting {
            meeting: meeting(),
            title: "ALV".into(),
            starts_at: at(60),
            place: "Enschede".into(),
            agenda: vec![AgendaItemSpec {
                item: AgendaItemId::named(ITEM),
                title: "Contribution".into(),
                motion: Some(MotionSpec {
                    text: "The contribution is set as proposed.".into(),
                    kind: DecisionKind::Ordinary,
                    proposal: None,
                    board_proposal_approved: false,
                }),
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            }],
            follow_up_of: None,
            request: None,
        },
        at(30 * 24 * 60),
    );
    execute(
        &service,
        Command::ConveneMeeting {
            meeting: meeting(),
            by: Convener::Board,
            advance_voting: false,
            electronic_participation: None,
        },
        at(30 * 24 * 60),
    );
    for i in 1..=voters {
        let (member, person) = (MemberId::named(&format!("m{i}")), PersonId::named(&format!("p{i}")));
        execute(
            &service,
            Command::CheckIn { meeting: meeting(), member, person, mode: Mode::InPerson },
            at(70),
        );
    }
    execute(
        &service,
        Command::OpenMeeting { meeting: meeting(), chair, appointed_by_meeting: false },
        at(60),
    );
    execute(
        &service,
        Command::OpenPoll {
            meeting: meeting(),
            poll: PollId::named(POLL),
            item: AgendaItemId::named(ITEM),
            method: PollMethod::Electronic,
            by: chair,
            revote_of: None,
        },
        at(55),
    );
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let mut session = |person: PersonId, name: &str| {
        let token = format!("crash-{seed}-{name}");
        let hash = stembus::http::auth::digest(&token);
        access::start_session(&mut conn, &hash, a, person, at(50), now + chrono::Duration::days(2))
            .unwrap_or_else(|e| panic!("{e}"));
        token
    };
    let mut voters_out = Vec::with_capacity(voters);
    for i in 1..=voters {
        let (member, person) = (MemberId::named(&format!("m{i}")), PersonId::named(&format!("p{i}")));
        let key = author::scenario_key(person);
        let enrolment =
            service.read(a, |s| author::enrol(s, person, &key, 1)).unwrap_or_else(|e| panic!("{e}"));
        execute(&service, enrolment, at(50));
        let token = session(person, &format!("p{i}"));
        voters_out.push(Voter { member, person, key, token, next_sequence: 2 });
    }
    let auditor = session(chair, "chair");
    access::grant_role(&mut conn, a, chair, "auditor", at(50)).unwrap_or_else(|e| panic!("{e}"));
    (voters_out, auditor)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    listener.local_addr().unwrap_or_else(|e| panic!("{e}")).port()
}

/// A running `stembus serve`.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(files: &Files) -> Self {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(files.dir.join("server.log"))
            .unwrap_or_else(|e| panic!("{e}"));
        let binary = std::env::var("STEMBUS_CRASH_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_stembus").to_owned());
        let child = Process::new(&binary)
            .arg("serve")
            .env("DATABASE_URL", files.database())
            .env("STEMBUS_KEY_FILE", files.key())
            .env("STEMBUS_OUTBOX_DIR", files.dir.join("outbox"))
            .env("STEMBUS_BIND", format!("127.0.0.1:{port}"))
            .env("STEMBUS_MAIL_WORKER", "false")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}/api/v1") };
        let client =
            Client::builder().timeout(Duration::from_secs(2)).build().unwrap_or_else(|e| panic!("{e}"));
        let started = Clock::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited with {status}; see {}", files.dir.join("server.log").display());
            }
            if client.get(format!("{}/health", server.base)).send().is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            if started.elapsed() > Duration::from_secs(60) {
                server.kill();
                panic!("the server did not answer within a minute");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL: the process gets no chance to finish anything.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn ballots(&self) -> String {
        format!("{}/associations/{ASSOCIATION}/meetings/{MEETING}/agenda-items/{ITEM}/ballots", self.base)
    }
}

/// What one voter saw during a burst.
#[derive(Default)]
struct Burst {
    acks: Vec<(Sent, Value)>,
    /// The ballot that got no answer (at most one: the voter stops at the first).
    unanswered: Option<Sent>,
    /// Answers that are neither a receipt nor a lost connection.
    failures: Vec<String>,
}

fn burst(url: &str, voter: &mut Voter, seed: u64, stop: &AtomicBool) -> Burst {
    let client = Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_else(|e| panic!("{e}"));
    let mut rng = Rng(seed);
    let mut out = Burst::default();
    while !stop.load(Ordering::Relaxed) {
        let choice = [Choice::For, Choice::Against, Choice::Abstain][(rng.next() % 3) as usize];
        let sent = voter.ballot(choice);
        let answer = client.post(url).bearer_auth(&voter.token).json(&sent.body).send();
        let (status, text) = match answer.and_then(|r| Ok((r.status(), r.text()?))) {
            Ok(answer) => answer,
            Err(_) => {
                out.unanswered = Some(sent);
                break;
            }
        };
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if status == StatusCode::CREATED && value["already_recorded"] == false {
            out.acks.push((sent, value));
        } else {
            out.failures.push(format!("a fresh ballot {:?} was answered {status}: {value}", sent.id));
        }
    }
    out
}

#[derive(Default, Debug)]
struct Counts {
    cycles: u64,
    sent: u64,
    receipts: u64,
    unanswered: u64,
    retried_stored: u64,
    retried_already_recorded: u64,
    duplicates: u64,
    full_verifications: u64,
    failures: Vec<String>,
}

/// The meeting's log as the test has read it so far: the leaves, their tree, and how often each
/// signed ballot occurs. Read from the service's database after every restart, only the entries
/// added since the last read; that the older ones are unchanged follows from the new signed head
/// (its root is computed over them) and is checked in full by every export verification.
struct Mirror {
    store: Store,
    tree: MerkleTree,
    ballots: HashMap<(String, u64), u64>,
    last_seq: i64,
}

impl Mirror {
    fn open(files: &Files) -> Self {
        let store = Store::open(&files.database().display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        Mirror { store, tree: MerkleTree::new(), ballots: HashMap::new(), last_seq: 0 }
    }

    /// Reads the entries of the meeting's stream added since the last read.
    fn catch_up(&mut self, fail: &mut impl FnMut(String)) {
        let mut conn = self.store.connection().unwrap_or_else(|e| panic!("{e}"));
        let streams = [meeting().to_string()];
        loop {
            let page =
                log::read_streams_after(&mut conn, association(), &streams, self.last_seq, i64::MAX, 10_000)
                    .unwrap_or_else(|e| panic!("{e}"));
            let Some(last) = page.last() else { return };
            self.last_seq = last.seq;
            for entry in &page {
                if entry.stream_index != self.tree.len() as i64 {
                    fail(format!(
                        "entry {} of the meeting's log comes at place {}",
                        entry.stream_index,
                        self.tree.len()
                    ));
                }
                self.tree.push_leaf_hash(log::leaf_of(association(), entry));
                if let Fact::BallotCast { ballot, .. } = &entry.event.fact
                    && let Some(signed) = ballot.signed
                {
                    *self.ballots.entry((signed.key.to_hex(), signed.sequence)).or_default() += 1;
                }
            }
        }
    }
}

/// Downloads the meeting's export and verifies it as an auditor does; its leaves must be the
/// mirror's, entry for entry.
fn verify_in_full(
    server: &Server,
    auditor: &str,
    service_key: &str,
    mirror: &Mirror,
    fail: &mut impl FnMut(String),
) {
    let client =
        Client::builder().timeout(Duration::from_secs(300)).build().unwrap_or_else(|e| panic!("{e}"));
    let export = client
        .get(format!("{}/associations/{ASSOCIATION}/meetings/{MEETING}/export", server.base))
        .bearer_auth(auditor)
        .send()
        .and_then(|r| r.error_for_status()?.text())
        .unwrap_or_else(|e| panic!("the export failed: {e}"));
    let report = verify_export(
        export.as_bytes(),
        Options { service_key: Some(service_key.to_owned()), strict: false },
    );
    if !report.verified {
        fail(format!("the export does not verify: {:?}", report.failure));
    }
    let stream = meeting().to_string();
    let mut index = 0u64;
    for line in export.lines() {
        let Ok(Line::Entry(entry)) = serde_json::from_str::<Line>(line) else { continue };
        if entry.stream != stream {
            continue;
        }
        if mirror.tree.leaf_hash_at(index) != Some(hash(&json!(entry.leaf_hash))) || entry.index != index {
            fail(format!("entry {index} of the export is not the entry read from the database"));
        }
        index += 1;
    }
    if index != mirror.tree.len() {
        fail(format!("the export holds {index} entries of the meeting, the database {}", mirror.tree.len()));
    }
}

/// Checks the log after a restart against every receipt so far (module documentation).
#[allow(clippy::too_many_arguments)]
fn check(
    server: &Server,
    auditor: &str,
    service_key: &str,
    mirror: &mut Mirror,
    acks: &[Ack],
    cycle: u64,
    in_full: bool,
    counts: &mut Counts,
) {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(format!("cycle {cycle}: {what}"));
    mirror.catch_up(&mut fail);
    if in_full {
        verify_in_full(server, auditor, service_key, mirror, &mut fail);
    }
    let (size, root) = (mirror.tree.len(), mirror.tree.root());
    let public = PublicKey::from_hex(service_key).unwrap_or_else(|e| panic!("{e}"));
    let client = Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_else(|e| panic!("{e}"));
    let head: Value = client
        .get(format!("{}/associations/{ASSOCIATION}/meetings/{MEETING}/log/head", server.base))
        .bearer_auth(auditor)
        .send()
        .and_then(|r| r.json())
        .unwrap_or_else(|e| panic!("cycle {cycle}: the head: {e}"));
    let head = tree_head(&head);
    // The service's latest signed head is the head of the log in its database, old entries and new.
    if head.verify(&public).is_err() || head.head.size != size || head.head.root != root {
        fail(format!(
            "the latest signed head (size {}) is not the stored log's (size {size})",
            head.head.size
        ));
    }
    let mut receipted: HashSet<&(String, u64)> = HashSet::with_capacity(acks.len());
    for ack in acks {
        receipted.insert(&ack.id);
        // The entry at the receipted index is the receipted ballot: nothing lost, nothing reused.
        if mirror.tree.leaf_hash_at(ack.leaf_index) != Some(ack.leaf_hash) {
            fail(format!("the receipted ballot {:?} is not at index {}", ack.id, ack.leaf_index));
        }
        if ack.cycle != cycle {
            continue;
        }
        // Acknowledged in this cycle: its receipt verifies, and the log now extends its head.
        if ack.head.verify(&public).is_err() {
            fail(format!("the head in the receipt of {:?} is not signed by the service", ack.id));
        }
        if verify_inclusion(
            &ack.leaf_hash,
            ack.leaf_index,
            ack.head.head.size,
            &ack.proof,
            &ack.head.head.root,
        )
        .is_err()
        {
            fail(format!("the inclusion proof of {:?} does not verify", ack.id));
        }
        let consistent = mirror.tree.consistency_proof(ack.head.head.size, size).is_some_and(|proof| {
            verify_consistency(ack.head.head.size, size, &ack.head.head.root, &root, &proof).is_ok()
        });
        if !consistent {
            fail(format!("the log is not consistent with the head in the receipt of {:?}", ack.id));
        }
    }
    // Exactly once: every acknowledged ballot is in the log once, and nothing else is.
    for (id, n) in &mirror.ballots {
        if *n > 1 {
            counts.duplicates += n - 1;
            fail(format!("ballot {id:?} is in the log {n} times"));
        }
        if !receipted.contains(id) {
            fail(format!("ballot {id:?} is in the log but was never acknowledged"));
        }
    }
    for id in receipted {
        if !mirror.ballots.contains_key(id) {
            fail(format!("the acknowledged ballot {id:?} is not in the log"));
        }
    }
    if in_full {
        counts.full_verifications += 1;
    }
    counts.failures.extend(failures);
}

#[test]
fn ballots_with_a_receipt_survive_sigkill_and_retries_are_stored_exactly_once() {
    let cycles = setting("STEMBUS_CRASH_CYCLES", 100);
    let voters = setting("STEMBUS_CRASH_VOTERS", 8) as usize;
    let full_every = setting("STEMBUS_CRASH_FULL_EVERY", 1).max(1);
    let seed = setting(
        "STEMBUS_CRASH_SEED",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    );
    println!(
        "crash test: {cycles} cycles, {voters} voters, the export verified every {full_every} cycles, STEMBUS_CRASH_SEED={seed}"
    );
    let dir = std::env::temp_dir().join(format!("stembus-crash-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let files = Files { dir };
    let (mut voters, auditor) = prepare(&files, voters, seed);
    let service_key = {
        let key = stembus::keys::load_or_create(&files.key()).unwrap_or_else(|e| panic!("{e}"));
        PublicKey::of(&key).to_hex()
    };
    let mut rng = Rng(seed);
    let mut counts = Counts::default();
    let mut acks: Vec<Ack> = Vec::new();
    let started = Clock::now();
    let mut server = Server::start(&files);
    let mut mirror = Mirror::open(&files);
    for cycle in 1..=cycles {
        // Voters cast ballots at once until the server is killed, at a random moment.
        let stop = Arc::new(AtomicBool::new(false));
        let url = server.ballots();
        let kill_after = Duration::from_millis(rng.range(5, 250));
        let seeds: Vec<u64> = voters.iter().map(|_| rng.next()).collect();
        let bursts: Vec<(Burst, u64)> = std::thread::scope(|scope| {
            let running: Vec<_> = voters
                .iter_mut()
                .zip(seeds)
                .map(|(voter, seed)| {
                    let (url, stop) = (url.clone(), Arc::clone(&stop));
                    scope.spawn(move || {
                        let first = voter.next_sequence;
                        let burst = burst(&url, voter, seed, &stop);
                        (burst, voter.next_sequence - first)
                    })
                })
                .collect();
            std::thread::sleep(kill_after);
            server.kill();
            stop.store(true, Ordering::Relaxed);
            running.into_iter().map(|r| r.join().unwrap_or_else(|_| panic!("a voter panicked"))).collect()
        });
        let mut unanswered = Vec::new();
        for (burst, sent) in bursts {
            counts.sent += sent;
            counts.receipts += burst.acks.len() as u64;
            acks.extend(burst.acks.iter().map(|(s, v)| ack_of(s, v, cycle)));
            counts.failures.extend(burst.failures.into_iter().map(|f| format!("cycle {cycle}: {f}")));
            unanswered.extend(burst.unanswered);
        }
        counts.unanswered += unanswered.len() as u64;

        // Restarted on the same files, the service hears every unanswered ballot again.
        server = Server::start(&files);
        let client =
            Client::builder().timeout(Duration::from_secs(30)).build().unwrap_or_else(|e| panic!("{e}"));
        let tokens: BTreeMap<String, String> =
            voters.iter().map(|v| (author::key_bytes(&v.key).to_hex(), v.token.clone())).collect();
        for sent in unanswered {
            let token = &tokens[&sent.id.0];
            let answer = client
                .post(server.ballots())
                .bearer_auth(token)
                .json(&sent.body)
                .send()
                .and_then(|r| Ok((r.status(), r.json::<Value>()?)))
                .unwrap_or_else(|e| panic!("cycle {cycle}: the retry of {:?} got no answer: {e}", sent.id));
            match answer {
                (StatusCode::CREATED, v) if v["already_recorded"] == false => {
                    counts.retried_stored += 1;
                    acks.push(ack_of(&sent, &v, cycle));
                }
                (StatusCode::OK, v) if v["already_recorded"] == true => {
                    counts.retried_already_recorded += 1;
                    acks.push(ack_of(&sent, &v, cycle));
                }
                (status, v) => counts
                    .failures
                    .push(format!("cycle {cycle}: the retry of {:?} was answered {status}: {v}", sent.id)),
            }
        }
        let in_full = cycle % full_every == 0 || cycle == cycles;
        check(&server, &auditor, &service_key, &mut mirror, &acks, cycle, in_full, &mut counts);
        counts.cycles = cycle;
        if !counts.failures.is_empty() {
            break;
        }
        if cycle % 50 == 0 {
            println!("  after {cycle} cycles: {} receipts, {:.0?}", acks.len(), started.elapsed());
            let _ = std::io::stdout().flush();
        }
    }
    server.kill();
    let elapsed = started.elapsed();
    println!(
        "crash test (seed {seed}): {} cycles, {} ballots sent, {} receipts during bursts, {} unanswered, retried: {} stored now + {} already recorded, duplicates {}, verification failures {}, {} full export verifications, {:.1} s",
        counts.cycles,
        counts.sent,
        counts.receipts,
        counts.unanswered,
        counts.retried_stored,
        counts.retried_already_recorded,
        counts.duplicates,
        counts.failures.len(),
        counts.full_verifications,
        elapsed.as_secs_f64()
    );
    assert!(
        counts.failures.is_empty(),
        "seed {seed}; files in {}:\n{}",
        files.dir.display(),
        counts.failures.join("\n")
    );
    assert_eq!(counts.cycles, cycles);
    assert_eq!(counts.unanswered, counts.retried_stored + counts.retried_already_recorded);
    let _ = std::fs::remove_dir_all(&files.dir);
}
