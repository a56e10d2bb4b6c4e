//! Renewals recorded by hand and grace extensions (SPEC §3.4, §9) over the API, on both
//! databases: the new award supersedes the old with the §3.4 expiry; refusals say why.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_testkit::{StatusCode, both_backends};
use reqwest::Method;
use serde_json::json;

both_backends! {
    async fn a_renewal_by_hand_supersedes_and_grace_can_be_extended(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"},
                           "grace_days": 30, "renewal_window_days": 60, "renewal_pathways": ["retake", "signoff"]})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "2027-06-15"}))
            .await.expect(StatusCode::CREATED);
        let old = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        let renew = |id: String, body: serde_json::Value| {
            let app = &app;
            async move { app.post(&format!("/api/v1/awards/{id}/renew"), body).await }
        };

        // Before the window opens: refused, saying when it opens.
        let p = renew(old.clone(), json!({"pathway": "signoff", "note": "early"})).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains(&add_days(expiry, -60).to_string()), "{p}");

        app.set_time(&add_days(expiry, -10).to_string());
        // Bad input is named field by field.
        renew(old.clone(), json!({"pathway": "credits", "note": "x"})).await.invalid_field("pathway");
        renew(old.clone(), json!({"pathway": "teleport", "note": "x"})).await.invalid_field("pathway");
        renew(old.clone(), json!({"pathway": "signoff"})).await.invalid_field("note");
        renew(old.clone(), json!({"pathway": "signoff", "note": "x", "completed_on": "2099-01-01"})).await.invalid_field("completed_on");
        renew(old.clone(), json!({"pathway": "signoff", "note": "x", "completed_on": "2027-02-30"})).await.invalid_field("completed_on");
        renew(old.clone(), json!({"pathway": "signoff", "note": "nul\u{0}"})).await.invalid_field("note");
        renew(old.clone(), json!({"pathway": "signoff", "note": "x", "extra": 1})).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        // Only administrators and the program's managers.
        for role in ["auditor"] {
            let t = app.token_for(role).await;
            app.send(Method::POST, &format!("/api/v1/awards/{old}/renew"), Some(json!({"pathway": "signoff", "note": "x"})), Some(&t))
                .await.problem(StatusCode::FORBIDDEN);
        }

        let n = renew(old.clone(), json!({"pathway": "signoff", "note": "Signed off by Bea after the site walk"}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(n["predecessor"], old.as_str());
        assert_eq!(n["pathway"], "signoff");
        assert_eq!(n["association"], "renewal");
        assert_eq!(n["issued_on"], add_days(expiry, -10).to_string());
        // Early renewers lose nothing: the previous expiry + one year.
        let next: recert_domain::Date = n["expires_on"].as_str().unwrap().parse().unwrap();
        assert_eq!(next, expiry.checked_add(jiff::Span::new().years(1)).unwrap());
        let o = app.get(&format!("/api/v1/awards/{old}")).await.expect(StatusCode::OK);
        assert_eq!(o["status"], "superseded");
        assert_eq!(o["superseded_by"], n["id"]);
        let p = renew(old.clone(), json!({"pathway": "signoff", "note": "again"})).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("superseded"), "{p}");
        let history = app.get(&format!("/api/v1/awards/{}/history", n["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert!(history.to_string().contains("Signed off by Bea"), "the note is in the audit trail: {history}");

        // Lapsed, then grace extended (administrators only): back in grace, renewable.
        let new_id = n["id"].as_str().unwrap().to_owned();
        app.set_time(&add_days(next, 40).to_string());
        assert_eq!(app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK)["status"], "lapsed");
        let p = renew(new_id.clone(), json!({"pathway": "retake", "note": "late"})).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("initial requirements"), "{p}");
        let extend = |body: serde_json::Value| {
            let app = &app;
            let id = new_id.clone();
            async move { app.post(&format!("/api/v1/awards/{id}/extend-grace"), body).await }
        };
        extend(json!({"days": 0, "reason": "x"})).await.invalid_field("days");
        extend(json!({"days": 5000, "reason": "x"})).await.invalid_field("days");
        extend(json!({"days": 30})).await.invalid_field("reason");
        extend(json!({"days": "thirty", "reason": "x"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        let auditor = app.token_for("auditor").await;
        app.send(Method::POST, &format!("/api/v1/awards/{new_id}/extend-grace"), Some(json!({"days": 30, "reason": "x"})), Some(&auditor))
            .await.problem(StatusCode::FORBIDDEN);
        let g = extend(json!({"days": 30, "reason": "Medical leave"})).await.expect(StatusCode::OK);
        assert_eq!(g["status"], "grace", "{g}");
        assert_eq!(g["grace_extension_days"], 30);
        assert_eq!(g["grace_ends_on"], add_days(next, 60).to_string());
        let r = renew(new_id.clone(), json!({"pathway": "retake", "note": "Retook SAFE-101"})).await.expect(StatusCode::CREATED);
        assert_eq!(r["predecessor"], new_id.as_str());
        // A renewal late in grace still expires on the cycle, never before it is issued.
        let third: recert_domain::Date = r["expires_on"].as_str().unwrap().parse().unwrap();
        assert!(third >= add_days(next, 40));
        // Unknown and mistyped ids.
        renew("not-an-id".into(), json!({"pathway": "retake", "note": "x"})).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
}

both_backends! {
    async fn renewals_and_grace_extensions_from_the_award_page(app) {
        app.program(json!({"code": "Y1", "name": "Yearly", "validity": {"count": 1, "unit": "years"},
                           "grace_days": 30, "renewal_window_days": 60, "renewal_pathways": ["retake", "signoff"]})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "2027-06-15"}))
            .await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (_, page) = web.get(&format!("/awards/{id}")).await;
        assert!(!page.contains("Record a renewal"), "not before the window opens");

        app.set_time(&add_days(expiry, -5).to_string());
        // (A year on, the session has expired: the manual clock is the sessions' too.)
        let web = app.web_session("root").await;
        let (_, page) = web.get(&format!("/awards/{id}")).await;
        assert!(page.contains("Record a renewal") && page.contains("Supervisor sign-off"), "{page}");
        assert!(!page.contains("value=\"credits\""), "only the program's pathways");
        let (status, page) = web.post(&format!("/awards/{id}/renew"), &[("renew_pathway", "signoff"), ("renew_note", "")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "renew_note").is_some(), "{page}");
        let (status, page) = web.post(&format!("/awards/{id}/renew"), &[("renew_pathway", "signoff"), ("renew_note", "Signed off by Bea")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Renewal recorded") && page.contains(&id), "the new award's page, naming its predecessor: {page}");

        // Grace: the new award lapses, an administrator extends it from its page.
        let new_id = app.get("/api/v1/awards?learner=ana&program=Y1&status=active").await.expect(StatusCode::OK)["items"][0]["id"]
            .as_str().unwrap().to_owned();
        assert_ne!(new_id, id);
        let next: recert_domain::Date = app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK)["expires_on"]
            .as_str().unwrap().parse().unwrap();
        app.set_time(&add_days(next, 35).to_string());
        let web = app.web_session("root").await;
        let (status, page) = web.post(&format!("/awards/{new_id}/extend-grace"), &[("grace_days", "ten"), ("grace_reason", "x")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "grace_days").is_some(), "{page}");
        let (status, page) = web.post(&format!("/awards/{new_id}/extend-grace"), &[("grace_days", "14"), ("grace_reason", "Medical leave")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Grace extended."), "{page}");
        assert_eq!(app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK)["status"], "grace");
    }
}
