//! Authentication: bearer tokens (stored only as SHA-256 hashes, with expiry and
//! revocation), one-time login codes (stored only as salted hashes, with a count of wrong
//! tries), and what the mail worker needs on outbox rows: a secret that is rendered into
//! the mail at send time and cleared afterwards, an expiry after which the mail is
//! dropped instead of sent, and a claim so that two workers never send the same row at
//! the same time.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum People {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuthTokens {
    Table,
    Id,
    TokenSha256,
    PersonId,
    Kind,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginCodes {
    Table,
    Id,
    PersonId,
    Salt,
    CodeSha256,
    FailedAttempts,
    CreatedAt,
    ExpiresAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outbox {
    Table,
    Secret,
    ExpiresAt,
    ClaimedUntil,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuthTokens::Table)
                    .col(big_pk_auto(AuthTokens::Id))
                    .col(string_uniq(AuthTokens::TokenSha256))
                    .col(big_integer(AuthTokens::PersonId))
                    .col(string(AuthTokens::Kind))
                    .col(timestamp_with_time_zone(AuthTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AuthTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AuthTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_auth_tokens_person_id")
                            .from(AuthTokens::Table, AuthTokens::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginCodes::Table)
                    .col(big_pk_auto(LoginCodes::Id))
                    .col(big_integer(LoginCodes::PersonId))
                    .col(string(LoginCodes::Salt))
                    .col(string(LoginCodes::CodeSha256))
                    .col(integer(LoginCodes::FailedAttempts))
                    .col(timestamp_with_time_zone(LoginCodes::CreatedAt))
                    .col(timestamp_with_time_zone(LoginCodes::ExpiresAt))
                    .col(timestamp_with_time_zone_null(LoginCodes::ClosedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_login_codes_person_id")
                            .from(LoginCodes::Table, LoginCodes::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_codes_person_closed")
                    .table(LoginCodes::Table)
                    .col(LoginCodes::PersonId)
                    .col(LoginCodes::ClosedAt)
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE statement.
        for column in [
            text_null(Outbox::Secret),
            timestamp_with_time_zone_null(Outbox::ExpiresAt),
            timestamp_with_time_zone_null(Outbox::ClaimedUntil),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
