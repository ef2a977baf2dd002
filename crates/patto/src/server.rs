//! The HTTP server. For now it answers health and readiness probes; the API and the
//! public portal mount here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use patto_core::Language;
use patto_engine::Engine;
use tokio::net::TcpListener;

use crate::config::GlobalOptions;
use crate::messages::Message;

/// The application's routes over a shared engine.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(engine)
}

/// Alive: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers too, so a load balancer may send traffic here. The cause
/// of a failure goes to the log only: database errors can name hosts, users and paths,
/// and this endpoint answers anyone.
async fn readyz(State(engine): State<Arc<Engine>>) -> (StatusCode, &'static str) {
    match engine.store().ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::error!(error = %error, "not ready: the database does not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
        }
    }
}

/// Migrates, binds and serves until Ctrl-C or SIGTERM. Prints the bound address on
/// stdout (useful with port 0).
pub async fn serve(global: &GlobalOptions, bind: SocketAddr) -> anyhow::Result<()> {
    let engine = Arc::new(global.engine().await?);
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
    global.server_key()?;
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
    axum::serve(listener, router(engine))
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
