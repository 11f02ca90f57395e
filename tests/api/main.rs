//! The service over HTTP: a real server per test on a free port, on SQLite and PostgreSQL.

#[path = "../common/db.rs"]
mod db;
mod support;

mod basics;
mod export;
mod keys;
mod meetings;
mod polls;
mod records;
mod robustness;
mod storage_errors;
mod whole_meetings;
