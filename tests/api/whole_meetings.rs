//! Whole meetings driven over HTTP, each request made by the person who would make it: the
//! secretariat keeps the register and convenes, voters check themselves in and vote, the chair
//! opens, runs the polls and declares.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::Clock;
use stembus::core::{Command, PersonId, ProxyForm, ProxyHolder};
use stembus::ledger::author;
use stembus::scenario::Scenario;

use crate::api_test;
use crate::support::{SECRETARIAT, TestApp, tree_head};

/// Signs people in as needed (again when their session may have run out on the test's clock).
struct People<'a> {
    app: &'a TestApp,
    emails: HashMap<PersonId, String>,
    sessions: HashMap<String, (String, stembus::core::Instant)>,
}

impl<'a> People<'a> {
    fn new(app: &'a TestApp) -> Self {
        Self { app, emails: HashMap::new(), sessions: HashMap::new() }
    }

    fn token(&mut self, email: &str) -> String {
        let now = stembus::clock::Clock::now(self.app.clock.as_ref());
        if let Some((token, since)) = self.sessions.get(email)
            && now - *since < chrono::Duration::hours(11)
        {
            return token.clone();
        }
        let token = self.app.sign_in(email);
        self.sessions.insert(email.to_owned(), (token.clone(), now));
        token
    }

    fn person(&mut self, person: PersonId) -> String {
        let email = self.emails.get(&person).cloned().unwrap_or_else(|| panic!("no e-mail for {person}"));
        self.token(&email)
    }

    fn secretariat(&mut self) -> String {
        self.token(SECRETARIAT)
    }
}

fn holder(h: ProxyHolder) -> Value {
    match h {
        ProxyHolder::Member { member } => json!({"holder": "member", "member": member.to_string()}),
        ProxyHolder::ConnectedPerson { person } => {
            json!({"holder": "connected_person", "person": person.to_string()})
        }
        ProxyHolder::SupervisoryBoardChair { person } => {
            json!({"holder": "supervisory_board_chair", "person": person.to_string()})
        }
        ProxyHolder::Notary { person } => json!({"holder": "notary", "person": person.to_string()}),
        ProxyHolder::Lawyer { person } => json!({"holder": "lawyer", "person": person.to_string()}),
    }
}

/// A value's name in JSON, e.g. `for` or `adopted`.
fn code<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// The HTTP request that carries out a command, and who makes it. Ballots, electronic proxies
/// and declarations are signed with their author's scenario key, enrolled over HTTP by the
/// author first when they have none.
fn request(people: &mut People, command: Command) -> (Method, String, String, Option<Value>) {
    let m = |id: &dyn std::fmt::Display| format!("/associations/coop/meetings/{id}");
    match command {
        Command::RegisterPerson { person, name, email, profession } => {
            if let Some(e) = &email {
                people.emails.insert(person, e.to_string());
            }
            (
                Method::POST,
                "/associations/coop/persons".into(),
                people.secretariat(),
                Some(
                    json!({"id": person.to_string(), "name": name, "email": email, "profession": profession}),
                ),
            )
        }
        Command::AppointSupervisoryBoardChair { person, deputy } => {
            let body = if deputy {
                json!({"deputy": person.to_string()})
            } else {
                json!({"chair": person.to_string()})
            };
            (Method::PUT, "/associations/coop/supervisory-board".into(), people.secretariat(), Some(body))
        }
        Command::RegisterMember { member, name, kind, email, language } => (
            Method::POST,
            "/associations/coop/members".into(),
            people.secretariat(),
            Some(
                json!({"id": member.to_string(), "name": name, "kind": kind, "email": email, "language": language}),
            ),
        ),
        Command::AssignRepresentative { person, member, capacity } => (
            Method::POST,
            format!("/associations/coop/persons/{person}/representations"),
            people.secretariat(),
            Some(json!({"member": member.to_string(), "capacity": capacity})),
        ),
        Command::CreateMeeting { meeting, title, starts_at, place, agenda, follow_up_of, request } => {
            let agenda: Vec<Value> = agenda
                .into_iter()
                .map(|i| {
                    json!({"id": i.item.to_string(), "title": i.title, "carried_from": i.carried_from.map(|c| c.to_string()), "annual_accounts": i.annual_accounts,
                           "motion": i.motion.map(|mo| json!({"text": mo.text, "kind": mo.kind, "proposal": mo.proposal, "board_proposal_approved": mo.board_proposal_approved}))})
                })
                .collect();
            let body = json!({"id": meeting.to_string(), "title": title, "starts_at": starts_at.to_rfc3339(), "place": place, "agenda": agenda,
                              "follow_up_of": follow_up_of.map(|f| f.to_string()), "request": request.map(|r| r.to_string())});
            (Method::POST, "/associations/coop/meetings".into(), people.secretariat(), Some(body))
        }
        Command::ConveneMeeting { meeting, by, advance_voting, electronic_participation } => {
            let body = json!({"convener": by, "advance_voting": advance_voting, "electronic_participation": electronic_participation});
            (Method::POST, format!("{}/convocation", m(&meeting)), people.secretariat(), Some(body))
        }
        Command::GrantProxy { meeting, proxy, grantor, holder: h, ref instructions, form, .. } => {
            let body = json!({"id": proxy.to_string(), "grantor": grantor.to_string(), "holder": holder(h), "instructions": instructions});
            if form == ProxyForm::Electronic {
                // The grantor's representative records and signs it.
                let (person, _) = people
                    .app
                    .state(|s| author::statement_for(s, &command, 0))
                    .unwrap_or_else(|| panic!("nobody signs {command:?}"));
                let token = people.person(person);
                let key = people.app.signer(&token, person);
                let body = people.app.signed_proxy(&key, &meeting.to_string(), body);
                (Method::POST, format!("{}/proxies", m(&meeting)), token, Some(body))
            } else {
                // A proxy on paper: the secretariat records it as received.
                (Method::POST, format!("{}/proxies", m(&meeting)), people.secretariat(), Some(body))
            }
        }
        Command::CheckIn { meeting, member, person, mode } => {
            let token = people.person(person);
            (
                Method::POST,
                format!("{}/attendance", m(&meeting)),
                token,
                Some(json!({"member": member.to_string(), "mode": mode})),
            )
        }
        Command::CheckOut { meeting, member } => {
            (Method::DELETE, format!("{}/attendance/{member}", m(&meeting)), people.secretariat(), None)
        }
        Command::OpenMeeting { meeting, chair, .. } => {
            (Method::POST, format!("{}/opening", m(&meeting)), people.person(chair), Some(json!({})))
        }
        Command::CloseMeeting { meeting, by } => {
            (Method::POST, format!("{}/closing", m(&meeting)), people.person(by), None)
        }
        Command::OpenPoll { meeting, poll, item, method, by, revote_of } => (
            Method::POST,
            format!("{}/polls", m(&meeting)),
            people.person(by),
            Some(
                json!({"id": poll.to_string(), "item": item.to_string(), "method": method, "revote_of": revote_of.map(|r| r.to_string())}),
            ),
        ),
        Command::CastBallot { meeting, item, member, person, choice, .. } => {
            let token = people.person(person);
            let key = people.app.signer(&token, person);
            let body = people.app.signed_ballot(
                &key,
                &meeting.to_string(),
                &item.to_string(),
                &member.to_string(),
                &code(&choice),
            );
            (Method::POST, format!("{}/agenda-items/{item}/ballots", m(&meeting)), token, Some(body))
        }
        Command::ClosePoll { meeting, poll, by, counts } => (
            Method::POST,
            format!("{}/polls/{poll}/closing", m(&meeting)),
            people.person(by),
            Some(json!({"counts": counts})),
        ),
        Command::DeclareResult { meeting, poll, by, outcome, .. } => {
            let token = people.person(by);
            let key = people.app.signer(&token, by);
            let body =
                people.app.signed_declaration(&key, &meeting.to_string(), &poll.to_string(), &code(&outcome));
            (Method::POST, format!("{}/polls/{poll}/declaration", m(&meeting)), token, Some(body))
        }
        other => panic!("this driver does not carry {other:?}"),
    }
}

/// Replays a scenario over HTTP; every step must go as the scenario says.
pub(crate) fn drive(app: &TestApp, scenario: &str) {
    let scenario = Scenario::from_toml(scenario).unwrap_or_else(|e| panic!("{e}"));
    let mut people = People::new(app);
    let mut at = None;
    for (n, step) in scenario.step.into_iter().enumerate() {
        let now = step.at.or(at).unwrap_or_else(|| panic!("no moment"));
        at = Some(now);
        app.clock.set(now);
        let (method, path, token, body) = request(&mut people, step.command);
        let (status, answer) = app.call(method, &path, Some(&token), body);
        match step.expect {
            None => assert!(status.is_success(), "step {}: {path}: {status} {answer}", n + 1),
            Some(code) => {
                assert_eq!(answer["code"], code.as_str(), "step {}: {path}: {answer}", n + 1);
                assert!(status.is_client_error(), "step {}: {status}", n + 1);
            }
        }
    }
}

api_test!(the_meeting_of_7_december_2022_replays_over_http, |app| {
    drive(&app, include_str!("../../scenarios/alv-2022-12-07.toml"));
    let token = app.sign_in(SECRETARIAT);
    let (status, results) = app.get("/associations/coop/meetings/alv-2022-12-07/results", &token);
    assert_eq!(status, StatusCode::OK, "{results}");
    let results = results.as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|r| r["outcome"] == "adopted"), "{results:?}");
    let amendment = results
        .iter()
        .find(|r| r["quorum"]["needed"] == 27)
        .cloned()
        .unwrap_or_else(|| panic!("no statute amendment in {results:?}"));
    assert_eq!(amendment["counts"]["votes_cast"], 26);
    assert_eq!(amendment["quorum"]["met"], true);
    let (_, minutes) = app.get("/associations/coop/meetings/alv-2022-12-07/minutes", &token);
    assert_eq!(minutes["decisions"].as_array().map(Vec::len), Some(3));

    // The chair enrolled a key to sign the declarations; Olst-Wijhe's official signed its
    // electronic proxy.
    let (_, keys) =
        app.get(&format!("/associations/coop/persons/{}/keys", PersonId::named("johan-dijkstra")), &token);
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
    assert_eq!(
        keys[0]["key"],
        author::key_bytes(&author::scenario_key(PersonId::named("johan-dijkstra"))).to_hex()
    );
    assert_eq!(keys[0]["status"], "current");
    assert!(keys[0]["last_sequence"].as_u64().is_some_and(|s| s > 3), "three declarations: {keys}");
    let (_, proxies) = app.get("/associations/coop/meetings/alv-2022-12-07/proxies", &token);
    let electronic: Vec<&str> = proxies
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["form"] == "electronic")
        .filter_map(|p| p["grantor_name"].as_str())
        .collect();
    assert_eq!(electronic, ["Gemeente Olst-Wijhe"], "{proxies}");
});

/// 40 members, each with a representative who has an e-mail, and the chair of the supervisory board.
fn forty_members(app: &TestApp) -> String {
    let token = app.sign_in(SECRETARIAT);
    for i in 1..=40 {
        app.ok(
            Method::POST,
            "/associations/coop/members",
            &token,
            Some(json!({"id": format!("m{i}"), "name": format!("Gemeente {i}"), "kind": "gemeente"})),
            StatusCode::CREATED,
        );
        app.ok(Method::POST, "/associations/coop/persons", &token, Some(json!({"id": format!("p{i}"), "name": format!("Wethouder {i}"), "email": format!("p{i}@coop.example")})), StatusCode::CREATED);
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
        Some(json!({"id": "chair", "name": "Voorzitter RvC", "email": "chair@coop.example"})),
        StatusCode::CREATED,
    );
    app.ok(
        Method::PUT,
        "/associations/coop/supervisory-board",
        &token,
        Some(json!({"chair": "chair"})),
        StatusCode::NO_CONTENT,
    );
    token
}

/// Checks members `range` in, opens a poll on `item`, lets `against` of them vote against and
/// the rest for, closes and declares; returns the result.
fn poll(
    app: &TestApp,
    meeting: &str,
    item: &str,
    members: std::ops::RangeInclusive<usize>,
    against: usize,
    chair: &str,
) -> Value {
    let path = format!("/associations/coop/meetings/{meeting}");
    app.ok(
        Method::POST,
        &format!("{path}/polls"),
        chair,
        Some(json!({"id": format!("{meeting}-poll"), "item": item, "method": "electronic"})),
        StatusCode::CREATED,
    );
    for (n, i) in members.enumerate() {
        let voter = app.sign_in(&format!("p{i}@coop.example"));
        let key = app.signer(&voter, PersonId::named(&format!("p{i}")));
        let choice = if n < against { "against" } else { "for" };
        app.ok(
            Method::POST,
            &format!("{path}/agenda-items/{item}/ballots"),
            &voter,
            Some(app.signed_ballot(&key, meeting, item, &format!("m{i}"), choice)),
            StatusCode::CREATED,
        );
    }
    // An electronic poll closes without a body.
    app.ok(Method::POST, &format!("{path}/polls/{meeting}-poll/closing"), chair, None, StatusCode::OK);
    let (status, result) = app.get(&format!("{path}/polls/{meeting}-poll/result"), chair);
    assert_eq!(status, StatusCode::OK, "{result}");
    let outcome = result["outcome"].as_str().unwrap_or_default();
    let key = app.signer(chair, PersonId::named("chair"));
    app.ok(
        Method::POST,
        &format!("{path}/polls/{meeting}-poll/declaration"),
        chair,
        Some(app.signed_declaration(&key, meeting, &format!("{meeting}-poll"), outcome)),
        StatusCode::OK,
    );
    result
}

fn check_in(app: &TestApp, meeting: &str, members: std::ops::RangeInclusive<usize>) {
    for i in members {
        let voter = app.sign_in(&format!("p{i}@coop.example"));
        app.ok(
            Method::POST,
            &format!("/associations/coop/meetings/{meeting}/attendance"),
            &voter,
            Some(json!({"member": format!("m{i}"), "mode": "electronic"})),
            StatusCode::CREATED,
        );
    }
}

api_test!(a_statute_amendment_misses_its_quorum_and_passes_in_the_new_meeting_art_20_1, |app| {
    let secretariat = forty_members(&app);
    let amendment = json!({"text": "Artikel 8 lid 2 wordt gewijzigd.", "kind": "statute_amendment", "proposal": "Ontwerpakte", "board_proposal_approved": true});
    app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &secretariat,
        Some(json!({
            "id": "alv", "title": "ALV", "starts_at": "2026-04-15T19:00:00+02:00", "place": "Online",
            "agenda": [{"id": "statuten", "title": "Statutenwijziging", "motion": amendment}]
        })),
        StatusCode::CREATED,
    );
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &secretariat,
        Some(json!({"electronic_participation": "Via de link in deze oproep"})),
        StatusCode::OK,
    );

    // 26 of 40 attend: two thirds (27) are needed for a statute amendment.
    app.at("2026-04-15T18:45:00+02:00");
    check_in(&app, "alv", 1..=26);
    app.at("2026-04-15T19:00:00+02:00");
    let chair = app.sign_in("chair@coop.example");
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &chair, Some(json!({})), StatusCode::OK);
    let first = poll(&app, "alv", "statuten", 1..=26, 0, &chair);
    assert_eq!(first["outcome"], "no_quorum", "{first}");
    assert_eq!(first["quorum"]["needed"], 27);
    let window = first["follow_up"].clone();
    assert_eq!(
        (window["earliest"].as_str(), window["latest"].as_str()),
        (Some("2026-04-29"), Some("2026-05-27")),
        "{first}"
    );
    app.ok(Method::POST, "/associations/coop/meetings/alv/closing", &chair, None, StatusCode::OK);

    // A new meeting four weeks later decides whatever the attendance, still by two thirds.
    app.at("2026-04-16T10:00:00+02:00");
    let secretariat = app.sign_in(SECRETARIAT);
    // Outside its window the new meeting is refused, naming the article and the dates.
    let late = app.post("/associations/coop/meetings", &secretariat, json!({
        "id": "alv-3", "title": "Te laat", "starts_at": "2026-06-01T19:00:00+02:00", "place": "Online", "follow_up_of": "alv",
        "agenda": [{"id": "statuten-3", "title": "Statutenwijziging", "carried_from": "statuten", "motion": amendment}]
    }));
    assert_eq!(late.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.1);
    assert_eq!(
        (late.1["rule"].as_str(), late.1["article"].as_str(), late.1["code"].as_str()),
        (Some("R7"), Some("20.1"), Some("follow_up.outside_window"))
    );
    assert!(late.1["detail"].as_str().is_some_and(|d| d.contains("2026-05-27")), "{}", late.1);

    let carried = json!({"id": "statuten-2", "title": "Statutenwijziging", "carried_from": "statuten", "motion": amendment});
    let created = app.ok(Method::POST, "/associations/coop/meetings", &secretariat, Some(json!({
        "id": "alv-2", "title": "Nieuwe ALV", "starts_at": "2026-05-13T19:00:00+02:00", "place": "Online", "follow_up_of": "alv", "agenda": [carried]
    })), StatusCode::CREATED);
    assert_eq!(created["follow_up_of"].as_str().map(str::len), Some(36));
    let convened = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv-2/convocation",
        &secretariat,
        Some(json!({"electronic_participation": "Via de link"})),
        StatusCode::OK,
    );
    assert!(
        convened.to_string().contains("whatever the number of members present or represented"),
        "{convened}"
    );
    app.at("2026-05-13T18:45:00+02:00");
    check_in(&app, "alv-2", 1..=10);
    app.at("2026-05-13T19:00:00+02:00");
    let chair = app.sign_in("chair@coop.example");
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv-2/opening",
        &chair,
        Some(json!({})),
        StatusCode::OK,
    );
    let second = poll(&app, "alv-2", "statuten-2", 1..=10, 1, &chair);
    assert_eq!(second["outcome"], "adopted", "{second}");
    assert_eq!(second["quorum"]["waived"], true);
    assert_eq!(
        (second["counts"]["for"].as_u64(), second["counts"]["votes_cast"].as_u64()),
        (Some(9), Some(10))
    );
});

api_test!(a_voter_keeps_a_ballot_receipt_and_later_proves_it_was_counted, |app| {
    drive(&app, include_str!("../../scenarios/alv-2022-12-07.toml"));
    let service_key = app.service_key();

    // Rotterdam's official casts an advance ballot in a fresh meeting and keeps the receipt.
    app.at("2026-03-02T10:00:00+01:00");
    let secretariat = app.sign_in(SECRETARIAT);
    app.ok(Method::POST, "/associations/coop/meetings", &secretariat, Some(json!({
        "id": "alv-2026", "title": "ALV 2026", "starts_at": "2026-03-25T19:00:00+01:00", "place": "Online",
        "agenda": [{"id": "jaarrekening", "title": "Jaarrekening", "motion": {"text": "De jaarrekening wordt vastgesteld.", "kind": "ordinary"}}]
    })), StatusCode::CREATED);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv-2026/convocation",
        &secretariat,
        Some(json!({"advance_voting": true})),
        StatusCode::OK,
    );
    let voter = app.sign_in("rotterdam-official@example.org");
    let key = app.signer(&voter, PersonId::named("rotterdam-official"));
    let ballot = app.ok(
        Method::POST,
        "/associations/coop/meetings/alv-2026/agenda-items/jaarrekening/ballots",
        &voter,
        Some(app.signed_ballot(&key, "alv-2026", "jaarrekening", "rotterdam", "for")),
        StatusCode::CREATED,
    );
    let receipt = ballot["log_receipt"].clone();
    let first_head = app.verify_receipt(&receipt);
    let index = receipt["leaf_index"].as_u64().unwrap_or(u64::MAX);

    // More happens; the voter asks the latest head and checks it extends the one it kept.
    let others = app.sign_in("rasker@example.org");
    let key = app.signer(&others, PersonId::named("rasker"));
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv-2026/agenda-items/jaarrekening/ballots",
        &others,
        Some(app.signed_ballot(&key, "alv-2026", "jaarrekening", "assen", "against")),
        StatusCode::CREATED,
    );
    let (_, latest) = app.get("/associations/coop/meetings/alv-2026/log/head", &voter);
    let latest = tree_head(&latest);
    assert!(latest.head.size > first_head.head.size);
    assert_eq!(latest.verify(&service_key), Ok(()));
    app.verify_consistency("/associations/coop/meetings/alv-2026/log", &voter, &first_head, &latest);

    // The ballot's entry, as an auditor exports it, hashes to the leaf in the receipt.
    let auditor_email = "accountant@coop.example";
    let person = PersonId::named("auditor");
    app.service
        .execute(
            crate::support::coop(),
            Command::RegisterPerson {
                person,
                name: "Accountant".into(),
                email: auditor_email.parse().ok(),
                profession: None,
            },
            app.clock.now(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = app.service.store().connection().unwrap_or_else(|e| panic!("{e}"));
    stembus::store::access::grant_role(&mut conn, crate::support::coop(), person, "auditor", app.clock.now())
        .unwrap_or_else(|e| panic!("{e}"));
    let auditor = app.sign_in(auditor_email);
    let (_, events) = app.get("/associations/coop/meetings/alv-2026/events", &auditor);
    let entry = events
        .as_array()
        .and_then(|e| e.iter().find(|x| x["stream_index"].as_u64() == Some(index)))
        .cloned()
        .unwrap_or_else(|| panic!("no entry {index}"));
    assert_eq!(entry["leaf_hash"], receipt["leaf_hash"]);
    let leaf = stembus::ledger::log::entry_hash(
        crate::support::coop(),
        Some(stembus::core::MeetingId::named("alv-2026")),
        index,
        entry["seq"].as_u64().unwrap_or_default(),
        entry["at"].as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no time")),
        entry["body"].as_str().unwrap_or_default().as_bytes(),
    );
    assert_eq!(stembus::ledger::log::hex(&leaf), receipt["leaf_hash"].as_str().unwrap_or_default());
});
