//! Queries for reading many documents at once: the pages the API shows, and what a
//! person is involved in, so that visibility is decided with a constant number of
//! statements however many documents a page holds.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use patto_core::ids::*;
use patto_core::records::*;

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

impl Tx {
    /// Every document, by id.
    pub async fn documents(&self) -> Result<Vec<Document>, StoreError> {
        records(
            document::Entity::find()
                .order_by_asc(document::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The documents with these ids, by id.
    pub async fn documents_by_ids(&self, ids: &[DocumentId]) -> Result<Vec<Document>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            document::Entity::find()
                .filter(document::Column::Id.is_in(ids.iter().map(|id| id.get())))
                .order_by_asc(document::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Every version of these documents, by document and number.
    pub async fn versions_of_documents(
        &self,
        ids: &[DocumentId],
    ) -> Result<Vec<DocumentVersion>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            document_version::Entity::find()
                .filter(document_version::Column::DocumentId.is_in(ids.iter().map(|id| id.get())))
                .order_by_asc(document_version::Column::DocumentId)
                .order_by_asc(document_version::Column::Number)
                .all(&self.inner)
                .await?,
        )
    }

    /// The signatories of these documents, by document and signing order.
    pub async fn signatories_of_documents(
        &self,
        ids: &[DocumentId],
    ) -> Result<Vec<Signatory>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            signatory::Entity::find()
                .filter(signatory::Column::DocumentId.is_in(ids.iter().map(|id| id.get())))
                .order_by_asc(signatory::Column::DocumentId)
                .order_by_asc(signatory::Column::Position)
                .all(&self.inner)
                .await?,
        )
    }

    /// Those of these documents whose workflow has ever fired a transition, that is has
    /// left its initial state at least once.
    pub async fn documents_ever_moved(
        &self,
        ids: &[DocumentId],
    ) -> Result<Vec<DocumentId>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let moved_instances = Query::select()
            .column(event::Column::InstanceId)
            .from(event::Entity)
            .and_where(Expr::col(event::Column::Kind).eq("transition"))
            .to_owned();
        let moved = workflow_instance::Entity::find()
            .select_only()
            .column(workflow_instance::Column::DocumentId)
            .filter(workflow_instance::Column::DocumentId.is_in(ids.iter().map(|id| id.get())))
            .filter(workflow_instance::Column::Id.in_subquery(moved_instances))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?;
        Ok(moved.into_iter().map(DocumentId::new).collect())
    }

    /// The working groups the person is a member of.
    pub async fn working_groups_of(
        &self,
        person_id: PersonId,
    ) -> Result<Vec<WorkingGroupId>, StoreError> {
        Ok(working_group_member::Entity::find()
            .select_only()
            .column(working_group_member::Column::WorkingGroupId)
            .filter(working_group_member::Column::PersonId.eq(person_id.get()))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?
            .into_iter()
            .map(WorkingGroupId::new)
            .collect())
    }

    /// The documents on whose signatory list the person is.
    pub async fn documents_signed_by(
        &self,
        person_id: PersonId,
    ) -> Result<Vec<DocumentId>, StoreError> {
        Ok(signatory::Entity::find()
            .select_only()
            .column(signatory::Column::DocumentId)
            .filter(signatory::Column::PersonId.eq(person_id.get()))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?
            .into_iter()
            .map(DocumentId::new)
            .collect())
    }

    /// The organisations that share a network with an organisation the person has a
    /// membership in (those organisations included when they are in a network).
    pub async fn partner_organisations_of(
        &self,
        person_id: PersonId,
    ) -> Result<Vec<OrganisationId>, StoreError> {
        let organisations_of_person = Query::select()
            .column(membership::Column::OrganisationId)
            .from(membership::Entity)
            .and_where(Expr::col(membership::Column::PersonId).eq(person_id.get()))
            .to_owned();
        let networks_of_person = Query::select()
            .column(network_member::Column::NetworkId)
            .from(network_member::Entity)
            .and_where(
                Expr::col(network_member::Column::OrganisationId)
                    .in_subquery(organisations_of_person),
            )
            .to_owned();
        Ok(network_member::Entity::find()
            .select_only()
            .column(network_member::Column::OrganisationId)
            .distinct()
            .filter(network_member::Column::NetworkId.in_subquery(networks_of_person))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?
            .into_iter()
            .map(OrganisationId::new)
            .collect())
    }

    /// The commitments of a document, by id.
    pub async fn commitments_of(
        &self,
        document_id: DocumentId,
    ) -> Result<Vec<Commitment>, StoreError> {
        records(
            commitment::Entity::find()
                .filter(commitment::Column::DocumentId.eq(document_id.get()))
                .order_by_asc(commitment::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The signing rounds on these documents, oldest first.
    pub async fn signing_rounds_of_documents(
        &self,
        ids: &[DocumentId],
    ) -> Result<Vec<SigningRound>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            signing_round::Entity::find()
                .filter(signing_round::Column::DocumentId.is_in(ids.iter().map(|id| id.get())))
                .order_by_asc(signing_round::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The requests of these signing rounds, by round and position.
    pub async fn signature_requests_of_rounds(
        &self,
        ids: &[SigningRoundId],
    ) -> Result<Vec<SignatureRequest>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            signature_request::Entity::find()
                .filter(signature_request::Column::RoundId.is_in(ids.iter().map(|id| id.get())))
                .order_by_asc(signature_request::Column::RoundId)
                .order_by_asc(signature_request::Column::Position)
                .all(&self.inner)
                .await?,
        )
    }

    /// The people with these ids, by id.
    pub async fn people_by_ids(&self, ids: Vec<PersonId>) -> Result<Vec<Person>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        records(
            person::Entity::find()
                .filter(person::Column::Id.is_in(ids.into_iter().map(PersonId::get)))
                .order_by_asc(person::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }
}
