//! Deciding: `handle(state, command, now)` checks a command against the rules profile and
//! the state, and returns the events it causes, or the rule it breaks. It only reads the
//! state, so a refused command changes nothing.

use std::collections::BTreeSet;

use super::calendar::{Instant, add_days, day_of, local, start_of_day};
use super::command::{AgendaItemSpec, Command};
use super::event::{Event, Fact};
use super::ids::{AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId};
use super::model::{
    AdvanceWindow, AgendaItem, Association, AttendsAs, Ballot, Choice, Convener, Convocation,
    ConvocationStatement, Counts, Instruction, Meeting, MembersRequest, Mode, Motion, Outcome, Phase, Poll,
    PollMethod, Proxy, ProxyHolder, Via,
};
use super::profile::{DecisionKind, Notice, UnlimitedHolder};
use super::register::{Capacity, Member, Person};
use super::tally::{members_in_office, poll_result, presence_at, resolution_result};
use super::violation::{Provision, RuleViolation};

/// Checks `command` at `now` against the rules and the state; returns the events it causes.
pub fn handle(state: &Association, command: Command, now: Instant) -> Result<Vec<Event>, RuleViolation> {
    let d = Decider { s: state, now };
    let facts = d.decide(command)?;
    Ok(facts.into_iter().map(|fact| Event { at: now, fact }).collect())
}

struct Decider<'a> {
    s: &'a Association,
    now: Instant,
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
                    member: Member { id: member, name, kind, email, language, suspended: false },
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
            GrantProxy { meeting, proxy, grantor, holder, instructions, form } => {
                let m = self.meeting(meeting)?;
                self.grant_proxy(
                    m,
                    Proxy {
                        id: proxy,
                        grantor,
                        holder,
                        instructions,
                        form,
                        received_at: self.now,
                        revoked_at: None,
                    },
                )
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
            CastBallot { meeting, item, member, person, choice } => {
                self.cast_ballot(meeting, item, member, person, choice)
            }
            ClosePoll { meeting, poll, by, counts } => self.close_poll(meeting, poll, by, counts),
            DeclareResult { meeting, poll, by, outcome } => self.declare(meeting, poll, by, outcome),
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
            CastResolutionVote { resolution, member, person, choice } => {
                self.cast_resolution_vote(resolution, member, person, choice)
            }
            ConcludeResolution { resolution } => self.conclude_resolution(resolution),
        }
    }

    // ---- lookups -------------------------------------------------------------------------

    fn non_empty(
        &self,
        p: Provision,
        code: &str,
        message: &str,
        text: String,
    ) -> Result<String, RuleViolation> {
        let trimmed = text.trim();
        if trimmed.is_empty() { Err(self.refuse(p, code, message)) } else { Ok(trimmed.to_owned()) }
    }

    fn member(&self, id: MemberId) -> Result<&Member, RuleViolation> {
        self.s.register.member(id).ok_or_else(|| {
            self.refuse(
                Provision::Membership,
                "member.unknown",
                format!("Member {id} is not in the register."),
            )
        })
    }

    fn person(&self, id: PersonId) -> Result<&Person, RuleViolation> {
        self.s.register.person(id).ok_or_else(|| {
            self.refuse(
                Provision::Representation,
                "person.unknown",
                format!("Person {id} is not in the register."),
            )
        })
    }

    fn meeting(&self, id: MeetingId) -> Result<&Meeting, RuleViolation> {
        self.s.meetings.get(&id).ok_or_else(|| {
            self.refuse(Provision::Convening, "meeting.unknown", format!("There is no meeting {id}."))
        })
    }

    fn name(&self, member: MemberId) -> String {
        self.s.register.member_name(member)
    }

    fn person_name(&self, person: PersonId) -> String {
        self.s.register.person_name(person)
    }

    fn item_title(&self, m: &Meeting, item: AgendaItemId) -> String {
        m.item(item).map_or_else(|| item.to_string(), |i| i.title.clone())
    }

    fn motion<'m>(
        &self,
        m: &'m Meeting,
        item: AgendaItemId,
    ) -> Result<(&'m AgendaItem, &'m Motion), RuleViolation> {
        let i = m.item(item).ok_or_else(|| {
            self.refuse(
                Provision::PollMethod,
                "item.unknown",
                format!("The meeting has no agenda item {item}."),
            )
        })?;
        let motion = i.motion.as_ref().ok_or_else(|| {
            self.refuse(
                Provision::PollMethod,
                "item.no_motion",
                format!("Agenda item \"{}\" has no motion to vote on.", i.title),
            )
        })?;
        Ok((i, motion))
    }

    fn in_session(&self, m: &Meeting) -> Result<(), RuleViolation> {
        match m.phase {
            Phase::Open => Ok(()),
            Phase::Draft | Phase::Convened => Err(self.refuse(
                Provision::Chair,
                "meeting.not_open",
                format!("The meeting \"{}\" has not been opened.", m.title),
            )),
            Phase::Closed => Err(self.refuse(
                Provision::Chair,
                "meeting.closed",
                format!("The meeting \"{}\" is closed.", m.title),
            )),
        }
    }

    fn chair_acts(&self, m: &Meeting, by: PersonId) -> Result<(), RuleViolation> {
        if m.chair == Some(by) {
            Ok(())
        } else {
            Err(self.refuse(
                Provision::Chair,
                "chair.not_chair",
                format!("{} does not chair this meeting; only the chair may do this.", self.person_name(by)),
            ))
        }
    }

    /// Whether `person` may exercise `proxy`: the holding member's representative, or the
    /// holding person.
    fn exercises(&self, person: PersonId, proxy: &Proxy) -> bool {
        match proxy.holder {
            ProxyHolder::Member { member } => self.s.register.represents(person, member),
            other => other.person() == Some(person),
        }
    }

    /// A suspended member cannot exercise its rights (Art. 6.9), so it cannot act for the
    /// members whose proxies it received before its suspension.
    fn holder_not_suspended(&self, proxy: &Proxy) -> Result<(), RuleViolation> {
        match proxy.holder {
            ProxyHolder::Member { member } if self.s.register.member(member).is_some_and(|m| m.suspended) => {
                Err(self.refuse(
                    Provision::Suspension,
                    "proxy.suspended_holder",
                    format!(
                        "{} is suspended and cannot act for {} by proxy.",
                        self.name(member),
                        self.name(proxy.grantor)
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    fn in_office_count(&self) -> u64 {
        members_in_office(&self.s.register, &self.s.profile)
    }

    // ---- the register --------------------------------------------------------------------

    fn assign_representative(&self, person: PersonId, member: MemberId, capacity: Capacity) -> Decided {
        self.person(person)?;
        self.member(member)?;
        if self.s.register.represents(person, member) {
            return Err(self.refuse(
                Provision::Representation,
                "representative.exists",
                format!("{} already represents {}.", self.person_name(person), self.name(member)),
            ));
        }
        Ok(vec![Fact::RepresentativeAssigned { person, member, capacity }])
    }

    // ---- convening -----------------------------------------------------------------------

    fn request_meeting(&self, request: RequestId, members: Vec<MemberId>, subjects: Vec<String>) -> Decided {
        if self.s.requests.contains_key(&request) {
            return Err(self.refuse(
                Provision::Convening,
                "request.exists",
                format!("Request {request} is already recorded."),
            ));
        }
        let subjects: Vec<String> =
            subjects.into_iter().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
        if subjects.is_empty() {
            return Err(self.refuse(
                Provision::Convening,
                "request.no_subjects",
                "A request to convene must name the subjects to be treated.",
            ));
        }
        let mut signed = BTreeSet::new();
        for member in &members {
            if self.member(*member)?.suspended {
                return Err(self.refuse(
                    Provision::Suspension,
                    "request.suspended_member",
                    format!("{} is suspended and cannot join a request to convene.", self.name(*member)),
                ));
            }
            signed.insert(*member);
        }
        let rules = &self.s.profile.members_request;
        let base = self.in_office_count();
        if !rules.fraction.at_least(signed.len() as u64, base) {
            return Err(self.refuse(
                Provision::Convening,
                "request.too_few_members",
                format!(
                    "A request to convene needs at least {} of the members: {} of {}; it has {}.",
                    rules.fraction.words(),
                    rules.fraction.least_at_least(base),
                    base,
                    signed.len()
                ),
            ));
        }
        let board_deadline = rules.board_term.after(day_of(self.now));
        Ok(vec![Fact::MeetingRequested {
            request: MembersRequest {
                id: request,
                at: self.now,
                members: signed.into_iter().collect(),
                subjects,
                board_deadline,
            },
        }])
    }

    #[allow(clippy::too_many_arguments)]
    fn create_meeting(
        &self,
        meeting: MeetingId,
        title: String,
        starts_at: Instant,
        place: String,
        agenda: Vec<AgendaItemSpec>,
        follow_up_of: Option<MeetingId>,
        request: Option<RequestId>,
    ) -> Decided {
        if self.s.meetings.contains_key(&meeting) {
            return Err(self.refuse(
                Provision::Convening,
                "meeting.exists",
                format!("Meeting {meeting} already exists."),
            ));
        }
        let title =
            self.non_empty(Provision::Convening, "meeting.title_missing", "A meeting needs a title.", title)?;
        let place = self.non_empty(
            Provision::Convening,
            "meeting.place_missing",
            "A convocation states where the meeting is held (a place or a link).",
            place,
        )?;
        if let Some(r) = request
            && !self.s.requests.contains_key(&r)
        {
            return Err(self.refuse(
                Provision::Convening,
                "request.unknown",
                format!("There is no members' request {r}."),
            ));
        }
        let mut ids = BTreeSet::new();
        let mut items = Vec::with_capacity(agenda.len());
        for spec in agenda {
            if !ids.insert(spec.item) {
                return Err(self.refuse(
                    Provision::ConvocationNotice,
                    "agenda.duplicate_item",
                    format!("Agenda item {} appears twice.", spec.item),
                ));
            }
            items.push(self.agenda_item(spec)?);
        }
        if let Some(first) = follow_up_of {
            self.check_follow_up(first, &items, starts_at, None)?;
        }
        Ok(vec![Fact::MeetingCreated {
            meeting,
            title,
            starts_at,
            place,
            agenda: items,
            follow_up_of,
            request,
        }])
    }

    fn agenda_item(&self, spec: AgendaItemSpec) -> Result<AgendaItem, RuleViolation> {
        let title = self.non_empty(
            Provision::ConvocationNotice,
            "agenda.title_missing",
            "Every agenda item needs a title.",
            spec.title,
        )?;
        if let Some(member) = spec.concerns_member {
            self.member(member)?;
        }
        let motion = match spec.motion {
            None => None,
            Some(m) => {
                let text = self.non_empty(
                    Provision::PollMethod,
                    "motion.text_missing",
                    format!("The motion under \"{title}\" needs a text.").as_str(),
                    m.text,
                )?;
                let rule = self.s.profile.decision(m.kind);
                let provision = provision_of(m.kind);
                if rule.board_proposal_required && !m.board_proposal_approved {
                    return Err(self.refuse(provision, "motion.needs_approved_board_proposal", format!("A {} is decided only on a proposal of the board approved by the supervisory board (\"{title}\").", m.kind.words())));
                }
                let proposal = m.proposal.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
                if rule.notice == Notice::Special && proposal.is_none() {
                    return Err(self.refuse(
                        Provision::SpecialConvocation,
                        "motion.proposal_missing",
                        format!(
                            "A {} must carry its proposal, attached to the convocation (\"{title}\").",
                            m.kind.words()
                        ),
                    ));
                }
                Some(Motion {
                    text,
                    kind: m.kind,
                    proposal,
                    board_proposal_approved: m.board_proposal_approved,
                    amendments: 0,
                    lapsed_advance_ballots: 0,
                })
            }
        };
        Ok(AgendaItem {
            id: spec.item,
            title,
            motion,
            carried_from: spec.carried_from,
            concerns_member: spec.concerns_member,
            annual_accounts: spec.annual_accounts,
        })
    }

    /// A new meeting after a failed quorum: only the motions that failed it, the same text,
    /// held within each kind's window after the first meeting's day.
    fn check_follow_up(
        &self,
        first_id: MeetingId,
        items: &[AgendaItem],
        starts_at: Instant,
        this: Option<MeetingId>,
    ) -> Result<(), RuleViolation> {
        let first = self.meeting(first_id)?;
        if first.phase != Phase::Closed {
            return Err(self.refuse(
                Provision::OrdinaryFollowUp,
                "follow_up.first_not_closed",
                format!("A new meeting follows a closed meeting; \"{}\" is not closed.", first.title),
            ));
        }
        if first.follow_up_of.is_some() {
            return Err(self.refuse(Provision::OrdinaryFollowUp, "follow_up.of_follow_up", "A new meeting after a failed quorum decides whatever the attendance, so it has no new meeting of its own."));
        }
        let first_day = day_of(first.starts_at);
        let day = day_of(starts_at);
        let mut carried = 0;
        for item in items {
            let Some(motion) = &item.motion else { continue };
            let Some(from) = item.carried_from else {
                return Err(self.refuse(Provision::OrdinaryFollowUp, "follow_up.new_motion", format!("A new meeting after a failed quorum decides only on the items of the first meeting; \"{}\" was not on it.", item.title)));
            };
            let provision = provision_of(motion.kind);
            let Some(original) = first.item(from) else {
                return Err(self.refuse(
                    provision,
                    "follow_up.unknown_item",
                    format!("The first meeting has no agenda item {from}."),
                ));
            };
            let failed = first
                .decision_on(from)
                .and_then(|p| p.declaration.as_ref())
                .is_some_and(|d| d.outcome == Outcome::NoQuorum);
            if !failed {
                return Err(self.refuse(provision, "follow_up.quorum_not_failed", format!("\"{}\" did not fail its quorum in the first meeting, so a new meeting cannot decide it whatever the attendance.", original.title)));
            }
            if original.motion.as_ref().is_none_or(|o| o.kind != motion.kind || o.text != motion.text) {
                return Err(self.refuse(provision, "follow_up.different_motion", format!("The new meeting decides on the same proposal; \"{}\" differs from the first meeting's.", item.title)));
            }
            let elsewhere = self.s.meetings.values().any(|m| {
                Some(m.id) != this
                    && m.follow_up_of == Some(first_id)
                    && m.agenda.iter().any(|i| i.carried_from == Some(from))
            });
            if elsewhere {
                return Err(self.refuse(
                    provision,
                    "follow_up.already_carried",
                    format!("\"{}\" is already on another new meeting.", original.title),
                ));
            }
            let rule = self.s.profile.decision(motion.kind);
            let earliest = rule.follow_up.earliest.after(first_day);
            let latest = rule.follow_up.latest.after(first_day);
            if day < earliest || day > latest {
                return Err(RuleViolation {
                    rule: provision.rule(),
                    provision,
                    article: rule.follow_up.article.clone(),
                    code: "follow_up.outside_window".into(),
                    message: format!(
                        "The new meeting on \"{}\" ({}) must be held no earlier than {earliest} and no later than {latest} ({} to {} after the first meeting of {first_day}); {day} is outside that window.",
                        item.title,
                        motion.kind.words(),
                        rule.follow_up.earliest.describe(),
                        rule.follow_up.latest.describe()
                    ),
                });
            }
            carried += 1;
        }
        if carried == 0 {
            return Err(self.refuse(
                Provision::OrdinaryFollowUp,
                "follow_up.nothing_carried",
                "A new meeting after a failed quorum must carry at least one motion of the first meeting.",
            ));
        }
        Ok(())
    }

    fn convene(
        &self,
        meeting: MeetingId,
        by: Convener,
        advance_voting: bool,
        electronic_participation: Option<String>,
    ) -> Decided {
        let m = self.meeting(meeting)?;
        if m.phase != Phase::Draft {
            return Err(self.refuse(Provision::ConvocationNotice, "meeting.already_convened", format!("\"{}\" has already been convened; the conditions in a convocation cannot be changed afterwards.", m.title)));
        }
        if m.agenda.is_empty() {
            return Err(self.refuse(
                Provision::ConvocationNotice,
                "agenda.empty",
                "A convocation lists the subjects to be treated; the agenda is empty.",
            ));
        }
        if let Convener::Requesters { request } = by {
            self.requesters_may_convene(m, request)?;
        }
        let today = day_of(self.now);
        let meeting_day = day_of(m.starts_at);
        let special: Vec<&AgendaItem> = m
            .agenda
            .iter()
            .filter(|i| {
                i.motion.as_ref().is_some_and(|mo| self.s.profile.decision(mo.kind).notice == Notice::Special)
            })
            .collect();
        let (notice, provision) = if special.is_empty() {
            (Notice::Ordinary, Provision::ConvocationNotice)
        } else {
            (Notice::Special, Provision::SpecialConvocation)
        };
        let days = self.s.profile.notice_days(notice);
        let earliest = add_days(today, i64::from(days) + 1);
        if meeting_day < earliest {
            let what = if special.is_empty() {
                "the convocation".to_owned()
            } else {
                format!(
                    "the proposal for the {}",
                    special
                        .iter()
                        .filter_map(|i| i.motion.as_ref())
                        .map(|mo| mo.kind.words())
                        .next()
                        .unwrap_or("amendment")
                )
            };
            return Err(self.refuse(
                provision,
                "convocation.too_late",
                format!(
                    "{} must go out at least {days} days before the meeting, the day of convocation and the day of the meeting not counted: convened on {today}, the meeting can be held on {earliest} at the earliest, not on {meeting_day}.",
                    capitalise(&what)
                ),
            ));
        }
        if let Some(first) = m.follow_up_of {
            self.check_follow_up(first, &m.agenda, m.starts_at, Some(m.id))?;
        }
        let mut statements = Vec::new();
        if !special.is_empty() {
            statements.push(ConvocationStatement::SpecialProposals {
                items: special.iter().map(|i| i.id).collect(),
                article: self.s.profile.article(Provision::SpecialConvocation).to_owned(),
            });
        }
        let advance = advance_voting.then(|| {
            let window_start =
                start_of_day(add_days(meeting_day, -i64::from(self.s.profile.advance_voting.window_days)));
            AdvanceWindow { opens: window_start.max(self.now), closes: m.starts_at }
        });
        if let Some(w) = &advance {
            statements.push(ConvocationStatement::AdvanceVotingOpen {
                opens: w.opens,
                closes: w.closes,
                article: self.s.profile.article(Provision::AdvanceVoting).to_owned(),
            });
        }
        let electronic_participation =
            electronic_participation.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty());
        if let Some(conditions) = &electronic_participation {
            statements.push(ConvocationStatement::ElectronicParticipation {
                conditions: conditions.clone(),
                article: self.s.profile.article(Provision::ElectronicParticipation).to_owned(),
            });
        }
        if let Some(first_id) = m.follow_up_of {
            statements.push(self.follow_up_statement(m, first_id)?);
        }
        Ok(vec![Fact::MeetingConvened {
            meeting,
            convocation: Convocation {
                at: self.now,
                by,
                advance_voting: advance,
                electronic_participation,
                statements,
            },
        }])
    }

    fn follow_up_statement(
        &self,
        m: &Meeting,
        first_id: MeetingId,
    ) -> Result<ConvocationStatement, RuleViolation> {
        let first = self.meeting(first_id)?;
        let carried: Vec<&AgendaItem> =
            m.agenda.iter().filter(|i| i.carried_from.is_some() && i.motion.is_some()).collect();
        let entrenched =
            carried.iter().any(|i| i.motion.as_ref().is_some_and(|mo| mo.kind == DecisionKind::Entrenched));
        let mut articles: Vec<String> = carried
            .iter()
            .filter_map(|i| i.motion.as_ref())
            .map(|mo| self.s.profile.decision(mo.kind).follow_up.article.clone())
            .collect();
        articles.dedup();
        let titles: Vec<String> = carried.iter().map(|i| format!("\"{}\"", i.title)).collect();
        let first_day = day_of(first.starts_at);
        let mut text = format!(
            "This is a new meeting after the meeting of {first_day}, in which no decision could be taken on {} because not enough members were present or represented. This meeting decides on these items whatever the number of members present or represented.",
            titles.join(", ")
        );
        if entrenched {
            text.push_str(" It is a second general meeting within the meaning of the statutes, which decides unanimously.");
        }
        Ok(ConvocationStatement::FollowUp {
            first_meeting: first_id,
            first_day,
            items: carried.iter().map(|i| i.id).collect(),
            article: articles.join(", "),
            text,
        })
    }

    fn requesters_may_convene(&self, m: &Meeting, request: RequestId) -> Result<(), RuleViolation> {
        let Some(r) = self.s.requests.get(&request) else {
            return Err(self.refuse(
                Provision::Convening,
                "request.unknown",
                format!("There is no members' request {request}."),
            ));
        };
        if m.request != Some(request) {
            return Err(self.refuse(
                Provision::Convening,
                "request.other_meeting",
                "The requesters may convene only the meeting that answers their request.",
            ));
        }
        if day_of(self.now) <= r.board_deadline {
            return Err(self.refuse(Provision::Convening, "request.board_term_running", format!("The board has until {} to hold the requested meeting; only after that may the requesters convene it themselves.", r.board_deadline)));
        }
        let held = self.s.meetings.values().any(|other| {
            other.request == Some(request) && other.opened_at.is_some_and(|o| day_of(o) <= r.board_deadline)
        });
        if held {
            return Err(self.refuse(
                Provision::Convening,
                "request.already_held",
                "The board held the requested meeting in time.",
            ));
        }
        Ok(())
    }

    // ---- proxies -------------------------------------------------------------------------

    fn grant_proxy(&self, m: &Meeting, proxy: Proxy) -> Decided {
        match m.phase {
            Phase::Convened => {}
            Phase::Draft => {
                return Err(self.refuse(
                    Provision::ProxyDeadline,
                    "proxy.meeting_not_convened",
                    format!("\"{}\" has not been convened yet.", m.title),
                ));
            }
            Phase::Open | Phase::Closed => {
                return Err(self.refuse(
                    Provision::ProxyDeadline,
                    "proxy.after_opening",
                    format!(
                        "A proxy must reach the chair before the meeting opens; \"{}\" opened at {}.",
                        m.title,
                        m.opened_at.map_or_else(String::new, local)
                    ),
                ));
            }
        }
        if m.proxies.contains_key(&proxy.id) {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.exists",
                format!("Proxy {} is already recorded.", proxy.id),
            ));
        }
        let grantor = self.member(proxy.grantor)?;
        if grantor.suspended {
            return Err(self.refuse(
                Provision::Suspension,
                "proxy.suspended_grantor",
                format!("{} is suspended and has no vote to give by proxy.", grantor.name),
            ));
        }
        for item in proxy.instructions.keys() {
            self.motion(m, *item)?;
        }
        let readings = &self.s.profile.readings;
        let in_force = m.proxies_in_force().filter(|p| p.grantor == proxy.grantor).count();
        if in_force as u64 >= u64::from(readings.proxies_per_member) {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.one_per_member",
                format!("{} already has a proxy in force for this meeting; revoke it first.", grantor.name),
            ));
        }
        let unlimited = &self.s.profile.proxies.unlimited_holders;
        let (exempt, holder_words) = match proxy.holder {
            ProxyHolder::Member { member } => {
                if member == proxy.grantor {
                    return Err(self.refuse(
                        Provision::Representation,
                        "proxy.to_self",
                        "A member cannot give a proxy to itself.",
                    ));
                }
                let holder = self.member(member)?;
                if holder.suspended {
                    return Err(self.refuse(
                        Provision::Suspension,
                        "proxy.suspended_holder",
                        format!("{} is suspended and cannot act for another member.", holder.name),
                    ));
                }
                if !readings.proxy_chains && m.proxy_of(member).is_some() {
                    return Err(self.refuse(Provision::Representation, "proxy.chain", format!("{} has given its own proxy away, so it cannot act for {}: a proxy is not passed on.", holder.name, grantor.name)));
                }
                (false, holder.name.clone())
            }
            ProxyHolder::ConnectedPerson { person } => {
                self.person(person)?;
                if !self.s.register.represents(person, proxy.grantor) {
                    return Err(self.refuse(
                        Provision::Representation,
                        "proxy.not_connected",
                        format!(
                            "{} is not registered as an official or employee of {}.",
                            self.person_name(person),
                            grantor.name
                        ),
                    ));
                }
                (false, self.person_name(person))
            }
            ProxyHolder::SupervisoryBoardChair { person } => {
                self.person(person)?;
                if !self.s.register.is_supervisory_board_chair(person) {
                    return Err(self.refuse(
                        Provision::ProxyCap,
                        "proxy.not_supervisory_board_chair",
                        format!("{} is not the chair of the supervisory board.", self.person_name(person)),
                    ));
                }
                (unlimited.contains(&UnlimitedHolder::SupervisoryBoardChair), self.person_name(person))
            }
            ProxyHolder::Notary { person } | ProxyHolder::Lawyer { person } => {
                let p = self.person(person)?;
                let (needed, kind) = match proxy.holder {
                    ProxyHolder::Notary { .. } => {
                        (super::register::Profession::Notary, UnlimitedHolder::Notary)
                    }
                    _ => (super::register::Profession::Lawyer, UnlimitedHolder::Lawyer),
                };
                if p.profession != Some(needed) {
                    return Err(self.refuse(
                        Provision::ProxyCap,
                        "proxy.not_notary_or_lawyer",
                        format!(
                            "{} is not registered as a {}.",
                            p.name,
                            if needed == super::register::Profession::Notary { "notary" } else { "lawyer" }
                        ),
                    ));
                }
                (unlimited.contains(&kind), p.name.clone())
            }
        };
        if !readings.proxy_chains {
            let holds =
                m.proxies_in_force().any(|p| p.holder == ProxyHolder::Member { member: proxy.grantor });
            if holds {
                return Err(self.refuse(Provision::Representation, "proxy.chain", format!("{} holds proxies of other members and cannot pass them on by giving its own proxy away.", grantor.name)));
            }
        }
        if !exempt {
            let cap = self.s.profile.proxies.cap_per_holder;
            let held = m.proxies_in_force().filter(|p| same_holder(p.holder, proxy.holder)).count() as u64;
            if held >= u64::from(cap) {
                return Err(self.refuse(Provision::ProxyCap, "proxy.cap_exceeded", format!("{holder_words} already acts by proxy for {held} members; a holder may act for at most {cap} members besides its own (proxies to the chair of the supervisory board, a notary or a lawyer are not limited).")));
            }
        }
        Ok(vec![Fact::ProxyGranted { meeting: m.id, proxy }])
    }

    fn revoke_proxy(&self, meeting: MeetingId, proxy: ProxyId) -> Decided {
        let m = self.meeting(meeting)?;
        let Some(p) = m.proxies.get(&proxy) else {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.unknown",
                format!("There is no proxy {proxy} for this meeting."),
            ));
        };
        if p.revoked_at.is_some() {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.already_revoked",
                "This proxy has already been revoked.",
            ));
        }
        if !self.s.profile.readings.proxy_revocable_until_opening {
            return Err(self.refuse(
                Provision::Representation,
                "proxy.not_revocable",
                "Under these statutes a proxy cannot be revoked.",
            ));
        }
        if m.phase != Phase::Convened {
            return Err(self.refuse(
                Provision::ProxyDeadline,
                "proxy.revoked_after_opening",
                "A proxy can be revoked only until the meeting opens.",
            ));
        }
        Ok(vec![Fact::ProxyRevoked { meeting, proxy }])
    }

    // ---- the meeting in session ----------------------------------------------------------

    fn open_meeting(&self, meeting: MeetingId, chair: PersonId, appointed_by_meeting: bool) -> Decided {
        let m = self.meeting(meeting)?;
        match m.phase {
            Phase::Convened => {}
            Phase::Draft => {
                return Err(self.refuse(
                    Provision::ConvocationNotice,
                    "meeting.not_convened",
                    format!("\"{}\" has not been convened and cannot be opened.", m.title),
                ));
            }
            Phase::Open => {
                return Err(self.refuse(
                    Provision::Chair,
                    "meeting.already_open",
                    format!("\"{}\" is already open.", m.title),
                ));
            }
            Phase::Closed => {
                return Err(self.refuse(
                    Provision::Chair,
                    "meeting.closed",
                    format!("\"{}\" is closed.", m.title),
                ));
            }
        }
        let day = day_of(m.starts_at);
        if day_of(self.now) != day {
            return Err(self.refuse(
                Provision::ConvocationNotice,
                "meeting.wrong_day",
                format!("\"{}\" was convened for {day}; it can be opened on that day only.", m.title),
            ));
        }
        self.person(chair)?;
        if !appointed_by_meeting && !self.s.register.may_chair(chair) {
            return Err(self.refuse(Provision::Chair, "chair.not_supervisory_board_chair", format!("The meeting is chaired by the chair of the supervisory board or the deputy; {} is neither, unless the general meeting appoints them.", self.person_name(chair))));
        }
        Ok(vec![Fact::MeetingOpened { meeting, chair, appointed_by_meeting }])
    }

    fn check_in(&self, meeting: MeetingId, member: MemberId, person: PersonId, mode: Mode) -> Decided {
        let m = self.meeting(meeting)?;
        let on_the_day = m.phase == Phase::Convened && day_of(self.now) == day_of(m.starts_at);
        if !(m.phase == Phase::Open || on_the_day) {
            return Err(self.refuse(
                Provision::ElectronicParticipation,
                "attendance.not_in_session",
                format!(
                    "Attendance for \"{}\" is registered on the day of the meeting, until it closes.",
                    m.title
                ),
            ));
        }
        let who = self.member(member)?;
        self.person(person)?;
        if who.suspended && !m.agenda.iter().any(|i| i.concerns_member == Some(member)) {
            return Err(self.refuse(Provision::Suspension, "attendance.suspended_member", format!("{} is suspended; it may attend only the meeting that treats its suspension or expulsion.", who.name)));
        }
        // The member arriving itself while its proxy holder has it checked in: its own
        // presence takes precedence (Art. 8.5, "in geval van zijn afwezigheid"), so the
        // attendance by proxy ends and the proxy is no longer used.
        let own_supersedes_proxy = m.current_attendance(member).is_some_and(|a| {
            matches!(a.attends_as, AttendsAs::Proxy { .. })
                && self.s.profile.readings.own_presence_precedes_proxy
                && self.s.register.represents(person, member)
        });
        if m.current_attendance(member).is_some() && !own_supersedes_proxy {
            return Err(self.refuse(
                Provision::ElectronicParticipation,
                "attendance.already_present",
                format!("{} is already checked in.", who.name),
            ));
        }
        if mode == Mode::Electronic
            && m.convocation.as_ref().is_none_or(|c| c.electronic_participation.is_none())
        {
            return Err(self.refuse(Provision::ElectronicParticipation, "attendance.electronic_not_offered", "The convocation did not offer electronic participation, so members take part in the room only."));
        }
        let attends_as = if self.s.register.represents(person, member) {
            AttendsAs::Own
        } else if let Some(p) = m.proxy_of(member).filter(|p| self.exercises(person, p)) {
            if who.suspended {
                return Err(self.refuse(
                    Provision::Suspension,
                    "attendance.suspended_member",
                    format!("{} is suspended; nobody acts for it by proxy.", who.name),
                ));
            }
            self.holder_not_suspended(p)?;
            AttendsAs::Proxy { proxy: p.id }
        } else {
            return Err(self.refuse(
                Provision::Representation,
                "attendance.not_representative",
                format!("{} neither represents {} nor holds its proxy.", self.person_name(person), who.name),
            ));
        };
        let mut facts = Vec::with_capacity(2);
        if own_supersedes_proxy {
            facts.push(Fact::CheckedOut { meeting, member });
        }
        facts.push(Fact::CheckedIn { meeting, member, person, attends_as, mode });
        Ok(facts)
    }

    fn amend_motion(&self, meeting: MeetingId, item: AgendaItemId, text: String) -> Decided {
        let m = self.meeting(meeting)?;
        self.in_session(m)?;
        let (i, motion) = self.motion(m, item)?;
        let text = self.non_empty(
            Provision::PollMethod,
            "motion.text_missing",
            "An amended motion needs a text.",
            text,
        )?;
        if text == motion.text {
            return Err(self.refuse(
                Provision::PollMethod,
                "motion.unchanged",
                "The amended text is the same as the motion's.",
            ));
        }
        if m.open_poll_on(item).is_some() || m.decision_on(item).is_some() {
            return Err(self.refuse(
                Provision::PollMethod,
                "motion.already_voted",
                format!("\"{}\" is being or has been voted on; it can no longer be amended.", i.title),
            ));
        }
        let lapsed = if self.s.profile.readings.amendment_lapses_advance_ballots {
            m.advance_ballots.get(&item).map_or(0, |b| u32::try_from(b.len()).unwrap_or(u32::MAX))
        } else {
            0
        };
        Ok(vec![Fact::MotionAmended { meeting, item, text, lapsed_advance_ballots: lapsed }])
    }

    // ---- polls ---------------------------------------------------------------------------

    fn open_poll(
        &self,
        meeting: MeetingId,
        poll: PollId,
        item: AgendaItemId,
        method: PollMethod,
        by: PersonId,
        revote_of: Option<PollId>,
    ) -> Decided {
        let m = self.meeting(meeting)?;
        self.in_session(m)?;
        self.chair_acts(m, by)?;
        let (i, _) = self.motion(m, item)?;
        if m.polls.contains_key(&poll) {
            return Err(self.refuse(
                Provision::PollMethod,
                "poll.exists",
                format!("Poll {poll} already exists."),
            ));
        }
        if m.open_poll_on(item).is_some() {
            return Err(self.refuse(
                Provision::PollMethod,
                "poll.already_open",
                format!("A poll on \"{}\" is already open.", i.title),
            ));
        }
        if let Some(p) =
            m.polls.values().find(|p| p.item == item && p.closed_at.is_some() && p.declaration.is_none())
        {
            return Err(self.refuse(
                Provision::Declaration,
                "poll.undeclared",
                format!("The chair has not yet declared the outcome of poll {} on \"{}\".", p.id, i.title),
            ));
        }
        let challenged =
            m.polls.values().find(|p| p.item == item && p.challenge.is_some() && p.voided_by.is_none());
        let mut facts = vec![Fact::PollOpened { meeting, poll, item, method, revote_of }];
        match (revote_of, challenged) {
            (Some(first), Some(c)) if c.id == first => {
                facts.push(Fact::PollVoided { meeting, poll: first, by: poll });
            }
            (Some(first), _) => {
                return Err(self.refuse(Provision::Declaration, "poll.revote_without_challenge", format!("Poll {first} was not challenged on \"{}\"; a new poll is held only after a challenge of the declaration.", i.title)));
            }
            (None, Some(c)) => {
                return Err(self.refuse(
                    Provision::Declaration,
                    "poll.revote_required",
                    format!(
                        "The declaration of poll {} was challenged; open the new poll as its revote.",
                        c.id
                    ),
                ));
            }
            (None, None) => {
                if m.decision_on(item).is_some() {
                    return Err(self.refuse(Provision::Declaration, "poll.already_decided", format!("\"{}\" has been decided; a new poll is held only when the declaration is challenged at once.", i.title)));
                }
            }
        }
        Ok(facts)
    }

    fn cast_ballot(
        &self,
        meeting: MeetingId,
        item: AgendaItemId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
    ) -> Decided {
        let m = self.meeting(meeting)?;
        let (i, _) = self.motion(m, item)?;
        let who = self.member(member)?;
        self.person(person)?;
        if who.suspended {
            return Err(self.refuse(
                Provision::VotingRight,
                "ballot.suspended_member",
                format!("{} is suspended and has no vote.", who.name),
            ));
        }
        let readings = &self.s.profile.readings;
        match m.phase {
            Phase::Draft => Err(self.refuse(
                Provision::AdvanceVoting,
                "ballot.not_convened",
                format!("\"{}\" has not been convened.", m.title),
            )),
            Phase::Closed => Err(self.refuse(
                Provision::PollMethod,
                "ballot.meeting_closed",
                format!("\"{}\" is closed.", m.title),
            )),
            Phase::Convened => {
                let Some(window) = m.advance_window() else {
                    return Err(self.refuse(Provision::AdvanceVoting, "ballot.advance_voting_not_opened", "The convocation did not open advance electronic voting; votes are cast in the meeting."));
                };
                if self.now < window.opens {
                    return Err(self.refuse(
                        Provision::AdvanceVoting,
                        "ballot.before_window",
                        format!(
                            "Advance ballots may be cast from {} (not earlier than {} days before the day of the meeting); it is {}.",
                            local(window.opens),
                            self.s.profile.advance_voting.window_days,
                            local(self.now)
                        ),
                    ));
                }
                let by_proxy = readings.advance_ballots_by_proxy_holders
                    && m.proxy_of(member).is_some_and(|p| self.exercises(person, p));
                if !self.s.register.represents(person, member) && !by_proxy {
                    return Err(self.refuse(
                        Provision::Representation,
                        "ballot.not_representative",
                        format!(
                            "{} does not represent {} and cannot cast its advance ballot.",
                            self.person_name(person),
                            who.name
                        ),
                    ));
                }
                if !readings.later_ballot_replaces
                    && m.advance_ballots.get(&item).is_some_and(|b| b.contains_key(&member))
                {
                    return Err(self.refuse(
                        Provision::VotingRight,
                        "ballot.already_cast",
                        format!("{} has already voted on \"{}\".", who.name, i.title),
                    ));
                }
                let ballot = Ballot { member, person, choice, via: Via::Advance, cast_at: self.now };
                Ok(vec![Fact::BallotCast { meeting, poll: None, item, ballot }])
            }
            Phase::Open => {
                let Some(poll) = m.open_poll_on(item) else {
                    return Err(self.refuse(
                        Provision::PollMethod,
                        "ballot.no_open_poll",
                        format!("No poll is open on \"{}\".", i.title),
                    ));
                };
                if poll.method != PollMethod::Electronic {
                    return Err(self.refuse(
                        Provision::PollMethod,
                        "ballot.not_electronic",
                        format!(
                            "The poll on \"{}\" is held {}; the chair records its counts.",
                            i.title,
                            if poll.method == PollMethod::Voice { "by voice" } else { "on paper" }
                        ),
                    ));
                }
                let via = self.in_meeting_capacity(m, item, member, person, choice)?;
                let earlier = poll.ballots.contains_key(&member)
                    || m.advance_ballots.get(&item).is_some_and(|b| b.contains_key(&member));
                if earlier && !readings.later_ballot_replaces {
                    return Err(self.refuse(
                        Provision::VotingRight,
                        "ballot.already_cast",
                        format!("{} has already voted on \"{}\".", who.name, i.title),
                    ));
                }
                let ballot = Ballot { member, person, choice, via, cast_at: self.now };
                Ok(vec![Fact::BallotCast { meeting, poll: Some(poll.id), item, ballot }])
            }
        }
    }

    /// In the meeting, a member votes through its own representative while it is present,
    /// or through the holder of its proxy while the holder is present and the member is not.
    fn in_meeting_capacity(
        &self,
        m: &Meeting,
        item: AgendaItemId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
    ) -> Result<Via, RuleViolation> {
        let name = self.name(member);
        let own_presence = m.current_attendance(member).filter(|a| a.attends_as == AttendsAs::Own);
        if self.s.register.represents(person, member) {
            return match own_presence {
                Some(_) => Ok(Via::Own),
                None => Err(self.refuse(Provision::ElectronicParticipation, "ballot.not_present", format!("{name} is not checked in; a member votes in the meeting once it is present, in the room or electronically."))),
            };
        }
        let Some(proxy) = m.proxy_of(member).filter(|p| self.exercises(person, p)) else {
            return Err(self.refuse(
                Provision::Representation,
                "ballot.not_representative",
                format!("{} neither represents {name} nor holds its proxy.", self.person_name(person)),
            ));
        };
        self.holder_not_suspended(proxy)?;
        if own_presence.is_some() && self.s.profile.readings.own_presence_precedes_proxy {
            return Err(self.refuse(
                Provision::Representation,
                "ballot.grantor_present",
                format!(
                    "{name} attends itself; its own presence takes precedence and the proxy is not used."
                ),
            ));
        }
        let chairing = m.chair == Some(person) && proxy.holder.person() == Some(person);
        let checked_in = m
            .current_attendance(member)
            .is_some_and(|a| a.attends_as == AttendsAs::Proxy { proxy: proxy.id });
        if !chairing && !checked_in {
            return Err(self.refuse(
                Provision::ElectronicParticipation,
                "ballot.proxy_not_present",
                format!("Check in {name} by proxy before voting for it."),
            ));
        }
        if self.s.profile.readings.voting_instructions_binding {
            let instructed = match proxy.instructions.get(&item) {
                Some(Instruction::For) => Some(Choice::For),
                Some(Instruction::Against) => Some(Choice::Against),
                Some(Instruction::Abstain) => Some(Choice::Abstain),
                Some(Instruction::Free) | None => None,
            };
            if let Some(instructed) = instructed.filter(|c| *c != choice) {
                return Err(self.refuse(
                    Provision::Representation,
                    "ballot.contradicts_instruction",
                    format!(
                        "The proxy of {name} instructs a vote {} on this item; a ballot {} contradicts it.",
                        choice_words(instructed),
                        choice_words(choice)
                    ),
                ));
            }
        }
        Ok(Via::Proxy { proxy: proxy.id })
    }

    fn poll_of<'m>(&self, m: &'m Meeting, poll: PollId) -> Result<&'m Poll, RuleViolation> {
        m.polls.get(&poll).ok_or_else(|| {
            self.refuse(
                Provision::PollMethod,
                "poll.unknown",
                format!("There is no poll {poll} in this meeting."),
            )
        })
    }

    fn close_poll(&self, meeting: MeetingId, poll: PollId, by: PersonId, counts: Option<Counts>) -> Decided {
        let m = self.meeting(meeting)?;
        self.in_session(m)?;
        self.chair_acts(m, by)?;
        let p = self.poll_of(m, poll)?;
        if p.closed_at.is_some() {
            return Err(self.refuse(Provision::PollMethod, "poll.closed", "This poll is already closed."));
        }
        match (p.method, counts) {
            (PollMethod::Electronic, Some(_)) => {
                return Err(self.refuse(
                    Provision::PollMethod,
                    "poll.counts_for_electronic",
                    "An electronic poll is counted from its ballots; the chair records no counts for it.",
                ));
            }
            (PollMethod::Voice | PollMethod::Written, None) => {
                return Err(self.refuse(
                    Provision::PollMethod,
                    "poll.counts_missing",
                    "A poll by voice or on paper is closed with the counts of for, against and abstain.",
                ));
            }
            (PollMethod::Voice | PollMethod::Written, Some(c)) => {
                let present = presence_at(&self.s.register, &self.s.profile, m, self.now)
                    .keys()
                    .filter(|member| self.s.register.member(**member).is_some_and(|x| !x.suspended))
                    .count() as u64;
                let total = c.in_favour + c.against + c.abstain;
                if total > present {
                    return Err(self.refuse(Provision::VotingRight, "poll.more_votes_than_members", format!("The counts add up to {total} votes, but only {present} members with a vote are present or represented; every member has one vote.")));
                }
            }
            (PollMethod::Electronic, None) => {}
        }
        let result = poll_result(&self.s.register, &self.s.profile, m, p, self.now, counts);
        Ok(vec![Fact::PollClosed { meeting, poll, result: Box::new(result) }])
    }

    fn declare(&self, meeting: MeetingId, poll: PollId, by: PersonId, outcome: Outcome) -> Decided {
        let m = self.meeting(meeting)?;
        self.in_session(m)?;
        self.chair_acts(m, by)?;
        let p = self.poll_of(m, poll)?;
        let Some(result) = &p.result else {
            return Err(self.refuse(
                Provision::Declaration,
                "poll.not_closed",
                "The chair declares the outcome once the poll is closed.",
            ));
        };
        if p.declaration.is_some() {
            return Err(self.refuse(
                Provision::Declaration,
                "poll.already_declared",
                "The outcome of this poll has already been declared.",
            ));
        }
        if outcome != result.outcome {
            return Err(self.refuse(
                Provision::Declaration,
                "declaration.contradicts_count",
                format!("The declaration must follow the count: {}.", result.explanation),
            ));
        }
        Ok(vec![Fact::ResultDeclared { meeting, poll, by, outcome }])
    }

    fn challenge(&self, meeting: MeetingId, poll: PollId, supporters: Vec<MemberId>) -> Decided {
        let m = self.meeting(meeting)?;
        self.in_session(m)?;
        let p = self.poll_of(m, poll)?;
        let Some(declared) = &p.declaration else {
            return Err(self.refuse(
                Provision::Declaration,
                "challenge.not_declared",
                "Only a declared outcome can be challenged.",
            ));
        };
        if p.challenge.is_some() || p.voided_by.is_some() {
            return Err(self.refuse(
                Provision::Declaration,
                "challenge.already_challenged",
                "This declaration has already been challenged.",
            ));
        }
        if m.polls.values().any(|other| other.opened_at > declared.at) {
            return Err(self.refuse(Provision::Declaration, "challenge.too_late", "A declaration is challenged immediately after it is spoken; the meeting has since moved on to another poll."));
        }
        let present = presence_at(&self.s.register, &self.s.profile, m, self.now);
        let mut voters = BTreeSet::new();
        for s in &supporters {
            let member = self.member(*s)?;
            if member.suspended || !present.contains_key(s) {
                return Err(self.refuse(
                    Provision::Declaration,
                    "challenge.not_a_present_voter",
                    format!("{} is not a voter present or represented in the meeting.", member.name),
                ));
            }
            voters.insert(*s);
        }
        if voters.is_empty() {
            return Err(self.refuse(
                Provision::Declaration,
                "challenge.no_supporters",
                "A challenge names the members who dispute the declaration.",
            ));
        }
        let present_voters =
            present.keys().filter(|x| self.s.register.member(**x).is_some_and(|mm| !mm.suspended)).count()
                as u64;
        let majority = super::fraction::Fraction::HALF.more_than(voters.len() as u64, present_voters);
        let single_voter_may = p.method == PollMethod::Voice;
        if !majority && !single_voter_may {
            return Err(self.refuse(
                Provision::Declaration,
                "challenge.needs_majority",
                format!(
                    "After a poll by roll call or in writing, a new poll is held only when the majority of the meeting asks: {} of {} present members asked.",
                    voters.len(),
                    present_voters
                ),
            ));
        }
        Ok(vec![Fact::DeclarationChallenged { meeting, poll, supporters: voters.into_iter().collect() }])
    }

    // ---- resolutions outside a meeting (Art. 8.12) ---------------------------------------

    fn propose_resolution(
        &self,
        resolution: ResolutionId,
        text: String,
        kind: DecisionKind,
        closes_at: Instant,
        board_informed: bool,
        supervisory_board_informed: bool,
    ) -> Decided {
        if self.s.resolutions.contains_key(&resolution) {
            return Err(self.refuse(
                Provision::WrittenResolution,
                "resolution.exists",
                format!("Resolution {resolution} already exists."),
            ));
        }
        let text = self.non_empty(
            Provision::WrittenResolution,
            "resolution.text_missing",
            "A resolution needs a text.",
            text,
        )?;
        if self.s.profile.decision(kind).notice == Notice::Special {
            return Err(self.refuse(
                Provision::SpecialConvocation,
                "resolution.needs_special_meeting",
                format!("A {} is decided only in a meeting convened specially for it.", kind.words()),
            ));
        }
        if self.s.profile.written_resolution.requires_prior_knowledge
            && !(board_informed && supervisory_board_informed)
        {
            return Err(self.refuse(Provision::WrittenResolution, "resolution.without_prior_knowledge", "A resolution outside a meeting needs the prior knowledge of the supervisory board and the board."));
        }
        if closes_at <= self.now {
            return Err(self.refuse(
                Provision::WrittenResolution,
                "resolution.closes_in_past",
                "The voting period of a resolution must end in the future.",
            ));
        }
        Ok(vec![Fact::ResolutionProposed { resolution, text, kind, closes_at }])
    }

    fn resolution(&self, id: ResolutionId) -> Result<&super::model::WrittenResolution, RuleViolation> {
        let r = self.s.resolutions.get(&id).ok_or_else(|| {
            self.refuse(
                Provision::WrittenResolution,
                "resolution.unknown",
                format!("There is no resolution {id}."),
            )
        })?;
        if r.result.is_some() {
            return Err(self.refuse(
                Provision::WrittenResolution,
                "resolution.concluded",
                "Voting on this resolution has ended.",
            ));
        }
        Ok(r)
    }

    fn cast_resolution_vote(
        &self,
        resolution: ResolutionId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
    ) -> Decided {
        let r = self.resolution(resolution)?;
        if self.now >= r.closes_at {
            return Err(self.refuse(
                Provision::WrittenResolution,
                "resolution.closed",
                format!("Voting on this resolution closed at {}.", local(r.closes_at)),
            ));
        }
        let who = self.member(member)?;
        self.person(person)?;
        if who.suspended {
            return Err(self.refuse(
                Provision::VotingRight,
                "ballot.suspended_member",
                format!("{} is suspended and has no vote.", who.name),
            ));
        }
        if !self.s.register.represents(person, member) {
            return Err(self.refuse(
                Provision::Representation,
                "ballot.not_representative",
                format!("{} does not represent {}.", self.person_name(person), who.name),
            ));
        }
        if r.votes.contains_key(&member) && !self.s.profile.readings.later_ballot_replaces {
            return Err(self.refuse(
                Provision::VotingRight,
                "ballot.already_cast",
                format!("{} has already voted.", who.name),
            ));
        }
        Ok(vec![Fact::ResolutionVoteCast {
            resolution,
            ballot: Ballot { member, person, choice, via: Via::Own, cast_at: self.now },
        }])
    }

    fn conclude_resolution(&self, resolution: ResolutionId) -> Decided {
        let r = self.resolution(resolution)?;
        let everyone_voted = self.s.register.voting_members().all(|m| r.votes.contains_key(&m.id));
        if self.now < r.closes_at && !everyone_voted {
            return Err(self.refuse(
                Provision::WrittenResolution,
                "resolution.still_open",
                format!("Voting runs until {} and not every member has voted yet.", local(r.closes_at)),
            ));
        }
        let result = resolution_result(&self.s.register, &self.s.profile, &r.votes);
        Ok(vec![Fact::ResolutionConcluded { resolution, result }])
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
