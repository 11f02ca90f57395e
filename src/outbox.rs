//! Mail that goes out at once, not through the persisted outbox: the one-time sign-in codes.
//! They go through the configured transport (`mail::transport`: the outbox directory, or SMTP
//! when configured) while the person waits; a failure is the request's failure. The notices of
//! the statutes go through the queue and the mail worker instead (`mail::worker`).

use std::sync::Arc;

use crate::clock::Clock;
use crate::mail::transport::{MailTransport, Sender};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address {0:?} cannot receive mail")]
    Address(String),
    #[error("the message could not be sent: {0}")]
    Send(String),
}

/// Where mail goes.
pub trait Outbox: Send + Sync + std::fmt::Debug {
    /// Sends a plain-text message; returns its message id.
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, MailError>;
}

/// Sends each message at once through a transport.
#[derive(Debug)]
pub struct TransportOutbox {
    transport: Arc<dyn MailTransport>,
    sender: Sender,
    clock: Arc<dyn Clock>,
}

impl TransportOutbox {
    pub fn new(transport: Arc<dyn MailTransport>, sender: Sender, clock: Arc<dyn Clock>) -> Self {
        Self { transport, sender, clock }
    }
}

impl Outbox for TransportOutbox {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, MailError> {
        let id = self.sender.random_message_id();
        let message = self.sender.plain(to, subject, body, &id, self.clock.now()).map_err(|e| {
            if to.trim().parse::<lettre::Address>().is_err() {
                MailError::Address(to.to_owned())
            } else {
                MailError::Send(e.reason)
            }
        })?;
        self.transport.send(&message).map_err(|e| MailError::Send(e.reason))
    }
}
