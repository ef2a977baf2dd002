//! The command line's online signing against servers it should not believe: a fake
//! server, started by the test on port 0, answers `patto sign --server --request R` with a
//! genuine-looking statement that belongs to another request, document, version,
//! organisation or person. The command must refuse before signing, and nothing may reach
//! `submitSignature`. A control case, answered consistently, shows that the fake server
//! is good enough to be signed on, so that each refusal is the check's doing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use patto_core::Language;
use patto_core::ids::SignatureRequestId;
use serde_json::{Value, json};

/// The request the command is asked to sign.
const REQUEST: i64 = 41;
/// The logged-in person, as the fake server knows them.
const ME_ID: i64 = 7;
const ME_EMAIL: &str = "sindaco@comune-demo.example.org";
const ME_NAME: &str = "Rosa Sindaco (demo)";

/// The genuine statement of `REQUEST` for the logged-in person.
fn genuine() -> patto_sign::Statement {
    patto_sign::Statement::new(
        REQUEST,
        3,
        "patto",
        "Patto di collaborazione (demo)",
        2,
        &"ab".repeat(32),
        ME_ID,
        ME_NAME,
        11,
        "Comune Demo",
        "endorse",
        "2026-11-27T10:00:00.000000Z",
    )
}

/// What the fake server says about `REQUEST` and the caller, as the real one would for
/// the genuine statement, with `statement` as the statement it hands out.
fn answer_for(statement: &patto_sign::Statement) -> Value {
    let honest = genuine();
    json!({
        "me": { "id": ME_ID.to_string(), "name": ME_NAME, "email": ME_EMAIL, "language": "it" },
        "signatureRequest": {
            "id": REQUEST.to_string(),
            "status": "pending",
            "documentSlug": honest.document.slug,
            "versionNumber": honest.version,
            "intent": honest.intent,
            "organisation": honest.signatory.organisation.name,
            "position": 1,
            "person": { "id": ME_ID.to_string(), "name": ME_NAME },
            "statement": statement.to_canonical(),
            "reason": null,
        }
    })
}

/// A GraphQL server that answers every query with `answer` and every mutation by
/// recording it, so that the test sees whether anything was submitted.
#[derive(Clone)]
struct FakeServer {
    answer: Value,
    submitted: Arc<Mutex<Vec<Value>>>,
}

async fn fake_graphql(
    State(fake): State<FakeServer>,
    axum::Json(body): axum::Json<Value>,
) -> axum::Json<Value> {
    let query = body["query"].as_str().unwrap_or_default();
    if query.trim_start().starts_with("mutation") {
        fake.submitted.lock().unwrap().push(body.clone());
        return axum::Json(json!({ "data": { "submitSignature": { "state": "signing" } } }));
    }
    axum::Json(json!({ "data": fake.answer }))
}

/// Starts the fake server on port 0; returns its base address and what was submitted.
async fn start_fake(answer: Value) -> (String, Arc<Mutex<Vec<Value>>>) {
    let fake = FakeServer {
        answer,
        submitted: Arc::default(),
    };
    let submitted = fake.submitted.clone();
    let app = axum::Router::new()
        .route("/graphql", post(fake_graphql))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), submitted)
}

/// A scratch directory with a private signing key and a sessions file holding a session
/// for `server`, as `patto login` would have left them.
struct Signer {
    dir: PathBuf,
    key: PathBuf,
    key_pair: patto_sign::SigningKey,
    server: patto::online::ServerArgs,
}

impl Signer {
    fn logged_in_to(server: &str) -> Signer {
        let dir = std::env::temp_dir().join(format!("patto-online-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("firma.pem");
        let key_pair = patto_sign::generate_key();
        patto::files::write_private(
            &key,
            patto_sign::secret_key_to_pem(&key_pair).unwrap().as_bytes(),
            patto::files::Existing::Keep,
        )
        .unwrap();
        let args = patto::online::ServerArgs {
            server: server.to_owned(),
            sessions_file: Some(dir.join("sessions.json")),
        };
        let sessions = patto::online::Sessions::of(&args, Language::En).unwrap();
        let url = patto::online::ServerUrl::parse(server, Language::En).unwrap();
        sessions
            .put(
                &url,
                patto::online::StoredSession {
                    email: ME_EMAIL.to_owned(),
                    token: "a-session-token".to_owned(),
                    expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
                },
            )
            .unwrap();
        Signer {
            dir,
            key,
            key_pair,
            server: args,
        }
    }

    /// Runs what `patto --lang en sign --server S --request REQUEST --key K --yes` runs.
    async fn sign(&self) -> Result<std::process::ExitCode, String> {
        patto::online::sign(
            &global(&self.dir),
            &self.server,
            SignatureRequestId::new(REQUEST),
            &self.key,
            None,
            true,
        )
        .await
        .map_err(|error| format!("{error:#}"))
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub(crate) fn global(dir: &Path) -> patto::config::GlobalOptions {
    patto::config::GlobalOptions {
        data_dir: dir.join("unused"),
        database_url: None,
        workflows_dir: None,
        server_key: None,
        operator: None,
        language: Language::En,
    }
}

#[tokio::test]
async fn a_consistent_statement_is_signed_and_submitted() {
    let statement = genuine();
    let (server, submitted) = start_fake(answer_for(&statement)).await;
    let signer = Signer::logged_in_to(&server);
    let outcome = signer.sign().await;
    assert!(outcome.is_ok(), "{outcome:?}");
    let submitted = submitted.lock().unwrap();
    assert_eq!(submitted.len(), 1, "one submission");
    let variables = &submitted[0]["variables"];
    assert_eq!(variables["r"], REQUEST.to_string());
    assert_eq!(variables["t"], statement.to_canonical());
    let signature = patto_sign::decode_signature(variables["s"].as_str().unwrap()).unwrap();
    patto_sign::verify(
        &signer.key_pair.verifying_key(),
        statement.to_canonical().as_bytes(),
        &signature,
    )
    .unwrap();
}

#[tokio::test]
async fn a_statement_of_another_request_is_refused_and_nothing_is_submitted() {
    // Each case is the genuine statement with what belongs to another request: its id,
    // its document, its version, its organisation, its person, its intent.
    let mut cases: Vec<(&str, patto_sign::Statement)> = Vec::new();
    let mut other = genuine();
    other.request = REQUEST + 1;
    cases.push(("request", other));
    let mut other = genuine();
    other.document.id = 4;
    other.document.slug = "protocollo-rifiuti".to_owned();
    other.document.title = Some("Protocollo rifiuti (demo)".to_owned());
    cases.push(("document", other));
    let mut other = genuine();
    other.version = 1;
    cases.push(("version", other));
    let mut other = genuine();
    other.signatory.organisation.id = 12;
    other.signatory.organisation.name = "Comune Vicino".to_owned();
    cases.push(("organisation", other));
    let mut other = genuine();
    other.signatory.person.id = ME_ID + 1;
    other.signatory.person.name = Some("Altra Persona (demo)".to_owned());
    cases.push(("person", other));
    let mut other = genuine();
    other.intent = "approve".to_owned();
    cases.push(("intent", other));

    for (what, statement) in cases {
        let (server, submitted) = start_fake(answer_for(&statement)).await;
        let signer = Signer::logged_in_to(&server);
        let refused = signer.sign().await;
        let error = match refused {
            Ok(code) => panic!("a statement of another {what} was signed ({code:?})"),
            Err(error) => error,
        };
        assert!(
            error.contains(&format!("request {REQUEST}")) && error.contains("nothing was signed"),
            "{what}: {error}"
        );
        assert!(
            submitted.lock().unwrap().is_empty(),
            "{what}: nothing is submitted"
        );
    }
}
