//! Ed25519 signatures (RFC 8032) over exact bytes, always checked with `verify_strict`,
//! which also refuses small-order keys and non-canonical signature encodings that plain
//! verification lets through.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer};

use crate::{SignError, SigningKey, VerifyingKey};

/// The length in bytes of an Ed25519 signature.
pub const SIGNATURE_LENGTH: usize = 64;

/// Signs exactly these bytes.
pub fn sign(key: &SigningKey, message: &[u8]) -> [u8; SIGNATURE_LENGTH] {
    key.sign(message).to_bytes()
}

/// Checks a signature over exactly these bytes with `verify_strict`.
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> Result<(), SignError> {
    let bytes: &[u8; SIGNATURE_LENGTH] =
        signature
            .try_into()
            .map_err(|_| SignError::SignatureLength {
                found: signature.len(),
            })?;
    key.verify_strict(message, &Signature::from_bytes(bytes))
        .map_err(|_| SignError::BadSignature)
}

/// Checks many signatures at once, faster than one by one; it only says whether all of
/// them verify. Batch verification is not as strict as `verify` (it accepts some
/// small-order components), so use it to screen, and `verify` for a verdict on one.
pub fn verify_batch(
    items: &[(&VerifyingKey, &[u8], &[u8; SIGNATURE_LENGTH])],
) -> Result<(), SignError> {
    let messages: Vec<&[u8]> = items.iter().map(|(_, message, _)| *message).collect();
    let signatures: Vec<Signature> = items
        .iter()
        .map(|(_, _, signature)| Signature::from_bytes(signature))
        .collect();
    let keys: Vec<VerifyingKey> = items.iter().map(|(key, _, _)| **key).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).map_err(|_| SignError::BatchRejected)
}

/// A signature as base64url without padding (86 characters for 64 bytes).
pub fn encode_signature(signature: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(signature)
}

/// Reads a base64url signature, ignoring surrounding whitespace. The decoder refuses
/// stray bits in the last character, so each signature has exactly one text form.
pub fn decode_signature(text: &str) -> Result<[u8; SIGNATURE_LENGTH], SignError> {
    let bytes =
        URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|error| SignError::SignatureEncoding {
                reason: error.to_string(),
            })?;
    let found = bytes.len();
    bytes
        .try_into()
        .map_err(|_| SignError::SignatureLength { found })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate_key;

    #[test]
    fn a_signature_verifies_only_for_its_key_and_message() {
        let key = generate_key();
        let signature = sign(&key, b"statement");
        assert_eq!(
            verify(&key.verifying_key(), b"statement", &signature),
            Ok(())
        );
        assert_eq!(
            verify(&key.verifying_key(), b"statement!", &signature),
            Err(SignError::BadSignature)
        );
        assert_eq!(
            verify(&generate_key().verifying_key(), b"statement", &signature),
            Err(SignError::BadSignature)
        );
    }

    #[test]
    fn verification_is_strict() {
        // The identity point as public key with R the identity and S zero satisfies the
        // plain verification equation for every message: anyone can "sign" with that key.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let key = VerifyingKey::from_bytes(&identity).unwrap();
        let mut forged = [0u8; SIGNATURE_LENGTH];
        forged[0] = 1;
        let message = b"I approve";
        let plain = ed25519_dalek::Verifier::verify(&key, message, &Signature::from_bytes(&forged));
        assert!(
            plain.is_ok(),
            "the forgery is accepted by plain verification"
        );
        assert_eq!(verify(&key, message, &forged), Err(SignError::BadSignature));
    }

    #[test]
    fn a_signature_of_the_wrong_length_is_named_as_such() {
        let key = generate_key();
        let signature = sign(&key, b"m");
        assert_eq!(
            verify(&key.verifying_key(), b"m", &signature[..63]),
            Err(SignError::SignatureLength { found: 63 })
        );
        let mut longer = signature.to_vec();
        longer.push(0);
        assert_eq!(
            verify(&key.verifying_key(), b"m", &longer),
            Err(SignError::SignatureLength { found: 65 })
        );
    }

    #[test]
    fn signatures_round_trip_through_base64url() {
        let signature = sign(&generate_key(), b"m");
        let text = encode_signature(&signature);
        assert_eq!(text.len(), 86);
        assert!(!text.contains(['=', '+', '/']), "{text}");
        assert_eq!(decode_signature(&text), Ok(signature));
        assert_eq!(decode_signature(&format!(" {text}\n")), Ok(signature));
    }

    #[test]
    fn undecodable_signatures_are_refused() {
        let text = encode_signature(&[7u8; SIGNATURE_LENGTH]);
        assert_eq!(
            decode_signature(&text[..84]),
            Err(SignError::SignatureLength { found: 63 })
        );
        assert!(matches!(
            decode_signature(&format!("{text}==")),
            Err(SignError::SignatureEncoding { .. })
        ));
        // The last character carries two bits of the signature and four zero bits; a
        // character that sets those bits is a second spelling and is refused.
        let mut stray_bits = text.clone();
        stray_bits.pop();
        stray_bits.push('D');
        assert_ne!(stray_bits, text);
        assert!(matches!(
            decode_signature(&stray_bits),
            Err(SignError::SignatureEncoding { .. })
        ));
    }

    #[test]
    fn a_batch_verifies_only_when_every_signature_does() {
        let keys: Vec<SigningKey> = (0..3).map(|_| generate_key()).collect();
        let publics: Vec<VerifyingKey> = keys.iter().map(SigningKey::verifying_key).collect();
        let messages: [&[u8]; 3] = [b"one", b"two", b"three"];
        let signatures: Vec<[u8; SIGNATURE_LENGTH]> = keys
            .iter()
            .zip(messages)
            .map(|(key, message)| sign(key, message))
            .collect();
        let items: Vec<(&VerifyingKey, &[u8], &[u8; SIGNATURE_LENGTH])> = publics
            .iter()
            .zip(messages)
            .zip(&signatures)
            .map(|((key, message), signature)| (key, message, signature))
            .collect();
        assert_eq!(verify_batch(&items), Ok(()));
        assert_eq!(verify_batch(&[]), Ok(()));
        let mut swapped = items.clone();
        swapped[1].1 = b"three";
        assert_eq!(verify_batch(&swapped), Err(SignError::BatchRejected));
    }
}
