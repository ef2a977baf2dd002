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

pub mod process;
pub mod smtp;
pub mod tls;

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

/// An HTTP answer: status, headers (names in lower case) and body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {}", self.body))
    }
}

/// A request over a real TCP connection, with the given headers and body. The server may
/// answer before the whole body is sent (a body over the limit): what it answered is
/// returned all the same.
pub async fn http_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpAnswer {
    // Raw TCP rather than an HTTP client: a body over the limit must be sendable, and the
    // server's answer readable, even when the server stops reading half-way.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let sent = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await
    }
    .await;
    // A refused body may be cut off by the server: its answer is still readable.
    drop(sent);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let response = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .map(|(h, b)| (h.to_owned(), b.to_owned()))
        .unwrap_or_else(|| panic!("no HTTP answer: {response:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("an HTTP status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    HttpAnswer {
        status,
        headers,
        body,
    }
}

/// Bearer tokens for tests, standing in for the engine's session services behind the
/// API's [`patto_api::Sessions`] boundary: each token names a person until revoked. Backed
/// by an engine, it also accepts the tokens the engine issued (a real login).
#[derive(Default)]
pub struct TestSessions {
    tokens: std::sync::Mutex<std::collections::HashMap<String, patto_core::ids::PersonId>>,
    engine: Option<std::sync::Arc<patto_engine::Engine>>,
}

impl TestSessions {
    /// Test tokens, and beside them the tokens `engine` issues.
    pub fn backed_by(engine: std::sync::Arc<patto_engine::Engine>) -> TestSessions {
        TestSessions {
            tokens: Default::default(),
            engine: Some(engine),
        }
    }

    /// A new token for the person.
    pub fn issue(&self, person: patto_core::ids::PersonId) -> String {
        let token = format!("test-{}", uuid::Uuid::new_v4());
        self.tokens.lock().unwrap().insert(token.clone(), person);
        token
    }

    /// Makes a token stop working.
    pub fn revoke(&self, token: &str) {
        self.tokens.lock().unwrap().remove(token);
    }
}

impl patto_api::Sessions for TestSessions {
    fn authenticate<'a>(&'a self, token: &'a str) -> patto_api::SessionFuture<'a> {
        let found = self.tokens.lock().unwrap().get(token).copied();
        Box::pin(async move {
            if let Some(person) = found {
                return Ok(person);
            }
            match &self.engine {
                Some(engine) => Ok(engine.authenticate(token).await?.person.id),
                None => Err(patto_api::ApiError::Unauthenticated(
                    "this token is unknown, expired or revoked; log in again".to_owned(),
                )),
            }
        })
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

/// A reqwest client, made as the binary makes its own (see `patto::http_client`).
pub fn http_client() -> reqwest::Client {
    patto::http_client::builder().build().unwrap()
}

/// A GET over real HTTP; returns the status code and the body.
pub async fn http_get(address: SocketAddr, path: &str) -> (u16, String) {
    let response = http_client()
        .get(format!("http://{address}{path}"))
        .send()
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
