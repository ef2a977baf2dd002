//! Social reports: which organisation and year each social-report document is about (one
//! report per pair) with the reporting-model version it is drafted against, and the
//! working draft of each of its sections (one per reporting area), which an assembly
//! turns into a document version.

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
enum SocialReports {
    Table,
    Id,
    DocumentId,
    OrganisationId,
    Year,
    ModelVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum SocialReportSections {
    Table,
    Id,
    DocumentId,
    AreaCode,
    Narrative,
    Goals,
    UpdatedBy,
    UpdatedAt,
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
                    .table(SocialReports::Table)
                    .col(big_pk_auto(SocialReports::Id))
                    .col(big_integer_uniq(SocialReports::DocumentId))
                    .col(big_integer(SocialReports::OrganisationId))
                    .col(integer(SocialReports::Year))
                    .col(integer(SocialReports::ModelVersion))
                    .foreign_key(&mut reference(
                        SocialReports::Table,
                        SocialReports::DocumentId,
                        Documents::Table,
                        Documents::Id,
                        "fk_social_reports_document_id",
                    ))
                    .foreign_key(&mut reference(
                        SocialReports::Table,
                        SocialReports::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                        "fk_social_reports_organisation_id",
                    ))
                    .to_owned(),
            )
            .await?;
        // One report per organisation and year: two concurrent creations cannot both win.
        manager
            .create_index(
                Index::create()
                    .name("ux_social_reports_organisation_year")
                    .table(SocialReports::Table)
                    .col(SocialReports::OrganisationId)
                    .col(SocialReports::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SocialReportSections::Table)
                    .col(big_pk_auto(SocialReportSections::Id))
                    .col(big_integer(SocialReportSections::DocumentId))
                    .col(string(SocialReportSections::AreaCode))
                    .col(text(SocialReportSections::Narrative))
                    .col(text(SocialReportSections::Goals))
                    .col(big_integer(SocialReportSections::UpdatedBy))
                    .col(timestamp_with_time_zone(SocialReportSections::UpdatedAt))
                    .foreign_key(&mut reference(
                        SocialReportSections::Table,
                        SocialReportSections::DocumentId,
                        Documents::Table,
                        Documents::Id,
                        "fk_social_report_sections_document_id",
                    ))
                    .foreign_key(&mut reference(
                        SocialReportSections::Table,
                        SocialReportSections::UpdatedBy,
                        People::Table,
                        People::Id,
                        "fk_social_report_sections_updated_by",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_social_report_sections_document_area")
                    .table(SocialReportSections::Table)
                    .col(SocialReportSections::DocumentId)
                    .col(SocialReportSections::AreaCode)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
