//! What schemathesis found against the served OpenAPI document (.ci/schemathesis,
//! docs/reliability.md "API robustness"), kept as regressions: every answer a route gives is
//! one its operation documents, with the schema it documents.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api_test;
use crate::support::{SECRETARIAT, assert_problem};

fn document(app: &crate::support::TestApp) -> Value {
    let (status, doc) = app.call(Method::GET, "/openapi.json", None, None);
    assert_eq!(status, StatusCode::OK);
    doc
}

fn responses<'a>(doc: &'a Value, path: &str, method: &str) -> Vec<&'a str> {
    let operation = &doc["paths"][format!("/api/v1{path}")][method];
    assert!(operation.is_object(), "no {method} {path}");
    operation["responses"].as_object().into_iter().flatten().map(|(code, _)| code.as_str()).collect()
}

fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
    &doc["components"]["schemas"][name]
}

api_test!(an_id_in_a_path_that_is_not_valid_is_a_documented_404, |app| {
    let token = app.sign_in(SECRETARIAT);
    let too_long = "0".repeat(101);
    let response = app.call(Method::GET, &format!("/associations/{too_long}"), Some(&token), None);
    assert_problem(&response, StatusCode::NOT_FOUND, "route.invalid_id", None);
    let doc = document(&app);
    // Every operation with an id in its path documents the 404 its ids may give.
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        if !path.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().into_iter().flatten() {
            assert!(operation["responses"].get("404").is_some(), "{method} {path} does not document 404");
        }
    }
});

api_test!(a_refusal_by_the_statutes_is_a_documented_422_on_the_register, |app| {
    let token = app.sign_in(SECRETARIAT);
    let response =
        app.call(Method::POST, "/associations/coop/persons", Some(&token), Some(json!({"name": ""})));
    assert_eq!(response.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.1);
    assert_eq!(response.1["code"], "person.name_missing");
    let doc = document(&app);
    for (path, method) in [
        ("/associations/{association}/persons", "post"),
        ("/associations/{association}/members/{member}/email", "put"),
        ("/associations/{association}/persons/{person}/representations", "post"),
        ("/associations/{association}/persons/{person}/representations/{member}", "delete"),
        ("/associations/{association}/supervisory-board", "put"),
    ] {
        assert!(responses(&doc, path, method).contains(&"422"), "{method} {path} does not document 422");
    }
});

api_test!(enum_fields_of_request_bodies_list_their_values, |app| {
    let doc = document(&app);
    let choice = &schema(&doc, "CastBallot")["properties"]["choice"]["$ref"];
    assert_eq!(choice, "#/components/schemas/Choice");
    assert_eq!(schema(&doc, "Choice")["enum"], json!(["for", "against", "abstain"]));
    assert_eq!(
        schema(&doc, "NewProxy")["properties"]["instructions"]["additionalProperties"]["$ref"],
        "#/components/schemas/Instruction"
    );
    assert_eq!(schema(&doc, "Instruction")["enum"], json!(["for", "against", "abstain", "free"]));
    assert_eq!(schema(&doc, "Outcome")["enum"], json!(["adopted", "rejected", "no_quorum"]));
    for (name, field) in [
        ("NewMotion", "kind"),
        ("CheckIn", "mode"),
        ("OpenPoll", "method"),
        ("Declare", "outcome"),
        ("RegisterMember", "kind"),
        ("AssignRepresentative", "capacity"),
        ("CastResolutionVote", "choice"),
    ] {
        let reference = schema(&doc, name)["properties"][field]["$ref"].as_str().unwrap_or_default();
        let target = reference.rsplit('/').next().unwrap_or_default();
        assert!(schema(&doc, target)["enum"].is_array(), "{name}.{field} is no enum: {reference:?}");
    }
    // A value outside the enum is a malformed request, not a refusal by the statutes.
    let token = app.sign_in(SECRETARIAT);
    let response = app.call(
        Method::POST,
        "/associations/coop/meetings/m/agenda-items/i/ballots",
        Some(&token),
        Some(json!({"member": "m", "choice": "maybe", "signature": null})),
    );
    assert_eq!(response.0, StatusCode::BAD_REQUEST, "{}", response.1);
});

api_test!(the_live_view_documents_its_events_with_the_snapshot_as_their_data, |app| {
    let doc = document(&app);
    let path = "/api/v1/associations/{association}/meetings/{meeting}/live";
    let event = &doc["paths"][path]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"];
    assert_eq!(event["required"], json!(["event", "data"]), "{event}");
    let data = &event["properties"]["data"];
    assert_eq!(data["contentMediaType"], "application/json");
    assert_eq!(data["contentSchema"]["$ref"], "#/components/schemas/LiveSnapshot");
});

api_test!(a_signature_in_hex_with_a_sign_is_a_malformed_request, |app| {
    // Found by the api_payloads fuzz target: "+4" read as 0x04, so this signature was accepted
    // as 64 bytes. It is no hexadecimal now, and the body is refused before anything is done.
    let token = app.sign_in(SECRETARIAT);
    let signature = "3866339b92dd32ef52919e1fcca1b975efaf999930971dcff146c5bc8a71b2f15b12739d40239c951c32ab20d726bac260eb+4ef9a7b9d75ad5d3afa3819ae0c";
    let response = app.call(
        Method::DELETE,
        "/associations/coop/persons/nobody/keys/3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        Some(&token),
        Some(json!({"sequence": 3, "signature": signature})),
    );
    assert_eq!(response.0, StatusCode::BAD_REQUEST, "{}", response.1);
    assert!(response.1["detail"].as_str().is_some_and(|d| d.contains("hexadecimal")), "{}", response.1);
});

api_test!(a_method_a_path_does_not_answer_is_405_with_the_methods_it_does, |app| {
    let token = app.sign_in(SECRETARIAT);
    let path = "/associations/coop/meetings/alv/agenda-items/item-1/ballots";
    let response = app
        .client
        .request(Method::DELETE, app.url(path))
        .bearer_auth(&token)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers().get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    let body: Value = response.json().unwrap_or(Value::Null);
    assert_eq!(body["code"], "route.method_not_allowed", "{body}");
    // A path that answers two methods names both; a path the API does not have is a 404.
    let response = app
        .client
        .request(Method::PATCH, app.url("/associations/coop/members"))
        .bearer_auth(&token)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers().get("allow").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let missing = app.call(Method::GET, "/associations/coop/no-such-thing", Some(&token), None);
    assert_problem(&missing, StatusCode::NOT_FOUND, "route.unknown", None);
});
