//! The OpenAPI document is generated from the code, served, and committed as
//! `docs/openapi.json`; this test regenerates it and fails on a difference
//! (`UPDATE_OPENAPI=1` rewrites the file).

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{Backend, StatusCode, TestApp};

#[test]
fn committed_openapi_document_matches_the_code() {
    let generated = recert_web::openapi::json();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, format!("{generated}\n")).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed.trim_end(),
        generated.trim_end(),
        "docs/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p recert-web --test openapi"
    );
}

#[tokio::test]
async fn openapi_document_is_served_as_3_1_with_the_key_routes() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let doc = app.get("/api/v1/openapi.json").await.expect(StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for route in [
        "/api/v1/programs",
        "/api/v1/programs/{code}",
        "/api/v1/learners",
        "/api/v1/learners/{username}",
        "/api/v1/groups",
        "/api/v1/awards",
        "/api/v1/awards/{id}",
        "/api/v1/awards/{id}/revoke",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"][route].is_object(), "{route} missing");
    }
    assert!(doc["components"]["schemas"]["AwardView"].is_object());
    let health = app
        .send(reqwest::Method::GET, "/healthz", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let ready = app
        .send(reqwest::Method::GET, "/readyz", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ready["status"], "ready");
}
