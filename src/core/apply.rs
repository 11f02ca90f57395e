//! Folding: `apply(state, event)` changes the state as the event says. It decides nothing
//! and refuses nothing; `handle` has already checked the event against the rules. Folding
//! the same events always gives the same state.

use std::collections::BTreeMap;

use super::event::{Event, Fact};
use super::keys::KeyStatus;
use super::model::{
    Association, Attendance, Challenge, Declaration, Meeting, Phase, Poll, WrittenResolution,
};

pub fn apply(state: &mut Association, event: &Event) {
    let at = event.at;
    match &event.fact {
        Fact::MemberRegistered { member } => {
            state
                .register
                .members
                .insert(member.id, super::register::Member { registered_at: Some(at), ..member.clone() });
        }
        Fact::MemberAddressChanged { member, email } => {
            if let Some(m) = state.register.members.get_mut(member) {
                m.email = email.clone();
            }
        }
        Fact::MemberSuspended { member } => set_suspended(state, *member, true),
        Fact::MemberReinstated { member } => set_suspended(state, *member, false),
        Fact::PersonRegistered { person } => {
            state.register.persons.insert(person.id, person.clone());
        }
        Fact::RepresentativeAssigned { person, member, capacity } => {
            state.register.representatives.insert((*person, *member), *capacity);
        }
        Fact::RepresentativeWithdrawn { person, member } => {
            state.register.representatives.remove(&(*person, *member));
        }
        Fact::KeyEnrolled { person, key, sequence, .. } => state.keys.enrol(*person, *key, *sequence, at),
        Fact::KeyRotated { person, old_key, key, sequence, .. } => {
            state.keys.used(old_key, *sequence);
            state.keys.retire(old_key, KeyStatus::Rotated, at);
            state.keys.enrol(*person, *key, *sequence, at);
        }
        Fact::KeyRevoked { key, signed, .. } => {
            if let Some(s) = signed {
                state.keys.used(key, s.sequence);
            }
            state.keys.retire(key, KeyStatus::Revoked, at);
        }
        Fact::SupervisoryBoardChairAppointed { person, deputy } => {
            if *deputy {
                state.register.deputy_chair = Some(*person);
            } else {
                state.register.supervisory_board_chair = Some(*person);
            }
        }
        Fact::MeetingRequested { request } => {
            state.requests.insert(request.id, request.clone());
        }
        Fact::MeetingCreated { meeting, title, starts_at, place, agenda, follow_up_of, request } => {
            state.meetings.insert(
                *meeting,
                Meeting {
                    id: *meeting,
                    title: title.clone(),
                    starts_at: *starts_at,
                    place: place.clone(),
                    phase: Phase::Draft,
                    agenda: agenda.clone(),
                    follow_up_of: *follow_up_of,
                    request: *request,
                    convocation: None,
                    opened_at: None,
                    closed_at: None,
                    chair: None,
                    proxies: BTreeMap::new(),
                    attendance: BTreeMap::new(),
                    advance_ballots: BTreeMap::new(),
                    polls: BTreeMap::new(),
                },
            );
        }
        Fact::MeetingConvened { meeting, convocation } => with_meeting(state, *meeting, |m| {
            m.phase = Phase::Convened;
            m.convocation = Some(convocation.clone());
        }),
        Fact::ProxyGranted { meeting, proxy } => {
            if let Some(s) = &proxy.signed {
                state.keys.used(&s.key, s.sequence);
            }
            with_meeting(state, *meeting, |m| {
                m.proxies.insert(proxy.id, proxy.clone());
            });
        }
        Fact::ProxyRevoked { meeting, proxy } => with_meeting(state, *meeting, |m| {
            if let Some(p) = m.proxies.get_mut(proxy) {
                p.revoked_at = Some(at);
            }
        }),
        Fact::MeetingOpened { meeting, chair, .. } => with_meeting(state, *meeting, |m| {
            m.phase = Phase::Open;
            m.opened_at = Some(at);
            m.chair = Some(*chair);
        }),
        Fact::ChairAppointed { meeting, person } => {
            with_meeting(state, *meeting, |m| m.chair = Some(*person))
        }
        Fact::CheckedIn { meeting, member, person, attends_as, mode } => with_meeting(state, *meeting, |m| {
            // Most members attend once: room for one stretch, not the four a first push makes.
            m.attendance.entry(*member).or_insert_with(|| Vec::with_capacity(1)).push(Attendance {
                member: *member,
                person: *person,
                attends_as: *attends_as,
                mode: *mode,
                arrived: at,
                left: None,
            });
        }),
        Fact::CheckedOut { meeting, member } => with_meeting(state, *meeting, |m| {
            for a in m.attendance.entry(*member).or_default().iter_mut().filter(|a| a.left.is_none()) {
                a.left = Some(at);
            }
        }),
        Fact::MotionAmended { meeting, item, text, lapsed_advance_ballots } => {
            with_meeting(state, *meeting, |m| {
                if *lapsed_advance_ballots > 0 {
                    m.advance_ballots.remove(item);
                }
                if let Some(motion) = m.item_mut(*item).and_then(|i| i.motion.as_mut()) {
                    motion.text = text.clone();
                    motion.amendments += 1;
                    motion.lapsed_advance_ballots += lapsed_advance_ballots;
                }
            })
        }
        Fact::MeetingClosed { meeting } => with_meeting(state, *meeting, |m| {
            m.phase = Phase::Closed;
            m.closed_at = Some(at);
            for a in m.attendance.values_mut().flatten().filter(|a| a.left.is_none()) {
                a.left = Some(at);
            }
        }),
        Fact::PollOpened { meeting, poll, item, method, revote_of } => with_meeting(state, *meeting, |m| {
            m.polls.insert(
                *poll,
                Poll {
                    id: *poll,
                    item: *item,
                    method: *method,
                    opened_at: at,
                    closed_at: None,
                    ballots: BTreeMap::new(),
                    recorded_counts: None,
                    result: None,
                    declaration: None,
                    challenge: None,
                    revote_of: *revote_of,
                    voided_by: None,
                },
            );
        }),
        Fact::PollVoided { meeting, poll, by } => with_meeting(state, *meeting, |m| {
            if let Some(p) = m.polls.get_mut(poll) {
                p.voided_by = Some(*by);
            }
        }),
        Fact::BallotCast { meeting, poll, item, ballot } => {
            if let Some(s) = &ballot.signed {
                state.keys.used(&s.key, s.sequence);
            }
            with_meeting(state, *meeting, |m| match poll {
                Some(poll) => {
                    if let Some(p) = m.polls.get_mut(poll) {
                        p.ballots.insert(ballot.member, ballot.clone());
                    }
                }
                None => {
                    m.advance_ballots.entry(*item).or_default().insert(ballot.member, ballot.clone());
                }
            });
        }
        Fact::PollClosed { meeting, poll, result } => with_meeting(state, *meeting, |m| {
            if let Some(p) = m.polls.get_mut(poll) {
                p.closed_at = Some(at);
                p.recorded_counts =
                    (p.method != super::model::PollMethod::Electronic).then_some(result.counts);
                p.result = Some((**result).clone());
            }
        }),
        Fact::ResultDeclared { meeting, poll, by, outcome, signed } => {
            state.keys.used(&signed.key, signed.sequence);
            with_meeting(state, *meeting, |m| {
                if let Some(p) = m.polls.get_mut(poll) {
                    p.declaration = Some(Declaration { at, by: *by, outcome: *outcome });
                }
            });
        }
        Fact::DeclarationChallenged { meeting, poll, supporters } => with_meeting(state, *meeting, |m| {
            if let Some(p) = m.polls.get_mut(poll) {
                p.challenge = Some(Challenge { at, supporters: supporters.clone() });
            }
        }),
        Fact::ResolutionProposed { resolution, text, kind, closes_at } => {
            state.resolutions.insert(
                *resolution,
                WrittenResolution {
                    id: *resolution,
                    text: text.clone(),
                    kind: *kind,
                    proposed_at: at,
                    closes_at: *closes_at,
                    votes: BTreeMap::new(),
                    result: None,
                },
            );
        }
        Fact::ResolutionVoteCast { resolution, ballot } => {
            if let Some(s) = &ballot.signed {
                state.keys.used(&s.key, s.sequence);
            }
            if let Some(r) = state.resolutions.get_mut(resolution) {
                r.votes.insert(ballot.member, ballot.clone());
            }
        }
        Fact::ResolutionConcluded { resolution, result } => {
            if let Some(r) = state.resolutions.get_mut(resolution) {
                r.result = Some(result.clone());
            }
        }
    }
}

fn set_suspended(state: &mut Association, member: super::ids::MemberId, suspended: bool) {
    if let Some(m) = state.register.members.get_mut(&member) {
        m.suspended = suspended;
    }
}

fn with_meeting(state: &mut Association, id: super::ids::MeetingId, change: impl FnOnce(&mut Meeting)) {
    if let Some(m) = state.meetings.get_mut(&id) {
        change(m);
    }
}
