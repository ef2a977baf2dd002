//! Patto's end-to-end suite: one test binary, run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "suite/engine.rs"]
#[macro_use]
mod engine;
#[path = "suite/api.rs"]
mod api;
#[path = "suite/api_reporting.rs"]
mod api_reporting;
#[path = "suite/api_reviews.rs"]
mod api_reviews;
#[path = "suite/auth.rs"]
mod auth;
#[path = "suite/browser.rs"]
mod browser;
#[path = "suite/consultation.rs"]
mod consultation;
#[path = "suite/diagnoses.rs"]
mod diagnoses;
#[path = "suite/directory.rs"]
mod directory;
#[path = "suite/evidence.rs"]
mod evidence;
#[path = "suite/keys.rs"]
mod keys;
#[path = "suite/login.rs"]
mod login;
#[path = "suite/logs.rs"]
mod logs;

#[path = "suite/notify.rs"]
mod notify;
#[path = "suite/online.rs"]
mod online;
#[path = "suite/permissions.rs"]
mod permissions;
#[path = "suite/portal.rs"]
mod portal;
#[path = "suite/portal_diagnosis.rs"]
mod portal_diagnosis;
#[path = "suite/portal_reports.rs"]
mod portal_reports;
#[path = "suite/regressions.rs"]
mod regressions;
#[path = "suite/reporting_e2e.rs"]
mod reporting_e2e;
#[path = "suite/reports.rs"]
mod reports;
#[path = "suite/reviews.rs"]
mod reviews;
#[path = "suite/server.rs"]
mod server;
#[path = "suite/signing.rs"]
mod signing;
#[path = "suite/subscriptions.rs"]
mod subscriptions;
#[path = "suite/survey.rs"]
mod survey;
#[path = "suite/tidy.rs"]
mod tidy;
#[path = "suite/transitions.rs"]
mod transitions;
