//! RDF Dataset Canonicalization (RDFC-1.0, W3C) of JSON-LD documents, as the
//! `eddsa-rdfc-2022` Data Integrity suite needs: the document is expanded as JSON-LD with
//! the contexts held in this crate (`contexts/`), turned into RDF quads, and those are
//! canonicalized into sorted N-Quads.
//!
//! Two rules make the output safe to sign:
//! - no network: a context URL this crate does not hold is an error ("unknown context"),
//!   never a fetch;
//! - no silent drops: a term no context defines is an error (JSON-LD "safe mode", as the
//!   JavaScript libraries use), so nothing in the JSON escapes the signature.

use json_syntax::Parse as _;
use json_syntax::Value as LdValue;
use ssi_json_ld::ContextLoader;
use ssi_json_ld::json_ld::syntax::TryFromJson as _;
use ssi_json_ld::json_ld::{BlankIdBuf, IriBuf, Process as _};
use ssi_rdf::LexicalQuad;
use ssi_rdf::{AnyLdEnvironment, LdEnvironment};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{LazyLock, Mutex};
use std::task::{Context, Poll, Waker};

mod template;

#[derive(Debug, thiserror::Error)]
pub enum RdfcError {
    #[error("the document is not valid JSON-LD: {0}")]
    Expansion(String),
    #[error("the document cannot be turned into RDF: {0}")]
    Quads(String),
    #[error("the document is not JSON: {0}")]
    Json(String),
}

/// The contexts recert's credentials, status lists and DID documents name.
const CONTEXTS: [(&str, &str); 5] = [
    (
        "https://www.w3.org/ns/credentials/v2",
        include_str!("../contexts/credentials-v2.jsonld"),
    ),
    (
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        include_str!("../contexts/ob-context-3.0.3.jsonld"),
    ),
    (
        "https://w3id.org/security/data-integrity/v2",
        include_str!("../contexts/data-integrity-v2.jsonld"),
    ),
    (
        "https://w3id.org/security/multikey/v1",
        include_str!("../contexts/multikey-v1.jsonld"),
    ),
    (
        "https://www.w3.org/ns/did/v1",
        include_str!("../contexts/did-v1.jsonld"),
    ),
];

/// Only the contexts above: the crate's own bundle (`with_static_loader`) is left out, so
/// that every definition used is one the JavaScript verifier also uses.
static LOADER: LazyLock<Result<ContextLoader, String>> = LazyLock::new(|| {
    let map: HashMap<String, String> = CONTEXTS
        .iter()
        .map(|(url, doc)| ((*url).to_owned(), (*doc).to_owned()))
        .collect();
    ContextLoader::empty()
        .with_context_map_from(map)
        .map_err(|e| e.to_string())
});

/// The URLs of the contexts this crate holds.
pub fn known_contexts() -> impl Iterator<Item = &'static str> {
    CONTEXTS.iter().map(|(url, _)| *url)
}

/// Contexts as processed, by the JSON of a document's `@context`. Processing the
/// credentials and Open Badges contexts (some 25 KB of term definitions) is most of the
/// cost of an expansion, and recert's documents name the same two or three lists of
/// contexts: each list is processed once per process. Bounded; cleared when full.
type Processed = ssi_json_ld::json_ld::Context<IriBuf, BlankIdBuf>;
static PROCESSED: LazyLock<Mutex<HashMap<String, Processed>>> = LazyLock::new(Mutex::default);

fn processed(
    context: Option<&serde_json::Value>,
    loader: &ContextLoader,
) -> Result<Processed, RdfcError> {
    let Some(context) = context else {
        return Ok(Processed::default());
    };
    let key = context.to_string();
    if let Some(p) = PROCESSED.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(p);
    }
    let (value, _) = LdValue::parse_str(&key).map_err(|e| RdfcError::Json(e.to_string()))?;
    let syntax = ssi_json_ld::json_ld::syntax::context::Context::try_from_json(value)
        .map_err(|e| RdfcError::Expansion(e.to_string()))?;
    let p = block_on(syntax.process(&mut (), loader, None))
        .map_err(|e| RdfcError::Expansion(e.to_string()))?
        .into_processed();
    if let Ok(mut m) = PROCESSED.lock() {
        if m.len() >= 64 {
            m.clear();
        }
        m.insert(key, p.clone());
    }
    Ok(p)
}

/// The canonical N-Quads of a JSON-LD document (RDFC-1.0 with SHA-256): one line per
/// quad, sorted, each ending in a newline.
///
/// A document of a shape seen before has its quads made from that shape's template (see
/// [`template`]), others by expansion.
pub fn canonical_nquads(document: &serde_json::Value) -> Result<String, RdfcError> {
    let quads = match template::quads(document, generic_quads) {
        Some(quads) => quads,
        None => generic_quads(document)?,
    };
    Ok(canonical_form(quads))
}

/// RDFC-1.0 of a set of quads: the dataset is a set (a quad the expansion gave twice, or
/// that two equal strings made twice, counts once in the blank nodes' hashes, as in
/// jsonld.js), then relabelled and sorted.
fn canonical_form(mut quads: Vec<LexicalQuad>) -> String {
    quads.sort();
    quads.dedup();
    ssi_rdf::urdna2015::normalize(quads.iter().map(LexicalQuad::as_lexical_quad_ref))
        .into_nquads_lines()
        .concat()
}

/// A document's quads by JSON-LD expansion and RDF conversion (not yet canonical).
///
/// The document is expanded from the processed form of its `@context` (see
/// [`PROCESSED`]) rather than from the `@context` entry itself: the JSON-LD expansion
/// algorithm's first step with an `@context` is to process it onto the (empty) active
/// context, so starting from that result is the same expansion.
fn generic_quads(document: &serde_json::Value) -> Result<Vec<LexicalQuad>, RdfcError> {
    use ssi_json_ld::json_ld::Expand as _;
    use ssi_json_ld::json_ld::expansion::{Action, Options, Policy};
    let loader = LOADER
        .as_ref()
        .map_err(|e| RdfcError::Expansion(e.clone()))?;
    let serde_json::Value::Object(fields) = document else {
        return Err(RdfcError::Json("a credential is a JSON object".into()));
    };
    let active = processed(fields.get("@context"), loader)?;
    let mut body = fields.clone();
    body.remove("@context");
    let text = serde_json::to_string(&body).map_err(|e| RdfcError::Json(e.to_string()))?;
    let (value, _) = LdValue::parse_str(&text).map_err(|e| RdfcError::Json(e.to_string()))?;
    // As Data Integrity verifiers do ("safe mode"): a term no context defines is an error,
    // not a property silently dropped from what is signed.
    let options = Options {
        policy: Policy {
            invalid: Action::Reject,
            allow_undefined: false,
            ..Policy::default()
        },
        ..Options::default()
    };
    let expanded = block_on(value.expand_full(&mut (), active, None, loader, options, ()))
        .map_err(|e| RdfcError::Expansion(e.to_string()))?;
    let expanded = with_typed_natives(expanded)?;
    let mut env = LdEnvironment::default();
    env.quads_of(&expanded)
        .map_err(|e| RdfcError::Quads(e.to_string()))
}

type Expanded = ssi_json_ld::json_ld::ExpandedDocument<IriBuf, BlankIdBuf>;

/// JSON-LD's RDF conversion keeps a datatype a context gives to a native value: `false`
/// under a term typed `https://www.w3.org/2001/XMLSchema#boolean` (as the Open Badges
/// 3.0.3 context types `hashed`) becomes `"false"^^<https://…#boolean>`, and that is what
/// jsonld.js signs. The Rust library writes native booleans and integers with its own
/// `xsd:boolean` whatever the type, so the signatures would differ; such values are
/// rewritten here as their lexical form with the context's datatype, which converts to the
/// very literal the specification gives. (Typed numbers the library already writes with
/// their datatype.) Documents without one pass through untouched.
fn with_typed_natives(expanded: Expanded) -> Result<Expanded, RdfcError> {
    use ssi_json_ld::json_ld::Value;
    use ssi_json_ld::json_ld::object::{Literal, Ref};
    let affected = expanded.traverse().any(|f| {
        matches!(
            f.into_ref(),
            Some(Ref::Value(Value::Literal(Literal::Boolean(_), Some(_))))
        )
    });
    if !affected {
        return Ok(expanded);
    }
    use ssi_json_ld::json_ld::TryFromJson as _;
    use ssi_json_ld::json_ld::syntax::IntoJsonWithContext as _;
    let mut json = expanded.into_objects().into_json_with(&());
    lexical_natives(&mut json);
    Expanded::try_from_json_in(&mut (), json).map_err(|e| RdfcError::Expansion(format!("{e:?}")))
}

/// In expanded JSON-LD, every value object `{"@value": <boolean>, "@type": T}` gets its
/// value as text (`"false"`), T kept.
fn lexical_natives(v: &mut LdValue) {
    match v {
        LdValue::Array(items) => items.iter_mut().for_each(lexical_natives),
        LdValue::Object(o) => {
            let typed = matches!(o.get_unique("@type"), Ok(Some(LdValue::String(_))));
            if typed && let Ok(Some(value)) = o.get_unique_mut("@value") {
                if let LdValue::Boolean(b) = value {
                    *value = LdValue::String(b.to_string().into());
                }
                return;
            }
            for entry in o.iter_mut() {
                lexical_natives(entry.1);
            }
        }
        _ => {}
    }
}

/// Runs a future that never waits: expansion is async only because a context loader may
/// be, and ours answers from memory. Polling it here keeps the crate free of an async
/// runtime and callable from blocking code.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_credential_canonicalizes_to_sorted_nquads() {
        let doc = json!({
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "urn:uuid:6c2a9c6a-6a0f-4c0b-9a38-0b9c1f0f0c11",
            "type": ["VerifiableCredential"],
            "issuer": "did:web:example.org",
            "validFrom": "2027-01-10T00:00:00Z",
            "credentialSubject": {"id": "did:example:ana", "name": "Ana Álvarez"}
        });
        let nq = canonical_nquads(&doc).unwrap();
        let lines: Vec<&str> = nq.lines().collect();
        let mut sorted = lines.clone();
        sorted.sort();
        assert_eq!(lines, sorted);
        assert!(nq.ends_with('\n'));
        assert!(nq.contains(
            "<urn:uuid:6c2a9c6a-6a0f-4c0b-9a38-0b9c1f0f0c11> <https://www.w3.org/2018/credentials#issuer> <did:web:example.org> .\n"
        ));
        assert!(nq.contains("\"Ana Álvarez\""));
        // Key order does not change the canonical form.
        let reordered: serde_json::Value = serde_json::from_str(
            r#"{"credentialSubject":{"name":"Ana Álvarez","id":"did:example:ana"},"type":["VerifiableCredential"],
                "validFrom":"2027-01-10T00:00:00Z","issuer":"did:web:example.org",
                "id":"urn:uuid:6c2a9c6a-6a0f-4c0b-9a38-0b9c1f0f0c11","@context":["https://www.w3.org/ns/credentials/v2"]}"#,
        )
        .unwrap();
        assert_eq!(canonical_nquads(&reordered).unwrap(), nq);
    }

    #[test]
    fn native_values_keep_the_datatype_their_context_gives() {
        let doc = json!({"@context": {"hashed": {"@id": "https://example.org/hashed",
                                                  "@type": "https://www.w3.org/2001/XMLSchema#boolean"},
                                      "n": {"@id": "https://example.org/n", "@type": "https://example.org/T"},
                                      "plain": "https://example.org/plain"},
                         "@id": "https://example.org/x", "hashed": false, "n": 42, "plain": true});
        let nq = canonical_nquads(&doc).unwrap();
        // As jsonld.js writes them.
        assert_eq!(
            nq,
            "<https://example.org/x> <https://example.org/hashed> \"false\"^^<https://www.w3.org/2001/XMLSchema#boolean> .\n\
             <https://example.org/x> <https://example.org/n> \"42\"^^<https://example.org/T> .\n\
             <https://example.org/x> <https://example.org/plain> \"true\"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n"
        );
    }

    #[test]
    fn unknown_contexts_and_undefined_terms_are_refused() {
        let remote = json!({"@context": ["https://example.org/ctx"], "name": "x"});
        assert!(matches!(
            canonical_nquads(&remote),
            Err(RdfcError::Expansion(_))
        ));
        // (The credentials context maps every other term under its `@vocab`.)
        let undefined = json!({"@context": {"name": "https://schema.org/name"},
                                "name": "x", "nonsense": 1});
        assert!(canonical_nquads(&undefined).is_err());
    }
}
