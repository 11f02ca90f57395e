//! Delivery through the persisted outbox against a real SMTP server: while the mail server is
//! down the notices wait with their failures recorded and a later next attempt (backoff);
//! when it is back each is delivered exactly once; a restart loses nothing; a refusal for good
//! fails the notice at once and the secretariat sees it; the convocation list and the minutes
//! say per member when its convocation was delivered (Art. 8.3).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::convocations::is_convocation;
use crate::db::Backend;
use crate::mail_test;
use crate::mailapp::*;
use crate::smtp::{Delivered, SmtpServer};
use crate::support::SECRETARIAT;

fn notices(app: &MailApp, token: &str, query: &str) -> Vec<Value> {
    let (status, list) = app.get(&format!("/associations/coop/notices{query}"), token);
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().cloned().unwrap_or_else(|| panic!("not a list: {list}"))
}

fn convocations(app: &MailApp, token: &str) -> Value {
    app.ok(Method::GET, "/associations/coop/meetings/alv/convocations", token, None, StatusCode::OK)
}

/// The line of member `key` in a convocation list.
fn line<'v>(list: &'v Value, key: &str) -> &'v Value {
    let id = member(key).to_string();
    list["members"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["member"] == id.as_str()))
        .unwrap_or_else(|| panic!("no line for {key} in {list}"))
}

fn results(notice: &Value) -> Vec<&str> {
    notice["attempt_log"]
        .as_array()
        .map(|l| l.iter().filter_map(|a| a["result"].as_str()).collect())
        .unwrap_or_default()
}

mail_test!(while_the_mail_server_is_down_notices_wait_and_when_it_is_back_each_is_delivered_once, |app| {
    let mut app = app;
    let sec = convened(&app);
    app.smtp.stop();

    // A sign-in code goes out at once or not at all: while the server is down the person is
    // told so, and may try again, rather than waiting for a code that never comes.
    let (status, body) = app.call(
        Method::POST,
        "/sign-in-links",
        None,
        Some(json!({"association": "coop", "email": SECRETARIAT})),
    );
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "mail.unavailable", "{body}");

    // First attempt at 10:00: the server refuses the connection; each convocation waits,
    // with the failure recorded and the next attempt 30 seconds later.
    assert_eq!(app.deliver(), 0);
    let waiting = notices(&app, &sec, "?kind=convocation");
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    for n in &waiting {
        assert_eq!(n["status"], "pending", "{n}");
        assert_eq!(n["attempts"], 1, "{n}");
        assert_eq!(results(n), vec!["temporary_failure"], "{n}");
        assert_eq!(n["attempt_log"][0]["at"], "2026-03-05T09:00:00Z", "{n}");
        assert_eq!(n["next_attempt_at"], "2026-03-05T09:00:30Z", "{n}");
        assert!(
            n["last_error"].as_str().is_some_and(|e| e.contains(&format!("127.0.0.1:{}", app.smtp.port))),
            "{n}"
        );
        assert!(n["message_id"].as_str().is_some_and(|m| m.starts_with('<')), "the id it will carry: {n}");
        assert!(n["sent_at"].is_null(), "{n}");
    }
    // Not before its time: running again at once tries nothing.
    assert_eq!(app.deliver(), 0);
    assert!(notices(&app, &sec, "?kind=convocation").iter().all(|n| n["attempts"] == 1));

    // The second attempt, 30 s later, fails too; the delay doubles.
    assert_eq!(app.deliver_at("2026-03-05T10:00:30+01:00"), 0);
    for n in notices(&app, &sec, "?kind=convocation") {
        assert_eq!(results(&n), vec!["temporary_failure", "temporary_failure"], "{n}");
        assert_eq!(n["next_attempt_at"], "2026-03-05T09:01:30Z", "{n}");
    }
    let list = convocations(&app, &sec);
    assert_eq!(line(&list, "m1")["status"], "pending", "{list}");
    assert_eq!(list["summary"]["pending"], 3, "{list}");
    assert!(app.notices().is_empty());

    // The server is back; at the next attempt every convocation is delivered.
    app.smtp.resume();
    assert_eq!(app.deliver_at("2026-03-05T10:01:00+01:00"), 0, "not yet due");
    assert_eq!(app.deliver_at("2026-03-05T10:01:30+01:00"), 3);
    let delivered: Vec<Delivered> = app.notices().into_iter().filter(is_convocation).collect();
    assert_eq!(delivered.len(), 3);
    let sent = notices(&app, &sec, "?kind=convocation");
    for n in &sent {
        assert_eq!(n["status"], "sent", "{n}");
        assert_eq!(n["attempts"], 3, "{n}");
        assert_eq!(results(n), vec!["temporary_failure", "temporary_failure", "sent"], "{n}");
        assert_eq!(n["sent_at"], "2026-03-05T09:01:30Z", "{n}");
        assert!(n["next_attempt_at"].is_null(), "{n}");
        // The Message-ID the API shows is the one the member's copy carries.
        let to = n["recipient"].as_str().unwrap_or_default();
        let copy = delivered.iter().find(|m| m.is_for(to)).unwrap_or_else(|| panic!("no copy for {to}"));
        assert_eq!(copy.header("Message-ID").as_deref(), n["message_id"].as_str(), "{n}");
        let ids: BTreeSet<&str> = n["attempt_log"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["message_id"].as_str())
            .collect();
        assert_eq!(ids.len(), 1, "every attempt carries the same Message-ID: {n}");
    }

    // Later runs send nothing again: each was delivered exactly once.
    assert_eq!(app.deliver_at("2026-03-05T12:00:00+01:00"), 0);
    assert_eq!(app.deliver_at("2026-03-06T12:00:00+01:00"), 0);
    let again: Vec<String> =
        app.notices().iter().filter(|m| is_convocation(m)).filter_map(|m| m.header("Message-ID")).collect();
    assert_eq!(again.len(), 3);
    assert_eq!(again.iter().collect::<BTreeSet<_>>().len(), 3, "{again:?}");

    // Delivered on the day of the convocation, in time for the fourteen days (Art. 20.3).
    let sec = app.sign_in(SECRETARIAT);
    let list = convocations(&app, &sec);
    assert_eq!(list["deadline"], "2026-03-05", "{list}");
    assert_eq!(line(&list, "m1")["status"], "sent");
    assert_eq!(line(&list, "m1")["in_time"], true);
    assert_eq!(line(&list, "m1")["attempts"], 3);
    assert_eq!(list["summary"]["sent_in_time"], 3, "{list}");
});

#[test]
fn a_notice_that_keeps_failing_for_now_is_given_up_after_the_last_attempt() {
    let mut app = MailApp::spawn(Backend::Sqlite);
    let sec = convened(&app);
    app.smtp.stop();
    // 30 s, 1 min and 2 min apart: the fourth attempt is the last one allowed.
    for at in ["10:00:00", "10:00:30", "10:01:30", "10:03:30"] {
        assert_eq!(app.deliver_at(&format!("2026-03-05T{at}+01:00")), 0);
    }
    let failed = notices(&app, &sec, "?kind=convocation&status=failed");
    assert_eq!(failed.len(), 3, "{failed:?}");
    for n in &failed {
        assert_eq!(n["attempts"], MAX_ATTEMPTS, "{n}");
        assert_eq!(results(n), vec!["temporary_failure"; 4], "{n}");
        assert!(n["next_attempt_at"].is_null(), "{n}");
    }
    app.smtp.resume();
    assert_eq!(app.deliver_at("2026-03-05T12:00:00+01:00"), 0, "a failed notice is not tried again");
    assert_eq!(convocations(&app, &sec)["summary"]["failed"], 3);
}

mail_test!(notices_pending_at_a_restart_are_delivered_after_it_by_the_running_worker, |app| {
    let mut app = app;
    let sec = convened(&app);
    app.smtp.stop();
    assert_eq!(app.deliver(), 0);
    assert_eq!(notices(&app, &sec, "?status=pending&kind=convocation").len(), 3);

    // The service restarts with its worker running on its own; the server is back.
    let mut app = app.restart_live();
    let before = app.smtp.messages().len();
    app.smtp.resume();
    app.at("2026-03-05T10:05:00+01:00");
    let delivered = app.smtp.wait_for(before + 3).split_off(before);
    assert_eq!(delivered.iter().filter(|m| is_convocation(m)).count(), 3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let sent = loop {
        let sent = notices(&app, &sec, "?kind=convocation&status=sent");
        if sent.len() == 3 || std::time::Instant::now() > deadline {
            break sent;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(sent.len(), 3, "{sent:?}");
    for n in &sent {
        assert_eq!(results(n), vec!["temporary_failure", "sent"], "{n}");
        assert_eq!(n["sent_at"], "2026-03-05T09:05:00Z", "{n}");
    }
    // The running worker sends each once.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(app.notices().iter().filter(|m| is_convocation(m)).count(), 3);
    // A new notice goes at once, without a test stepping the worker.
    let rep2 = app.sign_in(&rep_email(2));
    let key = app.enrol(&rep2, rep(2));
    let before = app.smtp.messages().len();
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/proxies",
        &rep2,
        Some(app.signed_proxy(
            &key,
            "alv",
            json!({"id": "p2", "grantor": "m2", "holder": {"holder": "member", "member": "m1"}}),
        )),
        StatusCode::CREATED,
    );
    let mut confirmations: Vec<String> =
        app.smtp.wait_for(before + 2)[before..].iter().flat_map(|m| m.rcpt_to.clone()).collect();
    confirmations.sort();
    assert_eq!(confirmations, vec!["alv@assen.example", "alv@berkelland.example"]);
});

mail_test!(
    the_convocation_list_and_the_minutes_say_when_each_members_convocation_was_delivered_art_8_3,
    |app| {
        let sec = convened(&app);
        assert_eq!(app.deliver_at("2026-03-05T10:02:00+01:00"), 3);
        let delivered = app.notices();

        let list = convocations(&app, &sec);
        assert_eq!(list["convened_at"], "2026-03-05T09:00:00Z", "{list}");
        assert_eq!(
            (list["notice_days"].as_u64(), list["special"].as_bool()),
            (Some(14), Some(true)),
            "{list}"
        );
        assert_eq!(list["article"], "20.3", "{list}");
        for (key, _, address, _) in MEMBERS {
            let l = line(&list, key);
            match address {
                Some(address) => {
                    assert_eq!(l["status"], "sent", "{l}");
                    assert_eq!(l["address"], address, "{l}");
                    assert_eq!(l["sent_at"], "2026-03-05T09:02:00Z", "{l}");
                    assert_eq!(
                        (l["in_time"].as_bool(), l["sent_on_convocation_day"].as_bool()),
                        (Some(true), Some(true))
                    );
                    let copy =
                        delivered.iter().find(|m| m.is_for(address)).unwrap_or_else(|| panic!("{address}"));
                    assert_eq!(copy.header("Message-ID").as_deref(), l["message_id"].as_str(), "{l}");
                }
                None => {
                    assert_eq!(l["status"], "no_address", "{l}");
                    assert!(l["sent_at"].is_null(), "{l}");
                }
            }
        }
        assert_eq!(list["summary"]["members"], 4, "{list}");
        assert_eq!(
            (list["summary"]["sent"].as_u64(), list["summary"]["without_notice"].as_u64()),
            (Some(3), Some(1))
        );

        // Only the secretariat and auditors see the addresses and the mail.
        let rep1 = app.sign_in(&rep_email(1));
        for path in ["/associations/coop/notices", "/associations/coop/meetings/alv/convocations"] {
            let refused = app.get(path, &rep1);
            crate::support::assert_problem(&refused, StatusCode::FORBIDDEN, "access.role_required", None);
        }

        // The minutes carry the same section, without the addresses.
        let minutes =
            app.ok(Method::GET, "/associations/coop/meetings/alv/minutes", &sec, None, StatusCode::OK);
        let section = &minutes["convocations"];
        assert_eq!(line(section, "m1")["sent_at"], "2026-03-05T09:02:00Z", "{section}");
        assert!(line(section, "m1").get("address").is_none(), "no addresses in the minutes: {section}");
        assert!(!minutes.to_string().contains("assen.example"), "{minutes}");

        let response = app
            .client
            .get(app.url("/associations/coop/meetings/alv/minutes.md"))
            .bearer_auth(&sec)
            .send()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), StatusCode::OK);
        let markdown = response.text().unwrap_or_default();
        let (_, section) =
            markdown.split_once("## Oproeping / Convocation").unwrap_or_else(|| panic!("{markdown}"));
        let assen = section
            .lines()
            .find(|l| l.starts_with("| Gemeente Assen |"))
            .unwrap_or_else(|| panic!("{markdown}"));
        let message_id = line(&list, "m1")["message_id"].as_str().unwrap_or_default().to_owned();
        assert!(
            assen.contains("2026-03-05")
                && assen.contains("10:02")
                && assen.contains("| yes |")
                && assen.contains(&message_id),
            "{assen}"
        );
        let dalfsen = section
            .lines()
            .find(|l| l.starts_with("| Gemeente Dalfsen |"))
            .unwrap_or_else(|| panic!("{markdown}"));
        assert!(dalfsen.contains("no address"), "{dalfsen}");
        assert!(!markdown.contains("assen.example"), "{markdown}");
    }
);

/// Berkelland's mail server does not know its address (550), Capelle's greylists (451).
fn refused(backend: Backend) {
    let app =
        MailApp::spawn_with(backend, SmtpServer::start_with("refusing.Refusing", Some(&handlers_dir())));
    let sec = register(&app);
    for (key, address) in [("m2", "unknown@berkelland.example"), ("m3", "greylisted@capelle.example")] {
        app.ok(
            Method::PUT,
            &format!("/associations/coop/members/{key}/email"),
            &sec,
            Some(json!({"email": address})),
            StatusCode::OK,
        );
    }
    let sec = draft_and_convene(&app, &sec);
    assert_eq!(app.deliver(), 1);
    let delivered: Vec<Delivered> = app.notices().into_iter().filter(is_convocation).collect();
    assert_eq!(
        delivered.iter().flat_map(|m| m.rcpt_to.clone()).collect::<Vec<_>>(),
        vec!["alv@assen.example"]
    );

    // Refused for good: failed at the first attempt, with the server's answer.
    let failed = notices(&app, &sec, "?status=failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let n = &failed[0];
    assert_eq!(
        (n["kind"].as_str(), n["recipient"].as_str()),
        (Some("convocation"), Some("unknown@berkelland.example"))
    );
    assert_eq!(n["member"], member("m2").to_string());
    assert_eq!(results(n), vec!["permanent_failure"], "{n}");
    assert!(n["last_error"].as_str().is_some_and(|e| e.contains("550")), "{n}");
    assert!(n["next_attempt_at"].is_null() && n["sent_at"].is_null(), "{n}");

    // Refused for now: waiting for its next attempt.
    let pending = notices(&app, &sec, "?status=pending&kind=convocation");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["recipient"], "greylisted@capelle.example");
    assert_eq!(results(&pending[0]), vec!["temporary_failure"], "{}", pending[0]);
    assert!(pending[0]["last_error"].as_str().is_some_and(|e| e.contains("451")), "{}", pending[0]);
    assert_eq!(pending[0]["next_attempt_at"], "2026-03-05T09:00:30Z");

    // The convocation list says the same per member.
    let list = convocations(&app, &sec);
    assert_eq!(line(&list, "m1")["status"], "sent");
    assert_eq!(line(&list, "m2")["status"], "failed");
    assert!(line(&list, "m2")["last_error"].as_str().is_some_and(|e| e.contains("550")), "{list}");
    assert_eq!(line(&list, "m3")["status"], "pending");
    assert_eq!(list["summary"]["failed"], 1, "{list}");

    // A failed notice is not tried again; the greylisted one is, and fails for now again.
    app.deliver_at("2026-03-05T10:05:00+01:00");
    let failed = notices(&app, &sec, "?status=failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 1, "{}", failed[0]);
    let pending = notices(&app, &sec, "?status=pending&kind=convocation");
    assert_eq!(results(&pending[0]), vec!["temporary_failure", "temporary_failure"], "{}", pending[0]);
}

mod an_address_the_server_refuses_fails_the_notice_at_once_and_the_secretariat_sees_it {
    use super::*;

    #[test]
    fn sqlite() {
        refused(Backend::Sqlite);
    }

    #[test]
    fn postgres() {
        refused(Backend::Postgres);
    }
}

#[test]
fn a_convocation_delivered_after_the_last_lawful_day_is_shown_late_art_20_3() {
    let mut app = MailApp::spawn(Backend::Sqlite);
    convened(&app);
    app.smtp.stop();
    assert_eq!(app.deliver(), 0);
    // The mail server is back only the next morning: past the last day for fourteen days.
    app.smtp.resume();
    assert_eq!(app.deliver_at("2026-03-06T08:00:00+01:00"), 3);
    let sec = app.sign_in(SECRETARIAT);
    let list = convocations(&app, &sec);
    let l = line(&list, "m1");
    assert_eq!(l["sent_at"], "2026-03-06T07:00:00Z", "{l}");
    assert_eq!(
        (l["in_time"].as_bool(), l["sent_on_convocation_day"].as_bool()),
        (Some(false), Some(false)),
        "{l}"
    );
    assert_eq!(
        (list["summary"]["sent"].as_u64(), list["summary"]["sent_in_time"].as_u64()),
        (Some(3), Some(0))
    );
}

mail_test!(the_secretariat_reads_the_notices_a_page_at_a_time_with_its_filters_kept, |app| {
    let sec = convened(&app);
    let all = notices(&app, &sec, "");
    let convocations = notices(&app, &sec, "?kind=convocation");
    assert_eq!(convocations.len(), 3);
    assert!(all.len() > convocations.len(), "{all:?}");
    // Pages of one, followed by their links, give the whole list in its order.
    let (items, lengths) = app.pages("/associations/coop/notices?limit=1", &sec);
    assert_eq!(items, all);
    assert!(lengths.iter().all(|n| *n <= 1));
    // A filter holds on every page: the link names it again.
    let (items, lengths) = app.pages("/associations/coop/notices?kind=convocation&limit=2", &sec);
    assert_eq!(items, convocations);
    assert_eq!(lengths, vec![2, 1], "a full page names the next; the short one is the last");
    // An unknown notice to start after, or a page of none or of more than 10,000: refused.
    for query in ["?after=nonesuch", "?limit=0", "?limit=10001"] {
        let (status, body) = app.get(&format!("/associations/coop/notices{query}"), &sec);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["code"], "request.invalid_query", "{body}");
    }
});

mail_test!(two_workers_on_one_database_deliver_each_notice_once, |app| {
    use std::sync::{Arc, Barrier};

    use stembus::clock::Clock;
    use stembus::mail::transport::{MailTransport, Sender, SmtpMailTransport};
    use stembus::mail::worker::{Settings, Worker};
    use stembus::service::Service;

    convened(&app);
    // A second instance of the service on the same database, with its own worker.
    let store = stembus::store::Store::open(&app.db.url).unwrap_or_else(|e| panic!("{e}"));
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let other = Arc::new(Service::new(store, key).with_public_url("http://127.0.0.1"));
    let transport: Arc<dyn MailTransport> =
        Arc::new(SmtpMailTransport::from_url(&app.smtp.url(), "127.0.0.1").unwrap_or_else(|e| panic!("{e}")));
    let sender =
        Sender::new("Stembus <stembus@coop.example>", "http://127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
    let clock: Arc<dyn Clock> = Arc::clone(&app.clock) as Arc<dyn Clock>;
    let second = Arc::new(Worker::new(other, transport, sender, clock, Settings::default()));

    let now = app.clock.now();
    let barrier = Arc::new(Barrier::new(2));
    let (first, b) = (Arc::clone(&app.worker), Arc::clone(&barrier));
    let one = std::thread::spawn(move || {
        b.wait();
        first.run_once(now)
    });
    let (w, b) = (Arc::clone(&second), Arc::clone(&barrier));
    let two = std::thread::spawn(move || {
        b.wait();
        w.run_once(now)
    });
    let sent = one.join().unwrap_or_else(|_| panic!("worker one"))
        + two.join().unwrap_or_else(|_| panic!("worker two"));
    // Whatever one of them left (a busy database), a later run sends; nothing goes twice.
    let sent = sent + app.deliver();
    assert_eq!(sent, 3);
    let delivered: Vec<Delivered> = app.notices().into_iter().filter(is_convocation).collect();
    assert_eq!(delivered.len(), 3, "{:?}", delivered.iter().map(|m| m.rcpt_to.clone()).collect::<Vec<_>>());
    let sec = app.sign_in(SECRETARIAT);
    for n in notices(&app, &sec, "?kind=convocation") {
        assert_eq!((n["status"].as_str(), n["attempts"].as_u64()), (Some("sent"), Some(1)), "{n}");
    }
});

#[test]
fn a_suspended_member_is_not_convened_to_a_meeting_that_does_not_treat_its_case_art_8_8() {
    let app = MailApp::spawn(Backend::Sqlite);
    let sec = register(&app);
    app.ok(Method::POST, "/associations/coop/members/m2/suspension", &sec, None, StatusCode::OK);
    let sec = draft_and_convene(&app, &sec);
    assert_eq!(app.deliver(), 2);
    assert!(app.notices_for("alv@berkelland.example").is_empty());
    let list = convocations(&app, &sec);
    assert_eq!(line(&list, "m2")["status"], "suspended", "{list}");
    assert_eq!(list["summary"]["without_notice"], 2, "{list}");
}
