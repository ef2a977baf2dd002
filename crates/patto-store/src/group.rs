//! Group commit for SQLite: several write transactions that are waiting for the writer
//! share one SQLite transaction, and so one sync of the write-ahead log.
//!
//! SQLite admits one writer, and with `synchronous = FULL` every COMMIT waits for the disk.
//! Here the writer lock hands an open SQLite transaction (a *group*) from one writer to
//! the next. Each writer works inside a SAVEPOINT of its own, so a writer that fails or
//! gives up rolls back its own changes only. A writer that finishes releases its
//! savepoint into the group and, if others are queued for the lock, leaves the COMMIT to
//! the group; its `commit()` returns only once that COMMIT has succeeded, and every member
//! gets the error if it fails. Nothing is acknowledged before it is durable.
//!
//! The writer that starts a group works in the SQLite transaction itself: should it fail,
//! there is nobody else's change to keep, so it needs no savepoint, and a writer alone
//! runs exactly BEGIN, its statements, COMMIT.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sea_orm::{
    DatabaseConnection, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use crate::StoreError;

/// At most this many changes share one COMMIT, so that the first of them is not kept
/// waiting for long while others keep arriving.
pub(crate) const MAX_GROUP: usize = 16;

/// The writer lock of one SQLite database, and the group it may hold open.
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupCommit {
    slot: Arc<Mutex<Slot>>,
    /// Writers waiting for the lock; while there are some, a finishing writer leaves the
    /// group open for them.
    waiting: Arc<AtomicUsize>,
}

#[derive(Debug, Default)]
struct Slot {
    open: Option<Group>,
    groups_started: u64,
}

/// One SQLite transaction shared by several writers.
#[derive(Debug)]
struct Group {
    /// `None` while the writer that started the group works in it directly.
    outer: Option<DatabaseTransaction>,
    /// Tells the group apart from the ones before and after it.
    number: u64,
    /// Writers whose savepoint is released into the group and who wait for its COMMIT.
    members: usize,
    outcome: watch::Sender<Option<Result<(), String>>>,
    /// Whether a task has been started to commit the group should its members all be
    /// waiting.
    finisher: bool,
}

impl Group {
    /// Commits the group and tells every member how it went.
    async fn commit(self) -> Result<(), StoreError> {
        let Group { outer, outcome, .. } = self;
        let result = match outer {
            Some(outer) => outer.commit().await.map_err(|error| error.to_string()),
            None => Err(LOST.to_owned()),
        };
        outcome.send_replace(Some(result.clone()));
        result.map_err(StoreError::GroupCommit)
    }
}

/// Should never be seen: the group's transaction was not where it should be.
const LOST: &str = "the shared transaction was already handed on";

/// Counts a writer as waiting for the lock until it has it (or gives up).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::AcqRel);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl GroupCommit {
    /// Takes the writer lock and a savepoint in the open group, starting a group
    /// (`BEGIN IMMEDIATE`) when none is open.
    pub(crate) async fn join(
        &self,
        db: &DatabaseConnection,
    ) -> Result<(DatabaseTransaction, GroupMember), StoreError> {
        let mut guard = {
            let _waiting = Waiting::new(&self.waiting);
            self.slot.clone().lock_owned().await
        };
        if let Some(group) = guard.open.take() {
            let member = GroupMember {
                guard,
                group: Some(group),
                commit: self.clone(),
            };
            let savepoint = match member.group.as_ref().and_then(|g| g.outer.as_ref()) {
                Some(outer) => outer.begin().await?,
                None => return Err(StoreError::GroupCommit(LOST.to_owned())),
            };
            return Ok((savepoint, member));
        }
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let outer = db.begin_with_options(options).await?;
        guard.groups_started += 1;
        let group = Group {
            outer: None,
            number: guard.groups_started,
            members: 0,
            outcome: watch::Sender::new(None),
            finisher: false,
        };
        let member = GroupMember {
            guard,
            group: Some(group),
            commit: self.clone(),
        };
        Ok((outer, member))
    }

    /// Takes the writer lock for a writer that works on a connection of its own and
    /// commits by itself (the transitions of `batch` on SQLite): no group is open while
    /// it holds the lock. A group left open for writers still queued is committed first,
    /// its members told how it went, as its finishing task would have done; the writers
    /// it was left open for start a group of their own.
    pub(crate) async fn lock_alone(&self) -> WriterLock {
        let mut guard = self.slot.clone().lock_owned().await;
        if let Some(group) = guard.open.take() {
            // The members learn the outcome through the group's channel; this writer's
            // own work does not depend on it.
            let _ = group.commit().await;
        }
        WriterLock { _held: guard }
    }

    /// Commits group `number` if it is still open once the writers queued ahead have
    /// joined it. Started when a member leaves the group open, so that the group is
    /// committed even if the writers it was left open for give up.
    async fn finish(self, number: u64) {
        loop {
            let mut guard = self.slot.clone().lock_owned().await;
            let Some(group) = guard.open.take() else {
                return;
            };
            if group.number != number {
                guard.open = Some(group);
                return;
            }
            if self.waiting.load(Ordering::Acquire) > 0 && group.members < MAX_GROUP {
                // More writers are queued: let them in first (the lock is fair, so this
                // task queues behind them).
                guard.open = Some(group);
                drop(guard);
                continue;
            }
            // The members learn the outcome through the group's channel.
            let _ = group.commit().await;
            return;
        }
    }
}

/// The writer lock held by a writer outside any group (see [`GroupCommit::lock_alone`]);
/// dropping it lets the next writer in.
pub(crate) struct WriterLock {
    _held: OwnedMutexGuard<Slot>,
}

/// A writer's place in a group: it holds the writer lock, and the group while it works.
#[derive(Debug)]
pub(crate) struct GroupMember {
    guard: OwnedMutexGuard<Slot>,
    /// Out of the slot while this writer holds the lock; `None` once handed on.
    group: Option<Group>,
    commit: GroupCommit,
}

impl GroupMember {
    /// Puts the writer's work into the group — the group's transaction itself for the
    /// writer that started it, a released savepoint for the others — and returns once the
    /// group's COMMIT has succeeded.
    pub(crate) async fn commit(mut self, work: DatabaseTransaction) -> Result<(), StoreError> {
        let started_group = self.group.as_ref().is_some_and(|g| g.outer.is_none());
        let outer = if started_group {
            Some(work)
        } else {
            // On failure the savepoint is rolled back as it is dropped; the writer stays
            // out of the group and the others carry on.
            work.commit().await?;
            None
        };
        let mut group = self
            .group
            .take()
            .ok_or_else(|| StoreError::GroupCommit(LOST.to_owned()))?;
        if outer.is_some() {
            group.outer = outer;
        }
        group.members += 1;
        let others_waiting = self.commit.waiting.load(Ordering::Acquire) > 0;
        if !others_waiting || group.members >= MAX_GROUP {
            return group.commit().await;
        }
        let mut outcome = group.outcome.subscribe();
        if !group.finisher {
            group.finisher = true;
            tokio::spawn(self.commit.clone().finish(group.number));
        }
        self.guard.open = Some(group);
        drop(self);
        let result = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| {
                StoreError::GroupCommit("the shared transaction ended without a COMMIT".to_owned())
            })?
            .clone();
        result
            .unwrap_or_else(|| Err("the shared transaction ended without a COMMIT".to_owned()))
            .map_err(StoreError::GroupCommit)
    }
}

impl Drop for GroupMember {
    /// A writer that ends without committing leaves the group to the members already in
    /// it; with none (it started the group, and its transaction is being rolled back),
    /// the group ends here.
    fn drop(&mut self) {
        if let Some(group) = self.group.take()
            && group.members > 0
            && group.outer.is_some()
        {
            self.guard.open = Some(group);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::PathBuf;
    use std::time::Duration;

    use sea_orm::ConnectionTrait;

    use super::*;
    use crate::{DatabaseConfig, Store, Tx};

    /// A store on a fresh SQLite file with one table, `t`, and one with a deferred foreign
    /// key, `child`, which SQLite checks only at COMMIT.
    async fn store() -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "patto-group-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let store = Store::connect(&DatabaseConfig::DataDir(dir.clone()))
            .await
            .unwrap();
        store
            .db
            .execute_unprepared(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT NOT NULL); \
                 CREATE TABLE child (id INTEGER PRIMARY KEY, \
                 t_id INTEGER NOT NULL REFERENCES t(id) DEFERRABLE INITIALLY DEFERRED)",
            )
            .await
            .unwrap();
        (store, dir)
    }

    async fn insert(tx: &Tx, sql: &str) {
        tx.inner.execute_unprepared(sql).await.unwrap();
    }

    /// The rows of `t`, read through a new connection: what is durable.
    async fn durable(dir: &std::path::Path) -> Vec<String> {
        let store = Store::connect(&DatabaseConfig::DataDir(dir.to_path_buf()))
            .await
            .unwrap();
        let tx = store.read().await.unwrap();
        let rows = tx
            .inner
            .query_all_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT who FROM t ORDER BY who",
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|row| row.try_get::<String>("", "who").unwrap())
            .collect()
    }

    fn writer(store: &Store) -> GroupCommit {
        store.writer.clone().unwrap()
    }

    /// Waits until `count` writers are queued for the lock.
    async fn queued(store: &Store, count: usize) {
        while writer(store).waiting.load(Ordering::Acquire) < count {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writers_share_one_commit_and_all_are_durable() {
        let (store, dir) = store().await;
        let first = store.begin().await.unwrap();
        insert(&first, "INSERT INTO t (who) VALUES ('first')").await;
        let mut others = Vec::new();
        for n in 0..5 {
            let store = store.clone();
            others.push(tokio::spawn(async move {
                let tx = store.begin().await.unwrap();
                insert(&tx, &format!("INSERT INTO t (who) VALUES ('other {n}')")).await;
                tx.commit().await
            }));
        }
        queued(&store, 5).await;
        first.commit().await.unwrap();
        for other in others {
            other.await.unwrap().unwrap();
        }
        assert_eq!(durable(&dir).await.len(), 6);
        // The five queued while the first held the lock joined its group.
        assert_eq!(writer(&store).slot.lock().await.groups_started, 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_member_that_rolls_back_leaves_the_others_committed() {
        let (store, dir) = store().await;
        let first = store.begin().await.unwrap();
        insert(&first, "INSERT INTO t (who) VALUES ('kept')").await;
        let second = {
            let store = store.clone();
            tokio::spawn(async move {
                let tx = store.begin().await.unwrap();
                insert(&tx, "INSERT INTO t (who) VALUES ('rolled back')").await;
                // Dropped without a commit, as a failed change is.
                drop(tx);
            })
        };
        queued(&store, 1).await;
        first.commit().await.unwrap();
        second.await.unwrap();
        assert_eq!(durable(&dir).await, vec!["kept".to_owned()]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_started_a_group_and_rolls_back_takes_only_its_own_change() {
        let (store, dir) = store().await;
        let first = store.begin().await.unwrap();
        insert(&first, "INSERT INTO t (who) VALUES ('rolled back')").await;
        let second = {
            let store = store.clone();
            tokio::spawn(async move {
                let tx = store.begin().await.unwrap();
                insert(&tx, "INSERT INTO t (who) VALUES ('kept')").await;
                tx.commit().await
            })
        };
        queued(&store, 1).await;
        drop(first);
        second.await.unwrap().unwrap();
        assert_eq!(durable(&dir).await, vec!["kept".to_owned()]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_commit_fails_every_member() {
        let (store, dir) = store().await;
        let first = store.begin().await.unwrap();
        insert(&first, "INSERT INTO t (who) VALUES ('innocent')").await;
        let second = {
            let store = store.clone();
            tokio::spawn(async move {
                let tx = store.begin().await.unwrap();
                // Breaks the deferred foreign key: its savepoint is released, and the
                // group's COMMIT fails.
                insert(&tx, "INSERT INTO child (t_id) VALUES (999)").await;
                tx.commit().await
            })
        };
        queued(&store, 1).await;
        let first_outcome = first.commit().await;
        let second_outcome = second.await.unwrap();
        for outcome in [first_outcome, second_outcome] {
            let error = outcome.unwrap_err();
            assert!(matches!(error, StoreError::GroupCommit(_)), "{error}");
            assert!(error.to_string().contains("FOREIGN KEY"), "{error}");
        }
        assert!(durable(&dir).await.is_empty());
        // The writer lock is free again and the next change commits on its own.
        let next = store.begin().await.unwrap();
        insert(&next, "INSERT INTO t (who) VALUES ('next')").await;
        next.commit().await.unwrap();
        assert_eq!(durable(&dir).await, vec!["next".to_owned()]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
