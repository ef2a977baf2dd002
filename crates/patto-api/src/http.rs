//! The HTTP side of the API: `/graphql` (POST for operations; on GET, GraphiQL and its
//! assets, or subscriptions over WebSocket, see `websocket.rs`), the evidence download,
//! the body-size limit, security headers and CORS.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Request, State};
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patto_engine::{Engine, TrustedProxies};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument;

use crate::auth::{Connection, Sessions, actor_of};
use crate::error::{ApiError, Code, INTERNAL_MESSAGE};
use crate::graphiql;
use crate::schema::{ApiSchema, Loaders, RequestContext, build};
use crate::websocket::Subscriptions;

/// The largest request body accepted, in bytes: far above any real query, far below
/// what could tire the server.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// How the API is set up.
pub struct ApiConfig {
    /// Origins allowed to call the API from a browser; none by default, which keeps
    /// CORS closed.
    pub cors_origins: Vec<HeaderValue>,
    /// The largest request body accepted, in bytes.
    pub body_limit: usize,
    /// The key that seals evidence bundles.
    pub server_key: Option<Arc<patto_sign::SigningKey>>,
    /// The proxies whose `X-Forwarded-For` is believed when telling clients apart for
    /// the login rate limits; none by default.
    pub trusted_proxies: TrustedProxies,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            cors_origins: Vec::new(),
            body_limit: DEFAULT_BODY_LIMIT,
            server_key: None,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

#[derive(Clone)]
struct ApiState {
    engine: Arc<Engine>,
    sessions: Arc<dyn Sessions>,
    schema: ApiSchema,
    server_key: Option<Arc<patto_sign::SigningKey>>,
    trusted_proxies: Arc<TrustedProxies>,
    subscriptions: Subscriptions,
}

/// The API's routes, to merge into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>(
    engine: Arc<Engine>,
    sessions: Arc<dyn Sessions>,
    config: ApiConfig,
) -> Router<S> {
    let schema = build();
    let state = ApiState {
        subscriptions: Subscriptions::new(engine.clone(), sessions.clone(), schema.clone()),
        engine,
        sessions,
        schema,
        server_key: config.server_key,
        trusted_proxies: Arc::new(config.trusted_proxies),
    };
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(config.cors_origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE]);
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql))
        .route(graphiql::ASSETS_PATH, get(graphiql::asset))
        .route("/evidence/{slug}/{file}", get(evidence))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(cors)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Adds the headers every answer carries; answers to an authenticated request are
/// never stored by a cache.
async fn security_headers(request: Request, next: Next) -> Response {
    let authenticated = request.headers().contains_key(AUTHORIZATION);
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if authenticated || !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// GraphiQL for people exploring the API in a browser, or a subscription's WebSocket.
async fn graphql_get(State(state): State<ApiState>, request: Request) -> Response {
    state.subscriptions.get(request).await
}

/// Runs one GraphQL operation. The body is read whole, up to the limit (a larger one
/// gets 413 from the limit layer), then parsed here, so that a malformed body gets a
/// GraphQL error with a code rather than a bare rejection. The peer's address is known
/// when the server was started with connection info (`patto serve` always is).
async fn graphql(
    State(state): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = request_id(&headers);
    let span = tracing::info_span!("graphql", request_id = %request_id);
    async move {
        let actor = match actor_of(&headers, state.sessions.as_ref()).await {
            Ok(actor) => actor,
            Err(error) => return refusal(StatusCode::UNAUTHORIZED, &error, &request_id),
        };
        let request: async_graphql::Request = match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(error) => {
                let error = ApiError::Validation(format!(
                    "the body is not a GraphQL request ({error}); send JSON like {{\"query\": \"...\", \"variables\": {{...}}}}"
                ));
                return refusal(StatusCode::BAD_REQUEST, &error, &request_id);
            }
        };
        let (context, loaders): (RequestContext, Loaders) = (
            RequestContext {
                engine: state.engine.clone(),
                actor,
                server_key: state.server_key.clone(),
            },
            Loaders::new(state.engine.clone(), actor),
        );
        let connection = Connection::of(
            peer.map(|Extension(ConnectInfo(address))| address),
            &headers,
            &state.trusted_proxies,
        );
        let response = state
            .schema
            .execute(request.data(context).data(loaders).data(connection))
            .await;
        let mut body = match serde_json::to_value(&response) {
            Ok(body) => body,
            Err(error) => {
                let error = ApiError::Internal(format!("cannot serialise a response: {error}"));
                return refusal(StatusCode::INTERNAL_SERVER_ERROR, &error, &request_id);
            }
        };
        label_errors(&mut body, &request_id);
        with_request_id(axum::Json(body).into_response(), &request_id)
    }
    .instrument(span)
    .await
}

/// Gives every error a code and the request id. Errors the engine raised carry their
/// code already; those without one come from async-graphql itself, which rejects a
/// request that does not parse, does not validate against the schema, or goes over
/// the depth and complexity limits: all of them a problem with the request.
fn label_errors(body: &mut Value, request_id: &str) {
    let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) else {
        return;
    };
    for error in errors {
        let Some(error) = error.as_object_mut() else {
            continue;
        };
        let extensions = error
            .entry("extensions")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(extensions) = extensions.as_object_mut() {
            extensions
                .entry("code")
                .or_insert_with(|| Value::from(Code::Validation.as_str()));
            extensions.insert("requestId".to_owned(), Value::from(request_id));
            if extensions.get("code").and_then(Value::as_str) == Some(Code::Internal.as_str()) {
                error.insert(
                    "message".to_owned(),
                    Value::from(format!(
                        "{INTERNAL_MESSAGE}; the server log has the details under request id {request_id}"
                    )),
                );
            }
        }
    }
}

/// A whole request refused before execution, as a GraphQL error body.
fn refusal(status: StatusCode, error: &ApiError, request_id: &str) -> Response {
    let graphql_error = error.into_graphql();
    let mut body = json!({
        "data": null,
        "errors": [ {
            "message": graphql_error.message,
            "extensions": { "code": error.code().as_str() },
        } ],
    });
    label_errors(&mut body, request_id);
    with_request_id((status, axum::Json(body)).into_response(), request_id)
}

/// The request's id: the one the server gave it in `x-request-id` (see the binary's
/// request-id layer), or a new one when the API is mounted without that layer.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The header carrying the request id.
const REQUEST_ID: &str = "x-request-id";

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// `/evidence/{slug}/{version}.json`: the sealed evidence bundle of a version, as the
/// caller may see it (the published version for everyone).
async fn evidence(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((slug, file)): Path<(String, String)>,
) -> Response {
    let request_id = request_id(&headers);
    let span = tracing::info_span!("evidence", request_id = %request_id);
    async move {
        let Some(version) = file
            .strip_suffix(".json")
            .and_then(|n| n.parse::<i32>().ok())
        else {
            let error = ApiError::Validation(format!(
                "'{file}' is not a version file; ask for /evidence/{slug}/<version number>.json"
            ));
            return plain_error(&error, &request_id);
        };
        let actor = match actor_of(&headers, state.sessions.as_ref()).await {
            Ok(actor) => actor,
            Err(error) => return plain_error(&error, &request_id),
        };
        let context = RequestContext {
            engine: state.engine.clone(),
            actor,
            server_key: state.server_key.clone(),
        };
        match context.evidence(&slug, Some(version)).await {
            Ok(bundle) => {
                let mut response = bundle.into_response();
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                with_request_id(response, &request_id)
            }
            Err(error) => plain_error(&error, &request_id),
        }
    }
    .instrument(span)
    .await
}

fn plain_error(error: &ApiError, request_id: &str) -> Response {
    let status = status_of(error.code());
    let message = error.into_graphql().message;
    with_request_id((status, format!("{message}\n")).into_response(), request_id)
}

/// The HTTP status of a request refused whole.
fn status_of(code: Code) -> StatusCode {
    match code {
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::Conflict => StatusCode::CONFLICT,
        Code::GuardFailed | Code::InvalidSignature | Code::Validation => StatusCode::BAD_REQUEST,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
