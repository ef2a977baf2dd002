//! Matching local wall-clock times, computed by the `cron` crate.
//!
//! The `cron` crate is only ever asked about naive local times (presented to it
//! as UTC, which has no daylight saving), so its own time-zone handling, which
//! returns the two occurrences of a repeated time out of order, never comes into
//! play; [`crate::Schedule`] maps local times to instants itself.

use std::str::FromStr;

use chrono::{NaiveDateTime, TimeZone, Utc};
use patto_core::schedule::{CronExpr, CronField};

use crate::ScheduleError;

/// The local times an expression matches, in increasing order.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    /// One `cron` schedule, or two whose matches are merged: the `cron` crate requires
    /// both day fields to match, while crontab accepts either when both are restricted.
    schedules: Vec<cron::Schedule>,
}

impl Calendar {
    pub(crate) fn new(expr: &CronExpr) -> Result<Self, ScheduleError> {
        let minutes = list(expr, CronField::Minute, 0);
        let hours = list(expr, CronField::Hour, 0);
        let days = list(expr, CronField::DayOfMonth, 0);
        let months = list(expr, CronField::Month, 0);
        // The `cron` crate numbers the days of the week from Sunday = 1.
        let weekdays = list(expr, CronField::DayOfWeek, 1);
        let day_rules = if expr.days_match_either() {
            vec![(days, "*".to_owned()), ("*".to_owned(), weekdays)]
        } else {
            vec![(days, weekdays)]
        };
        let schedules = day_rules
            .into_iter()
            .map(|(days, weekdays)| {
                // Seconds first, always 0: crontab has no seconds field.
                let translated = format!("0 {minutes} {hours} {days} {months} {weekdays}");
                cron::Schedule::from_str(&translated).map_err(|err| ScheduleError::Translation {
                    expression: expr.text().to_owned(),
                    translated,
                    reason: err.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Calendar { schedules })
    }

    /// The first matching local time strictly after `local`, if any before the end of
    /// the `cron` crate's calendar (the year 2100).
    pub(crate) fn next_after(&self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        let as_utc = Utc.from_utc_datetime(&local);
        self.schedules
            .iter()
            .filter_map(|schedule| schedule.after(&as_utc).next())
            .min()
            .map(|time| time.naive_utc())
    }
}

/// A field's values as an explicit `cron` crate list, shifted by `shift`; `*` when the
/// field allows every value, which lets the `cron` crate skip its day-of-week filter.
fn list(expr: &CronExpr, field: CronField, shift: u32) -> String {
    if expr.allows_every_value(field) {
        return "*".to_owned();
    }
    expr.values(field)
        .iter()
        .map(|value| (value + shift).to_string())
        .collect::<Vec<_>>()
        .join(",")
}
