//! Transitions written conditionally after an unlocked read (one statement on PostgreSQL,
//! three sent together on SQLite, in batches with others) and in one transaction (every transition the
//! conditional write does not cover): the same state, event, chain and mail either way;
//! every refusal reported as before; and the write itself refusing a caller who lost the
//! role, a document without a version, or a head that moved, after the unlocked read
//! that decided to try.

use std::sync::Arc;

use patto_core::ids::PersonId;
use patto_core::records::Document;
use patto_core::status::OutboxStatus;
use patto_core::{DocumentKind, Role};
use patto_engine::{
    Actor, Backend, Engine, EngineError, ErrorCode, FireOutcome, FireRequest, Followed, NewDocument,
};
use patto_store::{
    ConditionalTransition, DatabaseConfig, NewEvent, NotifyPeople, PeopleSet, Store,
};

use crate::engine::{Ctx, World, assert_chain_intact, fire, shipped, world};

engine_cases!(super::shipped() =>
    a_social_report_moves_with_its_event_and_mail,
    refusals_are_reported_as_by_a_transaction,
    concurrent_firings_of_a_social_report_exactly_one_wins,
    followers_hear_of_a_transition_written_conditionally,
    the_writing_statement_checks_role_guard_and_head_again,
    transitions_fired_together_are_all_saved_and_heard,
    an_instance_another_transaction_holds_is_not_waited_for,
    hostile_titles_travel_through_a_batch_as_text,
    a_failing_transition_takes_none_of_its_batch_with_it,
    a_login_code_is_sent_before_a_queue_of_notifications,
    transitions_go_through_after_the_server_closed_the_held_connections,
    a_server_on_this_machine_is_reached_without_tls_unless_asked,
);

/// A social report of the coalition, drafted by the working group (whose one member is
/// the world's partner) and reviewed by the coalition's coordinator.
async fn social_report(ctx: &Ctx, w: &World) -> Document {
    report_titled(
        &ctx.engine,
        w,
        "bilancio-sociale-2026".into(),
        "Bilancio sociale 2026".into(),
    )
    .await
}

/// [`social_report`] with one version, so that it may be submitted for review.
async fn drafted_social_report(ctx: &Ctx, w: &World) -> Document {
    drafted_report(
        &ctx.engine,
        w,
        "bilancio-sociale-2026".into(),
        "Bilancio sociale 2026".into(),
    )
    .await
}

async fn a_social_report_moves_with_its_event_and_mail(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    for round in 0..3 {
        let before = engine.instance_of(report.id).await.unwrap();
        // A working-group member submits; the coordinator is told.
        let statements = ctx.store.statements_executed();
        let submitted = engine
            .fire(
                w.partner,
                request(&report, "submit_for_review", before.version),
            )
            .await
            .unwrap();
        let cost = ctx.store.statements_executed() - statements;
        assert_eq!(submitted.state, "review");
        assert_eq!(submitted.version, before.version + 1);
        assert_eq!(submitted.steps.len(), 1);
        // The firing is one read and one write (on SQLite, the write's three statements
        // go to the database in one call), where the transaction takes five statements
        // besides BEGIN and COMMIT; the first firing of an instance started before this
        // engine read its definition may also read that.
        if round > 0 {
            assert_eq!(cost, 2, "statements of round {round}");
        }
        // The coordinator sends it back; the working group is told.
        let revised = fire(engine, w.coordinator, &report, "revise")
            .await
            .unwrap();
        assert_eq!(revised.state, "drafting");
        assert_eq!(revised.version, before.version + 2);

        let after = engine.instance_of(report.id).await.unwrap();
        assert_eq!(after.state, "drafting");
        assert_eq!(after.version, before.version + 2);
        assert_eq!(after.event_count, before.event_count + 2);
        let events = engine.events(after.id).await.unwrap();
        let (submit_event, revise_event) = (&events[events.len() - 2], &events[events.len() - 1]);
        assert_eq!(submit_event.kind, "transition");
        assert_eq!(submit_event.actor_id, Some(w.partner_id));
        assert_eq!(submit_event.prev_hash, before.head_hash);
        assert_eq!(revise_event.actor_id, Some(w.coordinator_id));
        assert_eq!(revise_event.hash, after.head_hash);
        let payload: serde_json::Value = serde_json::from_str(&submit_event.payload).unwrap();
        assert_eq!(payload["transition"], "submit_for_review");
        assert_eq!(payload["from"], "drafting");
        assert_eq!(payload["to"], "review");
        assert_eq!(payload["automatic"], false);

        let outbox = engine.outbox(Some(after.id)).await.unwrap();
        assert_eq!(outbox.len(), 2 * (round + 1));
        let (to_coordinator, to_group) = (&outbox[outbox.len() - 2], &outbox[outbox.len() - 1]);
        assert_eq!(to_coordinator.person_id, w.coordinator_id);
        assert_eq!(to_coordinator.recipient, "coordinatrice@example.org");
        assert_eq!(to_coordinator.language, "it");
        assert_eq!(to_coordinator.template, "review_requested");
        assert_eq!(to_coordinator.event_seq, Some(submit_event.seq));
        assert_eq!(to_coordinator.status, OutboxStatus::Pending);
        assert_eq!(to_coordinator.attempts, 0);
        assert_eq!(to_group.person_id, w.partner_id);
        assert_eq!(to_group.language, "en");
        assert_eq!(to_group.template, "changes_requested");
        assert_eq!(to_group.event_seq, Some(revise_event.seq));
        let mail: serde_json::Value = serde_json::from_str(&to_group.payload).unwrap();
        assert_eq!(mail["document"]["slug"], "bilancio-sociale-2026");
        assert_eq!(mail["roles"], serde_json::json!(["member"]));
        for message in [to_coordinator, to_group] {
            assert!(
                message.message_id.starts_with('<') && message.message_id.ends_with("@patto>"),
                "{}",
                message.message_id
            );
        }
        assert_ne!(to_coordinator.message_id, to_group.message_id);
    }
    assert_chain_intact(engine, &report).await;
}

/// Subscribers learn of every committed event, whichever path wrote it: the conditional
/// write must tell them (on PostgreSQL, through the announcer's `NOTIFY`) as a
/// transaction does. On PostgreSQL the announcer's connection is then closed by the
/// server: the next event must still be heard, announced on a new connection, not
/// reported as missed.
async fn followers_hear_of_a_transition_written_conditionally(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    let mut follower = engine.follow_events().await.unwrap();
    for (round, (actor, transition)) in
        [(w.partner, "submit_for_review"), (w.coordinator, "revise")]
            .into_iter()
            .enumerate()
    {
        if round == 1 && ctx.backend() == Backend::Postgres {
            let closed = ctx
                .store
                .execute_raw(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid() \
                     AND query LIKE '%pg_notify%'",
                )
                .await
                .unwrap();
            assert_eq!(closed, 1, "the announcer's connection was not found");
        }
        fire(engine, actor, &report, transition).await.unwrap();
        let fired = engine.instance_of(report.id).await.unwrap();
        let heard = tokio::time::timeout(std::time::Duration::from_secs(30), follower.next())
            .await
            .expect("no event reached the follower within 30 s");
        match heard {
            Followed::Event(event) => {
                assert_eq!(event.instance_id, fired.id);
                assert_eq!(event.seq, fired.event_count, "round {round}");
                assert_eq!(event.kind, "transition");
            }
            other => panic!("the follower got {other:?} instead of the transition's event"),
        }
    }
}

async fn refusals_are_reported_as_by_a_transaction(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = social_report(ctx, &w).await;
    let untouched = engine.instance_of(report.id).await.unwrap();
    // No version yet: the guard fails.
    let refused = fire(engine, w.partner, &report, "submit_for_review")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::GuardFailed, "{refused}");
    assert!(refused.to_string().contains("has_version"), "{refused}");
    engine
        .add_version(w.partner, report.id, b"bozza".to_vec())
        .await
        .unwrap();
    let seen = engine.instance_of(report.id).await.unwrap();
    // Someone with no role on the document and the public are forbidden; `revise` does
    // not leave `drafting`, whoever asks.
    for (actor, transition) in [
        (w.outsider, "submit_for_review"),
        (w.partner, "revise"),
        (Actor::Public, "submit_for_review"),
    ] {
        let refused = fire(engine, actor, &report, transition).await.unwrap_err();
        let expected = if transition == "revise" {
            // `revise` does not leave `drafting`.
            ErrorCode::Validation
        } else {
            ErrorCode::Forbidden
        };
        assert_eq!(
            refused.code(),
            expected,
            "{actor:?} {transition}: {refused}"
        );
    }
    // A stale version is a conflict, an unknown transition bad input.
    let stale = engine
        .fire(
            w.partner,
            request(&report, "submit_for_review", seen.version - 1),
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::Conflict, "{stale}");
    let unknown = fire(engine, w.partner, &report, "publish_now")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::Validation, "{unknown}");
    // A member who left the working group can no longer submit.
    engine
        .remove_working_group_member(Actor::System, w.group, w.partner_id)
        .await
        .unwrap();
    let refused = fire(engine, w.partner, &report, "submit_for_review")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");
    // Nothing of the refused attempts was written.
    let after = engine.instance_of(report.id).await.unwrap();
    assert_eq!(after, seen);
    assert_eq!(after.version, untouched.version);
    assert!(engine.outbox(Some(after.id)).await.unwrap().is_empty());
    // The coordinator may still submit, and then review.
    fire(engine, w.coordinator, &report, "submit_for_review")
        .await
        .unwrap();
    assert_chain_intact(engine, &report).await;
}

async fn concurrent_firings_of_a_social_report_exactly_one_wins(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    for round in 0..6 {
        let (transition, target, actor) = if round % 2 == 0 {
            ("submit_for_review", "review", w.partner)
        } else {
            ("revise", "drafting", w.coordinator)
        };
        let seen = engine.instance_of(report.id).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(4));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let engine = engine.clone();
            let barrier = barrier.clone();
            let firing = request(&report, transition, seen.version);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                engine.fire(actor, firing).await
            }));
        }
        let mut wins = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(outcome) => {
                    assert_eq!(outcome.state, target);
                    wins += 1;
                }
                Err(error) => assert_eq!(error.code(), ErrorCode::Conflict, "{error}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
        let after = engine.instance_of(report.id).await.unwrap();
        assert_eq!(after.state, target);
        assert_eq!(after.version, seen.version + 1);
        assert_eq!(after.event_count, seen.event_count + 1);
        assert_eq!(
            engine.outbox(Some(after.id)).await.unwrap().len(),
            round + 1,
            "one message per transition taken"
        );
    }
    assert_chain_intact(engine, &report).await;
}

/// The unlocked read and the write are two statements: between them the caller may lose
/// the role, the document's versions may change, and another event may be appended.
/// The writing statement checks each again and writes nothing when one fails.
async fn the_writing_statement_checks_role_guard_and_head_again(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = social_report(ctx, &w).await;
    let (document, instance) = ctx
        .store
        .document_with_instance(report.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(document, report);
    let group = [PeopleSet::WorkingGroup(w.group)];
    let coordinators = [PeopleSet::WithMembership {
        role: Role::Coordinator.as_str(),
        organisation_id: w.coalition,
    }];
    let notify = [NotifyPeople {
        sets: &coordinators,
        template: "review_requested",
        payload: "{}",
    }];
    // The document has no version: the guard fails inside the statement.
    let refused = ctx
        .store
        .write_conditional_transition(attempt(
            &instance,
            &report,
            w.partner_id,
            &group,
            true,
            &notify,
        ))
        .await
        .unwrap();
    assert_eq!(refused, None);
    // The outsider is in no set of the transition's roles.
    let outsider = match w.outsider {
        Actor::Person(id) => id,
        Actor::System | Actor::Public => unreachable!(),
    };
    let refused = ctx
        .store
        .write_conditional_transition(attempt(
            &instance, &report, outsider, &group, false, &notify,
        ))
        .await
        .unwrap();
    assert_eq!(refused, None);
    // A version is added (which appends an event): the head the caller read is stale.
    engine
        .add_version(w.partner, report.id, b"bozza".to_vec())
        .await
        .unwrap();
    let refused = ctx
        .store
        .write_conditional_transition(attempt(
            &instance,
            &report,
            w.partner_id,
            &group,
            true,
            &notify,
        ))
        .await
        .unwrap();
    assert_eq!(refused, None);
    // Read again; then the partner leaves the group before the write.
    let (_, current) = ctx
        .store
        .document_with_instance(report.id)
        .await
        .unwrap()
        .unwrap();
    engine
        .remove_working_group_member(Actor::System, w.group, w.partner_id)
        .await
        .unwrap();
    let refused = ctx
        .store
        .write_conditional_transition(attempt(
            &current,
            &report,
            w.partner_id,
            &group,
            true,
            &notify,
        ))
        .await
        .unwrap();
    assert_eq!(refused, None);
    // None of it was written.
    let after = engine.instance_of(report.id).await.unwrap();
    assert_eq!(after.state, "drafting");
    assert_eq!(after.version, current.version);
    assert_eq!(after.head_hash, current.head_hash);
    assert_eq!(
        engine.events(after.id).await.unwrap().len() as i64,
        after.event_count
    );
    assert!(engine.outbox(None).await.unwrap().is_empty());
    assert_chain_intact(engine, &report).await;
}

/// Transitions of different documents fired at the same moment: on PostgreSQL their
/// statements are committed together (`patto-store`'s `batch`), on SQLite their
/// transactions (`group`). Each must be saved whole, with its own chained event and
/// message, and told to the followers.
async fn transitions_fired_together_are_all_saved_and_heard(ctx: &Ctx) {
    const REPORTS: usize = 8;
    let engine = &ctx.engine;
    let w = world(engine).await;
    let mut reports = Vec::new();
    for n in 0..REPORTS {
        reports.push(
            drafted_report(
                engine,
                &w,
                format!("bilancio-sociale-{n}"),
                format!("Bilancio sociale {n}"),
            )
            .await,
        );
    }
    let mut follower = engine.follow_events().await.unwrap();
    let mut seen = Vec::new();
    for report in &reports {
        seen.push(engine.instance_of(report.id).await.unwrap());
    }
    let requests = reports
        .iter()
        .zip(&seen)
        .map(|(report, before)| request(report, "submit_for_review", before.version))
        .collect();
    for outcome in fire_together(engine, w.partner, requests).await {
        assert_eq!(outcome.unwrap().state, "review");
    }
    let mut heard = std::collections::BTreeSet::new();
    while heard.len() < REPORTS {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), follower.next())
            .await
            .expect("not every transition reached the follower within 30 s");
        match next {
            Followed::Event(event) => {
                assert_eq!(event.kind, "transition");
                heard.insert(event.instance_id);
            }
            other => panic!("the follower got {other:?} instead of a transition's event"),
        }
    }
    for (report, before) in reports.iter().zip(&seen) {
        let after = engine.instance_of(report.id).await.unwrap();
        assert!(
            heard.contains(&after.id),
            "{} was not heard of",
            report.slug
        );
        assert_eq!(after.state, "review");
        assert_eq!(after.version, before.version + 1);
        assert_eq!(after.event_count, before.event_count + 1);
        let events = engine.events(after.id).await.unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.prev_hash, before.head_hash);
        assert_eq!(last.hash, after.head_hash);
        assert_eq!(last.actor_id, Some(w.partner_id));
        let outbox = engine.outbox(Some(after.id)).await.unwrap();
        assert_eq!(outbox.len(), 1, "{}", report.slug);
        assert_eq!(outbox[0].template, "review_requested");
        assert_eq!(outbox[0].event_seq, Some(last.seq));
        assert_chain_intact(engine, report).await;
    }
}

/// On PostgreSQL the one statement runs in a batch with others' statements: if it waited
/// for an instance that another transaction holds, everyone in the batch would wait with
/// it. It skips a held instance and writes nothing; the engine then fires on the
/// transactional path, which waits for the instance as any transaction does.
async fn an_instance_another_transaction_holds_is_not_waited_for(ctx: &Ctx) {
    if ctx.backend() != Backend::Postgres {
        return;
    }
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    let (_, instance) = ctx
        .store
        .document_with_instance(report.id)
        .await
        .unwrap()
        .unwrap();
    let holder = ctx.store.begin().await.unwrap();
    assert!(
        holder
            .claim_document_instance(report.id, instance.version)
            .await
            .unwrap()
            .is_some()
    );
    let group = [PeopleSet::WorkingGroup(w.group)];
    // Every other check of the statement holds: only the lock stops it.
    let skipped = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        ctx.store.write_conditional_transition(attempt(
            &instance,
            &report,
            w.partner_id,
            &group,
            true,
            &[],
        )),
    )
    .await
    .expect("the statement waited for the instance another transaction holds")
    .unwrap();
    assert_eq!(skipped, None);
    drop(holder);
    // The holder rolled back: the firing goes through, and the chain holds.
    let submitted = fire(engine, w.partner, &report, "submit_for_review")
        .await
        .unwrap();
    assert_eq!(submitted.version, instance.version + 1);
    let after = engine.instance_of(report.id).await.unwrap();
    assert_eq!(after.event_count, instance.event_count + 1);
    assert_chain_intact(engine, &report).await;
}

/// Conditional writes fired together share a batch (PostgreSQL) or a group commit
/// (SQLite), and their statements carry text that people typed. Titles that would end a
/// string literal, escape a quote or start a statement of their own must arrive in the
/// mail's parameters exactly as given, and nothing else may run.
async fn hostile_titles_travel_through_a_batch_as_text(ctx: &Ctx) {
    const TITLES: [&str; 6] = [
        "Bilancio'); DROP TABLE events; --",
        "Bilancio \\'; DELETE FROM outbox_messages; --",
        "Bilancio $$ || pg_sleep(10) || $$",
        "Bilancio E'\\x00' \" \\\\ riga",
        "Bilancio \u{1F600} àèìòù ’ ‘ “",
        "Bilancio ; COMMIT; BEGIN; UPDATE workflow_instances SET state = 'x'",
    ];
    let engine = &ctx.engine;
    let w = world(engine).await;
    let mut reports = Vec::new();
    for (n, title) in TITLES.iter().enumerate() {
        reports.push(
            drafted_report(
                engine,
                &w,
                format!("bilancio-ostile-{n}"),
                (*title).to_owned(),
            )
            .await,
        );
    }
    let mut requests = Vec::new();
    for report in &reports {
        let before = engine.instance_of(report.id).await.unwrap();
        requests.push(request(report, "submit_for_review", before.version));
    }
    let statements = ctx.store.statements_executed();
    for outcome in fire_together(engine, w.partner, requests).await {
        assert_eq!(outcome.unwrap().state, "review");
    }
    // Each firing took the conditional path (one read and one write); none fell back to
    // a transaction.
    assert_eq!(
        ctx.store.statements_executed() - statements,
        2 * reports.len() as u64
    );
    for (report, title) in reports.iter().zip(TITLES) {
        let after = engine.instance_of(report.id).await.unwrap();
        assert_eq!(after.state, "review", "{title}");
        let outbox = engine.outbox(Some(after.id)).await.unwrap();
        assert_eq!(outbox.len(), 1, "{title}");
        let mail: serde_json::Value = serde_json::from_str(&outbox[0].payload).unwrap();
        assert_eq!(mail["document"]["title"], title);
        let events = engine.events(after.id).await.unwrap();
        let payload: serde_json::Value =
            serde_json::from_str(&events.last().unwrap().payload).unwrap();
        assert_eq!(payload["transition"], "submit_for_review");
        assert_chain_intact(engine, report).await;
    }
    // Nothing but the six messages was written, and no instance but these moved.
    assert_eq!(engine.outbox(None).await.unwrap().len(), TITLES.len());
}

/// A transition whose write fails inside a batch (here a trigger refuses its event, as a
/// full disk or a broken constraint would) rolls its whole batch back: the others of the
/// batch must still be saved, each once and chained, through the transactional path, and
/// the failing one must be reported as an internal error with nothing of it written.
/// Followers hear of the saved ones and of nothing that was rolled back: on PostgreSQL
/// events are announced only once their COMMIT succeeded.
async fn a_failing_transition_takes_none_of_its_batch_with_it(ctx: &Ctx) {
    const REPORTS: usize = 6;
    const FAILING: usize = 2;
    let engine = &ctx.engine;
    let w = world(engine).await;
    let mut reports = Vec::new();
    let mut seen = Vec::new();
    for n in 0..REPORTS {
        let report = drafted_report(
            engine,
            &w,
            format!("bilancio-guasto-{n}"),
            format!("Bilancio sociale {n}"),
        )
        .await;
        seen.push(engine.instance_of(report.id).await.unwrap());
        reports.push(report);
    }
    let failing = seen[FAILING].id.get();
    let trigger = match ctx.backend() {
        Backend::Sqlite => format!(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON events WHEN NEW.instance_id = {failing} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ),
        Backend::Postgres => format!(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER refuse_one BEFORE INSERT ON events FOR EACH ROW \
             WHEN (NEW.instance_id = {failing}) EXECUTE FUNCTION refuse_one()"
        ),
    };
    ctx.store.execute_raw(&trigger).await.unwrap();
    let mut follower = engine.follow_events().await.unwrap();
    let requests = reports
        .iter()
        .zip(&seen)
        .map(|(report, before)| request(report, "submit_for_review", before.version))
        .collect();
    let outcomes = fire_together(engine, w.partner, requests).await;
    for (n, ((outcome, report), before)) in
        outcomes.into_iter().zip(&reports).zip(&seen).enumerate()
    {
        let after = engine.instance_of(report.id).await.unwrap();
        let events = engine.events(after.id).await.unwrap();
        let outbox = engine.outbox(Some(after.id)).await.unwrap();
        if n == FAILING {
            let error = outcome.unwrap_err();
            assert_eq!(error.code(), ErrorCode::Internal, "{error}");
            assert_eq!(after.state, "drafting");
            assert_eq!(after.version, before.version);
            assert_eq!(after.head_hash, before.head_hash);
            assert!(outbox.is_empty(), "{outbox:?}");
        } else {
            assert_eq!(outcome.unwrap().state, "review", "{}", report.slug);
            assert_eq!(after.version, before.version + 1);
            assert_eq!(events.last().unwrap().prev_hash, before.head_hash);
            assert_eq!(outbox.len(), 1, "{}", report.slug);
        }
        assert_eq!(events.len() as i64, after.event_count, "{}", report.slug);
        assert_chain_intact(engine, report).await;
    }
    // One more transition, fired after the others were answered and checked, marks the
    // end of what the follower may hear of them.
    fire(engine, w.coordinator, &reports[0], "revise")
        .await
        .unwrap();
    let last = engine.instance_of(reports[0].id).await.unwrap();
    let mut heard = Vec::new();
    loop {
        let next = tokio::time::timeout(std::time::Duration::from_secs(30), follower.next())
            .await
            .expect("the transitions did not reach the follower within 30 s");
        match next {
            Followed::Event(event)
                if event.instance_id == last.id && event.seq == last.event_count =>
            {
                break;
            }
            Followed::Event(event) => heard.push(event.instance_id),
            other => panic!("the follower got {other:?} instead of a saved transition's event"),
        }
    }
    heard.sort();
    let mut saved: Vec<_> = seen
        .iter()
        .map(|before| before.id)
        .filter(|id| id.get() != failing)
        .collect();
    saved.sort();
    assert_eq!(
        heard, saved,
        "the follower heard of exactly the saved transitions"
    );
}

/// Transitions queue notifications in bursts (the demo queues hundreds); a login code
/// requested afterwards must not wait behind them, or it could expire unsent while its
/// person waits at the login form.
async fn a_login_code_is_sent_before_a_queue_of_notifications(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    for _ in 0..5 {
        fire(engine, w.partner, &report, "submit_for_review")
            .await
            .unwrap();
        fire(engine, w.coordinator, &report, "revise")
            .await
            .unwrap();
    }
    engine
        .request_login("coordinatrice@example.org", "127.0.0.1".parse().unwrap())
        .await
        .unwrap();
    let templates = [
        "review_requested",
        "changes_requested",
        patto_engine::LOGIN_CODE_TEMPLATE,
    ];
    let first = engine
        .claim_mail(&templates, 1, chrono::Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].template, patto_engine::LOGIN_CODE_TEMPLATE);
    // The notifications follow, in the order they were queued.
    let rest = engine
        .claim_mail(&templates, 100, chrono::Duration::seconds(60))
        .await
        .unwrap();
    assert_eq!(rest.len(), 10);
    assert!(
        rest.windows(2)
            .all(|pair| pair[0].id.get() < pair[1].id.get())
    );
}

/// On PostgreSQL, a transition's read and write run on connections kept beside the pool,
/// which are not tested with a round trip after each use as the pool's are. When the
/// server has closed them (a restart, an administrator, a proxy), the transitions that
/// follow must each go through exactly once and chained (on the pool and in a
/// transaction while a closed connection is found and replaced), and then find new held
/// connections.
async fn transitions_go_through_after_the_server_closed_the_held_connections(ctx: &Ctx) {
    if ctx.backend() != Backend::Postgres {
        return;
    }
    let engine = &ctx.engine;
    let w = world(engine).await;
    let report = drafted_social_report(ctx, &w).await;
    let submitted = fire(engine, w.partner, &report, "submit_for_review")
        .await
        .unwrap();
    // The connections whose last statement was a transition's read (its columns carry
    // the `instance_` prefix) or its write.
    let closed = ctx
        .store
        .execute_raw(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND (query LIKE '%instance_head_hash%' OR query LIKE '%WITH \"moved\"%')",
        )
        .await
        .unwrap();
    assert!(
        closed >= 2,
        "closed {closed} connections, expected the reader and the leader"
    );

    // A leader whose connection was closed fails its first statement, which sends that
    // caller to the transactional path, and opens a new connection; the leaders take
    // the queued statements in turn (tokio's mutex is fair), so after as many firings
    // as there are leaders none is left with a closed connection, and a firing is one
    // read and one write again.
    let mut version = submitted.version;
    for (round, (actor, transition)) in
        [(w.coordinator, "revise"), (w.partner, "submit_for_review")]
            .into_iter()
            .cycle()
            .take(6)
            .enumerate()
    {
        let statements = ctx.store.statements_executed();
        let outcome = engine
            .fire(actor, request(&report, transition, version))
            .await
            .unwrap();
        version += 1;
        assert_eq!(outcome.version, version, "round {round}");
        if round == 5 {
            assert_eq!(
                ctx.store.statements_executed() - statements,
                2,
                "the held connections are back: one read and one write"
            );
        }
    }
    let after = engine.instance_of(report.id).await.unwrap();
    assert_eq!(after.version, version);
    assert_eq!(
        engine.events(after.id).await.unwrap().len() as i64,
        after.event_count
    );
    assert_chain_intact(engine, &report).await;
}

/// On PostgreSQL, a server on this machine is reached without TLS when neither the URL
/// nor `PGSSLMODE` names a mode: every connection the store opens (the pool, the held
/// connections of a transition, the listener) is plain, and a URL that asks for TLS gets
/// it. The server must offer TLS for this to show anything (Debian's PostgreSQL does,
/// with its snake-oil certificate); without it the test says so and stops.
async fn a_server_on_this_machine_is_reached_without_tls_unless_asked(ctx: &Ctx) {
    let DatabaseConfig::Url(url) = ctx.database_config() else {
        return;
    };
    if ctx.backend() != Backend::Postgres {
        return;
    }
    let local = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|host| url.contains(&format!("@{host}")));
    if !local || url.contains("sslmode") || std::env::var_os("PGSSLMODE").is_some() {
        eprintln!("NOTE the test database is not on loopback without a TLS mode: not checked");
        return;
    }
    let offers_tls = ctx
        .store
        .execute_raw("SELECT 1 FROM pg_settings WHERE name = 'ssl' AND setting = 'on'")
        .await
        .unwrap();
    if offers_tls == 0 {
        eprintln!("NOTE the PostgreSQL server offers no TLS: not checked");
        return;
    }
    // A transition opens the held connections besides the pool's.
    let w = world(&ctx.engine).await;
    let report = drafted_social_report(ctx, &w).await;
    fire(&ctx.engine, w.partner, &report, "submit_for_review")
        .await
        .unwrap();
    let connections = |encrypted: bool| {
        format!(
            "SELECT 1 FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
             WHERE datname = current_database() AND ssl = {encrypted}"
        )
    };
    let plain = ctx.store.execute_raw(&connections(false)).await.unwrap();
    let encrypted = ctx.store.execute_raw(&connections(true)).await.unwrap();
    assert!(
        plain >= 2,
        "{plain} plain connections: the pool's and the held ones"
    );
    assert_eq!(
        encrypted, 0,
        "no connection on loopback uses TLS by default"
    );

    let separator = if url.contains('?') { '&' } else { '?' };
    let asking = DatabaseConfig::Url(format!("{url}{separator}sslmode=require"));
    let tls_store = Store::connect(&asking).await.unwrap();
    let encrypted = tls_store.execute_raw(&connections(true)).await.unwrap();
    assert!(encrypted >= 1, "sslmode=require in the URL gets TLS");
    tls_store.close().await.unwrap();
}

/// A social report of the coalition like [`social_report`], with its own slug and title.
async fn report_titled(engine: &Engine, w: &World, slug: String, title: String) -> Document {
    engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::SocialReport,
                slug,
                title,
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: Some(w.group),
            },
        )
        .await
        .unwrap()
}

/// [`report_titled`] with one version, so that it may be submitted for review.
async fn drafted_report(engine: &Engine, w: &World, slug: String, title: String) -> Document {
    let report = report_titled(engine, w, slug, title).await;
    engine
        .add_version(w.partner, report.id, b"bozza".to_vec())
        .await
        .unwrap();
    report
}

/// `transition` of `report`, seen at `version`.
fn request(report: &Document, transition: &str, version: i64) -> FireRequest {
    FireRequest {
        document_id: report.id,
        transition: transition.into(),
        expected_version: version,
    }
}

/// Fires every request at the same moment (a barrier releases them together), so that
/// they share a batch or a group commit; the outcomes in the order of the requests.
async fn fire_together(
    engine: &Arc<Engine>,
    actor: Actor,
    requests: Vec<FireRequest>,
) -> Vec<Result<FireOutcome, EngineError>> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let engine = engine.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                engine.fire(actor, request).await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// A write of `submit_for_review` as the engine would attempt it after reading
/// `instance`, with a placeholder hash: every attempt here must be refused, so it never
/// reaches the chain.
fn attempt<'a>(
    instance: &'a patto_core::records::WorkflowInstance,
    report: &Document,
    person_id: PersonId,
    holds_any_of: &'a [PeopleSet<'a>],
    needs_version: bool,
    notify: &'a [NotifyPeople<'a>],
) -> ConditionalTransition<'a> {
    ConditionalTransition {
        event: NewEvent {
            instance_id: instance.id,
            seq: instance.event_count + 1,
            prev_hash: &instance.head_hash,
            hash: "placeholder, never stored",
            kind: "transition",
            actor_id: Some(person_id),
            payload: "{}",
            recorded_at: chrono::Utc::now(),
        },
        seen_version: instance.version,
        to_state: "review",
        person_id,
        holds_any_of,
        document_id: report.id,
        needs_version,
        notify,
    }
}
