//! Data Integrity proofs with Ed25519 (W3C vc-di-eddsa), in two cryptosuites:
//! - `eddsa-rdfc-2022` (the default): the document and the proof options are expanded as
//!   JSON-LD with contexts held offline and canonicalized as RDF (RDFC-1.0), so what is
//!   signed is the meaning, whatever the JSON spelling; most Open Badges 3.0 verifiers
//!   expect it;
//! - `eddsa-jcs-2022`: both are canonicalized as JSON (JCS, RFC 8785) — a hundred times
//!   faster, for verifiers that know it.
//!
//! Either way the signed bytes are SHA-256(canonical proof options) ‖ SHA-256(canonical
//! document without its proof). The proof carries the document's `@context` (so the
//! options hashed are exactly the proof as written, less its value), as the specification
//! and Digital Bazaar's verifier do: a proof without one was checked by our own verifier
//! only, and did not verify elsewhere.

use crate::{CredentialError, PublicKey, Result, SigningKey};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

pub const RDFC: &str = "eddsa-rdfc-2022";
pub const JCS: &str = "eddsa-jcs-2022";

/// A cryptosuite recert signs and checks with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Suite {
    #[default]
    Rdfc,
    Jcs,
}

impl Suite {
    pub const ALL: [Suite; 2] = [Suite::Rdfc, Suite::Jcs];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Rdfc => RDFC,
            Suite::Jcs => JCS,
        }
    }

    /// The suite a `cryptosuite` value names.
    pub fn named(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }

    /// A document in this suite's canonical form.
    fn canonical(self, v: &Value) -> Result<Vec<u8>> {
        match self {
            Suite::Jcs => crate::jcs::to_vec(v).map_err(doc_error),
            Suite::Rdfc => recert_rdfc::canonical_nquads(v)
                .map(String::into_bytes)
                .map_err(|e| doc_error(e.to_string())),
        }
    }
}

fn doc_error(s: impl Into<String>) -> CredentialError {
    CredentialError::Document(s.into())
}

#[cfg(test)]
fn jcs(v: &Value) -> Result<Vec<u8>> {
    Suite::Jcs.canonical(v)
}

/// The bytes a signature covers: the proof as written less its value, and `document` less
/// its proof, under `context` where the proof carries one. Under JCS the two are written
/// straight from the documents as given, leaving members out or in: verifying a credential
/// copies nothing.
fn hash_data(
    suite: Suite,
    document: &Map<String, Value>,
    context: Option<&Value>,
    options: &Map<String, Value>,
) -> Result<[u8; 64]> {
    let (config, unsecured) = match suite {
        Suite::Jcs => {
            let config = options
                .iter()
                .filter(|m| m.0 != "proofValue")
                .map(|(k, v)| (k.as_str(), v));
            let unsecured = document
                .iter()
                .filter(|m| m.0 != "proof" && (context.is_none() || m.0 != "@context"))
                .map(|(k, v)| (k.as_str(), v))
                .chain(context.map(|c| ("@context", c)));
            let (config, unsecured) = (
                crate::jcs::object_to_vec(config),
                crate::jcs::object_to_vec(unsecured),
            );
            (config.map_err(doc_error)?, unsecured.map_err(doc_error)?)
        }
        Suite::Rdfc => {
            let mut config = options.clone();
            config.remove("proofValue");
            let mut unsecured = document.clone();
            unsecured.remove("proof");
            if let Some(ctx) = context {
                unsecured.insert("@context".into(), ctx.clone());
            }
            (
                suite.canonical(&Value::Object(config))?,
                suite.canonical(&Value::Object(unsecured))?,
            )
        }
    };
    let mut out = [0; 64];
    out[..32].copy_from_slice(&Sha256::digest(config));
    out[32..].copy_from_slice(&Sha256::digest(unsecured));
    Ok(out)
}

/// `document` (without a proof) with a `suite` proof by `key`, named by
/// `verification_method` (`did…#key-1`), made at `created` (`2027-01-10T09:00:00Z`). The
/// proof is written as a one-element array, as the Open Badges 3.0 schema wants.
pub fn sign(
    document: &Value,
    key: &SigningKey,
    verification_method: &str,
    created: &str,
    suite: Suite,
) -> Result<Value> {
    let mut options = Map::new();
    if let Some(ctx) = document.get("@context") {
        options.insert("@context".into(), ctx.clone());
    }
    options.insert("type".into(), json!("DataIntegrityProof"));
    options.insert("cryptosuite".into(), json!(suite.name()));
    options.insert("created".into(), json!(created));
    options.insert("verificationMethod".into(), json!(verification_method));
    options.insert("proofPurpose".into(), json!("assertionMethod"));
    let members = document
        .as_object()
        .ok_or_else(|| doc_error("a credential is a JSON object"))?;
    let signature = key.sign(&hash_data(suite, members, None, &options)?);
    options.insert(
        "proofValue".into(),
        json!(format!("z{}", bs58::encode(signature).into_string())),
    );
    let mut signed = members.clone();
    signed.insert("proof".into(), json!([Value::Object(options)]));
    Ok(Value::Object(signed))
}

/// The proof of a secured document: the one proof (an object, or an array of one).
pub fn proof_of(document: &Value) -> Result<&Map<String, Value>> {
    let proof = match document.get("proof") {
        Some(Value::Array(list)) if list.len() == 1 => &list[0],
        Some(Value::Array(_)) => return Err(doc_error("expected exactly one proof")),
        Some(p) => p,
        None => return Err(doc_error("the document has no proof")),
    };
    proof
        .as_object()
        .ok_or_else(|| doc_error("the proof is not an object"))
}

/// Checks a secured document's proof, in either suite, against `key` (the one its
/// `verificationMethod` names, resolved by the caller). Answers the suite it was in.
pub fn verify(document: &Value, key: &PublicKey) -> Result<Suite> {
    let proof = proof_of(document)?;
    if proof.get("type").and_then(Value::as_str) != Some("DataIntegrityProof") {
        return Err(doc_error("the proof is not a DataIntegrityProof"));
    }
    let suite = proof
        .get("cryptosuite")
        .and_then(Value::as_str)
        .and_then(Suite::named)
        .ok_or_else(|| {
            doc_error(format!(
                "cryptosuite {} is neither {RDFC} nor {JCS}",
                proof.get("cryptosuite").unwrap_or(&Value::Null)
            ))
        })?;
    if proof.get("proofPurpose").and_then(Value::as_str) != Some("assertionMethod") {
        return Err(doc_error("the proof's purpose is not assertionMethod"));
    }
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(|| doc_error("the proof has no base58btc proofValue"))?;
    let signature = signature_from_base58(value)
        .ok_or_else(|| doc_error("the proofValue is not a base58btc Ed25519 signature"))?;
    let members = document
        .as_object()
        .ok_or_else(|| doc_error("a credential is a JSON object"))?;
    // A proof that carries a context: the document's must start with it, and it is the
    // context the document was signed under.
    let context = proof.get("@context");
    if let Some(ctx) = context {
        fn list(v: Option<&Value>) -> &[Value] {
            match v {
                Some(Value::Array(a)) => a,
                Some(other) => std::slice::from_ref(other),
                None => &[],
            }
        }
        let (p, d) = (list(Some(ctx)), list(document.get("@context")));
        if p.len() > d.len() || p.iter().zip(d).any(|(a, b)| a != b) {
            return Err(doc_error(
                "the document's @context does not start with the proof's",
            ));
        }
    }
    if key.verify(&hash_data(suite, members, context, proof)?, &signature) {
        Ok(suite)
    } else {
        Err(doc_error("the signature does not match the document"))
    }
}

/// Where each base58btc character is in the alphabet (0xff: not in it).
const BASE58: [u8; 128] = {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut table = [0xff; 128];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// A signature written in base58btc: exactly 64 bytes as `bs58` reads them (each leading
/// `1` a zero byte), or nothing. Read five characters at a time into 32-bit limbs rather
/// than a character at a time into bytes: `bs58` took a twentieth of a verification.
fn signature_from_base58(text: &str) -> Option<[u8; 64]> {
    let mut limbs = [0u32; 16]; // big-endian
    let mut push = |scale: u64, value: u64| {
        let mut carry = value;
        for limb in limbs.iter_mut().rev() {
            let t = u64::from(*limb) * scale + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        carry == 0
    };
    // 58^5 < 2^32: five digits fit in one multiply-and-add pass.
    for group in text.as_bytes().chunks(5) {
        let (mut scale, mut value) = (1u64, 0u64);
        for &c in group {
            let digit = *BASE58.get(usize::from(c)).filter(|&&d| d != 0xff)?;
            scale *= 58;
            value = value * 58 + u64::from(digit);
        }
        if !push(scale, value) {
            return None;
        }
    }
    let mut out = [0u8; 64];
    for (bytes, limb) in out.chunks_exact_mut(4).zip(limbs) {
        bytes.copy_from_slice(&limb.to_be_bytes());
    }
    let ones = text.bytes().take_while(|&c| c == b'1').count();
    let zeros = out.iter().take_while(|&&b| b == 0).count();
    (ones == zeros).then_some(out)
}

/// The verification method a proof names.
pub fn verification_method(document: &Value) -> Result<String> {
    proof_of(document)?
        .get("verificationMethod")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| doc_error("the proof names no verificationMethod"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:x", "type": ["VerifiableCredential"],
               "issuer": "did:web:x", "credentialSubject": {"name": "Ana Álvarez"}})
    }

    #[test]
    fn signed_documents_verify_and_tampered_ones_do_not() {
        for suite in Suite::ALL {
            signed_and_tampered(suite);
        }
    }

    /// `doc()` signed in `suite`, and the key that signed it.
    fn signed_doc(suite: Suite) -> (SigningKey, Value) {
        let key = SigningKey::from_secret(&[9; 32]).unwrap();
        let signed = sign(
            &doc(),
            &key,
            "did:web:x#key-1",
            "2027-01-10T09:00:00Z",
            suite,
        )
        .unwrap();
        (key, signed)
    }

    fn signed_and_tampered(suite: Suite) {
        let (key, signed) = signed_doc(suite);
        assert_eq!(signed["proof"][0]["cryptosuite"], suite.name());
        assert_eq!(verify(&signed, &key.public()).unwrap(), suite);
        assert_eq!(verification_method(&signed).unwrap(), "did:web:x#key-1");
        let mut tampered = signed.clone();
        tampered["credentialSubject"]["name"] = json!("Mallory");
        assert!(verify(&tampered, &key.public()).is_err());
        let mut moved = signed.clone();
        moved["proof"][0]["created"] = json!("2020-01-01T00:00:00Z");
        assert!(verify(&moved, &key.public()).is_err());
        let other = SigningKey::from_secret(&[8; 32]).unwrap();
        assert!(verify(&signed, &other.public()).is_err());
        // A proof relabelled as the other suite does not verify either.
        let mut relabelled = signed.clone();
        let other_suite = if suite == Suite::Jcs { RDFC } else { JCS };
        relabelled["proof"][0]["cryptosuite"] = json!(other_suite);
        assert!(verify(&relabelled, &key.public()).is_err());
    }

    #[test]
    fn jcs_hashes_the_document_less_its_proof_under_the_proofs_context() {
        // Written straight from the signed document, the hashed bytes are those of a copy
        // without its proof, under the proof's context.
        let (key, signed) = signed_doc(Suite::Jcs);
        let mut extended = signed.clone();
        extended["@context"] = json!([
            "https://www.w3.org/ns/credentials/v2",
            "https://x.example/more"
        ]);
        let proof = proof_of(&extended).unwrap().clone();
        let mut copy = extended.as_object().unwrap().clone();
        copy.remove("proof");
        copy.insert("@context".into(), proof["@context"].clone());
        let mut config = proof.clone();
        config.remove("proofValue");
        let mut expected = Sha256::digest(jcs(&Value::Object(config)).unwrap()).to_vec();
        expected.extend(Sha256::digest(jcs(&Value::Object(copy)).unwrap()));
        let got = hash_data(
            Suite::Jcs,
            extended.as_object().unwrap(),
            proof.get("@context"),
            &proof,
        )
        .unwrap();
        assert_eq!(got.to_vec(), expected);
        // So a context added after the proof's verifies; one that replaces it does not.
        assert_eq!(verify(&extended, &key.public()).unwrap(), Suite::Jcs);
        let mut replaced = signed.clone();
        replaced["@context"] = json!(["https://x.example/other"]);
        assert!(verify(&replaced, &key.public()).is_err());
        // A proofValue that is not a 64-byte signature is refused as such.
        let mut short = signed.clone();
        short["proof"][0]["proofValue"] = json!("z3mJr7AoUXx2Wqd");
        assert!(
            verify(&short, &key.public())
                .unwrap_err()
                .to_string()
                .contains("signature")
        );
    }

    #[test]
    fn signatures_read_from_base58_as_bs58_reads_them() {
        let bs58_reads = |text: &str| match bs58::decode(text).into_vec() {
            Ok(v) if v.len() == 64 => <[u8; 64]>::try_from(v).ok(),
            _ => None,
        };
        let key = SigningKey::from_secret(&[3; 32]).unwrap();
        let mut cases: Vec<String> = (0..300u32)
            .map(|i| bs58::encode(key.sign(&i.to_le_bytes())).into_string())
            .collect();
        let mut edge = [[0u8; 64], [0xff; 64], [0u8; 64], [0u8; 64]];
        edge[2][63] = 1;
        edge[3][5] = 9;
        cases.extend(edge.iter().map(|b| bs58::encode(b).into_string()));
        let long = bs58::encode([0xffu8; 65]).into_string();
        let short = bs58::encode([7u8; 63]).into_string();
        let first = cases[0].clone();
        let third = first.chars().nth(3).unwrap();
        cases.extend([
            long,
            short,
            String::new(),
            "1".repeat(65),
            "1".repeat(63),
            format!("1{first}"),
            first.replace(third, "0"),
            format!("{}l", &cases[1][1..]),
            "é".repeat(40),
        ]);
        for text in &cases {
            assert_eq!(signature_from_base58(text), bs58_reads(text), "{text}");
        }
        assert!(signature_from_base58(&first).is_some());
    }

    #[test]
    fn rdfc_signs_the_meaning_not_the_spelling() {
        // Under RDFC, JSON key order and a single-element array spelled as a value sign
        // the same quads; under JCS they do not.
        let respelled_verifies = |suite| {
            let (key, signed) = signed_doc(suite);
            let mut respelled = signed.clone();
            respelled["type"] = json!("VerifiableCredential");
            verify(&respelled, &key.public()).is_ok()
        };
        assert!(respelled_verifies(Suite::Rdfc));
        assert!(!respelled_verifies(Suite::Jcs));
    }

    #[test]
    fn the_signed_bytes_follow_the_jcs_suite() {
        // Key order and whitespace do not change what is signed.
        let a: Value = serde_json::from_str(r#"{"b":1,"a":"é"}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "a" : "é", "b" : 1 }"#).unwrap();
        assert_eq!(jcs(&a).unwrap(), jcs(&b).unwrap());
        assert_eq!(jcs(&a).unwrap(), "{\"a\":\"é\",\"b\":1}".as_bytes());
    }
}
