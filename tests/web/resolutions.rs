//! Resolutions outside a meeting (Art. 8.12) in the pages: the secretariat proposes one through
//! its form (refused, with nothing recorded, without the CSRF token, without the board's and the
//! supervisory board's prior knowledge, for a decision only a special meeting takes, or with a
//! voting period that has ended) and concludes it; the voter sees it, gets a vote form for the
//! member it represents (signed in the browser; here the test signs), sees that member's vote,
//! and reads the result. The browser test (`tests/e2e.rs`) signs such a vote in Chromium.

use reqwest::{Method, StatusCode};
use serde_json::json;
use stembus::core::{MemberId, ResolutionId};

use crate::browser::{csrf_of, signed_in};
use crate::db::Backend;
use crate::support::{SECRETARIAT, TestApp, coop, rep};

/// Members `m1` and `m2`, represented by `rep-m1` and `rep-m2`, and a person `outsider` who
/// represents no member; the clock at 1 March 2026. Returns the secretariat's bearer token.
fn registered(app: &TestApp) -> String {
    app.at("2026-03-01T09:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    app.register_represented(&sec, 2);
    app.ok(
        Method::POST,
        "/associations/coop/persons",
        &sec,
        Some(json!({"id": "outsider", "name": "Buitenstaander", "email": "outsider@coop.example"})),
        StatusCode::CREATED,
    );
    sec
}

fn secretariat_page() -> String {
    format!("/{}/secretariat/resolutions", coop())
}

fn voter_page(id: ResolutionId) -> String {
    format!("/{}/voter/resolutions/{id}", coop())
}

fn resolutions(app: &TestApp, sec: &str) -> Vec<serde_json::Value> {
    let (status, list) = app.get("/associations/coop/resolutions", sec);
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

#[test]
fn the_secretariat_proposes_a_resolution_through_its_form_and_refusals_record_nothing_art_8_12() {
    let app = TestApp::spawn(Backend::Sqlite);
    let sec = registered(&app);
    let mut browser = signed_in(&app, SECRETARIAT);
    let overview = browser.get(&format!("/{}/secretariat", coop()));
    overview.shows(&format!("href=\"{}\"", secretariat_page()));
    let page = browser.get(&secretariat_page());
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("Er zijn nog geen besluiten buiten vergadering.")
        .shows("id=\"new-resolution\"")
        .shows("art. 8.12");
    // Only the kinds that may be decided outside a meeting are offered.
    page.shows("<option value=\"ordinary\"").lacks("<option value=\"statute_amendment\"");
    let csrf = csrf_of(&page);
    let text = "De leden stemmen in met de begroting 2027.";
    let form = |csrf: &str, kind: &str, date: &str, informed: bool| -> Vec<(String, String)> {
        let mut f = vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("text".to_owned(), text.to_owned()),
            ("kind".to_owned(), kind.to_owned()),
            ("closes_date".to_owned(), date.to_owned()),
            ("closes_time".to_owned(), "17:00".to_owned()),
        ];
        if informed {
            f.push(("board_informed".to_owned(), "yes".to_owned()));
            f.push(("supervisory_board_informed".to_owned(), "yes".to_owned()));
        }
        f
    };
    let mut post = |fields: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        browser.post_form(&secretariat_page(), &pairs)
    };

    let forged = post(form("forged", "ordinary", "2026-03-15", true));
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let unknown_board = post(form(&csrf, "ordinary", "2026-03-15", false));
    assert_eq!(unknown_board.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown_board.body);
    unknown_board.shows("artikel 8.12").shows("prior knowledge of the supervisory board and the board");
    let special = post(form(&csrf, "statute_amendment", "2026-03-15", true));
    assert_eq!(special.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", special.body);
    special.shows("decided only in a meeting convened specially for it");
    let past = post(form(&csrf, "ordinary", "2026-02-27", true));
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", past.body);
    past.shows("must end in the future");
    let bad_date = post(form(&csrf, "ordinary", "15-03-2026", true));
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST, "{}", bad_date.body);
    bad_date.shows("Give the date of the end of the voting period as YYYY-MM-DD.");
    assert!(resolutions(&app, &sec).is_empty(), "a refused form recorded a resolution");

    let proposed = post(form(&csrf, "ordinary", "2026-03-15", true));
    assert_eq!(proposed.status, StatusCode::SEE_OTHER, "{}", proposed.body);
    let list = resolutions(&app, &sec);
    assert_eq!(list.len(), 1, "{list:?}");
    let id = list[0]["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(proposed.location(), Some(format!("{}#resolution-{id}", secretariat_page()).as_str()));
    assert_eq!(list[0]["text"], text);
    // 17:00 in Amsterdam on 15 March is 16:00 UTC.
    assert_eq!(list[0]["closes_at"], "2026-03-15T16:00:00Z");
    let page = browser.get(&secretariat_page());
    page.shows(text).shows(&format!("id=\"resolution-{id}\"")).shows("0 van 2").shows("Afsluiten en tellen");

    // Concluding before every member voted and before the period ends is refused.
    let early = browser.post_form(&format!("{}/{id}/conclusion", secretariat_page()), &[("csrf", &csrf)]);
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.body);
    early.shows("artikel 8.12");
    assert_eq!(resolutions(&app, &sec)[0]["open"], true);
    // A voter's page is not the secretariat's.
    let mut voter = signed_in(&app, &rep(1));
    assert_eq!(voter.get(&secretariat_page()).status, StatusCode::FORBIDDEN);
}

#[test]
fn the_voter_votes_for_the_member_it_represents_and_reads_the_result_art_8_12() {
    let app = TestApp::spawn(Backend::Sqlite);
    let sec = registered(&app);
    app.ok(
        Method::POST,
        "/associations/coop/resolutions",
        &sec,
        Some(json!({"id": "r1", "text": "De leden stemmen in met de begroting 2027.", "kind": "ordinary",
                    "closes_at": "2026-03-15T17:00:00+01:00", "board_informed": true,
                    "supervisory_board_informed": true})),
        StatusCode::CREATED,
    );
    let r1 = ResolutionId::named("r1");
    let (m1, m2) = (MemberId::named("m1"), MemberId::named("m2"));
    let mut browser = signed_in(&app, &rep(1));
    let home = browser.get(&format!("/{}/voter", coop()));
    home.shows(&format!("href=\"{}\"", voter_page(r1))).shows("stemmen kan tot 2026-03-15 17:00 CET");
    let page = browser.get(&voter_page(r1));
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.shows("De leden stemmen in met de begroting 2027.")
        .shows("alle leden vóór stemmen (art. 8.12)")
        .shows("0 van 2 leden")
        .shows("Nog geen stem uitgebracht.")
        .shows("/static/voter.js")
        .shows(&format!("data-resolution=\"{r1}\""));
    // A form for the member rep-m1 represents, open; none for the other member.
    let form = page.body.split(&format!("id=\"vote-{m1}\"")).nth(1).unwrap_or_default();
    let form = form.split("</form>").next().unwrap_or_default();
    assert!(!form.is_empty() && !form.contains(" disabled>"), "{}", page.body);
    page.lacks(&format!("id=\"vote-{m2}\""));

    // A vote signed (here by the test's key) and cast shows to the member's representative.
    let token = app.sign_in(&rep(1));
    let key = app.signer(&token, stembus::core::PersonId::named("rep-m1"));
    let body = app.signed_resolution_vote(&key, "r1", "m1", "for");
    app.ok(Method::POST, "/associations/coop/resolutions/r1/votes", &token, Some(body), StatusCode::CREATED);
    browser.get(&voter_page(r1)).shows("Gestemd: voor.").shows("1 van 2 leden");
    // The other member's representative sees the count, not how m1 voted.
    let mut other = signed_in(&app, &rep(2));
    other
        .get(&voter_page(r1))
        .shows("1 van 2 leden")
        .shows("Nog geen stem uitgebracht.")
        .lacks("Gestemd: voor.");
    let token2 = app.sign_in(&rep(2));
    let key2 = app.signer(&token2, stembus::core::PersonId::named("rep-m2"));
    let body = app.signed_resolution_vote(&key2, "r1", "m2", "for");
    app.ok(Method::POST, "/associations/coop/resolutions/r1/votes", &token2, Some(body), StatusCode::CREATED);

    // Every member voted: the secretariat concludes through its page.
    let mut secretariat = signed_in(&app, SECRETARIAT);
    let list = secretariat.get(&secretariat_page());
    list.shows("2 van 2");
    let concluded = secretariat
        .post_form(&format!("{}/{r1}/conclusion", secretariat_page()), &[("csrf", &csrf_of(&list))]);
    assert_eq!(concluded.status, StatusCode::SEE_OTHER, "{}", concluded.body);
    secretariat.get(&secretariat_page()).shows("aangenomen").lacks("Afsluiten en tellen");
    let page = browser.get(&voter_page(r1));
    page.shows("Uitslag").shows("aangenomen").shows(" disabled>");
    browser.get(&format!("/{}/voter", coop())).shows("aangenomen");

    // A person who represents no member and holds no proxy has no voter's pages; an unknown
    // resolution is a page that says so.
    let mut outsider = signed_in(&app, "outsider@coop.example");
    assert_eq!(outsider.get(&voter_page(r1)).status, StatusCode::FORBIDDEN);
    let unknown = browser.get(&voter_page(ResolutionId::named("r2")));
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
}
