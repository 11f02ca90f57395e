//! Convening: members' requests (Art. 8.1), meetings and their agenda, the convocation and its notice (Art. 8.3, 20.3), and the new meeting after a failed quorum (Art. 17.4, 20.1, 20.2).

use super::*;

impl Decider<'_> {
    pub(super) fn request_meeting(
        &self,
        request: RequestId,
        members: Vec<MemberId>,
        subjects: Vec<String>,
    ) -> Decided {
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
    pub(super) fn create_meeting(
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

    pub(super) fn agenda_item(&self, spec: AgendaItemSpec) -> Result<AgendaItem, RuleViolation> {
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
    pub(super) fn check_follow_up(
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

    pub(super) fn convene(
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

    pub(super) fn follow_up_statement(
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

    pub(super) fn requesters_may_convene(
        &self,
        m: &Meeting,
        request: RequestId,
    ) -> Result<(), RuleViolation> {
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
}
