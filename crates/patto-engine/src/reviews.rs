//! Review checkpoints, status reports and reminders. The scheduler (crate
//! `patto-scheduler`) decides *when*; these services decide *what*, each firing in one
//! transaction that a unique key makes happen once: a review per (schedule, scheduled
//! instant), a reminder per (kind, subject, step).

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use patto_core::Role;
use patto_core::ids::{InstanceId, ReviewId, ReviewScheduleId, StatusReportId};
use patto_core::records::{
    Commitment, Document, Person, Review, ReviewSchedule, StatusReport, WorkflowInstance,
};
use patto_core::status::{ReportStatus, ReviewStatus};
use patto_core::workflow::{Definition, fire};
use patto_store::{NewOutboxMessage, NewReview, PeopleSet, SubmittedReport, Tx};
use serde_json::json;

use crate::mail::{
    COMMITMENT_OVERDUE_TEMPLATE, REVIEW_OPENED_TEMPLATE, SIGNATURE_REMINDER_TEMPLATE,
    STATUS_REPORT_REQUESTED_TEMPLATE, new_message_id,
};
use crate::roles::{holders, require_on_document, roles_on};
use crate::workflow::{fire_error, log_committed_steps};
use crate::{Actor, Engine, EngineError, audit, validate};

/// What the scheduler computed for one due schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewFiring {
    /// The schedule.
    pub schedule_id: ReviewScheduleId,
    /// The instant the schedule stood at when it was claimed (`None` if never computed):
    /// a schedule that moved on since was fired by someone else.
    pub claimed_at: Option<DateTime<Utc>>,
    /// The latest scheduled instant that has come: the review stands for it.
    pub scheduled_for: DateTime<Utc>,
    /// How many earlier instants passed unfired (downtime) and are folded into it.
    pub skipped: i32,
    /// The first instant after now: where the schedule moves on to.
    pub next_fire_at: DateTime<Utc>,
    /// When it fires (the scheduler's clock).
    pub fired_at: DateTime<Utc>,
}

/// What an owner reports about a commitment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReportInput {
    /// Where the commitment stands.
    pub status: ReportStatus,
    /// A note.
    pub note: Option<String>,
    /// A link to the evidence (a published act, a page).
    pub evidence_url: Option<String>,
    /// The indicator's current value.
    pub indicator_value: Option<String>,
}

/// When pending signature requests get reminders: the first `first_after` the request,
/// then every `every`, at most `at_most` in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReminderPolicy {
    /// Delay from the request to the first reminder.
    pub first_after: Duration,
    /// Delay between reminders.
    pub every: Duration,
    /// How many reminders at most.
    pub at_most: u32,
}

impl Default for ReminderPolicy {
    /// The cadence of the common signing tools: after 5 days, then every 2 days, at
    /// most 5 times.
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        ReminderPolicy {
            first_after: Duration::from_secs(5 * DAY),
            every: Duration::from_secs(2 * DAY),
            at_most: 5,
        }
    }
}

impl ReminderPolicy {
    /// The step due at `now` for a request made at `requested_at` (1 for the first
    /// reminder), with the instant it fell due; `None` before the first. After downtime
    /// only the latest step is due: missed ones are not sent in a burst.
    pub fn due_step(
        &self,
        requested_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<(u32, DateTime<Utc>)> {
        if self.at_most == 0 {
            return None;
        }
        let first = requested_at + chrono::Duration::from_std(self.first_after).ok()?;
        if now < first {
            return None;
        }
        let every = chrono::Duration::from_std(self.every).ok()?;
        let extra = match every.num_seconds() {
            seconds if seconds > 0 => (now - first).num_seconds() / seconds,
            _ => i64::MAX,
        };
        let step = u32::try_from(extra.saturating_add(1))
            .unwrap_or(u32::MAX)
            .min(self.at_most);
        Some((step, first + every * i32::try_from(step - 1).ok()?))
    }
}

/// How many reminders one pass queued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RemindersSent {
    /// Reminders to sign.
    pub signature: u32,
    /// Chases of overdue commitments.
    pub overdue: u32,
}

const SIGNATURE_REMINDER: &str = "signature";

impl Engine {
    /// Leases up to `limit` review schedules due at `now` for `lease`, so that no other
    /// worker takes them meanwhile; a worker that dies lets its lease expire.
    pub async fn claim_due_review_schedules(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<ReviewSchedule>, EngineError> {
        let lease = chrono::Duration::from_std(lease).map_err(|_| {
            EngineError::Validation("the schedule lease is too long; use minutes".to_owned())
        })?;
        let tx = self.store().begin().await?;
        let claimed = tx
            .claim_due_review_schedules(now, now + lease, limit)
            .await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Sets the review schedule of a document whose reviews are running, replacing the
    /// one its definition started: a coordinator of the document may. The new schedule
    /// fires the same transition; `time_zone` defaults to `Europe/Rome`.
    pub async fn set_review_schedule(
        &self,
        actor: Actor,
        document_id: patto_core::ids::DocumentId,
        cron: &str,
        time_zone: Option<&str>,
    ) -> Result<ReviewSchedule, EngineError> {
        let cron = patto_core::schedule::parse_cron(cron).map_err(|why| {
            EngineError::Validation(format!(
                "invalid cron expression: {why}; check it with `patto schedule next`"
            ))
        })?;
        let time_zone = time_zone.unwrap_or(patto_core::schedule::DEFAULT_TIME_ZONE);
        patto_core::schedule::parse_time_zone(time_zone).map_err(EngineError::Validation)?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(
            &tx,
            actor,
            &document,
            &[Role::Coordinator],
            "set the review schedule",
        )
        .await?;
        let running = tx
            .review_schedules(instance.id)
            .await?
            .into_iter()
            .find(|schedule| schedule.active)
            .ok_or_else(|| {
                EngineError::Validation(format!(
                    "the reviews of '{}' have not started: they start when it enters into force; set their schedule then",
                    document.slug
                ))
            })?;
        tx.stop_review_schedules(instance.id).await?;
        let schedule = tx
            .insert_review_schedule(
                instance.id,
                cron.text(),
                time_zone,
                running.transition.as_deref(),
            )
            .await?;
        audit::append(
            &tx,
            &mut instance,
            "review_schedule_set",
            actor,
            &json!({ "cron": cron.text(), "time_zone": time_zone, "replaces": running.id }),
        )
        .await?;
        tx.commit().await?;
        Ok(schedule)
    }

    /// Adds `count` review schedules to a document, all next due at `next_fire_at` and
    /// firing no transition, for load tests (`patto bench schedules`); only the system
    /// may, and the expression must be valid.
    pub async fn add_due_review_schedules(
        &self,
        actor: Actor,
        document_id: patto_core::ids::DocumentId,
        cron: &str,
        next_fire_at: DateTime<Utc>,
        count: usize,
    ) -> Result<(), EngineError> {
        crate::roles::require_system(
            actor,
            "add review schedules in bulk",
            "patto bench schedules",
        )?;
        let cron = patto_core::schedule::parse_cron(cron)
            .map_err(|why| EngineError::Validation(format!("invalid cron expression: {why}")))?;
        let (tx, _document, instance) = self.begin_on_document(document_id).await?;
        tx.insert_due_review_schedules(
            instance.id,
            cron.text(),
            patto_core::schedule::DEFAULT_TIME_ZONE,
            next_fire_at,
            count,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets the first instant of a schedule that had none yet, releasing its lease.
    pub async fn set_first_review_instant(
        &self,
        schedule_id: ReviewScheduleId,
        next_fire_at: DateTime<Utc>,
    ) -> Result<(), EngineError> {
        let tx = self.store().begin().await?;
        let schedule = tx
            .review_schedule_for_update(schedule_id)
            .await?
            .ok_or_else(|| EngineError::not_found("review schedule", schedule_id))?;
        if schedule.next_fire_at.is_none() {
            tx.advance_review_schedule(schedule_id, next_fire_at)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Fires one review checkpoint, in one transaction: records the review, fires the
    /// schedule's transition as the `scheduler` role (when the instance's definition
    /// has one and the state allows it), asks the owner of every open commitment for a
    /// status report, queues the e-mails and moves the schedule on. `None` when it was
    /// fired already (by another worker, or before a crash): the unique key on
    /// (schedule, scheduled instant) makes it happen once.
    pub async fn fire_review(&self, firing: ReviewFiring) -> Result<Option<Review>, EngineError> {
        let started = Instant::now();
        let tx = self.store().begin().await?;
        let schedule = tx
            .review_schedule_for_update(firing.schedule_id)
            .await?
            .ok_or_else(|| EngineError::not_found("review schedule", firing.schedule_id))?;
        if !schedule.active || schedule.next_fire_at != firing.claimed_at {
            return Ok(None);
        }
        let (document, mut instance) = locked_instance(&tx, schedule.instance_id).await?;
        let definition = self.definition_of(&tx, &instance).await?;
        // A version-1 definition names no transition for the scheduler, and a review
        // still open leaves the instance where it is: the review is recorded either way.
        let transition = schedule
            .transition
            .as_deref()
            .filter(|name| scheduler_may_fire(&definition, &instance.state, name));
        let Some(review) = tx
            .insert_review(NewReview {
                schedule_id: schedule.id,
                instance_id: instance.id,
                scheduled_for: firing.scheduled_for,
                fired_at: firing.fired_at,
                skipped: firing.skipped,
                transition,
            })
            .await?
        else {
            // That instant has its review already: only the schedule, which a stale
            // worker left behind, moves on.
            tx.advance_review_schedule(schedule.id, firing.next_fire_at)
                .await?;
            tx.commit().await?;
            return Ok(None);
        };
        let mut steps = Vec::new();
        if let Some(name) = transition {
            let events_before = instance.event_count;
            steps = self
                .fire_as_scheduler(&tx, &document, &mut instance, &definition, name)
                .await?;
            // The transition's own `review_opened` mail announces this review: it carries
            // the review and its date, for the text and the calendar event.
            let mut payload = review_payload(&document, &review);
            payload["transition"] = json!(name);
            tx.replace_outbox_payload_since(
                instance.id,
                events_before,
                REVIEW_OPENED_TEMPLATE,
                &payload.to_string(),
            )
            .await?;
        }
        let event = audit::append(
            &tx,
            &mut instance,
            "review_opened",
            Actor::System,
            &json!({
                "review": review.id,
                "schedule": schedule.id,
                "scheduled_for": review.scheduled_for.to_rfc3339(),
                "skipped": review.skipped,
                "transition": transition,
            }),
        )
        .await?;
        if transition.is_none() {
            // No transition announced it: the coordinators hear of it directly.
            let coordinators = people_holding(&tx, Role::Coordinator, &document).await?;
            let payload = review_payload(&document, &review);
            enqueue_to(
                &tx,
                &instance,
                Some(event.seq),
                coordinators,
                REVIEW_OPENED_TEMPLATE,
                &payload,
            )
            .await?;
        }
        for commitment in tx.open_commitments(document.id).await? {
            tx.insert_status_report(review.id, commitment.id, firing.fired_at)
                .await?;
            let owners = commitment_owners(&tx, &document, &commitment).await?;
            let mut payload = review_payload(&document, &review);
            add_commitment(&mut payload, &commitment);
            enqueue_to(
                &tx,
                &instance,
                Some(event.seq),
                owners,
                STATUS_REPORT_REQUESTED_TEMPLATE,
                &payload,
            )
            .await?;
        }
        tx.advance_review_schedule(schedule.id, firing.next_fire_at)
            .await?;
        tx.commit().await?;
        log_committed_steps(document.id, instance.id, &steps, started);
        tracing::info!(
            review_id = review.id.get(),
            schedule_id = schedule.id.get(),
            scheduled_for = %review.scheduled_for.to_rfc3339(),
            skipped = review.skipped,
            "review opened"
        );
        Ok(Some(review))
    }

    async fn fire_as_scheduler(
        &self,
        tx: &Tx,
        document: &Document,
        instance: &mut WorkflowInstance,
        definition: &Definition,
        transition: &str,
    ) -> Result<Vec<crate::StepTaken>, EngineError> {
        let guards = definition
            .transition(transition)
            .map_or(&[][..], |t| t.guards.as_slice());
        let facts = self.facts(tx, document, instance, guards).await?;
        let step = fire(
            definition,
            &instance.state,
            transition,
            &[Role::Scheduler],
            &facts,
        )
        .map_err(|error| fire_error(error, document, transition))?;
        if !tx.claim_instance(instance.id, instance.version).await? {
            return Err(EngineError::Conflict(format!(
                "'{}' changed while its review was being opened; the scheduler retries",
                document.slug
            )));
        }
        instance.version += 1;
        let mut steps = vec![
            self.take_step(
                tx,
                document,
                instance,
                definition,
                Actor::System,
                step,
                false,
            )
            .await?,
        ];
        steps.extend(self.settle(tx, document, instance).await?);
        Ok(steps)
    }

    /// The reviews of an instance, oldest first.
    pub async fn reviews(&self, instance_id: InstanceId) -> Result<Vec<Review>, EngineError> {
        let tx = self.store().read().await?;
        let rows = tx.reviews_of(instance_id).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// How many reviews exist in all.
    pub async fn review_count(&self) -> Result<u64, EngineError> {
        let tx = self.store().read().await?;
        let count = tx.review_count().await?;
        tx.commit().await?;
        Ok(count)
    }

    /// The status reports asked for at a review, in commitment order.
    pub async fn status_reports(
        &self,
        review_id: ReviewId,
    ) -> Result<Vec<StatusReport>, EngineError> {
        let tx = self.store().read().await?;
        let rows = tx.status_reports(review_id).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Records what a commitment's owner reports, while the review is open: a
    /// coordinator or admin of the owning organisation may (of the document's
    /// organisation when the commitment has no owner).
    pub async fn submit_status_report(
        &self,
        actor: Actor,
        report_id: StatusReportId,
        input: StatusReportInput,
    ) -> Result<StatusReport, EngineError> {
        let tx = self.store().begin().await?;
        let report = tx
            .status_report(report_id)
            .await?
            .ok_or_else(|| EngineError::not_found("status report", report_id))?;
        let review = tx
            .review(report.review_id)
            .await?
            .ok_or_else(|| EngineError::not_found("review", report.review_id))?;
        let (document, mut instance) = locked_instance(&tx, review.instance_id).await?;
        let commitment = tx
            .commitment(report.commitment_id)
            .await?
            .ok_or_else(|| EngineError::not_found("commitment", report.commitment_id))?;
        require_commitment_owner(&tx, actor, &document, &commitment).await?;
        if review.status != ReviewStatus::Open {
            return Err(EngineError::Conflict(format!(
                "the review of '{}' for {} is closed; status reports go to the next review",
                document.slug,
                review.scheduled_for.to_rfc3339()
            )));
        }
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|text| !text.is_empty())
                .map(str::to_owned)
        };
        let (note, evidence_url, indicator_value) = (
            text(&input.note),
            text(&input.evidence_url),
            text(&input.indicator_value),
        );
        if let Some(note) = &note {
            validate::display_lines("status report note", note)?;
        }
        if let Some(value) = &indicator_value {
            validate::display_line("indicator value", value)?;
        }
        if let Some(url) = &evidence_url {
            validate::display_line("evidence link", url)?;
        }
        if let Some(url) = &evidence_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(EngineError::Validation(format!(
                "the evidence link '{url}' is not a web address; give one starting with https://"
            )));
        }
        let submitted_at = Utc::now();
        tx.submit_status_report(SubmittedReport {
            id: report.id,
            status: input.status,
            note: note.as_deref(),
            evidence_url: evidence_url.as_deref(),
            indicator_value: indicator_value.as_deref(),
            submitted_by: actor.person_id(),
            submitted_at,
        })
        .await?;
        audit::append(
            &tx,
            &mut instance,
            "status_reported",
            actor,
            &json!({
                "review": review.id,
                "commitment": commitment.id,
                "status": input.status,
                "note": note,
                "evidence_url": evidence_url,
                "indicator_value": indicator_value,
            }),
        )
        .await?;
        let updated = tx
            .status_report(report.id)
            .await?
            .ok_or_else(|| EngineError::not_found("status report", report.id))?;
        tx.commit().await?;
        Ok(updated)
    }

    /// Closes an open review with its minutes; a coordinator of the document may. When
    /// `transition` is given (the definition's way back, e.g. `conclude_review`, or
    /// `amend`, or `close`) it fires in the same transaction, as the closing person, and
    /// is recorded as the review's outcome.
    pub async fn close_review(
        &self,
        actor: Actor,
        review_id: ReviewId,
        minutes: &str,
        transition: Option<&str>,
    ) -> Result<Review, EngineError> {
        validate::display_lines("review minutes", minutes)?;
        let started = Instant::now();
        let tx = self.store().begin().await?;
        let review = tx
            .review(review_id)
            .await?
            .ok_or_else(|| EngineError::not_found("review", review_id))?;
        let (document, mut instance) = locked_instance(&tx, review.instance_id).await?;
        require_on_document(
            &tx,
            actor,
            &document,
            &[Role::Coordinator],
            "close a review",
        )
        .await?;
        if !tx
            .close_review(
                review.id,
                minutes.trim(),
                transition,
                actor.person_id(),
                Utc::now(),
            )
            .await?
        {
            return Err(EngineError::Conflict(format!(
                "the review of '{}' for {} is already closed",
                document.slug,
                review.scheduled_for.to_rfc3339()
            )));
        }
        let mut steps = Vec::new();
        if let Some(name) = transition {
            let definition = self.definition_of(&tx, &instance).await?;
            let requested = definition.transition(name);
            let candidates = requested.map_or(&[][..], |t| t.roles.as_slice());
            let roles = roles_on(&tx, actor, &document, candidates).await?;
            let guards = requested.map_or(&[][..], |t| t.guards.as_slice());
            let facts = self.facts(&tx, &document, &instance, guards).await?;
            let step = fire(&definition, &instance.state, name, &roles, &facts)
                .map_err(|error| fire_error(error, &document, name))?;
            if !tx.claim_instance(instance.id, instance.version).await? {
                return Err(EngineError::Conflict(format!(
                    "'{}' changed while its review was being closed; reload it and try again",
                    document.slug
                )));
            }
            instance.version += 1;
            steps.push(
                self.take_step(
                    &tx,
                    &document,
                    &mut instance,
                    &definition,
                    actor,
                    step,
                    false,
                )
                .await?,
            );
            steps.extend(self.settle(&tx, &document, &mut instance).await?);
        }
        audit::append(
            &tx,
            &mut instance,
            "review_closed",
            actor,
            &json!({ "review": review.id, "minutes": minutes.trim(), "outcome": transition }),
        )
        .await?;
        let closed = tx
            .review(review.id)
            .await?
            .ok_or_else(|| EngineError::not_found("review", review.id))?;
        tx.commit().await?;
        log_committed_steps(document.id, instance.id, &steps, started);
        Ok(closed)
    }

    /// Queues the reminders due at `now`: to every signatory whose request is still
    /// pending, on `policy`'s cadence; and, once per due date, to the owners of every
    /// commitment not done by its due date (`today` is the date where the owners are).
    /// Each reminder is recorded under a unique key with its mail, in one transaction,
    /// so that it goes out once however many workers run.
    pub async fn send_due_reminders(
        &self,
        now: DateTime<Utc>,
        today: NaiveDate,
        policy: ReminderPolicy,
    ) -> Result<RemindersSent, EngineError> {
        let mut sent = RemindersSent::default();
        let read = self.store().read().await?;
        let pending = read.pending_signature_requests().await?;
        let overdue = read.overdue_commitments(today).await?;
        read.commit().await?;
        for pending in pending {
            let request = &pending.request;
            let Some((step, due_at)) = policy.due_step(request.created_at, now) else {
                continue;
            };
            let step = i32::try_from(step).unwrap_or(i32::MAX);
            let tx = self.store().begin().await?;
            let fired = tx
                .reminder_steps(SIGNATURE_REMINDER, request.id.get())
                .await?;
            if fired.iter().any(|done| *done >= step)
                || !tx
                    .insert_reminder(SIGNATURE_REMINDER, request.id.get(), step, due_at, now)
                    .await?
            {
                continue;
            }
            let document = tx
                .document(pending.document_id)
                .await?
                .ok_or_else(|| EngineError::not_found("document", pending.document_id))?;
            let payload = json!({
                "document": document_json(&document),
                "request": request.id,
                "reminder": step,
                "requested_at": request.created_at.to_rfc3339(),
            });
            let instance = tx
                .instance(pending.instance_id)
                .await?
                .ok_or_else(|| EngineError::not_found("workflow instance", pending.instance_id))?;
            let signatory = tx
                .person(request.person_id)
                .await?
                .ok_or_else(|| EngineError::not_found("person", request.person_id))?;
            enqueue_to(
                &tx,
                &instance,
                None,
                vec![signatory],
                SIGNATURE_REMINDER_TEMPLATE,
                &payload,
            )
            .await?;
            tx.commit().await?;
            sent.signature += 1;
        }
        for commitment in overdue {
            let Some(due) = commitment.due_date else {
                continue;
            };
            // One chase per due date: moving the date on earns a new one.
            let step = due.num_days_from_ce();
            let tx = self.store().begin().await?;
            let due_at = due
                .and_hms_opt(0, 0, 0)
                .map_or(now, |midnight| midnight.and_utc());
            if !tx
                .insert_reminder(
                    COMMITMENT_OVERDUE_TEMPLATE,
                    commitment.id.get(),
                    step,
                    due_at,
                    now,
                )
                .await?
            {
                continue;
            }
            let document = tx
                .document(commitment.document_id)
                .await?
                .ok_or_else(|| EngineError::not_found("document", commitment.document_id))?;
            let instance = tx.instance_of_document(document.id).await?.ok_or_else(|| {
                EngineError::not_found("workflow instance of document", document.id)
            })?;
            let owners = commitment_owners(&tx, &document, &commitment).await?;
            let mut payload = json!({ "document": document_json(&document) });
            add_commitment(&mut payload, &commitment);
            enqueue_to(
                &tx,
                &instance,
                None,
                owners,
                COMMITMENT_OVERDUE_TEMPLATE,
                &payload,
            )
            .await?;
            tx.commit().await?;
            sent.overdue += 1;
        }
        Ok(sent)
    }
}

/// The document of an instance, and the instance locked for a change.
async fn locked_instance(
    tx: &Tx,
    instance_id: InstanceId,
) -> Result<(Document, WorkflowInstance), EngineError> {
    let plain = tx
        .instance(instance_id)
        .await?
        .ok_or_else(|| EngineError::not_found("workflow instance", instance_id))?;
    let document = tx
        .document(plain.document_id)
        .await?
        .ok_or_else(|| EngineError::not_found("document", plain.document_id))?;
    let instance = tx
        .instance_of_document_for_update(document.id)
        .await?
        .ok_or_else(|| EngineError::not_found("workflow instance of document", document.id))?;
    Ok((document, instance))
}

/// The people holding `role` on `document`.
async fn people_holding(
    tx: &Tx,
    role: Role,
    document: &Document,
) -> Result<Vec<Person>, EngineError> {
    let Some(set) = holders(role, document) else {
        return Ok(Vec::new());
    };
    Ok(tx.people_in(&[set]).await?)
}

/// Whether the scheduler may fire `name` from `state` under `definition`.
fn scheduler_may_fire(definition: &Definition, state: &str, name: &str) -> bool {
    definition.transition(name).is_some_and(|t| {
        !t.automatic && t.roles.contains(&Role::Scheduler) && t.from.iter().any(|s| s == state)
    })
}

/// The transition a new schedule fires on `definition`: the first that lists the
/// `scheduler` role. Version-1 definitions have none.
pub(crate) fn scheduler_transition(definition: &Definition) -> Option<&str> {
    definition
        .transitions
        .iter()
        .find(|t| t.roles.contains(&Role::Scheduler))
        .map(|t| t.name.as_str())
}

fn document_json(document: &Document) -> serde_json::Value {
    json!({ "id": document.id, "slug": document.slug, "title": document.title, "kind": document.kind })
}

fn review_payload(document: &Document, review: &Review) -> serde_json::Value {
    json!({
        "document": document_json(document),
        "review": review.id,
        "scheduled_at": review.scheduled_for.to_rfc3339(),
        "skipped": review.skipped,
    })
}

/// Adds a commitment's parameters to a mail payload in the shape the notify templates
/// read: its description as `commitment`, and its due date (when it has one) as the
/// calendar date `due` (`2026-06-30`): a due date is a day, never an instant, so that no
/// mail shows it as a time of day in another zone.
fn add_commitment(payload: &mut serde_json::Value, commitment: &Commitment) {
    payload["commitment"] = json!(commitment.description);
    payload["commitment_id"] = json!(commitment.id);
    if let Some(due) = commitment.due_date {
        payload["due"] = json!(due.format("%Y-%m-%d").to_string());
    }
}

/// Who answers for a commitment: the coordinators and admins of its owning organisation,
/// or the document's coordinators when it has no owner.
async fn commitment_owners(
    tx: &Tx,
    document: &Document,
    commitment: &Commitment,
) -> Result<Vec<Person>, EngineError> {
    let Some(owner) = commitment.owner_organisation_id else {
        return people_holding(tx, Role::Coordinator, document).await;
    };
    let leads = [Role::Coordinator, Role::Admin].map(|role| PeopleSet::WithMembership {
        role: role.as_str(),
        organisation_id: owner,
    });
    Ok(tx.people_in(&leads).await?)
}

/// Fails with FORBIDDEN unless `actor` answers for `commitment` (see
/// [`commitment_owners`]).
async fn require_commitment_owner(
    tx: &Tx,
    actor: Actor,
    document: &Document,
    commitment: &Commitment,
) -> Result<(), EngineError> {
    let Actor::Person(person) = actor else {
        return Ok(());
    };
    if commitment_owners(tx, document, commitment)
        .await?
        .iter()
        .any(|owner| owner.id == person)
    {
        return Ok(());
    }
    Err(EngineError::Forbidden(format!(
        "only a coordinator or admin of the organisation that owns the commitment '{}' can report on it",
        commitment.description
    )))
}

/// Writes one outbox row per person, in the caller's transaction and one statement, each
/// with a Message-ID of its own that stays stable across delivery attempts.
pub(crate) async fn enqueue_to(
    tx: &Tx,
    instance: &WorkflowInstance,
    event_seq: Option<i64>,
    people: Vec<Person>,
    template: &str,
    payload: &serde_json::Value,
) -> Result<(), EngineError> {
    let payload = payload.to_string();
    let message_ids: Vec<String> = people.iter().map(|_| new_message_id()).collect();
    let messages: Vec<NewOutboxMessage> = people
        .iter()
        .zip(&message_ids)
        .map(|(person, message_id)| NewOutboxMessage {
            message_id,
            instance_id: Some(instance.id),
            event_seq,
            person_id: person.id,
            recipient: &person.email,
            language: &person.language,
            template,
            payload: &payload,
        })
        .collect();
    tx.insert_outbox_messages(&messages).await?;
    Ok(())
}
