#![allow(clippy::unwrap_used)]
//! The earning pages over HTTP: assigning items, the group award preview, backfill,
//! external training from "My certifications" and the approvers' queue, LMS connections.
//! Refused forms come back with the message beside the field.

use recert_testkit::{StatusCode, TestApp, both_backends};
use serde_json::json;

async fn seed(app: &TestApp) {
    app.program(
        json!({"code": "SAFE", "name": "Site Safety", "validity": {"count": 1, "unit": "years"}}),
    )
    .await;
    for u in ["ana", "ben"] {
        app.learner(u).await;
    }
    app.account("root", "admin", None, &[]).await;
    app.account("ana-user", "learner", Some("ana"), &[]).await;
}

both_backends! {
    async fn items_are_assigned_from_the_program_page_with_errors_beside_fields(app) {
        seed(&app).await;
        let b = app.web_session("root").await;
        let (status, page) = b.post("/programs/SAFE/items", &[("item_code", "C1"), ("item_kind", "course"), ("item_pass_threshold", "80%")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Item assigned."), "{page}");
        assert!(page.contains("<code>C1</code>") && page.contains("80%") && page.contains("2027-06-15"));
        let (status, page) = b.post("/programs/SAFE/items", &[("item_code", "C1"), ("item_kind", "course")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "item_code").unwrap().contains("already assigned"));
        let (status, page) = b.post("/programs/SAFE/items", &[("item_code", "C2"), ("item_pass_threshold", "lots")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "item_pass_threshold").unwrap().contains("not a number"));
        assert!(page.contains("value=\"C2\""), "the typed code is kept");
        let (_, page) = b.post("/programs/SAFE/items", &[("item_code", "bad code!"), ("item_kind", "course")]).await;
        assert!(recert_testkit::error_beside(&page, "item_code").is_some(), "the domain's code rule shows beside the field");
        // Completions of the item now earn; unassigning it keeps the award.
        app.post("/api/v1/completions", json!({"event_id": "e1", "learner": "ana", "item": "C1", "completed_on": "2027-06-15", "score": 0.9}))
            .await.expect(StatusCode::CREATED);
        let (_, page) = b.post("/programs/SAFE/items/C1/remove", &[]).await;
        assert!(page.contains("Item unassigned."));
        assert!(page.contains("No items assigned"));
        assert!(page.contains("Learner ana"), "the holder stays listed");
    }
}

both_backends! {
    async fn a_group_award_from_the_page_is_previewed_then_confirmed(app) {
        seed(&app).await;
        app.post("/api/v1/groups", json!({"name": "Crew", "kind": "team"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups/Crew/members", json!({"usernames": ["ana", "ben"]})).await.expect(StatusCode::OK);
        let b = app.web_session("root").await;
        let (status, page) = b.post("/programs/SAFE/awards", &[("group", "Crew"), ("include_later", "1")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Preview: award SAFE to group Crew") && page.contains("2 learners would be awarded"), "{page}");
        assert!(page.contains("Members who join later will be awarded"));
        let awards = app.get("/api/v1/awards?program=SAFE").await.expect(StatusCode::OK);
        assert!(awards["items"].as_array().unwrap().is_empty(), "a preview changes nothing");
        let (status, page) = b.post("/programs/SAFE/awards", &[("group", "Crew"), ("include_later", "1"), ("confirm", "1")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Awarded 2 of 2 learners."), "{page}");
        let standing = app.get("/api/v1/group-awards?group=Crew").await.expect(StatusCode::OK);
        assert_eq!(standing["items"][0]["include_later_members"], true);
        let (status, page) = b.post("/programs/SAFE/awards", &[("group", "Nope")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "group").unwrap().contains("no group named"));
    }
}

both_backends! {
    async fn backfill_is_previewed_on_a_page_then_run(app) {
        seed(&app).await;
        app.post("/api/v1/completions", json!({"event_id": "old", "learner": "ana", "item": "C9", "completed_on": "2027-05-01"}))
            .await.expect(StatusCode::CREATED);
        app.patch("/api/v1/programs/SAFE", json!({"items": [{"code": "C9", "kind": "course"}]})).await.expect(StatusCode::OK);
        let b = app.web_session("root").await;
        let (status, page) = b.get("/programs/SAFE/backfill").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("This is a preview") && page.contains("would be issued on 2027-05-01"), "{page}");
        assert!(page.contains("Run backfill: issue 1 award"));
        let (status, page) = b.post("/programs/SAFE/backfill", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Backfill done: 1 award issued."), "{page}");
        let (_, page) = b.get("/programs/SAFE/backfill").await;
        assert!(page.contains("No earlier completions") || page.contains("<strong>0</strong>"), "{page}");
    }
}

both_backends! {
    async fn learners_report_training_from_my_certifications_and_approvers_decide(app) {
        seed(&app).await;
        let learner = app.web_session("ana-user").await;
        // A refused report keeps what was typed and shows each message beside its field.
        let form = reqwest::multipart::Form::new().text("back", "my").text("program", "SAFE").text("title", "First aid")
            .text("completed_on", "2027-13-40").text("hours", "many");
        let (status, page) = learner.post_multipart("/external-training", form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "hours").unwrap().contains("not a number"), "{page}");
        let form = reqwest::multipart::Form::new().text("back", "my").text("program", "SAFE").text("title", "First aid")
            .text("completed_on", "2027-13-40");
        let (status, page) = learner.post_multipart("/external-training", form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "provider").is_some() && recert_testkit::error_beside(&page, "completed_on").is_some(), "{page}");
        assert!(page.contains("value=\"First aid\""), "the typed title is kept");
        let form = reqwest::multipart::Form::new().text("back", "my").text("program", "SAFE").text("title", "First aid")
            .text("provider", "Red Cross").text("completed_on", "2027-06-01")
            .part("evidence", reqwest::multipart::Part::bytes(b"scan".to_vec()).file_name("scan.png").mime_str("image/png").unwrap());
        let (status, page) = learner.post_multipart("/external-training", form).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Training reported.") && page.contains("scan.png") && page.contains("pending"), "{page}");
        // A stale form is refused.
        let res = reqwest::Client::new().post(format!("{}/external-training", app.base))
            .header("cookie", format!("recert_session={}", learner.session))
            .multipart(reqwest::multipart::Form::new().text("_csrf", "wrong").text("program", "SAFE"))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        let admin = app.web_session("root").await;
        let (_, queue) = admin.get("/external-training").await;
        assert!(queue.contains("First aid") && queue.contains("scan.png"), "{queue}");
        let id = app.get("/api/v1/external-training?state=pending").await.expect(StatusCode::OK)["items"][0]["id"].as_i64().unwrap();
        let (status, page) = admin.post(&format!("/external-training/{id}/reject"), &[("note", "")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, &format!("note-{id}")).unwrap().contains("tell the learner why"), "{page}");
        let (status, page) = admin.post(&format!("/external-training/{id}/approve"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Report approved.") && page.contains("earned: certificate"), "{page}");
        let (_, mine) = learner.get("/my").await;
        assert!(mine.contains("Site Safety") && mine.contains("approved"), "{mine}");
    }
}

both_backends! {
    async fn lms_connections_are_created_once_shown_and_revoked(app) {
        seed(&app).await;
        let b = app.web_session("root").await;
        let (status, page) = b.post("/admin/lms", &[("name", "Moodle")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"new-secret\"") && page.contains("/xapi/"), "{page}");
        let (_, page) = b.get("/admin/lms").await;
        assert!(!page.contains("id=\"new-secret\""), "the secret is shown only once");
        let (status, page) = b.post("/admin/lms", &[("name", "Moodle")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "name").unwrap().contains("already exists"));
        let (_, page) = b.post("/admin/lms/Moodle/revoke", &[]).await;
        assert!(page.contains("LMS connection revoked") && page.contains("revoked"), "{page}");
    }
}

both_backends! {
    async fn admins_create_and_edit_learners_from_the_pages(app) {
        seed(&app).await;
        app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"})).await.expect(StatusCode::CREATED);
        let b = app.web_session("root").await;
        let (_, list) = b.get("/learners").await;
        assert!(list.contains("New learner"));
        let (status, page) = b.post("/learners", &[("username", "dan"), ("legal_name", "Dan Diaz"), ("email", "dan@example.com"),
            ("manager", "ana"), ("groups", "Site B"), ("active", "1"), ("external_ids", "moodle=42\nhr=E7"), ("attributes", "job_role=Driver")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Learner created.") && page.contains("Dan Diaz"), "{page}");
        let dan = app.get("/api/v1/learners/dan").await.expect(StatusCode::OK);
        assert_eq!((dan["manager"].as_str(), dan["groups"][0].as_str(), dan["external_ids"]["moodle"].as_str()), (Some("ana"), Some("Site B"), Some("42")));
        // Errors come back beside their fields, with the input kept.
        let (status, page) = b.post("/learners", &[("username", "dan"), ("legal_name", "Other Dan"), ("active", "1")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("already exists"), "{page}");
        let (status, page) = b.post("/learners", &[("username", "eve"), ("legal_name", ""), ("email", "not-an-address"), ("manager", "nobody"), ("external_ids", "no equals sign")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "external_ids").unwrap().contains("line 1"), "{page}");
        let (_, page) = b.post("/learners", &[("username", "eve"), ("legal_name", ""), ("email", "not-an-address"), ("manager", "nobody")]).await;
        for field in ["legal_name", "email", "manager"] {
            assert!(recert_testkit::error_beside(&page, field).is_some(), "no message beside {field}: {page}");
        }
        assert!(page.contains("value=\"not-an-address\""));
        // Edit: leaving the group and deactivating.
        let (status, form) = b.get("/learners/dan/edit").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("moodle=42") && form.contains("readonly"));
        let (status, page) = b.post("/learners/dan/edit", &[("username", "dan"), ("legal_name", "Dan Díaz"), ("email", "dan@example.com"),
            ("manager", "ana"), ("external_ids", "moodle=42"), ("end_date", "2027-12-31")]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Learner saved.") && page.contains("Dan Díaz"), "{page}");
        let dan = app.get("/api/v1/learners/dan").await.expect(StatusCode::OK);
        assert_eq!((dan["active"].as_bool(), dan["groups"].as_array().map(Vec::len), dan["end_date"].as_str()), (Some(false), Some(0), Some("2027-12-31")));
        let (status, _) = b.get("/learners/nobody/edit").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Only admins.
        let learner = app.web_session("ana-user").await;
        let (status, _) = learner.get("/learners/dan/edit").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
