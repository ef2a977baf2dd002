//! The worker every `patto serve` runs: at each tick it claims the review schedules due
//! by its clock, works out for each the latest instant that has come (folding instants
//! missed during downtime into one review) and the next one, and has the engine fire
//! them; then it has the engine queue the reminders due. The engine's unique keys make
//! every firing happen once, whichever worker gets there first.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use patto_core::records::ReviewSchedule;
use patto_engine::{Engine, EngineError, ReminderPolicy, RemindersSent, ReviewFiring};
use tokio::sync::watch;

use crate::Schedule;

/// Where the worker reads the time: the system clock in production, a clock the test
/// moves in tests.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(now))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = now;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How the worker runs.
#[derive(Clone, Copy, Debug)]
pub struct WorkerConfig {
    /// How long a claimed schedule stays the worker's: if the worker dies, another
    /// takes the schedule once this has passed.
    pub lease: Duration,
    /// How many schedules one claim takes.
    pub batch: u64,
    /// How long the worker sleeps between ticks.
    pub poll: Duration,
    /// The cadence of signature reminders.
    pub reminders: ReminderPolicy,
    /// The zone whose calendar date decides when a commitment is overdue.
    pub zone: Tz,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease: Duration::from_secs(60),
            batch: 100,
            poll: Duration::from_secs(15),
            reminders: ReminderPolicy::default(),
            zone: chrono_tz::Europe::Rome,
        }
    }
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Reviews recorded.
    pub reviews: u32,
    /// Schedules found fired already (by another worker, or before a restart).
    pub already_fired: u32,
    /// New schedules whose first instant was set.
    pub first_instants: u32,
    /// Schedules that failed and will be retried when their lease expires.
    pub failures: u32,
    /// Reminders queued.
    pub reminders: RemindersSent,
}

/// The review and reminder worker over an engine and a clock.
pub struct Worker {
    engine: Arc<Engine>,
    clock: Arc<dyn Clock>,
    config: WorkerConfig,
}

impl Worker {
    /// A worker; nothing runs until [`Worker::tick`] or [`Worker::run`].
    pub fn new(engine: Arc<Engine>, clock: Arc<dyn Clock>, config: WorkerConfig) -> Self {
        Worker {
            engine,
            clock,
            config,
        }
    }

    /// Fires everything due at the clock's current instant, batch after batch, then
    /// queues the reminders due. A schedule that fails is logged, counted and left to
    /// its lease; the others go on.
    pub async fn tick(&self) -> Result<TickReport, EngineError> {
        let now = self.clock.now();
        let mut report = TickReport::default();
        loop {
            let claimed = self
                .engine
                .claim_due_review_schedules(now, self.config.lease, self.config.batch)
                .await?;
            if claimed.is_empty() {
                break;
            }
            for schedule in claimed {
                match self.fire(&schedule, now).await {
                    Ok(Fired::Review) => report.reviews += 1,
                    Ok(Fired::Already) => report.already_fired += 1,
                    Ok(Fired::FirstInstant) => report.first_instants += 1,
                    Err(error) => {
                        report.failures += 1;
                        tracing::warn!(
                            schedule_id = schedule.id.get(),
                            error = %error,
                            "review checkpoint failed; it is retried when its lease expires"
                        );
                    }
                }
            }
        }
        let today = now.with_timezone(&self.config.zone).date_naive();
        report.reminders = self
            .engine
            .send_due_reminders(now, today, self.config.reminders)
            .await?;
        Ok(report)
    }

    async fn fire(
        &self,
        claimed: &ReviewSchedule,
        now: DateTime<Utc>,
    ) -> Result<Fired, WorkerError> {
        let schedule = Schedule::parse(&claimed.cron, &claimed.time_zone)?;
        let first = match claimed.next_fire_at {
            Some(instant) => instant,
            None => {
                let first = schedule
                    .next_after(claimed.created_at)
                    .ok_or(WorkerError::NeverFires)?;
                if first > now {
                    self.engine
                        .set_first_review_instant(claimed.id, first)
                        .await?;
                    return Ok(Fired::FirstInstant);
                }
                first
            }
        };
        // The instant of firing is read again here, not taken from the start of the
        // tick, so that a review records how late it really fired in a long burst.
        let Some(firing) = firing(&schedule, claimed, first, now, self.clock.now()) else {
            return Err(WorkerError::NeverFires);
        };
        Ok(match self.engine.fire_review(firing).await? {
            Some(_) => Fired::Review,
            None => Fired::Already,
        })
    }

    /// Ticks every `poll` until `stop` turns true. A failed tick (the database down,
    /// say) is logged and the next one tries again.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            match self.tick().await {
                Ok(report) if report != TickReport::default() => {
                    tracing::info!(
                        reviews = report.reviews,
                        already_fired = report.already_fired,
                        failures = report.failures,
                        signature_reminders = report.reminders.signature,
                        overdue_commitments = report.reminders.overdue,
                        "scheduler tick"
                    );
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error = %error, "scheduler tick failed; retrying at the next tick");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

/// The review due at `now` for a schedule standing at `first`: it stands for the latest
/// instant that has come, counts the earlier ones as skipped, and moves the schedule to
/// the first instant after `now`. `None` if the schedule never fires again.
fn firing(
    schedule: &Schedule,
    claimed: &ReviewSchedule,
    first: DateTime<Utc>,
    now: DateTime<Utc>,
    fired_at: DateTime<Utc>,
) -> Option<ReviewFiring> {
    let mut latest = first;
    let mut skipped: i32 = 0;
    let mut next = None;
    for instant in schedule.fire_times_after(first) {
        if instant > now {
            next = Some(instant);
            break;
        }
        skipped = skipped.saturating_add(1);
        latest = instant;
    }
    Some(ReviewFiring {
        schedule_id: claimed.id,
        claimed_at: claimed.next_fire_at,
        scheduled_for: latest,
        skipped,
        next_fire_at: next?,
        fired_at,
    })
}

enum Fired {
    Review,
    Already,
    FirstInstant,
}

/// Why one schedule could not fire.
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("the stored schedule is not valid: {0}")]
    Schedule(#[from] crate::ScheduleError),
    #[error("the schedule has no fire instant left")]
    NeverFires,
    #[error(transparent)]
    Engine(#[from] EngineError),
}
