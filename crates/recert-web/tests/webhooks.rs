//! Webhooks (SPEC §9) on both databases: registered through the API, told of the events
//! they want through the outbox, signed per Standard Webhooks (checked here with an HMAC
//! computed independently), retried under the same `webhook-id` after a non-2xx answer,
//! every attempt in the delivery log; deleted webhooks hear nothing more.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use recert_service::Principal;
use recert_testkit::{StatusCode, both_backends};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// What the receiver got: each request's headers and body.
type Got = Arc<Mutex<Vec<(axum::http::HeaderMap, String)>>>;

/// A webhook endpoint on a free port answering the statuses given, in turn (then 200).
async fn receiver(answers: Vec<u16>) -> (String, Got) {
    let got: Got = Arc::default();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            let answers = answers.clone();
            async move {
                kept.lock().unwrap().push((headers, body));
                let status = answers.lock().unwrap().next().unwrap_or(200);
                axum::http::StatusCode::from_u16(status).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

/// Checks a request's Standard Webhooks signature with the secret, and that its timestamp
/// is `now` (the service's clock, in seconds) give or take five minutes; answers the body.
fn verified(secret: &str, headers: &axum::http::HeaderMap, body: &str, now: i64) -> Value {
    let h = |k: &str| headers.get(k).unwrap().to_str().unwrap().to_owned();
    let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(h("webhook-signature"), expected, "signature of {id}");
    assert!(
        (now - ts.parse::<i64>().unwrap()).abs() < 300,
        "a current timestamp: {ts}"
    );
    assert_eq!(h("content-type"), "application/json");
    serde_json::from_str(body).unwrap()
}

both_backends! {
    async fn webhooks_are_signed_retried_under_one_id_and_logged(app) {
        let (url, got) = receiver(vec![500]).await;
        // Refusals name the field; only administrators register webhooks.
        for (bad, field) in [(json!({"url": "ftp://example.org/x", "events": ["*"]}), "url"),
                             (json!({"url": "not a url", "events": ["*"]}), "url"),
                             (json!({"url": "https://user:pw@example.org/", "events": ["*"]}), "url"),
                             (json!({"url": url, "events": []}), "events"),
                             (json!({"url": url}), "events"),
                             (json!({"url": url, "events": ["award.issued", "award.teleported"]}), "events[1]")] {
            app.post("/api/v1/webhooks", bad).await.invalid_field(field);
        }
        let learner = app.token_for("auditor").await;
        app.send(Method::POST, "/api/v1/webhooks", Some(json!({"url": url, "events": ["*"]})), Some(&learner))
            .await.problem(StatusCode::FORBIDDEN);
        let hook = app.post("/api/v1/webhooks", json!({"url": url, "events": ["award.issued", "award.revoked"]}))
            .await.expect(StatusCode::CREATED);
        let secret = hook["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_") && STANDARD.decode(&secret[6..]).unwrap().len() >= 24, "{hook}");
        let hid = hook["id"].as_i64().unwrap();
        let listed = app.get("/api/v1/webhooks").await.expect(StatusCode::OK);
        assert!(listed["items"][0].get("secret").is_none(), "the secret is shown once: {listed}");
        assert_eq!(listed["items"][0]["events"], json!(["award.issued", "award.revoked"]));

        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "P"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        // The service's clock (a fixed one in tests), as the signatures carry it.
        let now = app.get("/api/v1/scheduler").await.expect(StatusCode::OK)["now"].as_str().unwrap()
            .parse::<recert_domain::Timestamp>().unwrap().as_second();

        // The first attempt is answered 500: kept for a retry, logged.
        app.service.deliver_outbox().await.unwrap();
        assert_eq!(got.lock().unwrap().len(), 1);
        let log = app.get(&format!("/api/v1/webhooks/{hid}/deliveries")).await.expect(StatusCode::OK);
        let first = &log["items"][0];
        assert_eq!((first["status"].as_i64(), first["ok"].as_bool(), first["attempt"].as_i64()), (Some(500), Some(false), Some(1)), "{log}");
        assert_eq!(first["event"], "award.issued");
        // Retried (sent again now, as the back-off would later) under the same webhook-id.
        let outbox_id: i64 = first["webhook_id"].as_str().unwrap().strip_prefix("msg_").unwrap().parse().unwrap();
        app.service.resend_message(&Principal::system(), outbox_id).await.unwrap();
        app.service.deliver_outbox().await.unwrap();
        let requests = got.lock().unwrap().clone();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].0.get("webhook-id"), requests[1].0.get("webhook-id"));
        for (headers, body) in &requests {
            let v = verified(&secret, headers, body, now);
            assert_eq!(v["type"], "award.issued");
            assert_eq!(v["data"]["award"]["id"], id.as_str(), "{v}");
            assert_eq!(v["data"]["award"]["learner"], "ana");
            assert!(v["timestamp"].as_str().unwrap().ends_with('Z'), "{v}");
        }
        let log = app.get(&format!("/api/v1/webhooks/{hid}/deliveries")).await.expect(StatusCode::OK);
        assert_eq!(log["items"][1]["status"], 200);
        assert_eq!(log["items"][1]["attempt"], 2);

        // A tampered body does not verify with the secret.
        let (headers, body) = &requests[1];
        let tampered = body.replace("ana", "eve");
        let result = std::panic::catch_unwind(|| verified(&secret, headers, &tampered, now));
        assert!(result.is_err(), "a tampered body must not verify");

        // Revocation is sent; an event not asked for is not.
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "issued in error"})).await.expect(StatusCode::OK);
        app.post("/api/v1/lms-connections", json!({"name": "noise"})).await.expect(StatusCode::CREATED);
        app.service.deliver_outbox().await.unwrap();
        let requests = got.lock().unwrap().clone();
        assert_eq!(requests.len(), 3);
        let v = verified(&secret, &requests[2].0, &requests[2].1, now);
        assert_eq!((v["type"].as_str(), v["data"]["award"]["status"].as_str()), (Some("award.revoked"), Some("revoked")), "{v}");

        // Credit decisions: an approved provider's entry is decided at once, and heard.
        let all = app.post("/api/v1/webhooks", json!({"url": url, "events": ["credit.decided"]})).await.expect(StatusCode::CREATED);
        app.program(json!({"code": "CE", "name": "CE", "validity": {"count": 1, "unit": "years"}, "renewal_pathways": ["credits"],
                           "credits_required": {"hours": 10}, "approved_providers": ["Board"]})).await;
        let ce = app.post("/api/v1/awards", json!({"learner": "ana", "program": "CE"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/credits", json!({"learner": "ana", "program": "CE", "hours": 2, "provider": "Board",
                                           "completed_on": ce["issued_on"]})).await.expect(StatusCode::CREATED);
        app.service.deliver_outbox().await.unwrap();
        let requests = got.lock().unwrap().clone();
        let last = requests.last().unwrap();
        let v = verified(all["secret"].as_str().unwrap(), &last.0, &last.1, now);
        assert_eq!((v["type"].as_str(), v["data"]["credit"]["state"].as_str()), (Some("credit.decided"), Some("approved")), "{v}");
        assert_eq!(v["data"]["award"]["id"], ce["id"]);
        let before = requests.len();

        // A deleted webhook hears nothing more.
        app.delete(&format!("/api/v1/webhooks/{hid}")).await.expect(StatusCode::NO_CONTENT);
        app.delete(&format!("/api/v1/webhooks/{hid}")).await.problem(StatusCode::NOT_FOUND);
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "P"})).await.expect(StatusCode::CREATED);
        app.service.deliver_outbox().await.unwrap();
        assert_eq!(got.lock().unwrap().len(), before);
        assert_eq!(app.get(&format!("/api/v1/webhooks/{hid}")).await.expect(StatusCode::OK)["active"], false);
        app.get("/api/v1/webhooks/99999/deliveries").await.problem(StatusCode::NOT_FOUND);
    }
}

both_backends! {
    async fn an_unreachable_endpoint_is_logged_and_retried(app) {
        // A port nothing listens on.
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = free.local_addr().unwrap().port();
        drop(free);
        let hook = app.post("/api/v1/webhooks", json!({"url": format!("http://127.0.0.1:{port}/x"), "events": ["*"]}))
            .await.expect(StatusCode::CREATED);
        app.program(json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        app.learner("ana").await;
        app.post("/api/v1/awards", json!({"learner": "ana", "program": "P"})).await.expect(StatusCode::CREATED);
        assert_eq!(app.service.deliver_outbox().await.unwrap(), 0);
        let log = app.get(&format!("/api/v1/webhooks/{}/deliveries", hook["id"])).await.expect(StatusCode::OK);
        let first = &log["items"][0];
        assert!(first["status"].is_null() && first["error"].as_str().unwrap().contains("cannot connect"), "{log}");
        let s = app.get("/api/v1/scheduler").await.expect(StatusCode::OK);
        assert_eq!(s["outbox_pending"], 1, "kept for a retry: {s}");
    }
}

both_backends! {
    async fn administrators_add_and_stop_webhooks_from_a_page(app) {
        let (url, _) = receiver(vec![]).await;
        app.account("root2", "admin", None, &[]).await;
        let web = app.web_session("root2").await;
        let (status, page) = web.post("/admin/webhooks", &[("url", "gopher://x"), ("events", "award.issued")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "url").unwrap().contains("http"), "{page}");
        let (status, page) = web.post("/admin/webhooks", &[("url", &url)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(recert_testkit::error_beside(&page, "events").is_some(), "{page}");
        assert!(page.contains(&format!("value=\"{url}\"")), "what was typed is kept: {page}");
        let (status, page) = web.post("/admin/webhooks", &[("url", &url), ("events", "award.issued"), ("events", "award.lapsed")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"new-secret\">whsec_") && page.contains("shown only once"), "{page}");
        let hid = app.get("/api/v1/webhooks").await.expect(StatusCode::OK)["items"][0]["id"].as_i64().unwrap();
        let (status, page) = web.get(&format!("/admin/webhooks/{hid}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("award.lapsed") && page.contains("Nothing sent yet") && page.contains("Stop this webhook"), "{page}");
        let (status, page) = web.post(&format!("/admin/webhooks/{hid}/delete"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Webhook stopped") && page.contains("stopped"), "{page}");
        assert_eq!(web.get("/admin/webhooks/nope").await.0, StatusCode::NOT_FOUND);
    }
}
