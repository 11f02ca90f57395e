//! Identical retries of signed ballots.
//!
//! A client that sent a signed ballot and heard nothing back (the connection broke, the
//! service stopped) cannot know whether the ballot was stored. It sends the *same* signed
//! request again. Had the ballot been stored, the core refuses the retry (its sequence number
//! is used, R8); the service then looks for the ballot the retry names in the meeting's log:
//! the same member, caster, item and choice, signed by the same key with the same sequence
//! number and the same signature bytes. If it is there, the retry is answered with that
//! ballot, as recorded the first time, and nothing is stored again. A ballot that differs in
//! anything, signed with a used sequence number, stays refused.
//!
//! The look-up runs only after a refusal, and reads the log only when the key has signed the
//! sequence number before: a fresh ballot costs nothing extra.

use super::{Service, ServiceError};
use crate::core::{AgendaItemId, AssociationId, Choice, Fact, MeetingId, MemberId, PersonId, Signed};
use crate::store::log::{self, Logged};

/// The kind under which the log stores a ballot.
const BALLOT_CAST: &str = "ballot_cast";

/// A signed ballot as a client sends it: what the retry must match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignedBallot {
    pub meeting: MeetingId,
    pub item: AgendaItemId,
    pub member: MemberId,
    pub person: PersonId,
    pub choice: Choice,
    pub signed: Signed,
}

impl SignedBallot {
    /// Whether `fact` is the ballot this request put in the log.
    fn is(&self, fact: &Fact) -> bool {
        matches!(fact, Fact::BallotCast { meeting, item, ballot, .. }
            if *meeting == self.meeting
                && *item == self.item
                && ballot.member == self.member
                && ballot.person == self.person
                && ballot.choice == self.choice
                && ballot.signed == Some(self.signed))
    }
}

impl Service {
    /// The entry of the meeting's log that holds exactly this signed ballot, if the log holds
    /// it: an identical retry of a ballot already stored.
    pub fn recorded_ballot(
        &self,
        association: AssociationId,
        ballot: &SignedBallot,
    ) -> Result<Option<Logged>, ServiceError> {
        let signed = ballot.signed;
        // A sequence number the key has not signed yet is on nothing in the log.
        let used = self.read(association, |s| {
            s.keys.get(&signed.key).is_some_and(|r| r.last_sequence >= signed.sequence)
        })?;
        if !used {
            return Ok(None);
        }
        let mut conn = self.store.connection()?;
        let candidates = log::find_in_stream(
            &mut conn,
            association,
            &ballot.meeting.to_string(),
            BALLOT_CAST,
            &signed.signature.to_hex(),
        )?;
        Ok(candidates.into_iter().find(|l| ballot.is(&l.event.fact)))
    }
}
