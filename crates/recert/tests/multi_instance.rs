//! Two `recert serve` processes on one PostgreSQL database, both schedulers on, the test
//! clock moved day by day through a year and more: every notice reaches the mail server
//! exactly once, whichever instance records and delivers it, and no award is issued
//! twice. The schedulers run on their own every second, and each day the test also asks
//! both for a pass at the same moment (`POST /api/v1/scheduler/run`), so that their
//! passes overlap on purpose rather than by chance. Nothing waits on real time for a
//! stage to come: the clock is moved.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_testkit::SmtpSink;
use recert_testkit::{Backend, TestDb};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

mod common;
use common::{Server, recert_ok};

/// `recert serve --test-clock` on a free port, its scheduler on every second.
fn serve(db_args: &[&str], smtp: &str) -> Server {
    let mut args = vec![
        "--test-clock",
        "--smtp-url",
        smtp,
        "--scheduler-interval",
        "1",
    ];
    args.extend_from_slice(db_args);
    common::serve(&args)
}

struct Api {
    client: reqwest::Client,
    token: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, url: String, body: Option<Value>) -> Value {
        let mut req = self.client.request(method, &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "{url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Waits until every queued message was delivered: for the mail server, not for a stage.
async fn wait_for_outbox(api: &Api, base: &str) {
    let mut pending = Value::Null;
    for _ in 0..600 {
        pending = api
            .call(
                reqwest::Method::GET,
                format!("{base}/api/v1/scheduler"),
                None,
            )
            .await["outbox_pending"]
            .clone();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the outbox did not empty: {pending} messages wait");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(recert_pg),
    ignore = "PostgreSQL case: set RECERT_TEST_POSTGRES_URL to run it"
)]
async fn two_instances_send_every_notice_once_through_a_year() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let db_args = ["--database-url", db.url.as_str(), "--data-dir", data];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter()
            .chain(db_args.iter())
            .map(|s| s.to_string())
            .collect()
    };
    recert_ok(&["migrate", "--database-url", &db.url]);
    let token = recert_ok(
        &with(&["token", "create", "--name", "multi-instance test"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .trim()
    .to_owned();
    let start: recert_domain::Date = "2027-06-01".parse().unwrap();
    recert_ok(
        &with(&["clock", "set", "2027-06-01"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let a = serve(&db_args, &sink.url());
    let b = serve(&db_args, &sink.url());
    let api = Api {
        client: reqwest::Client::new(),
        token,
    };
    use reqwest::Method;
    let both = [&a, &b];

    api.call(
        Method::POST,
        format!("{}/api/v1/programs", a.base),
        Some(
            json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"},
                    "renewal_window_days": 90, "grace_days": 30, "renewal_pathways": ["retake"]}),
        ),
    )
    .await;

    // Learners and awards on the first days, through either instance. Every third award
    // is renewed 45 days before it expires, through the other instance.
    let mut awards: Vec<(String, String, recert_domain::Date, bool)> = Vec::new();
    const DAYS: usize = 4;
    const PER_DAY: usize = 30;
    let last_day = add_days(start, 366 + DAYS as i64 + 31 + 2);
    let mut day = start;
    let mut renewed: BTreeMap<String, String> = BTreeMap::new();
    while day <= last_day {
        let step = (day - start).get_days() as usize;
        let here = both[step % 2];
        let there = both[(step + 1) % 2];
        api.call(
            Method::PUT,
            format!("{}/api/v1/test-clock", here.base),
            Some(json!({"now": day.to_string()})),
        )
        .await;
        if step < DAYS {
            // A batch of learners and awards a day, so that each stage falls due for many
            // awards at once and the two instances' passes overlap.
            for k in 0..PER_DAY {
                let user = format!("u{step}x{k:02}");
                api.call(
                    Method::POST,
                    format!("{}/api/v1/learners", here.base),
                    Some(
                        json!({"username": user, "legal_name": format!("Learner {step} {k}"),
                                "email": format!("{user}@example.org")}),
                    ),
                )
                .await;
                let award = api
                    .call(
                        Method::POST,
                        format!("{}/api/v1/awards", there.base),
                        Some(json!({"learner": user, "program": "SAFE"})),
                    )
                    .await;
                let expiry = award["expires_on"].as_str().unwrap().parse().unwrap();
                awards.push((
                    user,
                    award["id"].as_str().unwrap().to_owned(),
                    expiry,
                    k % 3 == 0,
                ));
            }
        }
        // Both schedulers at once, beside the passes they run on their own.
        let runs = both.map(|i| {
            api.call(
                Method::POST,
                format!("{}/api/v1/scheduler/run", i.base),
                None,
            )
        });
        let [r1, r2] = runs;
        let (r1, r2) = tokio::join!(r1, r2);
        assert!(r1["notices"].is_object() && r2["notices"].is_object());
        // The day's messages reach the mail server before the day's renewals: one still
        // held by the other instance's own pass would otherwise be dropped as no longer
        // needed (by design), and the expected set would depend on timing.
        wait_for_outbox(&api, &a.base).await;
        for (user, id, expiry, renews) in &awards {
            if *renews && day == add_days(*expiry, -45) {
                let new = api
                    .call(
                        Method::POST,
                        format!("{}/api/v1/awards/{id}/renew", there.base),
                        Some(json!({"pathway": "retake", "note": "retook the course"})),
                    )
                    .await;
                renewed.insert(user.clone(), new["id"].as_str().unwrap().to_owned());
            }
        }
        day = add_days(day, 1);
    }

    wait_for_outbox(&api, &a.base).await;

    // Every message exactly once (the notices, and the news of each issue and renewal).
    let mut got: BTreeMap<(String, String), usize> = BTreeMap::new();
    for m in sink.messages() {
        let h = &m["headers"];
        let stage = match h["X-Recert-Offset-Days"].as_str() {
            Some(d) => format!("reminder:{d}"),
            None => h["X-Recert-Event"].as_str().unwrap().to_owned(),
        };
        *got.entry((h["X-Recert-Award"].as_str().unwrap().to_owned(), stage))
            .or_default() += 1;
    }
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "notices sent more than once: {twice:?}");
    let mut expected = BTreeSet::new();
    for (_, id, _, renews) in &awards {
        let stages: &[&str] = if *renews {
            &["reminder:90", "reminder:60"]
        } else {
            &[
                "reminder:90",
                "reminder:60",
                "reminder:30",
                "award.expired",
                "award.grace_ending",
                "award.lapsed",
            ]
        };
        for s in stages {
            expected.insert((id.clone(), s.to_string()));
        }
    }
    assert_eq!(expected.len(), DAYS * (20 * 6 + 10 * 2));
    let news = got
        .keys()
        .filter(|(_, s)| s == "award.issued" || s == "award.renewed")
        .count();
    assert_eq!(news, awards.len() + awards.iter().filter(|a| a.3).count());
    let got: BTreeSet<_> = got
        .into_keys()
        .filter(|(_, s)| s != "award.issued" && s != "award.renewed")
        .collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "notices missing: {missing:?}; not expected: {extra:?}"
    );

    // No award issued twice: one per learner, two for the renewed.
    for (user, _, _, renews) in &awards {
        let list = api
            .call(
                Method::GET,
                format!("{}/api/v1/awards?learner={user}", b.base),
                None,
            )
            .await;
        let n = list["items"].as_array().unwrap().len();
        assert_eq!(n, if *renews { 2 } else { 1 }, "{user}: {list}");
    }
    assert_eq!(renewed.len(), DAYS * 10);
    for i in both {
        let log = i.log.lock().unwrap();
        assert!(
            !log.iter()
                .any(|l| l.contains("panicked") || l.contains("ERROR")),
            "{}",
            log.join("\n")
        );
    }
}
