//! Typed identifiers of stored rows.
//!
//! Every row id is an `i64` in the database, so nothing but a type stops a person id
//! from being passed where a document id is meant. Each kind of row gets its own
//! newtype: the compiler, not a convention, keeps them apart. They serialise as the
//! plain number, so JSON payloads and evidence bundles are unchanged.

/// Defines one newtype id per kind of row, all with the same behaviour.
macro_rules! typed_ids {
    ( $( $(#[$meta:meta])* $name:ident ),+ $(,)? ) => {
        $(
            $(#[$meta])*
            #[derive(
                Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                serde::Serialize, serde::Deserialize,
            )]
            #[serde(transparent)]
            pub struct $name(i64);

            impl $name {
                /// Wraps the raw database id.
                pub const fn new(raw: i64) -> Self {
                    $name(raw)
                }

                /// The raw database id.
                pub const fn get(self) -> i64 {
                    self.0
                }
            }

            impl ::std::fmt::Display for $name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    ::std::fmt::Display::fmt(&self.0, f)
                }
            }

            impl ::std::str::FromStr for $name {
                type Err = ::std::num::ParseIntError;

                fn from_str(text: &str) -> Result<Self, Self::Err> {
                    text.parse().map($name)
                }
            }
        )+
    };
}

typed_ids! {
    /// An organisation (Comune, prefecture, association...).
    OrganisationId,
    /// A person.
    PersonId,
    /// A person's role in an organisation.
    MembershipId,
    /// A partner network.
    NetworkId,
    /// An organisation's place in a partner network.
    NetworkMemberId,
    /// A working group.
    WorkingGroupId,
    /// A person's place in a working group.
    WorkingGroupMemberId,
    /// A document.
    DocumentId,
    /// A version of a document.
    VersionId,
    /// A comment on a document version.
    CommentId,
    /// A place on a document's signatory list.
    SignatoryId,
    /// A commitment of a document.
    CommitmentId,
    /// A registered workflow definition.
    WorkflowDefinitionId,
    /// A workflow instance (one per document).
    InstanceId,
    /// An event of an instance's audit chain.
    EventId,
    /// An outbox message.
    OutboxMessageId,
    /// A recorded effect.
    EffectId,
    /// A review schedule.
    ReviewScheduleId,
    /// A review checkpoint opened by a schedule.
    ReviewId,
    /// A status report asked of a commitment's owner at a review.
    StatusReportId,
    /// A signing round.
    SigningRoundId,
    /// A signature request of a signing round.
    SignatureRequestId,
    /// A signing key.
    SigningKeyId,
    /// An event of the key registry chain.
    KeyEventId,
    /// A person's grant of instance operator rights.
    OperatorId,
    /// An event of the directory chain.
    DirectoryEventId,
    /// A bearer token.
    AuthTokenId,
    /// A one-time login code.
    LoginCodeId,
    /// The consultation of a Diagnosi.
    ConsultationId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialise_as_plain_numbers_and_print_as_numbers() {
        let id = DocumentId::new(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(
            serde_json::from_str::<DocumentId>("7").unwrap(),
            DocumentId::new(7)
        );
        assert_eq!(id.to_string(), "42");
        assert_eq!("42".parse::<DocumentId>().unwrap(), id);
        assert!("x".parse::<DocumentId>().is_err());
        assert_eq!(id.get(), 42);
        assert!(PersonId::new(1) < PersonId::new(2));
    }
}
