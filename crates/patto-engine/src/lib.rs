//! The application services of Patto. Every state change goes through here: it checks who
//! is acting, reads the facts the workflow rules need, and writes the change together with
//! its hash-chained audit event, its outbox rows and its effect records in one
//! transaction, then fires any automatic transition whose guards now hold in that same
//! transaction.
//!
//! It never knows HTTP or GraphQL types: the API, the CLI and the scheduler call these
//! services with plain values and get plain values or an [`EngineError`] back.

#![warn(missing_docs)]

mod audit;
mod auth;
mod consultations;
mod diagnoses;
mod directory;
mod directory_chain;
mod documents;
mod error;
mod evidence;
mod keys;
mod mail;
mod pause;
mod reading;
mod reporting;
mod reviews;
mod roles;
mod signing;
mod social_reports;
mod survey_file;
mod validate;
mod workflow;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use patto_core::ids::PersonId;
use patto_core::workflow::Catalogue;
use patto_store::Store;

pub use patto_store::{
    Backend, DatabaseConfig, EventFollower, FEED_CAPACITY, Followed, SQLITE_FILE_NAME,
};

pub use audit::ChainVerdict;
pub use auth::{
    IssuedToken, LOGIN_CODE_MAX_WRONG_TRIES, LOGIN_CODE_VALIDITY_MINUTES, LoginLimits,
    MAX_TOKEN_VALIDITY_DAYS, RateLimit, SESSION_VALIDITY_DAYS, Session, TrustedProxies,
    TrustedProxiesError, client_address,
};
pub use consultations::{
    CONSULTATION_INVITATION_TEMPLATE, ConsultationResults, ConsultationStatus, ConsultationView,
    PUBLIC_ANSWERS_PER_CLIENT, PartnerLinksSent, PublicConsultation,
};
pub use diagnoses::{CitedItem, DiagnosisVersion, NewDiagnosis, ReadableDiagnosis};
pub use directory::{NewOrganisation, OrganisationChange, PersonChange};
pub use directory_chain::{DIRECTORY_CHAIN_INSTANCE, DirectoryDifference};
pub use documents::{CommitmentChange, NewCommitment, NewDocument};
pub use error::{EngineError, ErrorCode};
pub use keys::{
    ApprovalOutcome, KEY_CHAIN_INSTANCE, KEY_CHANGE_WRITTEN, REGISTRATION_VALIDITY_HOURS,
};
pub use mail::{
    COMMITMENT_OVERDUE_TEMPLATE, ENGINE_TEMPLATES, LOGIN_CODE_TEMPLATE, REVIEW_OPENED_TEMPLATE,
    Requeue, SIGNATURE_DECLINED_TEMPLATE, SIGNATURE_REMINDER_TEMPLATE,
    STATUS_REPORT_REQUESTED_TEMPLATE,
};
#[cfg(feature = "test-support")]
pub use pause::PausePoint;
pub use reading::{AvailableTransition, Blocker, ReadableDocument};
pub use reporting::{ExportRow, ImportSummary, SurveyExport, SurveyImport};
pub use reviews::{ReminderPolicy, RemindersSent, ReviewFiring, StatusReportInput};
pub use roles::Access;
pub use signing::{RequestView, SIGNATURE_TAKING_KEY_LOCK, SignatureOutcome, SignatureRefusal};
pub use social_reports::{NewSocialReport, ReadableReport, ReportVersion};
pub use survey_file::SurveyFormat;
pub use workflow::{FireOutcome, FireRequest, StepTaken};

/// Who performs an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The engine's own automatic work (the scheduler, automatic transitions) and the
    /// bootstrap of the directory from the command line. It passes the directory's and
    /// documents' checks, holds the admin role on every document, and is recorded without
    /// a person in the audit trail. It is never accepted for a signature, a decline, or a
    /// key's registration, approval or revocation: those are always a person's acts.
    System,
    /// A registered person, acting through their organisations and groups.
    Person(PersonId),
    /// Anyone not logged in. They read what is public and change nothing: every
    /// permission check refuses them.
    Public,
}

impl Actor {
    pub(crate) fn person_id(self) -> Option<PersonId> {
        match self {
            Actor::System | Actor::Public => None,
            Actor::Person(id) => Some(id),
        }
    }
}

/// The engine: a store and the workflow definitions.
pub struct Engine {
    store: Store,
    catalogue: Catalogue,
    /// Parsed definitions by (name, version), including versions no longer in the
    /// catalogue that running instances still use.
    definitions: RwLock<HashMap<(String, i32), Arc<patto_core::workflow::Definition>>>,
    /// The in-memory rate limits of e-mail login.
    login_limiter: auth::LoginLimiter,
    /// The in-memory limit on anonymous consultation answers per client address.
    answer_limiter: auth::Window,
    /// Pause points armed by race tests.
    #[cfg(feature = "test-support")]
    pauses: pause::PausePoints,
}

impl Engine {
    /// An engine over an already connected store (the tests build theirs this way).
    pub fn new(store: Store, catalogue: Catalogue) -> Self {
        Engine {
            store,
            catalogue,
            definitions: RwLock::new(HashMap::new()),
            login_limiter: auth::LoginLimiter::new(LoginLimits::default()),
            answer_limiter: auth::Window::new(consultations::PUBLIC_ANSWERS_PER_CLIENT),
            #[cfg(feature = "test-support")]
            pauses: pause::PausePoints::default(),
        }
    }

    /// The same engine with other limits on e-mail login.
    pub fn with_login_limits(mut self, limits: LoginLimits) -> Self {
        self.login_limiter = auth::LoginLimiter::new(limits);
        self
    }

    /// The same engine with another limit on the anonymous answers one client address
    /// may give to public consultations.
    pub fn with_answer_limit(mut self, limit: RateLimit) -> Self {
        self.answer_limiter = auth::Window::new(limit);
        self
    }

    /// Connects to the configured database (creating the SQLite file and its directory
    /// when needed). It does not migrate: call [`Engine::migrate`].
    pub async fn connect(
        config: &DatabaseConfig,
        catalogue: Catalogue,
    ) -> Result<Self, EngineError> {
        Ok(Engine::new(Store::connect(config).await?, catalogue))
    }

    /// Brings the database schema up to date; safe to run on every start.
    pub async fn migrate(&self) -> Result<(), EngineError> {
        Ok(self.store.migrate().await?)
    }

    /// Names of the migrations that are applied, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<String>, EngineError> {
        Ok(self.store.applied_migrations().await?)
    }

    /// Checks that the database answers, for readiness probes.
    pub async fn ping(&self) -> Result<(), EngineError> {
        Ok(self.store.ping().await?)
    }

    /// Which database engine the data lives in.
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Writes a consistent copy of a live SQLite database to a new file at `path` (see
    /// the store's `backup_into`): refused for PostgreSQL, which `pg_dump` backs up, and
    /// when `path` exists.
    pub async fn backup_into(&self, path: &Path) -> Result<(), EngineError> {
        Ok(self.store.backup_into(path).await?)
    }

    /// Closes the database connections.
    pub async fn close(self) -> Result<(), EngineError> {
        Ok(self.store.close().await?)
    }

    /// The store, for the services of this crate only: every caller outside goes through
    /// the services, so that no change bypasses the audit chain.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn login_limiter(&self) -> &auth::LoginLimiter {
        &self.login_limiter
    }

    pub(crate) fn answer_limiter(&self) -> &auth::Window {
        &self.answer_limiter
    }

    /// The workflow definitions new documents start with.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
}
