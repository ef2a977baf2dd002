//! Engine tests, written once and run on SQLite and on PostgreSQL, each on a fresh
//! database (see `patto_tests::TestDatabase`).

use std::sync::Arc;

use chrono::NaiveDate;
use patto_core::ids::{DocumentId, InstanceId, OrganisationId, PersonId, WorkingGroupId};
use patto_core::records::{Document, SignatoryEntry};
use patto_core::status::SignatureRequestStatus;
use patto_core::workflow::Catalogue;
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::Backend;
use patto_engine::{
    Actor, CommitmentChange, Engine, EngineError, ErrorCode, FireRequest, NewCommitment,
    NewDocument, NewOrganisation,
};
use patto_sign::ChainError;
use patto_store::{DatabaseConfig, Store};
use patto_tests::TestDatabase;

pub struct Ctx {
    pub engine: Arc<Engine>,
    /// The engine's store, kept beside it so that tests can tamper with rows through
    /// raw SQL (the `test-support` feature); the engine itself no longer hands it out.
    pub store: Store,
    /// Held so that the database is removed when the test ends.
    _database: TestDatabase,
}

impl Ctx {
    pub async fn new(database: TestDatabase, catalogue: Catalogue) -> Ctx {
        let store = database.store().await;
        Ctx {
            engine: Arc::new(Engine::new(store.clone(), catalogue)),
            store,
            _database: database,
        }
    }

    pub fn backend(&self) -> Backend {
        self.engine.backend()
    }

    /// Where the test's database is, as the engine was told.
    pub fn database_config(&self) -> &DatabaseConfig {
        &self._database.config
    }

    /// A second engine on the same database, with its own connections: what another
    /// `patto serve` process sharing the database would be.
    pub async fn another_engine(&self) -> Engine {
        Engine::new(
            self._database.store().await,
            self.engine.catalogue().clone(),
        )
    }
}

/// Runs each listed case on SQLite and on PostgreSQL, as two tests, with an engine over
/// the given workflow definitions.
macro_rules! engine_cases {
    ($catalogue:expr => $($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let ctx = super::Ctx::new(patto_tests::TestDatabase::sqlite(), $catalogue).await;
                    super::$case(&ctx).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(database) = patto_tests::TestDatabase::postgres().await {
                        let ctx = super::Ctx::new(database, $catalogue).await;
                        super::$case(&ctx).await;
                    }
                }
            }
        )+
    };
}

pub fn shipped() -> Catalogue {
    Catalogue::shipped().unwrap()
}

/// The shipped definitions, except that `diagnosis` is replaced by one whose approval is
/// automatic once every comment is resolved: it lets tests drive automatic transitions
/// without a signing round.
pub fn with_automatic_diagnosis() -> Catalogue {
    test_catalogue(AUTOMATIC_DIAGNOSIS)
}

fn test_catalogue(diagnosis: &str) -> Catalogue {
    let mut files: Vec<(String, String)> = ["pact", "protocol", "reporting-model", "social-report"]
        .iter()
        .map(|name| {
            let source = shipped().source(name).unwrap().to_owned();
            (format!("{name}.toml"), source)
        })
        .collect();
    files.push(("diagnosis.toml".to_owned(), diagnosis.to_owned()));
    Catalogue::from_sources(files).unwrap()
}

const AUTOMATIC_DIAGNOSIS: &str = r#"
name = "diagnosis"
version = 1
title = { it = "Diagnosi", en = "Diagnosis" }

[[states]]
name = "drafting"
initial = true

[[states]]
name = "consultation"

[[states]]
name = "approved"
final = true
on_enter = [{ effect = "publish" }, { effect = "notify", roles = ["coordinator"], template = "diagnosis_approved" }]

[[transitions]]
name = "consult"
from = ["drafting"]
to = "consultation"
roles = ["coordinator"]
guards = ["has_version"]

[[transitions]]
name = "approve"
from = ["consultation"]
to = "approved"
automatic = true
guards = ["has_version", "comments_resolved"]
"#;

/// A small world: the coalition with a coordinator, a partner network with one
/// municipality and its partner person, a working group, and a pact.
pub struct World {
    pub coalition: OrganisationId,
    pub municipality: OrganisationId,
    pub coordinator: Actor,
    pub coordinator_id: PersonId,
    pub partner: Actor,
    pub partner_id: PersonId,
    pub outsider: Actor,
    pub group: WorkingGroupId,
    pub pact: Document,
}

pub async fn world(engine: &Engine) -> World {
    let system = Actor::System;
    let coalition = engine
        .create_organisation(
            system,
            NewOrganisation {
                slug: "citta-a-rete".into(),
                name: "Città a Rete Madonie-Termini".into(),
                category: OrganisationCategory::Coalition,
                istat_code: None,
            },
        )
        .await
        .unwrap();
    let municipality = engine
        .create_organisation(
            system,
            NewOrganisation {
                slug: "cefalu".into(),
                name: "Comune di Cefalù".into(),
                category: OrganisationCategory::Municipality,
                istat_code: Some("082027".into()),
            },
        )
        .await
        .unwrap();
    let coordinator = engine
        .create_person(
            system,
            "coordinatrice@example.org",
            "Anna Coordinatrice",
            Language::It,
        )
        .await
        .unwrap();
    let partner = engine
        .create_person(system, "partner@example.org", "Paolo Partner", Language::En)
        .await
        .unwrap();
    let outsider = engine
        .create_person(
            system,
            "esterno@example.org",
            "Ettore Esterno",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(system, coordinator.id, coalition.id, Role::Coordinator)
        .await
        .unwrap();
    engine
        .add_membership(system, partner.id, municipality.id, Role::Member)
        .await
        .unwrap();
    let network = engine
        .create_network(system, "rete-integrata", "Rete integrata sovracomunale")
        .await
        .unwrap();
    engine
        .add_network_member(system, network.id, coalition.id)
        .await
        .unwrap();
    engine
        .add_network_member(system, network.id, municipality.id)
        .await
        .unwrap();
    let group = engine
        .create_working_group(system, "gdl-appalti", "Gruppo di lavoro appalti")
        .await
        .unwrap();
    engine
        .add_working_group_member(system, group.id, partner.id)
        .await
        .unwrap();
    let pact = engine
        .create_document(
            Actor::Person(coordinator.id),
            NewDocument {
                kind: DocumentKind::Pact,
                slug: "patto-sicurezza-legalita".into(),
                title: "Patto locale per la sicurezza e la legalità".into(),
                parent_id: None,
                owner_organisation_id: coalition.id,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    World {
        coalition: coalition.id,
        municipality: municipality.id,
        coordinator: Actor::Person(coordinator.id),
        coordinator_id: coordinator.id,
        partner: Actor::Person(partner.id),
        partner_id: partner.id,
        outsider: Actor::Person(outsider.id),
        group: group.id,
        pact,
    }
}

pub async fn fire(
    engine: &Engine,
    actor: Actor,
    document: &Document,
    transition: &str,
) -> Result<patto_engine::FireOutcome, EngineError> {
    let instance = engine.instance_of(document.id).await.unwrap();
    engine
        .fire(
            actor,
            FireRequest {
                document_id: document.id,
                transition: transition.into(),
                expected_version: instance.version,
            },
        )
        .await
}

pub async fn assert_chain_intact(engine: &Engine, document: &Document) {
    let instance = engine.instance_of(document.id).await.unwrap();
    let verdict = engine.verify_chain(instance.id).await.unwrap();
    assert_eq!(verdict.problem, None, "chain of {} broken", document.slug);
    assert_eq!(verdict.events as i64, instance.event_count);
}

engine_cases!(super::shipped() =>
    pact_goes_from_drafting_to_signing,
    stale_version_is_a_conflict,
    roles_are_enforced,
    concurrent_firings_exactly_one_wins,
    failure_mid_transaction_changes_nothing,
    chain_detects_edit,
    chain_detects_reorder,
    chain_detects_insertion,
    chain_detects_missing_and_truncated_events,
    protocol_needs_its_pact_in_force,
    bad_input_is_refused_clearly,
    running_instances_keep_their_definition_version,
    directory_and_titles_can_be_edited,
);

engine_cases!(super::with_automatic_diagnosis() =>
    automatic_transition_fires_with_the_change_that_enables_it,
);

async fn pact_goes_from_drafting_to_signing(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;

    let refused = fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::GuardFailed);
    assert!(refused.to_string().contains("has_version"), "{refused}");

    engine
        .add_version(
            w.coordinator,
            w.pact.id,
            "Art. 1 — Finalità\n".as_bytes().to_vec(),
        )
        .await
        .unwrap();
    let shared = fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    assert_eq!(shared.state, "sharing");
    assert_eq!(shared.steps.len(), 1);

    // `share` notifies partners: everyone with a membership in an organisation that shares
    // a network with the owning one.
    let instance = engine.instance_of(w.pact.id).await.unwrap();
    let outbox = engine.outbox(Some(instance.id)).await.unwrap();
    let mut recipients: Vec<_> = outbox.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        ["coordinatrice@example.org", "partner@example.org"]
    );
    assert!(outbox.iter().all(|m| m.template == "sharing_opened"));
    let english = outbox
        .iter()
        .find(|m| m.recipient == "partner@example.org")
        .unwrap();
    assert_eq!(english.language, "en");
    assert_ne!(outbox[0].message_id, outbox[1].message_id);

    let comment = engine
        .add_comment(
            w.partner,
            w.pact.id,
            None,
            "Aggiungere il riferimento alla legge regionale.",
        )
        .await
        .unwrap();
    let refused = fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::GuardFailed);
    assert!(
        refused.to_string().contains("comments_resolved"),
        "{refused}"
    );

    engine
        .resolve_comment(w.coordinator, comment.id)
        .await
        .unwrap();
    let again = engine
        .resolve_comment(w.coordinator, comment.id)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict);

    // Opening the signing round needs a signatory list.
    let refused = fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert!(refused.to_string().contains("signator"), "{refused}");
    assert_eq!(
        engine.instance_of(w.pact.id).await.unwrap().state,
        "sharing"
    );

    engine
        .set_signatories(
            w.coordinator,
            w.pact.id,
            &[
                SignatoryEntry {
                    organisation: w.coalition,
                    person: w.coordinator_id,
                },
                SignatoryEntry {
                    organisation: w.municipality,
                    person: w.partner_id,
                },
            ],
        )
        .await
        .unwrap();
    let frozen = fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap();
    assert_eq!(frozen.state, "signing");
    let (round, requests) = engine
        .open_signature_requests(frozen.instance_id)
        .await
        .unwrap()
        .expect("a signing round is open");
    assert_eq!(round.version_number, 1);
    assert_eq!(round.intent, "endorse");
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.status == SignatureRequestStatus::Pending)
    );

    // The round is still waiting for signatures, so `enter_force` did not fire.
    let effects = engine.recorded_effects(frozen.instance_id).await.unwrap();
    assert_eq!(
        effects.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["open_signing"]
    );
    let signing_mail = engine.outbox(Some(frozen.instance_id)).await.unwrap();
    assert_eq!(
        signing_mail
            .iter()
            .filter(|m| m.template == "signing_opened")
            .count(),
        2
    );

    // Going back to drafting cancels the round.
    fire(engine, w.coordinator, &w.pact, "cancel_signing")
        .await
        .unwrap();
    assert!(
        engine
            .open_signature_requests(frozen.instance_id)
            .await
            .unwrap()
            .is_none()
    );

    let events = engine.events(frozen.instance_id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "instance_created",
            "version_added",
            "transition",
            "comment_added",
            "comment_resolved",
            "signatories_set",
            "transition",
            "transition"
        ]
    );
    assert_eq!(events[2].actor_id, Some(w.coordinator_id));
    assert_chain_intact(engine, &w.pact).await;
}

async fn stale_version_is_a_conflict(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    let seen = engine.instance_of(w.pact.id).await.unwrap();
    fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    let stale = engine
        .fire(
            w.coordinator,
            FireRequest {
                document_id: w.pact.id,
                transition: "revise".into(),
                expected_version: seen.version,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(stale.code(), ErrorCode::Conflict);
    assert!(stale.to_string().contains("reload"), "{stale}");
    let now = engine.instance_of(w.pact.id).await.unwrap();
    assert_eq!(now.state, "sharing");
    assert_eq!(now.version, seen.version + 1);
}

async fn roles_are_enforced(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    let refused = fire(engine, w.partner, &w.pact, "share").await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    assert!(refused.to_string().contains("coordinator"), "{refused}");
    // A partner may comment, an outsider may not; neither may write a version.
    let refused = engine
        .add_version(w.partner, w.pact.id, b"v2".to_vec())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let refused = engine
        .add_comment(w.outsider, w.pact.id, None, "?")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    engine
        .add_comment(w.partner, w.pact.id, None, "ok")
        .await
        .unwrap();
    // Only the instance operator registers people.
    let refused = engine
        .create_person(w.coordinator, "x@example.org", "X", Language::It)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    // Failed attempts leave nothing behind.
    let instance = engine.instance_of(w.pact.id).await.unwrap();
    assert_eq!(instance.state, "drafting");
    assert_eq!(instance.event_count, 3);
}

async fn concurrent_firings_exactly_one_wins(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    for round in 0..5 {
        let (transition, target) = if round % 2 == 0 {
            ("share", "sharing")
        } else {
            ("revise", "drafting")
        };
        let seen = engine.instance_of(w.pact.id).await.unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let engine = engine.clone();
            let barrier = barrier.clone();
            let request = FireRequest {
                document_id: w.pact.id,
                transition: transition.into(),
                expected_version: seen.version,
            };
            let actor = w.coordinator;
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                engine.fire(actor, request).await
            }));
        }
        let mut wins = 0;
        let mut conflicts = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(outcome) => {
                    assert_eq!(outcome.state, target);
                    wins += 1;
                }
                Err(error) => {
                    assert_eq!(error.code(), ErrorCode::Conflict, "{error}");
                    conflicts += 1;
                }
            }
        }
        assert_eq!((wins, conflicts), (1, 1), "round {round}");
        let after = engine.instance_of(w.pact.id).await.unwrap();
        assert_eq!(after.state, target);
        assert_eq!(after.version, seen.version + 1);
        assert_eq!(after.event_count, seen.event_count + 1);
    }
    assert_chain_intact(engine, &w.pact).await;
}

async fn failure_mid_transaction_changes_nothing(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    let before = engine.instance_of(w.pact.id).await.unwrap();
    // The outbox insert comes after the state change and the event, so a failure there
    // is a failure in the middle of the transaction.
    let store = &ctx.store;
    match ctx.backend() {
        Backend::Sqlite => {
            store
                .execute_raw(
                    "CREATE TRIGGER injected_failure BEFORE INSERT ON outbox \
                     BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
                )
                .await
                .unwrap();
        }
        Backend::Postgres => {
            store
                .execute_raw(
                    "CREATE FUNCTION injected_failure() RETURNS trigger AS $$ \
                     BEGIN RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql",
                )
                .await
                .unwrap();
            store
                .execute_raw(
                    "CREATE TRIGGER injected_failure BEFORE INSERT ON outbox \
                     FOR EACH ROW EXECUTE FUNCTION injected_failure()",
                )
                .await
                .unwrap();
        }
    }
    let failed = fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap_err();
    assert!(failed.to_string().contains("injected failure"), "{failed}");
    assert_eq!(failed.code(), ErrorCode::Internal);
    let after = engine.instance_of(w.pact.id).await.unwrap();
    assert_eq!(after, before);
    assert_eq!(
        engine.events(before.id).await.unwrap().len() as i64,
        before.event_count
    );
    assert!(engine.outbox(None).await.unwrap().is_empty());

    store
        .execute_raw("DROP TRIGGER injected_failure ON outbox")
        .await
        .or(store.execute_raw("DROP TRIGGER injected_failure").await)
        .unwrap();
    let shared = fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    assert_eq!(shared.state, "sharing");
    assert_chain_intact(engine, &w.pact).await;
}

/// A pact with a few events: created, a version, shared, revised, shared again.
async fn busy_pact(engine: &Engine) -> (World, InstanceId) {
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    fire(engine, w.coordinator, &w.pact, "revise")
        .await
        .unwrap();
    fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    let instance = engine.instance_of(w.pact.id).await.unwrap();
    assert_eq!(instance.event_count, 5);
    assert_chain_intact(engine, &w.pact).await;
    (w, instance.id)
}

async fn chain_problem(engine: &Engine, instance: InstanceId) -> ChainError {
    engine
        .verify_chain(instance)
        .await
        .unwrap()
        .problem
        .expect("tampering must be detected")
}

async fn chain_detects_edit(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (_, instance) = busy_pact(engine).await;
    ctx.store
        .execute_raw(&format!(
            "UPDATE events SET payload = replace(payload, 'sharing', 'signing') \
             WHERE instance_id = {instance} AND seq = 3"
        ))
        .await
        .unwrap();
    assert_eq!(
        chain_problem(engine, instance).await,
        ChainError::Altered { seq: 3 }
    );
}

async fn chain_detects_reorder(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (_, instance) = busy_pact(engine).await;
    // Swap the positions of events 3 and 4 (through a free number, because of the
    // unique index on the sequence).
    for sql in [
        format!("UPDATE events SET seq = 1000 WHERE instance_id = {instance} AND seq = 3"),
        format!("UPDATE events SET seq = 3 WHERE instance_id = {instance} AND seq = 4"),
        format!("UPDATE events SET seq = 4 WHERE instance_id = {instance} AND seq = 1000"),
    ] {
        ctx.store.execute_raw(&sql).await.unwrap();
    }
    assert_eq!(
        chain_problem(engine, instance).await,
        ChainError::BrokenLink { seq: 3 }
    );
}

async fn chain_detects_insertion(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (_, instance) = busy_pact(engine).await;
    let events = engine.events(instance).await.unwrap();
    // Make room after event 2 and insert a forged event that links correctly to event 2;
    // the event after it still points at event 2, so the chain breaks there.
    for sql in [
        format!("UPDATE events SET seq = seq + 1000 WHERE instance_id = {instance} AND seq >= 3"),
        format!("UPDATE events SET seq = seq - 999 WHERE instance_id = {instance} AND seq >= 1003"),
    ] {
        ctx.store.execute_raw(&sql).await.unwrap();
    }
    let forged_at = patto_engine_timestamp(events[1].recorded_at);
    let payload = r#"{"note":"forged"}"#;
    let hash = patto_sign::event_hash(
        instance.get(),
        3,
        &events[1].hash,
        "note",
        None,
        payload,
        &forged_at,
    )
    .unwrap();
    let recorded_at = match ctx.backend() {
        Backend::Sqlite => format!("'{}'", events[1].recorded_at.to_rfc3339()),
        Backend::Postgres => format!("'{}'::timestamptz", events[1].recorded_at.to_rfc3339()),
    };
    ctx.store.execute_raw(&format!(
            "INSERT INTO events (instance_id, seq, prev_hash, hash, kind, actor_id, payload, recorded_at) \
             VALUES ({instance}, 3, '{}', '{hash}', 'note', NULL, '{payload}', {recorded_at})",
            events[1].hash
        ))
        .await
        .unwrap();
    assert_eq!(
        chain_problem(engine, instance).await,
        ChainError::BrokenLink { seq: 4 }
    );
}

fn patto_engine_timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn chain_detects_missing_and_truncated_events(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (_, instance) = busy_pact(engine).await;
    ctx.store
        .execute_raw(&format!(
            "DELETE FROM events WHERE instance_id = {instance} AND seq = 5"
        ))
        .await
        .unwrap();
    assert!(matches!(
        chain_problem(engine, instance).await,
        ChainError::HeadMismatch {
            expected: 5,
            found: 4,
            ..
        }
    ));
    ctx.store
        .execute_raw(&format!(
            "DELETE FROM events WHERE instance_id = {instance} AND seq = 2"
        ))
        .await
        .unwrap();
    assert_eq!(
        chain_problem(engine, instance).await,
        ChainError::OutOfSequence {
            expected: 2,
            found: 3
        }
    );
}

async fn protocol_needs_its_pact_in_force(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let missing_parent = engine
        .create_document(
            Actor::System,
            NewDocument {
                kind: DocumentKind::Protocol,
                slug: "protocollo-appalti".into(),
                title: "Protocollo appalti".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: Some(w.group),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(missing_parent.code(), ErrorCode::Validation);
    let protocol = engine
        .create_document(
            Actor::System,
            NewDocument {
                kind: DocumentKind::Protocol,
                slug: "protocollo-appalti".into(),
                title: "Protocollo appalti".into(),
                parent_id: Some(w.pact.id),
                owner_organisation_id: w.coalition,
                working_group_id: Some(w.group),
            },
        )
        .await
        .unwrap();
    // The working-group member drafts the protocol and its commitments.
    engine
        .add_version(w.partner, protocol.id, b"Protocollo v1".to_vec())
        .await
        .unwrap();
    let commitment = engine
        .add_commitment(
            w.partner,
            protocol.id,
            NewCommitment {
                owner_organisation_id: Some(w.municipality),
                description: "Pubblicare gli affidamenti sopra soglia".into(),
                due_date: None,
                indicator: Some("affidamenti pubblicati".into()),
                target: Some("100%".into()),
            },
        )
        .await
        .unwrap();
    let refused = fire(engine, w.partner, &protocol, "share")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::GuardFailed);
    assert!(refused.to_string().contains("parent_in"), "{refused}");
    // The pact's closing guard sees the protocol too.
    let refused = fire(engine, w.coordinator, &w.pact, "withdraw")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::GuardFailed);
    assert!(
        refused.to_string().contains("protocollo-appalti"),
        "{refused}"
    );

    let updated = engine
        .update_commitment(
            w.partner,
            commitment.id,
            CommitmentChange {
                due_date: Some(NaiveDate::from_ymd_opt(2027, 6, 30).unwrap()),
                ..CommitmentChange::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.due_date, NaiveDate::from_ymd_opt(2027, 6, 30));
    assert_eq!(updated.owner_organisation_id, Some(w.municipality));
    assert_chain_intact(engine, &protocol).await;
}

async fn bad_input_is_refused_clearly(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let duplicate = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: w.pact.slug.clone(),
                title: "Doppione".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), ErrorCode::Conflict);
    assert!(
        duplicate.to_string().contains("already exists"),
        "{duplicate}"
    );
    let bad_slug = engine
        .create_organisation(
            Actor::System,
            NewOrganisation {
                slug: "Comune di Gangi".into(),
                name: "Comune di Gangi".into(),
                category: OrganisationCategory::Municipality,
                istat_code: Some("082036".into()),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(bad_slug.code(), ErrorCode::Validation);
    let no_istat = engine
        .create_organisation(
            Actor::System,
            NewOrganisation {
                slug: "gangi".into(),
                name: "Comune di Gangi".into(),
                category: OrganisationCategory::Municipality,
                istat_code: None,
            },
        )
        .await
        .unwrap_err();
    assert!(no_istat.to_string().contains("ISTAT"), "{no_istat}");
    let bad_email = engine
        .create_person(Actor::System, "not-an-address", "X", Language::It)
        .await
        .unwrap_err();
    assert_eq!(bad_email.code(), ErrorCode::Validation);
    let unknown = engine
        .fire(
            w.coordinator,
            FireRequest {
                document_id: DocumentId::new(999_999),
                transition: "share".into(),
                expected_version: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
    let no_such_transition = fire(engine, w.coordinator, &w.pact, "teleport")
        .await
        .unwrap_err();
    assert_eq!(no_such_transition.code(), ErrorCode::Validation);
    assert!(engine.is_empty().await.map(|empty| !empty).unwrap());
}

async fn running_instances_keep_their_definition_version(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    // Version 3 of the pact renames `share` to `consult`.
    let v2 = shipped()
        .source("pact")
        .unwrap()
        .replace("version = 2", "version = 3")
        .replace("name = \"share\"", "name = \"consult\"");
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
    files.push(("pact.toml".into(), v2.clone()));
    let upgraded = Engine::new(
        ctx.store.clone(),
        Catalogue::from_sources(files.clone()).unwrap(),
    );
    // The running pact keeps version 2: `share` still works and `consult` does not exist.
    assert_eq!(
        fire(&upgraded, w.coordinator, &w.pact, "consult")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Validation
    );
    fire(&upgraded, w.coordinator, &w.pact, "share")
        .await
        .unwrap();
    assert_eq!(
        upgraded
            .instance_of(w.pact.id)
            .await
            .unwrap()
            .definition_version,
        2
    );
    // A new pact starts on version 3.
    let new_pact = upgraded
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: "patto-2".into(),
                title: "Nuovo patto".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        upgraded
            .instance_of(new_pact.id)
            .await
            .unwrap()
            .definition_version,
        3
    );
    // Changing a definition without raising its version is refused.
    let mut sneaky = files;
    sneaky.pop();
    sneaky.push((
        "pact.toml".into(),
        v2.replace("Nuovo", "Nuovo!")
            .replace("title = {", "# changed\ntitle = {"),
    ));
    let sneaky = Engine::new(ctx.store.clone(), Catalogue::from_sources(sneaky).unwrap());
    let refused = sneaky
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: "patto-3".into(),
                title: "Altro patto".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("raise its version"),
        "{refused}"
    );
}

async fn automatic_transition_fires_with_the_change_that_enables_it(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let diagnosis = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Diagnosis,
                slug: "diagnosi-2026".into(),
                title: "Diagnosi di sicurezza e legalità".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    engine
        .add_version(w.coordinator, diagnosis.id, b"Diagnosi v1".to_vec())
        .await
        .unwrap();
    let comment = engine
        .add_comment(w.partner, diagnosis.id, None, "Mancano i dati di Gangi")
        .await
        .unwrap();
    // Consulting with an open comment stops in consultation.
    let outcome = fire(engine, w.coordinator, &diagnosis, "consult")
        .await
        .unwrap();
    assert_eq!(outcome.state, "consultation");
    assert_eq!(outcome.steps.len(), 1);
    let before = engine.instance_of(diagnosis.id).await.unwrap();

    // Resolving the last comment approves it in the same transaction.
    engine
        .resolve_comment(w.coordinator, comment.id)
        .await
        .unwrap();
    let after = engine.instance_of(diagnosis.id).await.unwrap();
    assert_eq!(after.state, "approved");
    assert_eq!(after.version, before.version + 1);
    let events = engine.events(after.id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind, "transition");
    assert_eq!(last.actor_id, None);
    assert!(
        last.payload.contains(r#""automatic":true"#),
        "{}",
        last.payload
    );
    assert_eq!(
        engine
            .document_by_slug("diagnosi-2026")
            .await
            .unwrap()
            .published_version,
        Some(1)
    );
    let mail = engine.outbox(Some(after.id)).await.unwrap();
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].event_seq, Some(last.seq));

    // Firing into a state whose automatic guard already holds takes both steps at once.
    let second = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Diagnosis,
                slug: "diagnosi-2027".into(),
                title: "Diagnosi 2027".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    engine
        .add_version(w.coordinator, second.id, b"Diagnosi 2027".to_vec())
        .await
        .unwrap();
    let outcome = fire(engine, w.coordinator, &second, "consult")
        .await
        .unwrap();
    assert_eq!(outcome.state, "approved");
    assert_eq!(
        outcome
            .steps
            .iter()
            .map(|s| (s.transition.as_str(), s.automatic))
            .collect::<Vec<_>>(),
        [("consult", false), ("approve", true)]
    );
    assert_chain_intact(engine, &second).await;
    assert_chain_intact(engine, &diagnosis).await;
}

async fn directory_and_titles_can_be_edited(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    // A municipality keeps a valid ISTAT code; another category cannot have one.
    let renamed = engine
        .edit_organisation(
            Actor::System,
            w.municipality,
            patto_engine::OrganisationChange {
                name: Some("Città di Cefalù".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.name, "Città di Cefalù");
    assert_eq!(renamed.istat_code.as_deref(), Some("082027"));
    let refused = engine
        .edit_organisation(
            Actor::System,
            w.municipality,
            patto_engine::OrganisationChange {
                category: Some(OrganisationCategory::Association),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("ISTAT"), "{refused}");
    let taken = engine
        .create_organisation(
            Actor::System,
            NewOrganisation {
                slug: "gangi".into(),
                name: "Comune di Gangi".into(),
                category: OrganisationCategory::Municipality,
                istat_code: Some("082036".into()),
            },
        )
        .await
        .unwrap();
    let duplicate = engine
        .edit_organisation(
            Actor::System,
            taken.id,
            patto_engine::OrganisationChange {
                istat_code: Some(Some("082027".into())),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), ErrorCode::Conflict);
    let forbidden = engine
        .edit_organisation(w.partner, w.municipality, Default::default())
        .await
        .unwrap_err();
    assert_eq!(forbidden.code(), ErrorCode::Forbidden);

    // People change their own name and language; not other people's.
    let changed = engine
        .edit_person(
            w.partner,
            w.partner_id,
            patto_engine::PersonChange {
                language: Some(Language::It),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(changed.language, "it");
    let forbidden = engine
        .edit_person(w.partner, w.coordinator_id, Default::default())
        .await
        .unwrap_err();
    assert_eq!(forbidden.code(), ErrorCode::Forbidden);

    // Leaving the working group takes the member role away.
    engine
        .remove_working_group_member(Actor::System, w.group, w.partner_id)
        .await
        .unwrap();
    let again = engine
        .remove_working_group_member(Actor::System, w.group, w.partner_id)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::NotFound);
    engine
        .remove_membership(
            Actor::System,
            w.coordinator_id,
            w.coalition,
            Role::Coordinator,
        )
        .await
        .unwrap();
    let no_longer = engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap_err();
    assert_eq!(no_longer.code(), ErrorCode::Forbidden);

    // A new title is an event of the document's chain.
    let retitled = engine
        .retitle_document(
            Actor::System,
            w.pact.id,
            "Patto per la sicurezza urbana e la legalità",
        )
        .await
        .unwrap();
    assert_eq!(
        retitled.title,
        "Patto per la sicurezza urbana e la legalità"
    );
    let instance = engine.instance_of(w.pact.id).await.unwrap();
    let last = engine.events(instance.id).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, "document_retitled");
    assert!(
        last.payload.contains("sicurezza urbana"),
        "{}",
        last.payload
    );
    assert_chain_intact(engine, &w.pact).await;
}
