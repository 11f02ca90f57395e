//! The export of a meeting's log over HTTP (`GET …/meetings/{m}/export`, format
//! `stembus-export` v1), downloaded as an auditor downloads it and verified offline with
//! `stembus::ledger::audit::verify_export` (R8, Art. 17.6).
//!
//! The meetings are held over HTTP, each request made by the person who would make it: the
//! secretariat keeps the register and convenes, voters check in and cast signed ballots, the
//! chair opens, closes the poll and signs the declaration.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::Clock;
use stembus::core::{MeetingId, PersonId};
use stembus::ledger::audit::{Check, Options, Report, verify_export};
use stembus::ledger::export::{Entry, Header, Line};
use stembus::store::log::ASSOCIATION_STREAM;

use crate::api_test;
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop};

const MEETING: &str = "/associations/coop/meetings/alv";
/// Another meeting of the same association, with entries of its own before and after `alv`'s.
const OTHER_MEETING: &str = "/associations/coop/meetings/najaar";
const CHAIR: &str = "chair@coop.example";
const AUDITOR: &str = "accountant@coop.example";

fn voter(i: usize) -> String {
    format!("p{i}@coop.example")
}

fn alv() -> MeetingId {
    MeetingId::named("alv")
}

fn najaar() -> MeetingId {
    MeetingId::named("najaar")
}

/// Five members, each with a representative who has an e-mail, and the chair of the supervisory
/// board, registered by the secretariat over HTTP.
fn register(app: &TestApp) {
    let token = app.sign_in(SECRETARIAT);
    for i in 1..=5 {
        app.ok(
            Method::POST,
            "/associations/coop/members",
            &token,
            Some(json!({"id": format!("m{i}"), "name": format!("Gemeente {i}"), "kind": "gemeente"})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            "/associations/coop/persons",
            &token,
            Some(json!({"id": format!("p{i}"), "name": format!("Wethouder {i}"), "email": voter(i)})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            &format!("/associations/coop/persons/p{i}/representations"),
            &token,
            Some(json!({"member": format!("m{i}"), "capacity": "portfolio_holder"})),
            StatusCode::CREATED,
        );
    }
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &token,
        Some(json!({"id": "chair", "name": "Voorzitter RvC", "email": CHAIR})),
        StatusCode::CREATED,
    );
    app.ok(
        Method::PUT,
        "/associations/coop/supervisory-board",
        &token,
        Some(json!({"chair": "chair"})),
        StatusCode::NO_CONTENT,
    );
}

/// Member `i`'s representative casts a ballot signed with their key on `item` of `meeting`.
fn ballot(app: &TestApp, meeting: &str, item: &str, i: usize, choice: &str) -> Value {
    let token = app.sign_in(&voter(i));
    let key = app.signer(&token, PersonId::named(&format!("p{i}")));
    app.ok(
        Method::POST,
        &format!("/associations/coop/meetings/{meeting}/agenda-items/{item}/ballots"),
        &token,
        Some(app.signed_ballot(&key, meeting, item, &format!("m{i}"), choice)),
        StatusCode::CREATED,
    )
}

/// The meeting `alv` of 25 March 2026 held over HTTP: all five members check in, four vote for
/// the annual accounts and one against, the chair closes the poll, declares the result with a
/// signed declaration and closes the meeting. Around it, the meeting `najaar` is convened and
/// takes an advance ballot before `alv` is held and another after. Returns `alv`'s poll as the API
/// shows it at the end.
fn held_meeting(app: &TestApp) -> Value {
    register(app);
    app.at("2026-03-02T10:00:00+01:00");
    let secretariat = app.sign_in(SECRETARIAT);
    app.ok(Method::POST, "/associations/coop/meetings", &secretariat, Some(json!({
        "id": "alv", "title": "ALV maart 2026", "starts_at": "2026-03-25T19:00:00+01:00", "place": "Online",
        "agenda": [{"id": "jaarrekening", "title": "Jaarrekening 2025", "motion": {"text": "De jaarrekening 2025 wordt vastgesteld.", "kind": "ordinary"}}]
    })), StatusCode::CREATED);
    app.ok(
        Method::POST,
        &format!("{MEETING}/convocation"),
        &secretariat,
        Some(json!({"electronic_participation": "Via de link in deze oproep"})),
        StatusCode::OK,
    );
    app.ok(Method::POST, "/associations/coop/meetings", &secretariat, Some(json!({
        "id": "najaar", "title": "ALV najaar 2026", "starts_at": "2026-04-15T19:00:00+02:00", "place": "Online",
        "agenda": [{"id": "begroting", "title": "Begroting 2027", "motion": {"text": "De begroting 2027 wordt vastgesteld.", "kind": "ordinary"}}]
    })), StatusCode::CREATED);
    app.ok(
        Method::POST,
        &format!("{OTHER_MEETING}/convocation"),
        &secretariat,
        Some(json!({"advance_voting": true})),
        StatusCode::OK,
    );
    app.at("2026-03-20T10:00:00+01:00");
    ballot(app, "najaar", "begroting", 1, "for");

    app.at("2026-03-25T18:45:00+01:00");
    let voters: Vec<String> = (1..=5).map(|i| app.sign_in(&voter(i))).collect();
    for (i, token) in voters.iter().enumerate() {
        app.ok(
            Method::POST,
            &format!("{MEETING}/attendance"),
            token,
            Some(json!({"member": format!("m{}", i + 1), "mode": "electronic"})),
            StatusCode::CREATED,
        );
    }
    app.at("2026-03-25T19:00:00+01:00");
    let chair = app.sign_in(CHAIR);
    app.ok(Method::POST, &format!("{MEETING}/opening"), &chair, Some(json!({})), StatusCode::OK);
    app.at("2026-03-25T19:10:00+01:00");
    app.ok(
        Method::POST,
        &format!("{MEETING}/polls"),
        &chair,
        Some(json!({"id": "alv-poll", "item": "jaarrekening", "method": "electronic"})),
        StatusCode::CREATED,
    );
    for i in 1..=5 {
        ballot(app, "alv", "jaarrekening", i, if i == 5 { "against" } else { "for" });
    }
    app.at("2026-03-25T19:20:00+01:00");
    app.ok(Method::POST, &format!("{MEETING}/polls/alv-poll/closing"), &chair, None, StatusCode::OK);
    let (status, result) = app.get(&format!("{MEETING}/polls/alv-poll/result"), &chair);
    assert_eq!(status, StatusCode::OK, "{result}");
    let key = app.signer(&chair, PersonId::named("chair"));
    let outcome = result["outcome"].as_str().unwrap_or_default();
    app.ok(
        Method::POST,
        &format!("{MEETING}/polls/alv-poll/declaration"),
        &chair,
        Some(app.signed_declaration(&key, "alv", "alv-poll", outcome)),
        StatusCode::OK,
    );
    app.at("2026-03-25T19:30:00+01:00");
    app.ok(Method::POST, &format!("{MEETING}/closing"), &chair, None, StatusCode::OK);

    app.at("2026-03-26T10:00:00+01:00");
    ballot(app, "najaar", "begroting", 2, "against");
    let (status, poll) = app.get(&format!("{MEETING}/polls/alv-poll"), &app.sign_in(SECRETARIAT));
    assert_eq!(status, StatusCode::OK, "{poll}");
    poll
}

/// An auditor of `association` (`coop` or `other`), registered and granted the role by that
/// association's secretariat (`secretariat`) over HTTP, signed in.
fn auditor_of(app: &TestApp, association: &str, secretariat: &str, email: &str) -> String {
    app.ok(
        Method::POST,
        &format!("/associations/{association}/persons"),
        secretariat,
        Some(json!({"id": "auditor", "name": "Accountant", "email": email})),
        StatusCode::CREATED,
    );
    let (status, body) = app.post(
        &format!("/associations/{association}/role-grants"),
        secretariat,
        json!({"person": PersonId::named("auditor").to_string(), "role": "auditor"}),
    );
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.sign_in_to(association, email)
}

fn auditor(app: &TestApp) -> String {
    let secretariat = app.sign_in(SECRETARIAT);
    auditor_of(app, "coop", &secretariat, AUDITOR)
}

/// A download of an export: its status, content type, disposition and bytes.
struct Download {
    status: StatusCode,
    content_type: String,
    disposition: String,
    body: Vec<u8>,
}

fn download(app: &TestApp, meeting: &str, token: &str) -> Download {
    let response = app
        .client
        .get(app.url(&format!("{meeting}/export")))
        .bearer_auth(token)
        .send()
        .unwrap_or_else(|e| panic!("{meeting}/export: {e}"));
    let header = |name: &str| {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    };
    let (status, content_type, disposition) =
        (response.status(), header("content-type"), header("content-disposition"));
    let body = response.bytes().unwrap_or_else(|e| panic!("{meeting}/export: {e}")).to_vec();
    Download { status, content_type, disposition, body }
}

/// The export of `meeting` downloaded by `token`, which must succeed.
#[track_caller]
fn export(app: &TestApp, meeting: &str, token: &str) -> Vec<u8> {
    let d = download(app, meeting, token);
    assert_eq!(d.status, StatusCode::OK, "{}", String::from_utf8_lossy(&d.body));
    d.body
}

fn verify(body: &[u8], options: Options) -> Report {
    verify_export(body, options)
}

fn lines(body: &[u8]) -> Vec<Line> {
    let text = std::str::from_utf8(body).unwrap_or_else(|e| panic!("{e}"));
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

fn header(body: &[u8]) -> Header {
    match lines(body).into_iter().next() {
        Some(Line::Header(h)) => h,
        other => panic!("the export does not start with its header: {other:?}"),
    }
}

fn entries(body: &[u8]) -> Vec<Entry> {
    lines(body)
        .into_iter()
        .filter_map(|l| match l {
            Line::Entry(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// A JSON value's text, e.g. `adopted` for `Outcome::Adopted`.
fn code<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{e}"))
}

api_test!(an_auditor_downloads_the_export_of_a_meeting_held_over_http_and_it_verifies_offline_r8, |app| {
    let poll = held_meeting(&app);
    let auditor = auditor(&app);

    let d = download(&app, MEETING, &auditor);
    assert_eq!(d.status, StatusCode::OK, "{}", String::from_utf8_lossy(&d.body));
    assert_eq!(d.content_type, "application/x-ndjson");
    assert_eq!(d.disposition, format!("attachment; filename=\"stembus-export-{}.jsonl\"", alv()));

    let report = verify(&d.body, Options::default());
    let text = report.to_text();
    assert!(report.verified, "{text}");
    assert!(report.failure.is_none(), "{text}");
    assert_eq!(report.association.as_deref(), Some(coop().to_string().as_str()));
    assert_eq!(report.association_name.as_deref(), Some("Coöperatie Proef U.A."));
    assert_eq!(report.meeting.as_deref(), Some(alv().to_string().as_str()));
    assert_eq!(report.service_key, Some(app.service_key().to_hex()));
    assert!(!report.service_key_pinned);
    assert_eq!(header(&d.body).exported_at, app.clock.now());
    // Five ballots and a declaration in the meeting, six enrolments in the association's log;
    // not the advance ballots of the other meeting.
    assert_eq!(report.signatures, 12, "{text}");

    // The poll, counted and declared as the API says.
    assert_eq!(report.polls.len(), 1, "{text}");
    let p = &report.polls[0];
    let result = &poll["result"];
    assert_eq!(p.poll, poll["id"].as_str().unwrap_or_default());
    assert_eq!(p.item_title, "Jaarrekening 2025");
    assert_eq!(p.method, "electronic");
    let counted = p.counted.as_ref().unwrap_or_else(|| panic!("not counted: {text}"));
    assert_eq!((counted.in_favour, counted.against, counted.abstain), (4, 1, 0));
    assert_eq!(
        (json!(counted.in_favour), json!(counted.against), json!(counted.abstain)),
        (
            result["counts"]["for"].clone(),
            result["counts"]["against"].clone(),
            result["counts"]["abstain"].clone()
        ),
        "{poll}"
    );
    assert_eq!(code(&counted.outcome), result["outcome"], "{poll}");
    assert_eq!(result["outcome"], "adopted");
    assert_eq!(p.declared.map(|d| code(&d)), Some(poll["declaration"]["outcome"].clone()), "{poll}");
    assert_eq!(p.agrees, Some(true));
    assert_eq!(p.why, result["explanation"].as_str().unwrap_or_default(), "{poll}");
    assert!(!p.challenged && p.voided_by.is_none());
    assert!(
        text.contains("counted: 4 for, 1 against, 0 abstain: adopted; declared adopted; agrees"),
        "{text}"
    );
    assert!(text.contains("\nVERIFIED: "), "{text}");

    // Each stream's last signed head in the export is the head the API publishes.
    let (_, meeting_head) = app.get(&format!("{MEETING}/log/head"), &auditor);
    let (_, association_head) = app.get("/associations/coop/log/head", &auditor);
    for (stream, head) in
        [(alv().to_string(), &meeting_head), (ASSOCIATION_STREAM.to_owned(), &association_head)]
    {
        let s = report
            .streams
            .iter()
            .find(|s| s.stream == stream)
            .unwrap_or_else(|| panic!("no stream {stream}: {text}"));
        assert_eq!(
            (json!(s.head_size), json!(s.head_root), json!(s.entries)),
            (head["size"].clone(), head["root"].clone(), head["size"].clone()),
            "{stream}: {head}"
        );
    }

    // Pinned with the key the service publishes, it still verifies, also strictly.
    let (status, published) = app.call(Method::GET, "/service-key", None, None);
    assert_eq!(status, StatusCode::OK);
    let published = published["public_key"].as_str().unwrap_or_default().to_owned();
    for strict in [false, true] {
        let pinned = verify(&d.body, Options { service_key: Some(published.clone()), strict });
        assert!(pinned.verified, "{}", pinned.to_text());
        assert!(pinned.service_key_pinned);
        assert!(pinned.to_text().contains(&format!("Service key: {published} (as given)")));
    }
    // Pinned with another key, it does not.
    let other = stembus::ledger::author::key_bytes(&crate::support::key_named("not the service")).to_hex();
    let refused = verify(&d.body, Options { service_key: Some(other), strict: false });
    assert!(!refused.verified);
    let f = refused.failure.as_ref().unwrap_or_else(|| panic!("no failure: {}", refused.to_text()));
    assert_eq!((f.line, f.check), (1, Check::Header), "{}", f.reason);
    assert!(f.reason.contains("is not the service key you gave"), "{}", f.reason);
});

api_test!(the_export_holds_the_meetings_and_the_associations_entries_and_no_other_meetings, |app| {
    held_meeting(&app);
    let auditor = auditor(&app);
    let body = export(&app, MEETING, &auditor);
    let (alv, najaar) = (alv().to_string(), najaar().to_string());

    let h = header(&body);
    assert_eq!(h.streams, [ASSOCIATION_STREAM.to_owned(), alv.clone()]);
    assert_eq!(h.association, coop());
    assert_eq!(h.meeting, self::alv());
    let entries = entries(&body);
    assert!(
        entries.iter().all(|e| e.stream == ASSOCIATION_STREAM || e.stream == alv),
        "only the two streams"
    );
    assert!(!entries.iter().any(|e| e.stream == najaar || e.body.contains(&najaar)), "nothing of najaar");
    // Every entry of the two streams, in order, each stream from its index 0 without gaps.
    let (_, meeting_head) = app.get(&format!("{MEETING}/log/head"), &auditor);
    let (_, association_head) = app.get("/associations/coop/log/head", &auditor);
    for (stream, head) in [(&alv, &meeting_head), (&ASSOCIATION_STREAM.to_owned(), &association_head)] {
        let indexes: Vec<u64> = entries.iter().filter(|e| &e.stream == stream).map(|e| e.index).collect();
        let size = head["size"].as_u64().unwrap_or_else(|| panic!("no size: {head}"));
        assert_eq!(indexes, (0..size).collect::<Vec<_>>(), "{stream}");
    }
    assert!(entries.windows(2).all(|w| w[0].seq < w[1].seq), "in log order");
    // The other meeting's entries fell between: the log positions skip them.
    let skipped = entries.windows(2).filter(|w| w[1].seq > w[0].seq + 1).count();
    assert!(skipped >= 1, "the entries of najaar lie between alv's and the association's");
    let alv_entries = entries.iter().filter(|e| e.stream == alv).count();
    assert!(entries.iter().any(|e| e.body.contains("\"ballot_cast\"")) && alv_entries > 10);

    // The other meeting's export: its own entries, the association's, nothing of alv's.
    let other = export(&app, OTHER_MEETING, &auditor);
    let report = verify(&other, Options::default());
    assert!(report.verified, "{}", report.to_text());
    assert!(report.polls.is_empty(), "no poll in najaar: {}", report.to_text());
    assert_eq!(header(&other).streams, [ASSOCIATION_STREAM.to_owned(), najaar.clone()]);
    let theirs = self::entries(&other);
    assert!(!theirs.iter().any(|e| e.stream == alv || e.body.contains(&alv)), "nothing of alv");
    let ballots: Vec<&Entry> =
        theirs.iter().filter(|e| e.stream == najaar && e.body.contains("\"ballot_cast\"")).collect();
    assert_eq!(ballots.len(), 2, "the two advance ballots");
    // Both exports hold the same association stream.
    let association = |list: &[Entry]| -> Vec<Entry> {
        list.iter().filter(|e| e.stream == ASSOCIATION_STREAM).cloned().collect()
    };
    assert_eq!(association(&entries), association(&theirs));
});

api_test!(only_the_associations_auditors_and_secretariat_download_the_export, |app| {
    held_meeting(&app);
    let auditor = auditor(&app);
    let secretariat = app.sign_in(SECRETARIAT);
    assert_eq!(download(&app, MEETING, &auditor).status, StatusCode::OK);
    let by_secretariat = download(&app, MEETING, &secretariat);
    assert_eq!(by_secretariat.status, StatusCode::OK);
    assert_eq!(by_secretariat.content_type, "application/x-ndjson");
    assert!(verify(&by_secretariat.body, Options::default()).verified);

    // A voter and the chair of the meeting may not.
    let path = format!("{MEETING}/export");
    let voter = app.sign_in(&voter(1));
    assert_problem(&app.get(&path, &voter), StatusCode::FORBIDDEN, "access.role_required", None);
    let chair = app.sign_in(CHAIR);
    assert_problem(&app.get(&path, &chair), StatusCode::FORBIDDEN, "access.role_required", None);

    // Another association's auditor and secretariat may not.
    let other_secretariat = app.other_association();
    let other_auditor = auditor_of(&app, "other", &other_secretariat, "accountant@other.example");
    for token in [&other_auditor, &other_secretariat] {
        assert_problem(&app.get(&path, token), StatusCode::FORBIDDEN, "access.other_association", None);
    }
    // Nor anyone signed out.
    assert_eq!(app.call(Method::GET, &path, None, None).0, StatusCode::UNAUTHORIZED);

    // A meeting the association does not hold.
    assert_problem(
        &app.get("/associations/coop/meetings/no-such-meeting/export", &auditor),
        StatusCode::NOT_FOUND,
        "meeting.unknown",
        None,
    );
    assert_problem(
        &app.get("/associations/other/meetings/alv/export", &other_auditor),
        StatusCode::NOT_FOUND,
        "meeting.unknown",
        None,
    );
});

/// The meeting of 7 December 2022 replayed over HTTP on a server whose association is made on
/// 1 November 2022, before the scenario's first step: the service signs tree heads at its
/// clock, and the verifier refuses a head signed before the one it follows.
mod the_meeting_of_7_december_2022_held_over_http_exports_as_the_service_writes_it_and_verifies {
    use crate::db::Backend;
    use crate::support::TestApp;

    fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_at(backend, "2022-11-01T08:00:00+01:00")
    }

    #[test]
    fn sqlite() {
        super::the_2022_meeting(spawn(Backend::Sqlite));
    }

    #[test]
    fn postgres() {
        super::the_2022_meeting(spawn(Backend::Postgres));
    }
}

fn the_2022_meeting(app: TestApp) {
    crate::whole_meetings::drive(&app, include_str!("../../scenarios/alv-2022-12-07.toml"));
    let auditor = auditor(&app);
    let meeting = "/associations/coop/meetings/alv-2022-12-07";
    let body = export(&app, meeting, &auditor);

    // Streamed in chunks, the download is byte for byte what the service writes.
    let mut written = Vec::new();
    app.service
        .export(coop(), MeetingId::named("alv-2022-12-07"), app.clock.now(), &mut written)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(body.len() > 64 * 1024, "more than one chunk: {} bytes", body.len());
    assert!(body == written, "the download differs from the service's export");

    let report = verify(&body, Options { service_key: Some(app.service_key().to_hex()), strict: false });
    let text = report.to_text();
    assert!(report.verified, "{text}");
    let (_, results) = app.get(&format!("{meeting}/results"), &auditor);
    let results = results.as_array().cloned().unwrap_or_default();
    assert_eq!(report.polls.len(), 3, "{text}");
    assert_eq!(results.len(), 3, "{results:?}");
    for p in &report.polls {
        let result = results
            .iter()
            .find(|r| r["poll"] == p.poll.as_str())
            .unwrap_or_else(|| panic!("no result for poll {}: {results:?}", p.poll));
        let counted = p.counted.as_ref().unwrap_or_else(|| panic!("not counted: {text}"));
        assert_eq!(
            (json!(counted.in_favour), json!(counted.against), json!(counted.abstain)),
            (
                result["counts"]["for"].clone(),
                result["counts"]["against"].clone(),
                result["counts"]["abstain"].clone()
            ),
            "{result}"
        );
        assert_eq!(code(&counted.outcome), result["outcome"], "{result}");
        assert_eq!(p.declared.map(|d| code(&d)), Some(json!("adopted")));
        assert_eq!(p.agrees, Some(true), "{text}");
    }
    assert!(
        text.contains("counted: 25 for, 1 against, 1 abstain: adopted; declared adopted; agrees"),
        "{text}"
    );
}
