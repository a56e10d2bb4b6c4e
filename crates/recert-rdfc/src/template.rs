//! Quads by shape: recert signs and verifies thousands of documents of a handful of shapes
//! (a credential with or without an expiry, a predecessor, a status entry; a proof's
//! options). JSON-LD expansion — type-scoped contexts, term lookups, IRI parsing — is what
//! costs a millisecond, and for a given shape it comes out the same whatever the strings
//! in it say, except where a string is read as an IRI. So a document's quads are made by
//! expanding its shape once, with every string value replaced by a placeholder, and then
//! putting the document's own strings back where the placeholders came out.
//!
//! What keeps that exact (the result is the generic expansion's, quad for quad; the tests
//! compare the two on documents of every shape and on hostile values):
//! - keys, `@`-keyword entries other than `@id`/`@value`, keyword aliases other than
//!   `@id`'s (`type` included, since a type can bring a scoped context), numbers, booleans
//!   and nulls are part of the shape, verbatim;
//! - a placeholder must come out whole, as an IRI or as a literal's text; anywhere else (a
//!   datatype, a predicate, inside a JSON literal) the shape is not cached;
//! - where a placeholder came out as an IRI, the document's string must be an absolute IRI
//!   that expansion leaves as written: valid, not a blank node label, its scheme and itself
//!   no term of any held context (a compact IRI or a term would expand to something else).
//!   A string that is not is made part of the shape instead, and that shape is expanded
//!   the generic way once in turn.

use rdf_types::{Id, IriBuf, LexicalQuad, Literal, Term};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

/// Placeholders are `urn:x-recert-slot:<n>`; a document whose shape has this text in it is
/// expanded the generic way.
const SLOT: &str = "urn:x-recert-slot:";

/// Where a document's `n`th string goes in a quad.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Fixed,
    Iri(usize),
    Text(usize),
}

#[derive(Debug)]
pub(crate) struct Template {
    quads: Vec<(LexicalQuad, [Slot; 3])>,
    /// The slots that came out as IRIs.
    iri_slots: Vec<usize>,
}

/// A document with its strings taken out.
struct Shape {
    /// The shape as JSON (placeholders in place of strings): the cache key, and what is
    /// expanded when the cache misses.
    json: Value,
    key: String,
    strings: Vec<String>,
}

/// Every name the held contexts define (or use as a key anywhere): a string in an IRI
/// position that is one of these, or whose scheme is, may be expanded by the context.
static TERMS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut out = HashSet::new();
    for (_, text) in crate::CONTEXTS {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            keys_of(&v, &mut out);
        }
    }
    out
});

/// Keyword aliases (`"type": "@type"`) in the held contexts, with what they alias.
static ALIASES: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    let mut out = HashMap::new();
    for (_, text) in crate::CONTEXTS {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            aliases_of(&v, &mut out);
        }
    }
    out
});

fn keys_of(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                out.insert(k.clone());
                keys_of(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys_of(v, out)),
        _ => {}
    }
}

fn aliases_of(v: &Value, out: &mut HashMap<String, String>) {
    match v {
        Value::Object(o) => {
            for (k, v) in o {
                let target = match v {
                    Value::String(s) => Some(s.as_str()),
                    // (an expanded definition: `{"@id": "@type", …}`)
                    Value::Object(d) => d.get("@id").and_then(Value::as_str),
                    _ => None,
                };
                if let Some(t) = target
                    && t.starts_with('@')
                {
                    out.insert(k.clone(), t.to_owned());
                }
                aliases_of(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| aliases_of(v, out)),
        _ => {}
    }
}

fn inline_context(v: &Value) -> bool {
    match v {
        Value::String(_) => false,
        Value::Array(a) => a.iter().any(|v| !v.is_string()),
        _ => true,
    }
}

/// The keyword a key is, or aliases.
fn keyword(key: &str) -> Option<&str> {
    if key.starts_with('@') {
        Some(key)
    } else {
        ALIASES.get(key).map(String::as_str)
    }
}

/// `document`'s shape, with the strings at `keep` (by their order in the document) left
/// in it. `None` when the document holds the placeholder text itself.
fn shape(document: &Value, keep: &HashSet<usize>) -> Option<Shape> {
    fn walk(
        v: &Value,
        replace: bool,
        keep: &HashSet<usize>,
        seen: &mut usize,
        strings: &mut Vec<String>,
    ) -> Option<Value> {
        Some(match v {
            Value::String(s) if replace => {
                let n = *seen;
                *seen += 1;
                if keep.contains(&n) {
                    if s.contains(SLOT) {
                        return None;
                    }
                    Value::String(s.clone())
                } else {
                    strings.push(s.clone());
                    Value::String(format!("{SLOT}{n}"))
                }
            }
            Value::String(s) => {
                if s.contains(SLOT) {
                    return None;
                }
                Value::String(s.clone())
            }
            Value::Array(a) => Value::Array(
                a.iter()
                    .map(|v| walk(v, replace, keep, seen, strings))
                    .collect::<Option<_>>()?,
            ),
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, v) in o {
                    if k.contains(SLOT) {
                        return None;
                    }
                    // A context written inline may define prefixes [`TERMS`] does not
                    // know of: such documents are expanded the generic way.
                    if k == "@context" && inline_context(v) {
                        return None;
                    }
                    // Inside a verbatim entry everything is verbatim (an inline context).
                    let replace = replace && matches!(keyword(k), None | Some("@id" | "@value"));
                    out.insert(k.clone(), walk(v, replace, keep, seen, strings)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
    let mut strings = Vec::new();
    let mut seen = 0;
    let json = walk(document, true, keep, &mut seen, &mut strings)?;
    // Slot numbers count every replaceable string, kept or not, so a kept one leaves a gap.
    let mut all = Vec::with_capacity(seen);
    let mut it = strings.into_iter();
    for n in 0..seen {
        all.push(if keep.contains(&n) {
            String::new()
        } else {
            it.next()?
        });
    }
    let key = json.to_string();
    Some(Shape {
        json,
        key,
        strings: all,
    })
}

/// Which slot a term of the template's quads is, if any. `Err` when the placeholder text
/// is in it but not as the whole of it.
fn slot_of(text: &str, count: usize) -> Result<Option<usize>, ()> {
    match text.strip_prefix(SLOT) {
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n < count && format!("{SLOT}{n}") == text => Ok(Some(n)),
            _ => Err(()),
        },
        None if text.contains(SLOT) => Err(()),
        None => Ok(None),
    }
}

fn id_slot(id: &Id, count: usize) -> Result<Slot, ()> {
    match id {
        Id::Iri(i) => Ok(slot_of(i.as_str(), count)?.map_or(Slot::Fixed, Slot::Iri)),
        Id::Blank(b) => {
            if b.as_str().contains(SLOT) {
                Err(())
            } else {
                Ok(Slot::Fixed)
            }
        }
    }
}

/// The template of a shape's quads (as the generic expansion gave them), or `None` when a
/// placeholder came out other than whole.
fn template_of(quads: Vec<LexicalQuad>, count: usize) -> Option<Template> {
    let mut out = Vec::with_capacity(quads.len());
    let mut iri_slots = Vec::new();
    for q in quads {
        let subject = id_slot(&q.0, count).ok()?;
        if q.1.as_str().contains(SLOT) {
            return None;
        }
        let object = match &q.2 {
            Term::Id(id) => id_slot(id, count).ok()?,
            Term::Literal(l) => {
                let datatype = match &l.type_ {
                    rdf_types::LiteralType::Any(t) => t.as_str(),
                    rdf_types::LiteralType::LangString(t) => t.as_str(),
                };
                if datatype.contains(SLOT) {
                    return None;
                }
                slot_of(&l.value, count)
                    .ok()?
                    .map_or(Slot::Fixed, Slot::Text)
            }
        };
        let graph = match &q.3 {
            Some(g) => id_slot(g, count).ok()?,
            None => Slot::Fixed,
        };
        for s in [subject, object, graph] {
            if let Slot::Iri(n) = s {
                iri_slots.push(n);
            }
        }
        out.push((q, [subject, object, graph]));
    }
    iri_slots.sort_unstable();
    iri_slots.dedup();
    Some(Template {
        quads: out,
        iri_slots,
    })
}

/// Whether expansion leaves `s`, in an IRI position, as written. (None of the held
/// contexts defines a term that can serve as a prefix today; the term check keeps that
/// true should one be added.)
fn plain_iri(s: &str) -> bool {
    let Some((scheme, _)) = s.split_once(':') else {
        return false;
    };
    scheme != "_"
        && !TERMS.contains(scheme)
        && !TERMS.contains(s)
        && IriBuf::new(s.to_owned()).is_ok()
}

fn fill(template: &Template, strings: &[String]) -> Option<Vec<LexicalQuad>> {
    let iris: HashMap<usize, IriBuf> = template
        .iri_slots
        .iter()
        .map(|&n| Some((n, IriBuf::new(strings.get(n)?.clone()).ok()?)))
        .collect::<Option<_>>()?;
    let id = |slot: Slot, fixed: &Id| -> Option<Id> {
        Some(match slot {
            Slot::Iri(n) => Id::Iri(iris.get(&n)?.clone()),
            _ => fixed.clone(),
        })
    };
    let mut out = Vec::with_capacity(template.quads.len());
    for (q, [s, o, g]) in &template.quads {
        let object = match (o, &q.2) {
            (Slot::Iri(_), Term::Id(fixed)) => Term::Id(id(*o, fixed)?),
            (Slot::Text(n), Term::Literal(l)) => Term::Literal(Literal {
                value: strings.get(*n)?.clone(),
                type_: l.type_.clone(),
            }),
            (_, fixed) => fixed.clone(),
        };
        let graph = match &q.3 {
            Some(fixed) => Some(id(*g, fixed)?),
            None => None,
        };
        out.push(rdf_types::Quad(id(*s, &q.0)?, q.1.clone(), object, graph));
    }
    Some(out)
}

type Cache = HashMap<String, Option<Arc<Template>>>;
static CACHE: LazyLock<Mutex<Cache>> = LazyLock::new(Mutex::default);

/// The template of `shape`, made with `expand` (the generic quads of a document) when not
/// cached. `Ok(None)`: this shape cannot be templated.
fn cached<E>(
    shape: &Shape,
    expand: impl FnOnce(&Value) -> Result<Vec<LexicalQuad>, E>,
) -> Result<Option<Arc<Template>>, E> {
    if let Some(t) = CACHE.lock().ok().and_then(|c| c.get(&shape.key).cloned()) {
        return Ok(t);
    }
    let quads = expand(&shape.json)?;
    let t = template_of(quads, shape.strings.len()).map(Arc::new);
    if let Ok(mut c) = CACHE.lock() {
        // Shapes are few; a flood of odd ones (verifying documents from elsewhere) only
        // costs their own expansions.
        if c.len() >= 256 {
            c.clear();
        }
        c.insert(shape.key.clone(), t.clone());
    }
    Ok(t)
}

/// `document`'s quads by its shape's template, when it has one (`Ok(None)`: expand it the
/// generic way). `expand` is the generic way, used for a shape not seen before; its error
/// is the document's (the shape differs from it only in strings, and no string can make a
/// valid shape fail or an invalid one pass — but a template from a failing shape is never
/// made, so such a document is expanded the generic way and fails there itself).
pub(crate) fn quads<E>(
    document: &Value,
    expand: impl Fn(&Value) -> Result<Vec<LexicalQuad>, E>,
) -> Option<Vec<LexicalQuad>> {
    let mut keep = HashSet::new();
    // At most twice: the strings that cannot stand as placeholders join the shape once.
    for _ in 0..2 {
        let shape = shape(document, &keep)?;
        let template = cached(&shape, &expand).ok()??;
        let odd: Vec<usize> = template
            .iri_slots
            .iter()
            .copied()
            .filter(|&n| !plain_iri(&shape.strings[n]))
            .collect();
        if odd.is_empty() {
            return fill(&template, &shape.strings);
        }
        keep.extend(odd);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{canonical_form, generic_quads};
    use serde_json::json;

    const VC: &str = "https://www.w3.org/ns/credentials/v2";
    const OB: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

    /// The shapes recert signs: a renewed, expiring, scored credential with a status
    /// entry; a plain one; a proof's options; a status list; a DID document.
    fn documents() -> Vec<Value> {
        vec![
            json!({
              "@context": [VC, OB],
              "id": "https://certs.example/verify/7K3M", "type": ["VerifiableCredential", "OpenBadgeCredential"],
              "name": "Annual", "description": "Annual — certificate 7K3M",
              "issuer": {"id": "did:web:certs.example:orgs:bench", "type": ["Profile"], "name": "NW", "url": "https://certs.example"},
              "validFrom": "2026-01-10T00:00:00Z", "validUntil": "2036-01-10T23:59:59Z",
              "credentialSubject": {"type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityHash": "Ana", "identityType": "name", "hashed": false}],
                "achievement": {"id": "https://certs.example/programs/S", "type": ["Achievement"], "achievementType": "Certificate",
                                "name": "Annual", "description": "d", "humanCode": "S", "criteria": {"narrative": "n"}},
                "result": [{"type": ["Result"], "value": "92%"}]},
              "evidence": [{"id": "https://certs.example/verify/2HBR", "type": ["Evidence"], "name": "R", "narrative": "N"}],
              "credentialStatus": {"id": "https://certs.example/status/b#4242", "type": "BitstringStatusListEntry",
                                   "statusPurpose": "revocation", "statusListIndex": "4242",
                                   "statusListCredential": "https://certs.example/status/b"}
            }),
            json!({
              "@context": [VC, OB], "id": "https://certs.example/verify/9QXD",
              "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "N", "description": "D",
              "issuer": {"id": "did:web:certs.example", "type": ["Profile"], "name": "NW", "url": "https://certs.example"},
              "validFrom": "2026-01-10T00:00:00Z",
              "credentialSubject": {"type": ["AchievementSubject"],
                "identifier": [{"type": "IdentityObject", "identityHash": "Ζωή Παπαδοπούλου", "identityType": "name", "hashed": false}],
                "achievement": {"id": "https://certs.example/programs/F", "type": ["Achievement"], "achievementType": "Certificate",
                                "name": "F", "description": "d", "humanCode": "F", "criteria": {"narrative": "n"}}}
            }),
            json!({
              "@context": [VC, OB], "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
              "created": "2027-01-10T09:00:00Z", "verificationMethod": "did:web:certs.example#key-1",
              "proofPurpose": "assertionMethod"
            }),
            json!({
              "@context": [VC], "id": "https://certs.example/status/b", "type": ["VerifiableCredential", "BitstringStatusListCredential"],
              "issuer": "did:web:certs.example", "validFrom": "2026-01-10T00:00:00Z",
              "credentialSubject": {"id": "https://certs.example/status/b#list", "type": "BitstringStatusList",
                                    "statusPurpose": "revocation", "encodedList": "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"}
            }),
            json!({
              "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
              "id": "did:web:certs.example",
              "verificationMethod": [{"id": "did:web:certs.example#key-1", "type": "Multikey",
                                      "controller": "did:web:certs.example",
                                      "publicKeyMultibase": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}],
              "assertionMethod": ["did:web:certs.example#key-1"]
            }),
        ]
    }

    /// Strings an attacker or an odd import might put anywhere.
    const ODD: [&str; 22] = [
        "",
        "a b",
        "urn:x",
        "did:example:ä",
        "_:b0",
        "_:c14n0",
        "#frag",
        "relative/path",
        "Profile",
        "assertionMethod",
        "schema:name",
        "xsd:string",
        "https://example.org/x y",
        "@id",
        "mailto:a@b",
        "urn:x-recert-slot:0",
        "urn:x-recert-slot:99",
        "nul\u{0}char",
        "line\nbreak \"quoted\" \\",
        "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement",
        "did:web:certs.example:orgs:bench",
        "https://certs.example/verify/7K3M",
    ];

    /// Paths (as JSON pointers) to the strings in `v` that a template fills.
    fn string_paths(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::String(_) => out.push(at),
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    string_paths(v, format!("{at}/{i}"), out);
                }
            }
            Value::Object(o) => {
                for (k, v) in o {
                    if k != "@context" {
                        string_paths(v, format!("{at}/{k}"), out);
                    }
                }
            }
            _ => {}
        }
    }

    fn by_template(doc: &Value) -> Option<Result<String, String>> {
        quads(doc, generic_quads).map(|q| Ok(canonical_form(q)))
    }

    fn generic(doc: &Value) -> Result<String, String> {
        generic_quads(doc)
            .map(canonical_form)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn recert_documents_are_made_from_templates() {
        for doc in documents() {
            let made = by_template(&doc).expect("a recert document has a template");
            assert_eq!(made, generic(&doc), "{doc}");
            // The second time comes from the cache, alike.
            assert_eq!(by_template(&doc).unwrap(), generic(&doc));
        }
    }

    #[test]
    fn any_string_anywhere_gives_the_generic_quads() {
        let mut templated = 0;
        let mut cases = 0;
        for doc in documents() {
            let mut paths = Vec::new();
            string_paths(&doc, String::new(), &mut paths);
            for path in &paths {
                for odd in ODD {
                    let mut changed = doc.clone();
                    *changed.pointer_mut(path).unwrap() = json!(odd);
                    let want = generic(&changed);
                    if let Some(got) = by_template(&changed) {
                        templated += 1;
                        assert_eq!(got, want, "{path} = {odd:?}");
                    }
                    // And through the public entry point, errors included.
                    let public = crate::canonical_nquads(&changed).map_err(|e| e.to_string());
                    assert_eq!(public.is_ok(), want.is_ok(), "{path} = {odd:?}");
                    if let Ok(w) = &want {
                        assert_eq!(public.as_ref().unwrap(), w, "{path} = {odd:?}");
                    }
                    cases += 1;
                }
            }
        }
        // Most changed documents still come from a template (the rest: a string that
        // changes the shape, e.g. a type).
        assert!(templated * 2 > cases, "{templated} of {cases}");
    }

    #[test]
    fn inline_contexts_are_expanded_the_generic_way() {
        let doc = json!({"@context": [VC, {"ex": "https://example.org/"}],
                         "id": "ex:one", "type": ["VerifiableCredential"], "issuer": "ex:two",
                         "validFrom": "2026-01-10T00:00:00Z", "credentialSubject": {"id": "ex:three"}});
        assert!(by_template(&doc).is_none());
        let nq = crate::canonical_nquads(&doc).unwrap();
        assert!(nq.contains("<https://example.org/two>"), "{nq}");
    }

    #[test]
    fn equal_strings_make_one_quad() {
        // Two names alike: the generic expansion merges them, and so must the template.
        let mut doc = documents().remove(0);
        doc["credentialSubject"]["achievement"]["name"] = json!("Annual");
        doc["name"] = json!("Annual");
        doc["credentialSubject"]["achievement"]["id"] = json!("https://certs.example/verify/7K3M");
        assert_eq!(by_template(&doc).unwrap(), generic(&doc));
    }
}
