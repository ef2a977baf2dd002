//! Support for Patto's end-to-end tests: a fresh database per test on SQLite (always) and
//! on PostgreSQL (when `PATTO_TEST_DATABASE_URL` names a server where the user may create
//! databases), and a minimal HTTP client for servers started on port 0.
//!
//! Without `PATTO_TEST_DATABASE_URL` the PostgreSQL half of each test prints a skip line;
//! under CI (`CI` set) it fails instead, so that CI cannot silently test one backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use patto_store::{DatabaseConfig, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub mod smtp;

/// Printed when the PostgreSQL half of a test is skipped.
pub const SKIP_LINE: &str = "SKIP postgres: PATTO_TEST_DATABASE_URL is not set; set it (e.g. postgres://postgres@127.0.0.1/postgres) to run this test on PostgreSQL too";

/// A database made for one test and removed after it, with a scratch directory of its
/// own (the SQLite data directory, or an empty one beside a PostgreSQL database).
pub struct TestDatabase {
    pub config: DatabaseConfig,
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
}

fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("patto-test-{}", uuid::Uuid::new_v4()))
}

impl TestDatabase {
    /// A new SQLite database in a directory of its own.
    pub fn sqlite() -> TestDatabase {
        let dir = scratch_dir();
        TestDatabase {
            config: DatabaseConfig::DataDir(dir.clone()),
            dir,
            postgres: None,
        }
    }

    /// A new PostgreSQL database, or `None` (after printing why) when none is configured.
    pub async fn postgres() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("PATTO_TEST_DATABASE_URL") else {
            if std::env::var_os("CI").is_some() {
                panic!("PATTO_TEST_DATABASE_URL must be set in CI so that PostgreSQL is tested");
            }
            // Written to the process's stderr directly: the test harness captures
            // `eprintln!`, and a skip must be visible in a passing run.
            let _ = writeln!(std::io::stderr(), "{SKIP_LINE}");
            return None;
        };
        let name = format!("patto_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Store::connect(&DatabaseConfig::Url(admin_url.clone()))
            .await
            .expect("PATTO_TEST_DATABASE_URL must point at a reachable PostgreSQL server");
        admin
            .execute_raw(&format!("CREATE DATABASE {name}"))
            .await
            .expect("the PostgreSQL user must be allowed to create databases");
        admin.close().await.unwrap();
        let dir = scratch_dir();
        std::fs::create_dir_all(&dir).unwrap();
        Some(TestDatabase {
            config: DatabaseConfig::Url(with_database(&admin_url, &name)),
            dir,
            postgres: Some((admin_url, name)),
        })
    }

    /// Connects and migrates.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.config).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Removes the database. Connections to it must be closed or idle.
    pub async fn remove(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = self.postgres {
            let admin = Store::connect(&DatabaseConfig::Url(admin_url))
                .await
                .unwrap();
            admin
                .execute_raw(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            admin.close().await.ok();
        }
    }
}

/// The URL with its database name replaced.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs each listed async case `fn(TestDatabase)` twice, as two tests: on SQLite and on
/// PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$case($crate::TestDatabase::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(database) = $crate::TestDatabase::postgres().await {
                        super::$case(database).await;
                    }
                }
            }
        )+
    };
}

/// A GET over a real TCP connection; returns the status code and the body.
pub async fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("an HTTP status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
