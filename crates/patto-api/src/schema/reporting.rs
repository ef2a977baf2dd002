//! The reporting model and the baseline survey through the API: the model's versions,
//! areas and indicators (public), loading a new version from its TOML text, importing a
//! survey file (CSV text, or XLSX as base64) with nothing half-imported, and the survey
//! as open data, row by row or as one CSV or JSON text.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, Object, SimpleObject};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use patto_core::reporting::{self as model, StoredModel};
use patto_engine::{ExportRow, ImportSummary, SurveyFormat, SurveyImport};

use super::mutation::acting;
use super::types::{Person, person};
use super::{page, request};
use crate::error::{ApiError, ApiResult, engine};

/// The queries of the reporting model and the survey.
#[derive(Default)]
pub struct ReportingQuery;

/// The mutations of the reporting model and the survey.
#[derive(Default)]
pub struct ReportingMutation;

/// A text in Italian and English.
#[derive(SimpleObject)]
pub struct Translated {
    /// In Italian.
    pub it: String,
    /// In English.
    pub en: String,
}

impl From<model::Translated> for Translated {
    fn from(t: model::Translated) -> Self {
        Translated { it: t.it, en: t.en }
    }
}

/// A reporting area (ambito di rendicontazione).
#[derive(SimpleObject)]
pub struct ReportingArea {
    /// Stable code, e.g. `servizi_persona`.
    pub code: String,
    /// Its name.
    pub name: Translated,
}

/// A performance indicator of the reporting model.
#[derive(SimpleObject)]
pub struct Indicator {
    /// Stable code, e.g. `AMB01`: the `indicatore` column of a survey file.
    pub code: String,
    /// Its name.
    pub name: Translated,
    /// What it measures and how it is computed.
    pub definition: String,
    /// The unit its values are checked against (`percent`, `count`, `euro`...).
    pub unit: String,
    /// `higher_is_better` or `lower_is_better`.
    pub polarity: String,
    /// Where its values come from (ISTAT, the Comune's accounts, ISPRA...).
    pub source: String,
    /// How often its source produces a value (`annual`, `triennial`).
    pub periodicity: String,
    /// The codes of the areas it belongs to.
    pub areas: Vec<String>,
}

/// The stored name of a polarity, as the model file writes it.
fn polarity_name(polarity: model::Polarity) -> &'static str {
    match polarity {
        model::Polarity::HigherIsBetter => "higher_is_better",
        model::Polarity::LowerIsBetter => "lower_is_better",
    }
}

/// The stored name of a periodicity, as the model file writes it.
fn periodicity_name(periodicity: model::Periodicity) -> &'static str {
    match periodicity {
        model::Periodicity::Annual => "annual",
        model::Periodicity::Triennial => "triennial",
    }
}

impl From<model::Indicator> for Indicator {
    fn from(i: model::Indicator) -> Self {
        Indicator {
            code: i.code,
            name: i.name.into(),
            definition: i.definition,
            unit: i.unit.to_string(),
            polarity: polarity_name(i.polarity).to_owned(),
            source: i.source,
            periodicity: periodicity_name(i.periodicity).to_owned(),
            areas: i.areas,
        }
    }
}

/// A version of the reporting model.
pub struct ReportingModel {
    stored: StoredModel,
    model: model::Model,
}

#[Object]
impl ReportingModel {
    /// Its version: a report keeps the version it was drafted against.
    async fn version(&self) -> u32 {
        self.stored.version
    }
    /// SHA-256 of its TOML text, in hex.
    async fn sha256(&self) -> &str {
        &self.stored.sha256
    }
    /// Its TOML text, as loaded.
    async fn source(&self) -> &str {
        &self.stored.source
    }
    /// When it was loaded.
    async fn loaded_at(&self) -> DateTime<Utc> {
        self.stored.loaded_at
    }
    /// Who loaded it; null when the server itself did (a load from before loads were
    /// attributed).
    async fn loaded_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        match self.stored.loaded_by {
            Some(loader) => person(ctx, loader).await,
            None => Ok(None),
        }
    }
    /// Its title.
    async fn title(&self) -> Translated {
        self.model.title.clone().into()
    }
    /// Its reporting areas, in the model's order.
    async fn areas(&self) -> Vec<ReportingArea> {
        self.model
            .areas
            .iter()
            .map(|area| ReportingArea {
                code: area.code.clone(),
                name: area.name.clone().into(),
            })
            .collect()
    }
    /// Its indicators, in the model's order.
    async fn indicators(&self) -> Vec<Indicator> {
        self.model
            .indicators
            .iter()
            .cloned()
            .map(Indicator::from)
            .collect()
    }
}

/// One value of the baseline survey, as open data.
#[derive(SimpleObject)]
pub struct SurveyValue {
    /// The organisation's slug.
    pub organisation: String,
    /// The organisation's name.
    pub organisation_name: String,
    /// Its ISTAT code, for Comuni.
    pub istat_code: Option<String>,
    /// The indicator's code.
    pub indicator: String,
    /// The indicator's Italian name.
    pub indicator_name: String,
    /// The indicator's unit.
    pub unit: String,
    /// The year.
    pub year: i32,
    /// The value, with a decimal point.
    pub value: String,
    /// Where it was taken from.
    pub source: String,
    /// A free note.
    pub note: String,
    /// The model version it was validated against.
    pub model_version: u32,
    /// When it was entered (RFC 3339).
    pub entered_at: String,
    /// The licence of the data.
    pub licence: String,
}

impl From<ExportRow> for SurveyValue {
    fn from(row: ExportRow) -> Self {
        SurveyValue {
            organisation: row.comune,
            organisation_name: row.nome_comune,
            istat_code: row.codice_istat,
            indicator: row.indicatore,
            indicator_name: row.nome_indicatore,
            unit: row.unita,
            year: row.anno,
            value: row.valore,
            source: row.fonte,
            note: row.note,
            model_version: row.versione_modello,
            entered_at: row.inserito_il,
            licence: row.licenza,
        }
    }
}

/// What an import saved.
#[derive(SimpleObject)]
pub struct SurveyImportSummary {
    /// The model version the values were validated against.
    pub model_version: u32,
    /// Values that were new.
    pub inserted: i32,
    /// Values that replaced one stored for the same organisation, indicator and year.
    pub replaced: i32,
    /// The organisations the file gave values for, by slug.
    pub organisations: Vec<String>,
}

impl From<ImportSummary> for SurveyImportSummary {
    fn from(s: ImportSummary) -> Self {
        SurveyImportSummary {
            model_version: s.model_version,
            inserted: i32::try_from(s.inserted).unwrap_or(i32::MAX),
            replaced: i32::try_from(s.replaced).unwrap_or(i32::MAX),
            organisations: s.organisations,
        }
    }
}

/// The format of an uploaded survey file.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SurveyFileFormat {
    /// CSV text (`;` or `,` separated, a header row), given as is.
    Csv,
    /// An Excel workbook, given as base64 (standard alphabet, padding optional).
    Xlsx,
}

/// The format of the survey as open data.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum OpenDataFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON document with the licence and the values.
    Json,
}

#[Object]
impl ReportingQuery {
    /// A version of the reporting model (the latest when `version` is not given), with
    /// its areas and indicators. The model is public.
    async fn reporting_model(
        &self,
        ctx: &Context<'_>,
        version: Option<u32>,
    ) -> ApiResult<ReportingModel> {
        let cx = request(ctx)?;
        let (stored, model) = engine(cx.engine.reporting_model(version).await)?;
        Ok(ReportingModel { stored, model })
    }

    /// Every loaded version of the reporting model, oldest first (ask for one by
    /// `reportingModel(version:)` for its areas and indicators).
    async fn reporting_model_versions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, ReportingModelVersion>> {
        let cx = request(ctx)?;
        let versions = engine(cx.engine.reporting_model_versions().await)?;
        page(
            versions,
            |v| i64::from(v.version),
            ReportingModelVersion::from,
            after,
            first,
        )
    }

    /// The baseline survey's values, of one organisation (by slug) or of all, sorted by
    /// organisation, indicator and year: open data, public.
    async fn survey_values(
        &self,
        ctx: &Context<'_>,
        organisation: Option<String>,
        licence: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> ApiResult<Connection<String, SurveyValue>> {
        let cx = request(ctx)?;
        let export = engine(
            cx.engine
                .export_survey(organisation.as_deref(), licence.as_deref())
                .await,
        )?;
        let numbered: Vec<(i64, ExportRow)> = export
            .values
            .into_iter()
            .enumerate()
            .map(|(i, row)| (i64::try_from(i).unwrap_or(i64::MAX), row))
            .collect();
        page(
            numbered,
            |(i, _)| *i,
            |(_, row)| SurveyValue::from(row),
            after,
            first,
        )
    }

    /// The baseline survey as one open-data text, CSV or JSON (with its licence, CC BY
    /// 4.0 unless another SPDX identifier is given): what `patto survey export` prints.
    async fn survey_export(
        &self,
        ctx: &Context<'_>,
        format: OpenDataFormat,
        organisation: Option<String>,
        licence: Option<String>,
    ) -> ApiResult<String> {
        let cx = request(ctx)?;
        let export = engine(
            cx.engine
                .export_survey(organisation.as_deref(), licence.as_deref())
                .await,
        )?;
        match format {
            OpenDataFormat::Csv => engine(export.to_csv()),
            OpenDataFormat::Json => serde_json::to_string_pretty(&export).map_err(|error| {
                ApiError::Internal(format!("cannot write the survey as JSON: {error}")).into()
            }),
        }
    }
}

/// A loaded version of the reporting model, without its parsed content.
#[derive(SimpleObject)]
pub struct ReportingModelVersion {
    /// Its version.
    pub version: u32,
    /// SHA-256 of its TOML text, in hex.
    pub sha256: String,
    /// When it was loaded.
    pub loaded_at: DateTime<Utc>,
}

impl From<StoredModel> for ReportingModelVersion {
    fn from(s: StoredModel) -> Self {
        ReportingModelVersion {
            version: s.version,
            sha256: s.sha256,
            loaded_at: s.loaded_at,
        }
    }
}

#[Object]
impl ReportingMutation {
    /// Loads a new version of the reporting model from its TOML text (raise `version`
    /// in it first): a coordinator of a coalition or an instance operator may. Loading
    /// the same text again returns the stored version.
    async fn load_reporting_model(
        &self,
        ctx: &Context<'_>,
        source: String,
    ) -> ApiResult<ReportingModel> {
        let (cx, actor) = acting(ctx)?;
        let stored = engine(
            cx.engine
                .load_reporting_model(actor, &source, "reporting-model.toml")
                .await,
        )?;
        // The engine parsed this very text before storing it.
        let model = model::Model::parse(&stored.source, "reporting-model.toml").map_err(|_| {
            ApiError::Internal(format!(
                "reporting model version {} was stored but does not parse",
                stored.version
            ))
        })?;
        Ok(ReportingModel { stored, model })
    }

    /// Imports baseline-survey values from a file's content: CSV text, or an XLSX
    /// workbook as base64. Every row is checked first; if any is bad, nothing is saved
    /// and the error (`VALIDATION`) lists every problem in `extensions.problems` as
    /// `{row, column, reason}`. `organisation` (a slug) stands for rows without a
    /// `comune` column. An organisation's coordinators and admins, a coordinator of its
    /// coalition, or an instance operator may.
    async fn import_survey(
        &self,
        ctx: &Context<'_>,
        format: SurveyFileFormat,
        content: String,
        organisation: Option<String>,
    ) -> ApiResult<SurveyImportSummary> {
        let (cx, actor) = acting(ctx)?;
        let (bytes, format) = match format {
            SurveyFileFormat::Csv => (content.into_bytes(), SurveyFormat::Csv),
            SurveyFileFormat::Xlsx => (decode_base64(&content)?, SurveyFormat::Xlsx),
        };
        let import = SurveyImport {
            bytes,
            format,
            organisation,
        };
        engine(cx.engine.import_survey(actor, import).await).map(SurveyImportSummary::from)
    }
}

/// The bytes of a base64 upload, with or without padding, ignoring line breaks.
fn decode_base64(content: &str) -> ApiResult<Vec<u8>> {
    let compact: String = content.split_whitespace().collect();
    let trimmed = compact.trim_end_matches('=');
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .map_err(|error| {
            ApiError::Validation(format!(
                "the XLSX content is not base64 ({error}); encode the workbook's bytes with standard base64 (e.g. `base64 -w0 file.xlsx`)"
            ))
            .into()
        })
}
