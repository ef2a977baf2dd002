//! Repairing a signing round after a signatory left their organisation: a coordinator
//! names a substitute for that organisation, in the same round.

use async_graphql::{Context, ID, Object};
use patto_core::ids::{PersonId, SignatureRequestId};

use super::id_of;
use super::mutation::acting;
use super::types::SignatureRequest;
use crate::error::{ApiResult, engine};

/// The mutation that names a substitute signatory.
#[derive(Default)]
pub struct SubstitutionMutation;

#[Object]
impl SubstitutionMutation {
    /// Names `substitute`, a member of the same organisation, in place of the signatory
    /// of `request`, which was cancelled when they left that organisation: a new pending
    /// request in the same open round, at the same place in the order. A coordinator of
    /// the document may. Returns the new request.
    async fn substitute_signatory(
        &self,
        ctx: &Context<'_>,
        request: ID,
        substitute: ID,
    ) -> ApiResult<SignatureRequest> {
        let (cx, actor) = acting(ctx)?;
        let request_id: SignatureRequestId = id_of("signature request", &request)?;
        let substitute: PersonId = id_of("person", &substitute)?;
        let added = engine(
            cx.engine
                .substitute_signatory(actor, request_id, substitute)
                .await,
        )?;
        // The new request, as the coordinator reads it (with its document and statement).
        engine(cx.engine.readable_signature_request(actor, added.id).await).map(SignatureRequest)
    }
}
