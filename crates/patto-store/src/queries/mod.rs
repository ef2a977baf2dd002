//! Every query the engine needs, as methods of [`Tx`], one module per aggregate. Queries
//! take typed ids and return the plain records of [`patto_core::records`]; the entities
//! they are built from never leave this crate.

mod auth;
mod consultations;
mod diagnoses;
mod directory;
mod directory_chain;
mod documents;
mod keys;
mod mail;
mod reading;
mod reporting;
mod reviews;
mod signing;
mod social_reports;
mod workflow;

use chrono::{DateTime, Utc};

use crate::StoreError;

pub use consultations::ConsultationLink;
pub use directory::*;
pub use directory_chain::*;
pub use documents::*;
pub use keys::NewSigningKey;
pub use reporting::*;
pub use reviews::*;
pub use signing::*;
pub use workflow::*;

fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Converts one stored row into its record; a row that does not convert (an unknown
/// status, say) is reported as corrupt data, never a panic.
fn record<Row, Record: TryFrom<Row, Error = StoreError>>(row: Row) -> Result<Record, StoreError> {
    Record::try_from(row)
}

/// Converts stored rows into records, failing on the first that does not convert.
fn records<Row, Record: TryFrom<Row, Error = StoreError>>(
    rows: Vec<Row>,
) -> Result<Vec<Record>, StoreError> {
    rows.into_iter().map(Record::try_from).collect()
}
