//! Who the caller is. The engine's actor is built here and only here, from the bearer
//! token of the `Authorization` header: never from a field of the request, and never
//! [`Actor::System`]. A request without a token acts as [`Actor::Public`].

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use patto_core::ids::PersonId;
use patto_engine::{Actor, Engine, TrustedProxies, client_address};

use crate::error::ApiError;

/// What [`Sessions::authenticate`] returns.
pub type SessionFuture<'a> = Pin<Box<dyn Future<Output = Result<PersonId, ApiError>> + Send + 'a>>;

/// Turns a bearer token into the person it was issued to. The engine's authentication
/// services implement it; the API depends only on this boundary.
pub trait Sessions: Send + Sync + 'static {
    /// The person the token belongs to, or [`ApiError::Unauthenticated`] when the token
    /// is unknown, expired or revoked.
    fn authenticate<'a>(&'a self, token: &'a str) -> SessionFuture<'a>;
}

/// The sessions of a running server: a token is checked by the engine's
/// [`Engine::authenticate`], which knows issued, expired and revoked tokens.
pub struct EngineSessions(pub Arc<Engine>);

impl Sessions for EngineSessions {
    fn authenticate<'a>(&'a self, token: &'a str) -> SessionFuture<'a> {
        Box::pin(async move {
            let session = self.0.authenticate(token).await?;
            Ok(session.person.id)
        })
    }
}

/// The actor of a request: the token's person, or the public without a token.
pub(crate) async fn actor_of(
    headers: &HeaderMap,
    sessions: &dyn Sessions,
) -> Result<Actor, ApiError> {
    match bearer_of(headers)? {
        None => Ok(Actor::Public),
        Some(token) => Ok(Actor::Person(sessions.authenticate(token).await?)),
    }
}

/// The bearer token of the `Authorization` header, if there is one; a header of any
/// other shape is `UNAUTHENTICATED`.
pub(crate) fn bearer_of(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    match headers.get(AUTHORIZATION) {
        None => Ok(None),
        Some(value) => bearer_token(value.to_str().ok()).map(Some),
    }
}

/// The token of an `Authorization` value, which must be `Bearer <token>`.
pub(crate) fn bearer_token(value: Option<&str>) -> Result<&str, ApiError> {
    value
        .and_then(|text| text.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "the Authorization header must be `Bearer <token>`; get a token with the login mutation or `patto token create`"
                    .to_owned(),
            )
        })
}

/// What the login mutations need to know about the connection, beside the actor: the
/// client's address (for the rate limits) and the caller's bearer token (which `logout`
/// revokes).
#[derive(Clone, Debug)]
pub(crate) struct Connection {
    /// The client's address: the peer of the connection, or the address a trusted proxy
    /// forwarded for; `None` when the server was mounted without connection info.
    pub client: Option<IpAddr>,
    /// The caller's bearer token, already checked by [`actor_of`].
    pub bearer: Option<String>,
}

impl Connection {
    /// The connection of a request from `peer` (when known) with these headers.
    pub(crate) fn of(
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
        trusted: &TrustedProxies,
    ) -> Connection {
        let forwarded: Vec<&str> = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        Connection {
            client: peer.map(|peer| client_address(peer.ip(), &forwarded, trusted)),
            bearer: bearer_of(headers).ok().flatten().map(str::to_owned),
        }
    }
}

/// `X-Forwarded-For`, believed only as far as trusted proxies wrote it.
const X_FORWARDED_FOR: &str = "x-forwarded-for";
