//! The mail worker of Patto: it claims due outbox rows through the engine, renders them
//! from the templates in [`templates`] in the recipient's language, sends them with
//! lettre over SMTP (pooled connections) with the row's stable `Message-ID`, and marks
//! them sent, or failed to be retried later.
//!
//! It never knows workflow rules and never touches the database: the engine decides
//! what is in the outbox, when a row expires, and who may read what; this crate only
//! turns rows into mail. It claims only rows whose template it can render, so mail of
//! templates it does not know yet stays queued.

mod calendar;
mod error;
mod mailer;
pub mod templates;
mod worker;

pub use error::NotifyError;
pub use mailer::{MailConfig, Mailer, describe_smtp_url};
pub use worker::{Delivery, LEASE, MAX_ATTEMPTS, Worker};
