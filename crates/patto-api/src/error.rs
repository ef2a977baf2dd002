//! The errors of the API and their stable codes. Every engine error reaches the client
//! through [`Code::of`], an exhaustive match, so that a new engine error forces a
//! decision about the code clients see.

use async_graphql::ErrorExtensions;
use patto_core::reporting::RowProblem;
use patto_engine::{EngineError, ErrorCode};

/// The stable `extensions.code` of every GraphQL error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// No valid session: the token is missing where needed, malformed, unknown,
    /// expired or revoked.
    Unauthenticated,
    /// The caller may not do this.
    Forbidden,
    /// The thing asked for does not exist.
    NotFound,
    /// Someone changed the data first, or its state forbids the change.
    Conflict,
    /// A workflow guard does not hold.
    GuardFailed,
    /// A submitted signature was refused.
    InvalidSignature,
    /// The request or its input is malformed, too deep, too costly or too large.
    Validation,
    /// Too many requests from this caller; wait and try again.
    RateLimited,
    /// Something failed inside Patto; the log has the details under the request id.
    Internal,
}

impl Code {
    /// Every code, for the tests that check each is produced.
    pub const ALL: [Code; 9] = [
        Code::Unauthenticated,
        Code::Forbidden,
        Code::NotFound,
        Code::Conflict,
        Code::GuardFailed,
        Code::InvalidSignature,
        Code::Validation,
        Code::RateLimited,
        Code::Internal,
    ];

    /// The code's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::Conflict => "CONFLICT",
            Code::GuardFailed => "GUARD_FAILED",
            Code::InvalidSignature => "INVALID_SIGNATURE",
            Code::Validation => "VALIDATION",
            Code::RateLimited => "RATE_LIMITED",
            Code::Internal => "INTERNAL",
        }
    }

    /// The code clients see for an engine error.
    pub fn of(error: &EngineError) -> Code {
        match error.code() {
            ErrorCode::Unauthenticated => Code::Unauthenticated,
            ErrorCode::RateLimited => Code::RateLimited,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::Forbidden => Code::Forbidden,
            ErrorCode::Conflict => Code::Conflict,
            ErrorCode::GuardFailed => Code::GuardFailed,
            ErrorCode::InvalidSignature => Code::InvalidSignature,
            ErrorCode::Validation => Code::Validation,
            ErrorCode::Internal => Code::Internal,
        }
    }
}

/// Why an API request failed.
///
/// It deliberately does not implement `Display`: async-graphql turns anything that does
/// into an error *without* a code, silently, through `?`. Without it, the compiler
/// makes every conversion go through [`ApiError::into_graphql`], which sets the code.
#[derive(Debug)]
pub enum ApiError {
    /// The engine refused or failed.
    Engine(EngineError),
    /// The bearer token is not valid, or a change was asked for without one.
    Unauthenticated(String),
    /// An argument is malformed.
    Validation(String),
    /// A signature is not even readable as one.
    InvalidSignature(String),
    /// Something the server itself got wrong.
    Internal(String),
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        ApiError::Engine(error)
    }
}

/// What clients read instead of the message of an internal error, which may name
/// database details; the log keeps the full error.
pub const INTERNAL_MESSAGE: &str = "internal error in Patto";

impl ApiError {
    /// The full message, for the log and (unless internal) for the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Engine(error) => error.to_string(),
            ApiError::Unauthenticated(message)
            | ApiError::Validation(message)
            | ApiError::InvalidSignature(message)
            | ApiError::Internal(message) => message.clone(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> Code {
        match self {
            ApiError::Engine(error) => Code::of(error),
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::Validation(_) => Code::Validation,
            ApiError::InvalidSignature(_) => Code::InvalidSignature,
            ApiError::Internal(_) => Code::Internal,
        }
    }

    /// The GraphQL error clients see: the message and the code, except for internal
    /// errors, which are logged in full (inside the request's span, which carries its
    /// id) and shown with a generic message.
    pub fn into_graphql(&self) -> async_graphql::Error {
        let code = self.code();
        let message = match code {
            Code::Internal => {
                tracing::error!(error = %self.message(), "internal error answering a GraphQL request");
                INTERNAL_MESSAGE.to_owned()
            }
            Code::Unauthenticated
            | Code::Forbidden
            | Code::NotFound
            | Code::Conflict
            | Code::GuardFailed
            | Code::InvalidSignature
            | Code::Validation
            | Code::RateLimited => self.message(),
        };
        let error = coded(message, code);
        match self.row_problems() {
            Some(problems) => error.extend_with(|_, extensions| {
                extensions.set("problems", problems_value(problems));
            }),
            None => error,
        }
    }

    /// The problems of a refused import, each by row, column and reason.
    fn row_problems(&self) -> Option<&[RowProblem]> {
        match self {
            ApiError::Engine(EngineError::Import(problems)) => Some(problems),
            ApiError::Engine(_)
            | ApiError::Unauthenticated(_)
            | ApiError::Validation(_)
            | ApiError::InvalidSignature(_)
            | ApiError::Internal(_) => None,
        }
    }
}

/// The problems of a refused import as a GraphQL list of `{row, column, reason}`, so
/// that a client can point at every bad cell.
fn problems_value(problems: &[RowProblem]) -> async_graphql::Value {
    async_graphql::Value::List(
        problems
            .iter()
            .map(|problem| {
                let mut object = async_graphql::indexmap::IndexMap::new();
                object.insert(
                    async_graphql::Name::new("row"),
                    async_graphql::Value::from(u64::try_from(problem.row).unwrap_or(u64::MAX)),
                );
                object.insert(
                    async_graphql::Name::new("column"),
                    async_graphql::Value::from(problem.column.clone()),
                );
                object.insert(
                    async_graphql::Name::new("reason"),
                    async_graphql::Value::from(problem.reason.clone()),
                );
                async_graphql::Value::Object(object)
            })
            .collect(),
    )
}

/// A GraphQL error with its stable code.
pub(crate) fn coded(message: String, code: Code) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", code.as_str());
    })
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.into_graphql()
    }
}

/// Resolvers return this: every failure already carries its code.
pub type ApiResult<T> = Result<T, async_graphql::Error>;

/// Converts an engine result, giving its error a code.
pub(crate) fn engine<T>(result: Result<T, EngineError>) -> ApiResult<T> {
    result.map_err(|error| ApiError::Engine(error).into_graphql())
}
