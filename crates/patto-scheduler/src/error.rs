//! What can go wrong when building a schedule.

use patto_core::schedule::CronError;

/// Why a schedule could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// The cron expression is not standard 5-field cron.
    #[error("invalid cron expression: {0}")]
    InvalidExpression(#[from] CronError),
    /// The time zone is not an IANA name.
    #[error("{0}")]
    UnknownTimeZone(String),
    /// The `cron` crate refused the translation of a valid expression: a bug here, not
    /// a mistake of whoever wrote the expression.
    #[error("cannot translate the cron expression `{expression}` into `{translated}`: {reason}")]
    Translation {
        expression: String,
        translated: String,
        reason: String,
    },
}

impl ScheduleError {
    /// A stable code for callers that report errors to machines (the API, logs).
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::InvalidExpression(_) => "INVALID_CRON",
            ScheduleError::UnknownTimeZone(_) => "UNKNOWN_TIME_ZONE",
            ScheduleError::Translation { .. } => "INTERNAL",
        }
    }
}
