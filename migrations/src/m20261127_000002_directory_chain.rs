//! The instance operators and the directory chain: who was made an operator, and a
//! hash-chained log of every change to organisations, people, memberships, networks,
//! working groups and operators, so that who decided who may sign leaves evidence too.

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
enum Operators {
    Table,
    Id,
    PersonId,
    GrantedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DirectoryEvents {
    Table,
    Id,
    Seq,
    PrevHash,
    Hash,
    Kind,
    ActorId,
    Payload,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ChainHeads {
    Table,
    Name,
    EventCount,
    HeadHash,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Operators::Table)
                    .col(big_pk_auto(Operators::Id))
                    .col(big_integer_uniq(Operators::PersonId))
                    .col(timestamp_with_time_zone(Operators::GrantedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_operators_person_id")
                            .from(Operators::Table, Operators::PersonId)
                            .to(People::Table, People::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // The same shape as the key registry's chain, so that one piece of code hashes
        // and verifies both.
        manager
            .create_table(
                Table::create()
                    .table(DirectoryEvents::Table)
                    .col(big_pk_auto(DirectoryEvents::Id))
                    .col(big_integer_uniq(DirectoryEvents::Seq))
                    .col(string(DirectoryEvents::PrevHash))
                    .col(string(DirectoryEvents::Hash))
                    .col(string(DirectoryEvents::Kind))
                    .col(big_integer_null(DirectoryEvents::ActorId))
                    .col(text(DirectoryEvents::Payload))
                    .col(timestamp_with_time_zone(DirectoryEvents::RecordedAt))
                    .to_owned(),
            )
            .await?;
        // Created here, empty, so that appending never races to create it.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ChainHeads::Table)
                    .columns([
                        ChainHeads::Name,
                        ChainHeads::EventCount,
                        ChainHeads::HeadHash,
                    ])
                    .values_panic(["directory".into(), 0i64.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
