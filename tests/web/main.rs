//! The web pages' server side: sign-in by code into a session cookie, CSRF refusals, each
//! page for its role and the refusal page for others, the language switch, the voter's and
//! the auditor's pages with real data, and the browser's canonical encoder and receipt checks
//! (`static/encoding.js`) run by Node.js against the repository's vectors and a real receipt.

#[path = "../common/db.rs"]
mod db;
#[path = "../api/support.rs"]
mod support;

mod browser;
mod encoding;
mod pages;
mod resolutions;
mod staff;
