//! Signing rounds: the statement each signatory signs, the checks a submitted signature
//! must pass, declines, and the cancellation of a round when the text changes.

use std::time::Instant;

use patto_core::ids::{DocumentId, OrganisationId, PersonId, SignatureRequestId};
use patto_core::records::{Document, SignatureRequest, SigningKey, SigningRound, WorkflowInstance};
use patto_core::status::{SignatureRequestStatus, SigningKeyStatus, SigningRoundStatus};
use patto_sign::{Statement, VerifyingKey};
use patto_store::{NewSignature, Tx};
use serde_json::json;

use crate::error::ErrorCode;
use crate::roles::{may_decline_for, may_submit_for, require_on_document};
use crate::workflow::StepTaken;
use crate::{Actor, Engine, EngineError, audit};

/// The pause point where a signature submission is about to start its transaction and
/// take the key registry's lock.
pub const SIGNATURE_TAKING_KEY_LOCK: &str = "submit_signature:key_lock";

/// Why a signature or a decline was refused. Each says what the signatory can do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    /// The actor is not the request's signatory (nor, for a signature, an operator
    /// relaying it); the system never answers a request.
    #[error(
        "signature request {request} is not yours: it is for {expected}, who answers it through their own session or with a statement signed by their own key"
    )]
    NotYourRequest {
        /// The request.
        request: SignatureRequestId,
        /// The e-mail address of the person whose request it is.
        expected: String,
    },
    /// The request's round is closed.
    #[error(
        "the signing round of request {request} is {status}, not open: ask the coordinators whether a new round is open"
    )]
    RoundNotOpen {
        /// The request.
        request: SignatureRequestId,
        /// What the round became.
        status: SigningRoundStatus,
    },
    /// The request is no longer pending.
    #[error("request {request} is already {status}; nothing more to do")]
    AlreadyDecided {
        /// The request.
        request: SignatureRequestId,
        /// What the request became.
        status: SignatureRequestStatus,
    },
    /// Signing is in order and an earlier signatory has not signed yet.
    #[error("signing is in order and it is not your turn yet: {waiting_for} signs first")]
    NotYourTurn {
        /// Who signs next.
        waiting_for: String,
    },
    /// The signatory has no approved key.
    #[error(
        "{person} has no approved signing key: register one with `patto keygen` and ask a coordinator of your organisation to approve it"
    )]
    NoApprovedKey {
        /// The signatory's e-mail address.
        person: String,
    },
    /// The signature was made with a key still waiting for approval.
    #[error(
        "the signature was made with key {fingerprint}, which is still waiting for approval: ask a coordinator of your organisation to approve it"
    )]
    KeyPending {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signature was made with a revoked key.
    #[error(
        "the signature was made with key {fingerprint}, which was revoked ({reason}): sign with your current key"
    )]
    KeyRevoked {
        /// The key's fingerprint.
        fingerprint: String,
        /// Why it was revoked.
        reason: String,
    },
    /// The signature was made with a key that a newer one replaced.
    #[error(
        "the signature was made with key {fingerprint}, which was replaced by a newer key: sign with your current key"
    )]
    KeyRotated {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signatory no longer belongs to the organisation the request is for.
    #[error(
        "{person} no longer belongs to {organisation} and cannot sign for it: a coordinator names a substitute signatory, or cancels and reopens the round"
    )]
    NotAMember {
        /// The signatory's e-mail address.
        person: String,
        /// The organisation's name.
        organisation: String,
    },
    /// The submitted statement differs from the request's.
    #[error("the statement you signed differs from the one for request {request} in: {}; sign exactly the output of `patto statement --request {request}`", fields.join(", "))]
    StatementMismatch {
        /// The request.
        request: SignatureRequestId,
        /// The statement's fields that differ.
        fields: Vec<&'static str>,
    },
    /// The submitted statement is not an endorsement statement.
    #[error(
        "the statement is not a valid endorsement statement ({0}); sign exactly the output of `patto statement`"
    )]
    StatementMalformed(String),
    /// The signature is not a 64-byte Ed25519 signature.
    #[error(
        "the signature is malformed ({0}); give the 64-byte Ed25519 signature written by `patto sign`"
    )]
    SignatureMalformed(String),
    /// The signature does not verify with the signatory's approved key.
    #[error(
        "the signature does not verify with your approved key {fingerprint} over the statement of request {request}: sign exactly `patto statement --request {request}` with that key"
    )]
    BadSignature {
        /// The request.
        request: SignatureRequestId,
        /// The approved key's fingerprint.
        fingerprint: String,
    },
}

impl SignatureRefusal {
    /// The stable code clients see for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            SignatureRefusal::NotYourRequest { .. } | SignatureRefusal::NotAMember { .. } => {
                ErrorCode::Forbidden
            }
            SignatureRefusal::RoundNotOpen { .. }
            | SignatureRefusal::AlreadyDecided { .. }
            | SignatureRefusal::NotYourTurn { .. } => ErrorCode::Conflict,
            SignatureRefusal::NoApprovedKey { .. }
            | SignatureRefusal::KeyPending { .. }
            | SignatureRefusal::KeyRevoked { .. }
            | SignatureRefusal::KeyRotated { .. }
            | SignatureRefusal::StatementMismatch { .. }
            | SignatureRefusal::StatementMalformed(_)
            | SignatureRefusal::SignatureMalformed(_)
            | SignatureRefusal::BadSignature { .. } => ErrorCode::InvalidSignature,
        }
    }
}

fn refuse(refusal: SignatureRefusal) -> EngineError {
    EngineError::Signature(refusal)
}

/// What a signature or a decline led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureOutcome {
    /// The request signed or declined.
    pub request_id: SignatureRequestId,
    /// The document's state afterwards.
    pub state: String,
    /// The instance's version afterwards, for the next change.
    pub version: i64,
    /// Automatic transitions the signature made fire (e.g. signing -> in force).
    pub steps: Vec<StepTaken>,
}

/// A signature request with what a signatory needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestView {
    /// The request.
    pub request: SignatureRequest,
    /// Its signing round.
    pub round: SigningRound,
    /// The slug of the document being signed.
    pub document_slug: String,
    /// The name of the organisation signed for.
    pub organisation: String,
    /// The signatory's e-mail address.
    pub person_email: String,
}

impl Engine {
    /// The canonical statement the signatory of `request_id` must sign.
    pub async fn statement_for(
        &self,
        request_id: SignatureRequestId,
    ) -> Result<String, EngineError> {
        let tx = self.store().read().await?;
        let request = tx
            .signature_request(request_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
        let statement = build_statement(&tx, &request).await?;
        tx.commit().await?;
        Ok(statement.to_canonical())
    }

    /// The requests of every round on a document, oldest first.
    pub async fn signature_requests(
        &self,
        document_id: DocumentId,
    ) -> Result<Vec<RequestView>, EngineError> {
        let tx = self.store().read().await?;
        let document = tx
            .document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("document", document_id))?;
        let instance = tx
            .instance_of_document(document_id)
            .await?
            .ok_or_else(|| EngineError::not_found("workflow instance of document", document_id))?;
        let mut views = Vec::new();
        for round in tx.signing_rounds_of(instance.id).await? {
            for request in tx.signature_requests(round.id).await? {
                let organisation = tx
                    .organisation(request.organisation_id)
                    .await?
                    .map(|o| o.name)
                    .unwrap_or_default();
                let person_email = tx
                    .person(request.person_id)
                    .await?
                    .map(|p| p.email)
                    .unwrap_or_default();
                views.push(RequestView {
                    request,
                    round: round.clone(),
                    document_slug: document.slug.clone(),
                    organisation,
                    person_email,
                });
            }
        }
        tx.commit().await?;
        Ok(views)
    }

    /// Accepts a signature for a request after every check; the automatic transition the
    /// last needed signature enables fires in the same transaction.
    ///
    /// `statement` is what the signatory signed, when they send it: it lets a mismatch
    /// be named field by field. Without it the signature is checked against the
    /// statement the server builds.
    pub async fn submit_signature(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
        statement: Option<&[u8]>,
        signature: &[u8],
    ) -> Result<SignatureOutcome, EngineError> {
        let started = Instant::now();
        self.pause(SIGNATURE_TAKING_KEY_LOCK).await;
        let (tx, document, mut instance, request, round) = self
            .begin_on_request(actor, request_id, Answer::Sign)
            .await?;
        // The key registry is locked until this signature commits, so that no key change
        // commits between the check below and the signature: a revocation in progress
        // is waited for and then seen. The signature records which registry it saw.
        let (key_chain_seq, _) = tx.key_chain_head_for_update().await?;
        // Membership is checked now, not when the round opened: someone who left the
        // organisation since no longer signs for it.
        if !tx
            .belongs_to(request.person_id, request.organisation_id)
            .await?
        {
            return Err(not_a_member(&tx, &request).await?);
        }
        check_turn(&tx, &round, &request).await?;
        let expected = build_statement(&tx, &request).await?;
        if let Some(signed) = statement {
            let signed = Statement::from_canonical(signed)
                .map_err(|e| refuse(SignatureRefusal::StatementMalformed(e.to_string())))?;
            let fields = expected.differences(&signed);
            if !fields.is_empty() {
                return Err(refuse(SignatureRefusal::StatementMismatch {
                    request: request_id,
                    fields,
                }));
            }
        }
        if signature.len() != patto_sign::SIGNATURE_LENGTH {
            return Err(refuse(SignatureRefusal::SignatureMalformed(format!(
                "{} bytes instead of {}",
                signature.len(),
                patto_sign::SIGNATURE_LENGTH
            ))));
        }
        let canonical = expected.to_canonical();
        let key = signing_key_for(&tx, &request, canonical.as_bytes(), signature).await?;
        let encoded = patto_sign::encode_signature(signature);
        let recorded = tx
            .record_signature(NewSignature {
                request_id,
                statement: &canonical,
                signature: &encoded,
                key_id: key.id,
            })
            .await?;
        if !recorded {
            return Err(already_decided(&tx, request_id).await?);
        }
        audit::append(
            &tx,
            &mut instance,
            "signature_accepted",
            actor,
            &json!({
                "request": request_id,
                "key": key.id,
                "person": request.person_id,
                "organisation": request.organisation_id,
                "statement_sha256": patto_sign::content_hash(canonical.as_bytes()),
                "signature": encoded,
                "key_chain_seq": key_chain_seq,
            }),
        )
        .await?;
        let steps = self.settle_and_commit(tx, &document, &mut instance).await?;
        tracing::info!(
            document_id = document.id.get(),
            instance_id = instance.id.get(),
            request_id = request_id.get(),
            key_id = key.id.get(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "signature accepted"
        );
        Ok(SignatureOutcome {
            request_id,
            state: instance.state,
            version: instance.version,
            steps,
        })
    }

    /// Records that a signatory declines to sign, with their reason, and tells the
    /// coordinators.
    pub async fn decline_signature(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
        reason: &str,
    ) -> Result<SignatureOutcome, EngineError> {
        crate::validate::display_line("reason for declining", reason)?;
        let (tx, document, mut instance, request, _round) = self
            .begin_on_request(actor, request_id, Answer::Decline)
            .await?;
        if !tx.decline_request(request_id, reason.trim()).await? {
            return Err(already_decided(&tx, request_id).await?);
        }
        let event = audit::append(
            &tx,
            &mut instance,
            "signature_declined",
            actor,
            &json!({
                "request": request_id,
                "person": request.person_id,
                "organisation": request.organisation_id,
                "reason": reason.trim(),
            }),
        )
        .await?;
        self.enqueue_notifications(
            &tx,
            &document,
            &instance,
            event.seq,
            &[patto_core::Role::Coordinator],
            crate::mail::SIGNATURE_DECLINED_TEMPLATE,
            json!({
                "document": { "id": document.id, "slug": document.slug, "title": document.title },
                "request": request_id,
                "reason": reason.trim(),
            }),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(
            document_id = document.id.get(),
            instance_id = instance.id.get(),
            request_id = request_id.get(),
            "signature declined"
        );
        Ok(SignatureOutcome {
            request_id,
            state: instance.state,
            version: instance.version,
            steps: Vec::new(),
        })
    }

    /// Opens a write transaction on the document of a request, after checking that the
    /// actor may act on it and that it is still pending in an open round.
    async fn begin_on_request(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
        answer: Answer,
    ) -> Result<
        (
            Tx,
            Document,
            WorkflowInstance,
            SignatureRequest,
            SigningRound,
        ),
        EngineError,
    > {
        let read = self.store().read().await?;
        let request = read
            .signature_request(request_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
        let round = read
            .signing_round(request.round_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
        read.commit().await?;
        let (tx, document, instance) = self.begin_on_document(round.document_id).await?;
        // Read again under the write lock: the request may have changed meanwhile.
        let request = tx
            .signature_request(request_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
        let round = tx
            .signing_round(request.round_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
        let allowed = match answer {
            Answer::Sign => may_submit_for(&tx, actor, request.person_id).await?,
            Answer::Decline => may_decline_for(actor, request.person_id),
        };
        if !allowed {
            let expected = tx
                .person(request.person_id)
                .await?
                .map(|p| p.email)
                .unwrap_or_default();
            return Err(refuse(SignatureRefusal::NotYourRequest {
                request: request_id,
                expected,
            }));
        }
        if round.status != SigningRoundStatus::Open {
            return Err(refuse(SignatureRefusal::RoundNotOpen {
                request: request_id,
                status: round.status,
            }));
        }
        if request.status != SignatureRequestStatus::Pending {
            return Err(refuse(SignatureRefusal::AlreadyDecided {
                request: request_id,
                status: request.status,
            }));
        }
        Ok((tx, document, instance, request, round))
    }

    /// Cancels the pending requests a person had for an organisation they no longer
    /// belong to, in the caller's transaction (their membership was just removed): each
    /// cancellation is audited in its document's chain and told to the coordinators, who
    /// name a substitute ([`Engine::substitute_signatory`]) or cancel and reopen the round,
    /// so that no round is left silently unable to finish.
    pub(crate) async fn cancel_requests_of_departed(
        &self,
        tx: &Tx,
        actor: Actor,
        person_id: PersonId,
        organisation_id: OrganisationId,
    ) -> Result<(), EngineError> {
        if tx.belongs_to(person_id, organisation_id).await? {
            return Ok(());
        }
        let reason = "the signatory no longer belongs to the organisation";
        for request in tx.pending_requests_of(person_id, organisation_id).await? {
            let round = tx
                .signing_round(request.round_id)
                .await?
                .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
            let document = tx
                .document(round.document_id)
                .await?
                .ok_or_else(|| EngineError::not_found("document", round.document_id))?;
            let mut instance = tx
                .instance_of_document_for_update(round.document_id)
                .await?
                .ok_or_else(|| EngineError::not_found("workflow instance", round.instance_id))?;
            if !tx.cancel_request(request.id, reason).await? {
                continue;
            }
            let event = audit::append(
                tx,
                &mut instance,
                "signature_request_cancelled",
                actor,
                &json!({
                    "request": request.id,
                    "person": person_id,
                    "organisation": organisation_id,
                    "reason": reason,
                }),
            )
            .await?;
            self.enqueue_notifications(
                tx,
                &document,
                &instance,
                event.seq,
                &[patto_core::Role::Coordinator],
                "signature_request_cancelled",
                json!({
                    "document": { "id": document.id, "slug": document.slug, "title": document.title },
                    "request": request.id,
                    "organisation": organisation_id,
                    "reason": reason,
                }),
            )
            .await?;
        }
        Ok(())
    }

    /// Names a substitute signatory for a request cancelled because its signatory left
    /// their organisation: a new pending request in the same open round, for the same
    /// organisation at the same place in the order. Only a coordinator of the document
    /// may, and the substitute must belong to that organisation.
    pub async fn substitute_signatory(
        &self,
        actor: Actor,
        request_id: SignatureRequestId,
        substitute: PersonId,
    ) -> Result<SignatureRequest, EngineError> {
        let document_id = {
            let read = self.store().read().await?;
            let request = read
                .signature_request(request_id)
                .await?
                .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
            let round = read
                .signing_round(request.round_id)
                .await?
                .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
            read.commit().await?;
            round.document_id
        };
        let (tx, document, mut instance) = self.begin_on_document(document_id).await?;
        require_on_document(
            &tx,
            actor,
            &document,
            &[patto_core::Role::Coordinator],
            "name a substitute signatory",
        )
        .await?;
        let request = tx
            .signature_request(request_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
        let round = tx
            .signing_round(request.round_id)
            .await?
            .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
        if request.status != SignatureRequestStatus::Cancelled
            || round.status != SigningRoundStatus::Open
        {
            return Err(EngineError::Conflict(format!(
                "request {request_id} is {} in a round that is {}: a substitute replaces a cancelled request of an open round",
                request.status, round.status
            )));
        }
        let replaced = tx.signature_requests(round.id).await?.into_iter().any(|r| {
            r.position == request.position
                && r.organisation_id == request.organisation_id
                && r.status != SignatureRequestStatus::Cancelled
        });
        if replaced {
            return Err(EngineError::Conflict(format!(
                "request {request_id} already has a substitute in this round"
            )));
        }
        if !tx.belongs_to(substitute, request.organisation_id).await? {
            return Err(EngineError::Validation(format!(
                "person {substitute} does not belong to organisation {}, for which request {request_id} signs: name one of its members",
                request.organisation_id
            )));
        }
        let added = tx.insert_signature_request(&request, substitute).await?;
        audit::append(
            &tx,
            &mut instance,
            "signatory_substituted",
            actor,
            &json!({
                "request": request_id,
                "substitute_request": added.id,
                "person": substitute,
                "organisation": request.organisation_id,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Cancels the open round of an instance, keeping its signatures in the audit trail.
    pub(crate) async fn cancel_open_round(
        &self,
        tx: &Tx,
        instance: &mut WorkflowInstance,
        actor: Actor,
        reason: &str,
    ) -> Result<(), EngineError> {
        let Some(round) = tx.open_signing_round_of(instance.id).await? else {
            return Ok(());
        };
        tx.close_signing_rounds(instance.id, SigningRoundStatus::Cancelled)
            .await?;
        audit::append(
            tx,
            instance,
            "signing_cancelled",
            actor,
            &json!({ "round": round.id, "version": round.version_number, "reason": reason }),
        )
        .await?;
        Ok(())
    }
}

/// How a request is answered: who may answer depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    /// A signature, which the addressee or an operator relaying it submits.
    Sign,
    /// A decline, which only the addressee makes.
    Decline,
}

/// In a sequential round, every earlier signatory must have signed.
async fn check_turn(
    tx: &Tx,
    round: &SigningRound,
    request: &SignatureRequest,
) -> Result<(), EngineError> {
    if round.signing_order != patto_core::workflow::SigningOrder::Sequential.as_str() {
        return Ok(());
    }
    let earlier_pending = tx
        .signature_requests(round.id)
        .await?
        .into_iter()
        .find(|r| {
            r.position < request.position
                && !matches!(
                    r.status,
                    SignatureRequestStatus::Signed | SignatureRequestStatus::Cancelled
                )
        });
    match earlier_pending {
        None => Ok(()),
        Some(first) => {
            let waiting_for = tx
                .organisation(first.organisation_id)
                .await?
                .map(|o| o.name)
                .unwrap_or_else(|| format!("organisation {}", first.organisation_id));
            Err(refuse(SignatureRefusal::NotYourTurn { waiting_for }))
        }
    }
}

/// The statement for a request, rebuilt from what the database holds.
async fn build_statement(tx: &Tx, request: &SignatureRequest) -> Result<Statement, EngineError> {
    let round = tx
        .signing_round(request.round_id)
        .await?
        .ok_or_else(|| EngineError::not_found("signing round", request.round_id))?;
    let document = tx
        .document(round.document_id)
        .await?
        .ok_or_else(|| EngineError::not_found("document", round.document_id))?;
    let version = tx
        .version_by_number(document.id, round.version_number)
        .await?
        .ok_or_else(|| EngineError::not_found("version", round.version_number))?;
    let person = tx
        .person(request.person_id)
        .await?
        .ok_or_else(|| EngineError::not_found("person", request.person_id))?;
    let organisation = tx
        .organisation(request.organisation_id)
        .await?
        .ok_or_else(|| EngineError::not_found("organisation", request.organisation_id))?;
    Ok(Statement::new(
        request.id.get(),
        document.id.get(),
        &document.slug,
        &document.title,
        version.number,
        &version.content_sha256,
        person.id.get(),
        &person.name,
        organisation.id.get(),
        &organisation.name,
        &round.intent,
        &audit::timestamp(request.created_at),
    ))
}

/// The signatory's approved key, if the signature verifies with it; otherwise the most
/// precise reason why not, found by trying the signatory's other keys.
async fn signing_key_for(
    tx: &Tx,
    request: &SignatureRequest,
    message: &[u8],
    signature: &[u8],
) -> Result<SigningKey, EngineError> {
    let keys = tx
        .signing_keys_for(request.person_id, request.organisation_id)
        .await?;
    // A stored key that cannot be read is the server's fault, reported as INTERNAL: it
    // must never be passed off to the signer as a signature that does not verify.
    let verifies = |key: &SigningKey| -> Result<bool, EngineError> {
        let public = parse_stored_key(key)?;
        Ok(patto_sign::verify(&public, message, signature).is_ok())
    };
    let approved = keys.iter().find(|k| k.status == SigningKeyStatus::Approved);
    if let Some(key) = approved
        && verifies(key)?
    {
        return Ok(key.clone());
    }
    let mut verifying_other = None;
    for key in keys
        .iter()
        .filter(|k| k.status != SigningKeyStatus::Approved)
    {
        if verifies(key)? {
            verifying_other = Some(key);
            break;
        }
    }
    if let Some(other) = verifying_other {
        let fingerprint = other.fingerprint.clone();
        return Err(refuse(match other.status {
            SigningKeyStatus::Revoked => SignatureRefusal::KeyRevoked {
                fingerprint,
                reason: other.revoke_reason.clone().unwrap_or_default(),
            },
            SigningKeyStatus::Rotated => SignatureRefusal::KeyRotated { fingerprint },
            SigningKeyStatus::Pending => SignatureRefusal::KeyPending { fingerprint },
            // Unreachable: the approved key was looked for first, and this one differs.
            SigningKeyStatus::Approved => SignatureRefusal::BadSignature {
                request: request.id,
                fingerprint,
            },
        }));
    }
    match approved {
        Some(key) => Err(refuse(SignatureRefusal::BadSignature {
            request: request.id,
            fingerprint: key.fingerprint.clone(),
        })),
        None => {
            let person = tx
                .person(request.person_id)
                .await?
                .map(|p| p.email)
                .unwrap_or_default();
            Err(refuse(SignatureRefusal::NoApprovedKey { person }))
        }
    }
}

/// The refusal for a signatory who left the organisation of their request.
async fn not_a_member(tx: &Tx, request: &SignatureRequest) -> Result<EngineError, EngineError> {
    let person = tx
        .person(request.person_id)
        .await?
        .map(|p| p.email)
        .unwrap_or_default();
    let organisation = tx
        .organisation(request.organisation_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(refuse(SignatureRefusal::NotAMember {
        person,
        organisation,
    }))
}

/// The refusal for a request that stopped being pending while this transaction ran
/// (another submission or decline won), naming what it became.
async fn already_decided(
    tx: &Tx,
    request_id: SignatureRequestId,
) -> Result<EngineError, EngineError> {
    let request = tx
        .signature_request(request_id)
        .await?
        .ok_or_else(|| EngineError::not_found("signature request", request_id))?;
    Ok(refuse(SignatureRefusal::AlreadyDecided {
        request: request_id,
        status: request.status,
    }))
}

pub(crate) fn parse_stored_key(key: &SigningKey) -> Result<VerifyingKey, EngineError> {
    patto_sign::public_key_from_base64url(&key.public_key).map_err(|e| {
        EngineError::Store(patto_store::StoreError::Corrupt(format!(
            "stored key {} is unreadable: {e}",
            key.id
        )))
    })
}
