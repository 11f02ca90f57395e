//! The mail worker: sends the notices that are due, through the configured transport, and
//! records every attempt.
//!
//! A notice is due when it is pending and its `next_attempt_at` has come (at once, or its
//! `send_after` for a reminder). The worker claims a few at a time (`store::notices::claim_due`,
//! safe with several workers on one database), checks that a notice that waited still applies
//! (`notice::still_due`; else it is cancelled), renders and sends it, and records the answer. A
//! temporary failure (the server is down, busy, or answers 4xx) is tried again after a delay
//! that doubles from 30 seconds to at most an hour, until the last attempt allowed
//! (`mail_max_attempts`); a permanent one (5xx for the recipient or the message, a message that
//! cannot be made) fails at once. Nothing is lost when the server is down or the service
//! restarts: the outbox is in the database.
//!
//! The worker reads the time from the application's clock, so tests can drive it; in a test,
//! [`Worker::run_once`] sends what is due at a given moment.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Duration;

use super::notice::still_due;
use super::render::render;
use super::transport::{MailTransport, Sender};
use crate::clock::Clock;
use crate::core::Instant;
use crate::service::Service;
use crate::store::notices::{self, After, Attempt, AttemptResult, StoredNotice};

/// How the worker retries.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Attempts before a notice that keeps failing for now is given up (status failed).
    pub max_attempts: u32,
    /// The delay after the first failed attempt; it doubles after each further one.
    pub first_retry: Duration,
    /// The longest delay between attempts.
    pub longest_retry: Duration,
    /// How long a claimed notice is the claimer's before another worker may take it.
    pub lease: Duration,
    /// How many notices are claimed at a time.
    pub batch: i64,
    /// How often the worker looks for due notices when nothing wakes it.
    pub poll: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            first_retry: Duration::seconds(30),
            longest_retry: Duration::hours(1),
            lease: Duration::minutes(15),
            batch: 10,
            poll: std::time::Duration::from_secs(5),
        }
    }
}

impl Settings {
    /// The delay after the `attempt`th failed attempt (1, 2, …): 30 s, 1 min, 2 min, … 1 h.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let delay = self.first_retry.checked_mul(1 << doublings).unwrap_or(self.longest_retry);
        delay.min(self.longest_retry)
    }
}

/// What happened to one claimed notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    Sent,
    Failed,
    Retry,
    Cancelled,
    /// Left claimed: the database failed; the lease's end gives it back.
    Left,
}

/// Sends what is due.
#[derive(Debug)]
pub struct Worker {
    service: Arc<Service>,
    transport: Arc<dyn MailTransport>,
    sender: Sender,
    clock: Arc<dyn Clock>,
    settings: Settings,
}

impl Worker {
    pub fn new(
        service: Arc<Service>,
        transport: Arc<dyn MailTransport>,
        sender: Sender,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Self {
        Self { service, transport, sender, clock, settings }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Sends every notice that is due at `now` (blocking: call it from a blocking context) and
    /// returns how many the transport accepted. A notice that fails for now is not tried again
    /// in the same run: its next attempt is later.
    pub fn run_once(&self, now: Instant) -> usize {
        self.run_until(now, &AtomicBool::new(false))
    }

    fn run_until(&self, now: Instant, stop: &AtomicBool) -> usize {
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            let claimed = match self.claim(now) {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "the mail worker cannot read the outbox");
                    break;
                }
            };
            if claimed.is_empty() {
                break;
            }
            for notice in claimed {
                // A claimed notice left unhandled at a stop comes back when its lease ends.
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if self.handle(notice, now) == Handled::Sent {
                    sent += 1;
                }
            }
        }
        sent
    }

    fn claim(&self, now: Instant) -> Result<Vec<StoredNotice>, crate::store::StoreError> {
        let mut conn = self.service.store().connection()?;
        let lease_until = now + self.settings.lease;
        notices::claim_due(&mut conn, now, lease_until, self.settings.batch)
    }

    /// The moment to record: the run's moment, or later if the clock has moved on meanwhile.
    fn moment(&self, now: Instant) -> Instant {
        self.clock.now().max(now)
    }

    fn handle(&self, stored: StoredNotice, now: Instant) -> Handled {
        let id = stored.id.clone();
        let kind = stored.notice.kind.code();
        match self.service.read(stored.association, |s| still_due(s, &stored.notice)) {
            Ok(true) => {}
            Ok(false) => {
                let reason = "no longer applies: cancelled when its time came";
                return match self
                    .service
                    .store()
                    .connection()
                    .and_then(|mut c| notices::cancel(&mut c, &id, reason))
                {
                    Ok(()) => {
                        tracing::info!(notice = %id, kind, "a notice that no longer applies was cancelled");
                        Handled::Cancelled
                    }
                    Err(e) => {
                        tracing::warn!(notice = %id, error = %e, "a notice could not be cancelled");
                        Handled::Left
                    }
                };
            }
            Err(e) => {
                tracing::warn!(notice = %id, error = %e, "the state of the notice's association cannot be read");
                return Handled::Left;
            }
        }
        let attempt = stored.attempts + 1;
        let message_id = stored.message_id.clone().unwrap_or_else(|| self.sender.message_id(&id));
        let result = self
            .service
            .mail_context(stored.association)
            .map_err(|e| {
                super::transport::SendError::temporary(format!("the association cannot be read: {e}"))
            })
            .and_then(|mut ctx| {
                ctx.organizer_email = Some(self.sender.from.email.to_string());
                render(&stored.notice, &ctx).map_err(|e| {
                    super::transport::SendError::permanent(format!("the message cannot be made: {e}"))
                })
            })
            .and_then(|rendered| self.sender.notice(&stored.notice, &rendered, &message_id, now))
            .and_then(|message| self.transport.send(&message));
        let at = self.moment(now);
        let (record, after, handled) = match result {
            Ok(sent_id) => {
                tracing::info!(notice = %id, kind, attempt, message_id = %sent_id, "a notice was sent");
                let record = Attempt {
                    attempt,
                    at,
                    result: AttemptResult::Sent,
                    message_id: Some(if sent_id.is_empty() { message_id } else { sent_id }),
                    error: None,
                };
                (record, After::Sent, Handled::Sent)
            }
            Err(e) => {
                let last = attempt >= self.settings.max_attempts;
                let (result, after, handled) = if e.permanent {
                    (AttemptResult::PermanentFailure, After::Failed, Handled::Failed)
                } else if last {
                    (AttemptResult::TemporaryFailure, After::Failed, Handled::Failed)
                } else {
                    let next = at + self.settings.backoff(attempt);
                    (AttemptResult::TemporaryFailure, After::Retry(next), Handled::Retry)
                };
                match after {
                    After::Retry(next) => {
                        tracing::warn!(notice = %id, kind, attempt, error = %e.reason, next_attempt = %next, "a notice could not be sent; it will be tried again");
                    }
                    _ => {
                        tracing::error!(notice = %id, kind, attempt, error = %e.reason, "a notice could not be sent and is given up");
                    }
                }
                let record =
                    Attempt { attempt, at, result, message_id: Some(message_id), error: Some(e.reason) };
                (record, after, handled)
            }
        };
        let recorded = self
            .service
            .store()
            .connection()
            .and_then(|mut c| notices::record_attempt(&mut c, &id, &record, after));
        match recorded {
            Ok(()) => handled,
            Err(e) => {
                // Sent but not recorded: it goes again when the lease ends (at least once).
                tracing::error!(notice = %id, error = %e, "the attempt to send a notice could not be recorded");
                Handled::Left
            }
        }
    }

    /// Starts the worker as a task of the current tokio runtime: it sends what is due at once,
    /// when a command queued notices, and every few seconds, until [`WorkerTask::stop`].
    pub fn spawn(self: Arc<Self>) -> WorkerTask {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stopping);
        let signal = self.service.mail_signal();
        let join = tokio::spawn(async move {
            loop {
                let worker = Arc::clone(&self);
                let flag = Arc::clone(&flag);
                let now = self.clock.now();
                if let Err(e) = tokio::task::spawn_blocking(move || worker.run_until(now, &flag)).await {
                    tracing::error!(error = %e, "the mail worker's run failed");
                }
                if *stop_rx.borrow() {
                    break;
                }
                tokio::select! {
                    _ = signal.notified() => {}
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = stop_rx.changed() => break,
                }
            }
        });
        WorkerTask { stop: stop_tx, stopping, join }
    }
}

/// The running worker.
#[derive(Debug)]
pub struct WorkerTask {
    stop: tokio::sync::watch::Sender<bool>,
    stopping: Arc<AtomicBool>,
    join: tokio::task::JoinHandle<()>,
}

impl WorkerTask {
    /// Stops the worker: the message being sent is finished and recorded, nothing more is
    /// started.
    pub async fn stop(self) {
        self.stopping.store(true, Ordering::Relaxed);
        let _ = self.stop.send(true);
        if let Err(e) = self.join.await {
            tracing::error!(error = %e, "the mail worker did not stop cleanly");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_thirty_seconds_to_an_hour() {
        let s = Settings::default();
        let delays: Vec<i64> = (1..=10).map(|n| s.backoff(n).num_seconds()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(s.backoff(0).num_seconds(), 30);
        assert_eq!(s.backoff(u32::MAX).num_seconds(), 3600);
    }
}
