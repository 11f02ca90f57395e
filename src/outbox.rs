//! Sending e-mail. Today: sign-in links, written as .eml files to the outbox directory (the
//! embedded default, which needs no mail server). Convocations and notices, the persisted
//! outbox with retries, and SMTP come with the mail work.

use std::path::PathBuf;

use lettre::message::{Mailbox, Message, header::ContentType};
use lettre::{FileTransport, Transport};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the address {0:?} cannot receive mail")]
    Address(String),
    #[error("the message could not be written: {0}")]
    Send(String),
}

/// Where mail goes.
pub trait Outbox: Send + Sync + std::fmt::Debug {
    /// Sends a plain-text message; returns its message id.
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, MailError>;
}

/// Writes each message as an .eml file in a directory.
#[derive(Debug)]
pub struct FileOutbox {
    dir: PathBuf,
    from: String,
}

impl FileOutbox {
    pub fn new(dir: PathBuf, from: String) -> Result<Self, MailError> {
        std::fs::create_dir_all(&dir).map_err(|e| MailError::Send(format!("{}: {e}", dir.display())))?;
        Ok(Self { dir, from })
    }
}

impl Outbox for FileOutbox {
    fn send(&self, to: &str, subject: &str, body: &str) -> Result<String, MailError> {
        let from: Mailbox = self.from.parse().map_err(|_| MailError::Address(self.from.clone()))?;
        let to: Mailbox = to.parse().map_err(|_| MailError::Address(to.to_owned()))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| MailError::Send(e.to_string()))?;
        FileTransport::new(&self.dir).send(&message).map_err(|e| MailError::Send(e.to_string()))
    }
}
