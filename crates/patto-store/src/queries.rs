//! Every query the engine needs, as methods of [`Tx`], and the records they return.
//!
//! Records are the entities' plain data; other crates read them but cannot build queries
//! from them.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, CommonTableExpression, Expr, ExprTrait, Query, WithClause};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityName, EntityTrait,
    FromQueryResult, IdenStatic, Iterable, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Statement,
};

use crate::entities::*;
use crate::{Backend, StoreError, Tx};

pub type Organisation = organisation::Model;
pub type Person = person::Model;
pub type Membership = membership::Model;
pub type Network = network::Model;
pub type WorkingGroup = working_group::Model;
pub type Document = document::Model;
pub type DocumentVersion = document_version::Model;
pub type Comment = comment::Model;
pub type Signatory = signatory::Model;
pub type Commitment = commitment::Model;
pub type WorkflowDefinition = workflow_definition::Model;
pub type WorkflowInstance = workflow_instance::Model;
pub type Event = event::Model;
pub type OutboxMessage = outbox_message::Model;
pub type RecordedEffect = effect::Model;
pub type ReviewSchedule = review_schedule::Model;
pub type SigningRound = signing_round::Model;
pub type SignatureRequest = signature_request::Model;
pub type SigningKey = signing_key::Model;
pub type KeyEvent = key_event::Model;

pub struct NewOrganisation<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub category: &'a str,
    pub istat_code: Option<&'a str>,
}

pub struct NewDocument<'a> {
    pub kind: &'a str,
    pub slug: &'a str,
    pub title: &'a str,
    pub parent_id: Option<i64>,
    pub owner_organisation_id: i64,
    pub working_group_id: Option<i64>,
}

pub struct NewCommitment<'a> {
    pub document_id: i64,
    pub owner_organisation_id: Option<i64>,
    pub description: &'a str,
    pub due_date: Option<NaiveDate>,
    pub indicator: Option<&'a str>,
    pub target: Option<&'a str>,
    pub status: &'a str,
}

pub struct NewEvent<'a> {
    pub instance_id: i64,
    pub seq: i64,
    pub prev_hash: &'a str,
    pub hash: &'a str,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub payload: &'a str,
    pub recorded_at: DateTime<Utc>,
}

pub struct NewOutboxMessage<'a> {
    pub message_id: &'a str,
    pub instance_id: Option<i64>,
    pub event_seq: Option<i64>,
    pub person_id: i64,
    pub recipient: &'a str,
    pub language: &'a str,
    pub template: &'a str,
    pub payload: &'a str,
}

/// Signature requests of the open round of an instance, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureCounts {
    pub required: u64,
    pub signed: u64,
}

/// Commitments of a document, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentCounts {
    pub total: u64,
    /// Commitments with no owner organisation or no due date.
    pub unassigned: u64,
}

/// Outbox rows still to be sent (or sent, or given up on).
pub const OUTBOX_PENDING: &str = "pending";
pub const ROUND_OPEN: &str = "open";
pub const REQUEST_PENDING: &str = "pending";
pub const REQUEST_SIGNED: &str = "signed";
pub const REQUEST_DECLINED: &str = "declined";
pub const KEY_PENDING: &str = "pending";
pub const KEY_APPROVED: &str = "approved";
pub const KEY_ROTATED: &str = "rotated";
pub const KEY_REVOKED: &str = "revoked";
/// The name of the key registry's chain in `chain_heads`.
const KEY_CHAIN: &str = "keys";

pub struct NewKeyEvent<'a> {
    pub seq: i64,
    pub prev_hash: &'a str,
    pub hash: &'a str,
    pub kind: &'a str,
    pub actor_id: Option<i64>,
    pub payload: &'a str,
    pub recorded_at: DateTime<Utc>,
}

/// A signature to record on a pending request.
pub struct NewSignature<'a> {
    pub request_id: i64,
    pub statement: &'a str,
    pub signature: &'a str,
    pub key_id: i64,
}

/// Pending outbox rows, to be sent from now on.
fn outbox_models<'a>(
    messages: &'a [NewOutboxMessage<'a>],
) -> impl Iterator<Item = outbox_message::ActiveModel> + 'a {
    let created_at = now();
    messages.iter().map(move |new| outbox_message::ActiveModel {
        message_id: Set(new.message_id.to_owned()),
        instance_id: Set(new.instance_id),
        event_seq: Set(new.event_seq),
        person_id: Set(new.person_id),
        recipient: Set(new.recipient.to_owned()),
        language: Set(new.language.to_owned()),
        template: Set(new.template.to_owned()),
        payload: Set(new.payload.to_owned()),
        status: Set(OUTBOX_PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(created_at),
        last_error: Set(None),
        created_at: Set(created_at),
        sent_at: Set(None),
        ..Default::default()
    })
}

/// Column prefixes of a row that holds a document and its instance side by side.
const DOCUMENT_PREFIX: &str = "document_";
const INSTANCE_PREFIX: &str = "instance_";

fn now() -> DateTime<Utc> {
    Utc::now()
}

impl Tx {
    // --- organisations, people, memberships ---

    pub async fn insert_organisation(
        &self,
        new: NewOrganisation<'_>,
    ) -> Result<Organisation, StoreError> {
        let model = organisation::ActiveModel {
            slug: Set(new.slug.to_owned()),
            name: Set(new.name.to_owned()),
            category: Set(new.category.to_owned()),
            istat_code: Set(new.istat_code.map(str::to_owned)),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    /// Saves an organisation's changed name, category and ISTAT code.
    pub async fn update_organisation(&self, changed: &Organisation) -> Result<(), StoreError> {
        organisation::Entity::update_many()
            .col_expr(
                organisation::Column::Name,
                Expr::value(changed.name.clone()),
            )
            .col_expr(
                organisation::Column::Category,
                Expr::value(changed.category.clone()),
            )
            .col_expr(
                organisation::Column::IstatCode,
                Expr::value(changed.istat_code.clone()),
            )
            .filter(organisation::Column::Id.eq(changed.id))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    pub async fn organisation(&self, id: i64) -> Result<Option<Organisation>, StoreError> {
        Ok(organisation::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    pub async fn organisation_by_slug(
        &self,
        slug: &str,
    ) -> Result<Option<Organisation>, StoreError> {
        Ok(organisation::Entity::find()
            .filter(organisation::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?)
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        Ok(organisation::Entity::find()
            .order_by_asc(organisation::Column::Name)
            .all(&self.inner)
            .await?)
    }

    pub async fn organisation_count(&self) -> Result<u64, StoreError> {
        Ok(organisation::Entity::find().count(&self.inner).await?)
    }

    pub async fn insert_person(
        &self,
        email: &str,
        name: &str,
        language: &str,
    ) -> Result<Person, StoreError> {
        let model = person::ActiveModel {
            email: Set(email.to_owned()),
            name: Set(name.to_owned()),
            language: Set(language.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    /// Saves a person's changed name and language.
    pub async fn update_person(&self, changed: &Person) -> Result<(), StoreError> {
        person::Entity::update_many()
            .col_expr(person::Column::Name, Expr::value(changed.name.clone()))
            .col_expr(
                person::Column::Language,
                Expr::value(changed.language.clone()),
            )
            .filter(person::Column::Id.eq(changed.id))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    pub async fn person(&self, id: i64) -> Result<Option<Person>, StoreError> {
        Ok(person::Entity::find_by_id(id).one(&self.inner).await?)
    }

    pub async fn person_by_email(&self, email: &str) -> Result<Option<Person>, StoreError> {
        Ok(person::Entity::find()
            .filter(person::Column::Email.eq(email))
            .one(&self.inner)
            .await?)
    }

    pub async fn people_by_ids(&self, ids: Vec<i64>) -> Result<Vec<Person>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(person::Entity::find()
            .filter(person::Column::Id.is_in(ids))
            .order_by_asc(person::Column::Id)
            .all(&self.inner)
            .await?)
    }

    pub async fn insert_membership(
        &self,
        person_id: i64,
        organisation_id: i64,
        role: &str,
    ) -> Result<Membership, StoreError> {
        let model = membership::ActiveModel {
            person_id: Set(person_id),
            organisation_id: Set(organisation_id),
            role: Set(role.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    /// Removes a membership; `false` when there was none.
    pub async fn delete_membership(
        &self,
        person_id: i64,
        organisation_id: i64,
        role: &str,
    ) -> Result<bool, StoreError> {
        let result = membership::Entity::delete_many()
            .filter(membership::Column::PersonId.eq(person_id))
            .filter(membership::Column::OrganisationId.eq(organisation_id))
            .filter(membership::Column::Role.eq(role))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn memberships_of(&self, person_id: i64) -> Result<Vec<Membership>, StoreError> {
        Ok(membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id))
            .all(&self.inner)
            .await?)
    }

    /// People holding `role` in the organisation, or in any organisation when `None`.
    pub async fn people_with_role(
        &self,
        role: &str,
        organisation_id: Option<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut query = membership::Entity::find()
            .select_only()
            .column(membership::Column::PersonId)
            .distinct()
            .filter(membership::Column::Role.eq(role));
        if let Some(organisation_id) = organisation_id {
            query = query.filter(membership::Column::OrganisationId.eq(organisation_id));
        }
        Ok(query.into_tuple::<i64>().all(&self.inner).await?)
    }

    // --- the partner network ---

    pub async fn insert_network(&self, slug: &str, name: &str) -> Result<Network, StoreError> {
        let model = network::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(name.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn network_by_slug(&self, slug: &str) -> Result<Option<Network>, StoreError> {
        Ok(network::Entity::find()
            .filter(network::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?)
    }

    pub async fn insert_network_member(
        &self,
        network_id: i64,
        organisation_id: i64,
    ) -> Result<(), StoreError> {
        let model = network_member::ActiveModel {
            network_id: Set(network_id),
            organisation_id: Set(organisation_id),
            joined_at: Set(now()),
            ..Default::default()
        };
        model.insert(&self.inner).await?;
        Ok(())
    }

    /// Everyone with a membership in an organisation that belongs to a partner network.
    pub async fn network_people(&self) -> Result<Vec<i64>, StoreError> {
        let in_network = Query::select()
            .column(network_member::Column::OrganisationId)
            .from(network_member::Entity)
            .to_owned();
        Ok(membership::Entity::find()
            .select_only()
            .column(membership::Column::PersonId)
            .distinct()
            .filter(membership::Column::OrganisationId.in_subquery(in_network))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?)
    }

    /// Whether the person has a membership in an organisation of a partner network.
    pub async fn person_in_network(&self, person_id: i64) -> Result<bool, StoreError> {
        let in_network = Query::select()
            .column(network_member::Column::OrganisationId)
            .from(network_member::Entity)
            .to_owned();
        let count = membership::Entity::find()
            .filter(membership::Column::PersonId.eq(person_id))
            .filter(membership::Column::OrganisationId.in_subquery(in_network))
            .count(&self.inner)
            .await?;
        Ok(count > 0)
    }

    // --- working groups ---

    pub async fn insert_working_group(
        &self,
        slug: &str,
        name: &str,
    ) -> Result<WorkingGroup, StoreError> {
        let model = working_group::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(name.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn working_group(&self, id: i64) -> Result<Option<WorkingGroup>, StoreError> {
        Ok(working_group::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    pub async fn insert_working_group_member(
        &self,
        working_group_id: i64,
        person_id: i64,
    ) -> Result<(), StoreError> {
        let model = working_group_member::ActiveModel {
            working_group_id: Set(working_group_id),
            person_id: Set(person_id),
            joined_at: Set(now()),
            ..Default::default()
        };
        model.insert(&self.inner).await?;
        Ok(())
    }

    /// Removes a person from a working group; `false` when they were not in it.
    pub async fn delete_working_group_member(
        &self,
        working_group_id: i64,
        person_id: i64,
    ) -> Result<bool, StoreError> {
        let result = working_group_member::Entity::delete_many()
            .filter(working_group_member::Column::WorkingGroupId.eq(working_group_id))
            .filter(working_group_member::Column::PersonId.eq(person_id))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn working_group_members(
        &self,
        working_group_id: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(working_group_member::Entity::find()
            .select_only()
            .column(working_group_member::Column::PersonId)
            .filter(working_group_member::Column::WorkingGroupId.eq(working_group_id))
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?)
    }

    // --- documents, versions, comments ---

    pub async fn insert_document(&self, new: NewDocument<'_>) -> Result<Document, StoreError> {
        let model = document::ActiveModel {
            kind: Set(new.kind.to_owned()),
            slug: Set(new.slug.to_owned()),
            title: Set(new.title.to_owned()),
            parent_id: Set(new.parent_id),
            owner_organisation_id: Set(new.owner_organisation_id),
            working_group_id: Set(new.working_group_id),
            published_version: Set(None),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn document(&self, id: i64) -> Result<Option<Document>, StoreError> {
        Ok(document::Entity::find_by_id(id).one(&self.inner).await?)
    }

    pub async fn document_by_slug(&self, slug: &str) -> Result<Option<Document>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?)
    }

    pub async fn child_documents(&self, parent_id: i64) -> Result<Vec<Document>, StoreError> {
        Ok(document::Entity::find()
            .filter(document::Column::ParentId.eq(parent_id))
            .order_by_asc(document::Column::Id)
            .all(&self.inner)
            .await?)
    }

    pub async fn set_document_title(
        &self,
        document_id: i64,
        title: &str,
    ) -> Result<(), StoreError> {
        document::Entity::update_many()
            .col_expr(document::Column::Title, Expr::value(title))
            .filter(document::Column::Id.eq(document_id))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    pub async fn set_published_version(
        &self,
        document_id: i64,
        version: Option<i32>,
    ) -> Result<(), StoreError> {
        document::Entity::update_many()
            .col_expr(document::Column::PublishedVersion, Expr::value(version))
            .filter(document::Column::Id.eq(document_id))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    pub async fn insert_version(
        &self,
        document_id: i64,
        number: i32,
        content: Vec<u8>,
        content_sha256: &str,
        author_id: i64,
    ) -> Result<DocumentVersion, StoreError> {
        let model = document_version::ActiveModel {
            document_id: Set(document_id),
            number: Set(number),
            content: Set(content),
            content_sha256: Set(content_sha256.to_owned()),
            author_id: Set(author_id),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn latest_version(
        &self,
        document_id: i64,
    ) -> Result<Option<DocumentVersion>, StoreError> {
        Ok(document_version::Entity::find()
            .filter(document_version::Column::DocumentId.eq(document_id))
            .order_by_desc(document_version::Column::Number)
            .one(&self.inner)
            .await?)
    }

    /// The id and number of the latest version of a document, without its content.
    pub async fn latest_version_number(
        &self,
        document_id: i64,
    ) -> Result<Option<(i64, i32)>, StoreError> {
        Ok(document_version::Entity::find()
            .select_only()
            .column(document_version::Column::Id)
            .column(document_version::Column::Number)
            .filter(document_version::Column::DocumentId.eq(document_id))
            .order_by_desc(document_version::Column::Number)
            .into_tuple::<(i64, i32)>()
            .one(&self.inner)
            .await?)
    }

    pub async fn version_by_number(
        &self,
        document_id: i64,
        number: i32,
    ) -> Result<Option<DocumentVersion>, StoreError> {
        Ok(document_version::Entity::find()
            .filter(document_version::Column::DocumentId.eq(document_id))
            .filter(document_version::Column::Number.eq(number))
            .one(&self.inner)
            .await?)
    }

    pub async fn version(&self, id: i64) -> Result<Option<DocumentVersion>, StoreError> {
        Ok(document_version::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    pub async fn insert_comment(
        &self,
        version_id: i64,
        author_id: i64,
        body: &str,
    ) -> Result<Comment, StoreError> {
        let model = comment::ActiveModel {
            version_id: Set(version_id),
            author_id: Set(author_id),
            body: Set(body.to_owned()),
            resolved_by: Set(None),
            resolved_at: Set(None),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn comment(&self, id: i64) -> Result<Option<Comment>, StoreError> {
        Ok(comment::Entity::find_by_id(id).one(&self.inner).await?)
    }

    pub async fn comments_on_version(&self, version_id: i64) -> Result<Vec<Comment>, StoreError> {
        Ok(comment::Entity::find()
            .filter(comment::Column::VersionId.eq(version_id))
            .order_by_asc(comment::Column::Id)
            .all(&self.inner)
            .await?)
    }

    /// Marks a comment resolved; `false` when it was already resolved.
    pub async fn resolve_comment(&self, id: i64, by: i64) -> Result<bool, StoreError> {
        let result = comment::Entity::update_many()
            .col_expr(comment::Column::ResolvedBy, Expr::value(by))
            .col_expr(comment::Column::ResolvedAt, Expr::value(now()))
            .filter(comment::Column::Id.eq(id))
            .filter(comment::Column::ResolvedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn unresolved_comment_count(&self, version_id: i64) -> Result<u64, StoreError> {
        Ok(comment::Entity::find()
            .filter(comment::Column::VersionId.eq(version_id))
            .filter(comment::Column::ResolvedAt.is_null())
            .count(&self.inner)
            .await?)
    }

    // --- signatories and commitments ---

    /// Replaces the signatory list of a document; `signatories` are (organisation, person)
    /// in signing order.
    pub async fn replace_signatories(
        &self,
        document_id: i64,
        signatories: &[(i64, i64)],
    ) -> Result<(), StoreError> {
        signatory::Entity::delete_many()
            .filter(signatory::Column::DocumentId.eq(document_id))
            .exec(&self.inner)
            .await?;
        for (position, (organisation_id, person_id)) in signatories.iter().enumerate() {
            let position = i32::try_from(position)
                .map_err(|_| StoreError::Corrupt("too many signatories".to_owned()))?;
            let model = signatory::ActiveModel {
                document_id: Set(document_id),
                organisation_id: Set(*organisation_id),
                person_id: Set(*person_id),
                position: Set(position + 1),
                ..Default::default()
            };
            model.insert(&self.inner).await?;
        }
        Ok(())
    }

    pub async fn signatories(&self, document_id: i64) -> Result<Vec<Signatory>, StoreError> {
        Ok(signatory::Entity::find()
            .filter(signatory::Column::DocumentId.eq(document_id))
            .order_by_asc(signatory::Column::Position)
            .all(&self.inner)
            .await?)
    }

    pub async fn insert_commitment(
        &self,
        new: NewCommitment<'_>,
    ) -> Result<Commitment, StoreError> {
        let model = commitment::ActiveModel {
            document_id: Set(new.document_id),
            owner_organisation_id: Set(new.owner_organisation_id),
            description: Set(new.description.to_owned()),
            due_date: Set(new.due_date),
            indicator: Set(new.indicator.map(str::to_owned)),
            target: Set(new.target.map(str::to_owned)),
            status: Set(new.status.to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn commitment(&self, id: i64) -> Result<Option<Commitment>, StoreError> {
        Ok(commitment::Entity::find_by_id(id).one(&self.inner).await?)
    }

    /// Saves the changed owner, due date and status of a commitment.
    pub async fn update_commitment(&self, changed: &Commitment) -> Result<(), StoreError> {
        commitment::Entity::update_many()
            .col_expr(
                commitment::Column::OwnerOrganisationId,
                Expr::value(changed.owner_organisation_id),
            )
            .col_expr(commitment::Column::DueDate, Expr::value(changed.due_date))
            .col_expr(
                commitment::Column::Status,
                Expr::value(changed.status.clone()),
            )
            .col_expr(commitment::Column::UpdatedAt, Expr::value(now()))
            .filter(commitment::Column::Id.eq(changed.id))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    pub async fn commitment_counts(
        &self,
        document_id: i64,
    ) -> Result<CommitmentCounts, StoreError> {
        let total = commitment::Entity::find()
            .filter(commitment::Column::DocumentId.eq(document_id))
            .count(&self.inner)
            .await?;
        let unassigned = commitment::Entity::find()
            .filter(commitment::Column::DocumentId.eq(document_id))
            .filter(
                commitment::Column::OwnerOrganisationId
                    .is_null()
                    .or(commitment::Column::DueDate.is_null()),
            )
            .count(&self.inner)
            .await?;
        Ok(CommitmentCounts { total, unassigned })
    }

    // --- workflow definitions and instances ---

    pub async fn workflow_definition(
        &self,
        name: &str,
        version: i32,
    ) -> Result<Option<WorkflowDefinition>, StoreError> {
        Ok(workflow_definition::Entity::find()
            .filter(workflow_definition::Column::Name.eq(name))
            .filter(workflow_definition::Column::Version.eq(version))
            .one(&self.inner)
            .await?)
    }

    pub async fn insert_workflow_definition(
        &self,
        name: &str,
        version: i32,
        source: &str,
        sha256: &str,
    ) -> Result<WorkflowDefinition, StoreError> {
        let model = workflow_definition::ActiveModel {
            name: Set(name.to_owned()),
            version: Set(version),
            source: Set(source.to_owned()),
            sha256: Set(sha256.to_owned()),
            registered_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn insert_instance(
        &self,
        document_id: i64,
        definition_name: &str,
        definition_version: i32,
        state: &str,
        genesis_hash: &str,
    ) -> Result<WorkflowInstance, StoreError> {
        let model = workflow_instance::ActiveModel {
            document_id: Set(document_id),
            definition_name: Set(definition_name.to_owned()),
            definition_version: Set(definition_version),
            state: Set(state.to_owned()),
            version: Set(1),
            event_count: Set(0),
            head_hash: Set(genesis_hash.to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn instance(&self, id: i64) -> Result<Option<WorkflowInstance>, StoreError> {
        Ok(workflow_instance::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    /// The instance of a document, with its row locked until the transaction ends
    /// (PostgreSQL); on SQLite the write transaction already holds the database lock.
    pub async fn instance_of_document_for_update(
        &self,
        document_id: i64,
    ) -> Result<Option<WorkflowInstance>, StoreError> {
        let mut query = workflow_instance::Entity::find()
            .filter(workflow_instance::Column::DocumentId.eq(document_id));
        if self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        Ok(query.one(&self.inner).await?)
    }

    pub async fn instance_of_document(
        &self,
        document_id: i64,
    ) -> Result<Option<WorkflowInstance>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::DocumentId.eq(document_id))
            .one(&self.inner)
            .await?)
    }

    pub async fn instance_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .select_only()
            .column(workflow_instance::Column::Id)
            .order_by_asc(workflow_instance::Column::Id)
            .into_tuple::<i64>()
            .all(&self.inner)
            .await?)
    }

    /// Takes the instance for a state change if it is still at `expected_version`, and
    /// moves it to the next version. `false` means someone else changed it first (or it
    /// does not exist). The conditional UPDATE is what makes two concurrent firings
    /// exclusive on both backends: the loser's WHERE no longer matches.
    pub async fn claim_instance(&self, id: i64, expected_version: i64) -> Result<bool, StoreError> {
        let result = workflow_instance::Entity::update_many()
            .col_expr(
                workflow_instance::Column::Version,
                Expr::col(workflow_instance::Column::Version).add(1),
            )
            .col_expr(workflow_instance::Column::UpdatedAt, Expr::value(now()))
            .filter(workflow_instance::Column::Id.eq(id))
            .filter(workflow_instance::Column::Version.eq(expected_version))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Claims the instance of a document like [`Tx::claim_instance`] and returns the
    /// document with the instance as the claim left it; `None` when the instance is no
    /// longer at `expected_version` or there is no such document or instance. It is one
    /// statement, one round trip: on PostgreSQL the claim's `UPDATE ... RETURNING` is a
    /// common table expression of the document's SELECT; SQLite has no UPDATE in a
    /// common table expression, but its RETURNING clause may hold subqueries, one per
    /// column of the document.
    pub async fn claim_document_instance(
        &self,
        document_id: i64,
        expected_version: i64,
    ) -> Result<Option<(Document, WorkflowInstance)>, StoreError> {
        let backend = self.inner.get_database_backend();
        let statement = match self.backend {
            Backend::Sqlite => {
                let instances = workflow_instance::Entity.table_name();
                let documents = document::Entity.table_name();
                let returned = workflow_instance::Column::iter()
                    .map(|column| {
                        let column = column.as_str();
                        format!(r#""{column}" AS "{INSTANCE_PREFIX}{column}""#)
                    })
                    .chain(document::Column::iter().map(|column| {
                        let column = column.as_str();
                        format!(
                            r#"(SELECT "{column}" FROM "{documents}" WHERE "{documents}"."id" = "{instances}"."document_id") AS "{DOCUMENT_PREFIX}{column}""#
                        )
                    }))
                    .collect::<Vec<_>>()
                    .join(", ");
                Statement::from_sql_and_values(
                    backend,
                    format!(
                        r#"UPDATE "{instances}" SET "version" = "version" + 1, "updated_at" = ? WHERE "document_id" = ? AND "version" = ? RETURNING {returned}"#
                    ),
                    [now().into(), document_id.into(), expected_version.into()],
                )
            }
            Backend::Postgres => {
                let mut claim = Query::update();
                claim
                    .table(workflow_instance::Entity)
                    .value(
                        workflow_instance::Column::Version,
                        Expr::col(workflow_instance::Column::Version).add(1),
                    )
                    .value(workflow_instance::Column::UpdatedAt, now())
                    .and_where(workflow_instance::Column::DocumentId.eq(document_id))
                    .and_where(workflow_instance::Column::Version.eq(expected_version))
                    .returning_all();
                let claimed = Alias::new("claimed");
                let mut select = Query::select();
                for column in document::Column::iter() {
                    select.expr_as(
                        Expr::col((document::Entity, column)),
                        Alias::new(format!("{DOCUMENT_PREFIX}{}", column.as_str())),
                    );
                }
                for column in workflow_instance::Column::iter() {
                    select.expr_as(
                        Expr::col((claimed.clone(), column)),
                        Alias::new(format!("{INSTANCE_PREFIX}{}", column.as_str())),
                    );
                }
                select.from(document::Entity).inner_join(
                    claimed.clone(),
                    Expr::col((claimed.clone(), workflow_instance::Column::DocumentId))
                        .equals((document::Entity, document::Column::Id)),
                );
                backend.build(
                    &select.with(
                        WithClause::new()
                            .cte(
                                CommonTableExpression::new()
                                    .query(claim)
                                    .table_name(claimed)
                                    .to_owned(),
                            )
                            .to_owned(),
                    ),
                )
            }
        };
        let Some(row) = self.inner.query_one_raw(statement).await? else {
            return Ok(None);
        };
        Ok(Some((
            Document::from_query_result(&row, DOCUMENT_PREFIX)?,
            WorkflowInstance::from_query_result(&row, INSTANCE_PREFIX)?,
        )))
    }

    // --- the event log ---

    /// Appends an event and moves the instance's chain head to it, with the outbox rows
    /// the event causes, and moves the instance to `state` when one is given. Events are
    /// never updated or deleted: there is no query here that would. On PostgreSQL it is
    /// one statement (the instance UPDATE and the outbox INSERT as common table
    /// expressions of the event INSERT), one round trip.
    pub async fn append_event(
        &self,
        new: NewEvent<'_>,
        state: Option<&str>,
        outbox: &[NewOutboxMessage<'_>],
    ) -> Result<Event, StoreError> {
        let mut head = Query::update();
        head.table(workflow_instance::Entity)
            .value(workflow_instance::Column::EventCount, new.seq)
            .value(workflow_instance::Column::HeadHash, new.hash)
            .value(workflow_instance::Column::UpdatedAt, now())
            .and_where(workflow_instance::Column::Id.eq(new.instance_id));
        if let Some(state) = state {
            head.value(workflow_instance::Column::State, state);
        }
        let model = event::ActiveModel {
            instance_id: Set(new.instance_id),
            seq: Set(new.seq),
            prev_hash: Set(new.prev_hash.to_owned()),
            hash: Set(new.hash.to_owned()),
            kind: Set(new.kind.to_owned()),
            actor_id: Set(new.actor_id),
            payload: Set(new.payload.to_owned()),
            recorded_at: Set(new.recorded_at),
            ..Default::default()
        };
        match self.backend {
            Backend::Sqlite => {
                let inserted = model.insert(&self.inner).await?;
                self.inner.execute(&head).await?;
                self.insert_outbox_messages(outbox).await?;
                Ok(inserted)
            }
            Backend::Postgres => {
                let mut insert = event::Entity::insert(model).into_query();
                insert.returning_all();
                let mut with = WithClause::new();
                with.cte(
                    CommonTableExpression::new()
                        .query(head)
                        .table_name("moved_head")
                        .to_owned(),
                );
                if !outbox.is_empty() {
                    with.cte(
                        CommonTableExpression::new()
                            .query(
                                outbox_message::Entity::insert_many(outbox_models(outbox))
                                    .into_query(),
                            )
                            .table_name("queued_messages")
                            .to_owned(),
                    );
                }
                let statement = self.inner.get_database_backend().build(&insert.with(with));
                event::Entity::find()
                    .from_raw_sql(statement)
                    .one(&self.inner)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("an appended event was not returned".into()))
            }
        }
    }

    /// The events of an instance in the order they are stored (by sequence number).
    pub async fn events(&self, instance_id: i64) -> Result<Vec<Event>, StoreError> {
        Ok(event::Entity::find()
            .filter(event::Column::InstanceId.eq(instance_id))
            .order_by_asc(event::Column::Seq)
            .order_by_asc(event::Column::Id)
            .all(&self.inner)
            .await?)
    }

    // --- effects: outbox, recorded effects, review schedules, signing rounds ---

    /// Inserts outbox rows, all in one statement.
    pub async fn insert_outbox_messages(
        &self,
        messages: &[NewOutboxMessage<'_>],
    ) -> Result<(), StoreError> {
        if messages.is_empty() {
            return Ok(());
        }
        outbox_message::Entity::insert_many(outbox_models(messages))
            .exec_without_returning(&self.inner)
            .await?;
        Ok(())
    }

    /// Outbox rows, newest last; only those of one instance when given.
    pub async fn outbox(&self, instance_id: Option<i64>) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut query = outbox_message::Entity::find().order_by_asc(outbox_message::Column::Id);
        if let Some(instance_id) = instance_id {
            query = query.filter(outbox_message::Column::InstanceId.eq(instance_id));
        }
        Ok(query.all(&self.inner).await?)
    }

    pub async fn insert_effect(
        &self,
        instance_id: i64,
        event_seq: i64,
        kind: &str,
        params: &str,
    ) -> Result<RecordedEffect, StoreError> {
        let model = effect::ActiveModel {
            instance_id: Set(instance_id),
            event_seq: Set(event_seq),
            kind: Set(kind.to_owned()),
            params: Set(params.to_owned()),
            created_at: Set(now()),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn effects(&self, instance_id: i64) -> Result<Vec<RecordedEffect>, StoreError> {
        Ok(effect::Entity::find()
            .filter(effect::Column::InstanceId.eq(instance_id))
            .order_by_asc(effect::Column::Id)
            .all(&self.inner)
            .await?)
    }

    pub async fn insert_review_schedule(
        &self,
        instance_id: i64,
        cron: &str,
        time_zone: &str,
    ) -> Result<ReviewSchedule, StoreError> {
        let model = review_schedule::ActiveModel {
            instance_id: Set(instance_id),
            cron: Set(cron.to_owned()),
            time_zone: Set(time_zone.to_owned()),
            active: Set(true),
            created_at: Set(now()),
            stopped_at: Set(None),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    /// Stops every active review schedule of the instance; returns how many were stopped.
    pub async fn stop_review_schedules(&self, instance_id: i64) -> Result<u64, StoreError> {
        let result = review_schedule::Entity::update_many()
            .col_expr(review_schedule::Column::Active, Expr::value(false))
            .col_expr(review_schedule::Column::StoppedAt, Expr::value(now()))
            .filter(review_schedule::Column::InstanceId.eq(instance_id))
            .filter(review_schedule::Column::Active.eq(true))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    pub async fn review_schedules(
        &self,
        instance_id: i64,
    ) -> Result<Vec<ReviewSchedule>, StoreError> {
        Ok(review_schedule::Entity::find()
            .filter(review_schedule::Column::InstanceId.eq(instance_id))
            .order_by_asc(review_schedule::Column::Id)
            .all(&self.inner)
            .await?)
    }

    /// Opens a signing round on a frozen version with one pending request per signatory.
    pub async fn open_signing_round(
        &self,
        instance_id: i64,
        document_id: i64,
        version_number: i32,
        intent: &str,
        signing_order: &str,
        signatories: &[Signatory],
    ) -> Result<SigningRound, StoreError> {
        let round = signing_round::ActiveModel {
            instance_id: Set(instance_id),
            document_id: Set(document_id),
            version_number: Set(version_number),
            intent: Set(intent.to_owned()),
            signing_order: Set(signing_order.to_owned()),
            status: Set(ROUND_OPEN.to_owned()),
            opened_at: Set(now()),
            closed_at: Set(None),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        let created_at = round.opened_at;
        for signatory in signatories {
            signature_request::ActiveModel {
                round_id: Set(round.id),
                organisation_id: Set(signatory.organisation_id),
                person_id: Set(signatory.person_id),
                position: Set(signatory.position),
                status: Set(REQUEST_PENDING.to_owned()),
                created_at: Set(created_at),
                decided_at: Set(None),
                statement: Set(None),
                signature: Set(None),
                key_id: Set(None),
                reason: Set(None),
                ..Default::default()
            }
            .insert(&self.inner)
            .await?;
        }
        Ok(round)
    }

    pub async fn open_signing_round_of(
        &self,
        instance_id: i64,
    ) -> Result<Option<SigningRound>, StoreError> {
        Ok(signing_round::Entity::find()
            .filter(signing_round::Column::InstanceId.eq(instance_id))
            .filter(signing_round::Column::Status.eq(ROUND_OPEN))
            .order_by_desc(signing_round::Column::Id)
            .one(&self.inner)
            .await?)
    }

    pub async fn signature_requests(
        &self,
        round_id: i64,
    ) -> Result<Vec<SignatureRequest>, StoreError> {
        Ok(signature_request::Entity::find()
            .filter(signature_request::Column::RoundId.eq(round_id))
            .order_by_asc(signature_request::Column::Position)
            .all(&self.inner)
            .await?)
    }

    pub async fn signature_counts(&self, round_id: i64) -> Result<SignatureCounts, StoreError> {
        let required = signature_request::Entity::find()
            .filter(signature_request::Column::RoundId.eq(round_id))
            .count(&self.inner)
            .await?;
        let signed = signature_request::Entity::find()
            .filter(signature_request::Column::RoundId.eq(round_id))
            .filter(signature_request::Column::Status.eq(REQUEST_SIGNED))
            .count(&self.inner)
            .await?;
        Ok(SignatureCounts { required, signed })
    }

    /// Closes the open round of an instance with `status` (e.g. completed, cancelled).
    pub async fn close_signing_rounds(
        &self,
        instance_id: i64,
        status: &str,
    ) -> Result<u64, StoreError> {
        let result = signing_round::Entity::update_many()
            .col_expr(signing_round::Column::Status, Expr::value(status))
            .col_expr(signing_round::Column::ClosedAt, Expr::value(now()))
            .filter(signing_round::Column::InstanceId.eq(instance_id))
            .filter(signing_round::Column::Status.eq(ROUND_OPEN))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    pub async fn signing_round(&self, id: i64) -> Result<Option<SigningRound>, StoreError> {
        Ok(signing_round::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    pub async fn signing_rounds_of(
        &self,
        instance_id: i64,
    ) -> Result<Vec<SigningRound>, StoreError> {
        Ok(signing_round::Entity::find()
            .filter(signing_round::Column::InstanceId.eq(instance_id))
            .order_by_asc(signing_round::Column::Id)
            .all(&self.inner)
            .await?)
    }

    pub async fn signature_request(&self, id: i64) -> Result<Option<SignatureRequest>, StoreError> {
        Ok(signature_request::Entity::find_by_id(id)
            .one(&self.inner)
            .await?)
    }

    /// Records a signature on a request still pending; `false` when it no longer is.
    pub async fn record_signature(&self, new: NewSignature<'_>) -> Result<bool, StoreError> {
        let result = signature_request::Entity::update_many()
            .col_expr(
                signature_request::Column::Status,
                Expr::value(REQUEST_SIGNED),
            )
            .col_expr(signature_request::Column::DecidedAt, Expr::value(now()))
            .col_expr(
                signature_request::Column::Statement,
                Expr::value(new.statement),
            )
            .col_expr(
                signature_request::Column::Signature,
                Expr::value(new.signature),
            )
            .col_expr(signature_request::Column::KeyId, Expr::value(new.key_id))
            .filter(signature_request::Column::Id.eq(new.request_id))
            .filter(signature_request::Column::Status.eq(REQUEST_PENDING))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that a signatory declined; `false` when the request is no longer pending.
    pub async fn decline_request(&self, id: i64, reason: &str) -> Result<bool, StoreError> {
        let result = signature_request::Entity::update_many()
            .col_expr(
                signature_request::Column::Status,
                Expr::value(REQUEST_DECLINED),
            )
            .col_expr(signature_request::Column::DecidedAt, Expr::value(now()))
            .col_expr(signature_request::Column::Reason, Expr::value(reason))
            .filter(signature_request::Column::Id.eq(id))
            .filter(signature_request::Column::Status.eq(REQUEST_PENDING))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    // --- signing keys and their chain ---

    pub async fn insert_signing_key(
        &self,
        person_id: i64,
        public_key: &str,
        fingerprint: &str,
    ) -> Result<SigningKey, StoreError> {
        let model = signing_key::ActiveModel {
            person_id: Set(person_id),
            public_key: Set(public_key.to_owned()),
            fingerprint: Set(fingerprint.to_owned()),
            status: Set(KEY_PENDING.to_owned()),
            registered_at: Set(now()),
            approved_by: Set(None),
            approved_at: Set(None),
            rotated_at: Set(None),
            replaced_by: Set(None),
            revoked_at: Set(None),
            revoke_reason: Set(None),
            ..Default::default()
        };
        Ok(model.insert(&self.inner).await?)
    }

    pub async fn signing_key(&self, id: i64) -> Result<Option<SigningKey>, StoreError> {
        Ok(signing_key::Entity::find_by_id(id).one(&self.inner).await?)
    }

    pub async fn signing_keys_of(&self, person_id: i64) -> Result<Vec<SigningKey>, StoreError> {
        Ok(signing_key::Entity::find()
            .filter(signing_key::Column::PersonId.eq(person_id))
            .order_by_asc(signing_key::Column::Id)
            .all(&self.inner)
            .await?)
    }

    pub async fn approve_signing_key(
        &self,
        id: i64,
        approved_by: Option<i64>,
    ) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value(KEY_APPROVED))
            .col_expr(signing_key::Column::ApprovedBy, Expr::value(approved_by))
            .col_expr(signing_key::Column::ApprovedAt, Expr::value(now()))
            .filter(signing_key::Column::Id.eq(id))
            .filter(signing_key::Column::Status.eq(KEY_PENDING))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    pub async fn rotate_signing_key(&self, id: i64, replaced_by: i64) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value(KEY_ROTATED))
            .col_expr(signing_key::Column::RotatedAt, Expr::value(now()))
            .col_expr(signing_key::Column::ReplacedBy, Expr::value(replaced_by))
            .filter(signing_key::Column::Id.eq(id))
            .filter(signing_key::Column::Status.eq(KEY_APPROVED))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Revokes a key that is not revoked yet; `false` when it already was.
    pub async fn revoke_signing_key(&self, id: i64, reason: &str) -> Result<bool, StoreError> {
        let result = signing_key::Entity::update_many()
            .col_expr(signing_key::Column::Status, Expr::value(KEY_REVOKED))
            .col_expr(signing_key::Column::RevokedAt, Expr::value(now()))
            .col_expr(signing_key::Column::RevokeReason, Expr::value(reason))
            .filter(signing_key::Column::Id.eq(id))
            .filter(signing_key::Column::Status.ne(KEY_REVOKED))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The key registry chain's head (event count, hash), locked for this transaction on
    /// PostgreSQL so that appends are serialised.
    pub async fn key_chain_head_for_update(&self) -> Result<(i64, String), StoreError> {
        let mut query = chain_head::Entity::find_by_id(KEY_CHAIN.to_owned());
        if self.backend == Backend::Postgres {
            query = query.lock_exclusive();
        }
        let head = query.one(&self.inner).await?.ok_or_else(|| {
            StoreError::Corrupt("the key chain head is missing; run the migrations".to_owned())
        })?;
        Ok((head.event_count, head.head_hash))
    }

    /// The key registry chain's recorded head.
    pub async fn key_chain_head(&self) -> Result<(i64, String), StoreError> {
        let head = chain_head::Entity::find_by_id(KEY_CHAIN.to_owned())
            .one(&self.inner)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt("the key chain head is missing; run the migrations".to_owned())
            })?;
        Ok((head.event_count, head.head_hash))
    }

    /// Appends to the key registry chain and moves its head. Never updated or deleted.
    pub async fn append_key_event(&self, new: NewKeyEvent<'_>) -> Result<KeyEvent, StoreError> {
        let model = key_event::ActiveModel {
            seq: Set(new.seq),
            prev_hash: Set(new.prev_hash.to_owned()),
            hash: Set(new.hash.to_owned()),
            kind: Set(new.kind.to_owned()),
            actor_id: Set(new.actor_id),
            payload: Set(new.payload.to_owned()),
            recorded_at: Set(new.recorded_at),
            ..Default::default()
        };
        let inserted = model.insert(&self.inner).await?;
        chain_head::Entity::update_many()
            .col_expr(chain_head::Column::EventCount, Expr::value(new.seq))
            .col_expr(chain_head::Column::HeadHash, Expr::value(new.hash))
            .filter(chain_head::Column::Name.eq(KEY_CHAIN))
            .exec(&self.inner)
            .await?;
        Ok(inserted)
    }

    pub async fn key_events(&self) -> Result<Vec<KeyEvent>, StoreError> {
        Ok(key_event::Entity::find()
            .order_by_asc(key_event::Column::Seq)
            .order_by_asc(key_event::Column::Id)
            .all(&self.inner)
            .await?)
    }
}
