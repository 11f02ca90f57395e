//! The ledger: what makes a meeting's log verifiable by someone who does not trust the server.
//! Canonical bytes for what people sign ([`canonical`]), strict Ed25519 verification
//! ([`signature`]), and an RFC 6962 Merkle tree over the log with inclusion and consistency
//! proofs ([`merkle`]). Pure: no IO, no clock.

pub mod audit;
pub mod author;

pub mod canonical;
pub mod exact;
pub mod export;
pub mod log;
pub mod merkle;
pub mod signature;
