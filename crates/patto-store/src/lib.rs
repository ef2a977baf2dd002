//! Persistence of Patto: the SeaORM entities and every query, for SQLite (the embedded
//! default, in WAL mode) and PostgreSQL. This is the only crate that names entities (they
//! are private to it); the engine works through [`Store`] and [`Tx`], passes typed ids and
//! receives the plain records of [`patto_core::records`].
//!
//! It never knows workflow rules, GraphQL or SMTP: it stores what the engine decided.

#![warn(missing_docs)]

mod batch;
mod convert;
mod entities;
mod error;
mod feed;
mod group;
mod held;
mod queries;

use std::path::{Path, PathBuf};
use std::time::Duration;

use patto_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sea_orm::sqlx::sqlite::{SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    Statement, TransactionOptions, TransactionTrait, Value,
};

use crate::batch::{SqliteWriter, StatementBatches};
use crate::feed::EventFeed;
use crate::group::{GroupCommit, GroupMember};
use crate::held::HeldConnections;

pub use error::StoreError;
pub use feed::{EventFollower, FEED_CAPACITY, Followed};
pub use queries::*;

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseConfig {
    /// The embedded default: `patto.sqlite3` inside this directory, created if missing.
    DataDir(PathBuf),
    /// A `sqlite://` or `postgres://` URL.
    Url(String),
}

impl DatabaseConfig {
    /// The configuration from an optional URL, falling back to the data directory.
    pub fn from_parts(url: Option<String>, data_dir: PathBuf) -> Self {
        match url {
            Some(url) if !url.trim().is_empty() => DatabaseConfig::Url(url),
            _ => DatabaseConfig::DataDir(data_dir),
        }
    }

    /// The database engine this configuration names, known without connecting.
    pub fn backend(&self) -> Result<Backend, StoreError> {
        match self {
            DatabaseConfig::DataDir(_) => Ok(Backend::Sqlite),
            DatabaseConfig::Url(url) if url.starts_with("sqlite:") => Ok(Backend::Sqlite),
            DatabaseConfig::Url(url)
                if url.starts_with("postgres://") || url.starts_with("postgresql://") =>
            {
                Ok(Backend::Postgres)
            }
            DatabaseConfig::Url(url) => Err(StoreError::UnsupportedUrl(redact_password(url))),
        }
    }

    /// A description safe to print: the password of a URL is hidden.
    pub fn describe(&self) -> String {
        match self {
            DatabaseConfig::DataDir(dir) => {
                format!("SQLite in {}", dir.join(SQLITE_FILE_NAME).display())
            }
            DatabaseConfig::Url(url) => redact_password(url),
        }
    }
}

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "patto.sqlite3";

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// A `sqlite:` URL that opens its database the way the data directory does: the file's
/// directory is created and the file with it (`mode=rwc`), unless the URL chooses a mode
/// itself or names an in-memory database. Without this, sqlx opens an existing file only,
/// and a URL written as README documents it fails with "unable to open database file".
fn creating_sqlite_url(url: &str) -> Result<String, StoreError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    let chooses_mode = query.is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.starts_with("mode=") || pair == "memory=true")
    });
    if path.is_empty() || path == ":memory:" || chooses_mode {
        return Ok(url.to_owned());
    }
    create_private_database(Path::new(path)).map_err(|cause| StoreError::SqliteDir {
        path: Path::new(path)
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf(),
        cause,
    })?;
    Ok(match query {
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    })
}

/// Which database engine a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL, over the network.
    Postgres,
}

impl Backend {
    /// The name used in logs and messages: `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Statements slower than this are logged at `warn` (target `sqlx::query`), with their
/// text and duration: a transition takes a few milliseconds, so one statement taking
/// this long means a missing index, lock contention or a struggling disk.
pub const SLOW_STATEMENT_THRESHOLD: Duration = Duration::from_millis(200);

/// A connection idle for longer than this is pinged before it is used again (by the pool,
/// and for the connections of `held`).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// A connection pool to the database.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    backend: Backend,
    /// SQLite admits one writer at a time. Queuing writers here, in order, instead of in
    /// SQLite's busy handler (which sleeps and retries) keeps write latency flat, and lets
    /// queued writers share a COMMIT (see [`group`]); one process owns an SQLite
    /// database, so an in-process lock is enough.
    writer: Option<GroupCommit>,
    /// The queue of transitions written in one statement, which commit together with the
    /// others that arrive with them (see [`batch`]).
    batches: StatementBatches,
    /// Connections kept beside the pool for a transition's unlocked read (see [`held`]).
    readers: Readers,
    /// The committed events told to this server's followers (see [`feed`]).
    feed: EventFeed,
    /// The URL connected to, for the `LISTEN` connection of a PostgreSQL store. It may
    /// hold a password: it is never logged or shown.
    url: String,
    /// How many SQL statements this pool has run, for tests that check a page of results
    /// costs a constant number of queries.
    #[cfg(feature = "test-support")]
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects (creating the SQLite file and its directory when needed). It does not
    /// migrate: call [`Store::migrate`].
    pub async fn connect(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let url = match config {
            DatabaseConfig::DataDir(dir) => {
                create_private_database(&dir.join(SQLITE_FILE_NAME)).map_err(|cause| {
                    StoreError::DataDir {
                        path: dir.clone(),
                        cause,
                    }
                })?;
                format!("sqlite://{}?mode=rwc", dir.join(SQLITE_FILE_NAME).display())
            }
            DatabaseConfig::Url(url) if url.starts_with("sqlite:") => creating_sqlite_url(url)?,
            DatabaseConfig::Url(url) => url.clone(),
        };
        let backend = config.backend()?;
        let mut options = ConnectOptions::new(url.clone());
        options
            // Only slow statements are logged; logging every statement would flood the
            // log and cost time on every query.
            .sqlx_logging(true)
            .sqlx_logging_level(log::LevelFilter::Off)
            .sqlx_slow_statements_logging_settings(log::LevelFilter::Warn, SLOW_STATEMENT_THRESHOLD)
            // Long enough to ride out a busy moment, short enough that a database that
            // is down is reported promptly.
            .acquire_timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(10))
            // A connection is checked with a ping before it is handed out only once it
            // has been idle for a while, when a server restart, a proxy or a firewall
            // may have dropped it. Pinging at every checkout (the default) cost a round
            // trip per statement run outside a transaction, and a transition's unlocked
            // read is one; a connection that fails in use is discarded by the pool.
            .test_before_acquire_if_idle_for(IDLE_BEFORE_PING);
        match backend {
            Backend::Sqlite => {
                // WAL lets readers proceed while one writer commits; write transactions
                // start with BEGIN IMMEDIATE (see `Store::begin`), so writers queue on the
                // busy timeout instead of failing when they upgrade a read lock. FULL
                // syncs the WAL at every commit: an acknowledged change survives a power
                // cut, not only a crash of the process (NORMAL would not promise that).
                options.max_connections(8).map_sqlx_sqlite_opts(|opts| {
                    opts.journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Full)
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(30))
                });
            }
            Backend::Postgres => {
                let choose_tls = !names_ssl_mode(&url, std::env::var_os("PGSSLMODE").is_some());
                options
                    .max_connections(32)
                    .map_sqlx_postgres_opts(move |opts| {
                        if choose_tls && is_this_machine(&opts) {
                            opts.ssl_mode(PgSslMode::Disable)
                        } else {
                            opts
                        }
                    });
            }
        }
        #[allow(unused_mut)]
        let mut db = Database::connect(options)
            .await
            .map_err(|cause| StoreError::Connect {
                target: config.describe(),
                cause,
            })?;
        #[cfg(feature = "test-support")]
        let statements = {
            let statements = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counter = statements.clone();
            db.set_metric_callback(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
            statements
        };
        let (writer, readers, batches, feed) = match backend {
            Backend::Sqlite => {
                let options = (*db.get_sqlite_connection_pool().connect_options()).clone();
                let feed = EventFeed::in_process();
                let writer = GroupCommit::default();
                let batches = StatementBatches::start_sqlite(SqliteWriter {
                    options: options.clone(),
                    writer: writer.clone(),
                    feed: feed.clone(),
                    #[cfg(feature = "test-support")]
                    counter: statements.clone(),
                });
                let readers = HeldConnections::new(
                    options,
                    #[cfg(feature = "test-support")]
                    statements.clone(),
                );
                (Some(writer), Readers::Sqlite(readers), batches, feed)
            }
            Backend::Postgres => {
                let options = (*db.get_postgres_connection_pool().connect_options()).clone();
                let feed = EventFeed::announced(options.clone());
                let readers = HeldConnections::new(
                    options,
                    #[cfg(feature = "test-support")]
                    statements.clone(),
                );
                let batches = StatementBatches::start_postgres(&readers, feed.clone());
                (None, Readers::Postgres(readers), batches, feed)
            }
        };
        Ok(Store {
            db,
            backend,
            writer,
            batches,
            readers,
            feed,
            url,
            #[cfg(feature = "test-support")]
            statements,
        })
    }

    /// Which database engine this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Brings the schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None)
            .await
            .map_err(StoreError::Migration)
    }

    /// Names of the migrations that are applied, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<String>, StoreError> {
        let applied = Migrator::get_applied_migrations(&self.db).await?;
        Ok(applied.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Runs a read outside any transaction, returning at most one row: on a held
    /// connection (see [`held`]) when one is free, which saves the pool's ping after each
    /// use; otherwise, or if that fails, on the pool.
    pub(crate) async fn query_one_unpinged(
        &self,
        statement: sea_orm::Statement,
    ) -> Result<Option<sea_orm::QueryResult>, StoreError> {
        let held = match &self.readers {
            Readers::Postgres(readers) => readers.fetch_optional(&statement).await,
            Readers::Sqlite(readers) => readers.fetch_optional(&statement).await,
        };
        if let Some(row) = held {
            return Ok(row);
        }
        Ok(self.db.query_one_raw(statement).await?)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(StoreError::from)
    }

    /// Starts a write transaction. On SQLite it takes the writer lock and works in a
    /// transaction that holds SQLite's write lock (`BEGIN IMMEDIATE`), so that two writers
    /// never both read and then fail to upgrade, and writers queued together commit
    /// together, each in a savepoint of its own (see [`group`]).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let (inner, membership) = match &self.writer {
            Some(writer) => {
                let (savepoint, membership) = writer.join(&self.db).await?;
                (savepoint, Some(membership))
            }
            None => (self.db.begin().await?, None),
        };
        Ok(Tx {
            inner,
            backend: self.backend,
            membership,
            feed: self.feed.clone(),
            appended: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Starts a read-only transaction that sees one consistent snapshot from its first
    /// query to its end: REPEATABLE READ on PostgreSQL (where a plain transaction sees
    /// each statement's own snapshot), and on SQLite a read transaction, which keeps the
    /// snapshot of its first read. For reads that must agree with each other, such as an
    /// evidence export.
    pub async fn snapshot(&self) -> Result<Tx, StoreError> {
        let options = match self.backend {
            Backend::Postgres => TransactionOptions {
                isolation_level: Some(sea_orm::IsolationLevel::RepeatableRead),
                access_mode: Some(sea_orm::AccessMode::ReadOnly),
                ..TransactionOptions::default()
            },
            Backend::Sqlite => TransactionOptions::default(),
        };
        let inner = self.db.begin_with_options(options).await?;
        Ok(Tx {
            inner,
            backend: self.backend,
            membership: None,
            feed: self.feed.clone(),
            appended: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Starts a transaction meant for reading, without a write lock. On PostgreSQL each
    /// statement sees the data committed when it starts; use [`Store::snapshot`] when
    /// the reads must agree with each other.
    pub async fn read(&self) -> Result<Tx, StoreError> {
        let inner = self.db.begin().await?;
        Ok(Tx {
            inner,
            backend: self.backend,
            membership: None,
            feed: self.feed.clone(),
            appended: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Follows the events committed from now on: on SQLite those of this process (which
    /// owns the database file), on PostgreSQL those of every server sharing the database.
    /// On PostgreSQL the first call opens the `LISTEN` connection and returns once it
    /// listens.
    pub async fn follow_events(&self) -> Result<EventFollower, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(self.feed.follow()),
            Backend::Postgres => self.feed.follow_postgres(&self.url, &self.db).await,
        }
    }

    /// Writes a consistent copy of a live SQLite database to `path` with `VACUUM INTO`:
    /// one read transaction, so writers go on meanwhile and the copy is the database as
    /// it was at one instant, compacted, in rollback-journal mode, ready to be opened as
    /// a data directory's `patto.sqlite3`. It never overwrites: an existing `path` is
    /// refused (SQLite itself also refuses a non-empty one, which closes the gap between
    /// the check and the copy). PostgreSQL is backed up with `pg_dump` instead.
    pub async fn backup_into(&self, path: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::BackupNeedsPgDump);
        }
        if path.exists() {
            return Err(StoreError::BackupTargetExists(path.to_path_buf()));
        }
        let target = path
            .to_str()
            .ok_or_else(|| StoreError::BackupPathNotUtf8(path.to_path_buf()))?;
        let statement = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "VACUUM INTO ?",
            [Value::from(target.to_owned())],
        );
        self.db.execute_raw(statement).await?;
        Ok(())
    }

    /// Runs raw SQL outside any transaction, for tests that must tamper with rows the
    /// engine never changes. Only the `test-support` feature, which only the test crate
    /// enables, compiles it: no production path can bypass the engine.
    #[cfg(feature = "test-support")]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        use sea_orm::ConnectionTrait;
        let result = self.db.execute_unprepared(sql).await?;
        Ok(result.rows_affected())
    }

    /// How many SQL statements this pool has run so far (transaction statements
    /// included). Only the `test-support` feature compiles it.
    #[cfg(feature = "test-support")]
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Announces the events committed so far to the other servers (PostgreSQL), then
    /// closes every connection of the pool and the idle held ones (the batch leaders and
    /// the announcer close theirs once the last clone of the store is gone).
    pub async fn close(self) -> Result<(), StoreError> {
        self.feed.flush().await;
        match &self.readers {
            Readers::Postgres(readers) => readers.close_idle().await,
            Readers::Sqlite(readers) => readers.close_idle().await,
        }
        self.db.close().await.map_err(StoreError::from)
    }
}

/// Creates an SQLite database file's missing directories (mode 0700) and the empty file
/// (mode 0600) when they do not exist, so that the data is its owner's alone from the
/// first byte; SQLite gives its journal files the database file's mode.
fn create_private_database(file: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        builder.mode(0o700);
        options.mode(0o600);
    }
    if let Some(dir) = file.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        builder.create(dir)?;
    }
    options.open(file).map(drop)
}

/// The connections a store keeps beside its pool for reads (see [`held`]), by backend.
#[derive(Clone, Debug)]
enum Readers {
    Postgres(std::sync::Arc<HeldConnections<PgConnection>>),
    Sqlite(std::sync::Arc<HeldConnections<SqliteConnection>>),
}

/// A database transaction: every query of [`queries`] runs inside one. Dropping it without
/// [`Tx::commit`] rolls everything back.
pub struct Tx {
    /// Declared before `membership` so that, when a transaction is dropped, its savepoint
    /// is rolled back before the group it belongs to may end.
    inner: DatabaseTransaction,
    backend: Backend,
    /// The group an SQLite write transaction commits with; it holds the writer lock.
    membership: Option<GroupMember>,
    /// Where the events appended here are told once they are committed.
    feed: EventFeed,
    /// The events appended in this transaction, to be told at commit.
    appended: std::sync::Mutex<Vec<patto_core::records::Event>>,
}

impl Tx {
    /// Commits; returns once the change is durable (on SQLite, once the COMMIT shared
    /// with other queued writers has succeeded).
    ///
    /// The events it appended are then told to the followers (see [`feed`]), once the
    /// COMMIT has succeeded: on SQLite in this process, on PostgreSQL by the announcer's
    /// `NOTIFY` to every listening server.
    pub async fn commit(self) -> Result<(), StoreError> {
        let Tx {
            inner,
            backend: _,
            membership,
            feed,
            appended,
        } = self;
        let appended = appended
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match membership {
            Some(membership) => membership.commit(inner).await?,
            None => inner.commit().await?,
        }
        feed.committed(appended);
        Ok(())
    }

    /// Keeps an appended event, to be told to the followers at commit.
    fn appended(&self, event: &patto_core::records::Event) {
        self.appended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event.clone());
    }
}

/// Whether a PostgreSQL URL chooses its TLS mode itself (`sslmode` or `ssl-mode` in its
/// query), or the environment does (`PGSSLMODE`, which sqlx reads as libpq does).
///
/// When neither does, a server on this machine is reached without TLS (see
/// [`is_this_machine`]): sqlx's default, `prefer`, would encrypt every statement and
/// reply on the loopback interface, where the traffic never leaves the machine, and
/// `prefer` guarantees nothing anyway, since it falls back to plain text when the server
/// declines. Measured in the transition benchmark, TLS was about a tenth of
/// PostgreSQL's CPU. A deployment that wants TLS on loopback says `sslmode=require` (or
/// stricter), and gets it.
fn names_ssl_mode(url: &str, environment_names_it: bool) -> bool {
    let query = url
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or_default();
    environment_names_it
        || query.split('&').any(|pair| {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode")
        })
}

/// Whether the options reach a PostgreSQL server on this machine: a Unix socket, a
/// loopback address or `localhost`.
fn is_this_machine(options: &PgConnectOptions) -> bool {
    if options.get_socket().is_some() {
        return true;
    }
    let host = options
        .get_host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.starts_with('/')
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_or_the_environment_that_names_a_tls_mode_keeps_it() {
        assert!(!names_ssl_mode("postgres://patto@127.0.0.1/patto", false));
        assert!(!names_ssl_mode(
            "postgres://patto@127.0.0.1/patto?application_name=sslmode",
            false
        ));
        assert!(names_ssl_mode(
            "postgres://patto@127.0.0.1/patto?sslmode=require",
            false
        ));
        assert!(names_ssl_mode(
            "postgres://patto@127.0.0.1/patto?application_name=x&ssl-mode=verify-full",
            false
        ));
        assert!(names_ssl_mode("postgres://patto@127.0.0.1/patto", true));
    }

    #[test]
    fn only_a_server_on_this_machine_counts_as_local() {
        let local = |url: &str| is_this_machine(&url.parse::<PgConnectOptions>().unwrap());
        assert!(local("postgres://patto@127.0.0.1/patto"));
        assert!(local("postgres://patto@127.8.0.1:5433/patto"));
        assert!(local("postgres://patto@[::1]/patto"));
        assert!(local("postgres://patto@localhost/patto"));
        assert!(local("postgres://patto@LocalHost/patto"));
        assert!(local("postgres:///patto?host=/var/run/postgresql"));
        assert!(!local("postgres://patto@db.example.org/patto"));
        assert!(!local("postgres://patto@10.0.0.5/patto"));
        assert!(!local("postgres://patto@localhost.example.org/patto"));
    }
}
