//! Resolutions outside a meeting (Art. 8.12).

use super::*;

impl Decider<'_> {
    pub(super) fn propose_resolution(
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

    pub(super) fn resolution(
        &self,
        id: ResolutionId,
    ) -> Result<&crate::core::WrittenResolution, RuleViolation> {
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

    pub(super) fn cast_resolution_vote(
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
            ballot: Ballot { member, person, choice, via: Via::Own, cast_at: self.now, signed: None },
        }])
    }

    pub(super) fn conclude_resolution(&self, resolution: ResolutionId) -> Decided {
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
