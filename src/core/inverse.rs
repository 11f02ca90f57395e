//! From events back to the command that caused them, so that a log can be replayed through
//! [`super::handle`] and every logged event checked against what the rules decide. The
//! auditor's verifier does this: it never trusts an event because it is in the log, only
//! because the core, given the state before it, decides the same events.
//!
//! Events do not carry everything a command did: who closed a poll or the meeting is the
//! meeting's chair (only the chair may), and a resolution outside a meeting was proposed with
//! the board and the supervisory board informed (it is refused otherwise). Where one event
//! can start the events of more than one command (a check-out alone, or a check-out before
//! the member's own check-in), every candidate is given, most specific first.

use super::command::{AgendaItemSpec, Command, MotionSpec};
use super::event::{Event, Fact};
use super::model::{Association, Counts, PollMethod};

/// The commands that may have caused the events at the start of `events`, most specific
/// first. Empty when no command causes its first event.
pub fn candidate_commands(state: &Association, events: &[Event]) -> Vec<Command> {
    let Some(first) = events.first() else { return Vec::new() };
    let chair_of = |meeting| state.meetings.get(&meeting).and_then(|m| m.chair);
    let mut out = Vec::with_capacity(1);
    match &first.fact {
        Fact::MemberRegistered { member } => out.push(Command::RegisterMember {
            member: member.id,
            name: member.name.clone(),
            kind: member.kind,
            email: member.email.clone(),
            language: member.language,
        }),
        Fact::MemberAddressChanged { member, email } => {
            out.push(Command::ChangeMemberAddress { member: *member, email: email.clone() })
        }
        Fact::MemberSuspended { member } => out.push(Command::SuspendMember { member: *member }),
        Fact::MemberReinstated { member } => out.push(Command::ReinstateMember { member: *member }),
        Fact::PersonRegistered { person } => out.push(Command::RegisterPerson {
            person: person.id,
            name: person.name.clone(),
            email: person.email.clone(),
            profession: person.profession,
        }),
        Fact::RepresentativeAssigned { person, member, capacity } => {
            out.push(Command::AssignRepresentative { person: *person, member: *member, capacity: *capacity })
        }
        Fact::RepresentativeWithdrawn { person, member } => {
            out.push(Command::WithdrawRepresentative { person: *person, member: *member })
        }
        Fact::KeyEnrolled { person, key, sequence, signature } => out.push(Command::EnrolKey {
            person: *person,
            key: *key,
            sequence: *sequence,
            signature: *signature,
        }),
        Fact::KeyRotated { person, key, sequence, signature, new_key_signature, .. } => {
            out.push(Command::RotateKey {
                person: *person,
                key: *key,
                sequence: *sequence,
                signature: *signature,
                new_key_signature: *new_key_signature,
            })
        }
        Fact::KeyRevoked { person, key, signed } => {
            out.push(Command::RevokeKey { person: *person, key: *key, signed: *signed })
        }
        Fact::SupervisoryBoardChairAppointed { person, deputy } => {
            out.push(Command::AppointSupervisoryBoardChair { person: *person, deputy: *deputy })
        }
        Fact::MeetingRequested { request } => out.push(Command::RequestMeeting {
            request: request.id,
            members: request.members.clone(),
            subjects: request.subjects.clone(),
        }),
        Fact::MeetingCreated { meeting, title, starts_at, place, agenda, follow_up_of, request } => {
            out.push(Command::CreateMeeting {
                meeting: *meeting,
                title: title.clone(),
                starts_at: *starts_at,
                place: place.clone(),
                agenda: agenda
                    .iter()
                    .map(|i| AgendaItemSpec {
                        item: i.id,
                        title: i.title.clone(),
                        motion: i.motion.as_ref().map(|m| MotionSpec {
                            text: m.text.clone(),
                            kind: m.kind,
                            proposal: m.proposal.clone(),
                            board_proposal_approved: m.board_proposal_approved,
                        }),
                        carried_from: i.carried_from,
                        concerns_member: i.concerns_member,
                        annual_accounts: i.annual_accounts,
                    })
                    .collect(),
                follow_up_of: *follow_up_of,
                request: *request,
            })
        }
        Fact::MeetingConvened { meeting, convocation } => out.push(Command::ConveneMeeting {
            meeting: *meeting,
            by: convocation.by,
            advance_voting: convocation.advance_voting.is_some(),
            electronic_participation: convocation.electronic_participation.clone(),
        }),
        Fact::ProxyGranted { meeting, proxy } => out.push(Command::GrantProxy {
            meeting: *meeting,
            proxy: proxy.id,
            grantor: proxy.grantor,
            holder: proxy.holder,
            instructions: proxy.instructions.clone(),
            form: proxy.form,
            signed: proxy.signed,
            scan_sha256: proxy.scan_sha256,
        }),
        Fact::ProxyRevoked { meeting, proxy } => {
            out.push(Command::RevokeProxy { meeting: *meeting, proxy: *proxy })
        }
        Fact::MeetingOpened { meeting, chair, appointed_by_meeting } => out.push(Command::OpenMeeting {
            meeting: *meeting,
            chair: *chair,
            appointed_by_meeting: *appointed_by_meeting,
        }),
        Fact::ChairAppointed { meeting, person } => {
            out.push(Command::AppointChair { meeting: *meeting, person: *person })
        }
        Fact::CheckedIn { meeting, member, person, mode, .. } => {
            out.push(Command::CheckIn { meeting: *meeting, member: *member, person: *person, mode: *mode })
        }
        Fact::CheckedOut { meeting, member } => {
            // The member's own representative checking in supersedes its proxy holder's attendance.
            if let Some(Fact::CheckedIn { meeting: m2, member: n2, person, mode, .. }) =
                events.get(1).map(|e| &e.fact)
                && m2 == meeting
                && n2 == member
            {
                out.push(Command::CheckIn {
                    meeting: *meeting,
                    member: *member,
                    person: *person,
                    mode: *mode,
                });
            }
            out.push(Command::CheckOut { meeting: *meeting, member: *member });
        }
        Fact::MotionAmended { meeting, item, text, .. } => {
            out.push(Command::AmendMotion { meeting: *meeting, item: *item, text: text.clone() })
        }
        Fact::MeetingClosed { meeting } => {
            if let Some(by) = chair_of(*meeting) {
                out.push(Command::CloseMeeting { meeting: *meeting, by })
            }
        }
        Fact::PollOpened { meeting, poll, item, method, revote_of } => {
            if let Some(by) = chair_of(*meeting) {
                out.push(Command::OpenPoll {
                    meeting: *meeting,
                    poll: *poll,
                    item: *item,
                    method: *method,
                    by,
                    revote_of: *revote_of,
                })
            }
        }
        // Only ever the second event of a revote's opening.
        Fact::PollVoided { .. } => {}
        Fact::BallotCast { meeting, item, ballot, .. } => out.push(Command::CastBallot {
            meeting: *meeting,
            item: *item,
            member: ballot.member,
            person: ballot.person,
            choice: ballot.choice,
            signed: ballot.signed,
        }),
        Fact::PollClosed { meeting, poll, result } => {
            if let Some(by) = chair_of(*meeting) {
                let counts: Option<Counts> =
                    (result.method != PollMethod::Electronic).then_some(result.counts);
                out.push(Command::ClosePoll { meeting: *meeting, poll: *poll, by, counts })
            }
        }
        Fact::ResultDeclared { meeting, poll, by, outcome, signed } => out.push(Command::DeclareResult {
            meeting: *meeting,
            poll: *poll,
            by: *by,
            outcome: *outcome,
            signed: Some(*signed),
        }),
        Fact::DeclarationChallenged { meeting, poll, supporters } => {
            out.push(Command::ChallengeDeclaration {
                meeting: *meeting,
                poll: *poll,
                supporters: supporters.clone(),
            })
        }
        Fact::ResolutionProposed { resolution, text, kind, closes_at } => {
            out.push(Command::ProposeResolution {
                resolution: *resolution,
                text: text.clone(),
                kind: *kind,
                closes_at: *closes_at,
                board_informed: true,
                supervisory_board_informed: true,
            })
        }
        Fact::ResolutionVoteCast { resolution, ballot } => out.push(Command::CastResolutionVote {
            resolution: *resolution,
            member: ballot.member,
            person: ballot.person,
            choice: ballot.choice,
            signed: ballot.signed,
        }),
        Fact::ResolutionConcluded { resolution, .. } => {
            out.push(Command::ConcludeResolution { resolution: *resolution })
        }
    }
    out
}
