//! Policy changes for current holders (SPEC §3.5) on both databases: a program's new
//! validity, window and grace reach new awards only, until its administrator previews and
//! applies them to the current holders — from the API and the program's page — as one
//! audited job. Expiries set by hand keep theirs.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends! {
    on_test_clock async fn new_rules_reach_current_holders_only_when_applied(app) {
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        app.program(json!({"code": "P", "name": "Site safety", "validity": {"count": 1, "unit": "years"},
                           "renewal_window_days": 60, "grace_days": 30})).await;
        app.program(json!({"code": "Q", "name": "Other", "validity": {"count": 1, "unit": "years"}})).await;
        for u in ["ann", "bob", "cat", "dan"] { app.learner(u).await; }
        let api = &app;
        let award = |body: serde_json::Value| async move {
            api.post("/api/v1/awards", body).await.expect(StatusCode::CREATED)["id"].as_str().unwrap().to_owned()
        };
        let a = award(json!({"learner": "ann", "program": "P"})).await;
        let b = award(json!({"learner": "bob", "program": "P", "expires_on": "2027-06-01"})).await;
        let c = award(json!({"learner": "cat", "program": "P", "issued_on": "2026-03-01"})).await;
        assert_eq!(app.get(&format!("/api/v1/awards/{c}")).await.expect(StatusCode::OK)["status"], "expiring");

        // Two years, a 30-day window, 14 days of grace: new awards only, by default.
        app.patch("/api/v1/programs/P", json!({"validity": {"count": 2, "unit": "years"}, "renewal_window_days": 30, "grace_days": 14}))
            .await.expect(StatusCode::OK);
        let d = award(json!({"learner": "dan", "program": "P"})).await;
        assert_eq!(app.get(&format!("/api/v1/awards/{d}")).await.expect(StatusCode::OK)["expires_on"], "2029-01-10");
        assert_eq!(app.get(&format!("/api/v1/awards/{a}")).await.expect(StatusCode::OK)["expires_on"], "2028-01-10");

        // Who may: administrators and the program's managers.
        let other_pm = app.user_token("qm", "program_manager", None, &["Q"]).await;
        app.send(Method::GET, "/api/v1/programs/P/reapply", None, Some(&other_pm)).await.problem(StatusCode::FORBIDDEN);
        app.send(Method::POST, "/api/v1/programs/P/reapply", Some(json!({})), Some(&other_pm)).await.problem(StatusCode::FORBIDDEN);
        app.get("/api/v1/programs/NOPE/reapply").await.problem(StatusCode::NOT_FOUND);

        let preview = app.get("/api/v1/programs/P/reapply").await.expect(StatusCode::OK);
        assert_eq!(preview["as_of"], "2027-01-10");
        let items = preview["items"].as_array().unwrap();
        let item = |id: &str| items.iter().find(|i| i["award"] == id).cloned();
        assert_eq!(items.len(), 3, "{preview}");
        let ia = item(&a).unwrap();
        assert_eq!((ia["before"]["expires_on"].as_str(), ia["after"]["expires_on"].as_str()), (Some("2028-01-10"), Some("2029-01-10")));
        assert_eq!((ia["before"]["grace_ends_on"].as_str(), ia["after"]["grace_ends_on"].as_str()), (Some("2028-02-09"), Some("2029-01-24")));
        let ib = item(&b).unwrap();
        assert_eq!(ib["after"]["expires_on"], "2027-06-01", "an expiry set by hand stays: {ib}");
        assert_eq!(ib["after"]["renewal_window_opens_on"], "2027-05-02");
        let ic = item(&c).unwrap();
        assert_eq!((ic["before"]["status"].as_str(), ic["after"]["status"].as_str()), (Some("expiring"), Some("active")));
        assert_eq!(ic["after"]["expires_on"], "2028-03-01");
        assert!(item(&d).is_none(), "new awards already follow the rules");
        // The preview changes nothing.
        assert_eq!(app.get(&format!("/api/v1/awards/{c}")).await.expect(StatusCode::OK)["status"], "expiring");

        // From the program's page: the preview, a confirmation, then one job.
        app.account("root2", "admin", None, &[]).await;
        let web = app.web_session("root2").await;
        let (status, page) = web.get("/programs/P").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Apply the rules to current holders"), "{page}");
        let (status, page) = web.get("/programs/P/reapply").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("3 current certificates would change") && page.contains("2028-01-10 → <strong>2029-01-10</strong>"), "{page}");
        let (status, page) = web.post("/programs/P/reapply", &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("Tick the confirmation"), "{page}");
        assert_eq!(app.get(&format!("/api/v1/awards/{a}")).await.expect(StatusCode::OK)["expires_on"], "2028-01-10");
        let (status, page) = web.post("/programs/P/reapply", &[("confirm", "yes")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Applied: 3 current certificates now follow"), "{page}");

        let after = app.get(&format!("/api/v1/awards/{a}")).await.expect(StatusCode::OK);
        assert_eq!((after["expires_on"].as_str(), after["grace_ends_on"].as_str()), (Some("2029-01-10"), Some("2029-01-24")));
        assert_eq!(app.get(&format!("/api/v1/awards/{c}")).await.expect(StatusCode::OK)["status"], "active");
        assert_eq!(app.get(&format!("/api/v1/awards/{b}")).await.expect(StatusCode::OK)["expires_on"], "2027-06-01");
        let history = app.get(&format!("/api/v1/awards/{a}/history")).await.expect(StatusCode::OK);
        let actions: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        assert!(actions.contains(&"award.policy_applied".to_owned()), "{actions:?}");
        // Applied once: nothing is left, and the API says so.
        assert_eq!(app.get("/api/v1/programs/P/reapply").await.expect(StatusCode::OK)["items"], json!([]));
        let done = app.post("/api/v1/programs/P/reapply", json!({})).await.expect(StatusCode::OK);
        assert_eq!((done["program"].as_str(), done["count"].as_i64()), (Some("P"), Some(0)));
    }
}
