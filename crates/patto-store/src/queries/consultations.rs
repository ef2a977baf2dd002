//! Consultations: the questionnaire and period of a Diagnosi, the partners' personal
//! links (token hashes, each usable once) and the answers.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};

use chrono::{DateTime, Utc};
use patto_core::consultation::{
    Answers, Audience, ConsultationRecord, Questionnaire, StoredAnswers,
};
use patto_core::ids::{ConsultationId, DocumentId, OrganisationId, PersonId};
use patto_core::records::Organisation;

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

impl TryFrom<consultation::Model> for ConsultationRecord {
    type Error = StoreError;

    fn try_from(row: consultation::Model) -> Result<Self, StoreError> {
        let questionnaire: Questionnaire =
            serde_json::from_str(&row.questionnaire).map_err(|error| {
                StoreError::Corrupt(format!(
                    "consultations row {}: questionnaire: {error}",
                    row.id
                ))
            })?;
        Ok(ConsultationRecord {
            id: ConsultationId::new(row.id),
            document_id: DocumentId::new(row.document_id),
            questionnaire,
            public_slug: row.public_slug,
            opens_at: row.opens_at,
            closes_at: row.closes_at,
            opened_seq: row.opened_seq,
            closed_at: row.closed_at,
            updated_by: row.updated_by.map(PersonId::new),
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<consultation_answer::Model> for StoredAnswers {
    type Error = StoreError;

    fn try_from(row: consultation_answer::Model) -> Result<Self, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("consultation_answers row {}: {what}", row.id))
        };
        Ok(StoredAnswers {
            audience: Audience::from_name(&row.audience)
                .ok_or_else(|| corrupt(format!("audience '{}'", row.audience)))?,
            answers: Answers::parse(&row.answers).map_err(|e| corrupt(e.to_string()))?,
        })
    }
}

/// A partner organisation's personal link, as stored: its token's hash only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsultationLink {
    /// The consultation.
    pub consultation_id: ConsultationId,
    /// The partner organisation it was sent to.
    pub organisation_id: OrganisationId,
    /// Whether it was used to answer.
    pub used: bool,
}

fn questionnaire_json(questionnaire: &Questionnaire) -> Result<String, StoreError> {
    serde_json::to_string(questionnaire)
        .map_err(|error| StoreError::Corrupt(format!("questionnaire: {error}")))
}

impl Tx {
    /// Creates the consultation of a diagnosis with its questionnaire and public slug.
    /// A second one for the same document fails with a unique-key violation.
    pub async fn insert_consultation(
        &self,
        document_id: DocumentId,
        questionnaire: &Questionnaire,
        public_slug: &str,
        by: Option<PersonId>,
    ) -> Result<ConsultationRecord, StoreError> {
        let row = consultation::ActiveModel {
            document_id: Set(document_id.get()),
            questionnaire: Set(questionnaire_json(questionnaire)?),
            public_slug: Set(public_slug.to_owned()),
            opens_at: Set(None),
            closes_at: Set(None),
            opened_seq: Set(None),
            closed_at: Set(None),
            updated_by: Set(by.map(PersonId::get)),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        record(row)
    }

    /// Replaces a consultation's questionnaire.
    pub async fn set_questionnaire(
        &self,
        id: ConsultationId,
        questionnaire: &Questionnaire,
        by: Option<PersonId>,
    ) -> Result<(), StoreError> {
        consultation::ActiveModel {
            id: Set(id.get()),
            questionnaire: Set(questionnaire_json(questionnaire)?),
            updated_by: Set(by.map(PersonId::get)),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.inner)
        .await?;
        Ok(())
    }

    /// Records that a consultation opened: its period and the event that moved the
    /// document into `consultation`.
    pub async fn open_consultation(
        &self,
        id: ConsultationId,
        opens_at: DateTime<Utc>,
        closes_at: DateTime<Utc>,
        opened_seq: i64,
        by: Option<PersonId>,
    ) -> Result<(), StoreError> {
        consultation::ActiveModel {
            id: Set(id.get()),
            opens_at: Set(Some(opens_at)),
            closes_at: Set(Some(closes_at)),
            opened_seq: Set(Some(opened_seq)),
            updated_by: Set(by.map(PersonId::get)),
            updated_at: Set(now()),
            ..Default::default()
        }
        .update(&self.inner)
        .await?;
        Ok(())
    }

    /// Records that a consultation closed at `at`; `false` when it was closed already.
    pub async fn close_consultation(
        &self,
        id: ConsultationId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = consultation::Entity::update_many()
            .col_expr(consultation::Column::ClosedAt, Expr::value(at))
            .filter(consultation::Column::Id.eq(id.get()))
            .filter(consultation::Column::ClosedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The consultation of a document.
    pub async fn consultation_of(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<ConsultationRecord>, StoreError> {
        consultation::Entity::find()
            .filter(consultation::Column::DocumentId.eq(document_id.get()))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The consultation with this public slug.
    pub async fn consultation_by_slug(
        &self,
        public_slug: &str,
    ) -> Result<Option<ConsultationRecord>, StoreError> {
        consultation::Entity::find()
            .filter(consultation::Column::PublicSlug.eq(public_slug))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every consultation, oldest first.
    pub async fn consultations(&self) -> Result<Vec<ConsultationRecord>, StoreError> {
        records(
            consultation::Entity::find()
                .order_by_asc(consultation::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The organisations sharing a network with this one, other than itself: a
    /// document's partner organisations.
    pub async fn partner_organisations(
        &self,
        organisation_id: OrganisationId,
    ) -> Result<Vec<Organisation>, StoreError> {
        records(
            organisation::Entity::find()
                .filter(
                    organisation::Column::Id
                        .in_subquery(Self::network_partners_of(organisation_id)),
                )
                .filter(organisation::Column::Id.ne(organisation_id.get()))
                .order_by_asc(organisation::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Stores a partner organisation's link by its token's hash. A second link for the
    /// same organisation fails with a unique-key violation.
    pub async fn insert_consultation_link(
        &self,
        consultation_id: ConsultationId,
        organisation_id: OrganisationId,
        token_sha256: &str,
    ) -> Result<(), StoreError> {
        consultation_link::ActiveModel {
            consultation_id: Set(consultation_id.get()),
            organisation_id: Set(organisation_id.get()),
            token_sha256: Set(token_sha256.to_owned()),
            used: Set(false),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        Ok(())
    }

    /// The links of a consultation, by organisation.
    pub async fn consultation_links(
        &self,
        consultation_id: ConsultationId,
    ) -> Result<Vec<ConsultationLink>, StoreError> {
        Ok(consultation_link::Entity::find()
            .filter(consultation_link::Column::ConsultationId.eq(consultation_id.get()))
            .order_by_asc(consultation_link::Column::OrganisationId)
            .all(&self.inner)
            .await?
            .into_iter()
            .map(link)
            .collect())
    }

    /// The link with this token hash.
    pub async fn consultation_link_by_hash(
        &self,
        token_sha256: &str,
    ) -> Result<Option<ConsultationLink>, StoreError> {
        Ok(consultation_link::Entity::find()
            .filter(consultation_link::Column::TokenSha256.eq(token_sha256))
            .one(&self.inner)
            .await?
            .map(link))
    }

    /// Marks the link with this token hash used, if it was not: `true` for the one
    /// caller that did. The conditional update is what makes a link single-use: of two
    /// concurrent answers, the second finds nothing left to update.
    pub async fn use_consultation_link(
        &self,
        consultation_id: ConsultationId,
        token_sha256: &str,
    ) -> Result<bool, StoreError> {
        let result = consultation_link::Entity::update_many()
            .col_expr(consultation_link::Column::Used, Expr::value(true))
            .filter(consultation_link::Column::ConsultationId.eq(consultation_id.get()))
            .filter(consultation_link::Column::TokenSha256.eq(token_sha256))
            .filter(consultation_link::Column::Used.eq(false))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Stores one answer set with its audience.
    pub async fn insert_consultation_answers(
        &self,
        consultation_id: ConsultationId,
        audience: Audience,
        answers: &Answers,
    ) -> Result<(), StoreError> {
        consultation_answer::ActiveModel {
            consultation_id: Set(consultation_id.get()),
            audience: Set(audience.as_str().to_owned()),
            answers: Set(answers
                .to_json()
                .map_err(|error| StoreError::Corrupt(format!("answers: {error}")))?),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        Ok(())
    }

    /// Every answer set of a consultation.
    pub async fn consultation_answers(
        &self,
        consultation_id: ConsultationId,
    ) -> Result<Vec<StoredAnswers>, StoreError> {
        records(
            consultation_answer::Entity::find()
                .filter(consultation_answer::Column::ConsultationId.eq(consultation_id.get()))
                .order_by_asc(consultation_answer::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }
}

fn link(row: consultation_link::Model) -> ConsultationLink {
    ConsultationLink {
        consultation_id: ConsultationId::new(row.consultation_id),
        organisation_id: OrganisationId::new(row.organisation_id),
        used: row.used,
    }
}
