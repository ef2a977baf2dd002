//! The content of a Bilancio Sociale (social report): one report per organisation (a
//! Comune or the coalition) and year, with a section per reporting area holding the
//! narrative, the indicator table drawn from the baseline survey and the goals for the
//! next year.
//!
//! A report version is stored as the bytes of one document version: canonical JSON
//! (RFC 8785) tagged with [`FORMAT`], holding every section and every survey value it
//! shows, with the version of the reporting model it was drafted against. A published
//! version is therefore hash-bound as a whole and its figures are frozen: a later
//! correction of the survey changes the next assembled version, never a published one.
//! Pure code: building, serialising and parsing; the engine gathers the inputs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DocumentId, OrganisationId, PersonId};
use crate::reporting::{Decimal, Model, Polarity, SurveyValue, Translated, Unit};

/// The format tag of the version bytes of a social report.
pub const FORMAT: &str = "patto/social-report/v1";

/// The longest narrative or goals text of one section, in characters: a long chapter,
/// well beyond what a page of the portal shows, but short of a pasted book.
pub const MAX_SECTION_TEXT: usize = 40_000;

/// Why bytes could not be read as a social report.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReportFormatError {
    /// Not JSON at all.
    #[error("the version is not a social report: it is not JSON ({0})")]
    NotJson(String),
    /// JSON without a format tag.
    #[error("the version is not a social report: it has no `format` tag (expected `{FORMAT}`)")]
    MissingFormat,
    /// A format this Patto does not read.
    #[error(
        "the social report is in format `{0}`, which this Patto does not read; it reads `{FORMAT}` (a newer Patto may have written it: upgrade to read it)"
    )]
    UnknownFormat(String),
    /// The right tag with a body that does not match it.
    #[error("the social report claims format `{FORMAT}` but does not match it: {0}")]
    Invalid(String),
}

/// Whom a report is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSubject {
    /// The organisation's slug.
    pub slug: String,
    /// Its name.
    pub name: String,
    /// Its category (`municipality`, `coalition`).
    pub category: String,
    /// Its ISTAT code, for a Comune.
    pub istat_code: Option<String>,
}

/// Which way an indicator went over the years shown, read with its polarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    /// The last value is better than the first.
    Improving,
    /// The last value is worse than the first.
    Worsening,
    /// The first and last values are equal.
    Stable,
    /// Fewer than two years have a value.
    NotEnoughData,
}

impl Trend {
    /// The trend from `first` to `last` for an indicator of `polarity`.
    pub fn between(polarity: Polarity, first: &Decimal, last: &Decimal) -> Trend {
        let (first, last) = (first.to_f64(), last.to_f64());
        if first == last {
            return Trend::Stable;
        }
        let rose = last > first;
        match (polarity, rose) {
            (Polarity::HigherIsBetter, true) | (Polarity::LowerIsBetter, false) => Trend::Improving,
            (Polarity::HigherIsBetter, false) | (Polarity::LowerIsBetter, true) => Trend::Worsening,
        }
    }

    /// The code name, as the report's JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Improving => "improving",
            Trend::Worsening => "worsening",
            Trend::Stable => "stable",
            Trend::NotEnoughData => "not_enough_data",
        }
    }

    /// The Italian word for it, as the portal and the PDF show it.
    pub fn label_it(self) -> &'static str {
        match self {
            Trend::Improving => "in miglioramento",
            Trend::Worsening => "in peggioramento",
            Trend::Stable => "stabile",
            Trend::NotEnoughData => "dati insufficienti",
        }
    }
}

/// One year's value of an indicator for the report's organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearValue {
    /// The year.
    pub year: i32,
    /// The value.
    pub value: Decimal,
    /// Where it was taken from.
    pub source: String,
    /// A free note.
    pub note: String,
}

/// The median of the coalition's Comuni for one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearMedian {
    /// The year.
    pub year: i32,
    /// The median of the Comuni that gave a value.
    pub median: Decimal,
    /// How many Comuni gave a value.
    pub comuni: u32,
}

/// One indicator of a section, with every figure the report shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorTable {
    /// The indicator's code.
    pub code: String,
    /// Its name.
    pub name: Translated,
    /// How it is computed.
    pub definition: String,
    /// Its unit.
    pub unit: Unit,
    /// Whether higher is better.
    pub polarity: Polarity,
    /// The model's source for it.
    pub source: String,
    /// The organisation's values, by year ascending, up to the report's year.
    pub values: Vec<YearValue>,
    /// The coalition's median, by year ascending, for the years the Comuni gave values.
    pub coalition_median: Vec<YearMedian>,
    /// Which way the values went.
    pub trend: Trend,
}

/// One section: a reporting area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// The area's code.
    pub area: String,
    /// The area's name.
    pub name: Translated,
    /// The narrative, in Markdown.
    pub narrative: String,
    /// The goals for the next year, in Markdown.
    pub goals: String,
    /// The indicators of the area, in the model's order.
    pub indicators: Vec<IndicatorTable>,
}

/// A whole social report as one version holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocialReport {
    /// Always [`FORMAT`].
    pub format: String,
    /// Whom it is about.
    pub subject: ReportSubject,
    /// The year it reports on.
    pub year: i32,
    /// Its title.
    pub title: String,
    /// The version of the reporting model it was drafted against.
    pub model_version: u32,
    /// A section per area of the model, in the model's order.
    pub sections: Vec<Section>,
}

/// The text of one section as drafted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionText {
    /// The narrative, in Markdown.
    pub narrative: String,
    /// The goals for the next year, in Markdown.
    pub goals: String,
}

/// A social-report document's subject, as stored: one per organisation and year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRecord {
    /// The document holding the report's versions.
    pub document_id: DocumentId,
    /// The organisation (Comune or coalition) it is about.
    pub organisation_id: OrganisationId,
    /// The year it reports on.
    pub year: i32,
    /// The reporting-model version it is drafted against.
    pub model_version: u32,
}

/// The working draft of one section, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDraft {
    /// The report's document.
    pub document_id: DocumentId,
    /// The area's code.
    pub area: String,
    /// The drafted text.
    pub text: SectionText,
    /// Who saved it last.
    pub updated_by: PersonId,
    /// When.
    pub updated_at: DateTime<Utc>,
}

/// What a report is assembled from.
pub struct ReportInputs<'a> {
    /// Whom it is about.
    pub subject: ReportSubject,
    /// The year.
    pub year: i32,
    /// The title.
    pub title: String,
    /// The model it is drafted against.
    pub model: &'a Model,
    /// The drafted text per area code; an area without a draft gets empty text.
    pub drafts: &'a BTreeMap<String, SectionText>,
    /// The survey values of the report's organisation.
    pub own_values: &'a [SurveyValue],
    /// The survey values of every Comune of the coalition, for the medians.
    pub comuni_values: &'a [SurveyValue],
}

impl SocialReport {
    /// Builds a report: a section per area of the model, each indicator with the
    /// organisation's values up to the report's year, the Comuni's median per year and
    /// the trend.
    pub fn assemble(inputs: ReportInputs<'_>) -> SocialReport {
        let year = inputs.year;
        let mut peers: BTreeMap<(&str, i32), Vec<&Decimal>> = BTreeMap::new();
        for value in inputs.comuni_values.iter().filter(|v| v.year <= year) {
            peers
                .entry((value.indicator.as_str(), value.year))
                .or_default()
                .push(&value.value);
        }
        let sections = inputs
            .model
            .areas
            .iter()
            .map(|area| {
                let text = inputs.drafts.get(&area.code).cloned().unwrap_or_default();
                let indicators = inputs
                    .model
                    .indicators_of(&area.code)
                    .map(|indicator| {
                        let mut values: Vec<YearValue> = inputs
                            .own_values
                            .iter()
                            .filter(|v| v.indicator == indicator.code && v.year <= year)
                            .map(|v| YearValue {
                                year: v.year,
                                value: v.value.clone(),
                                source: v.source.clone(),
                                note: v.note.clone(),
                            })
                            .collect();
                        values.sort_by_key(|v| v.year);
                        let coalition_median = peers
                            .range(
                                (indicator.code.as_str(), i32::MIN)
                                    ..=(indicator.code.as_str(), i32::MAX),
                            )
                            .filter_map(|((_, year), found)| {
                                median(found).map(|median| YearMedian {
                                    year: *year,
                                    median,
                                    comuni: u32::try_from(found.len()).unwrap_or(u32::MAX),
                                })
                            })
                            .collect();
                        let trend = match (values.first(), values.last()) {
                            (Some(first), Some(last)) if values.len() >= 2 => {
                                Trend::between(indicator.polarity, &first.value, &last.value)
                            }
                            _ => Trend::NotEnoughData,
                        };
                        IndicatorTable {
                            code: indicator.code.clone(),
                            name: indicator.name.clone(),
                            definition: indicator.definition.clone(),
                            unit: indicator.unit,
                            polarity: indicator.polarity,
                            source: indicator.source.clone(),
                            values,
                            coalition_median,
                            trend,
                        }
                    })
                    .collect();
                Section {
                    area: area.code.clone(),
                    name: area.name.clone(),
                    narrative: text.narrative,
                    goals: text.goals,
                    indicators,
                }
            })
            .collect();
        SocialReport {
            format: FORMAT.to_owned(),
            subject: inputs.subject,
            year,
            title: inputs.title,
            model_version: inputs.model.version,
            sections,
        }
    }

    /// The version bytes: RFC 8785 canonical JSON, so that the same report always gives
    /// the same bytes and the same hash.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ReportFormatError> {
        serde_jcs::to_vec(self).map_err(|error| ReportFormatError::Invalid(error.to_string()))
    }

    /// Reads version bytes, refusing any format but [`FORMAT`] with a clear error.
    pub fn parse(bytes: &[u8]) -> Result<SocialReport, ReportFormatError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|error| ReportFormatError::NotJson(error.to_string()))?;
        match value.get("format") {
            None => return Err(ReportFormatError::MissingFormat),
            Some(serde_json::Value::String(format)) if format == FORMAT => {}
            Some(serde_json::Value::String(format)) => {
                return Err(ReportFormatError::UnknownFormat(format.clone()));
            }
            Some(other) => return Err(ReportFormatError::UnknownFormat(other.to_string())),
        }
        serde_json::from_value(value).map_err(|error| ReportFormatError::Invalid(error.to_string()))
    }

    /// The section of an area.
    pub fn section(&self, area: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.area == area)
    }
}

/// The median of some values: the middle one, or the mean of the two middle ones, to the
/// 15 significant digits a spreadsheet shows. `None` for no values.
pub fn median(values: &[&Decimal]) -> Option<Decimal> {
    let mut sorted: Vec<f64> = values.iter().map(|v| v.to_f64()).collect();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    let value = match sorted.len() {
        0 => return None,
        n if n % 2 == 1 => sorted[middle],
        _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
    };
    Decimal::from_f64(value).ok()
}

/// Checks the narrative or goals of a section: Markdown of several lines, with no
/// character that could forge text on a page or a terminal, and not beyond
/// [`MAX_SECTION_TEXT`].
pub fn check_section_text(what: &str, text: &str) -> Result<(), String> {
    let length = text.chars().count();
    if length > MAX_SECTION_TEXT {
        return Err(format!(
            "the {what} is {length} characters long, more than the {MAX_SECTION_TEXT} a section may hold; shorten it or move detail to an attachment"
        ));
    }
    if let Some(c) = crate::text::first_unsafe_in_lines(text) {
        return Err(format!(
            "the {what} contains the control character {}, which a page cannot show; remove it",
            crate::text::code_point(c)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::ids::OrganisationId;
    use crate::reporting::{DEFAULT_MODEL, DEFAULT_MODEL_FILE};

    fn value(organisation: i64, indicator: &str, year: i32, value: &str) -> SurveyValue {
        SurveyValue {
            organisation_id: OrganisationId::new(organisation),
            indicator: indicator.to_owned(),
            year,
            value: Decimal::parse(value).unwrap(),
            source: "ISPRA".to_owned(),
            note: String::new(),
            model_version: 1,
            entered_by: None,
            entered_at: Utc::now(),
        }
    }

    fn report() -> SocialReport {
        let model = Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap();
        let area = model.areas[0].code.clone();
        let indicator = model.indicators_of(&area).next().unwrap().code.clone();
        let mut drafts = BTreeMap::new();
        drafts.insert(
            area,
            SectionText {
                narrative: "Il Comune ha **rafforzato** i servizi.".to_owned(),
                goals: "- più asili nido".to_owned(),
            },
        );
        let own = [
            value(1, &indicator, 2024, "10"),
            value(1, &indicator, 2022, "8"),
            value(1, &indicator, 2026, "99"),
        ];
        let comuni = [
            value(1, &indicator, 2024, "10"),
            value(2, &indicator, 2024, "20"),
            value(3, &indicator, 2024, "4"),
            value(2, &indicator, 2022, "5"),
            value(3, &indicator, 2022, "6"),
        ];
        SocialReport::assemble(ReportInputs {
            subject: ReportSubject {
                slug: "cefalu".to_owned(),
                name: "Cefalù".to_owned(),
                category: "municipality".to_owned(),
                istat_code: Some("082027".to_owned()),
            },
            year: 2025,
            title: "Bilancio sociale 2025".to_owned(),
            model: &model,
            drafts: &drafts,
            own_values: &own,
            comuni_values: &comuni,
        })
    }

    #[test]
    fn a_report_has_a_section_per_area_with_values_medians_and_trend() {
        let model = Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap();
        let report = report();
        assert_eq!(report.sections.len(), model.areas.len());
        let first = &report.sections[0];
        assert!(first.narrative.contains("rafforzato"));
        let table = &first.indicators[0];
        let years: Vec<i32> = table.values.iter().map(|v| v.year).collect();
        // Sorted, and the value after the report's year is left out.
        assert_eq!(years, [2022, 2024]);
        let medians: Vec<(i32, &str, u32)> = table
            .coalition_median
            .iter()
            .map(|m| (m.year, m.median.as_str(), m.comuni))
            .collect();
        assert_eq!(medians, [(2022, "5.5", 2), (2024, "10", 3)]);
        let expected = match table.polarity {
            Polarity::HigherIsBetter => Trend::Improving,
            Polarity::LowerIsBetter => Trend::Worsening,
        };
        assert_eq!(table.trend, expected);
        assert!(report.sections[1].narrative.is_empty());
    }

    #[test]
    fn the_bytes_are_canonical_and_read_back() {
        let report = report();
        let bytes = report.to_bytes().unwrap();
        assert_eq!(SocialReport::parse(&bytes).unwrap(), report);
        // Canonical: sorted keys, no whitespace between tokens, the format tag inside.
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with("{\"format\":\"patto/social-report/v1\","),
            "{text}"
        );
        assert_eq!(report.clone().to_bytes().unwrap(), bytes);
    }

    #[test]
    fn unknown_formats_and_bodies_are_refused_clearly() {
        assert!(matches!(
            SocialReport::parse(b"not json"),
            Err(ReportFormatError::NotJson(_))
        ));
        assert_eq!(
            SocialReport::parse(b"{\"year\":2025}"),
            Err(ReportFormatError::MissingFormat)
        );
        let error = SocialReport::parse(b"{\"format\":\"patto/social-report/v9\"}").unwrap_err();
        assert_eq!(
            error,
            ReportFormatError::UnknownFormat("patto/social-report/v9".to_owned())
        );
        assert!(error.to_string().contains("patto/social-report/v1"));
        let mut value = serde_json::to_value(report()).unwrap();
        value["extra"] = serde_json::json!(1);
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(matches!(
            SocialReport::parse(&bytes),
            Err(ReportFormatError::Invalid(_))
        ));
    }

    #[test]
    fn medians_and_trends_follow_the_numbers() {
        let d = |text: &str| Decimal::parse(text).unwrap();
        let (a, b, c) = (d("9"), d("10"), d("100"));
        assert_eq!(median(&[&c, &a, &b]).unwrap().as_str(), "10");
        assert_eq!(median(&[&c, &a]).unwrap().as_str(), "54.5");
        assert_eq!(median(&[]), None);
        // Numbers, not text: "9" < "10".
        assert_eq!(
            Trend::between(Polarity::HigherIsBetter, &a, &b),
            Trend::Improving
        );
        assert_eq!(
            Trend::between(Polarity::LowerIsBetter, &a, &b),
            Trend::Worsening
        );
        assert_eq!(
            Trend::between(Polarity::LowerIsBetter, &b, &b),
            Trend::Stable
        );
    }

    #[test]
    fn section_text_is_bounded_and_free_of_controls() {
        assert!(check_section_text("narrative", "# Titolo\n\nTesto à è.\r\n").is_ok());
        assert!(check_section_text("narrative", "a\u{1b}[2J").is_err());
        assert!(check_section_text("goals", "\u{202e}x").is_err());
        assert!(check_section_text("goals", &"x".repeat(MAX_SECTION_TEXT + 1)).is_err());
    }
}
