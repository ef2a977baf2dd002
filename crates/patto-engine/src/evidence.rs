//! Evidence bundles: one JSON file with a document version, its endorsements, the signers'
//! keys with their registry chain, and the document's audit chain, sealed by the server
//! key so that anyone can check it offline with `patto verify`.
//!
//! A bundle may be published with a public act, so it shows only what concerns the
//! document and its signers: key registry events about other keys, and the audit events
//! that carry people's words (declines and comments), are withheld as their body hashes,
//! which keeps both chains checkable link by link. Events recorded before hashes
//! committed to bodies cannot be withheld and are shown in full.

use std::collections::{BTreeSet, HashSet};

use base64::Engine as _;
use patto_core::ids::PersonId;
use patto_core::status::{SignatureRequestStatus, SigningRoundStatus};
use patto_sign::{
    BUNDLE_FORMAT, Bundle, BundleChain, BundleDocument, BundleKey, BundlePerson, BundleServer,
    BundleVersion, Endorsement, SigningKey,
};

use crate::audit::{StoredLink, now_micros, timestamp};
use crate::keys::KEY_CHAIN_INSTANCE;
use crate::signing::parse_stored_key;
use crate::{Engine, EngineError};

/// Audit events whose body is people's own words, withheld from bundles.
const WITHHELD_AUDIT_KINDS: [&str; 3] = ["signature_declined", "comment_added", "comment_resolved"];

impl Engine {
    /// The sealed evidence bundle of a document version (the latest when `None`), read
    /// from one consistent snapshot and verified against the server key before it is
    /// returned.
    pub async fn export_evidence(
        &self,
        document_slug: &str,
        version_number: Option<i32>,
        server_key: &SigningKey,
    ) -> Result<String, EngineError> {
        let tx = self.store().snapshot().await?;
        let document = tx
            .document_by_slug(document_slug)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_slug))?;
        let version = match version_number {
            Some(number) => tx.version_by_number(document.id, number).await?,
            None => tx.latest_version(document.id).await?,
        }
        .ok_or_else(|| {
            EngineError::Validation(format!(
                "'{document_slug}' has no such version; list its versions or leave --version out for the latest"
            ))
        })?;
        let instance = tx
            .instance_of_document(document.id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document.id))?;

        // Endorsements are the signed statements as stored: they name the document, the
        // signatory and the organisation as they were when signed, whatever was renamed
        // since.
        let mut endorsements = Vec::new();
        let mut keys: Vec<BundleKey> = Vec::new();
        for round in tx.signing_rounds_of(instance.id).await? {
            // Only this version's rounds that were not cancelled endorse it: a cancelled
            // round's signatures stay in the audit chain, but they endorse nothing.
            if round.version_number != version.number
                || round.status == SigningRoundStatus::Cancelled
            {
                continue;
            }
            for request in tx.signature_requests(round.id).await? {
                if request.status != SignatureRequestStatus::Signed {
                    continue;
                }
                let (Some(statement), Some(signature), Some(key_id)) =
                    (request.statement, request.signature, request.key_id)
                else {
                    return Err(corrupt(format!(
                        "signed request {} lacks its statement, signature or key",
                        request.id
                    )));
                };
                if !keys.iter().any(|k| k.id == key_id.get()) {
                    let key = tx
                        .signing_key(key_id)
                        .await?
                        .ok_or_else(|| EngineError::not_found("signing key", key_id))?;
                    let public = parse_stored_key(&key)?;
                    keys.push(BundleKey {
                        id: key.id.get(),
                        person_id: key.person_id.get(),
                        public_key: patto_sign::public_key_to_base64url(&public),
                        fingerprint: patto_sign::fingerprint(&public),
                    });
                }
                endorsements.push(Endorsement {
                    request_id: request.id.get(),
                    statement,
                    signature,
                    key_id: key_id.get(),
                });
            }
        }

        // Race tests pause here, between the endorsements and the chains, to commit a
        // signature in between: the snapshot keeps the two consistent.
        self.pause("export_evidence:chains").await;
        let events = tx.events(instance.id).await?;
        let audit = BundleChain {
            instance_id: instance.id.get(),
            events: events
                .iter()
                .map(|event| {
                    let withhold = WITHHELD_AUDIT_KINDS.contains(&event.kind.as_str());
                    event.to_bundle_entry(instance.id, withhold)
                })
                .collect::<Result<_, _>>()?,
            head_count: instance.event_count,
            head_hash: instance.head_hash,
        };

        let bundle_keys: HashSet<i64> = keys.iter().map(|key| key.id).collect();
        let (key_count, key_head) = tx.key_chain_head().await?;
        let mut key_actors = BTreeSet::new();
        let mut key_entries = Vec::new();
        for event in tx.key_events().await? {
            let payload = event.payload_value()?;
            let concerns_bundle = payload
                .get("key")
                .and_then(serde_json::Value::as_i64)
                .is_some_and(|key| bundle_keys.contains(&key));
            if concerns_bundle && let Some(actor) = event.actor_id {
                key_actors.insert(actor);
            }
            key_entries.push(event.to_bundle_entry(KEY_CHAIN_INSTANCE, !concerns_bundle)?);
        }
        let key_chain = BundleChain {
            instance_id: KEY_CHAIN_INSTANCE.get(),
            events: key_entries,
            head_count: key_count,
            head_hash: key_head,
        };
        let people = named(&tx, key_actors).await?;
        tx.commit().await?;

        let server_public = server_key.verifying_key();
        let bundle = Bundle {
            format: BUNDLE_FORMAT.to_owned(),
            exported_at: timestamp(now_micros()),
            document: BundleDocument {
                id: document.id.get(),
                slug: document.slug,
                title: document.title,
                kind: document.kind,
            },
            version: BundleVersion {
                number: version.number,
                sha256: version.content_sha256,
                content_base64: base64::engine::general_purpose::STANDARD.encode(&version.content),
                created_at: timestamp(version.created_at),
            },
            endorsements,
            keys,
            people,
            key_chain,
            audit,
            server: BundleServer {
                public_key: patto_sign::public_key_to_base64url(&server_public),
                fingerprint: patto_sign::fingerprint(&server_public),
            },
            seal: String::new(),
        };
        let text = patto_sign::seal(bundle, server_key)
            .map_err(|e| corrupt(format!("cannot seal the bundle: {e}")))?;
        // A bundle that would not verify is never handed out: it would discredit every
        // signature in it, and it means the stored history is not what it should be.
        patto_sign::verify_bundle_pinned(text.as_bytes(), &server_public).map_err(|e| {
            corrupt(format!(
                "the exported bundle of '{document_slug}' does not verify, so it was not written: {e}; run `patto audit verify --all`"
            ))
        })?;
        Ok(text)
    }
}

/// The names of these people, for the bundle to say who registered and approved keys.
async fn named(
    tx: &patto_store::Tx,
    ids: BTreeSet<PersonId>,
) -> Result<Vec<BundlePerson>, EngineError> {
    let mut people = Vec::with_capacity(ids.len());
    for id in ids {
        let person = tx
            .person(id)
            .await?
            .ok_or_else(|| EngineError::not_found("person", id))?;
        people.push(BundlePerson {
            id: id.get(),
            name: person.name,
        });
    }
    Ok(people)
}

fn corrupt(message: String) -> EngineError {
    EngineError::Store(patto_store::StoreError::Corrupt(message))
}
