//! What the mail worker needs from the engine: claim the outbox rows it can render, then
//! mark each one sent or failed. The worker decides how to send and when to retry; the
//! engine keeps the rows, drops those that expired, and keeps secrets out of every
//! other path.

use chrono::{DateTime, Duration, Utc};
use patto_core::ids::{OutboxMessageId, PersonId};
use patto_core::records::{MESSAGE_ID_HOST, OutboxMessage, OutgoingMail};
use patto_core::status::OutboxStatus;

use crate::roles::{require_operator, require_system};
use crate::{Actor, Engine, EngineError};

/// Which failed messages to put back in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// One message.
    One(OutboxMessageId),
    /// Every failed message.
    AllFailed,
}

/// The template of the login-code mail.
pub const LOGIN_CODE_TEMPLATE: &str = "login_code";

/// The template of the mail telling coordinators that a signatory declined.
pub const SIGNATURE_DECLINED_TEMPLATE: &str = "signature_declined";

/// The template of the mail telling the partners that a review checkpoint opened.
pub const REVIEW_OPENED_TEMPLATE: &str = "review_opened";

/// The template of the mail asking whoever answers for a commitment for its status.
pub const STATUS_REPORT_REQUESTED_TEMPLATE: &str = "status_report_requested";

/// The template of the reminder to a signatory who has not signed yet.
pub const SIGNATURE_REMINDER_TEMPLATE: &str = "signature_reminder";

/// The template of the chase of a commitment past its due date.
pub const COMMITMENT_OVERDUE_TEMPLATE: &str = "commitment_overdue";

/// Every template the engine queues by itself; the others are named by the `notify`
/// effects of workflow definitions. The mail worker must be able to render them all.
pub const ENGINE_TEMPLATES: &[&str] = &[
    LOGIN_CODE_TEMPLATE,
    SIGNATURE_DECLINED_TEMPLATE,
    REVIEW_OPENED_TEMPLATE,
    STATUS_REPORT_REQUESTED_TEMPLATE,
    SIGNATURE_REMINDER_TEMPLATE,
    COMMITMENT_OVERDUE_TEMPLATE,
    crate::consultations::CONSULTATION_INVITATION_TEMPLATE,
];

/// A new, globally unique `Message-ID` for an outbox row; it stays with the row, so that
/// a repeated delivery carries the same one.
pub(crate) fn new_message_id() -> String {
    format!("<{}@{MESSAGE_ID_HOST}>", uuid::Uuid::new_v4())
}

impl Engine {
    /// Claims up to `limit` due messages of these templates for `lease`: no other worker
    /// gets them until the lease runs out, so a worker that dies only delays them.
    /// Messages that expired unsent (a login code's mail) are dropped first.
    pub async fn claim_mail(
        &self,
        templates: &[&str],
        limit: u64,
        lease: Duration,
    ) -> Result<Vec<OutgoingMail>, EngineError> {
        let now = Utc::now();
        let tx = self.store().begin().await?;
        let dropped = tx.drop_expired_outbox(now).await?;
        if dropped > 0 {
            tracing::info!(
                dropped,
                "dropped outbox mail that expired before it was sent"
            );
        }
        let claimed = tx.claim_outbox(templates, limit, now, now + lease).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Marks a claimed message sent, forgetting its secret. `CONFLICT` when it is no
    /// longer pending (dropped or given up on meanwhile).
    pub async fn mark_mail_sent(&self, id: OutboxMessageId) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        if !tx.mark_outbox_sent(id).await? {
            return Err(EngineError::Conflict(format!(
                "outbox message {id} is no longer pending"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed attempt at a claimed message: it is tried again at `retry_at`, or
    /// with `None` given up on as failed, its secret forgotten. `CONFLICT` when it is no
    /// longer pending.
    pub async fn mark_mail_failed(
        &self,
        id: OutboxMessageId,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        if !tx.mark_outbox_attempt_failed(id, error, retry_at).await? {
            return Err(EngineError::Conflict(format!(
                "outbox message {id} is no longer pending"
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues `count` messages of `template` with `payload` to one person, each with a
    /// Message-ID of its own, for load and crash tests of the mail worker (`patto bench
    /// outbox`); only the system may. Written a thousand rows per statement, in one
    /// transaction.
    pub async fn queue_mail_in_bulk(
        &self,
        actor: Actor,
        person_id: PersonId,
        template: &str,
        payload: &serde_json::Value,
        count: usize,
    ) -> Result<(), EngineError> {
        require_system(actor, "queue mail in bulk", "patto bench outbox")?;
        let tx = self.store().begin().await?;
        let person = tx
            .person(person_id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", person_id))?;
        let payload = payload.to_string();
        let message_ids: Vec<String> = (0..count).map(|_| new_message_id()).collect();
        // A thousand rows stay within SQLite's limit on the parameters of one statement.
        for chunk in message_ids.chunks(1000) {
            let messages: Vec<patto_store::NewOutboxMessage> = chunk
                .iter()
                .map(|message_id| patto_store::NewOutboxMessage {
                    message_id,
                    instance_id: None,
                    event_seq: None,
                    person_id: person.id,
                    recipient: &person.email,
                    language: &person.language,
                    template,
                    payload: &payload,
                })
                .collect();
            tx.insert_outbox_messages(&messages).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The outbox for an instance operator, oldest first, only rows with `status` when
    /// given. Rows never carry their secret: a listing cannot show a login code.
    pub async fn list_outbox(
        &self,
        actor: Actor,
        status: Option<OutboxStatus>,
    ) -> Result<Vec<OutboxMessage>, EngineError> {
        let tx = self.store().read().await?;
        require_operator(&tx, actor, "read the outbox").await?;
        let rows = tx.outbox_with_status(status).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Puts failed messages back in the queue, due now with a fresh count of attempts,
    /// for an instance operator; returns how many. A single message that is not failed
    /// (or carried a login code, which a new request replaces) is a CONFLICT that says
    /// so.
    pub async fn requeue_mail(&self, actor: Actor, which: Requeue) -> Result<u64, EngineError> {
        let tx = self.store().begin().await?;
        require_operator(&tx, actor, "re-queue mail").await?;
        let id = match which {
            Requeue::One(id) => Some(id),
            Requeue::AllFailed => None,
        };
        let requeued = tx.requeue_failed_outbox(id, Utc::now()).await?;
        if let (Some(id), 0) = (id, requeued) {
            return Err(EngineError::Conflict(format!(
                "outbox message {id} is not a failed message that can be sent again; `patto outbox list --status failed` shows those that are (login-code mail is never re-sent: ask for a new code)"
            )));
        }
        tx.commit().await?;
        // Outbox rows are not on an audit chain; the log names the operator who
        // re-queued them.
        tracing::info!(
            requeued,
            operator = actor.person_id().map(|id| id.get()),
            "failed mail re-queued"
        );
        Ok(requeued)
    }
}
