//! `GET /graphql`: GraphiQL for a browser, and subscriptions over WebSocket with the
//! `graphql-transport-ws` protocol (the older `graphql-ws` one is accepted too).
//!
//! A subscriber is authenticated like any request, by a bearer token: in the
//! `connection_init` payload (`{"Authorization": "Bearer ..."}`, which is how browsers
//! and GraphiQL send it) or in the upgrade request's `Authorization` header. The actor
//! is built by [`Sessions`] from that token and nothing else. A forged, expired or
//! revoked token is refused there and then: the upgrade gets 401, and a bad
//! `connection_init` closes the connection (code 1002, with the reason) before anything
//! is acknowledged.
//!
//! Limits: at most [`MAX_CONNECTIONS`] WebSocket connections per process (503 beyond),
//! at most [`MAX_SUBSCRIPTIONS_PER_CONNECTION`] subscriptions per connection, and a
//! connection that says nothing for [`INIT_TIMEOUT`] after opening is closed.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql::futures_util::{Stream, StreamExt};
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{FromRequestParts, Request, WebSocketUpgrade};
use axum::http::header::{AUTHORIZATION, UPGRADE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use patto_engine::{Actor, Engine};
use serde_json::Value;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::{Sessions, actor_of, bearer_token};
use crate::error::ApiError;
use crate::graphiql;
use crate::schema::{ApiSchema, Subscriber};

pub use crate::schema::MAX_SUBSCRIPTIONS_PER_CONNECTION;

/// How many WebSocket connections one process keeps open at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// How long a new connection may stay silent before it is closed: a client sends
/// `connection_init` as soon as it connects.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the WebSocket side of the API needs.
#[derive(Clone)]
pub(crate) struct Subscriptions {
    pub engine: Arc<Engine>,
    pub sessions: Arc<dyn Sessions>,
    pub schema: ApiSchema,
    pub connections: Arc<Semaphore>,
}

impl Subscriptions {
    pub(crate) fn new(engine: Arc<Engine>, sessions: Arc<dyn Sessions>, schema: ApiSchema) -> Self {
        Subscriptions {
            engine,
            sessions,
            schema,
            connections: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        }
    }

    /// `GET /graphql`: a WebSocket upgrade, or else the GraphiQL page.
    pub(crate) async fn get(&self, request: Request) -> Response {
        if !request.headers().contains_key(UPGRADE) {
            return graphiql::page();
        }
        let (mut parts, _) = request.into_parts();
        let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(upgrade) => upgrade,
            Err(rejection) => return rejection.into_response(),
        };
        let Ok(protocol) = GraphQLProtocol::from_request_parts(&mut parts, &()).await else {
            return (
                StatusCode::BAD_REQUEST,
                "ask for the graphql-transport-ws subprotocol in Sec-WebSocket-Protocol\n",
            )
                .into_response();
        };
        let from_header = match self.header_session(&parts.headers).await {
            Ok(session) => session,
            Err(error) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    format!("{}\n", error.into_graphql().message),
                )
                    .into_response();
            }
        };
        let Ok(slot) = self.connections.clone().try_acquire_owned() else {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "this server has as many subscription connections open as it allows; try again later\n",
            )
                .into_response();
        };
        let this = self.clone();
        upgrade
            .protocols(ALL_WEBSOCKET_PROTOCOLS)
            .on_upgrade(move |socket| this.serve(socket, protocol, from_header, slot))
    }

    /// The session named by the upgrade request's `Authorization` header, if any.
    async fn header_session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        let actor = actor_of(headers, self.sessions.as_ref()).await?;
        let token = headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| bearer_token(Some(value)).ok())
            .map(str::to_owned);
        Ok(Session { actor, token })
    }

    async fn serve(
        self,
        socket: WebSocket,
        protocol: GraphQLProtocol,
        from_header: Session,
        slot: OwnedSemaphorePermit,
    ) {
        let (sink, input) = socket.split();
        let engine = self.engine.clone();
        let sessions = self.sessions.clone();
        GraphQLWebSocket::new_with_pair(sink, with_init_deadline(input), self.schema, protocol)
            .on_connection_init(move |payload| async move {
                let session = match payload_session(&payload, sessions.as_ref()).await {
                    Ok(Some(session)) => session,
                    Ok(None) => from_header,
                    Err(error) => return Err(async_graphql::Error::new(close_reason(&error))),
                };
                let mut data = Data::default();
                data.insert(Subscriber::new(
                    engine,
                    sessions,
                    session.actor,
                    session.token,
                ));
                Ok(data)
            })
            .serve()
            .await;
        drop(slot);
    }
}

/// Who a connection acts for, and the token that says so.
struct Session {
    actor: Actor,
    token: Option<String>,
}

/// The session named in a `connection_init` payload's `Authorization` entry (any case),
/// or `None` when it names none.
async fn payload_session(
    payload: &Value,
    sessions: &dyn Sessions,
) -> Result<Option<Session>, ApiError> {
    let Some(entry) = payload.as_object().and_then(|entries| {
        entries
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .map(|(_, value)| value)
    }) else {
        return Ok(None);
    };
    let token = bearer_token(entry.as_str())?;
    let person = sessions.authenticate(token).await?;
    Ok(Some(Session {
        actor: Actor::Person(person),
        token: Some(token.to_owned()),
    }))
}

/// The reason given when a `connection_init` is refused, which goes in the WebSocket
/// close frame: the error's code first, then as much of its message as fits in the 123
/// bytes a close frame's reason may hold.
fn close_reason(error: &ApiError) -> String {
    const MOST: usize = 123;
    let mut reason = format!(
        "{}: {}",
        error.code().as_str(),
        error.into_graphql().message
    );
    if reason.len() > MOST {
        let mut end = MOST;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
    }
    reason
}

/// The client's messages, ended when the first does not come within [`INIT_TIMEOUT`]:
/// an idle connection does not hold a slot for ever.
fn with_init_deadline<S>(mut input: S) -> impl Stream<Item = Result<Message, axum::Error>>
where
    S: Stream<Item = Result<Message, axum::Error>> + Unpin + Send,
{
    async_stream::stream! {
        match tokio::time::timeout(INIT_TIMEOUT, input.next()).await {
            Ok(Some(first)) => yield first,
            Ok(None) => return,
            Err(_) => {
                tracing::info!("closing a WebSocket connection that sent nothing after opening");
                return;
            }
        }
        while let Some(message) = input.next().await {
            yield message;
        }
    }
}
