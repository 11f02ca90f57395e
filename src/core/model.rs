//! The state of an association as the core sees it: the register, its meetings with their
//! proxies, attendance, ballots and polls, members' requests, and resolutions outside a
//! meeting. The state is a fold over events ([`super::apply`]); nothing else changes it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calendar::Instant;
use super::ids::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId,
};
use super::keys::{KeyRing, Sha256Bytes, Signed};
use super::profile::{DecisionKind, RulesProfile};
use super::register::Register;
use super::tally::{PollResult, ResolutionResult};

/// Everything the core knows of one association.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    /// The association's id, which every signed statement binds; nil for an association
    /// that exists only in a replay or a test.
    pub id: AssociationId,
    pub profile: RulesProfile,
    pub register: Register,
    pub meetings: BTreeMap<MeetingId, Meeting>,
    pub requests: BTreeMap<RequestId, MembersRequest>,
    pub resolutions: BTreeMap<ResolutionId, WrittenResolution>,
    /// Persons' keys, as enrolled, rotated and revoked.
    pub keys: KeyRing,
}

impl Association {
    /// An association without an id of its own (a replay, a test).
    pub fn new(profile: RulesProfile) -> Self {
        Self::with_id(AssociationId::from_uuid(uuid::Uuid::nil()), profile)
    }

    pub fn with_id(id: AssociationId, profile: RulesProfile) -> Self {
        Self {
            id,
            keys: KeyRing::default(),
            profile,
            register: Register::default(),
            meetings: BTreeMap::new(),
            requests: BTreeMap::new(),
            resolutions: BTreeMap::new(),
        }
    }
}

/// The lifecycle of a general meeting. The advance voting window is not a phase of its own:
/// it is a stretch of time within `Convened` (see [`Meeting::advance_window`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Draft,
    Convened,
    Open,
    Closed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub title: String,
    pub starts_at: Instant,
    pub place: String,
    pub phase: Phase,
    pub agenda: Vec<AgendaItem>,
    /// The first meeting, when this is the new meeting after a failed quorum.
    pub follow_up_of: Option<MeetingId>,
    /// The members' request this meeting answers (Art. 8.1).
    pub request: Option<RequestId>,
    pub convocation: Option<Convocation>,
    pub opened_at: Option<Instant>,
    pub closed_at: Option<Instant>,
    pub chair: Option<PersonId>,
    pub proxies: BTreeMap<ProxyId, Proxy>,
    /// Each member's stretches of attendance, in the order they began.
    pub attendance: BTreeMap<MemberId, Vec<Attendance>>,
    /// Advance ballots (Art. 8.13) per agenda item, the last one per member.
    pub advance_ballots: BTreeMap<AgendaItemId, BTreeMap<MemberId, Ballot>>,
    pub polls: BTreeMap<PollId, Poll>,
}

impl Meeting {
    pub fn item(&self, id: AgendaItemId) -> Option<&AgendaItem> {
        self.agenda.iter().find(|i| i.id == id)
    }

    pub fn item_mut(&mut self, id: AgendaItemId) -> Option<&mut AgendaItem> {
        self.agenda.iter_mut().find(|i| i.id == id)
    }

    /// The proxy of a member that is in force (received and not revoked), if any.
    pub fn proxy_of(&self, grantor: MemberId) -> Option<&Proxy> {
        self.proxies.values().find(|p| p.grantor == grantor && p.revoked_at.is_none())
    }

    pub fn proxies_in_force(&self) -> impl Iterator<Item = &Proxy> {
        self.proxies.values().filter(|p| p.revoked_at.is_none())
    }

    /// The attendance of a member that is open at `at` (arrived, not yet left).
    pub fn attendance_at(&self, member: MemberId, at: Instant) -> Option<&Attendance> {
        self.attendance.get(&member)?.iter().rev().find(|a| a.covers(at))
    }

    /// The attendance of a member that has not ended.
    pub fn current_attendance(&self, member: MemberId) -> Option<&Attendance> {
        self.attendance.get(&member)?.iter().rev().find(|a| a.left.is_none())
    }

    /// The poll on an item that is open, if any.
    pub fn open_poll_on(&self, item: AgendaItemId) -> Option<&Poll> {
        self.polls.values().find(|p| p.item == item && p.closed_at.is_none())
    }

    /// The poll whose declared outcome stands for an item: declared and not voided.
    pub fn decision_on(&self, item: AgendaItemId) -> Option<&Poll> {
        self.polls
            .values()
            .filter(|p| p.item == item && p.declaration.is_some() && p.voided_by.is_none())
            .max_by_key(|p| p.opened_at)
    }

    /// Every stretch of attendance of every member.
    pub fn attendance_spans(&self) -> impl Iterator<Item = &Attendance> {
        self.attendance.values().flatten()
    }

    pub fn advance_window(&self) -> Option<&AdvanceWindow> {
        self.convocation.as_ref().and_then(|c| c.advance_voting.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    pub id: AgendaItemId,
    pub title: String,
    /// The motion put to the vote under this item, if the item is for decision.
    pub motion: Option<Motion>,
    /// In a follow-up meeting: the first meeting's item this one carries.
    pub carried_from: Option<AgendaItemId>,
    /// The member whose suspension or expulsion this item treats (Art. 6.9, 8.8): that
    /// member may attend and speak here, though it has no vote.
    pub concerns_member: Option<MemberId>,
    /// This item treats the annual accounts (Art. 8.2).
    pub annual_accounts: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Motion {
    pub text: String,
    pub kind: DecisionKind,
    /// The proposal attached to the convocation (Art. 20.3), e.g. the draft deed.
    pub proposal: Option<String>,
    /// A proposal of the board, approved by the supervisory board (Art. 20.1, 21.1).
    pub board_proposal_approved: bool,
    /// How often the meeting amended the text.
    pub amendments: u32,
    /// Advance ballots that lapsed because the meeting amended the text (R4).
    pub lapsed_advance_ballots: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Convocation {
    pub at: Instant,
    pub by: Convener,
    pub advance_voting: Option<AdvanceWindow>,
    /// The conditions for electronic participation (Art. 8.11); `None`: in the room only.
    pub electronic_participation: Option<String>,
    /// What the convocation must say, besides the agenda.
    pub statements: Vec<ConvocationStatement>,
}

/// The window for advance ballots (Art. 8.13): from `opens` until the meeting opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvanceWindow {
    pub opens: Instant,
    /// The scheduled opening; the window really closes when the chair opens the meeting.
    pub closes: Instant,
}

/// Who convenes (Art. 8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "convener")]
pub enum Convener {
    Board,
    SupervisoryBoard,
    /// The members who asked, when the board did not hold the meeting in time.
    Requesters {
        request: RequestId,
    },
}

/// A statement the statutes require in a convocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "statement")]
pub enum ConvocationStatement {
    /// The meeting is convened specially for these proposals; they are attached (Art. 20.3).
    SpecialProposals { items: Vec<AgendaItemId>, article: String },
    /// Advance electronic voting is open (Art. 8.13).
    AdvanceVotingOpen { opens: Instant, closes: Instant, article: String },
    /// The conditions for taking part electronically (Art. 8.11).
    ElectronicParticipation { conditions: String, article: String },
    /// A new meeting after a failed quorum, which decides whatever the attendance; names the
    /// items and why (Art. 17.4c, 20.1), or that it is a second meeting (Art. 20.2).
    FollowUp {
        first_meeting: MeetingId,
        first_day: chrono::NaiveDate,
        items: Vec<AgendaItemId>,
        article: String,
        text: String,
    },
}

/// Who holds a proxy (Art. 8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "holder")]
pub enum ProxyHolder {
    /// Another member: its representative votes for both. Counts toward the cap.
    Member { member: MemberId },
    /// A person durably connected to the granting member (official, employee).
    ConnectedPerson { person: PersonId },
    /// The chair of the supervisory board: no cap.
    SupervisoryBoardChair { person: PersonId },
    /// A notary: no cap.
    Notary { person: PersonId },
    /// A lawyer: no cap.
    Lawyer { person: PersonId },
}

impl ProxyHolder {
    pub fn person(self) -> Option<PersonId> {
        match self {
            ProxyHolder::Member { .. } => None,
            ProxyHolder::ConnectedPerson { person }
            | ProxyHolder::SupervisoryBoardChair { person }
            | ProxyHolder::Notary { person }
            | ProxyHolder::Lawyer { person } => Some(person),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyForm {
    Paper,
    Electronic,
}

/// A voting instruction in a proxy, per agenda item (R2 reading).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instruction {
    For,
    Against,
    Abstain,
    Free,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proxy {
    pub id: ProxyId,
    pub grantor: MemberId,
    pub holder: ProxyHolder,
    pub instructions: BTreeMap<AgendaItemId, Instruction>,
    pub form: ProxyForm,
    pub received_at: Instant,
    pub revoked_at: Option<Instant>,
    /// The signature of the grantor's representative on an electronic proxy (R8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Signed>,
    /// The SHA-256 of the scan of a paper proxy as the secretariat received it (Art. 8.5: in
    /// writing), so that the log vouches for the scan an auditor is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_sha256: Option<Sha256Bytes>,
}

/// How a member attends (Art. 8.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    InPerson,
    Electronic,
}

/// For whom a person attends: the member as its own representative, or by proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "as")]
pub enum AttendsAs {
    Own,
    Proxy { proxy: ProxyId },
}

/// One stretch of a member's attendance: from check-in to check-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub member: MemberId,
    pub person: PersonId,
    pub attends_as: AttendsAs,
    pub mode: Mode,
    pub arrived: Instant,
    pub left: Option<Instant>,
}

impl Attendance {
    pub fn covers(&self, at: Instant) -> bool {
        self.arrived <= at && self.left.is_none_or(|left| at < left)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    For,
    Against,
    Abstain,
}

/// How a ballot reached the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "via")]
pub enum Via {
    /// Cast in the meeting by the member's own representative.
    Own,
    /// Cast in the meeting by a proxy holder.
    Proxy { proxy: ProxyId },
    /// Cast before the meeting (Art. 8.13).
    Advance,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    pub member: MemberId,
    pub person: PersonId,
    pub choice: Choice,
    pub via: Via,
    pub cast_at: Instant,
    /// The caster's signature over the ballot statement (R8); none for a vote on a
    /// resolution outside a meeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Signed>,
}

/// How a poll is held (Art. 8.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollMethod {
    /// Ballots per member, by name (a roll call): counted ballot by ballot, verifiable.
    Electronic,
    /// By voice; the chair records the counts.
    Voice,
    /// Written and secret, on paper; the chair records the tellers' counts. Not verifiable
    /// ballot by ballot.
    Written,
}

/// Counts recorded by the chair for a poll by voice or on paper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    #[serde(rename = "for")]
    pub in_favour: u64,
    pub against: u64,
    pub abstain: u64,
}

impl Counts {
    /// Votes cast: for and against; abstentions are not votes cast.
    pub fn votes_cast(&self) -> u64 {
        self.in_favour.saturating_add(self.against)
    }

    pub fn add(&mut self, choice: Choice) {
        match choice {
            Choice::For => self.in_favour += 1,
            Choice::Against => self.against += 1,
            Choice::Abstain => self.abstain += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Poll {
    pub id: PollId,
    pub item: AgendaItemId,
    pub method: PollMethod,
    pub opened_at: Instant,
    pub closed_at: Option<Instant>,
    /// The last ballot per member cast in this poll.
    pub ballots: BTreeMap<MemberId, Ballot>,
    /// The chair's counts, for a poll by voice or on paper.
    pub recorded_counts: Option<Counts>,
    pub result: Option<PollResult>,
    pub declaration: Option<Declaration>,
    pub challenge: Option<Challenge>,
    /// The poll this one is the new poll of (Art. 17.5).
    pub revote_of: Option<PollId>,
    /// The new poll that voided this one.
    pub voided_by: Option<PollId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Adopted,
    Rejected,
    /// Not enough members present or represented: no decision was taken.
    NoQuorum,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub at: Instant,
    pub by: PersonId,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub at: Instant,
    pub supporters: Vec<MemberId>,
}

/// A members' request to convene (Art. 8.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersRequest {
    pub id: RequestId,
    pub at: Instant,
    pub members: Vec<MemberId>,
    pub subjects: Vec<String>,
    /// The last day on which the board may hold the meeting; after it the requesters may
    /// convene it themselves.
    pub board_deadline: chrono::NaiveDate,
}

/// A resolution outside a meeting (Art. 8.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenResolution {
    pub id: ResolutionId,
    pub text: String,
    pub kind: DecisionKind,
    pub proposed_at: Instant,
    pub closes_at: Instant,
    pub votes: BTreeMap<MemberId, Ballot>,
    pub result: Option<ResolutionResult>,
}
