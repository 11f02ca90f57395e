//! The notices that follow what members do, as their mail server receives them: a proxy's
//! confirmation to grantor and holder with the voting instructions, its revocation (Art. 8.5),
//! and the receipt of a ballot with its leaf hash, the same as the API's receipt (Art. 17.6).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::convocations::is_convocation;
use crate::mail_test;
use crate::mailapp::*;
use crate::smtp::Delivered;

/// The one message `address` received whose subject contains `subject`.
#[track_caller]
fn one(app: &MailApp, address: &str, subject: &str) -> Delivered {
    let mails: Vec<Delivered> = app
        .notices_for(address)
        .into_iter()
        .filter(|m| !is_convocation(m) && m.subject().contains(subject))
        .collect();
    let subjects: Vec<String> = app.notices_for(address).iter().map(Delivered::subject).collect();
    assert_eq!(mails.len(), 1, "one message {subject:?} for {address}, among {subjects:?}");
    mails.into_iter().next().unwrap_or_else(|| panic!("none"))
}

/// The notices in the API, of `kind`.
fn listed(app: &MailApp, token: &str, kind: &str) -> Vec<Value> {
    let (status, list) = app.get(&format!("/associations/coop/notices?kind={kind}"), token);
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().cloned().unwrap_or_default()
}

mail_test!(
    a_proxy_is_confirmed_to_grantor_and_holder_with_its_instructions_and_so_is_its_revocation_art_8_5,
    |app| {
        convened(&app);
        app.deliver();

        // Gemeente Assen's portfolio holder gives an electronic proxy to the English-speaking
        // member Capelle: for the accounts, against the statute amendment.
        app.at("2026-03-12T14:00:00+01:00");
        let rep1 = app.sign_in(&rep_email(1));
        let key = app.enrol(&rep1, rep(1));
        let body = json!({
            "id": "proxy-assen",
            "grantor": "m1",
            "holder": {"holder": "member", "member": "m3"},
            "instructions": {item("accounts").to_string(): "for", item("statutes").to_string(): "against"}
        });
        app.ok(
            Method::POST,
            "/associations/coop/meetings/alv/proxies",
            &rep1,
            Some(app.signed_proxy(&key, "alv", body)),
            StatusCode::CREATED,
        );
        app.deliver();

        let grantor = one(&app, "alv@assen.example", "Bevestiging volmacht");
        assert_eq!(
            grantor.subject(),
            format!("Bevestiging volmacht van Gemeente Assen aan Municipality of Capelle ({TITLE})")
        );
        let text = grantor.text();
        for needle in [
            "Gemeente Assen",
            "Municipality of Capelle",
            "vrijdag 20 maart 2026, 19:00 uur",
            "donderdag 12 maart 2026, 14:00 uur",
            "1. Jaarrekening 2025: voor stemmen",
            "2. Statutenwijziging: tegen stemmen",
            "elektronisch ondertekend",
        ] {
            assert!(text.contains(needle), "the grantor's confirmation lacks {needle:?}:\n{text}");
        }
        assert!(grantor.html().contains("voor stemmen"), "{}", grantor.html());

        let holder = one(&app, "council@capelle.example", "Proxy received");
        assert_eq!(holder.subject(), format!("Proxy received from Gemeente Assen ({TITLE})"));
        let text = holder.text();
        for needle in [
            "Gemeente Assen",
            "Friday 20 March 2026",
            "1. Jaarrekening 2025: vote for",
            "2. Statutenwijziging: vote against",
        ] {
            assert!(text.contains(needle), "the holder's confirmation lacks {needle:?}:\n{text}");
        }

        // Nobody else heard of it.
        for address in ["alv@berkelland.example", &rep_email(1), &rep_email(3)] {
            assert!(
                app.notices_for(address)
                    .iter()
                    .all(|m| !m.subject().contains("olmacht") && !m.subject().contains("roxy")),
                "{address}"
            );
        }

        // The revocation reaches both too.
        app.at("2026-03-15T10:00:00+01:00");
        let rep1 = app.sign_in(&rep_email(1));
        app.ok(
            Method::DELETE,
            "/associations/coop/meetings/alv/proxies/proxy-assen",
            &rep1,
            None,
            StatusCode::OK,
        );
        app.deliver();
        let revoked = one(&app, "alv@assen.example", "Volmacht ingetrokken");
        assert_eq!(
            revoked.subject(),
            format!("Volmacht ingetrokken: Gemeente Assen aan Municipality of Capelle ({TITLE})")
        );
        assert!(revoked.text().contains("zondag 15 maart 2026"), "{}", revoked.text());
        let revoked = one(&app, "council@capelle.example", "revoked");
        assert!(revoked.text().contains("Sunday 15 March 2026"), "{}", revoked.text());

        // The secretariat sees the four notices sent.
        let sec = app.sign_in(crate::support::SECRETARIAT);
        for kind in ["proxy_granted", "proxy_revoked"] {
            let notices = listed(&app, &sec, kind);
            let mut to: Vec<&str> = notices.iter().filter_map(|n| n["recipient"].as_str()).collect();
            to.sort();
            assert_eq!(to, vec!["alv@assen.example", "council@capelle.example"], "{kind}");
            assert!(notices.iter().all(|n| n["status"] == "sent"), "{notices:?}");
        }
    }
);

mail_test!(a_ballot_receipt_carries_the_leaf_hash_of_the_apis_receipt_art_17_6, |app| {
    convened(&app);
    // An advance ballot (Art. 8.13) by Berkelland's portfolio holder, over HTTP.
    app.at("2026-03-10T09:30:00+01:00");
    let rep2 = app.sign_in(&rep_email(2));
    let key = app.enrol(&rep2, rep(2));
    let receipt = app.ok(
        Method::POST,
        &format!("/associations/coop/meetings/alv/agenda-items/{}/ballots", item("accounts")),
        &rep2,
        Some(app.signed_ballot(&key, "alv", &item("accounts").to_string(), &member("m2").to_string(), "for")),
        StatusCode::CREATED,
    );
    app.verify_receipt(&receipt["log_receipt"]);
    let leaf_hash =
        receipt["log_receipt"]["leaf_hash"].as_str().unwrap_or_else(|| panic!("{receipt}")).to_owned();
    let index = receipt["stream_index"].as_i64().unwrap_or_else(|| panic!("{receipt}"));
    assert_eq!(leaf_hash.len(), 64, "{leaf_hash}");
    app.deliver();

    // The receipt goes to the person who cast the ballot, not to the member's address.
    let mail = one(&app, &rep_email(2), "Ontvangstbewijs");
    assert_eq!(mail.subject(), format!("Ontvangstbewijs van uw stem: agendapunt 1, {TITLE}"));
    let text = mail.text();
    assert!(text.contains(&format!("Leaf-hash: {leaf_hash}")), "the API's leaf hash {leaf_hash}:\n{text}");
    assert!(text.contains(&format!("Positie:   {index}")), "{text}");
    assert!(text.contains("Stem:        voor"), "{text}");
    assert!(text.contains("dinsdag 10 maart 2026, 09:30 uur"), "{text}");
    assert!(
        text.contains(&format!(
            "/api/v1/associations/{}/meetings/{}/log/entries/{index}/receipt",
            crate::support::coop(),
            meeting("alv")
        )),
        "{text}"
    );
    assert!(mail.html().contains(&leaf_hash), "{}", mail.html());
    assert!(
        app.notices_for("alv@berkelland.example").iter().all(is_convocation),
        "the member's address gets no receipt"
    );
});

mail_test!(the_advance_voting_reminder_goes_a_day_before_the_meeting_except_to_a_member_that_voted_on_every_motion_art_8_13, |app| {
    convened(&app);
    app.deliver();
    // Berkelland votes in advance on both motions.
    app.at("2026-03-10T09:30:00+01:00");
    let rep2 = app.sign_in(&rep_email(2));
    let key = app.enrol(&rep2, rep(2));
    for (motion, choice) in [("accounts", "for"), ("statutes", "against")] {
        app.ok(
            Method::POST,
            &format!("/associations/coop/meetings/alv/agenda-items/{}/ballots", item(motion)),
            &rep2,
            Some(app.signed_ballot(&key, "alv", &item(motion).to_string(), &member("m2").to_string(), choice)),
            StatusCode::CREATED,
        );
    }
    app.deliver();
    let reminders = |app: &MailApp| -> Vec<Delivered> {
        app.notices().into_iter().filter(|m| m.subject().starts_with("Herinnering") || m.subject().starts_with("Reminder")).collect()
    };
    // Not before one day before the window closes (the scheduled opening).
    assert_eq!(app.deliver_at("2026-03-19T18:59:59+01:00"), 0);
    assert!(reminders(&app).is_empty());
    app.deliver_at("2026-03-19T19:00:00+01:00");
    let sent = reminders(&app);
    let mut to: Vec<String> = sent.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["alv@assen.example", "council@capelle.example"], "not Berkelland, which voted on every motion");
    let nl = sent.iter().find(|m| m.is_for("alv@assen.example")).unwrap_or_else(|| panic!("none"));
    assert_eq!(nl.subject(), format!("Herinnering: vooraf stemmen kan tot vrijdag 20 maart 2026, 19:00 uur ({TITLE})"));
    assert!(nl.text().contains(&item("statutes").to_string()), "{}", nl.text());
    let en = sent.iter().find(|m| m.is_for("council@capelle.example")).unwrap_or_else(|| panic!("none"));
    assert!(en.subject().starts_with("Reminder: advance voting closes Friday 20 March 2026, 19:00"), "{}", en.subject());

    // The secretariat sees Berkelland's reminder cancelled, and why.
    let sec = app.sign_in(crate::support::SECRETARIAT);
    let listed = listed(&app, &sec, "advance_voting_reminder");
    let berkelland = listed
        .iter()
        .find(|n| n["member"] == member("m2").to_string().as_str())
        .unwrap_or_else(|| panic!("{listed:?}"));
    assert_eq!(berkelland["status"], "cancelled", "{berkelland}");
    assert!(berkelland["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{berkelland}");
    assert_eq!(berkelland["send_after"], "2026-03-19T18:00:00Z", "{berkelland}");
    assert_eq!(listed.iter().filter(|n| n["status"] == "sent").count(), 2, "{listed:?}");
});

mail_test!(
    the_requesting_members_hear_that_their_request_was_received_and_the_boards_four_weeks_art_8_1,
    |app| {
        let sec = register(&app);
        app.ok(
        Method::POST,
        "/associations/coop/members-requests",
        &sec,
        Some(json!({"id": "req", "members": ["m1", "m3", "m4"], "subjects": ["Toekomst van de coöperatie"]})),
        StatusCode::CREATED,
    );
        app.deliver();
        let nl = one(&app, "alv@assen.example", "Verzoek");
        let text = nl.text();
        for needle in [
            "zondag 1 maart 2026",
            "Toekomst van de coöperatie",
            "Gemeente Assen, Gemeente Dalfsen, Municipality of Capelle",
            "binnen 4 weken (art. 8.1), dus uiterlijk op zondag 29 maart 2026",
            "vanaf maandag 30 maart 2026 zelf bijeenroepen",
        ] {
            assert!(text.contains(needle), "the request's notice lacks {needle:?}:\n{text}");
        }
        let en = one(&app, "council@capelle.example", "Request for a general meeting").text();
        assert!(en.contains("by Sunday 29 March 2026 at the latest"), "{en}");
        assert!(en.contains("from Monday 30 March 2026"), "{en}");
        // Only the requesting members, and only those with an address.
        assert!(app.notices_for("alv@berkelland.example").is_empty());
    }
);
