//! Properties of the core over random ballots and random command sequences: one effective
//! ballot per member (R1), independence of the order of ballots (R6), votes cast are for
//! plus against (R6), and the state as a deterministic fold of the accepted events (R8).

use std::collections::BTreeMap;

use proptest::prelude::*;
use stembus::core::profile::{MembersInOffice, QuorumMoment};
use stembus::core::register::{Capacity, MemberKind};
use stembus::core::tally::{Presence, PresenceCount, effective_ballots, poll_result, presence_at};
use stembus::core::{
    Association, Choice, Command, Convener, Counts, DecisionKind, Event, Instant, Mode, PollMethod,
    PollResult, ProxyForm, ProxyHolder, ProxyId, ResolutionId, RulesProfile, apply, execute,
};
use stembus::ledger::author::with_scenario_signatures;

use crate::support::{
    ALV, CONVENED_AT, Fixture, MEETING_STARTS, alv, chair, create_meeting_command, member, motion, poll, rep,
    t,
};

const MEMBERS: usize = 12;
const PRESENT: usize = 8;
const CASES: u32 = 64;

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![Just(Choice::For), Just(Choice::Against), Just(Choice::Abstain)]
}

/// Ballots in the order cast: (member index, choice).
type Ballots = Vec<(usize, Choice)>;

/// Ballots as (member index, choice), members drawn from `1..=members`.
fn ballots_of(members: usize) -> impl Strategy<Value = Ballots> {
    prop::collection::vec((1..=members, choice()), 0..40)
}

/// Ballots and a reordering of them.
fn ballots_and_shuffled() -> impl Strategy<Value = (Ballots, Ballots)> {
    ballots_of(PRESENT).prop_flat_map(|b| (Just(b.clone()), Just(b).prop_shuffle()))
}

fn tally(choices: impl Iterator<Item = Choice>) -> Counts {
    let mut c = Counts::default();
    for choice in choices {
        c.add(choice);
    }
    c
}

/// Each member's last choice in a sequence of ballots.
fn last_choices(ballots: &[(usize, Choice)]) -> BTreeMap<usize, Choice> {
    ballots.iter().copied().collect()
}

/// `shuffled` with each member's choices rearranged among its own ballots so that its last
/// ballot carries the same choice as its last ballot in `original`. Still a permutation of
/// `original`.
fn keeping_last_choices(original: &[(usize, Choice)], shuffled: &[(usize, Choice)]) -> Ballots {
    let mut permuted = shuffled.to_vec();
    for (member, wanted) in last_choices(original) {
        let positions: Vec<usize> = (0..permuted.len()).filter(|k| permuted[*k].0 == member).collect();
        let Some(&last) = positions.last() else { continue };
        if permuted[last].1 != wanted
            && let Some(&other) = positions.iter().find(|k| permuted[**k].1 == wanted)
        {
            permuted[other].1 = permuted[last].1;
            permuted[last].1 = wanted;
        }
    }
    permuted
}

/// The standard ordinary meeting of `MEMBERS` members: these advance ballots on 1 June,
/// members `1..=PRESENT` attend, and an electronic poll with these ballots in this order.
fn electronic_poll(advance: &[(usize, Choice)], ballots: &[(usize, Choice)]) -> PollResult {
    let mut f = Fixture::new(MEMBERS);
    f.convened(DecisionKind::Ordinary);
    f.at("2026-06-01T12:00:00+02:00");
    for (i, choice) in advance {
        f.run(Command::CastBallot {
            meeting: alv(),
            item: motion(),
            member: member(*i),
            person: rep(*i),
            choice: *choice,
            signed: None,
        });
    }
    f.at("2026-06-10T18:50:00+02:00");
    for i in 1..=PRESENT {
        f.check_in(i);
    }
    f.at(MEETING_STARTS);
    f.run(Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false });
    f.open_poll("p");
    for (i, choice) in ballots {
        f.vote(*i, *choice);
    }
    f.close_poll("p")
}

/// A poll by voice among `PRESENT` members, closed with these counts.
fn voice_poll(c: Counts) -> PollResult {
    let mut f = Fixture::new(MEMBERS);
    f.opened(DecisionKind::Ordinary, PRESENT);
    f.run(Command::OpenPoll {
        meeting: alv(),
        poll: poll("p"),
        item: motion(),
        method: PollMethod::Voice,
        by: chair(),
        revote_of: None,
    });
    f.run(Command::ClosePoll { meeting: alv(), poll: poll("p"), by: chair(), counts: Some(c) });
    f.result("p")
}

/// Counts whose total does not exceed the members present.
fn counts_within_presence() -> impl Strategy<Value = Counts> {
    (0..=PRESENT)
        .prop_flat_map(|a| (Just(a), 0..=PRESENT - a))
        .prop_flat_map(|(a, b)| (Just(a), Just(b), 0..=PRESENT - a - b))
        .prop_map(|(a, b, c)| Counts { in_favour: a as u64, against: b as u64, abstain: c as u64 })
}

// ---- random command sequences ---------------------------------------------------------------

/// Something somebody asks of the service; many of them are refused in a given state.
#[derive(Debug, Clone)]
enum Step {
    /// Member `i` votes through its own representative (in advance or in the poll).
    Ballot(usize, Choice),
    /// The chair votes for member `i` as its proxy holder.
    ChairBallot(usize, Choice),
    /// Member `i` gives its proxy to the chair of the supervisory board.
    ProxyToChair(usize),
    RevokeProxy(usize),
    ResolutionVote(usize, Choice),
    CheckIn(usize, Mode),
    CheckOut(usize),
    Amend(u8),
}

fn step() -> impl Strategy<Value = Step> {
    let m = || 1..=MEMBERS;
    let mode = prop_oneof![Just(Mode::InPerson), Just(Mode::Electronic)];
    prop_oneof![
        4 => (m(), choice()).prop_map(|(i, c)| Step::Ballot(i, c)),
        1 => (m(), choice()).prop_map(|(i, c)| Step::ChairBallot(i, c)),
        1 => m().prop_map(Step::ProxyToChair),
        1 => m().prop_map(Step::RevokeProxy),
        1 => (m(), choice()).prop_map(|(i, c)| Step::ResolutionVote(i, c)),
        2 => (m(), mode).prop_map(|(i, mode)| Step::CheckIn(i, mode)),
        1 => m().prop_map(Step::CheckOut),
        1 => any::<u8>().prop_map(Step::Amend),
    ]
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(step(), 0..25)
}

fn proxy_id(i: usize) -> ProxyId {
    ProxyId::named(&format!("proxy-{i}"))
}

fn resolution() -> ResolutionId {
    ResolutionId::named("r1")
}

fn command_of(step: &Step) -> Command {
    match *step {
        Step::Ballot(i, choice) => Command::CastBallot {
            meeting: alv(),
            item: motion(),
            member: member(i),
            person: rep(i),
            choice,
            signed: None,
        },
        Step::ChairBallot(i, choice) => Command::CastBallot {
            meeting: alv(),
            item: motion(),
            member: member(i),
            person: chair(),
            choice,
            signed: None,
        },
        Step::ProxyToChair(i) => Command::GrantProxy {
            meeting: alv(),
            proxy: proxy_id(i),
            grantor: member(i),
            holder: ProxyHolder::SupervisoryBoardChair { person: chair() },
            instructions: BTreeMap::new(),
            form: ProxyForm::Electronic,
            signed: None,
            scan_sha256: None,
        },
        Step::RevokeProxy(i) => Command::RevokeProxy { meeting: alv(), proxy: proxy_id(i) },
        Step::ResolutionVote(i, choice) => Command::CastResolutionVote {
            resolution: resolution(),
            member: member(i),
            person: rep(i),
            choice,
            signed: None,
        },
        Step::CheckIn(i, mode) => {
            Command::CheckIn { meeting: alv(), member: member(i), person: rep(i), mode }
        }
        Step::CheckOut(i) => Command::CheckOut { meeting: alv(), member: member(i) },
        Step::Amend(n) => Command::AmendMotion {
            meeting: alv(),
            item: motion(),
            text: format!("Het voorstel in versie {n}."),
        },
    }
}

/// A live association and the events of every command it accepted.
struct Live {
    state: Association,
    events: Vec<Event>,
}

impl Live {
    fn must(&mut self, command: Command, now: Instant) {
        let command = self.signed(command, now);
        let shown = format!("{command:?}");
        let events = execute(&mut self.state, command, now)
            .unwrap_or_else(|v| panic!("refused: {v}\ncommand: {shown}"));
        self.events.extend(events);
    }

    /// Runs a command; a refused one leaves no events.
    /// The command signed by its author's scenario key, enrolled first if need be.
    fn signed(&mut self, command: Command, now: Instant) -> Command {
        let (enrolment, command) = with_scenario_signatures(&self.state, command);
        if let Some(enrolment) = enrolment
            && let Ok(events) = execute(&mut self.state, enrolment, now)
        {
            self.events.extend(events);
        }
        command
    }

    fn attempt(&mut self, command: Command, now: Instant) {
        let command = self.signed(command, now);
        if let Ok(events) = execute(&mut self.state, command, now) {
            self.events.extend(events);
        }
    }

    fn attempt_all(&mut self, steps: &[Step], from: Instant, every_seconds: i64) {
        for (k, step) in steps.iter().enumerate() {
            let now = from + chrono::Duration::seconds(every_seconds * k as i64);
            self.attempt(command_of(step), now);
        }
    }
}

/// A whole meeting: the register, a resolution outside the meeting, the convocation, then
/// the random steps before the day, on the day before the opening, in the meeting, and in
/// the poll; the poll is closed and declared, the meeting closed, the resolution concluded.
fn live_meeting(before: &[Step], on_the_day: &[Step], in_meeting: &[Step], in_poll: &[Step]) -> Live {
    let profile = RulesProfile::dimpact_2023();
    let mut live = Live { state: Association::new(profile), events: Vec::new() };
    let start = t("2026-01-05T09:00:00+01:00");
    for i in 1..=MEMBERS {
        live.must(
            Command::RegisterMember {
                member: member(i),
                name: format!("Gemeente {i}"),
                kind: MemberKind::Gemeente,
                email: None,
                language: Default::default(),
            },
            start,
        );
        live.must(
            Command::RegisterPerson {
                person: rep(i),
                name: format!("Wethouder {i}"),
                email: None,
                profession: None,
            },
            start,
        );
        live.must(
            Command::AssignRepresentative {
                person: rep(i),
                member: member(i),
                capacity: Capacity::PortfolioHolder,
            },
            start,
        );
    }
    live.must(
        Command::RegisterPerson {
            person: chair(),
            name: "Voorzitter RvC".into(),
            email: None,
            profession: None,
        },
        start,
    );
    live.must(Command::AppointSupervisoryBoardChair { person: chair(), deputy: false }, start);
    live.must(
        Command::ProposeResolution {
            resolution: resolution(),
            text: "Een besluit buiten vergadering.".into(),
            kind: DecisionKind::Ordinary,
            closes_at: t("2026-06-30T17:00:00+02:00"),
            board_informed: true,
            supervisory_board_informed: true,
        },
        start,
    );
    let convened = t(CONVENED_AT);
    live.must(create_meeting_command(ALV, DecisionKind::Ordinary, MEETING_STARTS), convened);
    live.must(
        Command::ConveneMeeting {
            meeting: alv(),
            by: Convener::Board,
            advance_voting: true,
            electronic_participation: Some("Via the link.".into()),
        },
        convened,
    );

    live.attempt_all(before, t("2026-06-01T12:00:00+02:00"), 600);
    live.attempt_all(on_the_day, t("2026-06-10T18:00:00+02:00"), 60);
    live.must(
        Command::OpenMeeting { meeting: alv(), chair: chair(), appointed_by_meeting: false },
        t(MEETING_STARTS),
    );
    live.attempt_all(in_meeting, t("2026-06-10T19:01:00+02:00"), 10);
    live.must(
        Command::OpenPoll {
            meeting: alv(),
            poll: poll("p"),
            item: motion(),
            method: PollMethod::Electronic,
            by: chair(),
            revote_of: None,
        },
        t("2026-06-10T19:10:00+02:00"),
    );
    live.attempt_all(in_poll, t("2026-06-10T19:11:00+02:00"), 10);
    let closing = t("2026-06-10T19:30:00+02:00");
    live.must(Command::ClosePoll { meeting: alv(), poll: poll("p"), by: chair(), counts: None }, closing);
    let outcome = live.state.meetings[&alv()].polls[&poll("p")]
        .result
        .as_ref()
        .map(|r| r.outcome)
        .unwrap_or_else(|| panic!("no result"));
    live.must(
        Command::DeclareResult { meeting: alv(), poll: poll("p"), by: chair(), outcome, signed: None },
        closing,
    );
    live.must(Command::CloseMeeting { meeting: alv(), by: chair() }, t("2026-06-10T19:31:00+02:00"));
    live.must(Command::ConcludeResolution { resolution: resolution() }, t("2026-07-01T09:00:00+02:00"));
    live
}

/// The count of a poll as the rules say it member by member: presence from [`presence_at`],
/// the ballots that count from [`effective_ballots`], an advance ballot or a ballot making
/// its member present. `poll_result` counts in one merged pass; this is what it must equal.
fn reference_count(
    state: &Association,
    profile: &RulesProfile,
    poll: &stembus::core::Poll,
    at: Instant,
    recorded: Option<Counts>,
) -> (Counts, PresenceCount) {
    let register = &state.register;
    let meeting = &state.meetings[&alv()];
    let in_office = |m: &stembus::core::MemberId| {
        register
            .member(*m)
            .is_some_and(|x| profile.readings.members_in_office == MembersInOffice::All || !x.suspended)
    };
    let mut present = presence_at(register, profile, meeting, at);
    let mut counts = Counts::default();
    if poll.method == PollMethod::Electronic {
        for (member, ballot) in effective_ballots(register, meeting, poll) {
            counts.add(ballot.choice);
            if present.contains_key(&member) || !in_office(&member) {
                continue;
            }
            let how = match ballot.via {
                stembus::core::Via::Advance if profile.readings.advance_ballot_counts_as_present => {
                    Some(Presence::ByAdvanceBallot)
                }
                stembus::core::Via::Advance => None,
                stembus::core::Via::Proxy { .. } => Some(Presence::ByProxy),
                stembus::core::Via::Own => {
                    Some(match meeting.attendance.get(&member).and_then(|s| s.last()).map(|a| a.mode) {
                        Some(Mode::InPerson) => Presence::InPerson,
                        _ => Presence::Electronically,
                    })
                }
            };
            if let Some(how) = how {
                present.insert(member, how);
            }
        }
    } else {
        counts = recorded.unwrap_or_default();
        for (member, ballot) in meeting.advance_ballots.get(&poll.item).into_iter().flatten() {
            let voting = register.member(*member).is_some_and(|m| !m.suspended);
            if !voting || present.contains_key(member) {
                continue;
            }
            counts.add(ballot.choice);
            if profile.readings.advance_ballot_counts_as_present && in_office(member) {
                present.insert(*member, Presence::ByAdvanceBallot);
            }
        }
    }
    let mut presence = PresenceCount::default();
    for how in present.values() {
        match how {
            Presence::InPerson => presence.in_person += 1,
            Presence::Electronically => presence.electronically += 1,
            Presence::ByProxy => presence.by_proxy += 1,
            Presence::ByAdvanceBallot => presence.by_advance_ballot += 1,
        }
    }
    (counts, presence)
}

fn fold(profile: &RulesProfile, events: &[Event]) -> Association {
    let mut state = Association::new(profile.clone());
    for e in events {
        apply(&mut state, e);
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// R1 (Art. 8.6): however often and whichever way members vote, each has one effective
    /// ballot: its last in the poll, or else its last advance ballot.
    #[test]
    fn a_member_never_has_more_than_one_effective_ballot_art_8_6(advance in ballots_of(MEMBERS), ballots in ballots_of(PRESENT)) {
        let r = electronic_poll(&advance, &ballots);

        let mut last = last_choices(&advance);
        last.extend(last_choices(&ballots));
        prop_assert_eq!(r.counts.in_favour + r.counts.against + r.counts.abstain, last.len() as u64);
        prop_assert_eq!(r.counts, tally(last.values().copied()));
        // Absent members with an advance ballot count as present (R4 reading).
        let absent_advance_voters = last.keys().filter(|i| **i > PRESENT).count();
        prop_assert_eq!(r.presence.total(), (PRESENT + absent_advance_voters) as u64);
    }

    /// R6 (Art. 8.10): the order of ballots matters only where one replaces another.
    #[test]
    fn the_result_does_not_depend_on_the_order_of_ballots_but_on_each_members_last_art_8_10((ballots, shuffled) in ballots_and_shuffled()) {
        let reordered = keeping_last_choices(&ballots, &shuffled);
        let (mut a, mut b) = (ballots.clone(), reordered.clone());
        a.sort();
        b.sort();
        prop_assert_eq!(a, b, "not a permutation");
        prop_assert_eq!(last_choices(&ballots), last_choices(&reordered));

        let first = electronic_poll(&[], &ballots);
        let second = electronic_poll(&[], &reordered);

        prop_assert_eq!(first.counts, second.counts);
        prop_assert_eq!(first.presence, second.presence);
        prop_assert_eq!(first.votes_cast, second.votes_cast);
        prop_assert_eq!(first.outcome, second.outcome);
        prop_assert_eq!(first.explanation, second.explanation);
    }

    /// R6: votes cast are the votes for plus the votes against; abstentions are not.
    #[test]
    fn votes_cast_are_the_votes_for_plus_the_votes_against_in_an_electronic_poll(advance in ballots_of(MEMBERS), ballots in ballots_of(PRESENT)) {
        let r = electronic_poll(&advance, &ballots);
        prop_assert_eq!(r.votes_cast, r.counts.in_favour + r.counts.against);
        prop_assert_eq!(r.majority.votes_cast, r.votes_cast);
    }

    /// R6: the same for a poll by voice, where the chair records the counts.
    #[test]
    fn votes_cast_are_the_votes_for_plus_the_votes_against_in_a_poll_by_voice(c in counts_within_presence()) {
        let r = voice_poll(c);
        prop_assert_eq!(r.counts, c);
        prop_assert_eq!(r.votes_cast, c.in_favour + c.against);
        prop_assert_eq!(r.majority.votes_cast, r.votes_cast);
    }

    /// R8: the state is the fold of the accepted events, the same every time, and the same
    /// after the log has been written out and read back.
    #[test]
    fn folding_the_events_of_accepted_commands_twice_gives_the_same_state_art_17_6(
        before in steps(),
        on_the_day in steps(),
        in_meeting in steps(),
        in_poll in steps(),
    ) {
        let live = live_meeting(&before, &on_the_day, &in_meeting, &in_poll);
        let profile = RulesProfile::dimpact_2023();

        let once = fold(&profile, &live.events);
        let twice = fold(&profile, &live.events);

        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(&once, &live.state);
        let log = serde_json::to_string(&live.events).unwrap_or_else(|e| panic!("{e}"));
        let read: Vec<Event> = serde_json::from_str(&log).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(&read, &live.events);
        prop_assert_eq!(&fold(&profile, &read), &live.state);
    }

    /// R2, R4, R6: the one-pass count of a poll equals the count member by member, whoever
    /// attends how, holds proxies, voted in advance or in the poll, or is suspended, under
    /// either reading of the members in office and of the moment of the quorum, for a poll
    /// electronic or by voice.
    #[test]
    fn the_count_of_a_poll_is_the_count_member_by_member_art_8_6_8_10(
        before in steps(),
        on_the_day in steps(),
        in_meeting in steps(),
        in_poll in steps(),
        suspended in prop::collection::btree_set(1..=MEMBERS, 0..4),
        all_in_office in any::<bool>(),
        at_open in any::<bool>(),
        advance_present in any::<bool>(),
        voice in any::<bool>(),
        minute in 0i64..40,
    ) {
        let live = live_meeting(&before, &on_the_day, &in_meeting, &in_poll);
        let mut state = live.state.clone();
        for i in &suspended {
            if let Some(m) = state.register.members.get_mut(&member(*i)) {
                m.suspended = true;
            }
        }
        let mut profile = RulesProfile::dimpact_2023();
        profile.readings.members_in_office =
            if all_in_office { MembersInOffice::All } else { MembersInOffice::NotSuspended };
        profile.readings.quorum_taken_at = if at_open { QuorumMoment::PollOpen } else { QuorumMoment::PollClose };
        profile.readings.advance_ballot_counts_as_present = advance_present;
        let meeting = &state.meetings[&alv()];
        let mut p = meeting.polls[&poll("p")].clone();
        let recorded = voice.then_some(Counts { in_favour: 2, against: 1, abstain: 0 });
        if voice {
            p.method = PollMethod::Voice;
        }
        let closed_at = t("2026-06-10T19:00:00+02:00") + chrono::Duration::minutes(minute);
        let r = poll_result(&state.register, &profile, meeting, &p, closed_at, recorded);
        let (counts, presence) = reference_count(&state, &profile, &p, r.taken_at, recorded);
        prop_assert_eq!(r.counts, counts);
        prop_assert_eq!(r.presence, presence);
        prop_assert_eq!(r.quorum.members_in_office, stembus::core::tally::members_in_office(&state.register, &profile));
    }
}
