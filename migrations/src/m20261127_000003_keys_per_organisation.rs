//! Keys bound to a (person, organisation) pair, registered with proof of possession, and
//! the approvals of a key that needs two operators.
//!
//! Keys registered before this migration get the organisation of their holder when the
//! holder belongs to exactly one; any other stays without one and can no longer sign
//! until its holder registers a key for the organisation they sign for.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum SigningKeys {
    Table,
    Id,
    OrganisationId,
    Registration,
}

#[derive(DeriveIden, Clone, Copy)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum KeyApprovals {
    Table,
    Id,
    KeyId,
    ApproverId,
    ActReference,
    ApprovedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds columns one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(big_integer_null(SigningKeys::OrganisationId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SigningKeys::Table)
                    .add_column(text_null(SigningKeys::Registration))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE signing_keys SET organisation_id = \
                 (SELECT MIN(m.organisation_id) FROM memberships m WHERE m.person_id = signing_keys.person_id) \
                 WHERE (SELECT COUNT(DISTINCT m.organisation_id) FROM memberships m \
                 WHERE m.person_id = signing_keys.person_id) = 1",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyApprovals::Table)
                    .col(big_pk_auto(KeyApprovals::Id))
                    .col(big_integer(KeyApprovals::KeyId))
                    .col(big_integer(KeyApprovals::ApproverId))
                    .col(text_null(KeyApprovals::ActReference))
                    .col(timestamp_with_time_zone(KeyApprovals::ApprovedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_key_approvals_key_id")
                            .from(KeyApprovals::Table, KeyApprovals::KeyId)
                            .to(SigningKeys::Table, SigningKeys::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_key_approvals_approver_id")
                            .from(KeyApprovals::Table, KeyApprovals::ApproverId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_key_approvals_key_approver")
                    .table(KeyApprovals::Table)
                    .col(KeyApprovals::KeyId)
                    .col(KeyApprovals::ApproverId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
