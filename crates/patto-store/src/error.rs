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
    #[error("database error: {0}")]
    Database(DbErr),
    #[error("the commit this change shared with others failed, so it was not saved: {0}")]
    GroupCommit(String),
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
