//! Every kind of bad input gets a problem+json answer, never a 500 or a panic.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::json;

async fn seed(app: &TestApp) -> String {
    app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}}))
        .await;
    app.learner("ana").await;
    app.post("/api/v1/groups", json!({"name": "G", "kind": "team"}))
        .await
        .expect(StatusCode::CREATED);
    let a = app
        .post("/api/v1/awards", json!({"learner": "ana", "program": "P"}))
        .await
        .expect(StatusCode::CREATED);
    a["id"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn malformed_json_wrong_type_and_unknown_fields(app) {
        let p = app.send_raw(Method::POST, "/api/v1/programs", "application/json", b"{\"code\": ".to_vec()).await.problem(StatusCode::BAD_REQUEST);
        assert_eq!(p["type"], "/problems/malformed-json");
        app.send_raw(Method::POST, "/api/v1/programs", "text/plain", b"{}".to_vec()).await.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let p = app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": "one", "unit": "years"}}))
            .await.invalid_field("validity.count");
        assert!(p["detail"].as_str().unwrap().contains("invalid type"), "{p}");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "validty": 1}))
            .await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/v1/programs", json!([1, 2])).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_backends! {
    async fn oversize_body_is_refused(app) {
        let big = format!("{{\"code\": \"X\", \"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
        let p = app.send_raw(Method::POST, "/api/v1/programs", "application/json", big.into_bytes()).await.problem(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(p["type"], "/problems/body-too-large");
    }
}

both_backends! {
    async fn mistyped_certificate_ids_are_explained(app) {
        let id = seed(&app).await;
        // One symbol changed: the check character catches it.
        let mut chars: Vec<char> = id.chars().collect();
        chars[0] = if chars[0] == '7' { '8' } else { '7' };
        let typo: String = chars.into_iter().collect();
        let p = app.get(&format!("/api/v1/awards/{typo}")).await.invalid_field("id");
        assert!(p["detail"].as_str().unwrap().contains("typo"), "{p}");
        app.get("/api/v1/awards/ABCD").await.invalid_field("id");
        // A well-formed ID that was never issued is simply not found.
        let other = recert_domain::CertificateId::from_random([9; 16]);
        app.get(&format!("/api/v1/awards/{other}")).await.problem(StatusCode::NOT_FOUND);
        // Lower case and without hyphens finds the same award.
        let loose = id.to_lowercase().replace('-', "");
        assert_eq!(app.get(&format!("/api/v1/awards/{loose}")).await.expect(StatusCode::OK)["id"], id.as_str());
    }
}

both_backends! {
    async fn bad_query_parameters(app) {
        seed(&app).await;
        app.get("/api/v1/awards?limit=0").await.invalid_field("limit");
        app.get("/api/v1/awards?limit=501").await.invalid_field("limit");
        app.get("/api/v1/awards?limit=ten").await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        app.get("/api/v1/awards?cursor=zzz").await.invalid_field("cursor");
        app.get("/api/v1/awards?status=dormant").await.invalid_field("status");
        app.get("/api/v1/awards?as_of=yesterday").await.invalid_field("as_of");
        app.get("/api/v1/awards?expires_from=2027-02-31").await.invalid_field("expires_from");
        app.get("/api/v1/programs?include_archived=maybe").await.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_backends! {
    async fn unknown_routes_methods_and_records(app) {
        app.get("/api/v1/nothing").await.problem(StatusCode::NOT_FOUND);
        app.send(Method::PUT, "/api/v1/programs", Some(json!({})), Some(&app.token)).await.problem(StatusCode::METHOD_NOT_ALLOWED);
        app.get("/api/v1/programs/NOPE").await.problem(StatusCode::NOT_FOUND);
        app.patch("/api/v1/programs/NOPE", json!({"name": "x"})).await.problem(StatusCode::NOT_FOUND);
        app.get("/api/v1/groups/NOPE").await.problem(StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn missing_bad_and_underprivileged_tokens(app) {
        let p = app.send(Method::GET, "/api/v1/programs", None, None).await;
        assert!(p.headers.get("www-authenticate").is_some());
        p.problem(StatusCode::UNAUTHORIZED);
        app.send(Method::GET, "/api/v1/programs", None, Some("rct_0000")).await.problem(StatusCode::UNAUTHORIZED);
        app.send(Method::GET, "/api/v1/programs", None, Some("garbage")).await.problem(StatusCode::UNAUTHORIZED);
        let auditor = app.token_for("auditor").await;
        app.send(Method::GET, "/api/v1/programs", None, Some(&auditor)).await.expect(StatusCode::OK);
        app.send(Method::POST, "/api/v1/programs", Some(json!({"code": "A", "name": "A", "validity": {"count": 1, "unit": "years"}})), Some(&auditor))
            .await.problem(StatusCode::FORBIDDEN);
        app.learner("ana").await;
        app.learner("ben").await;
        let learner = app.user_token("ana", "learner", Some("ana"), &[]).await;
        // Another learner answers exactly as one that does not exist: usernames are not public.
        let hidden = app.send(Method::GET, "/api/v1/learners/ben", None, Some(&learner)).await.problem(StatusCode::NOT_FOUND);
        let unknown = app.send(Method::GET, "/api/v1/learners/nobody", None, Some(&learner)).await.problem(StatusCode::NOT_FOUND);
        assert_eq!(hidden["title"], unknown["title"]);
        assert_eq!(hidden["detail"].as_str().unwrap().replace("ben", "X"), unknown["detail"].as_str().unwrap().replace("nobody", "X"));
        app.send(Method::GET, "/api/v1/users", None, Some(&auditor)).await.problem(StatusCode::FORBIDDEN);
    }
}

// Every route, with every kind of junk body and path, answers below 500 and in problem+json
// whenever it refuses.
both_backends! {
    async fn no_route_answers_500_to_junk(app) {
        let id = seed(&app).await;
        let routes: &[(Method, String)] = &[
            (Method::GET, "/api/v1/organizations".into()),
            (Method::GET, "/api/v1/programs".into()), (Method::POST, "/api/v1/programs".into()),
            (Method::GET, "/api/v1/programs/P".into()), (Method::PATCH, "/api/v1/programs/P".into()),
            (Method::POST, "/api/v1/programs/P/archive".into()),
            (Method::GET, "/api/v1/learners".into()), (Method::POST, "/api/v1/learners".into()),
            (Method::GET, "/api/v1/learners/ana".into()), (Method::PATCH, "/api/v1/learners/ana".into()),
            (Method::GET, "/api/v1/groups".into()), (Method::POST, "/api/v1/groups".into()),
            (Method::GET, "/api/v1/groups/G".into()), (Method::GET, "/api/v1/groups/G/members".into()),
            (Method::POST, "/api/v1/groups/G/members".into()), (Method::DELETE, "/api/v1/groups/G/members/ana".into()),
            (Method::POST, "/api/v1/groups/G/requirements".into()), (Method::DELETE, "/api/v1/groups/G/requirements/P".into()),
            (Method::GET, "/api/v1/requirements".into()),
            (Method::GET, "/api/v1/awards".into()), (Method::POST, "/api/v1/awards".into()),
            (Method::GET, format!("/api/v1/awards/{id}")), (Method::PATCH, format!("/api/v1/awards/{id}")),
            (Method::POST, format!("/api/v1/awards/{id}/revoke")), (Method::POST, format!("/api/v1/awards/{id}/archive")),
            (Method::GET, format!("/api/v1/awards/{id}/history")),
        ];
        let bodies: Vec<&[u8]> = vec![b"", b"{", b"null", b"[]", b"{\"x\": 1}", b"\"str\"", b"{\"name\": null, \"code\": 7}",
            b"{\"learner\": \"\\u0000\", \"program\": \"P\\n\"}", b"\xff\xfe"];
        for (method, path) in routes {
            for body in &bodies {
                let r = app.send_raw(method.clone(), path, "application/json", body.to_vec()).await;
                assert!(r.status.as_u16() < 500, "{method} {path} with {:?}: {} {}", String::from_utf8_lossy(body), r.status, r.text);
                if r.status.as_u16() >= 400 {
                    assert_eq!(r.content_type, "application/problem+json", "{method} {path}: {}", r.text);
                }
            }
            for junk in ["%00", "%FF", "..%2F..%2Fetc", "%F0%9F%92%A9", &"x".repeat(3000)] {
                let p = format!("{path}/{junk}");
                let r = app.send_raw(method.clone(), &p, "application/json", b"{}".to_vec()).await;
                assert!(r.status.as_u16() < 500, "{method} {p}: {} {}", r.status, r.text);
            }
            for query in ["limit=99999999999999999999", "limit=-1", "cursor=c-1", "cursor=cffffffffffffffffff", "as_of=%FF",
                "status=%00", "q=%27%3B%20DROP%20TABLE%20awards%3B--", "group=%25", "include_archived=2", "learner[]=x"] {
                let p = format!("{path}?{query}");
                let r = app.send_raw(method.clone(), &p, "application/json", b"{}".to_vec()).await;
                assert!(r.status.as_u16() < 500, "{method} {p}: {} {}", r.status, r.text);
                if r.status.as_u16() >= 400 {
                    assert_eq!(r.content_type, "application/problem+json", "{method} {p}: {}", r.text);
                }
            }
        }
    }
}

both_backends! {
    async fn shapes_the_document_refuses_are_refused(app) {
        // Each found by the property-based API test (crates/recert/tests/api_properties.rs).
        let id = seed(&app).await;
        // The archive reason's optional body is checked like every other JSON body.
        app.post(&format!("/api/v1/awards/{id}/archive"), json!({"reason": "\u{1}x"}))
            .await.invalid_field("reason");
        // A completion batch of things that are not completions is refused whole.
        app.post("/api/v1/completions", json!([[null, null]])).await.invalid_field("[0]");
        // Only a JSON object can be a credential to verify.
        app.post("/api/v1/verify", json!([null, null])).await.invalid_field("document");
        // The sign-off decision's field is `comment` (its schema is no longer the credit
        // decision's, whose field is `note`).
        let p = app.get("/api/v1/openapi.json").await.expect(StatusCode::OK);
        let approve = &p["paths"]["/api/v1/signoffs/{id}/approve"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(approve, "#/components/schemas/SignoffDecisionDraft");
        assert!(p["components"]["schemas"]["SignoffDecisionDraft"]["properties"]["comment"].is_object());
    }
}
