//! The rules of RULES.md, tested at their boundaries, and the core's properties. One test
//! binary; one module per rule.

mod support;

mod cli;
mod properties;
mod r1_one_member_one_vote;
mod r2_proxies;
mod r3_convening;
mod r4_advance_voting;
mod r5_r6_session_and_polls;
mod r7_decisions;
mod r8_records;
mod r8_signatures;
mod replay_2022;
mod written_resolution;
