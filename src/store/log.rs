//! The event log of each association: appending under the head lock, and reading back in order.

use diesel::prelude::*;

use super::rows::{EventRow, TreeHeadRow};
use super::schema::{events, log_head, tree_heads};
use super::{DbConnection, StoreError};
use crate::core::{AssociationId, Event};

/// The stream of events that concern no single meeting: the register, members' requests and
/// resolutions outside a meeting.
pub const ASSOCIATION_STREAM: &str = "association";

/// An event with its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub seq: i64,
    pub stream: String,
    pub stream_index: i64,
    pub event: Event,
    /// The event's bytes exactly as stored: what the log's leaf hashes.
    pub body: String,
}

/// The leaf hash of a logged event (see `ledger::log`).
pub fn leaf_of(association: AssociationId, logged: &Logged) -> crate::ledger::merkle::Hash {
    crate::ledger::log::entry_hash(
        association,
        logged.event.fact.meeting(),
        u64::try_from(logged.stream_index).unwrap_or(0),
        u64::try_from(logged.seq).unwrap_or(0),
        logged.event.at,
        logged.body.as_bytes(),
    )
}

/// Stores a signed tree head.
pub fn store_head(
    conn: &mut DbConnection,
    stream: &str,
    signed: &crate::ledger::log::SignedTreeHead,
) -> Result<(), StoreError> {
    use crate::ledger::log::hex;
    diesel::insert_into(tree_heads::table)
        .values(TreeHeadRow {
            association_id: signed.head.association.to_string(),
            stream: stream.to_owned(),
            size: i64::try_from(signed.head.size).unwrap_or(i64::MAX),
            root: hex(&signed.head.root),
            signed_at: signed.head.timestamp.naive_utc(),
            signature: hex(&signed.signature),
        })
        .execute(conn)?;
    Ok(())
}

/// A stored signed tree head of a stream: of `size`, or the latest when `size` is `None`.
pub fn read_head(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
    size: Option<u64>,
) -> Result<Option<crate::ledger::log::SignedTreeHead>, StoreError> {
    let mut query = tree_heads::table
        .filter(tree_heads::association_id.eq(association.to_string()))
        .filter(tree_heads::stream.eq(stream))
        .into_boxed();
    if let Some(size) = size {
        query = query.filter(tree_heads::size.eq(i64::try_from(size).unwrap_or(i64::MAX)));
    }
    let row: Option<TreeHeadRow> =
        query.order(tree_heads::size.desc()).select(TreeHeadRow::as_select()).first(conn).optional()?;
    row.map(|row| head_of_row(association, stream, row)).transpose()
}

/// The stream an event belongs to.
pub fn stream_of(event: &Event) -> String {
    event.fact.meeting().map_or_else(|| ASSOCIATION_STREAM.to_owned(), |m| m.to_string())
}

/// Takes the association's log write lock for the rest of the transaction and returns the
/// last sequence number. On PostgreSQL this is a row lock that a second writer waits for; on
/// SQLite the write takes the database's write lock, which a second writer waits for.
pub fn lock_head(conn: &mut DbConnection, association: AssociationId) -> Result<i64, StoreError> {
    let a = association.to_string();
    let updated = diesel::update(log_head::table.filter(log_head::association_id.eq(&a)))
        .set(log_head::last_seq.eq(log_head::last_seq))
        .execute(conn)?;
    if updated == 0 {
        return Err(StoreError::UnknownAssociation(association));
    }
    Ok(log_head::table.filter(log_head::association_id.eq(&a)).select(log_head::last_seq).get_result(conn)?)
}

/// The last sequence number, without locking.
pub fn head(conn: &mut DbConnection, association: AssociationId) -> Result<i64, StoreError> {
    log_head::table
        .filter(log_head::association_id.eq(association.to_string()))
        .select(log_head::last_seq)
        .get_result(conn)
        .optional()?
        .ok_or(StoreError::UnknownAssociation(association))
}

/// The position in a stream where its next event goes.
pub fn next_index(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
) -> Result<i64, StoreError> {
    let max: Option<i64> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq(stream))
        .select(diesel::dsl::max(events::stream_index))
        .get_result(conn)?;
    Ok(max.map_or(0, |m| m + 1))
}

/// Appends events after `last_seq` (the head taken under [`lock_head`]) and moves the head
/// past them; returns them logged.
pub fn append(
    conn: &mut DbConnection,
    association: AssociationId,
    last_seq: i64,
    events_to_log: &[(Event, i64)],
) -> Result<Vec<Logged>, StoreError> {
    let logged = insert_events(conn, association, last_seq, events_to_log)?;
    set_head(conn, association, last_seq + events_to_log.len() as i64)?;
    Ok(logged)
}

/// Inserts events after `last_seq` (under [`lock_head`]) without moving the head: a batch of
/// commands inserts the events of each in turn and moves the head once, with [`set_head`].
pub fn insert_events(
    conn: &mut DbConnection,
    association: AssociationId,
    last_seq: i64,
    events_to_log: &[(Event, i64)],
) -> Result<Vec<Logged>, StoreError> {
    let (rows, logged) = event_rows(association, last_seq, events_to_log)?;
    insert_rows(conn, &rows)?;
    Ok(logged)
}

/// The rows of events after `last_seq` and the events logged, without writing them: a batch
/// of commands collects the rows of all and writes them with [`insert_rows`] before it moves
/// the head.
pub fn event_rows(
    association: AssociationId,
    last_seq: i64,
    events_to_log: &[(Event, i64)],
) -> Result<(Vec<EventRow>, Vec<Logged>), StoreError> {
    let a = association.to_string();
    let mut rows = Vec::with_capacity(events_to_log.len());
    let mut logged = Vec::with_capacity(events_to_log.len());
    for (i, (event, stream_index)) in events_to_log.iter().enumerate() {
        let seq = last_seq + 1 + i as i64;
        // Through `Value`, whose keys are ordered: the stored body is the one spelling the
        // export and the verifier expect.
        let value =
            serde_json::to_value(event).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?;
        let kind = value.get("event").and_then(|k| k.as_str()).unwrap_or_default().to_owned();
        let stream = stream_of(event);
        let body = value.to_string();
        rows.push(EventRow {
            association_id: a.clone(),
            seq,
            stream: stream.clone(),
            stream_index: *stream_index,
            at: event.at.naive_utc(),
            kind,
            body: body.clone(),
        });
        logged.push(Logged { seq, stream, stream_index: *stream_index, event: event.clone(), body });
    }
    Ok((rows, logged))
}

/// Rows of one multi-row statement: far under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// values at the widest row written this way (ten columns).
pub(crate) const ROWS_PER_STATEMENT: usize = 1_000;

/// Writes event rows, [`ROWS_PER_STATEMENT`] to a statement.
pub fn insert_rows(conn: &mut DbConnection, rows: &[EventRow]) -> Result<(), StoreError> {
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        // The multi-backend connection has no multi-row insert; each backend's own has.
        match conn {
            DbConnection::Sqlite(c) => diesel::insert_into(events::table).values(chunk).execute(c)?,
            DbConnection::Postgresql(c) => diesel::insert_into(events::table).values(chunk).execute(c)?,
        };
    }
    Ok(())
}

/// Moves the log's head to `seq`, the last event inserted (under [`lock_head`]).
pub fn set_head(conn: &mut DbConnection, association: AssociationId, seq: i64) -> Result<(), StoreError> {
    diesel::update(log_head::table.filter(log_head::association_id.eq(association.to_string())))
        .set(log_head::last_seq.eq(seq))
        .execute(conn)?;
    Ok(())
}

fn decode(rows: Vec<EventRow>) -> Result<Vec<Logged>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let event: Event = serde_json::from_str(&row.body)
                .map_err(|e| StoreError::Corrupt { seq: row.seq, reason: e.to_string() })?;
            Ok(Logged {
                seq: row.seq,
                stream: row.stream,
                stream_index: row.stream_index,
                event,
                body: row.body,
            })
        })
        .collect()
}

/// The events after `seq`, in order, at most `limit` of them.
pub fn read_after(
    conn: &mut DbConnection,
    association: AssociationId,
    seq: i64,
    limit: i64,
) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::seq.gt(seq))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    decode(rows)
}

/// The events of one stream (a meeting's log), in order.
pub fn read_stream(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq(stream))
        .order(events::stream_index.asc())
        .select(EventRow::as_select())
        .load(conn)?;
    decode(rows)
}

/// The events of one stream from position `from`, in order, at most `limit` of them.
pub fn read_stream_range(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
    from: i64,
    limit: i64,
) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq(stream))
        .filter(events::stream_index.ge(from))
        .order(events::stream_index.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    decode(rows)
}

/// The events of several streams after `seq` and up to `until`, in log order, at most `limit`.
pub fn read_streams_after(
    conn: &mut DbConnection,
    association: AssociationId,
    streams: &[String],
    seq: i64,
    until: i64,
    limit: i64,
) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq_any(streams))
        .filter(events::seq.gt(seq))
        .filter(events::seq.le(until))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    decode(rows)
}

/// Every signed tree head of a stream, smallest first.
pub fn read_heads(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
) -> Result<Vec<crate::ledger::log::SignedTreeHead>, StoreError> {
    let rows: Vec<TreeHeadRow> = tree_heads::table
        .filter(tree_heads::association_id.eq(association.to_string()))
        .filter(tree_heads::stream.eq(stream))
        .order(tree_heads::size.asc())
        .select(TreeHeadRow::as_select())
        .load(conn)?;
    rows.into_iter().map(|row| head_of_row(association, stream, row)).collect()
}

fn head_of_row(
    association: AssociationId,
    stream: &str,
    row: TreeHeadRow,
) -> Result<crate::ledger::log::SignedTreeHead, StoreError> {
    use crate::ledger::log::{SignedTreeHead, TreeHead, unhex};
    let corrupt = |what: &str| StoreError::Corrupt {
        seq: 0,
        reason: format!("tree head {} of {stream}: bad {what}", row.size),
    };
    let root: [u8; 32] = unhex(&row.root).and_then(|r| r.try_into().ok()).ok_or_else(|| corrupt("root"))?;
    let signature: [u8; 64] =
        unhex(&row.signature).and_then(|r| r.try_into().ok()).ok_or_else(|| corrupt("signature"))?;
    let meeting = if stream == ASSOCIATION_STREAM {
        None
    } else {
        Some(stream.parse().map_err(|_| corrupt("stream"))?)
    };
    Ok(SignedTreeHead {
        head: TreeHead {
            association,
            meeting,
            size: u64::try_from(row.size).unwrap_or(0),
            root,
            timestamp: row.signed_at.and_utc(),
        },
        signature,
    })
}

/// The first event of `kind` (its tag, e.g. `meeting_convened`) in a stream, read through the
/// stream's index in order: a lookup near the start of a long log reads little of it.
pub fn first_in_stream(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
    kind: &str,
) -> Result<Option<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq(stream))
        .filter(events::kind.eq(kind))
        .order(events::stream_index.asc())
        .limit(1)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok(decode(rows)?.pop())
}

/// The events of `kind` in a stream whose stored body holds `needle` (a signature's hex), in
/// log order: the candidates for a statement the log may already hold, which the caller
/// decodes and compares exactly. Hex digits need no escaping in a `LIKE` pattern.
pub fn find_in_stream(
    conn: &mut DbConnection,
    association: AssociationId,
    stream: &str,
    kind: &str,
    needle: &str,
) -> Result<Vec<Logged>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::association_id.eq(association.to_string()))
        .filter(events::stream.eq(stream))
        .filter(events::kind.eq(kind))
        .filter(events::body.like(format!("%{needle}%")))
        .order(events::seq.asc())
        .select(EventRow::as_select())
        .load(conn)?;
    decode(rows)
}
