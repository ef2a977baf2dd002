//! Fire instants of a cron expression in a time zone, through daylight-saving changes.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use patto_core::schedule::{CronExpr, parse_cron, parse_time_zone};

use crate::ScheduleError;
use crate::calendar::Calendar;

/// A cron expression read in a time zone: the fire instants of a review schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    expression: CronExpr,
    time_zone: Tz,
    calendar: Calendar,
}

/// How a local wall-clock time maps to instants in the schedule's time zone.
#[derive(Debug, Clone, Copy)]
enum Occurrences {
    /// The usual case: the local time happens once.
    Once(DateTime<Utc>),
    /// The clock went back and the local time happens twice; earlier first.
    Twice(DateTime<Utc>, DateTime<Utc>),
    /// The clock jumped forward over the local time; the first instant after the gap.
    Skipped { gap_end: DateTime<Utc> },
}

impl Occurrences {
    /// The first instant at which the clock reads this local time or later. It never
    /// decreases as the local time increases, which is what lets the search stop early.
    fn earliest(self) -> DateTime<Utc> {
        match self {
            Occurrences::Once(instant) | Occurrences::Twice(instant, _) => instant,
            Occurrences::Skipped { gap_end } => gap_end,
        }
    }
}

impl Schedule {
    /// A schedule for a parsed expression in a time zone.
    pub fn new(expression: CronExpr, time_zone: Tz) -> Result<Self, ScheduleError> {
        let calendar = Calendar::new(&expression)?;
        Ok(Schedule {
            expression,
            time_zone,
            calendar,
        })
    }

    /// A schedule from an expression and an IANA time zone name, as written in a
    /// workflow definition or on the command line.
    pub fn parse(expression: &str, time_zone: &str) -> Result<Self, ScheduleError> {
        let time_zone = parse_time_zone(time_zone).map_err(ScheduleError::UnknownTimeZone)?;
        Schedule::new(parse_cron(expression)?, time_zone)
    }

    /// The cron expression.
    pub fn expression(&self) -> &CronExpr {
        &self.expression
    }

    /// The time zone the expression is read in.
    pub fn time_zone(&self) -> Tz {
        self.time_zone
    }

    /// Whether fire times follow the clock in real time through daylight-saving
    /// changes (the minute or hour field starts with `*`), rather than firing each
    /// matching local time exactly once.
    pub fn follows_real_time(&self) -> bool {
        self.expression.minute_or_hour_starts_with_star()
    }

    /// The fire instants strictly after `after`, in strictly increasing order.
    pub fn fire_times_after(&self, after: DateTime<Utc>) -> FireTimes<'_> {
        FireTimes {
            schedule: self,
            cursor: Some(after),
        }
    }

    /// The first fire instant strictly after `after`; `None` past the year 2100.
    ///
    /// Matching local times are visited in increasing order and mapped to instants:
    /// a fixed-time expression fires at the first instant the clock reads the local
    /// time or later (which is the first occurrence of a repeated time and the end of
    /// a gap), and a real-time expression at every instant the clock reads it (none in
    /// a gap, two in a repeated hour). Because the occurrences of a repeated hour
    /// interleave, the search keeps the smallest instant found and stops at the first
    /// local time that cannot occur before it.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let follows_real_time = self.follows_real_time();
        let mut cursor = if follows_real_time {
            self.first_local_time_occurring_after(after)?
        } else {
            // A local time at or before the clock's reading has already been reached.
            self.local_time(after)
        };
        let mut best: Option<DateTime<Utc>> = None;
        while let Some(local) = self.calendar.next_after(cursor) {
            cursor = local;
            let occurrences = self.occurrences(local)?;
            let earliest = occurrences.earliest();
            if best.is_some_and(|best| earliest >= best) {
                break;
            }
            let fires = match (follows_real_time, occurrences) {
                (false, _) => [Some(earliest), None],
                (true, Occurrences::Once(instant)) => [Some(instant), None],
                (true, Occurrences::Twice(first, second)) => [Some(first), Some(second)],
                (true, Occurrences::Skipped { .. }) => [None, None],
            };
            for fire in fires.into_iter().flatten().filter(|fire| *fire > after) {
                best = Some(best.map_or(fire, |best| best.min(fire)));
            }
            if best == Some(earliest) {
                // No later local time can be reached before this one.
                break;
            }
        }
        best
    }

    /// The clock's reading at `instant`.
    fn local_time(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.time_zone).naive_local()
    }

    /// A local time before which no local time occurs after `instant`. It is the
    /// clock's reading, except in the first pass of an hour about to be repeated: the
    /// second pass starts from an earlier reading. That is found with the smaller of
    /// the offsets now and a day later (no time zone moves its clocks back twice in
    /// a day, nor by more than a day).
    fn first_local_time_occurring_after(&self, instant: DateTime<Utc>) -> Option<NaiveDateTime> {
        let offset_at = |at: DateTime<Utc>| {
            self.time_zone
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc()
        };
        let now = offset_at(instant);
        let soon = instant
            .checked_add_signed(TimeDelta::days(1))
            .map_or(now, offset_at);
        instant
            .naive_utc()
            .checked_add_signed(TimeDelta::seconds(i64::from(now.min(soon))))
    }

    /// The instants at which the clock reads `local`; `None` only beyond chrono's range.
    fn occurrences(&self, local: NaiveDateTime) -> Option<Occurrences> {
        match self.time_zone.from_local_datetime(&local) {
            LocalResult::Single(instant) => Some(Occurrences::Once(instant.to_utc())),
            LocalResult::Ambiguous(first, second) => {
                let (first, second) = (first.to_utc(), second.to_utc());
                Some(Occurrences::Twice(first.min(second), first.max(second)))
            }
            LocalResult::None => self
                .first_existing_local_time_after(local)
                .and_then(|after_gap| self.occurrences(after_gap))
                .map(|after_gap| Occurrences::Skipped {
                    gap_end: after_gap.earliest(),
                }),
        }
    }

    /// The first local time after `missing` (a time the clock skips) that the clock
    /// does show: the end of the gap, to the second.
    fn first_existing_local_time_after(&self, missing: NaiveDateTime) -> Option<NaiveDateTime> {
        let exists = |local: NaiveDateTime| {
            !matches!(
                self.time_zone.from_local_datetime(&local),
                LocalResult::None
            )
        };
        // Gaps last from seconds to a day: double the distance until the clock shows
        // the time, then halve the interval between the last missing and that one.
        let mut absent = missing;
        let mut step = TimeDelta::minutes(1);
        let mut present = loop {
            let probe = missing.checked_add_signed(step)?;
            if exists(probe) {
                break probe;
            }
            if step > TimeDelta::days(2) {
                return None;
            }
            absent = probe;
            step = step * 2;
        };
        while (present - absent).num_seconds() > 1 {
            let middle = absent + TimeDelta::seconds((present - absent).num_seconds() / 2);
            if exists(middle) {
                present = middle;
            } else {
                absent = middle;
            }
        }
        Some(present)
    }
}

/// The fire instants of a schedule after a given instant, strictly increasing; see
/// [`Schedule::fire_times_after`].
#[derive(Debug, Clone)]
pub struct FireTimes<'a> {
    schedule: &'a Schedule,
    cursor: Option<DateTime<Utc>>,
}

impl Iterator for FireTimes<'_> {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        let next = self.schedule.next_after(self.cursor?);
        self.cursor = next;
        next
    }
}
