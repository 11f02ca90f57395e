//! A real server per test: its own database (SQLite or PostgreSQL), a free port on
//! 127.0.0.1, a clock the test sets, and an outbox directory the test reads sign-in codes from.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use reqwest::blocking::{Client, Response};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stembus::clock::{Clock, ManualClock};
use stembus::config::Config;
use stembus::core::{
    AgendaItemId, Association, AssociationId, Command, Instant, MeetingId, MemberId, PersonId, PollId,
    ProxyForm, ResolutionId, RulesProfile,
};
use stembus::ledger::author;
use stembus::ledger::canonical::Statement;
use stembus::ledger::log::{SignedTreeHead, TreeHead};
use stembus::ledger::merkle::{verify_consistency, verify_inclusion};
use stembus::ledger::signature::PublicKey;
use stembus::mail::worker::Worker;
use stembus::service::Service;

use crate::db::{Backend, TestDb};

/// The address `rep-m{i}`, the representative of member `m{i}`, signs in with.
pub fn rep(i: usize) -> String {
    format!("rep{i}@coop.example")
}

pub fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("bad moment {text}: {e}"))
}

pub struct TestApp {
    pub address: String,
    pub clock: Arc<ManualClock>,
    pub service: Arc<Service>,
    /// The mail worker; a test that turns `mail_worker` off steps it with `run_once`.
    pub worker: Arc<Worker>,
    pub outbox: PathBuf,
    pub db: Arc<TestDb>,
    pub client: Client,
    handle: actix_web::dev::ServerHandle,
    dir: PathBuf,
    tune: Tune,
}

/// Changes a test server's configuration before it starts (the mail tests' SMTP transport);
/// kept across restarts.
pub type Tune = Arc<dyn Fn(&mut Config) + Send + Sync>;

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
        Self::spawn_at(backend, "2026-03-01T09:00:00+01:00")
    }

    /// Like [`TestApp::spawn`], with the clock at `moment` (RFC 3339): for a scenario of the past,
    /// whose log would otherwise go back in time after the secretariat's registration.
    pub fn spawn_at(backend: Backend, moment: &str) -> Self {
        Self::spawn_tuned(backend, moment, Arc::new(|_: &mut Config| {}))
    }

    /// Like [`TestApp::spawn_at`], with the configuration changed by `tune`.
    pub fn spawn_tuned(backend: Backend, moment: &str, tune: Tune) -> Self {
        let app = Self::start(Arc::new(TestDb::new(backend)), Arc::new(ManualClock::new(t(moment))), tune);
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
        let (db, clock, tune) = (Arc::clone(&self.db), Arc::clone(&self.clock), Arc::clone(&self.tune));
        self.stop();
        Self::start(db, clock, tune)
    }

    pub fn stop(self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(handle.stop(true))).join();
    }

    fn start(db: Arc<TestDb>, clock: Arc<ManualClock>, tune: Tune) -> Self {
        let dir = std::env::temp_dir().join(format!("stembus-api-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let mut config = Config {
            bind: "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")),
            database_url: db.url.clone(),
            key_file: dir.join("service.key"),
            outbox_dir: dir.join("outbox"),
            public_url: Some("http://127.0.0.1".into()),
            ..Config::default()
        };
        tune(&mut config);
        let outbox = config.outbox_dir.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let server_clock: Arc<dyn Clock> = Arc::clone(&clock) as Arc<dyn Clock>;
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match stembus::app::Application::build(config, server_clock) {
                    Ok(app) => {
                        let _ = tx.send(Ok((
                            app.port,
                            Arc::clone(&app.service),
                            Arc::clone(&app.worker),
                            app.handle(),
                        )));
                        let _ = app.run_until_stopped().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let (port, service, worker, handle) = rx
            .recv()
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("the server did not start: {e}"));
        TestApp {
            address: format!("http://127.0.0.1:{port}"),
            clock,
            service,
            worker,
            outbox,
            db,
            client: Client::new(),
            handle,
            dir,
            tune,
        }
    }

    pub fn at(&self, moment: &str) -> &Self {
        self.clock.set(t(moment));
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.address, path)
    }

    /// Every page of a list from `first` (a path under `/api/v1`) on, following each full
    /// page's `Link: <…>; rel="next"` header: the items in order, and each page's length.
    #[track_caller]
    pub fn pages(&self, first: &str, token: &str) -> (Vec<Value>, Vec<usize>) {
        let mut items = Vec::new();
        let mut lengths = Vec::new();
        let mut next = Some(self.url(first));
        while let Some(url) = next.take() {
            let response = self.client.get(&url).bearer_auth(token).send().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(response.status(), StatusCode::OK, "{url}");
            next = response.headers().get("link").map(|link| {
                let link = link.to_str().unwrap_or_default();
                assert!(link.ends_with(">; rel=\"next\""), "{link}");
                let target = link.trim_start_matches('<').split('>').next().unwrap_or_default();
                assert!(target.starts_with("/api/v1/"), "{link}");
                format!("{}{target}", self.address)
            });
            let page: Vec<Value> = response.json().unwrap_or_else(|e| panic!("{e}"));
            lengths.push(page.len());
            items.extend(page);
            assert!(lengths.len() <= 1000, "the pages do not end");
        }
        (items, lengths)
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
        // The new mail with a code: the mail worker may write notices meanwhile.
        let code = self
            .mails()
            .into_iter()
            .filter(|m| !before.contains(m))
            .filter_map(|m| std::fs::read_to_string(m).ok())
            .find_map(|text| text.lines().find_map(|l| l.strip_prefix("Code: ")).map(|c| c.trim().to_owned()))
            .unwrap_or_else(|| panic!("no sign-in mail for {email}"));
        let (status, session) = self.call(Method::POST, "/sessions", None, Some(json!({"code": code})));
        assert_eq!(status, StatusCode::CREATED, "{session}");
        session["token"].as_str().unwrap_or_else(|| panic!("no token in {session}")).to_owned()
    }

    pub fn sign_in(&self, email: &str) -> String {
        self.sign_in_to(ASSOCIATION, email)
    }

    /// Registers members `m1`..`mn` (`Gemeente M{i}`), each represented by its portfolio holder
    /// `rep-m{i}` (`Wethouder M{i}`, who signs in as [`rep`]`(i)`), with the secretariat's `token`.
    pub fn register_represented(&self, token: &str, n: usize) {
        for i in 1..=n {
            self.ok(
                Method::POST,
                "/associations/coop/members",
                token,
                Some(json!({"id": format!("m{i}"), "name": format!("Gemeente M{i}"), "kind": "gemeente"})),
                StatusCode::CREATED,
            );
            self.ok(
                Method::POST,
                "/associations/coop/persons",
                token,
                Some(json!({"id": format!("rep-m{i}"), "name": format!("Wethouder M{i}"), "email": rep(i)})),
                StatusCode::CREATED,
            );
            self.ok(
                Method::POST,
                &format!("/associations/coop/persons/rep-m{i}/representations"),
                token,
                Some(json!({"member": format!("m{i}"), "capacity": "portfolio_holder"})),
                StatusCode::CREATED,
            );
        }
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

/// A key of the tests' own, the same for the same label; not a scenario key of any person.
pub fn key_named(label: &str) -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(format!("stembus api test key {label}").as_bytes()).into())
}

/// The signature object a request body carries: `{key, sequence, signature}` in hex.
pub fn signature_json(key: &SigningKey, sequence: u64, statement: &Statement) -> Value {
    let signature = stembus::ledger::signature::sign(key, &statement.to_bytes());
    json!({
        "key": author::key_bytes(key).to_hex(),
        "sequence": sequence,
        "signature": stembus::core::SignatureBytes::from(signature).to_hex(),
    })
}

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Display,
{
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

/// A hash as the API writes it (64 hexadecimal digits).
pub fn hash(v: &Value) -> [u8; 32] {
    v.as_str()
        .and_then(stembus::ledger::log::unhex)
        .and_then(|b| b.try_into().ok())
        .unwrap_or_else(|| panic!("not a hash: {v}"))
}

/// A signed tree head of `coop` as the API writes it.
pub fn tree_head(v: &Value) -> SignedTreeHead {
    SignedTreeHead {
        head: TreeHead {
            association: coop(),
            meeting: v["meeting"].as_str().map(id),
            size: v["size"].as_u64().unwrap_or_else(|| panic!("no size in {v}")),
            root: hash(&v["root"]),
            timestamp: v["timestamp"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or_else(|| panic!("no timestamp in {v}")),
        },
        signature: v["signature"]
            .as_str()
            .and_then(stembus::ledger::log::unhex)
            .and_then(|b| b.try_into().ok())
            .unwrap_or_else(|| panic!("no signature in {v}")),
    }
}

/// Receipts and tree heads, checked as a voter checks them: with the published service key.
impl TestApp {
    /// The service's public key, from `/api/v1/service-key`.
    pub fn service_key(&self) -> PublicKey {
        let (_, key) = self.call(Method::GET, "/service-key", None, None);
        PublicKey::from_hex(key["public_key"].as_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Checks a receipt (`log_receipt`): its head is signed by the service and its leaf is in
    /// the tree of that head. Returns the head.
    #[track_caller]
    pub fn verify_receipt(&self, receipt: &Value) -> SignedTreeHead {
        let head = tree_head(&receipt["tree_head"]);
        assert_eq!(head.verify(&self.service_key()), Ok(()), "the service signed the head: {receipt}");
        let proof: Vec<[u8; 32]> =
            receipt["inclusion_proof"].as_array().into_iter().flatten().map(hash).collect();
        let index = receipt["leaf_index"].as_u64().unwrap_or_else(|| panic!("no leaf index in {receipt}"));
        verify_inclusion(&hash(&receipt["leaf_hash"]), index, head.head.size, &proof, &head.head.root)
            .unwrap_or_else(|e| panic!("{e}: {receipt}"));
        head
    }
}

impl TestApp {
    /// Adds the association `other` with its own secretariat, signed in; returns its token.
    pub fn other_association(&self) -> String {
        stembus::app::create_association(
            &self.service,
            AssociationId::named("other"),
            "Andere Coöperatie U.A.",
            RulesProfile::dimpact_2023_toml(),
            "Secretariaat",
            "secretariaat@other.example",
            self.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        self.sign_in_to("other", "secretariaat@other.example")
    }

    /// Asks `log` (a path ending in `/log`) for the consistency of `from` with `to`, and checks
    /// the proof as a voter does, with nothing but the two heads.
    #[track_caller]
    pub fn verify_consistency(
        &self,
        log: &str,
        token: &str,
        from: &SignedTreeHead,
        to: &SignedTreeHead,
    ) -> Value {
        let (status, consistency) =
            self.get(&format!("{log}/consistency?from={}&to={}", from.head.size, to.head.size), token);
        assert_eq!(status, StatusCode::OK, "{consistency}");
        let proof: Vec<[u8; 32]> = consistency["proof"].as_array().into_iter().flatten().map(hash).collect();
        verify_consistency(from.head.size, to.head.size, &from.head.root, &to.head.root, &proof)
            .unwrap_or_else(|e| panic!("{e}: {consistency}"));
        consistency
    }
}

/// Acting as a person with a key: enrolling it, and signing what the person sends.
impl TestApp {
    /// Reads the association `coop` as the service holds it now.
    pub fn state<R>(&self, f: impl FnOnce(&Association) -> R) -> R {
        self.service.read(coop(), f).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The person whose key `key` is, as the log records it.
    pub fn owner(&self, key: &SigningKey) -> PersonId {
        let public = author::key_bytes(key);
        self.state(move |s| s.keys.get(&public).map(|r| r.person))
            .unwrap_or_else(|| panic!("key {public} is not enrolled"))
    }

    /// The sequence number `key` signs next: one above the last it signed.
    pub fn next_sequence(&self, key: &SigningKey) -> u64 {
        self.state(|s| author::next_sequence(s, key))
    }

    /// Posts the enrolment of `key` as `person`'s key, signed in as `token`; returns the answer.
    pub fn enrol_key(&self, token: &str, person: PersonId, key: &SigningKey) -> (StatusCode, Value) {
        let sequence = self.next_sequence(key);
        let command = self.state(|s| author::enrol(s, person, key, sequence));
        let Command::EnrolKey { key, sequence, signature, .. } = command else {
            panic!("not an enrolment: {command:?}")
        };
        self.post(
            &format!("/associations/coop/persons/{person}/keys"),
            token,
            json!({"key": key, "sequence": sequence, "signature": signature}),
        )
    }

    /// Enrols `person`'s scenario key over HTTP, signed in as the person (`token`); returns it.
    #[track_caller]
    pub fn enrol(&self, token: &str, person: PersonId) -> SigningKey {
        let key = author::scenario_key(person);
        let (status, body) = self.enrol_key(token, person, &key);
        assert_eq!(status, StatusCode::CREATED, "enrolment of {person}: {body}");
        key
    }

    /// The person's scenario key, enrolled first (as the person, `token`) when it has no key yet.
    pub fn signer(&self, token: &str, person: PersonId) -> SigningKey {
        if self.state(move |s| s.keys.current_of(person).is_some()) {
            author::scenario_key(person)
        } else {
            self.enrol(token, person)
        }
    }

    /// The signature `key` puts on `command` at `sequence`, over the statement the core will
    /// rebuild from the state now. An electronic proxy is signed as the key's owner.
    pub fn signature_at(&self, command: &Command, key: &SigningKey, sequence: u64) -> Value {
        let public = author::key_bytes(key);
        let statement = self.state(|s| {
            let (_, mut statement) = author::statement_for(s, command, sequence)?;
            if let (Statement::Proxy(p), Some(r)) = (&mut statement, s.keys.get(&public)) {
                p.person = r.person;
            }
            Some(statement)
        });
        let statement = statement.unwrap_or_else(|| panic!("nothing to sign in {command:?}"));
        signature_json(key, sequence, &statement)
    }

    /// [`TestApp::signature_at`] at the key's next sequence number.
    pub fn signature(&self, command: &Command, key: &SigningKey) -> Value {
        self.signature_at(command, key, self.next_sequence(key))
    }

    /// The body of a ballot for `member` on `item` of `meeting` (ids or readable keys), signed by
    /// the owner of `key`.
    pub fn signed_ballot(
        &self,
        key: &SigningKey,
        meeting: &str,
        item: &str,
        member: &str,
        choice: &str,
    ) -> Value {
        let command = Command::CastBallot {
            meeting: id::<MeetingId>(meeting),
            item: id::<AgendaItemId>(item),
            member: id::<MemberId>(member),
            person: self.owner(key),
            choice: from_json(json!(choice)),
            signed: None,
        };
        json!({"member": member, "choice": choice, "signature": self.signature(&command, key)})
    }

    /// The body of a vote for `member` on the resolution outside a meeting `resolution` (ids or
    /// readable keys), signed by the owner of `key`.
    pub fn signed_resolution_vote(
        &self,
        key: &SigningKey,
        resolution: &str,
        member: &str,
        choice: &str,
    ) -> Value {
        let command = Command::CastResolutionVote {
            resolution: id::<ResolutionId>(resolution),
            member: id::<MemberId>(member),
            person: self.owner(key),
            choice: from_json(json!(choice)),
            signed: None,
        };
        json!({"member": member, "choice": choice, "signature": self.signature(&command, key)})
    }

    /// The body of the declaration of `outcome` for `poll` of `meeting`, signed by the owner of
    /// `key` as the chair.
    pub fn signed_declaration(&self, key: &SigningKey, meeting: &str, poll: &str, outcome: &str) -> Value {
        let command = Command::DeclareResult {
            meeting: id::<MeetingId>(meeting),
            poll: id::<PollId>(poll),
            by: self.owner(key),
            outcome: from_json(json!(outcome)),
            signed: None,
        };
        json!({"outcome": outcome, "signature": self.signature(&command, key)})
    }

    /// `proxy` (a request body with `id`, `grantor`, `holder` and optional `instructions`) for
    /// `meeting`, with the signature of `key`'s owner, a representative of the grantor.
    pub fn signed_proxy(&self, key: &SigningKey, meeting: &str, mut proxy: Value) -> Value {
        let command = Command::GrantProxy {
            meeting: id::<MeetingId>(meeting),
            proxy: id(proxy["id"].as_str().unwrap_or_else(|| panic!("no id in {proxy}"))),
            grantor: id(proxy["grantor"].as_str().unwrap_or_else(|| panic!("no grantor in {proxy}"))),
            holder: from_json(proxy["holder"].clone()),
            instructions: if proxy["instructions"].is_null() {
                Default::default()
            } else {
                from_json(proxy["instructions"].clone())
            },
            form: ProxyForm::Electronic,
            signed: None,
            scan_sha256: None,
        };
        proxy["signature"] = self.signature(&command, key);
        proxy
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
