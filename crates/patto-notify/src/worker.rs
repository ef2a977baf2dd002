//! The loop: claim due rows, render, send, mark. Delivery is at least once: a worker that
//! dies after sending and before marking leaves the row claimed until its lease runs out,
//! and the next attempt carries the same `Message-ID`, so that mail clients show it once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use patto_core::records::OutgoingMail;
use patto_engine::Engine;

use crate::NotifyError;
use crate::mailer::{MailConfig, Mailer};
use crate::templates::{TEMPLATES, Templates};

/// Attempts before a message is given up on as failed, unless configured otherwise.
pub const MAX_ATTEMPTS: i32 = 8;
/// Rows claimed at a time.
const BATCH: u64 = 50;
/// How long a claim keeps other workers away unless configured otherwise: longer than
/// sending a batch takes.
pub const LEASE: Duration = Duration::from_secs(5 * 60);
/// The first retry waits about this long; each further one twice as long (30 s, 1 min,
/// 2 min, ... 32 min before the eighth attempt), give or take the jitter.
const FIRST_RETRY_SECONDS: i64 = 30;
/// No retry waits longer than this, however many attempts are configured.
const LONGEST_RETRY_SECONDS: i64 = 6 * 60 * 60;

/// What one round of the worker did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Messages the SMTP server accepted.
    pub sent: usize,
    /// Messages that failed and will be tried again.
    pub retried: usize,
    /// Messages given up on.
    pub failed: usize,
}

/// The mail worker.
pub struct Worker {
    engine: Arc<Engine>,
    mailer: Mailer,
    templates: Templates,
    max_attempts: i32,
    lease: chrono::Duration,
}

impl Worker {
    /// A worker sending through the configured SMTP server.
    pub fn new(engine: Arc<Engine>, config: &MailConfig) -> Result<Self, NotifyError> {
        Ok(Worker {
            engine,
            mailer: Mailer::new(config)?,
            templates: Templates::load(&config.public_url)?,
            max_attempts: config.max_attempts,
            lease: chrono::Duration::from_std(config.lease)
                .map_err(|_| NotifyError::Lease(config.lease.as_secs()))?,
        })
    }

    /// Sends what is due now, one batch at a time until nothing is left.
    pub async fn run_once(&self) -> Result<Delivery, NotifyError> {
        let mut delivery = Delivery::default();
        loop {
            let claimed = self.engine.claim_mail(TEMPLATES, BATCH, self.lease).await?;
            if claimed.is_empty() {
                return Ok(delivery);
            }
            for mail in &claimed {
                self.deliver(mail, &mut delivery).await?;
            }
        }
    }

    /// Runs for ever, polling every `interval`; failures are logged, never fatal, so that
    /// a database or mail server that is down only delays mail.
    pub async fn run(self, interval: Duration) {
        loop {
            match self.run_once().await {
                Ok(delivery) if delivery != Delivery::default() => {
                    tracing::info!(
                        sent = delivery.sent,
                        retried = delivery.retried,
                        failed = delivery.failed,
                        "outbox mail delivered"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "the mail worker could not finish a round"),
            }
            tokio::time::sleep(interval).await;
        }
    }

    async fn deliver(
        &self,
        mail: &OutgoingMail,
        delivery: &mut Delivery,
    ) -> Result<(), NotifyError> {
        let message = self
            .templates
            .render(mail)
            .and_then(|rendered| self.mailer.message(mail, rendered));
        let outcome = match message {
            // Rendering fails the same way every time: give up at once.
            Err(error) => Err((error.to_string(), true)),
            Ok(message) => self
                .mailer
                .send(message)
                .await
                .map_err(|failure| (failure.reason, failure.permanent)),
        };
        let marked = match outcome {
            Ok(()) => {
                delivery.sent += 1;
                self.engine.mark_mail_sent(mail.id).await
            }
            Err((reason, permanent)) => {
                let retry_at = retry_delay(mail.attempts + 1, self.max_attempts, permanent)
                    .map(|delay| Utc::now() + jitter(delay));
                match retry_at {
                    Some(_) => delivery.retried += 1,
                    None => delivery.failed += 1,
                }
                tracing::warn!(id = %mail.id, template = %mail.template, %reason, "outbox mail not sent");
                self.engine
                    .mark_mail_failed(mail.id, &reason, retry_at)
                    .await
            }
        };
        match marked {
            Ok(()) => Ok(()),
            // Dropped or given up on meanwhile (it expired while being sent): nothing to do.
            Err(error) if error.code() == patto_engine::ErrorCode::Conflict => {
                tracing::info!(id = %mail.id, %error, "outbox row changed while being sent");
                Ok(())
            }
            Err(error) => Err(error.into()),
        }
    }
}

/// How long to wait before trying again after `attempts` failed attempts out of
/// `max_attempts`, before jitter, or `None` to give up.
fn retry_delay(attempts: i32, max_attempts: i32, permanent: bool) -> Option<chrono::Duration> {
    if permanent || attempts >= max_attempts {
        return None;
    }
    let exponent = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0);
    let seconds = 2_i64
        .checked_pow(exponent)
        .and_then(|factor| factor.checked_mul(FIRST_RETRY_SECONDS))
        .map_or(LONGEST_RETRY_SECONDS, |seconds| {
            seconds.min(LONGEST_RETRY_SECONDS)
        });
    Some(chrono::Duration::seconds(seconds))
}

/// The delay moved by a random amount up to a quarter either way, so that mail that
/// failed together (a server that was down) is not all retried in the same instant.
fn jitter(delay: chrono::Duration) -> chrono::Duration {
    let quarter = delay.num_milliseconds() / 4;
    if quarter == 0 {
        return delay;
    }
    delay + chrono::Duration::milliseconds(rand::random_range(-quarter..=quarter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_give_up() {
        let seconds =
            |attempts| retry_delay(attempts, MAX_ATTEMPTS, false).map(|delay| delay.num_seconds());
        assert_eq!(seconds(1), Some(30));
        assert_eq!(seconds(2), Some(60));
        assert_eq!(seconds(3), Some(120));
        assert_eq!(seconds(MAX_ATTEMPTS - 1), Some(32 * 60));
        assert_eq!(seconds(MAX_ATTEMPTS), None);
        assert_eq!(retry_delay(1, MAX_ATTEMPTS, true), None);
        // A configured limit is honoured, and a large one waits at most the cap.
        assert_eq!(retry_delay(2, 2, false), None);
        assert_eq!(
            retry_delay(80, 100, false).map(|delay| delay.num_seconds()),
            Some(LONGEST_RETRY_SECONDS)
        );
    }

    #[test]
    fn jitter_stays_within_a_quarter_and_varies() {
        let delay = chrono::Duration::seconds(120);
        let jittered: std::collections::BTreeSet<i64> =
            (0..50).map(|_| jitter(delay).num_milliseconds()).collect();
        assert!(jittered.iter().all(|ms| (90_000..=150_000).contains(ms)));
        // Fifty draws from 60,001 values: all equal only if there is no jitter.
        assert!(jittered.len() > 1, "{jittered:?}");
    }
}
