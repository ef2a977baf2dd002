use patto_core::workflow::{GuardFailure, Problem};
use patto_store::StoreError;

pub use crate::signing::SignatureRefusal;

/// The stable codes clients see. Every [`EngineError`] maps to exactly one, through an
/// exhaustive match, so that adding an error forces a decision about its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    NotFound,
    Forbidden,
    Conflict,
    GuardFailed,
    InvalidSignature,
    Validation,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::GuardFailed => "GUARD_FAILED",
            ErrorCode::InvalidSignature => "INVALID_SIGNATURE",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// Why an engine service refused or failed. Messages say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{what} {key} does not exist")]
    NotFound { what: &'static str, key: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("transition '{transition}' cannot fire: guard '{}' failed: {}", failure.guard, failure.reason)]
    GuardFailed {
        transition: String,
        failure: GuardFailure,
    },
    #[error("signature refused: {0}")]
    Signature(SignatureRefusal),
    #[error("{0}")]
    Validation(String),
    #[error("workflow definition {name} is invalid: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Definition {
        name: String,
        problems: Vec<Problem>,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl EngineError {
    pub fn code(&self) -> ErrorCode {
        match self {
            EngineError::NotFound { .. } => ErrorCode::NotFound,
            EngineError::Forbidden(_) => ErrorCode::Forbidden,
            EngineError::Conflict(_) => ErrorCode::Conflict,
            EngineError::GuardFailed { .. } => ErrorCode::GuardFailed,
            EngineError::Signature(refusal) => refusal.code(),
            EngineError::Validation(_) => ErrorCode::Validation,
            EngineError::Definition { .. } => ErrorCode::Internal,
            EngineError::Store(store) => match store {
                StoreError::Duplicate(_) => ErrorCode::Conflict,
                StoreError::MissingReference(_) => ErrorCode::Validation,
                StoreError::DataDir { .. }
                | StoreError::UnsupportedUrl(_)
                | StoreError::Connect { .. }
                | StoreError::Migration(_)
                | StoreError::Corrupt(_)
                | StoreError::Database(_)
                | StoreError::GroupCommit(_) => ErrorCode::Internal,
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
