//! `patto schedule`: review schedules seen from the command line.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use patto_core::schedule::DEFAULT_TIME_ZONE;
use patto_scheduler::{Schedule, ScheduleError};

use crate::config::GlobalOptions;
use crate::messages::Message;

#[derive(Subcommand, Debug)]
pub enum ScheduleCommand {
    /// Print the next fire instants of a cron expression (RFC 3339, one per line).
    Next(NextArgs),
}

#[derive(Args, Debug)]
pub struct NextArgs {
    /// Standard 5-field cron expression, quoted, e.g. "0 9 1 */6 *" (see docs/cron.md).
    pub expression: String,
    /// IANA time zone the expression is read in.
    #[arg(long, default_value = DEFAULT_TIME_ZONE)]
    pub tz: String,
    /// Start after this instant (RFC 3339 with offset); defaults to now.
    #[arg(long)]
    pub from: Option<String>,
    /// How many fire instants to print.
    #[arg(short = 'n', long = "count", default_value_t = 5)]
    pub count: usize,
}

pub fn run(global: &GlobalOptions, command: &ScheduleCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScheduleCommand::Next(args) => next(global, args),
    }
}

/// `patto schedule next`: the fire instants after `--from`, shown in the schedule's zone.
fn next(global: &GlobalOptions, args: &NextArgs) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let refuse = |message: Message| {
        eprintln!("{}", message.text(language));
        Ok(ExitCode::FAILURE)
    };
    let schedule = match Schedule::parse(&args.expression, &args.tz) {
        Ok(schedule) => schedule,
        Err(ScheduleError::InvalidExpression(error)) => {
            return refuse(Message::CronInvalid {
                expression: &args.expression,
                error: &error,
            });
        }
        Err(ScheduleError::UnknownTimeZone(_)) => {
            return refuse(Message::UnknownTimeZone { zone: &args.tz });
        }
        Err(error @ ScheduleError::Translation { .. }) => return Err(error.into()),
    };
    let from = match &args.from {
        None => Utc::now(),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(from) => from.to_utc(),
            Err(_) => return refuse(Message::InvalidInstant { text }),
        },
    };
    let mut printed = 0;
    for fire in schedule.fire_times_after(from).take(args.count) {
        println!("{}", fire.with_timezone(&schedule.time_zone()).to_rfc3339());
        printed += 1;
    }
    if printed == 0 && args.count > 0 {
        eprintln!("{}", Message::NoFireTimes.text(language));
    }
    Ok(ExitCode::SUCCESS)
}
