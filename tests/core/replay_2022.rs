//! The general meeting of 7 December 2022, replayed from its minutes
//! (`scenarios/alv-2022-12-07.toml`, built from the attendance list in
//! `../shared/statutes/verslag-alv-2022-12-07.txt`).

use stembus::core::tally::PresenceCount;
use stembus::core::{AgendaItemId, MeetingId, MemberId, Outcome, PollId, RulesProfile};
use stembus::scenario::{Scenario, StepOutcome};

fn replay() -> stembus::scenario::Replay {
    let text = include_str!("../../scenarios/alv-2022-12-07.toml");
    let scenario = Scenario::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
    scenario.replay(RulesProfile::dimpact_2023()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_register_holds_the_forty_members_of_the_minutes() {
    let state = replay().state;
    assert_eq!(state.register.members.len(), 40);
    let shared = stembus::core::PersonId::named("wendy-borst");
    assert!(state.register.represents(shared, MemberId::named("gemert-bakel")));
    assert!(state.register.represents(shared, MemberId::named("laarbeek")));
}

#[test]
fn a_third_proxy_to_raalte_and_a_proxy_after_opening_were_refused_art_8_5() {
    let refused: Vec<String> = replay()
        .steps
        .iter()
        .filter_map(|(_, o)| match o {
            StepOutcome::RefusedAsExpected(v) => Some(v.code.clone()),
            StepOutcome::Accepted(_) => None,
        })
        .collect();
    assert_eq!(refused, ["proxy.cap_exceeded", "proxy.after_opening"]);
}

#[test]
fn attendance_matches_the_list_in_the_minutes() {
    let state = replay().state;
    let m = &state.meetings[&MeetingId::named("alv-2022-12-07")];
    let minutes = m.polls[&PollId::named("poll-3")].result.as_ref().map(|r| r.presence);
    // 24 members attended through their own representatives (all via Zoom), Deventer and
    // Olst-Wijhe through Raalte and Westvoorne through the chair, Rotterdam in writing.
    assert_eq!(
        minutes,
        Some(PresenceCount { in_person: 0, electronically: 24, by_proxy: 3, by_advance_ballot: 1 })
    );
}

#[test]
fn the_statute_amendment_meets_its_two_thirds_quorum_exactly_after_oldambt_left_art_20_1() {
    let state = replay().state;
    let m = &state.meetings[&MeetingId::named("alv-2022-12-07")];
    let r = m.polls[&PollId::named("poll-7")].result.clone().unwrap_or_else(|| panic!("no result"));
    assert_eq!(r.item, AgendaItemId::named("7"));
    assert_eq!((r.counts.in_favour, r.counts.against, r.counts.abstain, r.votes_cast), (25, 1, 1, 26));
    assert_eq!(r.presence.total(), 27, "Oldambt left at 19:50");
    assert_eq!((r.quorum.members_in_office, r.quorum.needed, r.quorum.met), (40, 27, true));
    assert_eq!((r.majority.needed_for, r.majority.reached), (18, true));
    assert_eq!(r.outcome, Outcome::Adopted);
    assert_eq!(r.decided_by.article, "20.1");
    assert_eq!(
        m.decision_on(AgendaItemId::named("7")).and_then(|p| p.declaration.as_ref()).map(|d| d.outcome),
        Some(Outcome::Adopted)
    );
}

#[test]
fn rotterdams_written_vote_counts_as_a_vote_cast_in_the_meeting_art_8_13() {
    let state = replay().state;
    let m = &state.meetings[&MeetingId::named("alv-2022-12-07")];
    let r = m.polls[&PollId::named("poll-6")].result.clone().unwrap_or_else(|| panic!("no result"));
    assert_eq!(r.presence.by_advance_ballot, 1);
    assert_eq!(r.counts.in_favour, 25);
    // Without Rotterdam the amendment would have missed its quorum by one.
    assert_eq!(r.presence.total() - r.presence.by_advance_ballot, 26);
}

#[test]
fn every_event_survives_a_round_trip_through_json_and_folds_to_the_same_state() {
    let replay = replay();
    let mut refolded = stembus::core::Association::new(RulesProfile::dimpact_2023());
    for (_, outcome) in &replay.steps {
        if let StepOutcome::Accepted(events) = outcome {
            for event in events {
                let json = serde_json::to_string(event).unwrap_or_else(|e| panic!("{e}"));
                let back: stembus::core::Event =
                    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
                assert_eq!(&back, event);
                stembus::core::apply(&mut refolded, &back);
            }
        }
    }
    assert_eq!(refolded, replay.state);
}
