//! The HTML pages: each handler gathers what the public may see and renders one
//! template inside the shared layout (skip link, header, navigation, breadcrumbs,
//! footer). Italian pages live at `/...`, English ones at `/en/...`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use patto_core::Language;
use patto_core::records::{Commitment, Organisation, StatusReport};
use serde_json::{Value, json};

use crate::Portal;
use crate::assets::{BOOTSTRAP_ITALIA, PORTAL_ASSETS};
use crate::data::{self, Published};
use crate::error::{Outcome, PortalError};
use crate::text::Texts;

/// The path prefix of a language's pages.
pub fn prefix(language: Language) -> &'static str {
    match language {
        Language::It => "",
        Language::En => "/en",
    }
}

/// The address of a page in a language: `/comuni` becomes `/en/comuni` in English;
/// the home page is `/` and `/en`.
pub fn href(language: Language, path: &str) -> String {
    match (language, path) {
        (Language::It, path) => path.to_owned(),
        (Language::En, "/") => "/en".to_owned(),
        (Language::En, path) => format!("/en{path}"),
    }
}

/// The navigation sections, in menu order: (key of the label, path).
const SECTIONS: [(&str, &str); 5] = [
    ("nav_home", "/"),
    ("nav_comuni", "/comuni"),
    ("nav_pact", "/patto"),
    ("nav_reports", "/bilanci"),
    ("nav_data", "/dati"),
];

/// One page to render: its template, title, section and breadcrumbs (each a label and
/// a path, the last being the page itself).
pub struct Page {
    pub(crate) template: &'static str,
    pub(crate) title: String,
    pub(crate) section: &'static str,
    pub(crate) crumbs: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Portal {
    /// Renders a page at `path` (without the language prefix) in the layout.
    pub(crate) fn render(
        &self,
        language: Language,
        path: &str,
        page: Page,
        status: StatusCode,
    ) -> Result<Response, PortalError> {
        let texts = self.texts(language);
        let other = match language {
            Language::It => Language::En,
            Language::En => Language::It,
        };
        let nav: Vec<Value> = SECTIONS
            .iter()
            .map(|(key, section_path)| {
                json!({
                    "label": texts.get(key),
                    "href": href(language, section_path),
                    "current": *section_path == page.section,
                })
            })
            .collect();
        let home = texts.get("nav_home");
        let mut crumbs = vec![json!({ "label": home, "href": href(language, "/") })];
        if path != "/" {
            crumbs.extend(
                page.crumbs
                    .iter()
                    .map(|(label, path)| json!({ "label": label, "href": href(language, path) })),
            );
        }
        let context = json!({
            "lang": language.as_str(),
            "t": texts.all(),
            "p": prefix(language),
            "title": page.title,
            "nav": nav,
            "crumbs": crumbs,
            "other_href": href(other, path),
            "other_lang": other.as_str(),
            "bootstrap_italia": BOOTSTRAP_ITALIA,
            "portal_assets": PORTAL_ASSETS,
            "page": page.body,
        });
        let html = self.render_template(page.template, &context)?;
        Ok((status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
    }

    /// The answer for a failure: the 404 page, or the 500 page with the cause logged.
    pub(crate) fn failure(&self, language: Language, path: &str, error: PortalError) -> Response {
        let outcome = error.outcome();
        let texts = self.texts(language);
        let (status, title, text) = match outcome {
            Outcome::NotFound => (StatusCode::NOT_FOUND, "not_found_title", "not_found_text"),
            Outcome::Internal => {
                tracing::error!(error = %error, path, "a portal page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error_title",
                    "error_text",
                )
            }
        };
        let page = Page {
            template: "failure.html",
            title: texts.get(title),
            section: "",
            crumbs: vec![(texts.get(title), path.to_owned())],
            body: json!({ "text": texts.get(text) }),
        };
        match self.render(language, path, page, status) {
            Ok(response) => response,
            Err(error) => {
                tracing::error!(error = %error, "the failure page failed too");
                (status, texts.get(text)).into_response()
            }
        }
    }
}

/// A page handler's answer: the page, or the failure page in the same language.
pub async fn answer<F>(portal: Arc<Portal>, language: Language, path: String, page: F) -> Response
where
    F: Future<Output = Result<Page, PortalError>>,
{
    match page.await {
        Ok(page) => match portal.render(language, &path, page, StatusCode::OK) {
            Ok(response) => response,
            Err(error) => portal.failure(language, &path, error),
        },
        Err(error) => portal.failure(language, &path, error),
    }
}

/// A date in Europe/Rome, written the way each language writes it.
pub fn date(language: Language, at: DateTime<Utc>) -> String {
    day(
        language,
        at.with_timezone(&chrono_tz::Europe::Rome).date_naive(),
    )
}

/// A calendar day, written the way each language writes it.
pub fn day(language: Language, day: NaiveDate) -> String {
    match language {
        Language::It => day.format("%d/%m/%Y").to_string(),
        Language::En => day.format("%-d %B %Y").to_string(),
    }
}

/// A number with the language's thousands separator.
fn thousands(language: Language, number: u64) -> String {
    let separator = match language {
        Language::It => '.',
        Language::En => ',',
    };
    let digits = number.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// The page of a published document: a diagnosis and a social report have pages of
/// their own.
pub fn document_path(published: &Published) -> String {
    match published.kind() {
        Some(patto_core::DocumentKind::Diagnosis) => {
            crate::diagnosis::path(&published.document.slug)
        }
        Some(patto_core::DocumentKind::SocialReport) => {
            crate::reports::report_path(&published.document.slug)
        }
        _ => format!("/documenti/{}", published.document.slug),
    }
}

/// A published document as a list entry.
fn summary(texts: &Texts, language: Language, published: &Published) -> Value {
    json!({
        "title": published.document.title,
        "href": href(language, &document_path(published)),
        "kind": texts.get(&format!("kind_{}", published.document.kind)),
        "state": texts.get(&format!("state_{}", published.state)),
        "published_on": date(language, published.published_at),
    })
}

/// `/`: the coalition, the programme and the latest publications.
pub async fn home(portal: &Portal, language: Language) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let organisations = data::organisations(&portal.engine).await?;
    let published = data::published(&portal.engine).await?;
    let population: u64 = organisations
        .values()
        .filter(|o| data::is_comune(o))
        .filter_map(|o| o.istat_code.as_ref())
        .filter_map(|code| portal.comuni.get(code))
        .map(|facts| facts.population)
        .sum();
    let partners: Vec<Value> = organisations
        .values()
        .filter(|o| !data::is_comune(o))
        .map(|o| {
            json!({
                "name": o.name,
                "category": texts.get(&format!("category_{}", o.category)),
            })
        })
        .collect();
    let latest: Vec<Value> = published
        .iter()
        .take(10)
        .map(|p| summary(texts, language, p))
        .collect();
    let diagnoses = crate::diagnosis::approved(portal, None).await?;
    let reports = crate::reports::entries(texts, language, &published);
    // Consultations are listed once closed, with their results; an open one is reached
    // through the link its Comune publishes.
    let consultations: Vec<Value> = portal
        .engine
        .closed_consultations()
        .await?
        .into_iter()
        .map(|c| {
            json!({
                "title": texts.fill("consultation_results_title", &[("title", &c.title)]),
                "href": href(language, &format!("/consultazioni/{}/risultati", c.public_slug)),
            })
        })
        .collect();
    Ok(Page {
        template: "home.html",
        title: texts.get("site_name"),
        section: "/",
        crumbs: Vec::new(),
        body: json!({
            "coalition": texts.fill("home_coalition", &[("population", &thousands(language, population))]),
            "partners": partners,
            "latest": latest,
            "diagnoses": crate::diagnosis::entries(texts, language, &diagnoses, &published),
            "reports": reports,
            "consultations": consultations,
        }),
    })
}

/// The Comuni of the directory, by name.
fn comuni(
    organisations: &BTreeMap<patto_core::ids::OrganisationId, Organisation>,
) -> Vec<&Organisation> {
    let mut comuni: Vec<&Organisation> = organisations
        .values()
        .filter(|o| data::is_comune(o))
        .collect();
    comuni.sort_by(|a, b| a.name.cmp(&b.name));
    comuni
}

/// `/comuni`: the index of the Comuni.
pub async fn comuni_index(portal: &Portal, language: Language) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let organisations = data::organisations(&portal.engine).await?;
    let published = data::published(&portal.engine).await?;
    let rows: Vec<Value> = comuni(&organisations)
        .into_iter()
        .map(|comune| {
            let facts = comune
                .istat_code
                .as_ref()
                .and_then(|c| portal.comuni.get(c));
            json!({
                "name": comune.name,
                "href": href(language, &format!("/comuni/{}", comune.slug)),
                "istat_code": comune.istat_code,
                "population": facts.map(|f| thousands(language, f.population)),
                "signed": published.iter().filter(|p| p.signed_by.contains(&comune.id)).count(),
            })
        })
        .collect();
    Ok(Page {
        template: "comuni.html",
        title: texts.get("comuni_title"),
        section: "/comuni",
        crumbs: vec![(texts.get("comuni_title"), "/comuni".to_owned())],
        body: json!({ "comuni": rows }),
    })
}

/// `/comuni/{slug}`: one Comune, what it signed, what it is responsible for and its
/// published reports.
pub async fn comune(portal: &Portal, language: Language, slug: &str) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let organisations = data::organisations(&portal.engine).await?;
    let comune = organisations
        .values()
        .find(|o| o.slug == slug && data::is_comune(o))
        .ok_or(PortalError::NotFound)?;
    let published = data::published(&portal.engine).await?;
    let facts = comune
        .istat_code
        .as_ref()
        .and_then(|c| portal.comuni.get(c));
    let signed: Vec<Value> = published
        .iter()
        .filter(|p| p.signed_by.contains(&comune.id))
        .map(|p| summary(texts, language, p))
        .collect();
    let own: Vec<Published> = published
        .iter()
        .filter(|p| p.document.owner_organisation_id == comune.id)
        .cloned()
        .collect();
    // The Comune's own diagnoses, then the coalition's, which cover its territory too.
    let mut diagnoses = crate::diagnosis::approved(portal, Some(&comune.slug)).await?;
    for coalition in organisations.values().filter(|o| data::is_coalition(o)) {
        diagnoses.extend(crate::diagnosis::approved(portal, Some(&coalition.slug)).await?);
    }
    let reports = crate::reports::entries(texts, language, &own);
    let all: Vec<&Published> = published.iter().collect();
    let groups = data::commitment_groups(&portal.engine, &all).await?;
    let commitments: Vec<Value> = groups
        .iter()
        .flat_map(|group| {
            group
                .commitments
                .iter()
                .filter(|c| c.owner_organisation_id == Some(comune.id))
                .map(|c| {
                    let mut row = commitment_row(
                        texts,
                        language,
                        &organisations,
                        c,
                        group.reported.get(&c.id),
                    );
                    row["document"] = json!(group.document.document.title);
                    row["document_href"] = json!(href(
                        language,
                        &format!("/documenti/{}", group.document.document.slug)
                    ));
                    row
                })
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Page {
        template: "comune.html",
        title: comune.name.clone(),
        section: "/comuni",
        crumbs: vec![
            (texts.get("comuni_title"), "/comuni".to_owned()),
            (comune.name.clone(), format!("/comuni/{}", comune.slug)),
        ],
        body: json!({
            "name": comune.name,
            "istat_code": comune.istat_code,
            "province": facts.map(|f| f.province.clone()),
            "population": facts.map(|f| thousands(language, f.population)),
            "signed": signed,
            "reports": reports,
            "diagnoses": crate::diagnosis::entries(texts, language, &diagnoses, &published),
            "commitments": commitments,
        }),
    })
}

/// One commitment as a table row, with what its owner last reported of it.
fn commitment_row(
    texts: &Texts,
    language: Language,
    organisations: &BTreeMap<patto_core::ids::OrganisationId, Organisation>,
    commitment: &Commitment,
    reported: Option<&StatusReport>,
) -> Value {
    let reported_line = reported.and_then(|report| {
        let status = texts.get(&format!("reported_{}", report.status?.as_str()));
        let on = date(language, report.submitted_at?);
        Some(match &report.indicator_value {
            Some(value) => texts.fill(
                "reported_with_value",
                &[("status", &status), ("value", value), ("date", &on)],
            ),
            None => texts.fill(
                "reported_without_value",
                &[("status", &status), ("date", &on)],
            ),
        })
    });
    let owner = commitment
        .owner_organisation_id
        .and_then(|id| organisations.get(&id));
    let indicator = match (&commitment.indicator, &commitment.target) {
        (Some(indicator), Some(target)) => format!("{indicator}: {target}"),
        (Some(indicator), None) => indicator.clone(),
        (None, Some(target)) => target.clone(),
        (None, None) => String::new(),
    };
    json!({
        "description": commitment.description,
        "owner": owner.map_or_else(|| texts.get("no_owner"), |o| o.name.clone()),
        "owner_href": owner.filter(|o| data::is_comune(o)).map(|o| href(language, &format!("/comuni/{}", o.slug))),
        "due": commitment.due_date.map_or_else(|| texts.get("no_due"), |d| day(language, d)),
        "indicator": indicator,
        "status": texts.get(&format!("commitment_{}", commitment.status.as_str())),
        "status_code": commitment.status.as_str(),
        "reported": reported_line,
        "reported_note": reported.and_then(|report| report.note.clone()),
    })
}

/// The commitment groups of some documents, ready for the template.
fn group_rows(
    texts: &Texts,
    language: Language,
    organisations: &BTreeMap<patto_core::ids::OrganisationId, Organisation>,
    groups: &[data::CommitmentGroup],
) -> Vec<Value> {
    groups
        .iter()
        .map(|group| {
            let (done, counted) = group.progress();
            let percent = (done * 100).checked_div(counted).unwrap_or(0);
            let title = &group.document.document.title;
            json!({
                "title": title,
                "href": href(language, &format!("/documenti/{}", group.document.document.slug)),
                "done": done,
                "counted": counted,
                "percent": percent,
                "progress": texts.fill("commitments_progress", &[
                    ("done", &done.to_string()),
                    ("total", &counted.to_string()),
                    ("percent", &percent.to_string()),
                ]),
                "progress_label": texts.fill("commitments_progress_label", &[("title", title)]),
                "caption": texts.fill("commitments_caption", &[("title", title)]),
                "commitments": group
                    .commitments
                    .iter()
                    .map(|c| {
                        commitment_row(
                            texts,
                            language,
                            organisations,
                            c,
                            group.reported.get(&c.id),
                        )
                    })
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `/patto`: the pacts and protocols in force, with their commitments' progress.
pub async fn pact_index(portal: &Portal, language: Language) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let organisations = data::organisations(&portal.engine).await?;
    let published = data::published(&portal.engine).await?;
    let mut pacts = Vec::new();
    for pact in published
        .iter()
        .filter(|p| p.kind() == Some(patto_core::DocumentKind::Pact))
    {
        let documents = data::with_children(&published, pact);
        let groups = data::commitment_groups(&portal.engine, &documents).await?;
        let protocols: Vec<Value> = documents
            .iter()
            .skip(1)
            .map(|p| summary(texts, language, p))
            .collect();
        let mut entry = summary(texts, language, pact);
        entry["protocols"] = json!(protocols);
        entry["groups"] = json!(group_rows(texts, language, &organisations, &groups));
        pacts.push(entry);
    }
    Ok(Page {
        template: "pact_index.html",
        title: texts.get("pact_index_title"),
        section: "/patto",
        crumbs: vec![(texts.get("pact_index_title"), "/patto".to_owned())],
        body: json!({ "pacts": pacts }),
    })
}

/// `/documenti/{slug}`: a published document, its signatories, commitments, reviews and
/// evidence. A draft's slug gets the 404 page, exactly as an unknown slug does.
pub async fn document(
    portal: &Portal,
    language: Language,
    slug: &str,
) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let published = data::published(&portal.engine).await?;
    let document = published
        .iter()
        .find(|p| p.document.slug == slug)
        .ok_or(PortalError::NotFound)?;
    let organisations = data::organisations(&portal.engine).await?;
    let signatories: Vec<Value> = data::signatories(&portal.engine, document.document.id)
        .await?
        .into_iter()
        .map(|row| {
            let organisation = organisations.get(&row.organisation_id);
            json!({
                "organisation": organisation.map(|o| o.name.clone()).unwrap_or_default(),
                "organisation_href": organisation
                    .filter(|o| data::is_comune(o))
                    .map(|o| href(language, &format!("/comuni/{}", o.slug))),
                "signer": row.signer,
                "signed_on": row.signed_at.map_or_else(|| texts.get("not_signed"), |at| date(language, at)),
            })
        })
        .collect();
    let documents = data::with_children(&published, document);
    let groups = data::commitment_groups(&portal.engine, &documents).await?;
    let reviews: Vec<Value> = data::reviews(&portal.engine, &document.document.slug)
        .await?
        .into_iter()
        .map(|review| {
            json!({
                "title": texts.fill("review_of", &[("date", &date(language, review.scheduled_for))]),
                "status": match review.closed_at {
                    Some(at) => texts.fill("review_closed", &[("date", &date(language, at))]),
                    None => texts.get("review_open"),
                },
                "outcome": review.outcome.map(|o| texts.get(&format!("outcome_{o}"))),
                "minutes": review.minutes,
            })
        })
        .collect();
    let citations = crate::diagnosis::citations(portal, language, document.document.id).await?;
    let is_text = matches!(
        document.kind(),
        Some(patto_core::DocumentKind::Pact | patto_core::DocumentKind::Protocol)
    );
    let text = document
        .version
        .as_ref()
        .filter(|_| is_text)
        .and_then(|v| String::from_utf8(v.content.clone()).ok());
    let version = document.version.as_ref().map(|v| v.number);
    let evidence = match (&portal.server_fingerprint, version) {
        (Some(fingerprint), Some(version)) => Some(json!({
            "href": format!("/evidence/{}/{}.json", document.document.slug, version),
            "file": format!("{}-{}.json", document.document.slug, version),
            "link": texts.fill("evidence_download", &[("version", &version.to_string())]),
            "fingerprint": fingerprint,
        })),
        (None, _) | (_, None) => None,
    };
    let mut crumbs = vec![(texts.get("pact_index_title"), "/patto".to_owned())];
    if let Some(parent) = document
        .document
        .parent_id
        .and_then(|id| published.iter().find(|p| p.document.id == id))
    {
        crumbs.push((
            parent.document.title.clone(),
            format!("/documenti/{}", parent.document.slug),
        ));
    }
    crumbs.push((
        document.document.title.clone(),
        format!("/documenti/{}", document.document.slug),
    ));
    Ok(Page {
        template: "document.html",
        title: document.document.title.clone(),
        section: "/patto",
        crumbs,
        body: json!({
            "document": summary(texts, language, document),
            "version": version,
            "text": text,
            "signatories": signatories,
            "groups": group_rows(texts, language, &organisations, &groups),
            "reviews": reviews,
            "evidence": evidence,
            "citations": citations,
        }),
    })
}

/// `/dati`: the open data and the catalogue.
pub async fn open_data(portal: &Portal, language: Language) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    Ok(Page {
        template: "open_data.html",
        title: texts.get("data_title"),
        section: "/dati",
        crumbs: vec![(texts.get("data_title"), "/dati".to_owned())],
        body: json!({
            "datasets": crate::opendata::DATASETS.iter().map(|dataset| json!({
                "title": texts.get(dataset.title_key),
                "description": texts.get(dataset.description_key),
                "csv": format!("/dati/{}.csv", dataset.file),
                "json": format!("/dati/{}.json", dataset.file),
            })).collect::<Vec<_>>(),
        }),
    })
}

/// The pages of plain text: accessibility statement, privacy notice, legal notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextPage {
    /// `/accessibilita`.
    Accessibility,
    /// `/privacy`.
    Privacy,
    /// `/note-legali`.
    Legal,
}

impl TextPage {
    /// Every text page: its path and which it is.
    pub const ALL: [(&'static str, TextPage); 3] = [
        ("/accessibilita", TextPage::Accessibility),
        ("/privacy", TextPage::Privacy),
        ("/note-legali", TextPage::Legal),
    ];

    fn keys(self) -> (&'static str, &'static str) {
        match self {
            TextPage::Accessibility => ("accessibility_title", "accessibility_sections"),
            TextPage::Privacy => ("privacy_title", "privacy_sections"),
            TextPage::Legal => ("legal_title", "legal_sections"),
        }
    }
}

/// A text page: its sections, each a heading and paragraphs.
pub fn text_page(portal: &Portal, language: Language, which: TextPage, path: &str) -> Page {
    let texts = portal.texts(language);
    let (title_key, sections_key) = which.keys();
    let sections: Vec<Value> = texts
        .get(sections_key)
        .split("\n\n##")
        .map(|section| {
            let (heading, rest) = section.split_once("\n\n").unwrap_or((section, ""));
            json!({
                "heading": heading,
                "paragraphs": rest.split("\n\n").filter(|p| !p.is_empty()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Page {
        template: "text.html",
        title: texts.get(title_key),
        section: "",
        crumbs: vec![(texts.get(title_key), path.to_owned())],
        body: json!({ "sections": sections }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_pages_live_under_en() {
        assert_eq!(href(Language::It, "/comuni"), "/comuni");
        assert_eq!(href(Language::En, "/comuni"), "/en/comuni");
        assert_eq!(href(Language::En, "/"), "/en");
    }

    #[test]
    fn numbers_and_dates_follow_the_language() {
        assert_eq!(thousands(Language::It, 1234567), "1.234.567");
        assert_eq!(thousands(Language::En, 999), "999");
        let day_ = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        assert_eq!(day(Language::It, day_), "01/03/2027");
        assert_eq!(day(Language::En, day_), "1 March 2027");
    }
}
