//! Patto's core: the domain vocabulary (roles, document kinds, organisation
//! categories, languages), typed row ids, the questionnaire of a consultation, the reporting model and the rules
//! for survey values, the content of a social report (its sections and the canonical
//! bytes of its versions), the content of a diagnosis (its items with stable ids and
//! the canonical bytes of its versions), the statuses of stored rows, the stored
//! records as plain data (shared by the store and the engine), workflow
//! definitions (parsing, validation and Mermaid rendering of the TOML files in
//! `workflows/`), the cron syntax of review schedules, and the pure state machine that
//! decides whether a transition may fire and which effects it produces, with
//! guards and effects as data, and which characters text shown to people may carry.
//!
//! This crate must never know about IO beyond reading definition files, nor
//! about async, SeaORM, HTTP or SMTP: the engine gathers [`workflow::Facts`],
//! asks this crate what happens, and carries out the returned effects itself.

pub mod consultation;
pub mod diagnosis;
mod domain;
pub mod ids;
pub mod records;
pub mod reporting;
pub mod schedule;
pub mod social_report;
pub mod status;
pub mod text;
pub mod workflow;

pub use domain::{DocumentKind, Language, OrganisationCategory, Role, UnknownName};
