//! The ledger: Merkle proofs and signatures against public test vectors, and the canonical encoding.

mod fuzzing;
mod merkle;
mod signatures;
