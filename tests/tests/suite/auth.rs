//! Authentication end to end on both backends, with the mail worker sending to a real SMTP
//! server over TCP: login codes arrive by mail and give tokens that authenticate; unknown
//! addresses get the same answer and no mail; wrong, expired, reused and locked codes are
//! refused alike; tokens that are revoked, expired or forged are refused; login requests
//! are rate-limited; a login mail that expires unsent is dropped, its secret cleared.

use std::net::IpAddr;
use std::sync::Arc;

use patto_core::Language;
use patto_core::records::Person;
use patto_core::status::{OutboxStatus, TokenKind};
use patto_engine::{Actor, Engine, ErrorCode, LoginLimits, RateLimit};
use patto_notify::{Delivery, MailConfig, Worker};
use patto_tests::smtp::{ReceivedMail, SmtpSink};

use crate::engine::{Ctx, shipped};

engine_cases!(super::shipped() =>
    a_mailed_code_logs_in_once_and_the_session_ends_at_logout,
    an_unknown_address_gets_the_same_answer_and_no_mail,
    wrong_codes_lock_the_code,
    an_expired_code_is_refused,
    a_newer_code_replaces_the_older_one_and_its_mail,
    a_login_mail_that_expires_unsent_is_dropped_with_its_secret,
    expired_revoked_and_forged_tokens_are_refused,
    people_who_read_english_get_english_mail,
    login_requests_are_rate_limited,
    a_refused_mail_is_retried_with_the_same_message_id,
    tokens_for_scripts_go_to_operators_only,
    two_workers_send_each_mail_once,
);

const CLIENT: &str = "198.51.100.20";

fn client() -> IpAddr {
    CLIENT.parse().unwrap()
}

async fn person(ctx: &Ctx, email: &str, language: Language) -> Person {
    ctx.engine
        .create_person(Actor::System, email, "Anna Rossi", language)
        .await
        .unwrap()
}

/// A sink and a worker sending to it.
async fn mail_setup(engine: &Arc<Engine>) -> (SmtpSink, Worker) {
    let sink = SmtpSink::start().await;
    let worker = Worker::new(
        engine.clone(),
        &MailConfig {
            smtp_url: sink.url(),
            from: "Patto <patto@example.org>".to_owned(),
            public_url: "https://patto.example.org".to_owned(),
            max_attempts: patto_notify::MAX_ATTEMPTS,
            lease: patto_notify::LEASE,
        },
    )
    .unwrap();
    (sink, worker)
}

/// The eight-digit code in a login mail: the plain-text part has it alone on its line
/// (headers such as the Message-ID may hold other runs of digits).
fn code_in(mail: &ReceivedMail) -> String {
    let text = mail.decoded();
    let code = text
        .lines()
        .map(str::trim)
        .find(|line| line.len() == 8 && line.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {text}"));
    code.to_owned()
}

async fn requested_code(ctx: &Ctx, sink: &SmtpSink, worker: &Worker, email: &str) -> String {
    ctx.engine.request_login(email, client()).await.unwrap();
    let delivery = worker.run_once().await.unwrap();
    assert_eq!(delivery.sent, 1, "{delivery:?}");
    code_in(sink.messages().last().unwrap())
}

async fn a_mailed_code_logs_in_once_and_the_session_ends_at_logout(ctx: &Ctx) {
    let anna = person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;

    // The address is matched whatever its case and spacing.
    ctx.engine
        .request_login(" Anna@Example.org ", client())
        .await
        .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Delivery {
            sent: 1,
            ..Delivery::default()
        }
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.to, vec!["anna@example.org".to_owned()]);
    assert_eq!(mail.from, "patto@example.org");
    let code = code_in(mail);
    let decoded = mail.decoded();
    assert!(decoded.contains("Gentile Anna Rossi"), "{decoded}");
    assert!(decoded.contains("text/html"), "no HTML part: {decoded}");

    // The outbox row is sent, carries the mail's Message-ID, and shows no code.
    let outbox = ctx.engine.outbox(None).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].status, OutboxStatus::Sent);
    assert_eq!(
        mail.header("Message-ID").as_deref(),
        Some(outbox[0].message_id.as_str())
    );
    assert!(
        !format!("{outbox:?}").contains(&code),
        "a listing shows the code"
    );
    // The secret is gone from the row itself.
    assert_eq!(
        ctx.store
            .execute_raw("UPDATE outbox SET attempts = attempts WHERE secret IS NOT NULL")
            .await
            .unwrap(),
        0
    );

    let issued = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap();
    assert!(!format!("{issued:?}").contains(&issued.token));
    let session = ctx.engine.authenticate(&issued.token).await.unwrap();
    assert_eq!(session.person, anna);
    assert_eq!(session.kind, TokenKind::Session);
    assert_eq!(session.actor(), Actor::Person(anna.id));

    // The code worked once.
    let reused = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap_err();
    assert_eq!(reused.code(), ErrorCode::Unauthenticated);

    ctx.engine.logout(&issued.token).await.unwrap();
    let after = ctx.engine.authenticate(&issued.token).await.unwrap_err();
    assert_eq!(after.code(), ErrorCode::Unauthenticated);
    assert!(after.to_string().contains("revoked"), "{after}");
    let again = ctx.engine.logout(&issued.token).await.unwrap_err();
    assert_eq!(again.code(), ErrorCode::Unauthenticated);
}

async fn an_unknown_address_gets_the_same_answer_and_no_mail(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let unknown = ctx
        .engine
        .request_login("nobody@example.org", client())
        .await;
    let known = ctx.engine.request_login("anna@example.org", client()).await;
    assert_eq!(format!("{unknown:?}"), format!("{known:?}"));
    let malformed = ctx
        .engine
        .request_login("not an address", client())
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), ErrorCode::Validation);
    worker.run_once().await.unwrap();
    let recipients: Vec<Vec<String>> = sink.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(recipients, vec![vec!["anna@example.org".to_owned()]]);
    // Logging in as the unknown address is refused exactly like a wrong code.
    let unknown_login = ctx
        .engine
        .login("nobody@example.org", "12345678", client())
        .await
        .unwrap_err();
    let wrong_code = ctx
        .engine
        .login("anna@example.org", "00000000x", client())
        .await
        .unwrap_err();
    assert_eq!(unknown_login.code(), ErrorCode::Unauthenticated);
    assert_eq!(unknown_login.to_string(), wrong_code.to_string());
}

async fn wrong_codes_lock_the_code(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let code = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    for _ in 0..patto_engine::LOGIN_CODE_MAX_WRONG_TRIES {
        let error = ctx
            .engine
            .login("anna@example.org", wrong, client())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unauthenticated);
    }
    let locked = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap_err();
    assert_eq!(locked.code(), ErrorCode::Unauthenticated);
    // A new code works again.
    let fresh = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    ctx.engine
        .login("anna@example.org", &fresh, client())
        .await
        .unwrap();
}

async fn an_expired_code_is_refused(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let code = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    ctx.store
        .execute_raw("UPDATE login_codes SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    let expired = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap_err();
    assert_eq!(expired.code(), ErrorCode::Unauthenticated);
}

async fn a_newer_code_replaces_the_older_one_and_its_mail(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let first = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    // Two requests before the worker runs: only the newer mail goes out.
    ctx.engine
        .request_login("anna@example.org", client())
        .await
        .unwrap();
    ctx.engine
        .request_login("anna@example.org", client())
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    let statuses: Vec<OutboxStatus> = ctx
        .engine
        .outbox(None)
        .await
        .unwrap()
        .iter()
        .map(|row| row.status)
        .collect();
    assert_eq!(
        statuses,
        [
            OutboxStatus::Sent,
            OutboxStatus::Dropped,
            OutboxStatus::Sent
        ]
    );
    let latest = code_in(sink.messages().last().unwrap());
    if first != latest {
        let old = ctx
            .engine
            .login("anna@example.org", &first, client())
            .await
            .unwrap_err();
        assert_eq!(old.code(), ErrorCode::Unauthenticated);
    }
    ctx.engine
        .login("anna@example.org", &latest, client())
        .await
        .unwrap();
}

async fn a_login_mail_that_expires_unsent_is_dropped_with_its_secret(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    ctx.engine
        .request_login("anna@example.org", client())
        .await
        .unwrap();
    ctx.store
        .execute_raw("UPDATE outbox SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap(), Delivery::default());
    assert!(sink.messages().is_empty());
    let outbox = ctx.engine.outbox(None).await.unwrap();
    assert_eq!(outbox[0].status, OutboxStatus::Dropped);
    assert_eq!(
        ctx.store
            .execute_raw("UPDATE outbox SET attempts = attempts WHERE secret IS NOT NULL")
            .await
            .unwrap(),
        0
    );
}

async fn expired_revoked_and_forged_tokens_are_refused(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let code = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    let issued = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap();
    ctx.engine.authenticate(&issued.token).await.unwrap();

    // Forged: the right shape, 256 other bits; or not a token at all.
    let forged = format!("patto_{}", "A".repeat(43));
    let mut altered = issued.token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for token in [
        forged.as_str(),
        altered.as_str(),
        "",
        "Bearer x",
        "patto_",
        &"x".repeat(100_000),
    ] {
        let error = ctx.engine.authenticate(token).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unauthenticated, "{token:.20}");
    }

    ctx.store
        .execute_raw("UPDATE auth_tokens SET expires_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    let expired = ctx.engine.authenticate(&issued.token).await.unwrap_err();
    assert_eq!(expired.code(), ErrorCode::Unauthenticated);
    assert!(expired.to_string().contains("expired"), "{expired}");
    let logout = ctx.engine.logout(&issued.token).await.unwrap_err();
    assert_eq!(logout.code(), ErrorCode::Unauthenticated);
}

async fn people_who_read_english_get_english_mail(ctx: &Ctx) {
    person(ctx, "john@example.org", Language::En).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let code = requested_code(ctx, &sink, &worker, "john@example.org").await;
    let mail = &sink.messages()[0];
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your Patto login code")
    );
    assert!(mail.decoded().contains("Dear Anna Rossi"));
    ctx.engine
        .login("john@example.org", &code, client())
        .await
        .unwrap();
}

async fn login_requests_are_rate_limited(ctx: &Ctx) {
    let window = std::time::Duration::from_secs(3600);
    let engine = Engine::new(ctx.store.clone(), shipped()).with_login_limits(LoginLimits {
        requests_per_address: RateLimit { max: 3, window },
        requests_per_client: RateLimit { max: 5, window },
        attempts_per_client: RateLimit { max: 4, window },
        ..LoginLimits::default()
    });
    person(ctx, "anna@example.org", Language::It).await;
    for _ in 0..3 {
        engine
            .request_login("anna@example.org", client())
            .await
            .unwrap();
    }
    // One address: refused whoever asks, known or not.
    let other_client: IpAddr = "203.0.113.5".parse().unwrap();
    let limited = engine
        .request_login("anna@example.org", other_client)
        .await
        .unwrap_err();
    assert_eq!(limited.code(), ErrorCode::RateLimited);
    // One client: two more requests for other addresses, then refused.
    engine
        .request_login("b@example.org", client())
        .await
        .unwrap();
    engine
        .request_login("c@example.org", client())
        .await
        .unwrap();
    let limited = engine
        .request_login("d@example.org", client())
        .await
        .unwrap_err();
    assert_eq!(limited.code(), ErrorCode::RateLimited);
    engine
        .request_login("d@example.org", other_client)
        .await
        .unwrap();
    // Login attempts from one client.
    for _ in 0..4 {
        let error = engine
            .login("anna@example.org", "00000000", client())
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unauthenticated);
    }
    let limited = engine
        .login("anna@example.org", "00000000", client())
        .await
        .unwrap_err();
    assert_eq!(limited.code(), ErrorCode::RateLimited);
}

async fn a_refused_mail_is_retried_with_the_same_message_id(ctx: &Ctx) {
    person(ctx, "anna@example.org", Language::It).await;
    let (sink, worker) = mail_setup(&ctx.engine).await;
    sink.refuse(true);
    ctx.engine
        .request_login("anna@example.org", client())
        .await
        .unwrap();
    assert_eq!(
        worker.run_once().await.unwrap(),
        Delivery {
            retried: 1,
            ..Delivery::default()
        }
    );
    let row = ctx.engine.outbox(None).await.unwrap().remove(0);
    assert_eq!(row.status, OutboxStatus::Pending);
    assert_eq!(row.attempts, 1);
    assert!(
        row.last_error.as_deref().is_some_and(|e| e.contains("451")),
        "{row:?}"
    );
    // Not due yet: the worker leaves it alone.
    assert_eq!(worker.run_once().await.unwrap(), Delivery::default());
    sink.refuse(false);
    ctx.store
        .execute_raw("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
    assert_eq!(worker.run_once().await.unwrap().sent, 1);
    let mail = &sink.messages()[0];
    assert_eq!(mail.header("Message-ID"), Some(row.message_id.clone()));
    ctx.engine
        .login("anna@example.org", &code_in(mail), client())
        .await
        .unwrap();
}

async fn tokens_for_scripts_go_to_operators_only(ctx: &Ctx) {
    let olga = person(ctx, "olga@example.org", Language::It).await;
    let anna = person(ctx, "anna@example.org", Language::It).await;
    ctx.engine
        .grant_operator(Actor::System, olga.id)
        .await
        .unwrap();

    let issued = ctx
        .engine
        .issue_operator_token(Actor::System, "Olga@example.org", 30)
        .await
        .unwrap();
    let session = ctx.engine.authenticate(&issued.token).await.unwrap();
    assert_eq!(session.person, olga);
    assert!(session.operator);
    assert_eq!(session.kind, TokenKind::Api);
    let days = (session.expires_at - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");

    let refused = ctx
        .engine
        .issue_operator_token(Actor::System, "anna@example.org", 30)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let unknown = ctx
        .engine
        .issue_operator_token(Actor::System, "nobody@example.org", 30)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    // Nobody mints tokens through the engine as a person, an operator included: a
    // session must never be able to make another.
    for actor in [Actor::Person(olga.id), Actor::Person(anna.id)] {
        let refused = ctx
            .engine
            .issue_operator_token(actor, "olga@example.org", 30)
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Forbidden);
    }
    for days in [0, patto_engine::MAX_TOKEN_VALIDITY_DAYS + 1] {
        let error = ctx
            .engine
            .issue_operator_token(Actor::System, "olga@example.org", days)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Validation);
    }

    // A person's session says they are not an operator.
    let (sink, worker) = mail_setup(&ctx.engine).await;
    let code = requested_code(ctx, &sink, &worker, "anna@example.org").await;
    let issued = ctx
        .engine
        .login("anna@example.org", &code, client())
        .await
        .unwrap();
    let session = ctx.engine.authenticate(&issued.token).await.unwrap();
    assert_eq!(session.person, anna);
    assert!(!session.operator);
}

async fn two_workers_send_each_mail_once(ctx: &Ctx) {
    const PEOPLE: usize = 24;
    for n in 0..PEOPLE {
        let email = format!("person{n}@example.org");
        person(ctx, &email, Language::It).await;
        ctx.engine.request_login(&email, client()).await.unwrap();
    }
    let (sink, first) = mail_setup(&ctx.engine).await;
    // A second engine over the same database, as a second server would have.
    let other_engine = Arc::new(Engine::new(ctx.store.clone(), shipped()));
    let second = Worker::new(
        other_engine,
        &MailConfig {
            smtp_url: sink.url(),
            from: "Patto <patto@example.org>".to_owned(),
            public_url: "https://patto.example.org".to_owned(),
            max_attempts: patto_notify::MAX_ATTEMPTS,
            lease: patto_notify::LEASE,
        },
    )
    .unwrap();
    let (a, b) = tokio::join!(first.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, PEOPLE, "{a:?} {b:?}");
    let messages = sink.messages();
    let mut ids: Vec<String> = messages
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), PEOPLE);
    let mut recipients: Vec<String> = messages.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), PEOPLE);
    assert!(
        ctx.engine
            .outbox(None)
            .await
            .unwrap()
            .iter()
            .all(|row| row.status == OutboxStatus::Sent && row.attempts == 1)
    );
}
