//! The chair's and the secretariat's pages over HTTP: who may see them, forms refused without
//! the session's CSRF token or with bad input (and nothing changed), the convocation deadline,
//! a paper proxy with its scan (kept only when the proxy is accepted), attendance at the door.
//! The browser test (`tests/e2e.rs`) drives the same pages through a whole meeting.

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use stembus::config::Config;
use stembus::core::MeetingId;

use crate::browser::{Browser, csrf_of, signed_in};
use crate::db::Backend;
use crate::support::{SECRETARIAT, TestApp, coop};

const RVC: &str = "rvc@coop.example";
const REP1: &str = "rep1@coop.example";

/// A server whose scans of paper proxies go to a directory of the test's own.
fn app_with_scans() -> (TestApp, PathBuf) {
    let scans = std::env::temp_dir().join(format!("stembus-scans-{}-{}", std::process::id(), rand_suffix()));
    let dir = scans.clone();
    let app = TestApp::spawn_tuned(
        Backend::Sqlite,
        "2026-03-01T09:00:00+01:00",
        Arc::new(move |c: &mut Config| c.scan_dir = dir.clone()),
    );
    (app, scans)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Members m1 and m2 (represented by rep-m1 and rep-m2), the chair of the supervisory board
/// `rvc`, and the meeting `alv` of 20 March 2026 with a motion on the accounts, drafted on
/// 1 March and not convened.
fn drafted(app: &TestApp) {
    let sec = app.sign_in(SECRETARIAT);
    app.register_represented(&sec, 2);
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &sec,
        Some(json!({"id": "rvc", "name": "Voorzitter RvC", "email": RVC})),
        StatusCode::CREATED,
    );
    app.ok(
        Method::PUT,
        "/associations/coop/supervisory-board",
        &sec,
        Some(json!({"chair": "rvc"})),
        StatusCode::NO_CONTENT,
    );
    app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(json!({
            "id": "alv",
            "title": "Algemene ledenvergadering",
            "starts_at": "2026-03-20T19:00:00+01:00",
            "place": "Stadhuis, Raadzaal",
            "agenda": [{"id": "accounts", "title": "Jaarrekening 2025",
                        "motion": {"text": "De ALV stelt de jaarrekening 2025 vast.", "kind": "ordinary"}}]
        })),
        StatusCode::CREATED,
    );
}

fn meeting() -> String {
    MeetingId::named("alv").to_string()
}

fn secretariat_path(tail: &str) -> String {
    format!("/{}/secretariat/meetings/{}{tail}", coop(), meeting())
}

fn chair_path(tail: &str) -> String {
    format!("/{}/chair/meetings/{}{tail}", coop(), meeting())
}

fn phase(app: &TestApp) -> String {
    let sec = app.sign_in(SECRETARIAT);
    let (_, view) = app.get("/associations/coop/meetings/alv", &sec);
    view["phase"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_convocation_page_names_the_last_day_and_a_late_convocation_is_refused_with_the_earliest_date_art_8_3()
{
    let (app, _) = app_with_scans();
    drafted(&app);
    // 20 March: the convocation goes out on 9 March at the latest.
    app.at("2026-03-10T09:00:00+01:00");
    let mut sec = signed_in(&app, SECRETARIAT);
    let page = sec.get(&secretariat_path(""));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("uiterlijk 2026-03-09").shows("te laat").shows("art. 8.3");
    let csrf = csrf_of(&page);
    let refused = sec.post_form(&secretariat_path("/convocation"), &[("csrf", &csrf), ("convener", "board")]);
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    refused.shows("role=\"alert\"").shows("R3").shows("2026-03-21");
    assert_eq!(phase(&app), "draft");

    // In time, it goes out.
    app.at("2026-03-09T09:00:00+01:00");
    let page = sec.get(&secretariat_path(""));
    page.shows("op tijd");
    let sent = sec.post_form(
        &secretariat_path("/convocation"),
        &[("csrf", &csrf), ("convener", "board"), ("advance_voting", "yes")],
    );
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(phase(&app), "convened");
    sec.get(&secretariat_path("")).shows("Bijeengeroepen op 2026-03-09");
}

#[test]
fn the_chairs_page_is_for_the_chair_of_the_supervisory_board_and_the_secretariat_art_8_4() {
    let (app, _) = app_with_scans();
    drafted(&app);
    let sec_token = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec_token,
        Some(json!({})),
        StatusCode::OK,
    );

    let mut voter = signed_in(&app, REP1);
    let refused = voter.get(&chair_path(""));
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    refused.shows("access.not_chair");
    let refused = voter.get(&secretariat_path("/attendance"));
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    refused.shows("access.role_required");

    let mut sec = signed_in(&app, SECRETARIAT);
    let page = sec.get(&chair_path(""));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.lacks("id=\"open-meeting\"");

    let mut rvc = signed_in(&app, RVC);
    let page = rvc.get(&chair_path(""));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("id=\"open-meeting\"").shows("data-events=\"/api/v1/associations/");

    // Not on another day than the meeting's: the core refuses, the page names the rule.
    let csrf = csrf_of(&page);
    let early = rvc.post_form(&chair_path("/opening"), &[("csrf", &csrf)]);
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.body);
    early.shows("role=\"alert\"").shows("id=\"error-rule\"");
    // On the day, after signing in again: a form without the session's token changes nothing.
    app.at("2026-03-20T19:00:00+01:00");
    let mut rvc = signed_in(&app, RVC);
    let csrf = csrf_of(&rvc.get(&chair_path("")));
    let forged = rvc.post_form(&chair_path("/opening"), &[("csrf", "not-the-token")]);
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    forged.shows("access.csrf");
    assert_eq!(phase(&app), "convened");
    let opened = rvc.post_form(&chair_path("/opening"), &[("csrf", &csrf)]);
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    assert_eq!(phase(&app), "open");
    let page = rvc.get(&chair_path(""));
    page.shows("Voorzitter RvC").shows("id=\"close-meeting\"");
    // The live part alone, for the script.
    let live = rvc.get(&chair_path("/live"));
    assert_eq!(live.status, StatusCode::OK, "{}", live.body);
    live.shows("id=\"present-total\"").lacks("<html");
}

#[test]
fn a_poll_by_voice_needs_whole_counts_and_its_result_names_the_rule() {
    let (app, _) = app_with_scans();
    drafted(&app);
    let sec_token = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec_token,
        Some(json!({})),
        StatusCode::OK,
    );
    app.at("2026-03-20T19:00:00+01:00");
    let mut rvc = signed_in(&app, RVC);
    let page = rvc.get(&chair_path(""));
    let csrf = csrf_of(&page);
    assert_eq!(rvc.post_form(&chair_path("/opening"), &[("csrf", &csrf)]).status, StatusCode::SEE_OTHER);
    // Both members at the door.
    let mut sec = signed_in(&app, SECRETARIAT);
    let door = sec.get(&secretariat_path("/attendance"));
    let sec_csrf = csrf_of(&door);
    for i in 1..=2 {
        let member = stembus::core::MemberId::named(&format!("m{i}")).to_string();
        let person = stembus::core::PersonId::named(&format!("rep-m{i}")).to_string();
        let arrived = sec.post_form(
            &secretariat_path("/attendance"),
            &[("csrf", &sec_csrf), ("member", &member), ("person", &person), ("mode", "in_person")],
        );
        assert_eq!(arrived.status, StatusCode::SEE_OTHER, "{}", arrived.body);
    }
    sec.get(&secretariat_path("/attendance")).shows("Nu aanwezig: 2.");
    // A form that names no member is refused before anything is done.
    let wrong = sec.post_form(
        &secretariat_path("/attendance"),
        &[("csrf", &sec_csrf), ("member", ""), ("person", "x"), ("mode", "in_person")],
    );
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    wrong.shows("form.missing");

    let item = stembus::core::AgendaItemId::named("accounts").to_string();
    let opened =
        rvc.post_form(&chair_path("/polls"), &[("csrf", &csrf), ("item", &item), ("method", "voice")]);
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    let page = rvc.get(&chair_path(""));
    let poll = page
        .attribute_after("class=\"poll\"", "id")
        .and_then(|id| id.strip_prefix("poll-").map(str::to_owned))
        .unwrap_or_else(|| panic!("no poll on the page:\n{}", page.body));
    let bad = rvc.post_form(
        &chair_path(&format!("/polls/{poll}/closing")),
        &[("csrf", &csrf), ("for", "-1"), ("against", "0"), ("abstain", "0")],
    );
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    bad.shows("form.count");
    rvc.get(&chair_path("")).shows("De stemming is open");
    let closed = rvc.post_form(
        &chair_path(&format!("/polls/{poll}/closing")),
        &[("csrf", &csrf), ("for", "1"), ("against", "1"), ("abstain", "0")],
    );
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    // A tie is rejected (Art. 17.3).
    rvc.get(&chair_path(""))
        .shows("Meer dan de helft van de uitgebrachte stemmen nodig: 1 van de 2 uitgebrachte stemmen voor — verworpen")
        .shows("regel R7");
    // A declaration without the chair's signature is refused (R8), and nothing is declared.
    let unsigned = rvc.post_form(
        &chair_path(&format!("/polls/{poll}/declaration")),
        &[("csrf", &csrf), ("outcome", "rejected")],
    );
    assert_eq!(unsigned.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unsigned.body);
    unsigned.shows("R8");
    rvc.get(&chair_path("")).lacks("Vastgesteld:");
}

/// A `multipart/form-data` body as a browser sends it.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "----stembus-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"scan\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn post_multipart(browser: &Browser, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, String) {
    let cookies = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let response = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .and_then(|c| {
            c.post(format!("{}{path}", browser.app.address))
                .header("cookie", cookies)
                .header("content-type", content_type)
                .body(body)
                .send()
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status();
    (status, response.text().unwrap_or_default())
}

#[test]
fn a_paper_proxy_is_recorded_with_its_scan_and_a_refused_one_leaves_no_scan_art_8_5() {
    let (app, scans) = app_with_scans();
    drafted(&app);
    let sec_token = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec_token,
        Some(json!({})),
        StatusCode::OK,
    );
    let mut sec = signed_in(&app, SECRETARIAT);
    let page = sec.get(&secretariat_path("/proxies"));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = csrf_of(&page);
    let m1 = stembus::core::MemberId::named("m1").to_string();
    let m2 = stembus::core::MemberId::named("m2").to_string();
    let scan = b"%PDF-1.4 volmacht m2 aan m1";

    // Without the scan: refused, nothing recorded.
    let (ct, body) =
        multipart(&[("csrf", &csrf), ("grantor", &m2), ("holder", &format!("member:{m1}"))], None);
    let (status, text) = post_multipart(&sec, &secretariat_path("/proxies"), &ct, body);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("form.scan_missing"), "{text}");
    // Without the session's token: refused.
    let (ct, body) = multipart(
        &[("csrf", "forged"), ("grantor", &m2), ("holder", &format!("member:{m1}"))],
        Some(("v.pdf", scan)),
    );
    let (status, text) = post_multipart(&sec, &secretariat_path("/proxies"), &ct, body);
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    // To itself: the core refuses (R2), and the scan is not kept.
    let (ct, body) = multipart(
        &[("csrf", &csrf), ("grantor", &m2), ("holder", &format!("member:{m2}"))],
        Some(("v.pdf", scan)),
    );
    let (status, text) = post_multipart(&sec, &secretariat_path("/proxies"), &ct, body);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(text.contains("role=\"alert\"") && text.contains("id=\"error-rule\""), "{text}");
    let kept = |dir: &PathBuf| {
        std::fs::read_dir(dir.join(coop().to_string())).map(|d| d.filter_map(Result::ok).count()).unwrap_or(0)
    };
    assert_eq!(kept(&scans), 0, "a refused proxy left a file behind");

    // The real one: recorded on paper, the scan kept under its SHA-256 and served back.
    let (ct, body) = multipart(
        &[("csrf", &csrf), ("grantor", &m2), ("holder", &format!("member:{m1}"))],
        Some(("C:\\scans\\volmacht m2.pdf", scan)),
    );
    let (status, text) = post_multipart(&sec, &secretariat_path("/proxies"), &ct, body);
    assert_eq!(status, StatusCode::SEE_OTHER, "{text}");
    let sha: String = Sha256::digest(scan).iter().map(|b| format!("{b:02x}")).collect();
    let page = sec.get(&secretariat_path("/proxies"));
    page.shows(&sha).shows("op papier").shows("volmacht m2.pdf");
    let (_, proxies) = app.get("/associations/coop/meetings/alv/proxies", &sec_token);
    let proxy = proxies[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(proxies[0]["form"], "paper", "{proxies}");
    // The log holds the scan's SHA-256: an auditor shown the scan can check it against the
    // signed log, not only against the service's record.
    assert_eq!(proxies[0]["scan_sha256"], sha.as_str(), "{proxies}");
    let logged = app
        .service
        .meeting_log(coop(), stembus::core::MeetingId::named("alv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let granted = logged
        .iter()
        .find(|l| matches!(l.event.fact, stembus::core::Fact::ProxyGranted { .. }))
        .unwrap_or_else(|| panic!("no proxy in the log"));
    assert!(granted.body.contains(&format!("\"scan_sha256\":\"{sha}\"")), "{}", granted.body);
    // The auditor's replay rebuilds the proxy with its scan's hash: the export verifies.
    let mut export = Vec::new();
    app.service
        .export(
            coop(),
            stembus::core::MeetingId::named("alv"),
            stembus::clock::Clock::now(&*app.clock),
            &mut export,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let report = stembus::ledger::audit::verify_export(export.as_slice(), Default::default());
    assert!(report.verified, "{:?}", report.failure);
    let served = sec.get(&secretariat_path(&format!("/proxies/{proxy}/scan")));
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.body.as_bytes(), scan);
    assert!(scans.join(coop().to_string()).join(&sha).is_file());
    let _ = std::fs::remove_dir_all(&scans);
}

#[test]
fn the_secretariat_registers_a_member_and_its_representative_and_a_bad_address_registers_nothing_art_8_3() {
    let (app, _) = app_with_scans();
    let mut sec = signed_in(&app, SECRETARIAT);
    let path = format!("/{}/secretariat/members", coop());
    let page = sec.get(&path);
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = csrf_of(&page);
    let bad = sec.post_form(
        &path,
        &[("csrf", &csrf), ("name", "Gemeente Almelo"), ("kind", "gemeente"), ("email", "geen adres")],
    );
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    bad.shows("form.email");
    let bad = sec.post_form(&path, &[("csrf", &csrf), ("name", "Gemeente Almelo"), ("kind", "stadstaat")]);
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    bad.shows("form.member_kind");
    let forged =
        sec.post_form(&path, &[("csrf", "forged"), ("name", "Gemeente Almelo"), ("kind", "gemeente")]);
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    sec.get(&path).lacks("Gemeente Almelo");

    let added = sec.post_form(
        &path,
        &[
            ("csrf", &csrf),
            ("name", "Gemeente Almelo"),
            ("kind", "gemeente"),
            ("email", "alv@almelo.example"),
        ],
    );
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let added = sec.post_form(
        &format!("/{}/secretariat/persons", coop()),
        &[
            ("csrf", &csrf),
            ("name", "Wethouder De Vries"),
            ("email", "devries@almelo.example"),
            ("profession", "none"),
        ],
    );
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = sec.get(&path);
    let option = |label: &str| {
        page.body
            .split("<option value=\"")
            .find_map(|rest| {
                let (value, after) = rest.split_once('"')?;
                after.starts_with(&format!(">{label}<")).then(|| value.to_owned())
            })
            .unwrap_or_else(|| panic!("no option {label}:\n{}", page.body))
    };
    let (person, member) = (option("Wethouder De Vries"), option("Gemeente Almelo"));
    let assigned = sec.post_form(
        &format!("/{}/secretariat/representations", coop()),
        &[("csrf", &csrf), ("person", &person), ("member", &member), ("capacity", "portfolio_holder")],
    );
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.body);
    sec.get(&path).shows("Wethouder De Vries (portefeuillehouder)").shows("alv@almelo.example");
    let token = app.sign_in(SECRETARIAT);
    let (_, members) = app.get("/associations/coop/members", &token);
    assert!(members.to_string().contains("Gemeente Almelo"), "{members}");
}
