//! Why the core refuses a command.
//!
//! Error policy: the core returns [`RuleViolation`] and nothing else. A violation names the
//! rule of RULES.md (R1–R8), the provision of the statutes it rests on, the article as the
//! rules profile numbers it (another association's statutes number differently), a stable
//! machine code, and one sentence that a secretary understands. A refused command changes
//! nothing: `handle` only reads the state.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The rules of RULES.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RuleId {
    /// One member, one vote.
    R1,
    /// Representation and proxies.
    R2,
    /// Convening a meeting.
    R3,
    /// Advance electronic voting.
    R4,
    /// The meeting in session.
    R5,
    /// Polls.
    R6,
    /// What a decision needs.
    R7,
    /// Records.
    R8,
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A provision of the statutes that the service enforces. The rules profile says where each
/// one is in a given association's statutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provision {
    /// Every member that is not suspended has one vote.
    VotingRight,
    /// A suspended member cannot exercise its rights, but for its own case.
    Suspension,
    /// Members register, and the persons who act for them.
    Membership,
    /// Who represents a member, and proxies.
    Representation,
    /// The cap on proxies per holder, and who is exempt from it.
    ProxyCap,
    /// A proxy reaches the chair before the meeting opens.
    ProxyDeadline,
    /// Who may convene; the members' request.
    Convening,
    /// The annual meeting before 1 July.
    AnnualMeeting,
    /// The ten-day convocation notice.
    ConvocationNotice,
    /// The fourteen-day notice and the special convocation for a statute amendment.
    SpecialConvocation,
    /// Electronic participation and its conditions.
    ElectronicParticipation,
    /// Advance electronic voting.
    AdvanceVoting,
    /// Who chairs the meeting.
    Chair,
    /// Votes by voice or in writing.
    PollMethod,
    /// The chair's declaration and its challenge.
    Declaration,
    /// Majority of votes cast.
    Majority,
    /// A tie rejects the motion.
    Tie,
    /// Quorum of the ordinary and two-thirds decisions.
    Quorum,
    /// The new meeting after a failed ordinary quorum.
    OrdinaryFollowUp,
    /// Entry fee and contribution, leave from the exit rules: two thirds.
    TwoThirds,
    /// Statute amendment: two thirds, two thirds present, follow-up meeting.
    StatuteAmendment,
    /// Dissolution.
    Dissolution,
    /// Regulations.
    Regulations,
    /// Entrenched provisions: unanimity, all present, second meeting.
    Entrenched,
    /// Unanimous resolution outside a meeting.
    WrittenResolution,
    /// Minutes and the list of decisions.
    Minutes,
    /// Ballots, electronic proxies and declarations signed by their authors, with keys
    /// recorded in the log.
    SignedRecord,
}

impl Provision {
    pub const ALL: [Provision; 27] = [
        Provision::VotingRight,
        Provision::Suspension,
        Provision::Membership,
        Provision::Representation,
        Provision::ProxyCap,
        Provision::ProxyDeadline,
        Provision::Convening,
        Provision::AnnualMeeting,
        Provision::ConvocationNotice,
        Provision::SpecialConvocation,
        Provision::ElectronicParticipation,
        Provision::AdvanceVoting,
        Provision::Chair,
        Provision::PollMethod,
        Provision::Declaration,
        Provision::Majority,
        Provision::Tie,
        Provision::Quorum,
        Provision::OrdinaryFollowUp,
        Provision::TwoThirds,
        Provision::StatuteAmendment,
        Provision::Dissolution,
        Provision::Regulations,
        Provision::Entrenched,
        Provision::WrittenResolution,
        Provision::Minutes,
        Provision::SignedRecord,
    ];

    /// The rule of RULES.md that this provision belongs to.
    pub const fn rule(self) -> RuleId {
        use Provision::*;
        match self {
            VotingRight | Suspension | Membership => RuleId::R1,
            Representation | ProxyCap | ProxyDeadline => RuleId::R2,
            Convening | AnnualMeeting | ConvocationNotice | SpecialConvocation => RuleId::R3,
            AdvanceVoting => RuleId::R4,
            ElectronicParticipation | Chair => RuleId::R5,
            PollMethod | Declaration => RuleId::R6,
            Majority | Tie | Quorum | OrdinaryFollowUp | TwoThirds | StatuteAmendment | Dissolution
            | Regulations | Entrenched | WrittenResolution => RuleId::R7,
            Minutes | SignedRecord => RuleId::R8,
        }
    }
}

/// The refusal of a command, with the rule and article it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{rule} (Art. {article}): {message}")]
pub struct RuleViolation {
    pub rule: RuleId,
    pub provision: Provision,
    /// The article as the association's statutes number it, e.g. "8.5".
    pub article: String,
    /// A stable code for programs, e.g. `proxy.cap_exceeded`. Never reused for another meaning.
    pub code: String,
    /// One sentence a secretary understands.
    pub message: String,
}
