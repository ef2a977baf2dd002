//! Signing rounds and their signature requests.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};

use patto_core::ids::*;
use patto_core::records::*;
use patto_core::status::{SignatureRequestStatus, SigningRoundStatus};

use super::*;
use crate::entities::*;
use crate::{StoreError, Tx};

/// Signature requests of the open round of an instance, counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureCounts {
    /// How many requests the round has.
    pub required: u64,
    /// How many are signed.
    pub signed: u64,
}

/// A signature to record on a pending request.
pub struct NewSignature<'a> {
    /// The request.
    pub request_id: SignatureRequestId,
    /// The canonical statement signed.
    pub statement: &'a str,
    /// The signature, base64url.
    pub signature: &'a str,
    /// The key that made it.
    pub key_id: SigningKeyId,
}

impl Tx {
    /// Opens a signing round on a frozen version with one pending request per signatory.
    pub async fn open_signing_round(
        &self,
        instance_id: InstanceId,
        document_id: DocumentId,
        version_number: i32,
        intent: &str,
        signing_order: &str,
        signatories: &[Signatory],
    ) -> Result<SigningRound, StoreError> {
        let round = signing_round::ActiveModel {
            instance_id: Set(instance_id.get()),
            document_id: Set(document_id.get()),
            version_number: Set(version_number),
            intent: Set(intent.to_owned()),
            signing_order: Set(signing_order.to_owned()),
            status: Set(SigningRoundStatus::Open.as_str().to_owned()),
            opened_at: Set(now()),
            closed_at: Set(None),
            ..Default::default()
        }
        .insert(&self.inner)
        .await?;
        let created_at = round.opened_at;
        for signatory in signatories {
            signature_request::ActiveModel {
                round_id: Set(round.id),
                organisation_id: Set(signatory.organisation_id.get()),
                person_id: Set(signatory.person_id.get()),
                position: Set(signatory.position),
                status: Set(SignatureRequestStatus::Pending.as_str().to_owned()),
                created_at: Set(created_at),
                decided_at: Set(None),
                statement: Set(None),
                signature: Set(None),
                key_id: Set(None),
                reason: Set(None),
                ..Default::default()
            }
            .insert(&self.inner)
            .await?;
        }
        record(round)
    }

    /// The open signing round of an instance, if any.
    pub async fn open_signing_round_of(
        &self,
        instance_id: InstanceId,
    ) -> Result<Option<SigningRound>, StoreError> {
        signing_round::Entity::find()
            .filter(signing_round::Column::InstanceId.eq(instance_id.get()))
            .filter(signing_round::Column::Status.eq(SigningRoundStatus::Open.as_str()))
            .order_by_desc(signing_round::Column::Id)
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// The requests of a round in signing order.
    pub async fn signature_requests(
        &self,
        round_id: SigningRoundId,
    ) -> Result<Vec<SignatureRequest>, StoreError> {
        records(
            signature_request::Entity::find()
                .filter(signature_request::Column::RoundId.eq(round_id.get()))
                .order_by_asc(signature_request::Column::Position)
                .all(&self.inner)
                .await?,
        )
    }

    /// The requests of a round, counted.
    pub async fn signature_counts(
        &self,
        round_id: SigningRoundId,
    ) -> Result<SignatureCounts, StoreError> {
        // A cancelled request is no longer required: its substitute, if any, is.
        let required = signature_request::Entity::find()
            .filter(signature_request::Column::RoundId.eq(round_id.get()))
            .filter(
                signature_request::Column::Status.ne(SignatureRequestStatus::Cancelled.as_str()),
            )
            .count(&self.inner)
            .await?;
        let signed = signature_request::Entity::find()
            .filter(signature_request::Column::RoundId.eq(round_id.get()))
            .filter(signature_request::Column::Status.eq(SignatureRequestStatus::Signed.as_str()))
            .count(&self.inner)
            .await?;
        Ok(SignatureCounts { required, signed })
    }

    /// Closes the open round of an instance with `status` (e.g. completed, cancelled).
    pub async fn close_signing_rounds(
        &self,
        instance_id: InstanceId,
        status: SigningRoundStatus,
    ) -> Result<u64, StoreError> {
        let result = signing_round::Entity::update_many()
            .col_expr(signing_round::Column::Status, Expr::value(status.as_str()))
            .col_expr(signing_round::Column::ClosedAt, Expr::value(now()))
            .filter(signing_round::Column::InstanceId.eq(instance_id.get()))
            .filter(signing_round::Column::Status.eq(SigningRoundStatus::Open.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected)
    }

    /// The signing round with this id.
    pub async fn signing_round(
        &self,
        id: SigningRoundId,
    ) -> Result<Option<SigningRound>, StoreError> {
        signing_round::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Every signing round of an instance, oldest first.
    pub async fn signing_rounds_of(
        &self,
        instance_id: InstanceId,
    ) -> Result<Vec<SigningRound>, StoreError> {
        records(
            signing_round::Entity::find()
                .filter(signing_round::Column::InstanceId.eq(instance_id.get()))
                .order_by_asc(signing_round::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// The signature request with this id.
    pub async fn signature_request(
        &self,
        id: SignatureRequestId,
    ) -> Result<Option<SignatureRequest>, StoreError> {
        signature_request::Entity::find_by_id(id.get())
            .one(&self.inner)
            .await?
            .map(record)
            .transpose()
    }

    /// Records a signature on a request still pending; `false` when it no longer is.
    pub async fn record_signature(&self, new: NewSignature<'_>) -> Result<bool, StoreError> {
        let result = signature_request::Entity::update_many()
            .col_expr(
                signature_request::Column::Status,
                Expr::value(SignatureRequestStatus::Signed.as_str()),
            )
            .col_expr(signature_request::Column::DecidedAt, Expr::value(now()))
            .col_expr(
                signature_request::Column::Statement,
                Expr::value(new.statement),
            )
            .col_expr(
                signature_request::Column::Signature,
                Expr::value(new.signature),
            )
            .col_expr(
                signature_request::Column::KeyId,
                Expr::value(new.key_id.get()),
            )
            .filter(signature_request::Column::Id.eq(new.request_id.get()))
            .filter(signature_request::Column::Status.eq(SignatureRequestStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// The pending requests of open rounds addressed to the person for the organisation.
    pub async fn pending_requests_of(
        &self,
        person_id: PersonId,
        organisation_id: OrganisationId,
    ) -> Result<Vec<SignatureRequest>, StoreError> {
        let open_rounds = Query::select()
            .column(signing_round::Column::Id)
            .from(signing_round::Entity)
            .and_where(
                Expr::col(signing_round::Column::Status).eq(SigningRoundStatus::Open.as_str()),
            )
            .to_owned();
        records(
            signature_request::Entity::find()
                .filter(signature_request::Column::PersonId.eq(person_id.get()))
                .filter(signature_request::Column::OrganisationId.eq(organisation_id.get()))
                .filter(
                    signature_request::Column::Status.eq(SignatureRequestStatus::Pending.as_str()),
                )
                .filter(signature_request::Column::RoundId.in_subquery(open_rounds))
                .order_by_asc(signature_request::Column::Id)
                .all(&self.inner)
                .await?,
        )
    }

    /// Cancels a pending request, with the reason; `false` when it is no longer pending.
    pub async fn cancel_request(
        &self,
        id: SignatureRequestId,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let result = signature_request::Entity::update_many()
            .col_expr(
                signature_request::Column::Status,
                Expr::value(SignatureRequestStatus::Cancelled.as_str()),
            )
            .col_expr(signature_request::Column::DecidedAt, Expr::value(now()))
            .col_expr(signature_request::Column::Reason, Expr::value(reason))
            .filter(signature_request::Column::Id.eq(id.get()))
            .filter(signature_request::Column::Status.eq(SignatureRequestStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Adds a pending request for `person_id` in the round of a cancelled one, for the
    /// same organisation at the same place in the signing order: its substitute.
    pub async fn insert_signature_request(
        &self,
        replaced: &SignatureRequest,
        person_id: PersonId,
    ) -> Result<SignatureRequest, StoreError> {
        record(
            signature_request::ActiveModel {
                round_id: Set(replaced.round_id.get()),
                organisation_id: Set(replaced.organisation_id.get()),
                person_id: Set(person_id.get()),
                position: Set(replaced.position),
                status: Set(SignatureRequestStatus::Pending.as_str().to_owned()),
                created_at: Set(now()),
                decided_at: Set(None),
                statement: Set(None),
                signature: Set(None),
                key_id: Set(None),
                reason: Set(None),
                ..Default::default()
            }
            .insert(&self.inner)
            .await?,
        )
    }

    /// Records that a signatory declined; `false` when the request is no longer pending.
    pub async fn decline_request(
        &self,
        id: SignatureRequestId,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let result = signature_request::Entity::update_many()
            .col_expr(
                signature_request::Column::Status,
                Expr::value(SignatureRequestStatus::Declined.as_str()),
            )
            .col_expr(signature_request::Column::DecidedAt, Expr::value(now()))
            .col_expr(signature_request::Column::Reason, Expr::value(reason))
            .filter(signature_request::Column::Id.eq(id.get()))
            .filter(signature_request::Column::Status.eq(SignatureRequestStatus::Pending.as_str()))
            .exec(&self.inner)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
