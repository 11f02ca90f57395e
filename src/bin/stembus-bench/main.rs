//! `stembus-bench`: the performance harness (docs/performance.md).
//!
//! Measures, in one run on one machine, the limits (durable inserts into a bare table of the
//! same database one and a hundred rows per transaction, `verify_strict` and batch
//! verification a second) and the service against them: ballot intake over HTTP at several
//! numbers of concurrent voters on SQLite and PostgreSQL, two instances on one PostgreSQL, the
//! recount of a large poll by the core, and the audit of a large meeting's export by
//! `stembus audit verify`. Prints a table (every figure beside its limit and their ratio) and
//! can write it as JSON. Exits with status 1 when a correctness check fails (a ballot refused,
//! a receipt that does not verify, an export that does not verify, two instances that
//! disagree); never because of a time.

mod audit;
mod intake;
mod limits;
mod meeting;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde::Serialize;

use stembus::store::Store;

#[derive(Parser, Debug)]
#[command(name = "stembus-bench", about = "Measures Stembus against limits measured in the same run")]
struct Args {
    /// The short form for CI: few voters and ballots, a small recount and audit; seconds.
    #[arg(long)]
    quick: bool,
    /// A PostgreSQL admin URL (such as postgres://postgres@127.0.0.1:5432/postgres): the
    /// PostgreSQL intake and the scale-out run in a database created there and dropped after.
    #[arg(long)]
    postgres: Option<String>,
    /// Numbers of concurrent voters, comma-separated.
    #[arg(long, value_delimiter = ',')]
    voters: Option<Vec<usize>>,
    /// Ballots cast at each number of voters (each voter casts its share one after another).
    #[arg(long)]
    ballots: Option<usize>,
    /// Members in the recounted poll.
    #[arg(long)]
    recount_members: Option<usize>,
    /// Ballots in the audited meeting.
    #[arg(long)]
    audit_ballots: Option<usize>,
    /// Members who cast the audited meeting's ballots, each casting its share one after another
    /// (a later ballot replaces the earlier, as in the intake); by default one member per ballot.
    #[arg(long)]
    audit_voters: Option<usize>,
    /// Keep the audited export at this path (and the service key at PATH.key); when both are
    /// there from an earlier run, verify them again without setting the meeting up.
    #[arg(long)]
    audit_export: Option<PathBuf>,
    /// Voters in the scale-out (split over the two instances).
    #[arg(long)]
    scale_out_voters: Option<usize>,
    /// Leave out parts: any of intake, postgres, scale-out, recount, audit.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// The `stembus` binary that verifies the export; by default the one beside this binary.
    #[arg(long)]
    stembus: Option<PathBuf>,
    /// Also write the table as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One line of the table.
#[derive(Debug, Clone, Serialize)]
struct Row {
    figure: String,
    value: f64,
    unit: String,
    /// The limit this figure is divided by, measured in this run.
    limit: Option<String>,
    limit_value: Option<f64>,
    ratio: Option<f64>,
    goal: Option<String>,
    met: Option<bool>,
    /// Further measurements of the same line (latencies, counts).
    detail: String,
}

impl Row {
    fn limit(figure: &str, value: f64, unit: &str, detail: String) -> Self {
        Row {
            figure: figure.to_owned(),
            value,
            unit: unit.to_owned(),
            limit: None,
            limit_value: None,
            ratio: None,
            goal: None,
            met: None,
            detail,
        }
    }

    fn against(mut self, limit: &str, limit_value: f64) -> Self {
        self.limit = Some(limit.to_owned());
        self.limit_value = Some(limit_value);
        self.ratio = (limit_value > 0.0).then(|| self.value / limit_value);
        self
    }

    fn goal(mut self, goal: &str, met: bool) -> Self {
        self.goal = Some(goal.to_owned());
        self.met = Some(met);
        self
    }
}

#[derive(Debug, Serialize)]
struct Run {
    quick: bool,
    started_at: String,
    cpus: usize,
    rows: Vec<Row>,
    intake: Vec<(String, intake::Level)>,
    scale_out: Option<ScaleOut>,
    recount: Option<audit::Recount>,
    audit: Option<audit::Audit>,
    /// Correctness checks that failed; empty when all passed.
    failures: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
struct ScaleOut {
    level: intake::Level,
    instances_agree: bool,
    ballots_logged: usize,
    export_verified: bool,
}

/// Limits and figures, with the correctness checks that failed.
struct Bench {
    args: Args,
    dir: PathBuf,
    seed: [u8; 32],
    rt: tokio::runtime::Runtime,
    rows: Vec<Row>,
    failures: Vec<String>,
    run: Run,
}

fn main() -> std::process::ExitCode {
    match bench() {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("stembus-bench: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn bench() -> anyhow::Result<bool> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("stembus-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let run = Run {
        quick: args.quick,
        started_at: chrono::Utc::now().to_rfc3339(),
        cpus,
        rows: Vec::new(),
        intake: Vec::new(),
        scale_out: None,
        recount: None,
        audit: None,
        failures: Vec::new(),
    };
    let mut b = Bench { args, dir: dir.clone(), seed, rt, rows: Vec::new(), failures: Vec::new(), run };
    let outcome = b.all();
    let _ = std::fs::remove_dir_all(&dir);
    outcome?;
    b.print();
    if let Some(path) = &b.args.json {
        b.run.rows = b.rows.clone();
        b.run.failures = b.failures.clone();
        std::fs::write(path, serde_json::to_string_pretty(&b.run)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    for f in &b.failures {
        eprintln!("FAILED: {f}");
    }
    Ok(b.failures.is_empty())
}

impl Bench {
    fn quick(&self) -> bool {
        self.args.quick
    }

    fn skips(&self, part: &str) -> bool {
        self.args.skip.iter().any(|s| s == part)
    }

    fn levels(&self) -> Vec<usize> {
        self.args
            .voters
            .clone()
            .unwrap_or_else(|| if self.quick() { vec![16, 64] } else { vec![64, 512, 4096] })
    }

    fn ballots(&self) -> usize {
        self.args.ballots.unwrap_or(if self.quick() { 256 } else { 20_000 })
    }

    fn budget(&self) -> Duration {
        if self.quick() { Duration::from_millis(300) } else { Duration::from_secs(3) }
    }

    fn stembus(&self) -> anyhow::Result<PathBuf> {
        let path = match &self.args.stembus {
            Some(p) => p.clone(),
            None => std::env::current_exe()?.with_file_name("stembus"),
        };
        anyhow::ensure!(
            path.exists(),
            "the verifier {} is missing: build it (cargo build --release) or name it with --stembus",
            path.display()
        );
        Ok(path)
    }

    fn all(&mut self) -> anyhow::Result<()> {
        eprintln!("== limits: Ed25519");
        let items = limits::signed_messages(8192);
        let strict = limits::strict_rate(&items, self.budget())?;
        let batch1 = limits::batch_rate(&items, 4096, 1, self.budget())?;
        let batch2 = limits::batch_rate(&items, 4096, 2, self.budget())?;
        self.rows.push(Row::limit("verify_strict, one thread", strict, "sig/s", String::new()));
        self.rows.push(Row::limit("batch verification (4096), one thread", batch1, "sig/s", String::new()));
        self.rows.push(Row::limit("batch verification (4096), two threads", batch2, "sig/s", String::new()));
        if !self.skips("intake") {
            self.intake_on("SQLite", &self.dir.join("intake.sqlite").display().to_string())?;
        }
        if let Some(admin) = self.args.postgres.clone() {
            if !self.skips("postgres") && !self.skips("intake") {
                let db = PgDatabase::create(&admin)?;
                let outcome = self.intake_on("PostgreSQL", &db.url);
                db.drop_now();
                outcome?;
            }
            if !self.skips("scale-out") {
                let db = PgDatabase::create(&admin)?;
                let outcome = self.scale_out(&db.url);
                db.drop_now();
                outcome?;
            }
        }
        if !self.skips("recount") {
            let members = self.args.recount_members.unwrap_or(if self.quick() { 10_000 } else { 1_000_000 });
            eprintln!("== recount of a poll of {members} members");
            let r = audit::recount(members)?;
            self.rows.push(
                Row::limit(
                    &format!("recount, {members} members (core tally)"),
                    r.seconds * 1000.0,
                    "ms",
                    format!("{} for, {} against", r.in_favour, r.against),
                )
                .goal("< 1000 ms", r.seconds < 1.0),
            );
            self.run.recount = Some(r);
        }
        if !self.skips("audit") {
            let ballots = self.args.audit_ballots.unwrap_or(if self.quick() { 1_000 } else { 1_000_000 });
            let voters = self.args.audit_voters.unwrap_or(ballots).clamp(1, ballots.max(1));
            eprintln!("== audit of a meeting of {ballots} ballots cast by {voters} members");
            let dir = self.dir.join("audit");
            std::fs::create_dir_all(&dir)?;
            // The verification runs three times in the long form, the batch limit measured
            // again after each: the row holds the fastest of each, so that a stretch of noise
            // on this shared machine slows neither figure alone.
            let runs = if self.quick() { 1 } else { 3 };
            let budget = self.budget();
            let mut limits_measured = vec![batch2];
            let mut a = audit::audit(
                &self.stembus()?,
                &dir,
                audit::Shape { ballots, voters },
                &self.seed,
                self.args.audit_export.as_deref(),
                runs,
                &mut || {
                    if runs > 1 {
                        let rate = limits::batch_rate(&items, 4096, 2, budget)?;
                        eprintln!("  batch verification, two threads, again: {rate:.0} sig/s");
                        limits_measured.push(rate);
                    }
                    Ok(())
                },
            )?;
            let limit = limits_measured.iter().copied().fold(batch2, f64::max);
            a.limits_measured = limits_measured;
            if !a.verified {
                self.failures.push(format!("the export of {ballots} ballots does not verify"));
            }
            let label = if voters == ballots {
                format!("audit verify, {ballots} ballots")
            } else {
                format!("audit verify, {ballots} ballots of {voters} members")
            };
            self.rows.push(
                Row::limit(
                    &label,
                    a.signatures_per_second,
                    "sig/s",
                    format!(
                        "{:.1} s for {} entries, {} signatures, {:.0} MB export; peak RSS {:.0} MB; verified: {}; \
                         fastest of {} runs ({} s), limit fastest of {} ({} sig/s)",
                        a.seconds,
                        a.entries,
                        a.signatures,
                        a.export_bytes as f64 / 1e6,
                        a.peak_rss_mb,
                        a.verified,
                        a.runs_seconds.len(),
                        a.runs_seconds.iter().map(|s| format!("{s:.1}")).collect::<Vec<_>>().join(", "),
                        a.limits_measured.len(),
                        a.limits_measured.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", "),
                    ),
                )
                .against("batch verification, two threads (fastest)", limit)
                .goal("≥ 0.80 × limit, peak RSS < 256 MB", a.signatures_per_second >= 0.8 * limit && a.peak_rss_mb < 256.0),
            );
            self.run.audit = Some(a);
        }
        Ok(())
    }

    /// Raw insert limits of the database, then the intake at every level on it.
    fn intake_on(&mut self, backend: &str, url: &str) -> anyhow::Result<()> {
        let levels = self.levels();
        let most = levels.iter().copied().max().unwrap_or(0);
        eprintln!("== {backend}: limits");
        let store = Store::open(url)?;
        store.migrate()?;
        let budget = self.budget();
        let one = limits::insert_rate(&store, 1, budget, 20)?;
        let hundred = limits::insert_rate(&store, 100, budget, 1000)?;
        drop(store);
        self.rows.push(Row::limit(
            &format!("{backend} durable insert, 1 row/txn"),
            one,
            "rows/s",
            String::new(),
        ));
        self.rows.push(Row::limit(
            &format!("{backend} durable insert, 100 rows/txn"),
            hundred,
            "rows/s",
            String::new(),
        ));
        eprintln!("== {backend}: set-up of {most} voters");
        let server = intake::Server::start(url, &self.dir, &self.dir.join(format!("{backend}.key")))?;
        let outcome = (|| -> anyhow::Result<()> {
            let (keys, state) = intake::set_up(&server.service, most, &self.seed)?;
            let mut voters = intake::sign_in(&server.service, keys)?;
            let key = server.service.public_key();
            for n in levels {
                let per_voter = self.ballots().div_ceil(n).max(1);
                eprintln!("== {backend}: {n} voters, {per_voter} ballots each");
                let level = intake::run_level(
                    &self.rt,
                    std::slice::from_ref(&server.url),
                    &mut voters,
                    &state,
                    n,
                    per_voter,
                    &key,
                )?;
                self.check_level(&format!("{backend} intake at {n} voters"), &level);
                let mut row = Row::limit(
                    &format!("{backend} intake, {n} voters"),
                    level.ballots_per_second,
                    "ballots/s",
                    format!(
                        "p50 {:.1} ms, p99 {:.1} ms; {} ballots in {:.2} s; {:.0} µs CPU per ballot",
                        level.p50_ms, level.p99_ms, level.ballots, level.seconds, level.cpu_us_per_ballot
                    ),
                )
                .against(&format!("{backend} insert, 1 row/txn"), one);
                if backend == "SQLite" && n == 512 {
                    row = row.goal(
                        "≥ 10000 ballots/s, p99 < 100 ms",
                        level.ballots_per_second >= 10_000.0 && level.p99_ms < 100.0,
                    );
                }
                self.rows.push(row);
                self.run.intake.push((backend.to_owned(), level));
            }
            Ok(())
        })();
        server.stop();
        outcome
    }

    fn check_level(&mut self, what: &str, level: &intake::Level) {
        if level.failed > 0 {
            self.failures.push(format!("{what}: {} ballots were not accepted", level.failed));
        }
        if level.receipts_verified != level.ballots {
            self.failures.push(format!(
                "{what}: {} of {} receipts do not verify",
                level.ballots - level.receipts_verified,
                level.ballots
            ));
        }
    }

    /// Two instances on one PostgreSQL database share the voters of one meeting; then the
    /// instances must agree, every ballot must be in the one log once, and its export verify.
    fn scale_out(&mut self, url: &str) -> anyhow::Result<()> {
        let n = self.args.scale_out_voters.unwrap_or(if self.quick() { 32 } else { 512 });
        eprintln!("== scale-out: two instances on one PostgreSQL, {n} voters");
        let key_file = self.dir.join("scale-out.key");
        let first = intake::Server::start(url, &self.dir, &key_file)?;
        let second = match intake::Server::start(url, &self.dir, &key_file) {
            Ok(s) => s,
            Err(e) => {
                first.stop();
                return Err(e);
            }
        };
        let outcome = (|| -> anyhow::Result<ScaleOut> {
            let (keys, state) = intake::set_up(&first.service, n, &self.seed)?;
            let mut voters = intake::sign_in(&first.service, keys)?;
            let per_voter = self.ballots().div_ceil(n).max(1);
            let servers = [first.url.clone(), second.url.clone()];
            let level = intake::run_level(
                &self.rt,
                &servers,
                &mut voters,
                &state,
                n,
                per_voter,
                &first.service.public_key(),
            )?;
            let a = meeting::association();
            let one = first.service.read(a, |s| s.clone())?;
            let other = second.service.read(a, |s| s.clone())?;
            let instances_agree = one == other;
            let log = first.service.meeting_log(a, meeting::meeting())?;
            let ballots_logged =
                log.iter().filter(|l| matches!(l.event.fact, stembus::core::Fact::BallotCast { .. })).count();
            let indexes_in_order = log.iter().enumerate().all(|(i, l)| l.stream_index == i as i64);
            let file = self.dir.join("scale-out.export");
            {
                let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
                second.service.export(
                    a,
                    meeting::meeting(),
                    meeting::at("2026-06-11T09:00:00+02:00"),
                    &mut out,
                )?;
                std::io::Write::flush(&mut out)?;
            }
            let export_verified =
                verify_export(&self.stembus()?, &file, &first.service.public_key().to_hex())?;
            Ok(ScaleOut {
                level,
                instances_agree: instances_agree && indexes_in_order,
                ballots_logged,
                export_verified,
            })
        })();
        first.stop();
        second.stop();
        let s = outcome?;
        self.check_level("scale-out", &s.level);
        if !s.instances_agree {
            self.failures.push("scale-out: the two instances disagree on the meeting's state or log".into());
        }
        if s.ballots_logged != s.level.ballots {
            self.failures.push(format!(
                "scale-out: {} ballots accepted, {} in the log",
                s.level.ballots, s.ballots_logged
            ));
        }
        if !s.export_verified {
            self.failures.push("scale-out: the export of the shared log does not verify".into());
        }
        let one_instance = self
            .run
            .intake
            .iter()
            .filter(|(b, l)| b == "PostgreSQL" && l.voters >= n)
            .map(|(_, l)| l.ballots_per_second)
            .next();
        let mut row = Row::limit(
            &format!("scale-out, 2 instances, {n} voters"),
            s.level.ballots_per_second,
            "ballots/s",
            format!(
                "p50 {:.1} ms, p99 {:.1} ms; {} ballots, {} logged once each; instances agree: {}; export verified: {}",
                s.level.p50_ms,
                s.level.p99_ms,
                s.level.ballots,
                s.ballots_logged,
                s.instances_agree,
                s.export_verified
            ),
        );
        if let Some(single) = one_instance {
            row = row.against("PostgreSQL intake, one instance", single);
        }
        self.rows.push(row.goal("one consistent log that verifies", s.instances_agree && s.export_verified));
        self.run.scale_out = Some(s);
        Ok(())
    }

    fn print(&self) {
        println!(
            "{:<44} {:>14} {:<10} {:<36} {:>8}  {:<36} {:<4}  detail",
            "figure", "value", "unit", "limit (same run)", "ratio", "goal", "met"
        );
        for r in &self.rows {
            println!(
                "{:<44} {:>14.1} {:<10} {:<36} {:>8}  {:<36} {:<4}  {}",
                r.figure,
                r.value,
                r.unit,
                r.limit
                    .as_ref()
                    .map_or(String::new(), |l| format!("{l} = {:.0}", r.limit_value.unwrap_or(0.0))),
                r.ratio.map_or(String::new(), |x| format!("{x:.2}")),
                r.goal.clone().unwrap_or_default(),
                r.met.map_or("", |m| if m { "yes" } else { "no" }),
                r.detail
            );
        }
    }
}

/// Runs `stembus audit verify` on an export; true when it verifies.
fn verify_export(stembus: &Path, file: &Path, key: &str) -> anyhow::Result<bool> {
    let output = std::process::Command::new(stembus)
        .args(["audit", "verify", "--service-key", key])
        .arg(file)
        .output()
        .with_context(|| format!("cannot run {}", stembus.display()))?;
    if !output.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
    }
    Ok(output.status.success())
}

/// A database of its own on a PostgreSQL server, dropped after use.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
}

impl PgDatabase {
    fn create(admin: &str) -> anyhow::Result<Self> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
        let name = format!("stembus_bench_{}", stembus::ledger::log::hex(&bytes));
        let mut conn = PgConnection::establish(admin).with_context(|| format!("cannot reach {admin}"))?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn)?;
        let base = admin.split('?').next().unwrap_or(admin);
        let cut =
            base.rfind('/').filter(|i| *i > base.find("://").map_or(0, |s| s + 2)).unwrap_or(base.len());
        let url = format!("{}/{name}", &base[..cut]);
        Ok(Self { admin: admin.to_owned(), name, url })
    }

    fn drop_now(self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn);
        }
    }
}
