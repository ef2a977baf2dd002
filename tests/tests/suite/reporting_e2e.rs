//! The social-reporting path end to end, as the people involved walk it (issue 10), over
//! real HTTP on both backends: everyone logs in for real, with the code read from the
//! mail the server sends to a test SMTP sink. The coalition's model is validated through
//! the `reporting-model` workflow (adopted by the decision body, signed by the Regione);
//! the coalition's coordinator imports a year of survey values from a workbook made by
//! openpyxl, creates the coalition's Bilancio Sociale, saves a section per area and
//! assembles it; the decision body adopts it and the coordinator publishes it; the portal
//! then lists it. A Comune's report takes the same path, approved by that Comune. At each
//! step the wrong people are refused, and the figures a published report shows stay as
//! published when the survey changes.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use patto_core::ids::OrganisationId;
use patto_core::reporting::DEFAULT_MODEL;
use patto_core::{Language, OrganisationCategory, Role};
use patto_engine::{Actor, Engine, NewOrganisation};
use serde_json::{Value, json};

use crate::api::{code, data};
use crate::engine::{Ctx, shipped};
use crate::login::LoginServer;
use crate::portal::fetch;

engine_cases!(super::shipped() =>
    the_coalition_reports_a_year_from_a_workbook_to_the_portal,
    a_comune_reports_its_year_and_approves_it_itself,
    the_model_is_validated_only_with_the_regione_signing,
);

/// The workbook of `tests/data/survey` (made by `make_survey_files.py` with openpyxl):
/// values of Cefalù and of the coalition, mostly for 2024, with merged headers, decimal
/// commas and Excel date serials.
const GOOD_XLSX: &[u8] = include_bytes!("../../data/survey/good.xlsx");
const BAD_XLSX: &[u8] = include_bytes!("../../data/survey/bad.xlsx");

const SYSTEM: Actor = Actor::System;

/// The people of the test, each with a session got by logging in.
struct People {
    server: LoginServer,
    coalition: OrganisationId,
    cefalu_id: OrganisationId,
    regione_id: OrganisationId,
    /// The coalition's coordinator.
    coordinator: String,
    /// The coordinator of the decision body (the assembly of mayors).
    assembly: String,
    assembly_id: OrganisationId,
    /// The decision body's secretary, who signs the model's validation for it.
    secretary: String,
    secretary_id: i64,
    /// The Regione's coordinator, who approves its officers' keys.
    regione: String,
    /// The Regione's officer who signs the model's validation.
    officer: String,
    officer_id: i64,
    /// The coordinator of Cefalù.
    cefalu: String,
    /// A member of a partner organisation.
    partner: String,
}

async fn organisation(
    engine: &Engine,
    slug: &str,
    name: &str,
    category: OrganisationCategory,
    istat_code: Option<&str>,
) -> OrganisationId {
    engine
        .create_organisation(
            SYSTEM,
            NewOrganisation {
                slug: slug.into(),
                name: name.into(),
                category,
                istat_code: istat_code.map(str::to_owned),
            },
        )
        .await
        .unwrap()
        .id
}

async fn person(engine: &Engine, email: &str, organisation: OrganisationId, role: Role) -> i64 {
    let id = engine
        .create_person(SYSTEM, email, email, Language::It)
        .await
        .unwrap()
        .id;
    engine
        .add_membership(SYSTEM, id, organisation, role)
        .await
        .unwrap();
    id.get()
}

/// The directory an operator would set up, then everyone logs in by e-mail.
async fn setup(engine: Arc<Engine>) -> People {
    let coalition = organisation(
        &engine,
        "citta-a-rete",
        "Città a Rete Madonie-Termini",
        OrganisationCategory::Coalition,
        None,
    )
    .await;
    let cefalu_id = organisation(
        &engine,
        "cefalu",
        "Comune di Cefalù",
        OrganisationCategory::Municipality,
        Some("082027"),
    )
    .await;
    let regione_id = organisation(
        &engine,
        "regione-siciliana",
        "Regione Siciliana",
        OrganisationCategory::Region,
        None,
    )
    .await;
    let assembly = organisation(
        &engine,
        "assemblea-sindaci",
        "Assemblea dei Sindaci",
        OrganisationCategory::DecisionBody,
        None,
    )
    .await;
    let prefecture = organisation(
        &engine,
        "prefettura-palermo",
        "Prefettura di Palermo",
        OrganisationCategory::Prefecture,
        None,
    )
    .await;
    let network = engine.create_network(SYSTEM, "rete", "Rete").await.unwrap();
    for member in [coalition, cefalu_id, regione_id, assembly, prefecture] {
        engine
            .add_network_member(SYSTEM, network.id, member)
            .await
            .unwrap();
    }
    let emails = [
        ("coordinamento@example.org", coalition, Role::Coordinator),
        ("presidenza@example.org", assembly, Role::Coordinator),
        ("segreteria.assemblea@example.org", assembly, Role::Member),
        (
            "dirigente.regione@example.org",
            regione_id,
            Role::Coordinator,
        ),
        ("funzionario.regione@example.org", regione_id, Role::Member),
        ("ufficio.cefalu@example.org", cefalu_id, Role::Coordinator),
        ("referente.prefettura@example.org", prefecture, Role::Member),
    ];
    let mut ids = Vec::new();
    for (email, organisation, role) in emails {
        ids.push(person(&engine, email, organisation, role).await);
    }
    let server = LoginServer::start(engine, "").await;
    let mut tokens = Vec::new();
    for (email, _, _) in emails {
        tokens.push(server.log_in(email).await);
    }
    let mut tokens = tokens.into_iter();
    let mut next = || tokens.next().unwrap();
    People {
        coalition,
        cefalu_id,
        regione_id,
        assembly_id: assembly,
        coordinator: next(),
        assembly: next(),
        secretary: next(),
        secretary_id: ids[2],
        regione: next(),
        officer: next(),
        officer_id: ids[4],
        cefalu: next(),
        partner: next(),
        server,
    }
}

impl People {
    fn address(&self) -> SocketAddr {
        self.server.address
    }

    async fn ask(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.server.graphql(token, query, variables).await
    }

    /// Fires a transition as `token` at the instance's current version (read by `reader`).
    async fn fire(&self, token: &str, reader: &str, slug: &str, transition: &str) -> Value {
        let document = self
            .ask(
                Some(reader),
                "query($s: String!) { document(slug: $s) { id instance { version } } }",
                json!({ "s": slug }),
            )
            .await;
        let document = &data(&document)["document"];
        self.ask(
            Some(token),
            "mutation($d: ID!, $t: String!, $v: Int!) { fireTransition(document: $d, transition: $t, expectedVersion: $v) { state } }",
            json!({ "d": document["id"], "t": transition, "v": document["instance"]["version"] }),
        )
        .await
    }

    /// The model's document drafted by the coalition, shared and submitted for adoption,
    /// with the Regione's officer (or whoever `signatories` names) to sign its validation.
    async fn model_up_for_adoption(&self, slug: &str, signatories: Value) -> String {
        let created = self
            .ask(
                Some(&self.coordinator),
                "mutation($s: String!, $o: ID!) { createDocument(kind: \"reporting_model\", slug: $s, title: \"Modello di rendicontazione sociale\", owner: $o) { id } }",
                json!({ "s": slug, "o": self.coalition.get().to_string() }),
            )
            .await;
        let id = data(&created)["createDocument"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let version = self
            .ask(
                Some(&self.coordinator),
                "mutation($d: ID!, $t: String!) { addVersion(document: $d, text: $t) { number } }",
                json!({ "d": id, "t": DEFAULT_MODEL }),
            )
            .await;
        assert_eq!(data(&version)["addVersion"]["number"], 1);
        let set = self
            .ask(
                Some(&self.coordinator),
                "mutation($d: ID!, $s: [SignatoryInput!]!) { setSignatories(document: $d, signatories: $s) }",
                json!({ "d": id, "s": signatories }),
            )
            .await;
        assert_eq!(data(&set)["setSignatories"], true);
        for transition in ["share", "submit_for_adoption"] {
            let fired = self
                .fire(&self.coordinator, &self.coordinator, slug, transition)
                .await;
            data(&fired);
        }
        id
    }

    /// A signatory registers a key with proof of possession, a coordinator of their
    /// organisation approves it, and the signatory signs the statement of their pending
    /// request on the document.
    async fn signs(
        &self,
        (token, email, organisation, name): (&str, &str, &str, &str),
        approver: &str,
        slug: &str,
    ) -> Value {
        let key = patto_sign::generate_key();
        let registration = patto::signing::registration_request(&key, email, organisation);
        let registered = self
            .ask(
                Some(token),
                "mutation($r: String!) { registerKey(registration: $r) { id } }",
                json!({ "r": registration }),
            )
            .await;
        let key_id = data(&registered)["registerKey"]["id"].clone();
        let approved = self
            .ask(
                Some(approver),
                "mutation($k: ID!) { approveKey(key: $k) { status } }",
                json!({ "k": key_id }),
            )
            .await;
        assert_eq!(data(&approved)["approveKey"]["status"], "approved");
        let requests = self
            .ask(
                Some(token),
                "query($s: String!) { document(slug: $s) { signatureRequests { edges { node { id status intent organisation statement } } } } }",
                json!({ "s": slug }),
            )
            .await;
        let edges = data(&requests)["document"]["signatureRequests"]["edges"]
            .as_array()
            .unwrap()
            .clone();
        let request = edges
            .iter()
            .map(|edge| &edge["node"])
            .find(|node| node["status"] == "pending" && node["organisation"] == name)
            .unwrap_or_else(|| panic!("no pending request for {name}: {requests}"));
        assert_eq!(request["intent"], "approve");
        let statement = request["statement"].as_str().unwrap();
        let signature = patto_sign::sign(&key, statement.as_bytes());
        self.ask(
            Some(token),
            "mutation($r: ID!, $s: String!, $t: String) { submitSignature(request: $r, signature: $s, statement: $t) { state } }",
            json!({ "r": request["id"], "s": patto_sign::encode_signature(&signature), "t": statement }),
        )
        .await
    }

    /// The coalition validates the model: loaded as version 1, adopted by the decision
    /// body, signed by the Regione.
    async fn validated_model(&self) {
        let loaded = self
            .ask(
                Some(&self.coordinator),
                "mutation($s: String!) { loadReportingModel(source: $s) { version } }",
                json!({ "s": DEFAULT_MODEL }),
            )
            .await;
        assert_eq!(data(&loaded)["loadReportingModel"]["version"], 1);
        let slug = "modello-rendicontazione";
        // The decision body signs first, then the Regione.
        self.model_up_for_adoption(
            slug,
            json!([
                { "organisation": self.assembly_id.get().to_string(), "person": self.secretary_id.to_string() },
                { "organisation": self.regione_id.get().to_string(), "person": self.officer_id.to_string() },
            ]),
        )
        .await;
        // Only the decision body adopts: not the coalition, a Comune, the Regione or a
        // partner.
        for (token, expected) in [
            (&self.coordinator, "FORBIDDEN"),
            (&self.cefalu, "FORBIDDEN"),
            (&self.regione, "FORBIDDEN"),
            (&self.partner, "FORBIDDEN"),
        ] {
            let refused = self.fire(token, &self.coordinator, slug, "adopt").await;
            assert_eq!(code(&refused), expected, "{refused}");
        }
        let adopted = self
            .fire(&self.assembly, &self.coordinator, slug, "adopt")
            .await;
        assert_eq!(data(&adopted)["fireTransition"]["state"], "validation");
        let signed = self
            .signs(
                (
                    &self.secretary,
                    "segreteria.assemblea@example.org",
                    "assemblea-sindaci",
                    "Assemblea dei Sindaci",
                ),
                &self.assembly,
                slug,
            )
            .await;
        assert_eq!(
            data(&signed)["submitSignature"]["state"],
            "validation",
            "{signed}"
        );
        let signed = self
            .signs(
                (
                    &self.officer,
                    "funzionario.regione@example.org",
                    "regione-siciliana",
                    "Regione Siciliana",
                ),
                &self.regione,
                slug,
            )
            .await;
        assert_eq!(
            data(&signed)["submitSignature"]["state"],
            "validated",
            "{signed}"
        );
        // The validated model is public.
        let public = self
            .ask(
                None,
                "query($s: String!) { document(slug: $s) { access instance { state } } }",
                json!({ "s": slug }),
            )
            .await;
        assert_eq!(data(&public)["document"]["access"], "published", "{public}");
    }

    /// Saves a section for every area of the model, as `token`.
    async fn draft_every_area(&self, token: &str, report: &str, who: &str) -> Vec<String> {
        let model = self
            .ask(None, "{ reportingModel { areas { code } } }", json!({}))
            .await;
        let areas: Vec<String> = data(&model)["reportingModel"]["areas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(areas.len(), 6);
        for area in &areas {
            let saved = self
                .ask(
                    Some(token),
                    SAVE,
                    section(report, area, &narrative(who, area)),
                )
                .await;
            assert_eq!(data(&saved)["saveReportSection"]["area"], area.as_str());
        }
        areas
    }
}

const SAVE: &str = "mutation($r: ID!, $a: String!, $n: String!, $g: String!) { saveReportSection(report: $r, area: $a, narrative: $n, goals: $g) { area } }";
const ASSEMBLE: &str = "mutation($r: ID!) { assembleSocialReport(report: $r) { number modelVersion sections { area narrative indicators { code values { year value } } } } }";
const CREATE: &str = "mutation($o: ID!, $y: Int!) { createSocialReport(organisation: $o, year: $y) { id modelVersion document { slug title } } }";
const PUBLISHED: &str = "query($s: String!) { socialReport(slug: $s) { modelVersion version { number published modelVersion sections { area narrative indicators { code values { year value } } } } } }";

fn narrative(who: &str, area: &str) -> String {
    format!("Nel 2024 {who} ha lavorato sull'ambito {area}.")
}

fn section(report: &str, area: &str, narrative: &str) -> Value {
    json!({ "r": report, "a": area, "n": narrative, "g": format!("Obiettivi 2025 per {area}") })
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The value shown for an indicator and year in a report version's sections.
fn shown(version: &Value, indicator: &str, year: i64) -> Option<String> {
    version["sections"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["indicators"].as_array().unwrap())
        .filter(|i| i["code"] == indicator)
        .flat_map(|i| i["values"].as_array().unwrap())
        .find(|v| v["year"] == year)
        .map(|v| v["value"].as_str().unwrap().to_owned())
}

async fn the_coalition_reports_a_year_from_a_workbook_to_the_portal(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    p.validated_model().await;

    // A year of survey values from the workbook; a workbook with bad rows first, which
    // is refused row by row and leaves nothing behind.
    let import = "mutation($c: String!) { importSurvey(format: XLSX, content: $c) { modelVersion inserted organisations } }";
    let refused = p
        .ask(
            Some(&p.coordinator),
            import,
            json!({ "c": base64(BAD_XLSX) }),
        )
        .await;
    assert_eq!(code(&refused), "VALIDATION", "{refused}");
    let problems = refused["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap();
    assert!(problems.len() >= 5, "{refused}");
    assert!(
        problems
            .iter()
            .all(|p| p["row"].is_i64() && p["column"].is_string() && p["reason"].is_string()),
        "{refused}"
    );
    let partner_import = p
        .ask(Some(&p.partner), import, json!({ "c": base64(GOOD_XLSX) }))
        .await;
    assert_eq!(code(&partner_import), "FORBIDDEN", "{partner_import}");
    let imported = p
        .ask(
            Some(&p.coordinator),
            import,
            json!({ "c": base64(GOOD_XLSX) }),
        )
        .await;
    let summary = &data(&imported)["importSurvey"];
    assert_eq!(summary["inserted"], 6, "only the good workbook's values");
    assert_eq!(summary["modelVersion"], 1);
    assert_eq!(summary["organisations"], json!(["cefalu", "citta-a-rete"]));

    // The coalition's report for 2024, a section per area.
    let created = p
        .ask(
            Some(&p.coordinator),
            CREATE,
            json!({ "o": p.coalition.get().to_string(), "y": 2024 }),
        )
        .await;
    let created = &data(&created)["createSocialReport"];
    let report = created["id"].as_str().unwrap().to_owned();
    let slug = created["document"]["slug"].as_str().unwrap().to_owned();
    let title = created["document"]["title"].as_str().unwrap().to_owned();
    assert_eq!(created["modelVersion"], 1);
    let who = "la Città a Rete";
    // A partner cannot write a section of the coalition's report, nor can a Comune.
    for token in [&p.partner, &p.cefalu] {
        let refused = p
            .ask(Some(token), SAVE, section(&report, "ambiente", "Da fuori"))
            .await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let areas = p.draft_every_area(&p.coordinator, &report, who).await;

    // A new model version loaded meanwhile does not change the report's: it keeps the
    // version it was drafted against.
    let second = DEFAULT_MODEL.replacen("version = 1", "version = 2", 1);
    let loaded = p
        .ask(
            Some(&p.coordinator),
            "mutation($s: String!) { loadReportingModel(source: $s) { version } }",
            json!({ "s": second }),
        )
        .await;
    assert_eq!(data(&loaded)["loadReportingModel"]["version"], 2);
    let assembled = p
        .ask(Some(&p.coordinator), ASSEMBLE, json!({ "r": report }))
        .await;
    let version = &data(&assembled)["assembleSocialReport"];
    assert_eq!(version["number"], 1);
    assert_eq!(version["modelVersion"], 1);
    let sections: Vec<&str> = version["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["area"].as_str().unwrap())
        .collect();
    assert_eq!(
        sections,
        areas.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for area in &areas {
        let section = version["sections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["area"] == area.as_str())
            .unwrap();
        assert_eq!(section["narrative"], narrative(who, area));
    }
    // The workbook's "480,7" kg per inhabitant, as the version holds it.
    assert_eq!(shown(version, "AMB02", 2024).as_deref(), Some("480.7"));

    // Validation: the coalition cannot approve its own report, a Comune's coordinator
    // cannot adopt it, a partner neither; the decision body adopts it.
    let submitted = p
        .fire(&p.coordinator, &p.coordinator, &slug, "submit_for_review")
        .await;
    assert_eq!(data(&submitted)["fireTransition"]["state"], "review");
    let own = p
        .fire(&p.coordinator, &p.coordinator, &slug, "approve")
        .await;
    assert_eq!(code(&own), "GUARD_FAILED", "{own}");
    for token in [&p.cefalu, &p.partner, &p.regione] {
        let refused = p.fire(token, &p.coordinator, &slug, "adopt").await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let adopted = p.fire(&p.assembly, &p.coordinator, &slug, "adopt").await;
    assert_eq!(data(&adopted)["fireTransition"]["state"], "approved");
    for token in [&p.assembly, &p.cefalu, &p.partner] {
        let refused = p.fire(token, &p.coordinator, &slug, "publish").await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let published = p
        .fire(&p.coordinator, &p.coordinator, &slug, "publish")
        .await;
    assert_eq!(data(&published)["fireTransition"]["state"], "published");

    // Later survey values change the survey, not the published figures.
    let corrected = p
        .ask(
            Some(&p.coordinator),
            "mutation($c: String!) { importSurvey(format: CSV, content: $c) { replaced } }",
            json!({ "c": "comune;indicatore;anno;valore\ncitta-a-rete;AMB02;2024;510,2\n" }),
        )
        .await;
    assert_eq!(data(&corrected)["importSurvey"]["replaced"], 1);
    let public = p.ask(None, PUBLISHED, json!({ "s": slug })).await;
    let report_read = &data(&public)["socialReport"];
    assert_eq!(report_read["modelVersion"], 1);
    let version = &report_read["version"];
    assert_eq!(version["published"], true);
    assert_eq!(version["modelVersion"], 1);
    assert_eq!(shown(version, "AMB02", 2024).as_deref(), Some("480.7"));
    let survey = p
        .ask(
            None,
            "{ surveyValues(organisation: \"citta-a-rete\") { edges { node { indicator year value } } } }",
            json!({}),
        )
        .await;
    assert!(
        data(&survey)["surveyValues"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["indicator"] == "AMB02" && e["node"]["value"] == "510.2"),
        "{survey}"
    );

    // The portal lists it among the latest publications and links its reading page and
    // its PDF, which answer; the feed and sitemap name it.
    let address = p.address();
    let home = fetch(address, "/").await.text();
    let link = format!("href=\"/bilanci/{slug}\"");
    assert!(home.contains(&link), "{home}");
    assert!(home.contains(&title), "{home}");
    let page = fetch(address, &format!("/bilanci/{slug}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(&title));
    assert_eq!(
        fetch(address, &format!("/bilanci/{slug}.pdf")).await.status,
        200
    );
    assert!(fetch(address, "/feed.atom").await.text().contains(&title));
    assert!(
        fetch(address, "/sitemap.xml")
            .await
            .text()
            .contains(&format!("/bilanci/{slug}"))
    );
}

async fn a_comune_reports_its_year_and_approves_it_itself(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    p.validated_model().await;
    let imported = p
        .ask(
            Some(&p.coordinator),
            "mutation($c: String!) { importSurvey(format: XLSX, content: $c) { inserted } }",
            json!({ "c": base64(GOOD_XLSX) }),
        )
        .await;
    assert_eq!(data(&imported)["importSurvey"]["inserted"], 6);

    // Cefalù's office creates and drafts Cefalù's report; the coalition does not.
    let variables = json!({ "o": p.cefalu_id.get().to_string(), "y": 2024 });
    let refused = p.ask(Some(&p.coordinator), CREATE, variables.clone()).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    let created = p.ask(Some(&p.cefalu), CREATE, variables).await;
    let created = &data(&created)["createSocialReport"];
    let report = created["id"].as_str().unwrap().to_owned();
    let slug = created["document"]["slug"].as_str().unwrap().to_owned();
    let title = created["document"]["title"].as_str().unwrap().to_owned();
    assert_eq!(slug, "bilancio-sociale-cefalu-2024");
    let refused = p
        .ask(
            Some(&p.partner),
            SAVE,
            section(&report, "ambiente", "Da fuori"),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    p.draft_every_area(&p.cefalu, &report, "il Comune").await;
    let assembled = p
        .ask(Some(&p.cefalu), ASSEMBLE, json!({ "r": report }))
        .await;
    let version = &data(&assembled)["assembleSocialReport"];
    // "65,3" in the workbook for 2024, 61.2 stored as a number for 2023.
    assert_eq!(shown(version, "AMB01", 2024).as_deref(), Some("65.3"));
    assert_eq!(shown(version, "AMB01", 2023).as_deref(), Some("61.2"));

    // Approved by the Comune: not by the decision body, the coalition or a partner.
    let submitted = p
        .fire(&p.cefalu, &p.cefalu, &slug, "submit_for_review")
        .await;
    assert_eq!(data(&submitted)["fireTransition"]["state"], "review");
    let adopt = p.fire(&p.assembly, &p.cefalu, &slug, "adopt").await;
    assert_eq!(code(&adopt), "GUARD_FAILED", "{adopt}");
    for token in [&p.coordinator, &p.partner, &p.regione] {
        let refused = p.fire(token, &p.cefalu, &slug, "approve").await;
        assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
    }
    let approved = p.fire(&p.cefalu, &p.cefalu, &slug, "approve").await;
    assert_eq!(data(&approved)["fireTransition"]["state"], "approved");
    let published = p.fire(&p.cefalu, &p.cefalu, &slug, "publish").await;
    assert_eq!(data(&published)["fireTransition"]["state"], "published");

    // The Comune's page on the portal lists it, and its page answers.
    let address = p.address();
    let comune = fetch(address, "/comuni/cefalu").await.text();
    assert!(
        comune.contains(&format!("href=\"/bilanci/{slug}\"")),
        "{comune}"
    );
    assert!(comune.contains(&title), "{comune}");
    assert_eq!(
        fetch(address, &format!("/bilanci/{slug}")).await.status,
        200
    );
}

/// The attack on item 1: the coalition names someone other than the Regione to sign the
/// model's validation, here its own coordinator beside the decision body. The model must
/// not become validated without the Regione: the decision body's adoption, which opens
/// the validation, is refused, saying why, until the Regione is among the signatories.
async fn the_model_is_validated_only_with_the_regione_signing(ctx: &Ctx) {
    let p = setup(ctx.engine.clone()).await;
    let me = p
        .ask(Some(&p.coordinator), "{ me { id } }", json!({}))
        .await;
    let coordinator_id = data(&me)["me"]["id"].as_str().unwrap().to_owned();
    let slug = "modello-senza-regione";
    p.model_up_for_adoption(
        slug,
        json!([
            { "organisation": p.assembly_id.get().to_string(), "person": p.secretary_id.to_string() },
            { "organisation": p.coalition.get().to_string(), "person": coordinator_id },
        ]),
    )
    .await;
    let adopted = p.fire(&p.assembly, &p.coordinator, slug, "adopt").await;
    assert_eq!(code(&adopted), "GUARD_FAILED", "{adopted}");
    let message = adopted["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("region"), "{message}");
    let state = p
        .ask(
            Some(&p.coordinator),
            "query($s: String!) { document(slug: $s) { instance { state } } }",
            json!({ "s": slug }),
        )
        .await;
    assert_eq!(data(&state)["document"]["instance"]["state"], "adoption");
}
