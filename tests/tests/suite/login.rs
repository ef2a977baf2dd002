//! E-mail login over real HTTP, on a server bound to port 0 with each connection's
//! address, on both backends: the code arrives by mail through a real SMTP server and
//! gives a session; unknown addresses get the same answer; codes work once, expire and
//! lock; requests are rate-limited per address and per client, where a client behind an
//! untrusted peer cannot dodge the limit with `X-Forwarded-For` and one behind a trusted
//! proxy is told apart by it; expired, revoked and forged tokens are `UNAUTHENTICATED`
//! while the server keeps serving; no answer shows a code. Also people acting through
//! their own sessions (issue 7): approving a key of their organisation and declining
//! their own signature request, and every attempt to do either for someone else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use patto_api::{ApiConfig, EngineSessions, Sessions};
use patto_core::Language;
use patto_engine::{Actor, Engine, LoginLimits, RateLimit, TrustedProxies};
use patto_notify::{MailConfig, Worker};
use patto_tests::smtp::{ReceivedMail, SmtpSink};
use patto_tests::{HttpAnswer, http_get, http_request};
use serde_json::{Value, json};

use crate::api::{code as error_code, data};
use crate::engine::{Ctx, shipped, world};

engine_cases!(super::shipped() =>
    a_mailed_code_logs_in_over_http_once_and_logout_ends_the_session,
    unknown_addresses_get_the_same_answer_and_no_mail,
    expired_and_wrongly_guessed_codes_are_refused,
    login_is_rate_limited_per_address_and_per_client,
    forwarded_for_is_believed_only_from_trusted_proxies,
    expired_revoked_and_forged_tokens_are_refused_and_the_server_keeps_serving,
    a_person_approves_a_key_of_their_organisation_with_their_own_session,
    a_signatory_declines_with_their_own_session_and_nobody_else_can,
);

/// A server on port 0 that knows each connection's peer, over `engine`, checking tokens
/// with the engine, with a mail worker sending to a sink of its own.
pub(crate) struct LoginServer {
    pub(crate) address: SocketAddr,
    pub(crate) sink: SmtpSink,
    worker: Worker,
}

impl LoginServer {
    pub(crate) async fn start(engine: Arc<Engine>, trusted_proxies: &str) -> LoginServer {
        let sessions: Arc<dyn Sessions> = Arc::new(EngineSessions(engine.clone()));
        LoginServer::start_with(engine, sessions, trusted_proxies).await
    }

    /// The same, with the given token checker.
    pub(crate) async fn start_with(
        engine: Arc<Engine>,
        sessions: Arc<dyn Sessions>,
        trusted_proxies: &str,
    ) -> LoginServer {
        let config = ApiConfig {
            server_key: Some(Arc::new(patto_sign::generate_key())),
            trusted_proxies: trusted_proxies.parse::<TrustedProxies>().unwrap(),
            ..ApiConfig::default()
        };
        let address = serve_with_peers(engine.clone(), sessions, config).await;
        let sink = SmtpSink::start().await;
        let worker = Worker::new(
            engine,
            &MailConfig {
                smtp_url: sink.url(),
                from: "Patto <patto@example.org>".to_owned(),
                public_url: "https://patto.example.org".to_owned(),
                max_attempts: patto_notify::MAX_ATTEMPTS,
                lease: patto_notify::LEASE,
            },
        )
        .unwrap();
        LoginServer {
            address,
            sink,
            worker,
        }
    }

    /// Sends the mail that is due, as the server's worker does on its next tick.
    pub(crate) async fn send_mail(&self) -> usize {
        self.worker.run_once().await.unwrap().sent
    }

    /// Asks for a code for `email` over HTTP, has it mailed, and reads it from the mail.
    pub(crate) async fn mailed_code(&self, email: &str) -> String {
        let answer = self.request_login(email, &[]).await;
        assert_eq!(
            data(&answer.json())["requestLogin"],
            true,
            "{}",
            answer.body
        );
        // Workflow mail may be due too: the login mail is among what is sent.
        assert!(self.send_mail().await >= 1);
        self.latest_code_for(email)
            .unwrap_or_else(|| panic!("no login mail to {email}"))
    }

    /// The code of the latest login mail the sink received for `email`, if any.
    pub(crate) fn latest_code_for(&self, email: &str) -> Option<String> {
        self.sink
            .messages()
            .iter()
            .rev()
            .filter(|m| m.to == [email.to_owned()])
            .find_map(code_of)
    }

    /// Logs `email` in over HTTP with the mailed code; returns the session token.
    pub(crate) async fn log_in(&self, email: &str) -> String {
        let code = self.mailed_code(email).await;
        let answer = self.login(email, &code, &[]).await;
        let body = answer.json();
        assert!(
            !answer.body.contains(&code),
            "the login answer shows the code"
        );
        data(&body)["login"]["token"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn request_login(&self, email: &str, headers: &[(&str, &str)]) -> HttpAnswer {
        post(
            self.address,
            None,
            "mutation($e: String!) { requestLogin(email: $e) }",
            json!({ "e": email }),
            headers,
        )
        .await
    }

    pub(crate) async fn login(
        &self,
        email: &str,
        code: &str,
        headers: &[(&str, &str)],
    ) -> HttpAnswer {
        post(
            self.address,
            None,
            "mutation($e: String!, $c: String!) { login(email: $e, code: $c) { token expiresAt person { email } } }",
            json!({ "e": email, "c": code }),
            headers,
        )
        .await
    }

    pub(crate) async fn graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Value {
        post(self.address, token, query, variables, &[])
            .await
            .json()
    }

    /// The server answers a health check and a query.
    async fn still_serving(&self) {
        let (status, _) = http_get(self.address, "/healthz").await;
        assert_eq!(status, 200);
        let answer = self
            .graphql(None, "{ workflows { edges { node { name } } } }", json!({}))
            .await;
        data(&answer);
    }
}

/// Serves the application's router on port 0 with each connection's address, as `patto
/// serve` does.
pub(crate) async fn serve_with_peers(
    engine: Arc<Engine>,
    sessions: Arc<dyn Sessions>,
    config: ApiConfig,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = patto::server::router(engine, sessions, config)
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    address
}

async fn post(
    address: SocketAddr,
    token: Option<&str>,
    query: &str,
    variables: Value,
    extra: &[(&str, &str)],
) -> HttpAnswer {
    let body = serde_json::to_vec(&json!({ "query": query, "variables": variables })).unwrap();
    let authorization = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(value) = &authorization {
        headers.push(("Authorization", value.as_str()));
    }
    headers.extend_from_slice(extra);
    http_request(address, "POST", "/graphql", &headers, &body).await
}

/// The eight-digit code in a login mail: alone on its line in the plain-text part.
pub(crate) fn code_in(mail: &ReceivedMail) -> String {
    code_of(mail).unwrap_or_else(|| panic!("no code in {}", mail.decoded()))
}

/// The code of a mail, if it is a login mail.
fn code_of(mail: &ReceivedMail) -> Option<String> {
    mail.decoded()
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 8 && line.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// A code that is not `code`.
fn other_than(code: &str) -> &'static str {
    if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    }
}

async fn anna(ctx: &Ctx) {
    ctx.engine
        .create_person(
            Actor::System,
            "anna@example.org",
            "Anna Rossi",
            Language::It,
        )
        .await
        .unwrap();
}

/// Limits low enough to reach in a test, with no answer floor.
fn small_limits(per_address: u32, per_client: u32, attempts: u32) -> LoginLimits {
    let window = Duration::from_secs(3600);
    LoginLimits {
        requests_per_address: RateLimit {
            max: per_address,
            window,
        },
        requests_per_client: RateLimit {
            max: per_client,
            window,
        },
        attempts_per_client: RateLimit {
            max: attempts,
            window,
        },
        request_answer_floor: Duration::ZERO,
    }
}

async fn a_mailed_code_logs_in_over_http_once_and_logout_ends_the_session(ctx: &Ctx) {
    anna(ctx).await;
    let server = LoginServer::start(ctx.engine.clone(), "").await;
    let code = server.mailed_code("anna@example.org").await;

    let answer = server.login("anna@example.org", &code, &[]).await;
    assert_eq!(answer.status, 200);
    assert!(!answer.body.contains(&code));
    let body = answer.json();
    let login = &data(&body)["login"];
    assert_eq!(login["person"]["email"], "anna@example.org");
    let token = login["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("patto_"), "{token}");
    assert!(login["expiresAt"].as_str().unwrap() > "2026");
    let me = server
        .graphql(Some(&token), "{ me { name email } }", json!({}))
        .await;
    assert_eq!(data(&me)["me"]["name"], "Anna Rossi");

    // The code worked once.
    let again = server.login("anna@example.org", &code, &[]).await;
    assert_eq!(error_code(&again.json()), "UNAUTHENTICATED");

    // No listing shows the code: neither the outbox (as `patto outbox list` prints it)
    // nor anything the API answered in this exchange.
    let outbox = ctx.engine.list_outbox(Actor::System, None).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(!format!("{outbox:?}").contains(&code));

    // Logging out revokes this token and only this one.
    let other_code = server.mailed_code("anna@example.org").await;
    let second = server
        .login("anna@example.org", &other_code, &[])
        .await
        .json();
    let second = data(&second)["login"]["token"].as_str().unwrap().to_owned();
    let out = server
        .graphql(Some(&token), "mutation { logout }", json!({}))
        .await;
    assert_eq!(data(&out)["logout"], true);
    let after = post(
        server.address,
        Some(&token),
        "{ me { name } }",
        json!({}),
        &[],
    )
    .await;
    assert_eq!(after.status, 401);
    assert_eq!(error_code(&after.json()), "UNAUTHENTICATED");
    let still = server
        .graphql(Some(&second), "{ me { name } }", json!({}))
        .await;
    assert_eq!(data(&still)["me"]["name"], "Anna Rossi");
    // Without a token there is nothing to log out.
    let anonymous = server.graphql(None, "mutation { logout }", json!({})).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    server.still_serving().await;
}

async fn unknown_addresses_get_the_same_answer_and_no_mail(ctx: &Ctx) {
    anna(ctx).await;
    let server = LoginServer::start(ctx.engine.clone(), "").await;
    let known = server.request_login("anna@example.org", &[]).await;
    let unknown = server.request_login("nessuno@example.org", &[]).await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.json(), unknown.json());
    assert_eq!(data(&unknown.json())["requestLogin"], true);
    assert_eq!(server.send_mail().await, 1);
    let messages = server.sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, ["anna@example.org".to_owned()]);
    // Logging in as the unknown address is refused as any wrong code is.
    let refused = server.login("nessuno@example.org", "12345678", &[]).await;
    let wrong = server
        .login("anna@example.org", other_than(&code_in(&messages[0])), &[])
        .await;
    assert_eq!(error_code(&refused.json()), "UNAUTHENTICATED");
    assert_eq!(
        refused.json()["errors"][0]["message"],
        wrong.json()["errors"][0]["message"]
    );
    // Something that is not an address at all is said so.
    let malformed = server.request_login("not an address", &[]).await;
    assert_eq!(error_code(&malformed.json()), "VALIDATION");
}

async fn expired_and_wrongly_guessed_codes_are_refused(ctx: &Ctx) {
    anna(ctx).await;
    let server = LoginServer::start(ctx.engine.clone(), "").await;

    let code = server.mailed_code("anna@example.org").await;
    ctx.store
        .execute_raw("UPDATE login_codes SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    let expired = server.login("anna@example.org", &code, &[]).await;
    assert_eq!(error_code(&expired.json()), "UNAUTHENTICATED");

    // Five wrong tries lock the code: the right one is refused after them.
    let code = server.mailed_code("anna@example.org").await;
    for _ in 0..patto_engine::LOGIN_CODE_MAX_WRONG_TRIES {
        let wrong = server
            .login("anna@example.org", other_than(&code), &[])
            .await;
        assert_eq!(error_code(&wrong.json()), "UNAUTHENTICATED");
    }
    let locked = server.login("anna@example.org", &code, &[]).await;
    assert_eq!(error_code(&locked.json()), "UNAUTHENTICATED");
    // A new code works.
    let fresh = server.mailed_code("anna@example.org").await;
    let answer = server.login("anna@example.org", &fresh, &[]).await;
    data(&answer.json());
}

async fn login_is_rate_limited_per_address_and_per_client(ctx: &Ctx) {
    anna(ctx).await;
    let engine = Arc::new(
        Engine::new(ctx.store.clone(), shipped()).with_login_limits(small_limits(2, 4, 3)),
    );
    let server = LoginServer::start(engine, "").await;
    // One address: the third request is refused.
    for _ in 0..2 {
        let answer = server.request_login("anna@example.org", &[]).await;
        data(&answer.json());
    }
    let limited = server.request_login("anna@example.org", &[]).await;
    assert_eq!(
        error_code(&limited.json()),
        "RATE_LIMITED",
        "{}",
        limited.body
    );
    // One client: two more requests for other addresses, then refused.
    for email in ["b@example.org", "c@example.org"] {
        let answer = server.request_login(email, &[]).await;
        data(&answer.json());
    }
    let limited = server.request_login("d@example.org", &[]).await;
    assert_eq!(error_code(&limited.json()), "RATE_LIMITED");
    // Login attempts from one client.
    for _ in 0..3 {
        let answer = server.login("anna@example.org", "00000000", &[]).await;
        assert_eq!(error_code(&answer.json()), "UNAUTHENTICATED");
    }
    let limited = server.login("anna@example.org", "00000000", &[]).await;
    assert_eq!(error_code(&limited.json()), "RATE_LIMITED");
    server.still_serving().await;
}

async fn forwarded_for_is_believed_only_from_trusted_proxies(ctx: &Ctx) {
    // Without trusted proxies, a client writing a new X-Forwarded-For on each request
    // is still one client: the peer of the connection.
    let untrusted = Arc::new(
        Engine::new(ctx.store.clone(), shipped()).with_login_limits(small_limits(100, 3, 100)),
    );
    let server = LoginServer::start(untrusted, "").await;
    for n in 0..3 {
        let forged = format!("198.51.100.{n}");
        let answer = server
            .request_login(
                &format!("p{n}@example.org"),
                &[("X-Forwarded-For", &forged)],
            )
            .await;
        data(&answer.json());
    }
    let spoofed = server
        .request_login("p9@example.org", &[("X-Forwarded-For", "203.0.113.99")])
        .await;
    assert_eq!(
        error_code(&spoofed.json()),
        "RATE_LIMITED",
        "{}",
        spoofed.body
    );

    // Behind a trusted proxy (this machine), the address it forwards for is the client:
    // clients are limited one by one.
    let trusting = Arc::new(
        Engine::new(ctx.store.clone(), shipped()).with_login_limits(small_limits(100, 3, 100)),
    );
    let proxied = LoginServer::start(trusting, "127.0.0.1, ::1").await;
    for n in 0..3 {
        let answer = proxied
            .request_login(
                &format!("q{n}@example.org"),
                &[("X-Forwarded-For", "198.51.100.7")],
            )
            .await;
        data(&answer.json());
    }
    let limited = proxied
        .request_login("q9@example.org", &[("X-Forwarded-For", "198.51.100.7")])
        .await;
    assert_eq!(error_code(&limited.json()), "RATE_LIMITED");
    // Another client behind the same proxy is not held back by the first; one that
    // prepends a made-up address is still itself.
    let other = proxied
        .request_login("q9@example.org", &[("X-Forwarded-For", "198.51.100.8")])
        .await;
    data(&other.json());
    let prepended = proxied
        .request_login(
            "q10@example.org",
            &[("X-Forwarded-For", "203.0.113.1, 198.51.100.7")],
        )
        .await;
    assert_eq!(error_code(&prepended.json()), "RATE_LIMITED");
}

async fn expired_revoked_and_forged_tokens_are_refused_and_the_server_keeps_serving(ctx: &Ctx) {
    anna(ctx).await;
    let server = LoginServer::start(ctx.engine.clone(), "").await;
    let revoked = server.log_in("anna@example.org").await;
    let out = server
        .graphql(Some(&revoked), "mutation { logout }", json!({}))
        .await;
    assert_eq!(data(&out)["logout"], true);
    let expired = server.log_in("anna@example.org").await;
    ctx.store
        .execute_raw(
            "UPDATE auth_tokens SET expires_at = '2000-01-01T00:00:00+00:00' WHERE id = (SELECT MAX(id) FROM auth_tokens)",
        )
        .await
        .unwrap();
    let mut forged = revoked.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for (token, says) in [
        (revoked.as_str(), "revoked"),
        (expired.as_str(), "expired"),
        (forged.as_str(), "not valid"),
        ("patto_not-even-the-right-length", "not valid"),
    ] {
        let answer = post(
            server.address,
            Some(token),
            "{ me { name } }",
            json!({}),
            &[],
        )
        .await;
        assert_eq!(answer.status, 401, "{token}: {}", answer.body);
        let body = answer.json();
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{token}: {message}");
        assert!(message.contains("log in again"), "{message}");
        // A token that does not work cannot be logged out either.
        let logout = post(
            server.address,
            Some(token),
            "mutation { logout }",
            json!({}),
            &[],
        )
        .await;
        assert_eq!(logout.status, 401);
        server.still_serving().await;
    }
}

/// Issue 7: approving a key is the act of a coordinator or admin of the key's
/// organisation, through their own session: the holder, someone of another
/// organisation, or anyone else is refused.
async fn a_person_approves_a_key_of_their_organisation_with_their_own_session(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    // The municipality's coordinator, who may approve its people's keys.
    crate::signing::municipality_key_approver(engine, &w).await;
    let server = LoginServer::start(engine.clone(), "").await;
    let holder = server.log_in("partner@example.org").await;
    let approver = server.log_in("approvatore.cefalu@example.org").await;
    let other_organisation = server.log_in("coordinatrice@example.org").await;
    let someone_else = server.log_in("esterno@example.org").await;

    let key = patto_sign::generate_key();
    let registration = patto::signing::registration_request(&key, "partner@example.org", "cefalu");
    let registered = server
        .graphql(
            Some(&holder),
            "mutation($r: String!) { registerKey(registration: $r) { id status } }",
            json!({ "r": registration }),
        )
        .await;
    let registered = &data(&registered)["registerKey"];
    assert_eq!(registered["status"], "pending");
    let key_id = registered["id"].as_str().unwrap().to_owned();
    let approve = "mutation($k: ID!) { approveKey(key: $k) { status } }";
    for (who, token) in [
        ("the holder", &holder),
        ("a coordinator of another organisation", &other_organisation),
        ("someone else", &someone_else),
    ] {
        let refused = server
            .graphql(Some(token), approve, json!({ "k": key_id }))
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{who}: {refused}");
    }
    // Without a session, nobody.
    let anonymous = server.graphql(None, approve, json!({ "k": key_id })).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let keys = engine.keys_of(w.partner_id).await.unwrap();
    assert_eq!(keys[0].status.as_str(), "pending");

    let approved = server
        .graphql(Some(&approver), approve, json!({ "k": key_id }))
        .await;
    assert_eq!(data(&approved)["approveKey"]["status"], "approved");
}

/// Issue 7: declining a signature request is the signatory's own act, through their own
/// session; the document's coordinator, someone of another organisation and anyone else
/// are refused, and the request stays open until its signatory declines.
async fn a_signatory_declines_with_their_own_session_and_nobody_else_can(ctx: &Ctx) {
    let engine = &ctx.engine;
    let round = crate::signing::open_round(engine).await;
    let server = LoginServer::start(engine.clone(), "").await;
    let signatory = server.log_in("partner@example.org").await;
    let coordinator = server.log_in("coordinatrice@example.org").await;
    let other_organisation = server.log_in("approvatore.cefalu@example.org").await;
    let someone_else = server.log_in("esterno@example.org").await;
    let decline = "mutation($r: ID!, $why: String!) { declineSignature(request: $r, reason: $why) { state } }";
    let request = round.partner_request.to_string();
    for (who, token) in [
        ("the document's coordinator", &coordinator),
        (
            "a coordinator of the signatory's organisation",
            &other_organisation,
        ),
        ("someone else", &someone_else),
    ] {
        let refused = server
            .graphql(
                Some(token),
                decline,
                json!({ "r": request, "why": "non sono d'accordo" }),
            )
            .await;
        assert_eq!(error_code(&refused), "FORBIDDEN", "{who}: {refused}");
    }
    let open = engine.signature_requests(round.w.pact.id).await.unwrap();
    let partner_request = open
        .iter()
        .find(|r| r.request.id == round.partner_request)
        .unwrap();
    assert_eq!(partner_request.request.status.as_str(), "pending");

    let declined = server
        .graphql(
            Some(&signatory),
            decline,
            json!({ "r": request, "why": "serve una modifica all'articolo 3" }),
        )
        .await;
    data(&declined);
    let after = engine.signature_requests(round.w.pact.id).await.unwrap();
    let partner_request = after
        .iter()
        .find(|r| r.request.id == round.partner_request)
        .unwrap();
    assert_eq!(partner_request.request.status.as_str(), "declined");
}
