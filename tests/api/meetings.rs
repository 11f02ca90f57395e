//! Meetings over HTTP: drafting, convening (Art. 8.3), opening and chairing (Art. 8.4),
//! proxies (Art. 8.5), attendance with times (Art. 8.11), members' requests (Art. 8.1), and
//! what each role may not do.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::Clock as _;
use stembus::core::{AgendaItemId, Choice, Command, MeetingId, MemberId, PersonId, ProxyId, RequestId};

use crate::api_test;
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop, rep};

// ---------------------------------------------------------------------------------------------
// Fixtures

const RVC: &str = "rvc@coop.example";
const AUDITOR: &str = "audit@coop.example";

fn member(key: &str) -> String {
    MemberId::named(key).to_string()
}

fn person(key: &str) -> String {
    PersonId::named(key).to_string()
}

fn meeting(key: &str) -> String {
    MeetingId::named(key).to_string()
}

fn item(key: &str) -> String {
    AgendaItemId::named(key).to_string()
}

/// Registers members `m1`..`mn`, each represented by its portfolio holder `rep-m{i}` (who signs
/// in as `rep{i}@coop.example`), and `rvc`, the chair of the supervisory board. Returns the
/// secretariat's token.
fn register(app: &TestApp, n: usize) -> String {
    let sec = app.sign_in(SECRETARIAT);
    app.register_represented(&sec, n);
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
    sec
}

/// Registers an auditor and returns its token.
fn auditor(app: &TestApp, sec: &str) -> String {
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        sec,
        Some(json!({"id": "auditor", "name": "Accountant", "email": AUDITOR})),
        StatusCode::CREATED,
    );
    app.ok(
        Method::POST,
        "/associations/coop/role-grants",
        sec,
        Some(json!({"person": "auditor", "role": "auditor"})),
        StatusCode::NO_CONTENT,
    );
    app.sign_in(AUDITOR)
}

/// The body of a general meeting `id` at `starts_at`: the annual accounts, the budget and a
/// round of questions.
fn meeting_body(id: &str, starts_at: &str) -> Value {
    json!({
        "id": id,
        "title": "Algemene ledenvergadering",
        "starts_at": starts_at,
        "place": "Stadhuis, Raadzaal",
        "agenda": [
            {"id": "accounts", "title": "Jaarrekening 2025", "annual_accounts": true,
             "motion": {"text": "De ALV stelt de jaarrekening 2025 vast.", "kind": "ordinary"}},
            {"id": "budget", "title": "Begroting 2027",
             "motion": {"text": "De ALV stelt de begroting 2027 vast.", "kind": "ordinary"}},
            {"id": "questions", "title": "Rondvraag"}
        ]
    })
}

/// `n` members, and the meeting `alv` of 20 March 2026 at 19:00, convened on 5 March with
/// advance voting and electronic participation. The clock stands at 5 March; returns the
/// secretariat's token.
fn convened(app: &TestApp, n: usize) -> String {
    let sec = register(app, n);
    app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(meeting_body("alv", "2026-03-20T19:00:00+01:00")),
        StatusCode::CREATED,
    );
    app.at("2026-03-05T10:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec,
        Some(json!({
            "advance_voting": true,
            "electronic_participation": "By the video link in this convocation; sign in with the e-mailed code."
        })),
        StatusCode::OK,
    );
    sec
}

/// Records a proxy as the secretariat (on paper) from member `grantor` to member `holder`.
fn paper_proxy(app: &TestApp, sec: &str, id: &str, grantor: &str, holder: &str) -> (StatusCode, Value) {
    app.post(
        "/associations/coop/meetings/alv/proxies",
        sec,
        json!({"id": id, "grantor": grantor, "holder": {"holder": "member", "member": holder}}),
    )
}

// ---------------------------------------------------------------------------------------------
// Drafting and convening

api_test!(the_secretariat_drafts_meetings_and_reads_them_back_by_start, |app| {
    let sec = register(&app, 3);
    let late = app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(meeting_body("autumn", "2026-11-18T19:00:00+01:00")),
        StatusCode::CREATED,
    );
    assert_eq!(late["id"], meeting("autumn"));
    assert_eq!(late["phase"], "draft");
    assert_eq!(late["starts_at"], "2026-11-18T18:00:00Z");
    assert_eq!(late["convocation"], Value::Null);
    // Without ids, the service makes them.
    let early = app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(json!({
            "title": "Voorjaarsvergadering",
            "starts_at": "2026-05-20T19:00:00+02:00",
            "place": "https://meet.example/alv",
            "agenda": [{"title": "Contributie 2027",
                        "motion": {"text": "De contributie 2027 wordt EUR 1.000.", "kind": "two_thirds"}}]
        })),
        StatusCode::CREATED,
    );
    let early_id = early["id"].as_str().unwrap_or_else(|| panic!("no id in {early}"));
    assert!(uuid::Uuid::parse_str(early_id).is_ok(), "{early_id}");
    assert!(early["agenda"][0]["id"].as_str().is_some_and(|i| uuid::Uuid::parse_str(i).is_ok()), "{early}");
    assert_eq!(early["agenda"][0]["motion"]["kind"], "two_thirds");
    assert_eq!(early["agenda"][0]["decision"], Value::Null);

    let (status, list) = app.get("/associations/coop/meetings", &sec);
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> =
        list.as_array().map(|l| l.iter().filter_map(|m| m["id"].as_str()).collect()).unwrap_or_default();
    assert_eq!(ids, vec![early_id, meeting("autumn").as_str()]);

    let (status, one) = app.get("/associations/coop/meetings/autumn", &sec);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["agenda"].as_array().map(Vec::len), Some(3));
    assert_eq!(one["agenda"][0]["id"], item("accounts"));
    assert_eq!(one["agenda"][0]["annual_accounts"], true);
    assert_eq!(one["agenda"][0]["motion"]["text"], "De ALV stelt de jaarrekening 2025 vast.");
    assert_eq!(one["agenda"][0]["motion"]["kind"], "ordinary");
    assert_eq!(one["agenda"][2]["motion"], Value::Null);

    // The same id twice is a conflict; an unknown meeting is not found, also before acting on it.
    let again =
        app.post("/associations/coop/meetings", &sec, meeting_body("autumn", "2026-11-18T19:00:00+01:00"));
    assert_problem(&again, StatusCode::CONFLICT, "meeting.exists", Some(("R3", "8.1")));
    let missing = app.get("/associations/coop/meetings/nope", &sec);
    assert_problem(&missing, StatusCode::NOT_FOUND, "meeting.unknown", None);
    let convene_missing =
        app.post("/associations/coop/meetings/nope/convocation", &sec, json!({"advance_voting": false}));
    assert_problem(&convene_missing, StatusCode::NOT_FOUND, "meeting.unknown", None);
    let proxies_missing = app.get("/associations/coop/meetings/nope/proxies", &sec);
    assert_problem(&proxies_missing, StatusCode::NOT_FOUND, "meeting.unknown", None);
    // A body with a field the route does not know is refused.
    let unknown_field = app.post(
        "/associations/coop/meetings",
        &sec,
        json!({"title": "X", "starts_at": "2026-11-18T19:00:00+01:00", "place": "Y", "colour": "red"}),
    );
    assert_problem(&unknown_field, StatusCode::BAD_REQUEST, "request.invalid_json", None);
});

api_test!(a_convocation_ten_days_before_the_meeting_is_refused_and_eleven_accepted_art_8_3, |app| {
    let sec = register(&app, 3);
    for (id, day) in
        [("twentieth", "2026-03-20T19:00:00+01:00"), ("twenty-first", "2026-03-21T10:00:00+01:00")]
    {
        app.ok(
            Method::POST,
            "/associations/coop/meetings",
            &sec,
            Some(meeting_body(id, day)),
            StatusCode::CREATED,
        );
    }
    app.at("2026-03-10T09:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);

    // Ten days before: 11 to 19 March are only nine days between.
    let early = app.post("/associations/coop/meetings/twentieth/convocation", &sec, json!({}));
    assert_problem(&early, StatusCode::UNPROCESSABLE_ENTITY, "convocation.too_late", Some(("R3", "8.3")));
    let detail = early.1["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("2026-03-21"), "names the earliest lawful day: {detail}");
    let (_, still) = app.get("/associations/coop/meetings/twentieth", &sec);
    assert_eq!(still["phase"], "draft");

    // Eleven days before: accepted, with what the convocation must say.
    let convened = app.ok(
        Method::POST,
        "/associations/coop/meetings/twenty-first/convocation",
        &sec,
        Some(json!({
            "convener": {"convener": "supervisory_board"},
            "advance_voting": true,
            "electronic_participation": "By video link; sign in with the e-mailed code."
        })),
        StatusCode::OK,
    );
    assert_eq!(convened["phase"], "convened");
    let c = &convened["convocation"];
    assert_eq!(c["convened_at"], "2026-03-10T08:00:00Z");
    assert_eq!(c["convener"], "supervisory_board");
    assert_eq!(c["advance_voting"]["opens"], "2026-03-10T08:00:00Z");
    assert_eq!(c["advance_voting"]["closes"], "2026-03-21T09:00:00Z");
    assert_eq!(c["electronic_participation"], "By video link; sign in with the e-mailed code.");
    let kinds: Vec<&str> = c["statements"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, vec!["advance_voting_open", "electronic_participation"]);
    assert_eq!(c["statements"][0]["article"], "8.13");
    assert!(c["statements"][1]["text"].as_str().is_some_and(|t| t.contains("By video link")), "{c}");

    // The conditions of a convocation cannot be changed afterwards.
    let twice = app.post("/associations/coop/meetings/twenty-first/convocation", &sec, json!({}));
    assert_problem(&twice, StatusCode::UNPROCESSABLE_ENTITY, "meeting.already_convened", Some(("R3", "8.3")));
    let stray = app.post(
        "/associations/coop/meetings/twentieth/convocation",
        &sec,
        json!({"convener": {"convener": "board", "request": "req"}}),
    );
    assert_problem(&stray, StatusCode::BAD_REQUEST, "request.invalid_json", None);
});

// ---------------------------------------------------------------------------------------------
// The meeting in session

api_test!(the_supervisory_board_chair_opens_the_meeting_on_its_day_art_8_4, |app| {
    convened(&app, 3);
    app.at("2026-03-19T19:00:00+01:00");
    let rvc = app.sign_in(RVC);
    let day_before = app.call(Method::POST, "/associations/coop/meetings/alv/opening", Some(&rvc), None);
    assert_problem(&day_before, StatusCode::UNPROCESSABLE_ENTITY, "meeting.wrong_day", Some(("R3", "8.3")));

    app.at("2026-03-20T19:02:00+01:00");
    let rvc = app.sign_in(RVC);
    let voter = app.sign_in(&rep(1));
    let sec = app.sign_in(SECRETARIAT);
    // A voter is not the chair, and cannot record that the meeting appointed one.
    let not_chair = app.post("/associations/coop/meetings/alv/opening", &voter, json!({}));
    assert_problem(
        &not_chair,
        StatusCode::UNPROCESSABLE_ENTITY,
        "chair.not_supervisory_board_chair",
        Some(("R5", "8.4")),
    );
    let appointed = app.post(
        "/associations/coop/meetings/alv/opening",
        &voter,
        json!({"appointed_by_meeting": true, "chair": "rep-m1"}),
    );
    assert_problem(&appointed, StatusCode::FORBIDDEN, "access.role_required", None);
    let on_behalf = app.post("/associations/coop/meetings/alv/opening", &voter, json!({"chair": "rvc"}));
    assert_problem(&on_behalf, StatusCode::FORBIDDEN, "access.not_chair", None);

    // The chair of the supervisory board opens it, without a body.
    let (status, open) = app.call(Method::POST, "/associations/coop/meetings/alv/opening", Some(&rvc), None);
    assert_eq!(status, StatusCode::OK, "{open}");
    assert_eq!(open["phase"], "open");
    assert_eq!(open["opened_at"], "2026-03-20T18:02:00Z");
    assert_eq!(open["chair"], person("rvc"));
    assert_eq!(open["chair_name"], "Voorzitter RvC");

    // The general meeting appoints another chair: only the secretariat or the chair records it.
    let by_voter =
        app.post("/associations/coop/meetings/alv/chair", &app.sign_in(&rep(2)), json!({"person": "rep-m1"}));
    assert_problem(&by_voter, StatusCode::FORBIDDEN, "access.not_chair", None);
    let appointed = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/chair",
        &rvc,
        Some(json!({"person": "rep-m1"})),
        StatusCode::OK,
    );
    assert_eq!(appointed["chair"], person("rep-m1"));

    // The chair amends a motion; the secretariat may too; a voter may not.
    let amended = app.ok(
        Method::PUT,
        "/associations/coop/meetings/alv/agenda-items/budget/motion",
        &voter,
        Some(json!({"text": "De ALV stelt de begroting 2027 vast, met de wijziging van de RvC."})),
        StatusCode::OK,
    );
    assert_eq!(amended["motion"]["amendments"], 1);
    let by_other = app.put(
        "/associations/coop/meetings/alv/agenda-items/budget/motion",
        &app.sign_in(&rep(3)),
        json!({"text": "Anders."}),
    );
    assert_problem(&by_other, StatusCode::FORBIDDEN, "access.not_chair", None);
    let no_motion = app.put(
        "/associations/coop/meetings/alv/agenda-items/questions/motion",
        &sec,
        json!({"text": "Iets."}),
    );
    assert_problem(&no_motion, StatusCode::UNPROCESSABLE_ENTITY, "item.no_motion", Some(("R6", "8.10")));

    // Only the chair closes the meeting.
    app.at("2026-03-20T21:30:00+01:00");
    let former = app.post("/associations/coop/meetings/alv/closing", &rvc, json!({}));
    assert_problem(&former, StatusCode::UNPROCESSABLE_ENTITY, "chair.not_chair", Some(("R5", "8.4")));
    let (status, closed) =
        app.call(Method::POST, "/associations/coop/meetings/alv/closing", Some(&voter), None);
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["phase"], "closed");
    assert_eq!(closed["closed_at"], "2026-03-20T20:30:00Z");
});

api_test!(the_secretariat_opens_for_a_chair_the_general_meeting_appointed_art_8_4, |app| {
    convened(&app, 2);
    app.at("2026-03-20T19:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    let nameless =
        app.post("/associations/coop/meetings/alv/opening", &sec, json!({"appointed_by_meeting": true}));
    assert_problem(&nameless, StatusCode::BAD_REQUEST, "request.chair_missing", None);
    let open = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/opening",
        &sec,
        Some(json!({"appointed_by_meeting": true, "chair": "rep-m2"})),
        StatusCode::OK,
    );
    assert_eq!(open["chair"], person("rep-m2"));
});

api_test!(an_amended_motion_reports_how_many_advance_ballots_lapsed_r4, |app| {
    convened(&app, 3);
    app.at("2026-03-10T12:00:00+01:00");
    for (m, p) in [("m1", "rep-m1"), ("m2", "rep-m2")] {
        app.service
            .execute_scenario(
                coop(),
                Command::CastBallot {
                    meeting: MeetingId::named("alv"),
                    item: AgendaItemId::named("budget"),
                    member: MemberId::named(m),
                    person: PersonId::named(p),
                    choice: Choice::For,
                    signed: None,
                },
                app.clock.now(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
    app.at("2026-03-20T19:00:00+01:00");
    let rvc = app.sign_in(RVC);
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &rvc, Some(json!({})), StatusCode::OK);
    let amended = app.ok(
        Method::PUT,
        "/associations/coop/meetings/alv/agenda-items/budget/motion",
        &rvc,
        Some(json!({"text": "De ALV stelt de begroting 2027 vast, zonder de post reserves."})),
        StatusCode::OK,
    );
    assert_eq!(amended["id"], item("budget"));
    assert_eq!(amended["motion"]["text"], "De ALV stelt de begroting 2027 vast, zonder de post reserves.");
    assert_eq!(amended["motion"]["lapsed_advance_ballots"], 2);
    let (_, m) = app.get("/associations/coop/meetings/alv", &rvc);
    assert_eq!(m["agenda"][1]["motion"]["lapsed_advance_ballots"], 2);
});

// ---------------------------------------------------------------------------------------------
// Proxies (Art. 8.5)

api_test!(a_proxy_that_arrives_after_the_opening_is_refused_art_8_5, |app| {
    convened(&app, 3);
    app.at("2026-03-20T19:00:00+01:00");
    let rvc = app.sign_in(RVC);
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &rvc, None, StatusCode::OK);
    let sec = app.sign_in(SECRETARIAT);
    let late = paper_proxy(&app, &sec, "late", "m2", "m1");
    assert_problem(&late, StatusCode::UNPROCESSABLE_ENTITY, "proxy.after_opening", Some(("R2", "8.5")));
    let electronic = app.post(
        "/associations/coop/meetings/alv/proxies",
        &app.sign_in(&rep(3)),
        json!({"grantor": "m3", "holder": {"holder": "supervisory_board_chair", "person": "rvc"}}),
    );
    assert_problem(&electronic, StatusCode::UNPROCESSABLE_ENTITY, "proxy.after_opening", Some(("R2", "8.5")));
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    assert_eq!(list, json!([]));
});

api_test!(a_paper_proxy_s_scan_hash_goes_into_the_log_and_an_electronic_proxy_has_none_art_8_5, |app| {
    let sec = convened(&app, 3);
    let hash = "ab".repeat(32);
    let body = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/proxies",
        &sec,
        Some(json!({"id": "scanned", "grantor": "m2", "holder": {"holder": "member", "member": "m1"},
                    "scan_sha256": hash.to_uppercase()})),
        StatusCode::CREATED,
    );
    // One spelling in the log and the answer: lowercase.
    assert_eq!(body["scan_sha256"], hash.as_str(), "{body}");
    assert!(body["log_receipt"].is_object(), "{body}");
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    assert_eq!(list[0]["scan_sha256"], hash.as_str(), "{list}");
    // Not 64 hexadecimal digits: refused before anything is recorded.
    for bad in [json!("ab"), json!("zz".repeat(32)), json!(7)] {
        let (status, problem) = app.post(
            "/associations/coop/meetings/alv/proxies",
            &sec,
            json!({"grantor": "m3", "holder": {"holder": "member", "member": "m1"}, "scan_sha256": bad}),
        );
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    }
    // A representative records its member's proxy electronically: a scan has no place there.
    let electronic = app.post(
        "/associations/coop/meetings/alv/proxies",
        &app.sign_in(&rep(3)),
        json!({"grantor": "m3", "holder": {"holder": "supervisory_board_chair", "person": "rvc"},
               "scan_sha256": hash}),
    );
    assert_problem(
        &electronic,
        StatusCode::UNPROCESSABLE_ENTITY,
        "proxy.scan_not_paper",
        Some(("R2", "8.5")),
    );
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
});

api_test!(a_holder_may_not_hold_a_third_proxy_art_8_5, |app| {
    let sec = convened(&app, 5);
    for (id, grantor) in [("p2", "m2"), ("p3", "m3")] {
        let (status, body) = paper_proxy(&app, &sec, id, grantor, "m1");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["form"], "paper");
        assert_eq!(
            body["holder"],
            json!({"holder": "member", "member": member("m1"), "person": null, "name": "Gemeente M1"})
        );
    }
    let third = paper_proxy(&app, &sec, "p4", "m4", "m1");
    assert_problem(&third, StatusCode::UNPROCESSABLE_ENTITY, "proxy.cap_exceeded", Some(("R2", "8.5")));
    // The chair of the supervisory board may hold any number.
    for (id, grantor) in [("c4", "m4"), ("c5", "m5")] {
        app.ok(
            Method::POST,
            "/associations/coop/meetings/alv/proxies",
            &sec,
            Some(json!({"id": id, "grantor": grantor, "holder": {"holder": "supervisory_board_chair", "person": "rvc"},
                        "instructions": {"accounts": "for", "budget": "free"}})),
            StatusCode::CREATED,
        );
    }
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    assert_eq!(list.as_array().map(Vec::len), Some(4));
    let c4 = list
        .as_array()
        .and_then(|l| l.iter().find(|p| p["id"] == ProxyId::named("c4").to_string()))
        .unwrap_or_else(|| panic!("no proxy c4 in {list}"));
    assert_eq!(c4["grantor"], member("m4"));
    assert_eq!(c4["grantor_name"], "Gemeente M4");
    assert_eq!(c4["holder"]["holder"], "supervisory_board_chair");
    assert_eq!(c4["holder"]["person"], person("rvc"));
    assert_eq!(c4["instructions"][item("accounts")], "for");
    assert_eq!(c4["instructions"][item("budget")], "free");
    assert_eq!(c4["received_at"], "2026-03-05T09:00:00Z");
    assert_eq!(c4["revoked_at"], Value::Null);
    // A second proxy of one member is refused while the first is in force.
    let second = paper_proxy(&app, &sec, "again", "m2", "m5");
    assert_problem(&second, StatusCode::UNPROCESSABLE_ENTITY, "proxy.one_per_member", Some(("R2", "8.5")));
    let two_holders = app.post(
        "/associations/coop/meetings/alv/proxies",
        &sec,
        json!({"grantor": "m5", "holder": {"holder": "member", "member": "m1", "person": "rvc"}}),
    );
    assert_problem(&two_holders, StatusCode::BAD_REQUEST, "request.invalid_json", None);
});

api_test!(a_representative_records_and_revokes_its_members_proxy_before_the_opening, |app| {
    convened(&app, 4);
    app.at("2026-03-12T14:00:00+01:00");
    let rep2 = app.sign_in(&rep(2));
    let key = app.enrol(&rep2, PersonId::named("rep-m2"));
    // An electronic proxy is signed by the representative (R8).
    let unsigned = app.post(
        "/associations/coop/meetings/alv/proxies",
        &rep2,
        json!({"id": "p2", "grantor": "m2", "holder": {"holder": "member", "member": "m1"}}),
    );
    assert_problem(&unsigned, StatusCode::UNPROCESSABLE_ENTITY, "proxy.unsigned", Some(("R8", "8.11, 17.6")));
    let granted = app.ok(
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
    assert_eq!(granted["form"], "electronic");
    assert_eq!(granted["received_at"], "2026-03-12T13:00:00Z");

    // Another member's representative cannot revoke it.
    let rep3 = app.sign_in(&rep(3));
    let foreign = app.delete("/associations/coop/meetings/alv/proxies/p2", &rep3);
    assert_problem(&foreign, StatusCode::FORBIDDEN, "access.not_representative", None);
    let unknown = app.delete("/associations/coop/meetings/alv/proxies/nope", &rep2);
    assert_problem(&unknown, StatusCode::NOT_FOUND, "proxy.unknown", None);

    app.at("2026-03-15T10:00:00+01:00");
    let rep2 = app.sign_in(&rep(2));
    let revoked =
        app.ok(Method::DELETE, "/associations/coop/meetings/alv/proxies/p2", &rep2, None, StatusCode::OK);
    assert_eq!(revoked["revoked_at"], "2026-03-15T09:00:00Z");
    let twice = app.delete("/associations/coop/meetings/alv/proxies/p2", &rep2);
    assert_problem(&twice, StatusCode::UNPROCESSABLE_ENTITY, "proxy.already_revoked", Some(("R2", "8.5")));

    // A new proxy may be given; after the opening it can no longer be revoked.
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/proxies",
        &rep2,
        Some(app.signed_proxy(
            &key,
            "alv",
            json!({"id": "p2b", "grantor": "m2", "holder": {"holder": "member", "member": "m4"}}),
        )),
        StatusCode::CREATED,
    );
    app.at("2026-03-20T19:00:00+01:00");
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &app.sign_in(RVC), None, StatusCode::OK);
    let sec = app.sign_in(SECRETARIAT);
    let after = app.delete("/associations/coop/meetings/alv/proxies/p2b", &sec);
    assert_problem(
        &after,
        StatusCode::UNPROCESSABLE_ENTITY,
        "proxy.revoked_after_opening",
        Some(("R2", "8.5")),
    );
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    let revoked: Vec<bool> =
        list.as_array().map(|l| l.iter().map(|p| !p["revoked_at"].is_null()).collect()).unwrap_or_default();
    assert_eq!(revoked, vec![true, false]);
});

// ---------------------------------------------------------------------------------------------
// Attendance (Art. 8.11)

api_test!(attendance_is_registered_in_and_out_with_times_art_8_11, |app| {
    let sec = convened(&app, 5);
    paper_proxy(&app, &sec, "p2", "m2", "m1");

    // Before the day nobody checks in.
    app.at("2026-03-19T18:45:00+01:00");
    let early = app.post(
        "/associations/coop/meetings/alv/attendance",
        &app.sign_in(&rep(1)),
        json!({"member": "m1", "mode": "in_person"}),
    );
    assert_problem(
        &early,
        StatusCode::UNPROCESSABLE_ENTITY,
        "attendance.not_in_session",
        Some(("R5", "8.11")),
    );

    app.at("2026-03-20T18:45:00+01:00");
    let rep1 = app.sign_in(&rep(1));
    let own = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/attendance",
        &rep1,
        Some(json!({"member": "m1", "mode": "in_person"})),
        StatusCode::CREATED,
    );
    assert_eq!(own["as"], "own");
    assert_eq!(own["person"], person("rep-m1"));
    assert_eq!(own["arrived"], "2026-03-20T17:45:00Z");
    assert_eq!(own["left"], Value::Null);
    let by_proxy = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/attendance",
        &rep1,
        Some(json!({"member": "m2", "mode": "in_person"})),
        StatusCode::CREATED,
    );
    assert_eq!(by_proxy["as"], "proxy");
    assert_eq!(by_proxy["proxy"], ProxyId::named("p2").to_string());

    // The secretariat checks a person in at the door; a voter cannot check in someone else.
    app.at("2026-03-20T18:50:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    let at_door = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/attendance",
        &sec,
        Some(json!({"member": "m3", "person": "rep-m3", "mode": "electronic"})),
        StatusCode::CREATED,
    );
    assert_eq!(at_door["person_name"], "Wethouder M3");
    assert_eq!(at_door["mode"], "electronic");
    let rep4 = app.sign_in(&rep(4));
    let for_other = app.post(
        "/associations/coop/meetings/alv/attendance",
        &rep4,
        json!({"member": "m5", "person": "rep-m5", "mode": "in_person"}),
    );
    assert_problem(&for_other, StatusCode::FORBIDDEN, "access.role_required", None);
    let not_theirs = app.post(
        "/associations/coop/meetings/alv/attendance",
        &rep4,
        json!({"member": "m5", "mode": "in_person"}),
    );
    assert_problem(
        &not_theirs,
        StatusCode::UNPROCESSABLE_ENTITY,
        "attendance.not_representative",
        Some(("R2", "8.5")),
    );
    let twice = app.post(
        "/associations/coop/meetings/alv/attendance",
        &rep1,
        json!({"member": "m1", "mode": "in_person"}),
    );
    assert_problem(
        &twice,
        StatusCode::UNPROCESSABLE_ENTITY,
        "attendance.already_present",
        Some(("R5", "8.11")),
    );

    app.at("2026-03-20T19:00:00+01:00");
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &app.sign_in(RVC), None, StatusCode::OK);
    let (status, attendance) = app.get("/associations/coop/meetings/alv/attendance", &sec);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(attendance["stretches"].as_array().map(Vec::len), Some(3));
    let present = &attendance["present"];
    assert_eq!(present["members_in_office"], 5);
    assert_eq!(present["present_or_represented"], 3);
    assert_eq!(
        (&present["in_person"], &present["electronically"], &present["by_proxy"]),
        (&json!(1), &json!(1), &json!(1))
    );

    // Somebody else cannot check a member out; its representative can ("verlaat de ALV om 19:50").
    app.at("2026-03-20T19:50:00+01:00");
    let rep4 = app.sign_in(&rep(4));
    let foreign = app.delete("/associations/coop/meetings/alv/attendance/m1", &rep4);
    assert_problem(&foreign, StatusCode::FORBIDDEN, "access.not_representative", None);
    let rep1 = app.sign_in(&rep(1));
    let left =
        app.ok(Method::DELETE, "/associations/coop/meetings/alv/attendance/m1", &rep1, None, StatusCode::OK);
    assert_eq!(left["arrived"], "2026-03-20T17:45:00Z");
    assert_eq!(left["left"], "2026-03-20T18:50:00Z");
    // The proxy holder's representative checks the member it represents by proxy out too.
    app.ok(Method::DELETE, "/associations/coop/meetings/alv/attendance/m2", &rep1, None, StatusCode::OK);
    let gone = app.delete("/associations/coop/meetings/alv/attendance/m1", &rep1);
    assert_problem(&gone, StatusCode::UNPROCESSABLE_ENTITY, "attendance.not_present", Some(("R5", "8.11")));

    let (_, attendance) = app.get("/associations/coop/meetings/alv/attendance", &rep1);
    assert_eq!(attendance["present"]["present_or_represented"], 1);
    assert_eq!(attendance["present"]["members"][0]["name"], "Gemeente M3");
    assert_eq!(attendance["present"]["members"][0]["how"], "electronically");
    let m1 = attendance["stretches"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["member"] == member("m1")))
        .unwrap_or_else(|| panic!("no stretch of m1 in {attendance}"));
    assert_eq!(m1["left"], "2026-03-20T18:50:00Z");
});

// ---------------------------------------------------------------------------------------------
// Members' requests (Art. 8.1)

api_test!(a_members_request_to_convene_is_recorded_and_answered_art_8_1, |app| {
    let sec = register(&app, 10);
    let recorded = app.ok(
        Method::POST,
        "/associations/coop/members-requests",
        &sec,
        Some(json!({"id": "req", "members": ["m3"], "subjects": ["Toekomst van de coöperatie"]})),
        StatusCode::CREATED,
    );
    assert_eq!(recorded["id"], RequestId::named("req").to_string());
    assert_eq!(recorded["members"], json!([{"member": member("m3"), "name": "Gemeente M3"}]));
    assert_eq!(recorded["received_at"], "2026-03-01T08:00:00Z");
    assert_eq!(recorded["board_deadline"], "2026-03-29");
    let none =
        app.post("/associations/coop/members-requests", &sec, json!({"members": ["m4"], "subjects": ["  "]}));
    assert_problem(&none, StatusCode::UNPROCESSABLE_ENTITY, "request.no_subjects", Some(("R3", "8.1")));
    let voter = app.post(
        "/associations/coop/members-requests",
        &app.sign_in(&rep(1)),
        json!({"members": ["m1"], "subjects": ["Iets"]}),
    );
    assert_problem(&voter, StatusCode::FORBIDDEN, "access.role_required", None);

    let mut answer = meeting_body("requested", "2026-03-26T19:00:00+01:00");
    answer["request"] = json!("req");
    let created =
        app.ok(Method::POST, "/associations/coop/meetings", &sec, Some(answer), StatusCode::CREATED);
    assert_eq!(created["request"], RequestId::named("req").to_string());
    let (status, list) = app.get("/associations/coop/members-requests", &sec);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["subjects"], json!(["Toekomst van de coöperatie"]));
    assert_eq!(list[0]["meetings"], json!([meeting("requested")]));
});

// ---------------------------------------------------------------------------------------------
// What each role may not do

api_test!(a_voter_cannot_draft_or_convene_a_meeting_nor_record_a_proxy_for_another_member, |app| {
    let sec = register(&app, 3);
    app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(meeting_body("alv", "2026-03-20T19:00:00+01:00")),
        StatusCode::CREATED,
    );
    let voter = app.sign_in(&rep(1));
    let create =
        app.post("/associations/coop/meetings", &voter, meeting_body("mine", "2026-04-20T19:00:00+02:00"));
    assert_problem(&create, StatusCode::FORBIDDEN, "access.role_required", None);
    let convene = app.post("/associations/coop/meetings/alv/convocation", &voter, json!({}));
    assert_problem(&convene, StatusCode::FORBIDDEN, "access.role_required", None);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec,
        Some(json!({})),
        StatusCode::OK,
    );
    let foreign_proxy = app.post(
        "/associations/coop/meetings/alv/proxies",
        &voter,
        json!({"grantor": "m3", "holder": {"holder": "member", "member": "m1"}}),
    );
    assert_problem(&foreign_proxy, StatusCode::FORBIDDEN, "access.not_representative", None);
    let (_, list) = app.get("/associations/coop/meetings/alv/proxies", &voter);
    assert_eq!(list, json!([]));
    // A voter reads the meetings.
    let (status, meetings) = app.get("/associations/coop/meetings", &voter);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(meetings.as_array().map(Vec::len), Some(1));
});

api_test!(an_auditor_reads_every_meeting_but_changes_nothing, |app| {
    let sec = convened(&app, 3);
    paper_proxy(&app, &sec, "p2", "m2", "m1");
    let audit = auditor(&app, &sec);
    for path in [
        "/associations/coop/meetings",
        "/associations/coop/meetings/alv",
        "/associations/coop/meetings/alv/proxies",
        "/associations/coop/meetings/alv/attendance",
        "/associations/coop/members-requests",
    ] {
        let (status, body) = app.get(path, &audit);
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let writes: Vec<(Method, &str, Value)> = vec![
        (Method::POST, "/associations/coop/meetings", meeting_body("audit", "2026-05-20T19:00:00+02:00")),
        (Method::POST, "/associations/coop/meetings/alv/convocation", json!({})),
        (Method::POST, "/associations/coop/meetings/alv/opening", json!({})),
        (Method::POST, "/associations/coop/meetings/alv/chair", json!({"person": "auditor"})),
        (Method::POST, "/associations/coop/meetings/alv/closing", json!({})),
        (
            Method::PUT,
            "/associations/coop/meetings/alv/agenda-items/budget/motion",
            json!({"text": "Anders."}),
        ),
        (Method::POST, "/associations/coop/members-requests", json!({"members": ["m1"], "subjects": ["X"]})),
        (
            Method::POST,
            "/associations/coop/meetings/alv/proxies",
            json!({"grantor": "m3", "holder": {"holder": "member", "member": "m1"}}),
        ),
        (Method::DELETE, "/associations/coop/meetings/alv/proxies/p2", Value::Null),
        (
            Method::POST,
            "/associations/coop/meetings/alv/attendance",
            json!({"member": "m1", "mode": "in_person"}),
        ),
        (Method::DELETE, "/associations/coop/meetings/alv/attendance/m1", Value::Null),
    ];
    for (method, path, body) in writes {
        let body = (!body.is_null()).then_some(body);
        let refused = app.call(method.clone(), path, Some(&audit), body);
        assert_problem(&refused, StatusCode::FORBIDDEN, "access.read_only", None);
    }
    let (_, proxies) = app.get("/associations/coop/meetings/alv/proxies", &audit);
    assert_eq!(proxies[0]["revoked_at"], Value::Null);
});

api_test!(the_secretariat_of_another_association_cannot_see_or_act_on_these_meetings, |app| {
    let sec = convened(&app, 2);
    let other = app.other_association();
    for path in [
        "/associations/coop/meetings",
        "/associations/coop/meetings/alv",
        "/associations/coop/meetings/alv/proxies",
        "/associations/coop/meetings/alv/attendance",
        "/associations/coop/members-requests",
        // Whether a meeting exists is not revealed either.
        "/associations/coop/meetings/nope",
    ] {
        let refused = app.get(path, &other);
        assert_problem(&refused, StatusCode::FORBIDDEN, "access.other_association", None);
    }
    let writes: Vec<(Method, &str, Option<Value>)> = vec![
        (
            Method::POST,
            "/associations/coop/meetings",
            Some(meeting_body("theirs", "2026-05-20T19:00:00+02:00")),
        ),
        (Method::POST, "/associations/coop/meetings/alv/convocation", Some(json!({}))),
        (
            Method::POST,
            "/associations/coop/meetings/alv/proxies",
            Some(json!({"grantor": "m2", "holder": {"holder": "member", "member": "m1"}})),
        ),
        (
            Method::POST,
            "/associations/coop/meetings/alv/attendance",
            Some(json!({"member": "m1", "person": "rep-m1", "mode": "in_person"})),
        ),
        (
            Method::POST,
            "/associations/coop/members-requests",
            Some(json!({"members": ["m1"], "subjects": ["X"]})),
        ),
    ];
    for (method, path, body) in writes {
        let refused = app.call(method, path, Some(&other), body);
        assert_problem(&refused, StatusCode::FORBIDDEN, "access.other_association", None);
    }
    // Its own association has no meetings.
    let (status, own) = app.get("/associations/other/meetings", &other);
    assert_eq!((status, own), (StatusCode::OK, json!([])));
    let (_, proxies) = app.get("/associations/coop/meetings/alv/proxies", &sec);
    assert_eq!(proxies, json!([]));
});

// ---------------------------------------------------------------------------------------------
// Durability

api_test!(a_restart_in_the_middle_of_a_meeting_loses_nothing, |app| {
    let sec = convened(&app, 4);
    paper_proxy(&app, &sec, "p2", "m2", "m1");
    let rep3 = app.sign_in(&rep(3));
    let key = app.enrol(&rep3, PersonId::named("rep-m3"));
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/proxies",
        &rep3,
        Some(app.signed_proxy(
            &key,
            "alv",
            json!({"id": "p3", "grantor": "m3", "holder": {"holder": "supervisory_board_chair", "person": "rvc"}}),
        )),
        StatusCode::CREATED,
    );
    app.at("2026-03-20T18:55:00+01:00");
    let rep1 = app.sign_in(&rep(1));
    for m in ["m1", "m2"] {
        app.ok(
            Method::POST,
            "/associations/coop/meetings/alv/attendance",
            &rep1,
            Some(json!({"member": m, "mode": "in_person"})),
            StatusCode::CREATED,
        );
    }
    app.at("2026-03-20T19:00:00+01:00");
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &app.sign_in(RVC), None, StatusCode::OK);
    app.at("2026-03-20T19:30:00+01:00");
    app.ok(Method::DELETE, "/associations/coop/meetings/alv/attendance/m2", &rep1, None, StatusCode::OK);

    let sec = app.sign_in(SECRETARIAT);
    let paths = [
        "/associations/coop/meetings/alv",
        "/associations/coop/meetings/alv/proxies",
        "/associations/coop/meetings/alv/attendance",
    ];
    let before: Vec<Value> =
        paths.iter().map(|p| app.ok(Method::GET, p, &sec, None, StatusCode::OK)).collect();
    assert_eq!(before[2]["present"]["present_or_represented"], 2, "m1 in person, m3 by proxy to the chair");

    let app = app.restart();
    let after: Vec<Value> =
        paths.iter().map(|p| app.ok(Method::GET, p, &sec, None, StatusCode::OK)).collect();
    assert_eq!(before, after);
    assert_eq!(after[0]["phase"], "open");
    assert_eq!(after[1].as_array().map(Vec::len), Some(2));
    assert_eq!(after[2]["stretches"].as_array().map(Vec::len), Some(2));

    // The meeting goes on where it was.
    app.at("2026-03-20T21:00:00+01:00");
    let closed = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/closing",
        &app.sign_in(RVC),
        None,
        StatusCode::OK,
    );
    assert_eq!(closed["phase"], "closed");
});
