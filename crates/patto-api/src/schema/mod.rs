//! The GraphQL schema: queries, mutations, the types they return, cursor connections
//! and the DataLoaders that keep a page of documents at a constant number of queries.
//! Resolvers are thin: each calls one engine service with the request's actor, and the
//! engine decides what that actor may see or do.

mod consultation;
mod diagnoses;
mod loaders;
mod login;
mod mutation;
mod outbox;
mod query;
mod reporting;
mod reports;
mod reviews;
mod subscription;
mod substitution;
mod types;

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, MergedObject, MergedSubscription, OutputType, Schema};
use patto_engine::{Actor, Engine};

use crate::error::{ApiError, ApiResult};

pub use loaders::Loaders;
pub use subscription::MAX_SUBSCRIPTIONS_PER_CONNECTION;
pub(crate) use subscription::Subscriber;

// Each root is merged from parts, one module per area of the API (reviews, reporting,
// login...), so that an area adds its fields without touching the others.

/// The root of every query.
#[derive(MergedObject, Default)]
pub struct Query(
    query::LifecycleQuery,
    reviews::ReviewQuery,
    reporting::ReportingQuery,
    reports::ReportQuery,
    diagnoses::DiagnosisQuery,
    outbox::OutboxQuery,
    consultation::ConsultationQuery,
);

/// The root of every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::LifecycleMutation,
    reviews::ReviewMutation,
    reporting::ReportingMutation,
    reports::ReportMutation,
    diagnoses::DiagnosisMutation,
    outbox::OutboxMutation,
    substitution::SubstitutionMutation,
    login::LoginMutation,
    consultation::ConsultationMutation,
);

/// The root of every subscription (over WebSocket, see `websocket.rs`).
#[derive(MergedSubscription, Default)]
pub struct Subscription(subscription::LifecycleSubscription);

/// The schema type.
pub type ApiSchema = Schema<Query, Mutation, Subscription>;

/// How deep a query may nest. The deepest query a client sends is the standard
/// introspection query of GraphiQL and other tools (graphql-js's `getIntrospectionQuery`):
/// a field's argument's type through nine `ofType` is 15 levels. The deepest useful query
/// of the schema's own fields (a document's signatures' signer through connections) is
/// well under it; the complexity limit still bounds what a deep query costs.
pub const MAX_DEPTH: usize = 16;
/// How many fields a query may ask for in all, aliases included: it stops queries that
/// repeat one costly field thousands of times.
pub const MAX_COMPLEXITY: usize = 500;
/// Items per page when `first` is not given.
pub const DEFAULT_PAGE: usize = 50;
/// The most items one page may ask for.
pub const MAX_PAGE: usize = 100;

/// The schema with its limits.
pub fn build() -> ApiSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(MAX_DEPTH * 2)
    .limit_directives(8)
    .finish()
}

/// The schema in GraphQL SDL, as `patto schema` prints it and `schema.graphql` keeps it.
pub fn sdl() -> String {
    build().sdl()
}

/// What every resolver of one request shares: the engine, who is asking, and the
/// server key that seals evidence bundles.
pub(crate) struct RequestContext {
    pub engine: Arc<Engine>,
    pub actor: Actor,
    pub server_key: Option<Arc<patto_sign::SigningKey>>,
}

impl RequestContext {
    /// The sealed evidence bundle of a document version, as the actor may see it.
    pub(crate) async fn evidence(
        &self,
        slug: &str,
        version: Option<i32>,
    ) -> Result<String, ApiError> {
        let key = self.server_key.as_deref().ok_or_else(|| {
            ApiError::Internal("this server has no key to seal evidence bundles".to_owned())
        })?;
        Ok(self
            .engine
            .readable_evidence(self.actor, slug, version, key)
            .await?)
    }
}

/// The request's context.
pub(crate) fn request<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestContext> {
    ctx.data::<RequestContext>()
        .map_err(|_| internal("the request context is missing"))
}

/// The request's DataLoaders.
pub(crate) fn loaders<'a>(ctx: &Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|_| internal("the request's data loaders are missing"))
}

fn internal(what: &str) -> async_graphql::Error {
    ApiError::Internal(what.to_owned()).into_graphql()
}

/// A page of `items` (sorted by `key`, ascending) after the cursor `after`, at most
/// `first` long. The cursor is the key of the last item seen, so a page stays right
/// when items are added after it.
pub(crate) fn page<R, T: OutputType>(
    items: Vec<R>,
    key: impl Fn(&R) -> i64,
    node: impl Fn(R) -> T,
    after: Option<String>,
    first: Option<i32>,
) -> ApiResult<Connection<String, T>> {
    let first = match first {
        None => DEFAULT_PAGE,
        Some(n) if n >= 1 && (n as usize) <= MAX_PAGE => n as usize,
        Some(n) => {
            return Err(ApiError::Validation(format!(
                "first must be between 1 and {MAX_PAGE}, not {n}; ask for the next page with `after`"
            ))
            .into());
        }
    };
    let after = match after {
        None => None,
        Some(cursor) => Some(cursor.parse::<i64>().map_err(|_| {
            ApiError::Validation(format!(
                "'{cursor}' is not a cursor this API gave; pass the endCursor of the previous page"
            ))
        })?),
    };
    let has_previous = after.is_some();
    let mut rest = items
        .into_iter()
        .filter(|item| after.is_none_or(|after| key(item) > after))
        .peekable();
    let mut edges = Vec::new();
    while edges.len() < first {
        match rest.next() {
            Some(item) => edges.push(Edge::new(key(&item).to_string(), node(item))),
            None => break,
        }
    }
    let has_next = rest.peek().is_some();
    let mut connection = Connection::new(has_previous, has_next);
    connection.edges = edges;
    Ok(connection)
}

/// Parses an id argument.
pub(crate) fn id_of<T: std::str::FromStr>(what: &str, id: &async_graphql::ID) -> ApiResult<T> {
    id.parse::<T>().map_err(|_| {
        ApiError::Validation(format!(
            "'{}' is not a {what} id; ids are the numbers this API returns in `id` fields",
            id.as_str()
        ))
        .into()
    })
}

/// Parses a named value (a role, a kind, a category...).
pub(crate) fn name_of<T>(value: &str) -> ApiResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value
        .parse::<T>()
        .map_err(|error: T::Err| ApiError::Validation(error.to_string()).into())
}
