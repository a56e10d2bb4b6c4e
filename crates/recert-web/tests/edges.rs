//! One rule for text at every edge — JSON, forms (signed in or not), multipart uploads,
//! xAPI, query and path — and one safe-redirect rule, on both databases: PostgreSQL refuses
//! NUL characters that SQLite would store, so none may reach either. Dates outside the
//! years 1900–2200 are refused with a message, not stored.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{PASSWORD, StatusCode, TestApp, both_backends, cookie_of, error_beside};
use reqwest::Method;
use serde_json::json;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let i = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

/// Opens the sign-in page at `path` and posts the form with `username`; the answer.
async fn sign_in_from(app: &TestApp, path: &str, username: &str) -> reqwest::Response {
    let c = no_redirects();
    let form = c.get(format!("{}{path}", app.base)).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK, "{path}");
    let pre = cookie_of(&form, "recert_login_csrf").unwrap();
    let html = form.text().await.unwrap();
    let (csrf, next) = (hidden(&html, "_csrf"), hidden(&html, "next"));
    c.post(format!("{}/login", app.base))
        .header("cookie", format!("recert_login_csrf={pre}"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("next", next.as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

both_backends! {
    async fn sign_in_follows_only_paths_on_this_site(app) {
        app.account("root", "admin", None, &[]).await;
        for (link, lands) in [
            ("/login?next=/%09/example.com", "/"),
            ("/login?next=/%0A/example.com", "/"),
            ("/login?next=//example.com", "/"),
            ("/login?next=/%5Cexample.com", "/"),
            ("/login?next=https://example.com", "/"),
            ("/login?next=/programs%3Fstatus%3Dgrace", "/programs?status=grace"),
        ] {
            let r = sign_in_from(&app, link, "root").await;
            assert_eq!(r.status(), StatusCode::SEE_OTHER, "{link}");
            assert_eq!(r.headers()["location"], lands, "{link}");
        }
        // A control character in the link is refused with a page, not a server error.
        let r = no_redirects().get(format!("{}/login?next=/%01x", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    }
}

both_backends! {
    async fn nul_and_control_characters_are_refused_at_every_edge(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana", "email": "ana@example.com"}))
            .await.expect(StatusCode::CREATED);
        app.account("root", "admin", None, &[]).await;
        // JSON: the field is named.
        let p = app.post("/api/v1/learners", json!({"username": "x", "legal_name": "Nul\u{0}Name"})).await.invalid_field("legal_name");
        assert!(p["detail"].as_str().unwrap().contains("U+0000"), "{p}");
        app.post("/api/v1/learners", json!({"username": "x", "legal_name": "Bell\u{7}", "attributes": {"site": "B"}})).await.invalid_field("legal_name");
        app.post("/api/v1/award-batches", json!({"program": "P", "learners": ["ana", "b\u{0}"]})).await.invalid_field("learners[1]");
        app.post("/api/v1/learners", json!({"username": "y", "legal_name": "Tab\tand\nlines ok"})).await.expect(StatusCode::CREATED);

        // Sign-in form, unauthenticated: a page, not a 500.
        let c = no_redirects();
        let form = c.get(format!("{}/login", app.base)).send().await.unwrap();
        let pre = cookie_of(&form, "recert_login_csrf").unwrap();
        let csrf = hidden(&form.text().await.unwrap(), "_csrf");
        for name in ["root\u{0}", "\u{0}", "ro\u{1b}ot"] {
            let r = c.post(format!("{}/login", app.base)).header("cookie", format!("recert_login_csrf={pre}"))
                .form(&[("_csrf", csrf.as_str()), ("username", name), ("password", PASSWORD)]).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{name:?}");
            assert!(r.text().await.unwrap().contains("username"));
        }
        // A signed-in form.
        let web = app.web_session("root").await;
        let (status, page) = web.post("/programs", &[("code", "N\u{0}"), ("name", "x"), ("validity_count", "1"), ("validity_unit", "years")]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
        assert!(page.contains("code") && page.contains("U+0000"));

        // Multipart (API and page): the field is named.
        let form = reqwest::multipart::Form::new().text("learner", "ana").text("program", "P")
            .text("title", "First aid\u{0}").text("provider", "Red Cross").text("completed_on", "2027-06-01");
        let r = app.client.post(format!("{}/api/v1/external-training", app.base)).bearer_auth(&app.token)
            .multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "title", "{p}");
        let file = reqwest::multipart::Part::bytes(b"%PDF".to_vec()).file_name("cert\u{0}.pdf");
        let form = reqwest::multipart::Form::new().text("learner", "ana").text("program", "P").text("title", "t")
            .text("provider", "p").text("completed_on", "2027-06-01").part("evidence", file);
        let r = app.client.post(format!("{}/api/v1/external-training", app.base)).bearer_auth(&app.token)
            .multipart(form).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let form = reqwest::multipart::Form::new().text("learner", "ana").text("program", "P").text("title", "t\u{0}")
            .text("provider", "p").text("completed_on", "2027-06-01").text("back", "queue");
        let (status, page) = web.post_multipart("/external-training", form).await;
        assert!(status.is_client_error(), "{status} {page}");
        assert!(error_beside(&page, "title").is_some_and(|m| m.contains("U+0000")) || page.contains("U+0000"), "{page}");

        // xAPI: a 400 naming where.
        let conn = app.post("/api/v1/lms-connections", json!({"name": "lms"})).await.expect(StatusCode::CREATED);
        let auth = {
            use base64::Engine;
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap())))
        };
        let statement = json!({"actor": {"mbox": "mailto:ana@example.com", "name": "Ana\u{0}"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "urn:x"}});
        let r = app.client.post(format!("{}/xapi/statements", app.base)).header("authorization", &auth)
            .header("x-experience-api-version", "1.0.3").json(&statement).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(r.text().await.unwrap().contains("actor.name"));

        // Query and path.
        for path in ["/api/v1/learners?q=a%00b", "/api/v1/learners/a%00b", "/api/v1/awards?status=%01", "/api/v1/learners?q=%1B"] {
            app.get(path).await.problem(StatusCode::BAD_REQUEST);
        }
        let (status, page) = web.get("/learners?q=a%00b").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(page.contains("<html"), "pages answer with a page");
        // Nothing with NUL was stored anywhere.
        let all = app.get("/api/v1/learners?limit=500").await.expect(StatusCode::OK);
        assert!(!all.to_string().contains("\\u0000"));
    }
}

both_backends! {
    async fn dates_outside_1900_to_2200_are_refused_with_a_message(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"},
            "items": [{"code": "C", "assigned_on": "2027-01-01"}]})).await;
        app.learner("ana").await;
        for d in ["9999-12-31", "0000-01-01", "-000001-01-01", "1899-12-31", "2201-01-01"] {
            let p = app.post("/api/v1/awards", json!({"learner": "ana", "program": "P", "issued_on": d})).await.invalid_field("issued_on");
            let detail = p["detail"].as_str().unwrap();
            assert!(detail.contains("1900–2200") || detail.contains("YYYY-MM-DD"), "{d}: {detail}");
            app.post("/api/v1/completions", json!({"event_id": format!("e{d}"), "learner": "ana", "item": "C", "completed_on": d}))
                .await.invalid_field("completed_on");
            app.get(&format!("/api/v1/awards?as_of={d}")).await.invalid_field("as_of");
        }
        app.post("/api/v1/completions", json!({"event_id": "far", "learner": "ana", "item": "C", "completed_on": "9999-12-31T00:00:00Z"}))
            .await.invalid_field("completed_on");
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "P", "issued_on": "2027-01-01"})).await.expect(StatusCode::CREATED);
        app.patch(&format!("/api/v1/awards/{}", a["id"].as_str().unwrap()), json!({"expires_on": "9999-12-31"}))
            .await.invalid_field("expires_on");
        app.send(Method::PATCH, "/api/v1/learners/ana", Some(json!({"end_date": "0000-01-01"})), Some(&app.token)).await.invalid_field("end_date");
    }
}
