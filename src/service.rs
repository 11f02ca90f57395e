//! The service: runs commands through the core and makes their events durable.
//!
//! One use case, one transaction: take the association's log lock, catch the cached state up
//! with events that other instances appended, decide, fold the events in, write their
//! projections, append them, commit. Only then does a caller hear that the command was
//! accepted. Each association's state is cached in memory (a fold of its log), so a command
//! does not refold the whole log; a failed transaction makes the cache rebuild from the log.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use ed25519_dalek::SigningKey;

use crate::core::{
    AgendaItemId, Association, AssociationId, Command, Fact, Instant, KeyBytes, MeetingId, PollId,
    RuleViolation, RulesProfile, SignedBytes, apply, handle_with_verified,
};
use crate::ledger::canonical::BallotStatement;
use crate::ledger::log::{SignedTreeHead, TreeHead};
use crate::ledger::merkle::{Hash, MerkleTree};
use crate::ledger::signature;
use crate::ledger::signature::PublicKey;
use crate::mail::notice::MailContext;
use crate::store::log::{self, Logged};
use crate::store::{Conn, DbConnection, Store, StoreError, associations, projection};

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
    /// The connection the cache's holder writes and catches up with, kept between batches:
    /// writing never waits in the pool behind the requests that read (each reads its
    /// session), however many there are. Dropped after a failed transaction.
    conn: Option<Conn>,
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
            conn: None,
        }
    }

    /// The holder's connection: the kept one, or a new one from the pool.
    fn connection(&mut self, store: &Store) -> Result<Conn, ServiceError> {
        match self.conn.take() {
            Some(mut conn) => {
                store.refresh(&mut conn)?;
                Ok(conn)
            }
            None => Ok(store.connection()?),
        }
    }

    fn reset_if_invalid(&mut self) {
        if !self.valid {
            *self = Cache::new(self.state.id, self.name.clone(), self.profile.clone());
        }
    }
}

/// The most commands one transaction carries: enough to amortise a durable commit over many
/// ballots, few enough that the first of them does not wait long for the last.
pub const MAX_BATCH: usize = 1024;

/// The most decoded keys an association keeps for [`preverified`]; past it they are forgotten
/// and decoded again as they come. A key of 32 bytes decodes to a point in one square root,
/// a sixth of the cost of the verification it serves.
const MAX_DECODED_KEYS: usize = 65_536;

/// An association's writer: its cached state, and the commands waiting for the next batch.
struct Entry {
    cache: Mutex<Cache>,
    queue: Mutex<VecDeque<Pending>>,
    /// The poll (none for an advance ballot) of the last ballot logged on each agenda item:
    /// what a caller expects the next ballot's statement to name, to verify its signature
    /// before it queues (see [`preverified`]).
    ballot_polls: Mutex<HashMap<(MeetingId, AgendaItemId), Option<PollId>>>,
    /// Keys that signed a ballot [`preverified`] accepted, decoded: decoding is a function of
    /// the bytes, so a key met again is not decoded again. At most [`MAX_DECODED_KEYS`].
    decoded_keys: Mutex<HashMap<KeyBytes, PublicKey>>,
}

/// The cache, held; letting go of it wakes the command at the front of the queue, which then
/// writes the next batch.
struct Held<'a> {
    // Fields drop in order: the lock is released before the front is woken.
    guard: MutexGuard<'a, Cache>,
    _wake: WakeFront<'a>,
}

struct WakeFront<'a>(&'a Entry);

impl Drop for WakeFront<'_> {
    fn drop(&mut self) {
        if let Some(front) = lock(&self.0.queue).front() {
            front.slot.wake();
        }
    }
}

impl std::ops::Deref for Held<'_> {
    type Target = Cache;
    fn deref(&self) -> &Cache {
        &self.guard
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Cache {
        &mut self.guard
    }
}

impl Entry {
    fn new(cache: Cache) -> Self {
        Self {
            cache: Mutex::new(cache),
            queue: Mutex::new(VecDeque::new()),
            ballot_polls: Mutex::new(HashMap::new()),
            decoded_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers the poll of every ballot in `logged`, just committed.
    fn saw_ballots(&self, logged: &[Logged]) {
        let mut polls = None;
        for l in logged {
            if let Fact::BallotCast { meeting, poll, item, .. } = &l.event.fact {
                polls.get_or_insert_with(|| lock(&self.ballot_polls)).insert((*meeting, *item), *poll);
            }
        }
    }

    fn hold(&self) -> Held<'_> {
        Held { guard: lock(&self.cache), _wake: WakeFront(self) }
    }

    /// Whether nobody holds the cache (no batch is being written).
    fn is_free(&self) -> bool {
        !matches!(self.cache.try_lock(), Err(TryLockError::WouldBlock))
    }

    fn try_hold(&self) -> Option<Held<'_>> {
        let guard = match self.cache.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        Some(Held { guard, _wake: WakeFront(self) })
    }
}

/// A command waiting for its batch.
struct Pending {
    command: Command,
    now: Instant,
    notices: Notices,
    slot: Arc<Slot>,
    /// The command's signature, verified by its caller before it queued.
    verified: Option<SignedBytes>,
}

/// The signature of a signed ballot, verified strictly by the caller's own thread before the
/// ballot queues, so that the batch's writer, which decides one command after another, need
/// not: verifying is most of the work of deciding a ballot. The statement names the poll of the
/// last ballot logged on the item; when that is not the poll the core finds for this ballot
/// (the first ballot of a poll), or the key is not the author's enrolled key, the core's own
/// checks decide as ever and the writer verifies. `None` when there is nothing to verify here.
fn preverified(association: AssociationId, entry: &Entry, command: &Command) -> Option<SignedBytes> {
    let Command::CastBallot { meeting, item, member, person, choice, signed: Some(signed) } = command else {
        return None;
    };
    let poll = *lock(&entry.ballot_polls).get(&(*meeting, *item))?;
    let bytes = BallotStatement {
        association,
        meeting: *meeting,
        item: *item,
        poll,
        member: *member,
        person: *person,
        choice: *choice,
        sequence: signed.sequence,
    }
    .to_bytes();
    // The key is decoded without the torsion check: the core accepts the verification only
    // for a key of the key ring, which passed every check when it was enrolled.
    let known = lock(&entry.decoded_keys).get(&signed.key).copied();
    let key = match known {
        Some(key) => key,
        None => PublicKey::from_checked_bytes(&signed.key.0).ok()?,
    };
    signature::verify(&key, &bytes, &signed.signature.0).ok()?;
    if known.is_none() {
        let mut keys = lock(&entry.decoded_keys);
        if keys.len() >= MAX_DECODED_KEYS {
            keys.clear();
        }
        keys.insert(signed.key, key);
    }
    Some(SignedBytes { key: signed.key, bytes, signature: signed.signature })
}

/// Where a waiting caller receives its outcome, or the word that it may write the next batch:
/// a thread sleeps on the condition variable; a task (see [`Submitted`]) leaves its waker.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
    ready: Condvar,
}

#[derive(Default)]
struct SlotState {
    outcome: Option<Result<Committed, ServiceError>>,
    turn: bool,
    waker: Option<std::task::Waker>,
}

impl Slot {
    fn finish(&self, outcome: Result<Committed, ServiceError>) {
        let waker = {
            let mut state = lock(&self.state);
            state.outcome = Some(outcome);
            state.waker.take()
        };
        self.ready.notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn wake(&self) {
        let waker = {
            let mut state = lock(&self.state);
            state.turn = true;
            state.waker.take()
        };
        self.ready.notify_one();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn take(&self) -> Option<Result<Committed, ServiceError>> {
        lock(&self.state).outcome.take()
    }

    /// Sleeps until the outcome arrives, the caller is woken to write, or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        let mut state = lock(&self.state);
        if state.outcome.is_none() && !state.turn {
            state = match self.ready.wait_timeout(state, timeout) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.turn = false;
    }

    /// [`Slot::wait`] for a task: ready when the outcome arrives or the caller is woken to write.
    fn ready(&self) -> impl std::future::Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut state = lock(&self.state);
            if state.outcome.is_some() || state.turn {
                state.turn = false;
                std::task::Poll::Ready(())
            } else {
                state.waker = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
    }
}

/// A command queued by [`Service::submit`]. Its caller awaits [`Submitted::outcome`] without
/// holding a thread: only when the cache is free, or the writer lets go of it with this command
/// at the front of the queue, does it take a blocking thread to write the next batch, as a
/// blocked caller of [`Service::execute`] would. Dropped before its outcome (the client went
/// away), it hands the command to a blocking thread, which writes when its turn comes, so that
/// the queue never waits for a task that is gone.
pub struct Submitted {
    service: Arc<Service>,
    association: AssociationId,
    entry: Arc<Entry>,
    slot: Arc<Slot>,
    settled: bool,
}

impl std::fmt::Debug for Submitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Submitted").field("association", &self.association).finish_non_exhaustive()
    }
}

impl Submitted {
    /// The command's outcome, once its batch has committed; an error only when the thread that
    /// wrote it panicked.
    pub async fn outcome(mut self) -> Result<Result<Committed, ServiceError>, tokio::task::JoinError> {
        loop {
            if let Some(outcome) = self.slot.take() {
                self.settled = true;
                return Ok(outcome);
            }
            if self.entry.is_free() {
                self.settled = true;
                let (service, entry, slot) =
                    (Arc::clone(&self.service), Arc::clone(&self.entry), Arc::clone(&self.slot));
                let association = self.association;
                return tokio::task::spawn_blocking(move || service.outcome_of(association, &entry, &slot))
                    .await;
            }
            self.slot.ready().await;
        }
    }
}

impl Drop for Submitted {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let (service, entry, slot) =
            (Arc::clone(&self.service), Arc::clone(&self.entry), Arc::clone(&self.slot));
        let association = self.association;
        let carry = move || {
            let _ = service.outcome_of(association, &entry, &slot);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn_blocking(carry);
            }
            Err(_) => {
                std::thread::spawn(carry);
            }
        }
    }
}

/// A command carried out: its events, logged, and a receipt for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub logged: Vec<Logged>,
    /// `receipts[i]` proves `logged[i]` is in its stream's tree head signed by the
    /// transaction that stored it.
    pub receipts: Vec<Receipt>,
}

/// The same error again, for every other caller of a failed batch.
fn copy_error(e: &ServiceError) -> ServiceError {
    use diesel::result::Error as Db;
    match e {
        ServiceError::Refused(v) => ServiceError::Refused(v.clone()),
        ServiceError::Store(s) => ServiceError::Store(match s {
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            StoreError::Migration(m) => StoreError::Migration(m.clone()),
            StoreError::Corrupt { seq, reason } => StoreError::Corrupt { seq: *seq, reason: reason.clone() },
            StoreError::UnknownAssociation(a) => StoreError::UnknownAssociation(*a),
            StoreError::AssociationExists(a) => StoreError::AssociationExists(*a),
            StoreError::Query(Db::DatabaseError(kind, info)) => {
                StoreError::Query(Db::DatabaseError(*kind, Box::new(info.message().to_owned())))
            }
            StoreError::Query(other) => StoreError::Query(Db::QueryBuilderError(other.to_string().into())),
        }),
        ServiceError::Profile(p) => ServiceError::NoProof(p.to_string()),
        ServiceError::NoProof(m) => ServiceError::NoProof(m.clone()),
        ServiceError::Export(m) => ServiceError::Export(m.clone()),
    }
}

/// The receipt of an event just logged, against the head its batch signed for its stream.
fn receipt_in(
    cache: &Cache,
    heads: &HashMap<String, SignedTreeHead>,
    logged: &Logged,
) -> Result<Receipt, ServiceError> {
    let missing = || ServiceError::NoProof(format!("no receipt for event {}", logged.seq));
    let head = heads.get(&logged.stream).ok_or_else(missing)?;
    let tree = cache.trees.get(&logged.stream).ok_or_else(missing)?;
    let index = u64::try_from(logged.stream_index).map_err(|_| missing())?;
    Ok(Receipt {
        leaf_index: index,
        leaf_hash: tree.leaf_hash_at(index).ok_or_else(missing)?,
        inclusion_proof: tree.inclusion_proof(index, head.head.size).ok_or_else(missing)?,
        tree_head: *head,
    })
}

pub struct Service {
    store: Store,
    /// Signs the tree heads; never leaves the service.
    key: SigningKey,
    caches: Mutex<HashMap<AssociationId, Arc<Entry>>>,
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
        let entry = self.cache(association)?;
        let name = entry.hold().name.clone();
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

    fn cache(&self, association: AssociationId) -> Result<Arc<Entry>, ServiceError> {
        if let Some(cache) = lock(&self.caches).get(&association) {
            return Ok(Arc::clone(cache));
        }
        let mut conn = self.store.connection()?;
        let stored = associations::get(&mut conn, association)?;
        let mut caches = lock(&self.caches);
        let cache = caches
            .entry(association)
            .or_insert_with(|| Arc::new(Entry::new(Cache::new(association, stored.name, stored.profile))));
        Ok(Arc::clone(cache))
    }

    /// Carries out a command for an association at `now`: returns its events, logged, once
    /// they are durable, with the notices they cause queued in the same transaction.
    ///
    /// Blocks until the command's batch has committed (see [`Service::execute_many`] for how
    /// concurrent commands share a transaction); call it from a blocking thread.
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
        Ok(self.execute_with_receipts(association, command, now, notices)?.logged)
    }

    /// [`Service::execute_with`], returning with the events a receipt for each: its inclusion in
    /// the tree head signed by the transaction that stored it.
    pub fn execute_with_receipts(
        &self,
        association: AssociationId,
        command: Command,
        now: Instant,
        notices: Notices,
    ) -> Result<Committed, ServiceError> {
        let entry = self.cache(association)?;
        let slot = Arc::new(Slot::default());
        let verified = preverified(association, &entry, &command);
        lock(&entry.queue).push_back(Pending { command, now, notices, slot: Arc::clone(&slot), verified });
        self.outcome_of(association, &entry, &slot)
    }

    /// Queues a command as [`Service::execute_with_receipts`] does (a signed ballot's signature
    /// verified on the calling thread first), for a caller that awaits its outcome rather than
    /// blocking a thread: see [`Submitted`]. Gives the command back when the association's state
    /// is not in memory yet, since reading it blocks: carry it out with
    /// [`Service::execute_with_receipts`] on a blocking thread.
    pub fn submit(
        self: &Arc<Self>,
        association: AssociationId,
        command: Command,
        now: Instant,
        notices: Notices,
    ) -> Result<Submitted, Box<Command>> {
        let Some(entry) = lock(&self.caches).get(&association).cloned() else {
            return Err(Box::new(command));
        };
        let slot = Arc::new(Slot::default());
        let verified = preverified(association, &entry, &command);
        lock(&entry.queue).push_back(Pending { command, now, notices, slot: Arc::clone(&slot), verified });
        Ok(Submitted { service: Arc::clone(self), association, entry, slot, settled: false })
    }

    /// Carries out several commands of one association in order, each decided against the
    /// state that includes the ones before it; returns each one's outcome (a refused command
    /// does not stop the others). They are committed in as few transactions as the batch cap
    /// allows (bulk loading a register, the benchmark's set-up). The outer error is for a
    /// command that could not be tried at all (an unknown association).
    pub fn execute_many(
        &self,
        association: AssociationId,
        commands: Vec<(Command, Instant)>,
        notices: Notices,
    ) -> Result<Vec<Result<Vec<Logged>, ServiceError>>, ServiceError> {
        let entry = self.cache(association)?;
        let slots: Vec<Arc<Slot>> = commands.iter().map(|_| Arc::new(Slot::default())).collect();
        {
            let mut queue = lock(&entry.queue);
            for ((command, now), slot) in commands.into_iter().zip(&slots) {
                queue.push_back(Pending { command, now, notices, slot: Arc::clone(slot), verified: None });
            }
        }
        Ok(slots.iter().map(|slot| self.outcome_of(association, &entry, slot).map(|c| c.logged)).collect())
    }

    /// Group commit. Every command waits in its association's queue; whoever holds the cache
    /// (the writer) takes up to [`MAX_BATCH`] commands from the queue's front and carries them
    /// out in one transaction, then hands each its outcome. A caller whose command is not yet
    /// done becomes the writer when the cache is free, or sleeps until its outcome arrives or
    /// it is woken to write (the writer wakes the queue's front when it lets go of the cache).
    fn outcome_of(
        &self,
        association: AssociationId,
        entry: &Entry,
        slot: &Slot,
    ) -> Result<Committed, ServiceError> {
        loop {
            if let Some(outcome) = slot.take() {
                return outcome;
            }
            if let Some(mut cache) = entry.try_hold() {
                if let Some(outcome) = slot.take() {
                    return outcome;
                }
                let batch: Vec<Pending> = {
                    let mut queue = lock(&entry.queue);
                    let n = queue.len().min(MAX_BATCH);
                    queue.drain(..n).collect()
                };
                self.commit(association, entry, &mut cache, batch);
                continue;
            }
            // The timeout only bounds a wait whose wake-up was missed; none is expected.
            slot.wait(Duration::from_millis(50));
        }
    }

    /// Carries out a batch in one transaction and hands every command of it its outcome.
    fn commit(&self, association: AssociationId, entry: &Entry, cache: &mut Cache, batch: Vec<Pending>) {
        if batch.is_empty() {
            return;
        }
        cache.reset_if_invalid();
        match self.commit_batch(association, cache, &batch) {
            Ok(outcomes) => {
                for committed in outcomes.iter().flatten() {
                    entry.saw_ballots(&committed.logged);
                }
                for (pending, outcome) in batch.iter().zip(outcomes) {
                    pending.slot.finish(outcome.map_err(ServiceError::Refused));
                }
            }
            Err(e) => {
                // The transaction failed: nothing of the batch is stored, and every caller
                // hears why.
                for pending in batch.iter().skip(1) {
                    pending.slot.finish(Err(copy_error(&e)));
                }
                if let Some(first) = batch.first() {
                    first.slot.finish(Err(e));
                }
            }
        }
    }

    /// The transaction of a batch: take the log lock, catch up, then for each command in turn
    /// decide it against the state so far, fold its events in, write their projections, append
    /// them and queue their notices; sign one tree head per stream that grew; commit. Returns
    /// each command's events with their receipts, or the core's refusal of it.
    fn commit_batch(
        &self,
        association: AssociationId,
        cache: &mut Cache,
        batch: &[Pending],
    ) -> Result<Vec<Result<Committed, RuleViolation>>, ServiceError> {
        let mut conn = cache.connection(&self.store)?;
        let a = association.to_string();
        let mut applied = false;
        let outcome = crate::store::transaction::<_, ServiceError>(&mut conn, |c| {
            let head = log::lock_head(c, association)?;
            if head != cache.last_seq {
                catch_up(c, association, cache)?;
            }
            let mut seq = head;
            let mut decided: Vec<Result<Vec<Logged>, RuleViolation>> = Vec::with_capacity(batch.len());
            let mut grown: Vec<(String, Option<crate::core::MeetingId>)> = Vec::new();
            let mut latest: Option<Instant> = None;
            let mut projector = projection::Projector::new(&a);
            let mut event_rows = Vec::new();
            let mut caused = crate::mail::queue::Caused::default();
            for pending in batch {
                let verified = pending.verified.as_ref();
                let events = match handle_with_verified(
                    &cache.state,
                    pending.command.clone(),
                    pending.now,
                    verified,
                ) {
                    Ok(events) => events,
                    Err(refusal) => {
                        decided.push(Err(refusal));
                        continue;
                    }
                };
                // Each stream's next position is the size of its tree: the cache holds every
                // leaf of the log up to `seq`.
                let mut to_log = Vec::with_capacity(events.len());
                let mut next: BTreeMap<String, i64> = BTreeMap::new();
                for event in &events {
                    let stream = log::stream_of(event);
                    let index = match next.get(&stream) {
                        Some(i) => *i,
                        None => {
                            cache.trees.get(&stream).map_or(0, |t| i64::try_from(t.len()).unwrap_or(i64::MAX))
                        }
                    };
                    next.insert(stream, index + 1);
                    to_log.push((event.clone(), index));
                }
                applied = true;
                for event in &events {
                    apply(&mut cache.state, event);
                    projector.project(c, &cache.state, event)?;
                }
                let (rows, logged) = log::event_rows(association, seq, &to_log)?;
                event_rows.extend(rows);
                seq += i64::try_from(logged.len()).unwrap_or(i64::MAX);
                // The notices the events cause, from the state they leave; queued in the same
                // transaction: if they cannot be, the batch fails and nothing is stored.
                if let Notices::Queue = pending.notices {
                    let ctx = MailContext {
                        association_name: cache.name.clone(),
                        public_url: self.public_url.clone(),
                        organizer_email: None,
                    };
                    caused.add(association, &cache.state, &logged, &ctx, pending.now);
                }
                for l in &logged {
                    cache
                        .trees
                        .entry(l.stream.clone())
                        .or_default()
                        .push_leaf_hash(log::leaf_of(association, l));
                    if !grown.iter().any(|(s, _)| *s == l.stream) {
                        grown.push((l.stream.clone(), l.event.fact.meeting()));
                    }
                }
                latest = Some(latest.map_or(pending.now, |t| t.max(pending.now)));
                decided.push(Ok(logged));
            }
            // The rows of the whole batch, a statement for many: the ballots held back, the
            // events, then the notices that refer to them.
            projector.flush(c)?;
            log::insert_rows(c, &event_rows)?;
            let queued = caused.store(c, association)?;
            if seq != head {
                log::set_head(c, association, seq)?;
            }
            // Each stream that grew gets one new tree head, signed, in the same transaction.
            let mut heads: HashMap<String, SignedTreeHead> = HashMap::new();
            for (stream, meeting) in grown {
                let tree = cache
                    .trees
                    .get(&stream)
                    .ok_or_else(|| ServiceError::NoProof(format!("no tree for {stream}")))?;
                // Heads of a stream are signed in time order, even when commands carry moments
                // out of order (two requests racing for the lock, a clock stepping back).
                let previous = match cache.head_at.get(&stream) {
                    Some(at) => Some(*at),
                    None => log::read_head(c, association, &stream, None)?.map(|h| h.head.timestamp),
                };
                let now = latest.unwrap_or_else(|| previous.unwrap_or_default());
                let timestamp = previous.map_or(now, |p| p.max(now));
                let signed =
                    TreeHead { association, meeting, size: tree.len(), root: tree.root(), timestamp }
                        .sign(&self.key);
                log::store_head(c, &stream, &signed)?;
                heads.insert(stream, signed);
            }
            let mut outcomes = Vec::with_capacity(decided.len());
            for d in decided {
                outcomes.push(match d {
                    Ok(logged) => {
                        let receipts = logged.iter().map(|l| receipt_in(cache, &heads, l)).collect::<Result<
                            Vec<_>,
                            _,
                        >>(
                        )?;
                        Ok(Committed { logged, receipts })
                    }
                    Err(refusal) => Err(refusal),
                });
            }
            Ok((outcomes, heads, queued, seq))
        });
        match outcome {
            Ok((outcomes, heads, queued, seq)) => {
                cache.conn = Some(conn);
                cache.last_seq = seq;
                cache.head_at.extend(heads.into_iter().map(|(stream, h)| (stream, h.head.timestamp)));
                if queued > 0 {
                    self.mail_signal.notify_one();
                }
                Ok(outcomes)
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
        let entry = self.cache(association)?;
        // The log's head is read before the cache is held, so that a reader does not keep the
        // writer waiting on a query: a cache at or past that head is current enough. The
        // connection goes back to the pool first: whoever holds the cache may need one, and
        // is never kept waiting by someone who holds a connection and waits for the cache.
        let head = log::head(&mut *self.store.connection()?, association)?;
        let mut cache = entry.hold();
        cache.reset_if_invalid();
        if cache.last_seq < head {
            let mut conn = cache.connection(&self.store)?;
            catch_up(&mut conn, association, &mut cache)?;
            cache.conn = Some(conn);
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
        // The meeting and the meetings it follows up, whose decisions it may carry. Read
        // before a connection is taken: the cache is never waited for with a connection held.
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
        let mut conn = self.store.connection()?;
        let stored = associations::get(&mut conn, association)?;
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

    /// The first event of `kind` (its tag) in a meeting's log, if any.
    pub fn first_in_meeting_log(
        &self,
        association: AssociationId,
        meeting: crate::core::MeetingId,
        kind: &str,
    ) -> Result<Option<Logged>, ServiceError> {
        let mut conn = self.store.connection()?;
        Ok(log::first_in_stream(&mut conn, association, &meeting.to_string(), kind)?)
    }

    /// A page of a meeting's log: at most `limit` events from position `from`, in order.
    pub fn meeting_log_page(
        &self,
        association: AssociationId,
        meeting: crate::core::MeetingId,
        from: u64,
        limit: u32,
    ) -> Result<Vec<Logged>, ServiceError> {
        let mut conn = self.store.connection()?;
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        Ok(log::read_stream_range(&mut conn, association, &meeting.to_string(), from, i64::from(limit))?)
    }
}

impl Service {
    /// Runs `f` on an association's cache, caught up with its log.
    fn with_cache<R>(
        &self,
        association: AssociationId,
        f: impl FnOnce(&Cache) -> Result<R, ServiceError>,
    ) -> Result<R, ServiceError> {
        let entry = self.cache(association)?;
        // The log's head is read before the cache is held, so that a reader does not keep the
        // writer waiting on a query: a cache at or past that head is current enough. The
        // connection goes back to the pool first: whoever holds the cache may need one, and
        // is never kept waiting by someone who holds a connection and waits for the cache.
        let head = log::head(&mut *self.store.connection()?, association)?;
        let mut cache = entry.hold();
        cache.reset_if_invalid();
        if cache.last_seq < head {
            let mut conn = cache.connection(&self.store)?;
            catch_up(&mut conn, association, &mut cache)?;
            cache.conn = Some(conn);
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
        drop(conn);
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
