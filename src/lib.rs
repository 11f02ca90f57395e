//! Stembus: verifiable digital voting for the general meeting of a cooperative association.
//!
//! The crate is built in layers (see docs/ARCHITECTURE.md). [`core`] is the pure rules
//! engine and meeting state machine; [`scenario`] replays a meeting described in a file
//! through it, which the command-line entry point uses.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod core;
pub mod http;
pub mod keys;
pub mod ledger;
pub mod mail;
pub mod outbox;
pub mod scenario;
pub mod service;
pub mod store;
pub mod web;
