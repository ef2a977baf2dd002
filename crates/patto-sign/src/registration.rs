//! The key registration statement: proof that whoever registers a public key holds its
//! secret key. The holder signs, with the very key being registered, a statement naming
//! themself (by e-mail address), the organisation the key will sign for, the public key
//! and when the statement was made, under its own domain tag so that it can never be
//! mistaken for an endorsement or anything else. Its signed form is the RFC 8785
//! canonical JSON text; `patto keys request` writes it with its signature in one file.

use serde::{Deserialize, Serialize};

use crate::keys::{SigningKey, VerifyingKey, public_key_from_base64url, public_key_to_base64url};
use crate::signature::{decode_signature, encode_signature, sign, verify};

/// The domain tag of every key registration statement of this version.
pub const REGISTRATION_DOMAIN: &str = "patto/key-registration/v1";

/// What the holder of a key signs to register it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeyRegistration {
    /// Always [`REGISTRATION_DOMAIN`].
    pub domain: String,
    /// The holder's e-mail address, as registered in Patto.
    pub person: String,
    /// The slug of the organisation the key will sign for.
    pub organisation: String,
    /// The public key, raw 32 bytes in base64url.
    pub public_key: String,
    /// When the statement was made: RFC 3339 in UTC.
    pub made_at: String,
}

/// A registration statement with its signature: the file `patto keys request` writes
/// and the server accepts.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SignedRegistration {
    /// The canonical text of the [`KeyRegistration`], exactly as signed.
    pub statement: String,
    /// The Ed25519 signature over `statement` by the key it names, base64url.
    pub signature: String,
}

/// Why a registration statement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    /// The file is not a signed registration.
    #[error(
        "not a key registration request ({reason}): give the file written by `patto keys request`"
    )]
    Malformed {
        /// What is wrong with it.
        reason: String,
    },
    /// The statement has another domain.
    #[error(
        "the statement has domain {found:?}, but a key registration must have domain \"{REGISTRATION_DOMAIN}\""
    )]
    Domain {
        /// The domain found.
        found: String,
    },
    /// The statement is not in canonical form.
    #[error(
        "the registration statement is not in canonical form (RFC 8785): submit the file `patto keys request` wrote, unchanged"
    )]
    NotCanonical,
    /// The public key named is unreadable.
    #[error("the registration names an unreadable public key: {reason}")]
    PublicKey {
        /// Why.
        reason: String,
    },
    /// The signature is not by the key named: nobody proved holding its secret key.
    #[error(
        "the registration is not signed by the key it registers: make it again with `patto keys request --key YOUR-SECRET-KEY`"
    )]
    NotSignedByTheKey,
}

impl KeyRegistration {
    /// A statement of the current domain.
    pub fn new(
        person_email: &str,
        organisation_slug: &str,
        public_key: &VerifyingKey,
        made_at: &str,
    ) -> KeyRegistration {
        KeyRegistration {
            domain: REGISTRATION_DOMAIN.to_owned(),
            person: person_email.to_owned(),
            organisation: organisation_slug.to_owned(),
            public_key: public_key_to_base64url(public_key),
            made_at: made_at.to_owned(),
        }
    }

    /// The canonical (RFC 8785) text: every value is a string, so keys in order and
    /// strings escaped as RFC 8785 prescribes are all it takes.
    pub fn to_canonical(&self) -> String {
        let field = |name: &str, value: &str| {
            format!(
                "{}:{}",
                serde_json::Value::from(name),
                serde_json::Value::from(value)
            )
        };
        format!(
            "{{{},{},{},{},{}}}",
            field("domain", &self.domain),
            field("made_at", &self.made_at),
            field("organisation", &self.organisation),
            field("person", &self.person),
            field("public_key", &self.public_key),
        )
    }

    /// Signs the statement with the key it registers.
    pub fn sign(&self, key: &SigningKey) -> SignedRegistration {
        let statement = self.to_canonical();
        let signature = encode_signature(&sign(key, statement.as_bytes()));
        SignedRegistration {
            statement,
            signature,
        }
    }
}

impl SignedRegistration {
    /// The file's JSON text.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"signature\":{},\"statement\":{}}}\n",
            serde_json::Value::from(self.signature.as_str()),
            serde_json::Value::from(self.statement.as_str())
        )
    }

    /// Reads the file written by [`SignedRegistration::to_json`].
    pub fn from_json(bytes: &[u8]) -> Result<SignedRegistration, RegistrationError> {
        serde_json::from_slice(bytes).map_err(|e| RegistrationError::Malformed {
            reason: e.to_string(),
        })
    }

    /// Checks the statement's form and that the key it names signed it, and returns the
    /// statement and that key. Whether the person, the organisation and the time are
    /// acceptable is for the server to decide.
    pub fn verify(&self) -> Result<(KeyRegistration, VerifyingKey), RegistrationError> {
        let statement: KeyRegistration =
            serde_json::from_str(&self.statement).map_err(|e| RegistrationError::Malformed {
                reason: e.to_string(),
            })?;
        if statement.domain != REGISTRATION_DOMAIN {
            return Err(RegistrationError::Domain {
                found: statement.domain,
            });
        }
        if statement.to_canonical() != self.statement {
            return Err(RegistrationError::NotCanonical);
        }
        let public = public_key_from_base64url(&statement.public_key).map_err(|e| {
            RegistrationError::PublicKey {
                reason: e.to_string(),
            }
        })?;
        let signature =
            decode_signature(&self.signature).map_err(|_| RegistrationError::NotSignedByTheKey)?;
        verify(&public, self.statement.as_bytes(), &signature)
            .map_err(|_| RegistrationError::NotSignedByTheKey)?;
        Ok((statement, public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate_key;

    fn registration(key: &SigningKey) -> KeyRegistration {
        KeyRegistration::new(
            "anna@example.org",
            "cefalu",
            &key.verifying_key(),
            "2026-11-27T08:00:00Z",
        )
    }

    #[test]
    fn the_canonical_form_is_rfc_8785() {
        let key = generate_key();
        let statement = registration(&key);
        let value = serde_json::to_value(&statement).unwrap();
        assert_eq!(
            statement.to_canonical(),
            crate::canonical_json(&value).unwrap()
        );
    }

    #[test]
    fn a_registration_signed_by_its_key_verifies_and_survives_its_file() {
        let key = generate_key();
        let signed = registration(&key).sign(&key);
        let read = SignedRegistration::from_json(signed.to_json().as_bytes()).unwrap();
        let (statement, public) = read.verify().unwrap();
        assert_eq!(statement, registration(&key));
        assert_eq!(public, key.verifying_key());
    }

    #[test]
    fn a_registration_signed_by_another_key_or_changed_is_refused() {
        let key = generate_key();
        let other = generate_key();
        assert_eq!(
            registration(&key).sign(&other).verify(),
            Err(RegistrationError::NotSignedByTheKey)
        );
        let mut changed = registration(&key).sign(&key);
        changed.statement = changed.statement.replace("cefalu", "termini");
        assert_eq!(changed.verify(), Err(RegistrationError::NotSignedByTheKey));
        let mut reformatted = registration(&key).sign(&key);
        reformatted.statement = reformatted.statement.replace(",", ", ");
        assert_eq!(reformatted.verify(), Err(RegistrationError::NotCanonical));
        let mut endorsement = registration(&key);
        endorsement.domain = "patto/endorsement/v1".into();
        assert!(matches!(
            endorsement.sign(&key).verify(),
            Err(RegistrationError::Domain { .. })
        ));
    }
}
