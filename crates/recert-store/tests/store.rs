//! Storage rules that hold on both databases: migrations line up, every change is audited
//! in the same transaction, and the audit chain detects tampering.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
#![allow(clippy::disallowed_methods)] // tampering with the audit table on purpose, below the store

use recert_service::{Principal, Service};
use recert_store::audit::{self, Verdict};
use recert_store::{Backend, migration_versions};
use recert_testkit::{StatusCode, both_backends};
use serde_json::json;

#[test]
fn sqlite_and_postgres_migrations_have_the_same_numbers() {
    let sqlite: Vec<i64> = migration_versions(Backend::Sqlite)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    let postgres: Vec<i64> = migration_versions(Backend::Postgres)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

async fn verdict(service: &Service) -> Verdict {
    let mut conn = service.store.read().await.unwrap();
    audit::verify(&mut conn).await.unwrap()
}

both_backends! {
    async fn every_change_appends_to_an_intact_audit_chain(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "P"})).await.expect(StatusCode::CREATED);
        app.post(&format!("/api/v1/awards/{}/revoke", a["id"].as_str().unwrap()), json!({"reason": "test"})).await.expect(StatusCode::OK);
        let mut conn = app.service.store.read().await.unwrap();
        let events = audit::list(&mut conn, None, 0, 100).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        // The default organization gets its first signing key when recert is prepared.
        assert_eq!(actions, vec!["organization.created", "signing_key.created", "token.created", "program.created", "learner.created", "award.created", "award.revoked"]);
        assert!(events.windows(2).all(|w| w[1].prev_hash == w[0].hash));
        assert_eq!(verdict(&app.service).await, Verdict::Intact { events: 7 });
    }
}

both_backends! {
    async fn edited_or_deleted_audit_events_break_the_chain(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let mut tx = app.service.store.begin_write().await.unwrap();
        sqlx::query("UPDATE audit_events SET actor = 'mallory' WHERE seq = 4").execute(&mut **tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(verdict(&app.service).await, Verdict::Broken { seq: 4, .. }));
        let mut tx = app.service.store.begin_write().await.unwrap();
        sqlx::query("UPDATE audit_events SET actor = 'token:test-admin' WHERE seq = 4").execute(&mut **tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(verdict(&app.service).await, Verdict::Intact { events: 5 });
        // Removing the newest event is caught through the head.
        let mut tx = app.service.store.begin_write().await.unwrap();
        sqlx::query("DELETE FROM audit_events WHERE seq = 5").execute(&mut **tx.conn()).await.unwrap();
        tx.commit().await.unwrap();
        assert!(matches!(verdict(&app.service).await, Verdict::Broken { .. }));
    }
}

both_backends! {
    async fn a_failed_write_leaves_neither_change_nor_audit_event(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        let before = verdict(&app.service).await;
        app.post("/api/v1/programs", json!({"code": "P", "name": "dup", "validity": {"count": 1, "unit": "years"}})).await.problem(StatusCode::CONFLICT);
        assert_eq!(verdict(&app.service).await, before);
    }
}

both_backends! {
    async fn concurrent_writers_keep_one_unbroken_chain(app) {
        let mut tasks = Vec::new();
        for i in 0..20 {
            let service = app.service.clone();
            tasks.push(tokio::spawn(async move {
                service.create_learner(&Principal::system(), serde_json::from_value(json!({"username": format!("u{i}"), "legal_name": "U"})).unwrap()).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(verdict(&app.service).await, Verdict::Intact { events: 23 });
    }
}

both_backends! {
    async fn a_patch_that_changes_nothing_writes_no_audit_event(app) {
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let before = verdict(&app.service).await;
        app.patch("/api/v1/programs/P", json!({"name": "P"})).await.expect(StatusCode::OK);
        app.patch("/api/v1/learners/ana", json!({"legal_name": "Learner ana"})).await.expect(StatusCode::OK);
        assert_eq!(verdict(&app.service).await, before);
        app.patch("/api/v1/programs/P", json!({"name": "Q"})).await.expect(StatusCode::OK);
        assert_ne!(verdict(&app.service).await, before);
    }
}

both_backends! {
    /// On one connection (one statement cache) a number column takes NULL, then a value,
    /// then NULL again: sqlx's `Any` driver types a NULL f64 as float4 on PostgreSQL, which
    /// broke the first real value after it until numbers were bound as text.
    async fn nullable_numbers_alternate_on_one_connection(app) {
        app.learner("ana").await;
        // One write transaction: one connection, one statement cache.
        let mut tx = app.service.store.begin_write().await.unwrap();
        let learner_id = recert_store::learners::id_of(tx.conn(), "ana").await.unwrap().unwrap();
        for (i, score) in [None, Some(0.85), None, Some(1.0)].into_iter().enumerate() {
            let record = recert_store::completions::CompletionRecord {
                id: 0,
                event_id: format!("n-{i}"),
                learner_id,
                username: "ana".into(),
                item: "C1".into(),
                completed_on: "2027-06-01".parse().unwrap(),
                score,
                max_score: score.map(|_| 1.0),
                scaled: score,
                passed: None,
                content_version: None,
                source: "api".into(),
                received_at_ms: 0,
                outcomes: json!([]),
                replays: 0,
            };
            recert_store::completions::insert(tx.conn(), &record).await.unwrap();
            let back = recert_store::completions::by_event_id(tx.conn(), &record.event_id).await.unwrap().unwrap();
            assert_eq!(back.score, score);
        }
        tx.commit().await.unwrap();
    }
}
