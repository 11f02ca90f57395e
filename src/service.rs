//! The service: runs commands through the core and makes their events durable.
//!
//! One use case, one transaction: take the log's write lock, catch the cached state up with
//! events other instances appended, decide, append the events, write their projections,
//! commit. Only then does a caller hear that the command was accepted. The state is cached
//! in memory (a fold of the log) so a command does not refold the whole log.

use std::sync::{Mutex, MutexGuard};

use diesel::Connection;

use crate::core::{Association, Command, Event, Instant, RuleViolation, RulesProfile, apply, handle};
use crate::store::log::{self, Logged};
use crate::store::{DbConnection, Store, StoreError, projection};

/// Why a command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The statutes do not allow it; nothing was stored.
    #[error(transparent)]
    Refused(#[from] RuleViolation),
    /// The database failed; nothing was stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Store(StoreError::Query(e))
    }
}

struct Cache {
    state: Association,
    /// The last event folded into `state`.
    last_seq: i64,
    /// False when a failed transaction may have left `state` ahead of the log.
    valid: bool,
}

pub struct Service {
    store: Store,
    profile: RulesProfile,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("store", &self.store).finish_non_exhaustive()
    }
}

/// Events are read back in pages of this many.
const PAGE: i64 = 10_000;

impl Service {
    /// Opens the service on a migrated store and folds its log.
    pub fn open(store: Store, profile: RulesProfile) -> Result<Self, ServiceError> {
        let service = Self {
            store,
            cache: Mutex::new(Cache { state: Association::new(profile.clone()), last_seq: 0, valid: true }),
            profile,
        };
        {
            let mut cache = service.lock();
            let mut conn = service.store.connection()?;
            catch_up(&mut conn, &mut cache)?;
        }
        Ok(service)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn lock(&self) -> MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves the cache possibly half-applied; the next user
        // rebuilds it from the log.
        match self.cache.lock() {
            Ok(guard) => guard,
            Err(poisoned) => {
                let mut guard = poisoned.into_inner();
                guard.valid = false;
                guard
            }
        }
    }

    /// Carries out a command at `now`: returns its events, logged, once they are durable.
    pub fn execute(&self, command: Command, now: Instant) -> Result<Vec<Logged>, ServiceError> {
        let mut cache = self.lock();
        if !cache.valid {
            *cache = Cache { state: Association::new(self.profile.clone()), last_seq: 0, valid: true };
        }
        let mut conn = self.store.connection()?;
        let mut applied = false;
        let outcome = conn.transaction::<_, ServiceError, _>(|c| {
            let head = log::lock_head(c)?;
            if head != cache.last_seq {
                catch_up(c, &mut cache)?;
            }
            let events = handle(&cache.state, command, now)?;
            let mut to_log = Vec::with_capacity(events.len());
            let mut next: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
            for event in &events {
                let stream = log::stream_of(event);
                let index = match next.get(&stream) {
                    Some(i) => *i,
                    None => log::next_index(c, &stream)?,
                };
                next.insert(stream, index + 1);
                to_log.push((event.clone(), index));
            }
            applied = true;
            for event in &events {
                apply(&mut cache.state, event);
                projection::project(c, &cache.state, event)?;
            }
            let logged = log::append(c, head, &to_log)?;
            Ok(logged)
        });
        match outcome {
            Ok(logged) => {
                if let Some(last) = logged.last() {
                    cache.last_seq = last.seq;
                }
                Ok(logged)
            }
            Err(e) => {
                if applied {
                    // The state holds events that did not commit: rebuild it from the log.
                    cache.valid = false;
                }
                Err(e)
            }
        }
    }

    /// Reads the state, caught up with the log.
    pub fn read<R>(&self, f: impl FnOnce(&Association) -> R) -> Result<R, ServiceError> {
        let mut cache = self.lock();
        if !cache.valid {
            *cache = Cache { state: Association::new(self.profile.clone()), last_seq: 0, valid: true };
        }
        let mut conn = self.store.connection()?;
        if log::head(&mut conn)? != cache.last_seq {
            catch_up(&mut conn, &mut cache)?;
        }
        Ok(f(&cache.state))
    }
}

/// Folds the events after the cache's last one into its state.
fn catch_up(conn: &mut DbConnection, cache: &mut Cache) -> Result<(), ServiceError> {
    loop {
        let page = log::read_after(conn, cache.last_seq, PAGE)?;
        if page.is_empty() {
            return Ok(());
        }
        for logged in &page {
            apply(&mut cache.state, &logged.event);
            cache.last_seq = logged.seq;
        }
    }
}

/// Events as they were decided, without their place in the log.
pub fn events(logged: &[Logged]) -> Vec<Event> {
    logged.iter().map(|l| l.event.clone()).collect()
}
