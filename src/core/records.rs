//! Records and reminders derived from the state: the minutes' list of decisions and
//! attendance list (Art. 17.6, R8), and the warning when no annual meeting is scheduled
//! (Art. 8.2). Pure functions of the state; they change nothing.

use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::calendar::{CalendarDay, Instant, day_of, local};
use super::ids::{AgendaItemId, MemberId, PersonId, PollId};
use super::model::{Association, AttendsAs, Meeting, Mode, Outcome, Phase, ProxyHolder, Via};
use super::profile::DecisionKind;
use super::violation::{Provision, RuleId};

/// A reminder of a duty of the statutes that is not yet met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub rule: RuleId,
    pub article: String,
    pub message: String,
}

/// Art. 8.2: the general meeting meets at least once a calendar year, before the deadline in
/// the profile (1 July), for the annual accounts. Warns when no meeting of `today`'s year
/// with an item on the annual accounts is convened (or held) before that deadline.
pub fn annual_meeting_warning(state: &Association, today: CalendarDay) -> Option<Warning> {
    let rules = &state.profile.annual_meeting;
    let year = chrono::Datelike::year(&today);
    let deadline = NaiveDate::from_ymd_opt(year, rules.before_month, rules.before_day)?;
    let scheduled = state.meetings.values().any(|m| {
        let day = day_of(m.starts_at);
        m.phase != Phase::Draft
            && chrono::Datelike::year(&day) == year
            && day < deadline
            && m.agenda.iter().any(|i| i.annual_accounts)
    });
    (!scheduled).then(|| Warning {
        rule: RuleId::R3,
        article: state.profile.article(Provision::AnnualMeeting).to_owned(),
        message: format!(
            "No general meeting on the annual accounts has been convened before {deadline}; the statutes require one every calendar year before that day."
        ),
    })
}

/// How a member took part in a meeting, for the attendance list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "took_part")]
pub enum Participation {
    /// Through its own representative, in the room or electronically.
    OwnRepresentative {
        person: PersonId,
        name: String,
        electronically: bool,
    },
    /// Through the holder of its proxy.
    ProxyHolder {
        holder: String,
        person: PersonId,
        name: String,
    },
    /// Through a proxy to the chair of the supervisory board, a notary or a lawyer.
    ProxyTo {
        holder: String,
        person: PersonId,
        name: String,
    },
    /// Only by advance electronic ballot (Art. 8.13).
    AdvanceBallot,
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceLine {
    pub member: MemberId,
    pub name: String,
    pub participation: Participation,
    /// When the member arrived and left, for each stretch of attendance.
    pub stretches: Vec<(Instant, Option<Instant>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionLine {
    pub item: AgendaItemId,
    pub title: String,
    pub motion: String,
    pub kind: DecisionKind,
    pub poll: PollId,
    pub outcome: Outcome,
    pub explanation: String,
    pub declared_on: CalendarDay,
    /// Earlier polls on the item voided by a new poll (Art. 17.5).
    pub voided_polls: Vec<PollId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minutes {
    pub title: String,
    pub place: String,
    pub opened_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub chair: Option<String>,
    pub decisions: Vec<DecisionLine>,
    pub attendance: Vec<AttendanceLine>,
}

/// The list of decisions and the attendance list of a meeting (Art. 17.6).
pub fn minutes(state: &Association, meeting: &Meeting) -> Minutes {
    let register = &state.register;
    let mut decisions = Vec::new();
    for item in &meeting.agenda {
        let (Some(motion), Some(poll)) = (&item.motion, meeting.decision_on(item.id)) else { continue };
        let (Some(result), Some(declared)) = (&poll.result, &poll.declaration) else { continue };
        decisions.push(DecisionLine {
            item: item.id,
            title: item.title.clone(),
            motion: motion.text.clone(),
            kind: motion.kind,
            poll: poll.id,
            outcome: declared.outcome,
            explanation: result.explanation.clone(),
            declared_on: day_of(declared.at),
            voided_polls: meeting
                .polls
                .values()
                .filter(|p| p.item == item.id && p.voided_by.is_some())
                .map(|p| p.id)
                .collect(),
        });
    }

    let mut attendance = Vec::with_capacity(register.members.len());
    // The members of the association while the meeting ran: one registered after it closed
    // was not called to it and is not listed as absent.
    let was_member = |registered_at: Option<Instant>| match (registered_at, meeting.closed_at) {
        (Some(registered), Some(closed)) => registered <= closed,
        _ => true,
    };
    for member in register.members.values().filter(|m| was_member(m.registered_at)) {
        let spans: Vec<_> =
            meeting.attendance.get(&member.id).map(|s| s.iter().collect()).unwrap_or_default();
        let own = spans.iter().find(|a| a.attends_as == AttendsAs::Own);
        let by_proxy = spans.iter().find(|a| matches!(a.attends_as, AttendsAs::Proxy { .. }));
        let proxy = meeting.proxy_of(member.id);
        let participation = if let Some(a) = own {
            Participation::OwnRepresentative {
                person: a.person,
                name: register.person_name(a.person),
                electronically: a.mode == Mode::Electronic,
            }
        } else if let Some(a) = by_proxy {
            let holder = match proxy.map(|p| p.holder) {
                Some(ProxyHolder::Member { member }) => register.member_name(member),
                _ => register.person_name(a.person),
            };
            Participation::ProxyHolder { holder, person: a.person, name: register.person_name(a.person) }
        } else if let Some(person) =
            proxy.and_then(|p| p.holder.person()).filter(|p| meeting.chair == Some(*p))
        {
            Participation::ProxyTo { holder: "chair".into(), person, name: register.person_name(person) }
        } else if meeting
            .advance_ballots
            .values()
            .any(|b| b.get(&member.id).is_some_and(|b| b.via == Via::Advance))
        {
            Participation::AdvanceBallot
        } else {
            Participation::Absent
        };
        attendance.push(AttendanceLine {
            member: member.id,
            name: member.name.clone(),
            participation,
            stretches: spans.iter().map(|a| (a.arrived, a.left)).collect(),
        });
    }
    attendance.sort_by(|a, b| a.name.cmp(&b.name));

    Minutes {
        title: meeting.title.clone(),
        place: meeting.place.clone(),
        opened_at: meeting.opened_at,
        closed_at: meeting.closed_at,
        chair: meeting.chair.map(|c| register.person_name(c)),
        decisions,
        attendance,
    }
}

/// Text for a Markdown table cell: a `|` or a line break would end the cell or the table.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

impl Minutes {
    /// The minutes as Markdown: the list of decisions and the attendance list, like the lists
    /// at the end of a Dutch ALV's minutes.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", self.title.replace(['\r', '\n'], " "));
        let _ = writeln!(out, "- Place: {}", self.place);
        if let Some(chair) = &self.chair {
            let _ = writeln!(out, "- Chair: {chair}");
        }
        if let Some(o) = self.opened_at {
            let _ = writeln!(out, "- Opened: {}", local(o));
        }
        if let Some(c) = self.closed_at {
            let _ = writeln!(out, "- Closed: {}", local(c));
        }
        let _ = writeln!(
            out,
            "\n## List of decisions\n\n| Item | Decision | Outcome | Why | Taken on |\n|---|---|---|---|---|"
        );
        for d in &self.decisions {
            let outcome = match d.outcome {
                Outcome::Adopted => "adopted",
                Outcome::Rejected => "rejected",
                Outcome::NoQuorum => "no decision (quorum not met)",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&d.title),
                cell(&d.motion),
                outcome,
                cell(&d.explanation),
                d.declared_on
            );
        }
        let _ = writeln!(out, "\n## Attendance list\n\n| Member | Took part |\n|---|---|");
        for a in &self.attendance {
            let how = match &a.participation {
                Participation::OwnRepresentative { name, electronically: true, .. } => {
                    format!("{name} (electronically)")
                }
                Participation::OwnRepresentative { name, .. } => name.clone(),
                Participation::ProxyHolder { holder, name, .. } => format!("{name}, by proxy to {holder}"),
                Participation::ProxyTo { name, .. } => format!("Proxy to {name} (chair)"),
                Participation::AdvanceBallot => "Advance electronic ballot".into(),
                Participation::Absent => "Not present".into(),
            };
            let left: Vec<String> = a
                .stretches
                .iter()
                .filter_map(|(_, left)| *left)
                .filter(|l| Some(*l) != self.closed_at)
                .map(|l| format!("left at {}", local(l)))
                .collect();
            let how = if left.is_empty() { how } else { format!("{how}; {}", left.join(", ")) };
            let _ = writeln!(out, "| {} | {} |", cell(&a.name), cell(&how));
        }
        out
    }
}
