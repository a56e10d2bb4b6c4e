//! Supervisor sign-off (SPEC §3.4, §9) through the API, on both databases: the learner
//! asks, their manager is emailed and sees it in their queue, approval renews by the
//! `signoff` pathway; declining keeps the award as it was; every refusal says why.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_service::mail::Mailer;
use recert_testkit::{SmtpSink, StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::json;

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: serde_json::Value,
    token: &str,
) -> recert_testkit::Response {
    app.send(method, path, Some(body), Some(token)).await
}

both_backends! {
    on_test_clock async fn a_manager_signs_off_and_the_certification_renews(app) {
        let Some(sink) = SmtpSink::start() else { return };
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        app.program(json!({"code": "FORK", "name": "Forklift operation", "validity": {"count": 1, "unit": "years"},
                           "renewal_window_days": 60, "grace_days": 30, "renewal_pathways": ["signoff"]})).await;
        app.program(json!({"code": "CPR", "name": "CPR", "validity": {"count": 1, "unit": "years"},
                           "renewal_pathways": ["retake"]})).await;
        app.post("/api/v1/learners", json!({"username": "boss", "legal_name": "Bea Boss", "email": "bea@example.org"}))
            .await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana Lee", "email": "ana@example.org", "manager": "boss"}))
            .await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "solo", "legal_name": "Solo", "email": "solo@example.org"}))
            .await.expect(StatusCode::CREATED);
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "FORK"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        let cpr = app.post("/api/v1/awards", json!({"learner": "ana", "program": "CPR"})).await.expect(StatusCode::CREATED);
        let solo = app.post("/api/v1/awards", json!({"learner": "solo", "program": "FORK"})).await.expect(StatusCode::CREATED);
        let ana = app.user_token("ana", "learner", Some("ana"), &[]).await;
        let bea = app.user_token("bea", "supervisor", Some("boss"), &[]).await;
        let solo_token = app.user_token("solo", "learner", Some("solo"), &[]).await;

        // Too early: the renewal window is not open yet.
        let p = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": id}), &ana).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("opens on"), "{p}");
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": add_days(expiry, -20).to_string()})), Some(&app.token))
            .await.expect(StatusCode::OK);
        // Not a pathway of CPR; no manager for solo; not ana's to ask for; no award given.
        let p = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": cpr["id"]}), &ana).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("not renewed by sign-off"), "{p}");
        let p = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": solo["id"]}), &solo_token).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("no manager"), "{p}");
        call(&app, Method::POST, "/api/v1/signoffs", json!({"award": solo["id"]}), &ana).await.problem(StatusCode::NOT_FOUND);
        call(&app, Method::POST, "/api/v1/signoffs", json!({}), &ana).await.invalid_field("award");
        call(&app, Method::POST, "/api/v1/signoffs", json!({"award": "nope"}), &ana).await.invalid_field("award");

        // Ana asks; Bea is emailed and sees it in her queue; a second request is refused.
        let s = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": id}), &ana).await.expect(StatusCode::CREATED);
        assert_eq!(s["state"], "pending");
        assert_eq!(s["manager"], "boss");
        let sid = s["id"].as_i64().unwrap();
        let p = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": id}), &ana).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("already waiting for Bea Boss"), "{p}");
        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        service.deliver_outbox().await.unwrap();
        let asked: Vec<_> = sink.messages().into_iter().filter(|m| m["headers"]["X-Recert-Event"] == "signoff.requested").collect();
        assert_eq!(asked.len(), 1, "{asked:#?}");
        let m = &asked[0];
        assert_eq!(m["rcpt_tos"], json!(["bea@example.org"]), "{m:#}");
        assert_eq!(m["headers"]["X-Recert-Event"], "signoff.requested");
        assert!(m["headers"]["Subject"].as_str().unwrap().contains("Ana Lee asks you to sign off Forklift operation"), "{m:#}");
        assert!(m["text"].as_str().unwrap().contains(&format!("{}/signoffs", app.base)), "{m:#}");
        let queue = app.send(Method::GET, "/api/v1/signoffs?state=pending", None, Some(&bea)).await.expect(StatusCode::OK);
        assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
        assert!(queue["next_cursor"].is_null());
        app.send(Method::GET, "/api/v1/signoffs?state=maybe", None, Some(&bea)).await.invalid_field("state");
        // The learner cannot approve their own; a NUL in the comment is refused.
        call(&app, Method::POST, &format!("/api/v1/signoffs/{sid}/approve"), json!({}), &ana).await.problem(StatusCode::NOT_FOUND);
        call(&app, Method::POST, &format!("/api/v1/signoffs/{sid}/approve"), json!({"comment": "ok\u{0}"}), &bea)
            .await.invalid_field("comment");

        // Bea declines: the award stays as it was, and ana may ask again.
        let d = call(&app, Method::POST, &format!("/api/v1/signoffs/{sid}/decline"), json!({"comment": "Not yet: retrain on the new model"}), &bea)
            .await.expect(StatusCode::OK);
        assert_eq!((d["state"].as_str(), d["comment"].as_str()), (Some("declined"), Some("Not yet: retrain on the new model")));
        assert!(d["renewal"].is_null());
        // Ana is told, with Bea's comment and the other ways to renew.
        service.deliver_outbox().await.unwrap();
        let told: Vec<_> = sink.messages().into_iter().filter(|m| m["headers"]["X-Recert-Event"] == "signoff.decided").collect();
        assert_eq!(told.len(), 1, "{told:#?}");
        assert_eq!(told[0]["rcpt_tos"], json!(["ana@example.org"]), "{:#}", told[0]);
        assert_eq!(told[0]["headers"]["Subject"], "Your sign-off for Forklift operation was declined");
        let text = told[0]["text"].as_str().unwrap();
        assert!(text.contains("Bea Boss declined") && text.contains("Not yet: retrain on the new model"), "{text}");
        assert!(text.contains(&format!("{}/renew/{id}", app.base)), "{text}");
        let same = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(same["status"], "expiring", "{same}");
        let s = call(&app, Method::POST, "/api/v1/signoffs", json!({"award": id}), &ana).await.expect(StatusCode::CREATED);
        let sid = s["id"].as_i64().unwrap();

        // Bea approves: a new award by the signoff pathway supersedes the old one.
        let d = call(&app, Method::POST, &format!("/api/v1/signoffs/{sid}/approve"), json!({"comment": "Observed on the floor"}), &bea)
            .await.expect(StatusCode::OK);
        assert_eq!(d["state"], "approved");
        assert_eq!(d["decided_by"], "token:test-bea");
        let new_id = d["renewal"].as_str().unwrap();
        let new = app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK);
        assert_eq!(new["pathway"], "signoff");
        assert_eq!(new["predecessor"], id.as_str());
        assert_eq!(new["association"], "renewal");
        // The previous expiry plus the validity (early renewers lose nothing).
    let next = expiry.with().year(expiry.year() + 1).build().unwrap();
    assert_eq!(new["expires_on"], next.to_string().as_str(), "{new}");
        let old = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(old["status"], "superseded", "{old}");
        let p = call(&app, Method::POST, &format!("/api/v1/signoffs/{sid}/decline"), json!({}), &bea).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("approved already"), "{p}");

        // The new award's window is a year away: nothing to sign off yet.
        call(&app, Method::POST, "/api/v1/signoffs", json!({"award": new_id}), &app.token).await.problem(StatusCode::CONFLICT);
        let queue = app.send(Method::GET, "/api/v1/signoffs", None, Some(&bea)).await.expect(StatusCode::OK);
        assert_eq!(queue["items"].as_array().unwrap().len(), 2, "one declined, one approved: {queue}");
        let first = app.send(Method::GET, "/api/v1/signoffs?limit=1", None, Some(&bea)).await.expect(StatusCode::OK);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.send(Method::GET, &format!("/api/v1/signoffs?limit=1&cursor={cursor}"), None, Some(&bea)).await.expect(StatusCode::OK);
        assert_eq!(second["items"][0], queue["items"][1]);
        assert!(second["next_cursor"].is_null());
        let audit = app.get("/api/v1/awards?learner=ana&program=FORK").await.expect(StatusCode::OK);
        assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
        call(&app, Method::POST, "/api/v1/signoffs/999999/approve", json!({}), &app.token).await.problem(StatusCode::NOT_FOUND);
    }
}

both_backends! {
    on_test_clock async fn sign_off_from_the_renewal_page_and_the_managers_queue(app) {
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        app.program(json!({"code": "FORK", "name": "Forklift operation", "validity": {"count": 1, "unit": "years"},
                           "renewal_pathways": ["signoff"]})).await;
        app.post("/api/v1/learners", json!({"username": "boss", "legal_name": "Bea Boss", "email": "bea@example.org"}))
            .await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana Lee", "email": "ana@example.org", "manager": "boss"}))
            .await.expect(StatusCode::CREATED);
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "FORK"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": add_days(expiry, -10).to_string()})), Some(&app.token))
            .await.expect(StatusCode::OK);
        app.account("ana", "learner", Some("ana"), &[]).await;
        app.account("bea", "supervisor", Some("boss"), &[]).await;

        let ana = app.web_session("ana").await;
        let (status, page) = ana.get(&format!("/renew/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Ask Bea Boss to sign off"), "{page}");
        let (status, page) = ana.post(&format!("/renew/{id}/signoff"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("your manager has been emailed") && page.contains("Asked of Bea Boss"), "{page}");
        assert!(!page.contains("Ask Bea Boss to sign off"), "no second request while one waits: {page}");
        let (status, page) = ana.post(&format!("/renew/{id}/signoff"), &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("already waiting for Bea Boss"), "{page}");

        let bea = app.web_session("bea").await;
        let (status, page) = bea.get("/signoffs").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("1 request") && page.contains("Ana Lee") && page.contains("Approve and renew"), "{page}");
        let sid = app.send(Method::GET, "/api/v1/signoffs", None, Some(&app.token)).await.expect(StatusCode::OK)["items"][0]["id"].as_i64().unwrap();
        // Approving asks first.
        let (status, page) = bea.post(&format!("/signoffs/{sid}/approve"), &[("comment", "Seen at work")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains("Tick the confirmation"), "{page}");
        let (status, page) = bea.post(&format!("/signoffs/{sid}/approve"), &[("comment", "Seen at work"), ("confirm", "yes")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("the certification is renewed") && page.contains("New certificate"), "{page}");
        let old = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(old["status"], "superseded");
        // The decided requests: sortable, with their total, and exportable as shown.
        let (status, page) = bea.get("/signoffs?state=approved&sort=-name").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Approved (1)") && page.contains("aria-sort=\"descending\""), "{page}");
        let (status, csv) = bea.get("/signoffs?state=approved&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with("id,certificate_id,program,username") && csv.contains("Seen at work"), "{csv}");
        let (status, _) = bea.get("/signoffs?sort=colour").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // A learner has no queue; the page is not theirs.
        let (status, _) = ana.get("/signoffs").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
