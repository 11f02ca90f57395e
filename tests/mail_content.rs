//! The content of the notices (issue 5): which events cause which notices, to whom, in which
//! language, and what the rendered messages and their attachments say. Pure: no outbox, no
//! transport (those are tested in tests/mail/).

#[path = "core/support.rs"]
mod support;

use std::collections::BTreeMap;

use stembus::core::register::{Language, MemberKind};
use stembus::core::{
    AgendaItemId, Association, Choice, Command, Convener, DecisionKind, Event, Instruction, MeetingId,
    MemberId, Outcome, PersonId, PollId, ProxyForm, ProxyHolder, ProxyId, RequestId, ResolutionId,
    RulesProfile, apply,
};
use stembus::mail::ical;
use stembus::mail::notice::{EntryInfo, MailContext, Notice, NoticeKind, notices_for, still_due};
use stembus::mail::render::{Rendered, render};
use stembus::scenario::{Scenario, StepOutcome};
use support::*;

fn ctx() -> MailContext {
    MailContext {
        association_name: "Coöperatie Dimpact U.A.".into(),
        public_url: "https://stembus.example.org/".into(),
        organizer_email: Some("secretariaat@dimpact.example".into()),
    }
}

fn entry(stream: &str, index: u64) -> EntryInfo {
    EntryInfo { stream: stream.into(), index, leaf_hash: format!("{:064x}", 0xfeed_beef_u64 + index) }
}

fn notices(f: &Fixture, events: &[Event]) -> Vec<Notice> {
    events.iter().flat_map(|e| notices_for(&f.state, e, &entry(ALV, 3), &ctx())).collect()
}

fn rendered(n: &Notice) -> Rendered {
    render(n, &ctx()).unwrap_or_else(|e| panic!("{:?} to {} does not render: {e}", n.kind, n.to))
}

fn of_kind(notices: &[Notice], kind: NoticeKind) -> Vec<&Notice> {
    notices.iter().filter(|n| n.kind == kind).collect()
}

fn to<'n>(notices: &'n [Notice], kind: NoticeKind, address: &str) -> &'n Notice {
    notices
        .iter()
        .find(|n| n.kind == kind && n.to == address)
        .unwrap_or_else(|| panic!("no {kind:?} to {address}"))
}

fn address(i: usize) -> String {
    format!("alv@gemeente{i}.example.org")
}

/// Four municipalities (1–4, Dutch), an English-speaking member 5 (`alv@english.example.org`),
/// member 6 without an address, and member 4 suspended.
fn association() -> Fixture {
    let mut f = Fixture::new(4);
    f.run(Command::RegisterMember {
        member: member(5),
        name: "Municipality of Fiveham".into(),
        kind: MemberKind::Gemeente,
        email: "alv@english.example.org".parse().ok(),
        language: Language::En,
    });
    f.run(Command::RegisterMember {
        member: member(6),
        name: "Gemeente Zonder Adres".into(),
        kind: MemberKind::Gemeente,
        email: None,
        language: Language::Nl,
    });
    f.run(Command::SuspendMember { member: member(4) });
    f
}

/// The standard meeting with a statute amendment under item 2, convened on 20 May 2026 for
/// 10 June 2026 19:00 with advance voting and electronic participation; its events.
fn convened_statute_amendment(f: &mut Fixture, title: &str) -> Vec<Event> {
    f.at(CONVENED_AT);
    let mut command = create_meeting_command(ALV, DecisionKind::StatuteAmendment, MEETING_STARTS);
    if let Command::CreateMeeting { title: t, .. } = &mut command {
        *t = title.into();
    }
    f.run(command);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: Some(
            "Via de videoverbinding; u identificeert zich met uw Stembus-sleutel.".into(),
        ),
    })
}

const TITLE: &str = "ALV; statuten, begroting\\2026";

#[test]
fn a_convocation_goes_to_every_member_with_an_address_but_a_suspended_one() {
    let mut f = association();
    let events = convened_statute_amendment(&mut f, TITLE);
    let n = notices(&f, &events);
    let convocations = of_kind(&n, NoticeKind::Convocation);
    let mut addresses: Vec<&str> = convocations.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3)]);
    for c in &convocations {
        assert_eq!((c.meeting, c.send_after, c.person), (Some(alv()), None, None));
    }
    assert_eq!(to(&n, NoticeKind::Convocation, &address(1)).language, Language::Nl);
    // The outbox stores a notice as JSON and reads it back unchanged.
    for notice in &n {
        let stored = serde_json::to_string(notice).unwrap_or_else(|e| panic!("{e}"));
        assert!(stored.contains(&format!("\"kind\":\"{}\"", notice.kind.code())), "{stored}");
        let back: Notice = serde_json::from_str(&stored).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&back, notice);
    }
    assert_eq!(to(&n, NoticeKind::Convocation, "alv@english.example.org").language, Language::En);
}

#[test]
fn the_convocation_lists_agenda_window_conditions_and_notice_and_attaches_the_proposal_art_8_3_20_3() {
    let mut f = association();
    let events = convened_statute_amendment(&mut f, TITLE);
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, &address(1)));

    assert_eq!(m.subject, format!("Oproeping: {TITLE}, woensdag 10 juni 2026"));
    for needle in [
        "Geachte Gemeente 1,",
        "Namens het bestuur roepen wij u op",
        "Datum en tijd: woensdag 10 juni 2026, 19:00 uur",
        "Plaats: Stadhuis, Raadzaal",
        "1. Opening",
        "2. Voorstel",
        "Ter besluitvorming (statutenwijziging; vereist: ten minste twee derde van de uitgebrachte stemmen; art. 20.1):",
        "Het voorstel wordt aangenomen.",
        "Het voorstel is bijgevoegd: voorstel-agendapunt-2.txt",
        "BIJZONDERE OPROEPING (art. 20.3)\nDeze vergadering is speciaal daartoe belegd. Op deze vergadering wordt voorgesteld:\n  - statutenwijziging: agendapunt 2, Voorstel\nDe voorstellen zijn aan deze oproeping toegevoegd",
        "Vooraf elektronisch stemmen is opengesteld (art. 8.13): van woensdag 20 mei 2026, 10:00 uur tot de opening van de vergadering op woensdag 10 juni 2026, 19:00 uur.",
        "U kunt elektronisch aan de vergadering deelnemen (art. 8.11). Wie dat doet, moet via het elektronische communicatiemiddel kunnen worden geïdentificeerd",
        "De voorwaarden van het bestuur:\nVia de videoverbinding; u identificeert zich met uw Stembus-sleutel.",
        "Deze oproeping is verzonden op woensdag 20 mei 2026. Tussen die dag en de dag van de vergadering liggen 20 dagen; de statuten vereisen er ten minste 14",
        "(art. 20.3)",
        "Bijlagen: uitnodiging.ics (uitnodiging voor uw agenda), voorstel-agendapunt-2.txt.",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    assert!(!m.text.contains("NIEUWE VERGADERING"), "{}", m.text);
    assert!(m.html.contains("<ol") && m.html.contains("Ter besluitvorming"), "{}", m.html);
    assert!(m.html.contains("ALV; statuten, begroting\\2026"), "{}", m.html);

    let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, vec!["voorstel-agendapunt-2.txt", "uitnodiging.ics"]);
    let proposal = String::from_utf8_lossy(&m.attachments[0].body).into_owned();
    assert_eq!(m.attachments[0].content_type, "text/plain; charset=utf-8");
    assert!(proposal.contains("Voorstel bij agendapunt 2: Voorstel"), "{proposal}");
    assert!(proposal.contains("Ontwerp van de akte"), "{proposal}");
}

#[test]
fn the_invitation_is_valid_icalendar_with_escaped_text_and_folded_crlf_lines() {
    let mut f = association();
    let events = convened_statute_amendment(&mut f, TITLE);
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, &address(1)));
    let ics =
        m.attachments.iter().find(|a| a.filename == "uitnodiging.ics").unwrap_or_else(|| panic!("no ics"));
    assert_eq!(ics.content_type, "text/calendar; method=REQUEST; charset=UTF-8");
    let text = String::from_utf8(ics.body.clone()).unwrap_or_else(|e| panic!("{e}"));

    assert!(text.ends_with("\r\n"));
    assert!(!text.replace("\r\n", "").contains(['\r', '\n']), "a line break that is not CRLF");
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    let unfolded = ical::unfold(&text);
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    assert!(text.len() > unfolded.len(), "the description is long enough to be folded");
    for expected in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        &format!("UID:{}@stembus", alv()),
        "DTSTAMP:20260520T080000Z",
        "DTSTART:20260610T170000Z",
        "DTEND:20260610T190000Z",
        "SUMMARY:ALV\\; statuten\\, begroting\\\\2026",
        "LOCATION:Stadhuis\\, Raadzaal",
        "ORGANIZER;CN=\"Coöperatie Dimpact U.A.\":mailto:secretariaat@dimpact.example",
        "END:VEVENT",
        "END:VCALENDAR",
    ] {
        assert!(lines.contains(&expected), "no line {expected:?} in\n{unfolded}");
    }
    let description = lines
        .iter()
        .find(|l| l.starts_with("DESCRIPTION:"))
        .unwrap_or_else(|| panic!("no DESCRIPTION in\n{unfolded}"));
    assert!(description.contains("\\nAgenda:\\n1. Opening\\n2. Voorstel"), "{description}");
    assert!(description.contains("Plaats: Stadhuis\\, Raadzaal"), "{description}");
    assert!(!description.contains('\n'));
    assert!(
        lines.iter().any(|l| l.starts_with("ATTENDEE;CN=\"Gemeente 1\";")
            && l.ends_with(":mailto:alv@gemeente1.example.org")),
        "{unfolded}"
    );
}

#[test]
fn a_member_whose_language_is_english_gets_its_convocation_in_english() {
    let mut f = association();
    let events = convened_statute_amendment(&mut f, "General meeting");
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, "alv@english.example.org"));
    assert_eq!(m.subject, "Notice of meeting: General meeting, Wednesday 10 June 2026");
    for needle in [
        "Dear Municipality of Fiveham,",
        "Date and time: Wednesday 10 June 2026, 19:00 (Amsterdam time)",
        "For decision (amendment of the statutes; requires at least two thirds of the votes cast; Art. 20.1)",
        "SPECIAL CONVOCATION (Art. 20.3)",
        "Advance electronic voting is open (Art. 8.13): from Wednesday 20 May 2026, 10:00 (Amsterdam time) until the meeting opens on Wednesday 10 June 2026, 19:00 (Amsterdam time).",
        "You may take part in the meeting electronically (Art. 8.11).",
        "there are 20 days; the statutes require at least 14",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    assert!(!m.text.contains("Geachte"));
    assert!(m.html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "{}", m.html);
    let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
    assert_eq!(names, vec!["proposal-item-2.txt", "invite.ics"]);

    let dutch = rendered(to(&n, NoticeKind::Convocation, &address(2)));
    assert!(dutch.html.starts_with("<!DOCTYPE html>\n<html lang=\"nl\">"));
}

#[test]
fn html_escapes_what_members_typed_and_plain_text_keeps_it() {
    let mut f = association();
    f.run(Command::RegisterMember {
        member: MemberId::named("evil"),
        name: "<script>alert('x')</script> & Co".into(),
        kind: MemberKind::Gemeente,
        email: "evil@example.org".parse().ok(),
        language: Language::Nl,
    });
    let events = convened_statute_amendment(&mut f, "ALV <b>2026</b>");
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, "evil@example.org"));
    assert!(!m.html.contains("<script>"), "{}", m.html);
    assert!(!m.html.contains("<b>2026"), "{}", m.html);
    assert!(m.html.contains("&lt;script&gt;"), "{}", m.html);
    assert!(m.html.contains("&amp; Co"), "{}", m.html);
    assert!(m.text.contains("Geachte <script>alert('x')</script> & Co,"), "{}", m.text);
    assert_eq!(m.subject, "Oproeping: ALV <b>2026</b>, woensdag 10 juni 2026");
}

#[test]
fn a_suspended_member_is_convened_when_the_agenda_treats_its_case_art_6_9() {
    let mut f = association();
    f.at(CONVENED_AT);
    let mut command = create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS);
    if let Command::CreateMeeting { agenda, .. } = &mut command {
        agenda[1].concerns_member = Some(member(4));
    }
    f.run(command);
    let events = f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: None,
    });
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, &address(4)));
    assert!(m.text.contains("U bent geschorst en hebt geen stemrecht."), "{}", m.text);
    assert!(m.text.contains("Dit punt behandelt de zaak van Gemeente 4."), "{}", m.text);
    assert!(m.text.contains("Vooraf elektronisch stemmen is voor deze vergadering niet opengesteld."));
    assert!(m.text.contains("Deze vergadering wordt alleen in de zaal gehouden"));
    assert_eq!(of_kind(&n, NoticeKind::AdvanceVotingReminder).len(), 0, "no window, no reminder");
    let others = rendered(to(&n, NoticeKind::Convocation, &address(1)));
    assert!(!others.text.contains("geschorst"));
    assert_eq!(others.attachments.len(), 1, "an ordinary decision has no proposal attached");
}

#[test]
fn a_meeting_at_a_link_without_electronic_conditions_does_not_say_it_is_held_in_the_room_art_8_11() {
    let mut f = association();
    f.at(CONVENED_AT);
    let mut command = create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS);
    if let Command::CreateMeeting { place, .. } = &mut command {
        *place = "https://vergadering.example.org/alv".into();
    }
    f.run(command);
    let events = f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: None,
    });
    let n = notices(&f, &events);
    let m = rendered(to(&n, NoticeKind::Convocation, &address(1)));
    assert!(m.text.contains("Link: https://vergadering.example.org/alv"), "{}", m.text);
    assert!(!m.text.contains("alleen in de zaal"), "{}", m.text);
    assert!(
        m.text.contains("Het bestuur heeft geen voorwaarden gesteld voor elektronisch deelnemen (art. 8.11)")
    );
    assert!(!m.html.contains("alleen in de zaal"), "{}", m.html);
}

#[test]
fn a_reminder_waits_until_a_day_before_the_window_closes_and_lapses_once_voted_or_opened() {
    let mut f = association();
    let events = convened_statute_amendment(&mut f, TITLE);
    let n = notices(&f, &events);
    let reminders = of_kind(&n, NoticeKind::AdvanceVotingReminder);
    let mut addresses: Vec<&str> = reminders.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3)]);
    for r in &reminders {
        assert_eq!(r.send_after, Some(t("2026-06-09T19:00:00+02:00")));
        assert!(still_due(&f.state, r));
    }
    let one = to(&n, NoticeKind::AdvanceVotingReminder, &address(1)).clone();
    let m = rendered(&one);
    assert_eq!(
        m.subject,
        format!("Herinnering: vooraf stemmen kan tot woensdag 10 juni 2026, 19:00 uur ({TITLE})")
    );
    assert!(m.text.contains("2. Voorstel (statutenwijziging)"), "{}", m.text);
    assert!(m.text.contains(&format!("--meeting {} --member {}", alv(), member(1))), "{}", m.text);
    assert!(m.attachments.is_empty());

    // Member 1 votes in advance on the only motion: its reminder lapses, the others' do not.
    f.at("2026-06-01T12:00:00+02:00");
    f.run(Command::CastBallot {
        meeting: alv(),
        item: motion(),
        member: member(1),
        person: rep(1),
        choice: Choice::For,
        signed: None,
    });
    assert!(!still_due(&f.state, &one));
    assert!(still_due(&f.state, to(&n, NoticeKind::AdvanceVotingReminder, &address(2))));

    // A changed address is no longer the consented one (Art. 8.3).
    let mut moved = to(&n, NoticeKind::AdvanceVotingReminder, &address(3)).clone();
    moved.to = "old@example.org".into();
    assert!(!still_due(&f.state, &moved));

    // Once the meeting opens, no reminder is due.
    f.at("2026-06-10T19:00:00+02:00");
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    for r in &reminders {
        assert!(!still_due(&f.state, r));
    }
    // Other kinds never wait.
    assert!(still_due(&f.state, to(&n, NoticeKind::Convocation, &address(1))));
}

fn grant(f: &mut Fixture, name: &str, grantor: usize, holder: ProxyHolder) -> Vec<Event> {
    let mut instructions = BTreeMap::new();
    instructions.insert(motion(), Instruction::Against);
    f.run(Command::GrantProxy {
        meeting: alv(),
        proxy: ProxyId::named(name),
        grantor: member(grantor),
        holder,
        instructions,
        form: ProxyForm::Electronic,
        signed: None,
        scan_sha256: None,
    })
}

#[test]
fn a_proxy_is_confirmed_to_grantor_and_holder_with_its_instructions_and_so_is_its_revocation() {
    let mut f = association();
    convened_statute_amendment(&mut f, TITLE);
    f.at("2026-06-02T09:00:00+02:00");
    let events = grant(&mut f, "p1", 1, ProxyHolder::Member { member: member(5) });
    let n = notices(&f, &events);
    assert_eq!(n.len(), 2, "{n:?}");

    let grantor = rendered(to(&n, NoticeKind::ProxyGranted, &address(1)));
    assert_eq!(
        grantor.subject,
        format!("Bevestiging volmacht van Gemeente 1 aan Municipality of Fiveham ({TITLE})")
    );
    for needle in [
        "Hierbij bevestigen wij de volmacht die Gemeente 1 heeft gegeven",
        "Gevolmachtigde: Municipality of Fiveham (ander lid)",
        "Vorm:           elektronisch, elektronisch ondertekend",
        "Ontvangen:      dinsdag 2 juni 2026, 09:00 uur",
        "2. Voorstel: tegen stemmen",
        "Een stem die tegen een instructie ingaat, wordt geweigerd.",
        "De volmacht kan worden ingetrokken tot de opening van de vergadering.",
        "(Art. 8.5 van de statuten.)",
    ] {
        assert!(grantor.text.contains(needle), "missing {needle:?} in\n{}", grantor.text);
    }
    assert!(!grantor.text.contains("1. Opening:"), "an item without a motion has no instruction");

    let holder_notice = to(&n, NoticeKind::ProxyGranted, "alv@english.example.org");
    assert_eq!((holder_notice.language, holder_notice.member), (Language::En, Some(member(5))));
    let holder = rendered(holder_notice);
    assert_eq!(holder.subject, format!("Proxy received from Gemeente 1 ({TITLE})"));
    for needle in [
        "Gemeente 1 has given Municipality of Fiveham a proxy",
        "The representative of Municipality of Fiveham also votes for Gemeente 1 in that meeting.",
        "2. Voorstel: vote against",
    ] {
        assert!(holder.text.contains(needle), "missing {needle:?} in\n{}", holder.text);
    }

    f.at("2026-06-03T09:00:00+02:00");
    let events = f.run(Command::RevokeProxy { meeting: alv(), proxy: ProxyId::named("p1") });
    let n = notices(&f, &events);
    assert_eq!(of_kind(&n, NoticeKind::ProxyRevoked).len(), 2, "{n:?}");
    let revoked = rendered(to(&n, NoticeKind::ProxyRevoked, &address(1)));
    assert!(revoked.text.contains("is ingetrokken op woensdag 3 juni 2026, 09:00 uur"), "{}", revoked.text);
    let revoked = rendered(to(&n, NoticeKind::ProxyRevoked, "alv@english.example.org"));
    assert!(revoked.text.contains("can no longer vote for Gemeente 1"), "{}", revoked.text);
}

#[test]
fn a_proxy_to_a_person_goes_to_the_person_s_address() {
    let mut f = association();
    f.run(Command::RegisterPerson {
        person: PersonId::named("notaris-mail"),
        name: "Mr. A. Notaris".into(),
        email: "notaris@example.org".parse().ok(),
        profession: Some(stembus::core::register::Profession::Notary),
    });
    convened_statute_amendment(&mut f, TITLE);
    f.at("2026-06-02T09:00:00+02:00");
    let events = grant(&mut f, "p1", 1, ProxyHolder::Notary { person: PersonId::named("notaris-mail") });
    let n = notices(&f, &events);
    let holder = to(&n, NoticeKind::ProxyGranted, "notaris@example.org");
    assert_eq!(
        (holder.person, holder.member, holder.language),
        (Some(PersonId::named("notaris-mail")), Some(member(1)), Language::Nl)
    );
    let m = rendered(holder);
    assert!(m.text.contains("Gemeente 1 heeft u een volmacht gegeven"), "{}", m.text);
    assert!(m.text.contains("Gevolmachtigde: Mr. A. Notaris (notaris)"), "{}", m.text);
    assert_eq!(n.len(), 2, "{n:?}");
}

#[test]
fn a_ballot_receipt_carries_the_leaf_hash_and_how_to_verify_it() {
    let mut f = association();
    convened_statute_amendment(&mut f, TITLE);
    f.at("2026-06-01T12:00:00+02:00");
    let events = f.run(Command::CastBallot {
        meeting: alv(),
        item: motion(),
        member: member(2),
        person: rep(2),
        choice: Choice::Against,
        signed: None,
    });
    let cast = events.last().unwrap_or_else(|| panic!("no event"));
    let leaf = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let info = EntryInfo { stream: alv().to_string(), index: 17, leaf_hash: leaf.into() };
    let n = notices_for(&f.state, cast, &info, &ctx());
    assert_eq!(n.len(), 1, "{n:?}");
    // The representative has no address of their own: the member's.
    assert_eq!((n[0].kind, n[0].to.as_str()), (NoticeKind::BallotReceipt, address(2).as_str()));
    assert_eq!((n[0].member, n[0].person), (Some(member(2)), Some(rep(2))));
    let m = rendered(&n[0]);
    assert_eq!(m.subject, format!("Ontvangstbewijs van uw stem: agendapunt 2, {TITLE}"));
    let receipt_file = format!("receipt-{}-17.json", alv());
    for needle in [
        "Geachte Wethouder 2,",
        "Agendapunt:  2. Voorstel",
        "Stem:        tegen",
        "Uitgebracht: maandag 1 juni 2026, 12:00 uur, vooraf, elektronisch",
        "Ondertekend: ja, met uw eigen sleutel",
        &format!("Logboek:   {}", alv()),
        "Positie:   17",
        &format!("Leaf-hash: {leaf}"),
        &format!("stembus receipt check --server https://stembus.example.org {receipt_file}"),
        &format!(
            "https://stembus.example.org/api/v1/associations/{}/meetings/{}/log/head",
            f.state.id,
            alv()
        ),
        &format!(
            "https://stembus.example.org/api/v1/associations/{}/meetings/{}/log/entries/17/receipt",
            f.state.id,
            alv()
        ),
        "U hebt vooraf gestemd.",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    assert!(m.html.contains(leaf));
}

#[test]
fn a_follow_up_meeting_s_convocation_carries_the_sentence_the_statutes_require_art_17_4c() {
    let mut f = Fixture::new(10);
    f.opened(DecisionKind::Ordinary, 4);
    f.poll_with("p1", 4, 0, 0);
    let declared = f.run(Command::DeclareResult {
        meeting: alv(),
        poll: PollId::named("p1"),
        by: chair(),
        outcome: Outcome::NoQuorum,
        signed: None,
    });
    // The outcome of the failed quorum goes to every member, with the window for a new meeting.
    let outcome = notices(&f, &declared);
    assert_eq!(of_kind(&outcome, NoticeKind::Outcome).len(), 10);
    let m = rendered(to(&outcome, NoticeKind::Outcome, &address(1)));
    assert!(m.subject.contains("geen besluit"), "{}", m.subject);
    for needle in [
        "UITSLAG: geen besluit: te weinig leden aanwezig of vertegenwoordigd",
        "Stemmen: 4 voor, 0 tegen, 0 onthoudingen.",
        "Aanwezig of vertegenwoordigd: 4 van de 10 leden",
        "Quorum: de helft van de leden, dat is 5: niet gehaald.",
        "te houden van donderdag 11 juni 2026 tot en met vrijdag 10 juli 2026",
        "(art. 17.4b–c)",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    assert!(!m.text.contains("Meerderheid:"), "{}", m.text);

    f.at("2026-06-10T21:00:00+02:00");
    f.run(Command::CloseMeeting { meeting: alv(), by: chair() });
    f.at("2026-06-11T10:00:00+02:00");
    let second = MeetingId::named("alv-2");
    let mut command = create_meeting_command("alv-2", DecisionKind::Ordinary, "2026-06-25T19:00:00+02:00");
    if let Command::CreateMeeting { follow_up_of, agenda, .. } = &mut command {
        *follow_up_of = Some(alv());
        for item in agenda.iter_mut().filter(|i| i.motion.is_some()) {
            item.carried_from = Some(motion());
        }
    }
    f.run(command);
    let events = f.run(Command::ConveneMeeting {
        meeting: second,
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: Some("Via de link.".into()),
    });
    let n = notices(&f, &events);
    let dutch = rendered(to(&n, NoticeKind::Convocation, &address(1)));
    assert!(dutch.subject.starts_with("Oproeping nieuwe vergadering: "), "{}", dutch.subject);
    assert!(
        dutch.text.contains(
            "NIEUWE VERGADERING (art. 17.4b–c)\nDit is een nieuwe vergadering na de vergadering van woensdag 10 juni 2026. In die vergadering is over \u{201c}Voorstel\u{201d} geen besluit genomen op grond van het feit dat onvoldoende leden aanwezig of vertegenwoordigd waren. Daarom kan deze vergadering daarover besluiten ongeacht het aantal aanwezige of vertegenwoordigde leden."
        ),
        "{}",
        dutch.text
    );
    let ics = String::from_utf8_lossy(&dutch.attachments[0].body).into_owned();
    assert!(ical::unfold(&ics).contains("ongeacht het aantal aanwezige of vertegenwoordigde leden"), "{ics}");

    let mut english = to(&n, NoticeKind::Convocation, &address(1)).clone();
    english.language = Language::En;
    let english = rendered(&english);
    assert!(english.text.contains("NEW MEETING (Art. 17.4b–c)"), "{}", english.text);
    assert!(
        english.text.contains("whatever the number of members present or represented"),
        "{}",
        english.text
    );
}

#[test]
fn a_declared_outcome_explains_counts_quorum_majority_and_article() {
    let mut f = association();
    f.opened(DecisionKind::Ordinary, 3);
    let result = f.poll_with("p1", 2, 1, 0);
    assert_eq!(result.outcome, Outcome::Adopted, "{}", result.explanation);
    let events = f.run(Command::DeclareResult {
        meeting: alv(),
        poll: PollId::named("p1"),
        by: chair(),
        outcome: Outcome::Adopted,
        signed: None,
    });
    let n = notices(&f, &events);
    // Every member with an address, the suspended one included.
    let mut addresses: Vec<&str> = n.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(
        addresses,
        vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3), address(4)]
    );
    let m = rendered(to(&n, NoticeKind::Outcome, &address(1)));
    assert_eq!(m.subject, "Uitslag agendapunt 2, Voorstel: aangenomen (Algemene ledenvergadering (alv))");
    for needle in [
        "UITSLAG: aangenomen",
        "Stemmen: 2 voor, 1 tegen, 0 onthoudingen. Uitgebrachte stemmen: 3",
        "Aanwezig of vertegenwoordigd: 3 van de 5 leden (0 in de zaal, 3 elektronisch, 0 bij volmacht, 0 met een stem vooraf)",
        "Quorum: de helft van de leden, dat is 3: gehaald.",
        "Meerderheid: meer dan de helft van de uitgebrachte stemmen, hier ten minste 2 stemmen voor: bereikt.",
        "Beslist volgens art. 17.2, 17.4a van de statuten.",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    let m = rendered(to(&n, NoticeKind::Outcome, "alv@english.example.org"));
    assert!(m.text.contains("OUTCOME: adopted"), "{}", m.text);
    assert!(m.text.contains(&format!("{}.", result.explanation)), "{}", m.text);
    assert!(m.text.contains("Decided by Art. 17.2, 17.4a of the statutes."), "{}", m.text);
}

#[test]
fn a_disputed_outcome_tells_every_member_that_the_one_sent_no_longer_stands_art_17_5() {
    let mut f = association();
    f.opened(DecisionKind::Ordinary, 3);
    let result = f.poll_with("p1", 2, 1, 0);
    f.run(Command::DeclareResult {
        meeting: alv(),
        poll: PollId::named("p1"),
        by: chair(),
        outcome: result.outcome,
        signed: None,
    });
    // Two of the three present members dispute it at once: the majority of the meeting.
    let events = f.run(Command::ChallengeDeclaration {
        meeting: alv(),
        poll: PollId::named("p1"),
        supporters: vec![member(1), member(2)],
    });
    let n = notices(&f, &events);
    assert!(n.iter().all(|n| n.kind == NoticeKind::OutcomeChallenged));
    // Whoever was sent the outcome hears that it no longer stands.
    let mut addresses: Vec<&str> = n.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(
        addresses,
        vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3), address(4)]
    );
    let m = rendered(to(&n, NoticeKind::OutcomeChallenged, &address(3)));
    assert!(
        m.subject.starts_with("Uitslag agendapunt 2, Voorstel betwist: er wordt opnieuw gestemd"),
        "{}",
        m.subject
    );
    for needle in [
        "(aangenomen) is direct daarna betwist door 2 leden",
        "de uitslag die u eerder ontving, geldt niet meer",
        "art. 17.5 van de statuten",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    let m = rendered(to(&n, NoticeKind::OutcomeChallenged, "alv@english.example.org"));
    assert!(m.text.contains("was disputed at once by 2 members"), "{}", m.text);
    assert!(m.text.contains("the outcome you were sent earlier no longer stands"), "{}", m.text);
}

#[test]
fn a_members_request_is_confirmed_to_the_requesters_with_the_board_s_four_weeks_art_8_1() {
    let mut f = association();
    f.at("2026-03-02T10:00:00+01:00");
    let events = f.run(Command::RequestMeeting {
        request: RequestId::named("r1"),
        members: vec![member(1), member(5), member(6)],
        subjects: vec!["De begroting 2027".into(), "De <b>tarieven</b>".into()],
    });
    let n = notices(&f, &events);
    let mut addresses: Vec<&str> = n.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, vec!["alv@english.example.org".to_owned(), address(1)], "member 6 has no address");
    let m = rendered(to(&n, NoticeKind::MembersRequest, &address(1)));
    for needle in [
        "Het verzoek van 3 leden om een algemene ledenvergadering bijeen te roepen is op maandag 2 maart 2026 ontvangen",
        "Gemeente 1, Gemeente Zonder Adres, Municipality of Fiveham",
        "  - De begroting 2027",
        "ten minste een tiende van de leden (hier 3 van de 5)",
        "binnen 4 weken (art. 8.1), dus uiterlijk op maandag 30 maart 2026",
        "vanaf dinsdag 31 maart 2026 zelf bijeenroepen",
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    assert!(
        m.html.contains("De &lt;b&gt;tarieven&lt;&#x2f;b&gt;")
            || m.html.contains("De &lt;b&gt;tarieven&lt;/b&gt;"),
        "{}",
        m.html
    );
    let m = rendered(to(&n, NoticeKind::MembersRequest, "alv@english.example.org"));
    assert!(
        m.text.contains("within 4 weeks (Art. 8.1), that is by Monday 30 March 2026 at the latest"),
        "{}",
        m.text
    );
}

#[test]
fn a_resolution_outside_a_meeting_asks_each_member_with_a_vote_and_tells_every_member_the_outcome_art_8_12() {
    let mut f = association();
    let r1 = ResolutionId::named("r1");
    f.at("2026-03-02T10:00:00+01:00");
    let events = f.run(Command::ProposeResolution {
        resolution: r1,
        text: "De <b>contributie</b> voor 2027 blijft gelijk.".into(),
        kind: DecisionKind::Ordinary,
        closes_at: support::t("2026-03-16T17:00:00+01:00"),
        board_informed: true,
        supervisory_board_informed: true,
    });
    let n = notices(&f, &events);
    assert!(n.iter().all(|n| n.kind == NoticeKind::ResolutionProposed));
    let mut addresses: Vec<&str> = n.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    // Member 4 is suspended and has no vote; member 6 has no address.
    assert_eq!(addresses, vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3)]);
    let votes_url =
        format!("https://stembus.example.org/api/v1/associations/{}/resolutions/{r1}/votes", f.state.id);
    let page_url = format!("https://stembus.example.org/{}/voter/resolutions/{r1}", f.state.id);
    let m = rendered(to(&n, NoticeKind::ResolutionProposed, &address(1)));
    assert_eq!(
        m.subject,
        "Besluit buiten vergadering: uw stem gevraagd vóór maandag 16 maart 2026, 17:00 uur (Coöperatie Dimpact U.A.)"
    );
    for needle in [
        "Geachte Gemeente 1,",
        "Op maandag 2 maart 2026, 10:00 uur is een besluit buiten vergadering voorgesteld (art. 8.12 van de statuten):",
        "  De <b>contributie</b> voor 2027 blijft gelijk.",
        "alleen genomen als alle leden vóór stemmen",
        "Stemmen kan tot maandag 16 maart 2026, 17:00 uur.",
        &format!("ondertekent de stem met zijn of haar sleutel op:\n  {page_url}\n"),
        &votes_url,
    ] {
        assert!(m.text.contains(needle), "missing {needle:?} in\n{}", m.text);
    }
    // The HTML part links the page (minijinja writes `/` as `&#x2f;`, which reads the same).
    assert!(m.html.contains(&format!("<a href=\"{}\">", page_url.replace('/', "&#x2f;"))), "{}", m.html);
    assert!(m.html.contains("De &lt;b&gt;contributie&lt;"), "{}", m.html);
    let m = rendered(to(&n, NoticeKind::ResolutionProposed, "alv@english.example.org"));
    assert!(m.text.contains("taken only when every member votes for it"), "{}", m.text);
    assert!(
        m.text.contains("Voting is open until Monday 16 March 2026, 17:00 (Amsterdam time)."),
        "{}",
        m.text
    );

    // One member votes for; the others do not vote: the resolution is not taken.
    f.at("2026-03-03T09:00:00+01:00");
    let vote = f.run(Command::CastResolutionVote {
        resolution: r1,
        member: member(1),
        person: rep(1),
        choice: Choice::For,
        signed: None,
    });
    assert!(notices(&f, &vote).iter().all(|n| n.kind == NoticeKind::BallotReceipt));
    f.at("2026-03-16T17:00:00+01:00");
    let events = f.run(Command::ConcludeResolution { resolution: r1 });
    let n = notices(&f, &events);
    let mut addresses: Vec<&str> = n.iter().map(|n| n.to.as_str()).collect();
    addresses.sort_unstable();
    // The outcome goes to the suspended member too: the decision binds it.
    assert_eq!(
        addresses,
        vec!["alv@english.example.org".to_owned(), address(1), address(2), address(3), address(4)]
    );
    let result = f.state.resolutions[&r1].result.clone().unwrap_or_else(|| panic!("not concluded"));
    assert_eq!(result.outcome, Outcome::Rejected, "{}", result.explanation);
    let m = rendered(to(&n, NoticeKind::ResolutionConcluded, &address(2)));
    assert_eq!(m.subject, "Besluit buiten vergadering: verworpen (Coöperatie Dimpact U.A.)");
    for needle in [
        "UITSLAG: verworpen".to_owned(),
        format!(
            "Stemmen: 1 voor, 0 tegen, 0 onthoudingen; {} van de {} leden stemden niet.",
            result.not_voted, result.members_in_office
        ),
        format!("{}.", result.explanation),
    ] {
        assert!(m.text.contains(&needle), "missing {needle:?} in\n{}", m.text);
    }
    let m = rendered(to(&n, NoticeKind::ResolutionConcluded, "alv@english.example.org"));
    assert!(m.text.contains("OUTCOME: rejected"), "{}", m.text);
}

#[test]
fn events_without_a_notice_cause_none() {
    let mut f = association();
    convened_statute_amendment(&mut f, TITLE);
    f.at("2026-06-10T18:50:00+02:00");
    let events = f.run(Command::CheckIn {
        meeting: alv(),
        member: member(1),
        person: rep(1),
        mode: stembus::core::Mode::Electronic,
    });
    assert!(notices(&f, &events).is_empty());
}

/// Replays the 2022 meeting event by event and renders every notice it causes, in both
/// languages: no template names a value its context lacks.
#[test]
fn every_notice_of_the_2022_meeting_renders_in_both_languages() {
    let text = include_str!("../scenarios/alv-2022-12-07.toml");
    let replay = Scenario::from_toml(text)
        .and_then(|s| s.replay(RulesProfile::dimpact_2023()))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut state = Association::new(RulesProfile::dimpact_2023());
    let mut counts: BTreeMap<NoticeKind, usize> = BTreeMap::new();
    let mut index = 0;
    for (_, outcome) in &replay.steps {
        let StepOutcome::Accepted(events) = outcome else { continue };
        for event in events {
            apply(&mut state, event);
            index += 1;
            for mut notice in notices_for(&state, event, &entry("stream", index), &ctx()) {
                *counts.entry(notice.kind).or_default() += 1;
                for language in [Language::Nl, Language::En] {
                    notice.language = language;
                    let m = rendered(&notice);
                    assert!(!m.subject.is_empty() && !m.text.is_empty() && m.html.contains("</html>"));
                }
            }
        }
    }
    assert_eq!(state, replay.state);
    for kind in [
        NoticeKind::Convocation,
        NoticeKind::AdvanceVotingReminder,
        NoticeKind::ProxyGranted,
        NoticeKind::BallotReceipt,
        NoticeKind::Outcome,
    ] {
        assert!(counts.get(&kind).copied().unwrap_or(0) > 0, "no {kind:?} in {counts:?}");
    }
    assert_eq!(counts.get(&NoticeKind::Convocation), Some(&40));
    let _ = AgendaItemId::named("x");
}
