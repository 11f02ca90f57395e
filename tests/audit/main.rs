//! The auditor's verifier on a real exported meeting: the 2022 meeting as the demo loads it,
//! exported from the service's database and verified offline; and every kind of tampering.

#[path = "../common/db.rs"]
mod db;
mod fuzzing;
mod pipeline;
mod support;
mod tampering;
mod verify;
