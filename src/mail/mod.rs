//! E-mail to members and persons (Art. 8.3; issue 5): convocations, proxies, receipts,
//! outcomes, reminders.
//!
//! - [`notice`] decides, purely, which notices an event causes and what they say;
//!   [`render`] (with [`ical`]) turns a notice into a message's parts from the templates.
//! - [`queue`] stores the notices of a command's events in the persisted outbox
//!   (`store::notices`) in the command's own transaction.
//! - [`worker`] sends what is due through a [`transport`] (the outbox directory or SMTP), with
//!   retries and backoff, and records every attempt.

pub mod ical;
pub mod notice;
pub mod queue;
pub mod render;
pub mod transport;
pub mod worker;
