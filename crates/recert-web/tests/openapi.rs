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

/// What client generators and linters rely on: query parameters declared `in: query`,
/// one operationId per operation, a description on every response, servers and tags, and
/// the problem answers every authenticated call can get.
#[test]
fn the_document_says_what_the_routes_do() {
    let doc: serde_json::Value = serde_json::from_str(&recert_web::openapi::json()).unwrap();
    assert!(!doc["servers"].as_array().unwrap().is_empty());
    let tags: Vec<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut queries = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
            for t in op["tags"].as_array().unwrap() {
                assert!(
                    tags.contains(&t.as_str().unwrap()),
                    "{method} {path}: tag {t} not declared"
                );
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let declared_in = p["in"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                if name == "Idempotency-Key" {
                    assert_eq!((method.as_str(), declared_in), ("post", "header"), "{path}");
                    continue;
                }
                if name == "X-Experience-API-Version" {
                    assert!(
                        path.starts_with("/xapi/") && declared_in == "header",
                        "{path}"
                    );
                    continue;
                }
                assert_eq!(
                    declared_in,
                    if in_path { "path" } else { "query" },
                    "{method} {path}: {name}"
                );
                // xAPI's PUT names the statement in the query, required; every other query
                // parameter is optional.
                let xapi_put_id =
                    method == "put" && path == "/xapi/statements" && name == "statementId";
                if !in_path {
                    queries += 1;
                    assert_eq!(
                        p["required"] == true,
                        xapi_put_id,
                        "{method} {path}: query {name} required or not as it should be"
                    );
                }
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                assert!(
                    r["description"].as_str().is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}: no description"
                );
            }
            if path.starts_with("/api/") || path == "/xapi/statements" {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{method} {path}: 401 not documented"
                );
            }
            if op["requestBody"].is_object() {
                // The LRS answers every bad body 400 (xAPI), the API 415 for one not JSON.
                let statuses: &[&str] = if path.starts_with("/xapi/") {
                    &["400", "413"]
                } else {
                    &["400", "413", "415"]
                };
                for status in statuses {
                    assert!(
                        op["responses"][status].is_object(),
                        "{method} {path}: {status} not documented"
                    );
                }
            }
        }
    }
    assert!(queries >= 33, "only {queries} query parameters");
}
