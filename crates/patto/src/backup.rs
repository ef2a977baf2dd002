//! `patto backup`: a consistent copy of a live SQLite database in a new file.

use std::path::Path;
use std::process::ExitCode;

use patto_core::workflow::Catalogue;
use patto_engine::{Backend, DatabaseConfig, Engine, SQLITE_FILE_NAME};

use crate::config::{GlobalOptions, SERVER_KEY_FILE};
use crate::messages::Message;

/// Copies the configured SQLite database to `out`. PostgreSQL is refused before any
/// connection, with the `pg_dump` command to use instead; an existing `out` is refused
/// untouched. The schema is not migrated first: a backup must be the database as it is.
pub async fn run(global: &GlobalOptions, out: &Path) -> anyhow::Result<ExitCode> {
    let language = global.language;
    let config = global.database();
    if config.backend()? == Backend::Postgres {
        eprintln!("{}", Message::BackupUsePgDump.text(language));
        return Ok(ExitCode::FAILURE);
    }
    if out.exists() {
        eprintln!(
            "{}",
            Message::BackupExists {
                path: out.display().to_string()
            }
            .text(language)
        );
        return Ok(ExitCode::FAILURE);
    }
    if let DatabaseConfig::DataDir(dir) = &config
        && !dir.join(SQLITE_FILE_NAME).is_file()
    {
        eprintln!(
            "{}",
            Message::BackupNoDatabase {
                target: config.describe()
            }
            .text(language)
        );
        return Ok(ExitCode::FAILURE);
    }
    // A copy needs no workflow definitions: a broken definitions folder must not stand
    // in the way of a backup.
    let engine = Engine::connect(&config, Catalogue::default()).await?;
    engine.backup_into(out).await?;
    engine.close().await?;
    println!(
        "{}",
        Message::BackupDone {
            target: config.describe(),
            path: out.display().to_string(),
            key: SERVER_KEY_FILE,
        }
        .text(language)
    );
    Ok(ExitCode::SUCCESS)
}
