//! The persisted outbox (issue 5): every notice an event causes, queued in the transaction that
//! logs the event ([`enqueue`]), and every attempt to send it. The mail worker
//! (`crate::mail::worker`) claims what is due ([`claim_due`]), sends it and records the
//! transport's answer ([`record_attempt`]); the secretariat reads both ([`list`],
//! [`attempts_of`]). Notices are never deleted and attempts never change (the database refuses).
//!
//! Claiming is safe with several workers on one database, in one process or several: a claim is
//! an update that succeeds only while the notice is still pending and due, and it moves
//! `next_attempt_at` to the end of a lease, so no other worker takes it meanwhile. A worker that
//! dies while sending leaves the notice to be taken again when its lease ends: a notice is sent
//! at least once.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, SubsecRound};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{notice_attempts, notices};
use super::{DbConnection, StoreError};
use crate::core::{AssociationId, Instant};
use crate::mail::notice::Notice;

/// Where a notice stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting to be sent, or to be tried again.
    Pending,
    /// Accepted by the transport (the mail server, or the outbox directory).
    Sent,
    /// Refused for good, or still failing after the last attempt allowed.
    Failed,
    /// No longer due when its time came (a reminder for a meeting that opened, say).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Pending, Status::Sent, Status::Failed, Status::Cancelled];

    pub fn code(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// What the transport answered to one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Sent,
    TemporaryFailure,
    PermanentFailure,
}

impl AttemptResult {
    pub fn code(self) -> &'static str {
        match self {
            AttemptResult::Sent => "sent",
            AttemptResult::TemporaryFailure => "temporary_failure",
            AttemptResult::PermanentFailure => "permanent_failure",
        }
    }

    pub fn parse(code: &str) -> Option<AttemptResult> {
        [AttemptResult::Sent, AttemptResult::TemporaryFailure, AttemptResult::PermanentFailure]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notices)]
struct NoticeRow {
    id: String,
    association_id: String,
    seq: i64,
    kind: String,
    recipient: String,
    language: String,
    member_id: Option<String>,
    person_id: Option<String>,
    meeting_id: Option<String>,
    notice: String,
    created_at: NaiveDateTime,
    send_after: Option<NaiveDateTime>,
    status: String,
    attempts: i32,
    next_attempt_at: NaiveDateTime,
    last_error: Option<String>,
    message_id: Option<String>,
    sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = notice_attempts)]
struct AttemptRow {
    notice_id: String,
    attempt: i32,
    at: NaiveDateTime,
    result: String,
    message_id: Option<String>,
    error: Option<String>,
}

/// A notice as the outbox holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub id: String,
    pub association: AssociationId,
    /// The logged event that caused it.
    pub seq: i64,
    pub notice: Notice,
    pub created_at: Instant,
    pub status: Status,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the worker may take it (again); while it is being sent, the end of the lease.
    pub next_attempt_at: Instant,
    pub last_error: Option<String>,
    /// The Message-ID header of the message, once an attempt was made (`<…@…>`).
    pub message_id: Option<String>,
    /// When the transport accepted it.
    pub sent_at: Option<Instant>,
}

/// One attempt to send a notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub attempt: u32,
    pub at: Instant,
    pub result: AttemptResult,
    pub message_id: Option<String>,
    pub error: Option<String>,
}

/// Where a notice goes after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Accepted: sent at the attempt's moment.
    Sent,
    /// Try again at this moment.
    Retry(Instant),
    /// Give up.
    Failed,
}

/// Times are stored to the microsecond on both backends.
fn utc(t: Instant) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

const NOTICE_NAMESPACE: Uuid = Uuid::from_u128(0x0b6c_52e4_1f7a_4d0e_9b35_6e21_c7d8_a902);

/// The id of the `n`th notice caused by the event `seq` of an association: the same whoever
/// computes it, so a notice cannot be queued twice.
pub fn notice_id(association: AssociationId, seq: i64, n: usize) -> String {
    Uuid::new_v5(&NOTICE_NAMESPACE, format!("{association}/{seq}/{n}").as_bytes()).to_string()
}

fn corrupt(seq: i64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt { seq, reason: reason.into() }
}

/// Queues the notices the logged event `seq` caused, at `now` (the command's moment), in the
/// caller's transaction. Returns how many.
pub fn enqueue(
    conn: &mut DbConnection,
    association: AssociationId,
    seq: i64,
    queued: &[Notice],
    now: Instant,
) -> Result<usize, StoreError> {
    for (n, notice) in queued.iter().enumerate() {
        let json = serde_json::to_string(notice)
            .map_err(|e| corrupt(seq, format!("a notice cannot be written as JSON: {e}")))?;
        diesel::insert_into(notices::table)
            .values(NoticeRow {
                id: notice_id(association, seq, n),
                association_id: association.to_string(),
                seq,
                kind: notice.kind.code().to_owned(),
                recipient: notice.to.clone(),
                language: super::projection::code(&notice.language),
                member_id: notice.member.map(|m| m.to_string()),
                person_id: notice.person.map(|p| p.to_string()),
                meeting_id: notice.meeting.map(|m| m.to_string()),
                notice: json,
                created_at: utc(now),
                send_after: notice.send_after.map(utc),
                status: Status::Pending.code().to_owned(),
                attempts: 0,
                next_attempt_at: utc(notice.send_after.unwrap_or(now)),
                last_error: None,
                message_id: None,
                sent_at: None,
            })
            .execute(conn)?;
    }
    Ok(queued.len())
}

fn parse(row: NoticeRow) -> Result<StoredNotice, StoreError> {
    let seq = row.seq;
    let association =
        row.association_id.parse().map_err(|e: crate::core::ids::IdError| corrupt(seq, e.to_string()))?;
    let notice: Notice = serde_json::from_str(&row.notice)
        .map_err(|e| corrupt(seq, format!("the notice {} is unreadable: {e}", row.id)))?;
    let status = Status::parse(&row.status).ok_or_else(|| {
        corrupt(seq, format!("the notice {} has the unknown status {:?}", row.id, row.status))
    })?;
    Ok(StoredNotice {
        id: row.id,
        association,
        seq,
        notice,
        created_at: row.created_at.and_utc(),
        status,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        next_attempt_at: row.next_attempt_at.and_utc(),
        last_error: row.last_error,
        message_id: row.message_id,
        sent_at: row.sent_at.map(|t| t.and_utc()),
    })
}

/// Claims up to `limit` notices that are pending and due at `now`, oldest first, until
/// `lease_until`: no other worker takes them before then. Returns those this caller claimed.
pub fn claim_due(
    conn: &mut DbConnection,
    now: Instant,
    lease_until: Instant,
    limit: i64,
) -> Result<Vec<StoredNotice>, StoreError> {
    let due: Vec<String> = notices::table
        .filter(notices::status.eq(Status::Pending.code()))
        .filter(notices::next_attempt_at.le(utc(now)))
        .order((
            notices::next_attempt_at.asc(),
            notices::created_at.asc(),
            notices::seq.asc(),
            notices::id.asc(),
        ))
        .select(notices::id)
        .limit(limit)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // The claims in one transaction that begins with a write, so SQLite takes its write lock
    // at once (waiting for a busy writer) rather than failing to upgrade a read.
    let claimed: Vec<String> = super::transaction(conn, |c| {
        let mut claimed = Vec::with_capacity(due.len());
        for id in due {
            // Only while it is still pending and due: a worker that claimed it first has moved
            // `next_attempt_at` past `now`, or sent it.
            let n = diesel::update(
                notices::table
                    .filter(notices::id.eq(&id))
                    .filter(notices::status.eq(Status::Pending.code()))
                    .filter(notices::next_attempt_at.le(utc(now))),
            )
            .set(notices::next_attempt_at.eq(utc(lease_until)))
            .execute(c)?;
            if n == 1 {
                claimed.push(id);
            }
        }
        Ok::<_, StoreError>(claimed)
    })?;
    let mut out = Vec::with_capacity(claimed.len());
    for id in claimed {
        if let Some(notice) = get(conn, &id)? {
            out.push(notice);
        }
    }
    Ok(out)
}

/// A notice by its id.
pub fn get(conn: &mut DbConnection, id: &str) -> Result<Option<StoredNotice>, StoreError> {
    let row: Option<NoticeRow> = notices::table
        .filter(notices::id.eq(id))
        .select(NoticeRow::as_select())
        .get_result(conn)
        .optional()?;
    row.map(parse).transpose()
}

/// Records an attempt and where the notice goes after it, in one transaction.
pub fn record_attempt(
    conn: &mut DbConnection,
    id: &str,
    attempt: &Attempt,
    after: After,
) -> Result<(), StoreError> {
    super::transaction(conn, |c| {
        let number = i32::try_from(attempt.attempt).unwrap_or(i32::MAX);
        diesel::insert_into(notice_attempts::table)
            .values(AttemptRow {
                notice_id: id.to_owned(),
                attempt: number,
                at: utc(attempt.at),
                result: attempt.result.code().to_owned(),
                message_id: attempt.message_id.clone(),
                error: attempt.error.clone(),
            })
            .execute(c)?;
        let target = notices::table.filter(notices::id.eq(id));
        let common = (
            notices::attempts.eq(number),
            notices::message_id.eq(attempt.message_id.clone()),
            notices::last_error.eq(attempt.error.clone()),
        );
        match after {
            After::Sent => diesel::update(target)
                .set((
                    common,
                    notices::status.eq(Status::Sent.code()),
                    notices::sent_at.eq(Some(utc(attempt.at))),
                ))
                .execute(c)?,
            After::Retry(at) => diesel::update(target)
                .set((
                    common,
                    notices::status.eq(Status::Pending.code()),
                    notices::next_attempt_at.eq(utc(at)),
                ))
                .execute(c)?,
            After::Failed => {
                diesel::update(target).set((common, notices::status.eq(Status::Failed.code()))).execute(c)?
            }
        };
        Ok(())
    })
}

/// Cancels a pending notice that no longer applies, saying why.
pub fn cancel(conn: &mut DbConnection, id: &str, reason: &str) -> Result<(), StoreError> {
    diesel::update(
        notices::table.filter(notices::id.eq(id)).filter(notices::status.eq(Status::Pending.code())),
    )
    .set((notices::status.eq(Status::Cancelled.code()), notices::last_error.eq(Some(reason.to_owned()))))
    .execute(conn)?;
    Ok(())
}

/// Which notices to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub meeting: Option<String>,
    pub status: Option<Status>,
    /// A kind's code (`convocation`, …).
    pub kind: Option<String>,
    /// The member it is for or about.
    pub member: Option<String>,
    /// Only those after this place in the list's order: the next page.
    pub after: Option<Place>,
    /// At most this many.
    pub limit: Option<i64>,
}

/// Where a notice stands in the order of [`list`]: the place a next page starts after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    seq: i64,
    created_at: NaiveDateTime,
    id: String,
}

/// The place of an association's notice in the order of [`list`]; None for no such notice.
pub fn place_of(
    conn: &mut DbConnection,
    association: AssociationId,
    id: &str,
) -> Result<Option<Place>, StoreError> {
    let found = notices::table
        .filter(notices::association_id.eq(association.to_string()))
        .filter(notices::id.eq(id))
        .select((notices::seq, notices::created_at))
        .get_result::<(i64, NaiveDateTime)>(conn)
        .optional()?;
    Ok(found.map(|(seq, created_at)| Place { seq, created_at, id: id.to_owned() }))
}

/// The notices of an association, in the order they were queued.
pub fn list(
    conn: &mut DbConnection,
    association: AssociationId,
    filter: &Filter,
) -> Result<Vec<StoredNotice>, StoreError> {
    let mut query = notices::table.filter(notices::association_id.eq(association.to_string())).into_boxed();
    if let Some(m) = &filter.meeting {
        query = query.filter(notices::meeting_id.eq(m.clone()));
    }
    if let Some(s) = filter.status {
        query = query.filter(notices::status.eq(s.code()));
    }
    if let Some(k) = &filter.kind {
        query = query.filter(notices::kind.eq(k.clone()));
    }
    if let Some(m) = &filter.member {
        query = query.filter(notices::member_id.eq(m.clone()));
    }
    if let Some(Place { seq, created_at, id }) = filter.after.clone() {
        // The list's order is (seq, created_at, id): what comes after a notice in it.
        query = query.filter(notices::seq.gt(seq).or(notices::seq.eq(seq).and(
            notices::created_at.gt(created_at).or(notices::created_at.eq(created_at).and(notices::id.gt(id))),
        )));
    }
    if let Some(limit) = filter.limit {
        query = query.limit(limit);
    }
    let rows: Vec<NoticeRow> = query
        .order((notices::seq.asc(), notices::created_at.asc(), notices::id.asc()))
        .select(NoticeRow::as_select())
        .load(conn)?;
    rows.into_iter().map(parse).collect()
}

/// The attempts of each of `ids`, in order.
pub fn attempts_of(
    conn: &mut DbConnection,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<Attempt>>, StoreError> {
    let mut out: BTreeMap<String, Vec<Attempt>> = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<AttemptRow> = notice_attempts::table
            .filter(notice_attempts::notice_id.eq_any(chunk))
            .order((notice_attempts::notice_id.asc(), notice_attempts::attempt.asc()))
            .select(AttemptRow::as_select())
            .load(conn)?;
        for row in rows {
            let result = AttemptResult::parse(&row.result).ok_or_else(|| {
                corrupt(
                    0,
                    format!("an attempt of notice {} has the unknown result {:?}", row.notice_id, row.result),
                )
            })?;
            out.entry(row.notice_id).or_default().push(Attempt {
                attempt: u32::try_from(row.attempt).unwrap_or(0),
                at: row.at.and_utc(),
                result,
                message_id: row.message_id,
                error: row.error,
            });
        }
    }
    Ok(out)
}
