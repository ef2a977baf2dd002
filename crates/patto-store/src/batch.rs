//! Group commit for transitions written in one statement: the statements of callers that
//! arrive together run in one transaction, which commits once for all of them.
//!
//! **PostgreSQL.** Committed together, a batch writes one commit record and waits for the
//! disk once. A statement that arrives alone is run by itself, autocommitted, without the
//! round trips of BEGIN and COMMIT. Each of the [`POSTGRES_LEADERS`] leaders runs its
//! batches on a connection of its own (see `held`), opened when it first needs one and
//! again after one fails. The events a batch committed are handed to the feed's
//! announcer, which notifies the listening servers after the COMMIT (see `feed`).
//!
//! **SQLite.** One leader (SQLite has one writer) takes the writer lock that every write
//! transaction takes (see `group`) and sends the whole batch to the database in one call
//! on a connection of its own: `BEGIN IMMEDIATE`, the statements of every transition,
//! `COMMIT`. That is one trip to sqlx's worker thread and one sync of the write-ahead log
//! for the batch, where each transition written in a transaction of its own took three
//! trips while holding the writer lock (its savepoint, its statements, its release) and
//! its group two more (BEGIN and COMMIT), each trip a hand-off between threads that, on a
//! busy machine, waits for a core.
//!
//! Every transition's statements are atomic together, and a caller is answered only once
//! the COMMIT that holds them has succeeded, so an acknowledged transition is as durable
//! as it was when each one committed alone. Two statements about the same instance never
//! share a batch: the second waits for the next one, so that each caller's event is found
//! by its instance. Should a statement fail, the transaction is rolled back and every
//! caller of the batch is told that nothing was written, so each goes on to the
//! transactional path, which reports its own outcome; so is the caller of a statement
//! that failed alone. A failed COMMIT is reported to every caller whose statement it
//! held.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use sea_orm::Statement;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::StoreError;
use crate::entities::event;
use crate::feed::EventFeed;
use crate::group::GroupCommit;
use crate::held::{self, HeldConnections};
use patto_core::ids::InstanceId;
use patto_core::records::Event;

/// At most this many statements share a COMMIT, so that the first of them is not kept
/// waiting for long while others keep arriving.
pub(crate) const MAX_BATCH: usize = 16;

/// Batches that may be in flight at once on PostgreSQL, each on a connection of its own
/// leader: while one waits for its COMMIT to reach the disk, the next ones' statements
/// already run.
const POSTGRES_LEADERS: usize = 4;

/// Should never be seen: the tasks running the batches stopped before the store.
const STOPPED: &str = "the task that commits transitions together has stopped";

/// The queue of statements waiting to be run in a batch.
#[derive(Clone, Debug)]
pub(crate) struct StatementBatches {
    jobs: mpsc::UnboundedSender<Job>,
}

/// One caller's statement and where its answer goes.
struct Job {
    /// The instance the statement moves: a batch holds at most one statement per
    /// instance.
    instance_id: i64,
    statement: Statement,
    reply: oneshot::Sender<Result<Option<event::Model>, StoreError>>,
}

/// The jobs waiting for a leader; shared by the leaders.
struct Queue {
    incoming: mpsc::UnboundedReceiver<Job>,
    /// Jobs put back because their instance already had a statement in a batch.
    deferred: VecDeque<Job>,
}

/// What the SQLite leader writes with: how to open its connection, the writer lock it
/// shares with every other write transaction of the database, and the feed it tells the
/// events it commits.
pub(crate) struct SqliteWriter {
    pub(crate) options: SqliteConnectOptions,
    pub(crate) writer: GroupCommit,
    pub(crate) feed: EventFeed,
    /// Counts each transition's statements as one (see `Store::statements_executed`).
    #[cfg(feature = "test-support")]
    pub(crate) counter: Arc<std::sync::atomic::AtomicU64>,
}

impl StatementBatches {
    /// Starts the tasks that run the batches on PostgreSQL, each on a connection it opens
    /// with the options of `connections`, and hand the events they commit to `feed`; they
    /// stop once every clone of the queue is dropped.
    pub(crate) fn start_postgres(
        connections: &Arc<HeldConnections<PgConnection>>,
        feed: EventFeed,
    ) -> StatementBatches {
        let (batches, queue) = StatementBatches::queue();
        for _ in 0..POSTGRES_LEADERS {
            tokio::spawn(lead_postgres(
                connections.clone(),
                queue.clone(),
                feed.clone(),
            ));
        }
        batches
    }

    /// Starts the task that runs the batches on SQLite; it stops once every clone of the
    /// queue is dropped.
    pub(crate) fn start_sqlite(writer: SqliteWriter) -> StatementBatches {
        let (batches, queue) = StatementBatches::queue();
        tokio::spawn(lead_sqlite(writer, queue));
        batches
    }

    fn queue() -> (StatementBatches, Arc<Mutex<Queue>>) {
        let (jobs, incoming) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(Queue {
            incoming,
            deferred: VecDeque::new(),
        }));
        (StatementBatches { jobs }, queue)
    }

    /// Runs a statement that appends one event to `instance` (returning it) in the next
    /// batch, and returns once the batch has committed: the event, or `None` when nothing
    /// was written (the statement matched nothing or failed, or the batch was rolled
    /// back).
    pub(crate) async fn write(
        &self,
        instance: InstanceId,
        statement: Statement,
    ) -> Result<Option<event::Model>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                instance_id: instance.get(),
                statement,
                reply,
            })
            .map_err(|_| StoreError::GroupCommit(STOPPED.to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::GroupCommit(STOPPED.to_owned()))?
    }
}

/// The statements queued (at most [`MAX_BATCH`], one per instance), in their order of
/// arrival; `None` once the queue is closed.
async fn next_batch(queue: &Mutex<Queue>) -> Option<Vec<Job>> {
    let mut queue = queue.lock().await;
    let first = match queue.deferred.pop_front() {
        Some(job) => job,
        None => queue.incoming.recv().await?,
    };
    let mut instances = HashSet::from([first.instance_id]);
    let mut batch = vec![first];
    let mut put_back = Vec::new();
    while batch.len() < MAX_BATCH {
        let next = match queue.deferred.pop_front() {
            Some(job) => job,
            None => match queue.incoming.try_recv() {
                Ok(job) => job,
                Err(_) => break,
            },
        };
        if instances.insert(next.instance_id) {
            batch.push(next);
        } else {
            put_back.push(next);
        }
    }
    // In their order of arrival, ahead of anything newer.
    for job in put_back.into_iter().rev() {
        queue.deferred.push_front(job);
    }
    Some(batch)
}

/// Tells every caller of `jobs` that nothing was written, so that each takes the
/// transactional path.
fn nothing_written(jobs: impl IntoIterator<Item = Job>) {
    for job in jobs {
        let _ = job.reply.send(Ok(None));
    }
}

/// Runs the queued statements in batches on PostgreSQL, again and again, until the queue
/// is closed.
async fn lead_postgres(
    connections: Arc<HeldConnections<PgConnection>>,
    queue: Arc<Mutex<Queue>>,
    feed: EventFeed,
) {
    let mut connection: Option<(PgConnection, Instant)> = None;
    while let Some(batch) = next_batch(&queue).await {
        // The connection of the last batch, if it still works; otherwise a new one.
        let kept = match connection.take() {
            Some((mut open, last_used)) => held::usable(&mut open, last_used).await.then_some(open),
            None => None,
        };
        let mut open = match kept {
            Some(open) => open,
            None => match connections.connect().await {
                Ok(opened) => opened,
                Err(error) => {
                    // Nothing was written: each caller takes the transactional path,
                    // which reports the failure (or succeeds, if the database is back).
                    tracing::warn!(%error, "cannot open a connection for a batch of transitions");
                    nothing_written(batch);
                    continue;
                }
            },
        };
        let still_usable = match <[Job; 1]>::try_from(batch) {
            Ok([alone]) => run_alone(&connections, &mut open, &feed, alone).await,
            Err(batch) => run_together(&connections, &mut open, &feed, batch).await,
        };
        // A connection that failed is dropped, which closes it; the next batch opens a
        // new one.
        if still_usable {
            connection = Some((open, Instant::now()));
        }
    }
}

/// A statement that arrived alone, autocommitted: answered once it has committed.
/// Returns whether the connection is still usable.
async fn run_alone(
    connections: &HeldConnections<PgConnection>,
    connection: &mut PgConnection,
    feed: &EventFeed,
    job: Job,
) -> bool {
    let outcome = held::run(connection, &job.statement).await;
    connections.counted();
    match outcome {
        Ok(row) => {
            let event = row.map(held::model::<event::Model, _>).transpose();
            if let Ok(Some(event)) = &event {
                feed.announce([event.id]);
            }
            let _ = job.reply.send(event);
            true
        }
        Err(error) => {
            // A statement is atomic, so nothing was written (or, if the connection was
            // lost after PostgreSQL committed, the transactional path finds the instance
            // moved): the caller takes that path, which reports its own outcome, as the
            // callers of a failed batch do.
            tracing::warn!(%error, "a transition written alone failed; it is retried in a transaction");
            let _ = job.reply.send(Ok(None));
            false
        }
    }
}

/// One batch: BEGIN, each statement, COMMIT; every caller answered. Returns whether
/// the connection is still usable.
async fn run_together(
    connections: &HeldConnections<PgConnection>,
    connection: &mut PgConnection,
    feed: &EventFeed,
    batch: Vec<Job>,
) -> bool {
    let mut tx = match connection.begin().await {
        Ok(tx) => tx,
        Err(error) => {
            // Nothing was written: each caller takes the transactional path, which
            // reports the failure (or succeeds, if the database is back).
            tracing::warn!(%error, "cannot start a batch of transitions");
            nothing_written(batch);
            return false;
        }
    };
    let mut written = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        let outcome = held::run(&mut *tx, &job.statement)
            .await
            .and_then(|row| row.map(held::model::<event::Model, _>).transpose());
        connections.counted();
        match outcome {
            Ok(Some(event)) => written.push((job.reply, event)),
            Ok(None) => {
                let _ = job.reply.send(Ok(None));
            }
            Err(error) => {
                // The failed statement aborted the transaction, and the statements before
                // it go with it: nobody's transition is saved, and each caller learns its
                // outcome from the transactional path.
                tracing::warn!(%error, "a transition of a batch failed; the batch is rolled back and each of its transitions retried alone");
                let rolled_back = tx.rollback().await.is_ok();
                let _ = job.reply.send(Ok(None));
                for (reply, _) in written {
                    let _ = reply.send(Ok(None));
                }
                nothing_written(jobs);
                return rolled_back;
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
            feed.announce(written.iter().map(|(_, event)| event.id));
            for (reply, event) in written {
                let _ = reply.send(Ok(Some(event)));
            }
            true
        }
        Err(error) => {
            let error = error.to_string();
            for (reply, _) in written {
                let _ = reply.send(Err(StoreError::GroupCommit(error.clone())));
            }
            false
        }
    }
}

/// Runs the queued statements in batches on SQLite, again and again, until the queue is
/// closed, on a connection of its own, opened when it first needs one and again after
/// one fails.
async fn lead_sqlite(writer: SqliteWriter, queue: Arc<Mutex<Queue>>) {
    let mut connection: Option<SqliteConnection> = None;
    while let Some(batch) = next_batch(&queue).await {
        let open = match connection.take() {
            Some(open) => open,
            None => match writer.options.connect().await {
                Ok(opened) => opened,
                Err(error) => {
                    // Nothing was written: each caller takes the transactional path,
                    // which reports the failure (or succeeds, if the database is back).
                    tracing::warn!(%error, "cannot open a connection for a batch of transitions");
                    nothing_written(batch);
                    continue;
                }
            },
        };
        connection = write_sqlite_batch(&writer, open, batch).await;
    }
}

/// One batch on SQLite, in one call to the database: `BEGIN IMMEDIATE`, every statement,
/// `COMMIT`, under the writer lock; every caller answered. Returns the connection if it is
/// still usable.
async fn write_sqlite_batch(
    writer: &SqliteWriter,
    mut connection: SqliteConnection,
    batch: Vec<Job>,
) -> Option<SqliteConnection> {
    let begin = Statement::from_string(sea_orm::DbBackend::Sqlite, "BEGIN IMMEDIATE");
    let commit = Statement::from_string(sea_orm::DbBackend::Sqlite, "COMMIT");
    let statements = sqlite_statements_together(
        std::iter::once(&begin)
            .chain(batch.iter().map(|job| &job.statement))
            .chain(std::iter::once(&commit)),
    );
    #[cfg(feature = "test-support")]
    writer.counter.fetch_add(
        u64::try_from(batch.len()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    let lock = writer.writer.lock_alone().await;
    let rows = sqlx::query_with(
        sqlx::AssertSqlSafe(statements.sql.as_str()),
        held::arguments(&statements),
    )
    .fetch_all(&mut connection)
    .await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(error) => {
            // A statement or the COMMIT failed. Closing the connection, before the writer
            // lock is let go, rolls back whatever its transaction still holds, so nobody's
            // transition is saved, and each caller learns its outcome from the
            // transactional path.
            tracing::warn!(%error, "a batch of transitions failed; it is rolled back and each of its transitions retried alone");
            let _ = connection.close().await;
            drop(lock);
            nothing_written(batch);
            return None;
        }
    };
    drop(lock);
    match appended_events(rows) {
        Ok(appended) => {
            let mut written: HashMap<i64, event::Model> = HashMap::new();
            let mut events = Vec::with_capacity(appended.len());
            for (model, event) in appended {
                written.insert(model.instance_id, model);
                events.push(event);
            }
            writer.feed.committed(events);
            for job in batch {
                let _ = job.reply.send(Ok(written.remove(&job.instance_id)));
            }
        }
        Err(error) => {
            // The batch is committed, so no caller may be sent to try again as if nothing
            // had been written; each is told the events could not be read back.
            let error = error.to_string();
            for job in batch {
                let _ = job.reply.send(Err(StoreError::Corrupt(format!(
                    "a committed transition's event could not be read back: {error}"
                ))));
            }
        }
    }
    Some(connection)
}

/// The events a batch appended, as rows and as records.
fn appended_events(
    rows: Vec<sqlx::sqlite::SqliteRow>,
) -> Result<Vec<(event::Model, Event)>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let model: event::Model = held::model(row)?;
            let event = Event::try_from(model.clone())?;
            Ok((model, event))
        })
        .collect()
}

/// SQLite statements sent to the database in one call, one after another: their texts
/// joined, their values in the same order.
pub(crate) fn sqlite_statements_together<'a>(
    statements: impl IntoIterator<Item = &'a Statement>,
) -> Statement {
    let mut sql = String::new();
    let mut values = Vec::new();
    for statement in statements {
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&statement.sql);
        if let Some(statement_values) = &statement.values {
            values.extend_from_slice(&statement_values.0);
        }
    }
    Statement {
        sql,
        values: Some(sea_orm::Values(values)),
        db_backend: sea_orm::DbBackend::Sqlite,
    }
}
