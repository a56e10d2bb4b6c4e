//! Awards to many and item changes (SPEC §9 "Awards to many, items"): one service call
//! each, from the API and the pages, one transaction each, on both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{StatusCode, TestApp, both_backends};
use serde_json::{Value, json};

async fn seed(app: &TestApp) {
    app.program(
        json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}}),
    )
    .await;
    for u in ["ana", "ben", "cem", "dag", "eli"] {
        app.learner(u).await;
    }
    app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"}))
        .await
        .expect(StatusCode::CREATED);
    app.post(
        "/api/v1/groups/Site B/members",
        json!({"usernames": ["ben", "cem", "dag"]}),
    )
    .await
    .expect(StatusCode::OK);
}

fn outcomes(r: &Value) -> Vec<(String, String)> {
    r["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["learner"].as_str().unwrap().to_owned(),
                x["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn holders(app: &TestApp) -> usize {
    app.get("/api/v1/awards?program=SAFE")
        .await
        .expect(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .len()
}

both_backends! {
    async fn a_batch_awards_learners_and_groups_once_each_and_says_what_happened(app) {
        seed(&app).await;
        // cem already holds it: skipped, not refused.
        app.post("/api/v1/awards", json!({"learner": "cem", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let body = json!({"program": "SAFE", "learners": ["ana", "ben", "ana", "zed"], "groups": ["Site B"],
            "issued_on": "2027-06-01", "preview": true});
        let preview = app.post("/api/v1/award-batches", body.clone()).await.expect(StatusCode::OK);
        assert_eq!(preview["preview"], true);
        assert_eq!(outcomes(&preview), vec![
            ("zed".into(), "refused".into()), ("ana".into(), "awarded".into()), ("ben".into(), "awarded".into()),
            ("cem".into(), "skipped".into()), ("dag".into(), "awarded".into()),
        ]);
        assert_eq!((preview["awarded"].as_u64(), preview["skipped"].as_u64(), preview["refused"].as_u64()), (Some(3), Some(1), Some(1)));
        assert_eq!(holders(&app).await, 1, "a preview writes nothing");
        let mut run = body;
        run["preview"] = json!(false);
        let done = app.post("/api/v1/award-batches", run).await.expect(StatusCode::OK);
        assert_eq!(outcomes(&done), outcomes(&preview));
        assert_eq!(holders(&app).await, 4);
        let ben = done["results"].as_array().unwrap().iter().find(|x| x["learner"] == "ben").unwrap();
        assert_eq!(ben["group"], Value::Null, "named directly before the group brought him in");
        let dag = done["results"].as_array().unwrap().iter().find(|x| x["learner"] == "dag").unwrap();
        assert_eq!(dag["group"], "Site B");
        let award = app.get(&format!("/api/v1/awards/{}", dag["award"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(award["issued_on"], "2027-06-01");
        assert_eq!(award["source_ref"], "group:Site B");
        // Sent again: everyone holds it now.
        let again = app.post("/api/v1/award-batches", json!({"program": "SAFE", "groups": ["Site B"]})).await.expect(StatusCode::OK);
        assert!(outcomes(&again).iter().all(|(_, o)| o == "skipped"));
    }
}

both_backends! {
    async fn a_bad_batch_names_every_field_at_fault(app) {
        seed(&app).await;
        app.post("/api/v1/award-batches", json!({"program": "SAFE"})).await.invalid_field("learners");
        let p = app.post("/api/v1/award-batches", json!({"program": "NOPE", "groups": ["Nowhere"], "issued_on": "2027-02-30",
            "association": "bribery", "learners": ["ana"]})).await.invalid_field("program");
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for f in ["groups[0]", "issued_on", "association"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
        app.post("/api/v1/award-batches", json!({"program": "SAFE", "learners": ["ana"], "surprise": 1})).await
            .problem(StatusCode::UNPROCESSABLE_ENTITY);
        let auditor = app.token_for("auditor").await;
        app.send(reqwest::Method::POST, "/api/v1/award-batches", Some(json!({"program": "SAFE", "learners": ["ana"]})), Some(&auditor))
            .await.problem(StatusCode::FORBIDDEN);
        assert_eq!(holders(&app).await, 0);
    }
}

both_backends! {
    async fn a_lapsed_holder_in_a_batch_starts_a_new_chain(app) {
        seed(&app).await;
        let old = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE", "issued_on": "2025-01-01"}))
            .await.expect(StatusCode::CREATED);
        let done = app.post("/api/v1/award-batches", json!({"program": "SAFE", "learners": ["ana"]})).await.expect(StatusCode::OK);
        assert_eq!(outcomes(&done), vec![("ana".into(), "awarded".into())]);
        let before = app.get(&format!("/api/v1/awards/{}", old["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(before["status"], "lapsed");
        let history = app.get(&format!("/api/v1/awards/{}/history", old["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert!(history["items"].as_array().unwrap().iter().any(|e| e["action"] == "award.closed"));
    }
}

both_backends! {
    async fn two_item_additions_at_once_both_survive(app) {
        seed(&app).await;
        // Ten additions race: five over the API, five from the page.
        let admin = app.token.clone();
        app.account("web-admin", "admin", None, &[]).await;
        let web = app.web_session("web-admin").await;
        let api_adds = (0..5).map(|i| {
            let (app, admin) = (&app, admin.clone());
            async move {
                app.send(reqwest::Method::POST, "/api/v1/programs/SAFE/items",
                    Some(json!({"code": format!("API-{i}"), "kind": "course", "pass_threshold": 0.8})), Some(&admin))
                    .await.expect(StatusCode::CREATED);
            }
        });
        let page_adds = (0..5).map(|i| {
            let web = &web;
            async move {
                let code = format!("WEB-{i}");
                let (status, page) = web.post("/programs/SAFE/items", &[("item_code", code.as_str()), ("item_kind", "assessment"), ("item_pass_threshold", "70%")]).await;
                assert_eq!(status, StatusCode::OK, "{page}");
            }
        });
        futures_join(api_adds.collect(), page_adds.collect()).await;
        let p = app.get("/api/v1/programs/SAFE").await.expect(StatusCode::OK);
        let mut codes: Vec<&str> = p["items"].as_array().unwrap().iter().map(|i| i["code"].as_str().unwrap()).collect();
        codes.sort();
        assert_eq!(codes, vec!["API-0", "API-1", "API-2", "API-3", "API-4", "WEB-0", "WEB-1", "WEB-2", "WEB-3", "WEB-4"]);
        let web0 = p["items"].as_array().unwrap().iter().find(|i| i["code"] == "WEB-0").unwrap();
        assert_eq!(web0["pass_threshold"], 0.7);
        assert_eq!(web0["assigned_on"], "2027-06-15");
        // The same item twice is a conflict; a bad one names its field.
        app.post("/api/v1/programs/SAFE/items", json!({"code": "API-0"})).await.problem(StatusCode::CONFLICT);
        app.post("/api/v1/programs/SAFE/items", json!({"code": "X", "pass_threshold": 7})).await.invalid_field("pass_threshold");
        app.post("/api/v1/programs/SAFE/items", json!({"code": "bad code"})).await.invalid_field("code");
        // Removing one keeps the others; removing it again is a 404.
        let after = app.delete("/api/v1/programs/SAFE/items/API-3").await.expect(StatusCode::OK);
        assert_eq!(after["items"].as_array().unwrap().len(), 9);
        app.delete("/api/v1/programs/SAFE/items/API-3").await.problem(StatusCode::NOT_FOUND);
        let history = app.get("/api/v1/programs/SAFE").await.expect(StatusCode::OK);
        assert_eq!(history["items"].as_array().unwrap().len(), 9);
    }
}

type Job<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>>;

/// Runs two sets of futures concurrently to completion.
async fn futures_join<'a>(
    a: Vec<impl std::future::Future<Output = ()> + 'a>,
    b: Vec<impl std::future::Future<Output = ()> + 'a>,
) {
    let mut jobs: Vec<Job<'a>> = Vec::new();
    for f in a {
        jobs.push(Box::pin(f));
    }
    for f in b {
        jobs.push(Box::pin(f));
    }
    // Polls every future until all are done (no extra dependency for a test).
    std::future::poll_fn(move |cx| {
        jobs.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if jobs.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}
