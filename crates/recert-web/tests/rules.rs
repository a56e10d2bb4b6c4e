//! Rule bugs found in review, each pinned by the test that failed before its fix (SPEC §3.2
//! "closed stays lapsed" and `not_yet_valid`, §3.4 the renewal expiry, §3.1 dates in the
//! program's organization's zone), on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use serde_json::{Value, json};

async fn award(app: &TestApp, learner: &str, program: &str, issued_on: &str) -> Value {
    app.post(
        "/api/v1/awards",
        json!({"learner": learner, "program": program, "issued_on": issued_on}),
    )
    .await
    .expect(StatusCode::CREATED)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn shown(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/awards/{id}"))
        .await
        .expect(StatusCode::OK)
}

async fn current_holders(app: &TestApp, program: &str) -> i64 {
    app.get(&format!("/api/v1/programs/{program}"))
        .await
        .expect(StatusCode::OK)["current_awards"]
        .as_i64()
        .unwrap()
}

/// ana held Y1 from 2025-01-10; it lapsed (grace ended 2026-02-09) and a new chain started
/// today (2027-06-15), closing the old award.
async fn closed_lapsed(app: &TestApp) -> (String, String) {
    app.program(json!({"code": "Y1", "name": "Y1", "validity": {"count": 1, "unit": "years"}}))
        .await;
    app.learner("ana").await;
    let old = award(app, "ana", "Y1", "2025-01-10").await;
    assert_eq!(old["status"], "lapsed");
    let new = award(app, "ana", "Y1", "2027-06-15").await;
    assert_eq!(shown(app, &id(&old)).await["status"], "lapsed");
    (id(&old), id(&new))
}

both_backends! {
    async fn editing_a_closed_lapsed_award_answers_200_and_it_stays_lapsed(app) {
        let (old, _new) = closed_lapsed(&app).await;
        let edited = app
            .patch(&format!("/api/v1/awards/{old}"), json!({"score": 0.9, "reason": "HR correction"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(edited["score"], 0.9);
        assert_eq!(edited["status"], "lapsed");
        // Even an expiry moved into the future does not bring a closed award back.
        let moved = app
            .patch(&format!("/api/v1/awards/{old}"), json!({"expires_on": "2028-01-10"}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(moved["status"], "lapsed");
        assert_eq!(current_holders(&app, "Y1").await, 1);
        let lapsed = app.get("/api/v1/awards?program=Y1&status=lapsed").await.expect(StatusCode::OK);
        let ids: Vec<&str> = lapsed["items"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![old.as_str()]);
        let active = app.get("/api/v1/awards?program=Y1&status=active").await.expect(StatusCode::OK);
        assert_eq!(active["items"].as_array().unwrap().len(), 1);
    }
}

both_backends! {
    async fn a_closed_award_stays_closed_after_its_successor_is_revoked(app) {
        let (old, new) = closed_lapsed(&app).await;
        app.post(&format!("/api/v1/awards/{new}/revoke"), json!({"reason": "issued in error"}))
            .await
            .expect(StatusCode::OK);
        app.patch(&format!("/api/v1/awards/{old}"), json!({"content_version": "v2"}))
            .await
            .expect(StatusCode::OK);
        // Neither award is current: the learner holds nothing, and may be awarded again.
        assert_eq!(current_holders(&app, "Y1").await, 0);
        assert_eq!(shown(&app, &old).await["status"], "lapsed");
        let again = award(&app, "ana", "Y1", "2027-06-15").await;
        assert_eq!(again["status"], "active");
        assert_eq!(current_holders(&app, "Y1").await, 1);
    }
}

both_backends! {
    async fn a_day_before_the_issue_date_is_not_yet_valid_everywhere(app) {
        app.program(json!({"code": "Y1", "name": "Y1", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        app.learner("ben").await;
        let past = award(&app, "ana", "Y1", "2027-01-10").await;
        let before = app
            .get(&format!("/api/v1/awards/{}?as_of=2027-01-09", id(&past)))
            .await
            .expect(StatusCode::OK);
        assert_eq!(before["status"], "not_yet_valid");
        let on = app
            .get(&format!("/api/v1/awards/{}?as_of=2027-01-10", id(&past)))
            .await
            .expect(StatusCode::OK);
        assert_eq!(on["status"], "active");
        // Future-dated (today is 2027-06-15): not yet valid until its day, in lists and filters.
        let future = award(&app, "ben", "Y1", "2027-07-01").await;
        assert_eq!(future["status"], "not_yet_valid");
        let count = |path: &'static str| {
            let app = &app;
            async move { app.get(path).await.expect(StatusCode::OK)["items"].as_array().unwrap().len() }
        };
        assert_eq!(count("/api/v1/awards?status=not_yet_valid").await, 1);
        assert_eq!(count("/api/v1/awards?status=active").await, 1);
        assert_eq!(count("/api/v1/awards?status=active&as_of=2027-07-01").await, 2);
        assert_eq!(count("/api/v1/awards?status=not_yet_valid&as_of=2027-01-09").await, 2);
        let listed = app.get("/api/v1/awards?learner=ben").await.expect(StatusCode::OK);
        assert_eq!(listed["items"][0]["status"], "not_yet_valid");
        let learner = app.get("/api/v1/learners/ben").await.expect(StatusCode::OK);
        assert_eq!(learner["awards"][0]["status"], "not_yet_valid");
        app.set_time("2027-07-01");
        assert_eq!(shown(&app, &id(&future)).await["status"], "active");
    }
}

/// Renews through a retake inside the window or grace and returns the new award.
async fn retake(app: &TestApp, event: &str, on: &str) -> Value {
    let r = app
        .post(
            "/api/v1/completions",
            json!({"event_id": event, "learner": "ana", "item": "M-COURSE", "completed_on": on}),
        )
        .await
        .expect(StatusCode::CREATED);
    let outcome = &r["outcomes"][0];
    assert_eq!(outcome["result"], "renewed", "{r}");
    app.get(&format!(
        "/api/v1/awards/{}",
        outcome["award"].as_str().unwrap()
    ))
    .await
    .expect(StatusCode::OK)
}

/// A monthly program (window 10 days, grace 60) with a retake item, and ana's first award
/// of it, issued 2027-01-31: it expires 2027-02-28.
async fn monthly_chain_from_january_31(app: &TestApp) {
    app.set_time("2027-01-31");
    app.program(
        json!({"code": "M1", "name": "Monthly", "validity": {"count": 1, "unit": "months"},
        "renewal_window_days": 10, "grace_days": 60,
        "items": [{"code": "M-COURSE", "assigned_on": "2027-01-01"}]}),
    )
    .await;
    app.learner("ana").await;
    let first = award(app, "ana", "M1", "2027-01-31").await;
    assert_eq!(first["expires_on"], "2027-02-28");
}

both_backends! {
    async fn a_monthly_chain_keeps_its_day_of_the_month(app) {
        monthly_chain_from_january_31(&app).await;
        app.set_time("2027-02-25");
        let second = retake(&app, "r1", "2027-02-25").await;
        assert_eq!(second["expires_on"], "2027-03-31");
        app.set_time("2027-03-25");
        let third = retake(&app, "r2", "2027-03-25").await;
        assert_eq!(third["expires_on"], "2027-04-30");
        app.set_time("2027-04-25");
        let fourth = retake(&app, "r3", "2027-04-25").await;
        assert_eq!(fourth["expires_on"], "2027-05-31");
        assert_eq!(fourth["predecessor"], third["id"]);
    }
}

both_backends! {
    async fn a_renewal_late_in_a_long_grace_never_expires_before_it_is_issued(app) {
        monthly_chain_from_january_31(&app).await;
        // Expired 2027-02-28; grace runs to 2027-04-29. Renewed on 2027-04-15: 2027-03-31
        // would be before the renewal, so whole months are added: 2027-04-30.
        app.set_time("2027-04-15");
        let renewed = retake(&app, "late", "2027-04-15").await;
        assert_eq!(renewed["issued_on"], "2027-04-15");
        assert_eq!(renewed["expires_on"], "2027-04-30");
        // The window (10 days) opens on 2027-04-20.
        assert_eq!(renewed["status"], "active");
        // Later edits of that award work.
        let edited = app
            .patch(&format!("/api/v1/awards/{}", renewed["id"].as_str().unwrap()), json!({"score": 1.0}))
            .await
            .expect(StatusCode::OK);
        assert_eq!(edited["expires_on"], "2027-04-30");
    }
}

both_backends! {
    async fn completion_instants_are_read_in_the_programs_organizations_zone(app) {
        app.add_organization("nz", "Pacific/Auckland").await;
        app.program(json!({"code": "NZ", "name": "NZ", "organization": "nz", "validity": {"count": 1, "unit": "years"},
            "items": [{"code": "NZ-COURSE", "assigned_on": "2027-01-01"}]})).await;
        app.program(json!({"code": "UTC", "name": "UTC", "organization": "default", "validity": {"count": 1, "unit": "years"},
            "items": [{"code": "NZ-COURSE", "assigned_on": "2027-01-01"}]})).await;
        app.learner("ana").await;
        // 20:00 UTC on 14 June is 08:00 on 15 June in Auckland.
        let r = app
            .post("/api/v1/completions", json!({"event_id": "tz-1", "learner": "ana", "item": "NZ-COURSE",
                "completed_on": "2027-06-14T20:00:00Z"}))
            .await
            .expect(StatusCode::CREATED);
        let mut by_program = std::collections::BTreeMap::new();
        for o in r["outcomes"].as_array().unwrap() {
            assert_eq!(o["result"], "awarded", "{r}");
            let a = shown(&app, o["award"].as_str().unwrap()).await;
            by_program.insert(o["program"].as_str().unwrap().to_owned(), a["issued_on"].as_str().unwrap().to_owned());
        }
        assert_eq!(by_program["NZ"], "2027-06-15");
        assert_eq!(by_program["UTC"], "2027-06-14");
    }
}
