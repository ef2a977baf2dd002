//! Evidence bundles on both backends: a bundle published with a public act reveals only
//! what concerns its document and its signers, and an export never hands out a bundle
//! that does not verify.

use patto_core::ids::{PersonId, SignatureRequestId};
use patto_core::records::SignatoryEntry;
use patto_engine::{Actor, Engine};
use patto_sign::SigningKey;

use crate::engine::{Ctx, World, fire, shipped, world};
use crate::keys::registration;
use crate::signing::{approved_key, municipality_key_approver};

engine_cases!(super::shipped() =>
    a_published_bundle_reveals_only_its_document_and_signers,
    an_export_that_would_not_verify_is_refused,
    an_export_reads_one_snapshot_while_signatures_commit,
);

const REVOCATION_REASON: &str = "password scritta sul post-it del collega";
const DECLINE_REASON: &str = "Motivo riservato: contenzioso in corso con la ditta";

/// A key for the world's outsider, who joins the municipality for it: a key belongs to a
/// (person, organisation) pair, and the municipality's key approver approves it.
async fn outsider_key(engine: &Engine, w: &World, outsider: PersonId) -> SigningKey {
    engine
        .add_membership(
            Actor::System,
            outsider,
            w.municipality,
            patto_core::Role::Member,
        )
        .await
        .unwrap();
    let key = patto_sign::generate_key();
    let request = registration(&key, "esterno@example.org", "cefalu");
    let registered = engine
        .register_key(Actor::Person(outsider), &request)
        .await
        .unwrap();
    let approver = municipality_key_approver(engine, w).await;
    engine
        .approve_key(approver, registered.id, None)
        .await
        .unwrap();
    key
}

/// The world's pact in signing with the coordinator and the partner as signatories; the
/// coordinator has signed, the partner has declined with a reason, and the outsider has
/// a revoked key of their own.
async fn signed_and_declined(engine: &Engine) -> (World, String) {
    let w = world(engine).await;
    let outsider = match w.outsider {
        Actor::Person(id) => id,
        Actor::System | Actor::Public => unreachable!("the outsider is a person"),
    };
    let unrelated = outsider_key(engine, &w, outsider).await;
    let unrelated = engine
        .keys_of(outsider)
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.public_key == patto_sign::public_key_to_base64url(&unrelated.verifying_key()))
        .unwrap();
    engine
        .revoke_key(Actor::Person(outsider), unrelated.id, REVOCATION_REASON)
        .await
        .unwrap();
    engine
        .add_version(w.coordinator, w.pact.id, b"Patto v1".to_vec())
        .await
        .unwrap();
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
    let coordinator_key = approved_key(engine, &w, w.coordinator_id).await;
    approved_key(engine, &w, w.partner_id).await;
    fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap();
    let requests = engine.signature_requests(w.pact.id).await.unwrap();
    let request_of = |person| -> SignatureRequestId {
        requests
            .iter()
            .find(|r| r.request.person_id == person)
            .unwrap()
            .request
            .id
    };
    engine
        .decline_signature(w.partner, request_of(w.partner_id), DECLINE_REASON)
        .await
        .unwrap();
    let request = request_of(w.coordinator_id);
    let statement = engine.statement_for(request).await.unwrap();
    let signature = patto_sign::sign(&coordinator_key, statement.as_bytes());
    engine
        .submit_signature(
            w.coordinator,
            request,
            Some(statement.as_bytes()),
            &signature,
        )
        .await
        .unwrap();
    (w, unrelated.public_key)
}

async fn a_published_bundle_reveals_only_its_document_and_signers(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (w, unrelated_key) = signed_and_declined(engine).await;
    let server_key = patto_sign::generate_key();
    let bundle = engine
        .export_evidence(&w.pact.slug, None, &server_key)
        .await
        .unwrap();
    let report =
        patto_sign::verify_bundle_pinned(bundle.as_bytes(), &server_key.verifying_key()).unwrap();
    assert_eq!(report.endorsements.len(), 1);
    // Neither another person's key and its revocation, nor a decline's words, nor
    // anyone's e-mail address is in a bundle meant for publication.
    for secret in [
        unrelated_key.as_str(),
        REVOCATION_REASON,
        DECLINE_REASON,
        "@example.org",
    ] {
        assert!(!bundle.contains(secret), "the bundle reveals {secret:?}");
    }
}

async fn an_export_that_would_not_verify_is_refused(ctx: &Ctx) {
    let engine = &ctx.engine;
    let (w, _) = signed_and_declined(engine).await;
    // A stored event altered behind the engine's back breaks the chain.
    ctx.store
        .execute_raw(
            "UPDATE events SET payload = '{\"altered\":true}' WHERE kind = 'version_added'",
        )
        .await
        .unwrap();
    let server_key = patto_sign::generate_key();
    let refused = engine
        .export_evidence(&w.pact.slug, None, &server_key)
        .await
        .map(|bundle| bundle.len());
    let error = refused.expect_err("a bundle that does not verify was exported");
    assert!(error.to_string().contains("does not verify"), "{error}");
}

/// A signature committed while an export is between reading the endorsements and reading
/// the chains is in neither: the bundle shows one consistent moment and verifies.
async fn an_export_reads_one_snapshot_while_signatures_commit(ctx: &Ctx) {
    let engine = ctx.engine.clone();
    let w = world(&engine).await;
    engine
        .add_version(w.coordinator, w.pact.id, b"Patto v1".to_vec())
        .await
        .unwrap();
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
    let coordinator_key = approved_key(&engine, &w, w.coordinator_id).await;
    let partner_key = approved_key(&engine, &w, w.partner_id).await;
    fire(&engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap();
    fire(&engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap();
    let requests = engine.signature_requests(w.pact.id).await.unwrap();
    let request_of = |person| -> SignatureRequestId {
        requests
            .iter()
            .find(|r| r.request.person_id == person)
            .unwrap()
            .request
            .id
    };
    let sign = |actor, request, key: SigningKey| {
        let engine = engine.clone();
        async move {
            let statement = engine.statement_for(request).await.unwrap();
            let signature = patto_sign::sign(&key, statement.as_bytes());
            engine
                .submit_signature(actor, request, Some(statement.as_bytes()), &signature)
                .await
                .unwrap();
        }
    };
    sign(w.coordinator, request_of(w.coordinator_id), coordinator_key).await;

    let server_key = patto_sign::generate_key();
    let pause = engine.pause_at("export_evidence:chains");
    let export = tokio::spawn({
        let engine = engine.clone();
        let slug = w.pact.slug.clone();
        let server_key = server_key.clone();
        async move { engine.export_evidence(&slug, None, &server_key).await }
    });
    pause.reached().await;
    // The last signature commits, and the pact enters into force, mid-export.
    sign(w.partner, request_of(w.partner_id), partner_key).await;
    pause.resume();
    let bundle = export.await.unwrap().unwrap();
    let report =
        patto_sign::verify_bundle_pinned(bundle.as_bytes(), &server_key.verifying_key()).unwrap();
    assert_eq!(report.endorsements.len(), 1);
    // The next export sees both.
    let bundle = engine
        .export_evidence(&w.pact.slug, None, &server_key)
        .await
        .unwrap();
    let report =
        patto_sign::verify_bundle_pinned(bundle.as_bytes(), &server_key.verifying_key()).unwrap();
    assert_eq!(report.endorsements.len(), 2);
}
