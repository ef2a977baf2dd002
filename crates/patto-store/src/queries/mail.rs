//! Delivery of outbox rows: messages that carry a secret and expire, the claim that keeps
//! two mail workers from sending one row at the same time, and marking rows sent, failed
//! or dropped. A row's secret is cleared as soon as the row leaves `pending`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::OutboxStatus;

use super::*;
use crate::entities::*;
use crate::{Backend, NewOutboxMessage, StoreError, Tx};

impl Tx {
    /// Puts a message with a secret in the outbox, pending until `expires_at`, after
    /// which it is dropped instead of sent.
    pub async fn insert_expiring_outbox_message(
        &self,
        new: NewOutboxMessage<'_>,
        secret: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<OutboxMessage, StoreError> {
        let model = outbox_message::ActiveModel {
            message_id: Set(new.message_id.to_owned()),
            instance_id: Set(new.instance_id.map(InstanceId::get)),
            event_seq: Set(new.event_seq),
            person_id: Set(new.person_id.get()),
            recipient: Set(new.recipient.to_owned()),
            language: Set(new.language.to_owned()),
            template: Set(new.template.to_owned()),
            payload: Set(new.payload.to_owned()),
            status: Set(OutboxStatus::Pending.as_str().to_owned()),
            attempts: Set(0),
            next_attempt_at: Set(now()),
            last_error: Set(None),
            created_at: Set(now()),
            sent_at: Set(None),
            secret: Set(Some(secret.to_owned())),
            expires_at: Set(Some(expires_at)),
            claimed_until: Set(None),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// Drops the pending messages of one template to one person (a login mail replaced
    /// by a newer one), clearing their secrets.
    pub async fn drop_pending_outbox_of(
        &self,
        person_id: PersonId,
        template: &str,
    ) -> Result<u64, StoreError> {
        let result = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Dropped.as_str()),
            )
            .col_expr(
                outbox_message::Column::Secret,
                Expr::value(Option::<String>::None),
            )
            .filter(outbox_message::Column::PersonId.eq(person_id.get()))
            .filter(outbox_message::Column::Template.eq(template))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// Drops the pending messages of one template about one instance (a consultation's
    /// invitations once it closed), clearing their secrets.
    pub async fn drop_pending_outbox_of_instance(
        &self,
        instance_id: InstanceId,
        template: &str,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let result = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Dropped.as_str()),
            )
            .col_expr(
                outbox_message::Column::Secret,
                Expr::value(Option::<String>::None),
            )
            .col_expr(outbox_message::Column::LastError, Expr::value(reason))
            .filter(outbox_message::Column::InstanceId.eq(instance_id.get()))
            .filter(outbox_message::Column::Template.eq(template))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// Drops the pending messages that expired before `at`, clearing their secrets.
    pub async fn drop_expired_outbox(&self, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let result = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Dropped.as_str()),
            )
            .col_expr(
                outbox_message::Column::Secret,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                outbox_message::Column::LastError,
                Expr::value("expired before it could be sent"),
            )
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .filter(outbox_message::Column::ExpiresAt.lte(at))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// Claims up to `limit` pending messages of these templates that are due at `at` and
    /// not claimed by another worker, until `claimed_until`: those that expire first, then
    /// the rest in the order they became due. On PostgreSQL the rows are
    /// locked with SKIP LOCKED, so concurrent workers take different rows; on SQLite the
    /// write transaction already excludes other writers.
    pub async fn claim_outbox(
        &self,
        templates: &[&str],
        limit: u64,
        at: DateTime<Utc>,
        claimed_until: DateTime<Utc>,
    ) -> Result<Vec<OutgoingMail>, StoreError> {
        let mut query = outbox_message::Entity::find()
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .filter(outbox_message::Column::Template.is_in(templates.iter().copied()))
            .filter(outbox_message::Column::NextAttemptAt.lte(at))
            .filter(
                Condition::any()
                    .add(outbox_message::Column::ClaimedUntil.is_null())
                    .add(outbox_message::Column::ClaimedUntil.lte(at)),
            )
            .filter(
                Condition::any()
                    .add(outbox_message::Column::ExpiresAt.is_null())
                    .add(outbox_message::Column::ExpiresAt.gt(at)),
            )
            // Messages that expire (a login code's) go first: someone is waiting for
            // them, and a burst of notifications queued earlier must not make them
            // expire unsent.
            .order_by_asc(Expr::col(outbox_message::Column::ExpiresAt).is_null())
            .order_by_asc(outbox_message::Column::NextAttemptAt)
            .order_by_asc(outbox_message::Column::Id)
            .limit(limit);
        if self.backend == Backend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(&self.inner).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::ClaimedUntil,
                Expr::value(claimed_until),
            )
            .filter(outbox_message::Column::Id.is_in(rows.iter().map(|row| row.id)))
            .exec(&self.inner)
            .await?;
        records(rows)
    }

    /// Replaces the parameters of the `template` messages that the events of an instance
    /// after `after_seq` queued and that are still pending; returns how many. The review
    /// worker uses it, in the transaction that fired a checkpoint, to give the mail its
    /// transition queued the review's date.
    pub async fn replace_outbox_payload_since(
        &self,
        instance_id: InstanceId,
        after_seq: i64,
        template: &str,
        payload: &str,
    ) -> Result<u64, StoreError> {
        let result = outbox_message::Entity::update_many()
            .col_expr(outbox_message::Column::Payload, Expr::value(payload))
            .filter(outbox_message::Column::InstanceId.eq(instance_id.get()))
            .filter(outbox_message::Column::EventSeq.gt(after_seq))
            .filter(outbox_message::Column::Template.eq(template))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// Marks a claimed message sent and forgets its secret; `false` when it was no longer
    /// pending.
    pub async fn mark_outbox_sent(&self, id: OutboxMessageId) -> Result<bool, StoreError> {
        let result = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Sent.as_str()),
            )
            .col_expr(
                outbox_message::Column::Secret,
                Expr::value(Option::<String>::None),
            )
            .col_expr(outbox_message::Column::SentAt, Expr::value(now()))
            .col_expr(
                outbox_message::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            )
            .filter(outbox_message::Column::Id.eq(id.get()))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records a failed attempt: the message is retried at `retry_at`, or, when `retry_at`
    /// is `None`, given up on as failed (and its secret forgotten).
    pub async fn mark_outbox_attempt_failed(
        &self,
        id: OutboxMessageId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let mut update = outbox_message::Entity::update_many()
            .col_expr(outbox_message::Column::LastError, Expr::value(error))
            .col_expr(
                outbox_message::Column::ClaimedUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(
                outbox_message::Column::Attempts,
                Expr::col(outbox_message::Column::Attempts).add(1),
            );
        update = match retry_at {
            Some(retry_at) => {
                update.col_expr(outbox_message::Column::NextAttemptAt, Expr::value(retry_at))
            }
            None => update
                .col_expr(
                    outbox_message::Column::Status,
                    Expr::value(OutboxStatus::Failed.as_str()),
                )
                .col_expr(
                    outbox_message::Column::Secret,
                    Expr::value(Option::<String>::None),
                ),
        };
        let result = update
            .filter(outbox_message::Column::Id.eq(id.get()))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Outbox rows, oldest first; only those with `status` when given.
    pub async fn outbox_with_status(
        &self,
        status: Option<OutboxStatus>,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut query = outbox_message::Entity::find().order_by_asc(outbox_message::Column::Id);
        if let Some(status) = status {
            query = query.filter(outbox_message::Column::Status.eq(status.as_str()));
        }
        records(query.all(&self.inner).await?)
    }

    /// Puts failed messages back in the queue, due at `at` with their attempts counted
    /// afresh: one message when `id` is given, else every failed one. Messages that
    /// carried a secret (a login code) are never re-queued: the secret was forgotten when
    /// they failed, and a new code is one request away. Returns how many were re-queued.
    pub async fn requeue_failed_outbox(
        &self,
        id: Option<OutboxMessageId>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut update = outbox_message::Entity::update_many()
            .col_expr(
                outbox_message::Column::Status,
                Expr::value(OutboxStatus::Pending.as_str()),
            )
            .col_expr(outbox_message::Column::Attempts, Expr::value(0))
            .col_expr(outbox_message::Column::NextAttemptAt, Expr::value(at))
            .filter(outbox_message::Column::Status.eq(OutboxStatus::Failed.as_str()))
            .filter(outbox_message::Column::ExpiresAt.is_null());
        if let Some(id) = id {
            update = update.filter(outbox_message::Column::Id.eq(id.get()));
        }
        Ok(update.exec(&self.inner).await?.rows_affected)
    }
}
