//! The HTTP server: health and readiness probes and the GraphQL API; the public
//! portal mounts here too.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::routing::get;
use patto_api::{ApiConfig, NoSessions, Sessions};
use patto_engine::Engine;
use tokio::net::TcpListener;

use crate::config::GlobalOptions;
use crate::messages::Message;

/// The application's routes over a shared engine: the probes and the API.
pub fn router(engine: Arc<Engine>, sessions: Arc<dyn Sessions>, api: ApiConfig) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(patto_api::router(engine.clone(), sessions, api))
        .with_state(engine)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too, so a load balancer may send traffic here.
async fn readyz(State(engine): State<Arc<Engine>>) -> (StatusCode, String) {
    match engine.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(error) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {error}\n"),
        ),
    }
}

/// Migrates, binds and serves until Ctrl-C or SIGTERM. Prints the bound address on
/// stdout (useful with port 0).
pub async fn serve(
    global: &GlobalOptions,
    bind: SocketAddr,
    cors_origins: &[String],
) -> anyhow::Result<()> {
    let engine = Arc::new(global.engine().await?);
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
        ..ApiConfig::default()
    };
    // Token authentication arrives with the engine's session services; until then every
    // caller reads as the public.
    let sessions: Arc<dyn Sessions> = Arc::new(NoSessions);
    let listener = TcpListener::bind(bind).await.map_err(|error| {
        anyhow::anyhow!(
            "cannot listen on {bind}: {error}; choose another address with --bind or PATTO_BIND"
        )
    })?;
    let address = listener.local_addr()?;
    println!(
        "{}",
        Message::Listening {
            address: address.to_string(),
            target: global.database().describe(),
        }
        .text(global.language)
    );
    let language = global.language;
    axum::serve(listener, router(engine, sessions, api))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            eprintln!("{}", Message::ShuttingDown.text(language));
        })
        .await?;
    Ok(())
}

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
