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

/// The bytes a signature covers: the proof as written less its value, and the document
/// less its proof.
fn hash_data(suite: Suite, unsecured: &Value, options: &Map<String, Value>) -> Result<Vec<u8>> {
    let mut config = options.clone();
    config.remove("proofValue");
    let mut out = Sha256::digest(suite.canonical(&Value::Object(config))?).to_vec();
    out.extend_from_slice(&Sha256::digest(suite.canonical(unsecured)?));
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
    let signature = key.sign(&hash_data(suite, document, &options)?);
    options.insert(
        "proofValue".into(),
        json!(format!("z{}", bs58::encode(signature).into_string())),
    );
    let mut signed = document.clone();
    signed
        .as_object_mut()
        .ok_or_else(|| doc_error("a credential is a JSON object"))?
        .insert("proof".into(), json!([Value::Object(options)]));
    Ok(signed)
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
    if proof.get("type") != Some(&json!("DataIntegrityProof")) {
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
    if proof.get("proofPurpose") != Some(&json!("assertionMethod")) {
        return Err(doc_error("the proof's purpose is not assertionMethod"));
    }
    let value = proof
        .get("proofValue")
        .and_then(Value::as_str)
        .and_then(|v| v.strip_prefix('z'))
        .ok_or_else(|| doc_error("the proof has no base58btc proofValue"))?;
    let signature = bs58::decode(value)
        .into_vec()
        .map_err(|_| doc_error("the proofValue is not base58btc"))?;
    let mut unsecured = document.clone();
    if let Some(o) = unsecured.as_object_mut() {
        o.remove("proof");
    }
    // A proof that carries a context: the document's must start with it, and it is the
    // context the document was signed under.
    if let Some(ctx) = proof.get("@context") {
        let list = |v: Option<&Value>| match v {
            Some(Value::Array(a)) => a.clone(),
            Some(other) => vec![other.clone()],
            None => Vec::new(),
        };
        let (p, d) = (list(Some(ctx)), list(document.get("@context")));
        if p.len() > d.len() || p.iter().zip(&d).any(|(a, b)| a != b) {
            return Err(doc_error(
                "the document's @context does not start with the proof's",
            ));
        }
        if let Some(o) = unsecured.as_object_mut() {
            o.insert("@context".into(), ctx.clone());
        }
    }
    if key.verify(&hash_data(suite, &unsecured, proof)?, &signature) {
        Ok(suite)
    } else {
        Err(doc_error("the signature does not match the document"))
    }
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

    fn signed_and_tampered(suite: Suite) {
        let key = SigningKey::from_secret(&[9; 32]).unwrap();
        let signed = sign(
            &doc(),
            &key,
            "did:web:x#key-1",
            "2027-01-10T09:00:00Z",
            suite,
        )
        .unwrap();
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
    fn rdfc_signs_the_meaning_not_the_spelling() {
        // Under RDFC, JSON key order and a single-element array spelled as a value sign
        // the same quads; under JCS they do not.
        let key = SigningKey::from_secret(&[9; 32]).unwrap();
        let respelled_verifies = |suite| {
            let signed = sign(
                &doc(),
                &key,
                "did:web:x#key-1",
                "2027-01-10T09:00:00Z",
                suite,
            )
            .unwrap();
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
