//! The service: runs commands through the core and makes their events durable.
//!
//! One use case, one transaction: take the association's log lock, catch the cached state up
//! with events that other instances appended, decide, fold the events in, write their
//! projections, append them, commit. Only then does a caller hear that the command was
//! accepted. Each association's state is cached in memory (a fold of its log), so a command
//! does not refold the whole log; a failed transaction makes the cache rebuild from the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use diesel::Connection;

use crate::core::{Association, AssociationId, Command, Instant, RuleViolation, RulesProfile, apply, handle};
use crate::store::log::{self, Logged};
use crate::store::{DbConnection, Store, StoreError, associations, projection};

/// Why a command was not carried out. Either way, nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The statutes do not allow it.
    #[error(transparent)]
    Refused(#[from] RuleViolation),
    /// The database failed or the association is unknown.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rules profile offered for a new association is invalid.
    #[error(transparent)]
    Profile(#[from] crate::core::profile::ProfileError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Store(StoreError::Query(e))
    }
}

struct Cache {
    profile: RulesProfile,
    state: Association,
    /// The last event folded into `state`.
    last_seq: i64,
    /// False when a failed transaction may have left `state` ahead of the log.
    valid: bool,
}

impl Cache {
    fn new(profile: RulesProfile) -> Self {
        Self { state: Association::new(profile.clone()), profile, last_seq: 0, valid: true }
    }

    fn reset_if_invalid(&mut self) {
        if !self.valid {
            *self = Cache::new(self.profile.clone());
        }
    }
}

pub struct Service {
    store: Store,
    caches: Mutex<HashMap<AssociationId, Arc<Mutex<Cache>>>>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("store", &self.store).finish_non_exhaustive()
    }
}

/// Events are read back in pages of this many.
const PAGE: i64 = 10_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Service {
    /// The service on a migrated store.
    pub fn new(store: Store) -> Self {
        Self { store, caches: Mutex::new(HashMap::new()) }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Adds an association with its rules profile (TOML, checked before it is stored).
    pub fn create_association(
        &self,
        id: AssociationId,
        name: &str,
        profile_toml: &str,
        now: Instant,
    ) -> Result<RulesProfile, ServiceError> {
        let profile = RulesProfile::from_toml(profile_toml)?;
        let mut conn = self.store.connection()?;
        associations::create(&mut conn, id, name, profile_toml, now)?;
        Ok(profile)
    }

    fn cache(&self, association: AssociationId) -> Result<Arc<Mutex<Cache>>, ServiceError> {
        if let Some(cache) = lock(&self.caches).get(&association) {
            return Ok(Arc::clone(cache));
        }
        let mut conn = self.store.connection()?;
        let stored = associations::get(&mut conn, association)?;
        let mut caches = lock(&self.caches);
        let cache =
            caches.entry(association).or_insert_with(|| Arc::new(Mutex::new(Cache::new(stored.profile))));
        Ok(Arc::clone(cache))
    }

    /// Carries out a command for an association at `now`: returns its events, logged, once
    /// they are durable.
    pub fn execute(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
    ) -> Result<Vec<Logged>, ServiceError> {
        let cache = self.cache(association)?;
        let mut cache = lock(&cache);
        cache.reset_if_invalid();
        let mut conn = self.store.connection()?;
        let a = association.to_string();
        let mut applied = false;
        let outcome = conn.transaction::<_, ServiceError, _>(|c| {
            let head = log::lock_head(c, association)?;
            if head != cache.last_seq {
                catch_up(c, association, &mut cache)?;
            }
            let events = handle(&cache.state, command, now)?;
            let mut to_log = Vec::with_capacity(events.len());
            let mut next: BTreeMap<String, i64> = BTreeMap::new();
            for event in &events {
                let stream = log::stream_of(event);
                let index = match next.get(&stream) {
                    Some(i) => *i,
                    None => log::next_index(c, association, &stream)?,
                };
                next.insert(stream, index + 1);
                to_log.push((event.clone(), index));
            }
            applied = true;
            for event in &events {
                apply(&mut cache.state, event);
                projection::project(c, &a, &cache.state, event)?;
            }
            Ok(log::append(c, association, head, &to_log)?)
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

    /// Reads an association's state, caught up with its log.
    pub fn read<R>(
        &self,
        association: AssociationId,
        f: impl FnOnce(&Association) -> R,
    ) -> Result<R, ServiceError> {
        let cache = self.cache(association)?;
        let mut cache = lock(&cache);
        cache.reset_if_invalid();
        let mut conn = self.store.connection()?;
        if log::head(&mut conn, association)? != cache.last_seq {
            catch_up(&mut conn, association, &mut cache)?;
        }
        Ok(f(&cache.state))
    }

    /// The logged events of one meeting, in order.
    pub fn meeting_log(
        &self,
        association: AssociationId,
        meeting: crate::core::MeetingId,
    ) -> Result<Vec<Logged>, ServiceError> {
        let mut conn = self.store.connection()?;
        Ok(log::read_stream(&mut conn, association, &meeting.to_string())?)
    }
}

/// Folds the events after the cache's last one into its state.
fn catch_up(
    conn: &mut DbConnection,
    association: AssociationId,
    cache: &mut Cache,
) -> Result<(), ServiceError> {
    loop {
        let page = log::read_after(conn, association, cache.last_seq, PAGE)?;
        if page.is_empty() {
            return Ok(());
        }
        for logged in &page {
            apply(&mut cache.state, &logged.event);
            cache.last_seq = logged.seq;
        }
    }
}
