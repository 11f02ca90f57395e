//! A real server per test: its own database (SQLite or PostgreSQL), a free port on
//! 127.0.0.1, a clock the test sets, and an outbox directory the test reads sign-in codes from.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::blocking::{Client, Response};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::{Clock, ManualClock};
use stembus::config::Config;
use stembus::core::{AssociationId, Instant, RulesProfile};
use stembus::service::Service;

use crate::db::{Backend, TestDb};

pub fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("bad moment {text}: {e}"))
}

pub struct TestApp {
    pub address: String,
    pub clock: Arc<ManualClock>,
    pub service: Arc<Service>,
    pub outbox: PathBuf,
    pub db: Arc<TestDb>,
    pub client: Client,
    handle: actix_web::dev::ServerHandle,
    dir: PathBuf,
}

/// The association every test starts with; its secretariat signs in as SECRETARIAT.
pub const ASSOCIATION: &str = "coop";
pub const SECRETARIAT: &str = "secretariaat@coop.example";

pub fn coop() -> AssociationId {
    AssociationId::named(ASSOCIATION)
}

impl TestApp {
    /// A server on a fresh database of `backend`, with the association `coop` and its
    /// secretariat, at 1 March 2026.
    pub fn spawn(backend: Backend) -> Self {
        let app = Self::start(
            Arc::new(TestDb::new(backend)),
            Arc::new(ManualClock::new(t("2026-03-01T09:00:00+01:00"))),
        );
        stembus::app::create_association(
            &app.service,
            coop(),
            "Coöperatie Proef U.A.",
            RulesProfile::dimpact_2023_toml(),
            "Secretariaat",
            SECRETARIAT,
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        app
    }

    /// Another server on the same database and clock, as after a restart.
    pub fn restart(self) -> Self {
        let (db, clock) = (Arc::clone(&self.db), Arc::clone(&self.clock));
        self.stop();
        Self::start(db, clock)
    }

    pub fn stop(self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
    }

    fn start(db: Arc<TestDb>, clock: Arc<ManualClock>) -> Self {
        let dir = std::env::temp_dir().join(format!("stembus-api-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            database_url: db.url.clone(),
            key_file: dir.join("service.key"),
            outbox_dir: dir.join("outbox"),
            public_url: Some("http://127.0.0.1".into()),
            ..Config::default()
        };
        let outbox = config.outbox_dir.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let server_clock: Arc<dyn Clock> = Arc::clone(&clock) as Arc<dyn Clock>;
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
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            clock,
            service,
            outbox,
            db,
            client: Client::new(),
            handle,
            dir,
        }
    }

    pub fn at(&self, moment: &str) -> &Self {
        self.clock.set(t(moment));
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.address, path)
    }

    /// A request with an optional bearer token and JSON body; returns status and JSON.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Response = request.send().unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let text = response.text().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Asks a sign-in code for `email` in `association`, reads it from the outbox, and starts
    /// a session; returns the token.
    pub fn sign_in_to(&self, association: &str, email: &str) -> String {
        let before = self.mails();
        let (status, _) = self.call(
            Method::POST,
            "/sign-in-links",
            None,
            Some(json!({"association": association, "email": email})),
        );
        assert_eq!(status, StatusCode::ACCEPTED);
        let mail = self
            .mails()
            .into_iter()
            .find(|m| !before.contains(m))
            .unwrap_or_else(|| panic!("no sign-in mail for {email}"));
        let text = std::fs::read_to_string(&mail).unwrap_or_else(|e| panic!("{e}"));
        let code = text
            .lines()
            .find_map(|l| l.strip_prefix("Code: "))
            .map(|c| c.trim().to_owned())
            .unwrap_or_else(|| panic!("no code in {text}"));
        let (status, session) = self.call(Method::POST, "/sessions", None, Some(json!({"code": code})));
        assert_eq!(status, StatusCode::CREATED, "{session}");
        session["token"].as_str().unwrap_or_else(|| panic!("no token in {session}")).to_owned()
    }

    pub fn sign_in(&self, email: &str) -> String {
        self.sign_in_to(ASSOCIATION, email)
    }

    pub fn mails(&self) -> Vec<PathBuf> {
        let mut mails: Vec<PathBuf> = std::fs::read_dir(&self.outbox)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        mails.sort();
        mails
    }

    pub fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body))
    }

    pub fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(token), Some(body))
    }

    pub fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, Some(token), None)
    }

    /// Like `post`, but the request must succeed with `expected`.
    #[track_caller]
    pub fn ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let (status, value) = self.call(method, path, Some(token), body);
        assert_eq!(status, expected, "{path}: {value}");
        value
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Asserts a problem+json refusal with this status, code and (when given) rule and article.
#[track_caller]
pub fn assert_problem(
    response: &(StatusCode, Value),
    status: StatusCode,
    code: &str,
    rule: Option<(&str, &str)>,
) {
    let (got, body) = response;
    assert_eq!(*got, status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{body}");
    if let Some((r, a)) = rule {
        assert_eq!((body["rule"].as_str(), body["article"].as_str()), (Some(r), Some(a)), "{body}");
    }
}

/// Runs a test body once per backend, each with its own server: `both_backends!(name, |app| {...})`.
#[macro_export]
macro_rules! api_test {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn run($app: $crate::support::TestApp) $body

            #[test]
            fn sqlite() {
                run($crate::support::TestApp::spawn($crate::db::Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                run($crate::support::TestApp::spawn($crate::db::Backend::Postgres));
            }
        }
    };
}
