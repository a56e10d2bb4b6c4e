//! An organization's logo (SPEC §4): uploaded by an administrator from the API or the
//! organization page, checked (PNG) or sanitized (SVG), drawn on the organization's
//! certificates and shown on its verification pages; removed again. On both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends, error_beside};
use serde_json::{Value, json};

/// A 40×20 PNG in one colour.
fn png_logo() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut e = png::Encoder::new(&mut out, 40, 20);
        e.set_color(png::ColorType::Rgb);
        let mut w = e.write_header().unwrap();
        w.write_image_data(&[200u8, 30, 30].repeat(40 * 20))
            .unwrap();
    }
    out
}

async fn put_logo(
    app: &TestApp,
    token: &str,
    body: Vec<u8>,
    content_type: &str,
) -> (StatusCode, Value) {
    let res = app
        .client
        .put(format!("{}/api/v1/organizations/default/logo", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn seed(app: &TestApp) -> String {
    app.program(
        json!({"code": "Y1", "name": "Working at height", "validity": {"count": 1, "unit": "years"},
                       "items": [{"code": "C1", "kind": "course", "assigned_on": "2026-01-01"}]}),
    )
    .await;
    app.learner("ana").await;
    let c = app
        .post(
            "/api/v1/completions",
            json!({"event_id": "e1", "learner": "ana", "item": "C1", "completed_on": "2026-06-20"}),
        )
        .await
        .expect(StatusCode::CREATED);
    c["outcomes"][0]["award"].as_str().unwrap().to_owned()
}

async fn certificate_png(app: &TestApp, id: &str) -> Vec<u8> {
    let res = app
        .client
        .get(format!("{}/api/v1/awards/{id}/certificate.png", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.bytes().await.unwrap().to_vec()
}

both_backends! {
    async fn a_logo_is_drawn_on_certificates_and_shown_where_they_are_verified(app) {
        let id = seed(&app).await;
        let without = certificate_png(&app, &id).await;
        let (status, _) = app.client.get(format!("{}/orgs/default/logo", app.base)).send().await.map(|r| (r.status(), ())).unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND);
        let v = app.get(&format!("/api/v1/verify/{id}")).await.expect(StatusCode::OK);
        assert_eq!(v["logo_url"], Value::Null);

        let (status, stored) = put_logo(&app, &app.token, png_logo(), "image/png").await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        assert_eq!((stored["content_type"].as_str(), stored["removed"].as_array().map(Vec::len)), (Some("image/png"), Some(0)));
        let res = app.client.get(format!("{}/orgs/default/logo", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/png");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.bytes().await.unwrap().to_vec(), png_logo());
        // On the certificate (it is drawn anew: the drawing changed) and beside the
        // verification, on the page and in the JSON.
        let with = certificate_png(&app, &id).await;
        assert_ne!(with, without, "the logo is drawn");
        let qr = recert_credentials::render::qr_in_png(&with).unwrap();
        assert!(qr.ends_with(&format!("/verify/{id}")), "the QR code still reads: {qr}");
        let v = app.get(&format!("/api/v1/verify/{id}")).await.expect(StatusCode::OK);
        assert_eq!(v["logo_url"], format!("{}/orgs/default/logo", app.base));
        let page = app.client.get(format!("{}/verify/{id}", app.base)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains(&format!("<img class=\"issuer-logo\" src=\"{}/orgs/default/logo\"", app.base)), "{page}");
        let pdf = app.client.get(format!("{}/api/v1/awards/{id}/certificate.pdf", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(pdf.status(), StatusCode::OK);

        // An SVG logo is sanitized, and served sandboxed.
        let hostile = br##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" onload="alert(1)"><script>alert(2)</script><image href="https://evil.example/t.png" width="1" height="1"/><rect width="120" height="40" fill="#c00"/></svg>"##;
        let (status, stored) = put_logo(&app, &app.token, hostile.to_vec(), "image/svg+xml").await;
        assert_eq!(status, StatusCode::OK, "{stored}");
        assert_eq!(stored["removed"].as_array().unwrap().len(), 3, "{stored}");
        let res = app.client.get(format!("{}/orgs/default/logo", app.base)).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
        assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
        let served = res.text().await.unwrap();
        assert!(!served.contains("script") && !served.contains("onload") && !served.contains("evil.example"), "{served}");
        assert_ne!(certificate_png(&app, &id).await, with);

        // Refused with the reason: not an image, a broken PNG, the wrong type, too big.
        let (status, p) = put_logo(&app, &app.token, b"hello".to_vec(), "image/png").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
        assert!(p.to_string().contains("neither a PNG nor an SVG"), "{p}");
        let mut broken = png_logo();
        broken.truncate(broken.len() / 2);
        let (status, p) = put_logo(&app, &app.token, broken, "image/png").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(p.to_string().contains("not a readable PNG"), "{p}");
        let (status, _) = put_logo(&app, &app.token, png_logo(), "text/plain").await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let (status, p) = put_logo(&app, &app.token, vec![b' '; 600 * 1024], "image/svg+xml").await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE, "{status} {p}");
        // Only administrators; unknown organizations are not found.
        let auditor = app.token_for("auditor").await;
        let (status, _) = put_logo(&app, &auditor, png_logo(), "image/png").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let res = app.client.put(format!("{}/api/v1/organizations/nope/logo", app.base)).bearer_auth(&app.token)
            .header("content-type", "image/png").body(png_logo()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // Removed: certificates draw as before, and the logo is gone. Each change audited.
        let res = app.client.delete(format!("{}/api/v1/organizations/default/logo", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(certificate_png(&app, &id).await, without);
        let res = app.client.get(format!("{}/orgs/default/logo", app.base)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        for (action, n) in [("organization.logo_changed", 2), ("organization.logo_removed", 1)] {
            let (status, csv) = web.get(&format!("/audit?action={action}&subject_type=organization&subject_id=default&format=csv")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(csv.trim_end().lines().count(), 1 + n, "{action}: {csv}");
        }
    }
}

both_backends! {
    async fn administrators_upload_the_logo_from_the_organization_page(app) {
        seed(&app).await;
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (status, page) = web.get("/admin/organizations").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("did:web:") && page.contains("/orgs/default/did.json"), "{page}");
        assert!(page.contains("No logo yet"), "{page}");
        // A refused file: the message beside the field, the page kept.
        let form = reqwest::multipart::Form::new().part("logo", reqwest::multipart::Part::bytes(b"not an image".to_vec()).file_name("logo.txt"));
        let (status, page) = web.post_multipart("/admin/organizations/default/logo", form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error_beside(&page, "logo-default").unwrap().contains("neither a PNG nor an SVG"), "{page}");
        // A PNG: saved, said, and shown.
        let form = reqwest::multipart::Form::new().part("logo", reqwest::multipart::Part::bytes(png_logo()).file_name("logo.png").mime_str("image/png").unwrap());
        let (status, page) = web.post_multipart("/admin/organizations/default/logo", form).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Logo saved."), "{page}");
        assert!(page.contains("<img class=\"logo-preview\" src=\"/orgs/default/logo\""), "{page}");
        assert!(page.contains("data-confirm=\"Remove the logo of"), "removing asks first: {page}");
        // Removed (after the confirmation the page asks for).
        let (status, to) = web.post_no_follow("/admin/organizations/default/logo/remove", &[]).await;
        assert_eq!((status, to.as_deref()), (StatusCode::SEE_OTHER, Some("/admin/organizations?done=logo-removed#org-default")));
        let (_, page) = web.get("/admin/organizations?done=logo-removed").await;
        assert!(page.contains("Logo removed.") && page.contains("No logo yet"), "{page}");
        // Not for other roles.
        app.account("aud", "auditor", None, &[]).await;
        let other = app.web_session("aud").await;
        let (status, _) = other.get("/admin/organizations").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
