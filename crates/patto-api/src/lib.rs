//! The GraphQL API of Patto: an async-graphql schema on axum at `/graphql` (operations
//! by POST; on GET, GraphiQL served from this server alone, or subscriptions to
//! committed events over WebSocket), the evidence download, and the limits, security
//! headers and CORS around them. It owns the schema, the mapping of every error to a stable
//! `extensions.code`, and the one place where the engine's actor is built from the
//! caller's bearer token.
//!
//! It never knows SeaORM, entities or the store: resolvers are thin and call the
//! engine's services, which decide what each actor may see and do.

mod auth;
mod coverage;
mod error;
mod graphiql;
mod http;
mod schema;
mod websocket;

pub use auth::{EngineSessions, SessionFuture, Sessions};
pub use coverage::{ENGINE_SERVICES, Exposure};
pub use error::{ApiError, Code};
pub use graphiql::GRAPHIQL_CSP;
pub use http::{ApiConfig, DEFAULT_BODY_LIMIT, router};
pub use schema::{ApiSchema, DEFAULT_PAGE, MAX_COMPLEXITY, MAX_DEPTH, MAX_PAGE, sdl};
pub use websocket::{INIT_TIMEOUT, MAX_CONNECTIONS, MAX_SUBSCRIPTIONS_PER_CONNECTION};
