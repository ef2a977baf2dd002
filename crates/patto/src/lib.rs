//! The `patto` command line: configuration, wiring of store, engine and server, and the
//! operator commands (serve, migrate, backup, workflows, demo, audit, keys and
//! signatures, evidence, schedule, bench), and the online commands of people signing
//! through a server (login, logout, sign and keys request with --server).
//!
//! It owns no business rule: every change it makes goes through `patto-engine`, and every
//! rule about workflows lives in `patto-core`.

pub mod backup;
pub mod bench;
pub mod bench_outbox;
pub mod cli;
pub mod config;
pub mod demo;
mod demo_consultation;
mod demo_diagnosis;
mod demo_reports;
pub mod files;
pub mod http_client;
pub mod logging;
pub mod messages;
pub mod online;
pub mod schedule;
pub mod server;
pub mod signing;
pub mod survey;

pub use cli::{Cli, run};
