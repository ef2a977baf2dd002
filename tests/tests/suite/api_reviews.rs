//! Review checkpoints and the repair of a signing round through the GraphQL API, over
//! real HTTP on both backends: the scheduler opens a review of the pact in force, the
//! owners of its commitments submit their status reports, the coordinator closes it and
//! the pact is back in force; and a coordinator names a substitute for a signatory who
//! left their organisation. Each refusal is tried as the people who must not succeed.

use std::sync::Arc;

use patto_api::ApiConfig;
use patto_core::{Language, Role};
use patto_engine::{Actor, NewCommitment};
use patto_scheduler::{ManualClock, Worker, WorkerConfig};
use patto_tests::TestSessions;
use serde_json::{Value, json};

use crate::api::{code, data, graphql, serve};
use crate::engine::{Ctx, shipped};
use crate::signing::{open_round, sign};

engine_cases!(super::shipped() =>
    the_review_lifecycle_runs_through_the_api,
    a_coordinator_names_a_substitute_signatory_through_the_api,
);

/// The ids of a connection's nodes.
fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

const SUBMIT: &str = "mutation($report: ID!, $status: String!, $note: String, $url: String, $value: String) {
    submitStatusReport(report: $report, status: $status, note: $note, evidenceUrl: $url, indicatorValue: $value) {
        id status note evidenceUrl indicatorValue submittedBy { name }
    }
}";

const CLOSE: &str = "mutation($review: ID!, $minutes: String!, $outcome: String) {
    closeReview(review: $review, minutes: $minutes, outcome: $outcome) {
        id status minutes outcome closedBy { name }
    }
}";

async fn the_review_lifecycle_runs_through_the_api(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let w = &r.w;
    // Two commitments: one the coalition answers for, one the municipality does.
    let coalition_commitment = engine
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
    let municipal_commitment = engine
        .add_commitment(
            w.coordinator,
            w.pact.id,
            NewCommitment {
                owner_organisation_id: Some(w.municipality),
                description: "Aprire lo sportello antiracket".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    sign(
        engine,
        w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    sign(engine, w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap();
    // The municipality's coordinator answers for its commitment; the partner, a plain
    // member of the municipality, does not.
    let mayor = engine
        .create_person(
            Actor::System,
            "sindaco@example.org",
            "Sindaco di Cefalù",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, mayor.id, w.municipality, Role::Coordinator)
        .await
        .unwrap();

    // The scheduler opens the review, as inside `patto serve`: a year on, the pact's
    // first checkpoint has come.
    let clock = Arc::new(ManualClock::new(
        chrono::Utc::now() + chrono::Duration::days(366),
    ));
    let opened = Worker::new(engine.clone(), clock, WorkerConfig::default())
        .tick()
        .await
        .unwrap();
    assert_eq!(opened.reviews, 1, "{opened:?}");

    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(w.coordinator_id);
    let partner = sessions.issue(w.partner_id);
    let mayor_token = sessions.issue(mayor.id);
    let outsider = match w.outsider {
        Actor::Person(id) => sessions.issue(id),
        Actor::System | Actor::Public => unreachable!(),
    };
    let address = serve(engine.clone(), sessions, ApiConfig::default()).await;
    let slug = w.pact.slug.as_str();

    // The pact is published: anyone sees its schedule and its open review.
    let answer = graphql(
        address,
        None,
        "query($slug: String!) {
            reviewSchedules(document: $slug) { edges { node { cron timeZone active transition nextFireAt } } }
            reviews(document: $slug) { edges { node { id status transition skipped } } }
            document(slug: $slug) { instance { state } }
        }",
        json!({ "slug": slug }),
    )
    .await;
    let schedules = nodes(&data(&answer)["reviewSchedules"]);
    assert_eq!(schedules.len(), 1, "{answer}");
    assert_eq!(schedules[0]["timeZone"], "Europe/Rome");
    assert_eq!(schedules[0]["active"], true);
    assert_eq!(schedules[0]["transition"], "open_review");
    assert!(schedules[0]["nextFireAt"].is_string(), "{answer}");
    let reviews = nodes(&data(&answer)["reviews"]);
    assert_eq!(reviews.len(), 1, "{answer}");
    assert_eq!(reviews[0]["status"], "open");
    assert_eq!(reviews[0]["transition"], "open_review");
    assert_eq!(
        data(&answer)["document"]["instance"]["state"],
        "under_review"
    );
    let review = reviews[0]["id"].as_str().unwrap().to_owned();

    let answer = graphql(
        address,
        Some(&coordinator),
        "query($id: ID!) { review(id: $id) { status statusReports { edges { node { id commitmentId status } } } } }",
        json!({ "id": review }),
    )
    .await;
    let reports = nodes(&data(&answer)["review"]["statusReports"]);
    assert_eq!(reports.len(), 2, "one report per open commitment: {answer}");
    assert!(reports.iter().all(|r| r["status"].is_null()), "{answer}");
    let report_of = |commitment: patto_core::ids::CommitmentId| {
        let key = commitment.get().to_string();
        reports
            .iter()
            .find(|r| r["commitmentId"] == key.as_str())
            .unwrap_or_else(|| panic!("no report on {commitment}: {reports:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let coalition_report = report_of(coalition_commitment.id);
    let municipal_report = report_of(municipal_commitment.id);

    // Who does not answer for a commitment cannot report on it; the public changes
    // nothing; a bad status or a link that is not a web address is refused.
    let done = json!({ "report": municipal_report, "status": "done" });
    for (token, expected) in [
        (Some(partner.as_str()), "FORBIDDEN"),
        (Some(outsider.as_str()), "FORBIDDEN"),
        (Some(coordinator.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, SUBMIT, done.clone()).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    let answer = graphql(
        address,
        Some(&mayor_token),
        SUBMIT,
        json!({ "report": municipal_report, "status": "finished" }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    let answer = graphql(
        address,
        Some(&mayor_token),
        SUBMIT,
        json!({ "report": municipal_report, "status": "done", "url": "ftp://comune/atto" }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");

    let answer = graphql(
        address,
        Some(&mayor_token),
        SUBMIT,
        json!({
            "report": municipal_report,
            "status": "done",
            "note": "Sportello aperto il 3 marzo",
            "url": "https://comune.cefalu.pa.it/albo/123",
            "value": "1",
        }),
    )
    .await;
    let submitted = &data(&answer)["submitStatusReport"];
    assert_eq!(submitted["status"], "done");
    assert_eq!(submitted["note"], "Sportello aperto il 3 marzo");
    assert_eq!(
        submitted["evidenceUrl"],
        "https://comune.cefalu.pa.it/albo/123"
    );
    assert_eq!(submitted["indicatorValue"], "1");
    assert_eq!(submitted["submittedBy"]["name"], "Sindaco di Cefalù");
    let answer = graphql(
        address,
        Some(&coordinator),
        SUBMIT,
        json!({ "report": coalition_report, "status": "in_progress" }),
    )
    .await;
    assert_eq!(data(&answer)["submitStatusReport"]["status"], "in_progress");

    // Only the pact's coordinator closes the review.
    let closing = json!({
        "review": review,
        "minutes": "Verifica semestrale: sportello aperto, bandi in corso.",
        "outcome": "conclude_review",
    });
    for (token, expected) in [
        (Some(mayor_token.as_str()), "FORBIDDEN"),
        (Some(partner.as_str()), "FORBIDDEN"),
        (Some(outsider.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, CLOSE, closing.clone()).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    let answer = graphql(address, Some(&coordinator), CLOSE, closing.clone()).await;
    let closed = &data(&answer)["closeReview"];
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["outcome"], "conclude_review");
    assert_eq!(closed["closedBy"]["name"], "Anna Coordinatrice");
    // Closed once: again, or a late report, is a conflict.
    let answer = graphql(address, Some(&coordinator), CLOSE, closing).await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");
    let answer = graphql(address, Some(&mayor_token), SUBMIT, done).await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");

    // The pact is back in force, and anyone reads the review's minutes and reports.
    let answer = graphql(
        address,
        None,
        "query($slug: String!, $id: ID!) {
            document(slug: $slug) { instance { state } }
            review(id: $id) { status minutes statusReports { edges { node { status note } } } }
        }",
        json!({ "slug": slug, "id": review }),
    )
    .await;
    assert_eq!(data(&answer)["document"]["instance"]["state"], "in_force");
    assert_eq!(
        data(&answer)["review"]["minutes"],
        "Verifica semestrale: sportello aperto, bandi in corso."
    );
    let statuses: Vec<Value> = nodes(&data(&answer)["review"]["statusReports"])
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("in_progress"), json!("done")], "{answer}");

    // The coordinator moves the reviews to a monthly checkpoint; nobody else may, and
    // an expression that is not crontab is refused with how to check it.
    let schedule = "mutation($document: ID!, $cron: String!) {
        setReviewSchedule(document: $document, cron: $cron) { cron timeZone active }
    }";
    let monthly = json!({ "document": w.pact.id.get().to_string(), "cron": "0 10 1 * *" });
    let answer = graphql(address, Some(&mayor_token), schedule, monthly.clone()).await;
    assert_eq!(code(&answer), "FORBIDDEN", "{answer}");
    let answer = graphql(
        address,
        Some(&coordinator),
        schedule,
        json!({ "document": w.pact.id.get().to_string(), "cron": "0 10 31 2 * *" }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("patto schedule next"),
        "{answer}"
    );
    let answer = graphql(address, Some(&coordinator), schedule, monthly).await;
    assert_eq!(data(&answer)["setReviewSchedule"]["cron"], "0 10 1 * *");
    assert_eq!(
        data(&answer)["setReviewSchedule"]["timeZone"],
        "Europe/Rome"
    );
    let answer = graphql(
        address,
        None,
        "query($slug: String!) { reviewSchedules(document: $slug) { edges { node { cron active } } } }",
        json!({ "slug": slug }),
    )
    .await;
    let schedules = nodes(&data(&answer)["reviewSchedules"]);
    assert_eq!(
        schedules
            .iter()
            .map(|s| (s["cron"].clone(), s["active"].clone()))
            .collect::<Vec<_>>(),
        [
            (json!("0 9 1 */6 *"), json!(false)),
            (json!("0 10 1 * *"), json!(true)),
        ],
        "{answer}"
    );
}

async fn a_coordinator_names_a_substitute_signatory_through_the_api(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let w = &r.w;
    // The partner signs for the municipality, then leaves it: their request is
    // cancelled. A colleague of the municipality takes their place; a person who does
    // not belong to it cannot.
    engine
        .remove_membership(Actor::System, w.partner_id, w.municipality, Role::Member)
        .await
        .unwrap();
    let colleague = engine
        .create_person(
            Actor::System,
            "assessore@example.org",
            "Assessora Lo Verde",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, colleague.id, w.municipality, Role::Member)
        .await
        .unwrap();
    let stranger = engine
        .create_person(Actor::System, "altro@example.org", "Altro", Language::It)
        .await
        .unwrap();

    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(w.coordinator_id);
    let colleague_token = sessions.issue(colleague.id);
    let outsider = match w.outsider {
        Actor::Person(id) => sessions.issue(id),
        Actor::System | Actor::Public => unreachable!(),
    };
    let address = serve(engine.clone(), sessions, ApiConfig::default()).await;
    let substitute = "mutation($request: ID!, $substitute: ID!) {
        substituteSignatory(request: $request, substitute: $substitute) {
            id status documentSlug person { name } organisation
        }
    }";
    let naming = |person: patto_core::ids::PersonId| {
        json!({
            "request": r.partner_request.get().to_string(),
            "substitute": person.get().to_string(),
        })
    };
    for (token, expected) in [
        (Some(colleague_token.as_str()), "FORBIDDEN"),
        (Some(outsider.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, substitute, naming(colleague.id)).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    let answer = graphql(address, Some(&coordinator), substitute, naming(stranger.id)).await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");

    let answer = graphql(
        address,
        Some(&coordinator),
        substitute,
        naming(colleague.id),
    )
    .await;
    let added = &data(&answer)["substituteSignatory"];
    assert_eq!(added["status"], "pending");
    assert_eq!(added["documentSlug"], w.pact.slug.as_str());
    assert_eq!(added["person"]["name"], "Assessora Lo Verde");
    assert!(
        added["organisation"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("cefal"),
        "{answer}"
    );
    assert_ne!(added["id"], r.partner_request.get().to_string());
    // Named once: the cancelled request has its substitute.
    let answer = graphql(
        address,
        Some(&coordinator),
        substitute,
        naming(colleague.id),
    )
    .await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");
    // The substitute sees their own request and the statement to sign.
    let answer = graphql(
        address,
        Some(&colleague_token),
        "query($id: ID!) { signatureRequest(id: $id) { status statement } }",
        json!({ "id": added["id"] }),
    )
    .await;
    assert_eq!(data(&answer)["signatureRequest"]["status"], "pending");
    assert!(
        data(&answer)["signatureRequest"]["statement"]
            .as_str()
            .unwrap()
            .contains("Assessora Lo Verde"),
        "{answer}"
    );
}
