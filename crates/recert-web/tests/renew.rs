//! The renewal page (`/renew/{award}`), the target of every reminder's link: what to do,
//! with direct links to the courses, for the holder (and those who may see the award);
//! signed-out visitors go through sign-in and back. Both databases, on the test clock.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_testkit::{StatusCode, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends! {
    on_test_clock async fn the_renewal_page_says_what_to_do_before_and_after_lapse(app) {
        let clock = |day: String| {
            let app = &app;
            async move {
                app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": day})), Some(&app.token)).await.expect(StatusCode::OK);
            }
        };
        clock("2027-01-10".into()).await;
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"},
                           "grace_days": 30, "renewal_pathways": ["retake", "signoff"]})).await;
        app.post("/api/v1/programs/SAFE/items", json!({"code": "SAFE-101", "kind": "course", "url": "https://lms.example/course/101"}))
            .await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "boss", "legal_name": "Bea Boss"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana Holder", "manager": "boss"})).await.expect(StatusCode::CREATED);
        app.learner("ben").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        app.account("ana", "learner", Some("ana"), &[]).await;
        app.account("ben", "learner", Some("ben"), &[]).await;

        // Signed out: through sign-in and back.
        let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
            .get(format!("{}/renew/{id}", app.base)).send().await.unwrap();
        assert!(r.status().is_redirection());
        let to = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/login?next=") && to.contains(&id), "{to}");

        let web = app.web_session("ana").await;
        clock(add_days(expiry, -20).to_string()).await;
        let (status, page) = web.get(&format!("/renew/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Renew Site safety") && page.contains("in 20 days"), "{page}");
        assert!(page.contains("href=\"https://lms.example/course/101\""), "a direct link to the course: {page}");
        assert!(page.contains("Ask your manager, Bea Boss, to sign off"), "{page}");
        assert!(!page.contains("renewal page.</p>"), "her own page: {page}");

        // In grace, then lapsed: it says exactly what to do.
        clock(add_days(expiry, 5).to_string()).await;
        let (_, page) = web.get(&format!("/renew/{id}")).await;
        assert!(page.contains("You can still renew it until"), "{page}");
        clock(add_days(expiry, 40).to_string()).await;
        let (_, page) = web.get(&format!("/renew/{id}")).await;
        assert!(page.contains("Lapsed") && page.contains("Initial requirements"), "{page}");
        assert!(!page.contains("Ways to renew"), "{page}");

        // Another learner may not see it.
        let other = app.web_session("ben").await;
        let (status, _) = other.get(&format!("/renew/{id}")).await;
        assert!(status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND, "{status}");
        // A mistyped id is a page that says so, not a crash.
        let (status, _) = web.get("/renew/not-an-id").await;
        assert!(status.is_client_error(), "{status}");
    }
}
