//! The JSON Canonicalization Scheme (RFC 8785) of a `serde_json::Value`, as
//! `eddsa-jcs-2022` signs it.
//!
//! `serde_jcs` gives the same bytes but serializes every object into a buffer per entry
//! and re-sorts them: 13 µs for a credential, as much as the Ed25519 signature itself. A
//! `Value` is already a tree of strings, numbers and sorted maps, so this writes it
//! directly (2–3 µs): members sorted by their names' UTF-16 code units (RFC 8785 §3.2.3;
//! a map's own order is by UTF-8 bytes, which differs for names mixing characters above
//! U+FFFF with ones from U+E000), strings escaped as ECMAScript's `JSON.stringify` does
//! (serde_json's escaping is that one), and numbers left to `serde_jcs`, whose ECMAScript
//! number formatting is the part worth reusing. The tests hold it byte-equal to
//! `serde_jcs`.

use serde_json::Value;

pub fn to_vec(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(2048);
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend(serde_jcs::to_vec(n).map_err(|e| e.to_string())?),
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
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (name, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(name, out)?;
                out.push(b':');
                write(item, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn string(s: &str, out: &mut Vec<u8>) -> Result<(), String> {
    serde_json::to_writer(out, s).map_err(|e| e.to_string())
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
