//! The service on its storage, on SQLite and on PostgreSQL: migrations, the append-only log,
//! projections written with their events, restarts, and concurrent writers; the persisted
//! outbox of e-mail and its worker; group commit.

#[path = "../common/db.rs"]
mod db;
mod group_commit;
mod notices;
mod storage;
