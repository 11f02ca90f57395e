//! Commands: what somebody asks the service to do. The core answers each with the events it
//! causes or a [`super::RuleViolation`]. A command carries every id it creates; the core
//! never invents one, so handling a command is a pure function of state, command and time.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::calendar::Instant;
use super::ids::{AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId};
use super::keys::{KeyBytes, KeySignature, Sha256Bytes, SignatureBytes, Signed};
use super::model::{Choice, Convener, Counts, Instruction, Mode, PollMethod, ProxyForm, ProxyHolder};
use super::profile::DecisionKind;
use super::register::{Capacity, EmailAddress, Language, MemberKind, Profession};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command", deny_unknown_fields)]
pub enum Command {
    // The register.
    RegisterMember {
        member: MemberId,
        name: String,
        kind: MemberKind,
        email: Option<EmailAddress>,
        #[serde(default)]
        language: Language,
    },
    ChangeMemberAddress {
        member: MemberId,
        email: Option<EmailAddress>,
    },
    SuspendMember {
        member: MemberId,
    },
    ReinstateMember {
        member: MemberId,
    },
    RegisterPerson {
        person: PersonId,
        name: String,
        email: Option<EmailAddress>,
        profession: Option<Profession>,
    },
    AssignRepresentative {
        person: PersonId,
        member: MemberId,
        capacity: Capacity,
    },
    WithdrawRepresentative {
        person: PersonId,
        member: MemberId,
    },
    /// A person enrols their first key, or a new one after revoking the last: `signature` is
    /// the key's own, over the key statement (proof of possession).
    EnrolKey {
        person: PersonId,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
    },
    /// A person replaces their current key by `key`: the statement is signed by the current
    /// key (`signature`) and by the new one (`new_key_signature`).
    RotateKey {
        person: PersonId,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
        new_key_signature: SignatureBytes,
    },
    /// A key is revoked: by its holder, who signs the statement with it, or by the
    /// secretariat when the key is lost (`signed: None`).
    RevokeKey {
        person: PersonId,
        key: KeyBytes,
        #[serde(default)]
        signed: Option<KeySignature>,
    },
    /// Records who chairs the supervisory board (`deputy: false`) or deputises (`true`).
    AppointSupervisoryBoardChair {
        person: PersonId,
        deputy: bool,
    },

    // Convening.
    RequestMeeting {
        request: RequestId,
        members: Vec<MemberId>,
        subjects: Vec<String>,
    },
    CreateMeeting {
        meeting: MeetingId,
        title: String,
        starts_at: Instant,
        place: String,
        agenda: Vec<AgendaItemSpec>,
        #[serde(default)]
        follow_up_of: Option<MeetingId>,
        #[serde(default)]
        request: Option<RequestId>,
    },
    ConveneMeeting {
        meeting: MeetingId,
        by: Convener,
        advance_voting: bool,
        /// Conditions for electronic participation (Art. 8.11); `None` for the room only.
        electronic_participation: Option<String>,
    },

    // Proxies.
    GrantProxy {
        meeting: MeetingId,
        proxy: ProxyId,
        grantor: MemberId,
        holder: ProxyHolder,
        #[serde(default)]
        instructions: BTreeMap<AgendaItemId, Instruction>,
        form: ProxyForm,
        /// The grantor's representative's signature; required for an electronic proxy.
        #[serde(default)]
        signed: Option<Signed>,
        /// For a proxy on paper: the SHA-256 of its scan.
        #[serde(default)]
        scan_sha256: Option<Sha256Bytes>,
    },
    RevokeProxy {
        meeting: MeetingId,
        proxy: ProxyId,
    },

    // The meeting in session.
    OpenMeeting {
        meeting: MeetingId,
        chair: PersonId,
        #[serde(default)]
        appointed_by_meeting: bool,
    },
    /// The general meeting appoints another chair (Art. 8.4).
    AppointChair {
        meeting: MeetingId,
        person: PersonId,
    },
    CheckIn {
        meeting: MeetingId,
        member: MemberId,
        person: PersonId,
        mode: Mode,
    },
    CheckOut {
        meeting: MeetingId,
        member: MemberId,
    },
    AmendMotion {
        meeting: MeetingId,
        item: AgendaItemId,
        text: String,
    },
    CloseMeeting {
        meeting: MeetingId,
        by: PersonId,
    },

    // Polls and ballots.
    OpenPoll {
        meeting: MeetingId,
        poll: PollId,
        item: AgendaItemId,
        method: PollMethod,
        by: PersonId,
        #[serde(default)]
        revote_of: Option<PollId>,
    },
    /// An advance ballot while the meeting is convened, or a ballot in the open poll on the
    /// item while the meeting is open.
    CastBallot {
        meeting: MeetingId,
        item: AgendaItemId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
        /// The caster's signature over the ballot statement; required (R8).
        #[serde(default)]
        signed: Option<Signed>,
    },
    /// `counts` are the chair's counts for a poll by voice or on paper; none for an
    /// electronic poll.
    ClosePoll {
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        #[serde(default)]
        counts: Option<Counts>,
    },
    DeclareResult {
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        outcome: super::model::Outcome,
        /// The chair's signature over the declaration statement; required (R8).
        #[serde(default)]
        signed: Option<Signed>,
    },
    /// The declaration is disputed at once (Art. 17.5) by these members.
    ChallengeDeclaration {
        meeting: MeetingId,
        poll: PollId,
        supporters: Vec<MemberId>,
    },

    // Outside a meeting (Art. 8.12).
    ProposeResolution {
        resolution: ResolutionId,
        text: String,
        kind: DecisionKind,
        closes_at: Instant,
        board_informed: bool,
        supervisory_board_informed: bool,
    },
    CastResolutionVote {
        resolution: ResolutionId,
        member: MemberId,
        person: PersonId,
        choice: Choice,
        /// The voter's signature over the resolution vote statement; required (R8).
        #[serde(default)]
        signed: Option<Signed>,
    },
    ConcludeResolution {
        resolution: ResolutionId,
    },
}

/// An agenda item as the secretariat drafts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgendaItemSpec {
    pub item: AgendaItemId,
    pub title: String,
    #[serde(default)]
    pub motion: Option<MotionSpec>,
    #[serde(default)]
    pub carried_from: Option<AgendaItemId>,
    #[serde(default)]
    pub concerns_member: Option<MemberId>,
    #[serde(default)]
    pub annual_accounts: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MotionSpec {
    pub text: String,
    pub kind: DecisionKind,
    #[serde(default)]
    pub proposal: Option<String>,
    #[serde(default)]
    pub board_proposal_approved: bool,
}
