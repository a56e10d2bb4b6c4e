//! The JSON Canonicalization Scheme (RFC 8785) of a `serde_json::Value`, as
//! `eddsa-jcs-2022` signs it.
//!
//! `serde_jcs` gives the same bytes but serializes every object into a buffer per entry
//! and re-sorts them: 13 µs for a credential, as much as the Ed25519 signature itself. A
//! `Value` is already a tree of strings, numbers and sorted maps, so this writes it
//! directly (about 2 µs): members sorted by their names' UTF-16 code units (RFC 8785
//! §3.2.3; a map's own order is by UTF-8 bytes, which is the same order unless names mix
//! characters above U+FFFF with ones from U+E000, so maps whose names are all ASCII are
//! written as they stand), strings escaped as ECMAScript's `JSON.stringify` does
//! (serde_json's escaping is that one; strings with nothing to escape are copied as they
//! are), and numbers other than safe integers left to `serde_jcs`, whose ECMAScript
//! number formatting is the part worth reusing. The tests hold it byte-equal to
//! `serde_jcs`.

use serde_json::Value;
use std::cmp::Ordering;

pub fn to_vec(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(2048);
    write(value, &mut out)?;
    Ok(out)
}

/// The canonical form of an object given as its members (names unique), so that a caller
/// can leave some out or put others in without copying the document (a proof's checks do,
/// for every credential verified).
pub fn object_to_vec<'a>(
    members: impl IntoIterator<Item = (&'a str, &'a Value)>,
) -> Result<Vec<u8>, String> {
    let mut sorted: Vec<(&str, &Value)> = members.into_iter().collect();
    sorted.sort_by(|a, b| utf16_order(a.0, b.0));
    let mut out = Vec::with_capacity(2048);
    object(sorted, &mut out, false)?;
    Ok(out)
}

/// RFC 8785's order of member names: by UTF-16 code units. For ASCII names that is the
/// order of their bytes.
fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// An object from its members, already in canonical order; or, with `ascii_only`, in
/// UTF-8 byte order, stopping (false) at the first name that is not ASCII.
fn object<'a>(
    sorted: impl IntoIterator<Item = (&'a str, &'a Value)>,
    out: &mut Vec<u8>,
    ascii_only: bool,
) -> Result<bool, String> {
    out.push(b'{');
    for (i, (name, item)) in sorted.into_iter().enumerate() {
        if ascii_only && !name.is_ascii() {
            return Ok(false);
        }
        if i > 0 {
            out.push(b',');
        }
        string(name, out)?;
        out.push(b':');
        write(item, out)?;
    }
    out.push(b'}');
    Ok(true)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => number(n, out)?,
        Value::String(s) => string(s, out)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(members) => {
            // A map iterates in UTF-8 byte order, canonical while every name is ASCII: it
            // is written as it stands, and again in UTF-16 order should a name not be.
            let start = out.len();
            let members = members.iter().map(|(k, v)| (k.as_str(), v));
            if !object(members.clone(), out, true)? {
                out.truncate(start);
                let mut sorted: Vec<(&str, &Value)> = members.collect();
                sorted.sort_by(|a, b| utf16_order(a.0, b.0));
                object(sorted, out, false)?;
            }
        }
    }
    Ok(())
}

/// Integers a double holds exactly are written by ECMAScript as their digits; any other
/// number goes through its full formatting rules.
fn number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), String> {
    const SAFE: u64 = (1 << 53) - 1;
    use std::io::Write;
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) if u <= SAFE => write!(out, "{u}").map_err(|e| e.to_string()),
        (_, Some(i)) if i.unsigned_abs() <= SAFE => write!(out, "{i}").map_err(|e| e.to_string()),
        _ => {
            out.extend(serde_jcs::to_vec(n).map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

fn string(s: &str, out: &mut Vec<u8>) -> Result<(), String> {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        serde_json::to_writer(out, s).map_err(|e| e.to_string())
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn same_as_serde_jcs(v: &Value) {
        assert_eq!(
            String::from_utf8(to_vec(v).unwrap()).unwrap(),
            String::from_utf8(serde_jcs::to_vec(v).unwrap()).unwrap(),
            "{v}"
        );
    }

    #[test]
    fn bytes_equal_serde_jcs() {
        // RFC 8785's own examples of names and numbers, and strings that need escaping.
        let cases = [
            // (As text: RFC 8785's numbers are written with more digits than a float holds.)
            serde_json::from_str(
                r#"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0.0, 0, -1,
                                9007199254740991, 1e21, 1e-7, 123456789012345680000.0],
                    "string": "\u20ac$\u000f\nA'B\"\\\\\"/",
                    "literals": [null, true, false]}"#,
            )
            .unwrap(),
            json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
                   "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{80}": "Control", "\u{f6}": "Latin Small Letter O With Diaeresis",
                   "\u{e000}": "private use", "\u{ffff}": "last BMP"}),
            json!({"a": {"c": [1, {"z": "\u{0}\u{1f}\u{7f}\u{2028}"}], "b": []}, "": {}, "A": "é"}),
            json!([9007199254740992u64, 9007199254740993u64, u64::MAX, i64::MIN, -9007199254740991i64,
                   -9007199254740992i64, 1.0, -0.0, 0.5, "a\"b", "tab\there", "ascii only"]),
            json!({"b": {"\u{e000}": 1, "\u{1f600}": 2, "a": 3}, "a": [{"y": 1, "x": 2}]}),
            json!("top-level string"),
            json!([]),
            json!(42),
        ];
        for v in &cases {
            same_as_serde_jcs(v);
        }
    }

    #[test]
    fn credentials_canonicalize_alike() {
        let doc = crate::ob3::credential(&crate::ob3::AwardFacts {
            id: "https://certs.example/verify/7K3M".into(),
            certificate_id: "7K3M".into(),
            issuer_did: "did:web:certs.example".into(),
            issuer_name: "Ζωή & Søn \"Ltd\"".into(),
            issuer_url: "https://certs.example".into(),
            learner_name: "李小龍 😀 Ana\tÁlvarez".into(),
            achievement_id: "https://certs.example/programs/S".into(),
            program_code: "S".into(),
            program_name: "Safety".into(),
            program_description: String::new(),
            issued_on: "2026-01-10".into(),
            expires_on: Some("2027-01-10".into()),
            score: Some(0.875),
            predecessor: Some("https://certs.example/verify/2HBR".into()),
            status: Some(crate::ob3::StatusEntry {
                list_url: "https://certs.example/status/1".into(),
                index: 7,
            }),
        });
        same_as_serde_jcs(&doc);
    }
}
