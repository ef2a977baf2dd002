//! Queries. Each calls an engine reading service with the request's actor.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, Object};
use patto_core::ids::{PersonId, SignatureRequestId};
use patto_engine::Actor;

use super::loaders::load_error;
use super::types::{Document, Me, Organisation, SignatureRequest, SigningKey, Workflow};
use super::{id_of, loaders, page, request};
use crate::error::{ApiResult, engine};

/// The queries of the directory, documents, signing and keys.
#[derive(Default)]
pub struct LifecycleQuery;

#[Object]
impl LifecycleQuery {
    /// The logged-in person; null for the public.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Option<Me>> {
        let cx = request(ctx)?;
        match cx.actor {
            Actor::Person(id) => engine(cx.engine.person(id).await).map(|p| Some(Me::from(p))),
            Actor::System | Actor::Public => Ok(None),
        }
    }

    /// The document with this slug, if the caller may see it.
    async fn document(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Document> {
        let cx = request(ctx)?;
        engine(cx.engine.readable_document(cx.actor, &slug).await).map(Document::from)
    }

    /// The documents the caller may see, by id: drafts of those they are involved in,
    /// published ones for everyone.
    async fn documents(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Document>> {
        let cx = request(ctx)?;
        let documents = engine(cx.engine.readable_documents(cx.actor).await)?;
        let connection = page(
            documents,
            |d| d.document.id.get(),
            Document::from,
            after,
            first,
        )?;
        let shown: Vec<_> = connection
            .edges
            .iter()
            .map(|edge| {
                (
                    edge.node.document.id,
                    edge.node.document.owner_organisation_id,
                )
            })
            .collect();
        let node = ctx.look_ahead().field("edges").field("node");
        loaders(ctx)?
            .prime_documents(&node, &shown)
            .await
            .map_err(load_error)?;
        Ok(connection)
    }

    /// The organisation with this slug.
    async fn organisation(&self, ctx: &Context<'_>, slug: String) -> ApiResult<Organisation> {
        let cx = request(ctx)?;
        engine(cx.engine.organisation_by_slug(&slug).await).map(Organisation::from)
    }

    /// Every organisation of the coalition and its partners, by id.
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Organisation>> {
        let cx = request(ctx)?;
        let organisations = engine(cx.engine.organisations().await)?;
        page(
            organisations,
            |o| o.id.get(),
            Organisation::from,
            after,
            first,
        )
    }

    /// A signature request, for its signatory and those involved in the document; its
    /// `statement` is exactly what to sign.
    async fn signature_request(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SignatureRequest> {
        let cx = request(ctx)?;
        let request_id: SignatureRequestId = id_of("signature request", &id)?;
        engine(
            cx.engine
                .readable_signature_request(cx.actor, request_id)
                .await,
        )
        .map(SignatureRequest)
    }

    /// A person's signing keys, oldest first. Public keys are public: evidence bundles
    /// carry them so that anyone can check a signature.
    async fn keys(
        &self,
        ctx: &Context<'_>,
        person: ID,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, SigningKey>> {
        let cx = request(ctx)?;
        let person_id: PersonId = id_of("person", &person)?;
        let keys = engine(cx.engine.keys_of(person_id).await)?;
        page(keys, |k| k.id.get(), SigningKey::from, after, first)
    }

    /// The workflow definitions new documents start with, with their diagrams.
    async fn workflows(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, Workflow>> {
        let cx = request(ctx)?;
        let catalogue = cx.engine.catalogue();
        let workflows: Vec<Workflow> = catalogue
            .names()
            .filter_map(|name| {
                let definition = catalogue.get(name)?;
                Some(Workflow {
                    name: definition.name.clone(),
                    version: i32::try_from(definition.version).unwrap_or(i32::MAX),
                    mermaid: definition.to_mermaid(),
                    source: catalogue.source(name).unwrap_or_default().to_owned(),
                })
            })
            .collect();
        let mut numbered: Vec<(i64, Workflow)> = workflows
            .into_iter()
            .enumerate()
            .map(|(i, w)| (i64::try_from(i).unwrap_or(i64::MAX), w))
            .collect();
        numbered.sort_by_key(|(i, _)| *i);
        page(numbered, |(i, _)| *i, |(_, w)| w, after, first)
    }

    /// The sealed evidence bundle of a document version (the published one when not
    /// given) as JSON: anyone can check it offline with `patto verify`. Also served at
    /// `/evidence/{slug}/{version}.json`.
    async fn evidence(
        &self,
        ctx: &Context<'_>,
        slug: String,
        version: Option<i32>,
    ) -> ApiResult<String> {
        let cx = request(ctx)?;
        Ok(cx.evidence(&slug, version).await?)
    }
}
