//! The pages over HTTP: sign-in, sessions and CSRF, the role of each page, the language, and
//! what the voter's and the auditor's pages show.

use reqwest::{Method, StatusCode};
use serde_json::json;
use stembus::core::{AgendaItemId, MeetingId, MemberId, PersonId};

use crate::browser::Browser;
use crate::db::Backend;
use crate::support::{SECRETARIAT, TestApp, coop, rep};

const RVC: &str = "rvc@coop.example";
const AUDITOR: &str = "audit@coop.example";

/// Members `m1`, `m2`, `m3`, each represented by `rep-m{i}`; `rvc` chairs the supervisory board;
/// `auditor` is an auditor; the meeting `alv` of 20 March 2026 is convened on 5 March with
/// advance voting, and `m3` gave `m1` a proxy with an instruction on the accounts. The clock
/// stands at 5 March. Returns the secretariat's bearer token.
fn convened(app: &TestApp) -> String {
    let sec = app.sign_in(SECRETARIAT);
    app.register_represented(&sec, 3);
    for (id, name, email) in [("rvc", "Voorzitter RvC", RVC), ("auditor", "Accountant", AUDITOR)] {
        app.ok(
            Method::POST,
            "/associations/coop/persons",
            &sec,
            Some(json!({"id": id, "name": name, "email": email})),
            StatusCode::CREATED,
        );
    }
    app.ok(
        Method::PUT,
        "/associations/coop/supervisory-board",
        &sec,
        Some(json!({"chair": "rvc"})),
        StatusCode::NO_CONTENT,
    );
    app.ok(
        Method::POST,
        "/associations/coop/role-grants",
        &sec,
        Some(json!({"person": "auditor", "role": "auditor"})),
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
            "agenda": [
                {"id": "accounts", "title": "Jaarrekening 2025", "annual_accounts": true,
                 "motion": {"text": "De ALV stelt de jaarrekening 2025 vast.", "kind": "ordinary"}},
                {"id": "questions", "title": "Rondvraag"}
            ]
        })),
        StatusCode::CREATED,
    );
    app.at("2026-03-05T10:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/convocation",
        &sec,
        Some(json!({"advance_voting": true, "electronic_participation": "Via de videoverbinding."})),
        StatusCode::OK,
    );
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/proxies",
        &sec,
        Some(json!({"id": "m3-to-m1", "grantor": "m3", "holder": {"holder": "member", "member": "m1"},
                    "instructions": {AgendaItemId::named("accounts").to_string(): "against"}})),
        StatusCode::CREATED,
    );
    sec
}

fn voter_path() -> String {
    format!("/{}/voter", coop())
}

fn meeting_path() -> String {
    format!("/{}/voter/meetings/{}", coop(), MeetingId::named("alv"))
}

fn audit_path() -> String {
    format!("/{}/audit", coop())
}

fn sign_in_starts_a_strict_http_only_session(backend: Backend) {
    let app = TestApp::spawn(backend);
    convened(&app);
    let mut browser = Browser::new(&app);
    let form = browser.get("/");
    form.shows("<html lang=\"nl\">").shows("Aanmelden").shows("Coöperatie Proef U.A.");
    let presession = form.set_cookies.iter().find(|c| c.starts_with("stembus_presession=")).cloned();
    let presession = presession.unwrap_or_else(|| panic!("no pre-session cookie: {:?}", form.set_cookies));
    assert!(presession.contains("HttpOnly") && presession.contains("SameSite=Strict"), "{presession}");

    let signed_in = browser.sign_in(&rep(1));
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER, "{}", signed_in.body);
    assert_eq!(signed_in.location(), Some("/"));
    let session = signed_in
        .set_cookies
        .iter()
        .find(|c| c.starts_with("stembus_session="))
        .unwrap_or_else(|| panic!("no session cookie: {:?}", signed_in.set_cookies));
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    assert!(!session.contains("Secure"), "http:// public address: no Secure flag: {session}");

    let home = browser.get("/");
    home.shows("Wethouder M1")
        .shows("id=\"part-voter\"")
        .lacks("id=\"part-auditor\"")
        .lacks("id=\"part-secretariat\"");
    assert!(home.csrf().is_some_and(|t| t.len() >= 40), "the page carries the CSRF token");

    // Signing out needs the form's token, and ends the session.
    let csrf = home.csrf().unwrap_or_default();
    let forged = browser.post_form("/sign-out", &[("csrf", "forged")]);
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    forged.shows("access.csrf").shows("role=\"alert\"");
    assert!(browser.get("/").body.contains("Wethouder M1"), "a forged sign-out changed nothing");
    let out = browser.post_form("/sign-out", &[("csrf", &csrf)]);
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!browser.cookies.contains_key("stembus_session"), "the cookie is deleted");
    let session_token = session.split(';').next().unwrap_or_default().to_owned();
    let replay = reqwest::blocking::Client::new()
        .get(format!("{}{}", app.address, voter_path()))
        .header("cookie", session_token)
        .send()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED, "the ended session no longer opens pages");
}

#[test]
fn sign_in_starts_a_strict_http_only_session_sqlite() {
    sign_in_starts_a_strict_http_only_session(Backend::Sqlite);
}

#[test]
fn sign_in_starts_a_strict_http_only_session_postgres() {
    sign_in_starts_a_strict_http_only_session(Backend::Postgres);
}

#[test]
fn the_sign_in_forms_refuse_another_sites_post_and_a_wrong_code() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let mut browser = Browser::new(&app);
    browser.get("/");
    let association = coop().to_string();
    // Another site's form cannot carry the pre-session cookie (SameSite=Strict) nor its value.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post_form("/sign-in", &[("presession", "x"), ("association", &association), ("email", &rep(1))]);
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    forged.shows("access.csrf");
    let presession = browser.cookies.get("stembus_presession").cloned().unwrap_or_default();
    let wrong = browser.post_form("/sign-in/code", &[("presession", &presession), ("code", "not-a-code")]);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    wrong.shows("Meld u eerst aan").shows("role=\"alert\"");
    assert!(!browser.cookies.contains_key("stembus_session"));
    let incomplete = browser.post_form("/sign-in", &[("presession", &presession)]);
    assert_eq!(incomplete.status, StatusCode::BAD_REQUEST);
    incomplete.shows("request.invalid_form").shows("<html lang=\"nl\">");
    // An unknown address gets the same answer as a known one, and no mail.
    let before = app.mails().len();
    let unknown = browser.post_form(
        "/sign-in",
        &[("presession", &presession), ("association", &association), ("email", "nobody@example.org")],
    );
    assert_eq!(unknown.status, StatusCode::OK);
    unknown.shows("id=\"code-form\"");
    assert_eq!(app.mails().len(), before, "no code for an unregistered address");
}

#[test]
fn the_api_accepts_the_page_cookie_only_with_the_csrf_header() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let mut browser = Browser::new(&app);
    browser.sign_in(&rep(1));
    let csrf = browser.get("/").csrf().unwrap_or_default();
    let person = PersonId::named("rep-m1");
    // Reading needs no token: the cookie is enough.
    let keys = browser.api(Method::GET, &format!("/associations/coop/persons/{person}/keys"), None, None);
    assert_eq!(keys.status, StatusCode::OK, "{}", keys.body);
    assert_eq!(keys.json(), json!([]));
    let key = crate::support::key_named("browser");
    let sequence = 0;
    let command = app.state(|s| stembus::ledger::author::enrol(s, person, &key, sequence));
    let stembus::core::Command::EnrolKey { key: public, signature, .. } = command else {
        panic!("{command:?}")
    };
    let body = json!({"key": public, "sequence": sequence, "signature": signature});
    let path = format!("/associations/coop/persons/{person}/keys");
    for token in [None, Some("forged")] {
        let refused = browser.api(Method::POST, &path, Some(body.clone()), token);
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(refused.json()["code"], "access.csrf");
    }
    assert!(app.state(move |s| s.keys.current_of(person).is_none()), "nothing was enrolled");
    let enrolled = browser.api(Method::POST, &path, Some(body), Some(&csrf));
    assert_eq!(enrolled.status, StatusCode::CREATED, "{}", enrolled.body);
    assert_eq!(enrolled.json()["status"], "current");
    // A bearer token needs no CSRF header: no browser sends it by itself.
    let token = app.sign_in(&rep(2));
    let (status, _) = app.get("/associations/coop/meetings", &token);
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn each_page_opens_for_its_role_and_refuses_the_others() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let mut nobody = Browser::new(&app);
    let refused = nobody.get(&voter_path());
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    refused.shows("Meld u eerst aan").shows("href=\"/\"");

    let mut voter = Browser::new(&app);
    voter.sign_in(&rep(1));
    let page = voter.get(&voter_path());
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("Gemeente M1").shows("portefeuillehouder").shows("Volmacht van Gemeente M3");
    page.shows("tegen").shows(&MeetingId::named("alv").to_string());
    let audit = voter.get(&audit_path());
    assert_eq!(audit.status, StatusCode::FORBIDDEN);
    audit.shows("Dit is niet voor u").shows("access.role_required");
    let other = voter.get(&format!("/{}/voter", stembus::core::AssociationId::named("other")));
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    other.shows("access.other_association");

    let mut auditor = Browser::new(&app);
    auditor.sign_in(AUDITOR);
    auditor.get("/").shows("id=\"part-auditor\"").lacks("id=\"part-voter\"");
    let overview = auditor.get(&audit_path());
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    overview.shows("Algemene ledenvergadering").shows("/export\" download");
    let not_voter = auditor.get(&voter_path());
    assert_eq!(not_voter.status, StatusCode::FORBIDDEN);
    not_voter.shows("access.not_a_voter");
    let not_voter = auditor.get(&meeting_path());
    assert_eq!(not_voter.status, StatusCode::FORBIDDEN);

    // The chair of the supervisory board reaches the convened meeting's chair page from home.
    let mut chair = Browser::new(&app);
    chair.sign_in(RVC);
    chair.get("/").shows(&format!("/chair/meetings/{}", MeetingId::named("alv")));

    // No page: a page saying so; the API keeps its problems.
    let missing = voter.get("/no/such/page");
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    missing.shows("Niet gevonden").shows("page.unknown");
    assert_eq!(
        missing.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/html; charset=utf-8")
    );
    let api = voter.api(Method::GET, "/no-such-route", None, None);
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["code"], "route.unknown");
}

#[test]
fn the_language_switch_is_kept_in_a_cookie() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let mut browser = Browser::new(&app);
    browser.get("/").shows("<html lang=\"nl\">").shows("Stuur mij een code").shows("hreflang=\"en\"");
    let english = browser.get("/?lang=en");
    english.shows("<html lang=\"en\">").shows("Send me a code").shows("hreflang=\"nl\"");
    assert!(
        english.set_cookies.iter().any(|c| c.starts_with("stembus_lang=en")),
        "{:?}",
        english.set_cookies
    );
    browser.get("/").shows("<html lang=\"en\">");
    browser.sign_in(&rep(1));
    browser.get(&voter_path()).shows("The members you represent").shows("portfolio holder");
    let refused = browser.get(&audit_path());
    refused.shows("This is not for you");
    browser.get("/?lang=nl").shows("<html lang=\"nl\">");
    browser.get(&voter_path()).shows("De leden die u vertegenwoordigt");
    browser.get("/?lang=xx").shows("<html lang=\"nl\">");
}

#[test]
fn the_meeting_page_shows_the_agenda_and_ballot_forms_and_the_ballots_cast() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let mut browser = Browser::new(&app);
    browser.sign_in(&rep(1));
    let accounts = AgendaItemId::named("accounts");
    let m1 = MemberId::named("m1");
    let m3 = MemberId::named("m3");
    let page = browser.get(&meeting_path());
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("Jaarrekening 2025")
        .shows("De ALV stelt de jaarrekening 2025 vast.")
        .shows("U kunt nu vooraf stemmen");
    page.shows(&format!("id=\"ballot-{accounts}-{m1}\"")).shows(&format!("id=\"ballot-{accounts}-{m3}\""));
    page.shows("Stem voor Gemeente M3 (bij volmacht)").shows("Steminstructie van de volmachtgever: tegen.");
    page.shows("data-poll=\"\"").shows("<label for=\"choice-").shows("/static/voter.js");
    assert_eq!(
        page.attribute_after(&format!("id=\"ballot-{accounts}-{m1}\""), "data-member"),
        Some(m1.to_string())
    );
    // The member's own form is open; the proxy's waits for the meeting (R4: only the member's
    // own representative votes in advance).
    let own = page.body.split(&format!("id=\"ballot-{accounts}-{m1}\"")).nth(1).unwrap_or_default();
    assert!(own.split("</form>").next().is_some_and(|f| !f.contains(" disabled>")), "{}", page.body);
    let proxy = page.body.split(&format!("id=\"ballot-{accounts}-{m3}\"")).nth(1).unwrap_or_default();
    let proxy = proxy.split("</form>").next().unwrap_or_default();
    assert!(proxy.contains(" disabled>") && proxy.contains("niet vooraf"), "{proxy}");

    // A ballot signed (here by the test's key) and cast shows on the page.
    let token = app.sign_in(&rep(1));
    let key = app.signer(&token, PersonId::named("rep-m1"));
    let body = app.signed_ballot(&key, "alv", "accounts", "m1", "for");
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/agenda-items/accounts/ballots",
        &token,
        Some(body),
        StatusCode::CREATED,
    );
    browser.get(&meeting_path()).shows("Uitgebracht: voor (vooraf).").shows("Nog geen stem uitgebracht.");

    // Once the window has closed (the meeting day, not yet opened) the forms are disabled.
    app.at("2026-03-20T20:00:00+01:00");
    let mut browser = Browser::new(&app);
    browser.sign_in(&rep(1));
    browser.get(&meeting_path()).shows("Er kan nu niet gestemd worden.").shows(" disabled>");

    // The keys page shows the enrolled key, and the receipts page what it needs.
    let keys = browser.get(&format!("/{}/voter/keys", coop()));
    keys.shows(&stembus::ledger::author::key_bytes(&key).to_hex()).shows("huidig");
    let receipts = browser.get(&format!("/{}/voter/receipts", coop()));
    receipts.shows("Jaarrekening 2025").shows("id=\"receipt-file\"").shows("data-texts=");
}

#[test]
fn the_auditor_reads_the_verification_of_a_fresh_export() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    let token = app.sign_in(&rep(2));
    let key = app.signer(&token, PersonId::named("rep-m2"));
    let body = app.signed_ballot(&key, "alv", "accounts", "m2", "against");
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/agenda-items/accounts/ballots",
        &token,
        Some(body),
        StatusCode::CREATED,
    );
    let mut auditor = Browser::new(&app);
    auditor.sign_in(AUDITOR);
    let report = auditor.get(&format!("{}/meetings/{}", audit_path(), MeetingId::named("alv")));
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    report.shows("Geverifieerd.").shows("stembus audit verify").shows("nog niet gesloten");
    report.shows("Vergeleken met de sleutel van deze dienst").shows("Coöperatie Proef U.A.");
    // The download the page links to is the export, for the page's cookie.
    let link = report.attribute_after("id=\"download-export\"", "href");
    assert_eq!(
        link,
        Some(format!("/api/v1/associations/{}/meetings/{}/export", coop(), MeetingId::named("alv")))
    );
    let path = format!("/associations/{}/meetings/{}/export", coop(), MeetingId::named("alv"));
    let export = auditor.api(Method::GET, &path, None, None);
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.body.lines().count() > 5 && export.body.contains("ballot_cast"), "{}", export.body);
    let unknown = auditor.get(&format!("{}/meetings/{}", audit_path(), MeetingId::named("nope")));
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    unknown.shows("meeting.unknown");
}

#[test]
fn in_session_the_voter_checks_in_electronically_and_the_open_poll_takes_ballots() {
    let app = TestApp::spawn(Backend::Sqlite);
    convened(&app);
    app.at("2026-03-20T19:00:00+01:00");
    let chair = app.sign_in(RVC);
    app.ok(Method::POST, "/associations/coop/meetings/alv/opening", &chair, None, StatusCode::OK);
    let accounts = AgendaItemId::named("accounts");
    let m1 = MemberId::named("m1");
    let mut browser = Browser::new(&app);
    browser.sign_in(&rep(1));
    let page = browser.get(&meeting_path());
    page.shows("id=\"attendance\"")
        .shows("Meld Gemeente M1 elektronisch aan")
        .shows("Meld Gemeente M3 elektronisch aan");
    page.shows("De vergadering is geopend")
        .shows(" disabled>")
        .shows("Er is nu geen stemming over dit punt open.");
    let csrf = page.csrf().unwrap_or_default();
    let action = format!("{}/attendance", meeting_path());
    let m1_text = m1.to_string();

    let forged = browser.post_form(&action, &[("csrf", "forged"), ("member", &m1_text), ("action", "in")]);
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let mut other = Browser::new(&app);
    other.sign_in(&rep(2));
    let other_csrf = other.get(&meeting_path()).csrf().unwrap_or_default();
    let not_theirs =
        other.post_form(&action, &[("csrf", &other_csrf), ("member", &m1_text), ("action", "in")]);
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
    not_theirs.shows("access.not_representative");
    assert!(
        app.state(move |s| s.meetings.values().all(|m| m.current_attendance(m1).is_none())),
        "nobody checked in"
    );

    let checked_in = browser.post_form(&action, &[("csrf", &csrf), ("member", &m1_text), ("action", "in")]);
    assert_eq!(checked_in.status, StatusCode::SEE_OTHER, "{}", checked_in.body);
    let page = browser.get(&meeting_path());
    page.shows("aanwezig sinds 2026-03-20 19:00 CET, elektronisch, door Wethouder M1")
        .shows("Meld Gemeente M1 af");
    let again = browser.post_form(&action, &[("csrf", &csrf), ("member", &m1_text), ("action", "in")]);
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a second check-in is refused by the rules");
    again.shows("Regel R5").shows("role=\"alert\"");
    // The rule is named in Dutch; the service's own sentence is English and marked so (WCAG 3.1.2).
    again.shows("<p id=\"error-detail\" lang=\"en\">");

    // The chair opens an electronic poll: the member's form takes ballots for that poll.
    let poll = stembus::core::PollId::named("accounts-1");
    app.ok(
        Method::POST,
        "/associations/coop/meetings/alv/polls",
        &chair,
        Some(json!({"id": "accounts-1", "item": "accounts", "method": "electronic"})),
        StatusCode::CREATED,
    );
    let page = browser.get(&meeting_path());
    let form = page.body.split(&format!("id=\"ballot-{accounts}-{m1}\"")).nth(1).unwrap_or_default();
    let form = form.split("</form>").next().unwrap_or_default();
    assert!(form.contains(&format!("data-poll=\"{poll}\"")) && !form.contains(" disabled>"), "{form}");

    let out = browser.post_form(&action, &[("csrf", &csrf), ("member", &m1_text), ("action", "out")]);
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    browser.get(&meeting_path()).shows("niet aanwezig");
}
