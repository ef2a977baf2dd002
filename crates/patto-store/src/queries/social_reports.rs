//! Social reports: the organisation and year of each report document, and the working
//! drafts of its sections.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use patto_core::ids::{DocumentId, OrganisationId, PersonId};
use patto_core::social_report::{ReportRecord, SectionDraft, SectionText};

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

impl TryFrom<social_report::Model> for ReportRecord {
    type Error = StoreError;

    fn try_from(row: social_report::Model) -> Result<Self, StoreError> {
        Ok(ReportRecord {
            document_id: DocumentId::new(row.document_id),
            organisation_id: OrganisationId::new(row.organisation_id),
            year: row.year,
            model_version: u32::try_from(row.model_version).map_err(|_| {
                StoreError::Corrupt(format!(
                    "social_reports row {}: model version {}",
                    row.id, row.model_version
                ))
            })?,
        })
    }
}

impl TryFrom<social_report_section::Model> for SectionDraft {
    type Error = StoreError;

    fn try_from(row: social_report_section::Model) -> Result<Self, StoreError> {
        Ok(SectionDraft {
            document_id: DocumentId::new(row.document_id),
            area: row.area_code,
            text: SectionText {
                narrative: row.narrative,
                goals: row.goals,
            },
            updated_by: PersonId::new(row.updated_by),
            updated_at: row.updated_at,
        })
    }
}

impl Tx {
    /// Records which organisation and year a social-report document is about. A second
    /// report for the same pair fails with a unique-key violation.
    pub async fn insert_social_report(&self, report: &ReportRecord) -> Result<(), StoreError> {
        social_report::ActiveModel {
            document_id: Set(report.document_id.get()),
            organisation_id: Set(report.organisation_id.get()),
            year: Set(report.year),
            model_version: Set(i32::try_from(report.model_version).map_err(|_| {
                StoreError::Corrupt(format!(
                    "model version {} is too large",
                    report.model_version
                ))
            })?),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        Ok(())
    }

    /// The report held by a document, if it is a social report.
    pub async fn social_report(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<ReportRecord>, StoreError> {
        social_report::Entity::find()
            .filter(social_report::Column::DocumentId.eq(document_id.get()))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The report of an organisation for a year.
    pub async fn social_report_for(
        &self,
        organisation_id: OrganisationId,
        year: i32,
    ) -> Result<Option<ReportRecord>, StoreError> {
        social_report::Entity::find()
            .filter(social_report::Column::OrganisationId.eq(organisation_id.get()))
            .filter(social_report::Column::Year.eq(year))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every report, by organisation and year; of one organisation when given.
    pub async fn social_reports(
        &self,
        organisation_id: Option<OrganisationId>,
    ) -> Result<Vec<ReportRecord>, StoreError> {
        let mut query = social_report::Entity::find();
        if let Some(id) = organisation_id {
            query = query.filter(social_report::Column::OrganisationId.eq(id.get()));
        }
        records(
            query
                .order_by_asc(social_report::Column::OrganisationId)
                .order_by_asc(social_report::Column::Year)
                .all(&self.inner)
                .await?,
        )
    }

    /// Saves the draft of one section, replacing the one saved before.
    pub async fn save_section_draft(
        &self,
        document_id: DocumentId,
        area: &str,
        text: &SectionText,
        updated_by: PersonId,
    ) -> Result<SectionDraft, StoreError> {
        let existing = social_report_section::Entity::find()
            .filter(social_report_section::Column::DocumentId.eq(document_id.get()))
            .filter(social_report_section::Column::AreaCode.eq(area))
            .one(&self.inner)
            .await?;
        let mut row = match &existing {
            Some(row) => social_report_section::ActiveModel {
                id: Set(row.id),
                ..Default::default()
            },
            None => social_report_section::ActiveModel {
                document_id: Set(document_id.get()),
                area_code: Set(area.to_owned()),
                ..Default::default()
            },
        };
        row.narrative = Set(text.narrative.clone());
        row.goals = Set(text.goals.clone());
        row.updated_by = Set(updated_by.get());
        row.updated_at = Set(now());
        let saved = match existing {
            Some(_) => row.update(&self.inner).await?,
            None => row.insert(&self.inner).await?,
        };
        record(saved)
    }

    /// The drafts of a report's sections, by area code.
    pub async fn section_drafts(
        &self,
        document_id: DocumentId,
    ) -> Result<Vec<SectionDraft>, StoreError> {
        records(
            social_report_section::Entity::find()
                .filter(social_report_section::Column::DocumentId.eq(document_id.get()))
                .order_by_asc(social_report_section::Column::AreaCode)
                .all(&self.inner)
                .await?,
        )
    }
}
