//! did:web for organizations, in recert's path form: the base URL `https://certs.example`
//! and organization `acme` give `did:web:certs.example:orgs:acme`, whose document is served
//! at `https://certs.example/orgs/acme/did.json`.

use crate::{CredentialError, PublicKey, Result};
use serde_json::{Value, json};

/// The did:web of organization `code` under `base_url` (a port is written `%3A`, a path's
/// slashes become colons, as did:web says).
pub fn did_web(base_url: &str, code: &str) -> Result<String> {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .ok_or_else(|| {
            CredentialError::Document(format!("base URL {base_url:?} is not http(s)"))
        })?;
    let rest = rest.trim_end_matches('/');
    let (host, path) = match rest.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    if host.is_empty() {
        return Err(CredentialError::Document("base URL has no host".into()));
    }
    let mut did = format!("did:web:{}", host.replace(':', "%3A"));
    if let Some(p) = path {
        for part in p.split('/').filter(|s| !s.is_empty()) {
            did.push(':');
            did.push_str(part);
        }
    }
    did.push_str(":orgs:");
    did.push_str(code);
    Ok(did)
}

/// The URL a did:web resolves to (`…/did.json`), for documents and tests.
pub fn did_url(did: &str, scheme: &str) -> Option<String> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = parts.next()?.replace("%3A", ":");
    let path: Vec<&str> = parts.collect();
    Some(if path.is_empty() {
        format!("{scheme}://{host}/.well-known/did.json")
    } else {
        format!("{scheme}://{host}/{}/did.json", path.join("/"))
    })
}

/// The DID document of an issuer: every key it ever signed with (`key_id`, e.g. `key-1`),
/// as Multikey verification methods usable for assertions.
pub fn did_document(did: &str, keys: &[(String, PublicKey)]) -> Value {
    let methods: Vec<Value> = keys
        .iter()
        .map(|(id, k)| {
            json!({
                "id": format!("{did}#{id}"),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": k.multibase(),
            })
        })
        .collect();
    let refs: Vec<String> = keys.iter().map(|(id, _)| format!("{did}#{id}")).collect();
    json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": refs,
        "authentication": refs,
    })
}

/// The public key a verification method id names in a DID document, if it is one of its
/// assertion methods.
pub fn assertion_key(document: &Value, method: &str) -> Option<PublicKey> {
    let listed = document["assertionMethod"]
        .as_array()?
        .iter()
        .any(|m| m.as_str() == Some(method));
    if !listed {
        return None;
    }
    document["verificationMethod"]
        .as_array()?
        .iter()
        .find(|m| m["id"].as_str() == Some(method))
        .and_then(|m| m["publicKeyMultibase"].as_str())
        .and_then(|mb| PublicKey::from_multibase(mb).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_form_with_port_and_prefix() {
        assert_eq!(
            did_web("https://certs.example", "acme").unwrap(),
            "did:web:certs.example:orgs:acme"
        );
        let d = did_web("http://127.0.0.1:8080/recert/", "acme").unwrap();
        assert_eq!(d, "did:web:127.0.0.1%3A8080:recert:orgs:acme");
        assert_eq!(
            did_url(&d, "http").unwrap(),
            "http://127.0.0.1:8080/recert/orgs/acme/did.json"
        );
        assert!(did_web("ftp://x", "a").is_err());
    }

    #[test]
    fn documents_name_their_keys() {
        let k = crate::SigningKey::from_secret(&[1; 32]).unwrap().public();
        let doc = did_document("did:web:x:orgs:a", &[("key-1".into(), k)]);
        assert_eq!(assertion_key(&doc, "did:web:x:orgs:a#key-1"), Some(k));
        assert_eq!(assertion_key(&doc, "did:web:x:orgs:a#key-2"), None);
    }
}
