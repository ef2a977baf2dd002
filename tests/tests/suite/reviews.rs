//! Review checkpoints, status reports and reminders on both backends, with a clock the
//! test moves: a checkpoint fires once, downtime folds into one review, version-1
//! instances get reviews without a change of state, two workers on one database fire
//! 1,000 due schedules with no duplicate and none missed, and reminders keep their
//! cadence.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Rome;
use patto_core::DocumentKind;
use patto_core::ids::InstanceId;
use patto_core::records::{ReviewSchedule, SignatoryEntry};
use patto_core::status::{CommitmentStatus, ReportStatus, ReviewStatus};
use patto_core::workflow::Catalogue;
use patto_engine::{
    Actor, CommitmentChange, Engine, ErrorCode, NewCommitment, NewDocument, ReminderPolicy,
    ReviewFiring, StatusReportInput,
};
use patto_scheduler::{ManualClock, TickReport, Worker, WorkerConfig};

use crate::engine::world;
use crate::engine::{Ctx, assert_chain_intact, shipped};
use crate::signing::{Round, bodies, open_round, sign};

engine_cases!(super::shipped() =>
    a_checkpoint_opens_the_review_once_and_closing_it_returns_the_pact_in_force,
    missed_checkpoints_make_one_review_with_the_skipped_count,
    two_workers_fire_a_thousand_due_schedules_once,
    reminders_keep_their_cadence_and_fire_once,
    sequential_rounds_remind_only_whose_turn_it_is,
    a_coordinator_sets_the_review_schedule_of_a_running_document,
    review_mail_carries_the_review_as_a_calendar_event_and_due_dates_as_dates,
    commitments_are_overdue_from_midnight_in_rome_across_daylight_saving,
);

engine_cases!(super::version_one() =>
    version_one_instances_get_reviews_without_a_change_of_state,
);

/// The shipped definitions with the pact at version 1, as instances started before
/// version 2 still run it.
fn version_one() -> Catalogue {
    let mut files: Vec<(String, String)> =
        ["protocol", "diagnosis", "reporting-model", "social-report"]
            .iter()
            .map(|name| {
                (
                    format!("{name}.toml"),
                    shipped().source(name).unwrap().to_owned(),
                )
            })
            .collect();
    files.push((
        "pact.toml".into(),
        include_str!("../../../workflows/versions/pact-v1.toml").to_owned(),
    ));
    Catalogue::from_sources(files).unwrap()
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn worker(engine: &Arc<Engine>, clock: &Arc<ManualClock>) -> Worker {
    Worker::new(engine.clone(), clock.clone(), WorkerConfig::default())
}

/// The world's pact signed by both signatories, in force, with its review schedule.
async fn pact_in_force(engine: &Engine) -> (Round, InstanceId) {
    let r = open_round(engine).await;
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap();
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    assert_eq!(instance.state, "in_force");
    (r, instance.id)
}

async fn schedule(engine: &Engine, instance: InstanceId) -> ReviewSchedule {
    let mut schedules = engine.review_schedules(instance).await.unwrap();
    assert_eq!(schedules.len(), 1);
    schedules.pop().unwrap()
}

/// Ticks once and sets the schedule's first instant; returns it, checked against the
/// pact's expression `0 9 1 */6 *` read in Rome: 09:00 on 1 January or 1 July, within
/// six months of the schedule's creation.
async fn first_instant(engine: &Arc<Engine>, instance: InstanceId) -> DateTime<Utc> {
    let created = schedule(engine, instance).await.created_at;
    let clock = Arc::new(ManualClock::new(created));
    let report = worker(engine, &clock).tick().await.unwrap();
    assert_eq!((report.first_instants, report.reviews), (1, 0));
    let first = schedule(engine, instance).await.next_fire_at.unwrap();
    let local = first.with_timezone(&Rome);
    assert!(
        first > created && first - created <= chrono::Duration::days(185),
        "{first}"
    );
    assert_eq!(
        (local.day(), local.hour(), local.minute()),
        (1, 9, 0),
        "{local}"
    );
    assert!(local.month() == 1 || local.month() == 7, "{local}");
    first
}

async fn a_checkpoint_opens_the_review_once_and_closing_it_returns_the_pact_in_force(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (r, instance) = pact_in_force(engine).await;
    let w = &r.w;
    let open = engine
        .add_commitment(
            w.coordinator,
            w.pact.id,
            NewCommitment {
                owner_organisation_id: Some(w.coalition),
                description: "Pubblicare i bandi".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let done = engine
        .add_commitment(
            w.coordinator,
            w.pact.id,
            NewCommitment {
                owner_organisation_id: Some(w.coalition),
                description: "Firmare il protocollo".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    engine
        .update_commitment(
            w.coordinator,
            done.id,
            CommitmentChange {
                status: Some(CommitmentStatus::Done),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let scheduled = schedule(engine, instance).await;
    assert_eq!(scheduled.transition.as_deref(), Some("open_review"));
    let first = first_instant(engine, instance).await;

    // A minute before the instant nothing fires; a minute after, the review opens.
    let clock = Arc::new(ManualClock::new(first - chrono::Duration::minutes(1)));
    let worker = worker(engine, &clock);
    assert_eq!(worker.tick().await.unwrap(), TickReport::default());
    let outbox_before = engine.outbox(Some(instance)).await.unwrap().len();
    clock.set(first + chrono::Duration::minutes(1));
    assert_eq!(worker.tick().await.unwrap().reviews, 1);
    // Ticking again at the same moment, or a little later, fires nothing more.
    assert_eq!(worker.tick().await.unwrap(), TickReport::default());
    clock.set(first + chrono::Duration::hours(1));
    assert_eq!(worker.tick().await.unwrap(), TickReport::default());

    assert_eq!(
        engine.instance_of(w.pact.id).await.unwrap().state,
        "under_review"
    );
    let reviews = engine.reviews(instance).await.unwrap();
    assert_eq!(reviews.len(), 1);
    let review = &reviews[0];
    assert_eq!(review.scheduled_for, first);
    assert_eq!(review.fired_at, first + chrono::Duration::minutes(1));
    assert_eq!(review.skipped, 0);
    assert_eq!(review.transition.as_deref(), Some("open_review"));
    assert_eq!(review.status, ReviewStatus::Open);
    // The schedule moved on by six months.
    let next = schedule(engine, instance).await.next_fire_at.unwrap();
    assert_eq!(next.with_timezone(&Rome).day(), 1);
    assert!(next - first > chrono::Duration::days(180), "{next}");

    // A worker that computed from a stale schedule (its lease expired while it was
    // stalled) fires the same instant again: the unique key on (schedule, instant)
    // refuses it and nothing else happens, but the schedule moves on.
    let outbox_after = engine.outbox(Some(instance)).await.unwrap().len();
    ctx.store
        .execute_raw(&format!(
            "UPDATE review_schedules SET next_fire_at = '{}' WHERE id = {}",
            sql_time(first),
            scheduled.id.get()
        ))
        .await
        .unwrap();
    let again = engine
        .fire_review(ReviewFiring {
            schedule_id: scheduled.id,
            claimed_at: Some(first),
            scheduled_for: first,
            skipped: 0,
            next_fire_at: next,
            fired_at: first + chrono::Duration::minutes(2),
        })
        .await
        .unwrap();
    assert_eq!(again, None);
    assert_eq!(engine.reviews(instance).await.unwrap().len(), 1);
    assert_eq!(
        engine.outbox(Some(instance)).await.unwrap().len(),
        outbox_after
    );
    assert_eq!(schedule(engine, instance).await.next_fire_at, Some(next));
    assert_eq!(
        engine.instance_of(w.pact.id).await.unwrap().state,
        "under_review"
    );

    // Partners hear of the review (the transition's notify effect), the commitment's
    // owner is asked for a status report on the open commitment only.
    let mail: Vec<_> = engine.outbox(Some(instance)).await.unwrap()[outbox_before..].to_vec();
    let to = |template: &str| {
        let mut people: Vec<_> = mail
            .iter()
            .filter(|m| m.template == template)
            .map(|m| m.person_id)
            .collect();
        people.sort();
        people
    };
    assert!(to("review_opened").contains(&w.partner_id), "{mail:?}");
    assert_eq!(to("status_report_requested"), vec![w.coordinator_id]);
    let reports = engine.status_reports(review.id).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].commitment_id, open.id);
    assert_eq!(reports[0].status, None);

    // Only the owner reports, with a web link as evidence.
    let input = StatusReportInput {
        status: ReportStatus::InProgress,
        note: Some("Bando pubblicato il 3 marzo".into()),
        evidence_url: Some("https://albo.example.org/bando-42".into()),
        indicator_value: Some("2 su 4".into()),
    };
    assert_eq!(
        engine
            .submit_status_report(w.partner, reports[0].id, input.clone())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    let bad_link = StatusReportInput {
        evidence_url: Some("albo pretorio".into()),
        ..input.clone()
    };
    let refused = engine
        .submit_status_report(w.coordinator, reports[0].id, bad_link)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert!(refused.to_string().contains("https://"), "{refused}");
    let reported = engine
        .submit_status_report(w.coordinator, reports[0].id, input)
        .await
        .unwrap();
    assert_eq!(reported.status, Some(ReportStatus::InProgress));
    assert_eq!(reported.submitted_by, Some(w.coordinator_id));
    assert_eq!(
        reported.evidence_url.as_deref(),
        Some("https://albo.example.org/bando-42")
    );

    // The coordinator closes the review with minutes; the pact returns in force.
    assert_eq!(
        engine
            .close_review(w.partner, review.id, "Verbale", Some("conclude_review"))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        engine
            .close_review(w.coordinator, review.id, "  ", Some("conclude_review"))
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    let closed = engine
        .close_review(
            w.coordinator,
            review.id,
            "Verbale: impegni in linea",
            Some("conclude_review"),
        )
        .await
        .unwrap();
    assert_eq!(closed.status, ReviewStatus::Closed);
    assert_eq!(closed.outcome.as_deref(), Some("conclude_review"));
    assert_eq!(closed.closed_by, Some(w.coordinator_id));
    assert_eq!(
        engine.instance_of(w.pact.id).await.unwrap().state,
        "in_force"
    );
    assert_eq!(
        engine
            .close_review(w.coordinator, review.id, "Di nuovo", None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    // A report on a closed review is refused.
    assert_eq!(
        engine
            .submit_status_report(
                w.coordinator,
                reports[0].id,
                StatusReportInput {
                    status: ReportStatus::Done,
                    note: None,
                    evidence_url: None,
                    indicator_value: None,
                }
            )
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    assert_chain_intact(engine, &w.pact).await;
}

async fn missed_checkpoints_make_one_review_with_the_skipped_count(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (r, instance) = pact_in_force(engine).await;
    let first = first_instant(engine, instance).await;
    // Two years of downtime: the instants at 0, 6, 12 and 18 months are missed, the one
    // at 24 months is the review's. 09:00 in Rome on the same day two years on,
    // computed here from the calendar rather than by the scheduler.
    let local = first.with_timezone(&Rome);
    let two_years_on = Rome
        .with_ymd_and_hms(local.year() + 2, local.month(), 1, 9, 0, 0)
        .single()
        .unwrap()
        .to_utc();
    let clock = Arc::new(ManualClock::new(two_years_on + chrono::Duration::days(3)));
    let report = worker(engine, &clock).tick().await.unwrap();
    assert_eq!(report.reviews, 1);
    let reviews = engine.reviews(instance).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].scheduled_for, two_years_on);
    assert_eq!(reviews[0].skipped, 4);
    assert_eq!(
        engine.instance_of(r.w.pact.id).await.unwrap().state,
        "under_review"
    );
    let next = schedule(engine, instance).await.next_fire_at.unwrap();
    assert!(next > clock_now(&clock), "{next}");
    assert_eq!(
        worker(engine, &clock).tick().await.unwrap(),
        TickReport::default()
    );
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use patto_scheduler::Clock;
    clock.now()
}

async fn version_one_instances_get_reviews_without_a_change_of_state(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (r, instance) = pact_in_force(engine).await;
    assert_eq!(
        engine
            .instance_of(r.w.pact.id)
            .await
            .unwrap()
            .definition_version,
        1
    );
    assert_eq!(schedule(engine, instance).await.transition, None);
    let first = first_instant(engine, instance).await;
    let before = engine.instance_of(r.w.pact.id).await.unwrap();
    let clock = Arc::new(ManualClock::new(first + chrono::Duration::seconds(5)));
    assert_eq!(worker(engine, &clock).tick().await.unwrap().reviews, 1);
    let after = engine.instance_of(r.w.pact.id).await.unwrap();
    assert_eq!(
        (after.state.as_str(), after.version),
        ("in_force", before.version)
    );
    let reviews = engine.reviews(instance).await.unwrap();
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0].transition, None);
    // No transition announced it, so the coordinators are told directly.
    let told: Vec<_> = engine
        .outbox(Some(instance))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "review_opened")
        .map(|m| m.person_id)
        .collect();
    assert_eq!(told, vec![r.w.coordinator_id]);
    let closed = engine
        .close_review(r.w.coordinator, reviews[0].id, "Nessuna modifica", None)
        .await
        .unwrap();
    assert_eq!(
        (closed.status, closed.outcome),
        (ReviewStatus::Closed, None)
    );
    assert_eq!(
        engine.instance_of(r.w.pact.id).await.unwrap().state,
        "in_force"
    );
    assert_chain_intact(engine, &r.w.pact).await;
}

/// The way SQLite and PostgreSQL both read a timestamp literal as sqlx writes it.
fn sql_time(instant: DateTime<Utc>) -> String {
    instant.format("%F %T%:z").to_string()
}

async fn two_workers_fire_a_thousand_due_schedules_once(ctx: &Ctx) {
    const SCHEDULES: usize = 1000;
    let engine = &ctx.engine;
    let (r, instance) = pact_in_force(engine).await;
    // Stop the pact's own schedule, then add a thousand daily ones, all due.
    ctx.store
        .execute_raw("UPDATE review_schedules SET active = FALSE")
        .await
        .unwrap();
    let due = at("2027-03-01T08:00:00Z");
    let rows: Vec<String> = (0..SCHEDULES)
        .map(|_| {
            format!(
                "({}, '0 9 * * *', 'Europe/Rome', TRUE, '{}', '{}')",
                instance.get(),
                sql_time(at("2027-02-01T00:00:00Z")),
                sql_time(due)
            )
        })
        .collect();
    ctx.store
        .execute_raw(&format!(
            "INSERT INTO review_schedules (instance_id, cron, time_zone, active, created_at, next_fire_at) VALUES {}",
            rows.join(", ")
        ))
        .await
        .unwrap();
    let second = Arc::new(ctx.another_engine().await);
    let clock = Arc::new(ManualClock::new(at("2027-03-01T08:00:30Z")));
    let config = WorkerConfig {
        batch: 25,
        lease: Duration::from_secs(600),
        ..WorkerConfig::default()
    };
    let one = Worker::new(engine.clone(), clock.clone(), config);
    let two = Worker::new(second.clone(), clock.clone(), config);
    let (a, b) = tokio::join!(one.tick(), two.tick());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.failures, b.failures), (0, 0));
    assert_eq!(a.reviews + b.reviews, SCHEDULES as u32, "{a:?} {b:?}");
    assert_eq!(engine.review_count().await.unwrap(), SCHEDULES as u64);
    let reviews = engine.reviews(instance).await.unwrap();
    let mut schedules: Vec<_> = reviews.iter().map(|r| r.schedule_id).collect();
    schedules.sort();
    schedules.dedup();
    assert_eq!(schedules.len(), SCHEDULES);
    assert!(
        reviews
            .iter()
            .all(|r| r.scheduled_for == due && r.skipped == 0)
    );
    // Every schedule moved on to 09:00 in Rome the next day: ticking again fires none.
    let (a, b) = tokio::join!(one.tick(), two.tick());
    assert_eq!((a.unwrap().reviews, b.unwrap().reviews), (0, 0));
    clock.set(at("2027-03-02T08:00:00Z"));
    let (a, b) = tokio::join!(one.tick(), two.tick());
    assert_eq!(a.unwrap().reviews + b.unwrap().reviews, SCHEDULES as u32);
    assert_eq!(engine.review_count().await.unwrap(), 2 * SCHEDULES as u64);
    assert_eq!(
        engine.instance_of(r.w.pact.id).await.unwrap().state,
        "in_force"
    );
    drop((one, two));
    Arc::into_inner(second).unwrap().close().await.unwrap();
}

async fn reminders_keep_their_cadence_and_fire_once(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let requested = engine.signature_requests(r.w.pact.id).await.unwrap()[0]
        .request
        .created_at;
    let policy = ReminderPolicy::default();
    let day = chrono::Duration::days(1);
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let remind =
        |after: chrono::Duration| engine.send_due_reminders(requested + after, today, policy);
    // Nothing before five days; then one each for the two pending requests, once.
    assert_eq!(remind(day * 4).await.unwrap().signature, 0);
    assert_eq!(
        remind(day * 5 + chrono::Duration::minutes(1))
            .await
            .unwrap()
            .signature,
        2
    );
    assert_eq!(remind(day * 6).await.unwrap().signature, 0);
    // Every two days after that.
    assert_eq!(remind(day * 7).await.unwrap().signature, 2);
    assert_eq!(remind(day * 8).await.unwrap().signature, 0);
    // After a long silence the latest step only, then never more than five.
    assert_eq!(remind(day * 30).await.unwrap().signature, 2);
    assert_eq!(remind(day * 60).await.unwrap().signature, 0);
    // Signing stops the reminders of that request.
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    let instance = engine.instance_of(r.w.pact.id).await.unwrap().id;
    let reminders: Vec<_> = engine
        .outbox(Some(instance))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "signature_reminder")
        .collect();
    assert_eq!(reminders.len(), 6);
    assert!(reminders.iter().any(|m| m.person_id == r.w.partner_id));
    assert!(reminders.iter().any(|m| m.person_id == r.w.coordinator_id));

    // A commitment past its due date and not done is chased once per due date.
    let late = engine
        .add_commitment(
            r.w.coordinator,
            r.w.pact.id,
            NewCommitment {
                owner_organisation_id: Some(r.w.coalition),
                description: "Installare le telecamere".into(),
                due_date: NaiveDate::from_ymd_opt(2025, 12, 15),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let now = requested + day * 60;
    let overdue = |today| engine.send_due_reminders(now, today, policy);
    assert_eq!(
        overdue(NaiveDate::from_ymd_opt(2025, 12, 15).unwrap())
            .await
            .unwrap()
            .overdue,
        0
    );
    assert_eq!(overdue(today).await.unwrap().overdue, 1);
    assert_eq!(overdue(today).await.unwrap().overdue, 0);
    engine
        .update_commitment(
            r.w.coordinator,
            late.id,
            CommitmentChange {
                due_date: NaiveDate::from_ymd_opt(2025, 12, 20),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(overdue(today).await.unwrap().overdue, 1);
    engine
        .update_commitment(
            r.w.coordinator,
            late.id,
            CommitmentChange {
                status: Some(CommitmentStatus::Done),
                due_date: NaiveDate::from_ymd_opt(2025, 12, 1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(overdue(today).await.unwrap().overdue, 0);
    let chased: Vec<_> = engine
        .outbox(Some(instance))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "commitment_overdue")
        .map(|m| m.person_id)
        .collect();
    assert_eq!(chased, vec![r.w.coordinator_id, r.w.coordinator_id]);
}

async fn a_coordinator_sets_the_review_schedule_of_a_running_document(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    // Before the pact enters into force there are no reviews to reschedule.
    let early = engine
        .set_review_schedule(r.w.coordinator, r.w.pact.id, "0 10 * * 1", None)
        .await
        .unwrap_err();
    assert_eq!(early.code(), ErrorCode::Validation);
    assert!(early.to_string().contains("have not started"), "{early}");
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap();
    let instance = engine.instance_of(r.w.pact.id).await.unwrap().id;
    let invalid = engine
        .set_review_schedule(r.w.coordinator, r.w.pact.id, "0 25 * * *", None)
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), ErrorCode::Validation);
    assert!(
        invalid.to_string().contains("patto schedule next"),
        "{invalid}"
    );
    assert_eq!(
        engine
            .set_review_schedule(
                r.w.coordinator,
                r.w.pact.id,
                "0 10 * * 1",
                Some("Mars/Olympus")
            )
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    assert_eq!(
        engine
            .set_review_schedule(r.w.partner, r.w.pact.id, "0 10 * * 1", None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    let set = engine
        .set_review_schedule(
            r.w.coordinator,
            r.w.pact.id,
            "0 10 * * 1",
            Some("Europe/Berlin"),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            set.cron.as_str(),
            set.time_zone.as_str(),
            set.transition.as_deref()
        ),
        ("0 10 * * 1", "Europe/Berlin", Some("open_review"))
    );
    let schedules = engine.review_schedules(instance).await.unwrap();
    assert_eq!(schedules.len(), 2);
    assert_eq!(
        schedules
            .iter()
            .filter(|s| s.active)
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![set.id]
    );
    assert_chain_intact(engine, &r.w.pact).await;
}

async fn sequential_rounds_remind_only_whose_turn_it_is(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let b = bodies(engine, w.coalition).await;
    let model = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::ReportingModel,
                slug: "modello".into(),
                title: "Modello di rendicontazione".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    engine
        .add_version(w.coordinator, model.id, b"Linee guida".to_vec())
        .await
        .unwrap();
    // The decision body approves first, then the Regione.
    let signatories = [
        SignatoryEntry {
            organisation: b.decision_body,
            person: b.decision_body_person,
        },
        SignatoryEntry {
            organisation: b.region,
            person: b.region_person,
        },
    ];
    engine
        .set_signatories(w.coordinator, model.id, &signatories)
        .await
        .unwrap();
    crate::engine::fire(engine, w.coordinator, &model, "share")
        .await
        .unwrap();
    crate::engine::fire(engine, w.coordinator, &model, "submit_for_adoption")
        .await
        .unwrap();
    crate::engine::fire(
        engine,
        Actor::Person(b.decision_body_person),
        &model,
        "adopt",
    )
    .await
    .unwrap();
    let requests = engine.signature_requests(model.id).await.unwrap();
    let opened = requests[0].request.created_at;
    let policy = ReminderPolicy::default();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let day = chrono::Duration::days(1);
    let sent = engine
        .send_due_reminders(opened + day * 5, today, policy)
        .await
        .unwrap();
    assert_eq!(sent.signature, 1);
    sign(
        engine,
        Actor::Person(b.decision_body_person),
        requests[0].request.id,
        &b.decision_body_key,
    )
    .await
    .unwrap();
    // Now it is the second signatory's turn; their request is as old as the round.
    let sent = engine
        .send_due_reminders(opened + day * 7, today, policy)
        .await
        .unwrap();
    assert_eq!(sent.signature, 1);
    let instance = engine.instance_of(model.id).await.unwrap().id;
    let reminded: Vec<_> = engine
        .outbox(Some(instance))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "signature_reminder")
        .map(|m| m.person_id)
        .collect();
    assert_eq!(reminded, vec![b.decision_body_person, b.region_person]);
}

/// The calendar part of a received mail, checked as RFC 5545 wants it written: CRLF line
/// ends, no line over 75 octets; returned unfolded, one content line per item.
fn calendar_lines(mail: &patto_tests::smtp::ReceivedMail) -> Vec<String> {
    let (headers, body) = mail
        .part("text/calendar")
        .unwrap_or_else(|| panic!("no calendar part in {}", mail.data));
    assert!(headers.contains("method=PUBLISH"), "{headers}");
    let text = String::from_utf8(body).unwrap();
    let text = text.trim_end_matches("\r\n");
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "a bare line feed: {text:?}"
    );
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
    text.replace("\r\n ", "")
        .split("\r\n")
        .map(str::to_owned)
        .collect()
}

async fn review_mail_carries_the_review_as_a_calendar_event_and_due_dates_as_dates(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (r, instance) = pact_in_force(engine).await;
    engine
        .add_commitment(
            r.w.coordinator,
            r.w.pact.id,
            NewCommitment {
                owner_organisation_id: Some(r.w.coalition),
                description: "Pubblicare i bandi".into(),
                due_date: NaiveDate::from_ymd_opt(2099, 6, 30),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let first = first_instant(engine, instance).await;
    let clock = Arc::new(ManualClock::new(first + chrono::Duration::minutes(1)));
    assert_eq!(worker(engine, &clock).tick().await.unwrap().reviews, 1);
    let review = engine.reviews(instance).await.unwrap().pop().unwrap();

    let (sink, mail) = crate::notify::mail_setup(engine, 3).await;
    mail.run_once().await.unwrap();
    let messages = sink.messages();
    let with_calendar: Vec<_> = messages
        .iter()
        .filter(|m| m.part("text/calendar").is_some())
        .collect();
    // The partners hear the review opened (the transition's own mail), the owners of
    // the open commitment are asked for their status: all with the review's date.
    let opened: Vec<_> = with_calendar
        .iter()
        .filter(|m| {
            let subject = m.subject().unwrap();
            subject.starts_with("Verifica aperta") || subject.starts_with("Review open")
        })
        .collect();
    let asked: Vec<_> = with_calendar
        .iter()
        .filter(|m| {
            let subject = m.subject().unwrap();
            subject.starts_with("Stato di avanzamento richiesto")
                || subject.starts_with("Status report requested")
        })
        .collect();
    assert!(!opened.is_empty(), "{messages:#?}");
    assert!(!asked.is_empty(), "{messages:#?}");
    assert_eq!(opened.len() + asked.len(), with_calendar.len());
    let start = format!("DTSTART:{}", first.format("%Y%m%dT%H%M%SZ"));
    let uid = format!("UID:review-{}@patto.example.org", review.id.get());
    for message in &with_calendar {
        let lines = calendar_lines(message);
        assert_eq!(lines.first().map(String::as_str), Some("BEGIN:VCALENDAR"));
        assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
        for expected in [
            "VERSION:2.0",
            "METHOD:PUBLISH",
            "BEGIN:VEVENT",
            "END:VEVENT",
        ] {
            assert!(lines.iter().any(|l| l == expected), "{expected}: {lines:?}");
        }
        // One event, named after the review in every recipient's mail.
        assert!(lines.contains(&uid), "{uid}: {lines:?}");
        assert!(lines.contains(&start), "{start}: {lines:?}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("SUMMARY:") && l.contains(&r.w.pact.title)),
            "{lines:?}"
        );
    }
    // The due date is a date: no time of day, in either language.
    for message in &asked {
        let text = message.decoded();
        assert!(
            text.contains("(scadenza 30/06/2099)") || text.contains("(due 30/06/2099)"),
            "{text}"
        );
        assert!(!text.contains("30/06/2099 02:00"), "{text}");
    }
}

async fn commitments_are_overdue_from_midnight_in_rome_across_daylight_saving(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(&ctx.engine).await;
    // Due on the Saturday before each change of the clocks in 2026.
    for due in [(2026, 3, 28), (2026, 10, 24)] {
        engine
            .add_commitment(
                w.coordinator,
                w.pact.id,
                NewCommitment {
                    description: format!("Impegno in scadenza il {}-{}-{}", due.0, due.1, due.2),
                    due_date: NaiveDate::from_ymd_opt(due.0, due.1, due.2),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let clock = Arc::new(ManualClock::new(at("2026-03-01T00:00:00Z")));
    let worker = worker(engine, &clock);
    let overdue = || async { worker.tick().await.unwrap().reminders.overdue };
    // 23:59 on 28 March in Rome (CET, UTC+1): still due that day.
    clock.set(at("2026-03-28T22:59:00Z"));
    assert_eq!(overdue().await, 0);
    // Midnight in Rome, 23:00 UTC: overdue, although it is still the 28th in UTC.
    clock.set(at("2026-03-28T23:00:00Z"));
    assert_eq!(overdue().await, 1);
    // 23:59 on 24 October in Rome (CEST, UTC+2): still due that day.
    clock.set(at("2026-10-24T21:59:00Z"));
    assert_eq!(overdue().await, 0);
    // Midnight in Rome, 22:00 UTC: overdue.
    clock.set(at("2026-10-24T22:00:00Z"));
    assert_eq!(overdue().await, 1);
    assert_eq!(overdue().await, 0);
}
