//! Continuing-education credits (SPEC §3.4, §9) through the API and the pages, on both
//! databases: entries from learners, supervisors and approvers; approved providers
//! approved at once, the rest reviewed; progress per cycle by total and category; the
//! renewal when approved credits meet the requirement inside the window — at once on the
//! approval that meets it, or by the scheduler the day the window opens.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_service::mail::Mailer;
use recert_testkit::{SmtpSink, StatusCode, TestApp, both_backends, error_beside};
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Value,
    token: &str,
) -> recert_testkit::Response {
    app.send(method, path, Some(body), Some(token)).await
}

async fn clock(app: &TestApp, day: &str) {
    app.send(
        Method::PUT,
        "/api/v1/test-clock",
        Some(json!({"now": day})),
        Some(&app.token),
    )
    .await
    .expect(StatusCode::OK);
}

/// A two-year program renewed by 10 hours of credits, 2 of them ethics; "State Board"
/// entries need no review. Ana (managed by Bea) holds it from 2027-01-10.
async fn setup(app: &TestApp) -> String {
    clock(app, "2027-01-10").await;
    app.program(json!({"code": "CPA", "name": "Certified accountant", "validity": {"count": 2, "unit": "years"},
                       "renewal_window_days": 90, "grace_days": 30, "renewal_pathways": ["credits"],
                       "credits_required": {"hours": 10, "categories": {"ethics": 2}},
                       "approved_providers": ["State Board"]})).await;
    app.program(json!({"code": "CPR", "name": "CPR", "validity": {"count": 1, "unit": "years"}, "renewal_pathways": ["retake"]})).await;
    for (u, name, manager) in [
        ("boss", "Bea Boss", None),
        ("ana", "Ana Lee", Some("boss")),
        ("tom", "Tom Kay", None),
    ] {
        app.post("/api/v1/learners", json!({"username": u, "legal_name": name, "email": format!("{u}@example.org"), "manager": manager}))
            .await.expect(StatusCode::CREATED);
    }
    app.post(
        "/api/v1/awards",
        json!({"learner": "ana", "program": "CPR"}),
    )
    .await
    .expect(StatusCode::CREATED);
    let a = app
        .post(
            "/api/v1/awards",
            json!({"learner": "ana", "program": "CPA"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(a["expires_on"], "2029-01-10");
    a["id"].as_str().unwrap().to_owned()
}

both_backends! {
    on_test_clock async fn credits_build_up_through_the_cycle_and_renew_when_the_window_opens(app) {
        let Some(sink) = SmtpSink::start() else { return };
        let id = setup(&app).await;
        let ana = app.user_token("ana", "learner", Some("ana"), &[]).await;
        let bea = app.user_token("bea", "supervisor", Some("boss"), &[]).await;
        let tom = app.user_token("tom", "learner", Some("tom"), &[]).await;
        let pm = app.user_token("pam", "program_manager", None, &["CPA"]).await;
        let auditor = app.user_token("aud", "auditor", None, &[]).await;
        clock(&app, "2027-06-01").await;

        // Every refusal names its field and says why.
        let entry = |extra: Value| {
            let mut e = json!({"program": "CPA", "completed_on": "2027-05-20", "hours": 4, "category": "tax", "provider": "Acme Training"});
            for (k, v) in extra.as_object().unwrap() { e[k] = v.clone(); }
            e
        };
        for (bad, field) in [(json!({"hours": -1}), "hours"), (json!({"hours": 0}), "hours"), (json!({"hours": 5000}), "hours"),
                             (json!({"hours": null}), "hours"), (json!({"provider": " "}), "provider"),
                             (json!({"completed_on": "2027-07-01"}), "completed_on"), (json!({"completed_on": "2026-12-31"}), "completed_on"),
                             (json!({"completed_on": "2027-02-30"}), "completed_on"), (json!({"program": "NOPE"}), "program"),
                             (json!({"program": "CPR"}), "program"), (json!({"provider": "Acme\u{0}"}), "provider"),
                             (json!({"category": "x".repeat(101)}), "category")] {
            let p = call(&app, Method::POST, "/api/v1/credits", entry(bad.clone()), &ana).await.invalid_field(field);
            assert!(p["status"] == 422, "{bad}: {p}");
        }
        let p = call(&app, Method::POST, "/api/v1/credits", entry(json!({"completed_on": "2026-12-31"})), &ana).await.invalid_field("completed_on");
        assert!(p.to_string().contains("before this cycle began on 2027-01-10"), "{p}");
        call(&app, Method::POST, "/api/v1/credits", entry(json!({"minutes": 5})), &ana).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        // Tom holds no CPA certification; Ana cannot log for Tom; the auditor logs nothing.
        let p = call(&app, Method::POST, "/api/v1/credits", entry(json!({})), &tom).await.invalid_field("program");
        assert!(p.to_string().contains("holds no current CPA certification"), "{p}");
        call(&app, Method::POST, "/api/v1/credits", entry(json!({"learner": "tom"})), &ana).await.problem(StatusCode::FORBIDDEN);
        call(&app, Method::POST, "/api/v1/credits", entry(json!({"learner": "ana"})), &auditor).await.problem(StatusCode::FORBIDDEN);

        // Ana logs 4 hours from an unknown provider (waits) and 2 ethics hours from the
        // State Board (approved at once, whatever the case); Bea logs 1 hour for her team.
        let tax = call(&app, Method::POST, "/api/v1/credits", entry(json!({})), &ana).await.expect(StatusCode::CREATED);
        assert_eq!((tax["state"].as_str(), tax["award"].as_str(), tax["learner"].as_str()), (Some("pending"), Some(id.as_str()), Some("ana")));
        let ethics = call(&app, Method::POST, "/api/v1/credits",
                          entry(json!({"hours": 2, "category": "Ethics", "provider": "state board"})), &ana).await.expect(StatusCode::CREATED);
        assert_eq!(ethics["state"], "approved", "{ethics}");
        assert!(ethics["renewed"].is_null());
        let team = call(&app, Method::POST, "/api/v1/credits", entry(json!({"learner": "ana", "hours": 1})), &bea).await.expect(StatusCode::CREATED);
        assert_eq!((team["state"].as_str(), team["submitted_by"].as_str()), (Some("pending"), Some("token:test-bea")));

        let s = app.send(Method::GET, &format!("/api/v1/awards/{id}/credits"), None, Some(&ana)).await.expect(StatusCode::OK);
        assert_eq!(s["progress"]["required_hours"], 10.0);
        assert_eq!(s["progress"]["earned_hours"], 2.0);
        assert_eq!(s["pending_hours"], 5.0);
        assert_eq!(s["progress"]["categories"], json!([{"category": "ethics", "required": 2.0, "earned": 2.0}]));
        assert_eq!(s["progress"]["met"], false);
        assert_eq!(s["entries"].as_array().unwrap().len(), 3);
        app.send(Method::GET, &format!("/api/v1/awards/{id}/credits"), None, Some(&tom)).await.problem(StatusCode::FORBIDDEN);

        // The queue: the program's manager sees both waiting entries, oldest first, in pages.
        let q = app.send(Method::GET, "/api/v1/credits?state=pending&limit=1", None, Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!(q["items"][0]["id"], tax["id"]);
        let next = q["next_cursor"].as_str().unwrap();
        let q2 = app.send(Method::GET, &format!("/api/v1/credits?state=pending&limit=1&cursor={next}"), None, Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!(q2["items"][0]["id"], team["id"]);
        assert!(q2["next_cursor"].is_null());
        app.send(Method::GET, "/api/v1/credits?state=maybe", None, Some(&pm)).await.invalid_field("state");
        app.send(Method::GET, "/api/v1/credits?colour=red", None, Some(&pm)).await.invalid_field("query");
        let mine = app.send(Method::GET, "/api/v1/credits", None, Some(&tom)).await.expect(StatusCode::OK);
        assert_eq!(mine["items"], json!([]), "Tom sees nobody else's credits");

        // Learners do not approve; a rejection needs a reason, which the learner is sent.
        let tid = tax["id"].as_i64().unwrap();
        let team_id = team["id"].as_i64().unwrap();
        call(&app, Method::POST, &format!("/api/v1/credits/{tid}/approve"), json!({}), &ana).await.problem(StatusCode::FORBIDDEN);
        call(&app, Method::POST, &format!("/api/v1/credits/{team_id}/reject"), json!({}), &pm).await.invalid_field("note");
        let r = call(&app, Method::POST, &format!("/api/v1/credits/{team_id}/reject"), json!({"note": "No certificate of attendance"}), &pm)
            .await.expect(StatusCode::OK);
        assert_eq!((r["state"].as_str(), r["note"].as_str()), (Some("rejected"), Some("No certificate of attendance")));
        let p = call(&app, Method::POST, &format!("/api/v1/credits/{team_id}/approve"), json!({}), &pm).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("already rejected"), "{p}");
        let a = call(&app, Method::POST, &format!("/api/v1/credits/{tid}/approve"), json!({"note": "ok"}), &pm).await.expect(StatusCode::OK);
        assert_eq!(a["state"], "approved");
        call(&app, Method::POST, "/api/v1/credits/999999/approve", json!({}), &pm).await.problem(StatusCode::NOT_FOUND);

        // The manager logs the last 4 hours (approved at once): the requirement is met
        // months before the window opens, so nothing renews yet.
        let last = call(&app, Method::POST, "/api/v1/credits", entry(json!({"learner": "ana", "completed_on": "2027-05-30"})), &pm)
            .await.expect(StatusCode::CREATED);
        assert_eq!((last["state"].as_str(), last["renewed"].as_str()), (Some("approved"), None));
        let s = app.send(Method::GET, &format!("/api/v1/awards/{id}/credits"), None, Some(&ana)).await.expect(StatusCode::OK);
        assert_eq!((s["progress"]["earned_hours"].as_f64(), s["progress"]["met"].as_bool()), (Some(10.0), Some(true)));
        let run = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(run["credit_renewals"], 0);
        assert_eq!(app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK)["status"], "active");

        // Ana was told about each reviewed entry.
        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        service.deliver_outbox().await.unwrap();
        let decided: Vec<_> = sink.messages().into_iter().filter(|m| m["headers"]["X-Recert-Event"] == "credit.decided").collect();
        assert_eq!(decided.len(), 2, "{decided:#?}");
        let rejected = decided.iter().find(|m| m["text"].as_str().unwrap().contains("not approved")).unwrap();
        assert_eq!(rejected["rcpt_tos"], json!(["ana@example.org"]));
        assert!(rejected["text"].as_str().unwrap().contains("No certificate of attendance"), "{rejected:#}");
        assert!(rejected["html"].as_str().unwrap().contains(&format!("<a href=\"{}/renew/{id}\">", app.base)), "{rejected:#}");

        // The window opens on 2028-10-12: the scheduler renews by credits that day.
        clock(&app, "2028-10-12").await;
        let run = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(run["credit_renewals"], 1, "{run}");
        let old = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(old["status"], "superseded", "{old}");
        let new_id = old["superseded_by"].as_str().unwrap();
        let new = app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK);
        assert_eq!((new["pathway"].as_str(), new["association"].as_str(), new["predecessor"].as_str()),
                   (Some("credits"), Some("renewal"), Some(id.as_str())));
        assert_eq!(new["expires_on"], "2031-01-10", "previous expiry + 2 years: {new}");
        assert_eq!(new["credits"]["hours"], 10.0, "{new}");
        let s = app.send(Method::GET, &format!("/api/v1/awards/{id}/credits"), None, Some(&ana)).await.expect(StatusCode::OK);
        assert_eq!(s["renewal"], new_id);
        // Once only: another pass, or another instance's, renews nothing more.
        let run = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(run["credit_renewals"], 0);
        let chain = app.get("/api/v1/awards?learner=ana&program=CPA").await.expect(StatusCode::OK);
        assert_eq!(chain["items"].as_array().unwrap().len(), 2, "{chain}");
        // The new cycle starts empty; credits of the old one no longer count.
        let s = app.send(Method::GET, &format!("/api/v1/awards/{new_id}/credits"), None, Some(&ana)).await.expect(StatusCode::OK);
        assert_eq!((s["progress"]["earned_hours"].as_f64(), s["entries"].as_array().unwrap().len()), (Some(0.0), 0));
    }
}

both_backends! {
    on_test_clock async fn an_approval_inside_the_window_renews_at_once(app) {
        let id = setup(&app).await;
        let ana = app.user_token("ana", "learner", Some("ana"), &[]).await;
        clock(&app, "2028-12-01").await;
        let e = call(&app, Method::POST, "/api/v1/credits",
                     json!({"program": "CPA", "completed_on": "2028-11-30", "hours": 8.5, "provider": "Acme"}), &ana).await.expect(StatusCode::CREATED);
        assert_eq!(e["state"], "pending");
        // Approved-provider ethics hours complete it, but the 8.5 still wait: no renewal.
        let eth = call(&app, Method::POST, "/api/v1/credits",
                       json!({"program": "CPA", "completed_on": "2028-11-30", "hours": 1.5, "category": "ethics", "provider": "State Board"}), &ana)
            .await.expect(StatusCode::CREATED);
        assert!(eth["renewed"].is_null(), "{eth}");
        let s = app.send(Method::GET, &format!("/api/v1/awards/{id}/credits"), None, Some(&ana)).await.expect(StatusCode::OK);
        assert_eq!(s["progress"]["categories"][0]["earned"], 1.5);
        let more = call(&app, Method::POST, "/api/v1/credits",
                        json!({"program": "CPA", "completed_on": "2028-11-30", "hours": 0.5, "category": "ETHICS", "provider": "Ethics Inst."}), &ana)
            .await.expect(StatusCode::CREATED);
        let done = app.post(&format!("/api/v1/credits/{}/approve", e["id"]), json!({})).await.expect(StatusCode::OK);
        assert!(done["renewed"].is_null(), "ethics is 1.5 of 2 hours: {done}");
        let done = app.post(&format!("/api/v1/credits/{}/approve", more["id"]), json!({})).await.expect(StatusCode::OK);
        let new_id = done["renewed"].as_str().unwrap();
        assert_eq!(done["renewal"], new_id);
        let new = app.get(&format!("/api/v1/awards/{new_id}")).await.expect(StatusCode::OK);
        assert_eq!((new["pathway"].as_str(), new["issued_on"].as_str(), new["expires_on"].as_str()),
                   (Some("credits"), Some("2028-12-01"), Some("2031-01-10")));
        assert_eq!(new["credits"]["hours"], 10.5);
        // After lapse, credits earn nothing: the initial requirements do.
        clock(&app, "2031-03-01").await;
        let p = call(&app, Method::POST, "/api/v1/credits",
                     json!({"program": "CPA", "completed_on": "2031-02-01", "hours": 1, "provider": "State Board"}), &ana).await.invalid_field("program");
        assert!(p.to_string().contains("lapsed"), "{p}");
        // The audit trail holds each entry and decision.
        let history = app.get(&format!("/api/v1/awards/{id}/history")).await.expect(StatusCode::OK);
        let actions: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        assert_eq!(actions.iter().filter(|a| *a == "credit.logged").count(), 3, "{actions:?}");
        assert_eq!(actions.iter().filter(|a| *a == "credit.approved").count(), 2, "{actions:?}");
        assert!(actions.contains(&"award.renewed".to_owned()) || actions.iter().any(|a| a.contains("supersed")), "{actions:?}");
    }
}

both_backends! {
    on_test_clock async fn credits_from_the_renewal_page_and_the_approvers_queue(app) {
        let id = setup(&app).await;
        app.account("ana", "learner", Some("ana"), &[]).await;
        app.account("pam", "program_manager", None, &["CPA"]).await;
        clock(&app, "2028-11-01").await;
        let ana = app.web_session("ana").await;
        let (status, page) = ana.get(&format!("/renew/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("0 of 10 hours") && page.contains("Log credits") && page.contains("ethics: 0 of 2 hours"), "{page}");
        assert!(page.contains("Entries from State Board are approved at once"), "{page}");

        // A bad entry comes back with the message beside its field and what was typed.
        let bad = Form::new().text("completed_on", "2028-10-30").text("hours", "lots").text("provider", "Acme");
        let (status, page) = ana.post_multipart(&format!("/renew/{id}/credits"), bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(error_beside(&page, "hours").unwrap().contains("not a number of hours"), "{page}");
        assert!(page.contains("value=\"Acme\""), "{page}");
        let bad = Form::new().text("completed_on", "2020-01-01").text("hours", "3").text("provider", "Acme");
        let (status, page) = ana.post_multipart(&format!("/renew/{id}/credits"), bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(error_beside(&page, "completed_on").unwrap().contains("before this cycle began"), "{page}");

        // With evidence: it waits for review, shown as such.
        let ok = Form::new().text("completed_on", "2028-10-30").text("hours", "9").text("category", "audit").text("provider", "Acme")
            .part("evidence", Part::bytes(b"%PDF-1.4 attendance".to_vec()).file_name("attendance.pdf").mime_str("application/pdf").unwrap());
        let (status, page) = ana.post_multipart(&format!("/renew/{id}/credits"), ok).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("wait for an approver") && page.contains("waiting for review") && page.contains("attendance.pdf"), "{page}");
        let ok = Form::new().text("completed_on", "2028-10-31").text("hours", "2").text("category", "ethics").text("provider", "State Board");
        let (_, page) = ana.post_multipart(&format!("/renew/{id}/credits"), ok).await;
        assert!(page.contains("Logged and approved") && page.contains("2 of 10 hours") && page.contains("9 more waiting"), "{page}");
        let eid = app.get("/api/v1/credits?state=pending").await.expect(StatusCode::OK)["items"][0]["id"].as_i64().unwrap();
        let (status, file) = ana.get(&format!("/credits/{eid}/evidence")).await;
        assert_eq!((status, file.as_str()), (StatusCode::OK, "%PDF-1.4 attendance"));
        // The learner has no queue.
        assert_eq!(ana.get("/credits").await.0, StatusCode::FORBIDDEN);

        // The program's manager approves from the queue: the requirement is met, it renews.
        let pam = app.web_session("pam").await;
        let (status, page) = pam.get("/credits").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Ana Lee") && page.contains("Waiting (1)") && page.contains("attendance.pdf"), "{page}");
        let (status, csv) = pam.get("/credits?state=all&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with("id,username,legal_name,program") && csv.contains("State Board"), "{csv}");
        let (status, page) = pam.post(&format!("/credits/{eid}/reject"), &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error_beside(&page, &format!("note-{eid}")).is_some(), "{page}");
        let (status, page) = pam.post(&format!("/credits/{eid}/approve"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("met the requirement and renewed the certification"), "{page}");
        let old = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(old["status"], "superseded");
        // The old renewal page now points to the new certificate.
        let (_, page) = ana.get(&format!("/renew/{id}")).await;
        assert!(page.contains("already been renewed"), "{page}");
    }
}
