//! DataLoaders: the versions, signatories, signatures, people and organisations of a
//! page of documents, each fetched in one batch through the engine's reading services
//! with the request's actor, so that visibility is decided in the engine as always.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Lookahead;
use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use patto_core::ids::{DocumentId, OrganisationId, PersonId};
use patto_core::records::{DocumentVersion, Organisation, Person, Signatory, SignatureRequest};
use patto_engine::{Actor, Engine};

use crate::error::ApiError;

/// One loader, caching what it loaded for the rest of the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// The DataLoaders of one request.
pub struct Loaders {
    /// Versions by document.
    pub versions: Cached<Versions>,
    /// Signatory lists by document.
    pub signatories: Cached<Signatories>,
    /// Signatures given, by document.
    pub signatures: Cached<Signatures>,
    /// People by id.
    pub people: Cached<People>,
    /// Organisations by id.
    pub organisations: Cached<Organisations>,
}

impl Loaders {
    /// Fresh loaders for one request of `actor`.
    pub fn new(engine: Arc<Engine>, actor: Actor) -> Loaders {
        let source = || Source {
            engine: engine.clone(),
            actor,
        };
        Loaders {
            versions: cached(Versions(source())),
            signatories: cached(Signatories(source())),
            signatures: cached(Signatures(source())),
            people: cached(People(source())),
            organisations: cached(Organisations(source())),
        }
    }

    /// Loads, in one batch per kind, what the selection `node` asks of these documents,
    /// before their fields resolve. Batching by a DataLoader alone depends on every
    /// field asking within its delay, which a busy server does not promise; loading the
    /// page's needs up front makes its cost the same whatever the timing.
    pub async fn prime_documents(
        &self,
        node: &Lookahead<'_>,
        documents: &[(DocumentId, OrganisationId)],
    ) -> Result<(), LoadError> {
        let ids: Vec<DocumentId> = documents.iter().map(|(id, _)| *id).collect();
        let mut people = Vec::new();
        let mut organisations = Vec::new();
        if node.field("owner").exists() {
            organisations.extend(documents.iter().map(|(_, owner)| *owner));
        }
        if node.field("versions").exists() {
            self.versions.load_many(ids.iter().copied()).await?;
        }
        let signatories = node.field("signatories").field("edges").field("node");
        if signatories.exists() {
            for list in self
                .signatories
                .load_many(ids.iter().copied())
                .await?
                .values()
            {
                people.extend(list.iter().map(|s| s.person_id));
                organisations.extend(list.iter().map(|s| s.organisation_id));
            }
        }
        let signatures = node.field("signatures").field("edges").field("node");
        if signatures.exists() {
            for list in self
                .signatures
                .load_many(ids.iter().copied())
                .await?
                .values()
            {
                people.extend(list.iter().map(|s| s.person_id));
                organisations.extend(list.iter().map(|s| s.organisation_id));
            }
        }
        if !people.is_empty() {
            self.people.load_many(people).await?;
        }
        if !organisations.is_empty() {
            self.organisations.load_many(organisations).await?;
        }
        Ok(())
    }
}

fn cached<T>(loader: T) -> Cached<T> {
    DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default())
}

/// What every loader reads through: the engine, as the request's actor.
pub struct Source {
    engine: Arc<Engine>,
    actor: Actor,
}

/// Loader errors are shared between the fields that waited on one batch.
pub type LoadError = Arc<ApiError>;

fn shared(error: patto_engine::EngineError) -> LoadError {
    Arc::new(ApiError::Engine(error))
}

/// Versions by document.
pub struct Versions(Source);
/// Signatory lists by document.
pub struct Signatories(Source);
/// Signatures given, by document.
pub struct Signatures(Source);
/// People by id.
pub struct People(Source);
/// Organisations by id.
pub struct Organisations(Source);

impl Loader<DocumentId> for Versions {
    type Value = Vec<DocumentVersion>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Self::Value>, Self::Error> {
        self.0
            .engine
            .readable_versions(self.0.actor, keys)
            .await
            .map_err(shared)
    }
}

impl Loader<DocumentId> for Signatories {
    type Value = Vec<Signatory>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Self::Value>, Self::Error> {
        self.0
            .engine
            .readable_signatories(self.0.actor, keys)
            .await
            .map_err(shared)
    }
}

impl Loader<DocumentId> for Signatures {
    type Value = Vec<SignatureRequest>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DocumentId],
    ) -> Result<HashMap<DocumentId, Self::Value>, Self::Error> {
        self.0
            .engine
            .readable_signatures(self.0.actor, keys)
            .await
            .map_err(shared)
    }
}

impl Loader<PersonId> for People {
    type Value = Person;
    type Error = LoadError;

    async fn load(&self, keys: &[PersonId]) -> Result<HashMap<PersonId, Person>, Self::Error> {
        let people = self
            .0
            .engine
            .people_by_ids(keys.to_vec())
            .await
            .map_err(shared)?;
        Ok(people.into_iter().map(|p| (p.id, p)).collect())
    }
}

impl Loader<OrganisationId> for Organisations {
    type Value = Organisation;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[OrganisationId],
    ) -> Result<HashMap<OrganisationId, Organisation>, Self::Error> {
        let organisations = self
            .0
            .engine
            .organisations_by_ids(keys)
            .await
            .map_err(shared)?;
        Ok(organisations.into_iter().map(|o| (o.id, o)).collect())
    }
}

/// Turns a loader error into the GraphQL error of the field that waited on it; several
/// fields may share one failure, and each reports it with the same code.
pub(crate) fn load_error(error: LoadError) -> async_graphql::Error {
    error.into_graphql()
}
