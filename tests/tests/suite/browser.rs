//! Accessibility in a real browser: the portal with the demo data is loaded page by page
//! in Debian's headless Chromium, and axe-core checks each with the WCAG 2.1 A and AA
//! rules (`tests/browser/axe.mjs`). Any violation fails the test. Screenshots of the main
//! pages are kept in `target/browser-artefacts/`.
//!
//! Without Chromium, Node or the npm packages (`npm ci` in `tests/browser`) the test
//! prints `SKIP browser` and passes, except under CI (`CI` set), where it fails.
//! It runs on SQLite only: the backend changes no byte of a page.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use patto_tests::TestDatabase;

use crate::portal::{PROTOCOL_IN_FORCE, demo_portal};

/// One page of every type: its path, a selector it must contain, the status it answers
/// with and the name of its screenshot, if one is kept. Adding a page is one line.
const PAGES: &[(&str, &str, u16, Option<&str>)] = &[
    ("/", "main h1", 200, Some("home")),
    ("/en", "main h1", 200, Some("home-en")),
    ("/comuni", "main table", 200, Some("comuni")),
    ("/comuni/cefalu", "main dl", 200, Some("comune")),
    ("/patto", "main progress", 200, Some("patto")),
    (
        "/documenti/patto-sicurezza-legalita",
        "#signatories-table",
        200,
        Some("documento"),
    ),
    (
        "/documenti/protocollo-appalti-pubblici",
        "main progress",
        200,
        None,
    ),
    (
        "/diagnosi/diagnosi-citta-a-rete-madonie-termini-2025",
        "#diagnosis-problems",
        200,
        Some("diagnosi"),
    ),
    (
        "/en/diagnosi/diagnosi-citta-a-rete-madonie-termini-2025",
        "#diagnosis-problems",
        200,
        None,
    ),
    ("/bilanci", "main .report-list", 200, None),
    (
        "/bilanci/bilancio-sociale-cefalu-2024",
        "main .report-chart img",
        200,
        Some("bilancio-sociale"),
    ),
    (
        "/en/bilanci/bilancio-sociale-citta-a-rete-madonie-termini-2024",
        "main .indicator-table",
        200,
        Some("bilancio-sociale-en"),
    ),
    ("/dati", "main table", 200, Some("dati")),
    ("/accessibilita", "main h2", 200, Some("accessibilita")),
    ("/privacy", "main h2", 200, None),
    ("/note-legali", "main h2", 200, None),
    ("/pagina-che-non-esiste", "main h1", 404, Some("404")),
];

/// Developer tools the server also serves, loaded to show that they work from the
/// binary's own assets under a self-only policy (GraphiQL's editor appears only if every
/// script loaded and ran, and no other host is asked for anything). axe is not applied:
/// GraphiQL is third-party code for developers, not a page of the public site, and its
/// editor fails contrast and label rules upstream.
const DEVELOPER_PAGES: &[(&str, &str, &str)] = &[("/graphql", ".graphiql-container", "graphiql")];

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Why the browser check cannot run here, if it cannot.
fn missing_tools() -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    if !Path::new(&chromium).exists() {
        return Some(format!("{chromium} is missing (apt-get install chromium)"));
    }
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|output| output.status.success()) {
        return Some("node is missing (apt-get install nodejs npm)".to_owned());
    }
    for package in ["playwright-core", "axe-core"] {
        if !browser_dir().join("node_modules").join(package).exists() {
            return Some(format!(
                "{package} is not installed: run npm ci in tests/browser"
            ));
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_type_passes_axe_in_headless_chromium() {
    if let Some(reason) = missing_tools() {
        if std::env::var_os("CI").is_some() {
            panic!("the browser accessibility test must run in CI: {reason}");
        }
        let _ = writeln!(std::io::stderr(), "SKIP browser: {reason}");
        return;
    }
    let portal = demo_portal(TestDatabase::sqlite()).await;
    // The consultation pages: the demo's closed one has its results; an open one is
    // added for the form, and the form sent empty shows its errors.
    let closed = portal.engine.closed_consultations().await.unwrap();
    let results = format!("/consultazioni/{}/risultati", closed[0].public_slug);
    let setting = crate::consultation::setting(&portal.engine, "-axe").await;
    let form = format!(
        "/consultazioni/{}",
        crate::consultation::open(&portal.engine, &setting).await
    );
    let consultation_pages = [
        (
            results.as_str(),
            "main table caption",
            200,
            Some("consultazione-risultati"),
            false,
        ),
        (
            form.as_str(),
            "main form fieldset legend",
            200,
            Some("consultazione"),
            false,
        ),
        (
            form.as_str(),
            "#q-problema-error",
            422,
            Some("consultazione-errori"),
            true,
        ),
    ];
    let pages: Vec<serde_json::Value> = PAGES
        .iter()
        .map(|(path, selector, status, screenshot)| (*path, *selector, *status, *screenshot, false))
        .chain(consultation_pages)
        .map(|(path, selector, status, screenshot, submit)| {
            serde_json::json!({
                "path": path,
                "selector": selector,
                "status": status,
                "screenshot": screenshot,
                "axe": true,
                "submit": submit,
            })
        })
        .chain(DEVELOPER_PAGES.iter().map(|(path, selector, screenshot)| {
            serde_json::json!({
                "path": path,
                "selector": selector,
                "status": 200,
                "screenshot": screenshot,
                "axe": false,
            })
        }))
        .collect();
    assert!(
        PAGES
            .iter()
            .any(|(path, ..)| path.ends_with(PROTOCOL_IN_FORCE))
    );
    let artefacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser-artefacts");
    let base = format!("http://{}", portal.address);
    let pages = serde_json::to_string(&pages).unwrap();
    let artefacts_arg = artefacts.display().to_string();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(browser_dir().join("axe.mjs"))
            .args([base.as_str(), pages.as_str(), artefacts_arg.as_str()])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "axe found problems:\n{stderr}\n{stdout}"
    );
    assert!(stdout.contains(&format!(
        "axe: {} pages, no violation",
        PAGES.len() + consultation_pages.len()
    )));
    for (_, _, _, screenshot) in PAGES {
        if let Some(name) = screenshot {
            assert!(artefacts.join(format!("{name}.png")).exists(), "{name}.png");
        }
    }
}
