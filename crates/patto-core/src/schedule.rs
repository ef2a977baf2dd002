//! Validation of review schedules: standard 5-field cron expressions and IANA
//! time zones.
//!
//! Users write cron the way crontab(5) documents it, but the `cron` crate
//! expects a leading seconds field and numbers the days of the week from
//! Sunday = 1. This module is the single place that bridges the two, so the
//! scheduler never sees a user-written expression.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The time zone used when a schedule does not name one.
pub const DEFAULT_TIME_ZONE: &str = "Europe/Rome";

/// A validated 5-field cron expression together with its `cron` crate translation.
#[derive(Debug, Clone)]
pub struct CronSpec {
    expression: String,
    translated: String,
    schedule: cron::Schedule,
}

impl CronSpec {
    /// The expression as the user wrote it (fields separated by single spaces).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The equivalent 6-field expression for the `cron` crate: seconds first,
    /// days of the week numbered Sunday = 1 ... Saturday = 7.
    pub fn translated(&self) -> &str {
        &self.translated
    }

    /// The parsed `cron` crate schedule of [`CronSpec::translated`].
    ///
    /// Note that the `cron` crate matches a day only when both the
    /// day-of-month and day-of-week fields match, whereas crontab fires when
    /// either does (if both are restricted); computing fire times must account
    /// for that.
    pub fn schedule(&self) -> &cron::Schedule {
        &self.schedule
    }
}

impl fmt::Display for CronSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)
    }
}

/// Parses a standard 5-field cron expression
/// (`minute hour day-of-month month day-of-week`).
///
/// Days of the week accept 0-7 (both 0 and 7 are Sunday) and the names
/// SUN-SAT in any case, with lists, ranges and steps. The error says why the
/// expression was rejected.
pub fn parse_cron(expr: &str) -> Result<CronSpec, String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "a cron expression needs exactly 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    let day_of_week = translate_day_of_week(fields[4])?;
    let translated = format!(
        "0 {} {} {} {} {}",
        fields[0], fields[1], fields[2], fields[3], day_of_week
    );
    let schedule = cron::Schedule::from_str(&translated)
        .map_err(|err| format!("invalid cron expression `{expr}`: {err}"))?;
    Ok(CronSpec {
        expression: fields.join(" "),
        translated,
        schedule,
    })
}

/// Parses an IANA time zone name such as `Europe/Rome`.
pub fn parse_time_zone(tz: &str) -> Result<chrono_tz::Tz, String> {
    tz.parse::<chrono_tz::Tz>().map_err(|_| {
        format!("unknown time zone `{tz}`; use an IANA name such as `{DEFAULT_TIME_ZONE}`")
    })
}

const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// Rewrites a crontab day-of-week field into an explicit list for the `cron` crate.
///
/// Expanding to the set of days, rather than shifting numbers in place, is
/// what makes ranges that end on Sunday = 7 (such as `5-7`) and steps over
/// the week translate correctly.
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_owned());
    }
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        days.extend(expand_day_item(item)?);
    }
    // Sunday is day 0 for users and ordinal 1 for the cron crate.
    let ordinals: Vec<String> = days.iter().map(|day| (day + 1).to_string()).collect();
    Ok(ordinals.join(","))
}

/// Expands one list item (`*`, `d`, `a-b`, each optionally followed by `/step`)
/// into days numbered 0 = Sunday ... 6 = Saturday.
fn expand_day_item(item: &str) -> Result<Vec<u32>, String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => {
            let step = step
                .parse::<u32>()
                .ok()
                .filter(|step| *step >= 1)
                .ok_or_else(|| format!("day-of-week step `{step}` must be a positive number"))?;
            (range, step)
        }
        None => (item, 1),
    };
    let (first, last) = if range == "*" {
        (0, 6)
    } else if let Some((from, to)) = range.split_once('-') {
        let (from, to) = (day_number(from)?, day_number(to)?);
        if from > to {
            return Err(format!(
                "day-of-week range `{range}` runs backwards; write the smaller day first"
            ));
        }
        (from, to)
    } else if item.contains('/') {
        // As in crontab, `a/n` means every n-th day from a up to Saturday.
        (day_number(range)?, 6)
    } else {
        let day = day_number(range)?;
        (day, day)
    };
    Ok((first..=last)
        .step_by(step as usize)
        .map(|day| day % 7)
        .collect())
}

/// Reads a single day: a number 0-7 or a three-letter English name.
fn day_number(text: &str) -> Result<u32, String> {
    if let Ok(number) = text.parse::<u32>() {
        if number <= 7 {
            return Ok(number);
        }
        return Err(format!(
            "day of week `{text}` is out of range; use 0-7 (0 and 7 are Sunday) or SUN-SAT"
        ));
    }
    let lower = text.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .zip(0u32..)
        .find_map(|(name, number)| (*name == lower).then_some(number))
        .ok_or_else(|| {
            format!("unknown day of week `{text}`; use 0-7 (0 and 7 are Sunday) or SUN-SAT")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Weekday};

    fn next_weekdays(expr: &str, count: usize) -> Vec<Weekday> {
        let spec = parse_cron(expr).unwrap();
        let start = chrono::Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        spec.schedule()
            .after(&start)
            .take(count)
            .map(|time| time.weekday())
            .collect()
    }

    #[test]
    fn sunday_is_both_zero_and_seven() {
        assert_eq!(next_weekdays("0 9 * * 0", 3), vec![Weekday::Sun; 3]);
        assert_eq!(next_weekdays("0 9 * * 7", 3), vec![Weekday::Sun; 3]);
        assert_eq!(parse_cron("0 9 * * 0").unwrap().translated(), "0 0 9 * * 1");
        assert_eq!(parse_cron("0 9 * * 7").unwrap().translated(), "0 0 9 * * 1");
    }

    #[test]
    fn weekday_names_and_ranges_keep_their_meaning() {
        let days = next_weekdays("0 9 * * MON-FRI", 7);
        assert!(!days.contains(&Weekday::Sat) && !days.contains(&Weekday::Sun));
        assert_eq!(days.len(), 7);
        assert!(days.contains(&Weekday::Mon) && days.contains(&Weekday::Fri));
        assert_eq!(
            next_weekdays("0 9 * * 5-7", 3),
            vec![Weekday::Fri, Weekday::Sat, Weekday::Sun]
        );
        assert_eq!(
            parse_cron("0 9 * * */2").unwrap().translated(),
            "0 0 9 * * 1,3,5,7"
        );
    }

    #[test]
    fn every_six_months_on_the_first_is_valid() {
        let spec = parse_cron("0 9 1 */6 *").unwrap();
        assert_eq!(spec.translated(), "0 0 9 1 */6 *");
        let start = chrono::Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap();
        let next = spec.schedule().after(&start).next().unwrap();
        assert_eq!((next.month(), next.day()), (7, 1));
    }

    #[test]
    fn invalid_expressions_are_rejected_with_a_reason() {
        assert!(parse_cron("61 * * * *").is_err());
        assert!(parse_cron("0 25 * * *").is_err());
        assert!(
            parse_cron("0 9 * *")
                .unwrap_err()
                .contains("exactly 5 fields")
        );
        assert!(
            parse_cron("0 9 * * 8")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_cron("0 9 * * FUN")
                .unwrap_err()
                .contains("unknown day of week")
        );
        assert!(parse_cron("0 9 * * 5-1").unwrap_err().contains("backwards"));
        assert!(parse_cron("0 9 * * */0").unwrap_err().contains("positive"));
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
