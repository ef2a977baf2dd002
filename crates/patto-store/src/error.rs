use std::path::PathBuf;

use sea_orm::{DbErr, SqlErr};

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory cannot be created.
    #[error(
        "cannot create the data directory {path}: {cause}; check the path and its permissions, or set PATTO_DATA_DIR"
    )]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        cause: std::io::Error,
    },
    /// The directory of a `sqlite:` URL's file cannot be created.
    #[error(
        "cannot create the directory {path} of the SQLite database: {cause}; check the path in the database URL (PATTO_DATABASE_URL) and its permissions"
    )]
    SqliteDir {
        /// The directory.
        path: PathBuf,
        /// Why not.
        cause: std::io::Error,
    },
    /// The database URL names a database Patto does not support.
    #[error("unsupported database URL {0}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    /// The database cannot be reached.
    #[error(
        "cannot connect to {target}: {cause}; check that the database is running and the URL is right"
    )]
    Connect {
        /// The database, described without its password.
        target: String,
        /// Why not.
        cause: DbErr,
    },
    /// Bringing the schema up to date failed.
    #[error("database migration failed: {0}")]
    Migration(DbErr),
    /// A row with the same unique key exists.
    #[error("already exists: {0}")]
    Duplicate(String),
    /// A row refers to a row that does not exist.
    #[error("refers to a missing row: {0}")]
    MissingReference(String),
    /// Stored data is not what Patto writes (e.g. an unknown status).
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A backup would overwrite this existing file.
    #[error("{0} already exists: a backup never overwrites a file; choose a new file name")]
    BackupTargetExists(PathBuf),
    /// SQLite takes the backup's path as text.
    #[error("the backup path {0} is not valid UTF-8; choose a plainer file name")]
    BackupPathNotUtf8(PathBuf),
    /// PostgreSQL is backed up with its own tools.
    #[error(
        "only SQLite databases are copied by Patto; back up PostgreSQL with pg_dump (see README, Backups)"
    )]
    BackupNeedsPgDump,
    /// Any other database failure.
    #[error("database error: {0}")]
    Database(DbErr),
    /// The COMMIT a change shared with other queued changes failed (on SQLite, see
    /// `group`; on PostgreSQL, a transition written in one statement, see `batch`).
    #[error("the commit this change shared with others failed, so it was not saved: {0}")]
    GroupCommit(String),
    /// The connection that listens for other servers' events cannot be opened.
    #[error(
        "cannot listen for events on PostgreSQL: {0}; check that the database is running and accepts one more connection"
    )]
    Listen(sea_orm::sqlx::Error),
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
