//! Documents, their versions, comments, signatories and commitments.

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::CommitmentStatus;

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

/// A document to insert.
pub struct NewDocument<'a> {
    /// Kind code name.
    pub kind: &'a str,
    /// Unique short name.
    pub slug: &'a str,
    /// Title.
    pub title: &'a str,
    /// The document it belongs under.
    pub parent_id: Option<DocumentId>,
    /// The owning organisation.
    pub owner_organisation_id: OrganisationId,
    /// The drafting working group.
    pub working_group_id: Option<WorkingGroupId>,
}

/// A commitment to insert.
pub struct NewCommitment<'a> {
    /// The document making it.
    pub document_id: DocumentId,
    /// The responsible organisation.
    pub owner_organisation_id: Option<OrganisationId>,
    /// What is promised.
    pub description: &'a str,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// How it is measured.
    pub indicator: Option<&'a str>,
    /// The value to reach.
    pub target: Option<&'a str>,
    /// Its initial status.
    pub status: CommitmentStatus,
}

/// Commitments of a document, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentCounts {
    /// All commitments.
    pub total: u64,
    /// Commitments with no owner organisation or no due date.
    pub unassigned: u64,
}

impl Tx {
    // --- documents, versions, comments ---

    /// Inserts a document, unpublished.
    pub async fn insert_document(&self, new: NewDocument<'_>) -> Result<Document, StoreError> {
        let model = document::ActiveModel {
            kind: Set(new.kind.to_owned()),
            slug: Set(new.slug.to_owned()),
            title: Set(new.title.to_owned()),
            parent_id: Set(new.parent_id.map(DocumentId::get)),
            owner_organisation_id: Set(new.owner_organisation_id.get()),
            working_group_id: Set(new.working_group_id.map(WorkingGroupId::get)),
            published_version: Set(None),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The document with this id.
    pub async fn document(&self, id: DocumentId) -> Result<Option<Document>, StoreError> {
        document::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The document with this slug.
    pub async fn document_by_slug(&self, slug: &str) -> Result<Option<Document>, StoreError> {
        document::Entity::find()
            .filter(document::Column::Slug.eq(slug))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The documents under a parent, by id.
    pub async fn child_documents(
        &self,
        parent_id: DocumentId,
    ) -> Result<Vec<Document>, StoreError> {
        records(
            document::Entity::find()
                .filter(document::Column::ParentId.eq(parent_id.get()))
                .order_by_asc(document::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Changes a document's title.
    pub async fn set_document_title(
        &self,
        document_id: DocumentId,
        title: &str,
    ) -> Result<(), StoreError> {
        document::Entity::update_many()
            .col_expr(document::Column::Title, Expr::value(title))
            .filter(document::Column::Id.eq(document_id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// Records which version is published (`None`: none).
    pub async fn set_published_version(
        &self,
        document_id: DocumentId,
        version: Option<i32>,
    ) -> Result<(), StoreError> {
        document::Entity::update_many()
            .col_expr(document::Column::PublishedVersion, Expr::value(version))
            .filter(document::Column::Id.eq(document_id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// Inserts a version of a document's content.
    pub async fn insert_version(
        &self,
        document_id: DocumentId,
        number: i32,
        content: Vec<u8>,
        content_sha256: &str,
        author_id: PersonId,
    ) -> Result<DocumentVersion, StoreError> {
        let model = document_version::ActiveModel {
            document_id: Set(document_id.get()),
            number: Set(number),
            content: Set(content),
            content_sha256: Set(content_sha256.to_owned()),
            author_id: Set(author_id.get()),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// A document's latest version.
    pub async fn latest_version(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<DocumentVersion>, StoreError> {
        document_version::Entity::find()
            .filter(document_version::Column::DocumentId.eq(document_id.get()))
            .order_by_desc(document_version::Column::Number)
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The id and number of the latest version of a document, without its content.
    pub async fn latest_version_number(
        &self,
        document_id: DocumentId,
    ) -> Result<Option<(VersionId, i32)>, StoreError> {
        // The highest number rather than `ORDER BY ... LIMIT ?`: a bound LIMIT makes
        // SQLite re-prepare the statement at every execution, and (document, number) is
        // unique, so this matches one row at most.
        let highest = Query::select()
            .expr(Expr::col(document_version::Column::Number).max())
            .from(document_version::Entity)
            .and_where(Expr::col(document_version::Column::DocumentId).eq(document_id.get()))
            .to_owned();
        Ok(document_version::Entity::find()
            .select_only()
            .column(document_version::Column::Id)
            .column(document_version::Column::Number)
            .filter(document_version::Column::DocumentId.eq(document_id.get()))
            .filter(document_version::Column::Number.in_subquery(highest))
            .into_tuple::<(i64, i32)>()
            .all(&self.inner)
            .await?
            .into_iter()
            .next()
            .map(|(id, number)| (VersionId::new(id), number)))
    }

    /// A document's version with this number.
    pub async fn version_by_number(
        &self,
        document_id: DocumentId,
        number: i32,
    ) -> Result<Option<DocumentVersion>, StoreError> {
        document_version::Entity::find()
            .filter(document_version::Column::DocumentId.eq(document_id.get()))
            .filter(document_version::Column::Number.eq(number))
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The version with this id.
    pub async fn version(&self, id: VersionId) -> Result<Option<DocumentVersion>, StoreError> {
        document_version::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Inserts a comment on a version.
    pub async fn insert_comment(
        &self,
        version_id: VersionId,
        author_id: PersonId,
        body: &str,
    ) -> Result<Comment, StoreError> {
        let model = comment::ActiveModel {
            version_id: Set(version_id.get()),
            author_id: Set(author_id.get()),
            body: Set(body.to_owned()),
            resolved_by: Set(None),
            resolved_at: Set(None),
            created_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The comment with this id.
    pub async fn comment(&self, id: CommentId) -> Result<Option<Comment>, StoreError> {
        comment::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The comments on a version, oldest first.
    pub async fn comments_on_version(
        &self,
        version_id: VersionId,
    ) -> Result<Vec<Comment>, StoreError> {
        records(
            comment::Entity::find()
                .filter(comment::Column::VersionId.eq(version_id.get()))
                .order_by_asc(comment::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Marks a comment resolved; `false` when it was already resolved.
    pub async fn resolve_comment(&self, id: CommentId, by: PersonId) -> Result<bool, StoreError> {
        let result = comment::Entity::update_many()
            .col_expr(comment::Column::ResolvedBy, Expr::value(by.get()))
            .col_expr(comment::Column::ResolvedAt, Expr::value(now()))
            .filter(comment::Column::Id.eq(id.get()))
            .filter(comment::Column::ResolvedAt.is_null())
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// How many comments on a version are not resolved.
    pub async fn unresolved_comment_count(&self, version_id: VersionId) -> Result<u64, StoreError> {
        Ok(comment::Entity::find()
            .filter(comment::Column::VersionId.eq(version_id.get()))
            .filter(comment::Column::ResolvedAt.is_null())
            .count(&self.inner)
            .await?)
    }

    // --- signatories and commitments ---

    /// Replaces the signatory list of a document; `signatories` are in signing order.
    pub async fn replace_signatories(
        &self,
        document_id: DocumentId,
        signatories: &[SignatoryEntry],
    ) -> Result<(), StoreError> {
        signatory::Entity::delete_many()
            .filter(signatory::Column::DocumentId.eq(document_id.get()))
            .exec(&self.inner)
            .await?;
        for (position, entry) in signatories.iter().enumerate() {
            let position = i32::try_from(position)
                .map_err(|_| StoreError::Corrupt("too many signatories".to_owned()))?;
            let model = signatory::ActiveModel {
                document_id: Set(document_id.get()),
                organisation_id: Set(entry.organisation.get()),
                person_id: Set(entry.person.get()),
                position: Set(position + 1),
                ..Default::default()
            };
            model.insert(&self.inner).await?;
        }
        Ok(())
    }

    /// A document's signatories in signing order.
    pub async fn signatories(&self, document_id: DocumentId) -> Result<Vec<Signatory>, StoreError> {
        records(
            signatory::Entity::find()
                .filter(signatory::Column::DocumentId.eq(document_id.get()))
                .order_by_asc(signatory::Column::Position)
                .all(&self.inner)
                .await?,
        )
    }

    /// Inserts a commitment.
    pub async fn insert_commitment(
        &self,
        new: NewCommitment<'_>,
    ) -> Result<Commitment, StoreError> {
        let model = commitment::ActiveModel {
            document_id: Set(new.document_id.get()),
            owner_organisation_id: Set(new.owner_organisation_id.map(OrganisationId::get)),
            description: Set(new.description.to_owned()),
            due_date: Set(new.due_date),
            indicator: Set(new.indicator.map(str::to_owned)),
            target: Set(new.target.map(str::to_owned)),
            status: Set(new.status.as_str().to_owned()),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        };
        record(model.insert(&self.inner).await?)
    }

    /// The commitment with this id.
    pub async fn commitment(&self, id: CommitmentId) -> Result<Option<Commitment>, StoreError> {
        commitment::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Saves the changed owner, due date and status of a commitment.
    pub async fn update_commitment(&self, changed: &Commitment) -> Result<(), StoreError> {
        commitment::Entity::update_many()
            .col_expr(
                commitment::Column::OwnerOrganisationId,
                Expr::value(changed.owner_organisation_id.map(OrganisationId::get)),
            )
            .col_expr(commitment::Column::DueDate, Expr::value(changed.due_date))
            .col_expr(
                commitment::Column::Status,
                Expr::value(changed.status.as_str()),
            )
            .col_expr(commitment::Column::UpdatedAt, Expr::value(now()))
            .filter(commitment::Column::Id.eq(changed.id.get()))
            .exec(&self.inner)
            .await?;
        Ok(())
    }

    /// A document's commitments, counted.
    pub async fn commitment_counts(
        &self,
        document_id: DocumentId,
    ) -> Result<CommitmentCounts, StoreError> {
        let total = commitment::Entity::find()
            .filter(commitment::Column::DocumentId.eq(document_id.get()))
            .count(&self.inner)
            .await?;
        let unassigned = commitment::Entity::find()
            .filter(commitment::Column::DocumentId.eq(document_id.get()))
            .filter(
                commitment::Column::OwnerOrganisationId
                    .is_null()
                    .or(commitment::Column::DueDate.is_null()),
            )
            .count(&self.inner)
            .await?;
        Ok(CommitmentCounts { total, unassigned })
    }
}
