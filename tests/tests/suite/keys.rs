//! Signing keys against the signatures they make: a key change and a signature are
//! serialised, and a signature records the state of the key registry it was checked
//! against, on both backends.

use std::sync::Arc;
use std::time::Duration;

use patto_core::{Language, Role};
use patto_engine::{Actor, ErrorCode, PauseHook, PausePoint, SignatureRefusal};
use tokio::sync::{Notify, mpsc};

use crate::engine::{Ctx, shipped, world};
use crate::signing::{open_round, refusal, sign};

engine_cases!(super::shipped() =>
    a_revocation_in_progress_stops_a_concurrent_signature,
    a_signature_records_the_key_registry_it_was_checked_against,
    the_system_registers_approves_signs_and_declines_for_nobody,
    keys_belong_to_one_organisation,
);

/// A hook that reports every pause point reached and holds a key change until released.
fn holding_key_changes(
    reached: mpsc::UnboundedSender<PausePoint>,
    release: Arc<Notify>,
) -> PauseHook {
    Arc::new(move |point| {
        let reached = reached.clone();
        let release = release.clone();
        Box::pin(async move {
            let _ = reached.send(point);
            if point == PausePoint::KeyChangeWritten {
                release.notified().await;
            }
        })
    })
}

/// The partner revokes their key; while the revocation is written but not committed,
/// they submit a signature made with that key. The signature must wait for the
/// revocation and then be refused: accepting it would put the pact in force on a
/// signature whose key was already revoked, and its bundle would never verify.
async fn a_revocation_in_progress_stops_a_concurrent_signature(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let r = open_round(&engine).await;
    let key_id = engine.keys_of(r.w.partner_id).await.unwrap()[0].id;
    let statement = engine.statement_for(r.partner_request).await.unwrap();
    let signature = patto_sign::sign(&r.partner_key, statement.as_bytes());
    let (reached_tx, mut reached) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    engine.set_pause_hook(holding_key_changes(reached_tx, release.clone()));

    let revoking = tokio::spawn({
        let engine = engine.clone();
        let partner = r.w.partner;
        async move {
            engine
                .revoke_key(partner, key_id, "chiavetta smarrita")
                .await
        }
    });
    assert_eq!(reached.recv().await, Some(PausePoint::KeyChangeWritten));
    let mut signing = tokio::spawn({
        let engine = engine.clone();
        let (partner, request) = (r.w.partner, r.partner_request);
        async move {
            engine
                .submit_signature(partner, request, Some(statement.as_bytes()), &signature)
                .await
        }
    });
    // Either the signature goes ahead while the revocation is held (the bug), or it
    // reaches the key registry's lock and must wait there: then the revocation goes on.
    // The timeout only keeps a deadlock from hanging the suite.
    let finished_while_held = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::select! {
            outcome = &mut signing => Some(outcome.unwrap()),
            point = reached.recv() => {
                assert_eq!(point, Some(PausePoint::SignatureTakingKeyLock));
                None
            }
        }
    })
    .await
    .expect("the signature neither finished nor reached the key lock while a revocation was held");
    release.notify_one();
    revoking.await.unwrap().unwrap();
    let outcome = match finished_while_held {
        Some(outcome) => outcome,
        None => signing.await.unwrap(),
    };
    let error = outcome.expect_err(
        "a signature checked while its key's revocation was being written was accepted",
    );
    assert!(matches!(
        refusal(error),
        SignatureRefusal::KeyRevoked { .. }
    ));
}

/// The `signature_accepted` event names the last key registry event the check saw, so
/// that a verifier decides the key's validity by sequence number, not by clocks.
async fn a_signature_records_the_key_registry_it_was_checked_against(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    let seen = engine.verify_key_chain().await.unwrap().events;
    let key_id = engine.keys_of(r.w.coordinator_id).await.unwrap()[0].id;
    engine
        .revoke_key(r.w.coordinator, key_id, "fine mandato")
        .await
        .unwrap();
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    let events = engine.events(instance.id).await.unwrap();
    let accepted = events
        .iter()
        .find(|e| e.kind == "signature_accepted")
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&accepted.payload).unwrap();
    assert_eq!(
        payload["key_chain_seq"].as_i64(),
        Some(seen as i64),
        "{payload}"
    );
    // The bundle verifies: the revocation comes after the sequence number the signature
    // recorded.
    let bundle = engine
        .export_evidence(&r.w.pact.slug, Some(1), &patto_sign::generate_key())
        .await
        .unwrap();
    let report = patto_sign::verify_bundle(bundle.as_bytes()).unwrap();
    assert_eq!(report.endorsements.len(), 1);
}

fn public_pem(key: &patto_sign::SigningKey) -> String {
    patto_sign::public_key_to_pem(&key.verifying_key()).unwrap()
}

/// `Actor::System` is the engine's own automatic work: it never stands in for a person
/// who registers, approves, signs or declines.
async fn the_system_registers_approves_signs_and_declines_for_nobody(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let key = patto_sign::generate_key();
    let registered = engine
        .register_key(Actor::System, r.w.partner_id, &public_pem(&key))
        .await;
    assert_eq!(
        registered.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "the system registered a key for the partner: {registered:?}"
    );
    let pending = engine
        .register_key(r.w.partner, r.w.partner_id, &public_pem(&key))
        .await
        .unwrap();
    let approved = engine.approve_key(Actor::System, pending.id).await;
    assert_eq!(
        approved.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "the system approved a key: {approved:?}"
    );
    let statement = engine.statement_for(r.partner_request).await.unwrap();
    let signature = patto_sign::sign(&r.partner_key, statement.as_bytes());
    let signed = engine
        .submit_signature(Actor::System, r.partner_request, None, &signature)
        .await;
    assert_eq!(
        signed.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "the system submitted a signature: {signed:?}"
    );
    let declined = engine
        .decline_signature(Actor::System, r.coordinator_request, "no")
        .await;
    assert_eq!(
        declined.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "the system declined for the coordinator: {declined:?}"
    );
}

/// A key binds a person to one organisation: only a coordinator or admin of that
/// organisation approves it, and rotating it leaves the person's keys for their other
/// organisations alone.
async fn keys_belong_to_one_organisation(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    // The partner belongs to the municipality and to the coalition.
    engine
        .add_membership(Actor::System, w.partner_id, w.coalition, Role::Member)
        .await
        .unwrap();
    let mayor = engine
        .create_person(
            Actor::System,
            "sindaco@example.org",
            "Sindaco",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, mayor.id, w.municipality, Role::Admin)
        .await
        .unwrap();
    // A key for the coalition: the municipality's admin has no say over it.
    let for_coalition = patto_sign::generate_key();
    let coalition_key = engine
        .register_key(w.partner, w.partner_id, &public_pem(&for_coalition))
        .await
        .unwrap();
    let by_other_admin = engine
        .approve_key(Actor::Person(mayor.id), coalition_key.id)
        .await;
    assert_eq!(
        by_other_admin.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "an admin of another organisation of the holder approved their coalition key: {by_other_admin:?}"
    );
    engine
        .approve_key(w.coordinator, coalition_key.id)
        .await
        .unwrap();
    // A key for the municipality, approved by its admin, leaves the coalition key alone.
    let for_municipality = patto_sign::generate_key();
    let municipality_key = engine
        .register_key(w.partner, w.partner_id, &public_pem(&for_municipality))
        .await
        .unwrap();
    engine
        .approve_key(Actor::Person(mayor.id), municipality_key.id)
        .await
        .unwrap();
    let statuses: Vec<_> = engine
        .keys_of(w.partner_id)
        .await
        .unwrap()
        .iter()
        .map(|k| k.status)
        .collect();
    assert_eq!(
        statuses,
        [
            patto_core::status::SigningKeyStatus::Approved,
            patto_core::status::SigningKeyStatus::Approved
        ],
        "approving the municipality key rotated out the coalition key"
    );
}
