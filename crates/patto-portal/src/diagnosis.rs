//! The pages and links of the Diagnosi di sicurezza e legalità: a page per approved
//! diagnosis at `/diagnosi/{slug}` (problems with their frequency and seriousness,
//! policies so far, strengths and weaknesses, needs, each item with its id as anchor),
//! the lists that link to them from the home page and the Comuni's pages, and the
//! diagnosis items a pact or protocol responds to, shown on its page. Everything is read
//! as the public: only approved (published) versions exist here.

use patto_core::Language;
use patto_core::diagnosis::{Frequency, FrequencyLevel, ItemKind, Note, Policy, Problem};
use patto_core::ids::DocumentId;
use patto_engine::{Actor, ErrorCode, ReadableDiagnosis};
use serde_json::{Value, json};

use crate::Portal;
use crate::data::{self, Published};
use crate::error::PortalError;
use crate::pages::{Page, date, href};
use crate::text::Texts;

/// The portal reads as the public, always.
const PUBLIC: Actor = Actor::Public;

/// The address of a diagnosis's page, without the language prefix.
pub fn path(slug: &str) -> String {
    format!("/diagnosi/{slug}")
}

/// The approved diagnoses, of one territory (by organisation slug) or of all.
pub async fn approved(
    portal: &Portal,
    organisation: Option<&str>,
) -> Result<Vec<ReadableDiagnosis>, PortalError> {
    Ok(portal
        .engine
        .readable_diagnoses(PUBLIC, organisation)
        .await?
        .into_iter()
        .filter(|d| d.document.published_version.is_some())
        .collect())
}

/// Approved diagnoses as list entries (the `document_list` macro's shape), each dated
/// by its approval as the list of publications has it.
pub fn entries(
    texts: &Texts,
    language: Language,
    diagnoses: &[ReadableDiagnosis],
    published: &[Published],
) -> Vec<Value> {
    diagnoses
        .iter()
        .map(|d| {
            let approved_at = published
                .iter()
                .find(|p| p.document.id == d.document.id)
                .map_or(d.document.created_at, |p| p.published_at);
            json!({
                "title": d.document.title,
                "href": href(language, &path(&d.document.slug)),
                "kind": texts.get("kind_diagnosis"),
                "state": texts.get("state_approved"),
                "published_on": date(language, approved_at),
            })
        })
        .collect()
}

/// The label of a frequency level.
fn frequency_label(texts: &Texts, level: FrequencyLevel) -> String {
    texts.get(&format!("frequency_{}", level.as_str()))
}

/// How a problem's frequency reads: its level, and the count with its period.
fn frequency_text(texts: &Texts, frequency: &Frequency) -> String {
    let level = frequency_label(texts, frequency.level);
    match frequency.count {
        Some(count) => texts.fill(
            "diagnosis_count",
            &[
                ("level", &level),
                ("count", &count.to_string()),
                ("period", &frequency.period),
            ],
        ),
        None => level,
    }
}

/// A problem as a table row.
fn problem_row(texts: &Texts, problem: &Problem) -> Value {
    json!({
        "id": problem.id,
        "title": problem.title,
        "description": problem.description,
        "frequency": frequency_text(texts, &problem.frequency),
        "source": problem.frequency.source,
        "seriousness": texts.fill("seriousness_value", &[
            ("value", &problem.seriousness.to_string()),
            ("label", &texts.get(&format!("seriousness_{}", problem.seriousness))),
        ]),
    })
}

fn policy_entry(policy: &Policy) -> Value {
    json!({
        "id": policy.id,
        "title": policy.title,
        "who": policy.who,
        "period": policy.period,
        "outcome": policy.outcome,
    })
}

fn note_entry(note: &Note) -> Value {
    json!({ "id": note.id, "title": note.title, "description": note.description })
}

/// `/diagnosi/{slug}`: an approved diagnosis. A draft's slug gets the 404 page, exactly
/// as an unknown slug does, because the engine refuses it to the public.
pub async fn page(portal: &Portal, language: Language, slug: &str) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let version = match portal
        .engine
        .readable_diagnosis_version(PUBLIC, slug, None)
        .await
    {
        Ok(version) => version,
        // Another kind of document's slug: no diagnosis page lives there.
        Err(error) if error.code() == ErrorCode::Validation => return Err(PortalError::NotFound),
        Err(error) => return Err(error.into()),
    };
    let published = data::published(&portal.engine).await?;
    let approved_at = published
        .iter()
        .find(|p| p.document.id == version.document.id)
        .map_or(version.created_at, |p| p.published_at);
    let d = &version.diagnosis;
    let territory_href = match d.territory.category.as_str() {
        "municipality" => Some(href(language, &format!("/comuni/{}", d.territory.slug))),
        _ => None,
    };
    let scale: Vec<Value> = FrequencyLevel::ALL
        .iter()
        .map(|level| {
            json!({
                "label": frequency_label(texts, *level),
                "meaning": texts.get(&format!("frequency_{}_meaning", level.as_str())),
            })
        })
        .collect();
    let seriousness: Vec<Value> = patto_core::diagnosis::SERIOUSNESS
        .map(|value| {
            json!({
                "value": value,
                "label": texts.get(&format!("seriousness_{value}")),
            })
        })
        .collect();
    let consultation_results = portal
        .engine
        .closed_consultations()
        .await?
        .into_iter()
        .find(|c| c.document_id == version.document.id);
    let path = path(slug);
    Ok(Page {
        template: "diagnosis.html",
        title: d.title.clone(),
        section: "/patto",
        crumbs: vec![
            (texts.get("pact_index_title"), "/patto".to_owned()),
            (d.title.clone(), path),
        ],
        body: json!({
            "title": d.title,
            "territory": d.territory.name,
            "territory_href": territory_href,
            "istat_code": d.territory.istat_code,
            "year": d.year,
            "version": version.number,
            "sha256": version.sha256,
            "approved_on": date(language, approved_at),
            "document_href": href(language, &format!("/documenti/{}", version.document.slug)),
            "summary": d.summary,
            "problems": d.problems.iter().map(|p| problem_row(texts, p)).collect::<Vec<_>>(),
            "frequency_scale": scale,
            "seriousness_scale": seriousness,
            "local_policies": d.local_policies.iter().map(policy_entry).collect::<Vec<_>>(),
            "supra_local_policies": d.supra_local_policies.iter().map(policy_entry).collect::<Vec<_>>(),
            "strengths": d.strengths.iter().map(note_entry).collect::<Vec<_>>(),
            "weaknesses": d.weaknesses.iter().map(note_entry).collect::<Vec<_>>(),
            "needs": d.needs.iter().map(note_entry).collect::<Vec<_>>(),
            // The consultation's results have a page of their own once it has closed;
            // `null` says that none is published yet.
            "consultation": consultation_results.map(|c| json!({
                "href": href(language, &format!("/consultazioni/{}/risultati", c.public_slug)),
            })),
        }),
    })
}

/// The diagnosis items a published pact or protocol responds to, each linking to its
/// anchor on the diagnosis's page, for the document's page.
pub async fn citations(
    portal: &Portal,
    language: Language,
    document: DocumentId,
) -> Result<Vec<Value>, PortalError> {
    let texts = portal.texts(language);
    Ok(portal
        .engine
        .readable_citations(PUBLIC, document)
        .await?
        .into_iter()
        .map(|cited| {
            let detail = cited.problem.as_ref().map(|problem| {
                texts.fill(
                    "cited_problem_detail",
                    &[
                        ("frequency", &frequency_text(texts, &problem.frequency)),
                        ("seriousness", &problem.seriousness.to_string()),
                    ],
                )
            });
            json!({
                "title": cited.item.title,
                "kind": texts.get(&format!("item_{}", cited.item.kind.as_str())),
                "href": format!(
                    "{}#{}",
                    href(language, &path(&cited.diagnosis.slug)),
                    cited.item.id
                ),
                "diagnosis": cited.diagnosis.title,
                "detail": detail,
                "is_problem": cited.item.kind == ItemKind::Problem,
            })
        })
        .collect())
}
