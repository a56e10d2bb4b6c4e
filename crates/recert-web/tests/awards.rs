//! Awards over the API: SPEC §3.1–§3.3 date and status rules, on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use serde_json::{Value, json};

async fn setup(app: &TestApp, code: &str, validity: Value) {
    app.program(json!({"code": code, "name": code, "validity": validity}))
        .await;
    if app.get("/api/v1/learners/ana").await.status == StatusCode::NOT_FOUND {
        app.learner("ana").await;
    }
}

async fn award(app: &TestApp, program: &str, issued_on: &str) -> Value {
    app.post(
        "/api/v1/awards",
        json!({"learner": "ana", "program": program, "issued_on": issued_on}),
    )
    .await
    .expect(StatusCode::CREATED)
}

async fn status_on(app: &TestApp, id: &str, day: &str) -> String {
    let a = app
        .get(&format!("/api/v1/awards/{id}?as_of={day}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(a["status_as_of"], day);
    a["status"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn month_end_issue_plus_one_month_clamps_to_february(app) {
        setup(&app, "M1", json!({"count": 1, "unit": "months"})).await;
        let a = award(&app, "M1", "2027-01-31").await;
        assert_eq!(a["expires_on"], "2027-02-28");
        assert_eq!(a["always_valid"], false);
    }
}

both_backends! {
    async fn leap_day_plus_one_year_expires_february_28(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2028-02-29").await;
        assert_eq!(a["expires_on"], "2029-02-28");
    }
}

both_backends! {
    async fn statuses_as_of_chosen_days_match_the_spec_table(app) {
        // 1 year, default window 90 days and grace 30 days; issued 2028-02-29, expires 2029-02-28.
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2028-02-29").await;
        let id = a["id"].as_str().unwrap();
        assert_eq!(a["renewal_window_opens_on"], "2028-11-30");
        assert_eq!(a["grace_ends_on"], "2029-03-30");
        for (day, want) in [
            ("2028-02-29", "active"),
            ("2028-11-29", "active"),
            ("2028-11-30", "expiring"),
            ("2029-02-28", "expiring"),
            ("2029-03-01", "grace"),
            ("2029-03-30", "grace"),
            ("2029-03-31", "lapsed"),
        ] {
            assert_eq!(status_on(&app, id, day).await, want, "on {day}");
        }
        // Without as_of, status is judged today (the test clock: 2027-06-15).
        let today = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(today["status_as_of"], "2027-06-15");
    }
}

both_backends! {
    async fn always_valid_and_never_expiring_programs_stay_active(app) {
        setup(&app, "FOREVER", json!({"count": 0, "unit": "years"})).await;
        let a = award(&app, "FOREVER", "2020-01-01").await;
        assert_eq!(a["expires_on"], Value::Null);
        assert_eq!(a["always_valid"], true);
        assert_eq!(status_on(&app, a["id"].as_str().unwrap(), "2099-12-31").await, "active");
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let b = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "2020-01-01", "always_valid": true}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(b["always_valid"], true);
        assert_eq!(b["expires_on"], Value::Null);
        assert_eq!(b["status"], "active");
    }
}

both_backends! {
    async fn manual_award_records_every_field(app) {
        app.program(json!({"code": "CPE", "name": "CPE", "validity": {"count": 2, "unit": "years"}, "content_version": "v7",
            "custom_fields": [{"key": "module", "label": "Module", "kind": "text"}]})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({
            "learner": "ana", "program": "CPE", "issued_on": "2027-03-01", "completed_on": "2027-02-27",
            "expires_on": "2029-06-30", "score": 0.91, "pass_threshold": 0.7, "association": "external_training",
            "source_ref": "ext:4411", "credits": {"hours": 6.5, "category": "ethics"}, "fields": {"module": "M-12"}
        })).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap();
        let shown = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(a, shown);
        assert_eq!(shown["legal_name"], "Learner ana");
        assert_eq!(shown["completed_on"], "2027-02-27");
        assert_eq!(shown["expires_on"], "2029-06-30");
        assert_eq!(shown["score"], 0.91);
        assert_eq!(shown["pass_threshold"], 0.7);
        assert_eq!(shown["association"], "external_training");
        assert_eq!(shown["credits"], json!({"hours": 6.5, "category": "ethics"}));
        assert_eq!(shown["content_version"], "v7");
        assert_eq!(shown["fields"]["module"], "M-12");
        assert_eq!(shown["organization"], "default");
        assert_eq!(shown["verify_url"], format!("{}/verify/{id}", app.base));
        // Certificate IDs: four groups of four Crockford symbols.
        assert_eq!(id.len(), 19);
        assert_eq!(id.split('-').count(), 4);
    }
}

both_backends! {
    async fn second_award_while_one_is_current_is_refused(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let first = award(&app, "Y1", "2027-01-01").await;
        let p = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1"})).await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains(first["id"].as_str().unwrap()), "{p}");
        // Still refused in grace (renewable), allowed after lapse: a new chain starts.
        app.set_time("2028-01-15");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1"})).await.problem(StatusCode::CONFLICT);
        app.set_time("2028-02-01");
        let second = app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1"})).await.expect(StatusCode::CREATED);
        assert_eq!(second["issued_on"], "2028-02-01");
        assert_eq!(second["predecessor"], Value::Null);
        let first_now = app.get(&format!("/api/v1/awards/{}", first["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(first_now["status"], "lapsed");
    }
}

both_backends! {
    async fn concurrent_awards_for_one_learner_issue_exactly_one(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (client, base, token) = (app.client.clone(), app.base.clone(), app.token.clone());
            tasks.push(tokio::spawn(async move {
                client.post(format!("{base}/api/v1/awards")).bearer_auth(token)
                    .json(&json!({"learner": "ana", "program": "Y1"})).send().await.unwrap().status()
            }));
        }
        let mut created = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::CONFLICT => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1);
        let list = app.get("/api/v1/awards?learner=ana").await.expect(StatusCode::OK);
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
    }
}

both_backends! {
    async fn bad_award_input_names_its_fields(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        app.post("/api/v1/awards", json!({"learner": "nobody", "program": "Y1"})).await.invalid_field("learner");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "NOPE"})).await.invalid_field("program");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "31/01/2027"})).await.invalid_field("issued_on");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "2027-02-30"})).await.invalid_field("issued_on");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "issued_on": "2027-05-01", "expires_on": "2027-04-01"}))
            .await.invalid_field("expires_on");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "association": "bribery"})).await.invalid_field("association");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "pass_threshold": 80})).await.invalid_field("pass_threshold");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "fields": {"nope": 1}})).await.invalid_field("fields.nope");
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "Y1", "always_valid": true, "expires_on": "2030-01-01"}))
            .await.invalid_field("expires_on");
        let list = app.get("/api/v1/awards").await.expect(StatusCode::OK);
        assert!(list["items"].as_array().unwrap().is_empty(), "nothing was issued");
    }
}

both_backends! {
    async fn revocation_needs_a_reason_and_shows_in_status(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2027-01-01").await;
        let id = a["id"].as_str().unwrap();
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({})).await.invalid_field("reason");
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "x", "category": "whim"})).await.invalid_field("category");
        let r = app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "Exam taken by someone else", "category": "misconduct"}))
            .await.expect(StatusCode::OK);
        assert_eq!(r["status"], "revoked");
        assert_eq!(r["revocation"]["category"], "misconduct");
        assert_eq!(r["revocation"]["on"], "2027-06-15");
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "again"})).await.problem(StatusCode::CONFLICT);
        // As of a day before the revocation it was valid.
        assert_eq!(status_on(&app, id, "2027-03-01").await, "active");
        // A revoked award is not current: a new one may be issued.
        award(&app, "Y1", "2027-06-15").await;
        let revoked = app.get("/api/v1/awards?status=revoked").await.expect(StatusCode::OK);
        assert_eq!(revoked["items"].as_array().unwrap().len(), 1);
    }
}

both_backends! {
    async fn unassigned_award_is_archived_not_deleted(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2027-01-01").await;
        let id = a["id"].as_str().unwrap();
        let r = app.post(&format!("/api/v1/awards/{id}/archive"), json!({"reason": "left the team"})).await.expect(StatusCode::OK);
        assert_eq!(r["status"], "archived");
        app.post(&format!("/api/v1/awards/{id}/archive"), json!({})).await.problem(StatusCode::CONFLICT);
        app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        let history = app.get(&format!("/api/v1/awards/{id}/history")).await.expect(StatusCode::OK);
        let actions: Vec<_> = history["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        assert_eq!(actions, vec!["award.created", "award.archived"]);
    }
}

both_backends! {
    async fn editing_an_award_records_before_and_after(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2027-01-01").await;
        let id = a["id"].as_str().unwrap();
        let e = app.patch(&format!("/api/v1/awards/{id}"), json!({"expires_on": "2027-12-31", "association": "import", "score": 0.88, "reason": "HR correction"}))
            .await.expect(StatusCode::OK);
        assert_eq!(e["expires_on"], "2027-12-31");
        assert_eq!(e["renewal_window_opens_on"], "2027-10-02");
        assert_eq!(e["association"], "import");
        let history = app.get(&format!("/api/v1/awards/{id}/history")).await.expect(StatusCode::OK);
        let last = &history["items"][1];
        assert_eq!(last["action"], "award.updated");
        assert_eq!(last["before"]["expires_on"], "2028-01-01");
        assert_eq!(last["after"]["expires_on"], "2027-12-31");
        assert_eq!(last["after"]["_change"]["reason"], "HR correction");
        assert_eq!(last["actor"], "token:test-admin");
        // The edited expiry drives status filters too.
        let expiring = app.get("/api/v1/awards?status=expiring&as_of=2027-10-02").await.expect(StatusCode::OK);
        assert_eq!(expiring["items"].as_array().unwrap().len(), 1);
        // Always-valid and back.
        let v = app.patch(&format!("/api/v1/awards/{id}"), json!({"always_valid": true})).await.expect(StatusCode::OK);
        assert_eq!(v["expires_on"], Value::Null);
        let v = app.patch(&format!("/api/v1/awards/{id}"), json!({"always_valid": false})).await.expect(StatusCode::OK);
        assert_eq!(v["expires_on"], "2028-01-01");
        app.patch(&format!("/api/v1/awards/{id}"), json!({"completed_on": "2027-02-01"})).await.invalid_field("completed_on");
    }
}

both_backends! {
    async fn award_list_filters_by_program_learner_group_status_and_dates(app) {
        app.program(json!({"code": "Y1", "name": "Y1", "validity": {"count": 1, "unit": "years"}})).await;
        app.program(json!({"code": "M6", "name": "M6", "validity": {"count": 6, "unit": "months"}})).await;
        app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"})).await.expect(StatusCode::CREATED);
        for u in ["ana", "ben", "cem"] {
            app.learner(u).await;
        }
        app.post("/api/v1/groups/Site B/members", json!({"usernames": ["ben", "cem"]})).await.expect(StatusCode::OK);
        // Today is 2027-06-15.
        let mk = |u: &'static str, p: &'static str, d: &'static str| {
            let app = &app;
            async move { app.post("/api/v1/awards", json!({"learner": u, "program": p, "issued_on": d})).await.expect(StatusCode::CREATED) }
        };
        mk("ana", "Y1", "2027-01-10").await; // active until window opens 2027-10-12
        mk("ben", "Y1", "2026-06-01").await; // expired 2027-06-01: grace until 2027-07-01
        mk("cem", "Y1", "2026-03-01").await; // lapsed
        mk("ana", "M6", "2027-01-01").await; // expires 2027-07-01: expiring
        let count = |path: String| {
            let app = &app;
            async move { app.get(&path).await.expect(StatusCode::OK)["items"].as_array().unwrap().len() }
        };
        assert_eq!(count("/api/v1/awards?program=Y1".into()).await, 3);
        assert_eq!(count("/api/v1/awards?learner=ana".into()).await, 2);
        assert_eq!(count("/api/v1/awards?group=Site%20B".into()).await, 2);
        assert_eq!(count("/api/v1/awards?status=active".into()).await, 1);
        assert_eq!(count("/api/v1/awards?status=expiring".into()).await, 1);
        assert_eq!(count("/api/v1/awards?status=grace".into()).await, 1);
        assert_eq!(count("/api/v1/awards?status=lapsed".into()).await, 1);
        assert_eq!(count("/api/v1/awards?group=Site%20B&status=lapsed".into()).await, 1);
        assert_eq!(count("/api/v1/awards?expires_from=2027-06-01&expires_to=2027-07-01".into()).await, 2);
        assert_eq!(count("/api/v1/awards?issued_from=2027-01-01&issued_to=2027-01-31".into()).await, 2);
        // As of 2026-12-01: every award judged on that day; those issued later were not
        // yet valid then.
        let then = app.get("/api/v1/awards?as_of=2026-12-01").await.expect(StatusCode::OK);
        let items = then["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert!(items.iter().all(|a| a["status_as_of"] == "2026-12-01"));
        assert_eq!(count("/api/v1/awards?as_of=2026-12-01&status=not_yet_valid".into()).await, 2);
        assert_eq!(count("/api/v1/awards?as_of=2026-12-01&status=active".into()).await, 1);
        assert_eq!(count("/api/v1/awards?as_of=2026-12-01&status=expiring".into()).await, 1);
        // Pagination over filters.
        let page = app.get("/api/v1/awards?limit=2").await.expect(StatusCode::OK);
        assert_eq!(page["items"].as_array().unwrap().len(), 2);
        let next = page["next_cursor"].as_str().unwrap();
        let rest = app.get(&format!("/api/v1/awards?limit=2&cursor={next}")).await.expect(StatusCode::OK);
        assert_eq!(rest["items"].as_array().unwrap().len(), 2);
        assert_eq!(rest["next_cursor"], Value::Null);
    }
}

both_backends! {
    async fn program_changes_apply_to_new_awards_only(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let old = award(&app, "Y1", "2027-01-01").await;
        app.patch("/api/v1/programs/Y1", json!({"renewal_window_days": 10, "grace_days": 5})).await.expect(StatusCode::OK);
        let still = app.get(&format!("/api/v1/awards/{}", old["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(still["renewal_window_opens_on"], "2027-10-03");
        assert_eq!(still["grace_ends_on"], "2028-01-31");
        app.learner("ben").await;
        let new = app.post("/api/v1/awards", json!({"learner": "ben", "program": "Y1", "issued_on": "2027-01-01"})).await.expect(StatusCode::CREATED);
        assert_eq!(new["renewal_window_opens_on"], "2027-12-22");
        assert_eq!(new["grace_ends_on"], "2028-01-06");
    }
}

both_backends! {
    async fn archived_program_archives_its_awards_and_takes_no_new_ones(app) {
        setup(&app, "Y1", json!({"count": 1, "unit": "years"})).await;
        let a = award(&app, "Y1", "2027-01-01").await;
        app.post("/api/v1/programs/Y1/archive", json!({})).await.expect(StatusCode::OK);
        let shown = app.get(&format!("/api/v1/awards/{}", a["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(shown["status"], "archived");
        app.learner("ben").await;
        app.post("/api/v1/awards", json!({"learner": "ben", "program": "Y1"})).await.invalid_field("program");
    }
}
