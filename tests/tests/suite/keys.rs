//! Signing keys against the signatures they make: a key change and a signature are
//! serialised, and a signature records the state of the key registry it was checked
//! against, on both backends.

use std::time::Duration;

use patto_core::status::SigningKeyStatus;
use patto_core::{Language, Role};
use patto_engine::{
    Actor, ApprovalOutcome, ErrorCode, KEY_CHANGE_WRITTEN, SIGNATURE_TAKING_KEY_LOCK,
    SignatureRefusal,
};

use crate::engine::{Ctx, shipped, world};
use crate::signing::{open_round, refusal, sign};

engine_cases!(super::shipped() =>
    a_revocation_in_progress_stops_a_concurrent_signature,
    a_signature_records_the_key_registry_it_was_checked_against,
    the_system_registers_approves_signs_and_declines_for_nobody,
    keys_belong_to_one_organisation,
    registration_proves_possession_once,
    the_only_coordinator_is_approved_by_two_operators,
    a_removed_member_can_no_longer_sign_for_their_organisation,
    a_coordinator_names_a_substitute_signatory,
);

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
    let revocation_written = engine.pause_at(KEY_CHANGE_WRITTEN);
    let signature_locking = engine.pause_at(SIGNATURE_TAKING_KEY_LOCK);

    let revoking = tokio::spawn({
        let engine = engine.clone();
        let partner = r.w.partner;
        async move {
            engine
                .revoke_key(partner, key_id, "chiavetta smarrita")
                .await
        }
    });
    revocation_written.reached().await;
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
    // reaches the point where it takes the key registry's lock: it is let go on, to wait
    // for that lock, and the revocation is let go to commit. The timeout only keeps a
    // deadlock from hanging the suite.
    let finished_while_held = tokio::time::timeout(Duration::from_secs(60), async {
        tokio::select! {
            outcome = &mut signing => Some(outcome.unwrap()),
            () = signature_locking.reached() => None,
        }
    })
    .await
    .expect("the signature neither finished nor reached the key lock while a revocation was held");
    signature_locking.resume();
    revocation_written.resume();
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

/// `Actor::System` is the engine's own automatic work: it never stands in for a person
/// who registers, approves, signs or declines.
async fn the_system_registers_approves_signs_and_declines_for_nobody(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let key = patto_sign::generate_key();
    let request = registration(&key, "partner@example.org", "cefalu");
    let registered = engine.register_key(Actor::System, &request).await;
    assert_eq!(
        registered.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "the system registered a key for the partner: {registered:?}"
    );
    let pending = engine.register_key(r.w.partner, &request).await.unwrap();
    let approved = engine.approve_key(Actor::System, pending.id, None).await;
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
        .register_key(
            w.partner,
            &registration(&for_coalition, "partner@example.org", "citta-a-rete"),
        )
        .await
        .unwrap();
    let by_other_admin = engine
        .approve_key(Actor::Person(mayor.id), coalition_key.id, None)
        .await;
    assert_eq!(
        by_other_admin.as_ref().map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden),
        "an admin of another organisation of the holder approved their coalition key: {by_other_admin:?}"
    );
    engine
        .approve_key(w.coordinator, coalition_key.id, None)
        .await
        .unwrap();
    // A key for the municipality, approved by its admin, leaves the coalition key alone.
    let for_municipality = patto_sign::generate_key();
    let municipality_key = engine
        .register_key(
            w.partner,
            &registration(&for_municipality, "partner@example.org", "cefalu"),
        )
        .await
        .unwrap();
    engine
        .approve_key(Actor::Person(mayor.id), municipality_key.id, None)
        .await
        .unwrap();
    let statuses: Vec<_> = engine
        .keys_of(w.partner_id)
        .await
        .unwrap()
        .iter()
        .map(|k| (k.organisation_id, k.status))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(w.coalition), SigningKeyStatus::Approved),
            (Some(w.municipality), SigningKeyStatus::Approved)
        ],
        "approving the municipality key rotated out the coalition key"
    );
    // A new municipality key rotates out the municipality key only.
    let newer = patto_sign::generate_key();
    let newer_key = engine
        .register_key(
            w.partner,
            &registration(&newer, "partner@example.org", "cefalu"),
        )
        .await
        .unwrap();
    engine
        .approve_key(Actor::Person(mayor.id), newer_key.id, None)
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
            SigningKeyStatus::Approved,
            SigningKeyStatus::Rotated,
            SigningKeyStatus::Approved
        ]
    );
}

/// A key is registered only with a statement signed by that very key, made less than a
/// day ago, submitted by the holder it names for an organisation they belong to; a
/// registration (and a public key) is used once, and a holder has one pending key per
/// organisation.
async fn registration_proves_possession_once(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let key = patto_sign::generate_key();
    let code = |outcome: Result<patto_core::records::SigningKey, patto_engine::EngineError>| {
        outcome.map(|k| k.status).map_err(|e| e.code())
    };
    // Signed by another key: nobody proved holding this one.
    let mut forged: serde_json::Value = serde_json::from_slice(&registration(
        &patto_sign::generate_key(),
        "partner@example.org",
        "cefalu",
    ))
    .unwrap();
    let genuine: serde_json::Value =
        serde_json::from_slice(&registration(&key, "partner@example.org", "cefalu")).unwrap();
    forged["statement"] = genuine["statement"].clone();
    let outcome = engine
        .register_key(w.partner, forged.to_string().as_bytes())
        .await;
    assert_eq!(code(outcome), Err(ErrorCode::Validation));
    // Made more than 24 hours ago, or in the future.
    for made_at in [
        chrono::Utc::now() - chrono::Duration::hours(25),
        chrono::Utc::now() + chrono::Duration::hours(1),
    ] {
        let stale = patto_sign::KeyRegistration::new(
            "partner@example.org",
            "cefalu",
            &key.verifying_key(),
            &made_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .sign(&key)
        .to_json();
        let outcome = engine.register_key(w.partner, stale.as_bytes()).await;
        assert_eq!(code(outcome), Err(ErrorCode::Validation), "{made_at}");
    }
    // Submitted by someone other than the holder it names.
    let request = registration(&key, "partner@example.org", "cefalu");
    let outcome = engine.register_key(w.coordinator, &request).await;
    assert_eq!(code(outcome), Err(ErrorCode::Forbidden));
    // For an organisation the holder does not belong to.
    let outcome = engine
        .register_key(
            w.partner,
            &registration(&key, "partner@example.org", "citta-a-rete"),
        )
        .await;
    assert_eq!(code(outcome), Err(ErrorCode::Forbidden));
    // The genuine one, once.
    let registered = engine.register_key(w.partner, &request).await.unwrap();
    assert_eq!(registered.organisation_id, Some(w.municipality));
    assert_eq!(
        code(engine.register_key(w.partner, &request).await),
        Err(ErrorCode::Conflict),
        "a registration was used twice"
    );
    // A second pending key for the same organisation waits for the first to be settled.
    let second = patto_sign::generate_key();
    let outcome = engine
        .register_key(
            w.partner,
            &registration(&second, "partner@example.org", "cefalu"),
        )
        .await;
    assert_eq!(code(outcome), Err(ErrorCode::Conflict));
    engine
        .revoke_key(w.partner, registered.id, "replaced before approval")
        .await
        .unwrap();
    // The revoked key's public key stays registered: it cannot come back.
    let again = engine
        .register_key(
            w.partner,
            &registration(&key, "partner@example.org", "cefalu"),
        )
        .await;
    assert_eq!(code(again), Err(ErrorCode::Conflict));
    engine
        .register_key(
            w.partner,
            &registration(&second, "partner@example.org", "cefalu"),
        )
        .await
        .unwrap();
}

/// Where the holder is their organisation's only coordinator or admin, two different
/// operators approve, each naming the act that designated the holder; nobody else can.
async fn the_only_coordinator_is_approved_by_two_operators(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let key = patto_sign::generate_key();
    let registered = engine
        .register_key(
            w.coordinator,
            &registration(&key, "coordinatrice@example.org", "citta-a-rete"),
        )
        .await
        .unwrap();
    let ops = operators(engine, 2).await;
    for actor in [w.coordinator, w.partner, w.outsider] {
        let outcome = engine
            .approve_key(actor, registered.id, Some("PEC prot. 123"))
            .await;
        assert_eq!(
            outcome.map_err(|e| e.code()).err(),
            Some(ErrorCode::Forbidden)
        );
    }
    let without_act = engine.approve_key(ops[0], registered.id, None).await;
    assert_eq!(
        without_act.map_err(|e| e.code()).err(),
        Some(ErrorCode::Validation)
    );
    let first = engine
        .approve_key(ops[0], registered.id, Some("PEC prot. 123"))
        .await
        .unwrap();
    assert!(matches!(first, ApprovalOutcome::AwaitingSecondOperator(_)));
    assert_eq!(first.key().status, SigningKeyStatus::Pending);
    let twice = engine
        .approve_key(ops[0], registered.id, Some("PEC prot. 123"))
        .await;
    assert_eq!(twice.map_err(|e| e.code()).err(), Some(ErrorCode::Conflict));
    let second = engine
        .approve_key(ops[1], registered.id, Some("delibera 12/2026"))
        .await
        .unwrap();
    assert!(matches!(second, ApprovalOutcome::Approved(_)));
    assert_eq!(second.key().status, SigningKeyStatus::Approved);
    // The verifier's report names who registered the key and both operators who approved
    // it, each with the act they named, in order.
    let bundle = signed_pact_bundle(engine, &w, &key).await;
    let report = patto_sign::verify_bundle(bundle.as_bytes()).unwrap();
    let endorsement = &report.endorsements[0];
    let id = |actor: &patto_sign::Actor| match actor {
        patto_sign::Actor::Person { id, .. } => Some(*id),
        patto_sign::Actor::System => None,
    };
    assert_eq!(
        id(&endorsement.key_registered.by),
        Some(w.coordinator_id.get())
    );
    let operator_id = |i: usize| match ops[i] {
        Actor::Person(person) => Some(person.get()),
        Actor::System | Actor::Public => None,
    };
    let approvals: Vec<_> = endorsement
        .key_approvals
        .iter()
        .map(|a| (id(&a.step.by), a.act_reference.as_deref()))
        .collect();
    assert_eq!(
        approvals,
        [
            (operator_id(0), Some("PEC prot. 123")),
            (operator_id(1), Some("delibera 12/2026")),
        ]
    );
    assert!(
        endorsement.key_registered.at <= endorsement.key_approvals[0].step.at
            && endorsement.key_approvals[0].step.at <= endorsement.key_approvals[1].step.at
    );
    // Once the organisation has another coordinator, operators have no say.
    let deputy = engine
        .create_person(Actor::System, "vice@example.org", "Vice", Language::It)
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, deputy.id, w.coalition, Role::Coordinator)
        .await
        .unwrap();
    let newer = patto_sign::generate_key();
    let newer_key = engine
        .register_key(
            w.coordinator,
            &registration(&newer, "coordinatrice@example.org", "citta-a-rete"),
        )
        .await
        .unwrap();
    let by_operator = engine
        .approve_key(ops[0], newer_key.id, Some("PEC prot. 124"))
        .await;
    assert_eq!(
        by_operator.map_err(|e| e.code()).err(),
        Some(ErrorCode::Forbidden)
    );
    engine
        .approve_key(Actor::Person(deputy.id), newer_key.id, None)
        .await
        .unwrap();
    assert!(engine.verify_key_chain().await.unwrap().problem.is_none());
}

/// The pact signed by the coordinator alone with `key`, exported.
async fn signed_pact_bundle(
    engine: &patto_engine::Engine,
    w: &crate::engine::World,
    key: &patto_sign::SigningKey,
) -> String {
    engine
        .add_version(w.coordinator, w.pact.id, b"Patto v1".to_vec())
        .await
        .unwrap();
    engine
        .set_signatories(
            w.coordinator,
            w.pact.id,
            &[patto_core::records::SignatoryEntry {
                organisation: w.coalition,
                person: w.coordinator_id,
            }],
        )
        .await
        .unwrap();
    crate::engine::fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap();
    crate::engine::fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap();
    let request = engine.signature_requests(w.pact.id).await.unwrap()[0]
        .request
        .id;
    sign(engine, w.coordinator, request, key).await.unwrap();
    engine
        .export_evidence(&w.pact.slug, Some(1), &patto_sign::generate_key())
        .await
        .unwrap()
}

/// Removing the partner from the municipality cancels their pending request for it
/// (audited, the coordinators told); a signature they submit afterwards is refused.
async fn a_removed_member_can_no_longer_sign_for_their_organisation(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    engine
        .remove_membership(
            Actor::System,
            r.w.partner_id,
            r.w.municipality,
            Role::Member,
        )
        .await
        .unwrap();
    let outcome = sign(engine, r.w.partner, r.partner_request, &r.partner_key).await;
    assert!(
        outcome.is_err(),
        "a person removed from the municipality signed for it: {outcome:?}"
    );
    let requests = engine.signature_requests(r.w.pact.id).await.unwrap();
    let request = requests
        .iter()
        .find(|v| v.request.id == r.partner_request)
        .unwrap();
    assert_eq!(
        request.request.status.as_str(),
        "cancelled",
        "the removed member's request was left pending"
    );
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    let events = engine.events(instance.id).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "signature_request_cancelled"),
        "the cancellation was not audited"
    );
    let mail = engine.outbox(Some(instance.id)).await.unwrap();
    assert!(
        mail.iter()
            .any(|m| m.template == "signature_request_cancelled"
                && m.recipient == "coordinatrice@example.org"),
        "the coordinators were not told"
    );
}

/// After a signatory leaves their organisation, a coordinator names a member of it in
/// their place, in the same round: the round then completes with the substitute's
/// signature.
async fn a_coordinator_names_a_substitute_signatory(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let substitute = engine
        .create_person(
            Actor::System,
            "vice.cefalu@example.org",
            "Vice",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .remove_membership(
            Actor::System,
            r.w.partner_id,
            r.w.municipality,
            Role::Member,
        )
        .await
        .unwrap();
    let code = |outcome: Result<
        patto_core::records::SignatureRequest,
        patto_engine::EngineError,
    >| { outcome.map(|_| ()).map_err(|e| e.code()) };
    // Not a member of the municipality yet: refused.
    let outcome = engine
        .substitute_signatory(r.w.coordinator, r.partner_request, substitute.id)
        .await;
    assert_eq!(code(outcome), Err(ErrorCode::Validation));
    engine
        .add_membership(Actor::System, substitute.id, r.w.municipality, Role::Member)
        .await
        .unwrap();
    for actor in [r.w.partner, r.w.outsider, Actor::Person(substitute.id)] {
        let outcome = engine
            .substitute_signatory(actor, r.partner_request, substitute.id)
            .await;
        assert_eq!(code(outcome), Err(ErrorCode::Forbidden));
    }
    // Only a cancelled request gets a substitute, and only one.
    let outcome = engine
        .substitute_signatory(r.w.coordinator, r.coordinator_request, substitute.id)
        .await;
    assert_eq!(code(outcome), Err(ErrorCode::Conflict));
    let added = engine
        .substitute_signatory(r.w.coordinator, r.partner_request, substitute.id)
        .await
        .unwrap();
    let again = engine
        .substitute_signatory(r.w.coordinator, r.partner_request, substitute.id)
        .await;
    assert_eq!(code(again), Err(ErrorCode::Conflict));
    // The substitute registers a key for the municipality and signs; the round completes.
    let key = patto_sign::generate_key();
    let registered = engine
        .register_key(
            Actor::Person(substitute.id),
            &registration(&key, "vice.cefalu@example.org", "cefalu"),
        )
        .await
        .unwrap();
    let approver = crate::signing::municipality_key_approver(engine, &r.w).await;
    engine
        .approve_key(approver, registered.id, None)
        .await
        .unwrap();
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    let last = sign(engine, Actor::Person(substitute.id), added.id, &key)
        .await
        .unwrap();
    assert_eq!(last.state, "in_force");
}

/// A registration request made now, signed by the key it registers.
pub(crate) fn registration(
    key: &patto_sign::SigningKey,
    email: &str,
    organisation: &str,
) -> Vec<u8> {
    patto::signing::registration_request(key, email, organisation).into_bytes()
}

/// `n` new instance operators.
pub(crate) async fn operators(engine: &patto_engine::Engine, n: usize) -> Vec<Actor> {
    let mut made = Vec::new();
    for _ in 0..n {
        let email = format!("operatore-{}@example.org", uuid::Uuid::new_v4().simple());
        let person = engine
            .create_person(Actor::System, &email, "Operatore", Language::It)
            .await
            .unwrap();
        engine
            .grant_operator(Actor::System, person.id)
            .await
            .unwrap();
        made.push(Actor::Person(person.id));
    }
    made
}
