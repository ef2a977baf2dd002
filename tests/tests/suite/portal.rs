//! The public portal over real HTTP, on the demo data: a crawler follows every link from
//! `/` and checks each answer, the pages show what the engine holds, the open data
//! matches the engine's, the feed and sitemap are XML, and drafts never show.
//!
//! The demo puts the pact and two of its protocols in force, signed with the demo keys,
//! and holds their first review, where the commitments' owners report their progress; a
//! third protocol stays a draft, for the attacks. The fixture then imports a year of
//! survey values through the same engine service an office uses.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use patto::config::GlobalOptions;
use patto_core::Language;
use patto_engine::{Actor, DatabaseConfig, Engine, SurveyFormat, SurveyImport};
use patto_tests::{TestDatabase, on_both_backends};

on_both_backends!(
    the_demo_alone_shows_its_pact_and_protocols_in_force_with_progress,
    crawling_from_home_reaches_every_page_on_this_host_only,
    pages_show_the_comuni_signatories_and_progress,
    open_data_matches_the_engine,
    feed_and_sitemap_are_xml_naming_every_publication,
    drafts_never_appear_on_the_portal,
);

/// The demo's protocols in force, and the one it leaves a draft.
pub const PROTOCOL_IN_FORCE: &str = "protocollo-appalti-pubblici";
pub const OTHER_PROTOCOL_IN_FORCE: &str = "protocollo-beni-confiscati";
pub const DRAFT_PROTOCOL: &str = "protocollo-videosorveglianza";
const DRAFT_TITLE: &str = "videosorveglianza integrata";
const DRAFT_COMMITMENT: &str = "Collegare le telecamere comunali";

/// A server with the demo data and the fixture's additions.
pub struct DemoPortal {
    pub address: SocketAddr,
    pub engine: Arc<Engine>,
    pub fingerprint: String,
    // Dropped last: the database outlives the server's use of it.
    _database: TestDatabase,
}

fn options(database: &TestDatabase) -> GlobalOptions {
    let database_url = match &database.config {
        DatabaseConfig::DataDir(_) => None,
        DatabaseConfig::Url(url) => Some(url.clone()),
    };
    GlobalOptions {
        data_dir: database.dir.clone(),
        database_url,
        server_key: None,
        operator: None,
        workflows_dir: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../workflows").into()),
        language: Language::En,
    }
}

/// Loads the demo, imports survey values, and serves the real router on port 0 with a
/// server key.
pub async fn demo_portal(database: TestDatabase) -> DemoPortal {
    let (global, engine) = load_demo(&database).await;
    let coordinator = Actor::Person(
        engine
            .person_by_email("coordinamento@example.org")
            .await
            .unwrap()
            .id,
    );
    engine
        .import_survey(
            coordinator,
            SurveyImport {
                bytes: include_bytes!("../../data/survey/good.csv").to_vec(),
                format: SurveyFormat::Csv,
                organisation: None,
            },
        )
        .await
        .unwrap();
    serve(&global, engine, database).await
}

/// Loads the demo data as `patto demo` does, into a fresh database.
async fn load_demo(database: &TestDatabase) -> (GlobalOptions, Arc<Engine>) {
    let global = options(database);
    assert_eq!(
        patto::demo::load(&global).await.unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let engine = Arc::new(global.engine().await.unwrap());
    (global, engine)
}

/// Serves the real router over the engine on port 0, with the data directory's server
/// key, as `patto serve` does.
async fn serve(global: &GlobalOptions, engine: Arc<Engine>, database: TestDatabase) -> DemoPortal {
    let server_key = Arc::new(global.server_key().unwrap());
    let fingerprint = patto_sign::fingerprint(&server_key.verifying_key());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let served = engine.clone();
    tokio::spawn(async move {
        let sessions = Arc::new(patto_api::EngineSessions(served.clone()));
        let api = patto_api::ApiConfig {
            server_key: Some(server_key),
            ..patto_api::ApiConfig::default()
        };
        // With each connection's address, as `patto serve` does: the consultation's
        // public form counts answers per client.
        let app = patto::server::router(served, sessions, api)
            .into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app).await.unwrap();
    });
    DemoPortal {
        address,
        engine,
        fingerprint,
        _database: database,
    }
}

/// An answer: status, content type and body bytes.
pub struct Fetched {
    pub status: u16,
    pub content_type: String,
    pub cache_control: String,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }
}

pub async fn fetch(address: SocketAddr, path: &str) -> Fetched {
    let response = patto_tests::http_client()
        .get(format!("http://{address}{path}"))
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, cache_control) = (header("content-type"), header("cache-control"));
    Fetched {
        status: response.status().as_u16(),
        content_type,
        cache_control,
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// The values of every `name="..."` attribute in some markup.
fn attribute_values(markup: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    let mut values = Vec::new();
    let mut rest = markup;
    while let Some(start) = rest.find(&needle) {
        let after = &rest[start + needle.len()..];
        let end = after.find('"').unwrap();
        values.push(after[..end].replace("&#x2f;", "/").replace("&amp;", "&"));
        rest = &after[end..];
    }
    values
}

/// The targets of every `url(...)` in a stylesheet that are not `data:` URLs.
fn css_urls(css: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = css;
    while let Some(start) = rest.find("url(") {
        let after = &rest[start + 4..];
        let end = after.find(')').unwrap();
        let url = after[..end].trim().trim_matches(|c| c == '\'' || c == '"');
        if !url.starts_with("data:") {
            urls.push(url.to_owned());
        }
        rest = &after[end..];
    }
    urls
}

/// A path relative to the directory of `base`, resolved (`../` included).
fn resolve(base: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = base.split('/').collect();
    parts.pop();
    for part in relative.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The heading levels of a page, in order.
fn heading_levels(html: &str) -> Vec<u8> {
    let mut levels = Vec::new();
    for (i, _) in html.match_indices("<h") {
        if let Some(level) = html[i + 2..].chars().next().and_then(|c| c.to_digit(10)) {
            let next = html[i + 3..].chars().next();
            if matches!(next, Some(' ' | '>')) {
                levels.push(level as u8);
            }
        }
    }
    levels
}

/// The content types a path may be served with, from its extension.
fn expected_type(path: &str) -> &'static str {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("css") => "text/css",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("jsonld") => "application/ld+json",
        Some("atom") => "application/atom+xml",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain",
        _ => "text/html",
    }
}

/// Follows every link, image, stylesheet and font from `/`, checking each answer as it
/// goes (200, the content type its extension says, the page structure); returns every
/// path reached and how many of them were HTML pages.
async fn crawl(address: SocketAddr) -> (BTreeSet<String>, usize) {
    let own = format!("http://{address}");
    let mut queue: VecDeque<String> = VecDeque::from(["/".to_owned()]);
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut pages = 0;
    while let Some(path) = queue.pop_front() {
        let answer = fetch(address, &path).await;
        assert_eq!(answer.status, 200, "{path} answered {}", answer.status);
        let wanted = expected_type(&path);
        assert!(
            answer.content_type.starts_with(wanted),
            "{path} is {} where {wanted} was expected",
            answer.content_type
        );
        let mut links = Vec::new();
        if wanted == "text/html" {
            pages += 1;
            let html = answer.text();
            assert!(html.starts_with("<!doctype html>"), "{path}");
            assert!(
                html.contains("<html lang=\"it\">") || html.contains("<html lang=\"en\">"),
                "{path} has no lang"
            );
            assert!(html.contains("href=\"#main\""), "{path} has no skip link");
            for landmark in ["<header", "<main id=\"main\"", "<footer", "<nav"] {
                assert!(html.contains(landmark), "{path} lacks {landmark}");
            }
            let levels = heading_levels(&html);
            assert_eq!(
                levels.iter().filter(|l| **l == 1).count(),
                1,
                "{path}: one h1"
            );
            assert_eq!(levels.first(), Some(&1), "{path}: the h1 comes first");
            for pair in levels.windows(2) {
                assert!(pair[1] <= pair[0] + 1, "{path}: heading levels {levels:?}");
            }
            if path != "/" && path != "/en" {
                assert!(html.contains("class=\"breadcrumb\""), "{path}: breadcrumbs");
            }
            assert!(!html.contains("<script"), "{path} needs no script");
            links.extend(attribute_values(&html, "href"));
            links.extend(attribute_values(&html, "src"));
        } else if wanted == "text/css" {
            links.extend(css_urls(&answer.text()).iter().map(|u| resolve(&path, u)));
        }
        for link in links {
            let link = link.strip_prefix(&own).unwrap_or(&link).to_owned();
            // Nothing a page names may be on another host: not a stylesheet, a font,
            // an image, nor a link (the licence and the sources are named in text).
            assert!(
                !link.contains("//") && !link.starts_with("mailto:"),
                "{path} references another host: {link}"
            );
            if link.starts_with('#') {
                continue;
            }
            let link = link.split('#').next().unwrap().to_owned();
            assert!(link.starts_with('/'), "{path} has a relative link {link}");
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    (seen, pages)
}

/// The text between `start` (after it) and the next `end`, or the test fails.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {text}"))
        + start.len();
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Right after `patto demo`, with nothing added, `patto serve` shows the pact in force
/// with both its protocols in force, each protocol's commitments with their owner, status,
/// what the owner reported at the first review and the protocol's progress, the reviews
/// with their outcome and minutes, and the evidence; the draft protocol shows nowhere,
/// and every link from `/` answers.
async fn the_demo_alone_shows_its_pact_and_protocols_in_force_with_progress(
    database: TestDatabase,
) {
    let (global, engine) = load_demo(&database).await;
    let portal = serve(&global, engine, database).await;
    let address = portal.address;

    let (seen, _) = crawl(address).await;
    for expected in [
        "/patto",
        "/documenti/patto-sicurezza-legalita",
        &format!("/documenti/{PROTOCOL_IN_FORCE}"),
        &format!("/documenti/{OTHER_PROTOCOL_IN_FORCE}"),
        "/evidence/patto-sicurezza-legalita/1.json",
        &format!("/evidence/{PROTOCOL_IN_FORCE}/1.json"),
        &format!("/evidence/{OTHER_PROTOCOL_IN_FORCE}/1.json"),
    ] {
        assert!(
            seen.contains(expected),
            "the crawl never reached {expected}"
        );
    }
    assert!(
        !seen.iter().any(|path| path.contains(DRAFT_PROTOCOL)),
        "the crawl reached the draft"
    );

    let pact = fetch(address, "/documenti/patto-sicurezza-legalita")
        .await
        .text();
    assert_eq!(between(&pact, "id=\"document-status\">", "<"), "In vigore");
    // One group per protocol in force, each with its progress bar and
    // count, and every commitment with its owner, status and last report.
    let commitments = between(&pact, "id=\"commitments\"", "id=\"reviews\"");
    let groups: Vec<&str> = commitments
        .split("<section class=\"mb-5\"")
        .skip(1)
        .collect();
    assert_eq!(groups.len(), 2, "{commitments}");
    let expected = [
        (
            "Protocollo operativo sulla legalità negli appalti pubblici",
            "50",
            "Impegni conclusi: 1 su 2 (50%)",
            [
                (
                    "Estendere i controlli antimafia agli affidamenti sotto soglia",
                    "Prefettura di Palermo",
                    "In corso",
                    "in corso, valore dell'indicatore 32%",
                ),
                (
                    "Pubblicare tutti gli affidamenti nella sezione Amministrazione trasparente",
                    "Comune di Termini Imerese",
                    "Concluso",
                    "concluso, valore dell'indicatore 100%",
                ),
            ],
        ),
        (
            "Protocollo operativo sul riuso sociale dei beni confiscati",
            "0",
            "Impegni conclusi: 0 su 2 (0%)",
            [
                (
                    "Censire i beni confiscati e pubblicarne l&#x27;elenco",
                    "Associazione Legalità Madonie (demo)",
                    "In corso",
                    "in corso, valore dell'indicatore 14 beni",
                ),
                (
                    "Assegnare almeno un bene confiscato a un progetto sociale",
                    "Comune di Cefalù",
                    "Da avviare",
                    "non avviato, valore dell'indicatore 0",
                ),
            ],
        ),
    ];
    for (title, percent, progress, rows) in expected {
        let group = groups
            .iter()
            .find(|group| group.contains(title))
            .unwrap_or_else(|| panic!("no group for {title} in {commitments}"));
        assert!(group.contains(&format!("value=\"{percent}\"")), "{group}");
        assert!(group.contains(progress), "{group}");
        let body: Vec<&str> = between(group, "<tbody>", "</tbody>")
            .split("<tr>")
            .skip(1)
            .collect();
        assert_eq!(body.len(), rows.len(), "{group}");
        for (row, (description, owner, status, reported)) in body.iter().zip(rows) {
            assert!(row.contains(description), "{description} not in {row}");
            assert!(row.contains(owner), "{owner} not in {row}");
            assert!(
                row.contains(&format!(">{status}</span>")),
                "{status} not in {row}"
            );
            let reported = reported.replace('\'', "&#x27;");
            assert!(row.contains(&reported), "{reported} not in {row}");
            assert!(
                row.contains("dato dimostrativo"),
                "the report's note in {row}"
            );
        }
    }
    // The pact's first review, closed with its outcome and minutes.
    let reviews = between(&pact, "id=\"reviews\"", "</section>");
    assert_eq!(reviews.matches("<li>").count(), 1, "{reviews}");
    assert!(reviews.contains("conclusa il"), "{reviews}");
    assert!(
        reviews.contains("Esito: verifica conclusa, il documento resta in vigore"),
        "{reviews}"
    );
    assert!(reviews.contains("Prima verifica del Patto"), "{reviews}");
    // The evidence, with the server's fingerprint.
    assert!(pact.contains(&portal.fingerprint));

    // Each protocol's page: in implementation, signed by the coalition and the owners of
    // its commitments, its own review closed.
    for (slug, signers) in [
        (
            PROTOCOL_IN_FORCE,
            [
                "Città a Rete Madonie-Termini",
                "Prefettura di Palermo",
                "Comune di Termini Imerese",
            ],
        ),
        (
            OTHER_PROTOCOL_IN_FORCE,
            [
                "Città a Rete Madonie-Termini",
                "Associazione Legalità Madonie (demo)",
                "Comune di Cefalù",
            ],
        ),
    ] {
        let page = fetch(address, &format!("/documenti/{slug}")).await.text();
        assert_eq!(
            between(&page, "id=\"document-status\">", "<"),
            "In attuazione"
        );
        let table = between(&page, "id=\"signatories-table\"", "</table>");
        assert_eq!(table.matches("<tr>").count(), 1 + signers.len(), "{table}");
        for signer in signers {
            assert!(table.contains(signer), "{signer} did not sign {slug}");
        }
        assert!(!table.contains("non ancora firmato"), "{table}");
        let reviews = between(&page, "id=\"reviews\"", "</section>");
        assert!(
            reviews.contains("Esito: verifica conclusa, il documento resta in vigore"),
            "{reviews}"
        );
        assert!(
            reviews.contains("Prima verifica del protocollo"),
            "{reviews}"
        );
        assert!(page.contains(&format!("/evidence/{slug}/1.json")));
    }
    // The index groups both protocols under the pact, in English too.
    let index = fetch(address, "/patto").await.text();
    assert!(index.contains("Impegni conclusi: 1 su 2 (50%)"));
    assert!(index.contains("Impegni conclusi: 0 su 2 (0%)"));
    let english = fetch(address, "/en/patto").await.text();
    assert!(english.contains("Commitments done: 0 of 2 (0%)"));
    assert!(
        english.contains("in progress, indicator at 32%"),
        "{english}"
    );
}

async fn crawling_from_home_reaches_every_page_on_this_host_only(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let (seen, pages) = crawl(address).await;
    // Home, the Comuni, the pact pages, open data, the text pages, in two languages.
    assert!(pages > 2 * (28 + 6), "only {pages} pages were reached");
    for expected in [
        "/comuni/cefalu",
        "/en/comuni/cefalu",
        "/documenti/patto-sicurezza-legalita",
        "/documenti/protocollo-appalti-pubblici",
        "/diagnosi/diagnosi-citta-a-rete-madonie-termini-2025",
        "/en/diagnosi/diagnosi-citta-a-rete-madonie-termini-2025",
        "/documenti/diagnosi-citta-a-rete-madonie-termini-2025",
        "/dati/indicatori.csv",
        "/dati/impegni.json",
        "/dati/catalogo.jsonld",
        "/feed.atom",
        "/sitemap.xml",
        "/accessibilita",
        "/privacy",
        "/note-legali",
        "/evidence/patto-sicurezza-legalita/1.json",
        "/bilanci",
        "/en/bilanci",
        "/bilanci/bilancio-sociale-cefalu-2024",
        "/en/bilanci/bilancio-sociale-cefalu-2024",
        "/bilanci/bilancio-sociale-cefalu-2024.pdf",
        "/bilanci/bilancio-sociale-citta-a-rete-madonie-termini-2024",
        "/bilanci/bilancio-sociale-termini-imerese-2024.pdf",
        "/bilanci/bilancio-sociale-petralia-sottana-2024",
        "/evidence/bilancio-sociale-cefalu-2024/1.json",
    ] {
        assert!(
            seen.contains(expected),
            "the crawl never reached {expected}"
        );
    }
    // The demo's closed consultation is listed on the home page with its results.
    assert!(
        seen.iter()
            .any(|p| p.starts_with("/consultazioni/") && p.ends_with("/risultati")),
        "the crawl never reached a consultation's results"
    );
    // The vendored assets are served with a year-long cache; pages are revalidated.
    let css = fetch(
        address,
        "/assets/bootstrap-italia-2.18.3/css/bootstrap-italia.min.css",
    )
    .await;
    assert!(css.cache_control.contains("max-age=31536000"));
    assert_eq!(fetch(address, "/").await.cache_control, "no-cache");
    assert_eq!(fetch(address, "/robots.txt").await.status, 200);
}

async fn pages_show_the_comuni_signatories_and_progress(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let comuni = fetch(address, "/comuni").await.text();
    let links = attribute_values(&comuni, "href")
        .into_iter()
        .filter(|h| h.starts_with("/comuni/"))
        .count();
    assert_eq!(links, 28);
    for comune in patto::demo::comuni().unwrap() {
        assert!(comuni.contains(&comune.name), "{} is missing", comune.name);
        assert!(comuni.contains(&comune.istat_code));
    }
    // Cefalù: its ISTAT code, its population with its source, the pact it signed.
    let cefalu = fetch(address, "/comuni/cefalu").await.text();
    assert!(cefalu.contains("082027"));
    assert!(cefalu.contains("13.994"), "the 2021 population");
    assert!(cefalu.contains("ISTAT"));
    assert!(cefalu.contains("/documenti/patto-sicurezza-legalita"));
    // Termini Imerese signed the protocol and owns one of its commitments.
    let termini = fetch(address, "/comuni/termini-imerese").await.text();
    assert!(termini.contains("/documenti/protocollo-appalti-pubblici"));
    assert!(termini.contains("Pubblicare tutti gli affidamenti"));
    // A Comune that signed nothing says so.
    let alimena = fetch(address, "/comuni/alimena").await.text();
    assert!(alimena.contains("non ha ancora firmato"));

    // The pact: five signatories, each with the referent who signed and a date.
    let pact = fetch(address, "/documenti/patto-sicurezza-legalita")
        .await
        .text();
    let table = &pact[pact.find("id=\"signatories-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 1 + 5);
    for name in [
        "Città a Rete Madonie-Termini",
        "Regione Siciliana",
        "Prefettura di Palermo",
        "Comune di Cefalù",
        "Comune di Termini Imerese",
    ] {
        assert!(table.contains(name), "{name} is not among the signatories");
        assert!(table.contains(&format!("Referente {name}")));
    }
    assert!(!table.contains("non ancora firmato"));
    assert!(pact.contains("In vigore"));
    // The evidence: the download, the server's fingerprint and the command to verify.
    assert!(pact.contains("href=\"/evidence/patto-sicurezza-legalita/1.json\""));
    assert!(pact.contains(&portal.fingerprint));
    assert!(pact.contains("--server-fingerprint"));
    assert!(pact.contains("non una firma digitale qualificata"));
    // The pact's page groups the commitments of its protocols in force, with progress:
    // one of two done in one, none yet in the other.
    assert!(pact.contains("Protocollo operativo sulla legalità negli appalti pubblici"));
    assert!(pact.contains("value=\"50\""));
    assert!(pact.contains("Impegni conclusi: 1 su 2 (50%)"));
    assert!(pact.contains("Impegni conclusi: 0 su 2 (0%)"));
    let index = fetch(address, "/patto").await.text();
    assert!(index.contains("Impegni conclusi: 1 su 2 (50%)"));
    assert!(index.contains("Concluso") && index.contains("In corso"));

    // English where a translation exists.
    let english = fetch(address, "/en/documenti/protocollo-appalti-pubblici")
        .await
        .text();
    assert!(english.contains("<html lang=\"en\">"));
    assert!(english.contains("Commitments done: 1 of 2 (50%)"));
    assert!(english.contains("Being implemented"));
    assert!(english.contains("href=\"/documenti/protocollo-appalti-pubblici\""));
}

async fn open_data_matches_the_engine(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let engine = &portal.engine;

    let expected = engine.export_survey(None, Some("CC-BY-4.0")).await.unwrap();
    assert!(!expected.values.is_empty());
    let json: serde_json::Value =
        serde_json::from_slice(&fetch(address, "/dati/indicatori.json").await.body).unwrap();
    assert_eq!(json["licence"], "CC-BY-4.0");
    assert_eq!(
        json["values"],
        serde_json::to_value(&expected.values).unwrap()
    );
    let csv = fetch(address, "/dati/indicatori.csv").await.text();
    assert_eq!(csv, expected.to_csv().unwrap());

    // Commitments: exactly those of the published documents, with their status.
    let mut published = Vec::new();
    for readable in engine.readable_documents(Actor::Public).await.unwrap() {
        published.extend(
            engine
                .readable_commitments(Actor::Public, readable.document.id)
                .await
                .unwrap()
                .into_iter()
                .map(|commitment| (commitment, readable.document.slug.clone())),
        );
    }
    // Two per protocol in force; the draft's are not published.
    assert_eq!(published.len(), 4);
    let json: serde_json::Value =
        serde_json::from_slice(&fetch(address, "/dati/impegni.json").await.body).unwrap();
    assert_eq!(json["licence"], "CC-BY-4.0");
    let rows = json["values"].as_array().unwrap();
    assert_eq!(rows.len(), published.len());
    for (commitment, slug) in &published {
        let row = rows
            .iter()
            .find(|r| r["impegno"] == commitment.id.get())
            .unwrap();
        assert_eq!(row["descrizione"], commitment.description);
        assert_eq!(row["stato"], commitment.status.as_str());
        assert!([PROTOCOL_IN_FORCE, OTHER_PROTOCOL_IN_FORCE].contains(&slug.as_str()));
        assert_eq!(&row["documento"], slug.as_str());
    }
    let csv = fetch(address, "/dati/impegni.csv").await.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("documento,titolo_documento,impegno,descrizione"));
    assert_eq!(lines.len(), 1 + published.len());
    assert!(csv.contains(",done,") && csv.contains(",in_progress,"));

    // The DCAT-AP_IT catalogue describes both datasets with their distributions.
    let catalogue: serde_json::Value =
        serde_json::from_slice(&fetch(address, "/dati/catalogo.jsonld").await.body).unwrap();
    assert!(
        catalogue["@type"]
            .as_array()
            .unwrap()
            .contains(&"dcatapit:Catalog".into())
    );
    let datasets = catalogue["dcat:dataset"].as_array().unwrap();
    assert_eq!(datasets.len(), 2);
    for dataset in datasets {
        for distribution in dataset["dcat:distribution"].as_array().unwrap() {
            let url = distribution["dcat:downloadURL"]["@id"].as_str().unwrap();
            let path = url.strip_prefix(&format!("http://{address}")).unwrap();
            assert_eq!(fetch(address, path).await.status, 200, "{url}");
            assert_eq!(
                distribution["dct:license"]["@id"],
                "https://creativecommons.org/licenses/by/4.0/"
            );
        }
    }
}

/// Reads a whole XML document, failing on any well-formedness error, and returns the
/// text of every element with this local name.
fn xml_texts(xml: &str, element: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut texts = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => inside = start.local_name().as_ref() == element,
            Ok(Event::Text(text)) if inside => texts.push(text.xml10_content().into_owned()),
            Ok(Event::End(_)) => inside = false,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("not well-formed XML: {error}\n{xml}"),
        }
    }
    texts
}

async fn feed_and_sitemap_are_xml_naming_every_publication(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let feed = fetch(address, "/feed.atom").await;
    assert!(feed.content_type.starts_with("application/atom+xml"));
    let titles = xml_texts(&feed.text(), "title");
    assert!(titles.contains(&"Patto locale per la sicurezza e la legalità".to_owned()));
    assert!(
        titles.contains(&"Protocollo operativo sulla legalità negli appalti pubblici".to_owned())
    );
    let published = portal
        .engine
        .readable_documents(Actor::Public)
        .await
        .unwrap();
    // The feed's own title, then one entry per published document.
    assert_eq!(titles.len(), 1 + published.len());

    let sitemap = fetch(address, "/sitemap.xml").await.text();
    let locations = xml_texts(&sitemap, "loc");
    assert!(locations.len() >= 28 + 7 + published.len());
    for location in &locations {
        let path = location.strip_prefix(&format!("http://{address}")).unwrap();
        assert_eq!(fetch(address, path).await.status, 200, "{location}");
    }
    let robots = fetch(address, "/robots.txt").await.text();
    assert!(robots.contains(&format!("Sitemap: http://{address}/sitemap.xml")));
}

async fn drafts_never_appear_on_the_portal(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    // The attack: a draft's slug, guessed or leaked, in every portal address that takes
    // a slug. Each answers 404 in the site's layout, exactly like a slug that does not
    // exist, and says nothing of the draft.
    for path in [
        format!("/documenti/{DRAFT_PROTOCOL}"),
        format!("/en/documenti/{DRAFT_PROTOCOL}"),
        format!("/comuni/{DRAFT_PROTOCOL}"),
        format!("/dati/{DRAFT_PROTOCOL}.json"),
        "/documenti/no-such-document".to_owned(),
    ] {
        let answer = fetch(address, &path).await;
        assert_eq!(answer.status, 404, "{path}");
        let html = answer.text();
        assert!(
            html.contains("<main id=\"main\""),
            "{path}: the site's layout"
        );
        assert!(html.contains("Pagina non trovata") || html.contains("Page not found"));
        assert!(
            !html.contains(DRAFT_TITLE),
            "{path} leaks the draft's title"
        );
        assert!(
            !html.contains(DRAFT_COMMITMENT),
            "{path} leaks a commitment"
        );
    }
    let unknown = fetch(address, "/documenti/no-such-document").await.text();
    let draft = fetch(address, &format!("/documenti/{DRAFT_PROTOCOL}"))
        .await
        .text();
    assert_eq!(
        draft.replace(DRAFT_PROTOCOL, "SLUG"),
        unknown.replace("no-such-document", "SLUG"),
        "a draft's page differs from a missing one"
    );
    // Nor does the draft show anywhere the public looks.
    for path in [
        "/",
        "/patto",
        "/comuni/cefalu",
        "/dati/impegni.json",
        "/dati/impegni.csv",
        "/feed.atom",
        "/sitemap.xml",
        "/en/patto",
    ] {
        let body = fetch(address, path).await.text();
        assert!(!body.contains(DRAFT_PROTOCOL), "{path} names the draft");
        assert!(
            !body.contains(DRAFT_TITLE),
            "{path} shows the draft's title"
        );
        assert!(
            !body.contains(DRAFT_COMMITMENT),
            "{path} shows its commitment"
        );
    }
}
