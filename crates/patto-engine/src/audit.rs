//! The append-only, hash-chained event log of each workflow instance.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use patto_core::ids::{InstanceId, PersonId};
use patto_core::records::{DirectoryEvent, Event, KeyEvent, WorkflowInstance};
use patto_sign::{
    BundleEntry, BundleEvent, ChainError, ChainLink, HashedEvent, WithheldEvent, hash_new_event_v2,
    verify_chain, version_2_body_hash,
};
use patto_store::{NewChainEntry, NewEvent, Tx};
use serde_json::Value;

use crate::directory_chain::DIRECTORY_CHAIN_INSTANCE;
use crate::keys::KEY_CHAIN_INSTANCE;
use crate::workflow::Notification;
use crate::{Actor, Engine, EngineError};

/// Appends an event to the instance's chain. The caller holds the instance (a claimed or
/// locked row) for the rest of the transaction, so `event_count` and `head_hash` are the
/// current head.
pub(crate) async fn append(
    tx: &Tx,
    instance: &mut WorkflowInstance,
    kind: &str,
    actor: Actor,
    payload: &Value,
) -> Result<Event, EngineError> {
    append_moving(tx, instance, None, &[], kind, actor, payload).await
}

/// Appends an event like [`append`] and, with the same write, moves the instance to
/// `state` when one is given and puts the notifications the event causes in the outbox.
pub(crate) async fn append_moving(
    tx: &Tx,
    instance: &mut WorkflowInstance,
    state: Option<&str>,
    notifications: &[Notification],
    kind: &str,
    actor: Actor,
    payload: &Value,
) -> Result<Event, EngineError> {
    let next = NextLink::after(
        instance.id,
        instance.event_count,
        &instance.head_hash,
        kind,
        actor,
        payload,
    )?;
    let event = tx
        .append_event(
            NewEvent {
                instance_id: instance.id,
                seq: next.seq,
                prev_hash: &instance.head_hash,
                hash: &next.hash,
                kind,
                actor_id: actor.person_id(),
                payload: &next.payload,
                recorded_at: next.recorded_at,
            },
            state,
            &notifications
                .iter()
                .map(|n| n.outbox_message(instance.id, next.seq))
                .collect::<Vec<_>>(),
        )
        .await?;
    instance.event_count = next.seq;
    instance.head_hash = next.hash;
    if let Some(state) = state {
        state.clone_into(&mut instance.state);
    }
    Ok(event)
}

/// The chains kept beside the workflow instances' own: the key registry's and the
/// directory's. Both have the same entry shape and are hashed and verified alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Registry {
    Keys,
    Directory,
}

impl Registry {
    /// The instance number under which the chain is hashed.
    fn instance_id(self) -> InstanceId {
        match self {
            Registry::Keys => KEY_CHAIN_INSTANCE,
            Registry::Directory => DIRECTORY_CHAIN_INSTANCE,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Registry::Keys => "keys",
            Registry::Directory => "directory",
        }
    }
}

/// Appends an event to a registry's chain, under the lock of its head.
pub(crate) async fn append_to_registry(
    tx: &Tx,
    registry: Registry,
    kind: &str,
    actor: Actor,
    payload: &Value,
) -> Result<(), EngineError> {
    let (count, head) = match registry {
        Registry::Keys => tx.key_chain_head_for_update().await?,
        Registry::Directory => tx.directory_chain_head_for_update().await?,
    };
    let next = NextLink::after(registry.instance_id(), count, &head, kind, actor, payload)?;
    let entry = NewChainEntry {
        seq: next.seq,
        prev_hash: &head,
        hash: &next.hash,
        kind,
        actor_id: actor.person_id(),
        payload: &next.payload,
        recorded_at: next.recorded_at,
    };
    match registry {
        Registry::Keys => {
            tx.append_key_event(entry).await?;
        }
        Registry::Directory => {
            tx.append_directory_event(entry).await?;
        }
    }
    Ok(())
}

/// The next event of a chain, hashed onto its head under the version 2 rule, which lets an
/// export withhold it as its body's hash.
pub(crate) struct NextLink {
    pub seq: i64,
    pub hash: String,
    /// The payload's canonical JSON text, as stored and hashed.
    pub payload: String,
    pub recorded_at: DateTime<Utc>,
}

impl NextLink {
    pub(crate) fn after(
        instance_id: InstanceId,
        count: i64,
        head: &str,
        kind: &str,
        actor: Actor,
        payload: &Value,
    ) -> Result<NextLink, EngineError> {
        let recorded_at = now_micros();
        let seq = count + 1;
        let HashedEvent { payload, hash } = hash_new_event_v2(
            instance_id.get(),
            seq,
            head,
            kind,
            actor.person_id().map(PersonId::get),
            payload,
            &timestamp(recorded_at),
        )
        .map_err(|e| EngineError::Internal(format!("cannot hash the event: {e}")))?;
        Ok(NextLink {
            seq,
            hash,
            payload,
            recorded_at,
        })
    }
}

/// Stored chain entries — workflow events, key-registry and directory events — have one
/// shape; this reads any of them as the chain and the evidence bundle see it.
pub(crate) trait StoredLink {
    fn to_link(&self, instance_id: InstanceId) -> ChainLink;
    fn to_bundle_event(&self) -> Result<BundleEvent, EngineError>;
    /// The payload, parsed.
    fn payload_value(&self) -> Result<Value, EngineError>;

    /// The entry as an export shows it: withheld as its body's hash when `withhold` and
    /// its hash allows that (version 2), in full otherwise.
    fn to_bundle_entry(
        &self,
        instance_id: InstanceId,
        withhold: bool,
    ) -> Result<BundleEntry, EngineError> {
        let link = self.to_link(instance_id);
        if withhold && let Some(body_sha256) = version_2_body_hash(&link).map_err(corrupt_event)? {
            return Ok(BundleEntry::Withheld(WithheldEvent {
                seq: link.seq,
                prev_hash: link.prev_hash,
                hash: link.hash,
                body_sha256,
            }));
        }
        Ok(BundleEntry::Event(self.to_bundle_event()?))
    }
}

fn corrupt_event(error: ChainError) -> EngineError {
    EngineError::Store(patto_store::StoreError::Corrupt(error.to_string()))
}

macro_rules! stored_link {
    ($($record:ty),+) => {
        $(
            impl StoredLink for $record {
                fn to_link(&self, instance_id: InstanceId) -> ChainLink {
                    ChainLink {
                        instance_id: instance_id.get(),
                        seq: self.seq,
                        prev_hash: self.prev_hash.clone(),
                        hash: self.hash.clone(),
                        kind: self.kind.clone(),
                        actor_id: self.actor_id.map(PersonId::get),
                        payload: self.payload.clone(),
                        recorded_at: timestamp(self.recorded_at),
                    }
                }

                fn to_bundle_event(&self) -> Result<BundleEvent, EngineError> {
                    Ok(BundleEvent {
                        seq: self.seq,
                        prev_hash: self.prev_hash.clone(),
                        hash: self.hash.clone(),
                        kind: self.kind.clone(),
                        actor_id: self.actor_id.map(PersonId::get),
                        payload: self.payload_value()?,
                        recorded_at: timestamp(self.recorded_at),
                    })
                }

                fn payload_value(&self) -> Result<Value, EngineError> {
                    serde_json::from_str(&self.payload).map_err(|e| {
                        EngineError::Store(patto_store::StoreError::Corrupt(format!(
                            "event {} has a payload that is not JSON: {e}",
                            self.seq
                        )))
                    })
                }

            }
        )+
    };
}

stored_link!(Event, KeyEvent, DirectoryEvent);

/// Checks stored entries against a recorded head.
fn verdict<T: StoredLink>(
    chain: String,
    instance_id: InstanceId,
    entries: &[T],
    count: i64,
    head: String,
) -> ChainVerdict {
    let links: Vec<ChainLink> = entries.iter().map(|e| e.to_link(instance_id)).collect();
    let problem = verify_chain(instance_id.get(), &links, count, &head).err();
    ChainVerdict {
        chain,
        instance_id,
        events: links.len(),
        head_hash: head,
        problem,
    }
}

/// The current time at the precision the databases keep (microseconds), so that a
/// hashed time survives a round trip through either backend.
pub(crate) fn now_micros() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The form in which event times are hashed.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The result of checking one instance's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainVerdict {
    /// The document slug of a workflow instance's chain, `keys` for the key registry or
    /// `directory` for the directory.
    pub chain: String,
    /// The workflow instance, 0 for the key registry, -1 for the directory.
    pub instance_id: InstanceId,
    /// How many entries the chain holds.
    pub events: usize,
    /// The recorded head hash the entries were checked against.
    pub head_hash: String,
    /// `None` when the chain is intact.
    pub problem: Option<ChainError>,
}

impl Engine {
    /// Recomputes the chain of an instance from its stored events and compares it with
    /// the head recorded on the instance.
    pub async fn verify_chain(&self, instance_id: InstanceId) -> Result<ChainVerdict, EngineError> {
        let tx = self.store().read().await?;
        let instance = tx
            .instance(instance_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance", instance_id))?;
        let document = tx
            .document(instance.document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", instance.document_id))?;
        let events = tx.events(instance_id).await?;
        tx.commit().await?;
        Ok(verdict(
            document.slug,
            instance_id,
            &events,
            instance.event_count,
            instance.head_hash,
        ))
    }

    /// Checks the key registry's chain against its recorded head.
    pub async fn verify_key_chain(&self) -> Result<ChainVerdict, EngineError> {
        self.verify_registry(Registry::Keys).await
    }

    /// Checks the directory chain against its recorded head (and only that: see
    /// [`Engine::directory_differences`] for the rows it describes).
    pub async fn verify_directory_chain(&self) -> Result<ChainVerdict, EngineError> {
        self.verify_registry(Registry::Directory).await
    }

    async fn verify_registry(&self, registry: Registry) -> Result<ChainVerdict, EngineError> {
        let tx = self.store().read().await?;
        let verdict = match registry {
            Registry::Keys => {
                let (count, head) = tx.key_chain_head().await?;
                let events = tx.key_events().await?;
                verdict(
                    registry.name().to_owned(),
                    registry.instance_id(),
                    &events,
                    count,
                    head,
                )
            }
            Registry::Directory => {
                let (count, head) = tx.directory_chain_head().await?;
                let events = tx.directory_events().await?;
                verdict(
                    registry.name().to_owned(),
                    registry.instance_id(),
                    &events,
                    count,
                    head,
                )
            }
        };
        tx.commit().await?;
        Ok(verdict)
    }

    /// Checks every instance's chain, the key registry's and the directory's.
    pub async fn verify_all_chains(&self) -> Result<Vec<ChainVerdict>, EngineError> {
        let tx = self.store().read().await?;
        let ids = tx.instance_ids().await?;
        tx.commit().await?;
        let mut verdicts = Vec::with_capacity(ids.len() + 2);
        for id in ids {
            verdicts.push(self.verify_chain(id).await?);
        }
        verdicts.push(self.verify_key_chain().await?);
        verdicts.push(self.verify_directory_chain().await?);
        Ok(verdicts)
    }

    /// The events of an instance, oldest first.
    pub async fn events(&self, instance_id: InstanceId) -> Result<Vec<Event>, EngineError> {
        let tx = self.store().read().await?;
        let events = tx.events(instance_id).await?;
        tx.commit().await?;
        Ok(events)
    }
}
