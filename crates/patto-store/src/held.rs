//! Connections kept beside sqlx's pool for the statements of a transition written in one
//! statement: its unlocked read (on either backend), and the batches of `batch` on
//! PostgreSQL.
//!
//! sqlx's pool pings every connection it takes back, from a task of its own, to catch a
//! connection that a cancelled caller left in the middle of a query: on PostgreSQL a
//! round trip (Sync, then a wait for ReadyForQuery), on SQLite a trip to the
//! connection's worker thread. For a transition that is one more round trip, one more task
//! and two more wake-ups for each of its two statements: measured, they cost about as much
//! as the statements. A connection here is put back only by code
//! that has seen its statement complete, so it needs no such test: a caller cancelled in
//! the middle of a statement drops the connection with it, which closes it, and a
//! statement that fails closes its connection too, in case it was the connection that
//! failed. A connection idle for longer than [`crate::IDLE_BEFORE_PING`] is pinged
//! before use, as the pool does, since a server restart, a proxy or a firewall may have
//! dropped it. When every connection is in use and no more may be opened, callers use
//! the pool as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sea_orm::sqlx::{self, ConnectOptions, Connection, Database, Executor, IntoArguments};
use sea_orm::{DbErr, FromQueryResult, QueryResult, RuntimeErr, Statement};
use sea_query_sqlx::SqlxValues;

use crate::{IDLE_BEFORE_PING, StoreError};

/// At most this many connections are held for reads; each batch leader holds one more
/// of its own.
const MOST_HELD: usize = 4;

/// The connections, and how to open more.
#[derive(Debug)]
pub(crate) struct HeldConnections<C: Connection> {
    options: C::Options,
    /// Idle connections, each with the moment it was last used; the last one is taken
    /// first.
    idle: Mutex<Vec<(C, Instant)>>,
    /// Connections open, idle or in use.
    open: AtomicUsize,
    /// Counts the statements run here as the pool's metric callback counts the others
    /// (see `Store::statements_executed`).
    #[cfg(feature = "test-support")]
    counter: Arc<std::sync::atomic::AtomicU64>,
}

/// A held connection in use; it goes back when [`HeldConnections::give_back`] is called
/// with it, and is closed when dropped.
pub(crate) struct Held<C: Connection> {
    pub(crate) connection: C,
    slot: OpenSlot<C>,
}

/// Counts a held connection as open until it is dropped, unless it went back idle.
struct OpenSlot<C: Connection> {
    owner: Arc<HeldConnections<C>>,
    closing: bool,
}

impl<C: Connection> Drop for OpenSlot<C> {
    fn drop(&mut self) {
        if self.closing {
            self.owner.open.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl<C: Connection> OpenSlot<C> {
    fn new(owner: &Arc<HeldConnections<C>>) -> OpenSlot<C> {
        OpenSlot {
            owner: owner.clone(),
            closing: true,
        }
    }
}

impl<C: Connection> HeldConnections<C>
where
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
    SqlxValues: IntoArguments<C::Database>,
    QueryResult: From<<C::Database as Database>::Row>,
{
    pub(crate) fn new(
        options: C::Options,
        #[cfg(feature = "test-support")] counter: Arc<std::sync::atomic::AtomicU64>,
    ) -> Arc<HeldConnections<C>> {
        Arc::new(HeldConnections {
            options,
            idle: Mutex::new(Vec::new()),
            open: AtomicUsize::new(0),
            #[cfg(feature = "test-support")]
            counter,
        })
    }

    /// An idle connection, or a new one while fewer than [`MOST_HELD`] are open; `None`
    /// when all are in use or a new one cannot be opened (the caller uses the pool, which
    /// reports a database that is down).
    pub(crate) async fn take(self: &Arc<Self>) -> Option<Held<C>> {
        loop {
            let idle = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some((connection, last_used)) = idle else {
                break;
            };
            let mut held = Held {
                connection,
                slot: OpenSlot::new(self),
            };
            if usable(&mut held.connection, last_used).await {
                return Some(held);
            }
            // Dropping `held` closes the connection; the next idle one is tried.
        }
        let opened = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < MOST_HELD).then_some(open + 1)
            });
        if opened.is_err() {
            return None;
        }
        match self.options.connect().await {
            Ok(connection) => Some(Held {
                connection,
                slot: OpenSlot::new(self),
            }),
            Err(error) => {
                self.open.fetch_sub(1, Ordering::AcqRel);
                tracing::warn!(%error, "cannot open a connection for transitions; using the pool");
                None
            }
        }
    }

    /// Puts back a connection whose last statement completed.
    pub(crate) fn give_back(&self, held: Held<C>) {
        let Held {
            connection,
            mut slot,
        } = held;
        slot.closing = false;
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((connection, Instant::now()));
    }

    /// Runs a statement that returns at most one row on a held connection; `None` when
    /// none is free or the statement failed (the connection is then closed), and the
    /// caller uses the pool, which reports the error if it was not the connection's.
    pub(crate) async fn fetch_optional(
        self: &Arc<Self>,
        statement: &Statement,
    ) -> Option<Option<QueryResult>> {
        let mut held = self.take().await?;
        let row = run(&mut held.connection, statement).await;
        self.counted();
        match row {
            Ok(row) => {
                self.give_back(held);
                Some(row.map(QueryResult::from))
            }
            Err(error) => {
                tracing::debug!(%error, "a read on a held connection failed");
                None
            }
        }
    }

    /// Closes the idle connections.
    pub(crate) async fn close_idle(&self) {
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for (connection, _) in idle {
            self.open.fetch_sub(1, Ordering::AcqRel);
            let _ = connection.close().await;
        }
    }

    /// A new connection for a batch leader, which keeps it for as long as it works.
    pub(crate) async fn connect(&self) -> Result<C, StoreError> {
        self.options.connect().await.map_err(database_error)
    }

    /// Counts one statement for the tests (see `Store::statements_executed`).
    pub(crate) fn counted(&self) {
        #[cfg(feature = "test-support")]
        self.counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Whether a connection last used at `last_used` may be used: at once if it was used
/// recently, after a ping if it has been idle for long.
pub(crate) async fn usable<C: Connection>(connection: &mut C, last_used: Instant) -> bool {
    last_used.elapsed() < IDLE_BEFORE_PING || connection.ping().await.is_ok()
}

/// Runs `statement` on `connection`, returning its first row.
pub(crate) async fn run<C: Connection>(
    connection: &mut C,
    statement: &Statement,
) -> Result<Option<<C::Database as Database>::Row>, StoreError>
where
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
    SqlxValues: IntoArguments<C::Database>,
{
    sqlx::query_with(
        sqlx::AssertSqlSafe(statement.sql.as_str()),
        arguments(statement),
    )
    .fetch_optional(connection)
    .await
    .map_err(database_error)
}

/// The values of `statement`, to be bound as sqlx binds arguments.
pub(crate) fn arguments(statement: &Statement) -> SqlxValues {
    SqlxValues(
        statement
            .values
            .clone()
            .unwrap_or_else(|| sea_orm::Values(Vec::new())),
    )
}

/// A row as a model, as SeaORM reads it.
pub(crate) fn model<M: FromQueryResult, Row>(row: Row) -> Result<M, StoreError>
where
    QueryResult: From<Row>,
{
    M::from_query_result(&QueryResult::from(row), "").map_err(StoreError::from)
}

/// An sqlx error as SeaORM reports it, so that it is classified as every other one.
pub(crate) fn database_error(error: sqlx::Error) -> StoreError {
    StoreError::from(DbErr::Query(RuntimeErr::SqlxError(Arc::new(error))))
}
