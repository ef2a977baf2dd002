//! Notification mail end to end on both backends, through a real SMTP server over TCP:
//! every template that can be queued renders in Italian and English; workflow mail
//! reaches the right people in their language with the document's link; a server that is
//! down only delays mail, whose repeats keep their Message-ID; a message that keeps
//! failing is left as failed with the last error after the configured attempts.

use std::collections::BTreeSet;
use std::sync::Arc;

use patto_core::ids::OutboxMessageId;
use patto_core::records::OutgoingMail;
use patto_core::status::OutboxStatus;
use patto_core::workflow::Effect;
use patto_engine::Engine;
use patto_notify::templates::{TEMPLATES, Templates};
use patto_notify::{Delivery, MailConfig, Worker};
use patto_tests::smtp::SmtpSink;

use crate::engine::{Ctx, fire, shipped, world};

const PUBLIC_URL: &str = "https://patto.example.org";

engine_cases!(super::shipped() =>
    workflow_mail_reaches_partners_in_their_language_after_the_server_returns,
    mail_that_keeps_failing_is_left_failed_with_the_last_error,
);

/// A sink and a worker sending to it, giving up after `max_attempts`.
pub(crate) async fn mail_setup(engine: &Arc<Engine>, max_attempts: i32) -> (SmtpSink, Worker) {
    let sink = SmtpSink::start().await;
    let worker = Worker::new(
        engine.clone(),
        &MailConfig {
            smtp_url: sink.url(),
            from: "Patto <patto@example.org>".to_owned(),
            public_url: PUBLIC_URL.to_owned(),
            max_attempts,
            lease: patto_notify::LEASE,
        },
    )
    .unwrap();
    (sink, worker)
}

/// Makes every pending row due now, as if its retry time had come.
async fn make_due(ctx: &Ctx) {
    ctx.store
        .execute_raw("UPDATE outbox SET next_attempt_at = '2000-01-01T00:00:00+00:00'")
        .await
        .unwrap();
}

/// A document with a version, shared: `sharing_opened` is queued for the coordinator
/// (Italian) and the partner (English).
async fn shared_pact(ctx: &Ctx) -> crate::engine::World {
    let w = world(&ctx.engine).await;
    ctx.engine
        .add_version(w.coordinator, w.pact.id, b"Art. 1\n".to_vec())
        .await
        .unwrap();
    fire(&ctx.engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap();
    w
}

#[test]
fn every_template_that_can_be_queued_renders_in_italian_and_english() {
    let catalogue = shipped();
    let mut queued: BTreeSet<String> = patto_engine::ENGINE_TEMPLATES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    for name in catalogue.names() {
        let definition = catalogue.get(name).unwrap();
        let effects = definition
            .transitions
            .iter()
            .flat_map(|transition| &transition.effects)
            .chain(definition.states.iter().flat_map(|state| &state.on_enter));
        for effect in effects {
            if let Effect::Notify { template, .. } = effect {
                queued.insert(template.clone());
            }
        }
    }
    // The definitions name some twenty templates: the walk above found them.
    assert!(
        queued.contains("sharing_opened") && queued.len() > 20,
        "{queued:?}"
    );
    let templates = Templates::load(PUBLIC_URL).unwrap();
    // The parameters the engine gives: a workflow `notify` effect's, plus those of the
    // mail the engine writes itself.
    let payload = serde_json::json!({
        "document": { "id": 3, "slug": "patto-2026", "title": "Patto per la scuola", "kind": "pact" },
        "transition": "share", "from": "drafting", "to": "sharing", "roles": ["partner"],
        "request": 9, "reason": "Manca l'allegato", "name": "Anna Rossi", "valid_minutes": 15,
        "review": 4, "scheduled_at": "2026-03-02T09:00:00+00:00", "skipped": 0,
        "commitment": "Aprire lo sportello", "commitment_id": 7, "due": "2026-02-01T00:00:00+00:00",
        "organisation": "Pro Loco", "document_title": "Diagnosi 2026", "public_slug": "abc",
        "closes_at": "2026-12-31T22:59:00Z",
    })
    .to_string();
    for template in &queued {
        assert!(
            TEMPLATES.contains(&template.as_str()),
            "the mail worker does not know '{template}'"
        );
        let mut subjects = Vec::new();
        for language in ["it", "en"] {
            let rendered = templates
                .render(&OutgoingMail {
                    id: OutboxMessageId::new(1),
                    message_id: "<1@patto>".to_owned(),
                    recipient: "anna@example.org".to_owned(),
                    language: language.to_owned(),
                    template: template.clone(),
                    payload: payload.clone(),
                    secret: Some("12345678".to_owned()),
                    attempts: 0,
                })
                .unwrap_or_else(|error| panic!("{template} in {language}: {error}"));
            assert!(!rendered.subject.is_empty(), "{template} in {language}");
            assert!(
                rendered.text.contains(PUBLIC_URL),
                "{template}: {}",
                rendered.text
            );
            assert!(
                rendered.html.contains("<p>"),
                "{template}: {}",
                rendered.html
            );
            subjects.push(rendered.subject);
        }
        assert_ne!(subjects[0], subjects[1], "{template} is not translated");
    }
}

async fn workflow_mail_reaches_partners_in_their_language_after_the_server_returns(ctx: &Ctx) {
    let (sink, worker) = mail_setup(&ctx.engine, 5).await;
    sink.refuse(true);
    let w = shared_pact(ctx).await;
    // The server is down: both messages wait for another attempt, twice.
    for attempt in 1..=2 {
        assert_eq!(
            worker.run_once().await.unwrap(),
            Delivery {
                retried: 2,
                ..Delivery::default()
            },
            "attempt {attempt}"
        );
        // Not due yet: the worker leaves them alone until their retry time.
        assert_eq!(worker.run_once().await.unwrap(), Delivery::default());
        make_due(ctx).await;
    }
    assert!(sink.messages().is_empty());
    sink.refuse(false);
    assert_eq!(worker.run_once().await.unwrap().sent, 2);

    let rows = ctx.engine.outbox(None).await.unwrap();
    assert!(
        rows.iter().all(|row| row.status == OutboxStatus::Sent),
        "{rows:?}"
    );
    assert!(rows.iter().all(|row| row.attempts == 3), "{rows:?}");
    let mails = sink.messages();
    assert_eq!(mails.len(), 2);
    let link = format!("{PUBLIC_URL}/documents/{}", w.pact.slug);
    for (recipient, subject_start) in [
        ("coordinatrice@example.org", "Invito a commentare"),
        ("partner@example.org", "Invitation to comment"),
    ] {
        let mail = mails
            .iter()
            .find(|mail| mail.to == [recipient.to_owned()])
            .unwrap_or_else(|| panic!("no mail to {recipient}"));
        let row = rows.iter().find(|row| row.recipient == recipient).unwrap();
        // The repeat carries the Message-ID the row was given when it was queued.
        assert_eq!(mail.header("Message-ID"), Some(row.message_id.clone()));
        let subject = mail.subject().unwrap();
        assert!(subject.starts_with(subject_start), "{subject}");
        assert!(subject.contains(&w.pact.title), "{subject}");
        let text = mail.decoded();
        assert!(text.contains(&link), "{text}");
        assert!(text.contains(&w.pact.title), "{text}");
        let language_hint = match recipient {
            "partner@example.org" => "is open for the partners' comments",
            _ => "è aperto ai commenti dei partner",
        };
        assert!(text.contains(language_hint), "{text}");
    }
}

async fn mail_that_keeps_failing_is_left_failed_with_the_last_error(ctx: &Ctx) {
    let (sink, worker) = mail_setup(&ctx.engine, 2).await;
    sink.refuse(true);
    shared_pact(ctx).await;
    assert_eq!(worker.run_once().await.unwrap().retried, 2);
    make_due(ctx).await;
    assert_eq!(
        worker.run_once().await.unwrap(),
        Delivery {
            failed: 2,
            ..Delivery::default()
        }
    );
    let rows = ctx.engine.outbox(None).await.unwrap();
    for row in &rows {
        assert_eq!(row.status, OutboxStatus::Failed, "{row:?}");
        assert_eq!(row.attempts, 2);
        assert!(
            row.last_error.as_deref().is_some_and(|e| e.contains("451")),
            "{row:?}"
        );
    }
    // Given up on: the server returning changes nothing until someone re-queues them.
    sink.refuse(false);
    make_due(ctx).await;
    assert_eq!(worker.run_once().await.unwrap(), Delivery::default());
    assert!(sink.messages().is_empty());
}
