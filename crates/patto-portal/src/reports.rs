//! The published Bilanci Sociali: the index (`/bilanci`), one page per report
//! (`/bilanci/{slug}`, section by section behind a table of contents), its PDF
//! (`/bilanci/{slug}.pdf`) and the charts of its indicators
//! (`/bilanci/{slug}/grafici/{code}-andamento.svg`, `...-confronto.svg`).
//!
//! Everything is made from the published version's bytes, which the engine hands to the
//! public and to nobody else's benefit: the figures are those frozen when the report was
//! assembled, never the survey as it is today. A report that is not published (a draft,
//! one in approval) is refused by the engine and answered with the 404 page, for the
//! page, the PDF and every chart alike.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use patto_core::reporting::{Decimal, Polarity};
use patto_core::social_report::{IndicatorTable, Section};
use patto_core::{DocumentKind, Language};
use patto_engine::{Actor, ErrorCode, ReportVersion};
use patto_report::ChartKind;
use serde_json::{Value, json};

use crate::Portal;
use crate::data::{self, Published};
use crate::error::PortalError;
use crate::markdown;
use crate::pages::{self, Page, href};
use crate::text::Texts;

/// The path of the reports' index, and the prefix of each report's address.
const INDEX: &str = "/bilanci";

/// The charts of an indicator, with the last part of their address.
const CHARTS: [(ChartKind, &str); 2] = [
    (ChartKind::Trend, "andamento"),
    (ChartKind::Comparison, "confronto"),
];

/// The address of a report's page, without the language prefix.
pub fn report_path(slug: &str) -> String {
    format!("{INDEX}/{slug}")
}

/// The address of a report's PDF: one for both languages, like the open data.
fn pdf_path(slug: &str) -> String {
    format!("{INDEX}/{slug}.pdf")
}

/// The routes of one language's report pages.
pub fn page_routes(language: Language) -> Router<Arc<Portal>> {
    Router::new()
        .route(
            &href(language, INDEX),
            get(move |State(p): State<Arc<Portal>>| async move {
                let page = index(&p, language);
                pages::answer(p.clone(), language, INDEX.to_owned(), page).await
            }),
        )
        .route(
            &href(language, &format!("{INDEX}/{{file}}")),
            get(
                move |State(p): State<Arc<Portal>>, Path(file): Path<String>| async move {
                    match file.strip_suffix(".pdf") {
                        Some(slug) => pdf(&p, language, slug).await,
                        None => {
                            let path = report_path(&file);
                            let page = report(&p, language, &file);
                            pages::answer(p.clone(), language, path, page).await
                        }
                    }
                },
            ),
        )
}

/// The charts' routes: images, the same in both languages (their text alternatives are
/// on the page that shows them).
pub fn chart_routes() -> Router<Arc<Portal>> {
    Router::new().route(
        &format!("{INDEX}/{{slug}}/grafici/{{file}}"),
        get(
            |State(p): State<Arc<Portal>>, Path((slug, file)): Path<(String, String)>| async move {
                let path = format!("{INDEX}/{slug}/grafici/{file}");
                chart(&p, &slug, &file)
                    .await
                    .unwrap_or_else(|error| p.failure(Language::It, &path, error))
            },
        ),
    )
}

/// The published version of the report with this slug, as the public reads it. Any
/// other document's slug is as unknown as a slug nobody used.
async fn published_report(portal: &Portal, slug: &str) -> Result<ReportVersion, PortalError> {
    let version = portal
        .engine
        .readable_report_version(Actor::Public, slug, None)
        .await
        .map_err(|error| match error.code() {
            ErrorCode::Validation => PortalError::NotFound,
            _ => PortalError::Engine(error),
        })?;
    if !version.published {
        return Err(PortalError::NotFound);
    }
    Ok(version)
}

/// The published reports as list entries (title, address, PDF), the coalition's and
/// each Comune's, most recent year first.
pub fn entries(texts: &Texts, language: Language, published: &[Published]) -> Vec<Value> {
    let mut reports: Vec<&Published> = published
        .iter()
        .filter(|p| p.kind() == Some(DocumentKind::SocialReport))
        .collect();
    reports.sort_by(|a, b| {
        b.published_at
            .cmp(&a.published_at)
            .then_with(|| a.document.slug.cmp(&b.document.slug))
    });
    reports
        .into_iter()
        .map(|p| {
            json!({
                "title": p.document.title,
                "href": href(language, &report_path(&p.document.slug)),
                "pdf": pdf_path(&p.document.slug),
                "pdf_label": texts.fill("report_pdf_of", &[("title", &p.document.title)]),
                "published_on": pages::date(language, p.published_at),
            })
        })
        .collect()
}

/// `/bilanci`: every published report.
async fn index(portal: &Portal, language: Language) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let published = data::published(&portal.engine).await?;
    let title = texts.get("reports_title");
    Ok(Page {
        template: "reports.html",
        title: title.clone(),
        section: INDEX,
        crumbs: vec![(title, INDEX.to_owned())],
        body: json!({ "reports": entries(texts, language, &published) }),
    })
}

/// `/bilanci/{slug}`: one published report, section by section.
async fn report(portal: &Portal, language: Language, slug: &str) -> Result<Page, PortalError> {
    let texts = portal.texts(language);
    let version = published_report(portal, slug).await?;
    let report = &version.report;
    let organisations = data::organisations(&portal.engine).await?;
    let owner = organisations.get(&version.document.owner_organisation_id);
    let owner_href = owner
        .filter(|o| data::is_comune(o))
        .map(|o| href(language, &format!("/comuni/{}", o.slug)));
    let evidence = portal.server_fingerprint.as_ref().map(|fingerprint| {
        json!({
            "href": format!("/evidence/{slug}/{}.json", version.number),
            "file": format!("{slug}-{}.json", version.number),
            "link": texts.fill("evidence_download", &[("version", &version.number.to_string())]),
            "fingerprint": fingerprint,
        })
    });
    let sections: Vec<Value> = report
        .sections
        .iter()
        .map(|section| section_body(texts, language, slug, &report.subject.name, section))
        .collect();
    let title = version.document.title.clone();
    Ok(Page {
        template: "report.html",
        title: title.clone(),
        section: INDEX,
        crumbs: vec![
            (texts.get("reports_title"), INDEX.to_owned()),
            (title.clone(), report_path(slug)),
        ],
        body: json!({
            "title": title,
            "subject": report.subject.name,
            "subject_href": owner_href,
            "year": report.year,
            "state": texts.get("state_published"),
            "published_on": pages::date(language, version.created_at),
            "version": version.number,
            "sha256": version.sha256,
            "model_version": texts.fill("report_model_value", &[("version", &report.model_version.to_string())]),
            "pdf": pdf_path(slug),
            "pdf_file": format!("{slug}.pdf"),
            "evidence": evidence,
            "sections": sections,
        }),
    })
}

/// The anchor of a section on the report's page.
fn section_anchor(section: &Section) -> String {
    format!("ambito-{}", section.area.to_ascii_lowercase())
}

/// One section for the template: its texts as safe HTML, its indicators with their
/// figures, comparison and charts.
fn section_body(
    texts: &Texts,
    language: Language,
    slug: &str,
    subject: &str,
    section: &Section,
) -> Value {
    let name = match language {
        Language::It => &section.name.it,
        Language::En => &section.name.en,
    };
    // The section is an <h2>, its parts <h3>: the offices' headings come under them.
    let text =
        |markdown: &str| (!markdown.trim().is_empty()).then(|| markdown::to_html(markdown, 3));
    json!({
        "id": section_anchor(section),
        "name": name,
        "narrative": text(&section.narrative),
        "goals": text(&section.goals),
        "indicators": section
            .indicators
            .iter()
            .map(|table| indicator_body(texts, language, slug, subject, table))
            .collect::<Vec<_>>(),
    })
}

/// One indicator for the template.
fn indicator_body(
    texts: &Texts,
    language: Language,
    slug: &str,
    subject: &str,
    table: &IndicatorTable,
) -> Value {
    let name = match language {
        Language::It => &table.name.it,
        Language::En => &table.name.en,
    };
    let mut years: Vec<i32> = table
        .values
        .iter()
        .map(|v| v.year)
        .chain(table.coalition_median.iter().map(|m| m.year))
        .collect();
    years.sort_unstable();
    years.dedup();
    let no_data = texts.get("no_value");
    let rows: Vec<Value> = years
        .iter()
        .map(|year| {
            let own = table.values.iter().find(|v| v.year == *year);
            let median = table.coalition_median.iter().find(|m| m.year == *year);
            let comparison = match (own, median) {
                (Some(own), Some(median)) => {
                    texts.get(compare(table.polarity, &own.value, &median.median))
                }
                (None, _) | (_, None) => no_data.clone(),
            };
            json!({
                "year": year,
                "value": own.map_or_else(|| no_data.clone(), |v| number(language, &v.value)),
                "median": median.map_or_else(|| no_data.clone(), |m| number(language, &m.median)),
                "comuni": median.map_or(0, |m| m.comuni),
                "comparison": comparison,
            })
        })
        .collect();
    let years_text = match (years.first(), years.last()) {
        (Some(first), Some(last)) if first != last => format!("{first}–{last}"),
        (Some(first), _) => first.to_string(),
        (None, _) => no_data.clone(),
    };
    let charts: Vec<Value> = CHARTS
        .iter()
        .map(|(kind, file)| {
            let (alt, caption) = match kind {
                ChartKind::Trend => ("chart_trend_alt", "chart_trend_caption"),
                ChartKind::Comparison => ("chart_comparison_alt", "chart_comparison_caption"),
            };
            let values = [
                ("name", name.as_str()),
                ("subject", subject),
                ("years", years_text.as_str()),
            ];
            json!({
                "src": format!("{INDEX}/{slug}/grafici/{}-{file}.svg", table.code),
                "alt": texts.fill(alt, &values),
                "caption": texts.fill(caption, &values),
            })
        })
        .collect();
    json!({
        "id": format!("indicatore-{}", table.code.to_ascii_lowercase()),
        "code": table.code,
        "name": name,
        "definition": table.definition,
        "unit": texts.get(&format!("unit_{}", table.unit.as_str())),
        "polarity": texts.get(&format!("polarity_{}", table.polarity.as_str())),
        "source": table.source,
        "trend": texts.get(&format!("trend_{}", table.trend.as_str())),
        "caption": texts.fill("indicator_caption", &[("name", name), ("subject", subject)]),
        "value_column": texts.fill("col_value_of", &[("subject", subject)]),
        "rows": rows,
        "charts": charts,
    })
}

/// How a value compares with the Comuni's median, read with the indicator's polarity:
/// the key of the words that say it.
fn compare(polarity: Polarity, own: &Decimal, median: &Decimal) -> &'static str {
    let (own, median) = (own.to_f64(), median.to_f64());
    if own == median {
        return "compare_equal";
    }
    match (polarity, own > median) {
        (Polarity::HigherIsBetter, true) | (Polarity::LowerIsBetter, false) => "compare_better",
        (Polarity::HigherIsBetter, false) | (Polarity::LowerIsBetter, true) => "compare_worse",
    }
}

/// A figure as the language writes it: a decimal comma in Italian.
fn number(language: Language, value: &Decimal) -> String {
    match language {
        Language::It => patto_report::format_value(value),
        Language::En => value.as_str().to_owned(),
    }
}

/// The PDFs already made, by the SHA-256 of the published version they were made from: a
/// published version never changes, so neither does its PDF, and making one (a second or
/// so in a debug build, the font embedded each time) is not repeated for every download.
/// The publication is checked on every request all the same; the cache only saves the
/// rendering. It is emptied when it holds [`PdfCache::CAPACITY`] PDFs.
#[derive(Default)]
pub struct PdfCache(Mutex<HashMap<String, Arc<[u8]>>>);

impl PdfCache {
    /// How many PDFs are kept at most (about 1 MB each).
    const CAPACITY: usize = 32;

    /// The PDF of this version, made now if it was not already.
    fn get_or_make(&self, version: &ReportVersion) -> Result<Arc<[u8]>, PortalError> {
        if let Some(bytes) = self.lock().get(&version.sha256) {
            return Ok(bytes.clone());
        }
        let bytes: Arc<[u8]> = patto_report::report_pdf(&version.report)?.into();
        let mut cache = self.lock();
        if cache.len() >= Self::CAPACITY {
            cache.clear();
        }
        cache.insert(version.sha256.clone(), bytes.clone());
        Ok(bytes)
    }

    /// The map; a panic while it was held cannot leave it half-written (each change is
    /// one insert or clear), so a poisoned lock is taken over.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<[u8]>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `/bilanci/{slug}.pdf`: the whole published report as a PDF, made from the published
/// version's bytes.
async fn pdf(portal: &Arc<Portal>, language: Language, slug: &str) -> Response {
    let path = pdf_path(slug);
    let made = async {
        let version = published_report(portal, slug).await?;
        let bytes = portal.pdfs.get_or_make(&version)?;
        // Slugs are lower-case letters, digits and dashes; anything else is dropped so
        // that the header can never be broken by a name.
        let file: String = slug
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}.pdf\""))
            .map_err(|error| PortalError::Data(error.to_string()))?;
        Ok::<Response, PortalError>(
            (
                [
                    (CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
                    (CONTENT_DISPOSITION, disposition),
                ],
                bytes.to_vec(),
            )
                .into_response(),
        )
    };
    made.await
        .unwrap_or_else(|error| portal.failure(language, &path, error))
}

/// `/bilanci/{slug}/grafici/{code}-{andamento|confronto}.svg`: one chart of one
/// indicator of a published report.
async fn chart(portal: &Portal, slug: &str, file: &str) -> Result<Response, PortalError> {
    let (code, kind) = file
        .strip_suffix(".svg")
        .and_then(|name| name.rsplit_once('-'))
        .ok_or(PortalError::NotFound)?;
    let kind = CHARTS
        .iter()
        .find(|(_, name)| *name == kind)
        .map(|(kind, _)| *kind)
        .ok_or(PortalError::NotFound)?;
    let version = published_report(portal, slug).await?;
    let table = version
        .report
        .sections
        .iter()
        .flat_map(|section| &section.indicators)
        .find(|table| table.code == code)
        .ok_or(PortalError::NotFound)?;
    let svg = patto_report::chart_svg(table, &version.report.subject.name, kind)?;
    Ok((
        [(CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"))],
        svg,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::parse(text).unwrap()
    }

    #[test]
    fn comparison_with_the_median_follows_the_polarity() {
        let (low, high) = (decimal("10"), decimal("20.5"));
        assert_eq!(
            compare(Polarity::HigherIsBetter, &high, &low),
            "compare_better"
        );
        assert_eq!(
            compare(Polarity::LowerIsBetter, &high, &low),
            "compare_worse"
        );
        assert_eq!(
            compare(Polarity::LowerIsBetter, &low, &high),
            "compare_better"
        );
        assert_eq!(
            compare(Polarity::HigherIsBetter, &low, &decimal("10.0")),
            "compare_equal"
        );
    }

    #[test]
    fn figures_follow_the_language() {
        assert_eq!(number(Language::It, &decimal("55.25")), "55,25");
        assert_eq!(number(Language::En, &decimal("55.25")), "55.25");
    }
}
