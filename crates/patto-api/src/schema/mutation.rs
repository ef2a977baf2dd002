//! Mutations. Each calls one engine service with the request's actor; the engine
//! decides whether that actor may. A caller without a session is refused here, before
//! the engine, with `UNAUTHENTICATED`: the public changes nothing.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use patto_core::ids::{
    CommentId, CommitmentId, DocumentId, NetworkId, OrganisationId, PersonId, SignatureRequestId,
    SigningKeyId, WorkingGroupId,
};
use patto_core::records::SignatoryEntry;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, CommitmentChange, FireRequest, NewCommitment, NewDocument, NewOrganisation,
    OrganisationChange, PersonChange,
};

use super::types::{
    Comment, Commitment, Document, Network, Organisation, Outcome, Person, SigningKey, Step,
    Version, WorkingGroup,
};
use super::{RequestContext, id_of, name_of, request};
use crate::error::{ApiError, ApiResult, engine};

/// The mutations of the directory, documents, signing and keys.
#[derive(Default)]
pub struct LifecycleMutation;

/// One place on a signatory list.
#[derive(InputObject)]
pub struct SignatoryInput {
    /// The organisation signed for.
    pub organisation: ID,
    /// The person who signs for it.
    pub person: ID,
}

/// A new commitment.
#[derive(InputObject)]
pub struct CommitmentInput {
    /// What is promised.
    pub description: String,
    /// The organisation responsible, when known.
    pub owner: Option<ID>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// How it is measured.
    pub indicator: Option<String>,
    /// The value to reach.
    pub target: Option<String>,
}

/// The actor of a change: a logged-in person.
fn person_acting(cx: &RequestContext) -> ApiResult<(Actor, PersonId)> {
    match cx.actor {
        Actor::Person(id) => Ok((cx.actor, id)),
        Actor::System | Actor::Public => Err(ApiError::Unauthenticated(
            "log in first: changes need a bearer token in the Authorization header".to_owned(),
        )
        .into()),
    }
}

pub(super) fn acting<'a>(ctx: &Context<'a>) -> ApiResult<(&'a RequestContext, Actor)> {
    let cx = request(ctx)?;
    let (actor, _) = person_acting(cx)?;
    Ok((cx, actor))
}

fn outcome(state: String, version: i64, steps: Vec<patto_engine::StepTaken>) -> Outcome {
    Outcome {
        state,
        version,
        steps: steps.into_iter().map(Step::taken).collect(),
    }
}

#[Object]
impl LifecycleMutation {
    /// Registers an organisation (instance operators).
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
        category: String,
        istat_code: Option<String>,
    ) -> ApiResult<Organisation> {
        let (cx, actor) = acting(ctx)?;
        let new = NewOrganisation {
            slug,
            name,
            category: name_of::<OrganisationCategory>(&category)?,
            istat_code,
        };
        engine(cx.engine.create_organisation(actor, new).await).map(Organisation::from)
    }

    /// Changes an organisation's name, category or ISTAT code (instance operators).
    /// Leave a field out to keep it; give `istatCode: null` to remove the code.
    async fn edit_organisation(
        &self,
        ctx: &Context<'_>,
        organisation: ID,
        name: Option<String>,
        category: Option<String>,
        istat_code: MaybeUndefined<String>,
    ) -> ApiResult<Organisation> {
        let (cx, actor) = acting(ctx)?;
        let id: OrganisationId = id_of("organisation", &organisation)?;
        let change = OrganisationChange {
            name,
            category: category
                .map(|c| name_of::<OrganisationCategory>(&c))
                .transpose()?,
            istat_code: match istat_code {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(code) => Some(Some(code)),
            },
        };
        engine(cx.engine.edit_organisation(actor, id, change).await).map(Organisation::from)
    }

    /// Registers a person (instance operators).
    async fn create_person(
        &self,
        ctx: &Context<'_>,
        email: String,
        name: String,
        language: Option<String>,
    ) -> ApiResult<Person> {
        let (cx, actor) = acting(ctx)?;
        let language = match language {
            Some(l) => name_of::<Language>(&l)?,
            None => Language::default(),
        };
        engine(
            cx.engine
                .create_person(actor, &email, &name, language)
                .await,
        )
        .map(Person::from)
    }

    /// Changes a person's name or language (themself, their organisation's admins,
    /// operators).
    async fn edit_person(
        &self,
        ctx: &Context<'_>,
        person: ID,
        name: Option<String>,
        language: Option<String>,
    ) -> ApiResult<Person> {
        let (cx, actor) = acting(ctx)?;
        let id: PersonId = id_of("person", &person)?;
        let change = PersonChange {
            name,
            language: language.map(|l| name_of::<Language>(&l)).transpose()?,
        };
        engine(cx.engine.edit_person(actor, id, change).await).map(Person::from)
    }

    /// Gives a person a role (`admin`, `coordinator`, `member`) in an organisation.
    async fn add_membership(
        &self,
        ctx: &Context<'_>,
        person: ID,
        organisation: ID,
        role: String,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let person: PersonId = id_of("person", &person)?;
        let organisation: OrganisationId = id_of("organisation", &organisation)?;
        let role = name_of::<Role>(&role)?;
        engine(
            cx.engine
                .add_membership(actor, person, organisation, role)
                .await,
        )
        .map(|()| true)
    }

    /// Takes a role in an organisation away from a person.
    async fn remove_membership(
        &self,
        ctx: &Context<'_>,
        person: ID,
        organisation: ID,
        role: String,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let person: PersonId = id_of("person", &person)?;
        let organisation: OrganisationId = id_of("organisation", &organisation)?;
        let role = name_of::<Role>(&role)?;
        engine(
            cx.engine
                .remove_membership(actor, person, organisation, role)
                .await,
        )
        .map(|()| true)
    }

    /// Creates a partner network (instance operators).
    async fn create_network(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
    ) -> ApiResult<Network> {
        let (cx, actor) = acting(ctx)?;
        engine(cx.engine.create_network(actor, &slug, &name).await).map(Network::from)
    }

    /// Adds an organisation to a partner network (instance operators).
    async fn add_network_member(
        &self,
        ctx: &Context<'_>,
        network: ID,
        organisation: ID,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let network: NetworkId = id_of("network", &network)?;
        let organisation: OrganisationId = id_of("organisation", &organisation)?;
        engine(
            cx.engine
                .add_network_member(actor, network, organisation)
                .await,
        )
        .map(|()| true)
    }

    /// Creates a working group (instance operators).
    async fn create_working_group(
        &self,
        ctx: &Context<'_>,
        slug: String,
        name: String,
    ) -> ApiResult<WorkingGroup> {
        let (cx, actor) = acting(ctx)?;
        engine(cx.engine.create_working_group(actor, &slug, &name).await).map(WorkingGroup::from)
    }

    /// Adds a person to a working group (instance operators).
    async fn add_working_group_member(
        &self,
        ctx: &Context<'_>,
        group: ID,
        person: ID,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let group: WorkingGroupId = id_of("working group", &group)?;
        let person: PersonId = id_of("person", &person)?;
        engine(
            cx.engine
                .add_working_group_member(actor, group, person)
                .await,
        )
        .map(|()| true)
    }

    /// Removes a person from a working group (instance operators).
    async fn remove_working_group_member(
        &self,
        ctx: &Context<'_>,
        group: ID,
        person: ID,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let group: WorkingGroupId = id_of("working group", &group)?;
        let person: PersonId = id_of("person", &person)?;
        engine(
            cx.engine
                .remove_working_group_member(actor, group, person)
                .await,
        )
        .map(|()| true)
    }

    /// Creates a document and its workflow instance (coordinators and admins of the
    /// owning organisation).
    #[allow(clippy::too_many_arguments)]
    async fn create_document(
        &self,
        ctx: &Context<'_>,
        kind: String,
        slug: String,
        title: String,
        owner: ID,
        parent: Option<ID>,
        working_group: Option<ID>,
    ) -> ApiResult<Document> {
        let (cx, actor) = acting(ctx)?;
        let new = NewDocument {
            kind: name_of::<DocumentKind>(&kind)?,
            slug,
            title,
            parent_id: parent
                .map(|p| id_of::<DocumentId>("document", &p))
                .transpose()?,
            owner_organisation_id: id_of("organisation", &owner)?,
            working_group_id: working_group
                .map(|g| id_of::<WorkingGroupId>("working group", &g))
                .transpose()?,
        };
        let created = engine(cx.engine.create_document(actor, new).await)?;
        engine(cx.engine.readable_document(actor, &created.slug).await).map(Document::from)
    }

    /// Changes a document's title.
    async fn retitle_document(
        &self,
        ctx: &Context<'_>,
        document: ID,
        title: String,
    ) -> ApiResult<Document> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("document", &document)?;
        let changed = engine(cx.engine.retitle_document(actor, id, &title).await)?;
        engine(cx.engine.readable_document(actor, &changed.slug).await).map(Document::from)
    }

    /// Adds a version (UTF-8 text) to a document.
    async fn add_version(
        &self,
        ctx: &Context<'_>,
        document: ID,
        text: String,
    ) -> ApiResult<Version> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("document", &document)?;
        engine(cx.engine.add_version(actor, id, text.into_bytes()).await).map(Version::from)
    }

    /// Comments on a version of a document (the latest when not given).
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        document: ID,
        version: Option<i32>,
        body: String,
    ) -> ApiResult<Comment> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("document", &document)?;
        engine(cx.engine.add_comment(actor, id, version, &body).await).map(Comment::from)
    }

    /// Marks a comment resolved.
    async fn resolve_comment(&self, ctx: &Context<'_>, comment: ID) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let id: CommentId = id_of("comment", &comment)?;
        engine(cx.engine.resolve_comment(actor, id).await).map(|()| true)
    }

    /// Replaces a document's signatory list, in signing order.
    async fn set_signatories(
        &self,
        ctx: &Context<'_>,
        document: ID,
        signatories: Vec<SignatoryInput>,
    ) -> ApiResult<bool> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("document", &document)?;
        let entries = signatories
            .iter()
            .map(|s| {
                Ok(SignatoryEntry {
                    organisation: id_of("organisation", &s.organisation)?,
                    person: id_of("person", &s.person)?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        engine(cx.engine.set_signatories(actor, id, &entries).await).map(|()| true)
    }

    /// Adds a commitment to a document.
    async fn add_commitment(
        &self,
        ctx: &Context<'_>,
        document: ID,
        commitment: CommitmentInput,
    ) -> ApiResult<Commitment> {
        let (cx, actor) = acting(ctx)?;
        let id: DocumentId = id_of("document", &document)?;
        let new = NewCommitment {
            owner_organisation_id: commitment
                .owner
                .map(|o| id_of::<OrganisationId>("organisation", &o))
                .transpose()?,
            description: commitment.description,
            due_date: commitment.due_date,
            indicator: commitment.indicator,
            target: commitment.target,
        };
        engine(cx.engine.add_commitment(actor, id, new).await).map(Commitment::from)
    }

    /// Changes a commitment's responsible organisation, due date or status.
    async fn update_commitment(
        &self,
        ctx: &Context<'_>,
        commitment: ID,
        owner: Option<ID>,
        due_date: Option<NaiveDate>,
        status: Option<String>,
    ) -> ApiResult<Commitment> {
        let (cx, actor) = acting(ctx)?;
        let id: CommitmentId = id_of("commitment", &commitment)?;
        let change = CommitmentChange {
            owner_organisation_id: owner
                .map(|o| id_of::<OrganisationId>("organisation", &o))
                .transpose()?,
            due_date,
            status: status.map(|s| name_of(&s)).transpose()?,
        };
        engine(cx.engine.update_commitment(actor, id, change).await).map(Commitment::from)
    }

    /// Fires a transition of a document's workflow. `expectedVersion` is the instance
    /// version the caller saw; if someone changed it since, the answer is `CONFLICT`.
    async fn fire_transition(
        &self,
        ctx: &Context<'_>,
        document: ID,
        transition: String,
        expected_version: i64,
    ) -> ApiResult<Outcome> {
        let (cx, actor) = acting(ctx)?;
        let request = FireRequest {
            document_id: id_of("document", &document)?,
            transition,
            expected_version,
        };
        let fired = engine(cx.engine.fire(actor, request).await)?;
        Ok(outcome(fired.state, fired.version, fired.steps))
    }

    /// Registers the caller's own key from a signed registration statement (the JSON file
    /// `patto keys request` writes, signed by the key it registers: proof of possession).
    /// The key signs once a coordinator or admin of the organisation it names approves
    /// it; approving a new key rotates out the previous one for that organisation.
    async fn register_key(&self, ctx: &Context<'_>, registration: String) -> ApiResult<SigningKey> {
        let (cx, actor) = acting(ctx)?;
        engine(cx.engine.register_key(actor, registration.as_bytes()).await).map(SigningKey::from)
    }

    /// Approves a pending key. Where the holder is the only coordinator or admin of the
    /// key's organisation, two different operators approve, each naming the act that
    /// designated the holder in `actReference`; after the first, the key stays pending.
    async fn approve_key(
        &self,
        ctx: &Context<'_>,
        key: ID,
        act_reference: Option<String>,
    ) -> ApiResult<SigningKey> {
        let (cx, actor) = acting(ctx)?;
        let id: SigningKeyId = id_of("signing key", &key)?;
        let outcome = engine(
            cx.engine
                .approve_key(actor, id, act_reference.as_deref())
                .await,
        )?;
        Ok(SigningKey::from(outcome.key().clone()))
    }

    /// Revokes a key, with a reason.
    async fn revoke_key(
        &self,
        ctx: &Context<'_>,
        key: ID,
        reason: String,
    ) -> ApiResult<SigningKey> {
        let (cx, actor) = acting(ctx)?;
        let id: SigningKeyId = id_of("signing key", &key)?;
        engine(cx.engine.revoke_key(actor, id, &reason).await).map(SigningKey::from)
    }

    /// Submits the Ed25519 signature (base64url) of a request's statement. Give the
    /// statement signed too, and a mismatch is named field by field.
    async fn submit_signature(
        &self,
        ctx: &Context<'_>,
        request: ID,
        signature: String,
        statement: Option<String>,
    ) -> ApiResult<Outcome> {
        let (cx, actor) = acting(ctx)?;
        let id: SignatureRequestId = id_of("signature request", &request)?;
        let signature = patto_sign::decode_signature(&signature).map_err(|error| {
            ApiError::InvalidSignature(format!(
                "the signature is not readable ({error}); give the base64url Ed25519 signature written by `patto sign`"
            ))
        })?;
        let signed = engine(
            cx.engine
                .submit_signature(
                    actor,
                    id,
                    statement.as_deref().map(str::as_bytes),
                    &signature,
                )
                .await,
        )?;
        Ok(outcome(signed.state, signed.version, signed.steps))
    }

    /// Declines a signature request, with a reason for the coordinators.
    async fn decline_signature(
        &self,
        ctx: &Context<'_>,
        request: ID,
        reason: String,
    ) -> ApiResult<Outcome> {
        let (cx, actor) = acting(ctx)?;
        let id: SignatureRequestId = id_of("signature request", &request)?;
        let declined = engine(cx.engine.decline_signature(actor, id, &reason).await)?;
        Ok(outcome(declined.state, declined.version, declined.steps))
    }
}
