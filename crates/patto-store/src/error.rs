use std::path::PathBuf;

use sea_orm::{DbErr, SqlErr};

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the data directory {path}: {cause}; check the path and its permissions, or set PATTO_DATA_DIR"
    )]
    DataDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "cannot create the directory {path} of the SQLite database: {cause}; check the path in the database URL (PATTO_DATABASE_URL) and its permissions"
    )]
    SqliteDir {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error(
        "cannot connect to {target}: {cause}; check that the database is running and the URL is right"
    )]
    Connect { target: String, cause: DbErr },
    #[error("database migration failed: {0}")]
    Migration(DbErr),
    #[error("already exists: {0}")]
    Duplicate(String),
    #[error("refers to a missing row: {0}")]
    MissingReference(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("{0} already exists: a backup never overwrites a file; choose a new file name")]
    BackupTargetExists(PathBuf),
    #[error("the backup path {0} is not valid UTF-8; choose a plainer file name")]
    BackupPathNotUtf8(PathBuf),
    #[error(
        "only SQLite databases are copied by Patto; back up PostgreSQL with pg_dump (see README, Backups)"
    )]
    BackupNeedsPgDump,
    #[error("database error: {0}")]
    Database(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        match error.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(detail)) => StoreError::Duplicate(detail),
            Some(SqlErr::ForeignKeyConstraintViolation(detail)) => {
                StoreError::MissingReference(detail)
            }
            Some(_) | None => StoreError::Database(error),
        }
    }
}
