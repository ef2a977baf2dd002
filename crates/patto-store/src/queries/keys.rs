//! Signing keys and the key registry chain.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::SigningKeyStatus;

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

/// The name of the key registry's chain in `chain_heads`.
const KEY_CHAIN: &str = "keys";

/// A key to register, pending approval.
pub struct NewSigningKey<'a> {
    /// Its holder.
    pub person_id: PersonId,
    /// The organisation it will sign for.
    pub organisation_id: OrganisationId,
    /// The public key, base64url.
    pub public_key: &'a str,
    /// Its fingerprint.
    pub fingerprint: &'a str,
    /// The signed registration statement that proved possession (JSON).
    pub registration: &'a str,
}

impl Tx {
    // --- signing keys and their chain ---

    /// Inserts a key, pending approval.
    pub async fn insert_signing_key(
        &self,
        new: NewSigningKey<'_>,
    ) -> Result<SigningKey, StoreError> {
        let model = signing_key::ActiveModel {
            person_id: Set(new.person_id.get()),
            organisation_id: Set(Some(new.organisation_id.get())),
            public_key: Set(new.public_key.to_owned()),
            fingerprint: Set(new.fingerprint.to_owned()),
            status: Set(SigningKeyStatus::Pending.as_str().to_owned()),
            registered_at: Set(now()),
            approved_by: Set(None),
            approved_at: Set(None),
            rotated_at: Set(None),
            replaced_by: Set(None),
            revoked_at: Set(None),
            revoke_reason: Set(None),
            registration: Set(Some(new.registration.to_owned())),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// A person's keys for one organisation, oldest first.
    pub async fn signing_keys_for(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
    ) -> Result<Vec<SigningKey>, StoreError> {
        records(
            signing_key::Entity::find()
                .filter(signing_key::Column::PersonId.eq(person_id.get()))
                .filter(signing_key::Column::OrganisationId.eq(organisation_id.get()))
                .order_by_asc(signing_key::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Records one approver's approval of a key that needs two.
    pub async fn insert_key_approval(
        &self,
        key_id: SigningKeyId,
        approver_id: PersonId,
        act_reference: Option<&str>,
    ) -> Result<(), StoreError> {
        key_approval::ActiveModel {
            key_id: Set(key_id.get()),
            approver_id: Set(approver_id.get()),
            act_reference: Set(act_reference.map(str::to_owned)),
            approved_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        Ok(())
    }

    /// The people who have recorded an approval of a key, in order.
    pub async fn key_approvers(&self, key_id: SigningKeyId) -> Result<Vec<PersonId>, StoreError> {
        Ok(key_approval::Entity::find()
            .filter(key_approval::Column::KeyId.eq(key_id.get()))
            .order_by_asc(key_approval::Column::Id)
            .all(&self.inner)
            .await?
            .into_iter()
            .map(|row| PersonId::new(row.approver_id))
            .collect())
    }

    /// The key with this id.
    pub async fn signing_key(&self, id: SigningKeyId) -> Result<Option<SigningKey>, StoreError> {
        signing_key::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// A person's keys, oldest first.
    pub async fn signing_keys_of(
        &self,
        person_id: PersonId,
    ) -> Result<Vec<SigningKey>, StoreError> {
        records(
            signing_key::Entity::find()
                .filter(signing_key::Column::PersonId.eq(person_id.get()))
                .order_by_asc(signing_key::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Approves a pending key; `false` when it was not pending.
    pub async fn approve_signing_key(
        &self,
        id: SigningKeyId,
        approved_by: Option<PersonId>,
    ) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::Status,
                Expr::value(SigningKeyStatus::Approved.as_str()),
            )
            .col_expr(
                signing_key::Column::ApprovedBy,
                Expr::value(approved_by.map(PersonId::get)),
            )
            .col_expr(signing_key::Column::ApprovedAt, Expr::value(now()))
            .filter(signing_key::Column::Id.eq(id.get()))
            .filter(signing_key::Column::Status.eq(SigningKeyStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Marks an approved key replaced by a newer one; `false` when it was not approved.
    pub async fn rotate_signing_key(
        &self,
        id: SigningKeyId,
        replaced_by: SigningKeyId,
    ) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::Status,
                Expr::value(SigningKeyStatus::Rotated.as_str()),
            )
            .col_expr(signing_key::Column::RotatedAt, Expr::value(now()))
            .col_expr(
                signing_key::Column::ReplacedBy,
                Expr::value(replaced_by.get()),
            )
            .filter(signing_key::Column::Id.eq(id.get()))
            .filter(signing_key::Column::Status.eq(SigningKeyStatus::Approved.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Revokes a key that is not revoked yet; `false` when it already was.
    pub async fn revoke_signing_key(
        &self,
        id: SigningKeyId,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(
                signing_key::Column::Status,
                Expr::value(SigningKeyStatus::Revoked.as_str()),
            )
            .col_expr(signing_key::Column::RevokedAt, Expr::value(now()))
            .col_expr(signing_key::Column::RevokeReason, Expr::value(reason))
            .filter(signing_key::Column::Id.eq(id.get()))
            .filter(signing_key::Column::Status.ne(SigningKeyStatus::Revoked.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The key registry chain's head (event count, hash), locked for this transaction on
    /// PostgreSQL so that appends are serialised.
    pub async fn key_chain_head_for_update(&self) -> Result<(i64, String), StoreError> {
        self.chain_head(KEY_CHAIN, true).await
    }

    /// The key registry chain's recorded head.
    pub async fn key_chain_head(&self) -> Result<(i64, String), StoreError> {
        self.chain_head(KEY_CHAIN, false).await
    }

    /// Appends to the key registry chain and moves its head. Never updated or deleted.
    pub async fn append_key_event(&self, new: NewChainEntry<'_>) -> Result<KeyEvent, StoreError> {
        let model = key_event::ActiveModel {
            seq: Set(new.seq),
            prev_hash: Set(new.prev_hash.to_owned()),
            hash: Set(new.hash.to_owned()),
            kind: Set(new.kind.to_owned()),
            actor_id: Set(new.actor_id.map(PersonId::get)),
            payload: Set(new.payload.to_owned()),
            recorded_at: Set(new.recorded_at),
            ..Default::default()
        };
        let inserted = model.insert(&self.inner).await?;
        self.move_chain_head(KEY_CHAIN, &new).await?;
        record(inserted)
    }

    /// The key registry chain, in order.
    pub async fn key_events(&self) -> Result<Vec<KeyEvent>, StoreError> {
        records(
            key_event::Entity::find()
                .order_by_asc(key_event::Column::Seq)
                .order_by_asc(key_event::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }
}
