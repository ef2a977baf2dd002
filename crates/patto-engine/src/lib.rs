//! The application services of Patto. Every state change goes through here: it checks who
//! is acting, reads the facts the workflow rules need, and writes the change together with
//! its hash-chained audit event, its outbox rows and its effect records in one
//! transaction, then fires any automatic transition whose guards now hold in that same
//! transaction.
//!
//! It never knows HTTP or GraphQL types: the API, the CLI and the scheduler call these
//! services with plain values and get plain values or an [`EngineError`] back.

mod audit;
mod directory;
mod directory_chain;
mod documents;
mod error;
mod evidence;
mod keys;
mod roles;
mod signing;
mod validate;
mod workflow;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use patto_core::workflow::Catalogue;
use patto_store::Store;

pub use audit::ChainVerdict;
pub use directory::{NewOrganisation, OrganisationChange, PersonChange};
pub use directory_chain::{DIRECTORY_CHAIN_INSTANCE, DirectoryDifference};
pub use documents::{CommitmentChange, NewCommitment, NewDocument};
pub use error::{EngineError, ErrorCode};
pub use keys::KEY_CHAIN_INSTANCE;
pub use signing::{RequestView, SignatureOutcome, SignatureRefusal};
pub use workflow::{FireOutcome, FireRequest, StepTaken};

/// Who performs an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The engine's own automatic work and, for now, the command line (the demo loader
    /// and the scheduler too). It passes every permission check, holds the admin role on
    /// every document, and is recorded without a person in the audit trail.
    System,
    /// A registered person, acting through their organisations and groups.
    Person(i64),
}

impl Actor {
    fn person_id(self) -> Option<i64> {
        match self {
            Actor::System => None,
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
}

impl Engine {
    pub fn new(store: Store, catalogue: Catalogue) -> Self {
        Engine {
            store,
            catalogue,
            definitions: RwLock::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }
}
