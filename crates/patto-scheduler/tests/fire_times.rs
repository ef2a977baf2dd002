//! Fire instants against hand-checked instants, written as literal RFC 3339
//! strings. In Europe/Rome in 2026 the clocks go forward on Sunday 29 March at
//! 02:00 CET (01:00 UTC) to 03:00 CEST, and back on Sunday 25 October at 03:00
//! CEST (01:00 UTC) to 02:00 CET, so 02:00-02:59 happens twice that day.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use patto_scheduler::{Schedule, ScheduleError};

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// The first `count` fire instants strictly after `from`, in the schedule's zone.
fn fires(expression: &str, zone: &str, from: &str, count: usize) -> Vec<String> {
    let schedule = Schedule::parse(expression, zone).unwrap();
    schedule
        .fire_times_after(instant(from))
        .take(count)
        .map(|fire| fire.with_timezone(&schedule.time_zone()).to_rfc3339())
        .collect()
}

fn rome(expression: &str, from: &str, count: usize) -> Vec<String> {
    fires(expression, "Europe/Rome", from, count)
}

#[test]
fn daily_at_a_skipped_time_fires_once_when_the_gap_ends() {
    assert_eq!(
        rome("30 2 * * *", "2026-03-27T12:00:00+01:00", 4),
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00",
        ]
    );
}

#[test]
fn daily_at_a_repeated_time_fires_once_at_its_first_occurrence() {
    assert_eq!(
        rome("30 2 * * *", "2026-10-23T12:00:00+02:00", 4),
        [
            "2026-10-24T02:30:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-26T02:30:00+01:00",
            "2026-10-27T02:30:00+01:00",
        ]
    );
    // Asked during the repeat, after the first occurrence: not again that day.
    for from in [
        "2026-10-25T02:45:00+02:00",
        "2026-10-25T02:15:00+01:00",
        "2026-10-25T02:30:00+01:00",
    ] {
        assert_eq!(
            rome("30 2 * * *", from, 1),
            ["2026-10-26T02:30:00+01:00"],
            "{from}"
        );
    }
}

#[test]
fn hourly_follows_the_clock_through_both_changes() {
    assert_eq!(
        rome("0 * * * *", "2026-03-29T00:30:00+01:00", 3),
        [
            "2026-03-29T01:00:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T04:00:00+02:00",
        ]
    );
    assert_eq!(
        rome("0 * * * *", "2026-10-25T00:30:00+02:00", 5),
        [
            "2026-10-25T01:00:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T03:00:00+01:00",
            "2026-10-25T04:00:00+01:00",
        ]
    );
}

#[test]
fn every_thirty_minutes_follows_the_clock_in_order() {
    assert_eq!(
        rome("*/30 * * * *", "2026-03-29T01:00:00+01:00", 3),
        [
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
        ]
    );
    assert_eq!(
        rome("*/30 * * * *", "2026-10-25T01:30:00+02:00", 5),
        [
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ]
    );
    // Asked in the middle of either pass of the repeated hour.
    assert_eq!(
        rome("*/30 * * * *", "2026-10-25T02:45:00+02:00", 3),
        [
            "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00",
            "2026-10-25T03:00:00+01:00",
        ]
    );
    assert_eq!(
        rome("*/30 * * * *", "2026-10-25T02:30:00+02:00", 1),
        ["2026-10-25T02:00:00+01:00"]
    );
    assert_eq!(
        rome("*/30 * * * *", "2026-10-25T02:10:00+01:00", 2),
        ["2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00"]
    );
}

#[test]
fn real_time_expressions_are_evenly_spaced_over_a_whole_year() {
    // A year of Europe/Rome, both changes included: every fire is exactly one step
    // after the previous one, so none is missing, repeated or out of order.
    for (expression, step_seconds, count) in
        [("*/30 * * * *", 1800, 17_520), ("0 * * * *", 3600, 8_760)]
    {
        let schedule = Schedule::parse(expression, "Europe/Rome").unwrap();
        let start = instant("2026-01-01T00:00:00+01:00");
        let end = instant("2027-01-01T00:00:00+01:00");
        let all: Vec<_> = schedule
            .fire_times_after(start)
            .take_while(|fire| *fire <= end)
            .collect();
        assert_eq!(all.len(), count, "{expression}");
        let mut previous = start;
        for fire in all {
            assert_eq!(
                (fire - previous).num_seconds(),
                step_seconds,
                "{expression} at {fire}"
            );
            previous = fire;
        }
    }
}

#[test]
fn fixed_times_in_the_gap_and_the_repeat_fire_each_local_time_once() {
    assert_eq!(
        rome("30 1-3 * * *", "2026-03-29T00:00:00+01:00", 3),
        [
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:30:00+02:00",
        ]
    );
    assert_eq!(
        rome("30 1-3 * * *", "2026-10-25T00:00:00+02:00", 3),
        [
            "2026-10-25T01:30:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-25T03:30:00+01:00",
        ]
    );
    // Several skipped times, and a time right after the gap, share one instant: one fire.
    assert_eq!(
        rome("0,30 2 * * *", "2026-03-28T01:00:00+01:00", 4),
        [
            "2026-03-28T02:00:00+01:00",
            "2026-03-28T02:30:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:00:00+02:00",
        ]
    );
    assert_eq!(
        rome("0 2,3 * * *", "2026-03-29T00:00:00+01:00", 2),
        ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"]
    );
}

#[test]
fn other_time_zones_follow_their_own_changes() {
    // The United States moved their clocks forward on Sunday 8 March 2026 at 02:00.
    assert_eq!(
        fires(
            "30 2 * * *",
            "America/New_York",
            "2026-03-07T12:00:00-05:00",
            2
        ),
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    );
    assert_eq!(
        fires("0 9 * * *", "UTC", "2026-03-29T09:00:00+00:00", 1),
        ["2026-03-30T09:00:00+00:00"]
    );
}

#[test]
fn day_of_month_or_day_of_week_when_both_are_restricted() {
    // 1 July 2026 is a Wednesday; 29 June, 6 and 13 July are Mondays.
    assert_eq!(
        rome("0 9 1 * 1", "2026-06-28T00:00:00+02:00", 4),
        [
            "2026-06-29T09:00:00+02:00",
            "2026-07-01T09:00:00+02:00",
            "2026-07-06T09:00:00+02:00",
            "2026-07-13T09:00:00+02:00",
        ]
    );
    // A day field starting with `*` makes both fields apply together, as in Vixie
    // cron: days 1, 11, 21 or 31 that are Mondays.
    assert_eq!(
        rome("0 9 */10 * mon", "2026-05-31T00:00:00+02:00", 3),
        [
            "2026-06-01T09:00:00+02:00",
            "2026-08-31T09:00:00+02:00",
            "2026-09-21T09:00:00+02:00",
        ]
    );
    assert_eq!(
        rome("0 9 1 * *", "2026-06-28T00:00:00+02:00", 2),
        ["2026-07-01T09:00:00+02:00", "2026-08-01T09:00:00+02:00"]
    );
}

#[test]
fn sunday_is_zero_seven_or_sun() {
    for expression in ["0 9 * * 0", "0 9 * * 7", "0 9 * * SUN", "0 9 * * sun,7"] {
        assert_eq!(
            rome(expression, "2026-07-01T00:00:00+02:00", 2),
            ["2026-07-05T09:00:00+02:00", "2026-07-12T09:00:00+02:00"],
            "{expression}"
        );
    }
    assert_eq!(
        rome("0 9 * * 5-7", "2026-07-01T00:00:00+02:00", 4),
        [
            "2026-07-03T09:00:00+02:00",
            "2026-07-04T09:00:00+02:00",
            "2026-07-05T09:00:00+02:00",
            "2026-07-10T09:00:00+02:00",
        ]
    );
}

#[test]
fn names_steps_and_rare_dates() {
    assert_eq!(
        rome("0 9 1 jan,JUL *", "2026-03-01T00:00:00+01:00", 2),
        ["2026-07-01T09:00:00+02:00", "2027-01-01T09:00:00+01:00"]
    );
    assert_eq!(
        rome("0 9 1 */6 *", "2026-07-01T09:00:00+02:00", 2),
        ["2027-01-01T09:00:00+01:00", "2027-07-01T09:00:00+02:00"]
    );
    assert_eq!(
        rome("30 8 * * MON-FRI", "2026-07-03T09:00:00+02:00", 2),
        ["2026-07-06T08:30:00+02:00", "2026-07-07T08:30:00+02:00"]
    );
    assert_eq!(
        rome("0 0 29 2 *", "2026-01-01T00:00:00+01:00", 2),
        ["2028-02-29T00:00:00+01:00", "2032-02-29T00:00:00+01:00"]
    );
}

#[test]
fn the_calendar_ends_with_the_year_2100() {
    let schedule = Schedule::parse("0 9 1 1 *", "Europe/Rome").unwrap();
    let last = schedule.fire_times_after(instant("2099-06-01T00:00:00+02:00"));
    assert_eq!(
        last.map(|fire| fire.to_rfc3339()).collect::<Vec<_>>(),
        ["2100-01-01T08:00:00+00:00"]
    );
}

#[test]
fn bad_expressions_and_zones_are_refused_with_stable_codes() {
    let invalid = Schedule::parse("0 24 * * *", "Europe/Rome").unwrap_err();
    assert_eq!(invalid.code(), "INVALID_CRON");
    assert_eq!(
        invalid.to_string(),
        "invalid cron expression: column 3, hour field: 24 is out of range; use 0-23"
    );
    let zone = Schedule::parse("0 9 * * *", "Europe/Palermo").unwrap_err();
    assert!(matches!(zone, ScheduleError::UnknownTimeZone(_)));
    assert_eq!(zone.code(), "UNKNOWN_TIME_ZONE");
}

/// A second, deliberately naive implementation of the documented rule, walking time
/// minute by minute: a real-time expression fires at every minute whose clock reading
/// matches; a fixed-time expression fires at the first minute at which the clock has
/// reached a matching reading it had never shown before (so a skipped reading fires
/// when the gap ends, and a repeated one only the first time).
fn walked_fire_times(
    schedule: &Schedule,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};
    use patto_core::schedule::CronField;

    let expr = schedule.expression();
    let allows = |field, value: u32| expr.values(field).contains(&value);
    let matches = |local: NaiveDateTime| {
        let day = allows(CronField::DayOfMonth, local.day());
        let weekday = allows(CronField::DayOfWeek, local.weekday().num_days_from_sunday());
        let day_rule = if expr.days_match_either() {
            day || weekday
        } else {
            day && weekday
        };
        allows(CronField::Minute, local.minute())
            && allows(CronField::Hour, local.hour())
            && allows(CronField::Month, local.month())
            && day_rule
    };
    let reading = |at: DateTime<Utc>| at.with_timezone(&schedule.time_zone()).naive_local();
    let minute = TimeDelta::minutes(1);
    let mut highest_reading = reading(from);
    let mut fires = Vec::new();
    let mut at = from + minute;
    while at <= to {
        let now = reading(at);
        let fires_now = if schedule.follows_real_time() {
            matches(now)
        } else {
            let mut first_shown = highest_reading + minute;
            let mut any = false;
            while first_shown <= now {
                any |= matches(first_shown);
                first_shown += minute;
            }
            any
        };
        if fires_now {
            fires.push(at);
        }
        highest_reading = highest_reading.max(now);
        at += minute;
    }
    fires
}

#[test]
fn fire_times_agree_with_a_minute_by_minute_walk_around_clock_changes() {
    // Rome (one hour at 02:00/03:00), São Paulo (a gap at midnight in November 2018
    // and a repeated 23:00 in February 2019), Lord Howe Island (half-hour changes).
    let windows = [
        (
            "Europe/Rome",
            "2026-03-26T00:00:00+01:00",
            "2026-04-01T00:00:00+02:00",
        ),
        (
            "Europe/Rome",
            "2026-10-22T00:00:00+02:00",
            "2026-10-28T00:00:00+01:00",
        ),
        (
            "America/Sao_Paulo",
            "2018-11-02T00:00:00-03:00",
            "2018-11-06T00:00:00-02:00",
        ),
        (
            "America/Sao_Paulo",
            "2019-02-14T00:00:00-02:00",
            "2019-02-19T00:00:00-03:00",
        ),
        (
            "Australia/Lord_Howe",
            "2026-04-03T00:00:00+11:00",
            "2026-04-07T00:00:00+10:30",
        ),
        (
            "Australia/Lord_Howe",
            "2026-10-02T00:00:00+10:30",
            "2026-10-06T00:00:00+11:00",
        ),
    ];
    let expressions = [
        "30 2 * * *",
        "15,45 2 * * *",
        "0 2,3 * * *",
        "59 1 * * *",
        "0 0 * * *",
        "30 23 * * *",
        "0 * * * *",
        "*/30 * * * *",
        "*/7 1-3 * * *",
        "* 2 * * *",
        "45 */2 * * *",
        "0 2 * * 0",
        "0 9 1 * 1",
        "10 0-3 */2 * sun",
    ];
    for (zone, from, to) in windows {
        for expression in expressions {
            let schedule = Schedule::parse(expression, zone).unwrap();
            let (from, to) = (instant(from), instant(to));
            let computed: Vec<_> = schedule
                .fire_times_after(from)
                .take_while(|fire| *fire <= to)
                .collect();
            assert_eq!(
                computed,
                walked_fire_times(&schedule, from, to),
                "{expression} in {zone} from {from}"
            );
        }
    }
}
