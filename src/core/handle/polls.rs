//! Polls and ballots (Art. 8.10, 8.13, 17.5): opening, casting, closing, declaring, challenging.

use super::*;
use crate::core::keys::Signed;

impl Decider<'_> {
    pub(super) fn open_poll(
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

    pub(super) fn cast_ballot(
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
                let ballot =
                    Ballot { member, person, choice, via: Via::Advance, cast_at: self.now, signed: None };
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
                let ballot = Ballot { member, person, choice, via, cast_at: self.now, signed: None };
                Ok(vec![Fact::BallotCast { meeting, poll: Some(poll.id), item, ballot }])
            }
        }
    }

    /// In the meeting, a member votes through its own representative while it is present,
    /// or through the holder of its proxy while the holder is present and the member is not.
    pub(super) fn in_meeting_capacity(
        &self,
        m: &Meeting,
        item: AgendaItemId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
    ) -> Result<Via, RuleViolation> {
        // Only a refusal names the member: looked up then, not for every ballot.
        let name = || self.name(member);
        let own_presence = m.current_attendance(member).filter(|a| a.attends_as == AttendsAs::Own);
        if self.s.register.represents(person, member) {
            return match own_presence {
                Some(_) => Ok(Via::Own),
                None => Err(self.refuse(Provision::ElectronicParticipation, "ballot.not_present", format!("{name} is not checked in; a member votes in the meeting once it is present, in the room or electronically.", name = name()))),
            };
        }
        let Some(proxy) = m.proxy_of(member).filter(|p| self.exercises(person, p)) else {
            return Err(self.refuse(
                Provision::Representation,
                "ballot.not_representative",
                format!(
                    "{} neither represents {name} nor holds its proxy.",
                    self.person_name(person),
                    name = name()
                ),
            ));
        };
        self.holder_not_suspended(proxy)?;
        if own_presence.is_some() && self.s.profile.readings.own_presence_precedes_proxy {
            return Err(self.refuse(
                Provision::Representation,
                "ballot.grantor_present",
                format!(
                    "{name} attends itself; its own presence takes precedence and the proxy is not used.",
                    name = name()
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
                format!("Check in {name} by proxy before voting for it.", name = name()),
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
                        choice_words(choice),
                        name = name()
                    ),
                ));
            }
        }
        Ok(Via::Proxy { proxy: proxy.id })
    }

    pub(super) fn poll_of<'m>(&self, m: &'m Meeting, poll: PollId) -> Result<&'m Poll, RuleViolation> {
        m.polls.get(&poll).ok_or_else(|| {
            self.refuse(
                Provision::PollMethod,
                "poll.unknown",
                format!("There is no poll {poll} in this meeting."),
            )
        })
    }

    pub(super) fn close_poll(
        &self,
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        counts: Option<Counts>,
    ) -> Decided {
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
                let total = c.in_favour.saturating_add(c.against).saturating_add(c.abstain);
                if total > present {
                    return Err(self.refuse(Provision::VotingRight, "poll.more_votes_than_members", format!("The counts add up to {total} votes, but only {present} members with a vote are present or represented; every member has one vote.")));
                }
            }
            (PollMethod::Electronic, None) => {}
        }
        let result = poll_result(&self.s.register, &self.s.profile, m, p, self.now, counts);
        Ok(vec![Fact::PollClosed { meeting, poll, result: Box::new(result) }])
    }

    pub(super) fn declare(
        &self,
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        outcome: Outcome,
        signed: Option<Signed>,
    ) -> Decided {
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
        Ok(vec![self.signed_declaration(meeting, poll, by, outcome, signed)?])
    }

    pub(super) fn challenge(&self, meeting: MeetingId, poll: PollId, supporters: Vec<MemberId>) -> Decided {
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
        let majority = crate::core::Fraction::HALF.more_than(voters.len() as u64, present_voters);
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
}
