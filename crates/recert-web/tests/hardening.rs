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
