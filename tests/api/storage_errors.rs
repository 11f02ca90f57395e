//! A full disk (docs/reliability.md, "Storage errors"): a write the storage cannot take is
//! refused with `storage.full`, nothing of it stored and no receipt given; intake stays
//! stopped while the disk is full, the service keeps answering, and once there is room again
//! the same signed ballot is accepted and the log verifies.
//!
//! The full disk is simulated on SQLite by capping the database at the pages it holds
//! (`Store::cap_sqlite_size`), which fails a write that needs another page with SQLITE_FULL,
//! the error a full disk gives. PostgreSQL's disk-full error is mapped the same way; that
//! mapping is tested on the error's text, since a full disk cannot be made there without
//! root.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use stembus::core::MeetingId;
use stembus::http::problem::ApiError;
use stembus::ledger::audit::{Options, verify_export};
use stembus::store::{StorageFault, StoreError};

use crate::db::Backend;
use crate::keys::{alv_log_size, ballots, poll_open};
use crate::polls::{email, member, rep};
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop};

const NOT_RECORDED: &str = "nothing of this request was recorded and no receipt was given";

/// The number of events in the association's log.
fn events(app: &TestApp) -> i64 {
    app.service.meeting_log(coop(), MeetingId::named("alv")).map_or(0, |l| l.len() as i64)
}

#[test]
fn a_full_disk_stops_intake_without_a_receipt_and_intake_resumes_when_there_is_room() {
    let app = TestApp::spawn(Backend::Sqlite);
    poll_open(&app);
    let secretariat = app.sign_in(SECRETARIAT);
    let voters: Vec<(String, ed25519_dalek::SigningKey)> = (1..=3)
        .map(|i| {
            let token = app.sign_in(&email(i));
            let key = app.enrol(&token, rep(i));
            (token, key)
        })
        .collect();
    let ballot = |i: usize, choice: &str| {
        app.signed_ballot(&voters[i - 1].1, "alv", "a", &member(i).to_string(), choice)
    };
    let choices = ["for", "against", "abstain"];

    // The disk fills up: ballots are accepted while they fit, then one is refused.
    app.service.store().cap_sqlite_size(Some(0)).unwrap_or_else(|e| panic!("{e}"));
    let mut refused = None;
    for round in 0..300 {
        let i = round % 3 + 1;
        let body = ballot(i, choices[round % 3]);
        let answer = app.post(&ballots("alv", "a"), &voters[i - 1].0, body.clone());
        match answer.0 {
            StatusCode::CREATED => {
                app.verify_receipt(&answer.1["log_receipt"]);
            }
            _ => {
                refused = Some((i, body, answer));
                break;
            }
        }
    }
    let (i, body, answer) = refused.unwrap_or_else(|| panic!("the capped database never filled up"));
    assert_problem(&answer, StatusCode::INSUFFICIENT_STORAGE, "storage.full", None);
    assert!(answer.1["detail"].as_str().is_some_and(|d| d.contains(NOT_RECORDED)), "{}", answer.1);
    assert!(answer.1.get("log_receipt").is_none() && answer.1.get("seq").is_none(), "{}", answer.1);
    let (size, logged) = (alv_log_size(&app, &secretariat), events(&app));
    let state = app.state(Clone::clone);

    // While the disk is full, intake stays stopped: the same ballot sent again and the other
    // voters' ballots are refused alike, and nothing is stored.
    let others: Vec<(usize, Value)> = (1..=3).filter(|j| *j != i).map(|j| (j, ballot(j, "for"))).collect();
    for (j, body) in
        std::iter::once((i, body.clone())).chain(others).chain(std::iter::once((i, body.clone())))
    {
        let again = app.post(&ballots("alv", "a"), &voters[j - 1].0, body);
        assert_problem(&again, StatusCode::INSUFFICIENT_STORAGE, "storage.full", None);
    }
    // The service keeps answering, and what it holds is what the database holds: its state,
    // rebuilt after the failed writes, is the log folded afresh.
    let (status, health) = app.call(Method::GET, "/health", None, None);
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!((alv_log_size(&app, &secretariat), events(&app)), (size, logged));
    let head = app.service.store().connection().map(|mut c| stembus::store::log::head(&mut c, coop()));
    let head = head.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
    let refolded = app.service.state_after(coop(), head).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.state(Clone::clone), refolded, "the service's state is the stored log's");
    assert_eq!(app.state(Clone::clone), state, "the refused ballots left no trace");

    // Room again: the refused ballot, sent unchanged, is accepted once, and the log verifies.
    app.service.store().cap_sqlite_size(None).unwrap_or_else(|e| panic!("{e}"));
    let accepted =
        app.ok(Method::POST, &ballots("alv", "a"), &voters[i - 1].0, Some(body.clone()), StatusCode::CREATED);
    app.verify_receipt(&accepted["log_receipt"]);
    assert_eq!(alv_log_size(&app, &secretariat), size + 1);
    let retried = app.ok(Method::POST, &ballots("alv", "a"), &voters[i - 1].0, Some(body), StatusCode::OK);
    assert_eq!(retried["seq"], accepted["seq"]);
    let export = app
        .client
        .get(app.url("/associations/coop/meetings/alv/export"))
        .bearer_auth(&secretariat)
        .send()
        .and_then(|r| r.bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let report =
        verify_export(&export[..], Options { service_key: Some(app.service_key().to_hex()), strict: false });
    assert!(report.verified, "{:?}", report.failure);
}

/// A database error with `message` and no hint, as diesel reports it.
fn database_error(message: &str) -> StoreError {
    StoreError::Query(diesel::result::Error::DatabaseError(
        diesel::result::DatabaseErrorKind::Unknown,
        Box::new(message.to_owned()),
    ))
}

#[test]
fn disk_full_and_io_errors_of_both_databases_map_to_storage_problems() {
    let full = [
        // SQLite, SQLITE_FULL.
        "database or disk is full",
        // PostgreSQL, SQLSTATE 53100 disk_full, extending a table or writing its WAL.
        "could not extend file \"base/16384/16397\": No space left on device",
        "could not write to file \"pg_wal/xlogtemp.123\": No space left on device",
    ];
    for message in full {
        assert_eq!(database_error(message).storage_fault(), Some(StorageFault::Full), "{message}");
        let e = ApiError::from(database_error(message));
        assert_eq!((e.status.as_u16(), e.problem.code.as_str()), (507, "storage.full"));
        assert!(e.problem.detail.contains(NOT_RECORDED), "{}", e.problem.detail);
    }
    // PostgreSQL's hint on a failed extension, whatever the message's language.
    assert_eq!(
        StorageFault::of_database_error("kon bestand niet uitbreiden", Some("Check free disk space.")),
        Some(StorageFault::Full)
    );
    for message in ["disk I/O error", "could not read block 7 in file \"base/1/2\": Input/output error"] {
        let e = ApiError::from(database_error(message));
        assert_eq!((e.status.as_u16(), e.problem.code.as_str()), (503, "storage.failed"), "{message}");
    }
    // Other errors are not storage faults.
    for message in ["UNIQUE constraint failed: events.seq", "database is locked"] {
        assert_eq!(database_error(message).storage_fault(), None, "{message}");
        assert_ne!(ApiError::from(database_error(message)).problem.code, "storage.full");
    }
}
