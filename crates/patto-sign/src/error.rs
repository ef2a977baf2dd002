//! The errors of keys, signatures and statements. Each says what was wrong with the
//! input in words a person pasting a key or a signature can act on.

use crate::signature::SIGNATURE_LENGTH;

/// Why a key, signature or statement was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("could not write the key as PEM: {reason}")]
    PemEncoding { reason: String },
    #[error(
        "not an Ed25519 private key in PKCS#8 PEM (\"-----BEGIN PRIVATE KEY-----\", as written by `openssl genpkey -algorithm ed25519`): {reason}"
    )]
    SecretKeyPem { reason: String },
    #[error(
        "not a secret key: expected a PKCS#8 PEM block (\"-----BEGIN PRIVATE KEY-----\") or \"patto-ed25519-secret:\" followed by 43 characters of base64url, as `patto keygen` writes them"
    )]
    SecretKeyFormat,
    #[error("this is a public key: signing needs the secret key file (the one without .pub)")]
    PublicKeyGivenAsSecret,
    #[error("the public key is empty")]
    EmptyPublicKey,
    #[error(
        "this is a private key, which must never be shared: give the public key instead (for example the output of `openssl pkey -pubout`)"
    )]
    PrivateKeyGiven,
    #[error("not an Ed25519 public key in SPKI PEM (\"-----BEGIN PUBLIC KEY-----\"): {reason}")]
    PublicKeyPem { reason: String },
    #[error(
        "not a public key: expected an SPKI PEM block (\"-----BEGIN PUBLIC KEY-----\") or \"patto-ed25519-public:\" followed by the raw key as 43 characters of base64url, found {length} characters"
    )]
    PublicKeyFormat { length: usize },
    #[error("the public key is not valid base64url without padding: {reason}")]
    PublicKeyEncoding { reason: String },
    #[error("the public key is not a point on the Ed25519 curve")]
    InvalidPublicKey,
    #[error("the public key is a small-order point, with which a signature proves nothing")]
    WeakPublicKey,
    #[error("an Ed25519 signature is {SIGNATURE_LENGTH} bytes long, this one is {found}")]
    SignatureLength { found: usize },
    #[error("the signature is not valid base64url without padding: {reason}")]
    SignatureEncoding { reason: String },
    #[error("the signature does not verify with this key over this message")]
    BadSignature,
    #[error("at least one signature of the batch does not verify")]
    BatchRejected,
    #[error("not a valid endorsement statement: {reason}")]
    StatementMalformed { reason: String },
    #[error(
        "the statement has domain {found:?}, but an endorsement statement has domain \"patto/endorsement/v2\" (or \"patto/endorsement/v1\" before it)"
    )]
    StatementDomain { found: String },
    #[error(
        "the statement is not in canonical form (RFC 8785): sign exactly the text Patto issued, without reformatting it"
    )]
    StatementNotCanonical,
    #[error(
        "the {what} cannot be written as canonical JSON without changing it (RFC 8785 numbers lose precision beyond 2^53)"
    )]
    NotCanonicalisable { what: &'static str },
}
