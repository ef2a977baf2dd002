//! The stored records of Patto as plain data: typed ids, enum statuses, no database
//! types. The store converts its rows into these and the engine returns them, so the
//! store and the engine share one definition and no caller ever sees a table row.

use chrono::{DateTime, NaiveDate, Utc};

use crate::ids::*;
use crate::status::*;

/// An organisation of the partner network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its id.
    pub id: OrganisationId,
    /// Its unique short name.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// Its category code name (see [`crate::OrganisationCategory`]).
    pub category: String,
    /// The ISTAT code of a Comune.
    pub istat_code: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Their id.
    pub id: PersonId,
    /// Their unique e-mail address.
    pub email: String,
    /// Their name.
    pub name: String,
    /// The code name of the language they read (see [`crate::Language`]).
    pub language: String,
    /// When they were registered.
    pub created_at: DateTime<Utc>,
}

/// A person's role in an organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// Its id.
    pub id: MembershipId,
    /// The person.
    pub person_id: PersonId,
    /// The organisation.
    pub organisation_id: OrganisationId,
    /// The role's code name.
    pub role: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A partner network of organisations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    /// Its id.
    pub id: NetworkId,
    /// Its unique short name.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A working group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingGroup {
    /// Its id.
    pub id: WorkingGroupId,
    /// Its unique short name.
    pub slug: String,
    /// Its display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A document that runs a workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Its id.
    pub id: DocumentId,
    /// The code name of its kind (see [`crate::DocumentKind`]).
    pub kind: String,
    /// Its unique short name.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// The document it belongs under (a protocol's pact).
    pub parent_id: Option<DocumentId>,
    /// The organisation that owns it.
    pub owner_organisation_id: OrganisationId,
    /// The working group that drafts it.
    pub working_group_id: Option<WorkingGroupId>,
    /// The number of its published version, once published.
    pub published_version: Option<i32>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A version of a document's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentVersion {
    /// Its id.
    pub id: VersionId,
    /// The document.
    pub document_id: DocumentId,
    /// Its number, from 1.
    pub number: i32,
    /// The content's bytes.
    pub content: Vec<u8>,
    /// The SHA-256 of the content, in hex.
    pub content_sha256: String,
    /// Who uploaded it.
    pub author_id: PersonId,
    /// When it was uploaded.
    pub created_at: DateTime<Utc>,
}

/// A comment on a document version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Its id.
    pub id: CommentId,
    /// The version commented on.
    pub version_id: VersionId,
    /// Its author.
    pub author_id: PersonId,
    /// Its text.
    pub body: String,
    /// Who resolved it.
    pub resolved_by: Option<PersonId>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A place on a document's signatory list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signatory {
    /// Its id.
    pub id: SignatoryId,
    /// The document.
    pub document_id: DocumentId,
    /// The organisation signed for.
    pub organisation_id: OrganisationId,
    /// The person who signs.
    pub person_id: PersonId,
    /// Its place in the signing order, from 1.
    pub position: i32,
}

/// One entry of a signatory list to set: who signs for which organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatoryEntry {
    /// The organisation signed for.
    pub organisation: OrganisationId,
    /// The person who signs.
    pub person: PersonId,
}

/// A commitment a document makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// Its id.
    pub id: CommitmentId,
    /// The document.
    pub document_id: DocumentId,
    /// The organisation responsible for it.
    pub owner_organisation_id: Option<OrganisationId>,
    /// What is promised.
    pub description: String,
    /// When it is due.
    pub due_date: Option<NaiveDate>,
    /// How it is measured.
    pub indicator: Option<String>,
    /// The value to reach.
    pub target: Option<String>,
    /// Where it stands.
    pub status: CommitmentStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A workflow definition registered in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowDefinition {
    /// Its id.
    pub id: WorkflowDefinitionId,
    /// The definition's name.
    pub name: String,
    /// The definition's version.
    pub version: i32,
    /// The TOML source.
    pub source: String,
    /// The SHA-256 of the source, in hex.
    pub sha256: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
}

/// The workflow instance of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkflowInstance {
    /// Its id.
    pub id: InstanceId,
    /// The document.
    pub document_id: DocumentId,
    /// The definition's name.
    pub definition_name: String,
    /// The definition's version.
    pub definition_version: i32,
    /// The current state.
    pub state: String,
    /// The optimistic-concurrency version, raised by every change.
    pub version: i64,
    /// How many events its chain holds.
    pub event_count: i64,
    /// The hash of its last event (or the genesis hash).
    pub head_hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// An event of an instance's audit chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Its id.
    pub id: EventId,
    /// The instance.
    pub instance_id: InstanceId,
    /// Its sequence number, from 1.
    pub seq: i64,
    /// The hash of the event before it.
    pub prev_hash: String,
    /// Its own hash.
    pub hash: String,
    /// What happened.
    pub kind: String,
    /// Who acted; `None` for the system.
    pub actor_id: Option<PersonId>,
    /// The canonical JSON payload.
    pub payload: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// The host part of every outbox message's `Message-ID` (`<UUID@patto>`). Message ids
/// are made in Rust by the engine and, for transitions written in one statement, in SQL
/// by the store: both build them around this one name.
pub const MESSAGE_ID_HOST: &str = "patto";

/// A message waiting in (or sent from) the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Its id.
    pub id: OutboxMessageId,
    /// Its stable Message-ID.
    pub message_id: String,
    /// The instance whose change caused it.
    pub instance_id: Option<InstanceId>,
    /// The event that caused it.
    pub event_seq: Option<i64>,
    /// The recipient.
    pub person_id: PersonId,
    /// The recipient's address.
    pub recipient: String,
    /// The language to write in.
    pub language: String,
    /// The template's name.
    pub template: String,
    /// The template's parameters, as JSON.
    pub payload: String,
    /// Where it stands.
    pub status: OutboxStatus,
    /// How many times sending was tried.
    pub attempts: i32,
    /// When to try next.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// After this it is dropped instead of sent (a login code's mail).
    pub expires_at: Option<DateTime<Utc>>,
}

/// An outbox message claimed for sending, with what the mail worker needs to render it.
/// Unlike [`OutboxMessage`] it carries the row's secret (a login code), so that the
/// secret reaches the mail and nothing else: no listing returns this type.
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// Its id.
    pub id: OutboxMessageId,
    /// Its stable Message-ID.
    pub message_id: String,
    /// The recipient's address.
    pub recipient: String,
    /// The language to write in.
    pub language: String,
    /// The template's name.
    pub template: String,
    /// The template's parameters, as JSON.
    pub payload: String,
    /// The secret to render into the mail, if the template has one.
    pub secret: Option<String>,
    /// How many times sending was tried before this claim.
    pub attempts: i32,
}

impl std::fmt::Debug for OutgoingMail {
    /// Everything but the secret, so that a log line never shows a login code.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMail")
            .field("id", &self.id)
            .field("message_id", &self.message_id)
            .field("recipient", &self.recipient)
            .field("template", &self.template)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

/// A bearer token, as stored: only the SHA-256 of the token itself is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthToken {
    /// Its id.
    pub id: AuthTokenId,
    /// Whose it is.
    pub person_id: PersonId,
    /// What it was issued for.
    pub kind: TokenKind,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time login code, as stored: a salted hash, never the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginCode {
    /// Its id.
    pub id: LoginCodeId,
    /// Whose it is.
    pub person_id: PersonId,
    /// The random salt hashed with the code.
    pub salt: String,
    /// SHA-256 of the salt and the code, hex.
    pub code_sha256: String,
    /// How many wrong codes were tried against it.
    pub failed_attempts: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was used, locked or replaced by a newer code.
    pub closed_at: Option<DateTime<Utc>>,
}

/// An effect a transition produced, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEffect {
    /// Its id.
    pub id: EffectId,
    /// The instance.
    pub instance_id: InstanceId,
    /// The event that produced it.
    pub event_seq: i64,
    /// The effect's kind.
    pub kind: String,
    /// Its parameters, as JSON.
    pub params: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A calendar of review checkpoints of an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewSchedule {
    /// Its id.
    pub id: ReviewScheduleId,
    /// The instance.
    pub instance_id: InstanceId,
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone the expression is read in.
    pub time_zone: String,
    /// Whether it still fires.
    pub active: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was stopped.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The transition it fires at each checkpoint (one whose roles include
    /// `scheduler`); `None` when the instance's definition has none, and a checkpoint
    /// then records a review without changing the state.
    pub transition: Option<String>,
    /// The next scheduled instant; `None` until the scheduler first computes it.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// Until when a scheduler worker holds it; another worker may take it after.
    pub lease_until: Option<DateTime<Utc>>,
}

/// A review checkpoint: what a schedule opened at one scheduled instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    /// Its id.
    pub id: ReviewId,
    /// The schedule that opened it.
    pub schedule_id: ReviewScheduleId,
    /// The instance reviewed.
    pub instance_id: InstanceId,
    /// The scheduled instant it stands for (unique per schedule).
    pub scheduled_for: DateTime<Utc>,
    /// When the scheduler actually fired it.
    pub fired_at: DateTime<Utc>,
    /// How many earlier scheduled instants were missed (downtime) and folded into it.
    pub skipped: i32,
    /// The transition fired when it opened; `None` when the state did not change.
    pub transition: Option<String>,
    /// Open or closed.
    pub status: ReviewStatus,
    /// The minutes written when it closed.
    pub minutes: Option<String>,
    /// The transition fired when it closed, if any.
    pub outcome: Option<String>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it.
    pub closed_by: Option<PersonId>,
}

/// A status report asked of a commitment's owner at a review, and what they answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    /// Its id.
    pub id: StatusReportId,
    /// The review.
    pub review_id: ReviewId,
    /// The commitment reported on.
    pub commitment_id: CommitmentId,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// The reported status; `None` until submitted.
    pub status: Option<ReportStatus>,
    /// A note.
    pub note: Option<String>,
    /// A link to the evidence.
    pub evidence_url: Option<String>,
    /// The indicator's current value.
    pub indicator_value: Option<String>,
    /// When it was submitted.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Who submitted it.
    pub submitted_by: Option<PersonId>,
}

/// A signing round on a frozen document version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningRound {
    /// Its id.
    pub id: SigningRoundId,
    /// The instance.
    pub instance_id: InstanceId,
    /// The document.
    pub document_id: DocumentId,
    /// The number of the version signed.
    pub version_number: i32,
    /// What signing means (e.g. adhesion).
    pub intent: String,
    /// The order signatories sign in.
    pub signing_order: String,
    /// Where it stands.
    pub status: SigningRoundStatus,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
}

/// One signatory's request in a signing round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureRequest {
    /// Its id.
    pub id: SignatureRequestId,
    /// The round.
    pub round_id: SigningRoundId,
    /// The organisation signed for.
    pub organisation_id: OrganisationId,
    /// The person asked to sign.
    pub person_id: PersonId,
    /// Its place in the signing order, from 1.
    pub position: i32,
    /// Where it stands.
    pub status: SignatureRequestStatus,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was signed or declined.
    pub decided_at: Option<DateTime<Utc>>,
    /// The canonical statement that was signed.
    pub statement: Option<String>,
    /// The signature, base64url.
    pub signature: Option<String>,
    /// The key it was made with.
    pub key_id: Option<SigningKeyId>,
    /// Why it was declined.
    pub reason: Option<String>,
}

/// A person's Ed25519 signing key in the registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningKey {
    /// Its id.
    pub id: SigningKeyId,
    /// Its holder.
    pub person_id: PersonId,
    /// The organisation it signs for; `None` only for a key registered before keys were
    /// bound to organisations, whose holder belonged to several (it cannot sign).
    pub organisation_id: Option<OrganisationId>,
    /// The public key, base64url.
    pub public_key: String,
    /// The key's fingerprint.
    pub fingerprint: String,
    /// Where it stands.
    pub status: SigningKeyStatus,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// Who approved it; `None` for the system.
    pub approved_by: Option<PersonId>,
    /// When it was approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// When it was replaced.
    pub rotated_at: Option<DateTime<Utc>>,
    /// The key that replaced it.
    pub replaced_by: Option<SigningKeyId>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it was revoked.
    pub revoke_reason: Option<String>,
    /// The signed registration statement (JSON) that proved its holder holds the secret
    /// key; `None` for keys registered before registrations were required.
    pub registration: Option<String>,
}

/// An event of the key registry chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// Its id.
    pub id: KeyEventId,
    /// Its sequence number, from 1.
    pub seq: i64,
    /// The hash of the event before it.
    pub prev_hash: String,
    /// Its own hash.
    pub hash: String,
    /// What happened.
    pub kind: String,
    /// Who acted; `None` for the system.
    pub actor_id: Option<PersonId>,
    /// The canonical JSON payload.
    pub payload: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

/// An event of the directory chain: a change to organisations, people, memberships,
/// networks, working groups or operators, with the full new or removed row. It has the
/// key registry's entry shape, so that one piece of code hashes and verifies both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEvent {
    /// Its id.
    pub id: DirectoryEventId,
    /// Its sequence number, from 1.
    pub seq: i64,
    /// The hash of the event before it.
    pub prev_hash: String,
    /// Its own hash.
    pub hash: String,
    /// What happened.
    pub kind: String,
    /// Who acted; `None` for the system.
    pub actor_id: Option<PersonId>,
    /// The canonical JSON payload: the table and the new row, or the removed row.
    pub payload: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}
