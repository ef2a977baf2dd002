//! The endorsement statement: what a person signs to endorse or approve one version of a
//! document. It names the exact content by hash, the signatory and their organisation, the
//! signature request and the intent, under a domain tag so that a signature made for a
//! statement can never be replayed as a signature over anything else. Its signed form is
//! the RFC 8785 canonical JSON text, so that any tool that canonicalises JSON gets the
//! same bytes.
//!
//! Version 2 (`patto/endorsement/v2`, what Patto issues) carries the document's title and
//! names the signatory by name, so that a statement published with a public act shows what
//! was signed and by whom without revealing an e-mail address. Version 1 statements
//! (e-mail, no title) were signed before it and still verify.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SignError;

/// The domain tag of the statements Patto issues.
pub const STATEMENT_DOMAIN: &str = "patto/endorsement/v2";

/// The domain tag of the first version of statements, which still verify.
pub const STATEMENT_DOMAIN_V1: &str = "patto/endorsement/v1";

/// What a signatory signs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    /// Always [`STATEMENT_DOMAIN`].
    pub domain: String,
    /// The signature request this statement answers, which binds it to one round.
    pub request: i64,
    pub document: StatementDocument,
    pub version: i32,
    /// Lower-case hex SHA-256 of the exact bytes of the version.
    pub content_sha256: String,
    pub signatory: Signatory,
    /// "endorse" or "approve".
    pub intent: String,
    /// RFC 3339 time with microseconds in UTC ("Z").
    pub created_at: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatementDocument {
    pub id: i64,
    pub slug: String,
    /// The title when the statement was issued (version 2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Signatory {
    pub person: StatementPerson,
    pub organisation: StatementOrganisation,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatementPerson {
    pub id: i64,
    /// The e-mail address (version 1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The name when the statement was issued (version 2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl StatementPerson {
    /// How the person is named: by name (version 2) or by e-mail address (version 1).
    pub fn display(&self) -> &str {
        self.name
            .as_deref()
            .or(self.email.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StatementOrganisation {
    pub id: i64,
    pub name: String,
}

impl Statement {
    /// A statement of the current domain, from the records it names.
    #[expect(
        clippy::too_many_arguments,
        reason = "each argument is one field of the signed statement, named at the call site"
    )]
    pub fn new(
        request: i64,
        document_id: i64,
        document_slug: &str,
        document_title: &str,
        version: i32,
        content_sha256: &str,
        person_id: i64,
        person_name: &str,
        organisation_id: i64,
        organisation_name: &str,
        intent: &str,
        created_at: &str,
    ) -> Statement {
        Statement {
            domain: STATEMENT_DOMAIN.to_owned(),
            request,
            document: StatementDocument {
                id: document_id,
                slug: document_slug.to_owned(),
                title: Some(document_title.to_owned()),
            },
            version,
            content_sha256: content_sha256.to_owned(),
            signatory: Signatory {
                person: StatementPerson {
                    id: person_id,
                    email: None,
                    name: Some(person_name.to_owned()),
                },
                organisation: StatementOrganisation {
                    id: organisation_id,
                    name: organisation_name.to_owned(),
                },
            },
            intent: intent.to_owned(),
            created_at: created_at.to_owned(),
        }
    }

    /// The canonical (RFC 8785) text of the statement: exactly the bytes to sign.
    ///
    /// The JSON is assembled with its keys already in RFC 8785 order and written compactly,
    /// which makes this infallible and independent of how the JSON map orders keys.
    /// Strings are escaped as RFC 8785 prescribes. Integers are written exactly: that is
    /// RFC 8785 for every identifier up to 2^53, and beyond it keeps the identifier that
    /// RFC 8785 would round to a neighbouring number, which names a different record.
    pub fn to_canonical(&self) -> String {
        let text = |value: &Option<String>| value.as_deref().map(Value::from);
        object([
            ("content_sha256", Some(self.content_sha256.as_str().into())),
            ("created_at", Some(self.created_at.as_str().into())),
            (
                "document",
                Some(object([
                    ("id", Some(self.document.id.into())),
                    ("slug", Some(self.document.slug.as_str().into())),
                    ("title", text(&self.document.title)),
                ])),
            ),
            ("domain", Some(self.domain.as_str().into())),
            ("intent", Some(self.intent.as_str().into())),
            ("request", Some(self.request.into())),
            (
                "signatory",
                Some(object([
                    (
                        "organisation",
                        Some(object([
                            ("id", Some(self.signatory.organisation.id.into())),
                            (
                                "name",
                                Some(self.signatory.organisation.name.as_str().into()),
                            ),
                        ])),
                    ),
                    (
                        "person",
                        Some(object([
                            ("email", text(&self.signatory.person.email)),
                            ("id", Some(self.signatory.person.id.into())),
                            ("name", text(&self.signatory.person.name)),
                        ])),
                    ),
                ])),
            ),
            ("version", Some(self.version.into())),
        ])
        .to_string()
    }

    /// Reads a statement that must be exactly in canonical form, as it was signed: any
    /// other spelling of the same JSON is refused, so that the bytes a person signed and
    /// the statement the server understood can never differ.
    pub fn from_canonical(bytes: &[u8]) -> Result<Statement, SignError> {
        let text = std::str::from_utf8(bytes).map_err(|error| SignError::StatementMalformed {
            reason: format!("not UTF-8 text ({error})"),
        })?;
        let statement: Statement =
            serde_json::from_str(text).map_err(|error| SignError::StatementMalformed {
                reason: error.to_string(),
            })?;
        // Each version has exactly its own fields.
        let version_2 = (
            statement.document.title.is_some(),
            statement.signatory.person.name.is_some(),
            statement.signatory.person.email.is_none(),
        );
        let shape_problem = match statement.domain.as_str() {
            STATEMENT_DOMAIN if version_2 != (true, true, true) => Some(
                "a version 2 statement has the document's title and the person's name, and no e-mail address",
            ),
            STATEMENT_DOMAIN_V1 if version_2 != (false, false, false) => {
                Some("a version 1 statement has the person's e-mail address, and no title or name")
            }
            STATEMENT_DOMAIN | STATEMENT_DOMAIN_V1 => None,
            _ => {
                return Err(SignError::StatementDomain {
                    found: statement.domain,
                });
            }
        };
        if let Some(reason) = shape_problem {
            return Err(SignError::StatementMalformed {
                reason: reason.to_owned(),
            });
        }
        if statement.to_canonical() != text {
            return Err(SignError::StatementNotCanonical);
        }
        Ok(statement)
    }

    /// The names of the fields in which two statements differ, in declaration order, so
    /// that a refusal can say what a signature was made for instead ("version", "intent").
    pub fn differences(&self, other: &Statement) -> Vec<&'static str> {
        let checks = [
            ("domain", self.domain == other.domain),
            ("request", self.request == other.request),
            ("document", self.document == other.document),
            ("version", self.version == other.version),
            (
                "content_sha256",
                self.content_sha256 == other.content_sha256,
            ),
            ("person", self.signatory.person == other.signatory.person),
            (
                "organisation",
                self.signatory.organisation == other.signatory.organisation,
            ),
            ("intent", self.intent == other.intent),
            ("created_at", self.created_at == other.created_at),
        ];
        checks
            .into_iter()
            .filter(|(_, same)| !same)
            .map(|(name, _)| name)
            .collect()
    }
}

/// A JSON object with the entries that have a value, in the order given.
fn object<const N: usize>(entries: [(&str, Option<Value>); N]) -> Value {
    Value::Object(
        entries
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), value?)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of a statement field and a change to it.
    type StatementChange = (&'static str, fn(&mut Statement));

    /// A version 1 statement, as issued before version 2.
    fn sample() -> Statement {
        Statement {
            domain: STATEMENT_DOMAIN_V1.into(),
            request: 12,
            document: StatementDocument {
                id: 3,
                slug: "patto-verde-2026".into(),
                title: None,
            },
            version: 2,
            content_sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
                .into(),
            signatory: Signatory {
                person: StatementPerson {
                    id: 5,
                    email: Some("anna.rossi@comune.example.it".into()),
                    name: None,
                },
                organisation: StatementOrganisation {
                    id: 9,
                    name: "Comune di Cittadella \"Nord\"".into(),
                },
            },
            intent: "endorse".into(),
            created_at: "2026-11-27T10:00:00.123456Z".into(),
        }
    }

    #[test]
    fn the_canonical_text_is_rfc_8785_with_sorted_keys_and_no_spaces() {
        let text = sample().to_canonical();
        assert_eq!(
            text,
            concat!(
                r#"{"content_sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","#,
                r#""created_at":"2026-11-27T10:00:00.123456Z","#,
                r#""document":{"id":3,"slug":"patto-verde-2026"},"#,
                r#""domain":"patto/endorsement/v1","intent":"endorse","request":12,"#,
                r#""signatory":{"organisation":{"id":9,"name":"Comune di Cittadella \"Nord\""},"#,
                r#""person":{"email":"anna.rossi@comune.example.it","id":5}},"version":2}"#
            )
        );
        // The same as the generic canonicaliser gives for the statement as a JSON value.
        let value = serde_json::to_value(sample()).unwrap();
        assert_eq!(text, crate::canonical_json(&value).unwrap());
    }

    #[test]
    fn the_canonical_text_round_trips() {
        let text = sample().to_canonical();
        assert_eq!(Statement::from_canonical(text.as_bytes()), Ok(sample()));
    }

    #[test]
    fn any_other_spelling_of_the_same_statement_is_refused() {
        let text = sample().to_canonical();
        let spaced = text.replacen(r#""version":2"#, r#""version": 2"#, 1);
        let pretty = serde_json::to_string_pretty(&sample()).unwrap();
        let trailing_newline = format!("{text}\n");
        let escaped_slash = text.replacen("patto/endorsement", r"patto\/endorsement", 1);
        for variant in [spaced, pretty, trailing_newline, escaped_slash] {
            assert_eq!(
                Statement::from_canonical(variant.as_bytes()),
                Err(SignError::StatementNotCanonical),
                "{variant}"
            );
        }
    }

    #[test]
    fn unknown_fields_non_json_and_a_foreign_domain_are_refused() {
        let mut value = serde_json::to_value(sample()).unwrap();
        value["comment"] = "ok".into();
        let extra = crate::canonical_json(&value).unwrap();
        assert!(matches!(
            Statement::from_canonical(extra.as_bytes()),
            Err(SignError::StatementMalformed { reason }) if reason.contains("comment")
        ));
        let mut value = serde_json::to_value(sample()).unwrap();
        value["signatory"]["person"]["phone"] = "091".into();
        let nested_extra = crate::canonical_json(&value).unwrap();
        assert!(matches!(
            Statement::from_canonical(nested_extra.as_bytes()),
            Err(SignError::StatementMalformed { .. })
        ));
        assert!(matches!(
            Statement::from_canonical(b"I endorse the document"),
            Err(SignError::StatementMalformed { .. })
        ));
        assert!(matches!(
            Statement::from_canonical(&[0xff, 0xfe]),
            Err(SignError::StatementMalformed { .. })
        ));
        let mut other = sample();
        other.domain = "patto/event/v1".into();
        let foreign = other.to_canonical();
        assert_eq!(
            Statement::from_canonical(foreign.as_bytes()),
            Err(SignError::StatementDomain {
                found: "patto/event/v1".into()
            })
        );
    }

    fn sample_v2() -> Statement {
        Statement::new(
            12,
            3,
            "patto-verde-2026",
            "Patto per il verde",
            2,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            5,
            "Anna Rossi",
            9,
            "Comune di Cittadella",
            "endorse",
            "2026-11-27T10:00:00.123456Z",
        )
    }

    #[test]
    fn version_2_names_the_title_and_the_signatory_by_name_not_e_mail() {
        let text = sample_v2().to_canonical();
        assert_eq!(
            text,
            concat!(
                r#"{"content_sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","#,
                r#""created_at":"2026-11-27T10:00:00.123456Z","#,
                r#""document":{"id":3,"slug":"patto-verde-2026","title":"Patto per il verde"},"#,
                r#""domain":"patto/endorsement/v2","intent":"endorse","request":12,"#,
                r#""signatory":{"organisation":{"id":9,"name":"Comune di Cittadella"},"#,
                r#""person":{"id":5,"name":"Anna Rossi"}},"version":2}"#
            )
        );
        assert_eq!(
            text,
            crate::canonical_json(&serde_json::to_value(sample_v2()).unwrap()).unwrap()
        );
        assert_eq!(Statement::from_canonical(text.as_bytes()), Ok(sample_v2()));
        assert_eq!(sample_v2().signatory.person.display(), "Anna Rossi");
        assert_eq!(
            sample().signatory.person.display(),
            "anna.rossi@comune.example.it"
        );
    }

    #[test]
    fn each_version_has_exactly_its_own_fields() {
        let mixed: [fn(&mut Statement); 4] = [
            |s| s.document.title = None,
            |s| s.signatory.person.name = None,
            |s| s.signatory.person.email = Some("anna@example.org".into()),
            |s| s.domain = STATEMENT_DOMAIN_V1.into(),
        ];
        for change in mixed {
            let mut statement = sample_v2();
            change(&mut statement);
            assert!(matches!(
                Statement::from_canonical(statement.to_canonical().as_bytes()),
                Err(SignError::StatementMalformed { .. })
            ));
        }
        let mut statement = sample();
        statement.domain = STATEMENT_DOMAIN.into();
        assert!(matches!(
            Statement::from_canonical(statement.to_canonical().as_bytes()),
            Err(SignError::StatementMalformed { .. })
        ));
    }

    #[test]
    fn strings_are_escaped_as_rfc_8785_prescribes() {
        let mut statement = sample();
        // Every ASCII character, the line and paragraph separators and characters outside
        // the basic plane, which RFC 8785 writes literally unless they are control
        // characters, quotes or backslashes.
        statement.signatory.organisation.name = (0u8..0x80)
            .map(char::from)
            .chain(['\u{2028}', '\u{2029}', 'é', '😀'])
            .collect();
        let value = serde_json::to_value(&statement).unwrap();
        let text = statement.to_canonical();
        assert_eq!(text, crate::canonical_json(&value).unwrap());
        assert!(text.contains(r##"\u001f !\"#$"##), "{text}");
        assert_eq!(Statement::from_canonical(text.as_bytes()), Ok(statement));
    }

    #[test]
    fn identifiers_beyond_2_pow_53_are_kept_exactly() {
        let mut statement = sample();
        statement.request = (1 << 53) + 1;
        let text = statement.to_canonical();
        assert!(text.contains(r#""request":9007199254740993"#), "{text}");
        assert_eq!(Statement::from_canonical(text.as_bytes()), Ok(statement));
    }

    #[test]
    fn differences_name_each_changed_field() {
        let base = sample();
        assert!(base.differences(&base).is_empty());
        let changes: [StatementChange; 9] = [
            ("domain", |s| s.domain.push('x')),
            ("request", |s| s.request += 1),
            ("document", |s| s.document.slug.push('x')),
            ("version", |s| s.version += 1),
            ("content_sha256", |s| s.content_sha256 = "00".into()),
            ("person", |s| s.signatory.person.id += 1),
            ("organisation", |s| s.signatory.organisation.name.push('x')),
            ("intent", |s| s.intent = "approve".into()),
            ("created_at", |s| {
                s.created_at = "2026-11-28T00:00:00.000000Z".into()
            }),
        ];
        for (name, change) in changes {
            let mut other = base.clone();
            change(&mut other);
            assert_eq!(base.differences(&other), vec![name]);
        }
        let mut other = base.clone();
        other.version = 3;
        other.intent = "approve".into();
        assert_eq!(base.differences(&other), vec!["version", "intent"]);
    }
}
