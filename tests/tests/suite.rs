//! Patto's end-to-end suite: one test binary, run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "suite/engine.rs"]
mod engine;
#[path = "suite/server.rs"]
mod server;
