//! Signing rounds end to end on both backends: every refusal rule, rotation and
//! revocation, sequential order, declines, cancellation by a new version, and the
//! evidence bundle of a signed pact.

use patto_core::ids::{OrganisationId, PersonId, SignatureRequestId};
use patto_core::records::{Document, SignatoryEntry};
use patto_core::status::{SignatureRequestStatus, SigningKeyStatus, SigningRoundStatus};
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, Engine, EngineError, ErrorCode, NewDocument, NewOrganisation, SignatureRefusal,
};
use patto_sign::SigningKey;

use crate::engine::{Ctx, World, assert_chain_intact, fire, shipped, world};
use crate::keys::{operators, registration};

engine_cases!(super::shipped() =>
    last_signature_puts_the_pact_in_force,
    a_statement_that_differs_is_refused_by_field,
    a_bad_or_malformed_signature_is_refused,
    keys_must_be_approved_and_current,
    revoked_keys_cannot_sign_but_their_signatures_stand,
    each_request_is_signed_once_and_only_by_its_signatory,
    sequential_rounds_keep_their_order,
    declining_is_recorded_and_told,
    a_new_version_cancels_the_round,
    key_approval_needs_an_authorised_coordinator,
    reviews_run_while_in_force_and_stop_for_an_amendment,
    a_corrupt_stored_key_is_internal_not_a_bad_signature,
    an_unknown_stored_status_is_an_internal_error,
    renaming_an_organisation_keeps_earlier_bundles_valid,
    control_and_bidi_characters_are_refused_in_displayed_text,
);

/// A key of the world's coordinator (for the coalition) or partner (for the
/// municipality), registered by its holder with proof of possession and approved.
pub(crate) async fn approved_key(engine: &Engine, w: &World, person: PersonId) -> SigningKey {
    let key = patto_sign::generate_key();
    let registered = engine
        .register_key(Actor::Person(person), &world_registration(w, person, &key))
        .await
        .unwrap();
    assert_eq!(registered.status, SigningKeyStatus::Pending);
    approve(engine, w, registered.id, person).await;
    key
}

/// A registration request for a key of the world's coordinator (for the coalition) or
/// partner (for the municipality).
pub(crate) fn world_registration(w: &World, person: PersonId, key: &SigningKey) -> Vec<u8> {
    let (email, organisation) = if person == w.coordinator_id {
        ("coordinatrice@example.org", "citta-a-rete")
    } else {
        ("partner@example.org", "cefalu")
    };
    registration(key, email, organisation)
}

/// Approves a pending key of the world's coordinator or partner: the coordinator being
/// the coalition's only coordinator, two operators approve theirs naming the act; the
/// municipality's key approver (a coordinator made for the purpose) approves the
/// partner's.
pub(crate) async fn approve(
    engine: &Engine,
    w: &World,
    key: patto_core::ids::SigningKeyId,
    holder: PersonId,
) {
    if holder == w.coordinator_id {
        for operator in operators(engine, 2).await {
            engine
                .approve_key(operator, key, Some("delibera 12/2026"))
                .await
                .unwrap();
        }
    } else {
        let approver = municipality_key_approver(engine, w).await;
        engine.approve_key(approver, key, None).await.unwrap();
    }
}

/// A coordinator of the world's municipality, made on first use.
pub(crate) async fn municipality_key_approver(engine: &Engine, w: &World) -> Actor {
    let email = "approvatore.cefalu@example.org";
    if let Ok(person) = engine.person_by_email(email).await {
        return Actor::Person(person.id);
    }
    let person = engine
        .create_person(
            Actor::System,
            email,
            "Approvatore",
            patto_core::Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(
            Actor::System,
            person.id,
            w.municipality,
            patto_core::Role::Coordinator,
        )
        .await
        .unwrap();
    Actor::Person(person.id)
}

/// The world's pact in signing, with the coordinator (for the coalition) and the partner
/// (for the municipality) as signatories, both with approved keys.
pub(crate) struct Round {
    pub(crate) w: World,
    pub(crate) coordinator_key: SigningKey,
    pub(crate) partner_key: SigningKey,
    pub(crate) coordinator_request: SignatureRequestId,
    pub(crate) partner_request: SignatureRequestId,
}

pub(crate) async fn open_round(engine: &Engine) -> Round {
    let w = world(engine).await;
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
    let partner_key = approved_key(engine, &w, w.partner_id).await;
    fire(engine, w.coordinator, &w.pact, "share").await.unwrap();
    fire(engine, w.coordinator, &w.pact, "freeze")
        .await
        .unwrap();
    let requests = engine.signature_requests(w.pact.id).await.unwrap();
    let request_of = |person| {
        requests
            .iter()
            .find(|r| r.request.person_id == person)
            .unwrap()
            .request
            .id
    };
    Round {
        coordinator_request: request_of(w.coordinator_id),
        partner_request: request_of(w.partner_id),
        w,
        coordinator_key,
        partner_key,
    }
}

pub(crate) async fn sign(
    engine: &Engine,
    actor: Actor,
    request: SignatureRequestId,
    key: &SigningKey,
) -> Result<patto_engine::SignatureOutcome, EngineError> {
    let statement = engine.statement_for(request).await.unwrap();
    let signature = patto_sign::sign(key, statement.as_bytes());
    engine
        .submit_signature(actor, request, Some(statement.as_bytes()), &signature)
        .await
}

pub(crate) fn refusal(error: EngineError) -> SignatureRefusal {
    match error {
        EngineError::Signature(refusal) => refusal,
        other => panic!("expected a signature refusal, got {other:?}"),
    }
}

async fn state(engine: &Engine, document: &Document) -> String {
    engine.instance_of(document.id).await.unwrap().state
}

async fn last_signature_puts_the_pact_in_force(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let first = sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    assert_eq!(first.state, "signing");
    assert!(first.steps.is_empty());
    let last = sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap();
    assert_eq!(last.state, "in_force");
    assert_eq!(
        last.steps
            .iter()
            .map(|s| (s.transition.as_str(), s.automatic))
            .collect::<Vec<_>>(),
        [("enter_force", true)]
    );
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    assert!(
        engine
            .open_signature_requests(instance.id)
            .await
            .unwrap()
            .is_none()
    );
    let requests = engine.signature_requests(r.w.pact.id).await.unwrap();
    assert!(
        requests
            .iter()
            .all(|v| v.round.status == SigningRoundStatus::Completed
                && v.request.status == SignatureRequestStatus::Signed)
    );
    let effects: Vec<_> = engine
        .recorded_effects(instance.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(effects, ["open_signing", "publish", "start_reviews"]);
    let events = engine.events(instance.id).await.unwrap();
    let kinds: Vec<_> = events
        .iter()
        .rev()
        .take(3)
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["transition", "signature_accepted", "signature_accepted"]
    );
    assert_chain_intact(engine, &r.w.pact).await;

    // The evidence bundle of the signed pact verifies offline and names both signatories.
    let server_key = patto_sign::generate_key();
    let bundle = engine
        .export_evidence(&r.w.pact.slug, None, &server_key)
        .await
        .unwrap();
    let report =
        patto_sign::verify_bundle_pinned(bundle.as_bytes(), &server_key.verifying_key()).unwrap();
    assert_eq!(report.endorsements.len(), 2);
    assert_eq!(report.version_number, 1);
    // Signatories are named by name, never by e-mail address, and the bundle keeps no
    // address at all.
    let names: Vec<_> = report
        .endorsements
        .iter()
        .map(|e| e.person.as_str())
        .collect();
    assert_eq!(names, ["Anna Coordinatrice", "Paolo Partner"]);
    assert!(!bundle.contains("@example.org"), "{bundle}");
    // Any single changed byte is caught (a sample of positions: the full sweep runs on a
    // small bundle in patto-sign's own tests).
    let bytes = bundle.as_bytes();
    for position in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let mut changed = bytes.to_vec();
        changed[position] = if changed[position] == b'1' {
            b'2'
        } else {
            b'1'
        };
        assert!(
            patto_sign::verify_bundle(&changed).is_err(),
            "a change at byte {position} went unnoticed"
        );
    }
}

async fn a_statement_that_differs_is_refused_by_field(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let statement = engine.statement_for(r.coordinator_request).await.unwrap();
    let parsed = patto_sign::Statement::from_canonical(statement.as_bytes()).unwrap();
    let variants: Vec<(&str, patto_sign::Statement)> = vec![
        (
            "version",
            patto_sign::Statement {
                version: 2,
                ..parsed.clone()
            },
        ),
        (
            "content_sha256",
            patto_sign::Statement {
                content_sha256: "00".repeat(32),
                ..parsed.clone()
            },
        ),
        (
            "intent",
            patto_sign::Statement {
                intent: "approve".into(),
                ..parsed.clone()
            },
        ),
        (
            "document",
            patto_sign::Statement {
                document: patto_sign::StatementDocument {
                    id: parsed.document.id + 1,
                    slug: "altro".into(),
                    title: parsed.document.title.clone(),
                },
                ..parsed.clone()
            },
        ),
    ];
    for (field, variant) in variants {
        let text = variant.to_canonical();
        let signature = patto_sign::sign(&r.coordinator_key, text.as_bytes());
        let error = engine
            .submit_signature(
                r.w.coordinator,
                r.coordinator_request,
                Some(text.as_bytes()),
                &signature,
            )
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidSignature, "{error}");
        match refusal(error) {
            SignatureRefusal::StatementMismatch { fields, .. } => assert_eq!(fields, [field]),
            other => panic!("{field}: {other:?}"),
        }
    }
    // Another signatory's statement differs in the request, the person and the organisation.
    let other = engine.statement_for(r.partner_request).await.unwrap();
    let signature = patto_sign::sign(&r.coordinator_key, other.as_bytes());
    match refusal(
        engine
            .submit_signature(
                r.w.coordinator,
                r.coordinator_request,
                Some(other.as_bytes()),
                &signature,
            )
            .await
            .unwrap_err(),
    ) {
        SignatureRefusal::StatementMismatch { fields, .. } => {
            assert!(
                fields.contains(&"person") && fields.contains(&"organisation"),
                "{fields:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A statement that is not canonical JSON is refused as malformed.
    let spaced = statement.replace(",", ", ");
    let signature = patto_sign::sign(&r.coordinator_key, spaced.as_bytes());
    assert!(matches!(
        refusal(
            engine
                .submit_signature(
                    r.w.coordinator,
                    r.coordinator_request,
                    Some(spaced.as_bytes()),
                    &signature
                )
                .await
                .unwrap_err()
        ),
        SignatureRefusal::StatementMalformed(_)
    ));
    assert_eq!(state(engine, &r.w.pact).await, "signing");
}

async fn a_bad_or_malformed_signature_is_refused(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let statement = engine.statement_for(r.coordinator_request).await.unwrap();
    // Signed over other bytes, checked against the server's own statement.
    let wrong = patto_sign::sign(&r.coordinator_key, b"something else");
    let error = engine
        .submit_signature(r.w.coordinator, r.coordinator_request, None, &wrong)
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidSignature);
    assert!(matches!(
        refusal(error),
        SignatureRefusal::BadSignature { .. }
    ));
    // Another person's key over the right statement.
    let by_partner = patto_sign::sign(&r.partner_key, statement.as_bytes());
    assert!(matches!(
        refusal(
            engine
                .submit_signature(r.w.coordinator, r.coordinator_request, None, &by_partner)
                .await
                .unwrap_err()
        ),
        SignatureRefusal::BadSignature { .. }
    ));
    let short = engine
        .submit_signature(r.w.coordinator, r.coordinator_request, None, &[7u8; 10])
        .await
        .unwrap_err();
    assert!(matches!(
        refusal(short),
        SignatureRefusal::SignatureMalformed(_)
    ));
    // Nothing was recorded: the right signature is still accepted.
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
}

async fn keys_must_be_approved_and_current(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    // A new key waiting for approval cannot sign.
    let pending = patto_sign::generate_key();
    let registered = engine
        .register_key(
            r.w.partner,
            &world_registration(&r.w, r.w.partner_id, &pending),
        )
        .await
        .unwrap();
    assert!(matches!(
        refusal(
            sign(engine, r.w.partner, r.partner_request, &pending)
                .await
                .unwrap_err()
        ),
        SignatureRefusal::KeyPending { .. }
    ));
    // Once approved it replaces the old key, which can no longer sign.
    engine
        .approve_key(r.w.coordinator, registered.id, None)
        .await
        .unwrap_err();
    approve(engine, &r.w, registered.id, r.w.partner_id).await;
    let keys = engine.keys_of(r.w.partner_id).await.unwrap();
    let statuses: Vec<_> = keys.iter().map(|k| k.status).collect();
    assert_eq!(
        statuses,
        [SigningKeyStatus::Rotated, SigningKeyStatus::Approved]
    );
    assert!(matches!(
        refusal(
            sign(engine, r.w.partner, r.partner_request, &r.partner_key)
                .await
                .unwrap_err()
        ),
        SignatureRefusal::KeyRotated { .. }
    ));
    sign(engine, r.w.partner, r.partner_request, &pending)
        .await
        .unwrap();
    // Someone without any approved key is told to get one.
    let stranger = patto_sign::generate_key();
    engine
        .revoke_key(
            r.w.coordinator,
            engine.keys_of(r.w.coordinator_id).await.unwrap()[0].id,
            "lost",
        )
        .await
        .unwrap();
    let error = sign(engine, r.w.coordinator, r.coordinator_request, &stranger)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("patto keygen"), "{error}");
    assert!(matches!(
        refusal(error),
        SignatureRefusal::NoApprovedKey { .. }
    ));
    assert!(engine.verify_key_chain().await.unwrap().problem.is_none());
}

async fn revoked_keys_cannot_sign_but_their_signatures_stand(ctx: &Ctx) {
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
    let partner_key_id = engine.keys_of(r.w.partner_id).await.unwrap()[0].id;
    engine
        .revoke_key(r.w.partner, partner_key_id, "chiavetta smarrita")
        .await
        .unwrap();
    let error = sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("chiavetta smarrita"), "{error}");
    assert!(matches!(
        refusal(error),
        SignatureRefusal::KeyRevoked { .. }
    ));
    let again = engine
        .revoke_key(r.w.partner, partner_key_id, "di nuovo")
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::Conflict);
    // The coordinator's signature, made before their key is revoked, stays valid and is
    // shown as made before the revocation.
    let coordinator_key_id = engine.keys_of(r.w.coordinator_id).await.unwrap()[0].id;
    engine
        .revoke_key(r.w.coordinator, coordinator_key_id, "fine mandato")
        .await
        .unwrap();
    let server_key = patto_sign::generate_key();
    let bundle = engine
        .export_evidence(&r.w.pact.slug, Some(1), &server_key)
        .await
        .unwrap();
    let report = patto_sign::verify_bundle(bundle.as_bytes()).unwrap();
    assert_eq!(report.endorsements.len(), 1);
    let (_, reason) = report.endorsements[0]
        .revoked_at
        .clone()
        .expect("revocation reported");
    assert_eq!(reason, "fine mandato");
}

async fn each_request_is_signed_once_and_only_by_its_signatory(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let error = sign(engine, r.w.partner, r.coordinator_request, &r.partner_key)
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Forbidden);
    assert!(matches!(
        refusal(error),
        SignatureRefusal::NotYourRequest { .. }
    ));
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    let twice = sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap_err();
    assert_eq!(twice.code(), ErrorCode::Conflict);
    assert!(matches!(
        refusal(twice),
        SignatureRefusal::AlreadyDecided { .. }
    ));
    let missing = engine
        .statement_for(SignatureRequestId::new(999_999))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
    // The signatory list is frozen while the round is open.
    let frozen = engine
        .set_signatories(
            r.w.coordinator,
            r.w.pact.id,
            &[SignatoryEntry {
                organisation: r.w.coalition,
                person: r.w.coordinator_id,
            }],
        )
        .await
        .unwrap_err();
    assert_eq!(frozen.code(), ErrorCode::Conflict);
}

/// The decision body and the Regione of the world's network, each with a coordinator
/// who holds an approved key.
pub(crate) struct Bodies {
    pub(crate) decision_body: OrganisationId,
    pub(crate) decision_body_person: PersonId,
    pub(crate) decision_body_key: SigningKey,
    pub(crate) region: OrganisationId,
    pub(crate) region_person: PersonId,
    pub(crate) region_key: SigningKey,
}

pub(crate) async fn bodies(engine: &Engine, coalition: OrganisationId) -> Bodies {
    // A network of their own with the coalition: the bodies' roles reach the coalition's
    // documents through it.
    let network = engine
        .create_network(Actor::System, "validazione", "Validazione del modello")
        .await
        .unwrap()
        .id;
    engine
        .add_network_member(Actor::System, network, coalition)
        .await
        .unwrap();
    let mut made = Vec::new();
    for (slug, name, category, email) in [
        (
            "assemblea-sindaci",
            "Assemblea dei sindaci",
            OrganisationCategory::DecisionBody,
            "presidente@example.org",
        ),
        (
            "regione-siciliana",
            "Regione Siciliana",
            OrganisationCategory::Region,
            "dirigente@example.org",
        ),
    ] {
        let organisation = engine
            .create_organisation(
                Actor::System,
                NewOrganisation {
                    slug: slug.into(),
                    name: name.into(),
                    category,
                    istat_code: None,
                },
            )
            .await
            .unwrap();
        engine
            .add_network_member(Actor::System, network, organisation.id)
            .await
            .unwrap();
        let person = engine
            .create_person(Actor::System, email, email, Language::It)
            .await
            .unwrap();
        engine
            .add_membership(Actor::System, person.id, organisation.id, Role::Coordinator)
            .await
            .unwrap();
        // Each is their organisation's only coordinator: two operators approve their
        // key, naming the act that designated them.
        let key = patto_sign::generate_key();
        let registered = engine
            .register_key(Actor::Person(person.id), &registration(&key, email, slug))
            .await
            .unwrap();
        for operator in operators(engine, 2).await {
            engine
                .approve_key(operator, registered.id, Some("delibera 3/2026"))
                .await
                .unwrap();
        }
        made.push((organisation.id, person.id, key));
    }
    let (region, region_person, region_key) = made.pop().unwrap();
    let (decision_body, decision_body_person, decision_body_key) = made.pop().unwrap();
    Bodies {
        decision_body,
        decision_body_person,
        decision_body_key,
        region,
        region_person,
        region_key,
    }
}

async fn sequential_rounds_keep_their_order(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let b = bodies(engine, w.coalition).await;
    let (decision_body, region) = (
        Actor::Person(b.decision_body_person),
        Actor::Person(b.region_person),
    );
    let model = engine
        .create_document(
            w.coordinator,
            NewDocument {
                kind: DocumentKind::ReportingModel,
                slug: "modello-rendicontazione".into(),
                title: "Modello di rendicontazione sociale".into(),
                parent_id: None,
                owner_organisation_id: w.coalition,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    engine
        .add_version(w.coordinator, model.id, b"Linee guida v1".to_vec())
        .await
        .unwrap();
    // The decision body approves first, then the Regione.
    engine
        .set_signatories(
            w.coordinator,
            model.id,
            &[
                SignatoryEntry {
                    organisation: b.decision_body,
                    person: b.decision_body_person,
                },
                SignatoryEntry {
                    organisation: b.region,
                    person: b.region_person,
                },
            ],
        )
        .await
        .unwrap();
    fire(engine, w.coordinator, &model, "share").await.unwrap();
    fire(engine, w.coordinator, &model, "submit_for_adoption")
        .await
        .unwrap();
    // Only the decision body adopts: not the coalition's coordinator, not the Regione.
    for actor in [w.coordinator, region, w.partner] {
        let refused = fire(engine, actor, &model, "adopt").await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Forbidden, "{actor:?}");
    }
    // The decision body may send it back; a partner may not.
    let refused = fire(engine, w.partner, &model, "request_changes")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    fire(engine, decision_body, &model, "request_changes")
        .await
        .unwrap();
    assert_eq!(state(engine, &model).await, "design");
    fire(engine, w.coordinator, &model, "share").await.unwrap();
    fire(engine, w.coordinator, &model, "submit_for_adoption")
        .await
        .unwrap();
    fire(engine, decision_body, &model, "adopt").await.unwrap();
    assert_eq!(state(engine, &model).await, "validation");
    // The Regione may send it back during validation too; the round is cancelled.
    fire(engine, region, &model, "request_changes")
        .await
        .unwrap();
    assert_eq!(state(engine, &model).await, "design");
    fire(engine, w.coordinator, &model, "share").await.unwrap();
    fire(engine, w.coordinator, &model, "submit_for_adoption")
        .await
        .unwrap();
    fire(engine, decision_body, &model, "adopt").await.unwrap();

    let requests: Vec<_> = engine
        .signature_requests(model.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.round.status == SigningRoundStatus::Open)
        .collect();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|v| v.round.intent == "approve" && v.round.signing_order == "sequential")
    );
    let (first, second) = (requests[0].request.id, requests[1].request.id);
    let early = sign(engine, region, second, &b.region_key)
        .await
        .unwrap_err();
    assert_eq!(early.code(), ErrorCode::Conflict);
    assert!(
        early.to_string().contains("Assemblea dei sindaci"),
        "{early}"
    );
    assert!(matches!(
        refusal(early),
        SignatureRefusal::NotYourTurn { .. }
    ));
    sign(engine, decision_body, first, &b.decision_body_key)
        .await
        .unwrap();
    let outcome = sign(engine, region, second, &b.region_key).await.unwrap();
    assert_eq!(outcome.state, "validated");
    assert_eq!(
        engine
            .document_by_slug("modello-rendicontazione")
            .await
            .unwrap()
            .published_version,
        Some(1)
    );
    // Each body was told through its role.
    let outbox = engine.outbox(None).await.unwrap();
    for (person, template) in [
        (b.decision_body_person, "adoption_requested"),
        (b.region_person, "validation_opened"),
    ] {
        assert!(
            outbox
                .iter()
                .any(|message| message.person_id == person && message.template == template),
            "{person} was not sent {template}"
        );
    }
    assert_chain_intact(engine, &model).await;
}

async fn declining_is_recorded_and_told(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let empty = engine
        .decline_signature(r.w.partner, r.partner_request, "  ")
        .await
        .unwrap_err();
    assert_eq!(empty.code(), ErrorCode::Validation);
    engine
        .decline_signature(
            r.w.partner,
            r.partner_request,
            "Manca l'articolo sui beni confiscati",
        )
        .await
        .unwrap();
    let after = sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap_err();
    assert!(matches!(
        refusal(after),
        SignatureRefusal::AlreadyDecided { .. }
    ));
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    let told: Vec<_> = engine
        .outbox(Some(instance.id))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.template == "signature_declined")
        .map(|m| m.recipient)
        .collect();
    assert_eq!(told, ["coordinatrice@example.org"]);
    let events = engine.events(instance.id).await.unwrap();
    let declined = events.last().unwrap();
    assert_eq!(declined.kind, "signature_declined");
    assert!(declined.payload.contains("beni confiscati"));
    // The round cannot complete; the coordinators take the text back.
    sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap();
    assert_eq!(state(engine, &r.w.pact).await, "signing");
    fire(engine, r.w.coordinator, &r.w.pact, "cancel_signing")
        .await
        .unwrap();
    assert_chain_intact(engine, &r.w.pact).await;
}

async fn a_new_version_cancels_the_round(ctx: &Ctx) {
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
    engine
        .add_version(r.w.coordinator, r.w.pact.id, b"Patto v2".to_vec())
        .await
        .unwrap();
    let late = sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::Conflict);
    assert!(matches!(
        refusal(late),
        SignatureRefusal::RoundNotOpen { .. }
    ));
    let instance = engine.instance_of(r.w.pact.id).await.unwrap();
    let kinds: Vec<_> = engine
        .events(instance.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    // The signature collected before stays in the audit trail.
    let tail = &kinds[kinds.len() - 3..];
    assert_eq!(
        tail,
        ["signature_accepted", "version_added", "signing_cancelled"]
    );
    assert_eq!(state(engine, &r.w.pact).await, "signing");
    // The old version's bundle shows no endorsement: its round was cancelled.
    let server_key = patto_sign::generate_key();
    let bundle = engine
        .export_evidence(&r.w.pact.slug, Some(1), &server_key)
        .await
        .unwrap();
    assert!(
        patto_sign::verify_bundle(bundle.as_bytes())
            .unwrap()
            .endorsements
            .is_empty()
    );
    // Back to drafting and through signing again, on version 2.
    fire(engine, r.w.coordinator, &r.w.pact, "cancel_signing")
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "share")
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "freeze")
        .await
        .unwrap();
    let open = engine
        .open_signature_requests(instance.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(open.0.version_number, 2);
    for request in open.1 {
        let key = if request.person_id == r.w.coordinator_id {
            &r.coordinator_key
        } else {
            &r.partner_key
        };
        sign(engine, Actor::Person(request.person_id), request.id, key)
            .await
            .unwrap();
    }
    assert_eq!(state(engine, &r.w.pact).await, "in_force");
}

async fn key_approval_needs_an_authorised_coordinator(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let key = patto_sign::generate_key();
    let request = world_registration(&w, w.partner_id, &key);
    // Nobody registers a key for someone else.
    let refused = engine
        .register_key(w.coordinator, &request)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    let bad = engine
        .register_key(w.partner, b"not a registration")
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::Validation);
    assert!(bad.to_string().contains("patto keys request"), "{bad}");
    let registered = engine.register_key(w.partner, &request).await.unwrap();
    let duplicate = engine.register_key(w.partner, &request).await.unwrap_err();
    assert_eq!(duplicate.code(), ErrorCode::Conflict);
    // The holder cannot approve their own key, nor can a coordinator of another
    // organisation; the municipality's coordinator can.
    assert_eq!(
        engine
            .approve_key(w.partner, registered.id, None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        engine
            .approve_key(w.coordinator, registered.id, None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    let mayor = municipality_key_approver(engine, &w).await;
    let approved = engine
        .approve_key(mayor, registered.id, None)
        .await
        .unwrap();
    assert_eq!(approved.key().status, SigningKeyStatus::Approved);
    assert_eq!(
        Some(approved.key().approved_by),
        Some(match mayor {
            Actor::Person(id) => Some(id),
            Actor::System | Actor::Public => None,
        })
    );
    let twice = engine
        .approve_key(mayor, registered.id, None)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), ErrorCode::Conflict);
    let verdict = engine.verify_key_chain().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.events, 2);
}

async fn reviews_run_while_in_force_and_stop_for_an_amendment(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let instance = engine.instance_of(r.w.pact.id).await.unwrap().id;
    assert!(engine.review_schedules(instance).await.unwrap().is_empty());
    let sign_all = |version: i32| {
        let r = &r;
        async move {
            let open = engine
                .open_signature_requests(instance)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(open.0.version_number, version);
            for request in open.1 {
                let key = if request.person_id == r.w.coordinator_id {
                    &r.coordinator_key
                } else {
                    &r.partner_key
                };
                sign(engine, Actor::Person(request.person_id), request.id, key)
                    .await
                    .unwrap();
            }
        }
    };
    sign_all(1).await;
    let schedules = engine.review_schedules(instance).await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert!(schedules[0].active);
    assert_eq!(
        (schedules[0].cron.as_str(), schedules[0].time_zone.as_str()),
        ("0 9 1 */6 *", "Europe/Rome")
    );
    // A review that ends without changes keeps the schedule; an amendment stops it.
    fire(engine, r.w.coordinator, &r.w.pact, "open_review")
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "conclude_review")
        .await
        .unwrap();
    assert!(engine.review_schedules(instance).await.unwrap()[0].active);
    fire(engine, r.w.coordinator, &r.w.pact, "open_review")
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "amend")
        .await
        .unwrap();
    assert!(
        engine
            .review_schedules(instance)
            .await
            .unwrap()
            .iter()
            .all(|s| !s.active)
    );
    // The amended pact goes through sharing and signing again; reviews restart, once.
    engine
        .add_version(r.w.coordinator, r.w.pact.id, b"Patto v2".to_vec())
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "share")
        .await
        .unwrap();
    fire(engine, r.w.coordinator, &r.w.pact, "freeze")
        .await
        .unwrap();
    sign_all(2).await;
    let schedules = engine.review_schedules(instance).await.unwrap();
    assert_eq!(schedules.iter().filter(|s| s.active).count(), 1);
    assert_eq!(schedules.len(), 2);
    assert_eq!(
        engine
            .document_by_slug(&r.w.pact.slug)
            .await
            .unwrap()
            .published_version,
        Some(2)
    );
    assert_chain_intact(engine, &r.w.pact).await;
}

/// A status this version never writes (a hand edit, a newer version's value) is reported
/// as an internal error naming the row, never a panic and never read as some other status.
async fn an_unknown_stored_status_is_an_internal_error(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    approved_key(engine, &w, w.partner_id).await;
    let key = engine.keys_of(w.partner_id).await.unwrap().remove(0);
    ctx.store
        .execute_raw(&format!(
            "UPDATE signing_keys SET status = 'suspended' WHERE id = {}",
            key.id
        ))
        .await
        .unwrap();
    let error = engine.keys_of(w.partner_id).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::Internal);
    let message = error.to_string();
    assert!(
        message.contains(&format!("signing_keys row {}", key.id)) && message.contains("suspended"),
        "{message}"
    );
}

/// An organisation renamed after its signature: the bundle still verifies and names the
/// organisation as the signatory signed for it.
async fn renaming_an_organisation_keeps_earlier_bundles_valid(ctx: &Ctx) {
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
    sign(engine, r.w.partner, r.partner_request, &r.partner_key)
        .await
        .unwrap();
    engine
        .edit_organisation(
            Actor::System,
            r.w.municipality,
            patto_engine::OrganisationChange {
                name: Some("Città di Cefalù".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let server_key = patto_sign::generate_key();
    let bundle = engine
        .export_evidence(&r.w.pact.slug, None, &server_key)
        .await
        .unwrap();
    let report =
        patto_sign::verify_bundle_pinned(bundle.as_bytes(), &server_key.verifying_key()).unwrap();
    let organisations: Vec<_> = report
        .endorsements
        .iter()
        .map(|e| e.organisation.as_str())
        .collect();
    assert_eq!(
        organisations,
        ["Città a Rete Madonie-Termini", "Comune di Cefalù"]
    );
}

/// Text that is shown to people (names, titles, reasons, comments) cannot carry control
/// characters or bidirectional overrides, which would let it forge lines or reorder what
/// a terminal or a page shows.
async fn control_and_bidi_characters_are_refused_in_displayed_text(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    let forged = [
        "Anna\n- Comune Falso: sottoscrive",
        "Anna \u{1b}[2K",
        "Anna\rRossi",
        "Anna \u{202e}issoR",
        "\u{2066}Anna\u{2069}",
        "Anna\u{7f}",
        "Anna\u{85}",
    ];
    for bad in forged {
        let validation = |result: Result<_, EngineError>| {
            let error = result.err().unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert_eq!(error.code(), ErrorCode::Validation, "{bad:?}: {error}");
            assert!(error.to_string().contains("character"), "{error}");
        };
        validation(
            engine
                .create_person(
                    Actor::System,
                    "nuova@example.org",
                    bad,
                    patto_core::Language::It,
                )
                .await
                .map(drop),
        );
        validation(
            engine
                .edit_person(
                    r.w.partner,
                    r.w.partner_id,
                    patto_engine::PersonChange {
                        name: Some(bad.into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
        );
        validation(
            engine
                .edit_organisation(
                    Actor::System,
                    r.w.municipality,
                    patto_engine::OrganisationChange {
                        name: Some(bad.into()),
                        ..Default::default()
                    },
                )
                .await
                .map(drop),
        );
        validation(
            engine
                .retitle_document(r.w.coordinator, r.w.pact.id, bad)
                .await
                .map(drop),
        );
        validation(
            engine
                .decline_signature(r.w.partner, r.partner_request, bad)
                .await
                .map(drop),
        );
    }
    // A comment may span lines, but not carry escapes or overrides.
    for bad in ["Vedi \u{1b}]8;;http://x\u{7}qui", "Testo \u{202d}capovolto"] {
        let error = engine
            .add_comment(r.w.partner, r.w.pact.id, None, bad)
            .await
            .unwrap_err();
        assert_eq!(error.code(), ErrorCode::Validation, "{bad:?}");
    }
    engine
        .add_comment(
            r.w.partner,
            r.w.pact.id,
            None,
            "Prima riga.\nSeconda riga,\tcon un tabulatore.",
        )
        .await
        .unwrap();
    // Nothing was changed by the refused requests.
    let person = engine.person_by_email("partner@example.org").await.unwrap();
    assert!(!person.name.contains('\n'));
    let requests = engine.signature_requests(r.w.pact.id).await.unwrap();
    assert!(
        requests
            .iter()
            .all(|v| v.request.status == SignatureRequestStatus::Pending)
    );
}

/// The signatory did nothing wrong when the server's copy of their key is unreadable:
/// that is INTERNAL, not a signature that "does not verify".
async fn a_corrupt_stored_key_is_internal_not_a_bad_signature(ctx: &Ctx) {
    let engine = &ctx.engine;
    let r = open_round(engine).await;
    ctx.store
        .execute_raw(&format!(
            "UPDATE signing_keys SET public_key = 'not-a-key' WHERE person_id = {} AND status = 'approved'",
            r.w.coordinator_id
        ))
        .await
        .unwrap();
    let failed = sign(
        engine,
        r.w.coordinator,
        r.coordinator_request,
        &r.coordinator_key,
    )
    .await
    .unwrap_err();
    assert_eq!(failed.code(), ErrorCode::Internal, "{failed}");
    assert_eq!(state(engine, &r.w.pact).await, "signing");
}
