//! R3 Convening a meeting (Art. 8.1, 8.3, 8.11, 8.13, 20.3).

use stembus::core::calendar::day_of;
use stembus::core::{
    AgendaItemSpec, Command, Convener, ConvocationStatement, DecisionKind, MeetingId, Mode, MotionSpec,
    Phase, RequestId, RuleId, RuleViolation,
};

use crate::support::{self, ALV, Fixture, MEETING_STARTS, alv, chair, member, motion, rep, t};

fn convene(by: Convener) -> Command {
    convene_meeting(alv(), by)
}

fn convene_meeting(meeting: MeetingId, by: Convener) -> Command {
    Command::ConveneMeeting {
        meeting,
        by,
        advance_voting: false,
        electronic_participation: Some("Via the video link in this convocation.".into()),
    }
}

/// The standard meeting (10 June 2026) with a motion of `kind`, created at `at`.
fn created_at(members: usize, kind: DecisionKind, at: &str) -> Fixture {
    let mut f = Fixture::new(members);
    f.at(at);
    f.create_meeting(kind, MEETING_STARTS);
    f
}

fn convened_on(f: &Fixture) -> Option<chrono::NaiveDate> {
    f.state.meetings[&alv()].convocation.as_ref().map(|c| day_of(c.at))
}

fn assert_mentions(v: &RuleViolation, text: &str) {
    assert!(v.message.contains(text), "the message should mention {text}: {}", v.message);
}

fn statute_amendment_motion(proposal: Option<&str>, approved: bool) -> Command {
    Command::CreateMeeting {
        meeting: alv(),
        title: "Bijzondere algemene ledenvergadering".into(),
        starts_at: t(MEETING_STARTS),
        place: "Stadhuis".into(),
        agenda: vec![AgendaItemSpec {
            item: motion(),
            title: "Statutenwijziging".into(),
            motion: Some(MotionSpec {
                text: "De statuten worden gewijzigd.".into(),
                kind: DecisionKind::StatuteAmendment,
                proposal: proposal.map(str::to_owned),
                board_proposal_approved: approved,
            }),
            carried_from: None,
            concerns_member: None,
            annual_accounts: false,
        }],
        follow_up_of: None,
        request: None,
    }
}

fn request(name: &str, members: impl IntoIterator<Item = usize>) -> Command {
    Command::RequestMeeting {
        request: RequestId::named(name),
        members: members.into_iter().map(member).collect(),
        subjects: vec!["Begroting 2027".into()],
    }
}

/// A meeting that answers members' request `request`, on `starts_at`.
fn requested_meeting(meeting: &str, request: &str, starts_at: &str) -> Command {
    let mut command = support::create_meeting_command(meeting, DecisionKind::Ordinary, starts_at);
    if let Command::CreateMeeting { request: r, .. } = &mut command {
        *r = Some(RequestId::named(request));
    }
    command
}

fn requesters(name: &str) -> Convener {
    Convener::Requesters { request: RequestId::named(name) }
}

// ---- ten clear days (Art. 8.3) ------------------------------------------------------------

#[test]
fn a_convocation_eleven_days_before_leaves_ten_clear_days_art_8_3() {
    let mut f = created_at(5, DecisionKind::Ordinary, "2026-05-30T10:00:00+02:00");

    f.run(convene(Convener::Board));

    assert_eq!(f.state.meetings[&alv()].phase, Phase::Convened);
    assert_eq!(convened_on(&f), chrono::NaiveDate::from_ymd_opt(2026, 5, 30));
}

#[test]
fn a_convocation_ten_days_before_the_meeting_is_too_late_art_8_3() {
    let mut f = created_at(5, DecisionKind::Ordinary, "2026-05-31T10:00:00+02:00");

    let v = f.refuse(convene(Convener::Board));

    support::assert_violation(&v, RuleId::R3, "8.3", "convocation.too_late");
    assert_mentions(&v, "2026-06-11");
}

#[test]
fn the_supervisory_board_may_convene_too_art_8_1() {
    let mut f = created_at(5, DecisionKind::Ordinary, "2026-05-30T10:00:00+02:00");

    f.run(convene(Convener::SupervisoryBoard));

    let by = f.state.meetings[&alv()].convocation.as_ref().map(|c| c.by);
    assert_eq!(by, Some(Convener::SupervisoryBoard));
}

// ---- fourteen clear days for a statute amendment (Art. 20.3) ------------------------------

#[test]
fn a_statute_amendment_convened_fifteen_days_before_leaves_fourteen_clear_days_art_20_3() {
    let mut f = created_at(5, DecisionKind::StatuteAmendment, "2026-05-26T10:00:00+02:00");

    f.run(convene(Convener::Board));

    let statements =
        f.state.meetings[&alv()].convocation.as_ref().map(|c| c.statements.clone()).unwrap_or_default();
    let special = statements.iter().any(|s| {
        matches!(s, ConvocationStatement::SpecialProposals { items, article } if items == &vec![motion()] && article == "20.3")
    });
    assert!(special, "the convocation must say it is convened specially for the proposal: {statements:?}");
}

#[test]
fn a_statute_amendment_convened_fourteen_days_before_is_too_late_art_20_3() {
    let mut f = created_at(5, DecisionKind::StatuteAmendment, "2026-05-27T10:00:00+02:00");

    let v = f.refuse(convene(Convener::Board));

    support::assert_violation(&v, RuleId::R3, "20.3", "convocation.too_late");
    assert_mentions(&v, "2026-06-11");
}

#[test]
fn every_decision_taken_like_a_statute_amendment_needs_fourteen_clear_days_art_20_3() {
    for kind in [
        DecisionKind::StatuteAmendment,
        DecisionKind::Dissolution,
        DecisionKind::Regulations,
        DecisionKind::Entrenched,
    ] {
        let mut f = created_at(5, kind, "2026-05-27T10:00:00+02:00");
        let v = f.refuse(convene(Convener::Board));
        support::assert_violation(&v, RuleId::R3, "20.3", "convocation.too_late");

        let mut f = created_at(5, kind, "2026-05-26T10:00:00+02:00");
        f.run(convene(Convener::Board));
    }
}

#[test]
fn an_ordinary_meeting_convened_fourteen_days_before_is_in_time_art_8_3() {
    let mut f = created_at(5, DecisionKind::TwoThirds, "2026-05-27T10:00:00+02:00");

    f.run(convene(Convener::Board));

    assert_eq!(f.state.meetings[&alv()].phase, Phase::Convened);
}

// ---- days are Dutch calendar days -----------------------------------------------------------

#[test]
fn a_convocation_at_23_30_utc_is_already_the_next_dutch_day_art_8_3() {
    // 23:30 UTC on 30 May is 01:30 on 31 May in Amsterdam (summer time).
    let mut f = created_at(5, DecisionKind::Ordinary, "2026-05-30T23:30:00Z");

    let v = f.refuse(convene(Convener::Board));

    support::assert_violation(&v, RuleId::R3, "8.3", "convocation.too_late");
    assert_mentions(&v, "convened on 2026-05-31");
}

#[test]
fn a_convocation_a_minute_before_dutch_midnight_is_still_that_day_art_8_3() {
    // 21:59 UTC on 30 May is 23:59 on 30 May in Amsterdam.
    let mut f = created_at(5, DecisionKind::Ordinary, "2026-05-30T21:59:00Z");

    f.run(convene(Convener::Board));

    assert_eq!(convened_on(&f), chrono::NaiveDate::from_ymd_opt(2026, 5, 30));
}

#[test]
fn in_winter_a_convocation_at_23_30_utc_is_the_next_dutch_day_art_8_3() {
    // A meeting on Tuesday 20 January 2026: the convocation must go out on 9 January at the
    // latest. 22:59 UTC on 9 January is 23:59 CET; 23:30 UTC is 00:30 on 10 January.
    let winter = "2026-01-20T19:00:00+01:00";
    let mut in_time = Fixture::new(5);
    in_time.at("2026-01-09T22:59:00Z");
    in_time.create_meeting(DecisionKind::Ordinary, winter);
    let mut too_late = Fixture::new(5);
    too_late.at("2026-01-09T23:30:00Z");
    too_late.create_meeting(DecisionKind::Ordinary, winter);

    in_time.run(convene(Convener::Board));
    let v = too_late.refuse(convene(Convener::Board));

    support::assert_violation(&v, RuleId::R3, "8.3", "convocation.too_late");
    assert_mentions(&v, "convened on 2026-01-10");
    assert_mentions(&v, "2026-01-21");
}

// ---- what a statute amendment must carry -----------------------------------------------------

#[test]
fn a_statute_amendment_without_its_proposal_is_refused_art_20_3() {
    let mut f = Fixture::new(5);

    let missing = f.refuse(statute_amendment_motion(None, true));
    let blank = f.refuse(statute_amendment_motion(Some("   "), true));

    support::assert_violation(&missing, RuleId::R3, "20.3", "motion.proposal_missing");
    support::assert_violation(&blank, RuleId::R3, "20.3", "motion.proposal_missing");
}

#[test]
fn a_statute_amendment_without_a_board_proposal_approved_by_the_supervisory_board_is_refused_art_20_1() {
    let mut f = Fixture::new(5);

    let v = f.refuse(statute_amendment_motion(Some("Ontwerp van de akte"), false));

    support::assert_violation(&v, RuleId::R7, "20.1", "motion.needs_approved_board_proposal");
}

#[test]
fn a_statute_amendment_with_an_approved_proposal_is_put_on_the_agenda_art_20_1() {
    let mut f = Fixture::new(5);

    f.run(statute_amendment_motion(Some("Ontwerp van de akte"), true));

    let proposal = f.state.meetings[&alv()]
        .item(motion())
        .and_then(|i| i.motion.as_ref())
        .and_then(|m| m.proposal.clone());
    assert_eq!(proposal.as_deref(), Some("Ontwerp van de akte"));
}

// ---- the members' request (Art. 8.1) ---------------------------------------------------------

#[test]
fn a_request_of_fewer_than_one_tenth_of_the_members_is_refused_art_8_1() {
    let mut f = Fixture::new(40);

    let v = f.refuse(request("r", 1..=3));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.too_few_members");
}

#[test]
fn a_request_of_one_tenth_of_the_members_is_accepted_art_8_1() {
    let mut f = Fixture::new(40);

    f.run(request("r", 1..=4));

    assert_eq!(f.state.requests[&RequestId::named("r")].members.len(), 4);
}

#[test]
fn one_tenth_of_forty_one_members_is_five_art_8_1() {
    let mut f = Fixture::new(41);

    let v = f.refuse(request("r4", 1..=4));
    f.run(request("r5", 1..=5));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.too_few_members");
}

#[test]
fn a_member_that_signs_a_request_twice_counts_once_art_8_1() {
    let mut f = Fixture::new(40);

    let v = f.refuse(request("r", [1, 2, 3, 3]));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.too_few_members");
}

#[test]
fn one_tenth_is_taken_of_the_members_in_office_art_8_1() {
    // 42 members, 2 of them suspended: 40 in office, so 4 members suffice.
    let mut f = Fixture::new(42);
    f.run(Command::SuspendMember { member: member(41) });
    f.run(Command::SuspendMember { member: member(42) });

    f.run(request("r", 1..=4));

    assert!(f.state.requests.contains_key(&RequestId::named("r")));
}

#[test]
fn the_requesters_may_not_convene_within_the_boards_four_weeks_art_8_1() {
    let mut f = Fixture::new(40);
    f.at("2026-04-01T10:00:00+02:00");
    f.run(request("r", 1..=4));
    f.run(requested_meeting(ALV, "r", MEETING_STARTS));
    // Four weeks after 1 April is 29 April: the board's last day.
    f.at("2026-04-29T23:00:00+02:00");

    let v = f.refuse(convene(requesters("r")));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.board_term_running");
    assert_mentions(&v, "2026-04-29");
}

#[test]
fn the_requesters_may_convene_themselves_after_the_boards_four_weeks_art_8_1() {
    let mut f = Fixture::new(40);
    f.at("2026-04-01T10:00:00+02:00");
    f.run(request("r", 1..=4));
    f.run(requested_meeting(ALV, "r", MEETING_STARTS));
    f.at("2026-04-30T00:00:00+02:00");

    f.run(convene(requesters("r")));

    let by = f.state.meetings[&alv()].convocation.as_ref().map(|c| c.by);
    assert_eq!(by, Some(requesters("r")));
}

#[test]
fn the_requesters_may_not_convene_when_the_board_held_the_meeting_in_time_art_8_1() {
    let mut f = Fixture::new(40);
    f.at("2026-04-01T10:00:00+02:00");
    f.run(request("r", 1..=4));
    // The board holds the requested meeting on 29 April, the last day of its four weeks.
    let board = MeetingId::named("board-alv");
    f.run(requested_meeting("board-alv", "r", "2026-04-29T19:00:00+02:00"));
    f.at("2026-04-02T10:00:00+02:00");
    f.run(convene_meeting(board, Convener::Board));
    f.at("2026-04-29T19:00:00+02:00");
    f.run(Command::OpenMeeting { meeting: board, chair: chair(), appointed_by_meeting: false });
    f.at("2026-04-29T21:00:00+02:00");
    f.run(Command::CloseMeeting { meeting: board, by: chair() });
    f.at("2026-04-30T10:00:00+02:00");
    f.run(requested_meeting(ALV, "r", MEETING_STARTS));

    let v = f.refuse(convene(requesters("r")));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.already_held");
}

#[test]
fn the_requesters_may_convene_only_the_meeting_that_answers_their_request_art_8_1() {
    let mut f = Fixture::new(40);
    f.at("2026-04-01T10:00:00+02:00");
    f.run(request("r", 1..=4));
    f.create_meeting(DecisionKind::Ordinary, MEETING_STARTS);
    f.at("2026-04-30T10:00:00+02:00");

    let v = f.refuse(convene(requesters("r")));

    support::assert_violation(&v, RuleId::R3, "8.1", "request.other_meeting");
}

// ---- one convocation, with its conditions ----------------------------------------------------

#[test]
fn a_meeting_is_convened_once_and_conditions_cannot_be_switched_on_afterwards_art_8_11_8_13() {
    let mut f = created_at(5, DecisionKind::Ordinary, support::CONVENED_AT);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: None,
    });
    f.at("2026-05-21T10:00:00+02:00");

    let v = f.refuse(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: true,
        electronic_participation: Some("Via the video link.".into()),
    });

    support::assert_violation(&v, RuleId::R3, "8.3", "meeting.already_convened");
    let c = f.state.meetings[&alv()].convocation.clone();
    assert_eq!(
        c.map(|c| (c.advance_voting.is_none(), c.electronic_participation.is_none())),
        Some((true, true))
    );
}

#[test]
fn a_convocation_with_an_empty_agenda_is_refused_art_8_3() {
    let mut f = Fixture::new(5);
    f.at(support::CONVENED_AT);
    f.run(Command::CreateMeeting {
        meeting: alv(),
        title: "Algemene ledenvergadering".into(),
        starts_at: t(MEETING_STARTS),
        place: "Stadhuis".into(),
        agenda: Vec::new(),
        follow_up_of: None,
        request: None,
    });

    let v = f.refuse(convene(Convener::Board));

    support::assert_violation(&v, RuleId::R3, "8.3", "agenda.empty");
}

// ---- the day of the meeting ------------------------------------------------------------------

fn open_at(f: &mut Fixture, at: &str) -> Command {
    f.at(at);
    Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false }
}

#[test]
fn a_meeting_cannot_be_opened_the_day_before_art_8_3() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    // 21:59 UTC on 9 June is 23:59 on 9 June in Amsterdam.
    let command = open_at(&mut f, "2026-06-09T21:59:00Z");
    let v = f.refuse(command);

    support::assert_violation(&v, RuleId::R3, "8.3", "meeting.wrong_day");
    assert_mentions(&v, "2026-06-10");
}

#[test]
fn a_meeting_cannot_be_opened_the_day_after_art_8_3() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    let command = open_at(&mut f, "2026-06-11T00:00:00+02:00");
    let v = f.refuse(command);

    support::assert_violation(&v, RuleId::R3, "8.3", "meeting.wrong_day");
}

#[test]
fn a_meeting_opens_on_its_dutch_day_art_8_3() {
    let mut f = Fixture::new(5);
    f.convened(DecisionKind::Ordinary);

    // 22:30 UTC on 9 June is 00:30 on 10 June in Amsterdam.
    let command = open_at(&mut f, "2026-06-09T22:30:00Z");
    f.run(command);

    assert_eq!(f.state.meetings[&alv()].phase, Phase::Open);
}

// ---- electronic participation only if the convocation offered it (Art. 8.11) -----------------

fn convened_without_electronic_participation(conditions: Option<&str>) -> Fixture {
    let mut f = created_at(5, DecisionKind::Ordinary, support::CONVENED_AT);
    f.run(Command::ConveneMeeting {
        meeting: alv(),
        by: Convener::Board,
        advance_voting: false,
        electronic_participation: conditions.map(str::to_owned),
    });
    f.at("2026-06-10T18:50:00+02:00");
    f
}

fn check_in(i: usize, mode: Mode) -> Command {
    Command::CheckIn { meeting: alv(), member: member(i), person: rep(i), mode }
}

#[test]
fn an_electronic_check_in_is_refused_when_the_convocation_offered_no_electronic_participation_art_8_11() {
    let mut f = convened_without_electronic_participation(None);

    let v = f.refuse(check_in(1, Mode::Electronic));
    f.run(check_in(1, Mode::InPerson));

    support::assert_violation(&v, RuleId::R5, "8.11", "attendance.electronic_not_offered");
    let mode = f.state.meetings[&alv()].current_attendance(member(1)).map(|a| a.mode);
    assert_eq!(mode, Some(Mode::InPerson));
}

#[test]
fn blank_conditions_do_not_offer_electronic_participation_art_8_11() {
    let mut f = convened_without_electronic_participation(Some("  "));

    let v = f.refuse(check_in(1, Mode::Electronic));

    support::assert_violation(&v, RuleId::R5, "8.11", "attendance.electronic_not_offered");
}
