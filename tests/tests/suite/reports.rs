//! Social reports through the GraphQL API over real HTTP, on both backends: the
//! coalition's coordinator creates the coalition's report, the working group drafts it
//! area by area, a version is assembled from the drafts and the survey, the decision body
//! adopts it and the coordinator publishes it; a Comune approves its own. Every wrong
//! actor is refused: another Comune's coordinator, a partner, the public, the decision
//! body on a Comune's report, the coordinator approving the coalition's.

use std::net::SocketAddr;
use std::sync::Arc;

use patto_core::ids::{OrganisationId, PersonId};
use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};
use patto_core::{Language, OrganisationCategory, Role};
use patto_engine::{Actor, Engine, NewOrganisation, SurveyFormat, SurveyImport};
use patto_tests::TestSessions;
use serde_json::{Value, json};

use crate::api::{code, config_with_key, data, fire, graphql, instance_version, serve};
use crate::engine::{Ctx, shipped};

const SYSTEM: Actor = Actor::System;

async fn organisation(
    engine: &Engine,
    slug: &str,
    category: OrganisationCategory,
) -> OrganisationId {
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: format!("Ente {slug}"),
                category,
                // Real ISTAT codes of the coalition's Comuni (Cefalù, Termini Imerese).
                istat_code: match slug {
                    "cefalu" => Some("082027".to_owned()),
                    "termini" => Some("082070".to_owned()),
                    _ => None,
                },
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

/// Survey values for the coalition and two Comuni, 2023 and 2024 (AMB01 is a
/// percentage of separate waste collection, higher is better).
const SURVEY: &str = "comune;indicatore;data;valore;fonte;note
citta-a-rete;AMB01;31/12/2023;50,5;ISPRA;
citta-a-rete;AMB01;31/12/2024;55,25;ISPRA;
cefalu;AMB01;31/12/2023;40;ISPRA;
cefalu;AMB01;31/12/2024;62,5;ISPRA;
termini;AMB01;31/12/2023;30;ISPRA;
termini;AMB01;31/12/2024;47,5;ISPRA;
";

struct People {
    address: SocketAddr,
    coordinator: String,
    drafter: String,
    decision_body: String,
    cefalu: String,
    termini: String,
    partner: String,
    coalition: OrganisationId,
    cefalu_id: OrganisationId,
    group: i64,
}

async fn setup(engine: Arc<Engine>) -> People {
    let coalition = organisation(&engine, "citta-a-rete", OrganisationCategory::Coalition).await;
    let assembly = organisation(&engine, "assemblea", OrganisationCategory::DecisionBody).await;
    let cefalu_id = organisation(&engine, "cefalu", OrganisationCategory::Municipality).await;
    let termini_id = organisation(&engine, "termini", OrganisationCategory::Municipality).await;
    let prefecture = organisation(&engine, "prefettura", OrganisationCategory::Association).await;
    let network = engine.create_network(SYSTEM, "rete", "Rete").await.unwrap();
    for organisation in [coalition, assembly, cefalu_id, termini_id, prefecture] {
        engine
            .add_network_member(SYSTEM, network.id, organisation)
            .await
            .unwrap();
    }
    let coordinator = person(
        &engine,
        "coordinatrice",
        Some((coalition, Role::Coordinator)),
    )
    .await;
    let decision_body = person(&engine, "sindaco", Some((assembly, Role::Coordinator))).await;
    let cefalu = person(&engine, "cefalu", Some((cefalu_id, Role::Coordinator))).await;
    let termini = person(&engine, "termini", Some((termini_id, Role::Coordinator))).await;
    let partner = person(&engine, "prefetto", Some((prefecture, Role::Member))).await;
    let drafter = person(&engine, "redattore", None).await;
    let group = engine
        .create_working_group(SYSTEM, "gruppo-bilancio", "Gruppo bilancio")
        .await
        .unwrap()
        .id;
    engine
        .add_working_group_member(SYSTEM, group, drafter)
        .await
        .unwrap();
    engine
        .load_reporting_model(SYSTEM, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
    engine
        .import_survey(
            Actor::Person(coordinator),
            SurveyImport {
                bytes: SURVEY.as_bytes().to_vec(),
                format: SurveyFormat::Csv,
                organisation: None,
            },
        )
        .await
        .unwrap();
    let sessions = Arc::new(TestSessions::default());
    let tokens = (
        sessions.issue(coordinator),
        sessions.issue(drafter),
        sessions.issue(decision_body),
        sessions.issue(cefalu),
        sessions.issue(termini),
        sessions.issue(partner),
    );
    let address = serve(engine, sessions, config_with_key()).await;
    People {
        address,
        coordinator: tokens.0,
        drafter: tokens.1,
        decision_body: tokens.2,
        cefalu: tokens.3,
        termini: tokens.4,
        partner: tokens.5,
        coalition,
        cefalu_id,
        group: group.get(),
    }
}

const CREATE: &str = "mutation($o: ID!, $y: Int!, $g: ID) { createSocialReport(organisation: $o, year: $y, workingGroup: $g) { id year modelVersion document { slug } } }";
const SAVE: &str = "mutation($r: ID!, $a: String!, $n: String!, $g: String!) { saveReportSection(report: $r, area: $a, narrative: $n, goals: $g) { area narrative goals } }";
const ASSEMBLE: &str = "mutation($r: ID!) { assembleSocialReport(report: $r) { number format year modelVersion sections { area narrative goals indicators { code unit polarity trend values { year value } coalitionMedian { year median comuni } } } } }";
const SECTIONS: &str =
    "query($s: String!) { socialReport(slug: $s) { sections { area narrative } } }";
const PUBLISHED: &str = "query($s: String!) { socialReport(slug: $s) { year version { number published format organisation sha256 sections { area narrative goals indicators { code values { year value } coalitionMedian { year median comuni } } } } } }";

async fn ask(p: &People, token: Option<&str>, query: &str, variables: Value) -> Value {
    graphql(p.address, token, query, variables).await
}

/// Fires a transition at the instance's current version.
async fn fire_now(p: &People, token: &str, slug: &str, transition: &str) -> Value {
    let version = instance_version(p.address, &p.coordinator, slug).await;
    fire(
        p.address,
        token,
        &p.document_id(slug).await,
        transition,
        version,
    )
    .await
}

impl People {
    async fn document_id(&self, slug: &str) -> String {
        let answer = graphql(
            self.address,
            Some(&self.coordinator),
            "query($s: String!) { document(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
        if answer.get("errors").is_none() {
            return data(&answer)["document"]["id"].as_str().unwrap().to_owned();
        }
        let answer = graphql(
            self.address,
            Some(&self.cefalu),
            "query($s: String!) { document(slug: $s) { id } }",
            json!({ "s": slug }),
        )
        .await;
        data(&answer)["document"]["id"].as_str().unwrap().to_owned()
    }
}

fn median_of<'a>(section: &'a Value, code: &str) -> &'a Value {
    section["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {section}"))
}

async fn coalition_report_is_drafted_adopted_and_published(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    let coalition = p.coalition.get().to_string();
    let group = p.group.to_string();

    // Creating: the coalition's coordinator; the public, another Comune and a partner not.
    let variables = json!({ "o": coalition, "y": 2024, "g": group });
    let anonymous = ask(&p, None, CREATE, variables.clone()).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
    for outsider in [&p.termini, &p.partner, &p.decision_body] {
        let refused = ask(&p, Some(outsider), CREATE, variables.clone()).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let created = ask(&p, Some(&p.coordinator), CREATE, variables.clone()).await;
    let report = data(&created)["createSocialReport"].clone();
    let id = report["id"].as_str().unwrap().to_owned();
    let slug = report["document"]["slug"].as_str().unwrap().to_owned();
    assert_eq!(slug, "bilancio-sociale-citta-a-rete-2024");
    assert_eq!(report["modelVersion"], 1);
    let again = ask(&p, Some(&p.coordinator), CREATE, variables).await;
    assert_eq!(
        code(&again),
        "CONFLICT",
        "one report per organisation and year"
    );

    // Drafting per area: the working group's member and the coordinator.
    let save = |area: &str, narrative: &str| json!({ "r": id, "a": area, "n": narrative, "g": format!("Obiettivi {area}") });
    let saved = ask(
        &p,
        Some(&p.drafter),
        SAVE,
        save("ambiente", "La raccolta **differenziata** è cresciuta."),
    )
    .await;
    assert_eq!(data(&saved)["saveReportSection"]["area"], "ambiente");
    let saved = ask(
        &p,
        Some(&p.coordinator),
        SAVE,
        save("bilancio_trasparenza", "Conti in ordine."),
    )
    .await;
    data(&saved);
    let unknown = ask(&p, Some(&p.coordinator), SAVE, save("astronomia", "x")).await;
    assert_eq!(code(&unknown), "VALIDATION", "{unknown}");
    let escape = ask(
        &p,
        Some(&p.coordinator),
        SAVE,
        save("ambiente", "a\u{1b}[2J"),
    )
    .await;
    assert_eq!(code(&escape), "VALIDATION", "{escape}");
    for outsider in [&p.termini, &p.partner, &p.cefalu, &p.decision_body] {
        let refused = ask(
            &p,
            Some(outsider),
            SAVE,
            save("ambiente", "Riscritto da fuori"),
        )
        .await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let anonymous = ask(&p, None, SAVE, save("ambiente", "x")).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");

    // The drafts are seen by those involved only.
    let drafts = ask(&p, Some(&p.drafter), SECTIONS, json!({ "s": slug })).await;
    let areas: Vec<&str> = data(&drafts)["socialReport"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["area"].as_str().unwrap())
        .collect();
    assert_eq!(areas, ["ambiente", "bilancio_trasparenza"]);
    for outsider in [None, Some(p.termini.as_str()), Some(p.partner.as_str())] {
        let hidden = ask(&p, outsider, SECTIONS, json!({ "s": slug })).await;
        assert_eq!(code(&hidden), "FORBIDDEN", "{hidden}");
    }

    // A version is assembled from the drafts and the survey; nobody slips other bytes in.
    let refused = ask(&p, Some(&p.termini), ASSEMBLE, json!({ "r": id })).await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let raw = ask(
        &p,
        Some(&p.coordinator),
        "mutation($d: ID!) { addVersion(document: $d, text: \"{}\") { number } }",
        json!({ "d": id }),
    )
    .await;
    assert_eq!(code(&raw), "VALIDATION", "{raw}");
    let assembled = ask(&p, Some(&p.drafter), ASSEMBLE, json!({ "r": id })).await;
    let version = &data(&assembled)["assembleSocialReport"];
    assert_eq!(version["number"], 1);
    assert_eq!(version["format"], "patto/social-report/v1");
    let ambiente = version["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["area"] == "ambiente")
        .unwrap();
    assert!(
        ambiente["narrative"]
            .as_str()
            .unwrap()
            .contains("differenziata")
    );
    let amb01 = median_of(ambiente, "AMB01");
    assert_eq!(
        amb01["values"],
        json!([{ "year": 2023, "value": "50.5" }, { "year": 2024, "value": "55.25" }])
    );
    // The coalition median is over the Comuni: (40 + 30) / 2 and (62.5 + 47.5) / 2.
    assert_eq!(
        amb01["coalitionMedian"],
        json!([{ "year": 2023, "median": "35", "comuni": 2 }, { "year": 2024, "median": "55", "comuni": 2 }])
    );
    assert_eq!(amb01["trend"], "improving");
    assert_eq!(amb01["unit"], "percent");

    // Validation: submitted by the group; the coalition's coordinator cannot approve the
    // coalition's own report, the decision body adopts it.
    data(&fire_now(&p, &p.drafter, &slug, "submit_for_review").await);
    let own = fire_now(&p, &p.coordinator, &slug, "approve").await;
    assert_eq!(code(&own), "GUARD_FAILED", "{own}");
    let not_theirs = fire_now(&p, &p.termini, &slug, "adopt").await;
    assert_eq!(code(&not_theirs), "FORBIDDEN", "{not_theirs}");
    let adopted = fire_now(&p, &p.decision_body, &slug, "adopt").await;
    assert_eq!(data(&adopted)["fireTransition"]["state"], "approved");
    for outsider in [&p.partner, &p.termini, &p.decision_body] {
        let refused = fire_now(&p, outsider, &slug, "publish").await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let published = fire_now(&p, &p.coordinator, &slug, "publish").await;
    assert_eq!(data(&published)["fireTransition"]["state"], "published");

    // The public reads the published version, figures frozen, but never the drafts.
    let public = ask(&p, None, PUBLISHED, json!({ "s": slug })).await;
    let version = &data(&public)["socialReport"]["version"];
    assert_eq!(version["number"], 1);
    assert_eq!(version["published"], true);
    assert_eq!(version["organisation"], "citta-a-rete");
    assert_eq!(version["sha256"].as_str().unwrap().len(), 64);
    let hidden = ask(&p, None, SECTIONS, json!({ "s": slug })).await;
    assert_eq!(code(&hidden), "FORBIDDEN");
    let frozen = ask(&p, Some(&p.coordinator), SAVE, save("ambiente", "Dopo")).await;
    assert_eq!(code(&frozen), "CONFLICT", "{frozen}");
    let frozen = ask(&p, Some(&p.coordinator), ASSEMBLE, json!({ "r": id })).await;
    assert_eq!(code(&frozen), "CONFLICT", "{frozen}");
    let listed = ask(
        &p,
        None,
        "{ socialReports { year document { slug } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data(&listed)["socialReports"],
        json!([{ "year": 2024, "document": { "slug": slug } }])
    );
}

async fn a_comune_approves_its_own_report(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    let variables = json!({ "o": p.cefalu_id.get().to_string(), "y": 2024, "g": null });
    // The coalition's coordinator does not create a Comune's report: the Comune does.
    let refused = ask(&p, Some(&p.coordinator), CREATE, variables.clone()).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let created = ask(&p, Some(&p.cefalu), CREATE, variables).await;
    let id = data(&created)["createSocialReport"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let slug = "bilancio-sociale-cefalu-2024";
    let assembled = ask(&p, Some(&p.cefalu), ASSEMBLE, json!({ "r": id })).await;
    let version = &data(&assembled)["assembleSocialReport"];
    let ambiente = version["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["area"] == "ambiente")
        .unwrap();
    assert_eq!(
        ambiente["narrative"], "",
        "an area without a draft is empty"
    );
    assert_eq!(
        median_of(ambiente, "AMB01")["values"],
        json!([{ "year": 2023, "value": "40" }, { "year": 2024, "value": "62.5" }])
    );
    let version = instance_version(p.address, &p.cefalu, slug).await;
    data(&fire(p.address, &p.cefalu, &id, "submit_for_review", version).await);
    let version = instance_version(p.address, &p.cefalu, slug).await;
    let adopt = fire(p.address, &p.decision_body, &id, "adopt", version).await;
    assert_eq!(
        code(&adopt),
        "GUARD_FAILED",
        "the decision body adopts the coalition's only: {adopt}"
    );
    let other = fire(p.address, &p.termini, &id, "approve", version).await;
    assert_eq!(code(&other), "FORBIDDEN", "{other}");
    let approved = fire(p.address, &p.cefalu, &id, "approve", version).await;
    assert_eq!(data(&approved)["fireTransition"]["state"], "approved");
    let version = instance_version(p.address, &p.cefalu, slug).await;
    let published = fire(p.address, &p.cefalu, &id, "publish", version).await;
    assert_eq!(data(&published)["fireTransition"]["state"], "published");
    let public = ask(&p, None, PUBLISHED, json!({ "s": slug })).await;
    assert_eq!(data(&public)["socialReport"]["version"]["published"], true);
    // The coalition's report for another year is still nobody's business but theirs.
    let none = ask(
        &p,
        None,
        "query { socialReports(organisation: \"citta-a-rete\") { year } }",
        json!({}),
    )
    .await;
    assert_eq!(data(&none)["socialReports"], json!([]));
}

engine_cases!(super::shipped() =>
    coalition_report_is_drafted_adopted_and_published,
    a_comune_approves_its_own_report,
);
