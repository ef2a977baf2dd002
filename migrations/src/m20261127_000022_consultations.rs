//! The consultation of a Diagnosi: its questionnaire and period (one per diagnosis
//! document), the personal links of partner organisations (kept as SHA-256 hashes, each
//! usable once), and the answers, which carry their audience and nothing about who
//! answered.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Consultations {
    Table,
    Id,
    DocumentId,
    Questionnaire,
    PublicSlug,
    OpensAt,
    ClosesAt,
    OpenedSeq,
    ClosedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsultationLinks {
    Table,
    Id,
    ConsultationId,
    OrganisationId,
    TokenSha256,
    Used,
}

#[derive(DeriveIden, Clone, Copy)]
enum ConsultationAnswers {
    Table,
    Id,
    ConsultationId,
    Audience,
    Answers,
}

fn reference(
    table: impl IntoIden + 'static,
    column: impl IntoIden + 'static,
    target: impl IntoIden + 'static,
    target_id: impl IntoIden + 'static,
    name: &str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(target, target_id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consultations::Table)
                    .col(big_pk_auto(Consultations::Id))
                    .col(big_integer_uniq(Consultations::DocumentId))
                    .col(text(Consultations::Questionnaire))
                    .col(string_uniq(Consultations::PublicSlug))
                    .col(timestamp_with_time_zone_null(Consultations::OpensAt))
                    .col(timestamp_with_time_zone_null(Consultations::ClosesAt))
                    .col(big_integer_null(Consultations::OpenedSeq))
                    .col(timestamp_with_time_zone_null(Consultations::ClosedAt))
                    .col(big_integer_null(Consultations::UpdatedBy))
                    .col(timestamp_with_time_zone(Consultations::UpdatedAt))
                    .foreign_key(&mut reference(
                        Consultations::Table,
                        Consultations::DocumentId,
                        Documents::Table,
                        Documents::Id,
                        "fk_consultations_document_id",
                    ))
                    .foreign_key(&mut reference(
                        Consultations::Table,
                        Consultations::UpdatedBy,
                        People::Table,
                        People::Id,
                        "fk_consultations_updated_by",
                    ))
                    .to_owned(),
            )
            .await?;
        // A link says which organisation it was sent to, so that each partner
        // organisation gets one; whether it was used is a flag, not a time, so that a
        // used link cannot be matched with an answer by when both were written.
        manager
            .create_table(
                Table::create()
                    .table(ConsultationLinks::Table)
                    .col(big_pk_auto(ConsultationLinks::Id))
                    .col(big_integer(ConsultationLinks::ConsultationId))
                    .col(big_integer(ConsultationLinks::OrganisationId))
                    .col(string_uniq(ConsultationLinks::TokenSha256))
                    .col(boolean(ConsultationLinks::Used))
                    .foreign_key(&mut reference(
                        ConsultationLinks::Table,
                        ConsultationLinks::ConsultationId,
                        Consultations::Table,
                        Consultations::Id,
                        "fk_consultation_links_consultation_id",
                    ))
                    .foreign_key(&mut reference(
                        ConsultationLinks::Table,
                        ConsultationLinks::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                        "fk_consultation_links_organisation_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_consultation_links_consultation_organisation")
                    .table(ConsultationLinks::Table)
                    .col(ConsultationLinks::ConsultationId)
                    .col(ConsultationLinks::OrganisationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // An answer holds its audience and the checked answers: no link, person, address
        // or time.
        manager
            .create_table(
                Table::create()
                    .table(ConsultationAnswers::Table)
                    .col(big_pk_auto(ConsultationAnswers::Id))
                    .col(big_integer(ConsultationAnswers::ConsultationId))
                    .col(string(ConsultationAnswers::Audience))
                    .col(text(ConsultationAnswers::Answers))
                    .foreign_key(&mut reference(
                        ConsultationAnswers::Table,
                        ConsultationAnswers::ConsultationId,
                        Consultations::Table,
                        Consultations::Id,
                        "fk_consultation_answers_consultation_id",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_consultation_answers_consultation")
                    .table(ConsultationAnswers::Table)
                    .col(ConsultationAnswers::ConsultationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
