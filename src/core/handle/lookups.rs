//! Lookups and small checks shared by the deciders.

use super::*;

/// The longest name, title or motion text the service accepts, in characters.
const MAX_TEXT: usize = 10_000;

impl Decider<'_> {
    pub(super) fn non_empty(
        &self,
        p: Provision,
        code: &str,
        message: &str,
        text: String,
    ) -> Result<String, RuleViolation> {
        let trimmed = text.trim();
        if !trimmed.chars().any(char::is_alphanumeric) {
            return Err(self.refuse(p, code, message));
        }
        // Names and texts go into convocations, minutes and e-mail: no control characters, and
        // a length a person can read.
        if trimmed.chars().any(|c| c.is_control() && c != '\n') {
            return Err(self.refuse(
                p,
                "text.control_characters",
                "A name or text may not contain control characters.",
            ));
        }
        if trimmed.chars().count() > MAX_TEXT {
            return Err(self.refuse(
                p,
                "text.too_long",
                format!("A name or text may be at most {MAX_TEXT} characters long."),
            ));
        }
        Ok(trimmed.to_owned())
    }

    pub(super) fn member(&self, id: MemberId) -> Result<&Member, RuleViolation> {
        self.s.register.member(id).ok_or_else(|| {
            self.refuse(
                Provision::Membership,
                "member.unknown",
                format!("Member {id} is not in the register."),
            )
        })
    }

    pub(super) fn person(&self, id: PersonId) -> Result<&Person, RuleViolation> {
        self.s.register.person(id).ok_or_else(|| {
            self.refuse(
                Provision::Representation,
                "person.unknown",
                format!("Person {id} is not in the register."),
            )
        })
    }

    pub(super) fn meeting(&self, id: MeetingId) -> Result<&Meeting, RuleViolation> {
        self.s.meetings.get(&id).ok_or_else(|| {
            self.refuse(Provision::Convening, "meeting.unknown", format!("There is no meeting {id}."))
        })
    }

    pub(super) fn name(&self, member: MemberId) -> String {
        self.s.register.member_name(member)
    }

    pub(super) fn person_name(&self, person: PersonId) -> String {
        self.s.register.person_name(person)
    }

    pub(super) fn item_title(&self, m: &Meeting, item: AgendaItemId) -> String {
        m.item(item).map_or_else(|| item.to_string(), |i| i.title.clone())
    }

    pub(super) fn motion<'m>(
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

    pub(super) fn in_session(&self, m: &Meeting) -> Result<(), RuleViolation> {
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

    pub(super) fn chair_acts(&self, m: &Meeting, by: PersonId) -> Result<(), RuleViolation> {
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
    pub(super) fn exercises(&self, person: PersonId, proxy: &Proxy) -> bool {
        match proxy.holder {
            ProxyHolder::Member { member } => self.s.register.represents(person, member),
            other => other.person() == Some(person),
        }
    }

    /// A suspended member cannot exercise its rights (Art. 6.9), so it cannot act for the
    /// members whose proxies it received before its suspension.
    pub(super) fn holder_not_suspended(&self, proxy: &Proxy) -> Result<(), RuleViolation> {
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

    pub(super) fn in_office_count(&self) -> u64 {
        members_in_office(&self.s.register, &self.s.profile)
    }
}
