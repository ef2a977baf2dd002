//! The published Bilanci Sociali on the portal, over real HTTP on the demo data, on both
//! backends: each report's page shows every section with its narrative, indicator
//! figures, comparison with the median, charts and goals, and the published version's
//! hash, model version and evidence; the PDF holds every section and figure (read back
//! with `pdftotext`) and is made from the published bytes, not from today's survey. The
//! attacks: a report not yet published is a 404 for its page, PDF and charts at every
//! step before publication; Markdown written with `<script>` and `javascript:` links is
//! shown as text; one Comune's report never shows on another's page.

use std::process::Command;

use patto_core::Role;
use patto_core::social_report::{SectionText, SocialReport};
use patto_engine::{Actor, Engine, FireRequest, NewSocialReport, SurveyFormat, SurveyImport};
use patto_tests::{TestDatabase, on_both_backends};

use crate::portal::{DemoPortal, demo_portal, fetch};

on_both_backends!(
    each_published_report_is_readable_section_by_section,
    the_pdf_holds_every_section_and_figure_of_the_published_version,
    unpublished_reports_are_404_and_markdown_cannot_inject_markup,
);

/// Cefalù's report, published by the demo.
const CEFALU_REPORT: &str = "bilancio-sociale-cefalu-2024";
/// The Comune whose report the attacks draft: the demo publishes none for it.
const ATTACKED: &str = "alimena";
const ATTACKED_REPORT: &str = "bilancio-sociale-alimena-2024";

/// A figure as the Italian pages and the PDF write it.
fn italian(value: &str) -> String {
    value.replace('.', ",")
}

/// Text as the portal's templates write it into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// The published version of a report, as the public reads it from the engine.
async fn published(engine: &Engine, slug: &str) -> (i32, String, SocialReport) {
    let version = engine
        .readable_report_version(Actor::Public, slug, None)
        .await
        .unwrap();
    assert!(version.published);
    (version.number, version.sha256, version.report)
}

async fn each_published_report_is_readable_section_by_section(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let reports = portal
        .engine
        .readable_social_reports(Actor::Public, None)
        .await
        .unwrap();
    // The coalition's and three Comuni's.
    assert_eq!(reports.len(), 4);
    let home = fetch(address, "/").await.text();
    let index = fetch(address, "/bilanci").await.text();
    for readable in &reports {
        let slug = &readable.document.slug;
        let (number, sha256, report) = published(&portal.engine, slug).await;
        let path = format!("/bilanci/{slug}");
        for listing in [&home, &index] {
            assert!(
                listing.contains(&format!("href=\"{path}\"")),
                "{path} unlisted"
            );
            assert!(listing.contains(&format!("href=\"{path}.pdf\"")));
        }
        let page = fetch(address, &path).await;
        assert_eq!(page.status, 200, "{path}");
        let html = page.text();
        assert!(html.contains(&escaped(&report.title)));
        assert!(html.contains(&sha256), "{path} shows the version's hash");
        assert!(html.contains(&format!("versione {}", report.model_version)));
        assert!(html.contains(&format!("href=\"/evidence/{slug}/{number}.json\"")));
        assert!(html.contains(&portal.fingerprint));
        assert_eq!(
            fetch(address, &format!("/evidence/{slug}/{number}.json"))
                .await
                .status,
            200
        );
        for section in &report.sections {
            let anchor = format!("ambito-{}", section.area.to_ascii_lowercase());
            assert!(html.contains(&format!("href=\"#{anchor}\"")), "{path}: toc");
            assert!(html.contains(&format!(
                "<h2 id=\"{anchor}\">{}</h2>",
                escaped(&section.name.it)
            )));
            // The demo's narrative is Markdown: its emphasis is rendered.
            assert!(html.contains("<em>Testo dimostrativo.</em>"));
            for table in &section.indicators {
                assert!(html.contains(&table.code), "{path}: {}", table.code);
                let last = table.values.last().unwrap();
                assert!(
                    html.contains(&format!("<td>{}</td>", italian(last.value.as_str()))),
                    "{path}: {} {}",
                    table.code,
                    last.year
                );
                let median = table.coalition_median.last().unwrap();
                assert!(html.contains(&format!("<td>{}</td>", italian(median.median.as_str()))));
                for chart in ["andamento", "confronto"] {
                    let src = format!("/bilanci/{slug}/grafici/{}-{chart}.svg", table.code);
                    assert!(html.contains(&format!("src=\"{src}\"")), "{src}");
                }
            }
        }
        // Every chart of the first section's first indicator is an accessible SVG.
        let table = &report.sections[0].indicators[0];
        for chart in ["andamento", "confronto"] {
            let svg = fetch(
                address,
                &format!("/bilanci/{slug}/grafici/{}-{chart}.svg", table.code),
            )
            .await;
            assert_eq!(svg.status, 200);
            assert!(svg.content_type.starts_with("image/svg+xml"));
            let text = svg.text();
            assert!(text.contains("<svg") && text.contains("role=\"img\""));
            assert!(text.contains(&format!("chart-{}-{chart}", table.code)));
        }
        // English: the areas' and indicators' translated names, the same figures.
        let english = fetch(address, &format!("/en{path}")).await.text();
        assert!(english.contains("<html lang=\"en\">"));
        assert!(english.contains(&escaped(&report.sections[0].name.en)));
        assert!(english.contains(&escaped(&table.name.en)));
        assert!(english.contains(&format!("href=\"{path}.pdf\"")));
    }
    // Charts only for indicators and kinds that exist.
    for path in [
        format!("/bilanci/{CEFALU_REPORT}/grafici/NOPE01-andamento.svg"),
        format!("/bilanci/{CEFALU_REPORT}/grafici/AMB01-torta.svg"),
        format!("/bilanci/{CEFALU_REPORT}/grafici/AMB01-andamento.png"),
        // Another kind of document is no report.
        "/bilanci/patto-sicurezza-legalita".to_owned(),
        "/bilanci/patto-sicurezza-legalita.pdf".to_owned(),
        "/bilanci/nessun-bilancio".to_owned(),
    ] {
        assert_eq!(fetch(address, &path).await.status, 404, "{path}");
    }
    // Each Comune's page lists its own report, and only its own.
    let cefalu = fetch(address, "/comuni/cefalu").await.text();
    assert!(cefalu.contains(&format!("href=\"/bilanci/{CEFALU_REPORT}\"")));
    assert!(!cefalu.contains("bilancio-sociale-termini-imerese-2024"));
    let termini = fetch(address, "/comuni/termini-imerese").await.text();
    assert!(termini.contains("href=\"/bilanci/bilancio-sociale-termini-imerese-2024\""));
    assert!(!termini.contains(CEFALU_REPORT));
    // A Comune's report links back to the Comune.
    let page = fetch(address, &format!("/bilanci/{CEFALU_REPORT}"))
        .await
        .text();
    assert!(page.contains("href=\"/comuni/cefalu\""));
}

/// The text of a PDF, words separated by single spaces.
fn pdf_text(bytes: &[u8]) -> Option<String> {
    if Command::new("pdftotext").arg("-v").output().is_err() {
        if std::env::var_os("CI").is_some() {
            panic!("pdftotext is missing: install Debian's poppler-utils (.ci/run does)");
        }
        eprintln!("SKIP pdftotext: install poppler-utils to check the PDF's text");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("patto-portal-pdf-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

async fn the_pdf_holds_every_section_and_figure_of_the_published_version(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let (_, _, report) = published(&portal.engine, CEFALU_REPORT).await;
    // The survey is corrected after publication: Cefalù's last value of every indicator
    // becomes 7, a figure no demo value has... (the published report must not change).
    let year = report.year;
    let mut csv = String::from("comune;indicatore;anno;valore;fonte;note\n");
    let mut changed = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // An indicator may belong to several areas: one row each.
    for table in report
        .sections
        .iter()
        .flat_map(|s| &s.indicators)
        .filter(|t| seen.insert(t.code.clone()))
    {
        let last = table.values.last().unwrap();
        assert_eq!(last.year, year);
        if last.value.as_str() != "7" {
            csv.push_str(&format!("cefalu;{};{year};7;correzione;\n", table.code));
            changed.push(table.code.clone());
        }
    }
    assert!(!changed.is_empty());
    let coordinator = coordinator(&portal).await;
    portal
        .engine
        .import_survey(
            coordinator,
            SurveyImport {
                bytes: csv.into_bytes(),
                format: SurveyFormat::Csv,
                organisation: None,
            },
        )
        .await
        .unwrap();

    let answer = fetch(address, &format!("/bilanci/{CEFALU_REPORT}.pdf")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/pdf");
    assert!(answer.body.starts_with(b"%PDF-"));
    let disposition = patto_tests::http_client()
        .get(format!("http://{address}/bilanci/{CEFALU_REPORT}.pdf"))
        .send()
        .await
        .unwrap()
        .headers()
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"{CEFALU_REPORT}.pdf\"")
    );
    // The page still shows the published figures too.
    let page = fetch(address, &format!("/bilanci/{CEFALU_REPORT}"))
        .await
        .text();
    let Some(text) = pdf_text(&answer.body) else {
        return;
    };
    assert!(text.contains(&report.title), "{text}");
    for section in &report.sections {
        assert!(
            text.contains(&section.name.it),
            "{} missing",
            section.name.it
        );
        for table in &section.indicators {
            let last = table.values.last().unwrap();
            let line = format!("Cefalù {}: {}", last.year, italian(last.value.as_str()));
            assert!(text.contains(&line), "{line} missing from the PDF");
            assert!(page.contains(&format!("<td>{}</td>", italian(last.value.as_str()))));
            if changed.contains(&table.code) {
                let corrected = format!("Cefalù {year}: 7 ");
                assert!(!text.contains(&corrected), "the PDF shows today's survey");
            }
        }
    }
}

/// The coalition's coordinator of the demo.
async fn coordinator(portal: &DemoPortal) -> Actor {
    Actor::Person(
        portal
            .engine
            .person_by_email("coordinamento@example.org")
            .await
            .unwrap()
            .id,
    )
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

/// Narrative written to attack the page: raw HTML and addresses that run script.
const ATTACK_NARRATIVE: &str = "Premessa <script>alert('narrativa')</script>\n\n<img src=x onerror=alert(1)>\n\n[clicca qui](javascript:alert(2)) e [anche qui](JAVASCRIPT:alert(3)) <javascript:alert(4)>\n\n[fonte ISTAT](https://www.istat.it/)";
const ATTACK_GOALS: &str = "<iframe src=\"//evil.example.org\"></iframe>\n\n- [obiettivo](data:text/html;base64,PHNjcmlwdD4=)";

async fn unpublished_reports_are_404_and_markdown_cannot_inject_markup(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let engine = &portal.engine;
    // Alimena's office drafts its report, with hostile text in every area.
    let alimena = engine.organisation_by_slug(ATTACKED).await.unwrap();
    let office = engine
        .create_person(
            Actor::System,
            "bilancio.alimena@example.org",
            "Ufficio bilancio sociale, Alimena",
            patto_core::Language::It,
        )
        .await
        .unwrap();
    engine
        .add_membership(Actor::System, office.id, alimena.id, Role::Coordinator)
        .await
        .unwrap();
    let office = Actor::Person(office.id);
    let document = engine
        .create_social_report(
            office,
            NewSocialReport {
                organisation_id: alimena.id,
                year: 2024,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(document.slug, ATTACKED_REPORT);
    let (_, _, cefalu) = published(engine, CEFALU_REPORT).await;
    for section in &cefalu.sections {
        engine
            .save_report_section(
                office,
                document.id,
                &section.area,
                SectionText {
                    narrative: ATTACK_NARRATIVE.to_owned(),
                    goals: ATTACK_GOALS.to_owned(),
                },
            )
            .await
            .unwrap();
    }
    engine
        .assemble_social_report(office, document.id)
        .await
        .unwrap();
    let code = &cefalu.sections[0].indicators[0].code;
    let addresses = [
        format!("/bilanci/{ATTACKED_REPORT}"),
        format!("/en/bilanci/{ATTACKED_REPORT}"),
        format!("/bilanci/{ATTACKED_REPORT}.pdf"),
        format!("/bilanci/{ATTACKED_REPORT}/grafici/{code}-andamento.svg"),
        format!("/bilanci/{ATTACKED_REPORT}/grafici/{code}-confronto.svg"),
    ];
    let unknown = fetch(address, "/bilanci/bilancio-sociale-nessuno-2024").await;
    assert_eq!(unknown.status, 404);
    // Drafting, in review, approved: never public before it is published.
    for step in ["drafting", "submit_for_review", "approve"] {
        if step != "drafting" {
            fire(engine, office, ATTACKED_REPORT, step).await;
        }
        for path in &addresses {
            let answer = fetch(address, path).await;
            assert_eq!(answer.status, 404, "{path} while {step}");
            let html = answer.text();
            assert!(
                html.contains("<main id=\"main\""),
                "{path}: the site's layout"
            );
            assert!(!html.contains("Premessa"), "{path} leaks the draft");
        }
        assert_eq!(
            fetch(address, &format!("/bilanci/{ATTACKED_REPORT}"))
                .await
                .text()
                .replace(ATTACKED_REPORT, "SLUG"),
            unknown
                .text()
                .replace("bilancio-sociale-nessuno-2024", "SLUG"),
            "a draft's page differs from a missing one ({step})"
        );
        for path in [
            "/",
            "/bilanci",
            "/comuni/alimena",
            "/feed.atom",
            "/sitemap.xml",
        ] {
            let body = fetch(address, path).await.text();
            assert!(
                !body.contains(ATTACKED_REPORT),
                "{path} names the draft ({step})"
            );
        }
    }

    // Published: the page shows the hostile text as text, and runs nothing.
    fire(engine, office, ATTACKED_REPORT, "publish").await;
    for path in &addresses {
        assert_eq!(fetch(address, path).await.status, 200, "{path}");
    }
    for path in [
        format!("/bilanci/{ATTACKED_REPORT}"),
        format!("/en/bilanci/{ATTACKED_REPORT}"),
    ] {
        let html = fetch(address, &path).await.text();
        assert!(html.contains("Premessa"));
        assert!(!html.contains("<script"), "{path} runs script");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(!html.contains("<iframe"), "{path}");
        // No address in the page runs script or leaves the site (an autolink's words
        // may stay, as words).
        // Text never holds a bare `<`, so every `<` opens a real tag: its addresses are
        // those of the page's markup.
        let lower = html.to_ascii_lowercase();
        for tag in lower.split('<').skip(1) {
            let tag = &tag[..tag.find('>').unwrap()];
            for attribute in ["href=\"", "src=\""] {
                for (at, _) in tag.match_indices(attribute) {
                    let value = &tag[at + attribute.len()..];
                    let value = &value[..value.find('"').unwrap()];
                    assert!(
                        value.starts_with('/') && !value.starts_with("//")
                            || value.starts_with('#'),
                        "{path} has the address {value} in <{tag}>"
                    );
                }
            }
        }
        assert!(!html.contains("data:text/html"), "{path}");
        assert!(
            html.contains("&lt;script&gt;alert("),
            "{path}: shown as text"
        );
        assert!(html.contains("&lt;iframe"), "{path}: shown as text");
        // The words of the links stay; an address of another host is shown as text.
        assert!(html.contains("clicca qui") && html.contains("obiettivo"));
        assert!(html.contains("fonte ISTAT (https://www.istat.it/)"));
        assert!(!html.contains("href=\"https://www.istat.it/\""));
    }
    // One Comune's report never shows on another's page, nor another's on its page.
    let alimena_page = fetch(address, "/comuni/alimena").await.text();
    assert!(alimena_page.contains(&format!("href=\"/bilanci/{ATTACKED_REPORT}\"")));
    assert!(!alimena_page.contains(CEFALU_REPORT));
    for comune in ["cefalu", "termini-imerese", "petralia-sottana", "gangi"] {
        let page = fetch(address, &format!("/comuni/{comune}")).await.text();
        assert!(
            !page.contains(ATTACKED_REPORT),
            "{comune} shows Alimena's report"
        );
    }
    let sitemap = fetch(address, "/sitemap.xml").await.text();
    assert!(sitemap.contains(&format!("/bilanci/{ATTACKED_REPORT}</loc>")));
    let feed = fetch(address, "/feed.atom").await.text();
    assert!(feed.contains(&format!("/bilanci/{ATTACKED_REPORT}.pdf\"")));
}
