//! Deciding: `handle(state, command, now)` checks a command against the rules profile and
//! the state, and returns the events it causes, or the rule it breaks. It only reads the
//! state, so a refused command changes nothing.

mod convening;
mod keys;
mod lookups;
mod polls;
mod proxies;
mod register;
mod resolutions;
mod session;

use std::collections::BTreeSet;

use crate::core::calendar::{Instant, add_days, day_of, local, start_of_day};
use crate::core::command::{AgendaItemSpec, Command};
use crate::core::event::{Event, Fact};
use crate::core::ids::{
    AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId,
};
use crate::core::keys::{KeyBytes, SignedBytes};
use crate::core::model::{
    AdvanceWindow, AgendaItem, Association, AttendsAs, Ballot, Choice, Convener, Convocation,
    ConvocationStatement, Counts, Instruction, Meeting, MembersRequest, Mode, Motion, Outcome, Phase, Poll,
    PollMethod, Proxy, ProxyHolder, Via,
};
use crate::core::profile::{DecisionKind, Notice, UnlimitedHolder};
use crate::core::register::{Capacity, Member, Person};
use crate::core::tally::{members_in_office, poll_result, presence_at, resolution_result};
use crate::core::violation::{Provision, RuleViolation};
use crate::ledger::signature::{PublicKey, PublicKeyError};

/// Checks `command` at `now` against the rules and the state; returns the events it causes.
pub fn handle(state: &Association, command: Command, now: Instant) -> Result<Vec<Event>, RuleViolation> {
    handle_with_verified(state, command, now, None)
}

/// [`handle`] for a caller that has already verified one signature strictly
/// (`ledger::signature::verify`) against a key it decoded from its bytes, as the service does
/// for a ballot before it queues it: when the command carries exactly that signature, by a key
/// of the association's key ring (fully checked when it was enrolled), over exactly those
/// bytes, it is not verified again. Every other check is made as `handle` makes it, and any
/// other signature is verified.
pub fn handle_with_verified(
    state: &Association,
    command: Command,
    now: Instant,
    verified: Option<&SignedBytes>,
) -> Result<Vec<Event>, RuleViolation> {
    let d = Decider { s: state, now, verify_signatures: true, verified, checked_keys: &[] };
    let facts = d.decide(command)?;
    Ok(facts.into_iter().map(|fact| Event { at: now, fact }).collect())
}

/// [`handle`] for a caller that has already verified every signature the command carries
/// (the auditor's verifier checks a whole log's signatures in batches first). Everything else,
/// including which key may sign and its sequence numbers, is checked as `handle` does.
pub fn handle_preverified(
    state: &Association,
    command: Command,
    now: Instant,
) -> Result<Vec<Event>, RuleViolation> {
    handle_preverified_with_keys(state, command, now, &[])
}

/// A key the caller has parsed with [`PublicKey::from_bytes`] (every check, torsion included),
/// and what came of it.
pub type CheckedKey = (KeyBytes, Result<PublicKey, PublicKeyError>);

/// [`handle_preverified`] for a caller that has also parsed, with [`PublicKey::from_bytes`], keys
/// the command may bring into the key ring (the auditor's verifier does that on other threads):
/// the core takes the outcome for such a key from `checked_keys` instead of parsing it again,
/// and refuses a key that failed with the same refusal. Keys not in the list are parsed here.
pub fn handle_preverified_with_keys(
    state: &Association,
    command: Command,
    now: Instant,
    checked_keys: &[CheckedKey],
) -> Result<Vec<Event>, RuleViolation> {
    let d = Decider { s: state, now, verify_signatures: false, verified: None, checked_keys };
    let facts = d.decide(command)?;
    Ok(facts.into_iter().map(|fact| Event { at: now, fact }).collect())
}

struct Decider<'a> {
    s: &'a Association,
    now: Instant,
    /// False when the caller verified the signatures already.
    verify_signatures: bool,
    /// A signature the caller verified already (see [`handle_with_verified`]).
    verified: Option<&'a SignedBytes>,
    /// Keys the caller parsed strictly already (see [`handle_preverified_with_keys`]).
    checked_keys: &'a [CheckedKey],
}

type Decided = Result<Vec<Fact>, RuleViolation>;

impl Decider<'_> {
    fn refuse(&self, provision: Provision, code: &str, message: impl Into<String>) -> RuleViolation {
        RuleViolation {
            rule: provision.rule(),
            provision,
            article: self.s.profile.article(provision).to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }

    fn decide(&self, command: Command) -> Decided {
        use Command::*;
        match command {
            RegisterMember { member, name, kind, email, language } => {
                if self.s.register.member(member).is_some() {
                    return Err(self.refuse(
                        Provision::Membership,
                        "member.exists",
                        format!("Member {member} is already in the register."),
                    ));
                }
                let name = self.non_empty(
                    Provision::Membership,
                    "member.name_missing",
                    "A member needs a name.",
                    name,
                )?;
                Ok(vec![Fact::MemberRegistered {
                    member: Member {
                        id: member,
                        name,
                        kind,
                        email,
                        language,
                        suspended: false,
                        registered_at: None,
                    },
                }])
            }
            ChangeMemberAddress { member, email } => {
                self.member(member)?;
                Ok(vec![Fact::MemberAddressChanged { member, email }])
            }
            SuspendMember { member } => {
                if self.member(member)?.suspended {
                    return Err(self.refuse(
                        Provision::Suspension,
                        "member.already_suspended",
                        format!("{} is already suspended.", self.name(member)),
                    ));
                }
                Ok(vec![Fact::MemberSuspended { member }])
            }
            ReinstateMember { member } => {
                if !self.member(member)?.suspended {
                    return Err(self.refuse(
                        Provision::Suspension,
                        "member.not_suspended",
                        format!("{} is not suspended.", self.name(member)),
                    ));
                }
                Ok(vec![Fact::MemberReinstated { member }])
            }
            RegisterPerson { person, name, email, profession } => {
                if self.s.register.person(person).is_some() {
                    return Err(self.refuse(
                        Provision::Representation,
                        "person.exists",
                        format!("Person {person} is already in the register."),
                    ));
                }
                let name = self.non_empty(
                    Provision::Representation,
                    "person.name_missing",
                    "A person needs a name.",
                    name,
                )?;
                Ok(vec![Fact::PersonRegistered { person: Person { id: person, name, email, profession } }])
            }
            AssignRepresentative { person, member, capacity } => {
                self.assign_representative(person, member, capacity)
            }
            WithdrawRepresentative { person, member } => {
                if !self.s.register.represents(person, member) {
                    return Err(self.refuse(
                        Provision::Representation,
                        "representative.unknown",
                        format!("{} does not represent {}.", self.person_name(person), self.name(member)),
                    ));
                }
                Ok(vec![Fact::RepresentativeWithdrawn { person, member }])
            }
            AppointSupervisoryBoardChair { person, deputy } => {
                self.person(person)?;
                Ok(vec![Fact::SupervisoryBoardChairAppointed { person, deputy }])
            }
            RequestMeeting { request, members, subjects } => self.request_meeting(request, members, subjects),
            CreateMeeting { meeting, title, starts_at, place, agenda, follow_up_of, request } => {
                self.create_meeting(meeting, title, starts_at, place, agenda, follow_up_of, request)
            }
            ConveneMeeting { meeting, by, advance_voting, electronic_participation } => {
                self.convene(meeting, by, advance_voting, electronic_participation)
            }
            EnrolKey { person, key, sequence, signature } => self.enrol_key(person, key, sequence, signature),
            RotateKey { person, key, sequence, signature, new_key_signature } => {
                self.rotate_key(person, key, sequence, signature, new_key_signature)
            }
            RevokeKey { person, key, signed } => self.revoke_key(person, key, signed),
            GrantProxy { meeting, proxy, grantor, holder, instructions, form, signed, scan_sha256 } => {
                let m = self.meeting(meeting)?;
                if scan_sha256.is_some() && form != crate::core::ProxyForm::Paper {
                    return Err(self.refuse(
                        Provision::Representation,
                        "proxy.scan_not_paper",
                        "Only a proxy given on paper has a scan; an electronic proxy is signed instead.",
                    ));
                }
                let mut facts = self.grant_proxy(
                    m,
                    Proxy {
                        id: proxy,
                        grantor,
                        holder,
                        instructions,
                        form,
                        received_at: self.now,
                        revoked_at: None,
                        signed: None,
                        scan_sha256,
                    },
                )?;
                self.sign_proxy(&mut facts, signed)?;
                Ok(facts)
            }
            RevokeProxy { meeting, proxy } => self.revoke_proxy(meeting, proxy),
            OpenMeeting { meeting, chair, appointed_by_meeting } => {
                self.open_meeting(meeting, chair, appointed_by_meeting)
            }
            AppointChair { meeting, person } => {
                let m = self.meeting(meeting)?;
                self.in_session(m)?;
                self.person(person)?;
                Ok(vec![Fact::ChairAppointed { meeting, person }])
            }
            CheckIn { meeting, member, person, mode } => self.check_in(meeting, member, person, mode),
            CheckOut { meeting, member } => {
                let m = self.meeting(meeting)?;
                if !matches!(m.phase, Phase::Convened | Phase::Open) || m.current_attendance(member).is_none()
                {
                    return Err(self.refuse(
                        Provision::ElectronicParticipation,
                        "attendance.not_present",
                        format!("{} is not checked in.", self.name(member)),
                    ));
                }
                Ok(vec![Fact::CheckedOut { meeting, member }])
            }
            AmendMotion { meeting, item, text } => self.amend_motion(meeting, item, text),
            CloseMeeting { meeting, by } => {
                let m = self.meeting(meeting)?;
                self.in_session(m)?;
                self.chair_acts(m, by)?;
                if let Some(p) = m.polls.values().find(|p| p.closed_at.is_none()) {
                    return Err(self.refuse(
                        Provision::PollMethod,
                        "meeting.poll_open",
                        format!(
                            "The poll on \"{}\" is still open; close it before closing the meeting.",
                            self.item_title(m, p.item)
                        ),
                    ));
                }
                Ok(vec![Fact::MeetingClosed { meeting }])
            }
            OpenPoll { meeting, poll, item, method, by, revote_of } => {
                self.open_poll(meeting, poll, item, method, by, revote_of)
            }
            CastBallot { meeting, item, member, person, choice, signed } => {
                let mut facts = self.cast_ballot(meeting, item, member, person, choice)?;
                self.sign_ballot(&mut facts, signed)?;
                Ok(facts)
            }
            ClosePoll { meeting, poll, by, counts } => self.close_poll(meeting, poll, by, counts),
            DeclareResult { meeting, poll, by, outcome, signed } => {
                self.declare(meeting, poll, by, outcome, signed)
            }
            ChallengeDeclaration { meeting, poll, supporters } => self.challenge(meeting, poll, supporters),
            ProposeResolution {
                resolution,
                text,
                kind,
                closes_at,
                board_informed,
                supervisory_board_informed,
            } => self.propose_resolution(
                resolution,
                text,
                kind,
                closes_at,
                board_informed,
                supervisory_board_informed,
            ),
            CastResolutionVote { resolution, member, person, choice, signed } => {
                let mut facts = self.cast_resolution_vote(resolution, member, person, choice)?;
                self.sign_resolution_vote(&mut facts, signed)?;
                Ok(facts)
            }
            ConcludeResolution { resolution } => self.conclude_resolution(resolution),
        }
    }
}

fn same_holder(a: ProxyHolder, b: ProxyHolder) -> bool {
    match (a, b) {
        (ProxyHolder::Member { member: x }, ProxyHolder::Member { member: y }) => x == y,
        (ProxyHolder::Member { .. }, _) | (_, ProxyHolder::Member { .. }) => false,
        (x, y) => x.person() == y.person(),
    }
}

/// The provision that governs a decision kind (and its new meeting).
pub fn provision_of(kind: DecisionKind) -> Provision {
    match kind {
        DecisionKind::Ordinary => Provision::OrdinaryFollowUp,
        DecisionKind::TwoThirds => Provision::TwoThirds,
        DecisionKind::StatuteAmendment => Provision::StatuteAmendment,
        DecisionKind::Dissolution => Provision::Dissolution,
        DecisionKind::Regulations => Provision::Regulations,
        DecisionKind::Entrenched => Provision::Entrenched,
    }
}

fn choice_words(c: Choice) -> &'static str {
    match c {
        Choice::For => "for",
        Choice::Against => "against",
        Choice::Abstain => "to abstain",
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}
