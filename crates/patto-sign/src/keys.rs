//! Ed25519 keys: generation, PKCS#8 and SPKI PEM as OpenSSL reads and writes them, the raw
//! base64url form that fits in a form field, and fingerprints people can compare by eye.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
};
use sha2::{Digest, Sha256};

pub use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::SignError;

/// The length of a raw public key written as base64url without padding (32 bytes).
const RAW_PUBLIC_KEY_BASE64_LENGTH: usize = 43;

/// A fresh key from the operating system's randomness, through the thread-local generator.
pub fn generate_key() -> SigningKey {
    SigningKey::generate(&mut rand::rng())
}

/// The raw 32-byte secret key (the seed) as base64url without padding, for people who
/// keep keys in a password manager rather than in files. Treat it like the PEM file.
pub fn secret_key_to_base64url(key: &SigningKey) -> String {
    URL_SAFE_NO_PAD.encode(key.to_bytes())
}

/// Reads a secret key given either as PKCS#8 PEM or as the raw 32-byte seed in base64url,
/// ignoring surrounding whitespace.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, SignError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return secret_key_from_pem(text);
    }
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| SignError::SecretKeyPem {
            reason: "neither a PEM block nor a 32-byte key in base64url".to_owned(),
        })?;
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

/// The raw 32 bytes of the public key as base64url without padding (43 characters).
pub fn public_key_to_base64url(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Reads a public key given either as SPKI PEM or as the raw key in base64url, ignoring
/// surrounding whitespace. Small-order keys are refused because a signature checked
/// against one does not bind the signer to anything.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, SignError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SignError::EmptyPublicKey);
    }
    let first_line = text.lines().next().unwrap_or_default();
    // Covers PKCS#8, encrypted PKCS#8 and OpenSSH private keys pasted by mistake.
    if first_line.starts_with("-----BEGIN") && first_line.contains("PRIVATE KEY") {
        return Err(SignError::PrivateKeyGiven);
    }
    let key = if first_line.starts_with("-----BEGIN") {
        VerifyingKey::from_public_key_pem(text).map_err(|error| SignError::PublicKeyPem {
            reason: error.to_string(),
        })?
    } else if text.len() == RAW_PUBLIC_KEY_BASE64_LENGTH {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|error| SignError::PublicKeyEncoding {
                reason: error.to_string(),
            })?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SignError::PublicKeyFormat { length: text.len() })?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| SignError::InvalidPublicKey)?
    } else {
        return Err(SignError::PublicKeyFormat { length: text.len() });
    };
    if key.is_weak() {
        return Err(SignError::WeakPublicKey);
    }
    Ok(key)
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
    fn secret_keys_round_trip_through_base64url_and_pem() {
        let key = super::generate_key();
        let raw = super::secret_key_to_base64url(&key);
        assert_eq!(raw.len(), 43);
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
    }

    use super::*;

    /// RFC 8032 section 7.1, TEST 1.
    fn test_1_key() -> SigningKey {
        let secret =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap();
        SigningKey::from_bytes(&secret.try_into().unwrap())
    }

    fn raw(bytes: [u8; 32]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
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
        let text = public_key_to_base64url(&public);
        assert_eq!(text.len(), 43);
        assert_eq!(parse_public_key(&text), Ok(public));
        assert_eq!(parse_public_key(&format!("  {text}\n")), Ok(public));
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
        let valid = public_key_to_base64url(&test_1_key().verifying_key());
        let cases = [
            ("  \n", SignError::EmptyPublicKey),
            (secret_pem.as_str(), SignError::PrivateKeyGiven),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----",
                SignError::PrivateKeyGiven,
            ),
            ("not a key", SignError::PublicKeyFormat { length: 9 }),
            (&valid[..42], SignError::PublicKeyFormat { length: 42 }),
            (&raw(not_a_point), SignError::InvalidPublicKey),
            (&raw(identity), SignError::WeakPublicKey),
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
        assert!(message.contains("43 characters of base64url"), "{message}");
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
