//! Closed vocabularies shared by every crate: roles, document kinds,
//! organisation categories and languages.
//!
//! Each vocabulary is stored and exchanged as its lowercase code name, so the
//! same string appears in definition files, the database and the API.

/// A code name that is not part of one of the closed vocabularies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {expected}")]
pub struct UnknownName {
    /// Which vocabulary was being parsed, e.g. "role".
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted values, comma separated, so the message says what to write instead.
    pub expected: String,
}

/// Defines a fieldless enum whose variants map one-to-one onto code names.
///
/// One macro keeps `as_str`, `FromStr`, `Display` and serde in agreement, so a
/// name accepted in a definition file is always the one written to storage.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code name used in files, storage and the API.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::UnknownName {
                        what: $what,
                        value: value.to_owned(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use named_enum;

named_enum! {
    /// What a person may do with a document, relative to that document.
    Role, "role" {
        /// Admin of the organisation owning the document (an admin acts for that
        /// organisation only; the instance operator is not a document role).
        Admin => "admin",
        /// Coordinator of the organisation owning the document.
        Coordinator => "coordinator",
        /// Member of the document's working group.
        Member => "member",
        /// Person on the document's signatory list.
        Signatory => "signatory",
        /// Any person of an organisation that shares a network with the owning one.
        Partner => "partner",
        /// Coordinator of a Regione (category `region`) sharing a network with the
        /// owning organisation.
        Region => "region",
        /// Coordinator of the coalition's decision body (category `decision_body`)
        /// sharing a network with the owning organisation.
        DecisionBody => "decision_body",
    }
}

named_enum! {
    /// The kinds of document the engine runs a workflow for.
    DocumentKind, "document kind" {
        /// Patto locale per la sicurezza e la legalità.
        Pact => "pact",
        /// Protocollo operativo, always under a pact.
        Protocol => "protocol",
        /// Diagnosi di sicurezza e legalità.
        Diagnosis => "diagnosis",
        /// Modello (linee guida) di rendicontazione sociale.
        ReportingModel => "reporting_model",
        /// Bilancio sociale of the coalition or of one Comune.
        SocialReport => "social_report",
    }
}

impl DocumentKind {
    /// The name of the workflow definition (file stem in `workflows/`) this kind runs.
    ///
    /// File names use hyphens while code names use underscores, so the two
    /// differ for the multi-word kinds.
    pub fn workflow_name(self) -> &'static str {
        match self {
            DocumentKind::Pact => "pact",
            DocumentKind::Protocol => "protocol",
            DocumentKind::Diagnosis => "diagnosis",
            DocumentKind::ReportingModel => "reporting-model",
            DocumentKind::SocialReport => "social-report",
        }
    }
}

named_enum! {
    /// The category of an organisation in the partner network.
    OrganisationCategory, "organisation category" {
        /// Comune.
        Municipality => "municipality",
        /// Città a Rete / coalition of Comuni.
        Coalition => "coalition",
        /// Organo decisionale: the coalition's decision body (e.g. the assembly of mayors).
        DecisionBody => "decision_body",
        /// Regione Siciliana.
        Region => "region",
        /// Prefettura.
        Prefecture => "prefecture",
        /// Magistratura.
        Magistracy => "magistracy",
        /// Forze dell'ordine.
        Police => "police",
        /// Associazione.
        Association => "association",
        /// Impresa.
        Business => "business",
        /// Ente religioso.
        ReligiousBody => "religious_body",
        /// Associazione di categoria.
        TradeAssociation => "trade_association",
        /// Anything not covered above.
        Other => "other",
    }
}

named_enum! {
    /// The language a person reads the interface and e-mails in.
    Language, "language" {
        /// Italian, the default.
        It => "it",
        /// English, on request.
        En => "en",
    }
}

impl Default for Language {
    /// Italian is the default because the platform serves Italian public administrations.
    fn default() -> Self {
        Language::It
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vocabulary_round_trips_through_its_code_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        for kind in DocumentKind::ALL {
            assert_eq!(kind.as_str().parse::<DocumentKind>(), Ok(*kind));
        }
        for category in OrganisationCategory::ALL {
            assert_eq!(
                category.as_str().parse::<OrganisationCategory>(),
                Ok(*category)
            );
        }
        for language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>(), Ok(*language));
        }
        assert_eq!(OrganisationCategory::ALL.len(), 12);
        assert_eq!(Role::ALL.len(), 7);
    }

    #[test]
    fn unknown_names_list_the_accepted_values() {
        let err = "mayor".parse::<Role>().unwrap_err();
        assert_eq!(err.what, "role");
        assert_eq!(
            err.to_string(),
            "unknown role `mayor`; expected one of: admin, coordinator, member, signatory, partner, region, decision_body"
        );
    }

    #[test]
    fn kinds_use_glossary_code_names_and_hyphenated_workflow_names() {
        assert_eq!(DocumentKind::ReportingModel.as_str(), "reporting_model");
        assert_eq!(
            DocumentKind::ReportingModel.workflow_name(),
            "reporting-model"
        );
        assert_eq!(DocumentKind::SocialReport.workflow_name(), "social-report");
        assert!("reporting-model".parse::<DocumentKind>().is_err());
    }

    #[test]
    fn serde_uses_code_names() {
        assert_eq!(
            serde_json::to_string(&Role::Signatory).unwrap(),
            "\"signatory\""
        );
        let category: OrganisationCategory = serde_json::from_str("\"religious_body\"").unwrap();
        assert_eq!(category, OrganisationCategory::ReligiousBody);
        assert!(serde_json::from_str::<Language>("\"fr\"").is_err());
        assert_eq!(Language::default(), Language::It);
    }
}
