//! Defects found by reading the code (issue 6), each pinned by a test that failed before
//! its fix. Stored rows are changed behind the engine's back, as a bug elsewhere or a
//! hand-edited database would change them, and the engine must answer `INTERNAL` or
//! `CONFLICT` — never blame the caller, never go on as if nothing happened.

use patto_core::DocumentKind;
use patto_core::workflow::Catalogue;
use patto_engine::{Engine, ErrorCode, NewDocument};
use patto_store::Backend;

use crate::engine::{Ctx, fire, shipped, with_automatic_diagnosis, world};

engine_cases!(super::with_automatic_diagnosis() =>
    an_automatic_transition_refuses_an_instance_changed_behind_its_lock,
);
engine_cases!(super::shipped() =>
    a_negative_version_number_is_internal_not_a_missing_version,
);
engine_cases!(super::shipped() =>
    an_instance_in_an_unknown_state_is_internal,
    a_changed_definition_under_the_same_version_is_internal,
    a_parent_of_unknown_kind_is_internal,
);

/// Installs a trigger that runs `action` (SQL over the new row `NEW`) after each insert
/// into `table` whose `condition` holds, on either backend.
async fn after_insert_trigger(ctx: &Ctx, table: &str, condition: &str, action: &str) {
    let store = &ctx.store;
    let statements = match ctx.backend() {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER injected AFTER INSERT ON {table} WHEN {condition} \
             BEGIN {action}; END"
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION injected() RETURNS trigger AS $$ \
                 BEGIN IF {condition} THEN {action}; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER injected AFTER INSERT ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION injected()"
            ),
        ],
    };
    for statement in statements {
        store.execute_raw(&statement).await.unwrap();
    }
}

/// `settle` claims the instance before each automatic step; a claim that fails means
/// the instance changed although the transaction holds it, and must stop everything.
async fn an_automatic_transition_refuses_an_instance_changed_behind_its_lock(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let diagnosis = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Diagnosis,
                slug: "diagnosi-2026".into(),
                title: "Diagnosi 2026".into(),
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
    fire(engine, w.coordinator, &diagnosis, "consult")
        .await
        .unwrap();
    let before = engine.instance_of(diagnosis.id).await.unwrap();
    assert_eq!(before.state, "consultation");
    // Another writer moves the version on as the resolution is recorded, just before
    // the automatic approval claims the instance.
    after_insert_trigger(
        ctx,
        "events",
        "NEW.kind = 'comment_resolved'",
        "UPDATE workflow_instances SET version = version + 1 WHERE id = NEW.instance_id",
    )
    .await;
    let refused = engine
        .resolve_comment(w.coordinator, comment.id)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    assert_eq!(engine.instance_of(diagnosis.id).await.unwrap(), before);
}

/// A version number that does not fit the guard's count is corrupt data, not "no
/// version yet" (which would blame the caller with GUARD_FAILED).
async fn a_negative_version_number_is_internal_not_a_missing_version(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    ctx.store
        .execute_raw(&format!(
            "UPDATE document_versions SET number = -1 WHERE document_id = {}",
            w.pact.id
        ))
        .await
        .unwrap();
    let failed = fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::Internal, "{failed}");
}

async fn an_instance_in_an_unknown_state_is_internal(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"v1".to_vec())
        .await
        .unwrap();
    ctx.store
        .execute_raw(&format!(
            "UPDATE workflow_instances SET state = 'nowhere' WHERE document_id = {}",
            w.pact.id
        ))
        .await
        .unwrap();
    let failed = fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::Internal, "{failed}");
}

/// The server's definition file changed without a new version: the operator must fix
/// the file, the caller can do nothing about it.
async fn a_changed_definition_under_the_same_version_is_internal(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let catalogue = shipped();
    let files = catalogue.names().map(|name| {
        let mut source = catalogue.source(name).unwrap().to_owned();
        if name == "pact" {
            source.push_str("\n# edited without raising the version\n");
        }
        (format!("{name}.toml"), source)
    });
    let edited = Engine::new(
        ctx.store.clone(),
        Catalogue::from_sources(files.collect::<Vec<_>>()).unwrap(),
    );
    let failed = edited
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: "patto-bis".into(),
                title: "Patto bis".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::Internal, "{failed}");
    assert!(failed.to_string().contains("raise its version"), "{failed}");
}

async fn a_parent_of_unknown_kind_is_internal(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    ctx.store
        .execute_raw(&format!(
            "UPDATE documents SET kind = 'bogus' WHERE id = {}",
            w.pact.id
        ))
        .await
        .unwrap();
    let failed = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::Protocol,
                slug: "protocollo-appalti".into(),
                title: "Protocollo appalti".into(),
                parent_id: Some(w.pact.id),
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::Internal, "{failed}");
}
