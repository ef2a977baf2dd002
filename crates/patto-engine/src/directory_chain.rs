//! The directory chain: every change to organisations, people, memberships, networks,
//! working groups and operators is appended, with the actor and the full new (or removed)
//! row, to a hash-chained log in the same transaction. Who decided who may sign must itself
//! leave evidence.
//!
//! Replaying the chain rebuilds the directory it describes; comparing that with the
//! database finds every row edited, added or removed behind the engine's back.

use std::collections::BTreeMap;

use patto_core::ids::InstanceId;
use patto_store::{DirectoryRow, DirectoryRowId, DirectoryTable, Tx};
use serde_json::{Value, json};

use crate::audit::{Registry, append_to_registry};
use crate::{Actor, Engine, EngineError};

/// The instance number under which the directory chain is hashed; workflow instances
/// start at 1 and the key registry is 0.
pub const DIRECTORY_CHAIN_INSTANCE: InstanceId = InstanceId::new(-1);

/// Records a row as it now is, after it was created or changed.
pub(crate) async fn record_row(
    tx: &Tx,
    actor: Actor,
    kind: &str,
    id: DirectoryRowId,
) -> Result<(), EngineError> {
    let row = tx.directory_row(id).await?.ok_or_else(|| {
        EngineError::Store(patto_store::StoreError::Corrupt(format!(
            "{id:?} vanished while it was being recorded"
        )))
    })?;
    let payload = json!({ "table": row.table.as_str(), "row": row.row });
    append_to_registry(tx, Registry::Directory, kind, actor, &payload).await
}

/// Records a row that is about to be removed, as it was. The caller read it in the same
/// transaction.
pub(crate) async fn record_removal(
    tx: &Tx,
    actor: Actor,
    kind: &str,
    removed: DirectoryRow,
) -> Result<(), EngineError> {
    let payload = json!({ "table": removed.table.as_str(), "removed": removed.row });
    append_to_registry(tx, Registry::Directory, kind, actor, &payload).await
}

/// How a row of the database differs from the directory the chain describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryDifference {
    /// The chain says the row exists, the database has no such row.
    Missing {
        /// The table.
        table: String,
        /// The row's id in it.
        id: i64,
    },
    /// The database has a row the chain never recorded.
    Unrecorded {
        /// The table.
        table: String,
        /// The row's id in it.
        id: i64,
        /// The row as found.
        found: Value,
    },
    /// The row differs from what the chain last recorded for it.
    Altered {
        /// The table.
        table: String,
        /// The row's id in it.
        id: i64,
        /// The row as the chain last recorded it.
        expected: Value,
        /// The row as found.
        found: Value,
    },
}

/// Why an entry of the chain cannot be replayed.
fn unreadable(seq: i64, why: &str) -> EngineError {
    EngineError::Store(patto_store::StoreError::Corrupt(format!(
        "directory chain entry {seq} cannot be replayed: {why}"
    )))
}

impl Engine {
    /// Replays the directory chain and compares the directory it describes with the
    /// database, row by row. Empty when they agree. Verify the chain itself with
    /// [`Engine::verify_directory_chain`]: a replay of an altered chain proves nothing.
    pub async fn directory_differences(&self) -> Result<Vec<DirectoryDifference>, EngineError> {
        let tx = self.store().read().await?;
        let entries = tx.directory_events().await?;
        let rows = tx.directory_rows().await?;
        tx.commit().await?;
        let mut expected: BTreeMap<(DirectoryTable, i64), Value> = BTreeMap::new();
        for entry in entries {
            let payload: Value = serde_json::from_str(&entry.payload)
                .map_err(|_| unreadable(entry.seq, "its payload is not JSON"))?;
            let table = payload
                .get("table")
                .and_then(Value::as_str)
                .and_then(DirectoryTable::from_name)
                .ok_or_else(|| unreadable(entry.seq, "it names no directory table"))?;
            let (row, present) = match (payload.get("row"), payload.get("removed")) {
                (Some(row), None) => (row, true),
                (None, Some(row)) => (row, false),
                _ => {
                    return Err(unreadable(
                        entry.seq,
                        "it holds neither a row nor a removal",
                    ));
                }
            };
            let id = row
                .get("id")
                .and_then(Value::as_i64)
                .ok_or_else(|| unreadable(entry.seq, "its row has no id"))?;
            if present {
                expected.insert((table, id), row.clone());
            } else {
                expected.remove(&(table, id));
            }
        }
        let mut differences = Vec::new();
        for row in rows {
            let table = row.table.as_str().to_owned();
            match expected.remove(&(row.table, row.id)) {
                None => differences.push(DirectoryDifference::Unrecorded {
                    table,
                    id: row.id,
                    found: row.row,
                }),
                Some(recorded) if recorded != row.row => {
                    differences.push(DirectoryDifference::Altered {
                        table,
                        id: row.id,
                        expected: recorded,
                        found: row.row,
                    });
                }
                Some(_) => {}
            }
        }
        differences.extend(
            expected
                .into_keys()
                .map(|(table, id)| DirectoryDifference::Missing {
                    table: table.as_str().to_owned(),
                    id,
                }),
        );
        Ok(differences)
    }
}
