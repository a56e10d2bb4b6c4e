//! Learners, groups, memberships and requirements over the API, on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, both_backends};
use serde_json::{Value, json};

both_backends! {
    async fn learner_keeps_every_field(app) {
        app.post("/api/v1/groups", json!({"name": "Site A", "kind": "site"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups", json!({"name": "Welders", "kind": "team", "description": "Night shift"})).await.expect(StatusCode::CREATED);
        app.learner("boss").await;
        let body = json!({
            "username": "ana", "legal_name": "Ana María Álvarez", "email": "ana@example.com",
            "external_ids": {"hr": "E1042", "lms": "8812"}, "manager": "boss", "groups": ["Site A", "Welders"],
            "time_zone": "Europe/Madrid", "active": true, "end_date": "2030-12-31", "attributes": {"job_role": "Welder", "level": 3}
        });
        let l = app.post("/api/v1/learners", body).await.expect(StatusCode::CREATED);
        let shown = app.get("/api/v1/learners/ana").await.expect(StatusCode::OK);
        for key in ["username", "legal_name", "email", "external_ids", "manager", "time_zone", "active", "end_date", "attributes"] {
            assert_eq!(shown[key], l[key], "{key}");
        }
        assert_eq!(shown["groups"], json!(["Site A", "Welders"]));
        assert_eq!(shown["awards"], json!([]));
        let changed = app.patch("/api/v1/learners/ana", json!({"groups": ["Welders"], "active": false, "manager": null})).await.expect(StatusCode::OK);
        assert_eq!(changed["groups"], json!(["Welders"]));
        assert_eq!(changed["manager"], Value::Null);
        assert_eq!(changed["email"], "ana@example.com");
        let site = app.get("/api/v1/groups/Site A").await.expect(StatusCode::OK);
        assert_eq!(site["member_count"], 0);
    }
}

both_backends! {
    async fn bad_learner_input_names_its_fields(app) {
        app.learner("ana").await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Other"})).await.problem(StatusCode::CONFLICT);
        app.post("/api/v1/learners", json!({"username": "b", "legal_name": "B", "manager": "ghost"})).await.invalid_field("manager");
        app.post("/api/v1/learners", json!({"username": "b", "legal_name": "B", "email": "not-an-email"})).await.invalid_field("email");
        app.post("/api/v1/learners", json!({"username": "b", "legal_name": "B", "end_date": "2030-13-01"})).await.invalid_field("end_date");
        app.post("/api/v1/learners", json!({"username": "b", "legal_name": "B", "time_zone": "Mars/Base"})).await.invalid_field("time_zone");
        app.post("/api/v1/learners", json!({"username": "b", "legal_name": "B", "groups": ["Nowhere"]})).await.invalid_field("groups[0]");
        app.post("/api/v1/learners", json!({"username": "has space", "legal_name": "B"})).await.invalid_field("username");
        app.post("/api/v1/learners", json!({"username": "b"})).await.invalid_field("legal_name");
        app.patch("/api/v1/learners/ana", json!({"manager": "ana"})).await.invalid_field("manager");
        app.patch("/api/v1/learners/ana", json!({"username": "renamed"})).await.invalid_field("username");
        app.get("/api/v1/learners/ghost").await.problem(StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn learners_are_searched_by_name_username_email_and_certificate_id(app) {
        app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "jdoe", "legal_name": "Jane Doe", "email": "jane@corp.example", "groups": ["Site B"]})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "rroe", "legal_name": "Richard Roe", "email": "rich@corp.example", "active": false})).await.expect(StatusCode::CREATED);
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        let a = app.post("/api/v1/awards", json!({"learner": "rroe", "program": "P"})).await.expect(StatusCode::CREATED);
        let names = |v: Value| -> Vec<String> { v["items"].as_array().unwrap().iter().map(|l| l["username"].as_str().unwrap().to_owned()).collect() };
        assert_eq!(names(app.get("/api/v1/learners?q=jane").await.expect(StatusCode::OK)), vec!["jdoe"]);
        assert_eq!(names(app.get("/api/v1/learners?q=ROE").await.expect(StatusCode::OK)), vec!["rroe"]);
        assert_eq!(names(app.get("/api/v1/learners?q=corp.example").await.expect(StatusCode::OK)), vec!["jdoe", "rroe"]);
        let id = a["id"].as_str().unwrap();
        assert_eq!(names(app.get(&format!("/api/v1/learners?q={id}")).await.expect(StatusCode::OK)), vec!["rroe"]);
        assert_eq!(names(app.get("/api/v1/learners?q=%25").await.expect(StatusCode::OK)), Vec::<String>::new());
        assert_eq!(names(app.get("/api/v1/learners?group=Site%20B").await.expect(StatusCode::OK)), vec!["jdoe"]);
        assert_eq!(names(app.get("/api/v1/learners?status=inactive").await.expect(StatusCode::OK)), vec!["rroe"]);
        app.get("/api/v1/learners?status=sleepy").await.invalid_field("status");
        let detail = app.get("/api/v1/learners/rroe").await.expect(StatusCode::OK);
        assert_eq!(detail["awards"][0]["id"], a["id"]);
    }
}

both_backends! {
    async fn groups_memberships_and_requirements(app) {
        app.post("/api/v1/groups", json!({"name": "Site C", "kind": "site"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups", json!({"name": "Site C", "kind": "site"})).await.problem(StatusCode::CONFLICT);
        app.post("/api/v1/groups", json!({"name": "X", "kind": "tribe"})).await.invalid_field("kind");
        app.post("/api/v1/groups", json!({"kind": "team"})).await.invalid_field("name");
        for u in ["ana", "ben"] {
            app.learner(u).await;
        }
        app.post("/api/v1/groups/Site C/members", json!({"usernames": ["ana", "ghost"]})).await.invalid_field("usernames[1]");
        let g = app.post("/api/v1/groups/Site C/members", json!({"usernames": ["ana", "ben"]})).await.expect(StatusCode::OK);
        assert_eq!(g["member_count"], 2);
        let members = app.get("/api/v1/groups/Site C/members").await.expect(StatusCode::OK);
        assert_eq!(members, json!({"items": ["ana", "ben"], "next_cursor": null}));
        // A page at a time, in username order, by the cursor the page gives.
        let first = app.get("/api/v1/groups/Site C/members?limit=1").await.expect(StatusCode::OK);
        assert_eq!(first["items"], json!(["ana"]));
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/api/v1/groups/Site C/members?limit=1&cursor={cursor}")).await.expect(StatusCode::OK);
        assert_eq!(second, json!({"items": ["ben"], "next_cursor": null}));
        app.get("/api/v1/groups/Site C/members?cursor=nonsense").await.invalid_field("cursor");
        app.get("/api/v1/groups/Site C/members?limit=0").await.invalid_field("limit");
        app.get("/api/v1/groups/Site C/members?after=ana").await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        let g = app.delete("/api/v1/groups/Site C/members/ana").await.expect(StatusCode::OK);
        assert_eq!(g["member_count"], 1);
        app.delete("/api/v1/groups/Site C/members/ana").await.problem(StatusCode::NOT_FOUND);
        assert_eq!(app.get("/api/v1/learners/ben").await.expect(StatusCode::OK)["groups"], json!(["Site C"]));

        app.program(json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/groups/Site C/requirements", json!({"program": "NOPE"})).await.invalid_field("program");
        let r = app.post("/api/v1/groups/Site C/requirements", json!({"program": "SAFE"})).await.expect(StatusCode::CREATED);
        assert_eq!(r, json!({"group": "Site C", "program": "SAFE"}));
        app.post("/api/v1/groups/Site C/requirements", json!({"program": "SAFE"})).await.problem(StatusCode::CONFLICT);
        assert_eq!(app.get("/api/v1/requirements").await.expect(StatusCode::OK), json!({"items": [{"group": "Site C", "program": "SAFE"}], "next_cursor": null}));
        assert_eq!(app.get("/api/v1/groups/Site C").await.expect(StatusCode::OK)["required_programs"], json!(["SAFE"]));
        app.delete("/api/v1/groups/Site C/requirements/SAFE").await.expect(StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/requirements").await.expect(StatusCode::OK), json!({"items": [], "next_cursor": null}));
        let sites = app.get("/api/v1/groups?kind=site").await.expect(StatusCode::OK);
        assert_eq!(sites["items"].as_array().unwrap().len(), 1);
        app.get("/api/v1/groups?kind=galaxy").await.invalid_field("kind");
    }
}

both_backends! {
    async fn a_team_bigger_than_one_page_is_shown_whole(app) {
        app.learner("boss").await;
        for i in 0..510 {
            app.service
                .create_learner(
                    &recert_service::Principal::system(),
                    recert_service::learners::LearnerDraft {
                        username: Some(format!("m{i:03}")),
                        legal_name: Some(format!("Member {i:03}")),
                        manager: Some(Some("boss".into())),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        app.account("sup", "supervisor", Some("boss"), &[]).await;
        let web = app.web_session("sup").await;
        let (status, page) = web.get("/team").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Member 000") && page.contains("Member 509"), "the team is cut short");
    }
}
