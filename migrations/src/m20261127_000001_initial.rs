//! The first schema: organisations, people, the partner network, working groups, documents
//! with their immutable versions and comments, signatories, commitments, workflow instances,
//! the hash-chained event log, the e-mail outbox, the records left by workflow effects,
//! signing rounds with their requests, and signing keys with their own hash-chained log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Organisations {
    Table,
    Id,
    Slug,
    Name,
    Category,
    IstatCode,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum People {
    Table,
    Id,
    Email,
    Name,
    Language,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Memberships {
    Table,
    Id,
    PersonId,
    OrganisationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Networks {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum NetworkMembers {
    Table,
    Id,
    NetworkId,
    OrganisationId,
    JoinedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkingGroups {
    Table,
    Id,
    Slug,
    Name,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkingGroupMembers {
    Table,
    Id,
    WorkingGroupId,
    PersonId,
    JoinedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Documents {
    Table,
    Id,
    Kind,
    Slug,
    Title,
    ParentId,
    OwnerOrganisationId,
    WorkingGroupId,
    PublishedVersion,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentVersions {
    Table,
    Id,
    DocumentId,
    Number,
    Content,
    ContentSha256,
    AuthorId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    VersionId,
    AuthorId,
    Body,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Signatories {
    Table,
    Id,
    DocumentId,
    OrganisationId,
    PersonId,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum Commitments {
    Table,
    Id,
    DocumentId,
    OwnerOrganisationId,
    Description,
    DueDate,
    Indicator,
    Target,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowDefinitions {
    Table,
    Id,
    Name,
    Version,
    Source,
    Sha256,
    RegisteredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowInstances {
    Table,
    Id,
    DocumentId,
    DefinitionName,
    DefinitionVersion,
    State,
    Version,
    EventCount,
    HeadHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    Id,
    InstanceId,
    Seq,
    PrevHash,
    Hash,
    Kind,
    ActorId,
    Payload,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Outbox {
    Table,
    Id,
    MessageId,
    InstanceId,
    EventSeq,
    PersonId,
    Recipient,
    Language,
    Template,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Effects {
    Table,
    Id,
    InstanceId,
    EventSeq,
    Kind,
    Params,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReviewSchedules {
    Table,
    Id,
    InstanceId,
    Cron,
    TimeZone,
    Active,
    CreatedAt,
    StoppedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SigningRounds {
    Table,
    Id,
    InstanceId,
    DocumentId,
    VersionNumber,
    Intent,
    SigningOrder,
    Status,
    OpenedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SignatureRequests {
    Table,
    Id,
    RoundId,
    OrganisationId,
    PersonId,
    Position,
    Status,
    CreatedAt,
    DecidedAt,
    Statement,
    Signature,
    KeyId,
    Reason,
}

#[derive(DeriveIden, Clone, Copy)]
enum SigningKeys {
    Table,
    Id,
    PersonId,
    PublicKey,
    Fingerprint,
    Status,
    RegisteredAt,
    ApprovedBy,
    ApprovedAt,
    RotatedAt,
    ReplacedBy,
    RevokedAt,
    RevokeReason,
}

#[derive(DeriveIden, Clone, Copy)]
enum KeyEvents {
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

/// A foreign key from `table.column` to `target.id`, named after the table and column so
/// that error messages point at the relation that was violated.
fn reference(
    table: impl IntoIden + Clone + 'static,
    column: impl IntoIden + Clone + 'static,
    target: impl IntoIden + 'static,
    target_id: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    let name = format!(
        "fk_{}_{}",
        table.clone().into_iden(),
        column.clone().into_iden()
    );
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(target, target_id)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

async fn unique_index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for column in columns {
        index.col(column);
    }
    manager.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(big_pk_auto(Organisations::Id))
                    .col(string_uniq(Organisations::Slug))
                    .col(string(Organisations::Name))
                    .col(string(Organisations::Category))
                    .col(string_null(Organisations::IstatCode).unique_key())
                    .col(timestamp_with_time_zone(Organisations::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(People::Table)
                    .col(big_pk_auto(People::Id))
                    .col(string_uniq(People::Email))
                    .col(string(People::Name))
                    .col(string(People::Language))
                    .col(timestamp_with_time_zone(People::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(big_pk_auto(Memberships::Id))
                    .col(big_integer(Memberships::PersonId))
                    .col(big_integer(Memberships::OrganisationId))
                    .col(string(Memberships::Role))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .foreign_key(&mut reference(
                        Memberships::Table,
                        Memberships::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .foreign_key(&mut reference(
                        Memberships::Table,
                        Memberships::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_memberships_person_organisation_role",
            Memberships::Table,
            vec![
                Memberships::PersonId.into_iden(),
                Memberships::OrganisationId.into_iden(),
                Memberships::Role.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Networks::Table)
                    .col(big_pk_auto(Networks::Id))
                    .col(string_uniq(Networks::Slug))
                    .col(string(Networks::Name))
                    .col(timestamp_with_time_zone(Networks::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NetworkMembers::Table)
                    .col(big_pk_auto(NetworkMembers::Id))
                    .col(big_integer(NetworkMembers::NetworkId))
                    .col(big_integer(NetworkMembers::OrganisationId))
                    .col(timestamp_with_time_zone(NetworkMembers::JoinedAt))
                    .foreign_key(&mut reference(
                        NetworkMembers::Table,
                        NetworkMembers::NetworkId,
                        Networks::Table,
                        Networks::Id,
                    ))
                    .foreign_key(&mut reference(
                        NetworkMembers::Table,
                        NetworkMembers::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_network_members_network_organisation",
            NetworkMembers::Table,
            vec![
                NetworkMembers::NetworkId.into_iden(),
                NetworkMembers::OrganisationId.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkingGroups::Table)
                    .col(big_pk_auto(WorkingGroups::Id))
                    .col(string_uniq(WorkingGroups::Slug))
                    .col(string(WorkingGroups::Name))
                    .col(timestamp_with_time_zone(WorkingGroups::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkingGroupMembers::Table)
                    .col(big_pk_auto(WorkingGroupMembers::Id))
                    .col(big_integer(WorkingGroupMembers::WorkingGroupId))
                    .col(big_integer(WorkingGroupMembers::PersonId))
                    .col(timestamp_with_time_zone(WorkingGroupMembers::JoinedAt))
                    .foreign_key(&mut reference(
                        WorkingGroupMembers::Table,
                        WorkingGroupMembers::WorkingGroupId,
                        WorkingGroups::Table,
                        WorkingGroups::Id,
                    ))
                    .foreign_key(&mut reference(
                        WorkingGroupMembers::Table,
                        WorkingGroupMembers::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_working_group_members_group_person",
            WorkingGroupMembers::Table,
            vec![
                WorkingGroupMembers::WorkingGroupId.into_iden(),
                WorkingGroupMembers::PersonId.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(big_pk_auto(Documents::Id))
                    .col(string(Documents::Kind))
                    .col(string_uniq(Documents::Slug))
                    .col(string(Documents::Title))
                    .col(big_integer_null(Documents::ParentId))
                    .col(big_integer(Documents::OwnerOrganisationId))
                    .col(big_integer_null(Documents::WorkingGroupId))
                    .col(integer_null(Documents::PublishedVersion))
                    .col(timestamp_with_time_zone(Documents::CreatedAt))
                    .foreign_key(&mut reference(
                        Documents::Table,
                        Documents::ParentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .foreign_key(&mut reference(
                        Documents::Table,
                        Documents::OwnerOrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .foreign_key(&mut reference(
                        Documents::Table,
                        Documents::WorkingGroupId,
                        WorkingGroups::Table,
                        WorkingGroups::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DocumentVersions::Table)
                    .col(big_pk_auto(DocumentVersions::Id))
                    .col(big_integer(DocumentVersions::DocumentId))
                    .col(integer(DocumentVersions::Number))
                    .col(blob(DocumentVersions::Content))
                    .col(string(DocumentVersions::ContentSha256))
                    .col(big_integer(DocumentVersions::AuthorId))
                    .col(timestamp_with_time_zone(DocumentVersions::CreatedAt))
                    .foreign_key(&mut reference(
                        DocumentVersions::Table,
                        DocumentVersions::DocumentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .foreign_key(&mut reference(
                        DocumentVersions::Table,
                        DocumentVersions::AuthorId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_document_versions_document_number",
            DocumentVersions::Table,
            vec![
                DocumentVersions::DocumentId.into_iden(),
                DocumentVersions::Number.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(big_pk_auto(Comments::Id))
                    .col(big_integer(Comments::VersionId))
                    .col(big_integer(Comments::AuthorId))
                    .col(text(Comments::Body))
                    .col(big_integer_null(Comments::ResolvedBy))
                    .col(timestamp_with_time_zone_null(Comments::ResolvedAt))
                    .col(timestamp_with_time_zone(Comments::CreatedAt))
                    .foreign_key(&mut reference(
                        Comments::Table,
                        Comments::VersionId,
                        DocumentVersions::Table,
                        DocumentVersions::Id,
                    ))
                    .foreign_key(&mut reference(
                        Comments::Table,
                        Comments::AuthorId,
                        People::Table,
                        People::Id,
                    ))
                    .foreign_key(&mut reference(
                        Comments::Table,
                        Comments::ResolvedBy,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Signatories::Table)
                    .col(big_pk_auto(Signatories::Id))
                    .col(big_integer(Signatories::DocumentId))
                    .col(big_integer(Signatories::OrganisationId))
                    .col(big_integer(Signatories::PersonId))
                    .col(integer(Signatories::Position))
                    .foreign_key(&mut reference(
                        Signatories::Table,
                        Signatories::DocumentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .foreign_key(&mut reference(
                        Signatories::Table,
                        Signatories::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .foreign_key(&mut reference(
                        Signatories::Table,
                        Signatories::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_signatories_document_organisation",
            Signatories::Table,
            vec![
                Signatories::DocumentId.into_iden(),
                Signatories::OrganisationId.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Commitments::Table)
                    .col(big_pk_auto(Commitments::Id))
                    .col(big_integer(Commitments::DocumentId))
                    .col(big_integer_null(Commitments::OwnerOrganisationId))
                    .col(text(Commitments::Description))
                    .col(date_null(Commitments::DueDate))
                    .col(string_null(Commitments::Indicator))
                    .col(string_null(Commitments::Target))
                    .col(string(Commitments::Status))
                    .col(timestamp_with_time_zone(Commitments::CreatedAt))
                    .col(timestamp_with_time_zone(Commitments::UpdatedAt))
                    .foreign_key(&mut reference(
                        Commitments::Table,
                        Commitments::DocumentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .foreign_key(&mut reference(
                        Commitments::Table,
                        Commitments::OwnerOrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowDefinitions::Table)
                    .col(big_pk_auto(WorkflowDefinitions::Id))
                    .col(string(WorkflowDefinitions::Name))
                    .col(integer(WorkflowDefinitions::Version))
                    .col(text(WorkflowDefinitions::Source))
                    .col(string(WorkflowDefinitions::Sha256))
                    .col(timestamp_with_time_zone(WorkflowDefinitions::RegisteredAt))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_workflow_definitions_name_version",
            WorkflowDefinitions::Table,
            vec![
                WorkflowDefinitions::Name.into_iden(),
                WorkflowDefinitions::Version.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WorkflowInstances::Table)
                    .col(big_pk_auto(WorkflowInstances::Id))
                    .col(big_integer_uniq(WorkflowInstances::DocumentId))
                    .col(string(WorkflowInstances::DefinitionName))
                    .col(integer(WorkflowInstances::DefinitionVersion))
                    .col(string(WorkflowInstances::State))
                    .col(big_integer(WorkflowInstances::Version))
                    .col(big_integer(WorkflowInstances::EventCount))
                    .col(string(WorkflowInstances::HeadHash))
                    .col(timestamp_with_time_zone(WorkflowInstances::CreatedAt))
                    .col(timestamp_with_time_zone(WorkflowInstances::UpdatedAt))
                    .foreign_key(&mut reference(
                        WorkflowInstances::Table,
                        WorkflowInstances::DocumentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Events::Table)
                    .col(big_pk_auto(Events::Id))
                    .col(big_integer(Events::InstanceId))
                    .col(big_integer(Events::Seq))
                    .col(string(Events::PrevHash))
                    .col(string(Events::Hash))
                    .col(string(Events::Kind))
                    .col(big_integer_null(Events::ActorId))
                    .col(text(Events::Payload))
                    .col(timestamp_with_time_zone(Events::RecordedAt))
                    .foreign_key(&mut reference(
                        Events::Table,
                        Events::InstanceId,
                        WorkflowInstances::Table,
                        WorkflowInstances::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_events_instance_seq",
            Events::Table,
            vec![Events::InstanceId.into_iden(), Events::Seq.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(big_pk_auto(Outbox::Id))
                    .col(string_uniq(Outbox::MessageId))
                    .col(big_integer_null(Outbox::InstanceId))
                    .col(big_integer_null(Outbox::EventSeq))
                    .col(big_integer(Outbox::PersonId))
                    .col(string(Outbox::Recipient))
                    .col(string(Outbox::Language))
                    .col(string(Outbox::Template))
                    .col(text(Outbox::Payload))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::SentAt))
                    .foreign_key(&mut reference(
                        Outbox::Table,
                        Outbox::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_status_next_attempt")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Effects::Table)
                    .col(big_pk_auto(Effects::Id))
                    .col(big_integer(Effects::InstanceId))
                    .col(big_integer(Effects::EventSeq))
                    .col(string(Effects::Kind))
                    .col(text(Effects::Params))
                    .col(timestamp_with_time_zone(Effects::CreatedAt))
                    .foreign_key(&mut reference(
                        Effects::Table,
                        Effects::InstanceId,
                        WorkflowInstances::Table,
                        WorkflowInstances::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReviewSchedules::Table)
                    .col(big_pk_auto(ReviewSchedules::Id))
                    .col(big_integer(ReviewSchedules::InstanceId))
                    .col(string(ReviewSchedules::Cron))
                    .col(string(ReviewSchedules::TimeZone))
                    .col(boolean(ReviewSchedules::Active))
                    .col(timestamp_with_time_zone(ReviewSchedules::CreatedAt))
                    .col(timestamp_with_time_zone_null(ReviewSchedules::StoppedAt))
                    .foreign_key(&mut reference(
                        ReviewSchedules::Table,
                        ReviewSchedules::InstanceId,
                        WorkflowInstances::Table,
                        WorkflowInstances::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningRounds::Table)
                    .col(big_pk_auto(SigningRounds::Id))
                    .col(big_integer(SigningRounds::InstanceId))
                    .col(big_integer(SigningRounds::DocumentId))
                    .col(integer(SigningRounds::VersionNumber))
                    .col(string(SigningRounds::Intent))
                    .col(string(SigningRounds::SigningOrder))
                    .col(string(SigningRounds::Status))
                    .col(timestamp_with_time_zone(SigningRounds::OpenedAt))
                    .col(timestamp_with_time_zone_null(SigningRounds::ClosedAt))
                    .foreign_key(&mut reference(
                        SigningRounds::Table,
                        SigningRounds::InstanceId,
                        WorkflowInstances::Table,
                        WorkflowInstances::Id,
                    ))
                    .foreign_key(&mut reference(
                        SigningRounds::Table,
                        SigningRounds::DocumentId,
                        Documents::Table,
                        Documents::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignatureRequests::Table)
                    .col(big_pk_auto(SignatureRequests::Id))
                    .col(big_integer(SignatureRequests::RoundId))
                    .col(big_integer(SignatureRequests::OrganisationId))
                    .col(big_integer(SignatureRequests::PersonId))
                    .col(integer(SignatureRequests::Position))
                    .col(string(SignatureRequests::Status))
                    .col(timestamp_with_time_zone(SignatureRequests::CreatedAt))
                    .col(timestamp_with_time_zone_null(SignatureRequests::DecidedAt))
                    .col(text_null(SignatureRequests::Statement))
                    .col(string_null(SignatureRequests::Signature))
                    .col(big_integer_null(SignatureRequests::KeyId))
                    .col(text_null(SignatureRequests::Reason))
                    .foreign_key(&mut reference(
                        SignatureRequests::Table,
                        SignatureRequests::RoundId,
                        SigningRounds::Table,
                        SigningRounds::Id,
                    ))
                    .foreign_key(&mut reference(
                        SignatureRequests::Table,
                        SignatureRequests::OrganisationId,
                        Organisations::Table,
                        Organisations::Id,
                    ))
                    .foreign_key(&mut reference(
                        SignatureRequests::Table,
                        SignatureRequests::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(big_pk_auto(SigningKeys::Id))
                    .col(big_integer(SigningKeys::PersonId))
                    .col(string_uniq(SigningKeys::PublicKey))
                    .col(string(SigningKeys::Fingerprint))
                    .col(string(SigningKeys::Status))
                    .col(timestamp_with_time_zone(SigningKeys::RegisteredAt))
                    .col(big_integer_null(SigningKeys::ApprovedBy))
                    .col(timestamp_with_time_zone_null(SigningKeys::ApprovedAt))
                    .col(timestamp_with_time_zone_null(SigningKeys::RotatedAt))
                    .col(big_integer_null(SigningKeys::ReplacedBy))
                    .col(timestamp_with_time_zone_null(SigningKeys::RevokedAt))
                    .col(text_null(SigningKeys::RevokeReason))
                    .foreign_key(&mut reference(
                        SigningKeys::Table,
                        SigningKeys::PersonId,
                        People::Table,
                        People::Id,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyEvents::Table)
                    .col(big_pk_auto(KeyEvents::Id))
                    .col(big_integer_uniq(KeyEvents::Seq))
                    .col(string(KeyEvents::PrevHash))
                    .col(string(KeyEvents::Hash))
                    .col(string(KeyEvents::Kind))
                    .col(big_integer_null(KeyEvents::ActorId))
                    .col(text(KeyEvents::Payload))
                    .col(timestamp_with_time_zone(KeyEvents::RecordedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChainHeads::Table)
                    .col(string(ChainHeads::Name).primary_key())
                    .col(big_integer(ChainHeads::EventCount))
                    .col(string(ChainHeads::HeadHash))
                    .to_owned(),
            )
            .await?;
        // The key registry's chain starts empty: zero events, and the genesis hash (64
        // zeros) that the first event links to. Creating the row here means appending
        // never has to race to create it.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(ChainHeads::Table)
                    .columns([
                        ChainHeads::Name,
                        ChainHeads::EventCount,
                        ChainHeads::HeadHash,
                    ])
                    .values_panic(["keys".into(), 0i64.into(), "0".repeat(64).into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
