//! The pure core: the rules of the statutes and the lifecycle of a general meeting.
//!
//! `handle(&state, command, now)` returns the events a command causes or the
//! [`RuleViolation`] it commits; `apply(&mut state, &event)` folds an event into the state.
//! **The core never performs IO, never reads the clock and never draws random numbers:**
//! time comes in as an argument and ids come in with the commands. Storage, HTTP, the
//! signed log, mail and the auditor's verifier all call this module; none of them is
//! known to it.
//!
//! ```
//! use stembus::core::register::{Capacity, MemberKind};
//! use stembus::core::{Association, Command, MemberId, PersonId, RulesProfile, execute};
//!
//! let mut state = Association::new(RulesProfile::dimpact_2023());
//! let now = "2026-01-05T09:00:00+01:00".parse().unwrap();
//! let assen = MemberId::named("assen");
//! execute(&mut state, Command::RegisterMember {
//!     member: assen, name: "Gemeente Assen".into(), kind: MemberKind::Gemeente,
//!     email: None, language: Default::default(),
//! }, now).unwrap();
//! execute(&mut state, Command::SuspendMember { member: assen }, now).unwrap();
//!
//! // Suspending twice is refused, with the rule and the article, and changes nothing.
//! let refused = execute(&mut state, Command::SuspendMember { member: assen }, now).unwrap_err();
//! assert_eq!(refused.to_string(), "R1 (Art. 6.9, 8.8): Gemeente Assen is already suspended.");
//! # let _ = (PersonId::named("x"), Capacity::Official);
//! ```

mod apply;
pub mod calendar;
mod command;
mod event;
pub mod fraction;
mod handle;
pub mod ids;
pub mod inverse;
pub mod keys;
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
pub use handle::{
    CheckedKey, handle, handle_preverified, handle_preverified_with_keys, handle_with_verified, provision_of,
};
pub use ids::{
    AgendaItemId, AssociationId, MeetingId, MemberId, PersonId, PollId, ProxyId, RequestId, ResolutionId,
};
pub use keys::{
    KeyBytes, KeyRing, KeySignature, KeyStatus, Sha256Bytes, SignatureBytes, Signed, SignedBytes,
    signatures_in,
};
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
