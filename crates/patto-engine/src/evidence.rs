//! Evidence bundles: one JSON file with a document version, its endorsements, the keys
//! and their registry chain, and the document's whole audit chain, sealed by the server
//! key so that anyone can check it offline with `patto verify`.

use base64::Engine as _;
use patto_core::ids::InstanceId;
use patto_core::status::{SignatureRequestStatus, SigningRoundStatus};
use patto_sign::{
    BUNDLE_FORMAT, Bundle, BundleChain, BundleDocument, BundleKey, BundleServer, BundleVersion,
    Endorsement, SigningKey,
};

use crate::audit::{StoredLink, now_micros, timestamp};
use crate::keys::KEY_CHAIN_INSTANCE;
use crate::signing::parse_stored_key;
use crate::{Engine, EngineError};

impl Engine {
    /// The sealed evidence bundle of a document version (the latest when `None`).
    pub async fn export_evidence(
        &self,
        document_slug: &str,
        version_number: Option<i32>,
        server_key: &SigningKey,
    ) -> Result<String, EngineError> {
        let tx = self.store().read().await?;
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
                let person = tx
                    .person(request.person_id)
                    .await?
                    .ok_or_else(|| EngineError::not_found("person", request.person_id))?;
                let organisation =
                    tx.organisation(request.organisation_id)
                        .await?
                        .ok_or_else(|| {
                            EngineError::not_found("organisation", request.organisation_id)
                        })?;
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
                    organisation: organisation.name,
                    person: person.name,
                    email: person.email,
                    intent: round.intent.clone(),
                    statement,
                    signature,
                    key_id: key_id.get(),
                });
            }
        }

        let audit = bundle_chain(
            instance.id,
            &tx.events(instance.id).await?,
            instance.event_count,
            instance.head_hash,
        )?;
        let (key_count, key_head) = tx.key_chain_head().await?;
        let key_chain = bundle_chain(
            KEY_CHAIN_INSTANCE,
            &tx.key_events().await?,
            key_count,
            key_head,
        )?;
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
            key_chain,
            audit,
            server: BundleServer {
                public_key: patto_sign::public_key_to_base64url(&server_public),
                fingerprint: patto_sign::fingerprint(&server_public),
            },
            seal: String::new(),
        };
        patto_sign::seal(bundle, server_key)
            .map_err(|e| corrupt(format!("cannot seal the bundle: {e}")))
    }
}

/// The bundle form of a whole chain, from its stored entries and recorded head.
fn bundle_chain<T: StoredLink>(
    instance_id: InstanceId,
    entries: &[T],
    head_count: i64,
    head_hash: String,
) -> Result<BundleChain, EngineError> {
    Ok(BundleChain {
        instance_id: instance_id.get(),
        events: entries
            .iter()
            .map(StoredLink::to_bundle_event)
            .collect::<Result<_, _>>()?,
        head_count,
        head_hash,
    })
}

fn corrupt(message: String) -> EngineError {
    EngineError::Store(patto_store::StoreError::Corrupt(message))
}
