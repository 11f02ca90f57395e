//! A test server whose mail leaves by SMTP for a real SMTP server (aiosmtpd, tests/common/
//! smtp.rs), and the association the mail tests convene: members with addresses in Dutch and
//! in English, one without an address, their representatives and the chair.
#![allow(dead_code)]

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::Clock;
use stembus::config::{Config, MailTransportKind};
use stembus::core::{AgendaItemId, Command, MeetingId, MemberId, PersonId};
use stembus::store::log::Logged;

use crate::db::Backend;
use crate::smtp::{Delivered, SmtpServer};
use crate::support::{SECRETARIAT, TestApp, Tune, coop, t};

/// The subject of the sign-in mail, which is not a notice.
pub const SIGN_IN_SUBJECT: &str = "Aanmelden bij Stembus / Sign in to Stembus";

/// Attempts before a notice that keeps failing for now is given up, in these tests.
pub const MAX_ATTEMPTS: u32 = 4;

/// A server with `mail_transport = smtp` to the test's SMTP server on 127.0.0.1, a manual
/// clock, and the mail worker stepped by the test ([`MailApp::deliver`]) unless it is made
/// live ([`MailApp::restart_live`]).
pub struct MailApp {
    app: Option<TestApp>,
    pub smtp: SmtpServer,
    live: Arc<AtomicBool>,
}

impl Deref for MailApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        self.app.as_ref().unwrap_or_else(|| panic!("the server is stopped"))
    }
}

impl MailApp {
    /// A server on `backend` and a fresh SMTP server, at 1 March 2026.
    pub fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, SmtpServer::start())
    }

    /// A server on `backend` that sends to `smtp`.
    pub fn spawn_with(backend: Backend, smtp: SmtpServer) -> Self {
        let live = Arc::new(AtomicBool::new(false));
        let (url, flag) = (smtp.url(), Arc::clone(&live));
        let tune: Tune = Arc::new(move |c: &mut Config| {
            c.mail_transport = MailTransportKind::Smtp;
            c.smtp_url = Some(url.clone());
            c.mail_from = "Coöperatie Proef <stembus@coop.example>".into();
            c.mail_max_attempts = MAX_ATTEMPTS;
            c.mail_worker = flag.load(Ordering::SeqCst);
        });
        let app = TestApp::spawn_tuned(backend, "2026-03-01T09:00:00+01:00", tune);
        MailApp { app: Some(app), smtp, live }
    }

    /// Stops the service and starts it again on the same database and clock, its worker
    /// stepped by the test.
    pub fn restart(mut self) -> Self {
        self.live.store(false, Ordering::SeqCst);
        let app = self.app.take().map(TestApp::restart);
        MailApp { app, ..self }
    }

    /// Stops the service and starts it again with its mail worker running on its own.
    pub fn restart_live(mut self) -> Self {
        self.live.store(true, Ordering::SeqCst);
        let app = self.app.take().map(TestApp::restart);
        MailApp { app, ..self }
    }

    /// Runs the mail worker once at the clock's moment; returns how many notices the SMTP
    /// server accepted.
    pub fn deliver(&self) -> usize {
        self.worker.run_once(self.clock.now())
    }

    /// Sets the clock to `moment` and runs the worker.
    pub fn deliver_at(&self, moment: &str) -> usize {
        self.at(moment);
        self.deliver()
    }

    /// Signs `email` in with the one-time code the SMTP server received for it.
    #[track_caller]
    pub fn sign_in(&self, email: &str) -> String {
        let before = self.smtp.messages().len();
        let (status, body) = self.call(
            Method::POST,
            "/sign-in-links",
            None,
            Some(json!({"association": "coop", "email": email})),
        );
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let mail = self
            .smtp
            .wait_for(before + 1)
            .into_iter()
            .skip(before)
            .find(|m| m.is_for(email) && m.subject() == SIGN_IN_SUBJECT)
            .unwrap_or_else(|| panic!("no sign-in mail for {email}"));
        let text = mail.text();
        let code = text
            .lines()
            .find_map(|l| l.strip_prefix("Code: "))
            .map(|c| c.trim().to_owned())
            .unwrap_or_else(|| panic!("no code in {text}"));
        let (status, session) = self.call(Method::POST, "/sessions", None, Some(json!({"code": code})));
        assert_eq!(status, StatusCode::CREATED, "{session}");
        session["token"].as_str().unwrap_or_else(|| panic!("no token in {session}")).to_owned()
    }

    /// The notices the SMTP server received (not the sign-in codes), in order.
    pub fn notices(&self) -> Vec<Delivered> {
        self.smtp.messages().into_iter().filter(|m| m.subject() != SIGN_IN_SUBJECT).collect()
    }

    /// The notices received for `address`.
    pub fn notices_for(&self, address: &str) -> Vec<Delivered> {
        self.notices().into_iter().filter(|m| m.is_for(address)).collect()
    }

    /// Runs a command through the service at the clock's moment, signed with the author's
    /// scenario key where it needs a signature; it must be accepted.
    #[track_caller]
    pub fn execute(&self, command: Command) -> Vec<Logged> {
        let shown = format!("{command:?}");
        self.service
            .execute_scenario(coop(), command, self.clock.now())
            .unwrap_or_else(|e| panic!("refused: {e}\ncommand: {shown}"))
    }
}

// ---------------------------------------------------------------------------------------------
// The association

/// The members: key, name, address, language. `m4` has no address: it gets no mail.
pub const MEMBERS: [(&str, &str, Option<&str>, &str); 4] = [
    ("m1", "Gemeente Assen", Some("alv@assen.example"), "nl"),
    ("m2", "Gemeente Berkelland", Some("alv@berkelland.example"), "nl"),
    ("m3", "Municipality of Capelle", Some("council@capelle.example"), "en"),
    ("m4", "Gemeente Dalfsen", None, "nl"),
];

/// The addresses the members registered.
pub fn member_addresses() -> Vec<&'static str> {
    MEMBERS.iter().filter_map(|(_, _, a, _)| *a).collect()
}

/// The address of the portfolio holder who represents member `m{i}`.
pub fn rep_email(i: usize) -> String {
    format!("wethouder@m{i}.example")
}

pub const CHAIR: &str = "voorzitter@rvc.example";

pub fn member(key: &str) -> MemberId {
    MemberId::named(key)
}

pub fn rep(i: usize) -> PersonId {
    PersonId::named(&format!("rep-m{i}"))
}

pub fn chair() -> PersonId {
    PersonId::named("rvc")
}

pub fn meeting(key: &str) -> MeetingId {
    MeetingId::named(key)
}

pub fn item(key: &str) -> AgendaItemId {
    AgendaItemId::named(key)
}

/// Registers the members over HTTP (with their address and language), each represented by a
/// portfolio holder, and the chair of the supervisory board; returns the secretariat's token.
pub fn register(app: &MailApp) -> String {
    let sec = app.sign_in(SECRETARIAT);
    for (i, (key, name, email, language)) in MEMBERS.iter().enumerate() {
        let i = i + 1;
        app.ok(
            Method::POST,
            "/associations/coop/members",
            &sec,
            Some(json!({"id": key, "name": name, "kind": "gemeente", "email": email, "language": language})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            "/associations/coop/persons",
            &sec,
            Some(json!({"id": format!("rep-m{i}"), "name": format!("Wethouder {name}"), "email": rep_email(i)})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            &format!("/associations/coop/persons/rep-m{i}/representations"),
            &sec,
            Some(json!({"member": key, "capacity": "portfolio_holder"})),
            StatusCode::CREATED,
        );
    }
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &sec,
        Some(json!({"id": "rvc", "name": "Voorzitter RvC", "email": CHAIR})),
        StatusCode::CREATED,
    );
    app.ok(
        Method::PUT,
        "/associations/coop/supervisory-board",
        &sec,
        Some(json!({"chair": "rvc"})),
        StatusCode::NO_CONTENT,
    );
    sec
}

/// The place of the meeting: with a comma and an ampersand, which iCalendar and HTML escape.
pub const PLACE: &str = "Stadhuis, Raadzaal & Foyer";
pub const TITLE: &str = "Algemene ledenvergadering voorjaar 2026";
pub const PROPOSAL: &str =
    "Artikel 8.3 komt te luiden: De oproeping geschiedt per e-mail aan het geregistreerde adres.";
pub const CONDITIONS: &str = "Deelnemen via de videoverbinding; aanmelden met de gemailde code.";

/// The meeting `alv` of Friday 20 March 2026 at 19:00: the accounts (ordinary) and an
/// amendment of the statutes with its proposal (Art. 20.3), and a round of questions.
pub fn meeting_body() -> Value {
    json!({
        "id": "alv",
        "title": TITLE,
        "starts_at": "2026-03-20T19:00:00+01:00",
        "place": PLACE,
        "agenda": [
            {"id": "accounts", "title": "Jaarrekening 2025", "annual_accounts": true,
             "motion": {"text": "De ALV stelt de jaarrekening 2025 vast.", "kind": "ordinary"}},
            {"id": "statutes", "title": "Statutenwijziging",
             "motion": {"text": "De ALV besluit de statuten te wijzigen als voorgesteld.",
                        "kind": "statute_amendment", "proposal": PROPOSAL, "board_proposal_approved": true}},
            {"id": "questions", "title": "Rondvraag"}
        ]
    })
}

/// Registers the association, drafts `alv`, and convenes it over HTTP on Thursday 5 March
/// 2026 at 10:00, fourteen clear days before, with advance voting and electronic
/// participation. Returns the secretariat's token (signed in on 5 March).
pub fn convened(app: &MailApp) -> String {
    let sec = register(app);
    draft_and_convene(app, &sec)
}

/// Drafts `alv` and convenes it on 5 March 2026 at 10:00, as [`convened`] does, for an
/// association registered already; returns the secretariat's token.
pub fn draft_and_convene(app: &MailApp, sec: &str) -> String {
    app.ok(Method::POST, "/associations/coop/meetings", sec, Some(meeting_body()), StatusCode::CREATED);
    app.at("2026-03-05T10:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec,
        Some(json!({"advance_voting": true, "electronic_participation": CONDITIONS})),
        StatusCode::OK,
    );
    sec
}

/// The moment of `text` in UTC, as iCalendar writes it (`20260320T180000Z`).
pub fn ical_utc(text: &str) -> String {
    t(text).format("%Y%m%dT%H%M%SZ").to_string()
}

/// Runs a test body once per backend, each with its own server and SMTP server:
/// `mail_test!(name, |app| {...})`.
#[macro_export]
macro_rules! mail_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($app: $crate::mailapp::MailApp) $body

            #[test]
            fn sqlite() {
                run($crate::mailapp::MailApp::spawn($crate::db::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                run($crate::mailapp::MailApp::spawn($crate::db::Backend::Postgres));
            }
        }
    };
}

/// Where the tests' own aiosmtpd handlers live (`refusing.py`).
pub fn handlers_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("mail")
}
