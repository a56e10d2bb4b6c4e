//! W3C Bitstring Status List: one bit per credential (1 = revoked), gzipped and written
//! as multibase base64url (`u…`), at least 16 KB so a list hides which entry is whose.

use crate::{CredentialError, Result};
use serde_json::{Value, json};
use std::io::{Read, Write};

/// Entries per list (131,072 bits = 16 KB, the minimum the specification asks for).
pub const LIST_SIZE: u64 = 131_072;

/// The encoded list with the bits at `revoked` set.
pub fn encode(revoked: &[u64]) -> Result<String> {
    use base64::Engine;
    let mut bits = vec![0u8; (LIST_SIZE / 8) as usize];
    for &i in revoked {
        if i >= LIST_SIZE {
            return Err(CredentialError::Document(format!(
                "status index {i} is past the list"
            )));
        }
        // The first index is the most significant bit of the first byte.
        bits[(i / 8) as usize] |= 0x80 >> (i % 8);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bits)
        .map_err(|e| CredentialError::Document(e.to_string()))?;
    let zipped = gz
        .finish()
        .map_err(|e| CredentialError::Document(e.to_string()))?;
    Ok(format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
    ))
}

/// Whether bit `index` is set in an encoded list.
pub fn is_set(encoded: &str, index: u64) -> Result<bool> {
    use base64::Engine;
    let bad = |s: &str| CredentialError::Document(format!("status list: {s}"));
    let body = encoded
        .strip_prefix('u')
        .ok_or_else(|| bad("not multibase base64url"))?;
    let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body.trim_end_matches('='))
        .map_err(|_| bad("not base64url"))?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .take(16 * 1024 * 1024)
        .read_to_end(&mut bits)
        .map_err(|_| bad("not gzip"))?;
    let byte = bits
        .get((index / 8) as usize)
        .ok_or_else(|| bad("index past the list"))?;
    Ok(byte & (0x80 >> (index % 8)) != 0)
}

/// The unsigned status list credential.
pub fn list_credential(url: &str, issuer_did: &str, valid_from: &str, encoded: &str) -> Value {
    json!({
        "@context": [crate::ob3::VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let e = encode(&[0, 9, 131_071]).unwrap();
        assert!(e.starts_with('u'));
        for (i, want) in [
            (0, true),
            (1, false),
            (9, true),
            (10, false),
            (131_071, true),
        ] {
            assert_eq!(is_set(&e, i).unwrap(), want, "bit {i}");
        }
        assert!(encode(&[LIST_SIZE]).is_err());
        assert!(is_set("zzz", 0).is_err());
    }
}
