//! The pure core: the rules of the statutes and the lifecycle of a general meeting.
//!
//! `handle(&state, command, now)` returns the events a command causes or the
//! [`RuleViolation`] it commits; `apply(&mut state, &event)` folds an event into the state.
//! **The core never performs IO, never reads the clock and never draws random numbers:**
//! time comes in as an argument and ids come in with the commands. Storage, HTTP, the
//! signed log, mail and the auditor's verifier all call this module; none of them is
//! known to it.

mod apply;
pub mod calendar;
mod command;
mod event;
pub mod fraction;
mod handle;
pub mod ids;
mod model;
pub mod profile;
pub mod records;
pub mod register;
pub mod tally;
mod violation;

pub use apply::apply;
pub use calendar::{CalendarDay, Instant};
pub use command::{AgendaItemSpec, Command, MotionSpec};
pub use event::{Event, Fact};
pub use fraction::Fraction;
pub use handle::{handle, provision_of};
pub use ids::{AgendaItemId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId};
pub use model::*;
pub use profile::{DecisionKind, RulesProfile};
pub use tally::{PollResult, ResolutionResult};
pub use violation::{Provision, RuleId, RuleViolation};

/// Handles a command and, if it is accepted, folds its events into the state. Returns the
/// events. A refused command leaves the state exactly as it was.
pub fn execute(state: &mut Association, command: Command, now: Instant) -> Result<Vec<Event>, RuleViolation> {
    let events = handle(state, command, now)?;
    for event in &events {
        apply(state, event);
    }
    Ok(events)
}
