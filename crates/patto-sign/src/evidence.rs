//! The evidence bundle: one JSON file with a document version, the statements signed for
//! it, the signatures, the signers' keys, the server's key registry chain and the
//! document's audit chain, sealed by the server key. Anyone holding the file can check it
//! offline: the seal shows which server key issued it unchanged, the chains show the
//! history is whole, and each signature is checked against the statement, the key and the
//! key's status at the moment it was made. Whether the sealing key is the coalition's
//! server is for the reader to decide against a fingerprint they already trust: a bundle
//! cannot vouch for itself.
//!
//! The file is the RFC 8785 canonical text of the bundle, and verification insists on
//! exactly that text, so that every single changed byte is detected: either the text
//! stops being canonical or the content it stands for no longer matches the seal.
//!
//! Version 2 (`patto/evidence/v2`) reveals only what concerns the document and its
//! signers: chain events about other keys, and declines and comments, appear as their
//! position, links and body hash alone (see [`crate::chain`]), endorsements carry only
//! the signed statement (whose names are those of the day it was signed), and statements
//! name signers by name rather than e-mail. Version 1 bundles, exported before it, still
//! verify under their own rules. `docs/evidence-format.md` specifies both.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    ChainError, LinkBody, LinkView, SignError, SigningKey, Statement, VerifyingKey, canonical_json,
    content_hash, decode_signature, encode_signature, fingerprint, public_key_from_base64url,
    public_key_to_base64url, sign, verify, verify_links,
};

/// The format tag of the bundles Patto writes.
pub const BUNDLE_FORMAT: &str = "patto/evidence/v2";

/// The format tag of the first version of bundles, which still verify.
pub const BUNDLE_FORMAT_V1: &str = "patto/evidence/v1";

/// The workflow-instance id under which the server's key registry chain is kept.
const KEY_CHAIN_INSTANCE: i64 = 0;

/// The length of "YYYY-MM-DDTHH:MM:SS.ffffffZ", the only time form events carry.
const TIMESTAMP_LENGTH: usize = 27;

/// An evidence bundle, field for field as it is written to the file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    pub exported_at: String,
    pub document: BundleDocument,
    pub version: BundleVersion,
    pub endorsements: Vec<Endorsement>,
    /// Every key used by an endorsement.
    pub keys: Vec<BundleKey>,
    /// The names of the people who registered or approved those keys, by person id.
    pub people: Vec<BundlePerson>,
    /// The server's key registry chain, whole: the events about the bundle's keys in
    /// full, the others withheld.
    pub key_chain: BundleChain,
    /// The document's workflow-instance chain, whole: declines and comments withheld.
    pub audit: BundleChain,
    pub server: BundleServer,
    /// Base64url Ed25519 signature by the server key over the canonical JSON of the
    /// bundle without this field.
    pub seal: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleDocument {
    pub id: i64,
    pub slug: String,
    /// The title when the bundle was exported.
    pub title: String,
    pub kind: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleVersion {
    pub number: i32,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    /// Standard base64 (with padding) of the exact bytes of the version.
    pub content_base64: String,
    pub created_at: String,
}

/// One accepted signature: everything shown about it comes from the signed statement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    pub request_id: i64,
    /// The exact canonical statement text that was signed.
    pub statement: String,
    /// Base64url signature over `statement`.
    pub signature: String,
    pub key_id: i64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleKey {
    pub id: i64,
    pub person_id: i64,
    /// Base64url of the raw 32-byte key.
    pub public_key: String,
    pub fingerprint: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundlePerson {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleChain {
    pub instance_id: i64,
    pub events: Vec<BundleEntry>,
    pub head_count: i64,
    pub head_hash: String,
}

/// The body of one event for [`BundleChain::build`]: kind, actor, payload and time.
pub type EventBody = (String, Option<i64>, Value, String);

impl BundleChain {
    /// A whole chain of these event bodies, numbered from 1 and linked with version 2
    /// hashes, with its head: what the engine records, for examples and benchmarks.
    pub fn build(instance_id: i64, bodies: Vec<EventBody>) -> Result<BundleChain, ChainError> {
        let mut prev = crate::GENESIS_HASH.to_owned();
        let mut events = Vec::with_capacity(bodies.len());
        for (seq, (kind, actor_id, payload, recorded_at)) in (1..).zip(bodies) {
            let body = crate::event_body_hash(&kind, actor_id, &payload, &recorded_at, seq)?;
            let hash = crate::event_hash_v2(instance_id, seq, &prev, &body)?;
            events.push(BundleEntry::Event(BundleEvent {
                seq,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
                kind,
                actor_id,
                payload,
                recorded_at,
            }));
        }
        Ok(BundleChain {
            instance_id,
            head_count: events.len() as i64,
            head_hash: prev,
            events,
        })
    }
}

/// One event of an exported chain: in full, or withheld as its body's hash.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum BundleEntry {
    Event(BundleEvent),
    Withheld(WithheldEvent),
}

impl BundleEntry {
    /// The event, when it is shown in full.
    pub fn event(&self) -> Option<&BundleEvent> {
        match self {
            BundleEntry::Event(event) => Some(event),
            BundleEntry::Withheld(_) => None,
        }
    }

    fn link(&self) -> LinkView<'_> {
        match self {
            BundleEntry::Event(event) => event.link(),
            BundleEntry::Withheld(withheld) => LinkView {
                seq: withheld.seq,
                prev_hash: &withheld.prev_hash,
                hash: &withheld.hash,
                body: LinkBody::Withheld {
                    body_sha256: &withheld.body_sha256,
                },
            },
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleEvent {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub kind: String,
    pub actor_id: Option<i64>,
    /// The event's payload; its canonical JSON text is what the event hash covers.
    pub payload: Value,
    pub recorded_at: String,
}

impl BundleEvent {
    fn link(&self) -> LinkView<'_> {
        LinkView {
            seq: self.seq,
            prev_hash: &self.prev_hash,
            hash: &self.hash,
            body: LinkBody::Full {
                kind: &self.kind,
                actor_id: self.actor_id,
                payload: &self.payload,
                recorded_at: &self.recorded_at,
            },
        }
    }
}

/// An event that does not concern the bundle's reader: its place in the chain and the
/// SHA-256 of its body, which its version 2 hash covers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WithheldEvent {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub body_sha256: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleServer {
    /// Base64url of the server's raw 32-byte public key.
    pub public_key: String,
    pub fingerprint: String,
}

/// A version 1 bundle, as exported before version 2: every chain event in full and the
/// names of each endorsement beside its statement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleV1 {
    pub format: String,
    pub exported_at: String,
    pub document: BundleDocument,
    pub version: BundleVersion,
    pub endorsements: Vec<EndorsementV1>,
    pub keys: Vec<BundleKey>,
    pub key_chain: BundleChainV1,
    pub audit: BundleChainV1,
    pub server: BundleServer,
    pub seal: String,
}

/// A version 1 endorsement.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EndorsementV1 {
    pub request_id: i64,
    pub organisation: String,
    pub person: String,
    pub email: String,
    pub intent: String,
    pub statement: String,
    pub signature: String,
    pub key_id: i64,
}

/// A version 1 chain: every event in full.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleChainV1 {
    pub instance_id: i64,
    pub events: Vec<BundleEvent>,
    pub head_count: i64,
    pub head_hash: String,
}

impl BundleChainV1 {
    fn into_chain(self) -> BundleChain {
        BundleChain {
            instance_id: self.instance_id,
            events: self.events.into_iter().map(BundleEntry::Event).collect(),
            head_count: self.head_count,
            head_hash: self.head_hash,
        }
    }
}

/// What a verified bundle shows, for a person to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleReport {
    /// The bundle's format tag.
    pub format: String,
    pub document_slug: String,
    pub document_title: String,
    pub document_kind: String,
    pub version_number: i32,
    pub version_sha256: String,
    pub exported_at: String,
    /// The fingerprint of the key that sealed the bundle: the bundle is the coalition's
    /// only if this is a fingerprint the reader trusts.
    pub server_fingerprint: String,
    pub audit_event_count: usize,
    /// How many chain events were withheld as hashes (audit and key registry).
    pub withheld_event_count: usize,
    pub endorsements: Vec<EndorsementReport>,
}

/// One verified signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndorsementReport {
    pub request_id: i64,
    /// The organisation signed for, named as in the statement.
    pub organisation: String,
    /// The signatory: their name (the e-mail address in version 1 statements, whose
    /// bundles name the person beside it).
    pub person: String,
    /// The e-mail address, in version 1 statements only.
    pub email: Option<String>,
    /// The document title the statement shows (version 2 statements).
    pub signed_title: Option<String>,
    pub intent: String,
    /// When the server accepted the signature (its audit event's time).
    pub signed_at: String,
    pub key_fingerprint: String,
    /// When the key was registered and by whom.
    pub key_registered: KeyStep,
    /// Every approval the key needed, in chain order, each with the reference of the act
    /// that designated the holder where the approver gave one: one approval by a
    /// coordinator or admin, or two by different operators where the holder was their
    /// organisation's only one. The key was approved at the last of them.
    pub key_approvals: Vec<KeyApproval>,
    /// When and why the key was revoked, if that happened after signing: the signature
    /// stands, made before the revocation.
    pub revoked_at: Option<(String, String)>,
    /// When the key was replaced, if that happened after signing.
    pub rotated_at: Option<String>,
}

/// A step in a key's life: when, and who took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyStep {
    pub at: String,
    pub by: Actor,
}

/// One approval of a key: when, by whom, and on which act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyApproval {
    pub step: KeyStep,
    /// The reference of the act that designated the holder (e.g. a PEC protocol number
    /// or a delibera), as the approver recorded it.
    pub act_reference: Option<String>,
}

/// Who recorded a key registry event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The engine itself (or, in old chains, the operator at the command line).
    System,
    /// A person, with their name when the bundle gives it.
    Person { id: i64, name: Option<String> },
}

/// Why a bundle does not verify: the first check that failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("not an evidence bundle: {0}")]
    Malformed(String),
    #[error(
        "the bundle has format {found:?}; this version of Patto reads {BUNDLE_FORMAT:?} and {BUNDLE_FORMAT_V1:?}"
    )]
    UnsupportedFormat { found: String },
    #[error(
        "the bundle is not byte for byte in the canonical form Patto writes: it was edited or reformatted"
    )]
    NotCanonical,
    #[error("the bundle's server key is unusable: {0}")]
    InvalidServerKey(SignError),
    #[error(
        "the bundle was sealed by server key {found}, not by a trusted key ({expected}): it was not issued by the server you trust"
    )]
    UnexpectedServerKey { expected: String, found: String },
    #[error(
        "the server's seal does not verify: the bundle was altered after it was exported, or not exported by this server key"
    )]
    BadSeal,
    #[error("the server fingerprint does not match the server public key")]
    FingerprintMismatch,
    #[error("the document content is not valid base64: {reason}")]
    ContentEncoding { reason: String },
    #[error("the document content has SHA-256 {found}, but the version records {expected}")]
    ContentHashMismatch { expected: String, found: String },
    #[error("the document's audit chain does not verify: {0}")]
    AuditChain(ChainError),
    #[error("the key registry chain does not verify: {0}")]
    KeyChain(ChainError),
    #[error("the {chain} chain belongs to instance {found}, not to {expected}")]
    ForeignChain {
        chain: &'static str,
        found: i64,
        expected: i64,
    },
    #[error("key registry event {seq} ({kind}) lacks the fields its kind requires")]
    KeyEventMalformed { seq: i64, kind: String },
    #[error(
        "the {chain} chain's event {seq} has time {found:?}, not of the form 2026-01-31T12:00:00.000000Z"
    )]
    BadTimestamp {
        chain: &'static str,
        seq: i64,
        found: String,
    },
    #[error("the statement of request {request_id} is unreadable: {reason}")]
    StatementInvalid { request_id: i64, reason: SignError },
    #[error(
        "the statement of request {request_id} does not match the bundle in its field \"{field}\""
    )]
    StatementMismatch {
        request_id: i64,
        field: &'static str,
    },
    #[error("request {request_id} was signed with key {key_id}, which the bundle does not include")]
    UnknownKey { request_id: i64, key_id: i64 },
    #[error("key {key_id} of the bundle is unusable: {reason}")]
    InvalidKey { key_id: i64, reason: SignError },
    #[error("the fingerprint of key {key_id} does not match its public key")]
    KeyFingerprintMismatch { key_id: i64 },
    #[error(
        "key {key_id} differs from the key registered under that number in the key registry chain"
    )]
    KeyRegistrationMismatch { key_id: i64 },
    #[error("request {request_id} was signed with key {key_id}, which belongs to someone else")]
    KeyNotSignatory { request_id: i64, key_id: i64 },
    #[error("the signature of request {request_id} does not verify over its statement")]
    BadSignature { request_id: i64 },
    #[error(
        "the audit chain has no accepted signature for request {request_id} with this statement, signature and key"
    )]
    SignatureNotInAuditTrail { request_id: i64 },
    #[error(
        "request {request_id} was signed with key {key_id}, which was not registered and approved when the signature was accepted"
    )]
    KeyNotApprovedAtSigning { request_id: i64, key_id: i64 },
    #[error(
        "request {request_id} was signed with key {key_id}, which had been revoked at {revoked_at}"
    )]
    KeyRevokedAtSigning {
        request_id: i64,
        key_id: i64,
        revoked_at: String,
    },
    #[error(
        "request {request_id} was signed with key {key_id}, which had been replaced at {rotated_at}"
    )]
    KeyRotatedAtSigning {
        request_id: i64,
        key_id: i64,
        rotated_at: String,
    },
}

impl BundleError {
    /// Whether the file could not be read as a bundle at all (it is not one, or of a
    /// format this version does not know), as opposed to a bundle that fails a check.
    pub fn is_unreadable(&self) -> bool {
        match self {
            BundleError::Malformed(_) | BundleError::UnsupportedFormat { .. } => true,
            BundleError::NotCanonical
            | BundleError::InvalidServerKey(_)
            | BundleError::UnexpectedServerKey { .. }
            | BundleError::BadSeal
            | BundleError::FingerprintMismatch
            | BundleError::ContentEncoding { .. }
            | BundleError::ContentHashMismatch { .. }
            | BundleError::AuditChain(_)
            | BundleError::KeyChain(_)
            | BundleError::ForeignChain { .. }
            | BundleError::KeyEventMalformed { .. }
            | BundleError::BadTimestamp { .. }
            | BundleError::StatementInvalid { .. }
            | BundleError::StatementMismatch { .. }
            | BundleError::UnknownKey { .. }
            | BundleError::InvalidKey { .. }
            | BundleError::KeyFingerprintMismatch { .. }
            | BundleError::KeyRegistrationMismatch { .. }
            | BundleError::KeyNotSignatory { .. }
            | BundleError::BadSignature { .. }
            | BundleError::SignatureNotInAuditTrail { .. }
            | BundleError::KeyNotApprovedAtSigning { .. }
            | BundleError::KeyRevokedAtSigning { .. }
            | BundleError::KeyRotatedAtSigning { .. } => false,
        }
    }
}

/// Seals a bundle with the server key and returns the text of the file: the canonical
/// JSON of the sealed bundle. The `server` field is set from the key, so that it always
/// names the key that made the seal; any `seal` already present is replaced.
///
/// It fails when the bundle holds a number that canonical JSON would change (an integer
/// beyond 2^53), since such a file could never verify as what was sealed.
pub fn seal(mut bundle: Bundle, server_key: &SigningKey) -> Result<String, SignError> {
    let unrepresentable = SignError::NotCanonicalisable {
        what: "evidence bundle",
    };
    let public = server_key.verifying_key();
    bundle.server = BundleServer {
        public_key: public_key_to_base64url(&public),
        fingerprint: fingerprint(&public),
    };
    let unsealed = unsealed_text(&bundle).map_err(|_| unrepresentable.clone())?;
    bundle.seal = encode_signature(&sign(server_key, unsealed.as_bytes()));
    let text = serde_jcs::to_string(&bundle).map_err(|_| unrepresentable.clone())?;
    match serde_json::from_str::<Bundle>(&text) {
        Ok(back) if back == bundle => Ok(text),
        _ => Err(unrepresentable),
    }
}

/// Verifies a bundle file completely, taking the server key from the bundle itself.
///
/// That checks that the bundle is whole and consistent, but not who made it: anyone can
/// write a consistent bundle and seal it with a key of their own. The report's
/// `server_fingerprint` must still be compared with a fingerprint the reader already
/// trusts, which [`verify_bundle_pinned`] and [`verify_bundle_trusting`] do.
pub fn verify_bundle(bytes: &[u8]) -> Result<BundleReport, BundleError> {
    check(bytes, None)
}

/// Verifies a bundle file completely and requires it to be sealed by this server key,
/// which is how a reader who knows the server's key rules out a bundle made up and sealed
/// with some other key.
pub fn verify_bundle_pinned(
    bytes: &[u8],
    server_key: &VerifyingKey,
) -> Result<BundleReport, BundleError> {
    verify_bundle_trusting(bytes, &[fingerprint(server_key)])
}

/// Verifies a bundle file completely and requires it to be sealed by a server key with one
/// of these fingerprints ("SHA256:..."), as published by the coalition.
pub fn verify_bundle_trusting(
    bytes: &[u8],
    trusted_fingerprints: &[String],
) -> Result<BundleReport, BundleError> {
    check(bytes, Some(trusted_fingerprints))
}

/// A bundle of either version, read and checked to be canonical, with the text its seal
/// covers; version 1 bundles are brought to the version 2 shape, keeping the names they
/// show beside each statement.
struct Read {
    bundle: Bundle,
    unsealed: String,
    legacy: Option<Vec<EndorsementV1>>,
}

fn check(bytes: &[u8], trusted: Option<&[String]>) -> Result<BundleReport, BundleError> {
    let Read {
        bundle,
        unsealed,
        legacy,
    } = read(bytes)?;

    let server_key = public_key_from_base64url(&bundle.server.public_key)
        .map_err(BundleError::InvalidServerKey)?;
    let found = fingerprint(&server_key);
    if let Some(trusted) = trusted
        && !trusted.contains(&found)
    {
        return Err(BundleError::UnexpectedServerKey {
            expected: trusted.join(", "),
            found,
        });
    }
    let seal = decode_signature(&bundle.seal).map_err(|_| BundleError::BadSeal)?;
    verify(&server_key, unsealed.as_bytes(), &seal).map_err(|_| BundleError::BadSeal)?;
    if bundle.server.fingerprint != found {
        return Err(BundleError::FingerprintMismatch);
    }

    let content = STANDARD
        .decode(&bundle.version.content_base64)
        .map_err(|error| BundleError::ContentEncoding {
            reason: error.to_string(),
        })?;
    let found = content_hash(&content);
    if found != bundle.version.sha256 {
        return Err(BundleError::ContentHashMismatch {
            expected: bundle.version.sha256.clone(),
            found,
        });
    }

    verify_bundle_chain(&bundle.audit).map_err(BundleError::AuditChain)?;
    if bundle.key_chain.instance_id != KEY_CHAIN_INSTANCE {
        return Err(BundleError::ForeignChain {
            chain: "key registry",
            found: bundle.key_chain.instance_id,
            expected: KEY_CHAIN_INSTANCE,
        });
    }
    verify_bundle_chain(&bundle.key_chain).map_err(BundleError::KeyChain)?;
    let histories = key_histories(&bundle.key_chain)?;
    let accepted = accepted_signatures(&bundle.audit);
    let keys: HashMap<i64, &BundleKey> = bundle.keys.iter().map(|key| (key.id, key)).collect();
    let names: HashMap<i64, &str> = bundle
        .people
        .iter()
        .map(|person| (person.id, person.name.as_str()))
        .collect();
    let context = Context {
        bundle: &bundle,
        histories: &histories,
        accepted: &accepted,
        keys: &keys,
        names: &names,
    };

    let endorsements = bundle
        .endorsements
        .iter()
        .enumerate()
        .map(|(i, endorsement)| {
            let legacy = legacy.as_ref().and_then(|names| names.get(i));
            check_endorsement(&context, endorsement, legacy)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let withheld = [&bundle.audit, &bundle.key_chain]
        .iter()
        .flat_map(|chain| &chain.events)
        .filter(|entry| entry.event().is_none())
        .count();
    Ok(BundleReport {
        format: bundle.format.clone(),
        document_slug: bundle.document.slug.clone(),
        document_title: bundle.document.title.clone(),
        document_kind: bundle.document.kind.clone(),
        version_number: bundle.version.number,
        version_sha256: bundle.version.sha256.clone(),
        exported_at: bundle.exported_at.clone(),
        server_fingerprint: bundle.server.fingerprint.clone(),
        audit_event_count: bundle.audit.events.len(),
        withheld_event_count: withheld,
        endorsements,
    })
}

/// Reads the file into a bundle of a format this version knows, telling a bundle of
/// another format apart from a file that is not a bundle at all.
fn read(bytes: &[u8]) -> Result<Read, BundleError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|error| BundleError::Malformed(format!("not UTF-8 text ({error})")))?;
    // A file may end with the newline that editors and shells add after the text.
    let text = text.strip_suffix('\n').unwrap_or(text);
    // Only the format is read here; the rest is skipped without being built.
    #[derive(Deserialize)]
    struct Format {
        format: Option<Value>,
    }
    let format = match serde_json::from_str::<Format>(text) {
        Ok(Format { format }) => format.as_ref().and_then(Value::as_str).map(str::to_owned),
        Err(error) => return Err(BundleError::Malformed(error.to_string())),
    };
    match format.as_deref() {
        Some(BUNDLE_FORMAT) => {
            let (bundle, unsealed) = canonical::<Bundle>(text)?;
            Ok(Read {
                bundle,
                unsealed,
                legacy: None,
            })
        }
        Some(BUNDLE_FORMAT_V1) => {
            let (old, unsealed) = canonical::<BundleV1>(text)?;
            let endorsements = old
                .endorsements
                .iter()
                .map(|e| Endorsement {
                    request_id: e.request_id,
                    statement: e.statement.clone(),
                    signature: e.signature.clone(),
                    key_id: e.key_id,
                })
                .collect();
            Ok(Read {
                bundle: Bundle {
                    format: old.format,
                    exported_at: old.exported_at,
                    document: old.document,
                    version: old.version,
                    endorsements,
                    keys: old.keys,
                    people: Vec::new(),
                    key_chain: old.key_chain.into_chain(),
                    audit: old.audit.into_chain(),
                    server: old.server,
                    seal: old.seal,
                },
                unsealed,
                legacy: Some(old.endorsements),
            })
        }
        Some(found) => Err(BundleError::UnsupportedFormat {
            found: found.to_owned(),
        }),
        None => Err(BundleError::Malformed(
            "it has no \"format\" field".to_owned(),
        )),
    }
}

/// Parses a bundle that must be exactly in canonical form, and the text its seal covers.
fn canonical<T: Serialize + DeserializeOwned>(text: &str) -> Result<(T, String), BundleError> {
    let bundle: T =
        serde_json::from_str(text).map_err(|error| BundleError::Malformed(error.to_string()))?;
    let canonical = serde_jcs::to_string(&bundle).map_err(|_| BundleError::NotCanonical)?;
    if text != canonical {
        return Err(BundleError::NotCanonical);
    }
    let unsealed = unsealed_text(&bundle).map_err(|_| BundleError::NotCanonical)?;
    Ok((bundle, unsealed))
}

/// The canonical text the seal covers: the bundle without its `seal` field.
fn unsealed_text<T: Serialize>(bundle: &T) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(bundle)?;
    if let Value::Object(fields) = &mut value {
        fields.remove("seal");
    }
    canonical_json(&value)
}

fn verify_bundle_chain(chain: &BundleChain) -> Result<(), ChainError> {
    verify_links(
        chain.instance_id,
        chain.events.iter().map(BundleEntry::link),
        chain.head_count,
        &chain.head_hash,
    )
}

/// One key registry event about a key: its place in the chain, its time and its actor.
#[derive(Clone)]
struct KeyEventAt {
    seq: i64,
    at: String,
    actor_id: Option<i64>,
}

/// What the key registry chain says about one key, each step taken from the first event
/// of its kind.
#[derive(Default)]
struct KeyHistory {
    /// The person and public key it was registered with.
    registered: Option<(i64, String, KeyEventAt)>,
    /// The approvals recorded after the registration, up to the one that approved the key,
    /// each with its act reference.
    approvals: Vec<(KeyEventAt, Option<String>)>,
    /// The approval that made the key usable (a `key_approved` event).
    approved: Option<KeyEventAt>,
    revoked: Option<(KeyEventAt, String)>,
    rotated: Option<KeyEventAt>,
}

fn key_histories(chain: &BundleChain) -> Result<HashMap<i64, KeyHistory>, BundleError> {
    let mut histories: HashMap<i64, KeyHistory> = HashMap::new();
    for event in chain.events.iter().filter_map(BundleEntry::event) {
        let malformed = || BundleError::KeyEventMalformed {
            seq: event.seq,
            kind: event.kind.clone(),
        };
        let integer = |name: &str| event.payload.get(name).and_then(Value::as_i64);
        let text = |name: &str| event.payload.get(name).and_then(Value::as_str);
        let at = || -> Result<KeyEventAt, BundleError> {
            Ok(KeyEventAt {
                seq: event.seq,
                at: timestamp(&event.recorded_at, "key registry", event.seq)?,
                actor_id: event.actor_id,
            })
        };
        match event.kind.as_str() {
            "key_registered" => {
                let (Some(key), Some(person), Some(public_key)) =
                    (integer("key"), integer("person"), text("public_key"))
                else {
                    return Err(malformed());
                };
                let history = histories.entry(key).or_default();
                if history.registered.is_none() {
                    history.registered = Some((person, public_key.to_owned(), at()?));
                }
            }
            // A first operator's approval is recorded as `key_approval_recorded`; the
            // approval that makes the key usable is `key_approved`.
            "key_approval_recorded" | "key_approved" => {
                let key = integer("key").ok_or_else(malformed)?;
                let act_reference = match event.payload.get("act_reference") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(reference)) => Some(reference.clone()),
                    Some(_) => return Err(malformed()),
                };
                let history = histories.entry(key).or_default();
                // An approval counts only for a key registered before it in the chain,
                // and none counts once the key is approved.
                if history.registered.is_some() && history.approved.is_none() {
                    let step = at()?;
                    if event.kind == "key_approved" {
                        history.approved = Some(step.clone());
                    }
                    history.approvals.push((step, act_reference));
                }
            }
            "key_revoked" => {
                let (Some(key), Some(reason)) = (integer("key"), text("reason")) else {
                    return Err(malformed());
                };
                let history = histories.entry(key).or_default();
                if history.revoked.is_none() {
                    history.revoked = Some((at()?, reason.to_owned()));
                }
            }
            "key_rotated" => {
                let key = integer("key").ok_or_else(malformed)?;
                let history = histories.entry(key).or_default();
                if history.rotated.is_none() {
                    history.rotated = Some(at()?);
                }
            }
            _ => {}
        }
    }
    Ok(histories)
}

/// The audit chain's accepted signatures by request, so that each endorsement finds its
/// own in constant time and verification stays linear in the bundle's size.
fn accepted_signatures(chain: &BundleChain) -> HashMap<i64, Vec<&BundleEvent>> {
    let mut accepted: HashMap<i64, Vec<&BundleEvent>> = HashMap::new();
    for event in chain.events.iter().filter_map(BundleEntry::event) {
        if event.kind == "signature_accepted"
            && let Some(request) = event.payload.get("request").and_then(Value::as_i64)
        {
            accepted.entry(request).or_default().push(event);
        }
    }
    accepted
}

/// The time of an event, checked to have the one fixed-width UTC form events are recorded
/// in, so that comparing the texts compares the times.
fn timestamp(text: &str, chain: &'static str, seq: i64) -> Result<String, BundleError> {
    let shape = text.len() == TIMESTAMP_LENGTH
        && text.bytes().enumerate().all(|(i, byte)| match i {
            4 | 7 => byte == b'-',
            10 => byte == b'T',
            13 | 16 => byte == b':',
            19 => byte == b'.',
            26 => byte == b'Z',
            _ => byte.is_ascii_digit(),
        });
    if shape {
        Ok(text.to_owned())
    } else {
        Err(BundleError::BadTimestamp {
            chain,
            seq,
            found: text.to_owned(),
        })
    }
}

/// Everything an endorsement is checked against, indexed once.
struct Context<'a> {
    bundle: &'a Bundle,
    histories: &'a HashMap<i64, KeyHistory>,
    accepted: &'a HashMap<i64, Vec<&'a BundleEvent>>,
    keys: &'a HashMap<i64, &'a BundleKey>,
    names: &'a HashMap<i64, &'a str>,
}

impl Context<'_> {
    fn actor(&self, actor_id: Option<i64>) -> Actor {
        match actor_id {
            None => Actor::System,
            Some(id) => Actor::Person {
                id,
                name: self.names.get(&id).map(|name| (*name).to_owned()),
            },
        }
    }
}

/// Where in the key registry a signature was accepted: at a sequence number the server
/// recorded with it, or (in older chains) at its time.
enum AtSigning<'a> {
    Seq(i64),
    Time(&'a str),
}

impl AtSigning<'_> {
    /// Whether a key event happened before the signature. An event at the very
    /// microsecond of the signature counts as before it: the approval then holds, and a
    /// revocation or rotation then defeats the signature.
    fn after(&self, event: &KeyEventAt) -> bool {
        match self {
            AtSigning::Seq(seq) => event.seq <= *seq,
            AtSigning::Time(time) => event.at.as_str() <= *time,
        }
    }
}

fn check_endorsement(
    context: &Context<'_>,
    endorsement: &Endorsement,
    legacy: Option<&EndorsementV1>,
) -> Result<EndorsementReport, BundleError> {
    let bundle = context.bundle;
    let request_id = endorsement.request_id;
    let key_id = endorsement.key_id;
    let statement = Statement::from_canonical(endorsement.statement.as_bytes())
        .map_err(|reason| BundleError::StatementInvalid { request_id, reason })?;
    let person = &statement.signatory.person;
    let organisation = &statement.signatory.organisation;
    let fields = [
        ("request", statement.request == request_id),
        (
            "document",
            statement.document.id == bundle.document.id
                && statement.document.slug == bundle.document.slug,
        ),
        ("version", statement.version == bundle.version.number),
        (
            "content_sha256",
            statement.content_sha256 == bundle.version.sha256,
        ),
        (
            "person",
            legacy.is_none_or(|old| person.email.as_deref() == Some(old.email.as_str())),
        ),
        (
            "organisation",
            legacy.is_none_or(|old| organisation.name == old.organisation),
        ),
        (
            "intent",
            legacy.is_none_or(|old| statement.intent == old.intent),
        ),
    ];
    if let Some((field, _)) = fields.into_iter().find(|(_, same)| !same) {
        return Err(BundleError::StatementMismatch { request_id, field });
    }

    let key = context
        .keys
        .get(&key_id)
        .ok_or(BundleError::UnknownKey { request_id, key_id })?;
    let public = public_key_from_base64url(&key.public_key)
        .map_err(|reason| BundleError::InvalidKey { key_id, reason })?;
    let key_fingerprint = fingerprint(&public);
    if key.fingerprint != key_fingerprint {
        return Err(BundleError::KeyFingerprintMismatch { key_id });
    }
    if key.person_id != person.id {
        return Err(BundleError::KeyNotSignatory { request_id, key_id });
    }
    let signature = decode_signature(&endorsement.signature)
        .map_err(|_| BundleError::BadSignature { request_id })?;
    verify(&public, endorsement.statement.as_bytes(), &signature)
        .map_err(|_| BundleError::BadSignature { request_id })?;

    let statement_sha256 = content_hash(endorsement.statement.as_bytes());
    let accepted = context
        .accepted
        .get(&request_id)
        .into_iter()
        .flatten()
        .find(|event| {
            let payload = &event.payload;
            payload.get("key").and_then(Value::as_i64) == Some(key_id)
                && payload.get("person").and_then(Value::as_i64) == Some(person.id)
                && payload.get("organisation").and_then(Value::as_i64) == Some(organisation.id)
                && payload.get("statement_sha256").and_then(Value::as_str)
                    == Some(statement_sha256.as_str())
                && payload.get("signature").and_then(Value::as_str)
                    == Some(endorsement.signature.as_str())
        })
        .ok_or(BundleError::SignatureNotInAuditTrail { request_id })?;
    let signed_at = timestamp(&accepted.recorded_at, "audit", accepted.seq)?;
    let at_signing = match accepted
        .payload
        .get("key_chain_seq")
        .and_then(Value::as_i64)
    {
        Some(seq) => AtSigning::Seq(seq),
        None => AtSigning::Time(&signed_at),
    };

    let not_approved = BundleError::KeyNotApprovedAtSigning { request_id, key_id };
    let history = context.histories.get(&key_id).ok_or(not_approved.clone())?;
    let (registered_person, registered_key, registered) =
        history.registered.as_ref().ok_or(not_approved.clone())?;
    if *registered_person != key.person_id || *registered_key != key.public_key {
        return Err(BundleError::KeyRegistrationMismatch { key_id });
    }
    let approved_before_signing = history
        .approved
        .as_ref()
        .is_some_and(|approved| at_signing.after(registered) && at_signing.after(approved));
    if !approved_before_signing {
        return Err(not_approved);
    }
    if let Some((revoked, _)) = &history.revoked
        && at_signing.after(revoked)
    {
        return Err(BundleError::KeyRevokedAtSigning {
            request_id,
            key_id,
            revoked_at: revoked.at.clone(),
        });
    }
    if let Some(rotated) = &history.rotated
        && at_signing.after(rotated)
    {
        return Err(BundleError::KeyRotatedAtSigning {
            request_id,
            key_id,
            rotated_at: rotated.at.clone(),
        });
    }

    Ok(EndorsementReport {
        request_id,
        organisation: organisation.name.clone(),
        person: match legacy {
            Some(old) => old.person.clone(),
            None => person.display().to_owned(),
        },
        email: person.email.clone(),
        signed_title: statement.document.title.clone(),
        intent: statement.intent.clone(),
        signed_at,
        key_fingerprint,
        key_registered: KeyStep {
            at: registered.at.clone(),
            by: context.actor(registered.actor_id),
        },
        key_approvals: history
            .approvals
            .iter()
            .map(|(step, act_reference)| KeyApproval {
                step: KeyStep {
                    at: step.at.clone(),
                    by: context.actor(step.actor_id),
                },
                act_reference: act_reference.clone(),
            })
            .collect(),
        revoked_at: history
            .revoked
            .as_ref()
            .map(|(event, reason)| (event.at.clone(), reason.clone())),
        rotated_at: history.rotated.as_ref().map(|event| event.at.clone()),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{GENESIS_HASH, event_body_hash, event_hash_v2};

    /// The name of a statement field and a change to it.
    type StatementChange = (&'static str, fn(&mut Statement));

    const CONTENT: &[u8] = "Patto di collaborazione per il verde di Cittadella\n".as_bytes();
    const SIGNED_AT: &str = "2026-11-27T10:00:01.000000Z";
    const BEFORE_SIGNING: &str = "2026-11-27T09:59:59.999999Z";
    const AFTER_SIGNING: &str = "2026-11-28T08:30:00.000000Z";
    const KEY_ID: i64 = 4;
    const PERSON_ID: i64 = 5;
    const REQUEST_ID: i64 = 12;

    fn server_key() -> SigningKey {
        SigningKey::from_bytes(&[1; 32])
    }

    fn signer_key() -> SigningKey {
        SigningKey::from_bytes(&[2; 32])
    }

    fn statement() -> Statement {
        Statement::new(
            REQUEST_ID,
            3,
            "verde-cittadella",
            "Patto per il verde",
            2,
            &content_hash(CONTENT),
            PERSON_ID,
            "Anna Rossi",
            9,
            "Comune di Cittadella – Ufficio Verde",
            "endorse",
            "2026-11-27T09:00:00.000000Z",
        )
    }

    /// A chain of these events, (kind, actor, payload, time), hashed as the engine does.
    fn chain(instance_id: i64, events: Vec<(&str, Option<i64>, Value, &str)>) -> BundleChain {
        BundleChain::build(
            instance_id,
            events
                .into_iter()
                .map(|(kind, actor, payload, at)| (kind.to_owned(), actor, payload, at.to_owned()))
                .collect(),
        )
        .unwrap()
    }

    /// Recomputes every link and the head (version 2 hashes), as a forger rewriting
    /// history would.
    fn rechain(chain: &mut BundleChain) {
        let mut prev = GENESIS_HASH.to_owned();
        for entry in &mut chain.events {
            let (seq, body, prev_hash, hash) = match entry {
                BundleEntry::Event(event) => (
                    event.seq,
                    event_body_hash(
                        &event.kind,
                        event.actor_id,
                        &event.payload,
                        &event.recorded_at,
                        event.seq,
                    )
                    .unwrap(),
                    &mut event.prev_hash,
                    &mut event.hash,
                ),
                BundleEntry::Withheld(withheld) => (
                    withheld.seq,
                    withheld.body_sha256.clone(),
                    &mut withheld.prev_hash,
                    &mut withheld.hash,
                ),
            };
            *prev_hash = prev;
            *hash = event_hash_v2(chain.instance_id, seq, prev_hash, &body).unwrap();
            prev = hash.clone();
        }
        chain.head_count = chain.events.len() as i64;
        chain.head_hash = prev;
    }

    /// Numbers the events of a chain 1, 2, ... after some were inserted or removed, and
    /// rechains it.
    fn renumber(chain: &mut BundleChain) {
        for (index, entry) in chain.events.iter_mut().enumerate() {
            let seq = index as i64 + 1;
            match entry {
                BundleEntry::Event(event) => event.seq = seq,
                BundleEntry::Withheld(withheld) => withheld.seq = seq,
            }
        }
        rechain(chain);
    }

    /// The event at this index of a chain, which the fixtures show in full.
    fn event(chain: &mut BundleChain, index: usize) -> &mut BundleEvent {
        match &mut chain.events[index] {
            BundleEntry::Event(event) => event,
            BundleEntry::Withheld(_) => panic!("event {index} is withheld"),
        }
    }

    fn key_event(
        kind: &'static str,
        payload: Value,
        at: &str,
    ) -> (&'static str, Option<i64>, Value, String) {
        (kind, Some(1), payload, at.to_owned())
    }

    /// An unsealed bundle with one endorsement, its key registered and approved the week
    /// before, followed in the key registry by `later_key_events`.
    fn bundle_with(later_key_events: Vec<(&'static str, Option<i64>, Value, String)>) -> Bundle {
        let signer = signer_key().verifying_key();
        let statement = statement().to_canonical();
        let signature = encode_signature(&sign(&signer_key(), statement.as_bytes()));
        let mut key_events = vec![
            key_event(
                "key_registered",
                json!({"key": KEY_ID, "person": PERSON_ID, "public_key": public_key_to_base64url(&signer), "fingerprint": fingerprint(&signer)}),
                "2026-11-20T09:00:00.000000Z",
            ),
            key_event(
                "key_approved",
                json!({"key": KEY_ID, "person": PERSON_ID, "approved_by": 1}),
                "2026-11-20T10:00:00.000000Z",
            ),
        ];
        key_events.extend(later_key_events);
        let key_chain = chain(
            KEY_CHAIN_INSTANCE,
            key_events
                .iter()
                .map(|(kind, actor, payload, at)| (*kind, *actor, payload.clone(), at.as_str()))
                .collect(),
        );
        let audit = chain(
            7,
            vec![
                (
                    "instance_created",
                    Some(1),
                    json!({"document": 3}),
                    "2026-11-25T08:00:00.000000Z",
                ),
                (
                    "version_added",
                    Some(1),
                    json!({"number": 2, "sha256": content_hash(CONTENT)}),
                    "2026-11-26T08:00:00.000000Z",
                ),
                (
                    "transition",
                    None,
                    json!({"from": "draft", "to": "signing", "note": "città"}),
                    "2026-11-27T08:00:00.000000Z",
                ),
                (
                    "signature_accepted",
                    Some(PERSON_ID),
                    json!({"request": REQUEST_ID, "key": KEY_ID, "person": PERSON_ID, "organisation": 9,
                           "statement_sha256": content_hash(statement.as_bytes()), "signature": signature}),
                    SIGNED_AT,
                ),
            ],
        );
        Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            exported_at: "2026-11-29T12:00:00.000000Z".to_owned(),
            document: BundleDocument {
                id: 3,
                slug: "verde-cittadella".to_owned(),
                title: "Patto per il verde".to_owned(),
                kind: "patto".to_owned(),
            },
            version: BundleVersion {
                number: 2,
                sha256: content_hash(CONTENT),
                content_base64: STANDARD.encode(CONTENT),
                created_at: "2026-11-26T08:00:00.000000Z".to_owned(),
            },
            endorsements: vec![Endorsement {
                request_id: REQUEST_ID,
                statement,
                signature,
                key_id: KEY_ID,
            }],
            keys: vec![BundleKey {
                id: KEY_ID,
                person_id: PERSON_ID,
                public_key: public_key_to_base64url(&signer),
                fingerprint: fingerprint(&signer),
            }],
            people: vec![BundlePerson {
                id: 1,
                name: "Carla Bianchi".to_owned(),
            }],
            key_chain,
            audit,
            server: BundleServer {
                public_key: String::new(),
                fingerprint: String::new(),
            },
            seal: String::new(),
        }
    }

    fn bundle() -> Bundle {
        bundle_with(Vec::new())
    }

    fn sealed(bundle: Bundle) -> String {
        seal(bundle, &server_key()).unwrap()
    }

    /// The result of verifying a bundle changed by `change` and sealed again by the server,
    /// which is what it takes for a change to get past the seal.
    fn resealed_verdict(change: impl FnOnce(&mut Bundle)) -> Result<BundleReport, BundleError> {
        let mut changed = bundle();
        change(&mut changed);
        verify_bundle(sealed(changed).as_bytes())
    }

    /// The seal over a bundle exactly as it is, without `seal` setting the server fields.
    fn sealed_as_is(mut bundle: Bundle, key: &SigningKey) -> String {
        let unsealed = unsealed_text(&bundle).unwrap();
        bundle.seal = encode_signature(&sign(key, unsealed.as_bytes()));
        serde_jcs::to_string(&bundle).unwrap()
    }

    fn signature_event(bundle: &mut Bundle) -> &mut BundleEvent {
        let last = bundle.audit.events.len() - 1;
        event(&mut bundle.audit, last)
    }

    #[test]
    fn a_sealed_bundle_verifies_and_reports_what_it_shows() {
        let text = sealed(bundle());
        let report = verify_bundle(text.as_bytes()).unwrap();
        assert_eq!(report.document_slug, "verde-cittadella");
        assert_eq!(report.document_title, "Patto per il verde");
        assert_eq!(report.document_kind, "patto");
        assert_eq!(report.version_number, 2);
        assert_eq!(report.version_sha256, content_hash(CONTENT));
        assert_eq!(
            report.server_fingerprint,
            fingerprint(&server_key().verifying_key())
        );
        assert_eq!(report.audit_event_count, 4);
        assert_eq!(
            report.endorsements,
            vec![EndorsementReport {
                request_id: REQUEST_ID,
                organisation: "Comune di Cittadella – Ufficio Verde".to_owned(),
                person: "Anna Rossi".to_owned(),
                email: None,
                signed_title: Some("Patto per il verde".to_owned()),
                intent: "endorse".to_owned(),
                signed_at: SIGNED_AT.to_owned(),
                key_fingerprint: fingerprint(&signer_key().verifying_key()),
                key_registered: KeyStep {
                    at: "2026-11-20T09:00:00.000000Z".to_owned(),
                    by: Actor::Person {
                        id: 1,
                        name: Some("Carla Bianchi".to_owned())
                    },
                },
                key_approvals: vec![KeyApproval {
                    step: KeyStep {
                        at: "2026-11-20T10:00:00.000000Z".to_owned(),
                        by: Actor::Person {
                            id: 1,
                            name: Some("Carla Bianchi".to_owned())
                        },
                    },
                    act_reference: None,
                }],
                revoked_at: None,
                rotated_at: None,
            }]
        );
        // The file is its own canonical form, and a final newline is tolerated.
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(canonical_json(&value).unwrap(), text);
        assert_eq!(verify_bundle(format!("{text}\n").as_bytes()), Ok(report));
    }

    #[test]
    fn the_seal_sets_the_server_key_and_covers_everything_else() {
        let text = sealed(bundle());
        let parsed: Bundle = serde_json::from_str(&text).unwrap();
        let server = server_key().verifying_key();
        assert_eq!(parsed.server.public_key, public_key_to_base64url(&server));
        assert_eq!(parsed.server.fingerprint, fingerprint(&server));
        let unsealed = unsealed_text(&parsed).unwrap();
        assert!(!unsealed.contains("\"seal\""));
        let seal = decode_signature(&parsed.seal).unwrap();
        assert_eq!(verify(&server, unsealed.as_bytes(), &seal), Ok(()));
    }

    #[test]
    fn every_single_changed_byte_is_detected() {
        let text = sealed(bundle());
        let mut bytes = text.into_bytes();
        for position in 0..bytes.len() {
            let original = bytes[position];
            bytes[position] = if original == b'0' { b'1' } else { b'0' };
            assert!(
                verify_bundle(&bytes).is_err(),
                "changing byte {position} ({:?}) went unnoticed",
                original as char
            );
            bytes[position] = original;
        }
        assert!(verify_bundle(&bytes).is_ok());
    }

    #[test]
    fn files_that_are_not_bundles_or_not_canonical_are_refused() {
        let text = sealed(bundle());
        assert!(matches!(
            verify_bundle(b"\xff{}"),
            Err(BundleError::Malformed(_))
        ));
        assert!(matches!(
            verify_bundle(b"[]"),
            Err(BundleError::Malformed(_))
        ));
        let mut value: Value = serde_json::from_str(&text).unwrap();
        value["comment"] = "added".into();
        assert!(matches!(
            verify_bundle(canonical_json(&value).unwrap().as_bytes()),
            Err(BundleError::Malformed(reason)) if reason.contains("comment")
        ));
        let mut value: Value = serde_json::from_str(&text).unwrap();
        value["format"] = "patto/evidence/v3".into();
        value["new_field"] = true.into();
        assert_eq!(
            verify_bundle(canonical_json(&value).unwrap().as_bytes()),
            Err(BundleError::UnsupportedFormat {
                found: "patto/evidence/v3".into()
            })
        );
        assert_eq!(
            resealed_verdict(|b| b.format = "patto/evidence/v0".into()),
            Err(BundleError::UnsupportedFormat {
                found: "patto/evidence/v0".into()
            })
        );
        let value: Value = serde_json::from_str(&text).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        assert_eq!(
            verify_bundle(pretty.as_bytes()),
            Err(BundleError::NotCanonical)
        );
        assert_eq!(
            verify_bundle(format!("{text}\n\n").as_bytes()),
            Err(BundleError::NotCanonical)
        );
        assert_eq!(
            verify_bundle(format!(" {text}").as_bytes()),
            Err(BundleError::NotCanonical)
        );
    }

    #[test]
    fn a_changed_field_breaks_the_seal() {
        let mut parsed: Bundle = serde_json::from_str(&sealed(bundle())).unwrap();
        parsed.document.title = "Patto per il cemento".into();
        let edited = serde_jcs::to_string(&parsed).unwrap();
        assert_eq!(verify_bundle(edited.as_bytes()), Err(BundleError::BadSeal));

        let mut parsed: Bundle = serde_json::from_str(&sealed(bundle())).unwrap();
        parsed.seal = encode_signature(&sign(&server_key(), b"something else"));
        let reseal = serde_jcs::to_string(&parsed).unwrap();
        assert_eq!(verify_bundle(reseal.as_bytes()), Err(BundleError::BadSeal));

        parsed.seal = "not a signature".into();
        let garbage = serde_jcs::to_string(&parsed).unwrap();
        assert_eq!(verify_bundle(garbage.as_bytes()), Err(BundleError::BadSeal));
    }

    #[test]
    fn the_server_key_must_match_its_fingerprint_and_the_pin() {
        let mut wrong_fingerprint = bundle();
        let server = server_key().verifying_key();
        wrong_fingerprint.server = BundleServer {
            public_key: public_key_to_base64url(&server),
            fingerprint: fingerprint(&signer_key().verifying_key()),
        };
        let text = sealed_as_is(wrong_fingerprint, &server_key());
        assert_eq!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::FingerprintMismatch)
        );

        let mut no_key = bundle();
        no_key.server.public_key = "short".into();
        let text = sealed_as_is(no_key, &server_key());
        assert_eq!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::InvalidServerKey(SignError::PublicKeyFormat {
                length: 5
            }))
        );

        // A bundle made up and sealed with another key verifies on its own terms, but not
        // against the server key a reader knows.
        let forged = seal(bundle(), &signer_key()).unwrap();
        assert!(verify_bundle(forged.as_bytes()).is_ok());
        assert_eq!(
            verify_bundle_pinned(forged.as_bytes(), &server),
            Err(BundleError::UnexpectedServerKey {
                expected: fingerprint(&server),
                found: fingerprint(&signer_key().verifying_key()),
            })
        );
        let genuine = sealed(bundle());
        assert!(verify_bundle_pinned(genuine.as_bytes(), &server).is_ok());
    }

    #[test]
    fn changed_content_is_caught() {
        assert_eq!(
            resealed_verdict(|b| b.version.content_base64 = STANDARD.encode(b"other text")),
            Err(BundleError::ContentHashMismatch {
                expected: content_hash(CONTENT),
                found: content_hash(b"other text"),
            })
        );
        assert!(matches!(
            resealed_verdict(|b| b.version.content_base64 = "%%%".into()),
            Err(BundleError::ContentEncoding { .. })
        ));
    }

    #[test]
    fn changed_audit_events_and_heads_are_caught() {
        assert_eq!(
            resealed_verdict(|b| event(&mut b.audit, 0).payload = json!({"document": 4})),
            Err(BundleError::AuditChain(ChainError::Altered { seq: 1 }))
        );
        assert_eq!(
            resealed_verdict(|b| event(&mut b.audit, 2).recorded_at = AFTER_SIGNING.into()),
            Err(BundleError::AuditChain(ChainError::Altered { seq: 3 }))
        );
        assert!(matches!(
            resealed_verdict(|b| b.audit.head_hash = GENESIS_HASH.into()),
            Err(BundleError::AuditChain(ChainError::HeadMismatch { .. }))
        ));
        assert!(matches!(
            resealed_verdict(|b| {
                b.audit.events.pop();
            }),
            Err(BundleError::AuditChain(ChainError::HeadMismatch { .. }))
        ));
        assert!(matches!(
            resealed_verdict(|b| b.audit.events.swap(0, 1)),
            Err(BundleError::AuditChain(ChainError::OutOfSequence { .. }))
        ));
    }

    #[test]
    fn changed_key_events_and_heads_are_caught() {
        assert_eq!(
            resealed_verdict(|b| event(&mut b.key_chain, 1).payload["key"] = 99.into()),
            Err(BundleError::KeyChain(ChainError::Altered { seq: 2 }))
        );
        assert!(matches!(
            resealed_verdict(|b| b.key_chain.head_count = 1),
            Err(BundleError::KeyChain(ChainError::HeadMismatch { .. }))
        ));
        assert!(matches!(
            resealed_verdict(|b| b.key_chain.instance_id = 7),
            Err(BundleError::ForeignChain { .. })
        ));
    }

    #[test]
    fn a_statement_that_does_not_match_the_bundle_is_named_by_field() {
        let cases: [StatementChange; 4] = [
            ("request", |s| s.request += 1),
            ("document", |s| s.document.slug = "altro".into()),
            ("version", |s| s.version = 1),
            ("content_sha256", |s| {
                s.content_sha256 = content_hash(b"draft")
            }),
        ];
        for (field, change) in cases {
            let verdict = resealed_verdict(|b| {
                let mut statement = statement();
                change(&mut statement);
                let text = statement.to_canonical();
                b.endorsements[0].signature =
                    encode_signature(&sign(&signer_key(), text.as_bytes()));
                b.endorsements[0].statement = text;
            });
            assert_eq!(
                verdict,
                Err(BundleError::StatementMismatch {
                    request_id: REQUEST_ID,
                    field
                }),
                "{field}"
            );
        }
        // A statement signed anew with other names or intent is not the one the audit
        // chain recorded.
        let renamed: [fn(&mut Statement); 3] = [
            |s| s.signatory.person.name = Some("Mario Verdi".into()),
            |s| s.signatory.organisation.name = "Comune di Altrove".into(),
            |s| s.intent = "approve".into(),
        ];
        for change in renamed {
            let verdict = resealed_verdict(|b| {
                let mut statement = statement();
                change(&mut statement);
                let text = statement.to_canonical();
                b.endorsements[0].signature =
                    encode_signature(&sign(&signer_key(), text.as_bytes()));
                b.endorsements[0].statement = text;
            });
            assert_eq!(
                verdict,
                Err(BundleError::SignatureNotInAuditTrail {
                    request_id: REQUEST_ID
                })
            );
        }
        assert_eq!(
            resealed_verdict(|b| b.endorsements[0].statement.push(' ')),
            Err(BundleError::StatementInvalid {
                request_id: REQUEST_ID,
                reason: SignError::StatementNotCanonical
            })
        );
    }

    #[test]
    fn keys_must_be_included_consistent_and_the_signatory_s() {
        assert_eq!(
            resealed_verdict(|b| b.keys.clear()),
            Err(BundleError::UnknownKey {
                request_id: REQUEST_ID,
                key_id: KEY_ID
            })
        );
        assert_eq!(
            resealed_verdict(|b| b.keys[0].fingerprint = fingerprint(&server_key().verifying_key())),
            Err(BundleError::KeyFingerprintMismatch { key_id: KEY_ID })
        );
        assert_eq!(
            resealed_verdict(|b| b.keys[0].person_id = 6),
            Err(BundleError::KeyNotSignatory {
                request_id: REQUEST_ID,
                key_id: KEY_ID
            })
        );
        assert!(matches!(
            resealed_verdict(|b| b.keys[0].public_key = "AAAA".into()),
            Err(BundleError::InvalidKey { key_id: KEY_ID, .. })
        ));
        // Another key with its own fingerprint: the signature no longer verifies with it.
        let other = server_key().verifying_key();
        assert_eq!(
            resealed_verdict(|b| {
                b.keys[0].public_key = public_key_to_base64url(&other);
                b.keys[0].fingerprint = fingerprint(&other);
            }),
            Err(BundleError::BadSignature {
                request_id: REQUEST_ID
            })
        );
    }

    #[test]
    fn a_changed_signature_is_caught() {
        let other = encode_signature(&sign(&signer_key(), b"another statement"));
        assert_eq!(
            resealed_verdict(|b| b.endorsements[0].signature = other.clone()),
            Err(BundleError::BadSignature {
                request_id: REQUEST_ID
            })
        );
        assert_eq!(
            resealed_verdict(|b| b.endorsements[0].signature = "AAAA".into()),
            Err(BundleError::BadSignature {
                request_id: REQUEST_ID
            })
        );
    }

    #[test]
    fn a_signature_must_be_recorded_in_the_audit_chain() {
        let not_recorded = Err(BundleError::SignatureNotInAuditTrail {
            request_id: REQUEST_ID,
        });
        let payload_changes: [fn(&mut Value); 5] = [
            |p| p["signature"] = encode_signature(&[0; 64]).into(),
            |p| p["statement_sha256"] = content_hash(b"other").into(),
            |p| p["request"] = 13.into(),
            |p| p["key"] = 5.into(),
            |p| p["organisation"] = 10.into(),
        ];
        for change in payload_changes {
            let verdict = resealed_verdict(|b| {
                change(&mut signature_event(b).payload);
                rechain(&mut b.audit);
            });
            assert_eq!(verdict, not_recorded);
        }
        let verdict = resealed_verdict(|b| {
            signature_event(b).kind = "signature_declined".into();
            rechain(&mut b.audit);
        });
        assert_eq!(verdict, not_recorded);
        let verdict = resealed_verdict(|b| {
            signature_event(b).recorded_at = "27/11/2026 10:00".into();
            rechain(&mut b.audit);
        });
        assert_eq!(
            verdict,
            Err(BundleError::BadTimestamp {
                chain: "audit",
                seq: 4,
                found: "27/11/2026 10:00".into()
            })
        );
    }

    #[test]
    fn the_key_must_be_registered_and_approved_before_signing() {
        let not_approved = Err(BundleError::KeyNotApprovedAtSigning {
            request_id: REQUEST_ID,
            key_id: KEY_ID,
        });
        let verdict = resealed_verdict(|b| {
            b.key_chain.events.pop();
            rechain(&mut b.key_chain);
        });
        assert_eq!(verdict, not_approved);
        let verdict = resealed_verdict(|b| {
            event(&mut b.key_chain, 1).recorded_at = AFTER_SIGNING.into();
            rechain(&mut b.key_chain);
        });
        assert_eq!(verdict, not_approved);
        // An approval recorded before the key's registration does not count.
        let verdict = resealed_verdict(|b| {
            b.key_chain.events.swap(0, 1);
            event(&mut b.key_chain, 0).seq = 1;
            event(&mut b.key_chain, 1).seq = 2;
            rechain(&mut b.key_chain);
        });
        assert_eq!(verdict, not_approved);
        let verdict = resealed_verdict(|b| {
            event(&mut b.key_chain, 0).payload["public_key"] =
                public_key_to_base64url(&server_key().verifying_key()).into();
            rechain(&mut b.key_chain);
        });
        assert_eq!(
            verdict,
            Err(BundleError::KeyRegistrationMismatch { key_id: KEY_ID })
        );
        let verdict = resealed_verdict(|b| {
            event(&mut b.key_chain, 0).payload = json!({"key": KEY_ID});
            rechain(&mut b.key_chain);
        });
        assert_eq!(
            verdict,
            Err(BundleError::KeyEventMalformed {
                seq: 1,
                kind: "key_registered".into()
            })
        );
    }

    #[test]
    fn every_approval_is_reported_with_its_act_and_a_first_one_alone_approves_nothing() {
        // Two operators: the first approval is recorded, the second approves the key.
        let two_operators = |b: &mut Bundle| {
            let approval = event(&mut b.key_chain, 1);
            approval.kind = "key_approval_recorded".into();
            approval.actor_id = Some(5);
            approval.payload["act_reference"] = "PEC prot. 123".into();
            let mut second = approval.clone();
            second.seq = 3;
            second.kind = "key_approved".into();
            second.actor_id = Some(6);
            second.recorded_at = "2026-11-20T11:00:00.000000Z".into();
            second.payload["act_reference"] = "delibera 12/2026".into();
            b.key_chain.events.insert(2, BundleEntry::Event(second));
            renumber(&mut b.key_chain);
        };
        let report = resealed_verdict(two_operators).unwrap();
        let approvals: Vec<_> = report.endorsements[0]
            .key_approvals
            .iter()
            .map(|a| {
                (
                    a.step.at.as_str(),
                    a.step.by.clone(),
                    a.act_reference.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            approvals,
            [
                (
                    "2026-11-20T10:00:00.000000Z",
                    Actor::Person { id: 5, name: None },
                    Some("PEC prot. 123")
                ),
                (
                    "2026-11-20T11:00:00.000000Z",
                    Actor::Person { id: 6, name: None },
                    Some("delibera 12/2026")
                ),
            ]
        );
        // A recorded first approval alone leaves the key unapproved.
        let verdict = resealed_verdict(|b| {
            two_operators(b);
            b.key_chain.events.remove(2);
            renumber(&mut b.key_chain);
        });
        assert_eq!(
            verdict,
            Err(BundleError::KeyNotApprovedAtSigning {
                request_id: REQUEST_ID,
                key_id: KEY_ID,
            })
        );
        // An act reference that is not text makes the event malformed.
        let verdict = resealed_verdict(|b| {
            event(&mut b.key_chain, 1).payload["act_reference"] = json!(123);
            rechain(&mut b.key_chain);
        });
        assert_eq!(
            verdict,
            Err(BundleError::KeyEventMalformed {
                seq: 2,
                kind: "key_approved".into()
            })
        );
    }

    #[test]
    fn revocation_after_signing_is_reported_and_before_signing_refused() {
        let revoke = |at: &str| {
            key_event(
                "key_revoked",
                json!({"key": KEY_ID, "reason": "lost laptop"}),
                at,
            )
        };
        let text = sealed(bundle_with(vec![revoke(AFTER_SIGNING)]));
        let report = verify_bundle(text.as_bytes()).unwrap();
        assert_eq!(
            report.endorsements[0].revoked_at,
            Some((AFTER_SIGNING.to_owned(), "lost laptop".to_owned()))
        );
        assert_eq!(report.endorsements[0].rotated_at, None);

        let text = sealed(bundle_with(vec![revoke(BEFORE_SIGNING)]));
        assert_eq!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::KeyRevokedAtSigning {
                request_id: REQUEST_ID,
                key_id: KEY_ID,
                revoked_at: BEFORE_SIGNING.to_owned(),
            })
        );
        // A revocation in the very microsecond of the signature counts as before it.
        let text = sealed(bundle_with(vec![revoke(SIGNED_AT)]));
        assert!(matches!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::KeyRevokedAtSigning { .. })
        ));
    }

    #[test]
    fn rotation_after_signing_is_reported_and_before_signing_refused() {
        let rotate =
            |at: &str| key_event("key_rotated", json!({"key": KEY_ID, "replaced_by": 8}), at);
        let text = sealed(bundle_with(vec![rotate(AFTER_SIGNING)]));
        let report = verify_bundle(text.as_bytes()).unwrap();
        assert_eq!(
            report.endorsements[0].rotated_at,
            Some(AFTER_SIGNING.to_owned())
        );
        assert_eq!(report.endorsements[0].revoked_at, None);

        let text = sealed(bundle_with(vec![rotate(BEFORE_SIGNING)]));
        assert_eq!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::KeyRotatedAtSigning {
                request_id: REQUEST_ID,
                key_id: KEY_ID,
                rotated_at: BEFORE_SIGNING.to_owned(),
            })
        );
    }

    #[test]
    fn a_bundle_that_canonical_json_would_change_is_not_sealed() {
        let mut big = bundle();
        big.document.id = (1 << 53) + 1;
        assert_eq!(
            seal(big, &server_key()),
            Err(SignError::NotCanonicalisable {
                what: "evidence bundle"
            })
        );
    }

    #[test]
    fn withheld_events_keep_the_chain_whole_and_cannot_be_altered() {
        // Another person's key events, withheld as their body hashes.
        let other = |kind: &str, at: &str| {
            let payload = json!({"key": 9, "person": 8, "reason": "riservato"});
            BundleEntry::Withheld(WithheldEvent {
                seq: 0,
                prev_hash: String::new(),
                hash: String::new(),
                body_sha256: event_body_hash(kind, Some(1), &payload, at, 0).unwrap(),
            })
        };
        let with_withheld = |change: fn(&mut Bundle)| {
            let mut b = bundle();
            b.key_chain
                .events
                .insert(1, other("key_revoked", "2026-11-20T09:30:00.000000Z"));
            for (i, entry) in b.key_chain.events.iter_mut().enumerate() {
                match entry {
                    BundleEntry::Event(event) => event.seq = i as i64 + 1,
                    BundleEntry::Withheld(withheld) => withheld.seq = i as i64 + 1,
                }
            }
            rechain(&mut b.key_chain);
            change(&mut b);
            sealed(b)
        };
        let text = with_withheld(|_| {});
        assert!(!text.contains("riservato"), "{text}");
        let report = verify_bundle(text.as_bytes()).unwrap();
        assert_eq!(report.withheld_event_count, 1);
        // Its body hash is covered by its link.
        let text = with_withheld(|b| {
            if let BundleEntry::Withheld(w) = &mut b.key_chain.events[1] {
                w.body_sha256 = content_hash(b"other");
            }
        });
        assert_eq!(
            verify_bundle(text.as_bytes()),
            Err(BundleError::KeyChain(ChainError::Altered { seq: 2 }))
        );
    }

    #[test]
    fn a_recorded_key_chain_position_decides_validity_instead_of_clocks() {
        // The revocation's clock reads earlier than the signature's, but the server saw
        // the key registry at event 2, before the revocation (event 3) was recorded.
        let revoke = key_event(
            "key_revoked",
            json!({"key": KEY_ID, "reason": "lost laptop"}),
            BEFORE_SIGNING,
        );
        let at_position = |seq: i64| {
            let mut b = bundle_with(vec![revoke.clone()]);
            signature_event(&mut b).payload["key_chain_seq"] = seq.into();
            rechain(&mut b.audit);
            verify_bundle(sealed(b).as_bytes())
        };
        let report = at_position(2).unwrap();
        assert_eq!(
            report.endorsements[0].revoked_at,
            Some((BEFORE_SIGNING.to_owned(), "lost laptop".to_owned()))
        );
        assert!(matches!(
            at_position(3),
            Err(BundleError::KeyRevokedAtSigning { .. })
        ));
        assert!(matches!(
            at_position(1),
            Err(BundleError::KeyNotApprovedAtSigning { .. })
        ));
    }
}
