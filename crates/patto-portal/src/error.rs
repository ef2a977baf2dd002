//! What can go wrong while serving a page, and what the visitor is told.

use patto_engine::{EngineError, ErrorCode};

/// A page or file that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// The engine refused or failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Nothing public answers at this address.
    #[error("no public page at this address")]
    NotFound,
    /// A template failed to render.
    #[error("the template {name} failed: {source}")]
    Template {
        /// The template's name.
        name: String,
        /// What went wrong.
        source: minijinja::Error,
    },
    /// An open-data file could not be written.
    #[error("the open-data file could not be written: {0}")]
    Data(String),
    /// A report's chart or PDF could not be made.
    #[error(transparent)]
    Report(#[from] patto_report::ReportError),
}

/// How the visitor is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 404, in the site's layout: what does not exist and what is not public look the
    /// same, so that a draft's address tells nothing about the draft.
    NotFound,
    /// 500, in the site's layout; the cause goes to the log only.
    Internal,
}

impl PortalError {
    /// How the visitor is answered.
    pub fn outcome(&self) -> Outcome {
        match self {
            PortalError::NotFound => Outcome::NotFound,
            PortalError::Template { .. } | PortalError::Data(_) | PortalError::Report(_) => {
                Outcome::Internal
            }
            PortalError::Engine(error) => match error.code() {
                // The public may not read drafts: the engine says FORBIDDEN, the portal
                // says the page does not exist.
                ErrorCode::NotFound | ErrorCode::Forbidden => Outcome::NotFound,
                ErrorCode::Unauthenticated
                | ErrorCode::Conflict
                | ErrorCode::GuardFailed
                | ErrorCode::InvalidSignature
                | ErrorCode::Validation
                | ErrorCode::RateLimited
                | ErrorCode::Internal => Outcome::Internal,
            },
        }
    }
}
