//! Events: what happened, in the past tense. The state of an association is the fold of its
//! events ([`super::apply`]); an event is never refused by `apply`, because `handle` only
//! emits events that the rules allow.

use serde::{Deserialize, Serialize};

use super::calendar::Instant;
use super::ids::{AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId};
use super::keys::{KeyBytes, KeySignature, SignatureBytes, Signed};
use super::model::AttendsAs;
use super::model::{AgendaItem, Ballot, Convocation, Mode, Outcome, PollMethod, Proxy};
use super::profile::DecisionKind;
use super::register::{Capacity, EmailAddress, Member, Person};
use super::tally::{PollResult, ResolutionResult};

/// One event, at the moment it took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub at: Instant,
    #[serde(flatten)]
    pub fact: Fact,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Fact {
    MemberRegistered {
        member: Member,
    },
    MemberAddressChanged {
        member: MemberId,
        email: Option<EmailAddress>,
    },
    MemberSuspended {
        member: MemberId,
    },
    MemberReinstated {
        member: MemberId,
    },
    PersonRegistered {
        person: Person,
    },
    RepresentativeAssigned {
        person: PersonId,
        member: MemberId,
        capacity: Capacity,
    },
    RepresentativeWithdrawn {
        person: PersonId,
        member: MemberId,
    },
    KeyEnrolled {
        person: PersonId,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
    },
    KeyRotated {
        person: PersonId,
        old_key: KeyBytes,
        key: KeyBytes,
        sequence: u64,
        signature: SignatureBytes,
        new_key_signature: SignatureBytes,
    },
    /// `signed: None` when the secretariat revoked a lost key.
    KeyRevoked {
        person: PersonId,
        key: KeyBytes,
        signed: Option<KeySignature>,
    },
    SupervisoryBoardChairAppointed {
        person: PersonId,
        deputy: bool,
    },

    MeetingRequested {
        request: super::model::MembersRequest,
    },
    MeetingCreated {
        meeting: MeetingId,
        title: String,
        starts_at: Instant,
        place: String,
        agenda: Vec<AgendaItem>,
        follow_up_of: Option<MeetingId>,
        request: Option<RequestId>,
    },
    MeetingConvened {
        meeting: MeetingId,
        convocation: Convocation,
    },

    ProxyGranted {
        meeting: MeetingId,
        proxy: Proxy,
    },
    ProxyRevoked {
        meeting: MeetingId,
        proxy: ProxyId,
    },

    MeetingOpened {
        meeting: MeetingId,
        chair: PersonId,
        appointed_by_meeting: bool,
    },
    ChairAppointed {
        meeting: MeetingId,
        person: PersonId,
    },
    CheckedIn {
        meeting: MeetingId,
        member: MemberId,
        person: PersonId,
        attends_as: AttendsAs,
        mode: Mode,
    },
    CheckedOut {
        meeting: MeetingId,
        member: MemberId,
    },
    MotionAmended {
        meeting: MeetingId,
        item: AgendaItemId,
        text: String,
        lapsed_advance_ballots: u32,
    },
    MeetingClosed {
        meeting: MeetingId,
    },

    PollOpened {
        meeting: MeetingId,
        poll: PollId,
        item: AgendaItemId,
        method: PollMethod,
        revote_of: Option<PollId>,
    },
    /// The new poll voided the legal effect of the first (Art. 17.5).
    PollVoided {
        meeting: MeetingId,
        poll: PollId,
        by: PollId,
    },
    /// `poll: None` is an advance ballot on the item.
    BallotCast {
        meeting: MeetingId,
        poll: Option<PollId>,
        item: AgendaItemId,
        ballot: Ballot,
    },
    PollClosed {
        meeting: MeetingId,
        poll: PollId,
        result: Box<PollResult>,
    },
    ResultDeclared {
        meeting: MeetingId,
        poll: PollId,
        by: PersonId,
        outcome: Outcome,
        signed: Signed,
    },
    DeclarationChallenged {
        meeting: MeetingId,
        poll: PollId,
        supporters: Vec<MemberId>,
    },

    ResolutionProposed {
        resolution: ResolutionId,
        text: String,
        kind: DecisionKind,
        closes_at: Instant,
    },
    ResolutionVoteCast {
        resolution: ResolutionId,
        ballot: Ballot,
    },
    ResolutionConcluded {
        resolution: ResolutionId,
        result: ResolutionResult,
    },
}

impl Fact {
    /// The meeting whose log this event belongs to; `None` for the register and for
    /// resolutions outside a meeting.
    pub fn meeting(&self) -> Option<MeetingId> {
        use Fact::*;
        match self {
            MeetingCreated { meeting, .. }
            | MeetingConvened { meeting, .. }
            | ProxyGranted { meeting, .. }
            | ProxyRevoked { meeting, .. }
            | MeetingOpened { meeting, .. }
            | ChairAppointed { meeting, .. }
            | CheckedIn { meeting, .. }
            | CheckedOut { meeting, .. }
            | MotionAmended { meeting, .. }
            | MeetingClosed { meeting }
            | PollOpened { meeting, .. }
            | PollVoided { meeting, .. }
            | BallotCast { meeting, .. }
            | PollClosed { meeting, .. }
            | ResultDeclared { meeting, .. }
            | DeclarationChallenged { meeting, .. } => Some(*meeting),
            _ => None,
        }
    }
}
