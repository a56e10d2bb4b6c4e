//! Open Badges 3.0 `OpenBadgeCredential` documents (W3C Verifiable Credentials 2.0) from an
//! award's facts, shaped to validate against the OB 3.0 JSON Schema.

use serde_json::{Value, json};

pub const VC_V2: &str = "https://www.w3.org/ns/credentials/v2";
pub const OB_V3: &str = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json";

/// Where an award's revocation bit lives.
#[derive(Debug, Clone)]
pub struct StatusEntry {
    /// The status list credential's URL.
    pub list_url: String,
    pub index: u64,
}

/// What a credential says, gathered by the caller.
#[derive(Debug, Clone)]
pub struct AwardFacts {
    /// The credential's id: its verification URL.
    pub id: String,
    pub certificate_id: String,
    pub issuer_did: String,
    pub issuer_name: String,
    /// The issuer's public page (recert's base URL).
    pub issuer_url: String,
    pub learner_name: String,
    /// The achievement's id: a URL naming the program.
    pub achievement_id: String,
    pub program_code: String,
    pub program_name: String,
    pub program_description: String,
    /// `YYYY-MM-DD`.
    pub issued_on: String,
    /// `YYYY-MM-DD`; `None` when always valid.
    pub expires_on: Option<String>,
    /// A score 0–1 when one is recorded.
    pub score: Option<f64>,
    /// The renewed award's credential id, when this award renews one.
    pub predecessor: Option<String>,
    pub status: Option<StatusEntry>,
}

/// The unsigned credential.
pub fn credential(f: &AwardFacts) -> Value {
    let description = if f.program_description.trim().is_empty() {
        format!("Certification {} ({}).", f.program_name, f.program_code)
    } else {
        f.program_description.clone()
    };
    let mut subject = json!({
        "type": ["AchievementSubject"],
        "identifier": [{
            "type": "IdentityObject",
            "identityHash": f.learner_name,
            "identityType": "name",
            "hashed": false,
        }],
        "achievement": {
            "id": f.achievement_id,
            "type": ["Achievement"],
            "achievementType": "Certificate",
            "name": f.program_name,
            "description": description,
            "humanCode": f.program_code,
            "criteria": {"narrative": format!("Awarded by {} under the rules of {}.", f.issuer_name, f.program_code)},
        },
    });
    if let Some(s) = f.score {
        subject["result"] = json!([{
            "type": ["Result"],
            "value": format!("{:.0}%", s * 100.0),
        }]);
    }
    let mut doc = json!({
        "@context": [VC_V2, OB_V3],
        "id": f.id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f.program_name,
        "description": format!("{} — certificate {}", f.program_name, f.certificate_id),
        "issuer": {
            "id": f.issuer_did,
            "type": ["Profile"],
            "name": f.issuer_name,
            "url": f.issuer_url,
        },
        "validFrom": format!("{}T00:00:00Z", f.issued_on),
        "credentialSubject": subject,
    });
    if let Some(e) = &f.expires_on {
        // Valid through its last day.
        doc["validUntil"] = json!(format!("{e}T23:59:59Z"));
    }
    if let Some(p) = &f.predecessor {
        doc["evidence"] = json!([{
            "id": p,
            "type": ["Evidence"],
            "name": "Renews an earlier certificate",
            "narrative": "This certificate renews the one this evidence names; together they certify continuously.",
        }]);
    }
    if let Some(s) = &f.status {
        doc["credentialStatus"] = json!({
            "id": format!("{}#{}", s.list_url, s.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": s.index.to_string(),
            "statusListCredential": s.list_url,
        });
    }
    doc
}
