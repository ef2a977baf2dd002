//! Review checkpoints: claiming due schedules, the reviews they open (one per schedule
//! and scheduled instant), status reports, and reminders (one per subject and step).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::{
    CommitmentStatus, ReportStatus, ReviewStatus, SignatureRequestStatus, SigningRoundStatus,
};
use patto_core::workflow::SigningOrder;

use super::*;
use crate::entities::*;
use crate::{Backend, StoreError, Tx};

/// A review to record for a schedule's scheduled instant.
pub struct NewReview<'a> {
    /// The schedule.
    pub schedule_id: ReviewScheduleId,
    /// The instance reviewed.
    pub instance_id: InstanceId,
    /// The scheduled instant (the unique key with the schedule).
    pub scheduled_for: DateTime<Utc>,
    /// When it fired.
    pub fired_at: DateTime<Utc>,
    /// How many earlier instants were missed.
    pub skipped: i32,
    /// The transition fired, if any.
    pub transition: Option<&'a str>,
}

/// What an owner reports.
pub struct SubmittedReport<'a> {
    /// The report.
    pub id: StatusReportId,
    /// The status.
    pub status: ReportStatus,
    /// A note.
    pub note: Option<&'a str>,
    /// A link to the evidence.
    pub evidence_url: Option<&'a str>,
    /// The indicator's value.
    pub indicator_value: Option<&'a str>,
    /// Who submits it.
    pub submitted_by: Option<PersonId>,
    /// When.
    pub submitted_at: DateTime<Utc>,
}

/// A pending signature request with the round it belongs to.
#[derive(Clone, Debug)]
pub struct PendingRequest {
    /// The request.
    pub request: SignatureRequest,
    /// The instance of the round's document.
    pub instance_id: InstanceId,
    /// The document.
    pub document_id: DocumentId,
}

impl Tx {
    /// Takes up to `limit` active schedules due at `now` (never computed yet, or whose
    /// next instant has come) that no other worker holds, and leases them until
    /// `lease_until`. On PostgreSQL the rows are selected `FOR UPDATE SKIP LOCKED`, so
    /// concurrent workers take disjoint sets; a worker that dies leaves a lease that
    /// expires.
    pub async fn claim_due_review_schedules(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<ReviewSchedule>, StoreError> {
        let mut query = review_schedule::Entity::find()
            .filter(review_schedule::Column::Active.eq(true))
            .filter(
                Condition::any()
                    .add(review_schedule::Column::NextFireAt.is_null())
                    .add(review_schedule::Column::NextFireAt.lte(now)),
            )
            .filter(
                Condition::any()
                    .add(review_schedule::Column::LeaseUntil.is_null())
                    .add(review_schedule::Column::LeaseUntil.lte(now)),
            )
            .order_by_asc(review_schedule::Column::NextFireAt)
            .order_by_asc(review_schedule::Column::Id)
            .limit(limit);
        if self.backend == Backend::Postgres {
            query = query.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let rows = query.all(&self.inner).await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        review_schedule::Entity::update_many()
            .col_expr(
                review_schedule::Column::LeaseUntil,
                Expr::value(lease_until),
            )
            .filter(review_schedule::Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(&self.inner)
            .await?;
        rows.into_iter()
            .map(|mut row| {
                row.lease_until = Some(lease_until);
                record(row)
            })
            .collect()
    }

    /// Inserts `count` active schedules for an instance, all next due at `next_fire_at`,
    /// a thousand rows per statement: load tests need many due at once.
    pub async fn insert_due_review_schedules(
        &self,
        instance_id: InstanceId,
        cron: &str,
        time_zone: &str,
        next_fire_at: DateTime<Utc>,
        count: usize,
    ) -> Result<(), StoreError> {
        let created_at = now();
        let mut remaining = count;
        while remaining > 0 {
            let chunk = remaining.min(1000);
            remaining -= chunk;
            let rows = (0..chunk).map(|_| review_schedule::ActiveModel {
                instance_id: Set(instance_id.get()),
                cron: Set(cron.to_owned()),
                time_zone: Set(time_zone.to_owned()),
                active: Set(true),
                created_at: Set(created_at),
                stopped_at: Set(None),
                transition: Set(None),
                next_fire_at: Set(Some(next_fire_at)),
                lease_until: Set(None),
                ..Default::default()
            });
            review_schedule::Entity::insert_many(rows)
                .exec_without_returning(&self.inner)
                .await?;
        }
        Ok(())
    }

    /// The schedule with this id, locked until the transaction ends on PostgreSQL.
    pub async fn review_schedule_for_update(
        &self,
        id: ReviewScheduleId,
    ) -> Result<Option<ReviewSchedule>, StoreError> {
        let mut query = review_schedule::Entity::find_by_id(id.get());
        if self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        query.one(&self.inner).await?.map(record).transpose()
    }

    /// Moves a schedule on to its next instant and releases its lease.
    pub async fn advance_review_schedule(
        &self,
        id: ReviewScheduleId,
        next_fire_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        review_schedule::Entity::update_many()
            .col_expr(
                review_schedule::Column::NextFireAt,
                Expr::value(next_fire_at),
            )
            .col_expr(
                review_schedule::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(review_schedule::Column::Id.eq(id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// Records a review unless one exists for the same schedule and instant: `None` then,
    /// and the caller must not repeat what the first one did.
    pub async fn insert_review(&self, new: NewReview<'_>) -> Result<Option<Review>, StoreError> {
        let model = review::ActiveModel {
            schedule_id: Set(new.schedule_id.get()),
            instance_id: Set(new.instance_id.get()),
            scheduled_for: Set(new.scheduled_for),
            fired_at: Set(new.fired_at),
            skipped: Set(new.skipped),
            transition: Set(new.transition.map(str::to_owned)),
            status: Set(ReviewStatus::Open.as_str().to_owned()),
            minutes: Set(None),
            outcome: Set(None),
            closed_at: Set(None),
            closed_by: Set(None),
            ..Default::default()
        };
        let inserted = review::Entity::insert(model)
            .on_conflict_do_nothing_on([review::Column::ScheduleId, review::Column::ScheduledFor])
            .exec(&self.inner)
            .await?;
        match inserted {
            TryInsertResult::Inserted(result) => {
                self.review(ReviewId::new(result.last_insert_id)).await
            }
            TryInsertResult::Conflicted | TryInsertResult::Empty => Ok(None),
        }
    }

    /// The review with this id.
    pub async fn review(&self, id: ReviewId) -> Result<Option<Review>, StoreError> {
        review::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The reviews of an instance, oldest first.
    pub async fn reviews_of(&self, instance_id: InstanceId) -> Result<Vec<Review>, StoreError> {
        records(
            review::Entity::find()
                .filter(review::Column::InstanceId.eq(instance_id.get()))
                .order_by_asc(review::Column::ScheduledFor)
                .order_by_asc(review::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// How many reviews exist in all.
    pub async fn review_count(&self) -> Result<u64, StoreError> {
        use sea_orm::PaginatorTrait;
        Ok(review::Entity::find().count(&self.inner).await?)
    }

    /// Closes an open review; `false` when it was not open any more.
    pub async fn close_review(
        &self,
        id: ReviewId,
        minutes: &str,
        outcome: Option<&str>,
        closed_by: Option<PersonId>,
        closed_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = review::Entity::update_many()
            .col_expr(
                review::Column::Status,
                Expr::value(ReviewStatus::Closed.as_str()),
            )
            .col_expr(review::Column::Minutes, Expr::value(minutes))
            .col_expr(review::Column::Outcome, Expr::value(outcome))
            .col_expr(review::Column::ClosedAt, Expr::value(closed_at))
            .col_expr(
                review::Column::ClosedBy,
                Expr::value(closed_by.map(PersonId::get)),
            )
            .filter(review::Column::Id.eq(id.get()))
            .filter(review::Column::Status.eq(ReviewStatus::Open.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The commitments of a document not yet done or cancelled, oldest first.
    pub async fn open_commitments(
        &self,
        document_id: DocumentId,
    ) -> Result<Vec<Commitment>, StoreError> {
        records(
            commitment::Entity::find()
                .filter(commitment::Column::DocumentId.eq(document_id.get()))
                .filter(commitment::Column::Status.is_in([
                    CommitmentStatus::Open.as_str(),
                    CommitmentStatus::InProgress.as_str(),
                ]))
                .order_by_asc(commitment::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Every commitment not done or cancelled whose due date is before `today`.
    pub async fn overdue_commitments(
        &self,
        today: NaiveDate,
    ) -> Result<Vec<Commitment>, StoreError> {
        records(
            commitment::Entity::find()
                .filter(commitment::Column::DueDate.lt(today))
                .filter(commitment::Column::Status.is_in([
                    CommitmentStatus::Open.as_str(),
                    CommitmentStatus::InProgress.as_str(),
                ]))
                .order_by_asc(commitment::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Asks for a status report on a commitment at a review.
    pub async fn insert_status_report(
        &self,
        review_id: ReviewId,
        commitment_id: CommitmentId,
        requested_at: DateTime<Utc>,
    ) -> Result<StatusReport, StoreError> {
        let model = status_report::ActiveModel {
            review_id: Set(review_id.get()),
            commitment_id: Set(commitment_id.get()),
            requested_at: Set(requested_at),
            status: Set(None),
            note: Set(None),
            evidence_url: Set(None),
            indicator_value: Set(None),
            submitted_at: Set(None),
            submitted_by: Set(None),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The status report with this id.
    pub async fn status_report(
        &self,
        id: StatusReportId,
    ) -> Result<Option<StatusReport>, StoreError> {
        status_report::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The status reports of a review, in commitment order.
    pub async fn status_reports(
        &self,
        review_id: ReviewId,
    ) -> Result<Vec<StatusReport>, StoreError> {
        records(
            status_report::Entity::find()
                .filter(status_report::Column::ReviewId.eq(review_id.get()))
                .order_by_asc(status_report::Column::CommitmentId)
                .all(&self.inner)
                .await?,
        )
    }

    /// Records what an owner reports (a later submission replaces an earlier one while
    /// the review is open).
    pub async fn submit_status_report(&self, new: SubmittedReport<'_>) -> Result<(), StoreError> {
        status_report::Entity::update_many()
            .col_expr(
                status_report::Column::Status,
                Expr::value(new.status.as_str()),
            )
            .col_expr(status_report::Column::Note, Expr::value(new.note))
            .col_expr(
                status_report::Column::EvidenceUrl,
                Expr::value(new.evidence_url),
            )
            .col_expr(
                status_report::Column::IndicatorValue,
                Expr::value(new.indicator_value),
            )
            .col_expr(
                status_report::Column::SubmittedAt,
                Expr::value(new.submitted_at),
            )
            .col_expr(
                status_report::Column::SubmittedBy,
                Expr::value(new.submitted_by.map(PersonId::get)),
            )
            .filter(status_report::Column::Id.eq(new.id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// Records that reminder `step` of `kind` about `subject_id` fired; `false` when it
    /// had already, and the caller must not send it again.
    pub async fn insert_reminder(
        &self,
        kind: &str,
        subject_id: i64,
        step: i32,
        due_at: DateTime<Utc>,
        fired_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let model = reminder::ActiveModel {
            kind: Set(kind.to_owned()),
            subject_id: Set(subject_id),
            step: Set(step),
            due_at: Set(due_at),
            fired_at: Set(fired_at),
            ..Default::default()
        };
        let inserted = reminder::Entity::insert(model)
            .on_conflict_do_nothing_on([
                reminder::Column::Kind,
                reminder::Column::SubjectId,
                reminder::Column::Step,
            ])
            .exec_without_returning(&self.inner)
            .await?;
        Ok(matches!(inserted, TryInsertResult::Inserted(n) if n == 1))
    }

    /// The steps of reminders of `kind` already fired about `subject_id`, ascending.
    pub async fn reminder_steps(
        &self,
        kind: &str,
        subject_id: i64,
    ) -> Result<Vec<i32>, StoreError> {
        Ok(reminder::Entity::find()
            .select_only()
            .column(reminder::Column::Step)
            .filter(reminder::Column::Kind.eq(kind))
            .filter(reminder::Column::SubjectId.eq(subject_id))
            .order_by_asc(reminder::Column::Step)
            .into_tuple::<i32>()
            .all(&self.inner)
            .await?)
    }

    /// Every pending signature request of an open signing round that can be signed now:
    /// all of a parallel round's, the first of a sequential round's.
    pub async fn pending_signature_requests(&self) -> Result<Vec<PendingRequest>, StoreError> {
        let rounds = signing_round::Entity::find()
            .filter(signing_round::Column::Status.eq(SigningRoundStatus::Open.as_str()))
            .all(&self.inner)
            .await?;
        let mut pending = Vec::new();
        for round in rounds {
            let mut requests: Vec<SignatureRequest> = records(
                signature_request::Entity::find()
                    .filter(signature_request::Column::RoundId.eq(round.id))
                    .filter(
                        signature_request::Column::Status
                            .eq(SignatureRequestStatus::Pending.as_str()),
                    )
                    .order_by_asc(signature_request::Column::Position)
                    .order_by_asc(signature_request::Column::Id)
                    .all(&self.inner)
                    .await?,
            )?;
            // In a sequential round only the first pending signatory can sign now.
            if round.signing_order == SigningOrder::Sequential.as_str() {
                requests.truncate(1);
            }
            pending.extend(requests.into_iter().map(|request| PendingRequest {
                request,
                instance_id: InstanceId::new(round.instance_id),
                document_id: DocumentId::new(round.document_id),
            }));
        }
        Ok(pending)
    }
}
