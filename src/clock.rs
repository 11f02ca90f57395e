//! Where the shell reads the time. The core never reads a clock; the service passes it the
//! time from here, so tests can drive a meeting across days.

use std::sync::Mutex;

use crate::core::Instant;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Instant;
}

/// The system's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        chrono::Utc::now()
    }
}

/// A clock that stands still until it is set: for tests and for replaying a meeting.
#[derive(Debug)]
pub struct ManualClock(Mutex<Instant>);

impl ManualClock {
    pub fn new(at: Instant) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: Instant) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
