//! The statuses of stored rows, each with exactly one string form.
//!
//! The store writes [`as_str`](SigningRoundStatus::as_str) and reads back with
//! `FromStr`; messages translate from the enum. A status string therefore appears in
//! one place only, here.

use crate::domain::named_enum;

named_enum! {
    /// Where a signing round stands.
    SigningRoundStatus, "signing round status" {
        /// Waiting for signatures.
        Open => "open",
        /// Every signatory signed.
        Completed => "completed",
        /// Closed before completion (a decline, a withdrawal, a new version).
        Cancelled => "cancelled",
    }
}

named_enum! {
    /// Where one signatory's request stands.
    SignatureRequestStatus, "signature request status" {
        /// Not decided yet.
        Pending => "pending",
        /// Signed with an approved key.
        Signed => "signed",
        /// Declined, with a reason.
        Declined => "declined",
        /// Cancelled because its signatory left the organisation they were to sign for;
        /// a coordinator names a substitute, or cancels and reopens the round.
        Cancelled => "cancelled",
    }
}

named_enum! {
    /// The life of a signing key in the registry.
    SigningKeyStatus, "signing key status" {
        /// Registered, waiting for the approval of a coordinator or admin of the holder's
        /// organisation.
        Pending => "pending",
        /// Approved: signatures made with it are accepted.
        Approved => "approved",
        /// Replaced by a newer key; earlier signatures stay valid.
        Rotated => "rotated",
        /// Revoked: no longer accepted.
        Revoked => "revoked",
    }
}

named_enum! {
    /// Where a commitment of a document stands.
    CommitmentStatus, "commitment status" {
        /// Agreed, not started.
        Open => "open",
        /// Under way.
        InProgress => "in_progress",
        /// Fulfilled.
        Done => "done",
        /// Dropped.
        Cancelled => "cancelled",
    }
}

named_enum! {
    /// Where an outbox message stands.
    OutboxStatus, "outbox status" {
        /// Waiting to be sent (or retried).
        Pending => "pending",
        /// Handed to the mail server.
        Sent => "sent",
        /// Given up on after the last attempt; stays visible.
        Failed => "failed",
        /// Not sent because it expired first (a login code nobody can use any more);
        /// never retried.
        Dropped => "dropped",
    }
}

named_enum! {
    /// What a bearer token was issued for.
    TokenKind, "token kind" {
        /// A person's session, from an e-mail login; revoked by logging out.
        Session => "session",
        /// A token for scripts, printed by `patto token create` for an operator.
        Api => "api",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_string_form() {
        for status in SigningRoundStatus::ALL {
            assert_eq!(status.as_str().parse::<SigningRoundStatus>(), Ok(*status));
        }
        for status in SignatureRequestStatus::ALL {
            assert_eq!(
                status.as_str().parse::<SignatureRequestStatus>(),
                Ok(*status)
            );
        }
        for status in SigningKeyStatus::ALL {
            assert_eq!(status.as_str().parse::<SigningKeyStatus>(), Ok(*status));
        }
        for status in CommitmentStatus::ALL {
            assert_eq!(status.as_str().parse::<CommitmentStatus>(), Ok(*status));
        }
        for kind in TokenKind::ALL {
            assert_eq!(kind.as_str().parse::<TokenKind>(), Ok(*kind));
        }
        for status in OutboxStatus::ALL {
            assert_eq!(status.as_str().parse::<OutboxStatus>(), Ok(*status));
        }
    }

    #[test]
    fn stored_forms_are_the_ones_existing_databases_hold() {
        assert_eq!(CommitmentStatus::InProgress.as_str(), "in_progress");
        assert_eq!(SigningKeyStatus::Rotated.as_str(), "rotated");
        assert_eq!(SigningRoundStatus::Cancelled.as_str(), "cancelled");
        let err = "closed".parse::<SigningRoundStatus>().unwrap_err();
        assert_eq!(err.what, "signing round status");
        assert_eq!(err.expected, "open, completed, cancelled");
    }
}
