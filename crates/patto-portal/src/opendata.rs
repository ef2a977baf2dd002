//! The machine-readable side of the portal: open data (CSV and JSON, CC BY 4.0), the
//! DCAT-AP_IT catalogue that describes them, the Atom feed of publications, the sitemap
//! and robots.txt. Absolute addresses start from the host the request reached.

use std::collections::BTreeMap;

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use patto_core::Language;
use patto_core::ids::OrganisationId;
use patto_core::records::Organisation;
use serde::Serialize;
use serde_json::{Value, json};

use crate::Portal;
use crate::data::{self, Published};
use crate::error::PortalError;
use crate::pages::{TextPage, document_path, href};
use crate::text::Texts;

/// The licence of everything the portal publishes as data.
pub const LICENCE: &str = "CC-BY-4.0";
/// Its text.
pub const LICENCE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";

/// One dataset of the catalogue.
pub struct Dataset {
    /// Its file name without extension, under `/dati/`.
    pub file: &'static str,
    /// The key of its title in the texts.
    pub title_key: &'static str,
    /// The key of its description in the texts.
    pub description_key: &'static str,
    /// Its EU data theme (the DCAT-AP `data-theme` authority table).
    theme: &'static str,
    /// How often it changes (the EU `frequency` authority table).
    frequency: &'static str,
}

/// The datasets, in the order the open-data page lists them.
pub const DATASETS: [Dataset; 2] = [
    Dataset {
        file: "indicatori",
        title_key: "dataset_indicators",
        description_key: "dataset_indicators_description",
        theme: "SOCI",
        frequency: "ANNUAL",
    },
    Dataset {
        file: "impegni",
        title_key: "dataset_commitments",
        description_key: "dataset_commitments_description",
        theme: "GOVE",
        frequency: "IRREG",
    },
];

/// The start of every absolute address: the scheme and the host the request reached,
/// which must look like a host name (letters, digits, dots, dashes, a port); anything
/// else falls back to `localhost`, so that a forged `Host` cannot inject markup.
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn with_type(content_type: &'static str, body: String) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// The indicators: the baseline survey as the engine exports it.
pub async fn indicators(portal: &Portal, format: Format) -> Result<Response, PortalError> {
    let export = portal.engine.export_survey(None, Some(LICENCE)).await?;
    match format {
        Format::Csv => Ok(with_type("text/csv; charset=utf-8", export.to_csv()?)),
        Format::Json => json_response(&export),
    }
}

/// One commitment as open data.
#[derive(Debug, Serialize)]
pub struct CommitmentRow {
    /// The slug of its document.
    pub documento: String,
    /// The title of its document.
    pub titolo_documento: String,
    /// Its id.
    pub impegno: i64,
    /// What is promised.
    pub descrizione: String,
    /// The owner's slug.
    pub responsabile: String,
    /// The owner's name.
    pub nome_responsabile: String,
    /// The owner's ISTAT code, for a Comune.
    pub codice_istat: String,
    /// Due date (ISO 8601), or empty.
    pub scadenza: String,
    /// How it is measured.
    pub indicatore: String,
    /// The value to reach.
    pub obiettivo: String,
    /// Its status code: open, in_progress, done, cancelled.
    pub stato: String,
    /// When it last changed (RFC 3339).
    pub aggiornato_il: String,
    /// The licence.
    pub licenza: String,
}

/// The commitments dataset with its licence, as JSON.
#[derive(Debug, Serialize)]
struct CommitmentsExport {
    title: String,
    licence: &'static str,
    licence_url: &'static str,
    generated_at: String,
    values: Vec<CommitmentRow>,
}

/// The CSV columns of the commitments, in order.
const COMMITMENT_COLUMNS: [&str; 13] = [
    "documento",
    "titolo_documento",
    "impegno",
    "descrizione",
    "responsabile",
    "nome_responsabile",
    "codice_istat",
    "scadenza",
    "indicatore",
    "obiettivo",
    "stato",
    "aggiornato_il",
    "licenza",
];

/// Every commitment of every published document.
pub async fn commitment_rows(portal: &Portal) -> Result<Vec<CommitmentRow>, PortalError> {
    let published = data::published(&portal.engine).await?;
    let organisations = data::organisations(&portal.engine).await?;
    let mut documents: Vec<&Published> = published.iter().collect();
    documents.sort_by(|a, b| a.document.slug.cmp(&b.document.slug));
    let groups = data::commitment_groups(&portal.engine, &documents).await?;
    let owner = |id: Option<OrganisationId>| -> Option<&Organisation> {
        id.and_then(|id| organisations.get(&id))
    };
    Ok(groups
        .iter()
        .flat_map(|group| {
            group.commitments.iter().map(|c| {
                let owner = owner(c.owner_organisation_id);
                CommitmentRow {
                    documento: group.document.document.slug.clone(),
                    titolo_documento: group.document.document.title.clone(),
                    impegno: c.id.get(),
                    descrizione: c.description.clone(),
                    responsabile: owner.map(|o| o.slug.clone()).unwrap_or_default(),
                    nome_responsabile: owner.map(|o| o.name.clone()).unwrap_or_default(),
                    codice_istat: owner.and_then(|o| o.istat_code.clone()).unwrap_or_default(),
                    scadenza: c.due_date.map(|d| d.to_string()).unwrap_or_default(),
                    indicatore: c.indicator.clone().unwrap_or_default(),
                    obiettivo: c.target.clone().unwrap_or_default(),
                    stato: c.status.as_str().to_owned(),
                    aggiornato_il: c.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    licenza: LICENCE.to_owned(),
                }
            })
        })
        .collect())
}

/// The commitments dataset.
pub async fn commitments(portal: &Portal, format: Format) -> Result<Response, PortalError> {
    let rows = commitment_rows(portal).await?;
    match format {
        Format::Csv => {
            let failed = |e: csv::Error| PortalError::Data(e.to_string());
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            writer.write_record(COMMITMENT_COLUMNS).map_err(failed)?;
            for row in &rows {
                writer.serialize(row).map_err(failed)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| PortalError::Data(e.to_string()))?;
            let text = String::from_utf8(bytes).map_err(|e| PortalError::Data(e.to_string()))?;
            Ok(with_type("text/csv; charset=utf-8", text))
        }
        Format::Json => json_response(&CommitmentsExport {
            title: Texts::new(Language::It).get("dataset_commitments"),
            licence: LICENCE,
            licence_url: LICENCE_URL,
            generated_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            values: rows,
        }),
    }
}

/// A file's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// JSON with the licence beside the values.
    Json,
}

fn json_response<T: Serialize>(value: &T) -> Result<Response, PortalError> {
    let body = serde_json::to_string_pretty(value).map_err(|e| PortalError::Data(e.to_string()))?;
    Ok(with_type("application/json", body))
}

/// `/dati/catalogo.jsonld`: the catalogue in the DCAT-AP_IT profile, as JSON-LD.
pub async fn catalogue(portal: &Portal, headers: &HeaderMap) -> Result<Response, PortalError> {
    let base = base_url(headers);
    let texts = Texts::new(Language::It);
    let english = Texts::new(Language::En);
    let organisations = data::organisations(&portal.engine).await?;
    let coalition = organisations.values().find(|o| data::is_coalition(o));
    let publisher = json!({
        "@type": ["foaf:Agent", "dcatapit:Agent"],
        "dct:identifier": coalition.map_or("citta-a-rete-madonie-termini", |o| o.slug.as_str()),
        "foaf:name": coalition.map_or(texts.get("owner_line"), |o| o.name.clone()),
    });
    let modified = Utc::now().date_naive().to_string();
    let datasets: Vec<Value> = DATASETS
        .iter()
        .map(|dataset| {
            let page = format!("{base}/dati#{}", dataset.file);
            let distribution = |format: &str, media_type: &str, extension: &str| {
                let url = format!("{base}/dati/{}.{extension}", dataset.file);
                json!({
                    "@id": url,
                    "@type": ["dcat:Distribution", "dcatapit:Distribution"],
                    "dct:title": format!("{} ({format})", texts.get(dataset.title_key)),
                    "dct:format": { "@id": format!("http://publications.europa.eu/resource/authority/file-type/{format}") },
                    "dcat:mediaType": media_type,
                    "dcat:accessURL": { "@id": url },
                    "dcat:downloadURL": { "@id": url },
                    "dct:license": {
                        "@id": LICENCE_URL,
                        "@type": ["dct:LicenseDocument", "dcatapit:LicenseDocument"],
                        "dct:type": { "@id": "http://purl.org/adms/licencetype/Attribution" },
                        "foaf:name": "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
                    },
                })
            };
            json!({
                "@id": page,
                "@type": ["dcat:Dataset", "dcatapit:Dataset"],
                "dct:identifier": format!("citta-a-rete-madonie-termini:{}", dataset.file),
                "dct:title": [
                    { "@value": texts.get(dataset.title_key), "@language": "it" },
                    { "@value": english.get(dataset.title_key), "@language": "en" },
                ],
                "dct:description": [
                    { "@value": texts.get(dataset.description_key), "@language": "it" },
                    { "@value": english.get(dataset.description_key), "@language": "en" },
                ],
                "dct:publisher": publisher,
                "dct:rightsHolder": publisher,
                "dct:modified": { "@value": modified, "@type": "xsd:date" },
                "dct:language": { "@id": "http://publications.europa.eu/resource/authority/language/ITA" },
                "dct:accrualPeriodicity": { "@id": format!("http://publications.europa.eu/resource/authority/frequency/{}", dataset.frequency) },
                "dcat:theme": { "@id": format!("http://publications.europa.eu/resource/authority/data-theme/{}", dataset.theme) },
                "dcat:landingPage": { "@id": format!("{base}/dati") },
                "dcat:distribution": [
                    distribution("CSV", "text/csv", "csv"),
                    distribution("JSON", "application/json", "json"),
                ],
            })
        })
        .collect();
    let catalogue = json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "dcatapit": "http://dati.gov.it/onto/dcatapit#",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": format!("{base}/dati/catalogo.jsonld"),
        "@type": ["dcat:Catalog", "dcatapit:Catalog"],
        "dct:title": texts.get("data_title"),
        "dct:description": texts.get("data_intro"),
        "dct:publisher": publisher,
        "dct:modified": { "@value": modified, "@type": "xsd:date" },
        "dct:language": { "@id": "http://publications.europa.eu/resource/authority/language/ITA" },
        "foaf:homepage": { "@id": format!("{base}/") },
        "dcat:dataset": datasets,
    });
    let body =
        serde_json::to_string_pretty(&catalogue).map_err(|e| PortalError::Data(e.to_string()))?;
    Ok(with_type("application/ld+json", body))
}

/// Escapes text for XML.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `/feed.atom`: the published documents, newest first.
pub async fn feed(portal: &Portal, headers: &HeaderMap) -> Result<Response, PortalError> {
    let base = base_url(headers);
    let texts = Texts::new(Language::It);
    let published = data::published(&portal.engine).await?;
    let updated = published
        .iter()
        .map(|p| p.published_at)
        .max()
        .unwrap_or_else(Utc::now)
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"it\">\n");
    out.push_str(&format!(
        "  <title>{}</title>\n",
        xml(&texts.get("feed_title"))
    ));
    out.push_str(&format!("  <id>{}/feed.atom</id>\n", xml(&base)));
    out.push_str(&format!(
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}/feed.atom\"/>\n",
        xml(&base)
    ));
    out.push_str(&format!(
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/\"/>\n",
        xml(&base)
    ));
    out.push_str(&format!("  <updated>{updated}</updated>\n"));
    out.push_str(&format!(
        "  <author><name>{}</name></author>\n",
        xml(&texts.get("owner_line"))
    ));
    for p in &published {
        let url = format!("{base}{}", document_path(p));
        let kind = texts.get(&format!("kind_{}", p.document.kind));
        let state = texts.get(&format!("state_{}", p.state));
        out.push_str("  <entry>\n");
        out.push_str(&format!("    <title>{}</title>\n", xml(&p.document.title)));
        out.push_str(&format!("    <id>{}</id>\n", xml(&url)));
        out.push_str(&format!(
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
            xml(&url)
        ));
        // A report's PDF goes with its entry, for readers that fetch enclosures.
        if p.kind() == Some(patto_core::DocumentKind::SocialReport) {
            out.push_str(&format!(
                "    <link rel=\"enclosure\" type=\"application/pdf\" href=\"{}.pdf\"/>\n",
                xml(&url)
            ));
        }
        let at = p.published_at.to_rfc3339_opts(SecondsFormat::Secs, true);
        out.push_str(&format!(
            "    <published>{at}</published>\n    <updated>{at}</updated>\n"
        ));
        out.push_str(&format!(
            "    <summary>{}</summary>\n",
            xml(&format!("{kind} — {state}"))
        ));
        out.push_str("  </entry>\n");
    }
    out.push_str("</feed>\n");
    Ok(with_type("application/atom+xml; charset=utf-8", out))
}

/// Every page's path (without language prefix), for the sitemap.
pub async fn page_paths(portal: &Portal) -> Result<Vec<String>, PortalError> {
    let mut paths: Vec<String> = ["/", "/comuni", "/patto", "/bilanci", "/dati"]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
    paths.extend(TextPage::ALL.iter().map(|(path, _)| (*path).to_owned()));
    let organisations: BTreeMap<_, _> = data::organisations(&portal.engine).await?;
    paths.extend(
        organisations
            .values()
            .filter(|o| data::is_comune(o))
            .map(|o| format!("/comuni/{}", o.slug)),
    );
    paths.extend(
        data::published(&portal.engine)
            .await?
            .iter()
            .map(document_path),
    );
    // An approved diagnosis is published, so `document_path` has already given its page.
    Ok(paths)
}

/// `/sitemap.xml`: every page in Italian, with its English alternate.
pub async fn sitemap(portal: &Portal, headers: &HeaderMap) -> Result<Response, PortalError> {
    let base = base_url(headers);
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n");
    for path in page_paths(portal).await? {
        let italian = format!("{base}{}", href(Language::It, &path));
        let english = format!("{base}{}", href(Language::En, &path));
        out.push_str("  <url>\n");
        out.push_str(&format!("    <loc>{}</loc>\n", xml(&italian)));
        out.push_str(&format!(
            "    <xhtml:link rel=\"alternate\" hreflang=\"it\" href=\"{}\"/>\n",
            xml(&italian)
        ));
        out.push_str(&format!(
            "    <xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"{}\"/>\n",
            xml(&english)
        ));
        out.push_str("  </url>\n");
    }
    out.push_str("</urlset>\n");
    Ok(with_type("application/xml; charset=utf-8", out))
}

/// `/robots.txt`: everything may be crawled; the sitemap says what there is.
pub fn robots(headers: &HeaderMap) -> Response {
    with_type(
        "text/plain; charset=utf-8",
        format!(
            "User-agent: *\nAllow: /\nDisallow: /graphql\n\nSitemap: {}/sitemap.xml\n",
            base_url(headers)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_host_cannot_reach_the_markup() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::HOST,
            HeaderValue::from_static("portale.example.org:8080"),
        );
        assert_eq!(base_url(&headers), "http://portale.example.org:8080");
        headers.insert(
            axum::http::header::HOST,
            HeaderValue::from_static("evil\"><script>"),
        );
        assert_eq!(base_url(&headers), "http://localhost");
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml("a & <b> \"c\""), "a &amp; &lt;b&gt; &quot;c&quot;");
    }
}
