//! Operations: every response carries `x-request-id` (the caller's own when usable), and a
//! server error quotes the same id in its body, on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, both_backends};

fn id_of(r: &reqwest::Response) -> String {
    r.headers()
        .get("x-request-id")
        .expect("every response has x-request-id")
        .to_str()
        .unwrap()
        .to_owned()
}

both_backends! {
    async fn every_response_carries_a_request_id_and_a_server_error_quotes_it(app) {
        let c = &app.client;
        let mut seen = std::collections::HashSet::new();
        for path in ["/healthz", "/api/v1/programs", "/login", "/nowhere", "/api/v1/awards/not-an-id"] {
            let r = c.get(format!("{}{path}", app.base)).bearer_auth(&app.token).send().await.unwrap();
            let id = id_of(&r);
            assert!(id.len() >= 16 && id.chars().all(|ch| ch.is_ascii_hexdigit()), "{path}: {id}");
            assert!(seen.insert(id), "ids are not reused");
        }
        // The caller's own id is kept; one that is not plain text is replaced.
        let r = c.get(format!("{}/healthz", app.base)).header("x-request-id", "lb-7f3a:42").send().await.unwrap();
        assert_eq!(id_of(&r), "lb-7f3a:42");
        let r = c.get(format!("{}/healthz", app.base)).header("x-request-id", "two words").send().await.unwrap();
        assert_ne!(id_of(&r), "two words");
        // The database goes away: a 500 whose body quotes the header's id, never the cause.
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        app.service.store.close().await;
        let r = c.get(format!("{}/api/v1/programs", app.base)).bearer_auth(&app.token)
            .header("x-request-id", "report-me-1").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(id_of(&r), "report-me-1");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["request_id"], "report-me-1");
        assert!(body["detail"].as_str().unwrap().contains("report-me-1"));
        assert!(!body.to_string().contains("closed"), "the cause is logged, not shown: {body}");
        let (status, page) = web.get("/programs").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(page.contains("Quote request id"), "{page}");
    }
}
