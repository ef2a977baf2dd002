//! Review checkpoints through the API: a document's review schedules and reviews, each
//! review with the status reports asked for at it; owners submit their status reports,
//! a coordinator closes the review with its minutes and the transition that follows, and
//! sets the schedule. The scheduler inside `patto serve` opens the reviews.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use patto_core::ids::{DocumentId, ReviewId, StatusReportId};
use patto_core::records;
use patto_core::status::ReportStatus;
use patto_engine::StatusReportInput;

use super::mutation::acting;
use super::types::{Person, id, person};
use super::{id_of, name_of, page, request};
use crate::error::{ApiResult, engine};

/// The queries of review checkpoints.
#[derive(Default)]
pub struct ReviewQuery;

/// The mutations of review checkpoints.
#[derive(Default)]
pub struct ReviewMutation;

/// When a document's reviews come: a cron expression read in a time zone.
#[derive(SimpleObject)]
pub struct ReviewSchedule {
    /// Its id.
    pub id: ID,
    /// The standard 5-field crontab expression (see `docs/cron.md`).
    pub cron: String,
    /// The IANA time zone it is read in, e.g. `Europe/Rome`.
    pub time_zone: String,
    /// Whether it still opens reviews.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was stopped (replaced, or the document left force).
    pub stopped_at: Option<DateTime<Utc>>,
    /// The transition each checkpoint fires, e.g. `open_review`; null when the
    /// document's definition has none and a checkpoint only records a review.
    pub transition: Option<String>,
    /// The next scheduled instant; null until the scheduler first computes it.
    pub next_fire_at: Option<DateTime<Utc>>,
}

impl From<records::ReviewSchedule> for ReviewSchedule {
    fn from(s: records::ReviewSchedule) -> Self {
        ReviewSchedule {
            id: id(s.id.get()),
            cron: s.cron,
            time_zone: s.time_zone,
            active: s.active,
            created_at: s.created_at,
            stopped_at: s.stopped_at,
            transition: s.transition,
            next_fire_at: s.next_fire_at,
        }
    }
}

/// A review checkpoint: what a schedule opened at one scheduled instant.
pub struct Review {
    review: records::Review,
    /// The status reports, when the review was read with them.
    reports: Option<Vec<records::StatusReport>>,
}

impl From<records::Review> for Review {
    fn from(review: records::Review) -> Self {
        Review {
            review,
            reports: None,
        }
    }
}

#[Object]
impl Review {
    /// Its id, to give to `closeReview`.
    async fn id(&self) -> ID {
        id(self.review.id.get())
    }
    /// The scheduled instant it stands for.
    async fn scheduled_for(&self) -> DateTime<Utc> {
        self.review.scheduled_for
    }
    /// When the scheduler opened it.
    async fn fired_at(&self) -> DateTime<Utc> {
        self.review.fired_at
    }
    /// How many earlier scheduled instants were missed (the server was down) and
    /// folded into this one.
    async fn skipped(&self) -> i32 {
        self.review.skipped
    }
    /// The transition fired when it opened; null when the state did not change.
    async fn transition(&self) -> Option<&str> {
        self.review.transition.as_deref()
    }
    /// `open` or `closed`.
    async fn status(&self) -> &str {
        self.review.status.as_str()
    }
    /// The minutes written when it closed.
    async fn minutes(&self) -> Option<&str> {
        self.review.minutes.as_deref()
    }
    /// The transition fired when it closed (its outcome), if any.
    async fn outcome(&self) -> Option<&str> {
        self.review.outcome.as_deref()
    }
    /// When it closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.review.closed_at
    }
    /// Who closed it.
    async fn closed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        match self.review.closed_by {
            Some(closer) => person(ctx, closer).await,
            None => Ok(None),
        }
    }
    /// The status reports asked for at it, one per open commitment, in commitment order.
    async fn status_reports(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, StatusReport>> {
        let reports = match &self.reports {
            Some(reports) => reports.clone(),
            None => {
                let cx = request(ctx)?;
                let (_, _, reports) =
                    engine(cx.engine.readable_review(cx.actor, self.review.id).await)?;
                reports
            }
        };
        page(reports, |r| r.id.get(), StatusReport, after, first)
    }
}

/// A status report asked of a commitment's owner at a review, and what they answered.
pub struct StatusReport(records::StatusReport);

#[Object]
impl StatusReport {
    /// Its id, to give to `submitStatusReport`.
    async fn id(&self) -> ID {
        id(self.0.id.get())
    }
    /// The review it was asked at.
    async fn review_id(&self) -> ID {
        id(self.0.review_id.get())
    }
    /// The commitment reported on (see the document's `commitments`).
    async fn commitment_id(&self) -> ID {
        id(self.0.commitment_id.get())
    }
    /// When it was asked for.
    async fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }
    /// `not_started`, `in_progress`, `done`, `late` or `dropped`; null until submitted.
    async fn status(&self) -> Option<&str> {
        self.0.status.map(ReportStatus::as_str)
    }
    /// A note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// A link to the evidence (a published act, a page).
    async fn evidence_url(&self) -> Option<&str> {
        self.0.evidence_url.as_deref()
    }
    /// The indicator's current value.
    async fn indicator_value(&self) -> Option<&str> {
        self.0.indicator_value.as_deref()
    }
    /// When it was submitted.
    async fn submitted_at(&self) -> Option<DateTime<Utc>> {
        self.0.submitted_at
    }
    /// Who submitted it.
    async fn submitted_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        match self.0.submitted_by {
            Some(submitter) => person(ctx, submitter).await,
            None => Ok(None),
        }
    }
}

#[Object]
impl ReviewQuery {
    /// The reviews of a document (by slug), oldest first: public once it is published,
    /// like its commitments; for those involved before.
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        document: String,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Review>> {
        let cx = request(ctx)?;
        let reviews = engine(cx.engine.readable_reviews(cx.actor, &document).await)?;
        page(reviews, |r| r.id.get(), Review::from, after, first)
    }

    /// The review schedules of a document (by slug), oldest first; the active one says
    /// when the next review comes.
    async fn review_schedules(
        &self,
        ctx: &Context<'_>,
        document: String,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, ReviewSchedule>> {
        let cx = request(ctx)?;
        let schedules = engine(
            cx.engine
                .readable_review_schedules(cx.actor, &document)
                .await,
        )?;
        page(
            schedules,
            |s| s.id.get(),
            ReviewSchedule::from,
            after,
            first,
        )
    }

    /// A review with its status reports.
    async fn review(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Review> {
        let cx = request(ctx)?;
        let review_id: ReviewId = id_of("review", &id)?;
        let (_, review, reports) = engine(cx.engine.readable_review(cx.actor, review_id).await)?;
        Ok(Review {
            review,
            reports: Some(reports),
        })
    }
}

#[Object]
impl ReviewMutation {
    /// Answers a status report while its review is open: a coordinator or admin of the
    /// organisation that owns the commitment (of the document's organisation when it has
    /// no owner) may. `status` is `not_started`, `in_progress`, `done`, `late` or
    /// `dropped`; `evidenceUrl` must be a web address.
    async fn submit_status_report(
        &self,
        ctx: &Context<'_>,
        report: ID,
        status: String,
        note: Option<String>,
        evidence_url: Option<String>,
        indicator_value: Option<String>,
    ) -> ApiResult<StatusReport> {
        let (cx, actor) = acting(ctx)?;
        let report_id: StatusReportId = id_of("status report", &report)?;
        let input = StatusReportInput {
            status: name_of::<ReportStatus>(&status)?,
            note,
            evidence_url,
            indicator_value,
        };
        engine(
            cx.engine
                .submit_status_report(actor, report_id, input)
                .await,
        )
        .map(StatusReport)
    }

    /// Closes an open review with its minutes: a coordinator of the document may.
    /// `outcome` is the transition that follows, fired in the same change as the closer
    /// (e.g. `conclude_review` back in force or implementation, `amend`, `close`); leave
    /// it out to close the review without changing the state.
    async fn close_review(
        &self,
        ctx: &Context<'_>,
        review: ID,
        minutes: String,
        outcome: Option<String>,
    ) -> ApiResult<Review> {
        let (cx, actor) = acting(ctx)?;
        let review_id: ReviewId = id_of("review", &review)?;
        engine(
            cx.engine
                .close_review(actor, review_id, &minutes, outcome.as_deref())
                .await,
        )
        .map(Review::from)
    }

    /// Replaces the review schedule of a document whose reviews are running: a
    /// coordinator of the document may. `cron` is a standard 5-field crontab expression
    /// (check it with `patto schedule next`); `timeZone` defaults to `Europe/Rome`.
    async fn set_review_schedule(
        &self,
        ctx: &Context<'_>,
        document: ID,
        cron: String,
        time_zone: Option<String>,
    ) -> ApiResult<ReviewSchedule> {
        let (cx, actor) = acting(ctx)?;
        let document_id: DocumentId = id_of("document", &document)?;
        engine(
            cx.engine
                .set_review_schedule(actor, document_id, &cron, time_zone.as_deref())
                .await,
        )
        .map(ReviewSchedule::from)
    }
}
