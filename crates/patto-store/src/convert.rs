//! Conversions from stored rows (the entities' `Model`s) into the records of
//! [`patto_core::records`]. A status the enums do not know means the stored data is not
//! what this version wrote: it becomes [`StoreError::Corrupt`], which the engine reports
//! as an internal error.

use std::str::FromStr;

use patto_core::ids::*;
use patto_core::records::*;

use crate::StoreError;
use crate::entities::*;

/// Parses a stored status, naming the table and row when it is unknown.
fn status<Status: FromStr<Err = patto_core::UnknownName>>(
    table: &str,
    id: i64,
    stored: &str,
) -> Result<Status, StoreError> {
    stored
        .parse()
        .map_err(|error| StoreError::Corrupt(format!("{table} row {id}: {error}")))
}

impl TryFrom<organisation::Model> for Organisation {
    type Error = StoreError;

    fn try_from(row: organisation::Model) -> Result<Self, StoreError> {
        Ok(Organisation {
            id: OrganisationId::new(row.id),
            slug: row.slug,
            name: row.name,
            category: row.category,
            istat_code: row.istat_code,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<person::Model> for Person {
    type Error = StoreError;

    fn try_from(row: person::Model) -> Result<Self, StoreError> {
        Ok(Person {
            id: PersonId::new(row.id),
            email: row.email,
            name: row.name,
            language: row.language,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<membership::Model> for Membership {
    type Error = StoreError;

    fn try_from(row: membership::Model) -> Result<Self, StoreError> {
        Ok(Membership {
            id: MembershipId::new(row.id),
            person_id: PersonId::new(row.person_id),
            organisation_id: OrganisationId::new(row.organisation_id),
            role: row.role,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<network::Model> for Network {
    type Error = StoreError;

    fn try_from(row: network::Model) -> Result<Self, StoreError> {
        Ok(Network {
            id: NetworkId::new(row.id),
            slug: row.slug,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<working_group::Model> for WorkingGroup {
    type Error = StoreError;

    fn try_from(row: working_group::Model) -> Result<Self, StoreError> {
        Ok(WorkingGroup {
            id: WorkingGroupId::new(row.id),
            slug: row.slug,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<document::Model> for Document {
    type Error = StoreError;

    fn try_from(row: document::Model) -> Result<Self, StoreError> {
        Ok(Document {
            id: DocumentId::new(row.id),
            kind: row.kind,
            slug: row.slug,
            title: row.title,
            parent_id: row.parent_id.map(DocumentId::new),
            owner_organisation_id: OrganisationId::new(row.owner_organisation_id),
            working_group_id: row.working_group_id.map(WorkingGroupId::new),
            published_version: row.published_version,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<document_version::Model> for DocumentVersion {
    type Error = StoreError;

    fn try_from(row: document_version::Model) -> Result<Self, StoreError> {
        Ok(DocumentVersion {
            id: VersionId::new(row.id),
            document_id: DocumentId::new(row.document_id),
            number: row.number,
            content: row.content,
            content_sha256: row.content_sha256,
            author_id: PersonId::new(row.author_id),
            created_at: row.created_at,
        })
    }
}

impl TryFrom<comment::Model> for Comment {
    type Error = StoreError;

    fn try_from(row: comment::Model) -> Result<Self, StoreError> {
        Ok(Comment {
            id: CommentId::new(row.id),
            version_id: VersionId::new(row.version_id),
            author_id: PersonId::new(row.author_id),
            body: row.body,
            resolved_by: row.resolved_by.map(PersonId::new),
            resolved_at: row.resolved_at,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<signatory::Model> for Signatory {
    type Error = StoreError;

    fn try_from(row: signatory::Model) -> Result<Self, StoreError> {
        Ok(Signatory {
            id: SignatoryId::new(row.id),
            document_id: DocumentId::new(row.document_id),
            organisation_id: OrganisationId::new(row.organisation_id),
            person_id: PersonId::new(row.person_id),
            position: row.position,
        })
    }
}

impl TryFrom<commitment::Model> for Commitment {
    type Error = StoreError;

    fn try_from(row: commitment::Model) -> Result<Self, StoreError> {
        Ok(Commitment {
            status: status("commitments", row.id, &row.status)?,
            id: CommitmentId::new(row.id),
            document_id: DocumentId::new(row.document_id),
            owner_organisation_id: row.owner_organisation_id.map(OrganisationId::new),
            description: row.description,
            due_date: row.due_date,
            indicator: row.indicator,
            target: row.target,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<workflow_definition::Model> for WorkflowDefinition {
    type Error = StoreError;

    fn try_from(row: workflow_definition::Model) -> Result<Self, StoreError> {
        Ok(WorkflowDefinition {
            id: WorkflowDefinitionId::new(row.id),
            name: row.name,
            version: row.version,
            source: row.source,
            sha256: row.sha256,
            registered_at: row.registered_at,
        })
    }
}

impl TryFrom<workflow_instance::Model> for WorkflowInstance {
    type Error = StoreError;

    fn try_from(row: workflow_instance::Model) -> Result<Self, StoreError> {
        Ok(WorkflowInstance {
            id: InstanceId::new(row.id),
            document_id: DocumentId::new(row.document_id),
            definition_name: row.definition_name,
            definition_version: row.definition_version,
            state: row.state,
            version: row.version,
            event_count: row.event_count,
            head_hash: row.head_hash,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<event::Model> for Event {
    type Error = StoreError;

    fn try_from(row: event::Model) -> Result<Self, StoreError> {
        Ok(Event {
            id: EventId::new(row.id),
            instance_id: InstanceId::new(row.instance_id),
            seq: row.seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
            kind: row.kind,
            actor_id: row.actor_id.map(PersonId::new),
            payload: row.payload,
            recorded_at: row.recorded_at,
        })
    }
}

impl TryFrom<outbox_message::Model> for OutboxMessage {
    type Error = StoreError;

    fn try_from(row: outbox_message::Model) -> Result<Self, StoreError> {
        Ok(OutboxMessage {
            status: status("outbox", row.id, &row.status)?,
            id: OutboxMessageId::new(row.id),
            message_id: row.message_id,
            instance_id: row.instance_id.map(InstanceId::new),
            event_seq: row.event_seq,
            person_id: PersonId::new(row.person_id),
            recipient: row.recipient,
            language: row.language,
            template: row.template,
            payload: row.payload,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at,
            last_error: row.last_error,
            created_at: row.created_at,
            sent_at: row.sent_at,
            expires_at: row.expires_at,
        })
    }
}

impl TryFrom<effect::Model> for RecordedEffect {
    type Error = StoreError;

    fn try_from(row: effect::Model) -> Result<Self, StoreError> {
        Ok(RecordedEffect {
            id: EffectId::new(row.id),
            instance_id: InstanceId::new(row.instance_id),
            event_seq: row.event_seq,
            kind: row.kind,
            params: row.params,
            created_at: row.created_at,
        })
    }
}

impl TryFrom<review_schedule::Model> for ReviewSchedule {
    type Error = StoreError;

    fn try_from(row: review_schedule::Model) -> Result<Self, StoreError> {
        Ok(ReviewSchedule {
            id: ReviewScheduleId::new(row.id),
            instance_id: InstanceId::new(row.instance_id),
            cron: row.cron,
            time_zone: row.time_zone,
            active: row.active,
            created_at: row.created_at,
            stopped_at: row.stopped_at,
        })
    }
}

impl TryFrom<signing_round::Model> for SigningRound {
    type Error = StoreError;

    fn try_from(row: signing_round::Model) -> Result<Self, StoreError> {
        Ok(SigningRound {
            status: status("signing_rounds", row.id, &row.status)?,
            id: SigningRoundId::new(row.id),
            instance_id: InstanceId::new(row.instance_id),
            document_id: DocumentId::new(row.document_id),
            version_number: row.version_number,
            intent: row.intent,
            signing_order: row.signing_order,
            opened_at: row.opened_at,
            closed_at: row.closed_at,
        })
    }
}

impl TryFrom<signature_request::Model> for SignatureRequest {
    type Error = StoreError;

    fn try_from(row: signature_request::Model) -> Result<Self, StoreError> {
        Ok(SignatureRequest {
            status: status("signature_requests", row.id, &row.status)?,
            id: SignatureRequestId::new(row.id),
            round_id: SigningRoundId::new(row.round_id),
            organisation_id: OrganisationId::new(row.organisation_id),
            person_id: PersonId::new(row.person_id),
            position: row.position,
            created_at: row.created_at,
            decided_at: row.decided_at,
            statement: row.statement,
            signature: row.signature,
            key_id: row.key_id.map(SigningKeyId::new),
            reason: row.reason,
        })
    }
}

impl TryFrom<signing_key::Model> for SigningKey {
    type Error = StoreError;

    fn try_from(row: signing_key::Model) -> Result<Self, StoreError> {
        Ok(SigningKey {
            status: status("signing_keys", row.id, &row.status)?,
            id: SigningKeyId::new(row.id),
            person_id: PersonId::new(row.person_id),
            organisation_id: row.organisation_id.map(OrganisationId::new),
            public_key: row.public_key,
            fingerprint: row.fingerprint,
            registered_at: row.registered_at,
            approved_by: row.approved_by.map(PersonId::new),
            approved_at: row.approved_at,
            rotated_at: row.rotated_at,
            replaced_by: row.replaced_by.map(SigningKeyId::new),
            revoked_at: row.revoked_at,
            revoke_reason: row.revoke_reason,
            registration: row.registration,
        })
    }
}

impl TryFrom<key_event::Model> for KeyEvent {
    type Error = StoreError;

    fn try_from(row: key_event::Model) -> Result<Self, StoreError> {
        Ok(KeyEvent {
            id: KeyEventId::new(row.id),
            seq: row.seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
            kind: row.kind,
            actor_id: row.actor_id.map(PersonId::new),
            payload: row.payload,
            recorded_at: row.recorded_at,
        })
    }
}

impl TryFrom<directory_event::Model> for DirectoryEvent {
    type Error = StoreError;

    fn try_from(row: directory_event::Model) -> Result<Self, StoreError> {
        Ok(DirectoryEvent {
            id: DirectoryEventId::new(row.id),
            seq: row.seq,
            prev_hash: row.prev_hash,
            hash: row.hash,
            kind: row.kind,
            actor_id: row.actor_id.map(PersonId::new),
            payload: row.payload,
            recorded_at: row.recorded_at,
        })
    }
}

impl TryFrom<outbox_message::Model> for OutgoingMail {
    type Error = StoreError;

    fn try_from(row: outbox_message::Model) -> Result<Self, StoreError> {
        Ok(OutgoingMail {
            id: OutboxMessageId::new(row.id),
            message_id: row.message_id,
            recipient: row.recipient,
            language: row.language,
            template: row.template,
            payload: row.payload,
            secret: row.secret,
            attempts: row.attempts,
        })
    }
}

impl TryFrom<auth_token::Model> for AuthToken {
    type Error = StoreError;

    fn try_from(row: auth_token::Model) -> Result<Self, StoreError> {
        Ok(AuthToken {
            kind: status("auth_tokens", row.id, &row.kind)?,
            id: AuthTokenId::new(row.id),
            person_id: PersonId::new(row.person_id),
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        })
    }
}

impl TryFrom<login_code::Model> for LoginCode {
    type Error = StoreError;

    fn try_from(row: login_code::Model) -> Result<Self, StoreError> {
        Ok(LoginCode {
            id: LoginCodeId::new(row.id),
            person_id: PersonId::new(row.person_id),
            salt: row.salt,
            code_sha256: row.code_sha256,
            failed_attempts: row.failed_attempts,
            created_at: row.created_at,
            expires_at: row.expires_at,
            closed_at: row.closed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use patto_core::status::SigningKeyStatus;

    use super::*;

    fn key_row(status: &str) -> signing_key::Model {
        signing_key::Model {
            id: 9,
            person_id: 3,
            organisation_id: Some(4),
            public_key: "key".to_owned(),
            fingerprint: "fp".to_owned(),
            status: status.to_owned(),
            registered_at: Utc::now(),
            approved_by: None,
            approved_at: None,
            rotated_at: None,
            replaced_by: None,
            revoked_at: None,
            revoke_reason: None,
            registration: None,
        }
    }

    #[test]
    fn a_known_status_converts_into_its_enum() {
        let key = SigningKey::try_from(key_row("rotated")).unwrap();
        assert_eq!(key.status, SigningKeyStatus::Rotated);
        assert_eq!(key.id, SigningKeyId::new(9));
        assert_eq!(key.person_id, PersonId::new(3));
    }

    #[test]
    fn an_unknown_stored_status_is_corrupt_data_not_a_panic() {
        let error = SigningKey::try_from(key_row("lost")).unwrap_err();
        match error {
            StoreError::Corrupt(message) => {
                assert!(message.contains("signing_keys row 9"), "{message}");
                assert!(message.contains("`lost`"), "{message}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
