//! The reporting model (modello di rendicontazione): reporting areas and the performance
//! indicators that belong to them, read from an editable TOML file, and the rules for the
//! values of the baseline survey (ricognizione): which numbers each unit accepts and how
//! the numbers written by Italian offices (decimal commas, thousands dots) are read.
//!
//! The shipped default model is [`DEFAULT_MODEL`]; a coalition edits a copy of it and
//! loads it as a new version. Pure code: parsing and validation, no IO.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::ids::{OrganisationId, PersonId};
use crate::workflow::Problem;

/// The default reporting model shipped with Patto (`crates/patto-core/data/reporting-model.toml`).
pub const DEFAULT_MODEL: &str = include_str!("../data/reporting-model.toml");

/// The file name used for the default model in problems.
pub const DEFAULT_MODEL_FILE: &str = "reporting-model.toml";

/// The licence of survey data published as open data unless the publisher says otherwise.
pub const DEFAULT_LICENCE: &str = "CC-BY-4.0";

/// A text in Italian and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Translated {
    /// Italian, the language of the offices.
    pub it: String,
    /// English.
    pub en: String,
}

/// What unit an indicator is measured in, which decides the values it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A percentage, 0 to 100 inclusive.
    Percent,
    /// A count of things or people: a non-negative whole number.
    Count,
    /// An amount in euro, at most two decimals; may be negative (a balance).
    Euro,
    /// Euro per inhabitant, non-negative, at most two decimals.
    EuroPerInhabitant,
    /// Kilograms per inhabitant, non-negative.
    KgPerInhabitant,
    /// A rate per 1,000 inhabitants, non-negative.
    PerThousandInhabitants,
    /// Kilowatts of installed power, non-negative.
    Kilowatt,
    /// Days; may be negative (paying before the due date gives a negative delay).
    Days,
}

impl Unit {
    /// Every unit, for messages.
    pub const ALL: [Unit; 8] = [
        Unit::Percent,
        Unit::Count,
        Unit::Euro,
        Unit::EuroPerInhabitant,
        Unit::KgPerInhabitant,
        Unit::PerThousandInhabitants,
        Unit::Kilowatt,
        Unit::Days,
    ];

    /// The code name used in the model file.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::Euro => "euro",
            Unit::EuroPerInhabitant => "euro_per_inhabitant",
            Unit::KgPerInhabitant => "kg_per_inhabitant",
            Unit::PerThousandInhabitants => "per_thousand_inhabitants",
            Unit::Kilowatt => "kilowatt",
            Unit::Days => "days",
        }
    }

    /// Checks a value against this unit, saying what is wrong in words an office understands.
    pub fn check(self, value: &Decimal) -> Result<(), String> {
        let negative_allowed = matches!(self, Unit::Euro | Unit::Days);
        if value.is_negative() && !negative_allowed {
            return Err(format!(
                "{value} is negative, but a value in {} cannot be",
                self.as_str()
            ));
        }
        match self {
            Unit::Percent if value.exceeds_hundred() => {
                Err(format!("{value} is not a percentage between 0 and 100"))
            }
            Unit::Count if value.scale() > 0 => Err(format!(
                "{value} is not a whole number, but this indicator counts"
            )),
            Unit::Euro | Unit::EuroPerInhabitant if value.scale() > 2 => Err(format!(
                "{value} has more than two decimals, which no amount in euro has"
            )),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a higher value of an indicator is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Polarity {
    /// More is better (e.g. separate waste collection).
    HigherIsBetter,
    /// Less is better (e.g. waste per inhabitant, payment delay).
    LowerIsBetter,
}

impl Polarity {
    /// The code name used in the model file.
    pub fn as_str(self) -> &'static str {
        match self {
            Polarity::HigherIsBetter => "higher_is_better",
            Polarity::LowerIsBetter => "lower_is_better",
        }
    }
}

/// How often an indicator's value is produced by its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Periodicity {
    /// Once a year.
    Annual,
    /// Once every three years.
    Triennial,
}

/// A reporting area (ambito di rendicontazione).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// Stable code, e.g. `servizi_persona`.
    pub code: String,
    /// Its name.
    pub name: Translated,
}

/// A performance indicator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable code, e.g. `AMB01`.
    pub code: String,
    /// Its name.
    pub name: Translated,
    /// How it is computed, in Italian.
    pub definition: String,
    /// Its unit.
    pub unit: Unit,
    /// Whether higher is better.
    pub polarity: Polarity,
    /// Where the value comes from, precisely enough to look it up.
    pub source: String,
    /// How often the source produces it.
    pub periodicity: Periodicity,
    /// The codes of the areas it belongs to (at least one).
    pub areas: Vec<String>,
}

/// A validated reporting model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Model {
    /// The model version; a report keeps the version it was drafted against.
    pub version: u32,
    /// Its title.
    pub title: Translated,
    /// The areas, in file order.
    pub areas: Vec<Area>,
    /// The indicators, in file order.
    pub indicators: Vec<Indicator>,
}

impl Model {
    /// Parses and validates a model file, reporting every problem found with its line
    /// and column (a TOML syntax or shape error stops at the first one).
    pub fn parse(source: &str, file: &str) -> Result<Model, Vec<Problem>> {
        let raw: RawModel = toml::from_str(source).map_err(|error| {
            let at = error.span().map_or(0, |span| span.start);
            vec![Problem::at(file, source, at, error.message().to_owned())]
        })?;
        let mut problems = Vec::new();
        let mut report = |at: usize, message: String| {
            problems.push(Problem::at(file, source, at, message));
        };
        if *raw.version.get_ref() < 1 {
            report(
                raw.version.span().start,
                "`version` must be 1 or more".to_owned(),
            );
        }
        let mut area_codes = BTreeSet::new();
        for area in &raw.areas {
            check_code(&area.code, "area", &mut report);
            if !area_codes.insert(area.code.get_ref().clone()) {
                report(
                    area.code.span().start,
                    format!(
                        "area `{}` is defined twice; give each area its own code",
                        area.code.get_ref()
                    ),
                );
            }
        }
        if raw.areas.is_empty() {
            report(
                0,
                "the model has no `[[areas]]`; add at least one".to_owned(),
            );
        }
        let mut indicator_codes = BTreeSet::new();
        let mut used_areas = BTreeSet::new();
        for indicator in &raw.indicators {
            check_code(&indicator.code, "indicator", &mut report);
            if !indicator_codes.insert(indicator.code.get_ref().clone()) {
                report(
                    indicator.code.span().start,
                    format!(
                        "indicator `{}` is defined twice; give each indicator its own code",
                        indicator.code.get_ref()
                    ),
                );
            }
            for (what, text) in [
                ("definition", &indicator.definition),
                ("source", &indicator.source),
            ] {
                if text.get_ref().trim().is_empty() {
                    report(
                        text.span().start,
                        format!(
                            "indicator `{}` has an empty `{what}`; say it",
                            indicator.code.get_ref()
                        ),
                    );
                }
            }
            if indicator.areas.get_ref().is_empty() {
                report(
                    indicator.areas.span().start,
                    format!(
                        "indicator `{}` belongs to no area; list at least one in `areas`",
                        indicator.code.get_ref()
                    ),
                );
            }
            for area in indicator.areas.get_ref() {
                if area_codes.contains(area.get_ref()) {
                    used_areas.insert(area.get_ref().clone());
                } else {
                    report(
                        area.span().start,
                        format!(
                            "indicator `{}` names area `{}`, which is not defined; defined areas: {}",
                            indicator.code.get_ref(),
                            area.get_ref(),
                            area_codes.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
        }
        for area in &raw.areas {
            if !used_areas.contains(area.code.get_ref()) {
                report(
                    area.code.span().start,
                    format!(
                        "area `{}` has no indicator; add one or remove the area",
                        area.code.get_ref()
                    ),
                );
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Model {
            version: *raw.version.get_ref(),
            title: raw.title,
            areas: raw
                .areas
                .into_iter()
                .map(|area| Area {
                    code: area.code.into_inner(),
                    name: area.name,
                })
                .collect(),
            indicators: raw
                .indicators
                .into_iter()
                .map(|indicator| Indicator {
                    code: indicator.code.into_inner(),
                    name: indicator.name,
                    definition: indicator.definition.into_inner(),
                    unit: indicator.unit,
                    polarity: indicator.polarity,
                    source: indicator.source.into_inner(),
                    periodicity: indicator.periodicity,
                    areas: indicator
                        .areas
                        .into_inner()
                        .into_iter()
                        .map(Spanned::into_inner)
                        .collect(),
                })
                .collect(),
        })
    }

    /// The indicator with this code.
    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators
            .iter()
            .find(|indicator| indicator.code == code)
    }

    /// The indicators of one area, in file order.
    pub fn indicators_of<'m>(&'m self, area: &'m str) -> impl Iterator<Item = &'m Indicator> {
        self.indicators
            .iter()
            .filter(move |indicator| indicator.areas.iter().any(|code| code == area))
    }
}

/// Codes are written into survey files by hand, so they stay simple.
fn check_code(code: &Spanned<String>, what: &str, report: &mut impl FnMut(usize, String)) {
    let text = code.get_ref();
    let valid = text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        report(
            code.span().start,
            format!(
                "{what} code `{text}` must start with a letter and use only letters, digits and `_`"
            ),
        );
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    version: Spanned<u32>,
    title: Translated,
    #[serde(default)]
    areas: Vec<RawArea>,
    #[serde(default)]
    indicators: Vec<RawIndicator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    code: Spanned<String>,
    name: Translated,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    code: Spanned<String>,
    name: Translated,
    definition: Spanned<String>,
    unit: Unit,
    polarity: Polarity,
    source: Spanned<String>,
    periodicity: Periodicity,
    areas: Spanned<Vec<Spanned<String>>>,
}

/// An exact decimal number as written in a survey: digits, kept as text so that no value
/// is changed by binary floating point on its way to the database and back.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Decimal(String);

impl Decimal {
    /// Reads a number as Italian offices write it: `12,5` and `1.234,56` use a decimal
    /// comma and thousands dots; `12.5` (with no comma) is a decimal point, as machines
    /// write it. Spaces and a leading `+` are ignored. The result is canonical: no
    /// leading zeros, no trailing decimal zeros, `-0` written `0`.
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect();
        let (negative, digits) = match compact.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, compact.strip_prefix('+').unwrap_or(&compact)),
        };
        let normalised = if digits.contains(',') {
            if digits.matches(',').count() > 1 {
                return Err(format!("`{text}` has more than one decimal comma"));
            }
            digits.replace('.', "").replace(',', ".")
        } else {
            if digits.matches('.').count() > 1 {
                return Err(format!(
                    "`{text}` has several dots; write thousands without separators or with a decimal comma (1.234,5)"
                ));
            }
            digits.to_owned()
        };
        let (whole, fraction) = normalised.split_once('.').unwrap_or((&normalised, ""));
        let only_digits = |part: &str| part.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !only_digits(whole) || !only_digits(fraction)
        {
            return Err(format!("`{text}` is not a number"));
        }
        let whole = whole.trim_start_matches('0');
        let fraction = fraction.trim_end_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        let is_zero = whole == "0" && fraction.is_empty();
        let mut canonical = String::new();
        if negative && !is_zero {
            canonical.push('-');
        }
        canonical.push_str(whole);
        if !fraction.is_empty() {
            canonical.push('.');
            canonical.push_str(fraction);
        }
        Ok(Decimal(canonical))
    }

    /// The number in a spreadsheet's floating-point cell, to the 15 significant digits a
    /// spreadsheet keeps and shows: a formula's `0.1 + 0.2` is stored as
    /// 0.30000000000000004 but is the 0.3 the office sees, and must pass as an amount in
    /// euro with two decimals.
    pub fn from_f64(value: f64) -> Result<Decimal, String> {
        if !value.is_finite() {
            return Err(format!("`{value}` is not a number"));
        }
        // `{:.14e}` rounds to 15 significant digits: "-3.50000000000000e0".
        let scientific = format!("{value:.14e}");
        let (mantissa, exponent) = scientific
            .split_once('e')
            .ok_or_else(|| format!("`{value}` is not a number"))?;
        let exponent: i64 = exponent
            .parse()
            .map_err(|_| format!("`{value}` is not a number"))?;
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let sign = if mantissa.starts_with('-') { "-" } else { "" };
        // The decimal point goes after `exponent + 1` of the digits.
        let point = exponent + 1;
        let text = match usize::try_from(point) {
            Err(_) => format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            Ok(point) if point >= digits.len() => {
                format!("{digits}{}", "0".repeat(point - digits.len()))
            }
            Ok(point) => format!("{}.{}", &digits[..point], &digits[point..]),
        };
        Decimal::parse(&format!("{sign}{text}"))
    }

    /// The canonical text, with a decimal point.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as a floating-point number, for comparing, medians and charts; the
    /// stored text stays the exact figure.
    pub fn to_f64(&self) -> f64 {
        // The canonical text is always a plain decimal number, which `f64` reads.
        self.0.parse().unwrap_or(0.0)
    }

    /// Whether the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// How many decimals it has.
    pub fn scale(&self) -> usize {
        self.0
            .split_once('.')
            .map_or(0, |(_, fraction)| fraction.len())
    }

    fn exceeds_hundred(&self) -> bool {
        let whole = self
            .0
            .split_once('.')
            .map_or(self.0.as_str(), |(whole, _)| whole);
        let whole = whole.trim_start_matches('-');
        whole.len() > 3 || whole.len() == 3 && (whole > "100" || whole == "100" && self.scale() > 0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Decimal {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Decimal::parse(&text)
    }
}

impl From<Decimal> for String {
    fn from(value: Decimal) -> String {
        value.0
    }
}

/// One survey value, validated against the model, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyEntry {
    /// The slug of the organisation (Comune or coalition) it describes.
    pub organisation: String,
    /// The indicator's code.
    pub indicator: String,
    /// The year it refers to.
    pub year: i32,
    /// The value.
    pub value: Decimal,
    /// Where it was taken from; the indicator's source when the file leaves it empty.
    pub source: String,
    /// A free note.
    pub note: String,
}

/// One loaded version of the reporting model, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredModel {
    /// The model's version, unique.
    pub version: u32,
    /// The exact text loaded, so that the version can always be read again.
    pub source: String,
    /// SHA-256 of the text, hex.
    pub sha256: String,
    /// Who loaded it (`None`: the command line or the demo).
    pub loaded_by: Option<PersonId>,
    /// When.
    pub loaded_at: DateTime<Utc>,
}

/// One stored value of the baseline survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyValue {
    /// The organisation (Comune or coalition) it describes.
    pub organisation_id: OrganisationId,
    /// The indicator's code.
    pub indicator: String,
    /// The year it refers to.
    pub year: i32,
    /// The value.
    pub value: Decimal,
    /// Where it was taken from.
    pub source: String,
    /// A free note.
    pub note: String,
    /// The model version it was validated against.
    pub model_version: u32,
    /// Who entered it (`None`: the command line or the demo).
    pub entered_by: Option<PersonId>,
    /// When it was entered.
    pub entered_at: DateTime<Utc>,
}

/// Why one cell of an import file was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The 1-based row of the file (as a spreadsheet numbers it).
    pub row: usize,
    /// The column's header as written in the file.
    pub column: String,
    /// What is wrong and what to write instead.
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

/// The years a survey value may refer to: the programme's data start after 1990 and no
/// value can describe a year after the next one.
pub const FIRST_YEAR: i32 = 1990;

/// Checks that no two entries give a value for the same organisation, indicator and
/// year: a file that says two different things about one figure is refused rather
/// than keeping whichever came last. Returns the rows (1-based, as given) that repeat.
pub fn duplicate_rows(entries: &[(usize, SurveyEntry)]) -> Vec<RowProblem> {
    let mut seen: BTreeMap<(&str, &str, i32), usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (row, entry) in entries {
        let key = (
            entry.organisation.as_str(),
            entry.indicator.as_str(),
            entry.year,
        );
        if let Some(first) = seen.get(&key) {
            problems.push(RowProblem {
                row: *row,
                column: "indicatore".to_owned(),
                reason: format!(
                    "{} {} for {} is already given on row {first}; keep one row per indicator and year",
                    entry.indicator, entry.year, entry.organisation
                ),
            });
        } else {
            seen.insert(key, *row);
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_valid_and_covers_the_six_areas() {
        let model = Model::parse(DEFAULT_MODEL, DEFAULT_MODEL_FILE).unwrap();
        let names: Vec<&str> = model.areas.iter().map(|a| a.name.it.as_str()).collect();
        for expected in [
            "Servizi alla persona",
            "Ambiente, energia e rifiuti",
            "Lavori pubblici e viabilità",
            "Cultura, turismo, sport e spettacolo",
            "Polizia municipale e sicurezza",
            "Bilancio e trasparenza",
        ] {
            assert!(names.contains(&expected), "missing area {expected}");
        }
        for area in &model.areas {
            assert!(
                model.indicators_of(&area.code).count() >= 3,
                "{}",
                area.code
            );
        }
        assert!(model.indicators.iter().all(|i| i.source.len() > 20));
    }

    #[test]
    fn every_problem_of_a_model_is_reported_with_its_line() {
        let source = r#"version = 0
title = { it = "M", en = "M" }

[[areas]]
code = "a"
name = { it = "A", en = "A" }

[[areas]]
code = "a"
name = { it = "A", en = "A" }

[[areas]]
code = "empty"
name = { it = "E", en = "E" }

[[indicators]]
code = "1bad"
name = { it = "I", en = "I" }
definition = " "
unit = "percent"
polarity = "higher_is_better"
source = "ISTAT"
periodicity = "annual"
areas = ["a", "missing"]
"#;
        let problems = Model::parse(source, "m.toml").unwrap_err();
        let lines: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        assert!(
            lines.iter().any(|(l, m)| *l == 1 && m.contains("version")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 9 && m.contains("defined twice")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 13 && m.contains("no indicator")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 17 && m.contains("must start with a letter")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 19 && m.contains("empty `definition`")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|(l, m)| *l == 24 && m.contains("`missing`")),
            "{lines:?}"
        );
        assert_eq!(problems.len(), 6, "{lines:?}");
    }

    #[test]
    fn a_misspelt_key_or_unit_stops_with_its_line() {
        let source = "version = 1\ntitle = { it = \"M\", en = \"M\" }\n[[areas]]\ncode = \"a\"\nnome = { it = \"A\", en = \"A\" }\n";
        let problems = Model::parse(source, "m.toml").unwrap_err();
        assert_eq!(problems[0].line, 5, "{problems:?}");
        assert!(problems[0].message.contains("nome"), "{problems:?}");
    }

    #[test]
    fn decimals_are_read_as_offices_write_them() {
        let read = |text: &str| Decimal::parse(text).map(|d| d.as_str().to_owned());
        assert_eq!(read("12,5").unwrap(), "12.5");
        assert_eq!(read("1.234,50").unwrap(), "1234.5");
        assert_eq!(read(" 007 ").unwrap(), "7");
        assert_eq!(read("12.50").unwrap(), "12.5");
        assert_eq!(read("-0,0").unwrap(), "0");
        assert_eq!(read("-3,25").unwrap(), "-3.25");
        assert_eq!(read("1 234,5").unwrap(), "1234.5");
        assert!(read("1,2,3").is_err());
        assert!(read("1.234.567").is_err());
        assert!(read("abc").is_err());
        assert!(read("").is_err());
        assert!(read("12%").is_err());
        let float = |value: f64| Decimal::from_f64(value).unwrap().as_str().to_owned();
        assert_eq!(float(0.1 + 0.2), "0.3");
        assert_eq!(float(10.1 + 0.2), "10.3");
        assert_eq!(float(65.3), "65.3");
        assert_eq!(float(-3.5), "-3.5");
        assert_eq!(float(0.000_125), "0.000125");
        assert_eq!(float(1e20), "100000000000000000000");
        assert_eq!(float(100.0 / 3.0), "33.3333333333333");
        assert_eq!(float(0.0), "0");
        assert!(Decimal::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn values_are_checked_against_their_unit() {
        let check = |unit: Unit, text: &str| unit.check(&Decimal::parse(text).unwrap());
        assert!(check(Unit::Percent, "100").is_ok());
        assert!(check(Unit::Percent, "99,9").is_ok());
        assert!(check(Unit::Percent, "100,1").is_err());
        assert!(check(Unit::Percent, "250").is_err());
        assert!(check(Unit::Percent, "-1").is_err());
        assert!(check(Unit::Count, "12").is_ok());
        assert!(check(Unit::Count, "12,5").is_err());
        assert!(check(Unit::Euro, "-1.500,25").is_ok());
        assert!(check(Unit::Euro, "10,255").is_err());
        assert!(check(Unit::EuroPerInhabitant, "-3").is_err());
        assert!(check(Unit::Days, "-4,2").is_ok());
    }

    #[test]
    fn repeated_rows_are_refused_naming_the_first() {
        let entry = |indicator: &str, year| SurveyEntry {
            organisation: "cefalu".to_owned(),
            indicator: indicator.to_owned(),
            year,
            value: Decimal::parse("1").unwrap(),
            source: String::new(),
            note: String::new(),
        };
        let problems = duplicate_rows(&[
            (2, entry("AMB01", 2023)),
            (3, entry("AMB01", 2024)),
            (4, entry("AMB01", 2023)),
        ]);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].row, 4);
        assert!(problems[0].reason.contains("row 2"));
    }
}
