//! Review checkpoints that fire exactly once: where each review schedule stands (its next
//! fire instant and the lease of the worker firing it), the reviews it opened (one per
//! schedule and scheduled instant, enforced by a unique key), the status reports asked
//! of commitment owners, and the reminders already sent (one per subject and step).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ReviewSchedules {
    Table,
    Id,
    Transition,
    NextFireAt,
    LeaseUntil,
    Active,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowInstances {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Commitments {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reviews {
    Table,
    Id,
    ScheduleId,
    InstanceId,
    ScheduledFor,
    FiredAt,
    Skipped,
    Transition,
    Status,
    Minutes,
    Outcome,
    ClosedAt,
    ClosedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum StatusReports {
    Table,
    Id,
    ReviewId,
    CommitmentId,
    RequestedAt,
    Status,
    Note,
    EvidenceUrl,
    IndicatorValue,
    SubmittedAt,
    SubmittedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reminders {
    Table,
    Id,
    Kind,
    SubjectId,
    Step,
    DueAt,
    FiredAt,
}

fn foreign_key(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE statement.
        for column in [
            string_null(ReviewSchedules::Transition),
            timestamp_with_time_zone_null(ReviewSchedules::NextFireAt),
            timestamp_with_time_zone_null(ReviewSchedules::LeaseUntil),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ReviewSchedules::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_review_schedules_due")
                    .table(ReviewSchedules::Table)
                    .col(ReviewSchedules::Active)
                    .col(ReviewSchedules::NextFireAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reviews::Table)
                    .col(big_pk_auto(Reviews::Id))
                    .col(big_integer(Reviews::ScheduleId))
                    .col(big_integer(Reviews::InstanceId))
                    .col(timestamp_with_time_zone(Reviews::ScheduledFor))
                    .col(timestamp_with_time_zone(Reviews::FiredAt))
                    .col(integer(Reviews::Skipped))
                    .col(string_null(Reviews::Transition))
                    .col(string(Reviews::Status))
                    .col(text_null(Reviews::Minutes))
                    .col(string_null(Reviews::Outcome))
                    .col(timestamp_with_time_zone_null(Reviews::ClosedAt))
                    .col(big_integer_null(Reviews::ClosedBy))
                    .foreign_key(&mut foreign_key(
                        "fk_reviews_schedule_id",
                        (Reviews::Table, Reviews::ScheduleId),
                        (ReviewSchedules::Table, ReviewSchedules::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_reviews_instance_id",
                        (Reviews::Table, Reviews::InstanceId),
                        (WorkflowInstances::Table, WorkflowInstances::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        // The key that makes a review checkpoint fire exactly once, whichever worker
        // gets there and however often it retries.
        manager
            .create_index(
                Index::create()
                    .name("ux_reviews_schedule_scheduled_for")
                    .table(Reviews::Table)
                    .col(Reviews::ScheduleId)
                    .col(Reviews::ScheduledFor)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_reviews_instance_id")
                    .table(Reviews::Table)
                    .col(Reviews::InstanceId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StatusReports::Table)
                    .col(big_pk_auto(StatusReports::Id))
                    .col(big_integer(StatusReports::ReviewId))
                    .col(big_integer(StatusReports::CommitmentId))
                    .col(timestamp_with_time_zone(StatusReports::RequestedAt))
                    .col(string_null(StatusReports::Status))
                    .col(text_null(StatusReports::Note))
                    .col(string_null(StatusReports::EvidenceUrl))
                    .col(string_null(StatusReports::IndicatorValue))
                    .col(timestamp_with_time_zone_null(StatusReports::SubmittedAt))
                    .col(big_integer_null(StatusReports::SubmittedBy))
                    .foreign_key(&mut foreign_key(
                        "fk_status_reports_review_id",
                        (StatusReports::Table, StatusReports::ReviewId),
                        (Reviews::Table, Reviews::Id),
                    ))
                    .foreign_key(&mut foreign_key(
                        "fk_status_reports_commitment_id",
                        (StatusReports::Table, StatusReports::CommitmentId),
                        (Commitments::Table, Commitments::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_status_reports_review_commitment")
                    .table(StatusReports::Table)
                    .col(StatusReports::ReviewId)
                    .col(StatusReports::CommitmentId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reminders::Table)
                    .col(big_pk_auto(Reminders::Id))
                    .col(string(Reminders::Kind))
                    .col(big_integer(Reminders::SubjectId))
                    .col(integer(Reminders::Step))
                    .col(timestamp_with_time_zone(Reminders::DueAt))
                    .col(timestamp_with_time_zone(Reminders::FiredAt))
                    .to_owned(),
            )
            .await?;
        // One reminder per subject and step, however many workers look at it.
        manager
            .create_index(
                Index::create()
                    .name("ux_reminders_kind_subject_step")
                    .table(Reminders::Table)
                    .col(Reminders::Kind)
                    .col(Reminders::SubjectId)
                    .col(Reminders::Step)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
