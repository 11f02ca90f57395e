//! E-mail to the members (issue 5) against a real SMTP server on 127.0.0.1: aiosmtpd from
//! Debian's python3-aiosmtpd, started by the tests (tests/common/smtp.rs), with the service's
//! SMTP transport, its persisted outbox and its worker, on SQLite and PostgreSQL.

#[path = "../common/db.rs"]
mod db;
#[path = "../common/smtp.rs"]
mod smtp;
#[path = "../api/support.rs"]
mod support;

mod mailapp;

mod convocations;
mod delivery;
mod notices;
mod smtp_server;
mod tls;
