//! The HTTP server: health and readiness probes, the GraphQL API and the public portal
//! at `/`. Beside it run the review worker of `patto-scheduler` and the mail
//! worker. Every request gets an id, carried by its log lines and returned in
//! `x-request-id`.

use std::net::SocketAddr;
use std::sync::Arc;

use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use patto_api::{ApiConfig, EngineSessions, Sessions};
use patto_core::Language;
use patto_engine::{Engine, TrustedProxies};
use patto_scheduler::{SystemClock, Worker};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::config::{GlobalOptions, MailOptions, ReviewWorkerOptions};
use crate::messages::Message;

/// The header that carries a request's id, in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The application's routes over a shared engine: the probes, the API and the portal,
/// which answers every address the others do not (with its 404 page for unknown ones).
pub fn router(engine: Arc<Engine>, sessions: Arc<dyn Sessions>, api: ApiConfig) -> Router {
    let portal = patto_portal::PortalConfig {
        server_fingerprint: api
            .server_key
            .as_ref()
            .map(|key| patto_sign::fingerprint(&key.verifying_key())),
        trusted_proxies: api.trusted_proxies.clone(),
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(patto_api::router(engine.clone(), sessions, api))
        .merge(patto_portal::router(engine.clone(), portal))
        .layer(middleware::from_fn(with_request_id))
        .with_state(engine)
}

/// Gives every request an id, runs it inside a span that carries the id (so every log
/// line written while serving it names the request), and returns the id in the
/// `x-request-id` response header so that a caller can quote it. A caller's own id is
/// kept when it is short and printable, so that ids can follow a request across
/// services; otherwise a new one is made.
async fn with_request_id(mut request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned);
    let id = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).ok();
    if let Some(value) = &header {
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, value.clone());
    }
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), duration_ms, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), duration_ms, "request served");
        }
    });
    if let Some(value) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too, so a load balancer may send traffic here. The cause
/// of a failure goes to the log only: database errors can name hosts, users and paths,
/// and this endpoint answers anyone.
async fn readyz(State(engine): State<Arc<Engine>>) -> (StatusCode, &'static str) {
    match engine.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::error!(error = %error, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
        }
    }
}

/// Migrates, binds and serves until Ctrl-C or SIGTERM. Prints the bound address on
/// stdout (useful with port 0).
pub async fn serve(
    global: &GlobalOptions,
    bind: SocketAddr,
    cors_origins: &[String],
    trusted_proxies: TrustedProxies,
    mail: &MailOptions,
    reviews: &ReviewWorkerOptions,
) -> anyhow::Result<()> {
    let mail = mail.config()?;
    let engine = Arc::new(global.engine().await?);
    // Built before listening, so that a bad mail configuration stops the start.
    let mail_worker = match &mail {
        Some(config) => Some((
            patto_notify::Worker::new(engine.clone(), config)?,
            patto_notify::describe_smtp_url(&config.smtp_url),
        )),
        None => None,
    };
    // Which definitions are in use is said at every start: a ./workflows folder in the
    // working directory replaces the built-in ones, and that must never go unnoticed.
    let definitions = global.definitions_source();
    let names: Vec<&str> = engine.catalogue().names().collect();
    let names = names.join(", ");
    tracing::info!(
        source = %definitions.describe(Language::En),
        definitions = %names,
        "workflow definitions in use"
    );
    eprintln!(
        "{}",
        Message::DefinitionsInUse {
            source: definitions.describe(global.language),
            names,
        }
        .text(global.language)
    );
    // Created on first start, so that evidence can be sealed from then on.
    let server_key = global.server_key()?;
    let cors_origins = cors_origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin.trim()).map_err(|_| {
                anyhow::anyhow!(
                    "'{origin}' is not a valid origin for PATTO_CORS_ORIGINS; write it like https://portale.example.org"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let api = ApiConfig {
        cors_origins,
        server_key: Some(Arc::new(server_key)),
        trusted_proxies,
        ..ApiConfig::default()
    };
    let sessions: Arc<dyn Sessions> = Arc::new(EngineSessions(engine.clone()));
    let listener = TcpListener::bind(bind).await.map_err(|error| {
        anyhow::anyhow!(
            "cannot listen on {bind}: {error}; choose another address with --bind or PATTO_BIND"
        )
    })?;
    let address = listener.local_addr()?;
    tracing::info!(
        address = %address,
        backend = engine.backend().name(),
        database = %global.database().describe(),
        "listening"
    );
    println!(
        "{}",
        Message::Listening {
            address: address.to_string(),
            target: global.database().describe(),
        }
        .text(global.language)
    );
    // Every server runs the review worker: the engine's unique keys make each
    // checkpoint and reminder fire once however many servers share the database.
    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    let review_worker = tokio::spawn(
        Worker::new(engine.clone(), Arc::new(SystemClock), reviews.config()).run(stopped),
    );
    let language = global.language;
    start_mail_worker(mail_worker, language);
    // With each connection's address, which the login rate limits count by.
    let app = router(engine, sessions, api).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            eprintln!("{}", Message::ShuttingDown.text(language));
        })
        .await;
    // A checkpoint in progress finishes (or rolls back) in its own transaction; the
    // worker stops between ticks.
    let _ = stop_worker.send(true);
    if let Err(error) = review_worker.await {
        tracing::error!(error = %error, "the review worker ended abnormally");
    }
    served?;
    Ok(())
}

/// Starts the mail worker in the background, or says once that mail stays queued.
fn start_mail_worker(
    worker: Option<(patto_notify::Worker, String)>,
    language: patto_core::Language,
) {
    let Some((worker, server)) = worker else {
        tracing::warn!("mail is not configured: set PATTO_SMTP_URL; mail stays queued");
        eprintln!("{}", Message::MailNotConfigured.text(language));
        return;
    };
    tracing::info!(smtp = %server, "mail worker started");
    eprintln!("{}", Message::MailWorkerStarted { server }.text(language));
    tokio::spawn(worker.run(MAIL_POLL_INTERVAL));
}

/// How often the mail worker looks for due mail: a login code should arrive within
/// seconds.
const MAIL_POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
