//! Signing keys: a key binds one person to one organisation. Its holder registers it
//! with a statement signed by the key itself (proof of possession; the secret never
//! reaches the server), a coordinator or admin of that organisation approves the binding
//! (two operators where the holder is its only one), approving a new key retires the
//! previous one for the same organisation (rotation), and any key can be revoked. Every
//! key event, with who registered or approved it and on which act, is appended to the
//! key registry's own hash chain.

use chrono::{DateTime, Duration, Utc};
use patto_core::ids::{InstanceId, PersonId, SigningKeyId};
use patto_core::records::SigningKey;
use patto_core::status::SigningKeyStatus;
use patto_sign::SignedRegistration;
use patto_store::{NewSigningKey, Tx};
use serde_json::{Value, json};

use crate::audit::{Registry, append_to_registry};
use crate::roles::{KeyApprover, key_approver, require_key_revoker, require_key_submitter};
use crate::{Actor, Engine, EngineError};

/// The instance number under which the key registry's chain is hashed; workflow
/// instances start at 1.
pub const KEY_CHAIN_INSTANCE: InstanceId = InstanceId::new(0);

/// The pause point where a key's approval or revocation is written, not yet committed.
pub const KEY_CHANGE_WRITTEN: &str = "key_change:written";

/// How long a registration statement stays good for: long enough to carry it from the
/// holder's computer to the server, short enough that one left lying around is useless.
pub const REGISTRATION_VALIDITY_HOURS: i64 = 24;

/// How far ahead of the server's clock a registration's time may be, for clocks that run
/// a little fast.
const CLOCK_SKEW_MINUTES: i64 = 5;

/// What an approval did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalOutcome {
    /// The key is approved and can sign; the holder's previous key for the same
    /// organisation, if any, is rotated out.
    Approved(SigningKey),
    /// The first of two operators approved; the key waits for a second, different one.
    AwaitingSecondOperator(SigningKey),
}

impl ApprovalOutcome {
    /// The key as it now stands.
    pub fn key(&self) -> &SigningKey {
        match self {
            ApprovalOutcome::Approved(key) | ApprovalOutcome::AwaitingSecondOperator(key) => key,
        }
    }
}

impl Engine {
    /// Registers a key from a signed registration statement (the file `patto keys
    /// request` writes): the statement must be signed by the key it registers (proof of
    /// possession), made less than 24 hours ago, submitted by the holder it names, for an
    /// organisation they belong to. A public key is registered once, so a registration is
    /// used once; a holder has at most one key waiting for approval per organisation.
    pub async fn register_key(
        &self,
        actor: Actor,
        registration: &[u8],
    ) -> Result<SigningKey, EngineError> {
        let signed = SignedRegistration::from_json(registration)
            .map_err(|e| EngineError::Validation(e.to_string()))?;
        let (statement, public) = signed
            .verify()
            .map_err(|e| EngineError::Validation(e.to_string()))?;
        check_registration_time(&statement.made_at, Utc::now())?;
        let encoded = patto_sign::public_key_to_base64url(&public);
        let fingerprint = patto_sign::fingerprint(&public);
        let tx = self.store().begin().await?;
        lock_key_registry(&tx).await?;
        let email = statement.person.trim().to_lowercase();
        let person = tx
            .person_by_email(&email)
            .await?
            .ok_or_else(|| EngineError::not_found("person with e-mail", &email))?;
        require_key_submitter(actor, person.id)?;
        let organisation = tx
            .organisation_by_slug(&statement.organisation)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", &statement.organisation))?;
        if !tx.belongs_to(person.id, organisation.id).await? {
            return Err(EngineError::Forbidden(format!(
                "{email} does not belong to {}: a key signs for an organisation its holder belongs to; ask one of its admins to add you",
                organisation.slug
            )));
        }
        if let Some(pending) = tx
            .signing_keys_for(person.id, organisation.id)
            .await?
            .into_iter()
            .find(|k| k.status == SigningKeyStatus::Pending)
        {
            return Err(EngineError::Conflict(format!(
                "key {} ({}) of {email} for {} is already waiting for approval: have it approved, or revoke it before registering another",
                pending.id, pending.fingerprint, organisation.slug
            )));
        }
        let key = tx
            .insert_signing_key(NewSigningKey {
                person_id: person.id,
                organisation_id: organisation.id,
                public_key: &encoded,
                fingerprint: &fingerprint,
                registration: &signed.to_json(),
            })
            .await
            .map_err(|e| match e {
                patto_store::StoreError::Duplicate(_) => EngineError::Conflict(format!(
                    "the public key {fingerprint} is already registered, and a key is registered once: make a new key with `patto keygen`"
                )),
                other => EngineError::Store(other),
            })?;
        append_key_event(
            &tx,
            "key_registered",
            actor,
            json!({
                "key": key.id,
                "person": person.id,
                "organisation": organisation.id,
                "public_key": encoded,
                "fingerprint": fingerprint,
                "registered_by": actor.person_id(),
                // The statement names the holder by e-mail address, and key events are
                // shown in the bundles of the acts the key signed, which may be
                // published: the event commits to it by hash, and the statement itself
                // stays with the key, for audit.
                "registration_sha256": patto_sign::content_hash(signed.statement.as_bytes()),
                "registration_signature": signed.signature,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }

    /// Approves a pending key. A coordinator or admin of the organisation the key signs
    /// for approves it alone; where the holder is that organisation's only coordinator
    /// or admin, two different instance operators approve, each naming the act that
    /// designated the holder (`act_reference`, e.g. a PEC protocol number or a
    /// delibera). Once approved, the holder's previous key for the same organisation is
    /// rotated out; their keys for other organisations are left alone.
    pub async fn approve_key(
        &self,
        actor: Actor,
        key_id: SigningKeyId,
        act_reference: Option<&str>,
    ) -> Result<ApprovalOutcome, EngineError> {
        let act_reference = act_reference.map(str::trim);
        if let Some(reference) = act_reference {
            crate::validate::display_line("reference of the designating act", reference)?;
        }
        let tx = self.store().begin().await?;
        lock_key_registry(&tx).await?;
        let key = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        let organisation_id = key.organisation_id.ok_or_else(|| {
            EngineError::Conflict(format!(
                "key {key_id} was registered before keys were bound to organisations and signs for none: its holder registers a new key with `patto keys request`"
            ))
        })?;
        let approver_kind = key_approver(&tx, actor, key.person_id, organisation_id).await?;
        let approver = actor
            .person_id()
            .ok_or_else(|| EngineError::Forbidden("the system never approves a key".to_owned()))?;
        if key.status != SigningKeyStatus::Pending {
            return Err(EngineError::Conflict(format!(
                "key {key_id} is {}, not pending: only a pending key can be approved",
                key.status
            )));
        }
        let earlier = tx.key_approvers(key_id).await?;
        if earlier.contains(&approver) {
            return Err(EngineError::Conflict(format!(
                "you already approved key {key_id}: a second, different operator must approve it too"
            )));
        }
        if approver_kind == KeyApprover::Operator && act_reference.is_none() {
            return Err(EngineError::Validation(format!(
                "the holder of key {key_id} is the only coordinator or admin of its organisation, so two operators approve it, each naming the act that designated the holder: give its reference (e.g. the PEC protocol number or the delibera) with --act"
            )));
        }
        tx.insert_key_approval(key_id, approver, act_reference)
            .await?;
        let approval = json!({
            "key": key_id,
            "person": key.person_id,
            "organisation": organisation_id,
            "approved_by": approver,
            "as": match approver_kind {
                KeyApprover::Authority => "coordinator or admin",
                KeyApprover::Operator => "operator",
            },
            "act_reference": act_reference,
            "earlier_approvers": earlier,
        });
        if approver_kind == KeyApprover::Operator && earlier.is_empty() {
            append_key_event(&tx, "key_approval_recorded", actor, approval).await?;
            self.pause(KEY_CHANGE_WRITTEN).await;
            tx.commit().await?;
            return Ok(ApprovalOutcome::AwaitingSecondOperator(key));
        }
        if !tx.approve_signing_key(key_id, Some(approver)).await? {
            return Err(EngineError::Conflict(format!(
                "key {key_id} is no longer pending: only a pending key can be approved"
            )));
        }
        append_key_event(&tx, "key_approved", actor, approval).await?;
        for previous in tx.signing_keys_for(key.person_id, organisation_id).await? {
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
        self.pause(KEY_CHANGE_WRITTEN).await;
        tx.commit().await?;
        Ok(ApprovalOutcome::Approved(approved))
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
        lock_key_registry(&tx).await?;
        let key = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        require_key_revoker(&tx, actor, key.person_id, key.organisation_id).await?;
        if !tx.revoke_signing_key(key_id, reason.trim()).await? {
            return Err(EngineError::Conflict(format!(
                "key {key_id} is already revoked"
            )));
        }
        append_key_event(
            &tx,
            "key_revoked",
            actor,
            json!({ "key": key_id, "reason": reason.trim(), "revoked_by": actor.person_id() }),
        )
        .await?;
        let revoked = tx
            .signing_key(key_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
        self.pause(KEY_CHANGE_WRITTEN).await;
        tx.commit().await?;
        Ok(revoked)
    }

    /// Whether the person is an instance operator.
    pub async fn is_operator(&self, person_id: PersonId) -> Result<bool, EngineError> {
        let tx = self.store().read().await?;
        let operator = tx.is_operator(person_id).await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// A person's keys, oldest first.
    pub async fn keys_of(&self, person_id: PersonId) -> Result<Vec<SigningKey>, EngineError> {
        let tx = self.store().read().await?;
        let keys = tx.signing_keys_of(person_id).await?;
        tx.commit().await?;
        Ok(keys)
    }
}

/// Refuses a registration made more than 24 hours before `now`, or in the future.
fn check_registration_time(made_at: &str, now: DateTime<Utc>) -> Result<(), EngineError> {
    let made = DateTime::parse_from_rfc3339(made_at)
        .map_err(|e| {
            EngineError::Validation(format!(
                "the registration's time '{made_at}' is not an RFC 3339 time ({e}): make it again with `patto keys request`"
            ))
        })?
        .with_timezone(&Utc);
    if made < now - Duration::hours(REGISTRATION_VALIDITY_HOURS) {
        return Err(EngineError::Validation(format!(
            "the registration was made at {made_at}, more than {REGISTRATION_VALIDITY_HOURS} hours ago: make a new one with `patto keys request` and submit it at once"
        )));
    }
    if made > now + Duration::minutes(CLOCK_SKEW_MINUTES) {
        return Err(EngineError::Validation(format!(
            "the registration's time {made_at} is in the future: check the clock of the computer that made it, and make it again"
        )));
    }
    Ok(())
}

/// Locks the key registry for the rest of the transaction, before any key is read: a
/// signature takes the same lock before checking its key, so a key change and a
/// signature never overlap.
async fn lock_key_registry(tx: &Tx) -> Result<(), EngineError> {
    tx.key_chain_head_for_update().await?;
    Ok(())
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
