//! The public portal over real HTTP, on the demo data: a crawler follows every link from
//! `/` and checks each answer, the pages show what the engine holds, the open data
//! matches the engine's, the feed and sitemap are XML, and drafts never show.
//!
//! The demo puts the pact in force and leaves its protocols as drafts; the fixture then
//! does what the coalition would do next, through the same engine services: one protocol
//! is signed into force with the demo keys and its commitments move on, and a year of
//! survey values is imported. The other protocol stays a draft, for the attacks.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use patto::config::GlobalOptions;
use patto_core::Language;
use patto_core::records::SignatoryEntry;
use patto_core::status::CommitmentStatus;
use patto_engine::{
    Actor, CommitmentChange, DatabaseConfig, Engine, FireRequest, SurveyFormat, SurveyImport,
};
use patto_tests::{TestDatabase, on_both_backends};

on_both_backends!(
    crawling_from_home_reaches_every_page_on_this_host_only,
    pages_show_the_comuni_signatories_and_progress,
    open_data_matches_the_engine,
    feed_and_sitemap_are_xml_naming_every_publication,
    drafts_never_appear_on_the_portal,
);

/// The protocol the fixture brings into force, and the one it leaves a draft.
pub const PROTOCOL_IN_FORCE: &str = "protocollo-appalti-pubblici";
pub const DRAFT_PROTOCOL: &str = "protocollo-beni-confiscati";
const DRAFT_TITLE: &str = "riuso sociale dei beni confiscati";
const DRAFT_COMMITMENT: &str = "Censire i beni confiscati";

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

async fn fire(engine: &Engine, actor: Actor, slug: &str, transition: &str) {
    let document = engine.document_by_slug(slug).await.unwrap();
    let instance = engine.instance_of(document.id).await.unwrap();
    engine
        .fire(
            actor,
            FireRequest {
                document_id: document.id,
                transition: transition.to_owned(),
                expected_version: instance.version,
            },
        )
        .await
        .unwrap();
}

/// Loads the demo, brings one protocol into force with two commitments moved on,
/// imports survey values, and serves the real router on port 0 with a server key.
pub async fn demo_portal(database: TestDatabase) -> DemoPortal {
    let global = options(&database);
    assert_eq!(
        patto::demo::load(&global).await.unwrap(),
        std::process::ExitCode::SUCCESS
    );
    let engine = Arc::new(global.engine().await.unwrap());
    let coordinator = Actor::Person(
        engine
            .person_by_email("coordinamento@example.org")
            .await
            .unwrap()
            .id,
    );
    // The protocol's commitments are the prefecture's and Termini Imerese's, whose
    // referents signed the pact with demo keys: they sign the protocol too.
    let protocol = engine.document_by_slug(PROTOCOL_IN_FORCE).await.unwrap();
    let signers = ["prefettura-palermo", "termini-imerese"];
    let mut entries = Vec::new();
    for slug in signers {
        let organisation = engine.organisation_by_slug(slug).await.unwrap();
        let person = engine
            .person_by_email(&format!("referente.{slug}@example.org"))
            .await
            .unwrap();
        entries.push(SignatoryEntry {
            organisation: organisation.id,
            person: person.id,
        });
    }
    engine
        .set_signatories(coordinator, protocol.id, &entries)
        .await
        .unwrap();
    fire(&engine, coordinator, PROTOCOL_IN_FORCE, "share").await;
    fire(&engine, coordinator, PROTOCOL_IN_FORCE, "freeze").await;
    for view in engine.signature_requests(protocol.id).await.unwrap() {
        let organisation = engine
            .organisations()
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.id == view.request.organisation_id)
            .unwrap();
        let pem = std::fs::read_to_string(
            database
                .dir
                .join(format!("demo-keys/{}.pem", organisation.slug)),
        )
        .unwrap();
        let key = patto_sign::secret_key_from_pem(&pem).unwrap();
        let statement = engine.statement_for(view.request.id).await.unwrap();
        let signature = patto_sign::sign(&key, statement.as_bytes());
        engine
            .submit_signature(
                Actor::Person(view.request.person_id),
                view.request.id,
                Some(statement.as_bytes()),
                &signature,
            )
            .await
            .unwrap();
    }
    assert_eq!(
        engine.instance_of(protocol.id).await.unwrap().state,
        "implementation"
    );
    let commitments = engine
        .readable_commitments(Actor::Public, protocol.id)
        .await
        .unwrap();
    for (commitment, status) in commitments
        .iter()
        .zip([CommitmentStatus::Done, CommitmentStatus::InProgress])
    {
        engine
            .update_commitment(
                coordinator,
                commitment.id,
                CommitmentChange {
                    owner_organisation_id: None,
                    due_date: None,
                    status: Some(status),
                },
            )
            .await
            .unwrap();
    }
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
    let response = reqwest::get(format!("http://{address}{path}"))
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
        Some("csv") => "text/csv",
        Some("json") => "application/json",
        Some("jsonld") => "application/ld+json",
        Some("atom") => "application/atom+xml",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain",
        _ => "text/html",
    }
}

async fn crawling_from_home_reaches_every_page_on_this_host_only(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
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
    // Home, the Comuni, the pact pages, open data, the text pages, in two languages.
    assert!(pages > 2 * (28 + 6), "only {pages} pages were reached");
    for expected in [
        "/comuni/cefalu",
        "/en/comuni/cefalu",
        "/documenti/patto-sicurezza-legalita",
        "/documenti/protocollo-appalti-pubblici",
        "/dati/indicatori.csv",
        "/dati/impegni.json",
        "/dati/catalogo.jsonld",
        "/feed.atom",
        "/sitemap.xml",
        "/accessibilita",
        "/privacy",
        "/note-legali",
        "/evidence/patto-sicurezza-legalita/1.json",
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
    // The pact's page groups the commitments of its protocol in force, with progress:
    // one of two done.
    assert!(pact.contains("Protocollo operativo sulla legalità negli appalti pubblici"));
    assert!(pact.contains("value=\"50\""));
    assert!(pact.contains("Impegni conclusi: 1 su 2 (50%)"));
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
                .unwrap(),
        );
    }
    assert_eq!(published.len(), 2);
    let json: serde_json::Value =
        serde_json::from_slice(&fetch(address, "/dati/impegni.json").await.body).unwrap();
    assert_eq!(json["licence"], "CC-BY-4.0");
    let rows = json["values"].as_array().unwrap();
    assert_eq!(rows.len(), published.len());
    for commitment in &published {
        let row = rows
            .iter()
            .find(|r| r["impegno"] == commitment.id.get())
            .unwrap();
        assert_eq!(row["descrizione"], commitment.description);
        assert_eq!(row["stato"], commitment.status.as_str());
        assert_eq!(row["documento"], PROTOCOL_IN_FORCE);
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
