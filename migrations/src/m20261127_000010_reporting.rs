//! The reporting model and the baseline survey: every loaded version of the model (its
//! exact text, so that a report drafted against version N can always be read with
//! version N), and the survey values per organisation, indicator and year.

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
enum ReportingModels {
    Table,
    Id,
    Version,
    Source,
    Sha256,
    LoadedBy,
    LoadedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SurveyValues {
    Table,
    Id,
    OrganisationId,
    IndicatorCode,
    Year,
    Value,
    Source,
    Note,
    ModelVersion,
    EnteredBy,
    EnteredAt,
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
                    .table(ReportingModels::Table)
                    .col(big_pk_auto(ReportingModels::Id))
                    .col(integer_uniq(ReportingModels::Version))
                    .col(text(ReportingModels::Source))
                    .col(string(ReportingModels::Sha256))
                    .col(big_integer_null(ReportingModels::LoadedBy))
                    .col(timestamp_with_time_zone(ReportingModels::LoadedAt))
                    .foreign_key(&mut reference(
                        ReportingModels::Table,
                        ReportingModels::LoadedBy,
                        People::Table,
                        People::Id,
                        "fk_reporting_models_loaded_by",
                    ))
                    .to_owned(),
            )
            .await?;
        // Values are exact decimals kept as text ("12.5"), so that no figure changes on
        // its way through binary floating point on either backend.
        manager
            .create_table(
                Table::create()
                    .table(SurveyValues::Table)
                    .col(big_pk_auto(SurveyValues::Id))
                    .col(big_integer(SurveyValues::OrganisationId))
                    .col(string(SurveyValues::IndicatorCode))
                    .col(integer(SurveyValues::Year))
                    .col(string(SurveyValues::Value))
                    .col(text(SurveyValues::Source))
                    .col(text(SurveyValues::Note))
                    .col(integer(SurveyValues::ModelVersion))
                    .col(big_integer_null(SurveyValues::EnteredBy))
                    .col(timestamp_with_time_zone(SurveyValues::EnteredAt))
                    .foreign_key(&mut reference(
                        SurveyValues::Table,
                        SurveyValues::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                        "fk_survey_values_organisation_id",
                    ))
                    .foreign_key(&mut reference(
                        SurveyValues::Table,
                        SurveyValues::EnteredBy,
                        People::Table,
                        People::Id,
                        "fk_survey_values_entered_by",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_survey_values_organisation_indicator_year")
                    .table(SurveyValues::Table)
                    .col(SurveyValues::OrganisationId)
                    .col(SurveyValues::IndicatorCode)
                    .col(SurveyValues::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
