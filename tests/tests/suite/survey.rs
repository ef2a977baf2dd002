//! The reporting model's versions and the baseline survey: files made by another tool
//! (openpyxl, `tests/data/survey/make_survey_files.py`) import on both backends, a bad
//! file imports nothing and names every bad cell, the export reads back as it was
//! written, and only the right people may import for an organisation.

use patto_core::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};
use patto_core::{Language, OrganisationCategory, Role};
use patto_engine::{
    Actor, Engine, EngineError, ErrorCode, ExportRow, NewOrganisation, SurveyFormat, SurveyImport,
};

use crate::engine::{Ctx, shipped, world};

const GOOD_XLSX: &[u8] = include_bytes!("../../data/survey/good.xlsx");
const BAD_XLSX: &[u8] = include_bytes!("../../data/survey/bad.xlsx");
const GOOD_CSV: &[u8] = include_bytes!("../../data/survey/good.csv");
const BAD_CSV: &[u8] = include_bytes!("../../data/survey/bad.csv");
const UNKNOWN_ORGANISATION_CSV: &[u8] =
    include_bytes!("../../data/survey/unknown-organisation.csv");

fn file(bytes: &[u8], format: SurveyFormat) -> SurveyImport {
    SurveyImport {
        bytes: bytes.to_vec(),
        format,
        organisation: None,
    }
}

async fn load_default(engine: &Engine) {
    engine
        .load_reporting_model(Actor::System, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
}

/// The export without the time each value was entered, which a re-import changes.
async fn exported(engine: &Engine) -> Vec<ExportRow> {
    engine
        .export_survey(None, None)
        .await
        .unwrap()
        .values
        .into_iter()
        .map(|row| ExportRow {
            inserito_il: String::new(),
            ..row
        })
        .collect()
}

fn value_of<'r>(rows: &'r [ExportRow], comune: &str, indicator: &str, year: i32) -> &'r ExportRow {
    rows.iter()
        .find(|r| r.comune == comune && r.indicatore == indicator && r.anno == year)
        .unwrap_or_else(|| panic!("no {comune} {indicator} {year} in {rows:#?}"))
}

fn problems(error: EngineError) -> Vec<(usize, String, String)> {
    assert_eq!(error.code(), ErrorCode::Validation, "{error}");
    match error {
        EngineError::Import(problems) => problems
            .into_iter()
            .map(|p| (p.row, p.column, p.reason))
            .collect(),
        other => panic!("expected row problems, got {other}"),
    }
}

async fn survey_files_import_and_export_round_trips(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    load_default(engine).await;

    // The coalition's coordinator imports for the coalition and for its Comune at once.
    let summary = engine
        .import_survey(w.coordinator, file(GOOD_XLSX, SurveyFormat::Xlsx))
        .await
        .unwrap();
    assert_eq!((summary.inserted, summary.replaced), (6, 0));
    assert_eq!(summary.organisations, ["cefalu", "citta-a-rete"]);
    assert_eq!(summary.model_version, 1);
    let summary = engine
        .import_survey(w.coordinator, file(GOOD_CSV, SurveyFormat::Csv))
        .await
        .unwrap();
    assert_eq!((summary.inserted, summary.replaced), (2, 0));

    let rows = exported(engine).await;
    assert_eq!(rows.len(), 8, "{rows:#?}");
    // Numbers as stored by the spreadsheet, as text with decimal commas and thousands
    // dots, and negative days; years from Excel date cells, Excel serials and d/m/Y text.
    assert_eq!(value_of(&rows, "cefalu", "AMB01", 2023).valore, "61.2");
    assert_eq!(value_of(&rows, "cefalu", "AMB01", 2024).valore, "65.3");
    assert_eq!(value_of(&rows, "cefalu", "SP01", 2024).valore, "1234.5");
    assert_eq!(value_of(&rows, "citta-a-rete", "BT02", 2024).valore, "-3.5");
    assert_eq!(value_of(&rows, "citta-a-rete", "PM03", 2024).valore, "4");
    assert_eq!(value_of(&rows, "cefalu", "AMB01", 2022).valore, "58.9");
    assert_eq!(
        value_of(&rows, "cefalu", "LP04", 2022).note,
        "incidenti; dato comunale"
    );
    // An empty source takes the indicator's; a written one is kept.
    assert!(
        value_of(&rows, "cefalu", "AMB01", 2023)
            .fonte
            .starts_with("ISPRA, Catasto")
    );
    assert_eq!(
        value_of(&rows, "cefalu", "AMB01", 2024).fonte,
        "ISPRA Catasto rifiuti 2024"
    );
    let cefalu = value_of(&rows, "cefalu", "SP01", 2024);
    assert_eq!(cefalu.note, "dato provvisorio");
    assert_eq!(cefalu.codice_istat.as_deref(), Some("082027"));
    assert_eq!(cefalu.unita, "euro_per_inhabitant");
    assert!(
        rows.iter()
            .all(|r| r.licenza == "CC-BY-4.0" && r.versione_modello == 1)
    );

    // The CSV export imports back as the same values, replacing each one.
    let export = engine.export_survey(None, None).await.unwrap();
    assert_eq!(export.licence, "CC-BY-4.0");
    assert_eq!(
        export.licence_url,
        "https://creativecommons.org/licenses/by/4.0/"
    );
    let csv = export.to_csv().unwrap();
    assert!(
        csv.starts_with("comune,nome_comune,codice_istat,indicatore,"),
        "{csv}"
    );
    let summary = engine
        .import_survey(w.coordinator, file(csv.as_bytes(), SurveyFormat::Csv))
        .await
        .unwrap();
    assert_eq!((summary.inserted, summary.replaced), (0, 8));
    assert_eq!(exported(engine).await, rows);

    // One organisation's values, under another licence.
    let only = engine
        .export_survey(Some("citta-a-rete"), Some("CC0-1.0"))
        .await
        .unwrap();
    assert_eq!(only.values.len(), 3);
    assert!(only.values.iter().all(|r| r.licenza == "CC0-1.0"));
    let unknown = engine
        .export_survey(Some("atlantide"), None)
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), ErrorCode::NotFound);
}

async fn a_bad_file_imports_nothing_and_names_every_bad_cell(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    load_default(engine).await;
    engine
        .import_survey(w.coordinator, file(GOOD_XLSX, SurveyFormat::Xlsx))
        .await
        .unwrap();
    let before = exported(engine).await;

    let found = problems(
        engine
            .import_survey(w.coordinator, file(BAD_XLSX, SurveyFormat::Xlsx))
            .await
            .unwrap_err(),
    );
    let cells: Vec<(usize, &str)> = found
        .iter()
        .map(|(row, column, _)| (*row, column.as_str()))
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
        "{found:#?}"
    );
    assert!(found[0].2.contains("percentage"), "{found:#?}");
    assert!(found[2].2.contains("whole number"), "{found:#?}");
    assert!(found[3].2.contains("is a date"), "{found:#?}");
    // The valid row 9 (CT01) was not saved, nor was anything else changed.
    assert_eq!(exported(engine).await, before);

    let found = problems(
        engine
            .import_survey(w.coordinator, file(BAD_CSV, SurveyFormat::Csv))
            .await
            .unwrap_err(),
    );
    let cells: Vec<(usize, &str)> = found
        .iter()
        .map(|(row, column, _)| (*row, column.as_str()))
        .collect();
    assert_eq!(cells, [(3, "indicatore"), (4, "anno")], "{found:#?}");
    assert!(found[0].2.contains("row 2"), "{found:#?}");

    let found = problems(
        engine
            .import_survey(
                w.coordinator,
                file(UNKNOWN_ORGANISATION_CSV, SurveyFormat::Csv),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!((found[0].0, found[0].1.as_str()), (3, "comune"));
    assert!(found[0].2.contains("atlantide"));
    // Row 2 of that file was valid, and is not there either.
    assert_eq!(exported(engine).await, before);

    // A workbook that is not one is refused as such.
    let found = problems(
        engine
            .import_survey(w.coordinator, file(b"not a workbook", SurveyFormat::Xlsx))
            .await
            .unwrap_err(),
    );
    assert!(found[0].2.contains("cannot be read"), "{found:#?}");
}

async fn only_an_organisations_staff_or_its_coalition_imports_for_it(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    load_default(engine).await;
    let person = |email: &'static str| async move {
        engine
            .create_person(Actor::System, email, email, Language::It)
            .await
            .unwrap()
            .id
    };
    let local = person("sindaco@example.org").await;
    engine
        .add_membership(Actor::System, local, w.municipality, Role::Coordinator)
        .await
        .unwrap();
    // A coordinator of a coalition that is not in Cefalù's network.
    let elsewhere = engine
        .create_organisation(
            Actor::System,
            NewOrganisation {
                slug: "altra-rete".into(),
                name: "Altra coalizione".into(),
                category: OrganisationCategory::Coalition,
                istat_code: None,
            },
        )
        .await
        .unwrap();
    let foreign = person("altrove@example.org").await;
    engine
        .add_membership(Actor::System, foreign, elsewhere.id, Role::Coordinator)
        .await
        .unwrap();
    let operator = person("operatore@example.org").await;
    engine
        .grant_operator(Actor::System, operator)
        .await
        .unwrap();

    // Cefalù's coordinator enters Cefalù's values, but not the coalition's: the file
    // that has both is refused whole.
    let refused = engine
        .import_survey(Actor::Person(local), file(GOOD_XLSX, SurveyFormat::Xlsx))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");
    assert!(refused.to_string().contains("citta-a-rete"), "{refused}");
    assert!(exported(engine).await.is_empty());
    engine
        .import_survey(Actor::Person(local), file(GOOD_CSV, SurveyFormat::Csv))
        .await
        .unwrap();
    for actor in [w.partner, Actor::Person(foreign), w.outsider] {
        let refused = engine
            .import_survey(actor, file(GOOD_CSV, SurveyFormat::Csv))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), ErrorCode::Forbidden, "{actor:?}: {refused}");
    }
    // An instance operator loads the files offices send in (`patto survey import`).
    let summary = engine
        .import_survey(Actor::Person(operator), file(GOOD_CSV, SurveyFormat::Csv))
        .await
        .unwrap();
    assert_eq!(
        (summary.inserted, summary.replaced),
        (0, 2),
        "the same values again replace, not add"
    );
    // The organisation named on the command line stands for rows without a `comune`.
    let summary = engine
        .import_survey(
            w.coordinator,
            SurveyImport {
                bytes: b"indicatore;anno;valore\nCT01;2024;12000\n".to_vec(),
                format: SurveyFormat::Csv,
                organisation: Some("cefalu".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(summary.organisations, ["cefalu"]);

    // A coalition's coordinator loads model versions; a Comune's may not.
    let next = DEFAULT_MODEL.replacen("version = 1", "version = 2", 1);
    let refused = engine
        .load_reporting_model(Actor::Person(local), &next, "model.toml")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden);
    engine
        .load_reporting_model(w.coordinator, &next, "model.toml")
        .await
        .unwrap();
}

async fn model_versions_are_kept_and_never_rewritten(ctx: &Ctx) {
    let engine = &*ctx.engine;
    let w = world(engine).await;
    // Without a model nothing can be validated.
    let refused = engine
        .import_survey(w.coordinator, file(GOOD_CSV, SurveyFormat::Csv))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert!(
        refused.to_string().contains("reporting-model load"),
        "{refused}"
    );

    let first = engine
        .load_reporting_model(Actor::System, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
    assert_eq!(first.version, 1);
    // The same text again is the same version; a different text under it is refused.
    let again = engine
        .load_reporting_model(Actor::System, DEFAULT_MODEL, DEFAULT_MODEL_FILE)
        .await
        .unwrap();
    assert_eq!(again, first);
    let edited = DEFAULT_MODEL.replacen("Raccolta differenziata", "Raccolta separata", 1);
    let refused = engine
        .load_reporting_model(Actor::System, &edited, "model.toml")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict);
    assert!(refused.to_string().contains("raise `version`"), "{refused}");
    // An invalid model says where.
    let broken = DEFAULT_MODEL.replacen("unit = \"percent\"", "unit = \"percentuale\"", 1);
    let refused = engine
        .load_reporting_model(Actor::System, &broken, "model.toml")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Validation);
    assert!(refused.to_string().contains("model.toml:"), "{refused}");

    let second_text = edited.replacen("version = 1", "version = 2", 1);
    engine
        .load_reporting_model(Actor::System, &second_text, "model.toml")
        .await
        .unwrap();
    let (latest, model) = engine.reporting_model(None).await.unwrap();
    assert_eq!(latest.version, 2);
    assert_eq!(
        model.indicator("AMB01").unwrap().name.it,
        "Raccolta separata"
    );
    // Version 1 still reads as it was, for the reports drafted against it.
    let (_, old) = engine.reporting_model(Some(1)).await.unwrap();
    assert_eq!(
        old.indicator("AMB01").unwrap().name.it,
        "Raccolta differenziata"
    );
    // Going back below the latest version is refused.
    let older = DEFAULT_MODEL.replacen("version = 1", "version = 1\n# changed", 1);
    let refused = engine
        .load_reporting_model(Actor::System, &older, "model.toml")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict);
    // New values are validated against, and remember, the latest version.
    let summary = engine
        .import_survey(w.coordinator, file(GOOD_CSV, SurveyFormat::Csv))
        .await
        .unwrap();
    assert_eq!(summary.model_version, 2);
    let missing = engine.reporting_model(Some(7)).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::NotFound);
}

engine_cases!(super::shipped() =>
    survey_files_import_and_export_round_trips,
    a_bad_file_imports_nothing_and_names_every_bad_cell,
    only_an_organisations_staff_or_its_coalition_imports_for_it,
    model_versions_are_kept_and_never_rewritten,
);
