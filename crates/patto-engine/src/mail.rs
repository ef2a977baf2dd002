//! What the mail worker needs from the engine: claim the outbox rows it can render, then
//! mark each one sent or failed. The worker decides how to send and when to retry; the
//! engine keeps the rows, drops those that expired, and keeps secrets out of every
//! other path.

use chrono::{DateTime, Duration, Utc};
use patto_core::ids::OutboxMessageId;
use patto_core::records::OutgoingMail;

use crate::{Engine, EngineError};

/// The template of the login-code mail.
pub const LOGIN_CODE_TEMPLATE: &str = "login_code";

/// The template of the mail telling coordinators that a signatory declined.
pub const SIGNATURE_DECLINED_TEMPLATE: &str = "signature_declined";

/// Every template the engine queues by itself; the others are named by the `notify`
/// effects of workflow definitions. The mail worker must be able to render them all.
pub const ENGINE_TEMPLATES: &[&str] = &[LOGIN_CODE_TEMPLATE, SIGNATURE_DECLINED_TEMPLATE];

/// A new, globally unique `Message-ID` for an outbox row; it stays with the row, so that
/// a repeated delivery carries the same one.
pub(crate) fn new_message_id() -> String {
    format!("<{}@patto>", uuid::Uuid::new_v4())
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
}
