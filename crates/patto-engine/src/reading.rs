//! Reading on someone's behalf: every service here takes the reader and applies the
//! visibility rules of [`crate::roles::Reader`]. Drafts, comments, the event history and
//! signature requests are for those involved in a document; once it is published, its
//! published version, signatories, commitments and evidence are public. The API calls
//! only these; the unrestricted reads beside the other services serve the command line.

use std::collections::{BTreeSet, HashMap};

use patto_core::Role;
use patto_core::ids::{
    DocumentId, InstanceId, PersonId, ReviewId, SignatureRequestId, SigningRoundId,
};
use patto_core::records::{
    Comment, Commitment, Document, DocumentVersion, Event, Organisation, Person, Review,
    ReviewSchedule, Signatory, SignatureRequest, StatusReport, WorkflowInstance,
};
use patto_core::status::SignatureRequestStatus;
use patto_core::workflow::{FireError, GuardFailure, fire};
use patto_store::{EventFollower, Tx};

use crate::roles::{Access, Reader, not_involved, require_follower, roles_on};
use crate::signing::RequestView;
use crate::{Actor, Engine, EngineError};

/// A transition leaving a document's current state, as one reader sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailableTransition {
    /// The transition's name, to give to `fire`.
    pub name: String,
    /// The state it leads to.
    pub to: String,
    /// Whether the engine fires it by itself.
    pub automatic: bool,
    /// Why the reader cannot fire it now; `None` when they can.
    pub blocked_by: Option<Blocker>,
}

/// Why a transition cannot be fired by this reader now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocker {
    /// Only the engine fires it, when its guards hold.
    Automatic,
    /// It needs one of these roles on the document, and the reader holds none.
    Role(Vec<Role>),
    /// A guard does not hold.
    Guard(GuardFailure),
}

/// A document and how much of it the reader sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadableDocument {
    /// The document.
    pub document: Document,
    /// What the reader may see of it (never [`Access::Hidden`]).
    pub access: Access,
}

impl Engine {
    /// The documents `actor` may see, by id, each with how much of it they see.
    pub async fn readable_documents(
        &self,
        actor: Actor,
    ) -> Result<Vec<ReadableDocument>, EngineError> {
        let tx = self.store().read().await?;
        let documents = tx.documents().await?;
        let readable = readable(&tx, actor, documents).await?;
        tx.commit().await?;
        Ok(readable)
    }

    /// The document with this slug, if `actor` may see it.
    pub async fn readable_document(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<ReadableDocument, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        let readable = readable(&tx, actor, vec![document.clone()]).await?;
        tx.commit().await?;
        readable
            .into_iter()
            .next()
            .ok_or_else(|| not_involved(&document, "drafts"))
    }

    /// The versions of these documents that `actor` may see: all of them for those
    /// involved, the published one for everyone else.
    pub async fn readable_versions(
        &self,
        actor: Actor,
        ids: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Vec<DocumentVersion>>, EngineError> {
        let tx = self.store().read().await?;
        let access = access_by_id(&tx, actor, ids).await?;
        let mut versions: HashMap<DocumentId, Vec<DocumentVersion>> = HashMap::new();
        for version in tx.versions_of_documents(&visible(&access)).await? {
            let shown = match access.get(&version.document_id) {
                Some((_, Access::Involved)) => true,
                Some((document, Access::Published)) => {
                    document.published_version == Some(version.number)
                }
                Some((_, Access::Hidden)) | None => false,
            };
            if shown {
                versions
                    .entry(version.document_id)
                    .or_default()
                    .push(version);
            }
        }
        tx.commit().await?;
        Ok(versions)
    }

    /// The signatory lists of these documents that `actor` may see.
    pub async fn readable_signatories(
        &self,
        actor: Actor,
        ids: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Vec<Signatory>>, EngineError> {
        let tx = self.store().read().await?;
        let access = access_by_id(&tx, actor, ids).await?;
        let mut lists: HashMap<DocumentId, Vec<Signatory>> = HashMap::new();
        for signatory in tx.signatories_of_documents(&visible(&access)).await? {
            lists
                .entry(signatory.document_id)
                .or_default()
                .push(signatory);
        }
        tx.commit().await?;
        Ok(lists)
    }

    /// The signatures given on these documents (signed requests only), oldest round
    /// first: public once a document is published, like its evidence.
    pub async fn readable_signatures(
        &self,
        actor: Actor,
        ids: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Vec<SignatureRequest>>, EngineError> {
        let tx = self.store().read().await?;
        let access = access_by_id(&tx, actor, ids).await?;
        let rounds = tx.signing_rounds_of_documents(&visible(&access)).await?;
        let document_of: HashMap<SigningRoundId, DocumentId> =
            rounds.iter().map(|r| (r.id, r.document_id)).collect();
        let round_ids: Vec<SigningRoundId> = rounds.iter().map(|r| r.id).collect();
        let mut signatures: HashMap<DocumentId, Vec<SignatureRequest>> = HashMap::new();
        for request in tx.signature_requests_of_rounds(&round_ids).await? {
            if request.status != SignatureRequestStatus::Signed {
                continue;
            }
            if let Some(document_id) = document_of.get(&request.round_id) {
                signatures.entry(*document_id).or_default().push(request);
            }
        }
        tx.commit().await?;
        Ok(signatures)
    }

    /// The comments on a version of a document (the latest when `None`), for those
    /// involved only.
    pub async fn readable_comments(
        &self,
        actor: Actor,
        document_id: DocumentId,
        version_number: Option<i32>,
    ) -> Result<Vec<Comment>, EngineError> {
        let tx = self.store().read().await?;
        require_involved(&tx, actor, document_id, "comments").await?;
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

    /// The commitments of a document: public once it is published.
    pub async fn readable_commitments(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<Commitment>, EngineError> {
        let tx = self.store().read().await?;
        require_visible(&tx, actor, document_id).await?;
        let commitments = tx.commitments_of(document_id).await?;
        tx.commit().await?;
        Ok(commitments)
    }

    /// The workflow instance of a document (its state and version).
    pub async fn readable_instance(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<WorkflowInstance, EngineError> {
        let tx = self.store().read().await?;
        require_visible(&tx, actor, document_id).await?;
        let instance = tx
            .instance_of_document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))?;
        tx.commit().await?;
        Ok(instance)
    }

    /// The event history of a document's workflow, oldest first, for those involved.
    pub async fn readable_history(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<Event>, EngineError> {
        let tx = self.store().read().await?;
        require_involved(&tx, actor, document_id, "event history").await?;
        let instance = tx
            .instance_of_document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))?;
        let events = tx.events(instance.id).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Starts following the events committed from now on, on this server and, on
    /// PostgreSQL, on every server sharing the database. A follower is a wake-up call:
    /// what a reader may see of it is read back through [`Engine::followed_events`].
    pub async fn follow_events(&self) -> Result<EventFollower, EngineError> {
        Ok(self.store().follow_events().await?)
    }

    /// The document with this slug and its workflow instance, for `actor` to follow its
    /// events. Any logged-in person may follow an existing document: whether they see
    /// an event is decided when it comes ([`Engine::followed_events`]), so that a draft
    /// shared later becomes visible to its new partners.
    pub async fn document_to_follow(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<(DocumentId, InstanceId), EngineError> {
        require_follower(actor)?;
        let tx = self.store().read().await?;
        let document = tx
            .document_by_slug(slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", slug))?;
        let instance = tx
            .instance_of_document(document.id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", slug))?;
        tx.commit().await?;
        Ok((document.id, instance.id))
    }

    /// The events of a document's workflow after sequence number `after_seq`, oldest
    /// first, if `actor` is involved in the document now, and none if they are not (not
    /// an error: a follower waits until they are, or until their session ends).
    pub async fn followed_events(
        &self,
        actor: Actor,
        document_id: DocumentId,
        after_seq: i64,
    ) -> Result<Vec<Event>, EngineError> {
        require_follower(actor)?;
        let tx = self.store().read().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        let involved = matches!(
            readable(&tx, actor, vec![document]).await?.pop(),
            Some(ReadableDocument {
                access: Access::Involved,
                ..
            })
        );
        let events = match (involved, tx.instance_of_document(document_id).await?) {
            (true, Some(instance)) => tx
                .events(instance.id)
                .await?
                .into_iter()
                .filter(|event| event.seq > after_seq)
                .collect(),
            (true, None) | (false, _) => Vec::new(),
        };
        tx.commit().await?;
        Ok(events)
    }

    /// The signature requests of a document, for those involved.
    pub async fn readable_signature_requests(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<RequestView>, EngineError> {
        {
            let tx = self.store().read().await?;
            require_involved(&tx, actor, document_id, "signature requests").await?;
            tx.commit().await?;
        }
        self.signature_requests(document_id).await
    }

    /// A signature request, for its addressee and those involved in the document.
    pub async fn readable_signature_request(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
    ) -> Result<RequestView, EngineError> {
        let document_id = self.require_request_reader(actor, request_id).await?;
        self.signature_requests(document_id)
            .await?
            .into_iter()
            .find(|view| view.request.id == request_id)
            .ok_or_else(|| EngineError::not_found("signature request", request_id))
    }

    /// The exact statement to sign for a request, for its addressee and those involved
    /// in the document.
    pub async fn readable_statement(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
    ) -> Result<String, EngineError> {
        self.require_request_reader(actor, request_id).await?;
        self.statement_for(request_id).await
    }

    /// The document of a request, if `actor` is its addressee or involved in it.
    async fn require_request_reader(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
    ) -> Result<DocumentId, EngineError> {
        let tx = self.store().read().await?;
        let request = tx
            .signature_request(request_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
        let round = tx
            .signing_round(request.round_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
        if actor != Actor::Person(request.person_id) {
            require_involved(&tx, actor, round.document_id, "signature requests").await?;
        }
        tx.commit().await?;
        Ok(round.document_id)
    }

    /// The sealed evidence bundle of a document version (the latest when `None`): the
    /// published version for everyone, any version for those involved.
    pub async fn readable_evidence(
        &self,
        actor: Actor,
        slug: &str,
        version_number: Option<i32>,
        server_key: &patto_sign::SigningKey,
    ) -> Result<String, EngineError> {
        let ReadableDocument { document, access } = self.readable_document(actor, slug).await?;
        let number = match access {
            Access::Involved => version_number,
            Access::Published | Access::Hidden => {
                let published = document.published_version;
                if version_number.is_some() && version_number != published {
                    return Err(not_involved(&document, "unpublished versions"));
                }
                published
            }
        };
        self.export_evidence(slug, number, server_key).await
    }

    /// The transitions leaving the document's current state, each with whether `actor`
    /// may fire it now and, if not, which role or guard stops them. Nothing changes:
    /// this is the check `fire` makes, without firing.
    pub async fn available_transitions(
        &self,
        actor: Actor,
        document_id: DocumentId,
    ) -> Result<Vec<AvailableTransition>, EngineError> {
        let tx = self.store().read().await?;
        let document = require_visible(&tx, actor, document_id).await?;
        let instance = tx
            .instance_of_document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))?;
        let definition = self.definition_of(&tx, &instance).await?;
        let leaving: Vec<_> = definition
            .transitions
            .iter()
            .filter(|t| t.from.contains(&instance.state))
            .collect();
        let candidates: BTreeSet<Role> = leaving
            .iter()
            .flat_map(|t| t.roles.iter().copied())
            .collect();
        let candidates: Vec<Role> = candidates.into_iter().collect();
        let roles = roles_on(&tx, actor, &document, &candidates).await?;
        let guards: Vec<_> = leaving
            .iter()
            .flat_map(|t| t.guards.iter().cloned())
            .collect();
        let facts = self.facts(&tx, &document, &instance, &guards).await?;
        tx.commit().await?;
        let mut available = Vec::new();
        for transition in leaving {
            let blocked_by = match fire(
                &definition,
                &instance.state,
                &transition.name,
                &roles,
                &facts,
            ) {
                Ok(_) => None,
                Err(FireError::Automatic { .. }) => Some(Blocker::Automatic),
                Err(FireError::Forbidden { allowed, .. }) => Some(Blocker::Role(allowed)),
                Err(FireError::GuardFailed(failure)) => Some(Blocker::Guard(failure)),
                Err(
                    error @ (FireError::UnknownTransition { .. }
                    | FireError::NotFromState { .. }
                    | FireError::UnknownState { .. }),
                ) => {
                    // The transitions were taken from the definition and the current
                    // state, so this means the stored state is not in the definition.
                    return Err(EngineError::Validation(format!(
                        "{error} (document '{}')",
                        document.slug
                    )));
                }
            };
            available.push(AvailableTransition {
                name: transition.name.clone(),
                to: transition.to.clone(),
                automatic: transition.automatic,
                blocked_by,
            });
        }
        Ok(available)
    }

    /// People by id, for showing who signed, wrote or commented. Only names and ids are
    /// meant to be shown to others; the caller decides nothing else from them.
    pub async fn people_by_ids(&self, ids: Vec<PersonId>) -> Result<Vec<Person>, EngineError> {
        let tx = self.store().read().await?;
        let people = tx.people_by_ids(ids).await?;
        tx.commit().await?;
        Ok(people)
    }

    /// Organisations by id.
    pub async fn organisations_by_ids(
        &self,
        ids: &[patto_core::ids::OrganisationId],
    ) -> Result<Vec<Organisation>, EngineError> {
        let wanted: BTreeSet<_> = ids.iter().copied().collect();
        Ok(self
            .organisations()
            .await?
            .into_iter()
            .filter(|o| wanted.contains(&o.id))
            .collect())
    }

    /// The person an actor is, when it is a person.
    pub async fn person(&self, id: PersonId) -> Result<Person, EngineError> {
        let tx = self.store().read().await?;
        let person = tx.person(id).await?;
        tx.commit().await?;
        person.ok_or_else(|| EngineError::not_found("person", id))
    }
}

/// Reading a document's review checkpoints. Reviews, their minutes and outcomes, and the
/// status reports of its commitments follow the commitments: public once the document is
/// published (the portal shows each commitment's progress and each review's outcome),
/// for those involved before.
impl Engine {
    /// The reviews of a document (by slug), oldest first.
    pub async fn readable_reviews(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<Vec<Review>, EngineError> {
        let tx = self.store().read().await?;
        let document_id = require_visible_slug(&tx, actor, slug).await?;
        let reviews = match tx.instance_of_document(document_id).await? {
            Some(instance) => tx.reviews_of(instance.id).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(reviews)
    }

    /// The review schedules of a document (by slug), oldest first: when its reviews
    /// come, and whether they still do.
    pub async fn readable_review_schedules(
        &self,
        actor: Actor,
        slug: &str,
    ) -> Result<Vec<ReviewSchedule>, EngineError> {
        let tx = self.store().read().await?;
        let document_id = require_visible_slug(&tx, actor, slug).await?;
        let schedules = match tx.instance_of_document(document_id).await? {
            Some(instance) => tx.review_schedules(instance.id).await?,
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(schedules)
    }

    /// A review with the status reports asked for at it, in commitment order, and the
    /// document reviewed.
    pub async fn readable_review(
        &self,
        actor: Actor,
        review_id: ReviewId,
    ) -> Result<(Document, Review, Vec<StatusReport>), EngineError> {
        let tx = self.store().read().await?;
        let review = tx
            .review(review_id)
            .await?
            .ok_or_else(|| EngineError::not_found("review", review_id))?;
        let instance = tx
            .instance(review.instance_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance", review.instance_id))?;
        let document = require_visible(&tx, actor, instance.document_id).await?;
        let reports = tx.status_reports(review.id).await?;
        tx.commit().await?;
        Ok((document, review, reports))
    }
}

/// The documents of `documents` the actor may see, with how much.
async fn readable(
    tx: &Tx,
    actor: Actor,
    documents: Vec<Document>,
) -> Result<Vec<ReadableDocument>, EngineError> {
    let reader = Reader::load(tx, actor).await?;
    let ids: Vec<DocumentId> = documents.iter().map(|d| d.id).collect();
    let moved: BTreeSet<DocumentId> = tx.documents_ever_moved(&ids).await?.into_iter().collect();
    Ok(documents
        .into_iter()
        .filter_map(|document| {
            let access = reader.access(&document, moved.contains(&document.id));
            (access != Access::Hidden).then_some(ReadableDocument { document, access })
        })
        .collect())
}

/// The access to each of these documents, by id.
async fn access_by_id(
    tx: &Tx,
    actor: Actor,
    ids: &[DocumentId],
) -> Result<HashMap<DocumentId, (Document, Access)>, EngineError> {
    let documents = tx.documents_by_ids(ids).await?;
    Ok(readable(tx, actor, documents)
        .await?
        .into_iter()
        .map(|r| (r.document.id, (r.document, r.access)))
        .collect())
}

fn visible(access: &HashMap<DocumentId, (Document, Access)>) -> Vec<DocumentId> {
    access.keys().copied().collect()
}

/// The document, if the actor may see at least its published part.
async fn require_visible(
    tx: &Tx,
    actor: Actor,
    document_id: DocumentId,
) -> Result<Document, EngineError> {
    let document = tx
        .document(document_id)
        .await?
        .ok_or_else(|| EngineError::not_found("document", document_id))?;
    match readable(tx, actor, vec![document.clone()]).await?.pop() {
        Some(readable) => Ok(readable.document),
        None => Err(not_involved(&document, "drafts")),
    }
}

/// The id of the document with this slug, if the actor may see at least its published
/// part.
async fn require_visible_slug(
    tx: &Tx,
    actor: Actor,
    slug: &str,
) -> Result<DocumentId, EngineError> {
    let document = tx
        .document_by_slug(slug)
        .await?
        .ok_or_else(|| EngineError::not_found("document", slug))?;
    require_visible(tx, actor, document.id).await.map(|d| d.id)
}

/// The document, if the actor is involved in it.
async fn require_involved(
    tx: &Tx,
    actor: Actor,
    document_id: DocumentId,
    what: &str,
) -> Result<Document, EngineError> {
    let document = tx
        .document(document_id)
        .await?
        .ok_or_else(|| EngineError::not_found("document", document_id))?;
    match readable(tx, actor, vec![document.clone()]).await?.pop() {
        Some(ReadableDocument {
            document,
            access: Access::Involved,
        }) => Ok(document),
        Some(_) | None => Err(not_involved(&document, what)),
    }
}
