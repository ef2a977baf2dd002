//! The reporting model's versions and the baseline survey's values.

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use patto_core::ids::{OrganisationId, PersonId};
use patto_core::reporting::{Decimal, StoredModel, SurveyEntry, SurveyValue};

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

impl TryFrom<reporting_model::Model> for StoredModel {
    type Error = StoreError;

    fn try_from(row: reporting_model::Model) -> Result<Self, StoreError> {
        Ok(StoredModel {
            version: version_of(row.version, "reporting_models", row.id)?,
            source: row.source,
            sha256: row.sha256,
            loaded_by: row.loaded_by.map(PersonId::new),
            loaded_at: row.loaded_at,
        })
    }
}

impl TryFrom<survey_value::Model> for SurveyValue {
    type Error = StoreError;

    fn try_from(row: survey_value::Model) -> Result<Self, StoreError> {
        let value = Decimal::parse(&row.value).map_err(|reason| {
            StoreError::Corrupt(format!("survey_values row {}: {reason}", row.id))
        })?;
        Ok(SurveyValue {
            organisation_id: OrganisationId::new(row.organisation_id),
            indicator: row.indicator_code,
            year: row.year,
            value,
            source: row.source,
            note: row.note,
            model_version: version_of(row.model_version, "survey_values", row.id)?,
            entered_by: row.entered_by.map(PersonId::new),
            entered_at: row.entered_at,
        })
    }
}

fn version_of(stored: i32, table: &str, id: i64) -> Result<u32, StoreError> {
    u32::try_from(stored)
        .map_err(|_| StoreError::Corrupt(format!("{table} row {id}: model version {stored}")))
}

fn stored_version(version: u32) -> Result<i32, StoreError> {
    i32::try_from(version)
        .map_err(|_| StoreError::Corrupt(format!("model version {version} is too large")))
}

/// What saving one survey value did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// No value existed for that organisation, indicator and year.
    Inserted,
    /// A value existed and was replaced.
    Replaced,
}

impl Tx {
    /// Stores a version of the reporting model.
    pub async fn insert_reporting_model(
        &self,
        version: u32,
        source: &str,
        sha256: &str,
        loaded_by: Option<PersonId>,
    ) -> Result<StoredModel, StoreError> {
        let model = reporting_model::ActiveModel {
            version: Set(stored_version(version)?),
            source: Set(source.to_owned()),
            sha256: Set(sha256.to_owned()),
            loaded_by: Set(loaded_by.map(PersonId::get)),
            loaded_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The stored model with this version.
    pub async fn reporting_model(&self, version: u32) -> Result<Option<StoredModel>, StoreError> {
        reporting_model::Entity::find()
            .filter(reporting_model::Column::Version.eq(stored_version(version)?))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every stored model, oldest version first.
    pub async fn reporting_models(&self) -> Result<Vec<StoredModel>, StoreError> {
        reporting_model::Entity::find()
            .order_by_asc(reporting_model::Column::Version)
            .all(&self.inner)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// The stored model with the highest version.
    pub async fn latest_reporting_model(&self) -> Result<Option<StoredModel>, StoreError> {
        reporting_model::Entity::find()
            .order_by_desc(reporting_model::Column::Version)
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Saves one survey value, replacing the value already stored for the same
    /// organisation, indicator and year.
    pub async fn save_survey_value(
        &self,
        organisation_id: OrganisationId,
        entry: &SurveyEntry,
        model_version: u32,
        entered_by: Option<PersonId>,
    ) -> Result<Saved, StoreError> {
        let existing = survey_value::Entity::find()
            .filter(survey_value::Column::OrganisationId.eq(organisation_id.get()))
            .filter(survey_value::Column::IndicatorCode.eq(entry.indicator.as_str()))
            .filter(survey_value::Column::Year.eq(entry.year))
            .one(&self.inner)
            .await?;
        let mut row = match &existing {
            Some(row) => survey_value::ActiveModel {
                id: Set(row.id),
                ..Default::default()
            },
            None => survey_value::ActiveModel {
                organisation_id: Set(organisation_id.get()),
                indicator_code: Set(entry.indicator.clone()),
                year: Set(entry.year),
                ..Default::default()
            },
        };
        row.value = Set(entry.value.as_str().to_owned());
        row.source = Set(entry.source.clone());
        row.note = Set(entry.note.clone());
        row.model_version = Set(stored_version(model_version)?);
        row.entered_by = Set(entered_by.map(PersonId::get));
        row.entered_at = Set(now());
        Ok(match existing {
            Some(_) => {
                row.update(&self.inner).await?;
                Saved::Replaced
            }
            None => {
                row.insert(&self.inner).await?;
                Saved::Inserted
            }
        })
    }

    /// The survey values of one organisation, or of all, ordered by organisation,
    /// indicator and year.
    pub async fn survey_values(
        &self,
        organisation_id: Option<OrganisationId>,
    ) -> Result<Vec<SurveyValue>, StoreError> {
        let mut query = survey_value::Entity::find();
        if let Some(id) = organisation_id {
            query = query.filter(survey_value::Column::OrganisationId.eq(id.get()));
        }
        records(
            query
                .order_by_asc(survey_value::Column::OrganisationId)
                .order_by_asc(survey_value::Column::IndicatorCode)
                .order_by_asc(survey_value::Column::Year)
                .all(&self.inner)
                .await?,
        )
    }

    /// Whether the person holds `role` in an organisation of `category` that shares a
    /// network with `organisation`: how a coalition's coordinators survey its Comuni, and
    /// how the Regione and the decision body act on a document.
    pub async fn holds_role_near(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
        category: &str,
        role: &str,
    ) -> Result<bool, StoreError> {
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(membership::Column::Role.eq(role))
            .filter(membership::Column::OrganisationId.in_subquery(Self::of_category(category)))
            .filter(
                membership::Column::OrganisationId
                    .in_subquery(Self::network_partners_of(organisation_id)),
            )
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    /// Whether the person is a coordinator of any organisation of category coalition.
    pub async fn coordinates_a_coalition(&self, person_id: PersonId) -> Result<bool, StoreError> {
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id.get()))
            .filter(membership::Column::Role.eq("coordinator"))
            .filter(membership::Column::OrganisationId.in_subquery(Self::of_category("coalition")))
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    pub(crate) fn of_category(category: &str) -> sea_orm::sea_query::SelectStatement {
        Query::select()
            .column(organisation::Column::Id)
            .from(organisation::Entity)
            .and_where(organisation::Column::Category.eq(category))
            .to_owned()
    }
}
