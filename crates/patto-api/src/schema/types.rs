//! The object types of the schema. Records from the engine are wrapped, never exposed
//! field by field by accident: e-mail addresses, for one, appear only on `me`.

use async_graphql::connection::Connection;
use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use patto_core::records;
use patto_engine::{Access, Blocker};

use super::loaders::load_error;
use super::{loaders, page, request};
use crate::error::{ApiResult, engine};

pub(super) fn id(raw: i64) -> ID {
    ID(raw.to_string())
}

/// An organisation: a Comune, a prefecture, an association...
#[derive(SimpleObject, Clone)]
pub struct Organisation {
    /// Its id.
    pub id: ID,
    /// Unique short name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What kind of body it is (`municipality`, `prefecture`, ...).
    pub category: String,
    /// Six-digit ISTAT code of a municipality.
    pub istat_code: Option<String>,
}

impl From<records::Organisation> for Organisation {
    fn from(o: records::Organisation) -> Self {
        Organisation {
            id: id(o.id.get()),
            slug: o.slug,
            name: o.name,
            category: o.category,
            istat_code: o.istat_code,
        }
    }
}

/// A person, as others see them: a name, never an address.
#[derive(SimpleObject, Clone)]
pub struct Person {
    /// Their id.
    pub id: ID,
    /// Their name.
    pub name: String,
}

impl From<records::Person> for Person {
    fn from(p: records::Person) -> Self {
        Person {
            id: id(p.id.get()),
            name: p.name,
        }
    }
}

/// The logged-in person.
#[derive(SimpleObject)]
pub struct Me {
    /// Their id.
    pub id: ID,
    /// Their name.
    pub name: String,
    /// Their e-mail address, which is how they log in.
    pub email: String,
    /// The language of their e-mails (`it` or `en`).
    pub language: String,
}

impl From<records::Person> for Me {
    fn from(p: records::Person) -> Self {
        Me {
            id: id(p.id.get()),
            name: p.name,
            email: p.email,
            language: p.language,
        }
    }
}

/// A partner network of organisations.
#[derive(SimpleObject)]
pub struct Network {
    /// Its id.
    pub id: ID,
    /// Unique short name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

impl From<records::Network> for Network {
    fn from(n: records::Network) -> Self {
        Network {
            id: id(n.id.get()),
            slug: n.slug,
            name: n.name,
        }
    }
}

/// A working group that drafts documents.
#[derive(SimpleObject)]
pub struct WorkingGroup {
    /// Its id.
    pub id: ID,
    /// Unique short name.
    pub slug: String,
    /// Display name.
    pub name: String,
}

impl From<records::WorkingGroup> for WorkingGroup {
    fn from(g: records::WorkingGroup) -> Self {
        WorkingGroup {
            id: id(g.id.get()),
            slug: g.slug,
            name: g.name,
        }
    }
}

/// An immutable version of a document.
#[derive(SimpleObject, Clone)]
pub struct Version {
    /// Its id.
    pub id: ID,
    /// 1 for the first version, then 2, 3...
    pub number: i32,
    /// SHA-256 of its content, in hex: what signatures bind.
    pub sha256: String,
    /// Its content, when it is UTF-8 text.
    pub text: Option<String>,
    /// Its size in bytes.
    pub size: i32,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<records::DocumentVersion> for Version {
    fn from(v: records::DocumentVersion) -> Self {
        Version {
            id: id(v.id.get()),
            number: v.number,
            sha256: v.content_sha256,
            size: i32::try_from(v.content.len()).unwrap_or(i32::MAX),
            text: String::from_utf8(v.content).ok(),
            created_at: v.created_at,
        }
    }
}

/// A comment on a version.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Comment {
    /// Its id.
    pub id: ID,
    /// What it says.
    pub body: String,
    /// Whether someone resolved it.
    pub resolved: bool,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub author_id: patto_core::ids::PersonId,
}

#[ComplexObject]
impl Comment {
    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        person(ctx, self.author_id).await
    }
}

impl From<records::Comment> for Comment {
    fn from(c: records::Comment) -> Self {
        Comment {
            id: id(c.id.get()),
            body: c.body,
            resolved: c.resolved_at.is_some(),
            resolved_at: c.resolved_at,
            created_at: c.created_at,
            author_id: c.author_id,
        }
    }
}

/// A commitment (impegno) of a document.
#[derive(SimpleObject, Clone)]
pub struct Commitment {
    /// Its id.
    pub id: ID,
    /// What is promised.
    pub description: String,
    /// The organisation responsible, when known.
    pub owner_organisation_id: Option<ID>,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// How it is measured.
    pub indicator: Option<String>,
    /// The value to reach.
    pub target: Option<String>,
    /// `open`, `in_progress`, `done` or `cancelled`.
    pub status: String,
}

impl From<records::Commitment> for Commitment {
    fn from(c: records::Commitment) -> Self {
        Commitment {
            id: id(c.id.get()),
            description: c.description,
            owner_organisation_id: c.owner_organisation_id.map(|o| id(o.get())),
            due_date: c.due_date,
            indicator: c.indicator,
            target: c.target,
            status: c.status.as_str().to_owned(),
        }
    }
}

/// A place on a document's signatory list.
#[derive(Clone)]
pub struct Signatory(pub records::Signatory);

#[Object]
impl Signatory {
    /// Signing order, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Who signs.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        person(ctx, self.0.person_id).await
    }
    /// For which organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        organisation(ctx, self.0.organisation_id).await
    }
}

/// A signature given on a document.
#[derive(Clone)]
pub struct Signature(pub records::SignatureRequest);

#[Object]
impl Signature {
    /// Who signed.
    async fn signer(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        person(ctx, self.0.person_id).await
    }
    /// For which organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        organisation(ctx, self.0.organisation_id).await
    }
    /// When.
    async fn signed_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// The Ed25519 signature, base64url.
    async fn signature(&self) -> Option<&str> {
        self.0.signature.as_deref()
    }
    /// The canonical statement signed.
    async fn statement(&self) -> Option<&str> {
        self.0.statement.as_deref()
    }
}

/// A signature request as the signatory and those involved see it.
pub struct SignatureRequest(pub patto_engine::RequestView);

#[Object]
impl SignatureRequest {
    /// Its id, to give to `submitSignature` or `declineSignature`.
    async fn id(&self) -> ID {
        id(self.0.request.id.get())
    }
    /// `pending`, `signed` or `declined`.
    async fn status(&self) -> &str {
        self.0.request.status.as_str()
    }
    /// The document signed.
    async fn document_slug(&self) -> &str {
        &self.0.document_slug
    }
    /// The version signed.
    async fn version_number(&self) -> i32 {
        self.0.round.version_number
    }
    /// What the signature means (`endorse`, ...).
    async fn intent(&self) -> &str {
        &self.0.round.intent
    }
    /// The organisation signed for.
    async fn organisation(&self) -> &str {
        &self.0.organisation
    }
    /// Signing order, from 1.
    async fn position(&self) -> i32 {
        self.0.request.position
    }
    /// Who is asked to sign.
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        person(ctx, self.0.request.person_id).await
    }
    /// The exact canonical statement to sign (RFC 8785 JSON): sign these bytes.
    async fn statement(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let cx = request(ctx)?;
        engine(
            cx.engine
                .readable_statement(cx.actor, self.0.request.id)
                .await,
        )
    }
    /// The reason given when declined.
    async fn reason(&self) -> Option<&str> {
        self.0.request.reason.as_deref()
    }
}

/// The workflow instance of a document.
#[derive(SimpleObject)]
pub struct Instance {
    /// Its id.
    pub id: ID,
    /// The current state.
    pub state: String,
    /// The version to pass as `expectedVersion` when firing a transition.
    pub version: i64,
    /// The workflow it runs.
    pub workflow: String,
    /// The version of that workflow.
    pub workflow_version: i32,
    /// The hash at the head of its audit chain.
    pub head_hash: String,
}

impl From<records::WorkflowInstance> for Instance {
    fn from(i: records::WorkflowInstance) -> Self {
        Instance {
            id: id(i.id.get()),
            state: i.state,
            version: i.version,
            workflow: i.definition_name,
            workflow_version: i.definition_version,
            head_hash: i.head_hash,
        }
    }
}

/// An event of a document's audit chain.
#[derive(SimpleObject, Clone)]
pub struct Event {
    /// Its position in the chain, from 1.
    pub seq: i64,
    /// What happened (`transition`, `comment_added`, ...).
    pub kind: String,
    /// Who acted; none for the engine itself.
    pub actor_id: Option<ID>,
    /// What happened, as JSON.
    pub payload: String,
    /// Its hash, which the next event chains to.
    pub hash: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl From<records::Event> for Event {
    fn from(e: records::Event) -> Self {
        Event {
            seq: e.seq,
            kind: e.kind,
            actor_id: e.actor_id.map(|a| id(a.get())),
            payload: e.payload,
            hash: e.hash,
            recorded_at: e.recorded_at,
        }
    }
}

/// A transition leaving the current state, as the caller sees it.
#[derive(SimpleObject)]
pub struct AvailableTransition {
    /// Its name, to give to `fireTransition`.
    pub name: String,
    /// The state it leads to.
    pub to: String,
    /// Whether the engine fires it by itself.
    pub automatic: bool,
    /// Whether the caller may fire it now.
    pub may_fire: bool,
    /// What stops the caller: `automatic`, `role`, or the name of the guard that fails.
    pub blocked_by: Option<String>,
    /// Why, in a sentence saying what to do.
    pub reason: Option<String>,
}

impl From<patto_engine::AvailableTransition> for AvailableTransition {
    fn from(t: patto_engine::AvailableTransition) -> Self {
        let (blocked_by, reason) = match t.blocked_by {
            None => (None, None),
            Some(Blocker::Automatic) => (
                Some("automatic".to_owned()),
                Some("the engine fires it as soon as its conditions hold".to_owned()),
            ),
            Some(Blocker::Role(roles)) => (
                Some("role".to_owned()),
                Some(format!(
                    "it needs the role {} on the document",
                    roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                )),
            ),
            Some(Blocker::Guard(failure)) => (Some(failure.guard.to_owned()), Some(failure.reason)),
        };
        AvailableTransition {
            may_fire: blocked_by.is_none(),
            name: t.name,
            to: t.to,
            automatic: t.automatic,
            blocked_by,
            reason,
        }
    }
}

/// A signing key registered for a person.
#[derive(SimpleObject, Clone)]
pub struct SigningKey {
    /// Its id.
    pub id: ID,
    /// Whose key it is.
    pub person_id: ID,
    /// The public key, base64url.
    pub public_key: String,
    /// Its fingerprint.
    pub fingerprint: String,
    /// `pending`, `approved`, `rotated` or `revoked`.
    pub status: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<records::SigningKey> for SigningKey {
    fn from(k: records::SigningKey) -> Self {
        SigningKey {
            id: id(k.id.get()),
            person_id: id(k.person_id.get()),
            public_key: k.public_key,
            fingerprint: k.fingerprint,
            status: k.status.as_str().to_owned(),
            registered_at: k.registered_at,
            approved_at: k.approved_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A workflow definition new documents start with.
#[derive(SimpleObject, Clone)]
pub struct Workflow {
    /// Its name (`pact`, `protocol`, ...).
    pub name: String,
    /// Its version.
    pub version: i32,
    /// Its diagram in Mermaid syntax.
    pub mermaid: String,
    /// Its TOML source.
    pub source: String,
}

/// One transition taken by a change.
#[derive(SimpleObject)]
pub struct Step {
    /// The transition.
    pub transition: String,
    /// The state it left.
    pub from: String,
    /// The state it entered.
    pub to: String,
    /// Whether the engine fired it by itself.
    pub automatic: bool,
}

impl Step {
    /// The step as the engine reports it. (Not `From`: the derived getter of the
    /// `from` field takes that name.)
    pub(crate) fn taken(s: patto_engine::StepTaken) -> Self {
        Step {
            transition: s.transition,
            from: s.from,
            to: s.to,
            automatic: s.automatic,
        }
    }
}

/// Where a change left a document's workflow.
#[derive(SimpleObject)]
pub struct Outcome {
    /// The state it is in now.
    pub state: String,
    /// Its version now, for the next change.
    pub version: i64,
    /// The transitions taken, the requested one first (automatic ones follow).
    pub steps: Vec<Step>,
}

/// A document, with what the caller may see of it.
pub struct Document {
    pub(crate) document: records::Document,
    pub(crate) access: Access,
}

impl From<patto_engine::ReadableDocument> for Document {
    fn from(r: patto_engine::ReadableDocument) -> Self {
        Document {
            document: r.document,
            access: r.access,
        }
    }
}

#[Object]
impl Document {
    /// Its id.
    async fn id(&self) -> ID {
        id(self.document.id.get())
    }
    /// Unique short name.
    async fn slug(&self) -> &str {
        &self.document.slug
    }
    /// Title.
    async fn title(&self) -> &str {
        &self.document.title
    }
    /// `pact`, `protocol`, `diagnosis`, `reporting_model` or `social_report`.
    async fn kind(&self) -> &str {
        &self.document.kind
    }
    /// The published version's number, once published.
    async fn published_version(&self) -> Option<i32> {
        self.document.published_version
    }
    /// `involved` when the caller sees drafts and comments, `published` when they see
    /// the published version only.
    async fn access(&self) -> &str {
        match self.access {
            Access::Involved => "involved",
            Access::Published => "published",
            Access::Hidden => "hidden",
        }
    }
    /// The organisation that owns it.
    async fn owner(&self, ctx: &Context<'_>) -> ApiResult<Option<Organisation>> {
        organisation(ctx, self.document.owner_organisation_id).await
    }
    /// The items of approved diagnoses this document (a pact or protocol) responds to.
    async fn diagnosis_citations(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<super::diagnoses::CitedDiagnosisItem>> {
        super::diagnoses::citations_of(ctx, self.document.id).await
    }
    /// Its versions the caller may see, oldest first.
    async fn versions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Version>> {
        let versions = loaders(ctx)?
            .versions
            .load_one(self.document.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        page(
            versions,
            |v| i64::from(v.number),
            Version::from,
            after,
            first,
        )
    }
    /// Its signatory list, in signing order.
    async fn signatories(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Signatory>> {
        let list = loaders(ctx)?
            .signatories
            .load_one(self.document.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        page(list, |s| i64::from(s.position), Signatory, after, first)
    }
    /// The signatures given on it, oldest round first.
    async fn signatures(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Signature>> {
        let list = loaders(ctx)?
            .signatures
            .load_one(self.document.id)
            .await
            .map_err(load_error)?
            .unwrap_or_default();
        page(list, |s| s.id.get(), Signature, after, first)
    }
    /// The comments on a version (the latest when not given), for those involved.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        version: Option<i32>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Comment>> {
        let cx = request(ctx)?;
        let comments = engine(
            cx.engine
                .readable_comments(cx.actor, self.document.id, version)
                .await,
        )?;
        page(comments, |c| c.id.get(), Comment::from, after, first)
    }
    /// Its commitments.
    async fn commitments(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Commitment>> {
        let cx = request(ctx)?;
        let commitments = engine(
            cx.engine
                .readable_commitments(cx.actor, self.document.id)
                .await,
        )?;
        page(commitments, |c| c.id.get(), Commitment::from, after, first)
    }
    /// Its workflow instance: state and version.
    async fn instance(&self, ctx: &Context<'_>) -> ApiResult<Instance> {
        let cx = request(ctx)?;
        engine(
            cx.engine
                .readable_instance(cx.actor, self.document.id)
                .await,
        )
        .map(Instance::from)
    }
    /// The transitions leaving the current state, each with whether the caller may fire
    /// it and, if not, what stops them.
    async fn available_transitions(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<AvailableTransition>> {
        let cx = request(ctx)?;
        let transitions = engine(
            cx.engine
                .available_transitions(cx.actor, self.document.id)
                .await,
        )?;
        Ok(transitions
            .into_iter()
            .map(AvailableTransition::from)
            .collect())
    }
    /// Its audit chain, oldest first, for those involved.
    async fn history(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Event>> {
        let cx = request(ctx)?;
        let events = engine(cx.engine.readable_history(cx.actor, self.document.id).await)?;
        page(events, |e| e.seq, Event::from, after, first)
    }
    /// Its signature requests, for those involved.
    async fn signature_requests(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, SignatureRequest>> {
        let cx = request(ctx)?;
        let requests = engine(
            cx.engine
                .readable_signature_requests(cx.actor, self.document.id)
                .await,
        )?;
        page(
            requests,
            |r| r.request.id.get(),
            SignatureRequest,
            after,
            first,
        )
    }
    /// Where to download the evidence bundle of the published version.
    async fn evidence_url(&self) -> Option<String> {
        self.document
            .published_version
            .map(|number| format!("/evidence/{}/{number}.json", self.document.slug))
    }
}

pub(super) async fn person(
    ctx: &Context<'_>,
    person_id: patto_core::ids::PersonId,
) -> ApiResult<Option<Person>> {
    Ok(loaders(ctx)?
        .people
        .load_one(person_id)
        .await
        .map_err(load_error)?
        .map(Person::from))
}

async fn organisation(
    ctx: &Context<'_>,
    organisation_id: patto_core::ids::OrganisationId,
) -> ApiResult<Option<Organisation>> {
    Ok(loaders(ctx)?
        .organisations
        .load_one(organisation_id)
        .await
        .map_err(load_error)?
        .map(Organisation::from))
}
