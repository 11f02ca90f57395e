//! The persisted outbox on both backends: notices are queued in the transaction of their event
//! (or the command fails), and the worker sends what is due, retries with backoff, gives up,
//! cancels what no longer applies, and sends each notice once with two workers at work.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use diesel::prelude::*;
use lettre::Message;
use stembus::clock::{Clock, ManualClock};
use stembus::core::{AssociationId, Command, Fact, Instant, MeetingId, Phase, RulesProfile};
use stembus::mail::transport::{MailTransport, SendError, Sender};
use stembus::mail::worker::{Settings, Worker};
use stembus::scenario::Scenario;
use stembus::service::{Service, ServiceError};
use stembus::store::notices::{self, AttemptResult, Filter, Status, StoredNotice};
use stembus::store::schema::{events, notice_attempts};
use stembus::store::{Backend, Store};

use crate::both_backends;
use crate::db::TestDb;

fn dimpact() -> AssociationId {
    AssociationId::named("dimpact")
}

fn meeting() -> MeetingId {
    MeetingId::named("alv-2022-12-07")
}

fn service(db: &TestDb) -> Arc<Service> {
    let store = Store::open(&db.url).unwrap_or_else(|e| panic!("{e}"));
    store.migrate().unwrap_or_else(|e| panic!("{e}"));
    let service = Service::new(store, ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]))
        .with_public_url("https://stembus.test/");
    service
        .create_association(
            dimpact(),
            "Coöperatie Dimpact U.A.",
            RulesProfile::dimpact_2023_toml(),
            t("2022-10-01T09:00:00Z"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    Arc::new(service)
}

fn t(text: &str) -> Instant {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Replays the 2022 scenario through the service while `go_on` says so of the next command;
/// returns the moment of the last step replayed and the command it stopped at, if any.
fn replay_while(service: &Service, go_on: impl Fn(&Command) -> bool) -> (Instant, Option<Command>) {
    let scenario = Scenario::from_toml(include_str!("../../scenarios/alv-2022-12-07.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut at = None;
    for step in scenario.step {
        let now = step.at.or(at).unwrap_or_else(|| panic!("the first step has no moment"));
        if !go_on(&step.command) {
            return (now, Some(step.command));
        }
        at = Some(now);
        match (service.execute_scenario(dimpact(), step.command, now), step.expect) {
            (Ok(_), None) | (Err(ServiceError::Refused(_)), Some(_)) => {}
            (other, expect) => panic!("unexpected: {other:?}, expected {expect:?}"),
        }
    }
    (at.unwrap_or_else(|| panic!("an empty scenario")), None)
}

/// Replays up to the convocation, and convenes at its moment; returns that moment and the
/// convening event's sequence number.
fn convene(service: &Service) -> (Instant, i64) {
    let (now, convene) = replay_while(service, |c| !matches!(c, Command::ConveneMeeting { .. }));
    let convene = convene.unwrap_or_else(|| panic!("the scenario convenes no meeting"));
    let logged = service.execute(dimpact(), convene, now).unwrap_or_else(|e| panic!("{e}"));
    let seq = logged
        .iter()
        .find(|l| matches!(l.event.fact, Fact::MeetingConvened { .. }))
        .map(|l| l.seq)
        .unwrap_or_else(|| panic!("no convocation logged"));
    (now, seq)
}

fn list(service: &Service, filter: Filter) -> Vec<StoredNotice> {
    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    notices::list(&mut conn, dimpact(), &filter).unwrap_or_else(|e| panic!("{e}"))
}

fn of_kind(service: &Service, kind: &str) -> Vec<StoredNotice> {
    list(service, Filter { kind: Some(kind.into()), ..Filter::default() })
}

/// A transport that answers as the test says per recipient, and remembers what it accepted.
#[derive(Debug, Default)]
struct Scripted {
    temporary: BTreeSet<String>,
    permanent: BTreeSet<String>,
    /// (recipient, Message-ID) of every message accepted.
    accepted: Mutex<Vec<(String, String)>>,
}

impl MailTransport for Scripted {
    fn send(&self, message: &Message) -> Result<String, SendError> {
        let to: Vec<String> = message.envelope().to().iter().map(ToString::to_string).collect();
        let to = to.join(",");
        if self.temporary.contains(&to) {
            return Err(SendError::temporary("451 4.7.1 greylisted, try again later"));
        }
        if self.permanent.contains(&to) {
            return Err(SendError::permanent("550 5.1.1 no such user"));
        }
        let id = message.headers().get_raw("Message-ID").unwrap_or_default().to_owned();
        self.accepted.lock().unwrap_or_else(|p| p.into_inner()).push((to, id.clone()));
        Ok(id)
    }
}

impl Scripted {
    fn accepted(&self) -> Vec<(String, String)> {
        self.accepted.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn worker(
    service: &Arc<Service>,
    transport: &Arc<Scripted>,
    clock: &Arc<ManualClock>,
    max_attempts: u32,
) -> Worker {
    let sender = Sender::new("Stembus <stembus@dimpact.example>", "https://stembus.test")
        .unwrap_or_else(|e| panic!("{e}"));
    let transport: Arc<dyn MailTransport> = Arc::clone(transport) as Arc<dyn MailTransport>;
    let clock: Arc<dyn Clock> = Arc::clone(clock) as Arc<dyn Clock>;
    Worker::new(
        Arc::clone(service),
        transport,
        sender,
        clock,
        Settings { max_attempts, ..Settings::default() },
    )
}

both_backends!(a_convocation_is_queued_with_its_event_for_every_member_with_an_address, |db| {
    let service = service(db);
    let (now, seq) = convene(&service);
    let convocations = of_kind(&service, "convocation");
    assert_eq!(convocations.len(), 40, "the forty members all registered an address");
    assert!(convocations.iter().all(|n| n.seq == seq && n.status == Status::Pending && n.created_at == now));
    assert!(convocations.iter().all(|n| n.notice.meeting == Some(meeting()) && n.next_attempt_at == now));
    let members: BTreeSet<_> = convocations.iter().filter_map(|n| n.notice.member).collect();
    assert_eq!(members.len(), 40);
    let reminders = of_kind(&service, "advance_voting_reminder");
    assert_eq!(reminders.len(), 40);
    assert!(
        reminders.iter().all(|n| n.notice.send_after.is_some_and(|s| s > now) && n.next_attempt_at > now)
    );
    // The worker is told.
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap_or_else(|e| panic!("{e}"));
    let signal = service.mail_signal();
    let told = runtime
        .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(1), signal.notified()).await });
    assert!(told.is_ok(), "the mail worker was not notified");
    // Nothing was queued before the convocation: the register's events cause no notices.
    assert_eq!(list(&service, Filter::default()).len(), 80);
});

both_backends!(a_command_whose_notices_cannot_be_queued_fails_whole, |db| {
    let service = service(db);
    let (now, convene) = replay_while(&service, |c| !matches!(c, Command::ConveneMeeting { .. }));
    let convene = convene.unwrap_or_else(|| panic!("no convocation"));
    let refuse = |on: bool| {
        let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
        let sql: &[&str] = match (service.store().backend(), on) {
            (Backend::Sqlite, true) => {
                &["CREATE TRIGGER refuse BEFORE INSERT ON notices BEGIN SELECT RAISE(ABORT, 'refused'); END;"]
            }
            (Backend::Sqlite, false) => &["DROP TRIGGER refuse"],
            (Backend::Postgres, true) => &[
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END; $$ LANGUAGE plpgsql",
                "CREATE TRIGGER refuse BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION refuse()",
            ],
            (Backend::Postgres, false) => &["DROP TRIGGER refuse ON notices", "DROP FUNCTION refuse()"],
        };
        for statement in sql {
            diesel::sql_query(*statement).execute(&mut *conn).unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
    };
    let count_events = || -> i64 {
        let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
        events::table.select(diesel::dsl::count_star()).first(&mut *conn).unwrap_or_else(|e| panic!("{e}"))
    };
    let before = count_events();
    refuse(true);
    let failed = service.execute(dimpact(), convene.clone(), now);
    assert!(matches!(failed, Err(ServiceError::Store(_))), "{failed:?}");
    assert_eq!(count_events(), before, "the convocation was logged without its notices");
    let phase = service.read(dimpact(), |s| s.meetings[&meeting()].phase).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(phase, Phase::Draft, "the state kept an event that did not commit");
    assert!(list(&service, Filter::default()).is_empty());
    refuse(false);
    service.execute(dimpact(), convene, now).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(of_kind(&service, "convocation").len(), 40);
});

both_backends!(the_worker_sends_retries_with_backoff_and_gives_up, |db| {
    let service = service(db);
    let (now, _) = convene(&service);
    let convocations = of_kind(&service, "convocation");
    let greylisted = convocations[0].notice.to.clone();
    let unknown = convocations[1].notice.to.clone();
    let transport = Arc::new(Scripted {
        temporary: BTreeSet::from([greylisted.clone()]),
        permanent: BTreeSet::from([unknown.clone()]),
        ..Scripted::default()
    });
    let clock = Arc::new(ManualClock::new(now));
    let worker = worker(&service, &transport, &clock, 3);

    assert_eq!(worker.run_once(now), 38, "the reminders wait for their day");
    let accepted = transport.accepted();
    assert_eq!(accepted.len(), 38);
    let by_address = |address: &str| -> StoredNotice {
        of_kind(&service, "convocation")
            .into_iter()
            .find(|n| n.notice.to == address)
            .unwrap_or_else(|| panic!("no convocation to {address}"))
    };
    for n in of_kind(&service, "convocation")
        .iter()
        .filter(|n| n.notice.to != greylisted && n.notice.to != unknown)
    {
        assert_eq!(n.status, Status::Sent);
        assert_eq!(n.sent_at, Some(now));
        assert_eq!(n.attempts, 1);
        let id = format!("<{}@stembus.test>", n.id);
        assert_eq!(n.message_id.as_deref(), Some(id.as_str()));
        assert!(accepted.contains(&(n.notice.to.clone(), id)), "the transport did not get {}", n.id);
    }
    let refused = by_address(&unknown);
    assert_eq!((refused.status, refused.attempts), (Status::Failed, 1), "a permanent failure is not retried");
    assert!(refused.last_error.as_deref().is_some_and(|e| e.contains("550")));

    let waiting = by_address(&greylisted);
    assert_eq!((waiting.status, waiting.attempts), (Status::Pending, 1));
    assert_eq!(waiting.next_attempt_at, now + Duration::seconds(30));
    assert_eq!(worker.run_once(now + Duration::seconds(29)), 0, "not before its time");
    assert_eq!(by_address(&greylisted).attempts, 1);
    assert_eq!(worker.run_once(now + Duration::seconds(30)), 0);
    let waiting = by_address(&greylisted);
    assert_eq!((waiting.status, waiting.attempts), (Status::Pending, 2));
    assert_eq!(waiting.next_attempt_at, now + Duration::seconds(30 + 60), "the delay doubles");
    assert_eq!(worker.run_once(now + Duration::seconds(90)), 0);
    let given_up = by_address(&greylisted);
    assert_eq!((given_up.status, given_up.attempts), (Status::Failed, 3), "given up after the last attempt");

    let mut conn = service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    let attempts =
        notices::attempts_of(&mut conn, std::slice::from_ref(&given_up.id)).unwrap_or_else(|e| panic!("{e}"));
    let log = &attempts[&given_up.id];
    assert_eq!(log.iter().map(|a| a.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(log.iter().all(|a| a.result == AttemptResult::TemporaryFailure));
    assert_eq!(
        log.iter().map(|a| a.at).collect::<Vec<_>>(),
        [now, now + Duration::seconds(30), now + Duration::seconds(90)]
    );
    // The attempts are evidence: the database refuses to change or remove them.
    assert!(diesel::delete(notice_attempts::table).execute(&mut *conn).is_err());
    assert!(
        diesel::update(notice_attempts::table)
            .set(notice_attempts::error.eq(None::<String>))
            .execute(&mut *conn)
            .is_err()
    );
    assert!(diesel::delete(stembus::store::schema::notices::table).execute(&mut *conn).is_err());
});

both_backends!(reminders_that_no_longer_apply_are_cancelled_and_the_rest_is_sent, |db| {
    let service = service(db);
    let (end, _) = replay_while(&service, |_| true);
    let transport = Arc::new(Scripted::default());
    let later = end + Duration::days(1);
    let clock = Arc::new(ManualClock::new(later));
    let worker = worker(&service, &transport, &clock, 12);
    let sent = worker.run_once(later);
    let all = list(&service, Filter::default());
    let reminders: Vec<_> =
        all.iter().filter(|n| n.notice.kind.code() == "advance_voting_reminder").collect();
    assert!(!reminders.is_empty());
    assert!(
        reminders.iter().all(|n| n.status == Status::Cancelled && n.attempts == 0),
        "a reminder after the meeting"
    );
    let others: Vec<_> = all.iter().filter(|n| n.notice.kind.code() != "advance_voting_reminder").collect();
    let failed: Vec<_> = others
        .iter()
        .filter(|n| n.status != Status::Sent)
        .map(|n| (n.notice.kind, n.last_error.clone()))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(sent, others.len());
    for kind in ["convocation", "proxy_granted", "ballot_receipt", "outcome"] {
        assert!(others.iter().any(|n| n.notice.kind.code() == kind), "no {kind} notice");
    }
    assert_eq!(transport.accepted().len(), sent);
    assert_eq!(worker.run_once(later), 0, "nothing is sent twice");
});

both_backends!(two_workers_send_each_notice_once, |db| {
    let service = service(db);
    let (now, _) = convene(&service);
    let transport = Arc::new(Scripted::default());
    let clock = Arc::new(ManualClock::new(now));
    let (one, two) = (
        Arc::new(worker(&service, &transport, &clock, 12)),
        Arc::new(worker(&service, &transport, &clock, 12)),
    );
    let threads: Vec<_> =
        [one, two].into_iter().map(|w| std::thread::spawn(move || w.run_once(now))).collect();
    let counts: Vec<usize> =
        threads.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a worker panicked"))).collect();
    assert_eq!(counts.iter().sum::<usize>(), 40, "{counts:?}");
    let ids: BTreeSet<String> = transport.accepted().into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids.len(), 40, "a notice was sent twice");
    assert!(of_kind(&service, "convocation").iter().all(|n| n.status == Status::Sent && n.attempts == 1));
});
