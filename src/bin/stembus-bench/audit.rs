//! The audit of a large meeting: set up through the service on a SQLite file, exported as an
//! auditor downloads it, and verified by `stembus audit verify` run as a child process, whose
//! time and peak memory are measured. And the recount of a large poll by the core alone.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use ed25519_dalek::SigningKey;

use stembus::core::{Association, Command, Fact, RulesProfile, apply, handle};
use stembus::service::Service;
use stembus::store::Store;

use crate::intake::{run_all, set_up};
use crate::meeting::{self, at};

/// The audited meeting: `ballots` ballots cast by `voters` members, each casting its share one
/// after another (a later ballot replaces the member's earlier one).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub ballots: usize,
    pub voters: usize,
}

/// What the audit measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Audit {
    pub ballots: usize,
    pub voters: usize,
    pub entries: u64,
    /// Signatures the verifier checked: statements (ballots, key enrolments) and tree heads.
    pub signatures: u64,
    pub export_bytes: u64,
    pub seconds: f64,
    pub signatures_per_second: f64,
    /// The child's peak resident memory (its VmHWM, sampled while it runs).
    pub peak_rss_mb: f64,
    pub verified: bool,
    pub set_up_seconds: f64,
    /// The time of every verification of the export, in the order run; the figures above are
    /// those of the fastest, but for the peak memory, the highest of all runs.
    pub runs_seconds: Vec<f64>,
    /// The batch limit (two threads) measured before the first run and after each run, sig/s.
    pub limits_measured: Vec<f64>,
}

/// A meeting of `shape.voters` members casting `shape.ballots` signed ballots, the poll
/// closed; exported and verified by `stembus` (the binary at `stembus`) `runs` times, with
/// `between` called after each verification (the bench measures its limit again there). The
/// fastest verification is reported, as the fastest of the limit's measurements is: on a
/// noisy machine the fastest run is the one least slowed by the rest of the machine. With
/// `keep`, the export is written there and kept, with the service key beside it
/// (`<keep>.key`); when both are there already, the set-up is skipped and that export is
/// verified again.
pub fn audit(
    stembus: &Path,
    dir: &Path,
    shape: Shape,
    seed: &[u8; 32],
    keep: Option<&Path>,
    runs: usize,
    between: &mut dyn FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Audit> {
    let file = keep.map_or_else(|| dir.join("audit.export"), Path::to_path_buf);
    let key_file = keep.map(|k| k.with_extension("key"));
    let (key, set_up_seconds) = match &key_file {
        Some(kf) if file.exists() && kf.exists() => {
            eprintln!("  verifying the kept export {} again", file.display());
            (std::fs::read_to_string(kf)?.trim().to_owned(), 0.0)
        }
        _ => {
            let t0 = Instant::now();
            let key = export_meeting(dir, shape, seed, &file)?;
            if let Some(kf) = &key_file {
                std::fs::write(kf, format!("{key}\n"))?;
            }
            (key, t0.elapsed().as_secs_f64())
        }
    };
    let export_bytes = std::fs::metadata(&file)?.len();
    let mut fastest: Option<Audit> = None;
    let mut runs_seconds = Vec::new();
    let mut peak_rss_mb: f64 = 0.0;
    for run in 1..=runs.max(1) {
        let audit = verify(stembus, &file, &key, shape, export_bytes, set_up_seconds)?;
        eprintln!("  run {run}: {:.2} s, peak RSS {:.0} MB", audit.seconds, audit.peak_rss_mb);
        runs_seconds.push(audit.seconds);
        peak_rss_mb = peak_rss_mb.max(audit.peak_rss_mb);
        let verified = audit.verified;
        if fastest.as_ref().is_none_or(|f| audit.seconds < f.seconds) {
            fastest = Some(audit);
        }
        between()?;
        if !verified {
            // A failing export fails the same way every time.
            break;
        }
    }
    if keep.is_none() {
        let _ = std::fs::remove_file(&file);
    }
    // The fastest run, with every run's time and the highest peak memory of all.
    let mut audit = fastest.context("no verification ran")?;
    audit.runs_seconds = runs_seconds;
    audit.peak_rss_mb = peak_rss_mb;
    Ok(audit)
}

/// Sets up the meeting through the service on a SQLite file in `dir` and writes its export to
/// `file`; returns the service key, hex.
fn export_meeting(dir: &Path, shape: Shape, seed: &[u8; 32], file: &Path) -> anyhow::Result<String> {
    let Shape { ballots, voters } = shape;
    let store = Store::open(&dir.join("audit.sqlite").display().to_string())?;
    store.migrate()?;
    let service = Service::new(store, SigningKey::from_bytes(seed));
    let (keys, state) = set_up(&service, voters, seed)?;
    // Ballot n is member n % voters's (n / voters + 1)-th, at the next sequence number. The
    // ballots are signed on two threads, then carried out in large batches, in order.
    let half = ballots / 2;
    let sign = |range: std::ops::Range<usize>| {
        range
            .filter_map(|n| {
                let (i, k) = (n % voters, n / voters);
                let key = keys.get(i)?;
                let command = meeting::signed_ballot(&state, i, meeting::choice(i, k), key, 2 + k as u64);
                Some((command, at(meeting::VOTE_AT)))
            })
            .collect::<Vec<_>>()
    };
    let signed: Vec<(Command, stembus::core::Instant)> = std::thread::scope(|s| {
        let a = s.spawn(|| sign(0..half));
        let mut b = sign(half..ballots);
        let mut all = a.join().unwrap_or_default();
        all.append(&mut b);
        all
    });
    anyhow::ensure!(signed.len() == ballots, "{} of {ballots} ballots could be signed", signed.len());
    drop(state);
    run_all(&service, signed)?;
    run_all(
        &service,
        vec![(
            Command::ClosePoll {
                meeting: meeting::meeting(),
                poll: meeting::poll(),
                by: meeting::chair(),
                counts: None,
            },
            at("2026-06-10T19:30:00+02:00"),
        )],
    )?;
    {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(file)?);
        service.export(
            meeting::association(),
            meeting::meeting(),
            at("2026-06-11T09:00:00+02:00"),
            &mut out,
        )?;
        out.flush()?;
    }
    Ok(service.public_key().to_hex())
}

/// Runs `stembus audit verify` on the export and measures it.
fn verify(
    stembus: &Path,
    file: &Path,
    key: &str,
    shape: Shape,
    export_bytes: u64,
    set_up_seconds: f64,
) -> anyhow::Result<Audit> {
    let started = Instant::now();
    let mut child = std::process::Command::new(stembus)
        .args(["audit", "verify", "--json", "--service-key", key])
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .with_context(|| format!("cannot run {}", stembus.display()))?;
    // The verifier's peak memory: the kernel's high-water mark of its resident set (VmHWM in
    // /proc/PID/status), read every 5 ms while it runs. Not ru_maxrss: a child spawned from
    // this process inherits, at exec, the high-water mark of this process's own memory.
    let status_file = format!("/proc/{}/status", child.id());
    let stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut s) = stdout {
            let _ = std::io::Read::read_to_end(&mut s, &mut out);
        }
        out
    });
    let mut peak_kb = 0u64;
    let status = loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stdout = reader.join().unwrap_or_default();
    let peak_rss_mb = peak_kb as f64 / 1024.0;
    let output = std::process::Output { status, stdout, stderr: Vec::new() };
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .with_context(|| format!("the verifier printed no report (status {})", output.status))?;
    let verified = output.status.success() && report["verified"] == serde_json::Value::Bool(true);
    if !verified {
        eprintln!("  the export does not verify: {}", report["failure"]);
    }
    let signatures = report["signatures"].as_u64().unwrap_or(0) + report["tree_heads"].as_u64().unwrap_or(0);
    Ok(Audit {
        ballots: shape.ballots,
        voters: shape.voters,
        entries: report["entries"].as_u64().unwrap_or(0),
        signatures,
        export_bytes,
        seconds,
        signatures_per_second: signatures as f64 / seconds,
        peak_rss_mb,
        verified,
        set_up_seconds,
        runs_seconds: vec![seconds],
        limits_measured: Vec::new(),
    })
}

/// What the recount measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Recount {
    pub members: usize,
    pub seconds: f64,
    pub in_favour: u64,
    pub against: u64,
}

/// A poll in which `members` members all voted, counted by the core (`tally::poll_result`, as
/// closing the poll does); the fastest of three counts. The state is built through the core
/// (`handle` and `apply`); the ballots are folded in as the events the core logs for them,
/// without signatures, which counting does not read.
pub fn recount(members: usize) -> anyhow::Result<Recount> {
    let profile = RulesProfile::dimpact_2023();
    let mut state = Association::with_id(meeting::association(), profile.clone());
    let run =
        |state: &mut Association, commands: Vec<(Command, stembus::core::Instant)>| -> anyhow::Result<()> {
            for (command, now) in commands {
                for event in handle(state, command, now)? {
                    apply(state, &event);
                }
            }
            Ok(())
        };
    run(&mut state, meeting::register(0, members))?;
    run(&mut state, meeting::convene())?;
    run(&mut state, meeting::check_in(0, members))?;
    run(&mut state, meeting::open_poll())?;
    let cast_at = at(meeting::VOTE_AT);
    for i in 0..members {
        let ballot = stembus::core::Ballot {
            member: meeting::member(i),
            person: meeting::person(i),
            choice: meeting::choice(i, 0),
            via: stembus::core::Via::Own,
            cast_at,
            signed: None,
        };
        let fact = Fact::BallotCast {
            meeting: meeting::meeting(),
            poll: Some(meeting::poll()),
            item: meeting::item(),
            ballot,
        };
        apply(&mut state, &stembus::core::Event { at: cast_at, fact });
    }
    let m = state.meetings.get(&meeting::meeting()).context("no meeting")?;
    let p = m.polls.get(&meeting::poll()).context("no poll")?;
    if p.ballots.len() != members {
        bail!("{} ballots in the poll, {members} cast", p.ballots.len());
    }
    let closed_at = at("2026-06-10T19:30:00+02:00");
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..3 {
        let t = Instant::now();
        let r = stembus::core::tally::poll_result(&state.register, &profile, m, p, closed_at, None);
        best = best.min(t.elapsed().as_secs_f64());
        result = Some(r);
    }
    let r = result.context("no count")?;
    if r.counts.in_favour + r.counts.against != members as u64 {
        bail!("the count {} + {} is not the {members} ballots cast", r.counts.in_favour, r.counts.against);
    }
    Ok(Recount { members, seconds: best, in_favour: r.counts.in_favour, against: r.counts.against })
}
