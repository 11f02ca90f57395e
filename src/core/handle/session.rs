//! The meeting in session: opening, the chair (Art. 8.4), attendance (Art. 8.11), amendments.

use super::*;

impl Decider<'_> {
    pub(super) fn open_meeting(
        &self,
        meeting: MeetingId,
        chair: PersonId,
        appointed_by_meeting: bool,
    ) -> Decided {
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

    pub(super) fn check_in(
        &self,
        meeting: MeetingId,
        member: MemberId,
        person: PersonId,
        mode: Mode,
    ) -> Decided {
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

    pub(super) fn amend_motion(&self, meeting: MeetingId, item: AgendaItemId, text: String) -> Decided {
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
}
