//! Counting: who is present or represented, what was voted, and whether that adopts the
//! motion. A result explains itself: counts, members in office, presence and how, the
//! fractions required and reached, the outcome, and the rule that decided it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::calendar::{CalendarDay, Instant, day_of};
use super::fraction::Fraction;
use super::ids::{AgendaItemId, MemberId, PollId};
use super::model::{
    Attendance, AttendsAs, Ballot, Choice, Counts, Meeting, Mode, Outcome, Poll, PollMethod, Via,
};
use super::profile::{
    DecisionKind, Majority, MembersInOffice, QuorumMoment, RulesProfile, UnanimityInMeeting,
    UnanimityOutsideMeeting,
};
use super::register::Register;
use super::violation::{Provision, RuleId};

/// How a member is present or represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    InPerson,
    Electronically,
    ByProxy,
    ByAdvanceBallot,
}

/// Members present or represented, by how.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceCount {
    pub in_person: u64,
    pub electronically: u64,
    pub by_proxy: u64,
    pub by_advance_ballot: u64,
}

impl PresenceCount {
    pub fn total(&self) -> u64 {
        self.in_person + self.electronically + self.by_proxy + self.by_advance_ballot
    }

    fn add(&mut self, how: Presence) {
        match how {
            Presence::InPerson => self.in_person += 1,
            Presence::Electronically => self.electronically += 1,
            Presence::ByProxy => self.by_proxy += 1,
            Presence::ByAdvanceBallot => self.by_advance_ballot += 1,
        }
    }
}

/// Where a rule of the statutes decided an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedBy {
    pub rule: RuleId,
    pub article: String,
    /// The rule in words, e.g. "two thirds of votes cast".
    pub words: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumCheck {
    /// The fraction of members in office that must be present or represented.
    pub required: Fraction,
    pub members_in_office: u64,
    pub needed: u64,
    pub present_or_represented: u64,
    pub met: bool,
    /// A new meeting after a failed quorum decides whatever the attendance.
    pub waived: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorityCheck {
    pub required: Majority,
    pub votes_cast: u64,
    /// The least number of votes for that adopts the motion with these votes cast.
    pub needed_for: u64,
    pub reached: bool,
}

/// The days within which the new meeting after a failed quorum may be held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpWindow {
    pub earliest: CalendarDay,
    pub latest: CalendarDay,
    pub article: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollResult {
    pub poll: PollId,
    pub item: AgendaItemId,
    pub kind: DecisionKind,
    pub method: PollMethod,
    /// The moment at which presence and quorum were taken (R5).
    pub taken_at: Instant,
    pub counts: Counts,
    pub votes_cast: u64,
    pub presence: PresenceCount,
    pub quorum: QuorumCheck,
    pub majority: MajorityCheck,
    pub outcome: Outcome,
    pub decided_by: DecidedBy,
    /// Advance ballots that lapsed because the motion was amended.
    pub lapsed_advance_ballots: u32,
    /// False for a written poll on paper: only the tellers' counts are known.
    pub verifiable_ballot_by_ballot: bool,
    /// When the quorum failed: the window for the new meeting.
    pub follow_up: Option<FollowUpWindow>,
    /// The result in a sentence.
    pub explanation: String,
}

/// The members in office (zitting hebbende leden, R1 reading).
pub fn members_in_office(register: &Register, profile: &RulesProfile) -> u64 {
    match profile.readings.members_in_office {
        MembersInOffice::NotSuspended => register.voting_members().count() as u64,
        MembersInOffice::All => register.members.len() as u64,
    }
}

fn in_office(register: &Register, profile: &RulesProfile, member: MemberId) -> bool {
    register.member(member).is_some_and(|m| match profile.readings.members_in_office {
        MembersInOffice::NotSuspended => !m.suspended,
        MembersInOffice::All => true,
    })
}

/// Members present or represented at a moment by attendance and by proxies to the chair,
/// before counting ballots.
pub fn presence_at(
    register: &Register,
    profile: &RulesProfile,
    meeting: &Meeting,
    at: Instant,
) -> BTreeMap<MemberId, Presence> {
    let mut present = BTreeMap::new();
    for a in meeting.attendance_spans().filter(|a| a.covers(at)) {
        if !in_office(register, profile, a.member) {
            continue;
        }
        let how = match (a.attends_as, a.mode) {
            (AttendsAs::Own, Mode::InPerson) => Presence::InPerson,
            (AttendsAs::Own, Mode::Electronic) => Presence::Electronically,
            (AttendsAs::Proxy { .. }, _) => Presence::ByProxy,
        };
        present.insert(a.member, how);
    }
    // A proxy held by the person chairing is exercised whenever the meeting is open.
    for grantor in chair_proxies_at(meeting, at) {
        if in_office(register, profile, grantor) {
            present.entry(grantor).or_insert(Presence::ByProxy);
        }
    }
    present
}

/// The ballot that counts for each member in an electronic poll: its last ballot in the
/// poll, or else its advance ballot on the item (R4), from members in office.
pub fn effective_ballots<'m>(
    register: &Register,
    meeting: &'m Meeting,
    poll: &'m Poll,
) -> BTreeMap<MemberId, &'m Ballot> {
    let mut ballots: BTreeMap<MemberId, &Ballot> = BTreeMap::new();
    if let Some(advance) = meeting.advance_ballots.get(&poll.item) {
        ballots.extend(advance.iter().map(|(m, b)| (*m, b)));
    }
    ballots.extend(poll.ballots.iter().map(|(m, b)| (*m, b)));
    ballots.retain(|m, _| register.member(*m).is_some_and(|m| !m.suspended));
    ballots
}

/// The result of a poll closed at `closed_at`, with the chair's `counts` for a poll by
/// voice or on paper.
pub fn poll_result(
    register: &Register,
    profile: &RulesProfile,
    meeting: &Meeting,
    poll: &Poll,
    closed_at: Instant,
    recorded: Option<Counts>,
) -> PollResult {
    let item = meeting.item(poll.item);
    let kind = item.and_then(|i| i.motion.as_ref()).map_or(DecisionKind::Ordinary, |m| m.kind);
    let taken_at = match profile.readings.quorum_taken_at {
        QuorumMoment::PollClose => closed_at,
        QuorumMoment::PollOpen => poll.opened_at,
    };
    let (counts, presence, base) = count(register, profile, meeting, poll, taken_at, recorded);
    let rule = profile.decision(kind);
    let needed = if rule.quorum.is_zero() { 0 } else { rule.quorum.least_at_least(base) };
    let waived = meeting.follow_up_of.is_some() && item.is_some_and(|i| i.carried_from.is_some());
    let quorum = QuorumCheck {
        required: rule.quorum,
        members_in_office: base,
        needed,
        present_or_represented: presence.total(),
        met: presence.total() >= needed,
        waived,
    };
    let majority = majority_check(profile, rule.majority, counts, presence.total());

    let quorum_words = format!(
        "{} of {} members in office present or represented, {} needed ({})",
        quorum.present_or_represented,
        base,
        needed,
        rule.quorum.words()
    );
    let (outcome, decided_by, explanation);
    if !quorum.met && !quorum.waived {
        outcome = Outcome::NoQuorum;
        decided_by = DecidedBy {
            rule: RuleId::R7,
            article: rule.article.clone(),
            words: format!("quorum of {} of the members in office", rule.quorum.words()),
        };
        explanation = format!("quorum not met: {quorum_words} — no decision");
    } else {
        let tie = matches!(rule.majority, Majority::MoreThan(f) if f == Fraction::HALF)
            && counts.in_favour == counts.against
            && counts.votes_cast() > 0;
        outcome = if majority.reached { Outcome::Adopted } else { Outcome::Rejected };
        let article = if tie { profile.article(Provision::Tie).to_owned() } else { rule.article.clone() };
        let words = majority_words(profile, rule.majority);
        let prefix = if quorum.waived {
            format!("new meeting after a failed quorum, decides whatever the attendance ({quorum_words})")
        } else {
            format!("quorum met: {quorum_words}")
        };
        let count_words = if counts.votes_cast() == 0 {
            "no votes cast".to_owned()
        } else {
            format!(
                "{} of {} for; {} for, {} against",
                majority.needed_for,
                counts.votes_cast(),
                counts.in_favour,
                counts.against
            )
        };
        explanation = format!(
            "{prefix}; {words} needed: {count_words}{} — {}",
            if tie { ", a tie" } else { "" },
            if majority.reached { "adopted" } else { "rejected" }
        );
        decided_by = DecidedBy { rule: RuleId::R7, article, words };
    }

    let follow_up = (outcome == Outcome::NoQuorum && meeting.follow_up_of.is_none()).then(|| {
        let day = day_of(meeting.starts_at);
        FollowUpWindow {
            earliest: rule.follow_up.earliest.after(day),
            latest: rule.follow_up.latest.after(day),
            article: rule.follow_up.article.clone(),
        }
    });
    let explanation = match &follow_up {
        Some(w) => format!(
            "{explanation}; a new meeting held from {} to {} may decide whatever the attendance (Art. {})",
            w.earliest, w.latest, w.article
        ),
        None => explanation,
    };

    PollResult {
        poll: poll.id,
        item: poll.item,
        kind,
        method: poll.method,
        taken_at,
        votes_cast: counts.votes_cast(),
        counts,
        presence,
        quorum,
        majority,
        outcome,
        decided_by,
        lapsed_advance_ballots: item.and_then(|i| i.motion.as_ref()).map_or(0, |m| m.lapsed_advance_ballots),
        verifiable_ballot_by_ballot: poll.method == PollMethod::Electronic,
        follow_up,
        explanation,
    }
}

/// The counts, the presence by how, and the number of members in office, in one pass over the
/// register beside the meeting's attendance, the item's advance ballots and the poll's
/// ballots: all four are ordered by member id, so they are merged, not looked up. What it
/// counts is what [`presence_at`] and [`effective_ballots`] say, member by member.
fn count(
    register: &Register,
    profile: &RulesProfile,
    meeting: &Meeting,
    poll: &Poll,
    taken_at: Instant,
    recorded: Option<Counts>,
) -> (Counts, PresenceCount, u64) {
    let chair_proxies = chair_proxies_at(meeting, taken_at);
    let no_ballots = BTreeMap::new();
    let mut attendance = meeting.attendance.iter().peekable();
    let mut advance = meeting.advance_ballots.get(&poll.item).unwrap_or(&no_ballots).iter().peekable();
    let mut in_poll = poll.ballots.iter().peekable();
    let electronic = poll.method == PollMethod::Electronic;
    // The chair's counts are of the votes in the room; the advance ballots of members not
    // present are added to them (they count as votes cast in the meeting).
    let mut counts = if electronic { Counts::default() } else { recorded.unwrap_or_default() };
    let mut presence = PresenceCount::default();
    let mut base = 0;
    for (id, member) in &register.members {
        let voting = !member.suspended;
        let office = match profile.readings.members_in_office {
            MembersInOffice::NotSuspended => voting,
            MembersInOffice::All => true,
        };
        base += u64::from(office);
        let spans = merged(&mut attendance, id);
        let advance_ballot = merged(&mut advance, id);
        let poll_ballot = merged(&mut in_poll, id);
        let mut how = None;
        if office {
            how = spans.and_then(|s| s.iter().rev().find(|a| a.covers(taken_at))).map(|a| {
                match (a.attends_as, a.mode) {
                    (AttendsAs::Own, Mode::InPerson) => Presence::InPerson,
                    (AttendsAs::Own, Mode::Electronic) => Presence::Electronically,
                    (AttendsAs::Proxy { .. }, _) => Presence::ByProxy,
                }
            });
            if how.is_none() && chair_proxies.contains(id) {
                how = Some(Presence::ByProxy);
            }
        }
        if electronic {
            if let Some(ballot) = poll_ballot.or(advance_ballot).filter(|_| voting) {
                counts.add(ballot.choice);
                if how.is_none() && office {
                    // A member whose ballot counts took part in the poll, even if it left
                    // before the close; an advance ballot makes it present (R4 reading).
                    how = match ballot.via {
                        Via::Advance if profile.readings.advance_ballot_counts_as_present => {
                            Some(Presence::ByAdvanceBallot)
                        }
                        Via::Advance => None,
                        Via::Proxy { .. } => Some(Presence::ByProxy),
                        Via::Own => Some(last_mode_of(spans)),
                    };
                }
            }
        } else if let Some(ballot) = advance_ballot.filter(|_| voting && how.is_none()) {
            counts.add(ballot.choice);
            if profile.readings.advance_ballot_counts_as_present && office {
                how = Some(Presence::ByAdvanceBallot);
            }
        }
        if let Some(how) = how {
            presence.add(how);
        }
    }
    (counts, presence, base)
}

/// The value for `id` in an iterator ordered by member id, skipping the ones before it.
fn merged<'a, V: 'a>(
    entries: &mut std::iter::Peekable<impl Iterator<Item = (&'a MemberId, &'a V)>>,
    id: &MemberId,
) -> Option<&'a V> {
    while entries.next_if(|(k, _)| *k < id).is_some() {}
    entries.next_if(|(k, _)| *k == id).map(|(_, v)| v)
}

/// The members whose proxy the person chairing holds, when the meeting is open at `at`: the
/// chair exercises them whenever the meeting is open.
fn chair_proxies_at(meeting: &Meeting, at: Instant) -> BTreeSet<MemberId> {
    let open = meeting.opened_at.is_some_and(|o| o <= at) && meeting.closed_at.is_none_or(|c| at < c);
    match (open, meeting.chair) {
        (true, Some(chair)) => meeting
            .proxies_in_force()
            .filter(|p| p.holder.person() == Some(chair))
            .map(|p| p.grantor)
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn last_mode_of(spans: Option<&Vec<Attendance>>) -> Presence {
    match spans.and_then(|spans| spans.last()) {
        Some(a) if a.mode == Mode::InPerson => Presence::InPerson,
        _ => Presence::Electronically,
    }
}

fn majority_check(profile: &RulesProfile, required: Majority, counts: Counts, present: u64) -> MajorityCheck {
    let cast = counts.votes_cast();
    let (needed_for, reached) = match required {
        Majority::MoreThan(f) => {
            let needed = f.least_more_than(cast);
            (needed, cast > 0 && counts.in_favour >= needed)
        }
        Majority::AtLeast(f) => {
            let needed = f.least_at_least(cast).max(1);
            (needed, cast > 0 && counts.in_favour >= needed)
        }
        Majority::Unanimous => match profile.readings.unanimity_in_meeting {
            UnanimityInMeeting::NoneAgainst => (cast.max(1), counts.against == 0 && counts.in_favour >= 1),
            UnanimityInMeeting::EveryPresentMemberFor => {
                (present.max(1), present > 0 && counts.in_favour == present && counts.against == 0)
            }
        },
    };
    MajorityCheck { required, votes_cast: cast, needed_for, reached }
}

/// The majority rule in words, e.g. "at least two thirds of votes cast", as the explanation
/// of a result states it.
pub fn majority_words(profile: &RulesProfile, majority: Majority) -> String {
    match majority {
        Majority::MoreThan(f) => format!("more than {} of votes cast", f.words()),
        Majority::AtLeast(f) => format!("at least {} of votes cast", f.words()),
        Majority::Unanimous => match profile.readings.unanimity_in_meeting {
            UnanimityInMeeting::NoneAgainst => "unanimity (at least one vote for, none against)".into(),
            UnanimityInMeeting::EveryPresentMemberFor => {
                "unanimity (every member present or represented for)".into()
            }
        },
    }
}

/// The result of a resolution outside a meeting (Art. 8.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionResult {
    pub members_in_office: u64,
    pub counts: Counts,
    pub not_voted: u64,
    pub outcome: Outcome,
    pub decided_by: DecidedBy,
    pub explanation: String,
}

pub fn resolution_result(
    register: &Register,
    profile: &RulesProfile,
    votes: &BTreeMap<MemberId, Ballot>,
) -> ResolutionResult {
    let base = members_in_office(register, profile);
    let mut counts = Counts::default();
    for ballot in votes.values() {
        if register.member(ballot.member).is_some_and(|m| !m.suspended) {
            counts.add(ballot.choice);
        }
    }
    let voted = counts.in_favour + counts.against + counts.abstain;
    let not_voted = base.saturating_sub(voted);
    let (adopted, words) = match profile.readings.unanimity_outside_meeting {
        UnanimityOutsideMeeting::EveryMemberFor => {
            (base > 0 && counts.in_favour == base, "every member votes for")
        }
        UnanimityOutsideMeeting::NoneAgainst => (
            base > 0 && not_voted == 0 && counts.against == 0 && counts.in_favour > 0,
            "every member votes, none against",
        ),
    };
    let explanation = format!(
        "unanimity outside a meeting ({words}): {} for, {} against, {} abstained, {} did not vote of {} members — {}",
        counts.in_favour,
        counts.against,
        counts.abstain,
        not_voted,
        base,
        if adopted { "adopted" } else { "not adopted" }
    );
    ResolutionResult {
        members_in_office: base,
        counts,
        not_voted,
        outcome: if adopted { Outcome::Adopted } else { Outcome::Rejected },
        decided_by: DecidedBy {
            rule: RuleId::R7,
            article: profile.article(Provision::WrittenResolution).to_owned(),
            words: format!("unanimity outside a meeting: {words}"),
        },
        explanation,
    }
}

/// Which choice a member's counted ballot is, for the minutes and for tests.
pub fn choice_of(ballots: &BTreeMap<MemberId, &Ballot>, member: MemberId) -> Option<Choice> {
    ballots.get(&member).map(|b| b.choice)
}
