//! Ed25519 keys: generation, PKCS#8 and SPKI PEM as OpenSSL reads and writes them, the raw
//! base64url form that fits in a form field, and fingerprints people can compare by eye.
//!
//! Raw keys given as text carry their type in front ([`SECRET_KEY_PREFIX`],
//! [`PUBLIC_KEY_PREFIX`]): a secret and a public Ed25519 key are both 32 bytes, so without
//! it a secret key pasted where a public one belongs would be read as one, and published.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::SignError;

/// The length of a raw key written as base64url without padding (32 bytes).
const RAW_KEY_BASE64_LENGTH: usize = 43;

/// What a raw secret key given as text starts with.
pub const SECRET_KEY_PREFIX: &str = "patto-ed25519-secret:";

/// What a raw public key given as text starts with.
pub const PUBLIC_KEY_PREFIX: &str = "patto-ed25519-public:";

/// A fresh key from the operating system's randomness, through the thread-local generator.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand::rng())
}

/// The raw 32-byte secret key (the seed) as [`SECRET_KEY_PREFIX`] and base64url without
/// padding, for people who keep keys in a password manager rather than in files. Treat it
/// like the PEM file.
pub fn secret_key_to_text(key: &SigningKey) -> String {
    format!(
        "{SECRET_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(key.to_bytes())
    )
}

/// Reads a secret key given either as PKCS#8 PEM or as [`secret_key_to_text`] writes it,
/// ignoring surrounding whitespace. A public key is refused by name.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, SignError> {
    let text = text.trim();
    if text.starts_with(PUBLIC_KEY_PREFIX) || text.starts_with("-----BEGIN PUBLIC KEY") {
        return Err(SignError::PublicKeyGivenAsSecret);
    }
    if text.starts_with("-----BEGIN") {
        return secret_key_from_pem(text);
    }
    let seed: [u8; 32] = text
        .strip_prefix(SECRET_KEY_PREFIX)
        .and_then(|raw| URL_SAFE_NO_PAD.decode(raw).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(SignError::SecretKeyFormat)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The secret key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), which `openssl pkey`
/// reads, so that a person can keep and use the key with standard tools.
///
/// It is written as PKCS#8 version 1, the secret alone, as `openssl genpkey` writes it:
/// the version 2 form that ed25519-dalek writes by default also carries the public key,
/// and OpenSSL before 3.5 refuses to read it.
pub fn secret_key_to_pem(key: &SigningKey) -> Result<String, SignError> {
    let secret_only = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    let pem = secret_only
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|error| SignError::PemEncoding {
            reason: error.to_string(),
        })?;
    Ok(pem.as_str().to_owned())
}

/// Reads a PKCS#8 PEM secret key, including the output of `openssl genpkey -algorithm ed25519`.
pub fn secret_key_from_pem(pem: &str) -> Result<SigningKey, SignError> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|error| SignError::SecretKeyPem {
        reason: error.to_string(),
    })
}

/// The public key as SPKI PEM ("-----BEGIN PUBLIC KEY-----"), as `openssl pkey -pubout`
/// writes it, so that `openssl pkeyutl -verify` can check signatures with it.
pub fn public_key_to_pem(key: &VerifyingKey) -> Result<String, SignError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|error| SignError::PemEncoding {
            reason: error.to_string(),
        })
}

/// The raw 32 bytes of the public key as base64url without padding (43 characters): the
/// form of key fields in stored records and evidence bundles, where the field says what
/// the key is.
pub fn public_key_to_base64url(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// The public key as text a person can paste: [`PUBLIC_KEY_PREFIX`] and the raw key.
pub fn public_key_to_text(key: &VerifyingKey) -> String {
    format!("{PUBLIC_KEY_PREFIX}{}", public_key_to_base64url(key))
}

/// Reads a public key given as text by a person: SPKI PEM or [`public_key_to_text`]'s
/// form, ignoring surrounding whitespace. Secret keys are refused by name, and
/// small-order keys because a signature checked against one does not bind the signer to
/// anything.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, SignError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SignError::EmptyPublicKey);
    }
    let first_line = text.lines().next().unwrap_or_default();
    // Covers PKCS#8, encrypted PKCS#8 and OpenSSH private keys pasted by mistake.
    if (first_line.starts_with("-----BEGIN") && first_line.contains("PRIVATE KEY"))
        || text.starts_with(SECRET_KEY_PREFIX)
    {
        return Err(SignError::PrivateKeyGiven);
    }
    if first_line.starts_with("-----BEGIN") {
        let key =
            VerifyingKey::from_public_key_pem(text).map_err(|error| SignError::PublicKeyPem {
                reason: error.to_string(),
            })?;
        return refuse_weak(key);
    }
    match text.strip_prefix(PUBLIC_KEY_PREFIX) {
        Some(raw) => public_key_from_base64url(raw),
        None => Err(SignError::PublicKeyFormat { length: text.len() }),
    }
}

/// Reads a raw public key field (43 characters of base64url), as stored records and
/// evidence bundles hold it.
pub fn public_key_from_base64url(raw: &str) -> Result<VerifyingKey, SignError> {
    if raw.len() != RAW_KEY_BASE64_LENGTH {
        return Err(SignError::PublicKeyFormat { length: raw.len() });
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|error| SignError::PublicKeyEncoding {
            reason: error.to_string(),
        })?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| SignError::PublicKeyFormat { length: raw.len() })?;
    refuse_weak(VerifyingKey::from_bytes(&bytes).map_err(|_| SignError::InvalidPublicKey)?)
}

fn refuse_weak(key: VerifyingKey) -> Result<VerifyingKey, SignError> {
    if key.is_weak() {
        Err(SignError::WeakPublicKey)
    } else {
        Ok(key)
    }
}

/// "SHA256:" followed by the base64url (no padding) SHA-256 of the raw 32-byte key: short
/// enough to read aloud on the phone when a coordinator confirms whose key it is.
pub fn fingerprint(key: &VerifyingKey) -> String {
    format!(
        "SHA256:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_keys_round_trip_through_typed_text_and_pem() {
        let key = super::generate_key();
        let raw = super::secret_key_to_text(&key);
        assert_eq!(raw.len(), super::SECRET_KEY_PREFIX.len() + 43);
        assert_eq!(
            super::parse_secret_key(&raw).unwrap().to_bytes(),
            key.to_bytes()
        );
        let pem = super::secret_key_to_pem(&key).unwrap();
        assert_eq!(
            super::parse_secret_key(&pem).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(super::parse_secret_key("not a key").is_err());
        assert!(super::parse_secret_key(&raw[..40]).is_err());
        // The bare raw key, without its type, is refused: it could be a public key.
        let bare = raw.strip_prefix(super::SECRET_KEY_PREFIX).unwrap();
        assert_eq!(
            super::parse_secret_key(bare),
            Err(crate::SignError::SecretKeyFormat)
        );
    }

    use super::*;

    /// RFC 8032 section 7.1, TEST 1.
    fn test_1_key() -> SigningKey {
        let secret =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        SigningKey::from_bytes(&secret.try_into().unwrap())
    }

    fn typed(bytes: [u8; 32]) -> String {
        format!("{PUBLIC_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    #[test]
    fn generated_keys_are_fresh() {
        assert_ne!(generate_key().to_bytes(), generate_key().to_bytes());
    }

    #[test]
    fn secret_keys_round_trip_through_pkcs8_pem() {
        let key = generate_key();
        let pem = secret_key_to_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PRIVATE KEY-----\n"), "{pem}");
        assert_eq!(
            secret_key_from_pem(&pem).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert_eq!(
            secret_key_from_pem(&format!("\n  {pem}\n\n"))
                .unwrap()
                .to_bytes(),
            key.to_bytes()
        );
    }

    #[test]
    fn the_secret_pem_is_pkcs8_version_1_as_openssl_writes_it() {
        // The DER of TEST 1's secret key as `openssl pkey` writes it: version 0 (v1), the
        // Ed25519 algorithm and the 32 secret bytes, no public key.
        let expected = concat!(
            "-----BEGIN PRIVATE KEY-----\n",
            "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n",
            "-----END PRIVATE KEY-----\n"
        );
        assert_eq!(secret_key_to_pem(&test_1_key()).unwrap(), expected);
    }

    #[test]
    fn public_keys_round_trip_through_spki_pem_and_base64url() {
        let public = generate_key().verifying_key();
        let pem = public_key_to_pem(&public).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert_eq!(parse_public_key(&pem), Ok(public));
        let raw = public_key_to_base64url(&public);
        assert_eq!(raw.len(), 43);
        assert_eq!(public_key_from_base64url(&raw), Ok(public));
        let text = public_key_to_text(&public);
        assert_eq!(text, format!("{PUBLIC_KEY_PREFIX}{raw}"));
        assert_eq!(parse_public_key(&text), Ok(public));
        assert_eq!(parse_public_key(&format!("  {text}\n")), Ok(public));
        // Untyped, a raw key could as well be a secret one.
        assert_eq!(
            parse_public_key(&raw),
            Err(SignError::PublicKeyFormat { length: 43 })
        );
    }

    #[test]
    fn typed_keys_are_never_read_as_the_other_kind() {
        let key = test_1_key();
        let public = key.verifying_key();
        assert_eq!(
            parse_public_key(&secret_key_to_text(&key)),
            Err(SignError::PrivateKeyGiven)
        );
        assert_eq!(
            parse_secret_key(&public_key_to_text(&public)).map(|k| k.to_bytes()),
            Err(SignError::PublicKeyGivenAsSecret)
        );
        assert_eq!(
            parse_secret_key(&public_key_to_pem(&public).unwrap()).map(|k| k.to_bytes()),
            Err(SignError::PublicKeyGivenAsSecret)
        );
    }

    #[test]
    fn base64url_and_fingerprint_of_a_known_key() {
        let public = test_1_key().verifying_key();
        // RFC 8037 appendix A.1 gives this key as the JWK "x" value.
        assert_eq!(
            public_key_to_base64url(&public),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        // SHA-256 of the 32 key bytes, computed independently with Python's hashlib.
        assert_eq!(
            fingerprint(&public),
            "SHA256:If4x36FUomFia_hUBG_SJxt77UtqvkWqWId-9H-XIbk"
        );
        assert_ne!(
            fingerprint(&generate_key().verifying_key()),
            fingerprint(&public)
        );
    }

    #[test]
    fn unreadable_public_keys_get_a_clear_error() {
        let secret_pem = secret_key_to_pem(&test_1_key()).unwrap();
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let valid = public_key_to_text(&test_1_key().verifying_key());
        let cases = [
            ("  \n", SignError::EmptyPublicKey),
            (secret_pem.as_str(), SignError::PrivateKeyGiven),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----",
                SignError::PrivateKeyGiven,
            ),
            ("not a key", SignError::PublicKeyFormat { length: 9 }),
            (&valid[..63], SignError::PublicKeyFormat { length: 42 }),
            (&typed(not_a_point), SignError::InvalidPublicKey),
            (&typed(identity), SignError::WeakPublicKey),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_public_key(text), Err(expected), "{text:?}");
        }
        let standard_alphabet = valid.replace('_', "/");
        assert!(matches!(
            parse_public_key(&standard_alphabet),
            Err(SignError::PublicKeyEncoding { .. })
        ));
        let broken_pem = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
        assert!(matches!(
            parse_public_key(broken_pem),
            Err(SignError::PublicKeyPem { .. })
        ));
        let message = parse_public_key("not a key").unwrap_err().to_string();
        assert!(message.contains(PUBLIC_KEY_PREFIX), "{message}");
    }

    #[test]
    fn a_public_key_is_not_a_secret_key() {
        let public_pem = public_key_to_pem(&test_1_key().verifying_key()).unwrap();
        assert!(matches!(
            secret_key_from_pem(&public_pem),
            Err(SignError::SecretKeyPem { .. })
        ));
        assert!(matches!(
            secret_key_from_pem("garbage"),
            Err(SignError::SecretKeyPem { .. })
        ));
    }
}
