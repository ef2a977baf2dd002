//! The cryptographic evidence of Patto as pure functions: SHA-256 content hashes, the
//! canonical (RFC 8785) form of audit events and the verification of an instance's
//! hash chain, Ed25519 keys and signatures, the endorsement statement that people sign
//! and the sealed evidence bundle that lets anyone check a document's signatures offline.
//!
//! It never knows IO or the database: callers hand it bytes and records and get verdicts
//! back, so that the same code checks a live database and an exported file offline.

mod chain;
mod error;
mod evidence;
mod keys;
mod registration;
mod signature;
mod statement;

pub use chain::{
    ChainError, ChainLink, GENESIS_HASH, HashedEvent, LinkBody, LinkView, event_body_hash,
    event_hash, event_hash_v2, hash_new_event_v2, verify_chain, verify_links, version_2_body_hash,
};
pub use error::SignError;
pub use evidence::{
    Actor, BUNDLE_FORMAT, BUNDLE_FORMAT_V1, Bundle, BundleChain, BundleChainV1, BundleDocument,
    BundleEntry, BundleError, BundleEvent, BundleKey, BundlePerson, BundleReport, BundleServer,
    BundleV1, BundleVersion, Endorsement, EndorsementReport, EndorsementV1, EventBody, KeyApproval,
    KeyStep, WithheldEvent, seal, verify_bundle, verify_bundle_pinned, verify_bundle_trusting,
};
pub use keys::{
    PUBLIC_KEY_PREFIX, SECRET_KEY_PREFIX, SigningKey, VerifyingKey, fingerprint, generate_key,
    parse_public_key, parse_secret_key, public_key_from_base64url, public_key_to_base64url,
    public_key_to_pem, public_key_to_text, secret_key_from_pem, secret_key_to_pem,
    secret_key_to_text,
};
pub use registration::{
    KeyRegistration, REGISTRATION_DOMAIN, RegistrationError, SignedRegistration,
};
pub use signature::{
    SIGNATURE_LENGTH, decode_signature, encode_signature, sign, verify, verify_batch,
};
pub use statement::{
    STATEMENT_DOMAIN, STATEMENT_DOMAIN_V1, Signatory, Statement, StatementDocument,
    StatementOrganisation, StatementPerson,
};

use sha2::{Digest, Sha256};

/// Lower-case hex SHA-256 of exactly these bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The RFC 8785 canonical JSON text of a value: the bytes that get hashed and signed.
pub fn canonical_json(value: &serde_json::Value) -> Result<String, serde_json::Error> {
    serde_jcs::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_is_sha256_of_the_exact_bytes() {
        // The SHA-256 of "abc" from FIPS 180-2, appendix B.1.
        assert_eq!(
            content_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_ne!(content_hash(b"abc"), content_hash(b"abc\n"));
    }

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let value = serde_json::json!({ "b": 1, "a": [true, null, "x"] });
        assert_eq!(
            canonical_json(&value).unwrap(),
            r#"{"a":[true,null,"x"],"b":1}"#
        );
    }
}
