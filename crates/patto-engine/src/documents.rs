//! Documents with their immutable versions, comments, signatory lists and commitments.
//! Every change is an event on the document's workflow instance and may let an automatic
//! transition fire, in the same transaction.

use chrono::NaiveDate;
use patto_core::DocumentKind;
use patto_core::ids::{CommentId, CommitmentId, DocumentId, OrganisationId, WorkingGroupId};
use patto_core::records::{
    Comment, Commitment, Document, DocumentVersion, SignatoryEntry, WorkflowInstance,
};
use patto_core::status::CommitmentStatus;
use patto_store::Tx;
use serde_json::json;

use crate::directory::duplicate_as_conflict;
use crate::roles::{COMMENTERS, EDITORS, require_document_creator, require_on_document};
use crate::{Actor, Engine, EngineError, audit, validate};

/// A document to create, with its workflow instance.
#[derive(Clone, Debug)]
pub struct NewDocument {
    /// What kind of document it is; it decides the workflow.
    pub kind: DocumentKind,
    /// Unique short name, used in URLs and commands.
    pub slug: String,
    /// Title.
    pub title: String,
    /// The document this one belongs to (a protocol belongs to a pact).
    pub parent_id: Option<DocumentId>,
    /// The organisation that owns it.
    pub owner_organisation_id: OrganisationId,
    /// The working group that drafts it, if any.
    pub working_group_id: Option<WorkingGroupId>,
}

/// A commitment (impegno) of a document.
#[derive(Clone, Debug, Default)]
pub struct NewCommitment {
    /// The organisation responsible, when already known.
    pub owner_organisation_id: Option<OrganisationId>,
    /// What is promised.
    pub description: String,
    /// When it is due, when already known.
    pub due_date: Option<NaiveDate>,
    /// How it is measured.
    pub indicator: Option<String>,
    /// The value to reach.
    pub target: Option<String>,
}

/// Changes to a commitment; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct CommitmentChange {
    /// A new responsible organisation.
    pub owner_organisation_id: Option<OrganisationId>,
    /// A new due date.
    pub due_date: Option<NaiveDate>,
    /// A new status.
    pub status: Option<CommitmentStatus>,
}

impl Engine {
    /// Creates a document and its workflow instance in the definition's initial state.
    pub async fn create_document(
        &self,
        actor: Actor,
        new: NewDocument,
    ) -> Result<Document, EngineError> {
        let tx = self.store().begin().await?;
        let document = self.insert_document(&tx, actor, &new).await?;
        tx.commit().await?;
        Ok(document)
    }

    /// Creates a document and its workflow instance inside the caller's transaction,
    /// after checking that `actor` may create documents for its owner.
    pub(crate) async fn insert_document(
        &self,
        tx: &Tx,
        actor: Actor,
        new: &NewDocument,
    ) -> Result<Document, EngineError> {
        validate::slug("document", &new.slug)?;
        validate::display_line("title", &new.title)?;
        let workflow_name = new.kind.workflow_name();
        let definition = self.current_definition(workflow_name)?;
        let owner = tx
            .organisation(new.owner_organisation_id)
            .await?
            .ok_or_else(|| EngineError::not_found("organisation", new.owner_organisation_id))?;
        require_document_creator(tx, actor, owner.id).await?;
        self.check_parent(tx, new, definition.parent.as_deref())
            .await?;
        if let Some(group) = new.working_group_id {
            tx.working_group(group)
                .await?
                .ok_or_else(|| EngineError::not_found("working group", group))?;
        }
        let version = self.register_definition(tx, definition).await?;
        let document = tx
            .insert_document(patto_store::NewDocument {
                kind: new.kind.as_str(),
                slug: &new.slug,
                title: new.title.trim(),
                parent_id: new.parent_id,
                owner_organisation_id: new.owner_organisation_id,
                working_group_id: new.working_group_id,
            })
            .await
            .map_err(|e| duplicate_as_conflict(e, "document", &new.slug))?;
        let initial = definition.initial_state().name.clone();
        let mut instance = tx
            .insert_instance(
                document.id,
                workflow_name,
                version,
                &initial,
                patto_sign::GENESIS_HASH,
            )
            .await?;
        audit::append(
            tx,
            &mut instance,
            "instance_created",
            actor,
            &json!({
                "document": document.slug,
                "kind": document.kind,
                "title": document.title,
                "workflow": workflow_name,
                "workflow_version": version,
                "state": initial,
            }),
        )
        .await?;
        Ok(document)
    }

    async fn check_parent(
        &self,
        tx: &Tx,
        new: &NewDocument,
        parent_workflow: Option<&str>,
    ) -> Result<(), EngineError> {
        match (new.parent_id, parent_workflow) {
            (None, None) => Ok(()),
            (None, Some(parent)) => Err(EngineError::Validation(format!(
                "a {} belongs to a {parent}: give the {parent} it belongs to",
                new.kind.as_str()
            ))),
            (Some(_), None) => Err(EngineError::Validation(format!(
                "a {} does not belong to another document: leave the parent out",
                new.kind.as_str()
            ))),
            (Some(parent_id), Some(parent_workflow)) => {
                let parent = tx
                    .document(parent_id)
                    .await?
                    .ok_or_else(|| EngineError::not_found("document", parent_id))?;
                let parent_kind: DocumentKind = parent.kind.parse().map_err(|_| {
                    EngineError::Internal(format!(
                        "document {} is stored with the unknown kind '{}'",
                        parent.slug, parent.kind
                    ))
                })?;
                if parent_kind.workflow_name() == parent_workflow {
                    Ok(())
                } else {
                    Err(EngineError::Validation(format!(
                        "a {} belongs to a {parent_workflow}, but '{}' is a {}",
                        new.kind.as_str(),
                        parent.slug,
                        parent.kind
                    )))
                }
            }
        }
    }

    /// Changes a document's title; the change is an event in its audit trail.
    pub async fn retitle_document(
        &self,
        actor: Actor,
        document_id: DocumentId,
        title: &str,
    ) -> Result<Document, EngineError> {
        validate::display_line("title", title)?;
        let (tx, mut document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "change the title").await?;
        let title = title.trim().to_owned();
        tx.set_document_title(document.id, &title).await?;
        audit::append(
            &tx,
            &mut instance,
            "document_retitled",
            actor,
            &json!({ "from": document.title, "to": title }),
        )
        .await?;
        tx.commit().await?;
        document.title = title;
        Ok(document)
    }

    /// Adds a new immutable version with exactly these bytes. A social report's versions
    /// are assembled from its sections instead (`assemble_social_report`), so that every
    /// version of a report is a report; a diagnosis's are saved with `save_diagnosis`.
    pub async fn add_version(
        &self,
        actor: Actor,
        document_id: DocumentId,
        content: Vec<u8>,
    ) -> Result<DocumentVersion, EngineError> {
        if content.is_empty() {
            return Err(EngineError::Validation(
                "the new version is empty: give its content".to_owned(),
            ));
        }
        version_author(actor)?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "add a version").await?;
        // A report made by `create_social_report` holds its content in its versions;
        // a document of the same kind made by `create_document` holds no report and is
        // never read as one (the fire-path benchmark uses such documents).
        if tx.social_report(document.id).await?.is_some() {
            return Err(EngineError::Validation(format!(
                "'{}' is a social report: its versions are assembled from its sections and the survey; save the sections and assemble a version instead",
                document.slug
            )));
        }
        // Likewise a diagnosis made by `create_diagnosis`: its versions are saved through
        // `save_diagnosis`, which checks them and keeps its items' ids.
        if tx.diagnosis(document.id).await?.is_some() {
            return Err(EngineError::Validation(format!(
                "'{}' is a diagnosis: save its content with saveDiagnosis (`save_diagnosis`), which checks it and keeps its items' ids",
                document.slug
            )));
        }
        let version = self
            .append_version(&tx, actor, &document, &mut instance, content)
            .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(version)
    }

    /// Appends a version inside the caller's transaction, once the caller has checked
    /// that `actor` may, with its audit event; a signing round open on the old version
    /// ends.
    pub(crate) async fn append_version(
        &self,
        tx: &Tx,
        actor: Actor,
        document: &Document,
        instance: &mut WorkflowInstance,
        content: Vec<u8>,
    ) -> Result<DocumentVersion, EngineError> {
        let author = version_author(actor)?;
        let number = match tx.latest_version(document.id).await? {
            Some(latest) => latest.number + 1,
            None => 1,
        };
        let sha256 = patto_sign::content_hash(&content);
        let version = tx
            .insert_version(document.id, number, content, &sha256, author)
            .await?;
        audit::append(
            tx,
            instance,
            "version_added",
            actor,
            &json!({ "number": number, "sha256": sha256 }),
        )
        .await?;
        // A signature binds one exact text: a new version ends the round on the old one.
        self.cancel_open_round(
            tx,
            instance,
            actor,
            &format!("version {number} was added while signing was open"),
        )
        .await?;
        Ok(version)
    }

    /// Comments on a version (the current one when `version_number` is `None`).
    pub async fn add_comment(
        &self,
        actor: Actor,
        document_id: DocumentId,
        version_number: Option<i32>,
        body: &str,
    ) -> Result<Comment, EngineError> {
        validate::display_lines("comment", body)?;
        let author = actor.person_id().ok_or_else(|| {
            EngineError::Validation("a comment needs a person as its author".to_owned())
        })?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(&tx, actor, &document, &COMMENTERS, "comment").await?;
        let version = match version_number {
            Some(number) => tx.version_by_number(document.id, number).await?,
            None => tx.latest_version(document.id).await?,
        }
        .ok_or_else(|| {
            EngineError::Validation(format!(
                "'{}' has no such version to comment on; add a version first",
                document.slug
            ))
        })?;
        let comment = tx.insert_comment(version.id, author, body.trim()).await?;
        audit::append(
            &tx,
            &mut instance,
            "comment_added",
            actor,
            // The text itself goes into the chain, so that a comment edited in the
            // database no longer matches its event.
            &json!({ "comment": comment.id, "version": version.number, "body": comment.body }),
        )
        .await?;
        tx.commit().await?;
        Ok(comment)
    }

    /// Marks a comment resolved; editors of the document may.
    pub async fn resolve_comment(
        &self,
        actor: Actor,
        comment_id: CommentId,
    ) -> Result<(), EngineError> {
        let resolver = actor.person_id().ok_or_else(|| {
            EngineError::Validation("resolving a comment needs a person".to_owned())
        })?;
        let read = self.store().read().await?;
        let comment = read
            .comment(comment_id)
            .await?
            .ok_or_else(|| EngineError::not_found("comment", comment_id))?;
        let version = read
            .version(comment.version_id)
            .await?
            .ok_or_else(|| EngineError::not_found("version", comment.version_id))?;
        read.commit().await?;
        let (tx, document, mut instance) = self.begin_on_document(version.document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "resolve comments").await?;
        if !tx.resolve_comment(comment_id, resolver).await? {
            return Err(EngineError::Conflict(format!(
                "comment {comment_id} is already resolved"
            )));
        }
        audit::append(
            &tx,
            &mut instance,
            "comment_resolved",
            actor,
            &json!({ "comment": comment_id, "version": version.number }),
        )
        .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(())
    }

    /// Sets the signatory list: who signs for which organisation, in signing order. Each
    /// person must belong to the organisation they sign for.
    pub async fn set_signatories(
        &self,
        actor: Actor,
        document_id: DocumentId,
        signatories: &[SignatoryEntry],
    ) -> Result<(), EngineError> {
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "set the signatories").await?;
        if tx.open_signing_round_of(instance.id).await?.is_some() {
            return Err(EngineError::Conflict(format!(
                "a signing round is open on '{}': the signatory list is frozen until it ends",
                document.slug
            )));
        }
        for entry in signatories {
            let belongs = tx
                .memberships_of(entry.person)
                .await?
                .iter()
                .any(|m| m.organisation_id == entry.organisation);
            if !belongs {
                return Err(EngineError::Validation(format!(
                    "person {} is not a member of organisation {}, so cannot sign for it; add the membership first",
                    entry.person, entry.organisation
                )));
            }
        }
        tx.replace_signatories(document.id, signatories)
            .await
            .map_err(|e| duplicate_as_conflict(e, "signatory organisation", "listed twice"))?;
        let listed: Vec<_> = signatories
            .iter()
            .map(|entry| json!({ "organisation": entry.organisation, "person": entry.person }))
            .collect();
        audit::append(
            &tx,
            &mut instance,
            "signatories_set",
            actor,
            &json!({ "signatories": listed }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a commitment to a document; editors of the document may.
    pub async fn add_commitment(
        &self,
        actor: Actor,
        document_id: DocumentId,
        new: NewCommitment,
    ) -> Result<Commitment, EngineError> {
        validate::display_lines("commitment description", &new.description)?;
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "add commitments").await?;
        if let Some(owner) = new.owner_organisation_id {
            tx.organisation(owner)
                .await?
                .ok_or_else(|| EngineError::not_found("organisation", owner))?;
        }
        let commitment = tx
            .insert_commitment(patto_store::NewCommitment {
                document_id: document.id,
                owner_organisation_id: new.owner_organisation_id,
                description: new.description.trim(),
                due_date: new.due_date,
                indicator: new.indicator.as_deref(),
                target: new.target.as_deref(),
                status: CommitmentStatus::Open,
            })
            .await?;
        audit::append(
            &tx,
            &mut instance,
            "commitment_added",
            actor,
            &json!({
                "commitment": commitment.id,
                "owner": commitment.owner_organisation_id,
                "due": commitment.due_date.map(|d| d.to_string()),
                "description": commitment.description,
            }),
        )
        .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(commitment)
    }

    /// Changes a commitment's owner, due date or status; editors of the document may.
    pub async fn update_commitment(
        &self,
        actor: Actor,
        commitment_id: CommitmentId,
        change: CommitmentChange,
    ) -> Result<Commitment, EngineError> {
        let read = self.store().read().await?;
        let current = read
            .commitment(commitment_id)
            .await?
            .ok_or_else(|| EngineError::not_found("commitment", commitment_id))?;
        read.commit().await?;
        let (tx, document, mut instance) = self.begin_on_document(current.document_id).await?;
        require_on_document(&tx, actor, &document, &EDITORS, "change commitments").await?;
        let mut changed = tx
            .commitment(commitment_id)
            .await?
            .ok_or_else(|| EngineError::not_found("commitment", commitment_id))?;
        if let Some(owner) = change.owner_organisation_id {
            tx.organisation(owner)
                .await?
                .ok_or_else(|| EngineError::not_found("organisation", owner))?;
            changed.owner_organisation_id = Some(owner);
        }
        if let Some(due) = change.due_date {
            changed.due_date = Some(due);
        }
        if let Some(status) = change.status {
            changed.status = status;
        }
        tx.update_commitment(&changed).await?;
        audit::append(
            &tx,
            &mut instance,
            "commitment_updated",
            actor,
            &json!({
                "commitment": changed.id,
                "owner": changed.owner_organisation_id,
                "due": changed.due_date.map(|d| d.to_string()),
                "status": changed.status,
            }),
        )
        .await?;
        self.settle_and_commit(tx, &document, &mut instance).await?;
        Ok(changed)
    }

    /// Comments on a version of a document (the current one when `None`), oldest first.
    pub async fn comments(
        &self,
        document_id: DocumentId,
        version_number: Option<i32>,
    ) -> Result<Vec<Comment>, EngineError> {
        let tx = self.store().read().await?;
        let version = match version_number {
            Some(number) => tx.version_by_number(document_id, number).await?,
            None => tx.latest_version(document_id).await?,
        };
        let comments = match version {
            Some(version) => tx.comments_on_version(version.id).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(comments)
    }

    /// The document with this slug, or `NOT_FOUND`.
    pub async fn document_by_slug(&self, slug: &str) -> Result<Document, EngineError> {
        let tx = self.store().read().await?;
        let document = tx.document_by_slug(slug).await?;
        tx.commit().await?;
        document.ok_or_else(|| EngineError::not_found("document", slug))
    }

    /// The workflow instance of a document, or `NOT_FOUND`.
    pub async fn instance_of(
        &self,
        document_id: DocumentId,
    ) -> Result<WorkflowInstance, EngineError> {
        let tx = self.store().read().await?;
        let instance = tx.instance_of_document(document_id).await?;
        tx.commit().await?;
        instance.ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))
    }

    /// Starts a write transaction on a document and holds its workflow instance, so that
    /// the events appended in it extend the current chain head.
    pub(crate) async fn begin_on_document(
        &self,
        document_id: DocumentId,
    ) -> Result<(Tx, Document, WorkflowInstance), EngineError> {
        let tx = self.store().begin().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        let instance = tx
            .instance_of_document_for_update(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))?;
        Ok((tx, document, instance))
    }
}

/// The author of a new version: always a person.
fn version_author(actor: Actor) -> Result<patto_core::ids::PersonId, EngineError> {
    actor.person_id().ok_or_else(|| {
        EngineError::Validation(
            "a version needs a person as its author: act as a registered person".to_owned(),
        )
    })
}
