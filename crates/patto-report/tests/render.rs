//! The charts and the PDF of a whole report made from the default reporting model: the
//! PDF's text, extracted by `pdftotext` (Debian's poppler-utils), holds every section
//! title and every value; the charts are accessible and deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

use chrono::Utc;
use patto_core::ids::OrganisationId;
use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE, Decimal, Model, SurveyValue};
use patto_core::social_report::{ReportInputs, ReportSubject, SectionText, SocialReport};
use patto_report::{ChartKind, chart_svg, figures_table_html, format_value, report_pdf};

fn value(organisation: i64, indicator: &str, year: i32, value: String) -> SurveyValue {
    SurveyValue {
        organisation_id: OrganisationId::new(organisation),
        indicator: indicator.to_owned(),
        year,
        value: Decimal::parse(&value).unwrap(),
        source: "dati dimostrativi".to_owned(),
        note: String::new(),
        model_version: 1,
        entered_by: None,
        entered_at: Utc::now(),
    }
}

/// A report of Cefalù with a value for every indicator in three years, distinct values
/// (so that finding one in the text proves it was written) and medians of three Comuni.
fn report() -> SocialReport {
    let model = Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap();
    let mut own = Vec::new();
    let mut comuni = Vec::new();
    for (n, indicator) in model.indicators.iter().enumerate() {
        for year in [2022, 2023, 2024] {
            let base = 10 + n as i64 * 3 + i64::from(year - 2022);
            own.push(value(1, &indicator.code, year, format!("{base},5")));
            for (organisation, offset) in [(1, 0), (2, 1), (3, 2)] {
                comuni.push(value(
                    organisation,
                    &indicator.code,
                    year,
                    format!("{}", base + offset),
                ));
            }
        }
    }
    let drafts: BTreeMap<String, SectionText> = model
        .areas
        .iter()
        .map(|area| {
            (
                area.code.clone(),
                SectionText {
                    narrative: format!("## Attività\n\nNel {} il Comune ha lavorato sull'ambito «{}» con più attenzione all'università e alla città.", 2024, area.name.it),
                    goals: "- Ridurre i tempi di risposta".to_owned(),
                },
            )
        })
        .collect();
    SocialReport::assemble(ReportInputs {
        subject: ReportSubject {
            slug: "cefalu".to_owned(),
            name: "Cefalù".to_owned(),
            category: "municipality".to_owned(),
            istat_code: Some("082027".to_owned()),
        },
        year: 2024,
        title: "Bilancio sociale 2024 — Cefalù".to_owned(),
        model: &model,
        drafts: &drafts,
        own_values: &own,
        comuni_values: &comuni,
    })
}

fn pdftotext() -> Option<&'static str> {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if found {
        return Some("pdftotext");
    }
    if std::env::var_os("CI").is_some() {
        panic!("pdftotext is missing: install Debian's poppler-utils (.ci/run does)");
    }
    eprintln!("SKIP pdftotext: install poppler-utils to check the PDF's text");
    None
}

#[test]
fn the_pdf_holds_every_section_title_and_every_value() {
    let report = report();
    let pdf = report_pdf(&report).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(tool) = pdftotext() else { return };
    let dir = std::env::temp_dir().join(format!("patto-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let output = Command::new(tool)
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    // pdftotext keeps words but may join or break lines differently: compare words.
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Bilancio sociale 2024 — Cefalù"), "{flat}");
    assert!(
        flat.contains("università e alla città"),
        "accents are kept: {flat}"
    );
    let mut checked = 0;
    for section in &report.sections {
        assert!(
            flat.contains(&section.name.it),
            "section {} missing",
            section.name.it
        );
        for table in &section.indicators {
            for value in &table.values {
                let line = format!("Cefalù {}: {}", value.year, format_value(&value.value));
                assert!(flat.contains(&line), "{line} missing from the PDF");
                checked += 1;
            }
            for median in &table.coalition_median {
                let line = format!(
                    "{} ({} Comuni): {}",
                    median.year,
                    median.comuni,
                    format_value(&median.median)
                );
                assert!(flat.contains(&line), "{line} missing from the PDF");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} figures were checked");
}

#[test]
fn charts_are_accessible_deterministic_and_state_their_figures() {
    let report = report();
    let table = &report.sections[0].indicators[0];
    for kind in [ChartKind::Trend, ChartKind::Comparison] {
        let svg = chart_svg(table, "Cefalù", kind).unwrap();
        assert_eq!(
            svg,
            chart_svg(table, "Cefalù", kind).unwrap(),
            "deterministic"
        );
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(
            svg.contains(&format!("<title id=\"chart-{}-", table.code)),
            "{svg}"
        );
        let desc_start = svg.find("<desc").unwrap();
        let desc = &svg[desc_start..svg.find("</desc>").unwrap()];
        for value in &table.values {
            assert!(desc.contains(&format_value(&value.value)), "{desc}");
        }
        let medians_stated = table.coalition_median.iter().all(|m| {
            desc.contains(&format!(
                "Mediana dei Comuni {}: {}",
                m.year,
                format_value(&m.median)
            ))
        });
        assert_eq!(medians_stated, kind == ChartKind::Comparison, "{desc}");
        // Exactly one SVG document, which a parser would accept as one root.
        assert_eq!(svg.matches("<svg").count(), 1);
    }
    let html = figures_table_html(table, "Cefalù");
    assert!(html.contains("<caption>"));
    for value in &table.values {
        assert!(
            html.contains(&format!(
                "<th scope=\"row\">{}</th><td>{}</td>",
                value.year,
                format_value(&value.value)
            )),
            "{html}"
        );
    }
}

#[test]
fn text_from_the_report_is_escaped_in_charts_and_tables() {
    let mut report = report();
    let table = &mut report.sections[0].indicators[0];
    table.name.it = "<script>alert(1)</script>".to_owned();
    let svg = chart_svg(table, "A & B", ChartKind::Trend).unwrap();
    assert!(!svg.contains("<script>"), "{svg}");
    let html = figures_table_html(table, "<b>");
    assert!(
        !html.contains("<script>") && !html.contains("<b>"),
        "{html}"
    );
}
