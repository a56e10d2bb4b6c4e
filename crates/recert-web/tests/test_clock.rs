//! The test clock (SPEC §9): on an instance started with `--test-clock`, "now" is what the
//! database says, moved by the API, the page or `recert clock set`; statuses, issue dates
//! and pages follow it, and every move is audited. An instance on the real clock refuses
//! to move it. Both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, both_backends, error_beside};
use reqwest::Method;
use serde_json::json;

both_backends! {
    on_test_clock async fn statuses_pages_and_the_audit_trail_follow_the_test_clock(app) {
        let put = |now: serde_json::Value| {
            let app = &app;
            async move { app.send(Method::PUT, "/api/v1/test-clock", Some(now), Some(&app.token)).await }
        };
        // A date is 09:00 in the organization's zone (UTC here).
        let set = put(json!({"now": "2027-01-10"})).await.expect(StatusCode::OK);
        assert_eq!(set["now"], "2027-01-10T09:00:00Z");
        assert_eq!(set["test_clock"], true);
        let shown = app.get("/api/v1/test-clock").await.expect(StatusCode::OK);
        assert_eq!(shown["now"], "2027-01-10T09:00:00Z");

        app.program(json!({"code": "Y1", "name": "Y1", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1"})).await.expect(StatusCode::CREATED);
        assert_eq!(a["issued_on"], "2027-01-10", "issued today by the test clock: {a}");
        assert_eq!(a["status"], "active");
        let id = a["id"].as_str().unwrap().to_owned();

        // An instant with its offset; the award is judged on the new day.
        let set = put(json!({"now": "2028-02-01T10:30:00+02:00"})).await.expect(StatusCode::OK);
        assert_eq!(set["now"], "2028-02-01T08:30:00Z");
        let now = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        let judged = app.get(&format!("/api/v1/awards/{id}?as_of=2028-02-01")).await.expect(StatusCode::OK);
        assert_ne!(now["status"], "active", "{now}");
        assert_eq!(now["status"], judged["status"]);

        // Bad values are named, nothing moves.
        for bad in ["", "tomorrow", "2027-02-30", "2027-10-12T09:00:00", "2027-10-12\u{0}"] {
            put(json!({"now": bad})).await.invalid_field("now");
        }
        put(json!({"now": "2027-01-10", "speed": 2})).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        put(json!({"when": "2027-01-10"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.get("/api/v1/test-clock").await.expect(StatusCode::OK)["now"], "2028-02-01T08:30:00Z");
        // Administrators only.
        let auditor = app.token_for("auditor").await;
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&auditor)).await
            .problem(StatusCode::FORBIDDEN);
        app.send(Method::GET, "/api/v1/test-clock", None, Some(&auditor)).await.problem(StatusCode::FORBIDDEN);

        // Every page says so; the admin moves it from the browser, staying signed in
        // (sessions run on the real clock).
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get("/programs").await;
        assert!(page.contains("Test clock.") && page.contains("datetime=\"2028-02-01T08:30:00Z\""), "{page}");
        assert!(page.contains("href=\"/admin/test-clock\""));
        let (status, page) = web.post("/admin/test-clock", &[("now", "2028-13-01")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error_beside(&page, "now").is_some(), "{page}");
        assert!(page.contains("value=\"2028-13-01\""), "the value is kept: {page}");
        let (status, page) = web.post("/admin/test-clock", &[("now", "2029-03-01")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("The clock has moved.") && page.contains("datetime=\"2029-03-01T09:00:00Z\""), "{page}");
        assert_eq!(app.service.now().to_string(), "2029-03-01T09:00:00Z");
        // A one-click move: a week later.
        assert!(page.contains("value=\"2029-03-08T09:00:00Z\""), "{page}");
        let (_, page) = web.post("/admin/test-clock", &[("now", "2029-03-08T09:00:00Z")]).await;
        assert!(page.contains("datetime=\"2029-03-08T09:00:00Z\""), "{page}");

        // Each move is in the audit trail, before and after.
        let (_, audit) = web.get("/audit").await;
        assert_eq!(audit.matches("Test clock set").count(), 4, "{audit}");
    }
}

both_backends! {
    async fn an_instance_on_the_real_clock_does_not_move_it(app) {
        let shown = app.get("/api/v1/test-clock").await.expect(StatusCode::OK);
        assert_eq!(shown["test_clock"], false);
        let p = app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await
            .problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("--test-clock"), "{p}");
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get("/programs").await;
        assert!(!page.contains("Test clock."), "no banner on the real clock");
        let (status, page) = web.get("/admin/test-clock").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("runs on the real clock") && page.contains("recert serve --test-clock"), "{page}");
        assert!(!page.contains("name=\"now\""), "no form to move it: {page}");
    }
}
