//! The rules of RULES.md, tested at their boundaries, and the core's properties. One test
//! binary; one module per rule.

mod support;

mod cli;
mod r8_records;
mod replay_2022;
