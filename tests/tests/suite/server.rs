//! The server and the demo, end to end: the demo data loads through the engine, then the
//! real router answers on a port-0 socket over real HTTP.

use std::sync::Arc;

use patto::config::GlobalOptions;
use patto_core::Language;
use patto_core::status::SignatureRequestStatus;
use patto_core::workflow::Catalogue;
use patto_engine::{DatabaseConfig, Engine};
use patto_tests::{TestDatabase, http_get, on_both_backends};

on_both_backends!(demo_then_serve, readiness_follows_the_database);

fn options(database: &TestDatabase) -> GlobalOptions {
    let database_url = match &database.config {
        DatabaseConfig::DataDir(_) => None,
        DatabaseConfig::Url(url) => Some(url.clone()),
    };
    GlobalOptions {
        data_dir: database.dir.clone(),
        database_url,
        server_key: None,
        operator: None,
        workflows_dir: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../workflows").into()),
        language: Language::En,
    }
}

async fn spawn_server(engine: Arc<Engine>) -> std::net::SocketAddr {
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
    address
}

async fn demo_then_serve(database: TestDatabase) {
    let global = options(&database);
    let loaded = patto::demo::load(&global).await.unwrap();
    assert_eq!(loaded, std::process::ExitCode::SUCCESS);
    // A second load is refused and adds nothing.
    let engine = Arc::new(global.engine().await.unwrap());
    let before = engine.organisations().await.unwrap().len();
    // The coalition, the 28 Comuni, 9 partners and the decision body (which adopts the
    // coalition's social report).
    assert_eq!(before, 1 + 28 + 9 + 1);
    let again = patto::demo::load(&global).await.unwrap();
    assert_eq!(again, std::process::ExitCode::FAILURE);
    assert_eq!(engine.organisations().await.unwrap().len(), before);

    // The demo's pact was commented, signed by every signatory and is in force, as are
    // two of its protocols; the third is still being drafted.
    let pact = engine
        .document_by_slug("patto-sicurezza-legalita")
        .await
        .unwrap();
    assert_eq!(engine.instance_of(pact.id).await.unwrap().state, "in_force");
    assert_eq!(engine.comments(pact.id, None).await.unwrap().len(), 2);
    let requests = engine.signature_requests(pact.id).await.unwrap();
    assert_eq!(requests.len(), 5);
    assert!(
        requests
            .iter()
            .all(|r| r.request.status == SignatureRequestStatus::Signed)
    );
    assert!(database.dir.join("demo-keys/README.txt").exists());
    for (slug, state) in [
        ("protocollo-appalti-pubblici", "implementation"),
        ("protocollo-beni-confiscati", "implementation"),
        ("protocollo-videosorveglianza", "drafting"),
    ] {
        let protocol = engine.document_by_slug(slug).await.unwrap();
        assert_eq!(engine.instance_of(protocol.id).await.unwrap().state, state);
    }
    let cefalu = engine.organisation_by_slug("cefalu").await.unwrap();
    assert_eq!(cefalu.istat_code.as_deref(), Some("082027"));
    for verdict in engine.verify_all_chains().await.unwrap() {
        assert_eq!(verdict.problem, None, "{}", verdict.chain);
    }
    let mail = engine.outbox(None).await.unwrap();
    assert!(!mail.is_empty());
    assert!(mail.iter().all(|m| m.recipient.ends_with("@example.org")));

    let address = spawn_server(engine).await;
    assert_eq!(http_get(address, "/healthz").await.0, 200);
    let (status, body) = http_get(address, "/readyz").await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    assert_eq!(http_get(address, "/no-such-page").await.0, 404);
}

async fn readiness_follows_the_database(database: TestDatabase) {
    let store = database.store().await;
    let engine = Arc::new(Engine::new(store.clone(), Catalogue::shipped().unwrap()));
    let address = spawn_server(engine).await;
    assert_eq!(http_get(address, "/readyz").await.0, 200);
    // With its database gone the server stays alive but stops saying it is ready.
    store.close().await.unwrap();
    assert_eq!(http_get(address, "/healthz").await.0, 200);
    // It says only that: the cause goes to the log, not to whoever asks.
    let (status, body) = http_get(address, "/readyz").await;
    assert_eq!((status, body.as_str()), (503, "not ready\n"));
}
