//! Group commit for transitions written in one statement on PostgreSQL: the statements of
//! callers that arrive together run one after another in one transaction, which commits
//! once for all of them.
//!
//! Each such statement also calls `pg_notify`, and PostgreSQL serialises every
//! transaction that notified on one database-wide lock that it holds until its COMMIT has
//! been flushed to disk: committed one by one, notifying transitions cannot share a WAL
//! flush, and measured with pgbench this halved throughput at 16 clients. Committed
//! together, a batch takes that lock and waits for the disk once. A statement that
//! arrives alone is run by itself, autocommitted, without the round trips of BEGIN and
//! COMMIT.
//!
//! Each leader runs its batches on a connection of its own (see `held`), opened when it
//! first needs one and again after one fails.
//!
//! Every statement is atomic by itself, and a caller is answered only once the COMMIT
//! that holds its statement has succeeded, so an acknowledged transition is as durable
//! as it was when each one committed alone. A statement that wrote nothing is answered at
//! once. Two statements about the same instance never share a batch: the second waits
//! for the next one. Should a statement fail, the transaction is rolled back and every
//! caller of the batch is told that nothing was written, so each goes on to the
//! transactional path, which reports its own outcome; so is the caller of a statement
//! that failed alone. A failed COMMIT is reported to every caller whose statement it
//! held.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use sea_orm::Statement;
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::postgres::PgConnection;
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::StoreError;
use crate::entities::event;
use crate::held::{self, HeldConnections};
use patto_core::ids::InstanceId;

/// At most this many statements share a COMMIT, so that the first of them is not kept
/// waiting for long while others keep arriving.
pub(crate) const MAX_BATCH: usize = 16;

/// Batches that may be in flight at once, each on a connection of its own leader: while
/// one waits for its COMMIT to reach the disk, the next ones' statements already run.
const LEADERS: usize = 4;

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

impl StatementBatches {
    /// Starts the tasks that run the batches, each on a connection it opens with the
    /// options of `connections`; they stop once every clone of the queue is dropped.
    pub(crate) fn start(connections: &Arc<HeldConnections>) -> StatementBatches {
        let (jobs, incoming) = mpsc::unbounded_channel();
        let queue = Arc::new(Mutex::new(Queue {
            incoming,
            deferred: VecDeque::new(),
        }));
        for _ in 0..LEADERS {
            tokio::spawn(lead(connections.clone(), queue.clone()));
        }
        StatementBatches { jobs }
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

/// Takes the statements queued (at most [`MAX_BATCH`], one per instance) and runs them as
/// one batch, again and again, until the queue is closed.
async fn lead(connections: Arc<HeldConnections>, queue: Arc<Mutex<Queue>>) {
    let mut connection: Option<(PgConnection, Instant)> = None;
    loop {
        let batch = {
            let mut queue = queue.lock().await;
            let first = match queue.deferred.pop_front() {
                Some(job) => job,
                None => match queue.incoming.recv().await {
                    Some(job) => job,
                    None => return,
                },
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
            batch
        };
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
                    for job in batch {
                        let _ = job.reply.send(Ok(None));
                    }
                    continue;
                }
            },
        };
        let still_usable = match <[Job; 1]>::try_from(batch) {
            Ok([alone]) => run_alone(&connections, &mut open, alone).await,
            Err(batch) => run_together(&connections, &mut open, batch).await,
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
async fn run_alone(connections: &HeldConnections, connection: &mut PgConnection, job: Job) -> bool {
    let outcome = held::run(connection, &job.statement).await;
    connections.counted();
    match outcome {
        Ok(row) => {
            let _ = job
                .reply
                .send(row.map(held::model::<event::Model>).transpose());
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
    connections: &HeldConnections,
    connection: &mut PgConnection,
    batch: Vec<Job>,
) -> bool {
    let mut tx = match connection.begin().await {
        Ok(tx) => tx,
        Err(error) => {
            // Nothing was written: each caller takes the transactional path, which
            // reports the failure (or succeeds, if the database is back).
            tracing::warn!(%error, "cannot start a batch of transitions");
            for job in batch {
                let _ = job.reply.send(Ok(None));
            }
            return false;
        }
    };
    let mut written = Vec::with_capacity(batch.len());
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        let outcome = held::run(&mut tx, &job.statement)
            .await
            .and_then(|row| row.map(held::model::<event::Model>).transpose());
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
                for job in jobs {
                    let _ = job.reply.send(Ok(None));
                }
                return rolled_back;
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
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
