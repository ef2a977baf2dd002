//! Signing keys: people register public keys (the secret never reaches the server), a
//! coordinator or admin of their organisation approves the binding, approving a
//! new key retires the previous one (rotation), and any key can be revoked. Every key
//! event is appended to the key registry's own hash chain.

use patto_core::ids::{InstanceId, PersonId, SigningKeyId};
use patto_core::records::SigningKey;
use patto_core::status::SigningKeyStatus;
use patto_store::Tx;
use serde_json::{Value, json};

use crate::audit::{Registry, append_to_registry};
use crate::directory::duplicate_as_conflict;
use crate::roles::{require_key_authority, require_key_revoker, require_key_submitter};
use crate::{Actor, Engine, EngineError};

/// The instance number under which the key registry's chain is hashed; workflow
/// instances start at 1.
pub const KEY_CHAIN_INSTANCE: InstanceId = InstanceId::new(0);

impl Engine {
    /// Registers a public key (SPKI PEM or raw base64url) for a person. The binding is
    /// pending until approved.
    pub async fn register_key(
        &self,
        actor: Actor,
        person_id: PersonId,
        public_key: &str,
    ) -> Result<SigningKey, EngineError> {
        let parsed = patto_sign::parse_public_key(public_key).map_err(|e| {
            EngineError::Validation(format!(
                "the public key is not readable ({e}); give the .pub file written by `patto keygen` (SPKI PEM) or the key in base64url"
            ))
        })?;
        let encoded = patto_sign::public_key_to_base64url(&parsed);
        let fingerprint = patto_sign::fingerprint(&parsed);
        let tx = self.store().begin().await?;
        require_key_submitter(actor, person_id)?;
        tx.person(person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", person_id))?;
        let key = tx
            .insert_signing_key(person_id, &encoded, &fingerprint)
            .await
            .map_err(|e| duplicate_as_conflict(e, "signing key", &fingerprint))?;
        append_key_event(
            &tx,
            "key_registered",
            actor,
            json!({ "key": key.id, "person": person_id, "public_key": encoded, "fingerprint": fingerprint }),
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Approves a pending key. The approver is a coordinator or admin of one of the key
    /// holder's organisations (or the system), never the holder. The holder's
    /// previously approved key, if any, is rotated out: it can no longer sign, and the
    /// signatures it made stay valid.
    pub async fn approve_key(
        &self,
        actor: Actor,
        key_id: SigningKeyId,
    ) -> Result<SigningKey, EngineError> {
        let tx = self.store().begin().await?;
        let key = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        require_key_authority(&tx, actor, key.person_id, "approve").await?;
        if !tx.approve_signing_key(key_id, actor.person_id()).await? {
            return Err(EngineError::Conflict(format!(
                "key {key_id} is {}, not pending: only a pending key can be approved",
                key.status
            )));
        }
        append_key_event(
            &tx,
            "key_approved",
            actor,
            json!({ "key": key_id, "person": key.person_id, "approved_by": actor.person_id() }),
        )
        .await?;
        for previous in tx.signing_keys_of(key.person_id).await? {
            if previous.id != key_id && previous.status == SigningKeyStatus::Approved {
                tx.rotate_signing_key(previous.id, key_id).await?;
                append_key_event(
                    &tx,
                    "key_rotated",
                    actor,
                    json!({ "key": previous.id, "replaced_by": key_id }),
                )
                .await?;
            }
        }
        let approved = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        tx.commit().await?;
        Ok(approved)
    }

    /// Revokes a key: signatures after now are refused; earlier ones stay verifiable and
    /// are shown as made before the revocation. The holder may revoke their own key.
    pub async fn revoke_key(
        &self,
        actor: Actor,
        key_id: SigningKeyId,
        reason: &str,
    ) -> Result<SigningKey, EngineError> {
        crate::validate::display_line("reason for the revocation", reason)?;
        let tx = self.store().begin().await?;
        let key = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        require_key_revoker(&tx, actor, key.person_id).await?;
        if !tx.revoke_signing_key(key_id, reason.trim()).await? {
            return Err(EngineError::Conflict(format!(
                "key {key_id} is already revoked"
            )));
        }
        append_key_event(
            &tx,
            "key_revoked",
            actor,
            json!({ "key": key_id, "reason": reason.trim() }),
        )
        .await?;
        let revoked = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        tx.commit().await?;
        Ok(revoked)
    }

    /// A person's keys, oldest first.
    pub async fn keys_of(&self, person_id: PersonId) -> Result<Vec<SigningKey>, EngineError> {
        let tx = self.store().read().await?;
        let keys = tx.signing_keys_of(person_id).await?;
        tx.commit().await?;
        Ok(keys)
    }
}

/// Appends an event to the key registry chain.
async fn append_key_event(
    tx: &Tx,
    kind: &str,
    actor: Actor,
    payload: Value,
) -> Result<(), EngineError> {
    append_to_registry(tx, Registry::Keys, kind, actor, &payload).await
}
