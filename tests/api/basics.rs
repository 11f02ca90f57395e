//! Sign-in, the register, problem details, the OpenAPI document and the headers every
//! response carries.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::api_test;
use crate::support::{SECRETARIAT, assert_problem};

api_test!(the_secretariat_signs_in_with_an_emailed_code_and_registers_a_member, |app| {
    let token = app.sign_in(SECRETARIAT);
    let (status, me) = app.get("/sessions/current", &token);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["roles"], json!(["secretariat"]));
    assert!(me.get("token").is_none(), "a token is never returned again");

    let created = app.ok(Method::POST, "/associations/coop/members", &token, Some(json!({"id": "assen", "name": "Gemeente Assen", "kind": "gemeente", "email": "griffie@assen.example"})), StatusCode::CREATED);
    assert_eq!(created["name"], "Gemeente Assen");
    let (_, list) = app.get("/associations/coop/members", &token);
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // The same member twice is refused by the register (Art. 4.3, 5).
    let again = app.post(
        "/associations/coop/members",
        &token,
        json!({"id": "assen", "name": "Gemeente Assen", "kind": "gemeente"}),
    );
    assert_problem(&again, StatusCode::CONFLICT, "member.exists", Some(("R1", "4.3, 5")));
});

api_test!(the_register_lists_come_a_page_at_a_time_by_name_and_the_pages_join_to_the_whole, |app| {
    let token = app.sign_in(SECRETARIAT);
    // Seven members registered out of order, two of them with the same name (ordered by id
    // then), each represented by its own person.
    let names = [
        "Gemeente Zwolle",
        "Gemeente Assen",
        "Gemeente Hoorn",
        "Gemeente Assen",
        "Gemeente Ede",
        "Gemeente Breda",
        "Gemeente Urk",
    ];
    for (i, name) in names.iter().enumerate() {
        app.ok(
            Method::POST,
            "/associations/coop/members",
            &token,
            Some(json!({"id": format!("g{i}"), "name": name, "kind": "gemeente"})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            "/associations/coop/persons",
            &token,
            Some(json!({"id": format!("p{i}"), "name": format!("Wethouder {}", 7 - i)})),
            StatusCode::CREATED,
        );
        app.ok(
            Method::POST,
            &format!("/associations/coop/persons/p{i}/representations"),
            &token,
            Some(json!({"member": format!("g{i}"), "capacity": "portfolio_holder"})),
            StatusCode::CREATED,
        );
    }
    for list in ["members", "persons"] {
        let (status, whole) = app.get(&format!("/associations/coop/{list}?limit=10000"), &token);
        assert_eq!(status, StatusCode::OK, "{whole}");
        let whole = whole.as_array().cloned().unwrap_or_default();
        let keys: Vec<(String, String)> = whole
            .iter()
            .map(|v| {
                (
                    v["name"].as_str().unwrap_or_default().to_owned(),
                    v["id"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "the {list} run by name, then id");
        assert!(whole.len() >= 7, "{whole:?}");
        // Pages of three, joined by their Link headers, are the whole list, each item once.
        let (joined, lengths) = app.pages(&format!("/associations/coop/{list}?limit=3"), &token);
        assert_eq!(joined, whole, "the pages of {list}");
        assert_eq!(lengths.iter().sum::<usize>(), whole.len());
        assert!(lengths.iter().rev().skip(1).all(|n| *n == 3), "{lengths:?}");
        // A page that holds the rest exactly names no next page.
        let (_, lengths) = app.pages(&format!("/associations/coop/{list}?limit={}", whole.len()), &token);
        assert_eq!(lengths, vec![whole.len()]);
        assert_problem(
            &app.get(&format!("/associations/coop/{list}?limit=0"), &token),
            StatusCode::BAD_REQUEST,
            "request.invalid_query",
            None,
        );
        let unknown = app.get(&format!("/associations/coop/{list}?after=nobody-here"), &token);
        assert_problem(&unknown, StatusCode::BAD_REQUEST, "request.invalid_query", None);
    }
    // Each member's view on a page names its representative, and each person's its member.
    let (members, _) = app.pages("/associations/coop/members?limit=2", &token);
    let (persons, _) = app.pages("/associations/coop/persons?limit=2", &token);
    for (i, name) in names.iter().enumerate() {
        let member =
            members.iter().find(|m| m["id"] == stembus::core::MemberId::named(&format!("g{i}")).to_string());
        let person = stembus::core::PersonId::named(&format!("p{i}")).to_string();
        assert_eq!(
            member.map(|m| m["representatives"][0]["person"].clone()),
            Some(json!(person)),
            "{members:?}"
        );
        let person = persons.iter().find(|p| p["id"] == person);
        assert_eq!(
            person.map(|p| p["represents"].clone()),
            Some(
                json!([{"member": stembus::core::MemberId::named(&format!("g{i}")).to_string(), "name": name, "capacity": "portfolio_holder"}])
            )
        );
    }
});

api_test!(a_code_is_used_once_and_an_unknown_address_reveals_nothing, |app| {
    let token = app.sign_in(SECRETARIAT);
    let (status, _) = app.call(
        Method::POST,
        "/sign-in-links",
        None,
        Some(json!({"association": "coop", "email": "nobody@nowhere.example"})),
    );
    assert_eq!(status, StatusCode::ACCEPTED);
    let bad = app.call(Method::POST, "/sessions", None, Some(json!({"code": "not-a-code"})));
    assert_problem(&bad, StatusCode::UNAUTHORIZED, "access.unauthenticated", None);
    let (status, _) = app.call(Method::DELETE, "/sessions/current", Some(&token), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = app.get("/sessions/current", &token);
    assert_problem(&after, StatusCode::UNAUTHORIZED, "access.unauthenticated", None);
});

api_test!(bad_input_gets_a_clear_problem_never_a_500, |app| {
    let token = app.sign_in(SECRETARIAT);
    let url = app.url("/associations/coop/members");
    let malformed = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(malformed.headers()["content-type"], "application/problem+json");
    let wrong_type = app.post("/associations/coop/members", &token, json!({"name": 42, "kind": "gemeente"}));
    assert_problem(&wrong_type, StatusCode::BAD_REQUEST, "request.invalid_json", None);
    let unknown_kind =
        app.post("/associations/coop/members", &token, json!({"name": "X", "kind": "bedrijf"}));
    assert_problem(&unknown_kind, StatusCode::BAD_REQUEST, "request.invalid_json", None);
    let big = "x".repeat(70 * 1024);
    let oversized = app.post("/associations/coop/members", &token, json!({"name": big, "kind": "gemeente"}));
    assert_problem(&oversized, StatusCode::PAYLOAD_TOO_LARGE, "request.too_large", None);
    let unknown = app.get("/associations/coop/members/nobody", &token);
    assert_problem(&unknown, StatusCode::NOT_FOUND, "member.unknown", None);
    let bad_id = app.get("/associations/coop/members/not%20an%20id", &token);
    assert_problem(&bad_id, StatusCode::NOT_FOUND, "route.invalid_id", None);
    let no_route = app.get("/nowhere", &token);
    assert_problem(&no_route, StatusCode::NOT_FOUND, "route.unknown", None);
    let no_token = app.call(Method::GET, "/associations/coop/members", None, None);
    assert_problem(&no_token, StatusCode::UNAUTHORIZED, "access.unauthenticated", None);
    let not_json = app
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let bad_email = app.post(
        "/associations/coop/members",
        &token,
        json!({"name": "X", "kind": "gemeente", "email": "not-an-address"}),
    );
    assert_problem(&bad_email, StatusCode::BAD_REQUEST, "request.invalid_json", None);
});

api_test!(every_response_carries_the_api_version_and_a_request_id, |app| {
    let response = app.client.get(app.url("/health")).send().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["api-version"], stembus::http::API_VERSION);
    assert!(response.headers().contains_key("x-request-id"));
    let missing = app.client.get(app.url("/nowhere")).send().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing.headers()["api-version"], stembus::http::API_VERSION);
});

api_test!(the_openapi_document_describes_the_routes_that_answer, |app| {
    let (status, doc) = app.call(Method::GET, "/openapi.json", None, None);
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc["paths"].as_object().unwrap_or_else(|| panic!("no paths"));
    assert!(paths.contains_key("/api/v1/associations/{association}/members"), "{:?}", paths.keys());
    assert!(paths.contains_key("/api/v1/sessions"));
    // Every parameter in a path is declared, as OpenAPI requires.
    for (path, item) in paths {
        let names: Vec<&str> =
            path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect();
        for (method, operation) in item.as_object().into_iter().flatten() {
            let declared: Vec<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .filter_map(|p| p["name"].as_str())
                .collect();
            for name in &names {
                assert!(declared.contains(name), "{method} {path} does not declare {{{name}}}");
            }
        }
    }
    // Every documented GET without path parameters or required query parameters answers, and
    // none with a 5xx.
    let token = app.sign_in(SECRETARIAT);
    for (path, item) in paths {
        let path = path.replace("{association}", "coop");
        let needs_query = item["get"]["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["in"] == "query" && p["required"] == true);
        if item.get("get").is_some() && !path.contains('{') && !path.ends_with("/live") && !needs_query {
            let (status, body) =
                app.call(Method::GET, path.trim_start_matches("/api/v1"), Some(&token), None);
            assert!(status.is_success(), "{path}: {status} {body}");
        }
    }
});

api_test!(the_service_key_is_published_and_stays_across_restarts, |app| {
    let (_, first) = app.call(Method::GET, "/service-key", None, None);
    assert_eq!(first["public_key"].as_str().map(str::len), Some(64));
    let key_file = std::fs::read(app.outbox.parent().unwrap_or_else(|| panic!("no dir")).join("service.key"))
        .unwrap_or_default();
    assert_eq!(key_file.len(), 32);
});

api_test!(people_signing_in_at_the_same_moment_all_get_a_session, |app| {
    let token = app.sign_in(SECRETARIAT);
    for i in 0..8 {
        app.ok(Method::POST, "/associations/coop/persons", &token, Some(json!({"id": format!("p{i}"), "name": format!("Persoon {i}"), "email": format!("p{i}@coop.example")})), StatusCode::CREATED);
    }
    // Ask every code first, then use them all at once.
    let mut codes = Vec::new();
    for i in 0..8 {
        let before = app.mails();
        let (status, _) = app.call(
            Method::POST,
            "/sign-in-links",
            None,
            Some(json!({"association": "coop", "email": format!("p{i}@coop.example")})),
        );
        assert_eq!(status, StatusCode::ACCEPTED);
        let mail = app.mails().into_iter().find(|m| !before.contains(m)).unwrap_or_else(|| panic!("no mail"));
        let text = std::fs::read_to_string(mail).unwrap_or_default();
        codes.push(
            text.lines()
                .find_map(|l| l.strip_prefix("Code: "))
                .map(|c| c.trim().to_owned())
                .unwrap_or_else(|| panic!("no code")),
        );
    }
    let url = app.url("/sessions");
    let statuses: Vec<StatusCode> = std::thread::scope(|s| {
        let handles: Vec<_> = codes
            .iter()
            .map(|code| {
                let (client, url) = (app.client.clone(), url.clone());
                s.spawn(move || {
                    client
                        .post(url)
                        .json(&json!({"code": code}))
                        .send()
                        .map(|r| r.status())
                        .unwrap_or_else(|e| panic!("{e}"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| panic!("a request panicked"))).collect()
    });
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
});

api_test!(a_role_granted_or_taken_away_counts_at_once_for_a_session_already_in_use, |app| {
    let sec = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &sec,
        Some(json!({"id": "accountant", "name": "Accountant", "email": "accountant@coop.example"})),
        StatusCode::CREATED,
    );
    let token = app.sign_in("accountant@coop.example");
    let (_, me) = app.get("/sessions/current", &token);
    assert_eq!(me["roles"], json!([]));
    app.ok(
        Method::POST,
        "/associations/coop/role-grants",
        &sec,
        Some(json!({"person": "accountant", "role": "auditor"})),
        StatusCode::NO_CONTENT,
    );
    let (_, me) = app.get("/sessions/current", &token);
    assert_eq!(me["roles"], json!(["auditor"]), "the grant counts for the session in use");
    let (status, _) =
        app.call(Method::DELETE, "/associations/coop/role-grants/accountant/auditor", Some(&sec), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, me) = app.get("/sessions/current", &token);
    assert_eq!(me["roles"], json!([]), "taking the role away counts at once");
});
