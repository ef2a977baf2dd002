//! Diagnoses: which territory (a Comune or the coalition, by its organisation) and
//! edition year each diagnosis document is about (one diagnosis per pair), and the items
//! of a diagnosis that a pact or protocol cites (one row per citing document, diagnosis
//! and item), with the diagnosis version the item was read from.

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
enum Diagnoses {
    Table,
    Id,
    DocumentId,
    OrganisationId,
    Year,
}

#[derive(DeriveIden, Clone, Copy)]
enum DiagnosisCitations {
    Table,
    Id,
    DocumentId,
    DiagnosisId,
    DiagnosisVersion,
    ItemId,
    DocumentVersion,
    CitedBy,
    CitedAt,
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
                    .table(Diagnoses::Table)
                    .col(big_pk_auto(Diagnoses::Id))
                    .col(big_integer_uniq(Diagnoses::DocumentId))
                    .col(big_integer(Diagnoses::OrganisationId))
                    .col(integer(Diagnoses::Year))
                    .foreign_key(&mut reference(
                        Diagnoses::Table,
                        Diagnoses::DocumentId,
                        Documents::Table,
                        Documents::Id,
                        "fk_diagnoses_document_id",
                    ))
                    .foreign_key(&mut reference(
                        Diagnoses::Table,
                        Diagnoses::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                        "fk_diagnoses_organisation_id",
                    ))
                    .to_owned(),
            )
            .await?;
        // One diagnosis per territory and edition year: two concurrent creations cannot
        // both win.
        manager
            .create_index(
                Index::create()
                    .name("ux_diagnoses_organisation_year")
                    .table(Diagnoses::Table)
                    .col(Diagnoses::OrganisationId)
                    .col(Diagnoses::Year)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DiagnosisCitations::Table)
                    .col(big_pk_auto(DiagnosisCitations::Id))
                    .col(big_integer(DiagnosisCitations::DocumentId))
                    .col(big_integer(DiagnosisCitations::DiagnosisId))
                    .col(integer(DiagnosisCitations::DiagnosisVersion))
                    .col(string(DiagnosisCitations::ItemId))
                    .col(integer_null(DiagnosisCitations::DocumentVersion))
                    .col(big_integer(DiagnosisCitations::CitedBy))
                    .col(timestamp_with_time_zone(DiagnosisCitations::CitedAt))
                    .foreign_key(&mut reference(
                        DiagnosisCitations::Table,
                        DiagnosisCitations::DocumentId,
                        Documents::Table,
                        Documents::Id,
                        "fk_diagnosis_citations_document_id",
                    ))
                    .foreign_key(&mut reference(
                        DiagnosisCitations::Table,
                        DiagnosisCitations::DiagnosisId,
                        Documents::Table,
                        Documents::Id,
                        "fk_diagnosis_citations_diagnosis_id",
                    ))
                    .foreign_key(&mut reference(
                        DiagnosisCitations::Table,
                        DiagnosisCitations::CitedBy,
                        People::Table,
                        People::Id,
                        "fk_diagnosis_citations_cited_by",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_diagnosis_citations_document_item")
                    .table(DiagnosisCitations::Table)
                    .col(DiagnosisCitations::DocumentId)
                    .col(DiagnosisCitations::DiagnosisId)
                    .col(DiagnosisCitations::ItemId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
