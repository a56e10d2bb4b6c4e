//! `recert bench sign_verify`: one Open Badges 3.0 credential signed and verified
//! (`eddsa-jcs-2022`), beside Digital Bazaar's JavaScript libraries doing the same with the
//! same credential in the same run (`tools/vc-verify/bench.mjs`, when node and its packages
//! are installed).

use anyhow::{Context, Result};
use recert_credentials::ob3::{self, AwardFacts, StatusEntry};
use recert_credentials::{SigningKey, proof};
use std::time::Instant;

fn sample() -> serde_json::Value {
    ob3::credential(&AwardFacts {
        id: "https://certs.example/verify/7K3M-9QXD-2HBR-4VTW".into(),
        certificate_id: "7K3M-9QXD-2HBR-4VTW".into(),
        issuer_did: "did:web:certs.example:orgs:bench".into(),
        issuer_name: "Northwind Industrial".into(),
        issuer_url: "https://certs.example".into(),
        learner_name: "Ana Álvarez".into(),
        achievement_id: "https://certs.example/programs/SAFE-ANNUAL".into(),
        program_code: "SAFE-ANNUAL".into(),
        program_name: "Annual site safety".into(),
        program_description: "Working at height, lifting, lock-out/tag-out.".into(),
        issued_on: "2026-01-10".into(),
        expires_on: Some("2036-01-10".into()),
        score: Some(0.92),
        predecessor: Some("https://certs.example/verify/2HBR-7K3M-4VTW-9QXD".into()),
        status: Some(StatusEntry {
            list_url: "https://certs.example/status/bench-1".into(),
            index: 4242,
        }),
    })
}

pub fn run(count: usize) -> Result<()> {
    let count = count.max(1);
    for suite in proof::Suite::ALL {
        // RDF canonicalization costs milliseconds: fewer rounds give as steady a figure.
        let n = if suite == proof::Suite::Rdfc {
            count.div_ceil(20).max(1)
        } else {
            count
        };
        run_suite(n, suite)?;
    }
    Ok(())
}

fn run_suite(count: usize, suite: proof::Suite) -> Result<()> {
    let doc = sample();
    let key = SigningKey::from_secret(&[42; 32])?;
    let method = "did:web:certs.example:orgs:bench#key-1";
    let mut signed = proof::sign(&doc, &key, method, "2027-01-10T09:00:00Z", suite)?;
    let start = Instant::now();
    for _ in 0..count {
        signed = proof::sign(&doc, &key, method, "2027-01-10T09:00:00Z", suite)?;
    }
    let sign = count as f64 / start.elapsed().as_secs_f64();
    let public = key.public();
    let start = Instant::now();
    for _ in 0..count {
        proof::verify(&signed, &public)?;
    }
    let verify = count as f64 / start.elapsed().as_secs_f64();
    let name = suite.name();

    let tool = std::path::PathBuf::from(
        std::env::var("RECERT_VC_VERIFY_DIR").unwrap_or_else(|_| "tools/vc-verify".into()),
    );
    let baseline = if tool.join("node_modules").exists() {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("credential.json");
        std::fs::write(&file, signed.to_string())?;
        let out = std::process::Command::new("node")
            .current_dir(&tool)
            .args(["bench.mjs", &count.to_string()])
            .arg(&file)
            .arg(name)
            .output()
            .context("running node (the JavaScript baseline)")?;
        anyhow::ensure!(
            out.status.success(),
            "the JavaScript baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        Some((
            v["sign_per_s"].as_f64().unwrap_or(0.0),
            v["verify_per_s"].as_f64().unwrap_or(0.0),
        ))
    } else {
        None
    };
    let rate = |x: f64| format!("{x:.0}/s");
    match baseline {
        Some((js_sign, js_verify)) => {
            let (rs, rv) = (
                sign / js_sign.max(f64::MIN_POSITIVE),
                verify / js_verify.max(f64::MIN_POSITIVE),
            );
            println!(
                "bench sign_verify {name} ({count} each): recert sign {} verify {} | baseline Digital Bazaar JS sign {} verify {} | ratio sign {rs:.1} verify {rv:.1} | target >= 10x: {}",
                rate(sign),
                rate(verify),
                rate(js_sign),
                rate(js_verify),
                if rs >= 10.0 && rv >= 10.0 {
                    "met"
                } else {
                    "MISSED"
                }
            )
        }
        None => println!(
            "bench sign_verify {name} ({count} each): recert sign {} verify {} | baseline not installed (npm ci in {})",
            rate(sign),
            rate(verify),
            tool.display()
        ),
    }
    Ok(())
}
