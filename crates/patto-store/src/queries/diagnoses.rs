//! Diagnoses: the territory and edition year of each diagnosis document, and the items of
//! diagnoses that pacts and protocols cite.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use patto_core::diagnosis::{CitationRecord, DiagnosisRecord};
use patto_core::ids::{DocumentId, OrganisationId, PersonId};

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

impl TryFrom<diagnosis::Model> for DiagnosisRecord {
    type Error = StoreError;

    fn try_from(row: diagnosis::Model) -> Result<Self, StoreError> {
        Ok(DiagnosisRecord {
            document_id: DocumentId::new(row.document_id),
            organisation_id: OrganisationId::new(row.organisation_id),
            year: row.year,
        })
    }
}

impl TryFrom<diagnosis_citation::Model> for CitationRecord {
    type Error = StoreError;

    fn try_from(row: diagnosis_citation::Model) -> Result<Self, StoreError> {
        Ok(CitationRecord {
            document_id: DocumentId::new(row.document_id),
            diagnosis_id: DocumentId::new(row.diagnosis_id),
            diagnosis_version: row.diagnosis_version,
            item_id: row.item_id,
            document_version: row.document_version,
            cited_by: PersonId::new(row.cited_by),
            cited_at: row.cited_at,
        })
    }
}

impl Tx {
    /// Records which territory and year a diagnosis document is about. A second
    /// diagnosis for the same pair fails with a unique-key violation.
    pub async fn insert_diagnosis(&self, record: &DiagnosisRecord) -> Result<(), StoreError> {
        diagnosis::ActiveModel {
            document_id: Set(record.document_id.get()),
            organisation_id: Set(record.organisation_id.get()),
            year: Set(record.year),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        Ok(())
    }

    /// The diagnosis held by a document, if it is one.
    pub async fn diagnosis(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<DiagnosisRecord>, StoreError> {
        diagnosis::Entity::find()
            .filter(diagnosis::Column::DocumentId.eq(document_id.get()))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The diagnosis of a territory for an edition year.
    pub async fn diagnosis_for(
        &self,
        organisation_id: OrganisationId,
        year: i32,
    ) -> Result<Option<DiagnosisRecord>, StoreError> {
        diagnosis::Entity::find()
            .filter(diagnosis::Column::OrganisationId.eq(organisation_id.get()))
            .filter(diagnosis::Column::Year.eq(year))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every diagnosis, by organisation and year; of one organisation when given.
    pub async fn diagnoses(
        &self,
        organisation_id: Option<OrganisationId>,
    ) -> Result<Vec<DiagnosisRecord>, StoreError> {
        let mut query = diagnosis::Entity::find();
        if let Some(id) = organisation_id {
            query = query.filter(diagnosis::Column::OrganisationId.eq(id.get()));
        }
        records(
            query
                .order_by_asc(diagnosis::Column::OrganisationId)
                .order_by_asc(diagnosis::Column::Year)
                .all(&self.inner)
                .await?,
        )
    }

    /// Replaces the items a document cites from one diagnosis with `citations` (all of
    /// that document and diagnosis); an empty list removes them.
    pub async fn replace_citations(
        &self,
        document_id: DocumentId,
        diagnosis_id: DocumentId,
        citations: &[CitationRecord],
    ) -> Result<(), StoreError> {
        diagnosis_citation::Entity::delete_many()
            .filter(diagnosis_citation::Column::DocumentId.eq(document_id.get()))
            .filter(diagnosis_citation::Column::DiagnosisId.eq(diagnosis_id.get()))
            .exec(&self.inner)
            .await?;
        for citation in citations {
            diagnosis_citation::ActiveModel {
                document_id: Set(citation.document_id.get()),
                diagnosis_id: Set(citation.diagnosis_id.get()),
                diagnosis_version: Set(citation.diagnosis_version),
                item_id: Set(citation.item_id.clone()),
                document_version: Set(citation.document_version),
                cited_by: Set(citation.cited_by.get()),
                cited_at: Set(citation.cited_at),
                ..Default::default()
            }
            .insert(&self.inner)
            .await?;
        }
        Ok(())
    }

    /// The items a document cites, in the order they were cited.
    pub async fn citations_of(
        &self,
        document_id: DocumentId,
    ) -> Result<Vec<CitationRecord>, StoreError> {
        records(
            diagnosis_citation::Entity::find()
                .filter(diagnosis_citation::Column::DocumentId.eq(document_id.get()))
                .order_by_asc(diagnosis_citation::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }
}
