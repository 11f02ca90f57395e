//! The voter's command line against a real server: `stembus keygen`, `sign-in`, `enrol`,
//! `vote` and `receipt check` run as the built binary, as a voter runs them, against a service
//! started in this process on a free port (SQLite in a temporary directory, a file outbox and a
//! clock the test sets). The register and the meeting are set up through the service directly.
//! And the auditor's `audit verify` and `audit export` on a real export and the service's database.

mod support;

mod audit;
mod voting;
