//! The pages in a real browser: a whole general meeting driven through the voter's, the
//! chair's and the secretariat's pages in headless Chromium (Debian's `/usr/bin/chromium`,
//! driven by playwright-core), with axe-core checking every page against WCAG 2.1 AA.
//!
//! The test starts the real server in this process, on a free port of 127.0.0.1, on a fresh
//! SQLite file, with the register of Coöperatie Dimpact (its forty members and the persons who
//! represent them, from `scenarios/alv-2022-12-07.toml`, without that past meeting, so nobody
//! has a key yet and each enrols one in the browser), its secretariat, and a clock the browser
//! script moves: a meeting is convened weeks before it is held, and advance
//! ballots wait for their window (Art. 8.3, 8.13). Then it runs `node tests/e2e/meeting.mjs`,
//! which talks back over its standard output and input, one line each way:
//!
//! | the script writes | the test does | and answers |
//! |---|---|---|
//! | `@@ clock <RFC 3339>` | sets the server's clock | `ok` |
//! | `@@ code <e-mail>` | reads the newest unread sign-in code mailed to that address from the outbox | the code |
//!
//! Any other line is the script's log, shown when the test fails. Screenshots of every page
//! go to `<target>/e2e-artifacts/`. The browser, Node.js and the script's packages
//! (`npm ci --prefix tests/e2e`) must be installed: when one is missing the test fails and
//! names the command that installs it (a skipped browser test would be a check that cannot
//! fail).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant as WallClock};

use stembus::clock::{Clock, ManualClock};
use stembus::config::Config;
use stembus::core::Instant;

/// The whole run, browser included, must end within this.
const DEADLINE: Duration = Duration::from_secs(300);

/// The moment the demo is loaded and the secretariat starts: a spring morning in 2026.
const START: &str = "2026-04-20T09:00:00+02:00";

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `<target>/e2e-artifacts`, next to the target directory's `tmp`.
fn artifacts() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("e2e-artifacts")
}

/// What the browser test needs on this machine, or the command that installs what is missing.
fn prerequisites() -> Result<(PathBuf, PathBuf), String> {
    let chromium = std::env::var_os("STEMBUS_E2E_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    check_prerequisites(chromium, Path::new("node"), &repository().join("tests/e2e/node_modules"))
}

fn check_prerequisites(chromium: PathBuf, node: &Path, modules: &Path) -> Result<(PathBuf, PathBuf), String> {
    if !chromium.is_file() {
        return Err(format!(
            "the browser tests need Chromium at {}: install it with `apt-get install chromium` (Debian), or name another Chromium in STEMBUS_E2E_CHROMIUM",
            chromium.display()
        ));
    }
    match Command::new(node).arg("--version").output() {
        Ok(out) if out.status.success() => {
            let version = String::from_utf8_lossy(&out.stdout);
            let major: u32 = version
                .trim()
                .trim_start_matches('v')
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            if major < 20 {
                return Err(format!(
                    "the browser tests need Node.js 20 or later, found {}: install it with `apt-get install nodejs npm`",
                    version.trim()
                ));
            }
        }
        _ => {
            return Err(format!(
                "the browser tests need Node.js (`{}`) on the PATH: install it with `apt-get install nodejs npm`",
                node.display()
            ));
        }
    }
    for package in ["playwright-core", "axe-core"] {
        if !modules.join(package).join("package.json").is_file() {
            return Err(format!(
                "the browser tests need the npm package {package}: install the pinned packages with `npm ci --prefix tests/e2e`"
            ));
        }
    }
    Ok((node.to_path_buf(), chromium))
}

/// The server under test, in this process, on its own thread and runtime.
struct Server {
    address: String,
    clock: Arc<ManualClock>,
    outbox: PathBuf,
    dir: PathBuf,
    handle: actix_web::dev::ServerHandle,
}

impl Server {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("stembus-e2e-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let start: Instant = START.parse().unwrap_or_else(|e| panic!("{e}"));
        let clock = Arc::new(ManualClock::new(start));
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            database_url: dir.join("stembus.sqlite").display().to_string(),
            key_file: dir.join("service.key"),
            outbox_dir: dir.join("outbox"),
            scan_dir: dir.join("scans"),
            ..Config::default()
        };
        let outbox = config.outbox_dir.clone();
        let server_clock: Arc<dyn Clock> = Arc::clone(&clock) as Arc<dyn Clock>;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match stembus::app::Application::build(config, Arc::clone(&server_clock)) {
                    Ok(app) => {
                        let service = Arc::clone(&app.service);
                        let now = server_clock.now();
                        let loaded = tokio::task::spawn_blocking(move || dimpact_register(&service, now))
                            .await
                            .map_err(|e| e.to_string())
                            .and_then(|r| r);
                        match loaded {
                            Ok(_) => {
                                let _ = tx.send(Ok((app.port, app.handle())));
                                let _ = app.run_until_stopped().await;
                            }
                            Err(e) => {
                                let _ = tx.send(Err(format!("the register did not load: {e}")));
                            }
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("the server did not start: {e:#}")));
                    }
                }
            });
        });
        let (port, handle) = rx.recv().unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        Server { address: format!("http://127.0.0.1:{port}"), clock, outbox, dir, handle }
    }

    /// The code of the newest sign-in mail to `email` not read before.
    fn code_for(&self, email: &str, read: &mut BTreeSet<PathBuf>) -> Option<String> {
        let mut mails: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.outbox)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .filter(|(_, p)| !read.contains(p))
            .collect();
        mails.sort();
        mails.into_iter().rev().find_map(|(_, path)| {
            let text = std::fs::read_to_string(&path).ok()?;
            let to_them = text.lines().any(|l| {
                l.to_ascii_lowercase().starts_with("to:")
                    && l.to_ascii_lowercase().contains(&email.to_ascii_lowercase())
            });
            let code = text.lines().find_map(|l| l.strip_prefix("Code: ")).map(|c| c.trim().to_owned())?;
            if to_them {
                read.insert(path);
                Some(code)
            } else {
                None
            }
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The association the browser works in: Coöperatie Dimpact's register as its 2022 minutes
/// give it (members, persons, representatives, the chair of the supervisory board), its
/// secretariat, who signs in as `secretariaat@dimpact.example`, and its accountant, an auditor
/// (`accountant@dimpact.example`).
fn dimpact_register(service: &stembus::service::Service, now: Instant) -> Result<(), String> {
    use stembus::core::{AssociationId, Command, RulesProfile};
    let id = AssociationId::named("dimpact");
    stembus::app::create_association(
        service,
        id,
        "Coöperatie Dimpact U.A.",
        RulesProfile::dimpact_2023_toml(),
        "Secretariaat Dimpact",
        "secretariaat@dimpact.example",
        now,
    )
    .map_err(|e| format!("{e:#}"))?;
    // The association's accountant reads and verifies the log.
    let accountant = stembus::core::PersonId::named("accountant");
    service
        .execute(
            id,
            Command::RegisterPerson {
                person: accountant,
                name: "Accountant".into(),
                email: Some("accountant@dimpact.example".parse().map_err(|e| format!("{e}"))?),
                profession: None,
            },
            now,
        )
        .map_err(|e| e.to_string())?;
    let mut conn = service.store().connection().map_err(|e| e.to_string())?;
    stembus::store::access::grant_role(
        &mut conn,
        id,
        accountant,
        stembus::http::auth::Role::Auditor.code(),
        now,
    )
    .map_err(|e| e.to_string())?;
    let scenario = stembus::scenario::Scenario::from_toml(include_str!("../scenarios/alv-2022-12-07.toml"))
        .map_err(|e| e.to_string())?;
    for step in scenario.step {
        let register = matches!(
            step.command,
            Command::RegisterPerson { .. }
                | Command::RegisterMember { .. }
                | Command::AssignRepresentative { .. }
                | Command::AppointSupervisoryBoardChair { .. }
        );
        if register {
            service.execute(id, step.command, now).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

enum Line {
    Out(String),
    Done,
}

/// Runs one browser script against the server; returns its log, or fails with it.
fn run_script(script: &str, server: &Server) -> Vec<String> {
    let (node, chromium) = prerequisites().unwrap_or_else(|missing| panic!("{missing}"));
    let artifacts = artifacts();
    std::fs::create_dir_all(&artifacts).unwrap_or_else(|e| panic!("{}: {e}", artifacts.display()));
    let mut child = Command::new(node)
        .arg(repository().join("tests/e2e").join(script))
        .current_dir(repository().join("tests/e2e"))
        .env("STEMBUS_E2E_BASE", &server.address)
        .env("STEMBUS_E2E_CHROMIUM", &chromium)
        .env("STEMBUS_E2E_ARTIFACTS", &artifacts)
        .env("STEMBUS_E2E_REPOSITORY", repository())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start node: {e}"));
    let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let (tx, rx) = mpsc::channel();
    let out_tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_tx.send(Line::Out(line));
        }
        let _ = out_tx.send(Line::Done);
    });
    let errors = std::thread::spawn(move || {
        BufReader::new(stderr).lines().map_while(Result::ok).collect::<Vec<String>>()
    });
    let started = WallClock::now();
    let mut log = Vec::new();
    let mut read = BTreeSet::new();
    let mut timed_out = false;
    loop {
        let left = DEADLINE.saturating_sub(started.elapsed());
        match rx.recv_timeout(left) {
            Ok(Line::Out(line)) => {
                let answer = match line.strip_prefix("@@ ") {
                    None => {
                        log.push(line);
                        continue;
                    }
                    Some(request) => match request.split_once(' ') {
                        Some(("clock", moment)) => match moment.trim().parse::<Instant>() {
                            Ok(at) => {
                                server.clock.set(at);
                                "ok".to_owned()
                            }
                            Err(e) => format!("error: bad moment {moment}: {e}"),
                        },
                        Some(("code", email)) => {
                            // The code mail is written before the page answers; a moment's
                            // grace covers a slow disk.
                            let mut code = None;
                            for _ in 0..50 {
                                code = server.code_for(email.trim(), &mut read);
                                if code.is_some() {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(100));
                            }
                            code.unwrap_or_else(|| format!("error: no sign-in mail to {email}"))
                        }
                        _ => format!("error: unknown request {request}"),
                    },
                };
                log.push(format!("{line} -> {answer}"));
                if writeln!(stdin, "{answer}").and_then(|()| stdin.flush()).is_err() {
                    break;
                }
            }
            Ok(Line::Done) => break,
            Err(_) => {
                timed_out = true;
                break;
            }
        }
    }
    if timed_out {
        let _ = child.kill();
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
    let errors = errors.join().unwrap_or_default();
    let elapsed = started.elapsed();
    if timed_out || !status.success() {
        panic!(
            "the browser test {script} {} after {:.0} s\n--- its log ---\n{}\n--- its errors ---\n{}\n(screenshots in {})",
            if timed_out { "took too long".to_owned() } else { format!("failed ({status})") },
            elapsed.as_secs_f64(),
            log.join("\n"),
            errors.join("\n"),
            artifacts.display()
        );
    }
    log.push(format!("{script} passed in {:.1} s", elapsed.as_secs_f64()));
    log
}

/// A whole general meeting through the pages, as its people hold it: the secretariat convenes
/// it and records a paper proxy, voters enrol and vote in advance, the chair opens it, the
/// secretariat checks members in at the door, the chair puts a motion to the vote, declares,
/// a challenge forces a new poll, and the meeting closes with its minutes. axe-core finds no
/// WCAG 2.1 AA violation on any page.
#[test]
fn a_whole_general_meeting_in_the_browser() {
    let server = Server::start();
    let log = run_script("meeting.mjs", &server);
    for line in &log {
        println!("{line}");
    }
}

/// A machine without the browser, Node.js or the packages fails the test with the command that
/// installs what is missing; it never passes without a browser.
#[test]
fn what_is_missing_is_named_with_the_command_that_installs_it() {
    let nowhere = std::env::temp_dir().join("stembus-e2e-nothing-here");
    let modules = repository().join("tests/e2e/node_modules");
    let missing = |chromium: PathBuf, node: &Path, modules: &Path| {
        check_prerequisites(chromium, node, modules).err().unwrap_or_else(|| panic!("nothing was missing"))
    };
    assert!(
        missing(nowhere.join("chromium"), Path::new("node"), &modules).contains("apt-get install chromium")
    );
    // This test's own executable stands in for a browser that is there.
    let browser = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    assert!(missing(browser.clone(), &nowhere.join("node"), &modules).contains("apt-get install nodejs npm"));
    assert!(missing(browser, Path::new("node"), &nowhere).contains("npm ci --prefix tests/e2e"));
}
