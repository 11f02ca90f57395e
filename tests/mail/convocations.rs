//! The convocation as the members' mail server receives it (Art. 8.3, 8.11, 8.13, 17.4,
//! 20.3): one message per member with a registered address, in its language, with the
//! deadlines, the proposal of a statute amendment attached and an iCalendar invitation; a new
//! meeting after a failed quorum says it decides whatever the attendance; a convocation too
//! late is refused over HTTP and sends nothing.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::json;
use stembus::core::{Choice, Command, Convener, Mode, Outcome, PollId, PollMethod};

use crate::mail_test;
use crate::mailapp::*;
use crate::smtp::Delivered;
use crate::support::{SECRETARIAT, assert_problem};

/// The one convocation `address` received.
#[track_caller]
fn convocation_for(app: &MailApp, address: &str) -> Delivered {
    let mut mails: Vec<Delivered> = app.notices_for(address).into_iter().filter(is_convocation).collect();
    assert_eq!(
        mails.len(),
        1,
        "one convocation for {address}: {:?}",
        mails.iter().map(Delivered::subject).collect::<Vec<_>>()
    );
    mails.remove(0)
}

/// A convocation is the message with a calendar invitation.
pub fn is_convocation(m: &Delivered) -> bool {
    m.attachments().iter().any(|a| a.mimetype == "text/calendar")
}

/// Checks an iCalendar object as RFC 5545 wants it written: CRLF line ends, no line longer
/// than 75 octets, continuation lines folded with a space. Returns it unfolded.
#[track_caller]
fn unfolded_ics(ics: &str) -> String {
    assert!(ics.ends_with("\r\n"), "the last line ends with CRLF: {ics:?}");
    assert!(!ics.replace("\r\n", "").contains(['\n', '\r']), "a bare LF or CR in {ics:?}");
    for line in ics.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    assert!(ics.contains("\r\n "), "the long description is folded: {ics:?}");
    ics.replace("\r\n ", "").replace("\r\n\t", "")
}

/// The value of the first property `name` (without parameters) of an unfolded iCalendar text.
fn property(ics: &str, name: &str) -> Option<String> {
    ics.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.split(';').next() == Some(name)).then(|| value.to_owned())
    })
}

mail_test!(
    convening_sends_each_member_with_an_address_one_convocation_with_its_deadlines_art_8_3_20_3,
    |app| {
        convened(&app);
        // Nothing leaves before the worker runs; then one convocation per member with an address.
        assert!(app.notices().is_empty(), "the worker sends, not the request");
        app.deliver();
        let convocations: Vec<Delivered> = app.notices().into_iter().filter(is_convocation).collect();
        let mut to: Vec<String> = convocations.iter().flat_map(|m| m.rcpt_to.clone()).collect();
        to.sort();
        let mut expected: Vec<String> = member_addresses().iter().map(|a| a.to_string()).collect();
        expected.sort();
        assert_eq!(to, expected, "each member with an address once, m4 (no address) not");
        for m in &convocations {
            assert_eq!(m.to(), m.rcpt_to, "the To header names the envelope's recipient");
            assert_eq!(m.mail_from, "stembus@coop.example");
            assert!(
                m.header("From").is_some_and(|f| f.contains("Coöperatie Proef")),
                "{:?}",
                m.header("From")
            );
            let id = m.header("Message-ID").unwrap_or_default();
            assert!(id.starts_with('<') && id.ends_with('>') && id.contains('@'), "{id}");
            assert!(m.header("Date").is_some_and(|d| d.contains("5 Mar 2026")), "{:?}", m.header("Date"));
        }
        let ids: BTreeSet<String> = convocations.iter().filter_map(|m| m.header("Message-ID")).collect();
        assert_eq!(ids.len(), convocations.len(), "a Message-ID per message");
        // No line of the message is longer than RFC 5322 allows (998 octets and CRLF).
        for m in &convocations {
            let longest = m.raw.split(|b| *b == b'\n').map(|l| l.len()).max().unwrap_or(0);
            assert!(longest <= 1000, "a line of {longest} octets in {}", m.subject());
        }

        // The Dutch convocation: subject, the meeting, the deadlines, the conditions.
        let nl = convocation_for(&app, "alv@assen.example");
        assert_eq!(nl.subject(), format!("Oproeping: {TITLE}, vrijdag 20 maart 2026"));
        let text = nl.text();
        for needle in [
            "Geachte Gemeente Assen,",
            TITLE,
            "Datum en tijd: vrijdag 20 maart 2026, 19:00 uur",
            &format!("Plaats: {PLACE}"),
            // The agenda, with the kind and the majority of each decision.
            "1. Jaarrekening 2025",
            "2. Statutenwijziging",
            "3. Rondvraag",
            "De ALV besluit de statuten te wijzigen als voorgesteld.",
            // The statute amendment: specially convened, its proposal attached (Art. 20.3).
            "BIJZONDERE OPROEPING (art. 20.3)",
            "voorstel-agendapunt-2.txt",
            // The advance window (Art. 8.13): from the convocation until the opening.
            "Vooraf elektronisch stemmen is opengesteld (art. 8.13): van donderdag 5 maart 2026, 10:00 uur tot de opening van de vergadering op vrijdag 20 maart 2026, 19:00 uur.",
            // Electronic participation (Art. 8.11) and its conditions.
            CONDITIONS,
            // The notice: sent on 5 March, fourteen clear days before (Art. 20.3).
            "Deze oproeping is verzonden op donderdag 5 maart 2026. Tussen die dag en de dag van de vergadering liggen 14 dagen; de statuten vereisen er ten minste 14",
            "uitnodiging.ics",
        ] {
            assert!(text.contains(needle), "the Dutch convocation lacks {needle:?}:\n{text}");
        }
        let text_part = nl.body_part("text/plain").unwrap_or_else(|| panic!("no text"));
        assert_eq!(text_part.charset.to_lowercase(), "utf-8");

        // Text and HTML are alternatives of the same content, then the attachments.
        let kinds: Vec<&str> = nl.structure.iter().map(|(_, k)| k.as_str()).collect();
        assert_eq!(
            kinds,
            vec![
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "text/plain",
                "text/calendar"
            ],
            "{:?}",
            nl.structure
        );
        let html = nl.html();
        assert!(html.contains("<html") || html.contains("<!DOCTYPE") || html.contains("<p"), "{html}");
        assert!(html.contains("vrijdag 20 maart 2026, 19:00 uur"), "{html}");
        assert!(html.contains("Stadhuis, Raadzaal &amp; Foyer"), "the place, escaped: {html}");
        assert!(!html.contains("Raadzaal & Foyer"), "an unescaped ampersand: {html}");
        assert!(html.contains("donderdag 5 maart 2026"), "{html}");

        // The proposal of the statute amendment, attached (Art. 20.3).
        let proposal = nl.attachment("voorstel-agendapunt-2.txt");
        assert_eq!((proposal.mimetype.as_str(), proposal.disposition.as_str()), ("text/plain", "attachment"));
        let proposal = proposal.text();
        assert!(proposal.contains(PROPOSAL), "{proposal}");
        assert!(proposal.contains("Statutenwijziging"), "{proposal}");

        // The invitation: a request for the meeting, at its start in UTC, folded, with CRLF.
        let invite = nl.attachment("uitnodiging.ics");
        assert_eq!(invite.mimetype, "text/calendar");
        assert_eq!(invite.params.get("method").map(String::as_str), Some("REQUEST"), "{:?}", invite.params);
        let ics = unfolded_ics(&invite.text());
        let meeting_id = meeting("alv").to_string();
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
        assert_eq!(property(&ics, "METHOD").as_deref(), Some("REQUEST"));
        assert_eq!(property(&ics, "DTSTART"), Some(ical_utc("2026-03-20T19:00:00+01:00")));
        assert_eq!(property(&ics, "DTSTART").as_deref(), Some("20260320T180000Z"));
        assert_eq!(property(&ics, "DTSTAMP"), Some(ical_utc("2026-03-05T10:00:00+01:00")));
        assert_eq!(property(&ics, "UID"), Some(format!("{meeting_id}@stembus")));
        assert_eq!(property(&ics, "SUMMARY").as_deref(), Some(TITLE));
        assert_eq!(property(&ics, "LOCATION").as_deref(), Some("Stadhuis\\, Raadzaal & Foyer"));
        assert!(property(&ics, "ATTENDEE").is_some_and(|a| a == "mailto:alv@assen.example"), "{ics}");
        assert!(
            property(&ics, "ORGANIZER").is_some_and(|o| o == "mailto:stembus@coop.example"),
            "the organizer is the sender's address (RFC 5545 3.8.4.3): {ics}"
        );

        // The same meeting for every member: one calendar entry (the same UID).
        let uids: BTreeSet<Option<String>> = convocations
            .iter()
            .map(|m| {
                let invite =
                    m.attachments().into_iter().find(|a| a.mimetype == "text/calendar").map(|a| a.text());
                invite.and_then(|i| property(&unfolded_ics(&i), "UID"))
            })
            .collect();
        assert_eq!(uids, BTreeSet::from([Some(format!("{meeting_id}@stembus"))]));
    }
);

mail_test!(a_member_registered_in_english_is_convened_in_english, |app| {
    convened(&app);
    app.deliver();
    let en = convocation_for(&app, "council@capelle.example");
    assert_eq!(en.subject(), format!("Notice of meeting: {TITLE}, Friday 20 March 2026"));
    let text = en.text();
    for needle in [
        "Dear Municipality of Capelle,",
        "Date and time: Friday 20 March 2026, 19:00 (Amsterdam time)",
        "from Thursday 5 March 2026, 10:00 (Amsterdam time) until the meeting opens on Friday 20 March 2026, 19:00 (Amsterdam time)",
        "This convocation was sent on Thursday 5 March 2026. Between that day and the day of the meeting there are 14 days; the statutes require at least 14",
        "SPECIAL CONVOCATION (Art. 20.3)",
        "proposal-item-2.txt",
        CONDITIONS,
    ] {
        assert!(text.contains(needle), "the English convocation lacks {needle:?}:\n{text}");
    }
    for dutch in ["Geachte", "Oproeping", "vrijdag", "maart"] {
        assert!(!text.contains(dutch), "Dutch {dutch:?} in the English convocation:\n{text}");
    }
    assert!(en.html().contains("Friday 20 March 2026"), "{}", en.html());
    assert!(en.attachment("proposal-item-2.txt").text().contains(PROPOSAL));
    let ics = unfolded_ics(&en.attachment("invite.ics").text());
    assert_eq!(property(&ics, "DTSTART").as_deref(), Some("20260320T180000Z"));
});

/// The meeting `alv` of 10 June 2026 on one ordinary motion, convened on 20 May, held with one
/// member of four present: no quorum (Art. 17.4), declared and closed.
fn failed_quorum(app: &MailApp) {
    app.at("2026-05-20T10:00:00+02:00");
    app.execute(Command::CreateMeeting {
        meeting: meeting("alv"),
        title: "ALV juni 2026".into(),
        starts_at: crate::support::t("2026-06-10T19:00:00+02:00"),
        place: "Enschede".into(),
        agenda: vec![stembus::core::AgendaItemSpec {
            item: item("budget"),
            title: "Begroting 2027".into(),
            motion: Some(stembus::core::MotionSpec {
                text: "De ALV stelt de begroting 2027 vast.".into(),
                kind: stembus::core::DecisionKind::Ordinary,
                proposal: None,
                board_proposal_approved: false,
            }),
            carried_from: None,
            concerns_member: None,
            annual_accounts: false,
        }],
        follow_up_of: None,
        request: None,
    });
    app.execute(Command::ConveneMeeting {
        meeting: meeting("alv"),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: None,
    });
    app.at("2026-06-10T18:50:00+02:00");
    app.execute(Command::CheckIn {
        meeting: meeting("alv"),
        member: member("m1"),
        person: rep(1),
        mode: Mode::InPerson,
    });
    app.at("2026-06-10T19:00:00+02:00");
    app.execute(Command::OpenMeeting {
        meeting: meeting("alv"),
        chair: chair(),
        appointed_by_meeting: false,
    });
    let poll = PollId::named("p1");
    app.execute(Command::OpenPoll {
        meeting: meeting("alv"),
        poll,
        item: item("budget"),
        method: PollMethod::Electronic,
        by: chair(),
        revote_of: None,
    });
    app.execute(Command::CastBallot {
        meeting: meeting("alv"),
        item: item("budget"),
        member: member("m1"),
        person: rep(1),
        choice: Choice::For,
        signed: None,
    });
    app.at("2026-06-10T19:30:00+02:00");
    app.execute(Command::ClosePoll { meeting: meeting("alv"), poll, by: chair(), counts: None });
    app.execute(Command::DeclareResult {
        meeting: meeting("alv"),
        poll,
        by: chair(),
        outcome: Outcome::NoQuorum,
        signed: None,
    });
    app.at("2026-06-10T21:00:00+02:00");
    app.execute(Command::CloseMeeting { meeting: meeting("alv"), by: chair() });
}

mail_test!(
    the_convocation_of_a_new_meeting_after_a_failed_quorum_says_it_decides_whatever_the_attendance_art_17_4,
    |app| {
        register(&app);
        failed_quorum(&app);
        app.deliver();

        // The declared outcome reached every member with an address, the English one in English.
        let outcome = |address: &str| -> Delivered {
            let mut mails: Vec<Delivered> = app
                .notices_for(address)
                .into_iter()
                .filter(|m| !is_convocation(m) && m.text().contains("Begroting 2027"))
                .collect();
            assert_eq!(
                mails.len(),
                1,
                "one outcome for {address}: {:?}",
                mails.iter().map(Delivered::subject).collect::<Vec<_>>()
            );
            mails.remove(0)
        };
        for address in member_addresses() {
            outcome(address);
        }
        let en = outcome("council@capelle.example").text();
        assert!(en.contains("no decision: not enough members present or represented"), "{en}");

        // The new meeting within the month, convened on 11 June with ten clear days.
        app.at("2026-06-11T10:00:00+02:00");
        let sec = app.sign_in(SECRETARIAT);
        app.ok(
        Method::POST,
        "/associations/coop/meetings",
        &sec,
        Some(json!({
            "id": "alv2",
            "title": "Nieuwe ALV juni 2026",
            "starts_at": "2026-06-25T19:00:00+02:00",
            "place": "https://meet.example.org/alv2",
            "follow_up_of": "alv",
            "agenda": [{"id": "budget2", "title": "Begroting 2027", "carried_from": item("budget").to_string(),
                        "motion": {"text": "De ALV stelt de begroting 2027 vast.", "kind": "ordinary"}}]
        })),
        StatusCode::CREATED,
    );
        app.ok(
        Method::POST,
        "/associations/coop/meetings/alv2/convocation",
        &sec,
        Some(json!({"advance_voting": false, "electronic_participation": "Via de link in deze oproeping."})),
        StatusCode::OK,
    );
        app.deliver();

        let nl = convocation_for_meeting(&app, "alv@assen.example", "Nieuwe ALV juni 2026");
        assert_eq!(
            nl.subject(),
            "Oproeping nieuwe vergadering: Nieuwe ALV juni 2026, donderdag 25 juni 2026"
        );
        let text = nl.text();
        for needle in [
            "NIEUWE VERGADERING (art. 17.4b–c)",
            // The sentence the statutes require: which meeting, which items, and that this one
            // decides on them whatever the attendance.
            "nieuwe vergadering na de vergadering van woensdag 10 juni 2026",
            "\u{201c}Begroting 2027\u{201d}",
            "ongeacht het aantal aanwezige of vertegenwoordigde leden",
            "Link: https://meet.example.org/alv2",
            "Tussen die dag en de dag van de vergadering liggen 13 dagen; de statuten vereisen er ten minste 10",
            "Vooraf elektronisch stemmen is voor deze vergadering niet opengesteld.",
        ] {
            assert!(text.contains(needle), "the new meeting's convocation lacks {needle:?}:\n{text}");
        }
        let ics = unfolded_ics(&nl.attachment("uitnodiging.ics").text());
        assert_eq!(property(&ics, "DTSTART").as_deref(), Some("20260625T170000Z"));
        assert_eq!(property(&ics, "URL").as_deref(), Some("https://meet.example.org/alv2"));
        assert!(property(&ics, "DESCRIPTION").is_some_and(|d| d.contains("ongeacht het aantal")), "{ics}");

        let en = convocation_for_meeting(&app, "council@capelle.example", "Nieuwe ALV juni 2026");
        assert!(en.subject().starts_with("Notice of a new meeting: "), "{}", en.subject());
        let text = en.text();
        assert!(text.contains("whatever the number of members present or represented"), "{text}");
        assert!(text.contains("Wednesday 10 June 2026") || text.contains("2026-06-10"), "{text}");
    }
);

/// The one convocation `address` received for the meeting titled `title`.
#[track_caller]
fn convocation_for_meeting(app: &MailApp, address: &str, title: &str) -> Delivered {
    let mut mails: Vec<Delivered> = app
        .notices_for(address)
        .into_iter()
        .filter(|m| is_convocation(m) && m.subject().contains(title))
        .collect();
    assert_eq!(mails.len(), 1, "one convocation of {title:?} for {address}");
    mails.remove(0)
}

mail_test!(convening_too_late_is_refused_with_the_earliest_lawful_day_and_sends_nothing_art_20_3, |app| {
    let sec = register(&app);
    app.ok(Method::POST, "/associations/coop/meetings", &sec, Some(meeting_body()), StatusCode::CREATED);
    // On 6 March only 13 clear days are left before 20 March; the statute amendment needs 14.
    app.at("2026-03-06T10:00:00+01:00");
    let sec = app.sign_in(SECRETARIAT);
    let late = app.post(
        "/associations/coop/meetings/alv/convocation",
        &sec,
        json!({"advance_voting": true, "electronic_participation": CONDITIONS}),
    );
    assert_problem(&late, StatusCode::UNPROCESSABLE_ENTITY, "convocation.too_late", Some(("R3", "20.3")));
    let detail = late.1["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("2026-03-21"), "the earliest lawful day: {detail}");
    assert!(detail.contains("14 days"), "{detail}");
    let (_, still) = app.get("/associations/coop/meetings/alv", &sec);
    assert_eq!(still["phase"], "draft");

    // Nothing was queued, so nothing goes out.
    assert_eq!(app.deliver(), 0);
    assert!(
        app.notices().is_empty(),
        "{:?}",
        app.notices().iter().map(Delivered::subject).collect::<Vec<_>>()
    );
});
