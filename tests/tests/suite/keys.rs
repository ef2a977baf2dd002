//! Signing keys against the signatures they make: a key change and a signature are
//! serialised, and a signature records the state of the key registry it was checked
//! against, on both backends.

use std::sync::Arc;
use std::time::Duration;

use patto_engine::{PauseHook, PausePoint, SignatureRefusal};
use tokio::sync::{Notify, mpsc};

use crate::engine::{Ctx, shipped};
use crate::signing::{open_round, refusal, sign};

engine_cases!(super::shipped() =>
    a_revocation_in_progress_stops_a_concurrent_signature,
    a_signature_records_the_key_registry_it_was_checked_against,
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
