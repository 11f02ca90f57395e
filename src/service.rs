//! The service: runs commands through the core and makes their events durable.
//!
//! One use case, one transaction: take the association's log lock, catch the cached state up
//! with events that other instances appended, decide, fold the events in, write their
//! projections, append them, commit. Only then does a caller hear that the command was
//! accepted. Each association's state is cached in memory (a fold of its log), so a command
//! does not refold the whole log; a failed transaction makes the cache rebuild from the log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use ed25519_dalek::SigningKey;

use crate::core::{Association, AssociationId, Command, Instant, RuleViolation, RulesProfile, apply, handle};
use crate::ledger::log::{SignedTreeHead, TreeHead};
use crate::ledger::merkle::{Hash, MerkleTree};
use crate::ledger::signature::PublicKey;
use crate::mail::notice::MailContext;
use crate::store::log::{self, Logged};
use crate::store::{DbConnection, Store, StoreError, associations, projection};

mod retry;
pub use retry::SignedBallot;

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
    /// A proof was asked of a log that does not hold what it names.
    #[error("{0}")]
    NoProof(String),
    /// An export could not be written.
    #[error("the export could not be written: {0}")]
    Export(String),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Store(StoreError::Query(e))
    }
}

struct Cache {
    profile: RulesProfile,
    /// The association's name, which its e-mail carries.
    name: String,
    state: Association,
    /// Each stream's Merkle tree over the leaves of its logged events.
    trees: HashMap<String, MerkleTree>,
    /// The moment of each stream's latest signed head, as far as known: a new head is never
    /// stamped before it.
    head_at: HashMap<String, Instant>,
    /// The last event folded into `state`.
    last_seq: i64,
    /// False when a failed transaction may have left `state` ahead of the log.
    valid: bool,
}

impl Cache {
    fn new(association: AssociationId, name: String, profile: RulesProfile) -> Self {
        Self {
            state: Association::with_id(association, profile.clone()),
            profile,
            name,
            trees: HashMap::new(),
            head_at: HashMap::new(),
            last_seq: 0,
            valid: true,
        }
    }

    fn reset_if_invalid(&mut self) {
        if !self.valid {
            *self = Cache::new(self.state.id, self.name.clone(), self.profile.clone());
        }
    }
}

pub struct Service {
    store: Store,
    /// Signs the tree heads; never leaves the service.
    key: SigningKey,
    caches: Mutex<HashMap<AssociationId, Arc<Mutex<Cache>>>>,
    /// Where people reach the service, which its e-mail links to.
    public_url: String,
    /// Told after a command queued notices, so the mail worker sends them at once.
    mail_signal: Arc<tokio::sync::Notify>,
}

/// Whether a command's notices are queued (`Queue`, always for real commands) or not
/// (`Withhold`: replaying the history of a past meeting, such as the demo, which mails nobody).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notices {
    Queue,
    Withhold,
}

/// Proof that an event is in its stream's log, as the service vouches for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub leaf_index: u64,
    pub leaf_hash: Hash,
    pub inclusion_proof: Vec<Hash>,
    pub tree_head: SignedTreeHead,
}

/// Proof that a later tree head extends an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consistency {
    pub from: SignedTreeHead,
    pub to: SignedTreeHead,
    pub proof: Vec<Hash>,
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
    /// The service on a migrated store, signing tree heads with `key`.
    pub fn new(store: Store, key: SigningKey) -> Self {
        Self {
            store,
            key,
            caches: Mutex::new(HashMap::new()),
            public_url: crate::config::Config::default().public_url(),
            mail_signal: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The address people use, which e-mail links to (`Config::public_url`).
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public_url = public_url.trim_end_matches('/').to_owned();
        self
    }

    /// Notified after every command that queued notices (the mail worker waits on it).
    pub fn mail_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.mail_signal)
    }

    /// What an association's e-mail says about the service: its name and the public address.
    pub fn mail_context(&self, association: AssociationId) -> Result<MailContext, ServiceError> {
        let cache = self.cache(association)?;
        let name = lock(&cache).name.clone();
        Ok(MailContext { association_name: name, public_url: self.public_url.clone(), organizer_email: None })
    }

    /// The public half of the key that signs tree heads.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
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
        let cache = caches
            .entry(association)
            .or_insert_with(|| Arc::new(Mutex::new(Cache::new(association, stored.name, stored.profile))));
        Ok(Arc::clone(cache))
    }

    /// Carries out a command for an association at `now`: returns its events, logged, once
    /// they are durable, with the notices they cause queued in the same transaction.
    pub fn execute(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
    ) -> Result<Vec<Logged>, ServiceError> {
        self.execute_with(association, command, now, Notices::Queue)
    }

    /// [`Service::execute`], queuing the notices of the events or not.
    pub fn execute_with(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
        notices: Notices,
    ) -> Result<Vec<Logged>, ServiceError> {
        let cache = self.cache(association)?;
        let mut cache = lock(&cache);
        cache.reset_if_invalid();
        let mut conn = self.store.connection()?;
        let a = association.to_string();
        let mut applied = false;
        let outcome = crate::store::transaction::<_, ServiceError>(&mut conn, |c| {
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
            let logged = log::append(c, association, head, &to_log)?;
            // The notices the events cause, in the same transaction: if they cannot be
            // queued, the command fails and nothing is stored.
            let queued = match notices {
                Notices::Queue => {
                    let ctx = MailContext {
                        association_name: cache.name.clone(),
                        public_url: self.public_url.clone(),
                        organizer_email: None,
                    };
                    crate::mail::queue::enqueue(c, association, &cache.state, &logged, &ctx, now)?
                }
                Notices::Withhold => 0,
            };
            // Each stream that grew gets a new tree head, signed, in the same transaction.
            let mut grown: Vec<String> = Vec::new();
            let mut heads_at: Vec<(String, Instant)> = Vec::new();
            for l in &logged {
                cache.trees.entry(l.stream.clone()).or_default().push_leaf_hash(log::leaf_of(association, l));
                if !grown.contains(&l.stream) {
                    grown.push(l.stream.clone());
                }
            }
            for stream in grown {
                let tree = cache
                    .trees
                    .get(&stream)
                    .ok_or_else(|| ServiceError::NoProof(format!("no tree for {stream}")))?;
                let meeting = logged.iter().find(|l| l.stream == stream).and_then(|l| l.event.fact.meeting());
                // Heads of a stream are signed in time order, even when commands carry moments
                // out of order (two requests racing for the lock, a clock stepping back).
                let previous = match cache.head_at.get(&stream) {
                    Some(at) => Some(*at),
                    None => log::read_head(c, association, &stream, None)?.map(|h| h.head.timestamp),
                };
                let timestamp = previous.map_or(now, |p| p.max(now));
                let signed =
                    TreeHead { association, meeting, size: tree.len(), root: tree.root(), timestamp }
                        .sign(&self.key);
                log::store_head(c, &stream, &signed)?;
                heads_at.push((stream, timestamp));
            }
            Ok((logged, heads_at, queued))
        });
        match outcome {
            Ok((logged, heads_at, queued)) => {
                if let Some(last) = logged.last() {
                    cache.last_seq = last.seq;
                }
                cache.head_at.extend(heads_at);
                if queued > 0 {
                    self.mail_signal.notify_one();
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

    /// Runs a command of a scenario (the demo, a replay over the service): signed with its
    /// author's scenario key (`ledger::author`), which is enrolled first when the author has
    /// none. Scenario keys are public knowledge: never for a real meeting.
    pub fn execute_scenario(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
    ) -> Result<Vec<Logged>, ServiceError> {
        self.execute_scenario_with(association, command, now, Notices::Queue)
    }

    /// [`Service::execute_scenario`], queuing the notices of the events or not.
    pub fn execute_scenario_with(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
        notices: Notices,
    ) -> Result<Vec<Logged>, ServiceError> {
        let (enrolment, command) =
            self.read(association, |s| crate::ledger::author::with_scenario_signatures(s, command))?;
        let mut logged = match enrolment {
            Some(enrolment) => self.execute_with(association, enrolment, now, notices)?,
            None => Vec::new(),
        };
        logged.extend(self.execute_with(association, command, now, notices)?);
        Ok(logged)
    }

    /// An association's state as it stood right after its event `seq` (the register at a
    /// meeting's convocation, say), folded afresh from the log.
    pub fn state_after(&self, association: AssociationId, seq: i64) -> Result<Association, ServiceError> {
        let mut conn = self.store.connection()?;
        let stored = associations::get(&mut conn, association)?;
        let mut state = Association::with_id(association, stored.profile);
        let mut after = 0;
        while after < seq {
            let page = log::read_after(&mut conn, association, after, PAGE.min(seq - after))?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for logged in page.iter().filter(|l| l.seq <= seq) {
                apply(&mut state, &logged.event);
            }
        }
        Ok(state)
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

    /// Writes the export of a meeting's log (`ledger::export`, docs/audit.md) to `out`, as a
    /// stream: the association's stream, the meeting's, and those of the meetings it follows
    /// up, as they stand when the export starts. Returns the number of entries written.
    pub fn export(
        &self,
        association: AssociationId,
        meeting: crate::core::MeetingId,
        exported_at: Instant,
        out: &mut impl std::io::Write,
    ) -> Result<u64, ServiceError> {
        use crate::ledger::export::{End, Entry, FORMAT, Head, Header, Line, VERSION};
        let io = |e: std::io::Error| ServiceError::Export(e.to_string());
        let mut conn = self.store.connection()?;
        let stored = associations::get(&mut conn, association)?;
        // The meeting and the meetings it follows up, whose decisions it may carry.
        let chain = self.read(association, |s| {
            let mut chain = Vec::new();
            let mut next = s.meetings.get(&meeting);
            while let Some(m) = next {
                if chain.contains(&m.id) {
                    break;
                }
                chain.push(m.id);
                next = m.follow_up_of.and_then(|f| s.meetings.get(&f));
            }
            chain
        })?;
        if chain.is_empty() {
            return Err(ServiceError::NoProof(format!("there is no meeting {meeting}")));
        }
        let mut streams = vec![log::ASSOCIATION_STREAM.to_owned()];
        streams.extend(chain.iter().rev().map(|m| m.to_string()));
        let until = log::head(&mut conn, association)?;
        let mut heads: HashMap<String, std::collections::VecDeque<SignedTreeHead>> = HashMap::new();
        for stream in &streams {
            heads.insert(stream.clone(), log::read_heads(&mut conn, association, stream)?.into());
        }
        let mut header = Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            association,
            association_name: stored.name,
            meeting,
            streams: streams.clone(),
            service_key: self.public_key().to_hex(),
            profile: stored.profile_toml,
            exported_at,
            signature: String::new(),
        };
        header.signature =
            crate::ledger::log::hex(&crate::ledger::signature::sign(&self.key, &header.to_bytes()));
        Line::Header(header).write_to(out).map_err(io)?;
        let (mut entries, mut heads_written, mut after) = (0u64, 0u64, 0i64);
        loop {
            let page = log::read_streams_after(&mut conn, association, &streams, after, until, PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for logged in &page {
                let leaf = log::leaf_of(association, logged);
                Line::Entry(Entry {
                    seq: u64::try_from(logged.seq).unwrap_or(0),
                    stream: logged.stream.clone(),
                    index: u64::try_from(logged.stream_index).unwrap_or(0),
                    body: logged.body.clone(),
                    leaf_hash: crate::ledger::log::hex(&leaf),
                })
                .write_to(out)
                .map_err(io)?;
                entries += 1;
                let size = u64::try_from(logged.stream_index).unwrap_or(0) + 1;
                if let Some(queue) = heads.get_mut(&logged.stream) {
                    while queue.front().is_some_and(|h| h.head.size <= size) {
                        if let Some(h) = queue.pop_front()
                            && h.head.size == size
                        {
                            Line::Head(Head::of(&logged.stream, &h)).write_to(out).map_err(io)?;
                            heads_written += 1;
                        }
                    }
                }
            }
        }
        Line::End(End { entries, heads: heads_written }).write_to(out).map_err(io)?;
        out.flush().map_err(io)?;
        Ok(entries)
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

impl Service {
    /// Runs `f` on an association's cache, caught up with its log.
    fn with_cache<R>(
        &self,
        association: AssociationId,
        f: impl FnOnce(&Cache) -> Result<R, ServiceError>,
    ) -> Result<R, ServiceError> {
        let cache = self.cache(association)?;
        let mut cache = lock(&cache);
        cache.reset_if_invalid();
        let mut conn = self.store.connection()?;
        if log::head(&mut conn, association)? != cache.last_seq {
            catch_up(&mut conn, association, &mut cache)?;
        }
        f(&cache)
    }

    /// The latest signed tree head of a stream (`log::ASSOCIATION_STREAM` or a meeting's id).
    pub fn tree_head(
        &self,
        association: AssociationId,
        stream: &str,
    ) -> Result<Option<SignedTreeHead>, ServiceError> {
        let mut conn = self.store.connection()?;
        Ok(log::read_head(&mut conn, association, stream, None)?)
    }

    /// A receipt for the event at `index` of a stream: its leaf, and its inclusion in the latest
    /// signed tree head.
    pub fn receipt(
        &self,
        association: AssociationId,
        stream: &str,
        index: u64,
    ) -> Result<Receipt, ServiceError> {
        let head = self
            .tree_head(association, stream)?
            .ok_or_else(|| ServiceError::NoProof(format!("the log {stream} has no tree head")))?;
        self.with_cache(association, |cache| {
            let tree = cache
                .trees
                .get(stream)
                .ok_or_else(|| ServiceError::NoProof(format!("there is no log {stream}")))?;
            let missing = || {
                ServiceError::NoProof(format!(
                    "entry {index} is not in the {} entries of the log {stream}",
                    head.head.size
                ))
            };
            let leaf_hash = tree.leaf_hash_at(index).ok_or_else(missing)?;
            let inclusion_proof = tree.inclusion_proof(index, head.head.size).ok_or_else(missing)?;
            Ok(Receipt { leaf_index: index, leaf_hash, inclusion_proof, tree_head: head })
        })
    }

    /// A consistency proof between two signed tree heads of a stream.
    pub fn consistency(
        &self,
        association: AssociationId,
        stream: &str,
        from: u64,
        to: u64,
    ) -> Result<Consistency, ServiceError> {
        let mut conn = self.store.connection()?;
        let mut head = |size| -> Result<SignedTreeHead, ServiceError> {
            log::read_head(&mut conn, association, stream, Some(size))?.ok_or_else(|| {
                ServiceError::NoProof(format!("the log {stream} has no signed head of size {size}"))
            })
        };
        let (from_head, to_head) = (head(from)?, head(to)?);
        self.with_cache(association, |cache| {
            let tree = cache
                .trees
                .get(stream)
                .ok_or_else(|| ServiceError::NoProof(format!("there is no log {stream}")))?;
            let proof = tree.consistency_proof(from, to).ok_or_else(|| {
                ServiceError::NoProof(format!("no consistency proof from size {from} to {to}"))
            })?;
            Ok(Consistency { from: from_head, to: to_head, proof })
        })
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
        // Another instance signed heads too: read their moments afresh when needed.
        cache.head_at.clear();
        for logged in &page {
            apply(&mut cache.state, &logged.event);
            cache
                .trees
                .entry(logged.stream.clone())
                .or_default()
                .push_leaf_hash(log::leaf_of(association, logged));
            cache.last_seq = logged.seq;
        }
    }
}
