//! The outbox for instance operators: the mail queued, sent, failed or dropped, and
//! re-queuing failed mail. Rows carry addresses, so only operators see them, and they
//! never carry a login code: the listing type has no field that could hold one.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_core::ids::OutboxMessageId;
use patto_core::records;
use patto_core::status::OutboxStatus;
use patto_engine::Requeue;

use super::mutation::acting;
use super::types::id;
use super::{id_of, name_of, page};
use crate::error::{ApiResult, engine};

/// The operators' queries of the outbox.
#[derive(Default)]
pub struct OutboxQuery;

/// The operators' mutations of the outbox.
#[derive(Default)]
pub struct OutboxMutation;

/// One outbox message, as operators see it: where it goes and where it stands, never
/// its content or secret.
#[derive(SimpleObject)]
pub struct OutboxMessage {
    /// Its id, to give to `retryMail`.
    pub id: ID,
    /// Its stable `Message-ID`, the same on every delivery attempt.
    pub message_id: String,
    /// The recipient's address.
    pub recipient: String,
    /// The language it is written in (`it` or `en`).
    pub language: String,
    /// The template's name (`review_opened`, `login_code`...).
    pub template: String,
    /// `pending`, `sent`, `failed` or `dropped`.
    pub status: String,
    /// How many times sending was tried.
    pub attempts: i32,
    /// When it is tried next (for pending mail).
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<records::OutboxMessage> for OutboxMessage {
    fn from(m: records::OutboxMessage) -> Self {
        OutboxMessage {
            id: id(m.id.get()),
            message_id: m.message_id,
            recipient: m.recipient,
            language: m.language,
            template: m.template,
            status: m.status.as_str().to_owned(),
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
        }
    }
}

#[Object]
impl OutboxQuery {
    /// The outbox, oldest first, only messages with `status` (`pending`, `sent`,
    /// `failed`, `dropped`) when given: instance operators only. What
    /// `patto outbox list` prints.
    async fn outbox(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, OutboxMessage>> {
        let (cx, actor) = acting(ctx)?;
        let status = status
            .map(|s| name_of::<OutboxStatus>(s.trim()))
            .transpose()?;
        let rows = engine(cx.engine.list_outbox(actor, status).await)?;
        page(rows, |m| m.id.get(), OutboxMessage::from, after, first)
    }
}

#[Object]
impl OutboxMutation {
    /// Puts one failed message back in the queue, due now with a fresh count of
    /// attempts: instance operators only. A message that is not failed, or that carried
    /// a login code (ask for a new code instead), is a `CONFLICT`. Returns how many were
    /// re-queued (1).
    async fn retry_mail(&self, ctx: &Context<'_>, message: ID) -> ApiResult<i32> {
        let (cx, actor) = acting(ctx)?;
        let message_id: OutboxMessageId = id_of("outbox message", &message)?;
        let count = engine(
            cx.engine
                .requeue_mail(actor, Requeue::One(message_id))
                .await,
        )?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// Puts every failed message back in the queue: instance operators only. Returns how
    /// many were re-queued.
    async fn retry_all_failed_mail(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let (cx, actor) = acting(ctx)?;
        let count = engine(cx.engine.requeue_mail(actor, Requeue::AllFailed).await)?;
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}
