//! Ballot intake over HTTP: the real server started in this process on 127.0.0.1 (port 0),
//! voters as concurrent HTTP clients, each signing with its own key; the set-up goes through
//! the service directly.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use diesel::Connection;
use ed25519_dalek::SigningKey;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::HeaderValue;
use serde_json::{Value, json};

use stembus::clock::{Clock, ManualClock};
use stembus::config::Config;
use stembus::core::{Association, Choice, Command, RulesProfile};
use stembus::ledger::log::{SignedTreeHead, TreeHead, unhex};
use stembus::ledger::merkle::verify_inclusion;
use stembus::ledger::signature::PublicKey;
use stembus::service::{Notices, Service};
use stembus::store::access;

use crate::meeting::{self, at};

/// How long a voter's ballots may take in all before the run counts them as failed.
const VOTER_TIMEOUT: Duration = Duration::from_secs(600);

/// A server running in this process.
pub struct Server {
    pub url: String,
    pub service: Arc<Service>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts the service on `database_url`, signing with the key in `key_file` (created when
    /// missing), with its clock standing at the moment of the ballots.
    pub fn start(database_url: &str, dir: &Path, key_file: &Path) -> anyhow::Result<Self> {
        let config = Config {
            bind: "127.0.0.1:0".parse()?,
            database_url: database_url.to_owned(),
            key_file: key_file.to_owned(),
            outbox_dir: dir.join("outbox"),
            public_url: Some("http://127.0.0.1".into()),
            ..Config::default()
        };
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at(meeting::VOTE_AT)));
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match stembus::app::Application::build(config, clock) {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.port, Arc::clone(&app.service), app.handle())));
                        let _ = app.run_until_stopped().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                    }
                }
            });
        });
        let (port, service, handle) = rx
            .recv()
            .context("the server thread ended")?
            .map_err(|e| anyhow::anyhow!("the server did not start: {e}"))?;
        Ok(Self { url: format!("http://127.0.0.1:{port}"), service, handle, thread: Some(thread) })
    }

    pub fn stop(mut self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Carries out commands through the service in batches; any refusal is an error of the set-up.
pub fn run_all(service: &Service, commands: Vec<(Command, stembus::core::Instant)>) -> anyhow::Result<()> {
    let mut rest = commands;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(50_000));
        let chunk = std::mem::replace(&mut rest, tail);
        for outcome in service.execute_many(meeting::association(), chunk, Notices::Withhold)? {
            outcome.context("a set-up command was refused")?;
        }
    }
    Ok(())
}

/// Voters' keys, computed on two threads.
pub fn keys(seed: &[u8; 32], n: usize) -> Vec<SigningKey> {
    let half = n / 2;
    std::thread::scope(|s| {
        let first = s.spawn(|| (0..half).map(|i| meeting::voter_key(seed, i)).collect::<Vec<_>>());
        let mut second: Vec<SigningKey> = (half..n).map(|i| meeting::voter_key(seed, i)).collect();
        let mut all = first.join().unwrap_or_default();
        all.append(&mut second);
        all
    })
}

/// The meeting of `n` voters, set up through `service`: registered, keys enrolled, checked in,
/// the poll open. Returns the voters' keys and the state with the poll open.
pub fn set_up(
    service: &Service,
    n: usize,
    seed: &[u8; 32],
) -> anyhow::Result<(Vec<SigningKey>, Association)> {
    service.create_association(
        meeting::association(),
        "Coöperatie Meetbank U.A.",
        RulesProfile::dimpact_2023_toml(),
        at(meeting::REGISTERED_AT),
    )?;
    run_all(service, meeting::register(0, n))?;
    let keys = keys(seed, n);
    let blank = Association::with_id(meeting::association(), RulesProfile::dimpact_2023());
    run_all(service, meeting::enrol(&blank, &keys, 0))?;
    run_all(service, meeting::convene())?;
    run_all(service, meeting::check_in(0, n))?;
    run_all(service, meeting::open_poll())?;
    let state = service.read(meeting::association(), |s| s.clone())?;
    Ok((keys, state))
}

/// A voter at the keyboard: its key, its session token, and the sequence number it signs next.
pub struct Voter {
    pub index: usize,
    pub key: SigningKey,
    pub token: String,
    pub next_sequence: u64,
}

/// Sessions for the voters, as if each had signed in.
pub fn sign_in(service: &Service, keys: Vec<SigningKey>) -> anyhow::Result<Vec<Voter>> {
    let mut voters = Vec::with_capacity(keys.len());
    let mut conn = service.store().connection()?;
    let now = at(meeting::REGISTERED_AT);
    let expires = at(meeting::VOTE_AT) + chrono::Duration::days(1);
    conn.transaction::<_, anyhow::Error, _>(|c| {
        for (index, key) in keys.into_iter().enumerate() {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
            let token = stembus::ledger::log::hex(&secret);
            let hash = stembus::http::auth::digest(&token);
            access::start_session(c, &hash, meeting::association(), meeting::person(index), now, expires)?;
            voters.push(Voter { index, key, token, next_sequence: 2 });
        }
        Ok(())
    })?;
    Ok(voters)
}

/// What one level of concurrency measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Level {
    pub voters: usize,
    pub ballots: usize,
    pub seconds: f64,
    pub ballots_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU time of this process (the server and the voters' clients together) per ballot, in
    /// microseconds: a figure that a shared machine disturbs less than the rates.
    pub cpu_us_per_ballot: f64,
    /// Ballots answered with anything but 201 Created and a receipt.
    pub failed: usize,
    /// Receipts whose signed head and inclusion proof verified.
    pub receipts_verified: usize,
}

fn code(choice: Choice) -> &'static str {
    match choice {
        Choice::For => "for",
        Choice::Against => "against",
        Choice::Abstain => "abstain",
    }
}

/// The first `n` voters each cast `per_voter` ballots, one after the other (a later ballot
/// replaces the earlier), all voters at once; voter `i` talks to `servers[i % servers.len()]`.
/// Every receipt is verified afterwards with `service_key`.
pub fn run_level(
    rt: &tokio::runtime::Runtime,
    servers: &[String],
    voters: &mut [Voter],
    state: &Association,
    n: usize,
    per_voter: usize,
    service_key: &PublicKey,
) -> anyhow::Result<Level> {
    if voters.len() < n || servers.is_empty() {
        bail!("{n} voters wanted, {} set up", voters.len());
    }
    // The ballots are signed before the clock starts: signing is the voter's work, not the
    // service's.
    let mut plans = Vec::with_capacity(n);
    for voter in voters.iter_mut().take(n) {
        let mut bodies = Vec::with_capacity(per_voter);
        for k in 0..per_voter {
            let choice = meeting::choice(voter.index, k);
            let command = meeting::signed_ballot(state, voter.index, choice, &voter.key, voter.next_sequence);
            voter.next_sequence += 1;
            let Command::CastBallot { signed, .. } = command else { bail!("not a ballot") };
            let body = json!({
                "member": meeting::member(voter.index).to_string(),
                "choice": code(choice),
                "signature": signed,
            });
            bodies.push(serde_json::to_vec(&body)?);
        }
        let path = format!(
            "/api/v1/associations/{}/meetings/{}/agenda-items/{}/ballots",
            meeting::association(),
            meeting::meeting(),
            meeting::item()
        );
        let server = &servers[voter.index % servers.len()];
        let address = server.strip_prefix("http://").unwrap_or(server).to_owned();
        let path: hyper::Uri = path.parse()?;
        let host = HeaderValue::try_from(address.as_str())?;
        let bearer = HeaderValue::try_from(format!("Bearer {}", voter.token))?;
        plans.push((address, path, host, bearer, bodies));
    }
    // Every voter's connection is opened before the clock starts, as a voter's browser keeps
    // its connection to the service; each voter sends on its own connection.
    let connected = rt.block_on(async {
        let mut connected = Vec::with_capacity(plans.len());
        for (address, path, host, bearer, bodies) in plans {
            let stream = tokio::net::TcpStream::connect(&address)
                .await
                .with_context(|| format!("cannot connect to {address}"))?;
            stream.set_nodelay(true)?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            connected.push((sender, path, host, bearer, bodies));
        }
        anyhow::Ok(connected)
    })?;
    let json_type = HeaderValue::from_static("application/json");
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    // While the clock runs a voter only sends and keeps the answer; answers are read after.
    let outcomes = rt.block_on(async {
        let tasks: Vec<_> = connected
            .into_iter()
            .map(|(mut sender, path, host, bearer, bodies)| {
                let json_type = json_type.clone();
                let voter = async move {
                    let mut latencies = Vec::with_capacity(bodies.len());
                    let mut answers = Vec::with_capacity(bodies.len());
                    let mut errors: Vec<String> = Vec::new();
                    for body in bodies {
                        let request = hyper::Request::post(path.clone())
                            .header(hyper::header::HOST, host.clone())
                            .header(hyper::header::AUTHORIZATION, bearer.clone())
                            .header(hyper::header::CONTENT_TYPE, json_type.clone())
                            .body(Full::new(Bytes::from(body)));
                        let request = match request {
                            Ok(request) => request,
                            Err(e) => {
                                errors.push(e.to_string());
                                continue;
                            }
                        };
                        let t0 = Instant::now();
                        match sender.send_request(request).await {
                            Ok(response) => {
                                let status = response.status();
                                match response.into_body().collect().await {
                                    Ok(body) => {
                                        latencies.push(t0.elapsed());
                                        answers.push((status, body.to_bytes()));
                                    }
                                    Err(e) => errors.push(e.to_string()),
                                }
                            }
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    (latencies, answers, errors)
                };
                // A bound on the whole of a voter's ballots, so that a server that stops
                // answering ends the run with an error instead of hanging it.
                tokio::spawn(async move {
                    tokio::time::timeout(VOTER_TIMEOUT, voter).await.unwrap_or_else(|_| {
                        (Vec::new(), Vec::new(), vec![format!("no answer within {VOTER_TIMEOUT:?}")])
                    })
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(task.await.unwrap_or_else(|e| (Vec::new(), Vec::new(), vec![e.to_string()])));
        }
        outcomes
    });
    let seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = process_cpu_seconds() - cpu_before;
    let mut latencies: Vec<Duration> = Vec::new();
    let mut receipts: Vec<Value> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    for (l, answers, e) in outcomes {
        latencies.extend(l);
        for (status, bytes) in answers {
            let mut value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            if status == hyper::StatusCode::CREATED && value["log_receipt"].is_object() {
                receipts.push(value["log_receipt"].take());
            } else {
                errors.push(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
            }
        }
        errors.extend(e);
    }
    if let Some(first) = errors.first() {
        eprintln!("  {} ballots failed; the first: {first}", errors.len());
    }
    let mut verified = 0;
    for receipt in &receipts {
        match verify_receipt(receipt, service_key) {
            Ok(()) => verified += 1,
            Err(e) => eprintln!("  a receipt does not verify: {e}"),
        }
    }
    latencies.sort();
    let pick = |q: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[i].as_secs_f64() * 1000.0
    };
    Ok(Level {
        voters: n,
        ballots: receipts.len(),
        seconds,
        ballots_per_second: receipts.len() as f64 / seconds,
        p50_ms: pick(0.50),
        p99_ms: pick(0.99),
        cpu_us_per_ballot: cpu_seconds * 1e6 / receipts.len().max(1) as f64,
        failed: errors.len(),
        receipts_verified: verified,
    })
}

/// Checks a receipt as a voter does: the head is signed with the service's key, and the leaf
/// is in the tree of that head.
pub fn verify_receipt(receipt: &Value, service_key: &PublicKey) -> anyhow::Result<()> {
    let h = &receipt["tree_head"];
    let hash = |v: &Value| -> anyhow::Result<[u8; 32]> {
        v.as_str().and_then(unhex).and_then(|b| b.try_into().ok()).with_context(|| format!("not a hash: {v}"))
    };
    let head = SignedTreeHead {
        head: TreeHead {
            association: h["association"].as_str().context("no association")?.parse()?,
            meeting: h["meeting"].as_str().map(str::parse).transpose()?,
            size: h["size"].as_u64().context("no size")?,
            root: hash(&h["root"])?,
            timestamp: h["timestamp"].as_str().context("no timestamp")?.parse()?,
        },
        signature: h["signature"]
            .as_str()
            .and_then(unhex)
            .and_then(|b| b.try_into().ok())
            .context("no signature")?,
    };
    head.verify(service_key).map_err(|e| anyhow::anyhow!("the tree head's signature: {e}"))?;
    let proof = receipt["inclusion_proof"]
        .as_array()
        .context("no inclusion proof")?
        .iter()
        .map(hash)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let index = receipt["leaf_index"].as_u64().context("no leaf index")?;
    verify_inclusion(&hash(&receipt["leaf_hash"])?, index, head.head.size, &proof, &head.head.root)
        .map_err(|e| anyhow::anyhow!("the inclusion proof: {e}"))?;
    Ok(())
}

/// The CPU time this process has used, user and system, in seconds (from /proc/self/stat, in
/// clock ticks of 10 ms); 0 where there is no /proc.
pub fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // The fields after the command name, which is in parentheses and may hold spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
