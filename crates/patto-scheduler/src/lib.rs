//! Patto's scheduler: when review checkpoints, reminders and chasers are due.
//!
//! A [`Schedule`] is a standard 5-field cron expression (parsed by
//! `patto-core`, the one owner of the syntax) read in an IANA time zone. It
//! answers one question, [`Schedule::next_after`]: the first fire instant
//! strictly after a given instant, and [`Schedule::fire_times_after`] iterates
//! them, strictly increasing. The semantics are crontab's as Vixie cron
//! implements them, documented in `docs/cron.md`: Sunday is 0 or 7, a day
//! matches either day field when both are restricted, and through
//! daylight-saving changes an expression with a fixed minute and hour fires each
//! local time once (a time skipped by the clock at the first instant after the
//! gap, a repeated time at its first occurrence) while one whose minute or hour
//! starts with `*` follows the clock in real time.
//!
//! The `cron` crate computes the calendar underneath, on local wall-clock times
//! only; it never sees a user-written expression and never appears in this
//! crate's interface, because its own conventions (seconds field, Sunday = 1,
//! days of the month AND of the week, and fire times out of order in a repeated
//! hour) differ from crontab's.
//!
//! **Invariant:** pure computation over instants; never knows the database
//! schema. The worker that claims due schedules calls the engine.

mod calendar;
mod error;
mod schedule;

pub use error::ScheduleError;
pub use schedule::{FireTimes, Schedule};
