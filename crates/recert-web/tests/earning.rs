#![allow(clippy::unwrap_used)]
//! Earning (SPEC §3.3, issue 5): completions through the API, idempotency (also racing,
//! also across two instances), xAPI statements from real-shaped examples, backfill,
//! external training, group awards. Every test runs on SQLite and PostgreSQL.

use recert_testkit::{PASSWORD, StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

/// SAFE has item C1 (threshold 0.8) assigned on 2027-03-01 and is valid for a year.
async fn seed(app: &TestApp) {
    app.program(json!({
        "code": "SAFE", "name": "Site Safety", "validity": {"count": 1, "unit": "years"},
        "content_version": "2027.1",
        "items": [{"code": "C1", "kind": "course", "pass_threshold": 0.8, "assigned_on": "2027-03-01"},
                  {"code": "LP1", "kind": "learning_plan", "assigned_on": "2027-03-01"}]
    }))
    .await;
    for u in ["ana", "ben"] {
        app.learner(u).await;
    }
}

fn completion(
    event: &str,
    learner: &str,
    item: &str,
    on: &str,
    score: Option<(f64, f64)>,
) -> Value {
    let mut c = json!({"event_id": event, "learner": learner, "item": item, "completed_on": on});
    if let Some((s, m)) = score {
        c["score"] = json!(s);
        c["max_score"] = json!(m);
    }
    c
}

async fn awards_of(app: &TestApp, learner: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/awards?learner={learner}"))
        .await
        .expect(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn session_get(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("recert_session={session}"))
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

both_backends! {
    async fn a_passing_completion_issues_exactly_one_award_seen_in_my_certifications(app) {
        seed(&app).await;
        let c = app.post("/api/v1/completions", completion("lms-1", "ana", "C1", "2027-06-01", Some((85.0, 100.0))))
            .await.expect(StatusCode::CREATED);
        assert_eq!(c["status"], "recorded");
        assert_eq!(c["earned"], true);
        assert_eq!(c["scaled_score"], 0.85);
        let outcome = &c["outcomes"][0];
        assert_eq!((outcome["program"].as_str(), outcome["result"].as_str()), (Some("SAFE"), Some("awarded")));
        let id = outcome["award"].as_str().unwrap().to_owned();

        // The award records what earned it (issue requirement 6).
        let a = app.get(&format!("/api/v1/awards/{id}")).await.expect(StatusCode::OK);
        assert_eq!(a["issued_on"], "2027-06-01");
        assert_eq!(a["completed_on"], "2027-06-01");
        assert_eq!(a["expires_on"], "2028-06-01");
        assert_eq!(a["association"], "course_completion");
        assert_eq!(a["score"], 0.85);
        assert_eq!(a["pass_threshold"], 0.8);
        assert_eq!(a["content_version"], "2027.1");
        assert!(a["source_ref"].as_str().unwrap().contains("completion:lms-1"), "{a}");
        assert_eq!(awards_of(&app, "ana").await.len(), 1);

        // A learning plan completion is recorded as such; the learner now holds SAFE, so it is ignored.
        let lp = app.post("/api/v1/completions", completion("lms-2", "ana", "LP1", "2027-06-02", None))
            .await.expect(StatusCode::CREATED);
        assert_eq!(lp["outcomes"][0]["result"], "already_held");
        assert!(lp["message"].as_str().unwrap().contains("renewal opens on 2028-03-03"), "{lp}");
        assert_eq!(awards_of(&app, "ana").await.len(), 1);

        // The learner sees it under "My certifications".
        app.account("ana-user", "learner", Some("ana"), &[]).await;
        let session = app.service.login("ana-user", PASSWORD, None).await.unwrap().unwrap();
        let (status, page) = session_get(&app, &session, "/my").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&id), "My certifications lacks {id}");
        assert!(page.contains("Site Safety"));
    }
}

both_backends! {
    async fn completions_that_earn_nothing_say_why_in_the_answer_and_the_record(app) {
        seed(&app).await;
        let cases = [
            (completion("f-1", "ana", "C1", "2027-06-01", Some((70.0, 100.0))), "failed_score", "below the pass threshold of 80%"),
            (completion("f-2", "ana", "NOPE", "2027-06-01", None), "not_assigned", "not assigned to any program"),
            (completion("f-3", "ana", "C1", "2027-02-28", Some((95.0, 100.0))), "before_assignment", "assigned to the program on 2027-03-01"),
            (completion("f-4", "ana", "C1", "2027-06-01", None), "no_score", "no score was reported"),
            (json!({"event_id": "f-5", "learner": "ana", "item": "C1", "completed_on": "2027-06-01", "score": 0.9, "passed": false}), "not_passed", "not passed"),
        ];
        for (body, result, words) in &cases {
            let c = app.post("/api/v1/completions", body.clone()).await.expect(StatusCode::CREATED);
            assert_eq!(c["earned"], false, "{c}");
            assert_eq!(c["outcomes"][0]["result"], *result, "{c}");
            assert!(c["message"].as_str().unwrap().contains(words), "{words:?} not in {c}");
        }
        assert!(awards_of(&app, "ana").await.is_empty());

        // A replay of a stored event changes nothing and says so, even when it would earn now.
        let first = app.post("/api/v1/completions", completion("r-1", "ben", "C1", "2027-06-01", Some((9.0, 10.0))))
            .await.expect(StatusCode::CREATED);
        assert_eq!(first["earned"], true);
        let again = app.post("/api/v1/completions", completion("r-1", "ben", "C1", "2027-06-01", Some((9.0, 10.0))))
            .await.expect(StatusCode::OK);
        assert_eq!(again["status"], "replayed");
        assert_eq!(again["replays"], 1);
        assert!(again["message"].as_str().unwrap().contains("changed nothing"), "{again}");
        assert_eq!(awards_of(&app, "ben").await.len(), 1);
        // The same event id with other facts is refused.
        app.post("/api/v1/completions", completion("r-1", "ben", "C1", "2027-06-02", Some((9.0, 10.0))))
            .await.problem(StatusCode::CONFLICT);

        // The learner's record keeps every completion with its reason.
        let listed = app.get("/api/v1/completions?learner=ana").await.expect(StatusCode::OK);
        assert_eq!(listed["items"].as_array().unwrap().len(), 5);
        let ben = app.get("/api/v1/completions/r-1").await.expect(StatusCode::OK);
        assert_eq!(ben["replays"], 1);
        let session = {
            app.account("root", "admin", None, &[]).await;
            app.service.login("root", PASSWORD, None).await.unwrap().unwrap()
        };
        let (status, page) = session_get(&app, &session, "/learners/ana").await;
        assert_eq!(status, StatusCode::OK);
        for words in ["below the pass threshold of 80%", "not assigned to any program", "an administrator may backfill it"] {
            assert!(page.contains(words), "learner page lacks {words:?}");
        }
        let (_, page) = session_get(&app, &session, "/learners/ben").await;
        assert!(page.contains("sent again 1"), "learner page does not show the replay");
    }
}

both_backends! {
    async fn bad_completions_get_clear_errors(app) {
        seed(&app).await;
        app.post("/api/v1/completions", json!({"learner": "ana"})).await.invalid_field("event_id");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "zed", "item": "C1", "completed_on": "2027-06-01"}))
            .await.invalid_field("learner");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "ana", "item": "C1", "completed_on": "2027-13-01"}))
            .await.invalid_field("completed_on");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "ana", "item": "C1", "completed_on": "2030-01-01"}))
            .await.invalid_field("completed_on");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "ana", "item": "C1", "completed_on": "2027-06-01", "score": 85}))
            .await.invalid_field("max_score");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "ana", "item": "C1", "completed_on": "2027-06-01", "score": 12, "max_score": 10}))
            .await.invalid_field("score");
        app.post("/api/v1/completions", json!({"event_id": "x", "learner": "ana", "item": "C1", "completed_on": "2027-06-01", "colour": "red"}))
            .await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        app.post("/api/v1/completions", json!("just text")).await.invalid_field("body");
        app.post("/api/v1/completions", json!([])).await.invalid_field("completions");
        // An RFC 3339 instant is read as its day in the organization's zone.
        let c = app.post("/api/v1/completions", json!({"event_id": "t", "learner": "ana", "item": "C1",
            "completed_on": "2027-06-01T23:30:00Z", "score": 0.9})).await.expect(StatusCode::CREATED);
        assert_eq!(c["completed_on"], "2027-06-01");
        // Only admins record completions.
        let auditor = app.token_for("auditor").await;
        app.send(Method::POST, "/api/v1/completions", Some(completion("z", "ana", "C1", "2027-06-01", None)), Some(&auditor))
            .await.problem(StatusCode::FORBIDDEN);
    }
}

both_backends! {
    async fn a_batch_reports_each_entry_and_records_the_good_ones(app) {
        seed(&app).await;
        let batch = json!([
            completion("b-1", "ana", "C1", "2027-06-01", Some((0.9, 1.0))),
            completion("b-2", "ben", "C1", "2027-06-01", Some((0.5, 1.0))),
            {"event_id": "b-3", "learner": "nobody", "item": "C1", "completed_on": "2027-06-01"},
            {"event_id": "b-4", "learner": "ben", "item": "C1", "completed_on": "2027-06-01", "score": "high"},
            completion("b-1", "ana", "C1", "2027-06-01", Some((0.9, 1.0))),
            completion("b-6", "ben", "LP1", "2027-06-03", None),
        ]);
        let r = app.post("/api/v1/completions", batch.clone()).await.expect(StatusCode::OK);
        assert_eq!((r["recorded"].as_u64(), r["replayed"].as_u64(), r["rejected"].as_u64(), r["awarded"].as_u64()),
            (Some(3), Some(1), Some(2), Some(2)), "{r}");
        let statuses: Vec<&str> = r["items"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["recorded", "recorded", "rejected", "rejected", "replayed", "recorded"]);
        assert_eq!(r["items"][2]["errors"][0]["field"], "learner");
        assert_eq!(r["items"][3]["index"], 3);
        assert_eq!(r["items"][5]["completion"]["outcomes"][0]["result"], "awarded");
        // The whole batch again: nothing new.
        let r = app.post("/api/v1/completions", batch).await.expect(StatusCode::OK);
        assert_eq!((r["recorded"].as_u64(), r["replayed"].as_u64(), r["awarded"].as_u64()), (Some(0), Some(4), Some(0)), "{r}");
        assert_eq!(awards_of(&app, "ana").await.len(), 1);
        assert_eq!(awards_of(&app, "ben").await.len(), 1);
        let too_many: Vec<Value> = (0..1001).map(|i| completion(&format!("m{i}"), "ana", "C1", "2027-06-01", None)).collect();
        app.post("/api/v1/completions", json!(too_many)).await.invalid_field("completions");
    }
}

both_backends! {
    async fn racing_replays_issue_one_award_also_across_two_instances(app) {
        seed(&app).await;
        // A second recert instance on the same database (on SQLite: the same file).
        let store = recert_service::Store::connect(&app.db.url).await.unwrap();
        let second = recert_service::Service::new(store, app.clock.clone(), "http://second");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let second_base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(recert_web::serve(listener, second, std::future::pending()));
        let mut tasks = Vec::new();
        for i in 0..12 {
            let base = if i % 2 == 0 { app.base.clone() } else { second_base.clone() };
            let (client, token) = (app.client.clone(), app.token.clone());
            tasks.push(tokio::spawn(async move {
                client.post(format!("{base}/api/v1/completions")).bearer_auth(token)
                    .json(&completion("race-1", "ana", "C1", "2027-06-01", Some((1.0, 1.0))))
                    .send().await.unwrap().status()
            }));
        }
        let mut created = 0;
        for t in tasks {
            match t.await.unwrap() {
                StatusCode::CREATED => created += 1,
                StatusCode::OK => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(created, 1);
        assert_eq!(awards_of(&app, "ana").await.len(), 1);
        let c = app.get("/api/v1/completions/race-1").await.expect(StatusCode::OK);
        assert_eq!(c["replays"], 11);
    }
}

both_backends! {
    async fn a_retake_in_the_window_renews_and_keeps_the_chain(app) {
        seed(&app).await;
        let first = app.post("/api/v1/completions", completion("k-1", "ana", "C1", "2027-04-01", Some((0.9, 1.0))))
            .await.expect(StatusCode::CREATED);
        let old = first["outcomes"][0]["award"].as_str().unwrap().to_owned();
        app.patch("/api/v1/programs/SAFE", json!({"renewal_pathways": ["retake"]})).await.expect(StatusCode::OK);
        // Expires 2028-04-01; the window opens 90 days before, on 2028-01-02.
        app.set_time("2028-02-01");
        let r = app.post("/api/v1/completions", completion("k-2", "ana", "C1", "2028-01-20", Some((0.95, 1.0))))
            .await.expect(StatusCode::CREATED);
        assert_eq!(r["outcomes"][0]["result"], "renewed", "{r}");
        let new = r["outcomes"][0]["award"].as_str().unwrap();
        let a = app.get(&format!("/api/v1/awards/{new}")).await.expect(StatusCode::OK);
        assert_eq!((a["predecessor"].as_str(), a["pathway"].as_str(), a["association"].as_str()), (Some(old.as_str()), Some("retake"), Some("renewal")));
        assert_eq!(a["expires_on"], "2029-04-01");
        let o = app.get(&format!("/api/v1/awards/{old}")).await.expect(StatusCode::OK);
        assert_eq!(o["status"], "superseded");
        assert_eq!(o["superseded_by"], new);
    }
}

both_backends! {
    async fn the_refresher_renews_only_a_current_award_and_after_lapse_a_new_chain_starts(app) {
        seed(&app).await;
        app.patch("/api/v1/programs/SAFE", json!({"renewal_pathways": ["retake", "refresher"], "refresher_item": "REFRESH"}))
            .await.expect(StatusCode::OK);
        // Without a current award the refresher earns nothing.
        let r = app.post("/api/v1/completions", completion("q-0", "ana", "REFRESH", "2027-05-01", None)).await.expect(StatusCode::CREATED);
        assert_eq!(r["outcomes"][0]["result"], "refresher_needs_current", "{r}");
        let first = app.post("/api/v1/completions", completion("q-1", "ana", "C1", "2027-04-01", Some((0.9, 1.0))))
            .await.expect(StatusCode::CREATED);
        let old = first["outcomes"][0]["award"].as_str().unwrap().to_owned();
        app.set_time("2028-02-01");
        let r = app.post("/api/v1/completions", completion("q-2", "ana", "REFRESH", "2028-01-15", None)).await.expect(StatusCode::CREATED);
        assert_eq!(r["outcomes"][0]["result"], "renewed", "{r}");
        let renewed = app.get(&format!("/api/v1/awards/{}", r["outcomes"][0]["award"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!((renewed["pathway"].as_str(), renewed["predecessor"].as_str()), (Some("refresher"), Some(old.as_str())));
        assert_eq!(renewed["expires_on"], "2029-04-01");
        // Long after grace (expired 2029-04-01, grace 30 days) only an assigned item earns it again: a new chain.
        app.set_time("2029-08-01");
        let r = app.post("/api/v1/completions", completion("q-3", "ana", "REFRESH", "2029-07-01", None)).await.expect(StatusCode::CREATED);
        assert_eq!(r["outcomes"][0]["result"], "refresher_needs_current", "{r}");
        let r = app.post("/api/v1/completions", completion("q-4", "ana", "C1", "2029-07-01", Some((0.85, 1.0)))).await.expect(StatusCode::CREATED);
        assert_eq!(r["outcomes"][0]["result"], "awarded", "{r}");
        let fresh = app.get(&format!("/api/v1/awards/{}", r["outcomes"][0]["award"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert!(fresh["predecessor"].is_null());
        assert_eq!(fresh["association"], "course_completion");
        assert_eq!(awards_of(&app, "ana").await.len(), 3, "the whole history is kept");
    }
}

both_backends! {
    async fn backfill_previews_then_turns_earlier_completions_into_awards(app) {
        seed(&app).await;
        app.learner("cara").await;
        for (e, who, on, score) in [("e-1", "ana", "2027-01-10", 0.9), ("e-2", "ben", "2027-02-01", 0.5), ("e-3", "ana", "2027-02-20", 0.95), ("e-4", "cara", "2027-02-25", 1.0)] {
            app.post("/api/v1/completions", json!({"event_id": e, "learner": who, "item": "C1", "completed_on": on, "score": score}))
                .await.expect(StatusCode::CREATED);
        }
        // cara already holds SAFE by hand: the backfill leaves her alone.
        app.post("/api/v1/awards", json!({"learner": "cara", "program": "SAFE", "issued_on": "2027-05-01"})).await.expect(StatusCode::CREATED);
        let preview = app.get("/api/v1/programs/SAFE/backfill").await.expect(StatusCode::OK);
        assert_eq!(preview["ran"], false);
        assert_eq!(preview["awards"], 1, "{preview}");
        let rows = preview["rows"].as_array().unwrap();
        let ana: Vec<&Value> = rows.iter().filter(|r| r["learner"] == "ana").collect();
        assert_eq!(ana[0]["event_id"], "e-3");
        assert_eq!(ana[0]["result"], "award");
        assert_eq!(ana[1]["result"], "skip");
        let ben = rows.iter().find(|r| r["learner"] == "ben").unwrap();
        assert!(ben["reason"].as_str().unwrap().contains("below the pass threshold"));
        let cara = rows.iter().find(|r| r["learner"] == "cara").unwrap();
        assert!(cara["reason"].as_str().unwrap().contains("before the current certificate"), "{cara}");
        assert!(awards_of(&app, "ana").await.is_empty(), "a preview changes nothing");
        // Only admins backfill.
        let pm = app.user_token("pm", "program_manager", None, &["SAFE"]).await;
        app.send(Method::POST, "/api/v1/programs/SAFE/backfill", None, Some(&pm)).await.problem(StatusCode::FORBIDDEN);

        let run = app.post("/api/v1/programs/SAFE/backfill", json!({})).await.expect(StatusCode::OK);
        assert_eq!((run["ran"].as_bool(), run["awards"].as_u64()), (Some(true), Some(1)));
        let got = awards_of(&app, "ana").await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["issued_on"], "2027-02-20");
        let c = app.get("/api/v1/completions/e-3").await.expect(StatusCode::OK);
        assert_eq!(c["outcomes"][0]["result"], "awarded");
        assert_eq!(c["outcomes"][0]["backfilled"], true);
        let audit = app.service.award_history(&recert_service::Principal::system(), got[0]["id"].as_str().unwrap()).await.unwrap();
        assert!(audit[0].after.as_ref().unwrap()["_change"]["backfill"] == true);
        // Nothing is left to backfill.
        let again = app.post("/api/v1/programs/SAFE/backfill", json!({})).await.expect(StatusCode::OK);
        assert_eq!(again["awards"], 0);
    }
}

fn basic(key: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

async fn xapi(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut req = app
        .client
        .request(method, format!("{}{path}", app.base))
        .header("authorization", auth)
        .header("x-experience-api-version", "1.0.3");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        headers,
    )
}

both_backends! {
    async fn real_shaped_xapi_statements_produce_the_expected_awards(app) {
        app.program(json!({"code": "FIRE", "name": "Fire Safety", "validity": {"count": 2, "unit": "years"},
            "items": [{"code": "FIRE-101", "kind": "course", "pass_threshold": 0.8, "assigned_on": "2027-01-01",
                       "activity_id": "https://lms.example.com/courses/fire-safety"}]})).await;
        app.program(json!({"code": "FORK", "name": "Forklift", "validity": {"count": 1, "unit": "years"},
            "items": [{"code": "FORK-1", "kind": "course", "assigned_on": "2027-01-01",
                       "activity_id": "https://moodle.example.com/course/view.php?id=7"}]})).await;
        for (u, email, ext) in [("ana", None, json!({})), ("ben", Some("ben@example.com"), json!({})), ("cara", None, json!({})),
                                ("dan", None, json!({"moodle": "42"})), ("eve", Some("Eve@Example.com"), json!({}))] {
            app.post("/api/v1/learners", json!({"username": u, "legal_name": u.to_uppercase(), "email": email, "external_ids": ext}))
                .await.expect(StatusCode::CREATED);
        }
        let conn = app.post("/api/v1/lms-connections", json!({"name": "SCORM Cloud"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        assert!(conn["endpoint"].as_str().unwrap().ends_with("/xapi/"));

        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/xapi-statements.json")).unwrap();
        // One statement names eve by the SHA-1 of her mailto IRI, as an LMS that hides e-mail
        // addresses sends it.
        let sha = {
            use sha1::Digest;
            sha1::Sha1::digest(b"mailto:eve@example.com").iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        assert!(text.contains(&sha));
        let statements: Value = serde_json::from_str(&text).unwrap();
        let (status, ids, headers) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(statements.clone())).await;
        assert_eq!(status, StatusCode::OK, "{ids}");
        assert_eq!(headers["x-experience-api-version"], "1.0.3");
        let ids = ids.as_array().unwrap();
        assert_eq!(ids.len(), 9);
        assert_eq!(ids[0], "6c5a1f0e-3b1d-4c2a-9d3e-0a1b2c3d4e01");

        let mut held: Vec<(String, String)> = Vec::new();
        for u in ["ana", "ben", "cara", "dan", "eve"] {
            for a in awards_of(&app, u).await {
                held.push((u.to_owned(), a["program"].as_str().unwrap().to_owned()));
                if u == "ana" {
                    assert_eq!(a["issued_on"], "2027-06-10");
                    assert_eq!(a["score"], 0.92);
                }
                if u == "ben" {
                    // 09:00 at +02:00 is 07:00 UTC: still 12 June in the organization's zone.
                    assert_eq!(a["issued_on"], "2027-06-12");
                }
            }
        }
        held.sort();
        let expected: Vec<(String, String)> = [("ana", "FIRE"), ("ben", "FORK"), ("dan", "FORK"), ("eve", "FIRE")]
            .iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect();
        assert_eq!(held, expected);
        // cara's attempt is kept with its reason.
        let cara = app.get("/api/v1/completions?learner=cara").await.expect(StatusCode::OK);
        assert_eq!(cara["items"][0]["outcomes"][0]["result"], "not_passed");
        // A completion named by its activity IRI is kept under the item's code.
        let by_code = app.get("/api/v1/completions?item=FIRE-101").await.expect(StatusCode::OK);
        assert!(!by_code["items"].as_array().unwrap().is_empty(), "{by_code}");
        assert!(by_code["items"].as_array().unwrap().iter().all(|c| c["item"] == "FIRE-101"), "{by_code}");

        // The LRS answers for a stored statement, with what it added.
        let (status, one, _) = xapi(&app, Method::GET, "/xapi/statements?statementId=6c5a1f0e-3b1d-4c2a-9d3e-0a1b2c3d4e01", &auth, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["verb"]["id"], "http://adlnet.gov/expapi/verbs/passed");
        assert!(one["stored"].is_string() && one["authority"]["name"] == "SCORM Cloud");
        let (_, all, headers) = xapi(&app, Method::GET, "/xapi/statements", &auth, None).await;
        assert_eq!(all["statements"].as_array().unwrap().len(), 9);
        assert!(headers.contains_key("x-experience-api-consistent-through"));
        // Posting the same statements again changes nothing (the LRS keeps the first copy).
        let (status, _, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(statements[0].clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(awards_of(&app, "ana").await.len(), 1);
        // Same id, other content: 409.
        let mut changed = statements[0].clone();
        changed["result"]["score"]["scaled"] = json!(0.5);
        let (status, _, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(changed)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        // PUT with statementId.
        let put = json!({"actor": {"mbox": "mailto:ben@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://lms.example.com/courses/fire-safety"}, "result": {"score": {"scaled": 0.81}}, "timestamp": "2027-06-14T10:00:00Z"});
        let (status, _, _) = xapi(&app, Method::PUT, "/xapi/statements?statementId=0b7c8d9e-1111-4222-8333-444455556666", &auth, Some(put)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(awards_of(&app, "ben").await.iter().any(|a| a["program"] == "FIRE"));
    }
}

both_backends! {
    async fn the_lrs_refuses_what_is_not_xapi_without_a_server_error(app) {
        let conn = app.post("/api/v1/lms-connections", json!({"name": "Moodle"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        let about = app.client.get(format!("{}/xapi/about", app.base)).send().await.unwrap();
        assert_eq!(about.status(), StatusCode::OK);
        assert_eq!(about.json::<Value>().await.unwrap()["version"][0], "1.0.3");
        let good = json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "urn:x"}});
        // No version header.
        let res = app.client.post(format!("{}/xapi/statements", app.base)).header("authorization", &auth).json(&good).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        // Wrong secret, and no credentials.
        let (status, _, headers) = xapi(&app, Method::POST, "/xapi/statements", &basic(conn["key"].as_str().unwrap(), "wrong"), Some(good.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(headers.contains_key("www-authenticate"));
        let (status, _, _) = xapi(&app, Method::POST, "/xapi/statements", "Bearer nothing", Some(good.clone())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        for bad in [
            json!({"verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "urn:x"}}),
            json!({"actor": {"mbox": "a@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": "urn:x"}}),
            json!({"actor": {"mbox": "mailto:a@example.com", "account": {"homePage": "h", "name": "n"}}, "verb": {"id": "http://x/v"}, "object": {"id": "urn:x"}}),
            json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"display": {}}, "object": {"id": "urn:x"}}),
            json!({"id": "not-a-uuid", "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x/v"}, "object": {"id": "urn:x"}}),
            json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x/v"}, "object": {"id": "urn:x"}, "result": {"score": {"scaled": 3}}}),
            json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x/v"}, "object": {"id": "urn:x"}, "timestamp": "yesterday"}),
            json!([good.clone(), "text"]),
            json!([]),
            // A 900 KB object id: no text over 10,000 characters is stored.
            json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://x/v"}, "object": {"id": format!("urn:{}", "x".repeat(900_000))}}),
        ] {
            let (status, body, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(bad.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
            assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        }
        let res = app.client.post(format!("{}/xapi/statements", app.base)).header("authorization", &auth)
            .header("x-experience-api-version", "1.0.3").body("{not json").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        // Nothing was stored by the refused batches; the good statement is stored and earns nothing.
        let (status, ids, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(good)).await;
        assert_eq!(status, StatusCode::OK);
        let (_, all, _) = xapi(&app, Method::GET, "/xapi/statements", &auth, None).await;
        assert_eq!(all["statements"].as_array().unwrap().len(), 1);
        assert_eq!(all["statements"][0]["id"], ids[0]);
        let (status, _, _) = xapi(&app, Method::GET, "/xapi/statements?statementId=0b7c8d9e-1111-4222-8333-444455556666", &auth, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Another LMS reads only its own statements.
        let other = app.post("/api/v1/lms-connections", json!({"name": "Other"})).await.expect(StatusCode::CREATED);
        let other_auth = basic(other["key"].as_str().unwrap(), other["secret"].as_str().unwrap());
        let (_, theirs, _) = xapi(&app, Method::GET, "/xapi/statements", &other_auth, None).await;
        assert!(theirs["statements"].as_array().unwrap().is_empty());
        let (status, _, _) = xapi(&app, Method::GET, &format!("/xapi/statements?statementId={}", ids[0].as_str().unwrap()), &other_auth, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Revoked credentials stop working.
        app.post("/api/v1/lms-connections/Moodle/revoke", json!({})).await.expect(StatusCode::NO_CONTENT);
        let (status, _, _) = xapi(&app, Method::GET, "/xapi/statements", &auth, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let listed = app.get("/api/v1/lms-connections").await.expect(StatusCode::OK);
        assert!(listed["items"][0]["revoked_at"].is_string());
        assert!(listed["items"][0].get("secret").is_none());
        app.post("/api/v1/lms-connections", json!({"name": "Moodle"})).await.invalid_field("name");
        app.post("/api/v1/lms-connections", json!({"name": ""})).await.invalid_field("name");
    }
}

both_backends! {
    async fn external_training_waits_for_approval_then_earns_on_its_completion_date(app) {
        seed(&app).await;
        app.post("/api/v1/learners", json!({"username": "boss", "legal_name": "Boss"})).await.expect(StatusCode::CREATED);
        let learner = app.user_token("ana-user", "learner", Some("ana"), &[]).await;
        let pm = app.user_token("pm", "program_manager", None, &["SAFE"]).await;
        // The learner reports with an evidence file (multipart).
        let form = reqwest::multipart::Form::new()
            .text("program", "SAFE").text("title", "Working at height").text("provider", "SafeCo")
            .text("completed_on", "2027-05-20").text("hours", "7.5")
            .part("evidence", reqwest::multipart::Part::bytes(b"%PDF-1.4 certificate".to_vec()).file_name("cert.pdf").mime_str("application/pdf").unwrap());
        let res = app.client.post(format!("{}/api/v1/external-training", app.base)).bearer_auth(&learner).multipart(form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let r: Value = res.json().await.unwrap();
        assert_eq!((r["state"].as_str(), r["learner"].as_str(), r["evidence"].as_str()), (Some("pending"), Some("ana"), Some("cert.pdf")));
        let id = r["id"].as_i64().unwrap();
        assert!(awards_of(&app, "ana").await.is_empty());
        // The learner cannot approve, nor report for someone else.
        app.send(Method::POST, &format!("/api/v1/external-training/{id}/approve"), Some(json!({})), Some(&learner)).await.problem(StatusCode::FORBIDDEN);
        app.send(Method::POST, "/api/v1/external-training", Some(json!({"learner": "ben", "program": "SAFE", "title": "t", "provider": "p", "completed_on": "2027-05-01"})), Some(&learner))
            .await.problem(StatusCode::FORBIDDEN);
        // The queue, and the evidence.
        let queue = app.send(Method::GET, "/api/v1/external-training?state=pending", None, Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!(queue["items"].as_array().unwrap().len(), 1);
        let file = app.client.get(format!("{}/api/v1/external-training/{id}/evidence", app.base)).bearer_auth(&pm).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK);
        assert_eq!(file.headers()["content-type"], "application/pdf");
        // Whatever a learner uploaded runs nothing with recert's origin when opened.
        assert!(file.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
        assert_eq!(file.headers()["x-content-type-options"], "nosniff");
        assert_eq!(file.bytes().await.unwrap().as_ref(), b"%PDF-1.4 certificate");
        // The program manager approves: the award is issued on the completion date.
        let ok = app.send(Method::POST, &format!("/api/v1/external-training/{id}/approve"), Some(json!({"note": "checked"})), Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!(ok["state"], "approved");
        let award = ok["award"].as_str().unwrap();
        let a = app.get(&format!("/api/v1/awards/{award}")).await.expect(StatusCode::OK);
        assert_eq!((a["issued_on"].as_str(), a["association"].as_str()), (Some("2027-05-20"), Some("external_training")));
        assert_eq!(a["credits"]["hours"], 7.5);
        assert!(a["source_ref"].as_str().unwrap().contains("Working at height"));
        app.send(Method::POST, &format!("/api/v1/external-training/{id}/approve"), Some(json!({})), Some(&pm)).await.problem(StatusCode::CONFLICT);

        // A rejection needs a note, which the learner then reads.
        app.set_time("2027-06-15T12:05:00Z");
        let r2 = app.send(Method::POST, "/api/v1/external-training", Some(json!({"program": "SAFE", "title": "Webinar", "provider": "X", "completed_on": "2027-06-01"})), Some(&learner))
            .await.expect(StatusCode::CREATED);
        let id2 = r2["id"].as_i64().unwrap();
        // Report ids are drawn at random: one does not tell how many there are or lead to
        // the next (and they stay exact as JSON numbers).
        assert!((id2 - id).abs() > 1 && id > 1 << 20 && id2 > 1 << 20, "{id} then {id2}");
        assert!(id < 1 << 53 && id2 < 1 << 53);
        let listed = app.send(Method::GET, "/api/v1/external-training", None, Some(&learner)).await.expect(StatusCode::OK);
        let order: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(order, vec![id2, id], "newest first, whatever the ids");
        app.send(Method::POST, &format!("/api/v1/external-training/{id2}/reject"), Some(json!({})), Some(&pm)).await.invalid_field("note");
        app.send(Method::POST, &format!("/api/v1/external-training/{id2}/reject"), Some(json!({"note": "no certificate attached"})), Some(&pm)).await.expect(StatusCode::OK);
        let mine = app.send(Method::GET, "/api/v1/external-training", None, Some(&learner)).await.expect(StatusCode::OK);
        assert!(mine["items"].as_array().unwrap().iter().any(|r| r["decision_note"] == "no certificate attached"));

        // Without approval on the program, a learner's report earns at once; an admin's always does.
        app.patch("/api/v1/programs/SAFE", json!({"external_training_approval": false})).await.expect(StatusCode::OK);
        let ben = app.user_token("ben-user", "learner", Some("ben"), &[]).await;
        let r3 = app.send(Method::POST, "/api/v1/external-training", Some(json!({"program": "SAFE", "title": "Course", "provider": "Y", "completed_on": "2027-06-02"})), Some(&ben))
            .await.expect(StatusCode::CREATED);
        assert_eq!(r3["state"], "approved");
        assert!(r3["award"].is_string());
        // Bad input is named field by field.
        let p = app.post("/api/v1/external-training", json!({"learner": "boss", "program": "NOPE", "title": "", "completed_on": "2099-01-01", "hours": -1}))
            .await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        for f in ["program", "title", "provider", "hours"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }
}

both_backends! {
    async fn group_awards_preview_then_award_members_and_optionally_later_joiners(app) {
        seed(&app).await;
        app.learner("cara").await;
        app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups/Site B/members", json!({"usernames": ["ana", "ben"]})).await.expect(StatusCode::OK);
        app.post("/api/v1/awards", json!({"learner": "ben", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let preview = app.post("/api/v1/group-awards", json!({"group": "Site B", "program": "SAFE", "preview": true}))
            .await.expect(StatusCode::OK);
        assert_eq!((preview["awards"].as_u64(), preview["skipped"].as_u64()), (Some(1), Some(1)));
        assert!(awards_of(&app, "ana").await.is_empty(), "a preview changes nothing");
        let done = app.post("/api/v1/group-awards", json!({"group": "Site B", "program": "SAFE", "include_later_members": true}))
            .await.expect(StatusCode::CREATED);
        assert_eq!(done["awards"], 1);
        let ben_row = done["rows"].as_array().unwrap().iter().find(|r| r["learner"] == "ben").unwrap().clone();
        assert!(ben_row["reason"].as_str().unwrap().contains("already holds"));
        assert_eq!(awards_of(&app, "ana").await.len(), 1);
        // cara joins later: the standing award reaches her, issued the day she joins.
        app.post("/api/v1/groups/Site B/members", json!({"usernames": ["cara"]})).await.expect(StatusCode::OK);
        let cara = awards_of(&app, "cara").await;
        assert_eq!(cara.len(), 1);
        assert_eq!(cara[0]["issued_on"], "2027-06-15");
        // Once stopped, later joiners get nothing.
        let id = done["id"].as_i64().unwrap();
        app.post(&format!("/api/v1/group-awards/{id}/stop"), json!({})).await.expect(StatusCode::OK);
        app.learner("dan").await;
        app.post("/api/v1/groups/Site B/members", json!({"usernames": ["dan"]})).await.expect(StatusCode::OK);
        assert!(awards_of(&app, "dan").await.is_empty());
        let listed = app.get("/api/v1/group-awards?group=Site B").await.expect(StatusCode::OK);
        assert!(listed["items"][0]["stopped_at"].is_string());
        // Default: later members are not included.
        app.post("/api/v1/groups", json!({"name": "Team C", "kind": "team"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups/Team C/members", json!({"usernames": ["dan"]})).await.expect(StatusCode::OK);
        app.post("/api/v1/group-awards", json!({"group": "Team C", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        app.learner("eve").await;
        app.patch("/api/v1/learners/eve", json!({"groups": ["Team C"]})).await.expect(StatusCode::OK);
        assert!(awards_of(&app, "eve").await.is_empty());
        app.post("/api/v1/group-awards", json!({"group": "Nope", "program": "SAFE"})).await.invalid_field("group");
    }
}

both_backends! {
    async fn an_xapi_statement_dated_in_the_future_is_stored_but_earns_nothing(app) {
        app.program(json!({"code": "FIRE", "name": "Fire Safety", "validity": {"count": 2, "unit": "years"},
            "items": [{"code": "FIRE-101", "kind": "course", "assigned_on": "2027-01-01",
                       "activity_id": "https://lms.example.com/courses/fire-safety"}]})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana", "email": "ana@example.com"}))
            .await.expect(StatusCode::CREATED);
        let conn = app.post("/api/v1/lms-connections", json!({"name": "LMS"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        let statement = json!({"id": "5d0e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f70", "actor": {"mbox": "mailto:ana@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://lms.example.com/courses/fire-safety"}, "timestamp": "2099-06-01T10:00:00Z"});
        let (status, ids, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(statement)).await;
        assert_eq!(status, StatusCode::OK, "{ids}");
        // Stored as an LRS must…
        let (status, one, _) = xapi(&app, Method::GET, "/xapi/statements?statementId=5d0e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f70", &auth, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["timestamp"], "2099-06-01T10:00:00Z");
        // …but no certificate dated 2099, and the completion says why.
        assert!(awards_of(&app, "ana").await.is_empty());
        let c = app.get("/api/v1/completions?learner=ana").await.expect(StatusCode::OK);
        let outcome = &c["items"][0]["outcomes"][0];
        assert_eq!(outcome["result"], "future_dated", "{c}");
        assert!(outcome["reason"].as_str().unwrap().contains("in the future"));
    }
}

both_backends! {
    async fn the_lrs_refuses_what_xapi_refuses_and_says_its_version_on_every_answer(app) {
        let conn = app.post("/api/v1/lms-connections", json!({"name": "Conformance"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        let good = json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"}, "object": {"id": "http://example.com/a"}});
        let with = |path: &str, v: Value| {
            let mut s = good.clone();
            let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
            let t = if parent.is_empty() { &mut s } else { s.pointer_mut(&format!("/{parent}")).unwrap() };
            t.as_object_mut().unwrap().insert(key.to_owned(), v);
            s
        };
        // The invalid statements the issue names, each refused with 400 naming the property.
        for (bad, names) in [
            (with("actor/name", Value::Null), "actor.name"),
            (with("verb", Value::Null), "verb"),
            (with("context", Value::Null), "context"),
            (with("verb", json!({"id": "experienced"})), "verb.id"),
            (with("result", json!({"success": "true"})), "result.success"),
            (with("context", json!({"registration": "123"})), "context.registration"),
            (with("version", json!("0.9.9")), "version"),
            (with("result", json!({"extensions": {"score": 1}})), "result.extensions"),
            (with("object", json!({"objectType": "Agent", "mbox": "mailto:b@example.com", "member": []})), "object.member"),
        ] {
            let (status, body, headers) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(bad.clone())).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
            assert!(body["detail"].as_str().unwrap().contains(names), "{bad} → {body}");
            assert_eq!(headers["x-experience-api-version"], "1.0.3");
        }
        // contextActivities given as one Activity come back as an array.
        let id = "0d2f8d2e-6b1a-4c55-9a41-6f3c2b1e0a01";
        let s = with("context", json!({"contextActivities": {"parent": {"id": "http://example.com/course"}}}));
        let (status, _, _) = xapi(&app, Method::PUT, &format!("/xapi/statements?statementId={id}"), &auth, Some(s)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, back, headers) = xapi(&app, Method::GET, &format!("/xapi/statements?statementId={id}"), &auth, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(back["context"]["contextActivities"]["parent"], json!([{"id": "http://example.com/course"}]));
        assert!(headers.contains_key("x-experience-api-consistent-through"));
        // Query strings: unknown or repeated parameters, ids with filters, filters not kept.
        for (path, says) in [
            ("/xapi/statements?colour=blue", "not a parameter"),
            ("/xapi/statements?limit=5&limit=6", "twice"),
            ("/xapi/statements?limit=many", "limit"),
            (&*format!("/xapi/statements?statementId={id}&voidedStatementId={id}"), "together"),
            (&*format!("/xapi/statements?statementId={id}&limit=1"), "only format and attachments"),
            ("/xapi/statements?verb=experienced", "verb must be an absolute IRI"),
            ("/xapi/statements?registration=nope", "registration must be a UUID"),
            ("/xapi/statements?since=yesterday", "since"),
            ("/xapi/statements?ascending=yes", "ascending"),
            ("/xapi/statements?format=full", "format"),
            ("/xapi/statements?agent=%7B%22name%22%3A%22x%22%7D", "agent"),
            ("/xapi/statements?cursor=garbage", "cursor"),
        ] {
            let (status, body, headers) = xapi(&app, Method::GET, path, &auth, None).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path} → {body}");
            assert!(body["detail"].as_str().unwrap().contains(says), "{path} → {body}");
            assert_eq!(headers["x-experience-api-version"], "1.0.3", "{path}");
        }
        let (status, _, _) = xapi(&app, Method::PUT, "/xapi/statements?statementId=x&verb=y", &auth, Some(good.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // Attachments sent as multipart/mixed: a clear refusal, not "invalid JSON".
        let res = app.client.post(format!("{}/xapi/statements", app.base)).header("authorization", &auth)
            .header("x-experience-api-version", "1.0.3")
            .header("content-type", "multipart/mixed; boundary=abc")
            .body("--abc\r\nContent-Type: application/json\r\n\r\n{}\r\n--abc--").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()["x-experience-api-version"], "1.0.3");
        let detail = res.json::<Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("multipart/mixed") && !detail.contains("JSON:"), "{detail}");
        // The resources recert does not offer answer 501 in the LRS's terms.
        for path in ["/xapi/activities/state?activityId=x", "/xapi/activities/profile", "/xapi/agents/profile", "/xapi/agents", "/xapi/activities"] {
            let (status, body, headers) = xapi(&app, Method::GET, path, &auth, None).await;
            assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{path}");
            assert!(body["detail"].as_str().unwrap().contains("statements"), "{body}");
            assert_eq!(headers["x-experience-api-version"], "1.0.3");
        }
        // A 401 speaks of the LMS connection's Basic credentials, not API tokens.
        let (status, body, headers) = xapi(&app, Method::GET, "/xapi/statements", &format!("Bearer {}", app.token), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("Basic") && detail.contains("LMS") && !detail.contains("rct_"), "{detail}");
        assert_eq!(headers["x-experience-api-version"], "1.0.3");
        assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    }
}

both_backends! {
    async fn the_lrs_filters_pages_and_voids_as_xapi_says(app) {
        let conn = app.post("/api/v1/lms-connections", json!({"name": "Filters"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        let reg = "6a1e2d3c-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
        let put = |id: &'static str, s: Value| {
            let auth = auth.clone();
            let app = &app;
            async move {
                let (status, body, _) = xapi(app, Method::PUT, &format!("/xapi/statements?statementId={id}"), &auth, Some(s)).await;
                assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
            }
        };
        let ids = [
            "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
            "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
        ];
        put(ids[0], json!({"actor": {"mbox": "mailto:ana@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "http://example.com/a"}, "context": {"registration": reg}})).await;
        app.set_time("2027-06-15T12:00:01Z");
        put(ids[1], json!({"actor": {"mbox": "mailto:ben@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": "http://example.com/b"}, "context": {"instructor": {"mbox": "mailto:ana@example.com"},
            "contextActivities": {"parent": {"id": "http://example.com/a"}}}})).await;
        app.set_time("2027-06-15T12:00:02Z");
        put(ids[2], json!({"actor": {"mbox": "mailto:ana@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": "http://example.com/b"}})).await;
        let get = |path: String| {
            let auth = auth.clone();
            let app = &app;
            async move {
                let (status, body, _) = xapi(app, Method::GET, &path, &auth, None).await;
                assert_eq!(status, StatusCode::OK, "{path} → {body}");
                body
            }
        };
        let found = |body: &Value| -> Vec<String> {
            body["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
        };
        let ana = "%7B%22mbox%22%3A%22mailto%3Aana%40example.com%22%7D";
        assert_eq!(found(&get(format!("/xapi/statements?agent={ana}")).await), vec![ids[2], ids[0]], "newest first, as actor only");
        assert_eq!(found(&get(format!("/xapi/statements?agent={ana}&related_agents=true")).await), vec![ids[2], ids[1], ids[0]]);
        assert_eq!(found(&get("/xapi/statements?verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fattempted".into()).await), vec![ids[2], ids[1]]);
        assert_eq!(found(&get("/xapi/statements?activity=http%3A%2F%2Fexample.com%2Fa".into()).await), vec![ids[0]]);
        assert_eq!(found(&get("/xapi/statements?activity=http%3A%2F%2Fexample.com%2Fa&related_activities=true".into()).await), vec![ids[1], ids[0]]);
        assert_eq!(found(&get(format!("/xapi/statements?registration={reg}")).await), vec![ids[0]]);
        assert_eq!(found(&get("/xapi/statements?since=2027-06-15T12:00:00.500Z".into()).await), vec![ids[2], ids[1]]);
        assert_eq!(found(&get("/xapi/statements?until=2027-06-15T12:00:01Z&ascending=true".into()).await), vec![ids[0], ids[1]]);
        // Paging: `more` leads to the next page with the same filters, and is empty at the end.
        let first = get("/xapi/statements?limit=2&ascending=true".into()).await;
        assert_eq!(found(&first), vec![ids[0], ids[1]]);
        let more = first["more"].as_str().unwrap();
        assert!(more.starts_with("/xapi/statements?") && more.contains("ascending=true"), "{more}");
        let second = get(more.to_owned()).await;
        assert_eq!(found(&second), vec![ids[2]]);
        assert_eq!(second["more"], "");
        // format=ids keeps what identifies.
        let ids_only = get(format!("/xapi/statements?statementId={}&format=ids", ids[1])).await;
        assert_eq!(ids_only["actor"], json!({"mbox": "mailto:ben@example.com"}));
        assert_eq!(ids_only["verb"], json!({"id": "http://adlnet.gov/expapi/verbs/attempted"}));
        // Voiding: the target is answered only by voidedStatementId and left out of queries;
        // a voiding statement cannot itself be voided.
        put(ids[3], json!({"actor": {"mbox": "mailto:ana@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": ids[0]}})).await;
        let (status, _, _) = xapi(&app, Method::GET, &format!("/xapi/statements?statementId={}", ids[0]), &auth, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let voided = get(format!("/xapi/statements?voidedStatementId={}", ids[0])).await;
        assert_eq!(voided["id"], ids[0]);
        let (status, _, _) = xapi(&app, Method::GET, &format!("/xapi/statements?voidedStatementId={}", ids[1]), &auth, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "not voided");
        assert_eq!(found(&get(format!("/xapi/statements?agent={ana}")).await), vec![ids[3], ids[2]]);
        let (status, body, _) = xapi(&app, Method::POST, "/xapi/statements", &auth, Some(json!({"actor": {"mbox": "mailto:ana@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": ids[3]}}))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["detail"].as_str().unwrap().contains("cannot itself be voided"), "{body}");
    }
}
