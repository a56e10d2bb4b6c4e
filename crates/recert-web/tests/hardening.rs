#![allow(clippy::unwrap_used)]
//! Web hardening: the security headers every answer carries, and the error page a
//! browser gets for an address that does not exist (API clients still get problem+json).

use recert_testkit::{StatusCode, both_backends};

/// The directives of a Content-Security-Policy, by name.
fn directives(csp: &str) -> std::collections::HashMap<String, String> {
    csp.split(';')
        .filter_map(|d| {
            let d = d.trim();
            let (name, value) = d.split_once(' ').unwrap_or((d, ""));
            (!name.is_empty()).then(|| (name.to_owned(), value.to_owned()))
        })
        .collect()
}

both_backends! {
    async fn pages_carry_a_strict_policy_and_are_never_cached(app) {
        app.account("root", "admin", None, &[]).await;
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let web = app.web_session("root").await;
        // The sign-in page, and a page of records behind it.
        let login = c.get(format!("{}/login", app.base)).send().await.unwrap();
        let programs = c.get(format!("{}/programs", app.base))
            .header("cookie", format!("recert_session={}", web_session_cookie(&app).await))
            .send().await.unwrap();
        assert_eq!(programs.status(), StatusCode::OK);
        for page in [&login, &programs] {
            let h = page.headers();
            let csp = directives(h["content-security-policy"].to_str().unwrap());
            assert_eq!(csp["script-src"], "'self'", "scripts only from recert's own files");
            assert!(!csp["script-src"].contains("unsafe"));
            assert_eq!(csp["frame-ancestors"], "'none'");
            assert_eq!(csp["object-src"], "'none'");
            assert_eq!(h["x-content-type-options"], "nosniff");
            assert_eq!(h["x-frame-options"], "DENY");
            assert!(h.contains_key("referrer-policy"));
            assert_eq!(h["cache-control"], "no-store");
            assert!(!h.contains_key("strict-transport-security"), "not over plain http");
        }
        // No page has inline script or inline event handlers for the policy to break.
        let (_, html) = web.get("/programs").await;
        assert!(!html.contains("<script>") && !html.contains("javascript:") && !html.contains(" onclick="));
        // API answers with personal data are not cached either; assets are, for a year.
        let api = app.client.get(format!("{}/api/v1/programs", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(api.headers()["cache-control"], "no-store");
        assert_eq!(api.headers()["x-content-type-options"], "nosniff");
        assert!(!api.headers().contains_key("content-security-policy"));
        let css_path = html.split("href=\"").find_map(|s| s.split('"').next().filter(|p| p.ends_with(".css"))).unwrap().to_owned();
        let css = c.get(format!("{}{css_path}", app.base)).send().await.unwrap();
        assert_eq!(css.status(), StatusCode::OK);
        assert!(css.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    }
}

/// A fresh session cookie for root.
async fn web_session_cookie(app: &recert_testkit::TestApp) -> String {
    app.service
        .login("root", recert_testkit::PASSWORD, None)
        .await
        .unwrap()
        .unwrap()
}

both_backends! {
    async fn a_browser_gets_the_error_page_and_an_api_client_a_problem_document(app) {
        let c = reqwest::Client::new();
        let browser = c.get(format!("{}/no/such/page", app.base))
            .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            .send().await.unwrap();
        assert_eq!(browser.status(), StatusCode::NOT_FOUND);
        assert!(browser.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(browser.headers().contains_key("content-security-policy"));
        let html = browser.text().await.unwrap();
        assert!(html.contains("<h1>Page not found</h1>") && html.contains("Back to recert"), "{html}");
        for accept in [Some("application/json"), Some("*/*"), None, Some("text/html;q=0, application/json")] {
            let mut req = c.get(format!("{}/api/v1/no-such-thing", app.base));
            if let Some(a) = accept {
                req = req.header("accept", a);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
            assert_eq!(res.headers()["content-type"], "application/problem+json", "{accept:?}");
        }
        // A method a route does not take: the same split.
        let page = c.delete(format!("{}/login", app.base)).header("accept", "text/html").send().await.unwrap();
        assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let api = c.delete(format!("{}/login", app.base)).send().await.unwrap();
        assert_eq!(api.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(api.headers()["content-type"], "application/problem+json");
    }
}

#[tokio::test]
async fn https_deployments_send_strict_transport_security() {
    let Some(db) = recert_testkit::TestDb::create(recert_testkit::Backend::Sqlite).await else {
        return;
    };
    let store = recert_store::Store::connect(&db.url).await.unwrap();
    let clock = std::sync::Arc::new(recert_service::ManualClock::new(
        recert_testkit::START.parse().unwrap(),
    ));
    let service = recert_service::Service::new(store, clock, "https://recert.example.org");
    service.prepare("Test Org", "UTC").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(recert_web::serve(listener, service, async {
        let _ = stopped.await;
    }));
    let res = reqwest::get(format!("http://{addr}/login")).await.unwrap();
    assert_eq!(
        res.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

/// A report of external training for ana, with an evidence file of `size` bytes.
async fn report(app: &recert_testkit::TestApp, size: usize) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("learner", "ana")
        .text("program", "SAFE")
        .text("title", "Working at height")
        .text("provider", "SafeCo")
        .text("completed_on", "2027-05-20")
        .part(
            "evidence",
            reqwest::multipart::Part::bytes(vec![b'%'; size])
                .file_name("cert.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    app.client
        .post(format!("{}/api/v1/external-training", app.base))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Sends an 11 MB multipart upload as a client that keeps writing while the server has
/// already answered (as curl or a browser does) and returns the answer's head.
async fn oversized_upload(app: &recert_testkit::TestApp) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let boundary = "recert-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"program\"\r\n\r\nSAFE\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"big.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend(std::iter::repeat_n(b'%', 11 * 1024 * 1024));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let addr = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let head = format!(
        "POST /api/v1/external-training HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        app.token,
        body.len()
    );
    let writer = tokio::spawn(async move {
        // The server may stop reading once it has answered: a broken pipe is expected.
        let _ = write.write_all(head.as_bytes()).await;
        let _ = write.write_all(&body).await;
    });
    let mut answer = vec![0u8; 4096];
    let mut got = 0;
    while got < 12 || !answer[..got].windows(4).any(|w| w == b"\r\n\r\n") {
        match read.read(&mut answer[got..]).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    writer.abort();
    String::from_utf8_lossy(&answer[..got]).into_owned()
}

both_backends! {
    async fn limits_against_abuse_answer_413_or_422_and_store_nothing(app) {
        use serde_json::json;
        app.program(json!({"code": "SAFE", "name": "Site Safety", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        // No text over 10,000 characters, at any edge.
        let long = "x".repeat(10_001);
        app.post("/api/v1/learners", json!({"username": "ben", "legal_name": "Ben", "attributes": {"note": long}}))
            .await.invalid_field("attributes.note");
        let res = app.client.get(format!("{}/api/v1/learners?q={long}", app.base)).bearer_auth(&app.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.text().await.unwrap().contains("at most 10000 characters"));
        // Attributes, items and custom fields are counted.
        let many: serde_json::Map<String, serde_json::Value> = (0..51).map(|i| (format!("a{i}"), json!("v"))).collect();
        app.post("/api/v1/learners", json!({"username": "cem", "legal_name": "Cem", "attributes": many}))
            .await.invalid_field("attributes");
        let items: Vec<serde_json::Value> = (0..201).map(|i| json!({"code": format!("C{i}"), "kind": "course"})).collect();
        app.post("/api/v1/programs", json!({"code": "BIG", "name": "Big", "validity": {"count": 1, "unit": "years"}, "items": items}))
            .await.invalid_field("items");
        let fields: Vec<serde_json::Value> = (0..51).map(|i| json!({"key": format!("f{i}"), "label": "F", "kind": "text"})).collect();
        app.post("/api/v1/programs", json!({"code": "BIG", "name": "Big", "validity": {"count": 1, "unit": "years"}, "custom_fields": fields}))
            .await.invalid_field("custom_fields");
        app.get("/api/v1/learners/cem").await.problem(StatusCode::NOT_FOUND);
        app.get("/api/v1/programs/BIG").await.problem(StatusCode::NOT_FOUND);
        // A multipart body over the upload limit is 413, not 422.
        let answer = oversized_upload(&app).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
        // Twenty evidence files a day per learner; the next is refused beside the field.
        for _ in 0..20 {
            assert_eq!(report(&app, 1000).await.status(), StatusCode::CREATED);
        }
        let res = report(&app, 1000).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p: serde_json::Value = res.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], "evidence", "{p}");
        assert!(p["detail"].as_str().unwrap().contains("last 24 hours"), "{p}");
        let queue = app.get("/api/v1/external-training?limit=100").await.expect(StatusCode::OK);
        assert_eq!(queue["items"].as_array().unwrap().len(), 20);
        // A day later the allowance is back.
        app.set_time("2027-06-16T12:00:01Z");
        assert_eq!(report(&app, 1000).await.status(), StatusCode::CREATED);
    }
}
