//! What the logs say: an internal failure with its cause and its request id, and slow
//! statements. Each test installs a subscriber that writes into a buffer, on a
//! single-threaded runtime so that every task (server included) logs through it.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use patto_core::workflow::Catalogue;
use patto_engine::Engine;
use patto_tests::TestDatabase;
use tracing::Dispatch;
use tracing::subscriber::DefaultGuard;

/// Log output collected in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

/// Keeps a capture installed; dropping it ends the capture.
struct CaptureGuard {
    _default: DefaultGuard,
    _anchor: Dispatch,
}

impl Captured {
    /// Captures everything logged on this thread until the guard is dropped.
    ///
    /// `tracing` caches each callsite's interest for the whole process. While at most
    /// one dispatcher exists, a callsite first reached by another test's thread (which
    /// has no subscriber) is cached as "never", and the capture would miss it. A second,
    /// inert dispatcher held alongside makes `tracing` ask every dispatcher instead, and
    /// the cache is rebuilt once both exist.
    fn install() -> (Captured, CaptureGuard) {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let anchor = Dispatch::new(tracing_subscriber::registry());
        let guard = CaptureGuard {
            _default: tracing::subscriber::set_default(subscriber),
            _anchor: anchor,
        };
        tracing::callsite::rebuild_interest_cache();
        (captured, guard)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `/readyz` tells the outside only "not ready"; the log gets the database's error,
/// inside the span of the request that met it, so the request id leads to the cause.
#[tokio::test(flavor = "current_thread")]
async fn a_failed_readiness_check_is_logged_with_its_cause_and_request_id() {
    let (captured, _guard) = Captured::install();
    let database = TestDatabase::sqlite();
    let store = database.store().await;
    let engine = Arc::new(Engine::new(store.clone(), Catalogue::shipped().unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let sessions = Arc::new(patto_api::EngineSessions(engine.clone()));
        axum::serve(
            listener,
            patto::server::router(engine, sessions, patto_api::ApiConfig::default()),
        )
        .await
        .unwrap();
    });
    store.close().await.unwrap();
    let answer = patto_tests::http_client()
        .get(format!("http://{address}/readyz"))
        .header("x-request-id", "probe-7")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 503);
    assert_eq!(answer.headers()["x-request-id"], "probe-7");
    assert_eq!(answer.text().await.unwrap(), "not ready\n");
    let logged = captured.text();
    let line = logged
        .lines()
        .find(|line| line.contains("not ready: the database does not answer"))
        .unwrap_or_else(|| panic!("no log of the failure in {logged}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("request_id=probe-7"), "{line}");
    assert!(line.contains("Connection closed"), "{line}");
}

/// A statement slower than the threshold is logged at `warn` with its text. PostgreSQL
/// can sleep on demand, which makes a statement slow without depending on the machine.
#[tokio::test(flavor = "current_thread")]
async fn slow_statements_are_logged() {
    let Some(database) = TestDatabase::postgres().await else {
        return;
    };
    let (captured, _guard) = Captured::install();
    let store = database.store().await;
    let sleep = patto_store::SLOW_STATEMENT_THRESHOLD + Duration::from_millis(50);
    store
        .execute_raw(&format!("SELECT pg_sleep({})", sleep.as_secs_f64()))
        .await
        .unwrap();
    store.execute_raw("SELECT 1").await.unwrap();
    let logged = captured.text();
    let slow: Vec<&str> = logged
        .lines()
        .filter(|line| line.contains("slow statement"))
        .collect();
    assert_eq!(slow.len(), 1, "{logged}");
    assert!(slow[0].contains("WARN"), "{}", slow[0]);
    assert!(slow[0].contains("pg_sleep"), "{}", slow[0]);
}
