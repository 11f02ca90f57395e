//! Putting the service together: configuration, database, service key, mail, HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;

use crate::clock::Clock;
use crate::config::Config;
use crate::core::register::EmailAddress;
use crate::core::{AssociationId, Command, PersonId, RulesProfile};
use crate::http::auth::{Role, SessionAuthenticator};
use crate::http::{AppState, live};
use crate::mail::transport::Sender;
use crate::mail::worker::{Settings, Worker, WorkerTask};
use crate::outbox::TransportOutbox;
use crate::scenario::Scenario;
use crate::service::{Notices, Service, ServiceError};
use crate::store::{Store, StoreError, access};

/// A running service.
pub struct Application {
    pub port: u16,
    pub service: Arc<Service>,
    /// The mail worker; it runs as a task of its own unless `mail_worker` is off, and a test
    /// may step it with [`Worker::run_once`].
    pub worker: Arc<Worker>,
    worker_task: Option<WorkerTask>,
    server: actix_web::dev::Server,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application").field("port", &self.port).finish_non_exhaustive()
    }
}

impl Application {
    /// Opens (and creates) the database, runs its migrations, loads (and creates) the service
    /// key, sets up the mail transport and starts the mail worker, and binds the listener. Port
    /// 0 in the configuration picks a free port. Runs inside a tokio runtime (the worker is a
    /// task of it).
    pub fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = Store::open(&config.database_url).with_context(|| "cannot open the database")?;
        store.migrate().with_context(|| "cannot bring the database schema up to date")?;
        let key = crate::keys::load_or_create(&config.key_file)?;
        let public_url = config.public_url();
        let sender = Sender::new(&config.mail_from, &public_url)?;
        let transport = crate::mail::transport::from_config(&config)?;
        let outbox = TransportOutbox::new(Arc::clone(&transport), sender.clone(), Arc::clone(&clock));
        let service = Arc::new(Service::new(store.clone(), key.clone()).with_public_url(&public_url));
        let settings = Settings { max_attempts: config.mail_max_attempts.max(1), ..Settings::default() };
        let start_worker = config.mail_worker;
        let worker =
            Arc::new(Worker::new(Arc::clone(&service), transport, sender, Arc::clone(&clock), settings));
        let listener =
            TcpListener::bind(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
        let port = listener.local_addr()?.port();
        let state = AppState {
            service: Arc::clone(&service),
            clock,
            outbox: Arc::new(outbox),
            authenticator: Arc::new(SessionAuthenticator::new(store)),
            live: live::Hub::default(),
            config,
            service_key: key.verifying_key(),
        };
        let server = crate::http::serve(listener, state)?;
        let worker_task = if start_worker {
            tokio::runtime::Handle::try_current()
                .with_context(|| "the mail worker needs a tokio runtime to run in")?;
            Some(Arc::clone(&worker).spawn())
        } else {
            None
        };
        Ok(Self { port, service, worker, worker_task, server })
    }

    /// A handle that stops the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped, then stops the mail worker.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(task) = self.worker_task {
            task.stop().await;
        }
        served
    }
}

/// Adds an association with its first secretariat member, who signs in with the address given.
pub fn create_association(
    service: &Service,
    id: AssociationId,
    name: &str,
    profile_toml: &str,
    secretariat_name: &str,
    secretariat_email: &str,
    now: crate::core::Instant,
) -> anyhow::Result<PersonId> {
    let email: EmailAddress = secretariat_email.parse()?;
    service.create_association(id, name, profile_toml, now)?;
    let person = PersonId::named(&format!("secretariat-{}", secretariat_email.to_lowercase()));
    service.execute(
        id,
        Command::RegisterPerson {
            person,
            name: secretariat_name.to_owned(),
            email: Some(email),
            profession: None,
        },
        now,
    )?;
    let mut conn = service.store().connection()?;
    access::grant_role(&mut conn, id, person, Role::Secretariat.code(), now)?;
    Ok(person)
}

/// The demo association: the forty members of Coöperatie Dimpact and their meeting of
/// 7 December 2022, replayed from its minutes. Returns false when it was there already. The
/// replay of that past meeting mails nobody: its notices are withheld.
pub fn load_demo(service: &Service, now: crate::core::Instant) -> anyhow::Result<bool> {
    let id = AssociationId::named("dimpact");
    match service.create_association(id, "Coöperatie Dimpact U.A.", RulesProfile::dimpact_2023_toml(), now) {
        Ok(_) => {}
        Err(ServiceError::Store(StoreError::AssociationExists(_))) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    let scenario = Scenario::from_toml(include_str!("../scenarios/alv-2022-12-07.toml"))?;
    let mut at = None;
    for step in scenario.step {
        let moment = step.at.or(at).context("the demo scenario's first step has no moment")?;
        at = Some(moment);
        match (service.execute_scenario_with(id, step.command, moment, Notices::Withhold), step.expect) {
            (Ok(_), None) | (Err(ServiceError::Refused(_)), Some(_)) => {}
            (Err(e), _) => return Err(e.into()),
            (Ok(_), Some(code)) => {
                anyhow::bail!("the demo step expected to be refused with {code} was accepted")
            }
        }
    }
    let secretariat = PersonId::named("secretariaat");
    let email: EmailAddress = "secretariaat@dimpact.example".parse()?;
    service.execute(
        id,
        Command::RegisterPerson {
            person: secretariat,
            name: "Secretariaat Dimpact".into(),
            email: Some(email),
            profession: None,
        },
        now,
    )?;
    let auditor = PersonId::named("accountant");
    let email: EmailAddress = "accountant@dimpact.example".parse()?;
    service.execute(
        id,
        Command::RegisterPerson {
            person: auditor,
            name: "Accountant".into(),
            email: Some(email),
            profession: None,
        },
        now,
    )?;
    let mut conn = service.store().connection()?;
    access::grant_role(&mut conn, id, secretariat, Role::Secretariat.code(), now)?;
    access::grant_role(&mut conn, id, auditor, Role::Auditor.code(), now)?;
    Ok(true)
}
