use patto_core::consultation::AnswerProblem;
use patto_core::reporting::RowProblem;
use patto_core::workflow::{GuardFailure, Problem};
use patto_store::StoreError;

pub use crate::signing::SignatureRefusal;

/// The stable codes clients see. Every [`EngineError`] maps to exactly one, through an
/// exhaustive match, so that adding an error forces a decision about its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// No valid credentials: the token is missing, unknown, expired or revoked, or a
    /// login failed.
    Unauthenticated,
    /// The thing asked for does not exist.
    NotFound,
    /// The actor may not do this.
    Forbidden,
    /// Someone changed the data first, or its state forbids the change.
    Conflict,
    /// A workflow guard does not hold.
    GuardFailed,
    /// A submitted signature was refused.
    InvalidSignature,
    /// The input is malformed or incomplete.
    Validation,
    /// Too many requests: wait and try again.
    RateLimited,
    /// Something failed inside Patto, not because of the input.
    Internal,
}

impl ErrorCode {
    /// The code's stable name, as clients see it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::GuardFailed => "GUARD_FAILED",
            ErrorCode::InvalidSignature => "INVALID_SIGNATURE",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// Why an engine service refused or failed. Messages say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The credentials do not prove who is acting.
    #[error("{0}")]
    Unauthenticated(String),
    /// Too many requests in too short a time.
    #[error("{0}")]
    RateLimited(String),
    /// The thing asked for does not exist.
    #[error("{what} {key} does not exist")]
    NotFound {
        /// What kind of thing, e.g. "document".
        what: &'static str,
        /// The id or slug it was asked for by.
        key: String,
    },
    /// The actor lacks the role the action needs.
    #[error("{0}")]
    Forbidden(String),
    /// A concurrent change or the current state forbids the change.
    #[error("{0}")]
    Conflict(String),
    /// A workflow guard does not hold.
    #[error("transition '{transition}' cannot fire: guard '{}' failed: {}", failure.guard, failure.reason)]
    GuardFailed {
        /// The transition that was asked for.
        transition: String,
        /// Which guard failed and why.
        failure: GuardFailure,
    },
    /// A signature or a decline was refused.
    #[error("signature refused: {0}")]
    Signature(SignatureRefusal),
    /// The input is malformed or incomplete.
    #[error("{0}")]
    Validation(String),
    /// A workflow definition does not pass the checks.
    #[error("workflow definition {name} is invalid: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Definition {
        /// The definition's name.
        name: String,
        /// Every problem found in it.
        problems: Vec<Problem>,
    },
    /// Answers to a consultation were refused, each problem tied to its question;
    /// nothing was saved.
    #[error("the answers were not saved: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Answers(Vec<AnswerProblem>),
    /// Rows of an imported file were refused; nothing was saved.
    #[error("nothing was imported: {} row problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Import(Vec<RowProblem>),
    /// The server's own fault (its data or its configuration), which the caller can do
    /// nothing about; the message tells the operator what to look at.
    #[error("internal error: {0}")]
    Internal(String),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
}

impl EngineError {
    /// The stable code clients see for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            EngineError::RateLimited(_) => ErrorCode::RateLimited,
            EngineError::NotFound { .. } => ErrorCode::NotFound,
            EngineError::Forbidden(_) => ErrorCode::Forbidden,
            EngineError::Conflict(_) => ErrorCode::Conflict,
            EngineError::GuardFailed { .. } => ErrorCode::GuardFailed,
            EngineError::Signature(refusal) => refusal.code(),
            EngineError::Validation(_) | EngineError::Import(_) | EngineError::Answers(_) => {
                ErrorCode::Validation
            }
            EngineError::Definition { .. } | EngineError::Internal(_) => ErrorCode::Internal,
            EngineError::Store(store) => match store {
                StoreError::Duplicate(_) | StoreError::BackupTargetExists(_) => ErrorCode::Conflict,
                StoreError::BackupPathNotUtf8(_) | StoreError::BackupNeedsPgDump => {
                    ErrorCode::Validation
                }
                StoreError::MissingReference(_) => ErrorCode::Validation,
                StoreError::DataDir { .. }
                | StoreError::SqliteDir { .. }
                | StoreError::UnsupportedUrl(_)
                | StoreError::Connect { .. }
                | StoreError::Migration(_)
                | StoreError::Corrupt(_)
                | StoreError::Database(_)
                | StoreError::GroupCommit(_)
                | StoreError::Listen(_) => ErrorCode::Internal,
            },
        }
    }

    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        EngineError::NotFound {
            what,
            key: key.to_string(),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(error: StoreError) -> Self {
        EngineError::Store(error)
    }
}
