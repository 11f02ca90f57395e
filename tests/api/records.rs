//! The minutes, the meeting's log and the chair's live view, over HTTP.

use std::io::Read;

use reqwest::StatusCode;
use serde_json::Value;
use stembus::clock::Clock;
use stembus::core::Command;
use stembus::scenario::Scenario;

use crate::api_test;
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop};

/// Loads the 2022 meeting into the test association through the service, and registers an
/// auditor.
fn meeting_of_2022(app: &TestApp) {
    let scenario = Scenario::from_toml(include_str!("../../scenarios/alv-2022-12-07.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut at = None;
    for step in scenario.step {
        let now = step.at.or(at).unwrap_or_else(|| panic!("no moment"));
        at = Some(now);
        let outcome = app.service.execute_scenario(coop(), step.command, now);
        assert_eq!(outcome.is_ok(), step.expect.is_none(), "{outcome:?}");
    }
}

fn auditor(app: &TestApp) -> String {
    let person = stembus::core::PersonId::named("auditor");
    app.service
        .execute(
            coop(),
            Command::RegisterPerson {
                person,
                name: "Accountant".into(),
                email: "accountant@coop.example".parse().ok(),
                profession: None,
            },
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = app.service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    stembus::store::access::grant_role(&mut conn, coop(), person, "auditor", app.clock.now())
        .unwrap_or_else(|e| panic!("{e}"));
    app.sign_in("accountant@coop.example")
}

const MEETING: &str = "/associations/coop/meetings/alv-2022-12-07";

api_test!(the_minutes_list_the_decisions_and_who_took_part_how_art_17_6, |app| {
    meeting_of_2022(&app);
    let token = app.sign_in("monique-van-esterik@example.org");
    let (status, minutes) = app.get(&format!("{MEETING}/minutes"), &token);
    assert_eq!(status, StatusCode::OK, "{minutes}");
    assert_eq!(minutes["decisions"].as_array().map(Vec::len), Some(3));
    assert_eq!(minutes["decisions"][2]["kind"], "statute_amendment");
    let line = |name: &str| -> Value {
        minutes["attendance"]
            .as_array()
            .and_then(|l| l.iter().find(|a| a["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(line("Gemeente Deventer / DOWR")["took_part"], "proxy_holder");
    assert_eq!(line("Gemeente Deventer / DOWR")["holder"], "Gemeente Raalte");
    assert_eq!(line("Gemeente Westvoorne")["took_part"], "proxy_to");
    assert_eq!(line("Gemeente Rotterdam")["took_part"], "advance_ballot");
    assert_eq!(line("Gemeente Zaanstad")["took_part"], "absent");
    let markdown = app
        .client
        .get(app.url(&format!("{MEETING}/minutes.md")))
        .bearer_auth(&token)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(markdown.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/markdown"));
    let text = markdown.text().unwrap_or_default();
    assert!(
        text.contains("| Gemeente Oldambt | Dhr. E. Wunker (electronically); left at 2022-12-07 19:50 CET |"),
        "{text}"
    );
});

api_test!(auditors_and_the_secretariat_export_the_log_and_voters_do_not, |app| {
    meeting_of_2022(&app);
    let auditor = auditor(&app);
    let (status, events) = app.get(&format!("{MEETING}/events"), &auditor);
    assert_eq!(status, StatusCode::OK);
    let events = events.as_array().cloned().unwrap_or_default();
    assert!(events.len() > 100);
    let indices: Vec<i64> = events.iter().filter_map(|e| e["stream_index"].as_i64()).collect();
    assert_eq!(indices, (0..events.len() as i64).collect::<Vec<_>>());
    let secretariat = app.sign_in(SECRETARIAT);
    assert_eq!(app.get(&format!("{MEETING}/events"), &secretariat).0, StatusCode::OK);
    let voter = app.sign_in("rasker@example.org");
    assert_problem(
        &app.get(&format!("{MEETING}/events"), &voter),
        StatusCode::FORBIDDEN,
        "access.role_required",
        None,
    );
    // The auditor reads but cannot write.
    let write = app.post(
        "/associations/coop/members",
        &auditor,
        serde_json::json!({"name": "X", "kind": "gemeente"}),
    );
    assert_problem(&write, StatusCode::FORBIDDEN, "access.role_required", None);
});

api_test!(the_log_comes_in_pages_that_join_to_the_whole_and_name_the_next, |app| {
    meeting_of_2022(&app);
    let auditor = auditor(&app);
    let (_, whole) = app.get(&format!("{MEETING}/events"), &auditor);
    let whole = whole.as_array().cloned().unwrap_or_default();
    assert!(whole.len() > 100 && whole.len() < 1000, "{} events", whole.len());
    // Pages of 40, followed by their Link headers from the first, join to the whole log; only
    // the last is short.
    let (joined, lengths) = app.pages(&format!("{MEETING}/events?limit=40"), &auditor);
    assert_eq!(joined, whole);
    let (last, full) = lengths.split_last().unwrap_or_else(|| panic!("no page"));
    assert!(full.iter().all(|n| *n == 40) && *last <= 40, "{lengths:?}");
    // From a position: the same events as the whole log from there.
    let (status, tail) = app.get(&format!("{MEETING}/events?from=100&limit=5"), &auditor);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tail.as_array().cloned().unwrap_or_default(), whole[100..105].to_vec());
    // Past the end: an empty page.
    let (status, empty) = app.get(&format!("{MEETING}/events?from=100000"), &auditor);
    assert_eq!((status, empty), (StatusCode::OK, serde_json::json!([])));
    // A page of none, or of more than the most a page holds, is refused.
    for limit in ["0", "10001"] {
        assert_problem(
            &app.get(&format!("{MEETING}/events?limit={limit}"), &auditor),
            StatusCode::BAD_REQUEST,
            "request.invalid_query",
            None,
        );
    }
    assert_problem(
        &app.get(&format!("{MEETING}/events?from=-1"), &auditor),
        StatusCode::BAD_REQUEST,
        "request.invalid_query",
        None,
    );
});

api_test!(nobody_reads_another_associations_meeting, |app| {
    meeting_of_2022(&app);
    let other = app.other_association();
    for path in [
        format!("{MEETING}/minutes"),
        format!("{MEETING}/events"),
        format!("{MEETING}/live"),
        "/associations/coop/members".to_owned(),
    ] {
        assert_problem(&app.get(&path, &other), StatusCode::FORBIDDEN, "access.other_association", None);
    }
});

/// Reads one server-sent event (up to its blank line) from a streaming response.
fn next_event(body: &mut reqwest::blocking::Response) -> String {
    let mut text = String::new();
    let mut byte = [0u8; 1];
    while !text.ends_with("\n\n") {
        match body.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => text.push(byte[0] as char),
            Err(e) => panic!("{e}"),
        }
    }
    text
}

fn data(event: &str) -> Value {
    let line = event
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data in {event:?}"));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

api_test!(the_chair_watches_attendance_and_quorum_arrive_live, |app| {
    // The 2022 meeting up to the moment its chair opens it.
    let scenario = Scenario::from_toml(include_str!("../../scenarios/alv-2022-12-07.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut at = None;
    for step in scenario.step {
        let now = step.at.or(at).unwrap_or_else(|| panic!("no moment"));
        at = Some(now);
        let opening = matches!(step.command, Command::OpenMeeting { .. });
        let _ = app.service.execute_scenario(coop(), step.command, now);
        if opening {
            break;
        }
    }
    app.at("2022-12-07T19:02:00+01:00");
    let chair = app.sign_in("johan-dijkstra@example.org");
    let mut stream = app
        .client
        .get(app.url(&format!("{MEETING}/live")))
        .bearer_auth(&chair)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"].to_str().unwrap_or_default().starts_with("text/event-stream"));
    let first = data(&next_event(&mut stream));
    assert_eq!(first["phase"], "open");
    assert_eq!(first["members_in_office"], 40);
    // 24 of their own, Deventer and Olst-Wijhe through Raalte, Westvoorne through the chair.
    assert_eq!(first["present_or_represented"], 27);
    assert_eq!(first["by_proxy"], 3);
    let amendment = first["motions"]
        .as_array()
        .and_then(|m| m.iter().find(|x| x["kind"] == "statute_amendment"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (amendment["quorum_needed"].as_u64(), amendment["quorum_met_now"].as_bool()),
        (Some(27), Some(true))
    );

    // Oldambt leaves: the next snapshot shows the amendment's quorum lost (without advance ballots).
    app.at("2022-12-07T19:50:00+01:00");
    let (status, body) = app.delete(&format!("{MEETING}/attendance/oldambt"), &chair);
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the chair is no secretariat and does not represent Oldambt: {body}"
    );
    let secretariat = app.sign_in(SECRETARIAT);
    let (status, body) = app.delete(&format!("{MEETING}/attendance/oldambt"), &secretariat);
    assert!(status.is_success(), "{body}");
    let update = next_event(&mut stream);
    assert!(update.starts_with("id: "), "{update}");
    let update = data(&update);
    assert_eq!(update["last_event"], "checked_out");
    assert_eq!(update["present_or_represented"], 26);
    let amendment = update["motions"]
        .as_array()
        .and_then(|m| m.iter().find(|x| x["kind"] == "statute_amendment"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(amendment["quorum_met_now"], false);
});
