//! The event log of each association: appending under the head lock, and reading back in order.

use diesel::prelude::*;

use super::rows::EventRow;
use super::schema::{events, log_head};
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
    Ok(log_head::table.filter(log_head::association_id.eq(&a)).select(log_head::last_seq).first(conn)?)
}

/// The last sequence number, without locking.
pub fn head(conn: &mut DbConnection, association: AssociationId) -> Result<i64, StoreError> {
    log_head::table
        .filter(log_head::association_id.eq(association.to_string()))
        .select(log_head::last_seq)
        .first(conn)
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
        .first(conn)?;
    Ok(max.map_or(0, |m| m + 1))
}

/// Appends events after `last_seq` (the head taken under [`lock_head`]); returns them logged.
pub fn append(
    conn: &mut DbConnection,
    association: AssociationId,
    last_seq: i64,
    events_to_log: &[(Event, i64)],
) -> Result<Vec<Logged>, StoreError> {
    let a = association.to_string();
    let mut logged = Vec::with_capacity(events_to_log.len());
    for (i, (event, stream_index)) in events_to_log.iter().enumerate() {
        let seq = last_seq + 1 + i as i64;
        let value =
            serde_json::to_value(event).map_err(|e| StoreError::Corrupt { seq, reason: e.to_string() })?;
        let kind = value.get("event").and_then(|k| k.as_str()).unwrap_or_default().to_owned();
        let stream = stream_of(event);
        let row = EventRow {
            association_id: a.clone(),
            seq,
            stream: stream.clone(),
            stream_index: *stream_index,
            at: event.at.naive_utc(),
            kind,
            body: value.to_string(),
        };
        // One statement per row: the multi-backend connection has no batch insert.
        diesel::insert_into(events::table).values(row).execute(conn)?;
        logged.push(Logged { seq, stream, stream_index: *stream_index, event: event.clone() });
    }
    let new_head = last_seq + events_to_log.len() as i64;
    diesel::update(log_head::table.filter(log_head::association_id.eq(&a)))
        .set(log_head::last_seq.eq(new_head))
        .execute(conn)?;
    Ok(logged)
}

fn decode(rows: Vec<EventRow>) -> Result<Vec<Logged>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let event: Event = serde_json::from_str(&row.body)
                .map_err(|e| StoreError::Corrupt { seq: row.seq, reason: e.to_string() })?;
            Ok(Logged { seq: row.seq, stream: row.stream, stream_index: row.stream_index, event })
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
