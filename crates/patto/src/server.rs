//! The HTTP server. For now it answers health and readiness probes; the API and the
//! public portal mount here.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use patto_engine::Engine;
use tokio::net::TcpListener;

use crate::config::{GlobalOptions, MailOptions};
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
    mail: &MailOptions,
) -> anyhow::Result<()> {
    let mail = mail.config()?;
    let engine = Arc::new(global.engine().await?);
    // Built before listening, so that a bad mail configuration stops the start.
    let worker = match &mail {
        Some(config) => Some((
            patto_notify::Worker::new(engine.clone(), config)?,
            patto_notify::describe_smtp_url(&config.smtp_url),
        )),
        None => None,
    };
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
    start_mail_worker(worker, language);
    axum::serve(listener, router(engine))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            eprintln!("{}", Message::ShuttingDown.text(language));
        })
        .await?;
    Ok(())
}

/// Starts the mail worker in the background, or says once that mail stays queued.
fn start_mail_worker(
    worker: Option<(patto_notify::Worker, String)>,
    language: patto_core::Language,
) {
    let Some((worker, server)) = worker else {
        eprintln!("{}", Message::MailNotConfigured.text(language));
        return;
    };
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
