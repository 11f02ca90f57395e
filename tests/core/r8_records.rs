//! R8 and Art. 8.2: the minutes' lists (Art. 17.6) and the annual meeting reminder.

use stembus::core::records::{Participation, annual_meeting_warning, minutes};
use stembus::core::{Command, Convener, DecisionKind, MeetingId, MemberId, Outcome, RuleId, RulesProfile};
use stembus::scenario::Scenario;

use crate::support::{Fixture, create_meeting_command, t};

fn minutes_of_2022() -> stembus::core::records::Minutes {
    let text = include_str!("../../scenarios/alv-2022-12-07.toml");
    let replay = Scenario::from_toml(text)
        .and_then(|s| s.replay(RulesProfile::dimpact_2023()))
        .unwrap_or_else(|e| panic!("{e}"));
    let meeting = &replay.state.meetings[&MeetingId::named("alv-2022-12-07")];
    minutes(&replay.state, meeting)
}

fn took_part(m: &stembus::core::records::Minutes, member: &str) -> Participation {
    let id = MemberId::named(member);
    m.attendance
        .iter()
        .find(|a| a.member == id)
        .map(|a| a.participation.clone())
        .unwrap_or_else(|| panic!("{member} is not on the list"))
}

#[test]
fn the_attendance_list_says_in_what_capacity_each_member_took_part_art_17_6() {
    let m = minutes_of_2022();
    assert_eq!(m.attendance.len(), 40);
    assert!(matches!(took_part(&m, "assen"), Participation::OwnRepresentative { electronically: true, .. }));
    assert!(
        matches!(took_part(&m, "deventer"), Participation::ProxyHolder { ref holder, .. } if holder == "Gemeente Raalte")
    );
    assert!(
        matches!(took_part(&m, "westvoorne"), Participation::ProxyTo { ref name, .. } if name == "Johan Dijkstra")
    );
    assert_eq!(took_part(&m, "rotterdam"), Participation::AdvanceBallot);
    assert_eq!(took_part(&m, "zaanstad"), Participation::Absent);
    let absent = m.attendance.iter().filter(|a| a.participation == Participation::Absent).count();
    assert_eq!(absent, 12, "twelve members are 'Niet aanwezig' in the minutes");
}

#[test]
fn the_attendance_list_records_a_member_leaving_during_the_meeting() {
    let m = minutes_of_2022();
    let oldambt = m
        .attendance
        .iter()
        .find(|a| a.member == MemberId::named("oldambt"))
        .unwrap_or_else(|| panic!("no Oldambt"));
    assert_eq!(oldambt.stretches.len(), 1);
    assert_eq!(oldambt.stretches[0].1, Some(t("2022-12-07T19:50:00+01:00")));
    assert!(
        m.to_markdown()
            .contains("| Gemeente Oldambt | Dhr. E. Wunker (electronically); left at 2022-12-07 19:50 CET |")
    );
}

#[test]
fn the_list_of_decisions_holds_each_declared_decision_with_its_reason() {
    let m = minutes_of_2022();
    let titles: Vec<&str> = m.decisions.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["Notulen vorige vergadering", "Financiën", "Vooruitblik 2023: statutenwijziging"]);
    assert!(m.decisions.iter().all(|d| d.outcome == Outcome::Adopted));
    let amendment = &m.decisions[2];
    assert_eq!(amendment.kind, DecisionKind::StatuteAmendment);
    assert!(amendment.explanation.contains("27 needed (two thirds)"), "{}", amendment.explanation);
    assert!(m.to_markdown().contains("## List of decisions"));
}

#[test]
fn no_annual_meeting_before_1_july_is_warned_about_art_8_2() {
    let f = Fixture::new(3);
    let w = annual_meeting_warning(&f.state, t("2026-02-01T12:00:00+01:00").date_naive());
    let w = w.unwrap_or_else(|| panic!("expected a warning"));
    assert_eq!((w.rule, w.article.as_str()), (RuleId::R3, "8.2"));
    assert!(w.message.contains("2026-07-01"), "{}", w.message);
}

fn annual_meeting(f: &mut Fixture, starts_at: &str) {
    let mut create = create_meeting_command("annual", DecisionKind::Ordinary, starts_at);
    if let Command::CreateMeeting { agenda, .. } = &mut create {
        agenda[1].annual_accounts = true;
    }
    f.at("2026-05-01T10:00:00+02:00");
    f.run(create);
    f.run(Command::ConveneMeeting {
        meeting: MeetingId::named("annual"),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: None,
    });
}

#[test]
fn a_convened_meeting_on_the_accounts_before_1_july_satisfies_art_8_2() {
    let mut f = Fixture::new(3);
    annual_meeting(&mut f, "2026-06-30T19:00:00+02:00");
    assert_eq!(annual_meeting_warning(&f.state, t("2026-05-02T12:00:00+02:00").date_naive()), None);
}

#[test]
fn a_meeting_on_1_july_is_too_late_for_art_8_2() {
    let mut f = Fixture::new(3);
    annual_meeting(&mut f, "2026-07-01T19:00:00+02:00");
    assert!(annual_meeting_warning(&f.state, t("2026-05-02T12:00:00+02:00").date_naive()).is_some());
}

#[test]
fn a_name_cannot_break_the_minutes_table_nor_carry_control_characters() {
    let mut f = Fixture::new(1);
    let register = |name: &str| Command::RegisterMember {
        member: stembus::core::MemberId::named("x"),
        name: name.into(),
        kind: stembus::core::register::MemberKind::Gemeente,
        email: None,
        language: Default::default(),
    };
    let v = f.refuse(register("Gemeente\u{0}X"));
    assert_eq!(v.code, "text.control_characters");
    let v = f.refuse(register("\u{200b}"));
    assert_eq!(v.code, "member.name_missing");
    f.run(register("Gemeente X | Present | \n## Heading"));
    f.convened(DecisionKind::Ordinary);
    let minutes = minutes(&f.state, &f.state.meetings[&crate::support::alv()]).to_markdown();
    assert!(minutes.contains("| Gemeente X \\| Present \\|  ## Heading | Not present |"), "{minutes}");
    assert!(!minutes.contains("\n## Heading"));
}

#[test]
fn a_member_registered_after_the_meeting_closed_is_not_on_its_attendance_list() {
    let text = include_str!("../../scenarios/alv-2022-12-07.toml");
    let mut replay = Scenario::from_toml(text)
        .and_then(|s| s.replay(RulesProfile::dimpact_2023()))
        .unwrap_or_else(|e| panic!("{e}"));
    let meeting = MeetingId::named("alv-2022-12-07");
    let closed = replay.state.meetings[&meeting].closed_at.unwrap_or_else(|| panic!("the meeting closed"));
    let register = |id: &str, name: &str| Command::RegisterMember {
        member: MemberId::named(id),
        name: name.into(),
        kind: stembus::core::register::MemberKind::Gemeente,
        email: None,
        language: Default::default(),
    };
    stembus::core::execute(
        &mut replay.state,
        register("nieuwkomer", "Gemeente Nieuwkomer"),
        closed + chrono::Duration::days(30),
    )
    .unwrap_or_else(|v| panic!("{v}"));
    let m = minutes(&replay.state, &replay.state.meetings[&meeting]);
    assert_eq!(m.attendance.len(), 40, "the forty members of 7 December 2022");
    assert!(m.attendance.iter().all(|a| a.member != MemberId::named("nieuwkomer")));
    assert!(!m.to_markdown().contains("Nieuwkomer"));
    // Registered while the meeting ran, it was a member of the meeting, and not present.
    let mut replay2 = Scenario::from_toml(text)
        .and_then(|s| s.replay(RulesProfile::dimpact_2023()))
        .unwrap_or_else(|e| panic!("{e}"));
    stembus::core::execute(&mut replay2.state, register("tussendoor", "Gemeente Tussendoor"), closed)
        .unwrap_or_else(|v| panic!("{v}"));
    let m = minutes(&replay2.state, &replay2.state.meetings[&meeting]);
    assert_eq!(m.attendance.len(), 41);
    assert_eq!(took_part(&m, "tussendoor"), Participation::Absent);
}
