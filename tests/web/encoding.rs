//! The browser's encoder and verifiers (`static/encoding.js`), run by Node.js: against the
//! repository's vectors, and against a real receipt and real heads of this service.

use std::path::PathBuf;
use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::json;
use stembus::core::{MeetingId, PersonId};

use crate::db::Backend;
use crate::support::TestApp;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `node SCRIPT ARGS…`; returns its standard output, or fails with what it printed.
#[track_caller]
fn node(script: &str, args: &[&str]) -> String {
    let output = Command::new("node")
        .arg(repository().join(script))
        .args(args)
        .current_dir(repository())
        .output()
        .unwrap_or_else(|e| {
            panic!("Node.js is needed for the browser's encoder tests (`apt-get install nodejs`): {e}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn the_browsers_encoder_reproduces_every_vector() {
    let out = node("tests/web/encoding.test.mjs", &[]);
    // 12 statements, and every RFC 6962 vector of the repository.
    assert!(out.contains("statements 12,"), "{out}");
    assert!(out.contains("failures 0"), "{out}");
    let counts: Vec<u64> = out
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    assert!(counts.len() >= 4 && counts[1] > 50 && counts[2] > 50, "{out}");
}

#[test]
fn the_browser_checks_a_real_receipt_and_the_heads_that_follow() {
    let app = TestApp::spawn(Backend::Sqlite);
    let sec = app.sign_in(crate::support::SECRETARIAT);
    for i in 1..=2 {
        app.ok(
            Method::POST,
            "/associations/coop/members",
            &sec,
            Some(json!({"id": format!("m{i}"), "name": format!("Gemeente M{i}"), "kind": "gemeente"})),
            StatusCode::CREATED,
        );
        app.ok(Method::POST, "/associations/coop/persons", &sec,
            Some(json!({"id": format!("rep-m{i}"), "name": format!("Wethouder M{i}"), "email": format!("rep{i}@coop.example")})),
            StatusCode::CREATED);
        app.ok(
            Method::POST,
            &format!("/associations/coop/persons/rep-m{i}/representations"),
            &sec,
            Some(json!({"member": format!("m{i}"), "capacity": "portfolio_holder"})),
            StatusCode::CREATED,
        );
    }
    app.ok(Method::POST, "/associations/coop/meetings", &sec, Some(json!({
        "id": "alv", "title": "ALV", "starts_at": "2026-03-20T19:00:00+01:00", "place": "Stadhuis",
        "agenda": [{"id": "accounts", "title": "Jaarrekening", "motion": {"text": "Vastgesteld.", "kind": "ordinary"}}]
    })), StatusCode::CREATED);
    app.at("2026-03-05T10:00:00.123456+01:00");
    let sec = app.sign_in(crate::support::SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec,
        Some(json!({"advance_voting": true})),
        StatusCode::OK,
    );
    let token = app.sign_in("rep1@coop.example");
    let key = app.signer(&token, PersonId::named("rep-m1"));
    let body = app.signed_ballot(&key, "alv", "accounts", "m1", "for");
    let (status, cast) =
        app.post("/associations/coop/meetings/alv/agenda-items/accounts/ballots", &token, body.clone());
    assert_eq!(status, StatusCode::CREATED, "{cast}");
    // The log grows after the receipt: a second member's ballot.
    app.at("2026-03-06T11:00:00.000001+01:00");
    let token2 = app.sign_in("rep2@coop.example");
    let key2 = app.signer(&token2, PersonId::named("rep-m2"));
    let body2 = app.signed_ballot(&key2, "alv", "accounts", "m2", "against");
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/agenda-items/accounts/ballots",
        &token2,
        Some(body2),
        StatusCode::CREATED,
    );

    let meeting = MeetingId::named("alv");
    let base = format!("/associations/coop/meetings/{meeting}/log");
    // The first voter's session may have expired meanwhile; the second's reads the log.
    let token = token2;
    let (_, latest) = app.get(&format!("{base}/head"), &token);
    let receipt = &cast["log_receipt"];
    let from = receipt["tree_head"]["size"].as_u64().unwrap_or_default();
    let to = latest["size"].as_u64().unwrap_or_default();
    assert!(to > from, "the log grew: {from} → {to}: {latest}");
    let (_, consistency) = app.get(&format!("{base}/consistency?from={from}&to={to}"), &token);
    let (_, fresh) = app.get(&format!("{base}/entries/{}/receipt", receipt["leaf_index"]), &token);
    let (_, service_key) = app.call(Method::GET, "/service-key", None, None);
    let case = json!({
        "service_key": service_key["public_key"],
        "receipt": receipt,
        "latest": latest,
        "consistency": consistency,
        "fresh": fresh,
    });
    let file = std::env::temp_dir().join(format!("stembus-web-receipt-{}.json", std::process::id()));
    std::fs::write(&file, case.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let out = node("tests/web/receipt.test.mjs", &[&file.display().to_string()]);
    let _ = std::fs::remove_file(&file);
    assert!(out.contains("receipt checks 7, failures 0"), "{out}");
}
