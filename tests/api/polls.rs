//! Polls, ballots and resolutions outside a meeting over HTTP (Art. 8.10, 8.12, 8.13, 17.5).
//!
//! The register and the meeting are set up through the service directly (their routes are
//! another module's); every poll, ballot, declaration, challenge and resolution goes over
//! HTTP, signed in as the person who acts.

use std::collections::BTreeSet;
use std::sync::Barrier;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use stembus::clock::Clock;
use stembus::core::register::{Capacity, MemberKind};
use stembus::core::{
    AgendaItemId, AgendaItemSpec, Command, Convener, DecisionKind, Fact, MeetingId, MemberId, Mode,
    MotionSpec, PersonId,
};
use stembus::store::log::Logged;

use crate::api_test;
use crate::support::{SECRETARIAT, TestApp, assert_problem, coop};

const MEETING: &str = "alv";
const ITEM: &str = "contribution";
const POLLS: &str = "/associations/coop/meetings/alv/polls";
const BALLOTS: &str = "/associations/coop/meetings/alv/agenda-items/contribution/ballots";
const CHAIR: &str = "voorzitter@rvc.example";
const AUDITOR: &str = "accountant@coop.example";

pub(crate) fn member(i: usize) -> MemberId {
    MemberId::named(&format!("m{i}"))
}

pub(crate) fn rep(i: usize) -> PersonId {
    PersonId::named(&format!("p{i}"))
}

pub(crate) fn email(i: usize) -> String {
    format!("wethouder@gemeente{i}.example")
}

fn poll(name: &str) -> String {
    format!("{POLLS}/{name}")
}

/// Runs a command through the service, at the test's clock; it must be accepted.
pub(crate) fn execute(app: &TestApp, command: Command) -> Vec<Logged> {
    let shown = format!("{command:?}");
    app.service
        .execute(coop(), command, app.clock.now())
        .unwrap_or_else(|e| panic!("refused: {e}\ncommand: {shown}"))
}

/// `n` municipalities, each with a portfolio holder who has an e-mail address, and the chair of
/// the supervisory board.
pub(crate) fn register(app: &TestApp, n: usize) {
    for i in 1..=n {
        execute(
            app,
            Command::RegisterMember {
                member: member(i),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            },
        );
        execute(
            app,
            Command::RegisterPerson {
                person: rep(i),
                name: format!("Wethouder {i}"),
                email: email(i).parse().ok(),
                profession: None,
            },
        );
        execute(
            app,
            Command::AssignRepresentative {
                person: rep(i),
                member: member(i),
                capacity: Capacity::PortfolioHolder,
            },
        );
    }
    let chair = PersonId::named("chair");
    execute(
        app,
        Command::RegisterPerson {
            person: chair,
            name: "Voorzitter RvC".into(),
            email: CHAIR.parse().ok(),
            profession: None,
        },
    );
    execute(app, Command::AppointSupervisoryBoardChair { person: chair, deputy: false });
}

/// The meeting of 10 June 2026 with one motion of `kind`, convened on 20 May with advance
/// electronic voting open (Art. 8.13).
fn convene(app: &TestApp, kind: DecisionKind) {
    app.at("2026-05-20T10:00:00+02:00");
    execute(
        app,
        Command::CreateMeeting {
            meeting: MeetingId::named(MEETING),
            title: "ALV juni 2026".into(),
            starts_at: crate::support::t("2026-06-10T19:00:00+02:00"),
            place: "Enschede".into(),
            agenda: vec![AgendaItemSpec {
                item: AgendaItemId::named(ITEM),
                title: "Contribution 2027".into(),
                motion: Some(MotionSpec {
                    text: "The contribution for 2027 is set as proposed.".into(),
                    kind,
                    proposal: None,
                    board_proposal_approved: false,
                }),
                carried_from: None,
                concerns_member: None,
                annual_accounts: false,
            }],
            follow_up_of: None,
            request: None,
        },
    );
    execute(
        app,
        Command::ConveneMeeting {
            meeting: MeetingId::named(MEETING),
            by: Convener::Board,
            advance_voting: true,
            electronic_participation: None,
        },
    );
}

/// Checks in the members `present` in the room at 18:50 and opens the meeting at 19:00 with the
/// chair of the supervisory board.
fn open(app: &TestApp, present: &[usize]) {
    app.at("2026-06-10T18:50:00+02:00");
    for i in present {
        execute(
            app,
            Command::CheckIn {
                meeting: MeetingId::named(MEETING),
                member: member(*i),
                person: rep(*i),
                mode: Mode::InPerson,
            },
        );
    }
    app.at("2026-06-10T19:00:00+02:00");
    execute(
        app,
        Command::OpenMeeting {
            meeting: MeetingId::named(MEETING),
            chair: PersonId::named("chair"),
            appointed_by_meeting: false,
        },
    );
}

/// An association of `n` members whose meeting on a motion of `kind` is open with all of them
/// present; the chair is signed in.
fn meeting_in_session(app: &TestApp, n: usize, kind: DecisionKind) -> String {
    register(app, n);
    convene(app, kind);
    open(app, &(1..=n).collect::<Vec<_>>());
    app.sign_in(CHAIR)
}

/// Casts the ballot of `rep(i)` (signed in as `token`) for member `i`, signed with their key.
fn vote(app: &TestApp, token: &str, i: usize, choice: &str) -> Value {
    let key = app.signer(token, rep(i));
    app.ok(
        Method::POST,
        BALLOTS,
        token,
        Some(app.signed_ballot(&key, MEETING, ITEM, &member(i).to_string(), choice)),
        StatusCode::CREATED,
    )
}

/// The body of the chair's declaration of `outcome` for poll `name`, signed with the chair's key.
fn declaration(app: &TestApp, chair: &str, name: &str, outcome: &str) -> Value {
    let key = app.signer(chair, PersonId::named("chair"));
    app.signed_declaration(&key, MEETING, name, outcome)
}

fn auditor(app: &TestApp) -> String {
    let secretariat = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &secretariat,
        Some(json!({"id": "auditor", "name": "Accountant", "email": AUDITOR})),
        StatusCode::CREATED,
    );
    let (status, body) = app.post(
        "/associations/coop/role-grants",
        &secretariat,
        json!({"person": PersonId::named("auditor").to_string(), "role": "auditor"}),
    );
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.sign_in(AUDITOR)
}

// ---- Electronic polls and their explained result ---------------------------------------------

api_test!(the_chair_holds_an_electronic_poll_and_the_result_explains_itself_art_4_6, |app| {
    let chair = meeting_in_session(&app, 6, DecisionKind::TwoThirds);
    let voters: Vec<String> = (1..=6).map(|i| app.sign_in(&email(i))).collect();

    let opened = app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "fee", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );
    assert_eq!(opened["method"], "electronic");
    assert_eq!(opened["item_title"], "Contribution 2027");
    assert_eq!(opened["ballots"], 0);
    assert!(opened["closed_at"].is_null() && opened["result"].is_null(), "{opened}");

    for (i, token) in voters.iter().enumerate() {
        let choice = if i < 4 { "for" } else { "against" };
        let receipt = vote(&app, token, i + 1, choice);
        assert_eq!(receipt["via"], "own");
        assert_eq!(receipt["poll"], opened["id"]);
        assert_eq!(receipt["person"], rep(i + 1).to_string());
        assert!(receipt["seq"].as_i64().is_some_and(|s| s > 0), "{receipt}");
    }

    // While open: how many voted, never how.
    let (_, open_poll) = app.get(&poll("fee"), &voters[0]);
    assert_eq!(open_poll["ballots"], 6);
    assert!(open_poll["result"].is_null());
    assert_problem(
        &app.get(&format!("{}/result", poll("fee")), &chair),
        StatusCode::NOT_FOUND,
        "poll.no_result",
        None,
    );

    app.at("2026-06-10T19:20:00+02:00");
    let closed =
        app.ok(Method::POST, &format!("{}/closing", poll("fee")), &chair, Some(json!({})), StatusCode::OK);
    assert!(closed["closed_at"].is_string());
    let r = &closed["result"];
    assert_eq!(r["counts"], json!({"for": 4, "against": 2, "abstain": 0, "votes_cast": 6}));
    assert_eq!(r["members_in_office"], 6);
    assert_eq!(
        r["present_or_represented"],
        json!({"total": 6, "in_person": 6, "electronically": 0, "by_proxy": 0, "by_advance_ballot": 0})
    );
    assert_eq!(r["quorum"]["required"], "1/2");
    assert_eq!(r["quorum"]["needed"], 3);
    assert_eq!(r["quorum"]["met"], true);
    assert_eq!(r["quorum"]["waived"], false);
    assert_eq!(r["majority"]["rule"], "at least two thirds of votes cast");
    assert_eq!(r["majority"]["fraction"], "2/3");
    assert_eq!(r["majority"]["needed_for"], 4);
    assert_eq!(r["majority"]["reached"], true);
    assert_eq!(r["outcome"], "adopted");
    assert_eq!(r["kind"], "two_thirds");
    assert_eq!(
        r["decided_by"],
        json!({"rule": "R7", "article": "4.6, 6.3, 17.4a", "words": "at least two thirds of votes cast"})
    );
    let explanation = r["explanation"].as_str().unwrap_or_default();
    assert!(
        explanation.contains("two thirds of votes cast needed: 4 of 6 for; 4 for, 2 against"),
        "{explanation}"
    );
    assert!(explanation.ends_with("adopted"), "{explanation}");
    assert_eq!(r["verifiable_ballot_by_ballot"], true);
    assert_eq!(r["lapsed_advance_ballots"], 0);
    assert!(r["follow_up"].is_null());

    let declared = app.ok(
        Method::POST,
        &format!("{}/declaration", poll("fee")),
        &chair,
        Some(declaration(&app, &chair, "fee", "adopted")),
        StatusCode::OK,
    );
    assert_eq!(declared["declaration"]["outcome"], "adopted");
    assert_eq!(declared["declaration"]["by_name"], "Voorzitter RvC");

    let (status, result) = app.get(&format!("{}/result", poll("fee")), &voters[5]);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&result, r);
    let (_, results) = app.get("/associations/coop/meetings/alv/results", &voters[5]);
    assert_eq!(results.as_array().map(Vec::len), Some(1));
    let (_, polls) = app.get(POLLS, &voters[5]);
    assert_eq!(polls[0]["declaration"]["outcome"], "adopted");
});

// ---- Advance ballots (Art. 8.13) ---------------------------------------------------------------

api_test!(an_advance_ballot_is_replaced_by_the_members_ballot_in_the_meeting_art_8_13, |app| {
    register(&app, 3);
    convene(&app, DecisionKind::Ordinary);
    app.at("2026-06-10T12:00:00+02:00");
    let p1 = app.sign_in(&email(1));
    let p2 = app.sign_in(&email(2));

    let advance = vote(&app, &p1, 1, "against");
    assert_eq!(advance["via"], "advance");
    assert!(advance["poll"].is_null(), "{advance}");
    assert_eq!(advance["cast_at"], "2026-06-10T10:00:00Z");
    vote(&app, &p2, 2, "for");

    open(&app, &[1, 3]);
    let chair = app.sign_in(CHAIR);
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "c", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );
    let in_meeting = vote(&app, &p1, 1, "for");
    assert_eq!(in_meeting["via"], "own");
    assert_eq!(in_meeting["poll"], PollIdText::of("c"));
    assert!(in_meeting["stream_index"].as_i64() > advance["stream_index"].as_i64());

    let closed =
        app.ok(Method::POST, &format!("{}/closing", poll("c")), &chair, Some(json!({})), StatusCode::OK);
    assert_eq!(closed["ballots"], 1);
    assert_eq!(closed["advance_ballots"], 2);
    let r = &closed["result"];
    // Gemeente 1's ballot in the meeting replaced its advance ballot: one vote, for.
    assert_eq!(r["counts"], json!({"for": 2, "against": 0, "abstain": 0, "votes_cast": 2}));
    assert_eq!(r["present_or_represented"]["in_person"], 2);
    assert_eq!(r["present_or_represented"]["by_advance_ballot"], 1);
    assert_eq!(r["outcome"], "adopted");
});

/// The text of a readable id as the API shows it (a UUID).
struct PollIdText;

impl PollIdText {
    fn of(name: &str) -> String {
        stembus::core::PollId::named(name).to_string()
    }
}

// ---- Who may vote, open and close -------------------------------------------------------------

api_test!(a_voter_cannot_vote_for_a_member_it_does_not_represent_art_8_5, |app| {
    let chair = meeting_in_session(&app, 2, DecisionKind::Ordinary);
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "a", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );
    let p1 = app.sign_in(&email(1));

    let refused = app.post(BALLOTS, &p1, json!({"member": member(2).to_string(), "choice": "for"}));
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ballot.not_representative",
        Some(("R2", "8.5")),
    );

    // The person who votes is the caller; a body cannot name another.
    let named = app.post(
        BALLOTS,
        &p1,
        json!({"member": member(2).to_string(), "person": rep(2).to_string(), "choice": "for"}),
    );
    assert_problem(&named, StatusCode::BAD_REQUEST, "request.invalid_json", None);

    let (_, view) = app.get(&poll("a"), &chair);
    assert_eq!(view["ballots"], 0, "a refused ballot leaves no trace");
});

api_test!(only_the_chair_opens_and_closes_a_poll_and_an_auditor_changes_nothing_art_8_4, |app| {
    let chair = meeting_in_session(&app, 2, DecisionKind::Ordinary);
    let p1 = app.sign_in(&email(1));
    let auditor = auditor(&app);
    let secretariat = app.sign_in(SECRETARIAT);
    let body = json!({"id": "a", "item": ITEM, "method": "electronic"});

    let by_voter = app.post(POLLS, &p1, body.clone());
    assert_problem(&by_voter, StatusCode::UNPROCESSABLE_ENTITY, "chair.not_chair", Some(("R5", "8.4")));
    let by_secretariat = app.post(POLLS, &secretariat, body.clone());
    assert_problem(&by_secretariat, StatusCode::UNPROCESSABLE_ENTITY, "chair.not_chair", Some(("R5", "8.4")));
    let by_auditor = app.post(POLLS, &auditor, body.clone());
    assert_problem(&by_auditor, StatusCode::FORBIDDEN, "access.read_only", None);

    app.ok(Method::POST, POLLS, &chair, Some(body), StatusCode::CREATED);
    let closing = format!("{}/closing", poll("a"));
    assert_problem(
        &app.post(&closing, &p1, json!({})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "chair.not_chair",
        Some(("R5", "8.4")),
    );
    assert_problem(&app.post(&closing, &auditor, json!({})), StatusCode::FORBIDDEN, "access.read_only", None);
    let ballot = app.post(BALLOTS, &auditor, json!({"member": member(1).to_string(), "choice": "for"}));
    assert_problem(&ballot, StatusCode::FORBIDDEN, "access.read_only", None);
    let declaration =
        app.post(&format!("{}/declaration", poll("a")), &auditor, json!({"outcome": "adopted"}));
    assert_problem(&declaration, StatusCode::FORBIDDEN, "access.read_only", None);
    let challenge = app.post(&format!("{}/challenge", poll("a")), &auditor, json!({"supporters": []}));
    assert_problem(&challenge, StatusCode::FORBIDDEN, "access.read_only", None);

    // The auditor reads; the poll is still open and unchanged.
    let (status, view) = app.get(&poll("a"), &auditor);
    assert_eq!(status, StatusCode::OK);
    assert!(view["closed_at"].is_null());

    // Unknown meetings and polls are 404 before anything is executed.
    let unknown_meeting =
        app.post("/associations/coop/meetings/nope/polls", &chair, json!({"item": ITEM, "method": "voice"}));
    assert_problem(&unknown_meeting, StatusCode::NOT_FOUND, "meeting.unknown", None);
    assert_problem(
        &app.post(&format!("{}/closing", poll("nope")), &chair, json!({})),
        StatusCode::NOT_FOUND,
        "poll.unknown",
        None,
    );
    assert_problem(&app.get(&poll("nope"), &chair), StatusCode::NOT_FOUND, "poll.unknown", None);
    let unknown_ballot = app.post(
        "/associations/coop/meetings/nope/agenda-items/contribution/ballots",
        &p1,
        json!({"member": member(1).to_string(), "choice": "for"}),
    );
    assert_problem(&unknown_ballot, StatusCode::NOT_FOUND, "meeting.unknown", None);

    // A caller of another association is refused, whatever its role there.
    let outsider = app.other_association();
    let foreign = app.post(&closing, &outsider, json!({}));
    assert_problem(&foreign, StatusCode::FORBIDDEN, "access.other_association", None);
    assert_problem(&app.get(POLLS, &outsider), StatusCode::FORBIDDEN, "access.other_association", None);
    let foreign_ballot =
        app.post(BALLOTS, &outsider, json!({"member": member(1).to_string(), "choice": "for"}));
    assert_problem(&foreign_ballot, StatusCode::FORBIDDEN, "access.other_association", None);
});

// ---- The declaration and its challenge (Art. 17.5) --------------------------------------------

api_test!(a_declaration_that_contradicts_the_count_is_refused_art_17_5, |app| {
    let chair = meeting_in_session(&app, 3, DecisionKind::Ordinary);
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "a", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );
    for (i, choice) in [(1, "for"), (2, "for"), (3, "against")] {
        let token = app.sign_in(&email(i));
        vote(&app, &token, i, choice);
    }
    let closed =
        app.ok(Method::POST, &format!("{}/closing", poll("a")), &chair, Some(json!({})), StatusCode::OK);
    assert_eq!(closed["result"]["outcome"], "adopted");

    let declaration = format!("{}/declaration", poll("a"));
    let refused = app.post(&declaration, &chair, json!({"outcome": "rejected"}));
    assert_problem(
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "declaration.contradicts_count",
        Some(("R6", "17.5")),
    );
    assert!(
        refused.1["detail"].as_str().is_some_and(|d| d.contains("more than half of votes cast")),
        "{}",
        refused.1
    );
    let bad_outcome = app.post(&declaration, &chair, json!({"outcome": "carried"}));
    assert_problem(&bad_outcome, StatusCode::BAD_REQUEST, "request.invalid_json", None);

    let declared = app.ok(
        Method::POST,
        &declaration,
        &chair,
        Some(self::declaration(&app, &chair, "a", "adopted")),
        StatusCode::OK,
    );
    assert_eq!(declared["declaration"]["outcome"], "adopted");
});

api_test!(one_voter_challenges_a_voice_poll_and_the_new_poll_voids_it_art_17_5, |app| {
    let chair = meeting_in_session(&app, 4, DecisionKind::Ordinary);
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "voice", "item": ITEM, "method": "voice"})),
        StatusCode::CREATED,
    );
    let closing = format!("{}/closing", poll("voice"));
    let missing = app.post(&closing, &chair, json!({}));
    assert_problem(&missing, StatusCode::UNPROCESSABLE_ENTITY, "poll.counts_missing", Some(("R6", "8.10")));
    let closed = app.ok(
        Method::POST,
        &closing,
        &chair,
        Some(json!({"counts": {"for": 3, "against": 1, "abstain": 0}})),
        StatusCode::OK,
    );
    assert_eq!(closed["result"]["verifiable_ballot_by_ballot"], false);
    app.ok(
        Method::POST,
        &format!("{}/declaration", poll("voice")),
        &chair,
        Some(declaration(&app, &chair, "voice", "adopted")),
        StatusCode::OK,
    );

    let p1 = app.sign_in(&email(1));
    let challenge = format!("{}/challenge", poll("voice"));
    // Gemeente 1's representative cannot challenge in the name of Gemeente 2 alone.
    let for_another = app.post(&challenge, &p1, json!({"supporters": [member(2).to_string()]}));
    assert_problem(&for_another, StatusCode::FORBIDDEN, "access.not_a_supporter", None);

    let challenged = app.ok(
        Method::POST,
        &challenge,
        &p1,
        Some(json!({"supporters": [member(1).to_string()]})),
        StatusCode::OK,
    );
    assert_eq!(challenged["challenge"]["supporters"], json!([member(1).to_string()]));

    let revote = app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "again", "item": ITEM, "method": "electronic", "revote_of": PollIdText::of("voice")})),
        StatusCode::CREATED,
    );
    assert_eq!(revote["revote_of"], PollIdText::of("voice"));
    let (_, first) = app.get(&poll("voice"), &p1);
    assert_eq!(first["voided_by"], PollIdText::of("again"));

    // The new poll is held and decides.
    for i in 1..=4 {
        let token = app.sign_in(&email(i));
        vote(&app, &token, i, if i == 1 { "for" } else { "against" });
    }
    let recount =
        app.ok(Method::POST, &format!("{}/closing", poll("again")), &chair, Some(json!({})), StatusCode::OK);
    assert_eq!(recount["result"]["outcome"], "rejected");
    let (_, polls) = app.get(POLLS, &p1);
    assert_eq!(polls.as_array().map(Vec::len), Some(2));
});

api_test!(after_an_electronic_poll_one_voter_alone_cannot_force_a_new_poll_art_17_5, |app| {
    let chair = meeting_in_session(&app, 3, DecisionKind::Ordinary);
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "a", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );
    let p1 = app.sign_in(&email(1));
    vote(&app, &p1, 1, "for");
    app.ok(Method::POST, &format!("{}/closing", poll("a")), &chair, Some(json!({})), StatusCode::OK);
    app.ok(
        Method::POST,
        &format!("{}/declaration", poll("a")),
        &chair,
        Some(declaration(&app, &chair, "a", "adopted")),
        StatusCode::OK,
    );
    let alone =
        app.post(&format!("{}/challenge", poll("a")), &p1, json!({"supporters": [member(1).to_string()]}));
    assert_problem(
        &alone,
        StatusCode::UNPROCESSABLE_ENTITY,
        "challenge.needs_majority",
        Some(("R6", "17.5")),
    );
    // The secretariat records a challenge from the floor by the majority.
    let secretariat = app.sign_in(SECRETARIAT);
    let floor = app.ok(
        Method::POST,
        &format!("{}/challenge", poll("a")),
        &secretariat,
        Some(json!({"supporters": [member(2).to_string(), member(3).to_string()]})),
        StatusCode::OK,
    );
    assert!(floor["challenge"].is_object(), "{floor}");
});

// ---- One member, one vote under concurrency (R1) ------------------------------------------------

api_test!(concurrent_ballots_for_one_member_are_each_logged_once_and_one_counts_r1, |app| {
    register(&app, 2);
    let second = PersonId::named("p1b");
    execute(
        &app,
        Command::RegisterPerson {
            person: second,
            name: "Ambtenaar 1".into(),
            email: "ambtenaar@gemeente1.example".parse().ok(),
            profession: None,
        },
    );
    execute(
        &app,
        Command::AssignRepresentative { person: second, member: member(1), capacity: Capacity::Official },
    );
    convene(&app, DecisionKind::Ordinary);
    open(&app, &[1, 2]);
    let chair = app.sign_in(CHAIR);
    let tokens = [app.sign_in(&email(1)), app.sign_in("ambtenaar@gemeente1.example")];
    let keys = [app.enrol(&tokens[0], rep(1)), app.enrol(&tokens[1], second)];
    app.ok(
        Method::POST,
        POLLS,
        &chair,
        Some(json!({"id": "race", "item": ITEM, "method": "electronic"})),
        StatusCode::CREATED,
    );

    const ROUNDS: usize = 8;
    let barrier = Barrier::new(tokens.len());
    let receipts: Vec<Value> = std::thread::scope(|scope| {
        let handles: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(who, token)| {
                let (app, barrier, key) = (&app, &barrier, &keys[who]);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for round in 0..ROUNDS {
                        barrier.wait();
                        let choice = if (round + who) % 2 == 0 { "for" } else { "against" };
                        let ballot = app.signed_ballot(key, MEETING, ITEM, &member(1).to_string(), choice);
                        let (status, body) = app.post(BALLOTS, token, ballot);
                        assert_eq!(status, StatusCode::CREATED, "{body}");
                        mine.push(body);
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| panic!("a voter thread panicked")))
            .collect()
    });
    assert_eq!(receipts.len(), 2 * ROUNDS, "no ballot was lost");

    let log = app.service.meeting_log(coop(), MeetingId::named(MEETING)).unwrap_or_else(|e| panic!("{e}"));
    let logged: Vec<(i64, i64, String)> = log
        .iter()
        .filter_map(|l| match &l.event.fact {
            Fact::BallotCast { ballot, .. } if ballot.member == member(1) => {
                Some((l.seq, l.stream_index, format!("{:?}", ballot.choice).to_lowercase()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(logged.len(), receipts.len(), "every accepted ballot is in the log, once");
    let mut seqs: Vec<i64> = receipts.iter().filter_map(|r| r["seq"].as_i64()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, logged.iter().map(|(s, _, _)| *s).collect::<Vec<_>>());
    let indexes: BTreeSet<i64> = log.iter().map(|l| l.stream_index).collect();
    assert_eq!(indexes.len(), log.len(), "the meeting's log did not fork");
    for receipt in &receipts {
        let entry = logged.iter().find(|(s, _, _)| Some(*s) == receipt["seq"].as_i64());
        let entry = entry.unwrap_or_else(|| panic!("{receipt} is not in the log"));
        assert_eq!(Some(entry.1), receipt["stream_index"].as_i64());
        assert_eq!(receipt["choice"].as_str(), Some(entry.2.as_str()));
    }

    let (_, during) = app.get(&poll("race"), &chair);
    assert_eq!(during["ballots"], 1, "one effective ballot for the member");
    let closed =
        app.ok(Method::POST, &format!("{}/closing", poll("race")), &chair, Some(json!({})), StatusCode::OK);
    let counts = &closed["result"]["counts"];
    assert_eq!(counts["votes_cast"], 1);
    let last = logged.last().map(|(_, _, c)| c.clone()).unwrap_or_default();
    assert_eq!(counts[last.as_str()], 1, "the last ballot in the log counts: {counts}");
});

// ---- Resolutions outside a meeting (Art. 8.12) -------------------------------------------------

fn propose(app: &TestApp, id: &str) -> Value {
    let secretariat = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/resolutions",
        &secretariat,
        Some(json!({
            "id": id,
            "text": "The contribution for 2027 is set as proposed.",
            "kind": "ordinary",
            "closes_at": "2026-03-15T17:00:00+01:00",
            "board_informed": true,
            "supervisory_board_informed": true
        })),
        StatusCode::CREATED,
    )
}

fn resolution(id: &str) -> String {
    format!("/associations/coop/resolutions/{id}")
}

api_test!(a_resolution_outside_a_meeting_is_adopted_when_every_member_votes_for_art_8_12, |app| {
    register(&app, 3);
    let proposed = propose(&app, "fee-2027");
    assert_eq!(proposed["open"], true);
    assert_eq!(proposed["members_in_office"], 3);
    assert!(proposed["result"].is_null());
    let votes = format!("{}/votes", resolution("fee-2027"));
    let secretariat = app.sign_in(SECRETARIAT);

    for i in 1..=3 {
        let token = app.sign_in(&email(i));
        let key = app.signer(&token, rep(i));
        let receipt = app.ok(
            Method::POST,
            &votes,
            &token,
            Some(app.signed_resolution_vote(&key, "fee-2027", &member(i).to_string(), "for")),
            StatusCode::CREATED,
        );
        assert_eq!(receipt["person"], rep(i).to_string());
        assert!(receipt["seq"].as_i64().is_some_and(|s| s > 0));
        app.verify_receipt(&receipt["log_receipt"]);
        if i == 2 {
            // Not everyone has voted and the period runs on.
            let early = app.post(&format!("{}/conclusion", resolution("fee-2027")), &secretariat, json!({}));
            assert_problem(
                &early,
                StatusCode::UNPROCESSABLE_ENTITY,
                "resolution.still_open",
                Some(("R7", "8.12")),
            );
        }
    }
    let (_, during) = app.get(&resolution("fee-2027"), &secretariat);
    assert_eq!(during["votes"], 3);

    let concluded = app.ok(
        Method::POST,
        &format!("{}/conclusion", resolution("fee-2027")),
        &secretariat,
        None,
        StatusCode::OK,
    );
    assert_eq!(concluded["open"], false);
    let r = &concluded["result"];
    assert_eq!(r["outcome"], "adopted");
    assert_eq!(r["counts"], json!({"for": 3, "against": 0, "abstain": 0, "votes_cast": 3}));
    assert_eq!(r["not_voted"], 0);
    assert_eq!(r["decided_by"]["article"], "8.12");
    assert!(r["explanation"].as_str().is_some_and(|e| e.contains("every member votes for")), "{r}");
    let (_, list) = app.get("/associations/coop/resolutions", &secretariat);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
});

api_test!(one_abstention_blocks_a_resolution_outside_a_meeting_art_8_12, |app| {
    register(&app, 3);
    propose(&app, "fee-2027");
    let votes = format!("{}/votes", resolution("fee-2027"));
    let p1 = app.sign_in(&email(1));
    let k1 = app.signer(&p1, rep(1));

    // Who may do what.
    let by_voter = app.post(
        "/associations/coop/resolutions",
        &p1,
        json!({"text": "x", "kind": "ordinary", "closes_at": "2026-03-15T17:00:00+01:00", "board_informed": true, "supervisory_board_informed": true}),
    );
    assert_problem(&by_voter, StatusCode::FORBIDDEN, "access.role_required", None);
    let auditor = auditor(&app);
    let by_auditor = app.post(&votes, &auditor, json!({"member": member(1).to_string(), "choice": "for"}));
    assert_problem(&by_auditor, StatusCode::FORBIDDEN, "access.read_only", None);
    // Signed, but for a member the caller does not represent.
    let for_another =
        app.post(&votes, &p1, app.signed_resolution_vote(&k1, "fee-2027", &member(2).to_string(), "for"));
    assert_problem(
        &for_another,
        StatusCode::UNPROCESSABLE_ENTITY,
        "ballot.not_representative",
        Some(("R2", "8.5")),
    );
    let unknown = app.post(
        &format!("{}/votes", resolution("nope")),
        &p1,
        json!({"member": member(1).to_string(), "choice": "for"}),
    );
    assert_problem(&unknown, StatusCode::NOT_FOUND, "resolution.unknown", None);
    assert_problem(&app.get(&resolution("nope"), &p1), StatusCode::NOT_FOUND, "resolution.unknown", None);

    for (i, choice) in [(1, "for"), (2, "for"), (3, "abstain")] {
        let token = app.sign_in(&email(i));
        let key = app.signer(&token, rep(i));
        app.ok(
            Method::POST,
            &votes,
            &token,
            Some(app.signed_resolution_vote(&key, "fee-2027", &member(i).to_string(), choice)),
            StatusCode::CREATED,
        );
    }
    let secretariat = app.sign_in(SECRETARIAT);
    let concluded = app.ok(
        Method::POST,
        &format!("{}/conclusion", resolution("fee-2027")),
        &secretariat,
        None,
        StatusCode::OK,
    );
    let r = &concluded["result"];
    assert_eq!(r["outcome"], "rejected");
    assert_eq!(r["counts"], json!({"for": 2, "against": 0, "abstain": 1, "votes_cast": 2}));
    assert!(r["explanation"].as_str().is_some_and(|e| e.ends_with("not adopted")), "{r}");
    let late =
        app.post(&votes, &p1, app.signed_resolution_vote(&k1, "fee-2027", &member(1).to_string(), "for"));
    assert_problem(&late, StatusCode::UNPROCESSABLE_ENTITY, "resolution.concluded", Some(("R7", "8.12")));
});

api_test!(a_vote_on_a_resolution_outside_a_meeting_is_signed_by_the_voter_r8, |app| {
    const R8: Option<(&str, &str)> = Some(("R8", "8.11, 17.6"));
    register(&app, 2);
    propose(&app, "fee-2027");
    let votes = format!("{}/votes", resolution("fee-2027"));
    let m1 = member(1).to_string();
    let p1 = app.sign_in(&email(1));

    let unsigned = app.post(&votes, &p1, json!({"member": m1, "choice": "for"}));
    assert_problem(&unsigned, StatusCode::UNPROCESSABLE_ENTITY, "resolution_vote.unsigned", R8);

    // Signed with another person's key.
    let p2 = app.sign_in(&email(2));
    let k2 = app.enrol(&p2, rep(2));
    let k1 = app.enrol(&p1, rep(1));
    let by_another = app.signed_resolution_vote(&k2, "fee-2027", &m1, "for");
    let wrong = app.post(&votes, &p1, by_another);
    assert_problem(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "signature.wrong_key", R8);

    // Signed over another choice, or for another resolution.
    let mut tampered = app.signed_resolution_vote(&k1, "fee-2027", &m1, "against");
    tampered["choice"] = json!("for");
    let elsewhere = app.signed_resolution_vote(&k1, "fee-2028", &m1, "for");
    for body in [tampered, elsewhere] {
        let refused = app.post(&votes, &p1, body);
        assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "signature.invalid", R8);
    }
    let secretariat = app.sign_in(SECRETARIAT);
    let (_, during) = app.get(&resolution("fee-2027"), &secretariat);
    assert_eq!(during["votes"], 0, "refused votes leave no trace");

    // Accepted: the answer proves the vote is in the association's log.
    let body = app.signed_resolution_vote(&k1, "fee-2027", &m1, "for");
    let receipt = app.ok(Method::POST, &votes, &p1, Some(body.clone()), StatusCode::CREATED);
    assert_eq!(
        (receipt["person"].as_str(), receipt["choice"].as_str()),
        (Some(rep(1).to_string().as_str()), Some("for"))
    );
    let log_receipt = &receipt["log_receipt"];
    let head = app.verify_receipt(log_receipt);
    assert_eq!(head.head.meeting, None, "the association's log: {log_receipt}");
    assert_eq!(log_receipt["leaf_index"].as_i64(), receipt["stream_index"].as_i64(), "{receipt}");
    let (_, latest) = app.get("/associations/coop/log/head", &p1);
    assert_eq!(latest["size"].as_u64(), Some(head.head.size), "{latest}");

    // The same signed vote again is a replay.
    let replayed = app.post(&votes, &p1, body);
    assert_problem(&replayed, StatusCode::UNPROCESSABLE_ENTITY, "signature.replayed", R8);
    let (_, after) = app.get(&resolution("fee-2027"), &secretariat);
    assert_eq!(after["votes"], 1);
});
