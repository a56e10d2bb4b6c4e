//! Programs over the API, on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, both_backends};
use serde_json::json;

both_backends! {
    async fn program_created_with_spec_defaults(app) {
        let p = app.program(json!({"code": "SAFE-1", "name": "Safety", "validity": {"count": 1, "unit": "years"}})).await;
        assert_eq!(p["organization"], "default");
        assert_eq!(p["renewal_window_days"], 90);
        assert_eq!(p["grace_days"], 30);
        assert_eq!(p["reminder_offsets_days"], json!([90, 60, 30, -1]));
        assert_eq!(p["escalation_offset_days"], 30);
        assert_eq!(p["renewal_anchor"], "previous_expiry");
        assert_eq!(p["archived"], false);
        let shown = app.get("/api/v1/programs/SAFE-1").await.expect(StatusCode::OK);
        assert_eq!(shown["name"], "Safety");
        let orgs = app.get("/api/v1/organizations").await.expect(StatusCode::OK);
        assert_eq!(orgs["items"], json!([{"code": "default", "name": "Test Org", "url": null, "time_zone": "UTC"}]));
    }
}

both_backends! {
    async fn program_keeps_every_setting(app) {
        let body = json!({
            "code": "CPE", "name": "Certified Process Engineer", "description": "Two-year credential",
            "validity": {"count": 2, "unit": "years"}, "renewal_window_days": 180, "grace_days": 60,
            "reminder_offsets_days": [-7, 180, 30], "renewal_pathways": ["credits", "retake", "refresher", "signoff"],
            "renewal_anchor": "renewal_date", "credits_required": {"hours": 20, "categories": {"ethics": 2}},
            "refresher_item": "CPE-REFRESH", "content_version": "v3",
            "custom_fields": [{"key": "module", "label": "Regulatory module", "kind": "text", "required": true}],
            "grace_counts_as_compliant": true,
            "items": [{"code": "CPE-EXAM", "kind": "assessment", "pass_threshold": 0.7, "assigned_on": "2027-01-01",
                       "activity_id": "https://lms.example.com/a/1", "url": "https://lms.example.com/c/1"}]
        });
        let p = app.program(body).await;
        let shown = app.get("/api/v1/programs/CPE").await.expect(StatusCode::OK);
        assert_eq!(p, shown);
        assert_eq!(shown["reminder_offsets_days"], json!([180, 30, -7]));
        assert_eq!(shown["credits_required"]["categories"]["ethics"], 2.0);
        assert_eq!(shown["items"][0]["pass_threshold"], 0.7);
        assert_eq!(shown["items"][0]["assigned_on"], "2027-01-01");
        assert_eq!(shown["custom_fields"][0]["key"], "module");
        assert_eq!(shown["grace_counts_as_compliant"], true);
    }
}

both_backends! {
    async fn new_items_are_assigned_today_and_patch_keeps_the_rest(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}, "items": [{"code": "C1"}]})).await;
        let p = app.get("/api/v1/programs/P").await.expect(StatusCode::OK);
        assert_eq!(p["items"][0]["assigned_on"], "2027-06-15");
        app.set_time("2027-08-01");
        let p = app.patch("/api/v1/programs/P", json!({"name": "Renamed", "items": [{"code": "C1"}, {"code": "C2", "kind": "learning_plan"}]}))
            .await.expect(StatusCode::OK);
        assert_eq!(p["name"], "Renamed");
        assert_eq!(p["validity"], json!({"count": 1, "unit": "years"}));
        assert_eq!(p["items"][0]["assigned_on"], "2027-06-15");
        assert_eq!(p["items"][1]["assigned_on"], "2027-08-01");
        assert_eq!(p["items"][1]["kind"], "learning_plan");
    }
}

both_backends! {
    async fn duplicate_program_code_is_a_conflict(app) {
        app.program(json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}})).await;
        let p = app.post("/api/v1/programs", json!({"code": "SAFE", "name": "Again", "validity": {"count": 1, "unit": "years"}}))
            .await.problem(StatusCode::CONFLICT);
        assert!(p["detail"].as_str().unwrap().contains("SAFE"), "{p}");
        // A code differing only by case is refused too: people would confuse them.
        app.post("/api/v1/programs", json!({"code": "safe", "name": "Again", "validity": {"count": 1, "unit": "years"}}))
            .await.problem(StatusCode::CONFLICT);
    }
}

both_backends! {
    async fn bad_program_settings_name_their_fields(app) {
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "fortnights"}}))
            .await.invalid_field("validity.unit");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "renewal_window_days": -5}))
            .await.invalid_field("renewal_window_days");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": -1, "unit": "years"}}))
            .await.invalid_field("validity.count");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "grace_days": -1}))
            .await.invalid_field("grace_days");
        app.post("/api/v1/programs", json!({"code": "has space", "name": "", "validity": {"count": 1, "unit": "years"}}))
            .await.invalid_field("name");
        app.post("/api/v1/programs", json!({"name": "No code", "validity": {"count": 1, "unit": "years"}}))
            .await.invalid_field("code");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "renewal_pathways": ["credits"]}))
            .await.invalid_field("credits_required");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "items": [{"code": "A", "assigned_on": "2027-02-30"}]}))
            .await.invalid_field("items[0].assigned_on");
        app.post("/api/v1/programs", json!({"code": "X", "name": "X", "validity": {"count": 1, "unit": "years"}, "organization": "nope"}))
            .await.invalid_field("organization");
        // Nothing half-created.
        app.get("/api/v1/programs/X").await.problem(StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn archived_program_is_kept_and_listed_on_request(app) {
        app.program(json!({"code": "OLD", "name": "Old", "validity": {"count": 1, "unit": "years"}})).await;
        app.program(json!({"code": "NEW", "name": "New", "validity": {"count": 0, "unit": "years"}})).await;
        let p = app.post("/api/v1/programs/OLD/archive", json!({})).await.expect(StatusCode::OK);
        assert_eq!(p["archived"], true);
        assert_eq!(p["archived_on"], "2027-06-15");
        app.post("/api/v1/programs/OLD/archive", json!({})).await.problem(StatusCode::CONFLICT);
        let listed = app.get("/api/v1/programs").await.expect(StatusCode::OK);
        let codes: Vec<_> = listed["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes, vec!["NEW"]);
        let all = app.get("/api/v1/programs?include_archived=true").await.expect(StatusCode::OK);
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        app.get("/api/v1/programs/OLD").await.expect(StatusCode::OK);
    }
}

both_backends! {
    async fn programs_paginate_with_a_cursor(app) {
        for i in 0..7 {
            app.program(json!({"code": format!("P{i}"), "name": format!("P{i}"), "validity": {"count": 1, "unit": "years"}})).await;
        }
        let mut seen = Vec::new();
        let mut path = "/api/v1/programs?limit=3".to_owned();
        loop {
            let page = app.get(&path).await.expect(StatusCode::OK);
            for p in page["items"].as_array().unwrap() {
                seen.push(p["code"].as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/programs?limit=3&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen, (0..7).map(|i| format!("P{i}")).collect::<Vec<_>>());
    }
}

both_backends! {
    async fn the_manager_escalation_offset_is_a_program_setting(app) {
        let p = app.program(json!({"code": "E", "name": "E", "validity": {"count": 1, "unit": "years"},
                                   "escalation_offset_days": 45})).await;
        assert_eq!(p["escalation_offset_days"], 45);
        let p = app.patch("/api/v1/programs/E", json!({"escalation_offset_days": 60})).await.expect(StatusCode::OK);
        assert_eq!(p["escalation_offset_days"], 60);
        // Other edits keep it.
        let p = app.patch("/api/v1/programs/E", json!({"name": "E2"})).await.expect(StatusCode::OK);
        assert_eq!(p["escalation_offset_days"], 60);
        for bad in [json!(-1), json!(3651), json!("soon"), json!(1.5)] {
            let r = app.patch("/api/v1/programs/E", json!({"escalation_offset_days": bad})).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.text);
        }
        assert_eq!(app.get("/api/v1/programs/E").await.expect(StatusCode::OK)["escalation_offset_days"], 60);
    }
}
