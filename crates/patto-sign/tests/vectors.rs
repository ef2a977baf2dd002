//! Published test vectors and interoperability with OpenSSL: RFC 8032 section 7.1, the
//! Wycheproof Ed25519 verification cases, keys made by `openssl genpkey`, and the example
//! evidence bundles of `tests/evidence` with their documented verdicts.

// Test helpers outside `#[test]` functions panic on bad fixtures, as the tests do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

use patto_sign::{
    SIGNATURE_LENGTH, SigningKey, decode_signature, encode_signature, parse_public_key,
    public_key_to_pem, public_key_to_text, secret_key_from_pem, secret_key_to_pem, sign, verify,
};

/// RFC 8032 section 7.1: name, secret key, public key, message, signature (all hex).
const RFC8032: [(&str, &str, &str, &str, &str); 5] = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        concat!(
            "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1",
            "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d",
            "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a",
            "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e",
            "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10",
            "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1",
            "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d",
            "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270",
            "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b",
            "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba",
            "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b",
            "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7",
            "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d",
            "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df",
            "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7",
            "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4",
            "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09",
            "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f",
            "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161",
            "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d",
            "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca",
            "c60c905c15fc910840b94c00a0b9d0",
        ),
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
    ),
    (
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
];

fn bytes<const N: usize>(hex_text: &str) -> [u8; N] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

#[test]
fn rfc_8032_vectors_give_the_published_keys_and_signatures() {
    for (name, secret, public, message, signature) in RFC8032 {
        let key = SigningKey::from_bytes(&bytes::<32>(secret));
        let message = hex::decode(message).unwrap();
        let expected: [u8; SIGNATURE_LENGTH] = bytes(signature);
        assert_eq!(
            hex::encode(key.verifying_key().as_bytes()),
            public,
            "{name}"
        );
        assert_eq!(sign(&key, &message), expected, "{name}");

        let public = parse_public_key(&public_key_to_text(&key.verifying_key())).unwrap();
        assert_eq!(verify(&public, &message, &expected), Ok(()), "{name}");
        for bit in [0, 255, 256, 511] {
            let mut flipped = expected;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert!(
                verify(&public, &message, &flipped).is_err(),
                "{name}, bit {bit}"
            );
        }
        let mut altered = message.clone();
        altered.push(0);
        assert!(verify(&public, &altered, &expected).is_err(), "{name}");
    }
    assert_eq!(RFC8032[3].3.len(), 2 * 1023, "TEST 1024 signs 1023 bytes");
}

fn wycheproof_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/wycheproof/ed25519_test.json")
}

/// Every Wycheproof case through `verify`. The file has only "valid" and "invalid"
/// verdicts; an "acceptable" one would be a behaviour Wycheproof leaves open, and this test
/// refuses to run rather than pass it silently, so that a new file gets a decision.
#[test]
fn wycheproof_ed25519_verdicts_match_verify() {
    let text = std::fs::read_to_string(wycheproof_path()).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(file["algorithm"], "EDDSA");
    let mut run = 0;
    let mut disagreements = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        let public = bytes::<32>(group["publicKey"]["pk"].as_str().unwrap());
        let key = patto_sign::VerifyingKey::from_bytes(&public).unwrap();
        for case in group["tests"].as_array().unwrap() {
            let message = hex::decode(case["msg"].as_str().unwrap()).unwrap();
            let signature = hex::decode(case["sig"].as_str().unwrap()).unwrap();
            let expected = match case["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("case {} has verdict {other:?}: decide it", case["tcId"]),
            };
            let verdict = verify(&key, &message, &signature);
            if verdict.is_ok() != expected {
                disagreements.push(format!(
                    "case {} ({}, {}): expected {}, got {verdict:?}",
                    case["tcId"], case["comment"], case["flags"], case["result"]
                ));
            }
            run += 1;
        }
    }
    assert_eq!(disagreements, Vec::<String>::new());
    assert_eq!(run, file["numberOfTests"].as_u64().unwrap());
    assert_eq!(run, 151);
}

/// Runs `openssl` with these arguments and input, or says it is not there.
fn openssl(args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

#[test]
fn keys_made_by_openssl_load_and_match() {
    let Some(secret_pem) = openssl(&["genpkey", "-algorithm", "ed25519"], b"") else {
        println!("skipped: openssl is not on PATH");
        return;
    };
    let secret_pem = String::from_utf8(secret_pem).unwrap();
    let public_pem = openssl(&["pkey", "-pubout"], secret_pem.as_bytes()).unwrap();
    let public_pem = String::from_utf8(public_pem).unwrap();

    let key = secret_key_from_pem(&secret_pem).unwrap();
    let public = parse_public_key(&public_pem).unwrap();
    assert_eq!(key.verifying_key(), public);
    // OpenSSL writes the same SPKI PEM as Patto for the same key.
    assert_eq!(public_key_to_pem(&public).unwrap(), public_pem);

    // And OpenSSL reads the PEM Patto writes back to the same public key.
    let ours = secret_key_to_pem(&key).unwrap();
    let theirs_from_ours = openssl(&["pkey", "-pubout"], ours.as_bytes()).unwrap();
    assert_eq!(String::from_utf8(theirs_from_ours).unwrap(), public_pem);
}

/// Anyone can check an endorsement without Patto: OpenSSL verifies a Patto signature
/// over a statement.
#[test]
fn openssl_verifies_a_patto_signature() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("patto-sign-openssl");
    std::fs::create_dir_all(&dir).unwrap();
    let key = SigningKey::from_bytes(&bytes::<32>(RFC8032[2].1));
    let statement = br#"{"domain":"patto/endorsement/v1"}"#;
    let signature = decode_signature(&encode_signature(&sign(&key, statement))).unwrap();
    let key_path = dir.join("key.pem");
    let statement_path = dir.join("statement.json");
    let signature_path = dir.join("statement.sig");
    std::fs::write(&key_path, public_key_to_pem(&key.verifying_key()).unwrap()).unwrap();
    std::fs::write(&statement_path, statement).unwrap();
    std::fs::write(&signature_path, signature).unwrap();
    let path = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let args = [
        "pkeyutl".to_owned(),
        "-verify".to_owned(),
        "-pubin".to_owned(),
        "-inkey".to_owned(),
        path(&key_path),
        "-rawin".to_owned(),
        "-in".to_owned(),
        path(&statement_path),
        "-sigfile".to_owned(),
        path(&signature_path),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match openssl(&args, b"") {
        Some(output) => {
            assert!(String::from_utf8_lossy(&output).contains("Signature Verified Successfully"))
        }
        None => println!("skipped: openssl is not on PATH"),
    }
}

/// The example bundles of `tests/evidence`, with the verdict each must get.
fn evidence_cases() -> (PathBuf, Vec<serde_json::Value>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/evidence");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    (dir, manifest["cases"].as_array().unwrap().clone())
}

#[test]
fn the_example_bundles_get_their_documented_verdicts() {
    let (dir, cases) = evidence_cases();
    assert!(cases.len() >= 15);
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let server = parse_public_key(
            &std::fs::read_to_string(dir.join(case["server_key"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let expected = case["verdict"].as_str().unwrap();
        let pinned = patto_sign::verify_bundle_pinned(&bytes, &server);
        let unpinned = patto_sign::verify_bundle(&bytes);
        match expected {
            "valid" => {
                let report = pinned.unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(report.server_fingerprint, patto_sign::fingerprint(&server));
                assert!(!report.endorsements.is_empty(), "{file}");
                assert!(unpinned.is_ok(), "{file}");
            }
            // Consistent on its own terms, but sealed by a key nobody trusts.
            "UnexpectedServerKey" => {
                assert!(
                    format!("{:?}", pinned.unwrap_err()).starts_with(expected),
                    "{file}"
                );
                assert!(unpinned.is_ok(), "{file}");
            }
            _ => {
                for verdict in [pinned, unpinned] {
                    let error = format!("{:?}", verdict.unwrap_err());
                    assert!(error.starts_with(expected), "{file}: {error}");
                }
            }
        }
    }
}
