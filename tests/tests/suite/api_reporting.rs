//! The reporting model, the baseline survey and the outbox through the GraphQL API, over
//! real HTTP on both backends: a coalition coordinator imports the checked-in workbook
//! and loads a model version; a workbook with bad rows is refused row by row and leaves
//! nothing behind; the survey is open data; operators list and retry the outbox, whose
//! listing never shows a login code. Each refusal is tried as those who must not succeed.

use std::sync::Arc;

use base64::Engine as _;
use patto_api::ApiConfig;
use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};
use patto_core::{Language, Role};
use patto_engine::Actor;
use patto_tests::TestSessions;
use serde_json::{Value, json};

use crate::api::{code, data, graphql, serve};
use crate::engine::{Ctx, shipped, world};

engine_cases!(super::shipped() =>
    a_coalition_coordinator_imports_a_workbook_through_the_api,
    the_reporting_model_is_public_and_loaded_by_the_coalition,
    operators_list_and_retry_the_outbox_without_ever_seeing_a_login_code,
);

const GOOD_XLSX: &[u8] = include_bytes!("../../data/survey/good.xlsx");
const BAD_XLSX: &[u8] = include_bytes!("../../data/survey/bad.xlsx");
const GOOD_CSV: &str = include_str!("../../data/survey/good.csv");

const IMPORT: &str =
    "mutation($format: SurveyFileFormat!, $content: String!, $organisation: String) {
    importSurvey(format: $format, content: $content, organisation: $organisation) {
        modelVersion inserted replaced organisations
    }
}";

const VALUES: &str = "query($organisation: String) {
    surveyValues(organisation: $organisation, first: 100) {
        edges { node { organisation indicator year value unit source licence } }
    }
}";

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn person_of(actor: Actor) -> patto_core::ids::PersonId {
    match actor {
        Actor::Person(id) => id,
        Actor::System | Actor::Public => unreachable!(),
    }
}

/// The survey values anyone reads, as (organisation, indicator, year, value).
async fn values(address: std::net::SocketAddr) -> Vec<(String, String, i64, String)> {
    let answer = graphql(address, None, VALUES, json!({})).await;
    data(&answer)["surveyValues"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                node["organisation"].as_str().unwrap().to_owned(),
                node["indicator"].as_str().unwrap().to_owned(),
                node["year"].as_i64().unwrap(),
                node["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_coalition_coordinator_imports_a_workbook_through_the_api(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    engine
        .load_reporting_model(w.coordinator, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(w.coordinator_id);
    let partner = sessions.issue(w.partner_id);
    let outsider = sessions.issue(person_of(w.outsider));
    let address = serve(engine.clone(), sessions, ApiConfig::default()).await;
    let good = json!({ "format": "XLSX", "content": base64(GOOD_XLSX) });

    // The workbook has values of Cefalù and of the coalition: a plain member of Cefalù,
    // someone of no organisation and the public import nothing.
    for (token, expected) in [
        (Some(partner.as_str()), "FORBIDDEN"),
        (Some(outsider.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, IMPORT, good.clone()).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    assert!(values(address).await.is_empty());

    // Content that is not base64 says how to encode it.
    let answer = graphql(
        address,
        Some(&coordinator),
        IMPORT,
        json!({ "format": "XLSX", "content": "not base64!" }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("base64"),
        "{answer}"
    );

    // The coalition's coordinator imports it whole.
    let answer = graphql(address, Some(&coordinator), IMPORT, good).await;
    let summary = &data(&answer)["importSurvey"];
    assert_eq!(summary["modelVersion"], 1);
    assert_eq!(summary["inserted"], 6, "{answer}");
    assert_eq!(summary["replaced"], 0);
    assert_eq!(summary["organisations"], json!(["cefalu", "citta-a-rete"]));
    let imported = values(address).await;
    assert_eq!(imported.len(), 6, "{imported:?}");
    assert!(
        imported.contains(&("cefalu".into(), "AMB01".into(), 2024, "65.3".into())),
        "{imported:?}"
    );
    assert!(
        imported.contains(&("cefalu".into(), "SP01".into(), 2024, "1234.5".into())),
        "{imported:?}"
    );

    // A workbook with bad rows: every one named by row, column and reason in the
    // error's extensions, and nothing of it saved, not even its valid row.
    let answer = graphql(
        address,
        Some(&coordinator),
        IMPORT,
        json!({ "format": "XLSX", "content": base64(BAD_XLSX) }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    let problems = answer["errors"][0]["extensions"]["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("no problems listed: {answer}"));
    let cells: Vec<(i64, &str)> = problems
        .iter()
        .map(|p| (p["row"].as_i64().unwrap(), p["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        cells,
        [
            (4, "Valore"),
            (5, "Indicatore"),
            (6, "Valore"),
            (7, "Valore"),
            (8, "Data di riferimento"),
            (10, "Valore"),
        ],
        "{answer}"
    );
    assert!(
        problems[0]["reason"]
            .as_str()
            .unwrap()
            .contains("percentage"),
        "{answer}"
    );
    assert_eq!(values(address).await, imported);

    // CSV is given as text; the same values again replace what is stored.
    let answer = graphql(
        address,
        Some(&coordinator),
        IMPORT,
        json!({ "format": "CSV", "content": GOOD_CSV }),
    )
    .await;
    assert_eq!(data(&answer)["importSurvey"]["inserted"], 2, "{answer}");

    // Open data: one organisation's rows, and the whole as CSV and JSON with a licence.
    let answer = graphql(
        address,
        None,
        VALUES,
        json!({ "organisation": "citta-a-rete" }),
    )
    .await;
    let rows = data(&answer)["surveyValues"]["edges"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{answer}");
    assert!(rows.iter().all(|e| e["node"]["licence"] == "CC-BY-4.0"));
    let answer = graphql(
        address,
        None,
        "{ csv: surveyExport(format: CSV) json: surveyExport(format: JSON, licence: \"CC0-1.0\") }",
        json!({}),
    )
    .await;
    let csv = data(&answer)["csv"].as_str().unwrap();
    assert!(csv.starts_with("comune,nome_comune,codice_istat,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 8, "{csv}");
    let exported: Value = serde_json::from_str(data(&answer)["json"].as_str().unwrap()).unwrap();
    assert_eq!(exported["licence"], "CC0-1.0");
    assert_eq!(exported["values"].as_array().unwrap().len(), 8);
    let answer = graphql(address, None, VALUES, json!({ "organisation": "nowhere" })).await;
    assert_eq!(code(&answer), "NOT_FOUND", "{answer}");
}

async fn the_reporting_model_is_public_and_loaded_by_the_coalition(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let sessions = Arc::new(TestSessions::default());
    let coordinator = sessions.issue(w.coordinator_id);
    let partner = sessions.issue(w.partner_id);
    let address = serve(engine.clone(), sessions, ApiConfig::default()).await;
    let load = "mutation($source: String!) { loadReportingModel(source: $source) { version loadedBy { name } areas { code } } }";

    // Before any is loaded, the answer says how to load one.
    let answer = graphql(address, None, "{ reportingModel { version } }", json!({})).await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");

    for (token, expected) in [
        (Some(partner.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, load, json!({ "source": DEFAULT_MODEL })).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    let broken = DEFAULT_MODEL.replacen("areas = [\"ambiente\"]", "areas = [\"ambient\"]", 1);
    let answer = graphql(
        address,
        Some(&coordinator),
        load,
        json!({ "source": broken }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`ambient`"),
        "{answer}"
    );
    let answer = graphql(
        address,
        Some(&coordinator),
        load,
        json!({ "source": DEFAULT_MODEL }),
    )
    .await;
    let loaded = &data(&answer)["loadReportingModel"];
    assert_eq!(loaded["version"], 1);
    assert_eq!(loaded["loadedBy"]["name"], "Anna Coordinatrice");
    assert_eq!(loaded["areas"].as_array().unwrap().len(), 6, "{answer}");
    // A different text under the same version is a conflict: raise the version.
    let edited = DEFAULT_MODEL.replacen("ISTAT", "Istat", 1);
    let answer = graphql(
        address,
        Some(&coordinator),
        load,
        json!({ "source": edited }),
    )
    .await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");
    let second = DEFAULT_MODEL.replacen("version = 1", "version = 2", 1);
    let answer = graphql(
        address,
        Some(&coordinator),
        load,
        json!({ "source": second }),
    )
    .await;
    assert_eq!(data(&answer)["loadReportingModel"]["version"], 2);

    // Anyone reads the model: its versions, areas and every field of its indicators.
    let answer = graphql(
        address,
        None,
        "{
            reportingModelVersions { edges { node { version sha256 } } }
            first: reportingModel(version: 1) { version title { it en } }
            reportingModel {
                version source
                areas { code name { it en } }
                indicators { code name { it en } definition unit polarity source periodicity areas }
            }
        }",
        json!({}),
    )
    .await;
    let d = data(&answer);
    let versions: Vec<i64> = d["reportingModelVersions"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(d["first"]["version"], 1);
    assert!(!d["first"]["title"]["it"].as_str().unwrap().is_empty());
    assert_eq!(d["reportingModel"]["version"], 2);
    assert_eq!(d["reportingModel"]["source"], second.as_str());
    let areas: Vec<&str> = d["reportingModel"]["areas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(areas.contains(&"ambiente"), "{areas:?}");
    let indicators = d["reportingModel"]["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), 24);
    let amb01 = indicators
        .iter()
        .find(|i| i["code"] == "AMB01")
        .unwrap_or_else(|| panic!("no AMB01: {answer}"));
    assert_eq!(amb01["unit"], "percent");
    assert_eq!(amb01["polarity"], "higher_is_better");
    assert_eq!(amb01["periodicity"], "annual");
    assert_eq!(amb01["areas"], json!(["ambiente"]));
    assert!(!amb01["definition"].as_str().unwrap().is_empty());
    assert!(
        amb01["source"].as_str().unwrap().contains("ISPRA"),
        "{amb01}"
    );
    assert!(!amb01["name"]["en"].as_str().unwrap().is_empty());
}

async fn operators_list_and_retry_the_outbox_without_ever_seeing_a_login_code(ctx: &Ctx) {
    let engine = &ctx.engine;
    let w = world(engine).await;
    let operator = engine
        .create_person(
            Actor::System,
            "operatore@example.org",
            "Operatore",
            Language::It,
        )
        .await
        .unwrap();
    engine
        .grant_operator(Actor::System, operator.id)
        .await
        .unwrap();
    // An admin of an organisation runs their organisation, not the instance's mail.
    let admin = engine
        .create_person(Actor::System, "admin@example.org", "Admin", Language::It)
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, admin.id, w.coalition, Role::Admin)
        .await
        .unwrap();
    // Sharing the pact queues mail to its partners; a login code is queued too.
    engine
        .add_version(w.coordinator, w.pact.id, b"Patto v1".to_vec())
        .await
        .unwrap();
    crate::engine::fire(engine, w.coordinator, &w.pact, "share")
        .await
        .unwrap();
    engine
        .request_login("partner@example.org", "127.0.0.1".parse().unwrap())
        .await
        .unwrap();

    let sessions = Arc::new(TestSessions::default());
    let operator_token = sessions.issue(operator.id);
    let admin_token = sessions.issue(admin.id);
    let coordinator = sessions.issue(w.coordinator_id);
    let address = serve(engine.clone(), sessions, ApiConfig::default()).await;
    let list = "query($status: String) { outbox(status: $status) { edges { node { id recipient template status attempts lastError messageId } } } }";

    for (token, expected) in [
        (Some(admin_token.as_str()), "FORBIDDEN"),
        (Some(coordinator.as_str()), "FORBIDDEN"),
        (None, "UNAUTHENTICATED"),
    ] {
        let answer = graphql(address, token, list, json!({})).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
        let answer = graphql(address, token, "mutation { retryAllFailedMail }", json!({})).await;
        assert_eq!(code(&answer), expected, "{token:?}: {answer}");
    }
    let answer = graphql(
        address,
        Some(&operator_token),
        list,
        json!({ "status": "lost" }),
    )
    .await;
    assert_eq!(code(&answer), "VALIDATION", "{answer}");

    let listing = graphql(address, Some(&operator_token), list, json!({})).await;
    let rows = data(&listing)["outbox"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert!(rows.len() >= 2, "{listing}");
    assert!(
        rows.iter().any(|e| e["node"]["template"] == "login_code"
            && e["node"]["recipient"] == "partner@example.org"),
        "{listing}"
    );
    assert!(rows.iter().all(|e| e["node"]["status"] == "pending"));

    // The mail worker claims the mail, as inside `patto serve`: the login code it
    // renders appears nowhere in what the operator read, before or after.
    let claimed = engine
        .claim_mail(
            &["login_code", "sharing_opened"],
            100,
            chrono::Duration::minutes(5),
        )
        .await
        .unwrap();
    let code_mail = claimed
        .iter()
        .find(|m| m.template == "login_code")
        .expect("the login-code mail is claimed");
    let secret = code_mail.secret.clone().expect("a login code");
    assert!(!listing.to_string().contains(&secret), "{listing}");
    let again = graphql(address, Some(&operator_token), list, json!({})).await;
    assert!(!again.to_string().contains(&secret), "{again}");

    // A message that failed for good is listed with its error and retried on request;
    // login-code mail is never sent again (a new code replaces it).
    let shared = claimed
        .iter()
        .find(|m| m.template == "sharing_opened")
        .expect("sharing mail is claimed");
    engine
        .mark_mail_failed(shared.id, "550 mailbox unavailable", None)
        .await
        .unwrap();
    engine
        .mark_mail_failed(code_mail.id, "550 mailbox unavailable", None)
        .await
        .unwrap();
    let answer = graphql(
        address,
        Some(&operator_token),
        list,
        json!({ "status": "failed" }),
    )
    .await;
    let failed = data(&answer)["outbox"]["edges"].as_array().unwrap().clone();
    assert_eq!(failed.len(), 2, "{answer}");
    assert!(
        failed
            .iter()
            .all(|e| e["node"]["lastError"] == "550 mailbox unavailable"),
        "{answer}"
    );
    let retry = "mutation($id: ID!) { retryMail(message: $id) }";
    let shared_id = json!({ "id": shared.id.get().to_string() });
    let answer = graphql(address, Some(&admin_token), retry, shared_id.clone()).await;
    assert_eq!(code(&answer), "FORBIDDEN", "{answer}");
    let answer = graphql(address, Some(&operator_token), retry, shared_id.clone()).await;
    assert_eq!(data(&answer)["retryMail"], 1, "{answer}");
    let answer = graphql(address, Some(&operator_token), retry, shared_id).await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");
    let answer = graphql(
        address,
        Some(&operator_token),
        retry,
        json!({ "id": code_mail.id.get().to_string() }),
    )
    .await;
    assert_eq!(code(&answer), "CONFLICT", "{answer}");
    let answer = graphql(
        address,
        Some(&operator_token),
        "mutation { retryAllFailedMail }",
        json!({}),
    )
    .await;
    assert_eq!(data(&answer)["retryAllFailedMail"], 0, "{answer}");
    let answer = graphql(
        address,
        Some(&operator_token),
        list,
        json!({ "status": "pending" }),
    )
    .await;
    let pending = data(&answer)["outbox"]["edges"].as_array().unwrap();
    let shared_key = shared.id.get().to_string();
    let requeued = pending
        .iter()
        .find(|e| e["node"]["id"] == shared_key.as_str())
        .unwrap_or_else(|| panic!("the retried message is not pending: {answer}"));
    assert_eq!(requeued["node"]["attempts"], 0);
    assert!(!answer.to_string().contains(&secret), "{answer}");
}
