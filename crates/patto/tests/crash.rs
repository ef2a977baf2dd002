//! Crash tests of the real `patto serve`, on SQLite and on PostgreSQL
//! (`PATTO_TEST_DATABASE_URL`): the process is killed with SIGKILL half-way through its
//! work and started again on the same database, and nothing is lost or done twice.
//!
//! - Mail: queued messages go to an SMTP server over TCP that takes its time over each,
//!   the server is killed in the middle of a batch, restarted while the SMTP server
//!   refuses everything (it is down), and every message arrives once it is back; a
//!   message sent again carries the same `Message-ID`.
//! - Reviews: a burst of due review schedules is cut by the kill; after the restart each
//!   schedule has exactly one review for its scheduled instant, none missed.
//!
//! The waits below are deadlines, never timings: each loop polls until what it waits for
//! has happened, and fails with the server's log only when it never does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use patto_core::status::OutboxStatus;
use patto_core::workflow::Catalogue;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{Actor, DatabaseConfig, Engine, NewDocument, NewOrganisation};
use patto_tests::TestDatabase;
use patto_tests::process::ServerProcess;
use patto_tests::smtp::SmtpSink;
use serde_json::json;

const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../workflows");

/// How long any one wait may last before the test fails: the mail retried after the
/// SMTP server returns waits 30 seconds (give or take a quarter) by design.
const DEADLINE: Duration = Duration::from_secs(240);

/// Messages queued for the mail test: more than one batch of the worker (50).
const MESSAGES: usize = 120;

/// Review schedules due at once for the review test.
const SCHEDULES: usize = 400;

/// Runs a case as two tests, on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[test]
                fn sqlite() {
                    super::$case(patto_tests::TestDatabase::sqlite());
                }

                #[test]
                fn postgres() {
                    let database = super::runtime().block_on(patto_tests::TestDatabase::postgres());
                    if let Some(database) = database {
                        super::$case(database);
                    }
                }
            }
        )+
    };
}

on_both_backends!(
    mail_survives_a_kill_mid_batch_and_an_smtp_outage,
    reviews_survive_a_kill_mid_burst,
);

/// A runtime for the in-process SMTP server and the test's own engine; the test's thread
/// itself only waits.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The test's own connection to the database the server uses.
async fn engine(database: &TestDatabase) -> Engine {
    let engine = Engine::connect(&database.config, Catalogue::shipped().unwrap())
        .await
        .unwrap();
    engine.migrate().await.unwrap();
    engine
}

/// `patto serve` on port 0 over the test's database, with the short leases and polls a
/// test needs so that work a killed server held is taken again within seconds.
fn serve(database: &TestDatabase) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_patto"));
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("PATTO_DATABASE_URL")
        .env_remove("PATTO_LANG")
        .env_remove("PATTO_SMTP_URL")
        .env_remove("PATTO_MAIL_FROM")
        .env_remove("PATTO_MAIL_MAX_ATTEMPTS")
        .env_remove("PATTO_PUBLIC_URL")
        .env_remove("PATTO_TRUSTED_KEYS")
        .env_remove("PATTO_OPERATOR_EMAIL")
        .env("PATTO_DATA_DIR", &database.dir)
        .env("PATTO_WORKFLOWS_DIR", WORKFLOWS)
        .env("PATTO_MAIL_LEASE_SECONDS", "3")
        .env("PATTO_REVIEW_LEASE_SECONDS", "2")
        .env("PATTO_REVIEW_POLL_SECONDS", "1");
    if let DatabaseConfig::Url(url) = &database.config {
        command.env("PATTO_DATABASE_URL", url);
    }
    command
}

/// Polls `done` until it holds; fails with the server's log at the deadline.
fn wait_until(what: &str, server: &mut ServerProcess, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        if Instant::now() > deadline {
            let stderr = server.kill();
            panic!("{what} did not happen before the deadline; the server said:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Message-IDs of the messages the sink accepted, each with how many times it came.
fn received_ids(sink: &SmtpSink) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for message in sink.messages() {
        let id = message
            .header("Message-ID")
            .expect("every message has an id");
        *ids.entry(id).or_insert(0) += 1;
    }
    ids
}

fn mail_survives_a_kill_mid_batch_and_an_smtp_outage(database: TestDatabase) {
    let runtime = runtime();
    let sink = runtime.block_on(SmtpSink::start());
    let queued: BTreeSet<String> = runtime.block_on(async {
        let engine = engine(&database).await;
        let anna = engine
            .create_person(
                Actor::System,
                "anna@example.org",
                "Anna Rossi",
                Language::It,
            )
            .await
            .unwrap();
        let payload = json!({
            "document": { "id": 1, "slug": "patto-2026", "title": "Patto per la sicurezza" },
            "review": 1,
            "scheduled_at": "2027-01-01T08:00:00+00:00",
            "skipped": 0,
        });
        engine
            .queue_mail_in_bulk(Actor::System, anna.id, "review_opened", &payload, MESSAGES)
            .await
            .unwrap();
        let queued = engine
            .outbox(None)
            .await
            .unwrap()
            .into_iter()
            .map(|row| row.message_id)
            .collect();
        engine.close().await.unwrap();
        queued
    });
    assert_eq!(queued.len(), MESSAGES);

    // The SMTP server takes its time over each message, so that the kill lands while the
    // worker is in the middle of its first batch of 50.
    sink.slow_down(Duration::from_millis(100));
    let with_mail = |mut command: Command| {
        command
            .env("PATTO_SMTP_URL", sink.url())
            .env("PATTO_MAIL_FROM", "Patto <patto@example.org>");
        command
    };
    let mut first = ServerProcess::start(&mut with_mail(serve(&database)));
    wait_until("the first deliveries", &mut first, || {
        sink.messages().len() >= 10
    });
    first.kill();
    let before_kill = received_ids(&sink);
    assert!(
        before_kill.len() < 50,
        "the kill came after the first batch: {} delivered",
        before_kill.len()
    );

    // Restarted while the SMTP server is down: every message left is tried and refused.
    sink.slow_down(Duration::ZERO);
    sink.refuse(true);
    let mut second = ServerProcess::start(&mut with_mail(serve(&database)));
    let watcher = runtime.block_on(engine(&database));
    let outbox = || runtime.block_on(watcher.outbox(None)).unwrap();
    let mut refused = BTreeSet::new();
    wait_until("an attempt at every message left", &mut second, || {
        let pending: Vec<_> = outbox()
            .into_iter()
            .filter(|row| row.status == OutboxStatus::Pending)
            .collect();
        refused = pending.iter().map(|row| row.message_id.clone()).collect();
        pending.iter().all(|row| row.attempts >= 1)
    });
    assert!(refused.len() >= MESSAGES - before_kill.len());
    assert!(sink.refused() >= refused.len() as u64);
    assert_eq!(received_ids(&sink), before_kill);

    // The SMTP server is back: the retries deliver everything.
    sink.refuse(false);
    wait_until("the delivery of every message", &mut second, || {
        received_ids(&sink).len() >= MESSAGES
    });
    // The last message may be in the sink and not yet marked sent: stopping the server
    // now would only send it once more, later.
    wait_until("every message marked sent", &mut second, || {
        outbox().iter().all(|row| row.status == OutboxStatus::Sent)
    });
    second.kill();

    let received = received_ids(&sink);
    let ids: BTreeSet<String> = received.keys().cloned().collect();
    // Every queued message arrived, nothing else did, and a message that came twice
    // (sent just before the kill, before it was marked sent) kept its Message-ID.
    assert_eq!(ids, queued);
    for message in sink.messages() {
        assert_eq!(message.to, vec!["anna@example.org".to_owned()]);
        assert_eq!(
            message.subject().as_deref(),
            Some("Verifica aperta: «Patto per la sicurezza»")
        );
    }
    let rows = outbox();
    runtime.block_on(watcher.close()).unwrap();
    assert!(
        rows.iter().all(|row| row.status == OutboxStatus::Sent),
        "{:?}",
        rows.iter()
            .filter(|row| row.status != OutboxStatus::Sent)
            .map(|row| (&row.message_id, row.status, row.attempts))
            .collect::<Vec<_>>()
    );
    // Those refused while the SMTP server was down were sent at a later attempt.
    for row in rows.iter().filter(|row| refused.contains(&row.message_id)) {
        assert!(row.attempts >= 2, "{row:?}");
    }
}

fn reviews_survive_a_kill_mid_burst(database: TestDatabase) {
    let runtime = runtime();
    // Due an hour ago, at a whole second (stored instants keep microseconds): the
    // expression's next instant after it, 09:00 on 1 January or 1 July, has not come.
    let now = Utc::now();
    let due = DateTime::from_timestamp(now.timestamp() - 3600, 0).unwrap();
    let (engine, instance) = runtime.block_on(async {
        let engine = engine(&database).await;
        let system = Actor::System;
        let organisation = engine
            .create_organisation(
                system,
                NewOrganisation {
                    slug: "comune-cefalu".to_owned(),
                    name: "Comune di Cefalù".to_owned(),
                    category: OrganisationCategory::Other,
                    istat_code: None,
                },
            )
            .await
            .unwrap();
        let person = engine
            .create_person(system, "anna@example.org", "Anna Rossi", Language::It)
            .await
            .unwrap();
        engine
            .add_membership(system, person.id, organisation.id, Role::Coordinator)
            .await
            .unwrap();
        let group = engine
            .create_working_group(system, "gdl-cefalu", "Gruppo di lavoro")
            .await
            .unwrap();
        engine
            .add_working_group_member(system, group.id, person.id)
            .await
            .unwrap();
        let document = engine
            .create_document(
                Actor::Person(person.id),
                NewDocument {
                    kind: DocumentKind::SocialReport,
                    slug: "bilancio-2026".to_owned(),
                    title: "Bilancio sociale 2026".to_owned(),
                    parent_id: None,
                    owner_organisation_id: organisation.id,
                    working_group_id: Some(group.id),
                },
            )
            .await
            .unwrap();
        engine
            .add_due_review_schedules(system, document.id, "0 9 1 */6 *", due, SCHEDULES)
            .await
            .unwrap();
        let instance = engine.instance_of(document.id).await.unwrap().id;
        (engine, instance)
    });
    let count = || runtime.block_on(engine.review_count()).unwrap();

    let mut first = ServerProcess::start(&mut serve(&database));
    wait_until("the first reviews", &mut first, || count() >= 20);
    first.kill();
    let at_kill = count();
    assert!(
        at_kill < SCHEDULES as u64,
        "the burst ended before the kill"
    );

    let mut second = ServerProcess::start(&mut serve(&database));
    wait_until("a review for every schedule", &mut second, || {
        count() >= SCHEDULES as u64
    });
    // Every schedule moved on past now: nothing is left for the server to fire.
    wait_until("every schedule moved on", &mut second, || {
        runtime
            .block_on(engine.review_schedules(instance))
            .unwrap()
            .iter()
            .all(|schedule| schedule.next_fire_at.is_some_and(|next| next > now))
    });
    second.kill();

    let reviews = runtime.block_on(engine.reviews(instance)).unwrap();
    let mut per_schedule: BTreeMap<_, usize> = BTreeMap::new();
    for review in &reviews {
        *per_schedule.entry(review.schedule_id).or_default() += 1;
        assert_eq!(review.scheduled_for, due, "{review:?}");
        assert_eq!(review.skipped, 0, "{review:?}");
    }
    assert_eq!(per_schedule.len(), SCHEDULES, "a schedule was missed");
    assert!(
        per_schedule.values().all(|reviews| *reviews == 1),
        "a schedule fired twice"
    );
    runtime.block_on(engine.close()).unwrap();
}
