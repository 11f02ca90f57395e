//! A server for the command-line tests, and the command line run as a subprocess.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

use stembus::clock::{Clock as _, ManualClock};
use stembus::config::Config;
use stembus::core::register::{Capacity, MemberKind};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, AssociationId, Command, Convener, DecisionKind, Instant, MeetingId,
    MemberId, Mode, MotionSpec, PersonId, PollId, PollMethod, RulesProfile,
};
use stembus::service::Service;

pub const ASSOCIATION: &str = "coop";
pub const MEETING: &str = "alv";
pub const ITEM: &str = "contribution";
pub const POLL: &str = "contribution-poll";
pub const VOTER: &str = "wethouder@gemeente1.example";

pub fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("bad moment {text}: {e}"))
}

pub fn coop() -> AssociationId {
    AssociationId::named(ASSOCIATION)
}

pub fn meeting() -> MeetingId {
    MeetingId::named(MEETING)
}

pub fn member(i: usize) -> MemberId {
    MemberId::named(&format!("m{i}"))
}

pub fn rep(i: usize) -> PersonId {
    PersonId::named(&format!("p{i}"))
}

pub fn chair() -> PersonId {
    PersonId::named("chair")
}

/// A service on a free port of 127.0.0.1 with the association `coop`, and a directory for
/// the voter's files.
pub struct Server {
    pub url: String,
    pub clock: Arc<ManualClock>,
    pub service: Arc<Service>,
    pub outbox: PathBuf,
    /// The voter's own directory: key file, receipts.
    pub home: PathBuf,
    handle: actix_web::dev::ServerHandle,
    dir: PathBuf,
}

fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

impl Server {
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("stembus-cli-{}", unique()));
        let home = dir.join("voter");
        std::fs::create_dir_all(&home).unwrap_or_else(|e| panic!("{e}"));
        let clock = Arc::new(ManualClock::new(t("2026-03-01T09:00:00+01:00")));
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            database_url: dir.join("stembus.sqlite").display().to_string(),
            key_file: dir.join("service.key"),
            outbox_dir: dir.join("outbox"),
            public_url: Some("http://127.0.0.1".into()),
            ..Config::default()
        };
        let outbox = config.outbox_dir.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let server_clock: Arc<dyn stembus::clock::Clock> =
            Arc::clone(&clock) as Arc<dyn stembus::clock::Clock>;
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match stembus::app::Application::build(config, server_clock) {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.port, Arc::clone(&app.service), app.handle())));
                        let _ = app.run_until_stopped().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let (port, service, handle) = rx
            .recv()
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        let server =
            Server { url: format!("http://127.0.0.1:{port}"), clock, service, outbox, home, handle, dir };
        stembus::app::create_association(
            &server.service,
            coop(),
            "Coöperatie Proef U.A.",
            RulesProfile::dimpact_2023_toml(),
            "Secretariaat",
            "secretariaat@coop.example",
            server.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        server
    }

    pub fn at(&self, moment: &str) -> &Self {
        self.clock.set(t(moment));
        self
    }

    /// Runs a command through the service at the test's clock; it must be accepted.
    pub fn execute(&self, command: Command) {
        let shown = format!("{command:?}");
        self.service
            .execute(coop(), command, self.clock.now())
            .unwrap_or_else(|e| panic!("refused: {e}\ncommand: {shown}"));
    }

    /// Two municipalities with a portfolio holder each (the first is the voter) and the chair of
    /// the supervisory board; the meeting of 10 June 2026 with one motion, convened on 20 May
    /// with advance electronic voting.
    pub fn convened_meeting(&self) {
        for i in 1..=2 {
            self.execute(Command::RegisterMember {
                member: member(i),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            });
            self.execute(Command::RegisterPerson {
                person: rep(i),
                name: format!("Wethouder {i}"),
                email: format!("wethouder@gemeente{i}.example").parse().ok(),
                profession: None,
            });
            self.execute(Command::AssignRepresentative {
                person: rep(i),
                member: member(i),
                capacity: Capacity::PortfolioHolder,
            });
        }
        self.execute(Command::RegisterPerson {
            person: chair(),
            name: "Voorzitter RvC".into(),
            email: "voorzitter@rvc.example".parse().ok(),
            profession: None,
        });
        self.execute(Command::AppointSupervisoryBoardChair { person: chair(), deputy: false });
        self.at("2026-05-20T10:00:00+02:00");
        self.execute(Command::CreateMeeting {
            meeting: meeting(),
            title: "ALV juni 2026".into(),
            starts_at: t("2026-06-10T19:00:00+02:00"),
            place: "Enschede".into(),
            agenda: vec![AgendaItemSpec {
                item: AgendaItemId::named(ITEM),
                title: "Contribution 2027".into(),
                motion: Some(MotionSpec {
                    text: "The contribution for 2027 is set as proposed.".into(),
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
        });
        self.execute(Command::ConveneMeeting {
            meeting: meeting(),
            by: Convener::Board,
            advance_voting: true,
            electronic_participation: None,
        });
    }

    /// Both members check in at 18:50, the chair opens the meeting at 19:00 and the poll on the
    /// motion at 19:05.
    pub fn open_poll(&self) {
        self.at("2026-06-10T18:50:00+02:00");
        for i in 1..=2 {
            self.execute(Command::CheckIn {
                meeting: meeting(),
                member: member(i),
                person: rep(i),
                mode: Mode::InPerson,
            });
        }
        self.at("2026-06-10T19:00:00+02:00");
        self.execute(Command::OpenMeeting {
            meeting: meeting(),
            chair: chair(),
            appointed_by_meeting: false,
        });
        self.at("2026-06-10T19:05:00+02:00");
        self.execute(Command::OpenPoll {
            meeting: meeting(),
            poll: PollId::named(POLL),
            item: AgendaItemId::named(ITEM),
            method: PollMethod::Electronic,
            by: chair(),
            revote_of: None,
        });
    }

    /// The chair closes the poll and the meeting at 19:30.
    pub fn close(&self) {
        self.at("2026-06-10T19:30:00+02:00");
        self.execute(Command::ClosePoll {
            meeting: meeting(),
            poll: PollId::named(POLL),
            by: chair(),
            counts: None,
        });
        self.execute(Command::CloseMeeting { meeting: meeting(), by: chair() });
    }

    /// The size of the meeting's log as the service last signed it.
    pub fn head_size(&self) -> u64 {
        self.service
            .tree_head(coop(), &meeting().to_string())
            .unwrap_or_else(|e| panic!("{e}"))
            .map_or(0, |h| h.head.size)
    }

    fn mails(&self) -> Vec<PathBuf> {
        let mut mails: Vec<PathBuf> = std::fs::read_dir(&self.outbox)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        mails.sort();
        mails
    }

    /// Runs `stembus ARGS` with the session token `token` (none when `None`).
    pub fn stembus(&self, args: &[&str], token: Option<&str>) -> Run {
        let mut process = Process::new(env!("CARGO_BIN_EXE_stembus"));
        process.args(args).current_dir(&self.home).stdin(Stdio::null());
        match token {
            Some(token) => process.env("STEMBUS_TOKEN", token),
            None => process.env_remove("STEMBUS_TOKEN"),
        };
        Run::from(process.output().unwrap_or_else(|e| panic!("cannot run stembus: {e}")))
    }

    /// `stembus sign-in` for `email`, typing the code from the e-mail in the outbox; returns the run.
    pub fn sign_in(&self, email: &str) -> Run {
        let before = self.mails();
        let mut child = Process::new(env!("CARGO_BIN_EXE_stembus"))
            .args(["sign-in", "--server", &self.url, "--association", ASSOCIATION, "--email", email])
            .current_dir(&self.home)
            .env_remove("STEMBUS_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run stembus: {e}"));
        let started = Clock::now();
        // The new mail with a code, once written whole: the mail worker may write notices meanwhile.
        let code = loop {
            let code = self
                .mails()
                .into_iter()
                .filter(|m| !before.contains(m))
                .filter_map(|m| std::fs::read_to_string(m).ok())
                .find_map(|text| {
                    text.lines().find_map(|l| l.strip_prefix("Code: ")).map(|c| c.trim().to_owned())
                })
                .filter(|c| !c.is_empty());
            if let Some(code) = code {
                break code;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no sign-in mail for {email}");
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "{code}").unwrap_or_else(|e| panic!("{e}"));
        }
        Run::from(child.wait_with_output().unwrap_or_else(|e| panic!("{e}")))
    }

    /// Signs in as the voter and returns the token.
    pub fn token(&self) -> String {
        let run = self.sign_in(VOTER).success();
        run.stdout.trim().to_owned()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.join(name)
    }

    /// The service's SQLite database file.
    pub fn database(&self) -> PathBuf {
        self.dir.join("stembus.sqlite")
    }

    /// The service's key file.
    pub fn key_file(&self) -> PathBuf {
        self.dir.join("service.key")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What a run of the command printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            ok: o.status.success(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn success(self) -> Self {
        assert!(self.ok, "the command failed:\n{}\n{}", self.stdout, self.stderr);
        self
    }

    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(!self.ok, "the command succeeded:\n{}\n{}", self.stdout, self.stderr);
        self
    }
}

pub fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn write_json(path: &Path, value: &serde_json::Value) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The one receipt file in `dir`.
pub fn receipt_in(dir: &Path) -> PathBuf {
    let receipts: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("receipt-")))
        .collect();
    assert_eq!(receipts.len(), 1, "receipts in {}: {receipts:?}", dir.display());
    receipts.into_iter().next().unwrap_or_default()
}

/// Changes one hex digit of `text` at `at`.
pub fn flip(text: &str, at: usize) -> String {
    text.char_indices().map(|(i, c)| if i == at { if c == '0' { '1' } else { '0' } } else { c }).collect()
}
