//! The syntax of review schedules: standard 5-field cron expressions, as in
//! crontab(5), and IANA time zones.
//!
//! This module is the one place that reads what users write. It turns an
//! expression into a [`CronExpr`]: the set of values each field allows, plus
//! which fields were written starting with `*`, because Vixie cron gives that
//! spelling a meaning of its own (day-of-month OR day-of-week, and how
//! daylight-saving changes are handled). Workflow definitions validate with it,
//! and `patto-scheduler` computes fire times from the parsed value, so the
//! syntax cannot drift between the two. It is written here rather than with the
//! `cron` crate's parser because that parser wants six or seven fields, numbers
//! Sunday as 1 and reports no position; the scheduler still uses the `cron`
//! crate underneath for calendar arithmetic.

use std::fmt;

/// The time zone used when a schedule does not name one.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Rome";

/// One of the five fields of a cron expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronField {
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
}

impl CronField {
    /// The fields in the order they are written.
    pub const ALL: [CronField; 5] = [
        CronField::Minute,
        CronField::Hour,
        CronField::DayOfMonth,
        CronField::Month,
        CronField::DayOfWeek,
    ];

    /// The field's name as documented (`day-of-month`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CronField::Minute => "minute",
            CronField::Hour => "hour",
            CronField::DayOfMonth => "day-of-month",
            CronField::Month => "month",
            CronField::DayOfWeek => "day-of-week",
        }
    }

    /// The smallest and largest value a user may write (7 is Sunday again for days of the week).
    pub fn bounds(self) -> (u32, u32) {
        match self {
            CronField::Minute => (0, 59),
            CronField::Hour => (0, 23),
            CronField::DayOfMonth => (1, 31),
            CronField::Month => (1, 12),
            CronField::DayOfWeek => (0, 7),
        }
    }

    /// The names this field accepts besides numbers, in value order from the first name's value.
    fn names(self) -> (&'static [&'static str], u32) {
        match self {
            CronField::Month => (
                &[
                    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                    "dec",
                ],
                1,
            ),
            CronField::DayOfWeek => (&["sun", "mon", "tue", "wed", "thu", "fri", "sat"], 0),
            CronField::Minute | CronField::Hour | CronField::DayOfMonth => (&[], 0),
        }
    }

    /// The range `*` stands for. For days of the week it is 0-6: Sunday once, so
    /// that `*/n` steps over the week as crontab does.
    fn star_range(self) -> (u32, u32) {
        match self {
            CronField::DayOfWeek => (0, 6),
            other => other.bounds(),
        }
    }
}

impl fmt::Display for CronField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronErrorKind {
    /// The expression does not have exactly five fields.
    FieldCount { found: usize },
    /// A list has an empty item, as in `1,,2` or a trailing comma.
    EmptyItem,
    /// A range lacks one of its ends, as in `5-` or `-5`.
    MissingValue,
    /// A value is neither a number nor a name this field accepts.
    UnknownValue { text: String },
    /// A number outside the field's bounds.
    OutOfRange { value: u32 },
    /// A range whose start is after its end, such as `5-1`.
    BackwardRange { from: u32, to: u32 },
    /// A step that is not a positive whole number, such as `*/0`.
    InvalidStep { text: String },
    /// A step after a single value, such as `5/10`, which crontab does not accept.
    StepWithoutRange,
    /// The day-of-month values never occur in the chosen months, such as `30 2` (30 February).
    NeverMatches,
}

/// A rejected cron expression: where (1-based column, in characters) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError {
    /// 1-based position of the offending text in the expression, in characters.
    pub column: usize,
    /// The field the problem is in, when it is in one field.
    pub field: Option<CronField>,
    /// What is wrong.
    pub kind: CronErrorKind,
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}", self.column)?;
        if let Some(field) = self.field {
            write!(f, ", {field} field")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            CronErrorKind::FieldCount { found } => write!(
                f,
                "a cron expression needs exactly 5 fields (minute hour day-of-month month day-of-week), found {found}"
            ),
            CronErrorKind::EmptyItem => {
                f.write_str("empty list item; separate values with single commas, as in `1,15`")
            }
            CronErrorKind::MissingValue => {
                f.write_str("a value is missing; write both ends of a range, as in `1-5`")
            }
            CronErrorKind::UnknownValue { text } => {
                write!(f, "`{text}` is not a number")?;
                match self.field {
                    Some(CronField::Month) => f.write_str(" nor a month name (JAN-DEC)"),
                    Some(CronField::DayOfWeek) => f.write_str(" nor a day name (SUN-SAT)"),
                    _ => Ok(()),
                }
            }
            CronErrorKind::OutOfRange { value } => {
                let (low, high) = self.field.map_or((0, 0), CronField::bounds);
                write!(f, "{value} is out of range; use {low}-{high}")?;
                if self.field == Some(CronField::DayOfWeek) {
                    f.write_str(" (0 and 7 are Sunday)")?;
                }
                Ok(())
            }
            CronErrorKind::BackwardRange { from, to } => write!(
                f,
                "the range {from}-{to} runs backwards; write the smaller value first"
            ),
            CronErrorKind::InvalidStep { text } => {
                write!(f, "step `{text}` must be a whole number of at least 1")
            }
            CronErrorKind::StepWithoutRange => {
                f.write_str("a step needs a range or `*` before it, as in `*/10` or `5-59/10`")
            }
            CronErrorKind::NeverMatches => f.write_str(
                "these days never occur in the chosen months, so the schedule would never fire",
            ),
        }
    }
}

impl std::error::Error for CronError {}

/// A valid standard 5-field cron expression.
///
/// Each field is kept as the sorted set of values it allows (days of the week
/// numbered 0 = Sunday ... 6 = Saturday, 7 folded into 0), together with the
/// spelling facts Vixie cron's rules depend on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronExpr {
    text: String,
    values: [Vec<u32>; 5],
    starts_with_star: [bool; 5],
}

impl CronExpr {
    /// The expression as written, with fields separated by single spaces.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The values a field allows, in increasing order (days of the week 0-6, Sunday = 0).
    pub fn values(&self, field: CronField) -> &[u32] {
        &self.values[field_index(field)]
    }

    /// Whether the field allows every value it could (such as `*`, `0-59` or `0-7`).
    pub fn allows_every_value(&self, field: CronField) -> bool {
        let (low, high) = field.star_range();
        self.values(field).len() == (low..=high).count()
    }

    /// Whether the field was written starting with `*` (such as `*` or `*/15`).
    pub fn starts_with_star(&self, field: CronField) -> bool {
        self.starts_with_star[field_index(field)]
    }

    /// Whether a day matches when either the day-of-month or the day-of-week field
    /// matches. As in Vixie cron, that is when neither field starts with `*`;
    /// otherwise both must match (and the one starting with `*` usually allows every day).
    pub fn days_match_either(&self) -> bool {
        !self.starts_with_star(CronField::DayOfMonth)
            && !self.starts_with_star(CronField::DayOfWeek)
    }

    /// Whether the minute or hour field starts with `*`. Vixie cron runs such
    /// expressions by the clock through daylight-saving changes, and expressions
    /// with fixed minute and hour once per local time.
    pub fn minute_or_hour_starts_with_star(&self) -> bool {
        self.starts_with_star(CronField::Minute) || self.starts_with_star(CronField::Hour)
    }
}

impl fmt::Display for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn field_index(field: CronField) -> usize {
    match field {
        CronField::Minute => 0,
        CronField::Hour => 1,
        CronField::DayOfMonth => 2,
        CronField::Month => 3,
        CronField::DayOfWeek => 4,
    }
}

/// Parses a standard 5-field cron expression
/// (`minute hour day-of-month month day-of-week`), as documented in `docs/cron.md`.
pub fn parse_cron(text: &str) -> Result<CronExpr, CronError> {
    let words = words_with_columns(text);
    if words.len() != CronField::ALL.len() {
        // Point at the first extra field, or just past the end when fields are missing.
        let column = words
            .get(CronField::ALL.len())
            .map_or(text.chars().count() + 1, |(column, _)| *column);
        return Err(CronError {
            column,
            field: None,
            kind: CronErrorKind::FieldCount { found: words.len() },
        });
    }
    let mut values: [Vec<u32>; 5] = Default::default();
    let mut starts_with_star = [false; 5];
    for (field, (column, word)) in CronField::ALL.into_iter().zip(&words) {
        values[field_index(field)] = parse_field(field, word, *column)?;
        starts_with_star[field_index(field)] = word.starts_with('*');
    }
    let expr = CronExpr {
        text: words
            .iter()
            .map(|(_, word)| *word)
            .collect::<Vec<_>>()
            .join(" "),
        values,
        starts_with_star,
    };
    if !can_fire(&expr) {
        return Err(CronError {
            column: words[field_index(CronField::DayOfMonth)].0,
            field: Some(CronField::DayOfMonth),
            kind: CronErrorKind::NeverMatches,
        });
    }
    Ok(expr)
}

/// Parses an IANA time zone name such as `Europe/Rome`.
pub fn parse_time_zone(tz: &str) -> Result<chrono_tz::Tz, String> {
    tz.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone `{tz}`; use an IANA name such as `{DEFAULT_TIME_ZONE}`")
    })
}

/// The whitespace-separated words of `text`, each with its 1-based column in characters.
fn words_with_columns(text: &str) -> Vec<(usize, &str)> {
    let mut words = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    for (column, (byte, character)) in text.char_indices().enumerate() {
        match (character.is_whitespace(), start) {
            (false, None) => start = Some((column + 1, byte)),
            (true, Some((word_column, word_byte))) => {
                words.push((word_column, &text[word_byte..byte]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some((word_column, word_byte)) = start {
        words.push((word_column, &text[word_byte..]));
    }
    words
}

/// Expands one field into its sorted set of values.
fn parse_field(field: CronField, word: &str, column: usize) -> Result<Vec<u32>, CronError> {
    let mut set = [false; 60];
    let mut item_column = column;
    for item in word.split(',') {
        for value in parse_item(field, item, item_column)? {
            // Day 7 is Sunday, the same day as 0.
            let value = if field == CronField::DayOfWeek {
                value % 7
            } else {
                value
            };
            if let Some(slot) = usize::try_from(value).ok().and_then(|at| set.get_mut(at)) {
                *slot = true;
            }
        }
        item_column += item.chars().count() + 1;
    }
    Ok((0u32..)
        .zip(set)
        .filter_map(|(value, on)| on.then_some(value))
        .collect())
}

/// Expands one list item: `*`, `v`, `a-b`, `*/n` or `a-b/n`.
fn parse_item(field: CronField, item: &str, column: usize) -> Result<Vec<u32>, CronError> {
    let error = |at: usize, kind| CronError {
        column: at,
        field: Some(field),
        kind,
    };
    if item.is_empty() {
        return Err(error(column, CronErrorKind::EmptyItem));
    }
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step_column = column + range.chars().count() + 1;
            let parsed = digits(step).filter(|step| *step >= 1).ok_or_else(|| {
                error(
                    step_column,
                    CronErrorKind::InvalidStep {
                        text: step.to_owned(),
                    },
                )
            })?;
            (range, Some(parsed))
        }
        None => (item, None),
    };
    let (first, last) = if range == "*" {
        field.star_range()
    } else if let Some((from, to)) = range.split_once('-') {
        let first = value(field, from, column)?;
        let last = value(field, to, column + from.chars().count() + 1)?;
        if first > last {
            return Err(error(
                column,
                CronErrorKind::BackwardRange {
                    from: first,
                    to: last,
                },
            ));
        }
        (first, last)
    } else {
        if step.is_some() {
            return Err(error(column, CronErrorKind::StepWithoutRange));
        }
        let single = value(field, range, column)?;
        (single, single)
    };
    let step = usize::try_from(step.unwrap_or(1)).unwrap_or(usize::MAX);
    Ok((first..=last).step_by(step).collect())
}

/// Reads one value of a field: a number within its bounds or one of its names.
fn value(field: CronField, text: &str, column: usize) -> Result<u32, CronError> {
    let error = |kind| CronError {
        column,
        field: Some(field),
        kind,
    };
    if text.is_empty() {
        return Err(error(CronErrorKind::MissingValue));
    }
    if let Some(number) = digits(text) {
        let (low, high) = field.bounds();
        if number < low || number > high {
            return Err(error(CronErrorKind::OutOfRange { value: number }));
        }
        return Ok(number);
    }
    let (names, first) = field.names();
    let lower = text.to_ascii_lowercase();
    names
        .iter()
        .zip(first..)
        .find_map(|(name, number)| (*name == lower).then_some(number))
        .ok_or_else(|| {
            error(CronErrorKind::UnknownValue {
                text: text.to_owned(),
            })
        })
}

/// A number written with ASCII digits only (no sign, no spaces); `None` otherwise
/// or when it does not fit.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Whether some date can ever match. Only a day-of-month list that must hold on
/// its own (when days do not match either field) can rule out every date, such as
/// `30 2` or `31 4,6,9,11`; days of the week occur in every month.
fn can_fire(expr: &CronExpr) -> bool {
    if expr.days_match_either() {
        return true;
    }
    expr.values(CronField::Month).iter().any(|month| {
        let longest = match month {
            2 => 29,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        expr.values(CronField::DayOfMonth)
            .iter()
            .any(|day| *day <= longest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> CronExpr {
        parse_cron(text).unwrap()
    }

    fn rejected(text: &str) -> CronError {
        parse_cron(text).unwrap_err()
    }

    #[test]
    fn sunday_is_both_zero_and_seven() {
        assert_eq!(parsed("0 9 * * 0").values(CronField::DayOfWeek), [0]);
        assert_eq!(parsed("0 9 * * 7").values(CronField::DayOfWeek), [0]);
        assert_eq!(
            parsed("0 9 * * 5-7").values(CronField::DayOfWeek),
            [0, 5, 6]
        );
        assert_eq!(parsed("0 9 * * 0,7").values(CronField::DayOfWeek), [0]);
    }

    #[test]
    fn names_ranges_steps_and_lists_expand() {
        let expr = parsed("*/20 8-18/5 1,15 jan-MAR,Dec mon-fri");
        assert_eq!(expr.values(CronField::Minute), [0, 20, 40]);
        assert_eq!(expr.values(CronField::Hour), [8, 13, 18]);
        assert_eq!(expr.values(CronField::DayOfMonth), [1, 15]);
        assert_eq!(expr.values(CronField::Month), [1, 2, 3, 12]);
        assert_eq!(expr.values(CronField::DayOfWeek), [1, 2, 3, 4, 5]);
        assert_eq!(
            parsed("0 9 * * */2").values(CronField::DayOfWeek),
            [0, 2, 4, 6]
        );
        assert_eq!(parsed("0 9 1 */6 *").values(CronField::Month), [1, 7]);
        assert_eq!(parsed("0 0 * * *").values(CronField::Minute), [0]);
        assert_eq!(parsed("0 0 * * *").values(CronField::DayOfMonth).len(), 31);
    }

    #[test]
    fn the_text_is_normalised_to_single_spaces() {
        assert_eq!(parsed("  0   9 1 */6\t* ").text(), "0 9 1 */6 *");
    }

    #[test]
    fn star_spelling_decides_the_day_rule_and_the_clock_rule() {
        assert!(parsed("0 9 1 * 1").days_match_either());
        assert!(!parsed("0 9 * * 1").days_match_either());
        assert!(!parsed("0 9 1 * *").days_match_either());
        // As in Vixie cron, a field starting with `*` counts as unrestricted here.
        assert!(!parsed("0 9 */2 * 1").days_match_either());
        assert!(parsed("0 9 1-31 * 0-6").days_match_either());
        assert!(parsed("*/30 * * * *").minute_or_hour_starts_with_star());
        assert!(parsed("0 * * * *").minute_or_hour_starts_with_star());
        assert!(parsed("15 */2 * * *").minute_or_hour_starts_with_star());
        assert!(!parsed("30 2 * * *").minute_or_hour_starts_with_star());
        assert!(!parsed("0-59 0-23 * * *").minute_or_hour_starts_with_star());
    }

    #[test]
    fn invalid_expressions_report_column_field_and_reason() {
        let cases = [
            ("0 9 * *", 8, None, CronErrorKind::FieldCount { found: 4 }),
            (
                "0 0 9 * * *",
                11,
                None,
                CronErrorKind::FieldCount { found: 6 },
            ),
            (
                "61 * * * *",
                1,
                Some(CronField::Minute),
                CronErrorKind::OutOfRange { value: 61 },
            ),
            (
                "0 25 * * *",
                3,
                Some(CronField::Hour),
                CronErrorKind::OutOfRange { value: 25 },
            ),
            (
                "0 9 0 * *",
                5,
                Some(CronField::DayOfMonth),
                CronErrorKind::OutOfRange { value: 0 },
            ),
            (
                "0 9 * * 8",
                9,
                Some(CronField::DayOfWeek),
                CronErrorKind::OutOfRange { value: 8 },
            ),
            (
                "0 9 * * mon,FUN",
                13,
                Some(CronField::DayOfWeek),
                CronErrorKind::UnknownValue { text: "FUN".into() },
            ),
            (
                "0 9 * mon *",
                7,
                Some(CronField::Month),
                CronErrorKind::UnknownValue { text: "mon".into() },
            ),
            (
                "+5 9 * * *",
                1,
                Some(CronField::Minute),
                CronErrorKind::UnknownValue { text: "+5".into() },
            ),
            (
                "0 9 * * 5-1",
                9,
                Some(CronField::DayOfWeek),
                CronErrorKind::BackwardRange { from: 5, to: 1 },
            ),
            (
                "0 9-17/0 * * *",
                8,
                Some(CronField::Hour),
                CronErrorKind::InvalidStep { text: "0".into() },
            ),
            (
                "5/10 9 * * *",
                1,
                Some(CronField::Minute),
                CronErrorKind::StepWithoutRange,
            ),
            (
                "0 9 1,,15 * *",
                7,
                Some(CronField::DayOfMonth),
                CronErrorKind::EmptyItem,
            ),
            (
                "0 9 30,31 feb *",
                5,
                Some(CronField::DayOfMonth),
                CronErrorKind::NeverMatches,
            ),
            (
                "0 9-17,20- * * *",
                11,
                Some(CronField::Hour),
                CronErrorKind::MissingValue,
            ),
            (
                "0 9 * 1-2 ?",
                11,
                Some(CronField::DayOfWeek),
                CronErrorKind::UnknownValue { text: "?".into() },
            ),
        ];
        for (text, column, field, kind) in cases {
            assert_eq!(
                rejected(text),
                CronError {
                    column,
                    field,
                    kind
                },
                "{text}"
            );
        }
    }

    #[test]
    fn messages_say_where_and_what_to_do() {
        assert_eq!(
            rejected("0 25 * * *").to_string(),
            "column 3, hour field: 25 is out of range; use 0-23"
        );
        assert_eq!(
            rejected("0 9 * * 8").to_string(),
            "column 9, day-of-week field: 8 is out of range; use 0-7 (0 and 7 are Sunday)"
        );
    }

    #[test]
    fn a_day_rule_that_can_match_is_accepted() {
        // 31 occurs in some of the months; 30 February OR Mondays fires on Mondays.
        assert!(parse_cron("0 9 31 1-4 *").is_ok());
        assert!(parse_cron("0 9 30 2 mon").is_ok());
        assert!(parse_cron("0 9 29 2 *").is_ok());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            parse_time_zone("Europe/Rome").unwrap(),
            chrono_tz::Europe::Rome
        );
        assert!(
            parse_time_zone("Europe/Palermo")
                .unwrap_err()
                .contains("Europe/Rome")
        );
    }
}
