//! The reporting model's versions and the baseline survey (ricognizione): loading a
//! model, importing survey files with nothing half-imported, and the open-data export.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use patto_core::ids::OrganisationId;
use patto_core::records::Organisation;
use patto_core::reporting::{DEFAULT_LICENCE, Model, RowProblem, StoredModel};
use patto_store::{Saved, Tx};

use crate::roles::{require_model_loader, require_survey_editor};
use crate::survey_file::{SurveyFormat, read_entries};
use crate::{Actor, Engine, EngineError};

/// A survey file to import.
#[derive(Clone, Debug)]
pub struct SurveyImport {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// CSV or XLSX.
    pub format: SurveyFormat,
    /// The organisation (slug) of rows that do not name one in a `comune` column.
    pub organisation: Option<String>,
}

/// What an import saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    /// The model version the values were validated against.
    pub model_version: u32,
    /// Values that were new.
    pub inserted: usize,
    /// Values that replaced one already stored for the same organisation, indicator and year.
    pub replaced: usize,
    /// The organisations the file gave values for, by slug.
    pub organisations: Vec<String>,
}

/// One row of the open-data export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    /// The organisation's slug (the `comune` column of an import).
    pub comune: String,
    /// The organisation's name.
    pub nome_comune: String,
    /// Its ISTAT code, for Comuni.
    pub codice_istat: Option<String>,
    /// The indicator's code.
    pub indicatore: String,
    /// The indicator's Italian name.
    pub nome_indicatore: String,
    /// The indicator's unit.
    pub unita: String,
    /// The year.
    pub anno: i32,
    /// The value, with a decimal point.
    pub valore: String,
    /// Where it was taken from.
    pub fonte: String,
    /// A free note.
    pub note: String,
    /// The model version it was validated against.
    pub versione_modello: u32,
    /// When it was entered (RFC 3339).
    pub inserito_il: String,
    /// The licence of the data.
    pub licenza: String,
}

/// The baseline survey as open data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SurveyExport {
    /// The dataset's title.
    pub title: String,
    /// The licence (an SPDX identifier), CC BY 4.0 unless the publisher chose another.
    pub licence: String,
    /// The licence's text on the web.
    pub licence_url: String,
    /// When the export was made (RFC 3339).
    pub generated_at: String,
    /// The rows, by organisation, indicator and year.
    pub values: Vec<ExportRow>,
}

/// The CSV columns of the export, in order: the import reads the same names.
const EXPORT_COLUMNS: [&str; 13] = [
    "comune",
    "nome_comune",
    "codice_istat",
    "indicatore",
    "nome_indicatore",
    "unita",
    "anno",
    "valore",
    "fonte",
    "note",
    "versione_modello",
    "inserito_il",
    "licenza",
];

impl SurveyExport {
    /// The export as CSV (comma-separated, UTF-8, a header row, decimal points).
    pub fn to_csv(&self) -> Result<String, EngineError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let internal =
            |error: csv::Error| EngineError::Internal(format!("CSV export failed: {error}"));
        writer.write_record(EXPORT_COLUMNS).map_err(internal)?;
        for row in &self.values {
            writer
                .write_record([
                    row.comune.as_str(),
                    &row.nome_comune,
                    row.codice_istat.as_deref().unwrap_or(""),
                    &row.indicatore,
                    &row.nome_indicatore,
                    &row.unita,
                    &row.anno.to_string(),
                    &row.valore,
                    &row.fonte,
                    &row.note,
                    &row.versione_modello.to_string(),
                    &row.inserito_il,
                    &row.licenza,
                ])
                .map_err(internal)?;
        }
        let bytes = writer
            .into_inner()
            .map_err(|error| EngineError::Internal(format!("CSV export failed: {error}")))?;
        String::from_utf8(bytes)
            .map_err(|error| EngineError::Internal(format!("CSV export failed: {error}")))
    }
}

fn licence_url(licence: &str) -> String {
    match licence {
        "CC-BY-4.0" => "https://creativecommons.org/licenses/by/4.0/".to_owned(),
        "CC0-1.0" => "https://creativecommons.org/publicdomain/zero/1.0/".to_owned(),
        other => format!("https://spdx.org/licenses/{other}.html"),
    }
}

impl Engine {
    /// Stores a new version of the reporting model from its TOML text. Only the command
    /// line, an instance operator or a coordinator of a coalition may; the version must be
    /// new (loading the same text again is a no-op that returns the stored version).
    pub async fn load_reporting_model(
        &self,
        actor: Actor,
        source: &str,
        file: &str,
    ) -> Result<StoredModel, EngineError> {
        let model = Model::parse(source, file).map_err(|problems| {
            EngineError::Validation(format!(
                "the reporting model is invalid; fix and load it again: {}",
                joined(&problems)
            ))
        })?;
        let sha256 = hex::encode(Sha256::digest(source.as_bytes()));
        let tx = self.store().begin().await?;
        require_model_loader(&tx, actor).await?;
        if let Some(stored) = tx.reporting_model(model.version).await? {
            if stored.sha256 == sha256 {
                return Ok(stored);
            }
            return Err(EngineError::Conflict(format!(
                "reporting model version {} is already loaded with a different text; a report may have been drafted against it, so raise `version` in {file} and load it again",
                model.version
            )));
        }
        if let Some(latest) = tx.latest_reporting_model().await?
            && latest.version > model.version
        {
            return Err(EngineError::Conflict(format!(
                "reporting model version {} is older than the loaded version {}; raise `version` in {file} above it",
                model.version, latest.version
            )));
        }
        let stored = tx
            .insert_reporting_model(model.version, source, &sha256, actor.person_id())
            .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// A version of the reporting model (the latest when `version` is `None`), parsed.
    pub async fn reporting_model(
        &self,
        version: Option<u32>,
    ) -> Result<(StoredModel, Model), EngineError> {
        let tx = self.store().read().await?;
        let stored = match version {
            Some(version) => tx.reporting_model(version).await?,
            None => tx.latest_reporting_model().await?,
        };
        let stored = stored.ok_or_else(|| match version {
            Some(version) => EngineError::not_found("reporting model version", version),
            None => EngineError::Validation(
                "no reporting model is loaded; load one with `patto reporting-model load FILE`"
                    .to_owned(),
            ),
        })?;
        tx.commit().await?;
        let model = parse_stored(&stored)?;
        Ok((stored, model))
    }

    /// Every loaded version of the reporting model, oldest first, each with its text.
    /// The model is public: the coalition publishes how it reports.
    pub async fn reporting_model_versions(&self) -> Result<Vec<StoredModel>, EngineError> {
        let tx = self.store().read().await?;
        let versions = tx.reporting_models().await?;
        tx.commit().await?;
        Ok(versions)
    }

    /// Imports a survey file: every row is checked first (against the latest model, the
    /// directory and the actor's rights), and the values are saved in one transaction
    /// only when no row has a problem, so that nothing is ever half-imported. A value
    /// for an organisation, indicator and year already stored is replaced.
    pub async fn import_survey(
        &self,
        actor: Actor,
        import: SurveyImport,
    ) -> Result<ImportSummary, EngineError> {
        let (stored, model) = self.reporting_model(None).await?;
        let last_year = Utc::now().year() + 1;
        let entries = read_entries(
            &import.bytes,
            import.format,
            &model,
            import.organisation.as_deref(),
            last_year,
        )
        .map_err(EngineError::Import)?;

        let tx = self.store().begin().await?;
        let organisations = resolve_organisations(
            &tx,
            entries
                .iter()
                .map(|(row, e)| (*row, e.organisation.as_str())),
        )
        .await?;
        for (slug, organisation) in &organisations {
            require_survey_editor(&tx, actor, organisation, slug).await?;
        }
        let mut summary = ImportSummary {
            model_version: stored.version,
            inserted: 0,
            replaced: 0,
            organisations: organisations.keys().cloned().collect(),
        };
        for (_, entry) in &entries {
            let Some(organisation) = organisations.get(&entry.organisation) else {
                return Err(EngineError::not_found("organisation", &entry.organisation));
            };
            match tx
                .save_survey_value(organisation.id, entry, stored.version, actor.person_id())
                .await?
            {
                Saved::Inserted => summary.inserted += 1,
                Saved::Replaced => summary.replaced += 1,
            }
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// The survey values of one organisation (by slug) or of all, as open data under
    /// `licence` (an SPDX identifier; CC BY 4.0 by default). Anyone may read them.
    pub async fn export_survey(
        &self,
        organisation: Option<&str>,
        licence: Option<&str>,
    ) -> Result<SurveyExport, EngineError> {
        let licence = licence.unwrap_or(DEFAULT_LICENCE).to_owned();
        let tx = self.store().read().await?;
        let filter = match organisation {
            Some(slug) => Some(
                tx.organisation_by_slug(slug)
                    .await?
                    .ok_or_else(|| EngineError::not_found("organisation", slug))?
                    .id,
            ),
            None => None,
        };
        let values = tx.survey_values(filter).await?;
        let organisations: BTreeMap<OrganisationId, Organisation> = tx
            .organisations()
            .await?
            .into_iter()
            .map(|organisation| (organisation.id, organisation))
            .collect();
        let mut models: BTreeMap<u32, Model> = BTreeMap::new();
        for version in values
            .iter()
            .map(|v| v.model_version)
            .collect::<BTreeSet<_>>()
        {
            let stored = tx
                .reporting_model(version)
                .await?
                .ok_or_else(|| EngineError::not_found("reporting model version", version))?;
            models.insert(version, parse_stored(&stored)?);
        }
        let mut rows = Vec::with_capacity(values.len());
        for value in values {
            let organisation = organisations
                .get(&value.organisation_id)
                .ok_or_else(|| EngineError::not_found("organisation", value.organisation_id))?;
            let indicator = models
                .get(&value.model_version)
                .and_then(|model| model.indicator(&value.indicator));
            rows.push(ExportRow {
                comune: organisation.slug.clone(),
                nome_comune: organisation.name.clone(),
                codice_istat: organisation.istat_code.clone(),
                indicatore: value.indicator.clone(),
                nome_indicatore: indicator.map(|i| i.name.it.clone()).unwrap_or_default(),
                unita: indicator.map(|i| i.unit.to_string()).unwrap_or_default(),
                anno: value.year,
                valore: value.value.to_string(),
                fonte: value.source,
                note: value.note,
                versione_modello: value.model_version,
                inserito_il: rfc3339(value.entered_at),
                licenza: licence.clone(),
            });
        }
        tx.commit().await?;
        // Sorted by slug rather than by row id so that the export reads the same on both
        // backends and from one run to the next.
        rows.sort_by(|a, b| {
            (&a.comune, &a.indicatore, a.anno).cmp(&(&b.comune, &b.indicatore, b.anno))
        });
        Ok(SurveyExport {
            title: "Ricognizione dei dati di partenza (baseline survey)".to_owned(),
            licence_url: licence_url(&licence),
            licence,
            generated_at: rfc3339(Utc::now()),
            values: rows,
        })
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_stored(stored: &StoredModel) -> Result<Model, EngineError> {
    Model::parse(
        &stored.source,
        &format!("reporting model version {}", stored.version),
    )
    .map_err(|problems| {
        // It was valid when loaded: only a change to the rules since can make it fail.
        EngineError::Internal(format!(
            "stored reporting model version {} no longer passes the checks of this Patto version: {}",
            stored.version,
            joined(&problems)
        ))
    })
}

fn joined(problems: &[patto_core::workflow::Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Finds every organisation the rows name; unknown slugs are row problems, all reported.
async fn resolve_organisations(
    tx: &Tx,
    rows: impl Iterator<Item = (usize, &str)>,
) -> Result<BTreeMap<String, Organisation>, EngineError> {
    let mut found = BTreeMap::new();
    let mut problems = Vec::new();
    let mut unknown = BTreeSet::new();
    for (row, slug) in rows {
        if found.contains_key(slug) {
            continue;
        }
        if unknown.contains(slug) {
            problems.push(unknown_organisation(row, slug));
            continue;
        }
        match tx.organisation_by_slug(slug).await? {
            Some(organisation) => {
                found.insert(slug.to_owned(), organisation);
            }
            None => {
                unknown.insert(slug.to_owned());
                problems.push(unknown_organisation(row, slug));
            }
        }
    }
    if problems.is_empty() {
        Ok(found)
    } else {
        Err(EngineError::Import(problems))
    }
}

fn unknown_organisation(row: usize, slug: &str) -> RowProblem {
    RowProblem {
        row,
        column: "comune".to_owned(),
        reason: format!(
            "no organisation has the short name `{slug}`; check the short name (slug) of the organisation in the directory"
        ),
    }
}
