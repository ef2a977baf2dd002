//! The command line's online commands over HTTPS, and against servers they should not
//! believe.
//!
//! Over HTTPS (on both backends): the real router on port 0 behind a TLS terminator with a
//! certificate from a CA made by the test, reached as `https://localhost:PORT` with
//! `--ca-file`: `patto login` and `patto sign --server` end to end. A terminator whose
//! certificate another CA signed, and one whose certificate names another host, are
//! refused with a clear error before any request is sent.
//!
//! A fake server, started by the test on port 0, answers `patto sign --server --request
//! R` with a genuine-looking statement that belongs to another request, document,
//! version, organisation or person. The command must refuse before signing, and nothing
//! may reach `submitSignature`. A control case, answered consistently, shows that the fake
//! server is good enough to be signed on, so that each refusal is the check's doing.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use clap::Parser as _;
use patto_core::Language;
use patto_core::ids::SignatureRequestId;
use patto_tests::tls::{TestCa, TlsTerminator};
use serde_json::{Value, json};

use crate::api::TypedLines;
use crate::engine::{Ctx, shipped};
use crate::login::LoginServer;

engine_cases!(super::shipped() =>
    logs_in_and_signs_over_https_trusting_only_the_given_ca,
    refuses_a_certificate_of_another_ca_or_for_another_name_before_sending_anything,
);

/// The partner of the signing world, who signs through the command line.
const PARTNER_EMAIL: &str = "partner@example.org";

/// A scratch directory for one test, removed when it ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("patto-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        patto::files::write_private(&path, contents, patto::files::Existing::Keep).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `patto login` as the partner, reading the mailed code as the person would type it;
/// the code is sent by the server's mail worker once the command asked for it.
async fn log_in(
    server: &LoginServer,
    args: patto::online::LoginArgs,
    dir: &Path,
) -> Result<std::process::ExitCode, String> {
    let (typed, typing) = std::sync::mpsc::channel::<String>();
    let global = global(dir);
    let login = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let mut terminal = std::io::BufReader::new(TypedLines(typing, Vec::new()));
        runtime
            .block_on(patto::online::login(&global, &args, &mut terminal, false))
            .map_err(|error| format!("{error:#}"))
    });
    // A deadline, not a timing: the code is typed once its mail has gone out.
    for _ in 0..600 {
        server.send_mail().await;
        if let Some(code) = server.latest_code_for(PARTNER_EMAIL) {
            typed.send(format!("{code}\n")).unwrap();
            break;
        }
        if login.is_finished() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    drop(typed);
    tokio::task::spawn_blocking(move || login.join().unwrap())
        .await
        .unwrap()
}

fn login_args(url: &str, sessions: &Path, ca: &Path) -> patto::online::LoginArgs {
    patto::online::LoginArgs {
        server: patto::online::ServerArgs {
            server: url.to_owned(),
            sessions_file: Some(sessions.to_owned()),
            ca_file: Some(ca.to_owned()),
        },
        email: PARTNER_EMAIL.to_owned(),
    }
}

async fn logs_in_and_signs_over_https_trusting_only_the_given_ca(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let round = crate::signing::open_round(&engine).await;
    let server = LoginServer::start(engine.clone(), "").await;
    let ca = TestCa::new("CA intranet (test)");
    let terminator =
        TlsTerminator::start(&ca.issue(&["localhost", "127.0.0.1"]), server.address).await;
    let url = format!("https://localhost:{}", terminator.address.port());
    let scratch = Scratch::new();
    let ca_file = scratch.file("ca.pem", ca.pem().as_bytes());
    let key_file = scratch.file(
        "firma.pem",
        patto_sign::secret_key_to_pem(&round.partner_key)
            .unwrap()
            .as_bytes(),
    );
    let sessions = scratch.0.join("sessions.json");

    let logged_in = log_in(&server, login_args(&url, &sessions, &ca_file), &scratch.0).await;
    assert_eq!(logged_in, Ok(std::process::ExitCode::SUCCESS));
    assert!(
        terminator.handshakes() >= 1,
        "requestLogin and login went over TLS"
    );

    // `patto sign --server https://... --ca-file CA`, as typed.
    let request = round.partner_request.to_string();
    let cli = patto::Cli::try_parse_from([
        "patto",
        "--lang",
        "en",
        "sign",
        "--server",
        &url,
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--request",
        &request,
        "--key",
        key_file.to_str().unwrap(),
        "--yes",
        "--sessions-file",
        sessions.to_str().unwrap(),
    ])
    .unwrap();
    assert_eq!(patto::run(cli).await, std::process::ExitCode::SUCCESS);
    let views = engine.signature_requests(round.w.pact.id).await.unwrap();
    let signed = views
        .iter()
        .find(|view| view.request.id == round.partner_request)
        .unwrap();
    assert_eq!(signed.request.status.as_str(), "signed");
}

async fn refuses_a_certificate_of_another_ca_or_for_another_name_before_sending_anything(
    ctx: &Ctx,
) {
    let engine = ctx.engine.clone();
    crate::signing::open_round(&engine).await;
    let server = LoginServer::start(engine.clone(), "").await;
    let ca = TestCa::new("CA intranet (test)");
    let impostor = TestCa::new("CA intranet (test)");
    let scratch = Scratch::new();
    let ca_file = scratch.file("ca.pem", ca.pem().as_bytes());
    let sessions = scratch.0.join("sessions.json");
    let cases = [
        // Same name, same subject, another key: only the trusted CA's signature counts.
        (
            "another CA",
            impostor.issue(&["localhost", "127.0.0.1"]),
            &["UnknownIssuer", "BadSignature"][..],
        ),
        // The trusted CA, but a certificate for another host.
        (
            "another name",
            ca.issue(&["patto.example.org"]),
            &["NotValidForName"][..],
        ),
    ];
    for (what, certificate, reasons) in cases {
        let terminator = TlsTerminator::start(&certificate, server.address).await;
        let url = format!("https://localhost:{}", terminator.address.port());
        let refused = log_in(&server, login_args(&url, &sessions, &ca_file), &scratch.0).await;
        let error = refused.expect_err(what);
        assert!(
            error.contains("not trusted")
                && reasons.iter().any(|reason| error.contains(reason))
                && error.contains("--ca-file"),
            "{what}: {error}"
        );
        assert_eq!(
            terminator.handshakes(),
            0,
            "{what}: no request went through"
        );
        assert!(!sessions.exists(), "{what}: no session was kept");
    }
    // Nothing reached the server: no login code was asked for, so none was mailed.
    server.send_mail().await;
    assert_eq!(server.latest_code_for(PARTNER_EMAIL), None);
}

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
            ca_file: None,
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
