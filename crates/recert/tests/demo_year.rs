//! The walk-through of issue 13 on the real binary: `recert serve --demo --test-clock`
//! with a mail server, the clock moved through a year. Five employees hold the demo's
//! SAFE-ANNUAL certification: one lets it lapse and receives the 90, 60 and 30-day
//! reminders (the manager copied from 30 days), the expiry notice, the grace-ending
//! notice and the lapse notice, each once; the other four renew inside the window by
//! each of the four pathways — retake, refresher, CE credits and supervisor sign-off —
//! and are reminded of nothing after they renewed. A webhook hears the same reminders and
//! renewals. Nothing waits on real time for a stage: the clock is moved and a scheduler
//! pass is asked for.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::Date;
use recert_domain::dates::add_days;
use recert_testkit::SmtpSink;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

/// Events a webhook endpoint received: (type, certificate ID, offset_days).
type Heard = Arc<Mutex<Vec<(String, String, Option<i64>)>>>;

async fn webhook_receiver() -> (String, Heard) {
    let heard: Heard = Arc::default();
    let kept = heard.clone();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |body: String| {
            let kept = kept.clone();
            async move {
                let v: Value = serde_json::from_str(&body).unwrap();
                kept.lock().unwrap().push((
                    v["type"].as_str().unwrap().to_owned(),
                    v["data"]["award"]["id"].as_str().unwrap_or("").to_owned(),
                    v["data"]["offset_days"].as_i64(),
                ));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/events"), heard)
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Value {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Moves the clock, asks for a pass and waits until the mail server has every message.
async fn move_to(api: &Api, admin: &str, day: Date) {
    api.call(
        Method::PUT,
        "/api/v1/test-clock",
        Some(json!({"now": day.to_string()})),
        admin,
    )
    .await;
    api.call(
        Method::POST,
        "/api/v1/scheduler/run",
        Some(json!({})),
        admin,
    )
    .await;
    for _ in 0..1500 {
        let s = api
            .call(Method::GET, "/api/v1/scheduler", None, admin)
            .await;
        if s["outbox_pending"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox did not empty on {day}");
}

/// The notices the mail server received for one address: (event, offset, manager copied).
fn notices_to(sink: &SmtpSink, address: &str) -> Vec<(String, Option<String>, bool)> {
    sink.notices()
        .iter()
        .filter(|m| m["headers"]["To"].as_str().unwrap_or("").contains(address))
        .map(|m| {
            let h = &m["headers"];
            let rcpt = m["rcpt_tos"].as_array().unwrap();
            (
                h["X-Recert-Event"].as_str().unwrap().to_owned(),
                h["X-Recert-Offset-Days"].as_str().map(str::to_owned),
                rcpt.iter().any(|r| r == "walk.boss@example.net"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_renews_by_every_pathway_and_reminds_whoever_does_not() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let smtp = sink.url();
    let server = common::serve(&[
        "--demo",
        "--test-clock",
        "--data-dir",
        data,
        "--smtp-url",
        &smtp,
        "--scheduler-interval",
        "3600",
    ]);
    let api = Api {
        client: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let admin = server.token.clone();
    let (hook_url, heard) = webhook_receiver().await;
    api.call(Method::POST, "/api/v1/webhooks",
        Some(json!({"url": hook_url, "events": ["award.reminder", "award.expired", "award.grace_ending", "award.lapsed", "award.renewed"]})), &admin).await;

    // A supervisor and five employees reporting to them, each holding SAFE-ANNUAL.
    api.call(Method::POST, "/api/v1/learners",
        Some(json!({"username": "walk.boss", "legal_name": "Wanda Boss", "email": "walk.boss@example.net"})), &admin).await;
    let people = ["retake", "refresher", "credits", "signoff", "lapse"];
    let mut awards = std::collections::BTreeMap::new();
    for p in people {
        api.call(Method::POST, "/api/v1/learners", Some(json!({"username": format!("walk.{p}"),
            "legal_name": format!("Walker {p}"), "email": format!("walk.{p}@example.net"), "manager": "walk.boss"})), &admin).await;
        let a = api
            .call(
                Method::POST,
                "/api/v1/awards",
                Some(json!({"learner": format!("walk.{p}"), "program": "SAFE-ANNUAL"})),
                &admin,
            )
            .await;
        awards.insert(p, a);
    }
    let expiry: Date = awards["lapse"]["expires_on"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let issued: Date = awards["lapse"]["issued_on"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        expiry,
        issued.with().year(issued.year() + 1).build().unwrap(),
        "a year's validity"
    );
    let next_expiry = expiry.with().year(expiry.year() + 1).build().unwrap();
    let token_for = |user: &'static str, role: &'static str, learner: &'static str| {
        let api = &api;
        let admin = admin.clone();
        async move {
            api.call(
                Method::POST,
                "/api/v1/users",
                Some(
                    json!({"username": user, "password": "walk-through-password-1",
                "role": role, "learner": learner}),
                ),
                &admin,
            )
            .await;
            api.call(
                Method::POST,
                "/api/v1/tokens",
                Some(json!({"name": user, "role": role, "user": user})),
                &admin,
            )
            .await["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let boss = token_for("walkboss", "supervisor", "walk.boss").await;
    let credits_learner = token_for("walkcredits", "learner", "walk.credits").await;
    let signoff_learner = token_for("walksignoff", "learner", "walk.signoff").await;

    // 90, 60 and 30 days before expiry: a reminder each, the manager copied from 30.
    for days in [90, 60, 30] {
        move_to(&api, &admin, add_days(expiry, -days)).await;
    }
    for p in people {
        let got = notices_to(&sink, &format!("walk.{p}@example.net"));
        assert_eq!(
            got,
            vec![
                ("award.reminder".to_owned(), Some("90".to_owned()), false),
                ("award.reminder".to_owned(), Some("60".to_owned()), false),
                ("award.reminder".to_owned(), Some("30".to_owned()), true),
            ],
            "walk.{p}"
        );
    }

    // Twenty days before expiry, four renew, each by another pathway.
    let day = add_days(expiry, -20);
    move_to(&api, &admin, day).await;
    for (p, item) in [("retake", "SAFE-101"), ("refresher", "SAFE-REFRESH")] {
        api.call(Method::POST, "/api/v1/completions", Some(json!({"event_id": format!("walk-{p}"),
            "learner": format!("walk.{p}"), "item": item, "completed_on": day.to_string(), "score": 92, "max_score": 100})), &admin).await;
    }
    let c = api
        .call(
            Method::POST,
            "/api/v1/credits",
            Some(
                json!({"program": "SAFE-ANNUAL", "completed_on": add_days(day, -3).to_string(),
        "hours": 4, "category": "First aid", "provider": "Red Cross"}),
            ),
            &credits_learner,
        )
        .await;
    assert_eq!(c["state"], "approved", "an approved provider: {c}");
    assert!(
        c["renewed"].is_string(),
        "4 hours with 1 of first aid meet the requirement: {c}"
    );
    let s = api
        .call(
            Method::POST,
            "/api/v1/signoffs",
            Some(json!({"award": awards["signoff"]["id"]})),
            &signoff_learner,
        )
        .await;
    let d = api
        .call(
            Method::POST,
            &format!("/api/v1/signoffs/{}/approve", s["id"]),
            Some(json!({"comment": "Observed on the floor"})),
            &boss,
        )
        .await;
    assert!(d["renewal"].is_string(), "{d}");
    for p in ["retake", "refresher", "credits", "signoff"] {
        let old = api
            .call(
                Method::GET,
                &format!("/api/v1/awards/{}", awards[p]["id"].as_str().unwrap()),
                None,
                &admin,
            )
            .await;
        assert_eq!(old["status"], "superseded", "walk.{p}: {old}");
        let new = api
            .call(
                Method::GET,
                &format!("/api/v1/awards/{}", old["superseded_by"].as_str().unwrap()),
                None,
                &admin,
            )
            .await;
        assert_eq!(
            (
                new["pathway"].as_str(),
                new["association"].as_str(),
                new["predecessor"].as_str()
            ),
            (Some(p), Some("renewal"), awards[p]["id"].as_str()),
            "walk.{p}: {new}"
        );
        assert_eq!(
            new["expires_on"],
            next_expiry.to_string().as_str(),
            "walk.{p}: the previous expiry plus a year: {new}"
        );
        assert_eq!(new["status"], "active", "walk.{p}: {new}");
    }

    // After expiry, through grace, to the lapse: only the one who did not renew hears.
    move_to(&api, &admin, add_days(expiry, 1)).await;
    move_to(&api, &admin, add_days(expiry, 30 - 7)).await;
    move_to(&api, &admin, add_days(expiry, 31)).await;
    let lapse = notices_to(&sink, "walk.lapse@example.net");
    assert_eq!(
        lapse[3..].to_vec(),
        vec![
            ("award.expired".to_owned(), None, true),
            ("award.grace_ending".to_owned(), None, true),
            ("award.lapsed".to_owned(), None, true),
        ]
    );
    for p in ["retake", "refresher", "credits", "signoff"] {
        assert_eq!(
            notices_to(&sink, &format!("walk.{p}@example.net")).len(),
            3,
            "walk.{p} renewed: nothing more"
        );
    }
    // The news by email: each of the five heard of their certificate, four of its renewal.
    for p in people {
        let news: Vec<String> = sink
            .messages()
            .iter()
            .filter(|m| {
                m["headers"]["To"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&format!("walk.{p}@"))
            })
            .filter_map(|m| m["headers"]["X-Recert-Event"].as_str().map(str::to_owned))
            .filter(|e| e == "award.issued" || e == "award.renewed")
            .collect();
        let want: &[&str] = if p == "lapse" {
            &["award.issued"]
        } else {
            &["award.issued", "award.renewed"]
        };
        assert_eq!(news, want, "walk.{p}");
    }
    // The manager was asked to sign off once, by email.
    let asked = sink
        .messages()
        .iter()
        .filter(|m| {
            m["headers"]["X-Recert-Event"] == "signoff.requested"
                && m["rcpt_tos"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == "walk.boss@example.net")
        })
        .count();
    assert_eq!(asked, 1);
    let lapsed = api
        .call(
            Method::GET,
            &format!("/api/v1/awards/{}", awards["lapse"]["id"].as_str().unwrap()),
            None,
            &admin,
        )
        .await;
    assert_eq!(lapsed["status"], "lapsed");

    // The webhook heard the same: the reminders with their offsets, the expiry, grace
    // ending and lapse notices, and the four renewals (each about its new award).
    let heard = heard.lock().unwrap().clone();
    let about = |cert: &str| -> Vec<(String, Option<i64>)> {
        heard
            .iter()
            .filter(|(_, c, _)| c == cert)
            .map(|(t, _, o)| (t.clone(), *o))
            .collect()
    };
    let r = |o: i64| ("award.reminder".to_owned(), Some(o));
    let plain = |t: &str| (t.to_owned(), None);
    assert_eq!(
        about(awards["lapse"]["id"].as_str().unwrap()),
        vec![
            r(90),
            r(60),
            r(30),
            plain("award.expired"),
            plain("award.grace_ending"),
            plain("award.lapsed")
        ]
    );
    for p in ["retake", "refresher", "credits", "signoff"] {
        let id = awards[p]["id"].as_str().unwrap();
        assert_eq!(about(id), vec![r(90), r(60), r(30)], "walk.{p}");
        let old = api
            .call(Method::GET, &format!("/api/v1/awards/{id}"), None, &admin)
            .await;
        assert_eq!(
            about(old["superseded_by"].as_str().unwrap()),
            vec![plain("award.renewed")],
            "walk.{p}"
        );
    }
}
