//! The directory chain: every directory change leaves an entry, the chain verifies after
//! normal use, and replaying it finds rows edited, added or removed behind the engine's
//! back, naming each.

use patto_core::{Language, Role};
use patto_engine::{Actor, DirectoryDifference, PersonChange};

use crate::engine::{Ctx, shipped, world};

async fn directory_changes_verify_and_replay(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    // Changes and removals too, by people as well as by the system.
    let admin = engine
        .create_person(
            Actor::System,
            "admin@example.org",
            "Ada Admin",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, admin.id, w.municipality, Role::Admin)
        .await
        .unwrap();
    engine
        .edit_person(
            Actor::Person(admin.id),
            w.partner_id,
            PersonChange {
                name: Some("Paola Partner".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    engine
        .add_membership(
            Actor::Person(admin.id),
            w.coordinator_id,
            w.municipality,
            Role::Member,
        )
        .await
        .unwrap();
    engine
        .remove_membership(
            Actor::Person(admin.id),
            w.coordinator_id,
            w.municipality,
            Role::Member,
        )
        .await
        .unwrap();
    engine
        .remove_working_group_member(Actor::System, w.group, w.partner_id)
        .await
        .unwrap();
    engine
        .grant_operator(Actor::System, admin.id)
        .await
        .unwrap();

    let verdict = engine.verify_directory_chain().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.chain, "directory");
    // world(): 2 organisations, 3 people, 2 memberships, a network and 2 members, a group
    // and a member; then a person, 2 memberships, an edit, a removal, a group removal and
    // an operator grant.
    assert_eq!(verdict.events, 12 + 7);
    assert!(
        engine
            .verify_all_chains()
            .await
            .unwrap()
            .iter()
            .any(|v| v.chain == "directory" && v.problem.is_none())
    );
    assert_eq!(engine.directory_differences().await.unwrap(), Vec::new());

    let store = &ctx.store;
    // Behind the engine's back: a name changed, a membership added, a group member
    // removed, an operator made.
    store
        .execute_raw(&format!(
            "UPDATE people SET name = 'Mallory' WHERE id = {}",
            w.coordinator_id
        ))
        .await
        .unwrap();
    store
        .execute_raw(&format!(
            "INSERT INTO memberships (person_id, organisation_id, role, created_at) VALUES ({}, {}, 'admin', CURRENT_TIMESTAMP)",
            w.partner_id, w.coalition
        ))
        .await
        .unwrap();
    store
        .execute_raw(&format!(
            "DELETE FROM network_members WHERE organisation_id = {}",
            w.municipality
        ))
        .await
        .unwrap();
    store
        .execute_raw(&format!(
            "INSERT INTO operators (person_id, granted_at) VALUES ({}, CURRENT_TIMESTAMP)",
            w.partner_id
        ))
        .await
        .unwrap();

    let differences = engine.directory_differences().await.unwrap();
    assert_eq!(differences.len(), 4, "{differences:#?}");
    assert!(differences.iter().any(|d| matches!(d,
        DirectoryDifference::Altered { table, id, expected, found }
            if table == "people" && *id == w.coordinator_id.get()
                && expected["name"] == "Anna Coordinatrice" && found["name"] == "Mallory")));
    assert!(differences.iter().any(|d| matches!(d,
        DirectoryDifference::Unrecorded { table, found, .. }
            if table == "memberships" && found["person_id"] == w.partner_id.get()
                && found["role"] == "admin")));
    assert!(differences.iter().any(|d| matches!(d,
        DirectoryDifference::Missing { table, .. } if table == "network_members")));
    assert!(differences.iter().any(|d| matches!(d,
        DirectoryDifference::Unrecorded { table, found, .. }
            if table == "operators" && found["person_id"] == w.partner_id.get())));
    // The rows changed, not the chain: it still verifies.
    assert_eq!(engine.verify_directory_chain().await.unwrap().problem, None);
}

async fn an_altered_directory_entry_breaks_the_chain(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    // Rewriting history to match a tampered row is caught by the chain itself.
    ctx.store
        .execute_raw(&format!(
            "UPDATE directory_events SET payload = REPLACE(payload, 'Anna Coordinatrice', 'Mallory') WHERE payload LIKE '%\"id\":{},%' AND kind = 'person_created'",
            w.coordinator_id
        ))
        .await
        .unwrap();
    let verdict = engine.verify_directory_chain().await.unwrap();
    assert!(
        matches!(
            verdict.problem,
            Some(patto_sign::ChainError::Altered { .. })
        ),
        "{verdict:?}"
    );
}

engine_cases!(super::shipped() =>
    directory_changes_verify_and_replay,
    an_altered_directory_entry_breaks_the_chain,
);
