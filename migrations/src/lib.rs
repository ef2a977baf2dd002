//! The schema of Patto as `sea-orm-migration` migrations, run on `patto serve` start and by
//! `patto migrate`. Migrations describe tables with `sea-query` only and never import the
//! entities of `patto-store`, so that an old migration keeps meaning what it meant when it
//! was released. A released migration is never edited: change the schema with a new one.

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261127_000001_initial;
mod m20261127_000002_directory_chain;
mod m20261127_000003_keys_per_organisation;
mod m20261127_000004_authentication;
mod m20261127_000005_reviews;
mod m20261127_000010_reporting;
mod m20261127_000020_social_reports;
mod m20261127_000021_diagnoses;
mod m20261127_000022_consultations;

/// Every migration of Patto, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_initial::Migration),
            Box::new(m20261127_000002_directory_chain::Migration),
            Box::new(m20261127_000003_keys_per_organisation::Migration),
            Box::new(m20261127_000004_authentication::Migration),
            Box::new(m20261127_000005_reviews::Migration),
            Box::new(m20261127_000010_reporting::Migration),
            Box::new(m20261127_000020_social_reports::Migration),
            Box::new(m20261127_000021_diagnoses::Migration),
            Box::new(m20261127_000022_consultations::Migration),
        ]
    }
}
