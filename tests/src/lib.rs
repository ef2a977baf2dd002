//! Support for Patto's end-to-end tests: a fresh database per test on SQLite (always) and
//! on PostgreSQL (when `PATTO_TEST_DATABASE_URL` names a server where the user may create
//! databases), removed when the test ends however it ends, and an HTTP GET for servers
//! started on port 0.
//!
//! Without `PATTO_TEST_DATABASE_URL` the PostgreSQL half of each test prints a skip line;
//! under CI (`CI` set) it fails instead, so that CI cannot silently test one backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use patto_store::{DatabaseConfig, Store};

pub mod smtp;

/// Printed when the PostgreSQL half of a test is skipped.
pub const SKIP_LINE: &str = "SKIP postgres: PATTO_TEST_DATABASE_URL is not set; set it (e.g. postgres://postgres@127.0.0.1/postgres) to run this test on PostgreSQL too";

/// A database made for one test, with a scratch directory of its own (the SQLite data
/// directory, or an empty one beside a PostgreSQL database). Dropping it removes both,
/// also when the test fails, so that a failing run leaves nothing behind.
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
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = self.postgres.take() {
            drop_postgres_database(admin_url, name);
        }
    }
}

/// Drops a test database, ending the connections still open to it. `Drop` cannot await
/// and may run inside the test's runtime, which must not be blocked on from within, so
/// this runs on a thread of its own with a runtime of its own, and waits for it.
fn drop_postgres_database(admin_url: String, name: String) {
    let statement = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let dropper = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let admin = Store::connect(&DatabaseConfig::Url(admin_url))
                .await
                .map_err(std::io::Error::other)?;
            let dropped = admin
                .execute_raw(&statement)
                .await
                .map_err(std::io::Error::other);
            admin.close().await.ok();
            dropped.map(|_| ())
        })
    });
    let outcome = dropper
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the dropping thread panicked")));
    if let Err(error) = outcome {
        // A leftover database is reported, not hidden; `.ci/run` counts them too.
        let _ = writeln!(
            std::io::stderr(),
            "could not drop the test database {name}: {error}"
        );
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

/// A GET over real HTTP; returns the status code and the body.
pub async fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{address}{path}"))
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
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
