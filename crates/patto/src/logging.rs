//! Logs: `tracing` events on stderr, filtered by `PATTO_LOG`, as text for people or as
//! one JSON object per line for machines (`PATTO_LOG_FORMAT=json`).

use std::io::IsTerminal;

use patto_core::Language;
use tracing_subscriber::EnvFilter;

use crate::messages::Message;

/// The variable holding the log filter (`info`, `patto_engine=debug,warn`, ...).
pub const FILTER_VARIABLE: &str = "PATTO_LOG";
/// The variable choosing the log format: `text` (the default) or `json`.
pub const FORMAT_VARIABLE: &str = "PATTO_LOG_FORMAT";

/// How much is logged when `PATTO_LOG` is not set: a server reports its start,
/// transitions, signatures and failures (`info`); a one-off command only what went wrong
/// (`warn`), since its outcome is already printed for the person who ran it.
fn default_filter(serving: bool) -> &'static str {
    if serving { "info" } else { "warn" }
}

/// Installs the global subscriber. Called once, at start-up. A filter or format that
/// cannot be understood is reported on stderr and replaced by the default, so that a
/// typo in a logging variable never stops a server from starting.
pub fn init(serving: bool, language: Language) {
    let default = default_filter(serving);
    let filter = match std::env::var(FILTER_VARIABLE) {
        Ok(text) if !text.trim().is_empty() => EnvFilter::try_new(&text).unwrap_or_else(|error| {
            eprintln!(
                "{}",
                Message::LogSettingIgnored {
                    variable: FILTER_VARIABLE,
                    value: text.clone(),
                    problem: error.to_string(),
                    default,
                }
                .text(language)
            );
            EnvFilter::new(default)
        }),
        Ok(_) | Err(_) => EnvFilter::new(default),
    };
    // Colours only for a person at a terminal: escape codes would garble log files.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let format = std::env::var(FORMAT_VARIABLE).unwrap_or_default();
    match format.trim() {
        "json" => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        "" | "text" => builder.init(),
        other => {
            eprintln!(
                "{}",
                Message::LogSettingIgnored {
                    variable: FORMAT_VARIABLE,
                    value: other.to_owned(),
                    problem: "use text or json".to_owned(),
                    default: "text",
                }
                .text(language)
            );
            builder.init();
        }
    }
}
