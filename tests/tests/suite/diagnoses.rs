//! Diagnoses through the GraphQL API over real HTTP, on both backends: the coalition's
//! coordinator creates the coalition's diagnosis, the working group saves its content
//! (items keep their ids from version to version), it is put to consultation, approved
//! by its signatory and published, and a pact in drafting cites its problems. Every
//! wrong actor or object is refused: the public and the partners reading a draft,
//! another organisation's working-group member editing, editing in consultation, citing
//! an unknown item, an unapproved diagnosis or another network's draft.

use std::net::SocketAddr;
use std::sync::Arc;

use patto_core::ids::{OrganisationId, PersonId};
use patto_core::records::{Document, SignatoryEntry};
use patto_core::{DocumentKind, Language, OrganisationCategory, Role};
use patto_engine::{Actor, Engine, NewDiagnosis, NewDocument, NewOrganisation};
use patto_tests::TestSessions;
use serde_json::{Value, json};

use crate::api::{code, data, fire, graphql, instance_version, serve};
use crate::engine::{Ctx, shipped};
use crate::keys::registration;

const SYSTEM: Actor = Actor::System;

async fn organisation(
    engine: &Engine,
    slug: &str,
    category: OrganisationCategory,
    istat_code: Option<&str>,
) -> OrganisationId {
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: format!("Ente {slug}"),
                category,
                istat_code: istat_code.map(str::to_owned),
            },
        )
        .await
        .unwrap()
        .id
}

async fn person(
    engine: &Engine,
    name: &str,
    organisation: Option<(OrganisationId, Role)>,
) -> PersonId {
    let id = engine
        .create_person(SYSTEM, &format!("{name}@example.org"), name, Language::It)
        .await
        .unwrap()
        .id;
    if let Some((organisation, role)) = organisation {
        engine
            .add_membership(SYSTEM, id, organisation, role)
            .await
            .unwrap();
    }
    id
}

struct People {
    engine: Arc<Engine>,
    address: SocketAddr,
    coordinator: String,
    drafter: String,
    other_member: String,
    partner: String,
    termini: String,
    far: String,
    coalition: OrganisationId,
    far_comune: OrganisationId,
    prefecture: OrganisationId,
    signatory: PersonId,
    coordinator_id: PersonId,
    key: patto_sign::SigningKey,
    group: i64,
}

async fn setup(engine: Arc<Engine>) -> People {
    let coalition = organisation(
        &engine,
        "citta-a-rete",
        OrganisationCategory::Coalition,
        None,
    )
    .await;
    let termini_id = organisation(
        &engine,
        "termini",
        OrganisationCategory::Municipality,
        Some("082070"),
    )
    .await;
    let prefecture = organisation(
        &engine,
        "prefettura",
        OrganisationCategory::Association,
        None,
    )
    .await;
    // A Comune of another network, with a draft diagnosis of its own.
    let far_comune = organisation(
        &engine,
        "lontano",
        OrganisationCategory::Municipality,
        Some("082027"),
    )
    .await;
    let network = engine.create_network(SYSTEM, "rete", "Rete").await.unwrap();
    for organisation in [coalition, termini_id, prefecture] {
        engine
            .add_network_member(SYSTEM, network.id, organisation)
            .await
            .unwrap();
    }
    let elsewhere = engine
        .create_network(SYSTEM, "altrove", "Altrove")
        .await
        .unwrap();
    engine
        .add_network_member(SYSTEM, elsewhere.id, far_comune)
        .await
        .unwrap();
    let coordinator_id = person(
        &engine,
        "coordinatrice",
        Some((coalition, Role::Coordinator)),
    )
    .await;
    let termini = person(&engine, "termini", Some((termini_id, Role::Coordinator))).await;
    let partner = person(&engine, "prefetto", Some((prefecture, Role::Member))).await;
    let far_coordinator = person(&engine, "lontano", Some((far_comune, Role::Coordinator))).await;
    let signatory = person(&engine, "firmatario", Some((prefecture, Role::Member))).await;
    let approver = person(&engine, "vicario", Some((prefecture, Role::Coordinator))).await;
    let drafter = person(&engine, "redattore", None).await;
    let other_member = person(&engine, "estraneo", None).await;
    let group = engine
        .create_working_group(SYSTEM, "gruppo-diagnosi", "Gruppo diagnosi")
        .await
        .unwrap()
        .id;
    engine
        .add_working_group_member(SYSTEM, group, drafter)
        .await
        .unwrap();
    // Another organisation's working group: its member has no part in the diagnosis.
    let other_group = engine
        .create_working_group(SYSTEM, "gruppo-termini", "Gruppo Termini")
        .await
        .unwrap()
        .id;
    engine
        .add_working_group_member(SYSTEM, other_group, other_member)
        .await
        .unwrap();
    let key = patto_sign::generate_key();
    let registered = engine
        .register_key(
            Actor::Person(signatory),
            &registration(&key, "firmatario@example.org", "prefettura"),
        )
        .await
        .unwrap();
    engine
        .approve_key(Actor::Person(approver), registered.id, None)
        .await
        .unwrap();
    let sessions = Arc::new(TestSessions::default());
    let tokens = (
        sessions.issue(coordinator_id),
        sessions.issue(drafter),
        sessions.issue(other_member),
        sessions.issue(partner),
        sessions.issue(termini),
        sessions.issue(far_coordinator),
    );
    let address = serve(engine.clone(), sessions, crate::api::config_with_key()).await;
    People {
        engine,
        address,
        coordinator: tokens.0,
        drafter: tokens.1,
        other_member: tokens.2,
        partner: tokens.3,
        termini: tokens.4,
        far: tokens.5,
        coalition,
        far_comune,
        prefecture,
        signatory,
        coordinator_id,
        key,
        group: group.get(),
    }
}

const CREATE: &str = "mutation($o: ID!, $y: Int!, $g: ID) { createDiagnosis(organisation: $o, year: $y, workingGroup: $g) { id year document { slug } } }";
const SAVE: &str = "mutation($d: ID!, $c: DiagnosisInput!) { saveDiagnosis(diagnosis: $d, content: $c) { number format territory { slug category } problems { id title frequency count period seriousness } localPolicies { id who } supraLocalPolicies { id } strengths { id } weaknesses { id } needs { id } } }";
const READ: &str = "query($s: String!) { diagnosis(slug: $s) { version { number published problems { id frequency seriousness count source } needs { id title } } } }";
const CITE: &str = "mutation($d: ID!, $g: ID!, $i: [String!]!) { citeDiagnosisItems(document: $d, diagnosis: $g, items: $i) { diagnosis diagnosisVersion itemId kind title problem { seriousness frequency } } }";

async fn ask(p: &People, token: Option<&str>, query: &str, variables: Value) -> Value {
    graphql(p.address, token, query, variables).await
}

/// The first version's content: two problems (one counted), a policy of each kind, a
/// strength, a weakness and a need.
fn first_content() -> Value {
    json!({
        "summary": "Diagnosi condotta con interviste e dati delle forze dell'ordine.",
        "problems": [
            { "title": "Furti in abitazione", "description": "Nelle frazioni.", "frequency": "frequent",
              "count": 120, "period": "2025", "source": "Denunce ai Carabinieri", "seriousness": 4 },
            { "title": "Abbandono di rifiuti", "frequency": "very_frequent",
              "source": "Segnalazioni dei cittadini", "seriousness": 3 },
        ],
        "localPolicies": [
            { "title": "Videosorveglianza", "who": "Comuni", "period": "2020-2023", "outcome": "Telecamere installate." },
        ],
        "supraLocalPolicies": [
            { "title": "PON Legalità", "who": "Ministero dell'Interno", "period": "2014-2020", "outcome": "Finanziati due progetti." },
        ],
        "strengths": [ { "title": "Associazionismo diffuso" } ],
        "weaknesses": [ { "title": "Spopolamento delle aree interne" } ],
        "needs": [ { "title": "Spazi di aggregazione per i giovani", "description": "Chiesti nelle assemblee." } ],
    })
}

async fn fire_now(p: &People, token: &str, slug: &str, id: &str, transition: &str) -> Value {
    let version = instance_version(p.address, &p.coordinator, slug).await;
    fire(p.address, token, id, transition, version).await
}

/// Approves the diagnosis: its signatory is on the list, the coordinator submits it,
/// the signatory signs and the two-thirds quorum is reached.
async fn approve(p: &People, slug: &str, id: &str) {
    let document = p
        .engine
        .readable_diagnosis(SYSTEM, slug)
        .await
        .unwrap()
        .document;
    p.engine
        .set_signatories(
            SYSTEM,
            document.id,
            &[SignatoryEntry {
                organisation: p.prefecture,
                person: p.signatory,
            }],
        )
        .await
        .unwrap();
    let submitted = fire_now(p, &p.coordinator, slug, id, "submit_for_approval").await;
    assert_eq!(
        data(&submitted)["fireTransition"]["state"],
        "approval",
        "{submitted}"
    );
    let request = p.engine.signature_requests(document.id).await.unwrap()[0]
        .request
        .id;
    let statement = p.engine.statement_for(request).await.unwrap();
    let signature = patto_sign::sign(&p.key, statement.as_bytes());
    p.engine
        .submit_signature(
            Actor::Person(p.signatory),
            request,
            Some(statement.as_bytes()),
            &signature,
        )
        .await
        .unwrap();
    let state = p.engine.instance_of(document.id).await.unwrap().state;
    assert_eq!(state, "approved");
}

/// A pact of the coalition in drafting, drafted by the working group, with a version.
async fn pact(p: &People, slug: &str) -> Document {
    let document = p
        .engine
        .create_document(
            SYSTEM,
            NewDocument {
                kind: DocumentKind::Pact,
                slug: slug.into(),
                title: "Patto locale".into(),
                parent_id: None,
                owner_organisation_id: p.coalition,
                working_group_id: Some(patto_core::ids::WorkingGroupId::new(p.group)),
            },
        )
        .await
        .unwrap();
    p.engine
        .add_version(
            Actor::Person(p.coordinator_id),
            document.id,
            b"Testo del patto".to_vec(),
        )
        .await
        .unwrap();
    document
}

async fn diagnosis_is_drafted_consulted_approved_and_cited(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    let coalition = p.coalition.get().to_string();
    let group = p.group.to_string();

    // Creating: the coalition's coordinator only.
    let variables = json!({ "o": coalition, "y": 2026, "g": group });
    let anonymous = ask(&p, None, CREATE, variables.clone()).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    for outsider in [&p.termini, &p.partner, &p.drafter] {
        let refused = ask(&p, Some(outsider), CREATE, variables.clone()).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let created = ask(&p, Some(&p.coordinator), CREATE, variables.clone()).await;
    let diagnosis = data(&created)["createDiagnosis"].clone();
    let id = diagnosis["id"].as_str().unwrap().to_owned();
    let slug = diagnosis["document"]["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, "diagnosi-citta-a-rete-2026");
    let again = ask(&p, Some(&p.coordinator), CREATE, variables).await;
    assert_eq!(
        code(&again),
        "CONFLICT",
        "one diagnosis per territory and year"
    );
    let association = ask(
        &p,
        Some(&p.coordinator),
        CREATE,
        json!({ "o": p.prefecture.get().to_string(), "y": 2026 }),
    )
    .await;
    assert_eq!(code(&association), "VALIDATION", "{association}");

    // The working group's member saves the content; new items get ids.
    let saved = ask(
        &p,
        Some(&p.drafter),
        SAVE,
        json!({ "d": id, "c": first_content() }),
    )
    .await;
    let version = &data(&saved)["saveDiagnosis"];
    assert_eq!(version["number"], 1);
    assert_eq!(version["format"], "patto/diagnosis/v1");
    assert_eq!(version["territory"]["category"], "coalition");
    assert_eq!(version["problems"][0]["id"], "problema-1");
    assert_eq!(version["problems"][0]["count"], 120);
    assert_eq!(version["problems"][1]["id"], "problema-2");
    assert_eq!(version["problems"][1]["frequency"], "very_frequent");
    assert_eq!(version["localPolicies"][0]["id"], "politica-locale-1");
    assert_eq!(
        version["supraLocalPolicies"][0]["id"],
        "politica-sovralocale-1"
    );
    assert_eq!(version["needs"][0]["id"], "bisogno-1");

    // Bad content: every problem is named and nothing is saved.
    let mut bad = first_content();
    bad["problems"][0]["frequency"] = json!("sometimes");
    bad["problems"][1]["seriousness"] = json!(9);
    bad["strengths"][0]["title"] = json!("");
    let refused = ask(&p, Some(&p.drafter), SAVE, json!({ "d": id, "c": bad })).await;
    assert_eq!(code(&refused), "VALIDATION", "{refused}");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    for expected in [
        "`sometimes` is not a frequency",
        "problems[1].seriousness is 9",
        "strengths[0].title is empty",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    let negative = {
        let mut content = first_content();
        content["problems"][0]["count"] = json!(-1);
        ask(&p, Some(&p.drafter), SAVE, json!({ "d": id, "c": content })).await
    };
    assert_eq!(code(&negative), "VALIDATION", "{negative}");
    let read = ask(&p, Some(&p.coordinator), READ, json!({ "s": slug })).await;
    assert_eq!(data(&read)["diagnosis"]["version"]["number"], 1, "{read}");

    // Attacks on the draft: another organisation's working-group member and another
    // Comune's coordinator cannot edit; the generic version path refuses a diagnosis.
    for outsider in [&p.other_member, &p.termini, &p.partner] {
        let refused = ask(
            &p,
            Some(outsider),
            SAVE,
            json!({ "d": id, "c": first_content() }),
        )
        .await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let raw = ask(
        &p,
        Some(&p.coordinator),
        "mutation($d: ID!) { addVersion(document: $d, text: \"testo libero\") { number } }",
        json!({ "d": id }),
    )
    .await;
    assert_eq!(code(&raw), "VALIDATION", "{raw}");
    // Reading a draft: not the public, not a partner before the consultation.
    let public = ask(&p, None, READ, json!({ "s": slug })).await;
    assert_eq!(code(&public), "FORBIDDEN", "{public}");
    let partner = ask(&p, Some(&p.partner), READ, json!({ "s": slug })).await;
    assert_eq!(code(&partner), "FORBIDDEN", "{partner}");
    let listed = ask(
        &p,
        None,
        "{ diagnoses { edges { node { year } } } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&listed)["diagnoses"]["edges"], json!([]));

    // A second version keeps problema-1, drops problema-2 and adds a problem, which
    // does not get problema-2 back.
    let mut second = first_content();
    second["problems"] = json!([
        { "id": "problema-1", "title": "Furti in abitazione", "frequency": "frequent",
          "count": 95, "period": "2025", "source": "Denunce ai Carabinieri", "seriousness": 5 },
        { "title": "Intimidazioni agli amministratori", "frequency": "occasional",
          "source": "Prefettura", "seriousness": 5 },
    ]);
    second["needs"] =
        json!([{ "id": "bisogno-1", "title": "Spazi di aggregazione per i giovani" }]);
    let saved = ask(
        &p,
        Some(&p.coordinator),
        SAVE,
        json!({ "d": id, "c": second }),
    )
    .await;
    let ids: Vec<&str> = data(&saved)["saveDiagnosis"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["problema-1", "problema-3"]);

    // Consultation: partners read it; nobody edits it; the public still cannot read it.
    let opened = fire_now(&p, &p.drafter, &slug, &id, "open_consultation").await;
    assert_eq!(data(&opened)["fireTransition"]["state"], "consultation");
    let partner = ask(&p, Some(&p.partner), READ, json!({ "s": slug })).await;
    assert_eq!(
        data(&partner)["diagnosis"]["version"]["number"],
        2,
        "{partner}"
    );
    let frozen = ask(
        &p,
        Some(&p.coordinator),
        SAVE,
        json!({ "d": id, "c": first_content() }),
    )
    .await;
    assert_eq!(code(&frozen), "CONFLICT", "{frozen}");
    let public = ask(&p, None, READ, json!({ "s": slug })).await;
    assert_eq!(code(&public), "FORBIDDEN", "{public}");

    // Approval: the public reads the approved version, and only that one.
    approve(&p, &slug, &id).await;
    let public = ask(&p, None, READ, json!({ "s": slug })).await;
    let version = &data(&public)["diagnosis"]["version"];
    assert_eq!(version["number"], 2);
    assert_eq!(version["published"], true);
    assert_eq!(version["problems"][0]["count"], 95);
    assert_eq!(version["problems"][1]["seriousness"], 5);
    let old = ask(
        &p,
        None,
        "query($s: String!) { diagnosis(slug: $s) { version(number: 1) { number } } }",
        json!({ "s": slug }),
    )
    .await;
    assert_eq!(code(&old), "FORBIDDEN", "{old}");
    let listed = ask(
        &p,
        None,
        "{ diagnoses(first: 1) { edges { node { year document { slug } } } pageInfo { hasNextPage } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data(&listed)["diagnoses"]["edges"][0]["node"]["document"]["slug"],
        slug
    );

    // A pact in drafting cites two items of the approved diagnosis.
    let pact = pact(&p, "patto-locale").await;
    let pact_id = pact.id.get().to_string();
    let cited = ask(
        &p,
        Some(&p.drafter),
        CITE,
        json!({ "d": pact_id, "g": id, "i": ["problema-3", "bisogno-1", "problema-3"] }),
    )
    .await;
    let items = data(&cited)["citeDiagnosisItems"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(items.len(), 2, "{cited}");
    assert_eq!(items[0]["itemId"], "problema-3");
    assert_eq!(items[0]["diagnosisVersion"], 2);
    assert_eq!(items[0]["problem"]["seriousness"], 5);
    assert_eq!(items[0]["problem"]["frequency"], "occasional");
    assert_eq!(items[1]["kind"], "need");
    assert_eq!(items[1]["problem"], Value::Null);
    let shown = ask(
        &p,
        Some(&p.partner),
        "query($s: String!) { document(slug: $s) { diagnosisCitations { itemId title diagnosis } } }",
        json!({ "s": "patto-locale" }),
    )
    .await;
    assert_eq!(
        code(&shown),
        "FORBIDDEN",
        "the pact is still a draft: {shown}"
    );
    let shown = ask(
        &p,
        Some(&p.coordinator),
        "query($s: String!) { document(slug: $s) { diagnosisCitations { itemId title diagnosis } } }",
        json!({ "s": "patto-locale" }),
    )
    .await;
    let shown = &data(&shown)["document"]["diagnosisCitations"];
    assert_eq!(shown[0]["title"], "Intimidazioni agli amministratori");
    assert_eq!(shown[0]["diagnosis"], slug);

    // Citing a removed or unknown item, as a partner or another Comune, an unapproved
    // diagnosis, or another network's draft: refused, and nothing changes.
    let unknown = ask(
        &p,
        Some(&p.drafter),
        CITE,
        json!({ "d": pact_id, "g": id, "i": ["problema-2", "nope"] }),
    )
    .await;
    assert_eq!(code(&unknown), "VALIDATION", "{unknown}");
    let message = unknown["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("`problema-2`, `nope`"), "{message}");
    for outsider in [&p.partner, &p.termini, &p.other_member] {
        let refused = ask(
            &p,
            Some(outsider),
            CITE,
            json!({ "d": pact_id, "g": id, "i": ["problema-1"] }),
        )
        .await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let draft = ask(
        &p,
        Some(&p.coordinator),
        CREATE,
        json!({ "o": coalition, "y": 2025, "g": group }),
    )
    .await;
    let draft_id = data(&draft)["createDiagnosis"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ask(
        &p,
        Some(&p.coordinator),
        SAVE,
        json!({ "d": draft_id, "c": first_content() }),
    )
    .await;
    let unapproved = ask(
        &p,
        Some(&p.coordinator),
        CITE,
        json!({ "d": pact_id, "g": draft_id, "i": ["problema-1"] }),
    )
    .await;
    assert_eq!(code(&unapproved), "VALIDATION", "{unapproved}");
    let far = p
        .engine
        .create_diagnosis(
            SYSTEM,
            NewDiagnosis {
                organisation_id: p.far_comune,
                year: 2026,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    let far_draft = ask(
        &p,
        Some(&p.far),
        SAVE,
        json!({ "d": far.id.get().to_string(), "c": first_content() }),
    )
    .await;
    assert_eq!(data(&far_draft)["saveDiagnosis"]["number"], 1);
    let foreign = ask(
        &p,
        Some(&p.coordinator),
        CITE,
        json!({ "d": pact_id, "g": far.id.get().to_string(), "i": ["problema-1"] }),
    )
    .await;
    assert_eq!(code(&foreign), "FORBIDDEN", "{foreign}");
    let wrong_kind = ask(
        &p,
        Some(&p.coordinator),
        CITE,
        json!({ "d": id, "g": id, "i": ["problema-1"] }),
    )
    .await;
    assert_eq!(code(&wrong_kind), "VALIDATION", "{wrong_kind}");
    let still = p.engine.readable_citations(SYSTEM, pact.id).await.unwrap();
    let ids: Vec<&str> = still.iter().map(|c| c.item.id.as_str()).collect();
    assert_eq!(ids, ["problema-3", "bisogno-1"]);

    // Once the pact is shared, what it cites is settled.
    let shared = fire_now(&p, &p.coordinator, "patto-locale", &pact_id, "share").await;
    assert_eq!(
        data(&shared)["fireTransition"]["state"],
        "sharing",
        "{shared}"
    );
    let late = ask(
        &p,
        Some(&p.coordinator),
        CITE,
        json!({ "d": pact_id, "g": id, "i": ["problema-1"] }),
    )
    .await;
    assert_eq!(code(&late), "CONFLICT", "{late}");
    // The partner is involved in the shared pact and reads what it cites.
    let shown = ask(
        &p,
        Some(&p.partner),
        "query($s: String!) { document(slug: $s) { diagnosisCitations { itemId } } }",
        json!({ "s": "patto-locale" }),
    )
    .await;
    assert_eq!(
        data(&shown)["document"]["diagnosisCitations"][1]["itemId"],
        "bisogno-1"
    );
    crate::engine::assert_chain_intact(&p.engine, &pact).await;
}

engine_cases!(super::shipped() => diagnosis_is_drafted_consulted_approved_and_cited);
