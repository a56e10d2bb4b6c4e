//! The weekly manager digest (SPEC §3.7) over a real SMTP conversation, on both databases:
//! each manager with an email address hears once a week about their direct reports'
//! certifications expiring in the next 90 days or in grace; never twice a week, even from
//! a second instance; nothing for a manager without an address.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_service::mail::Mailer;
use recert_testkit::{SmtpSink, StatusCode, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

both_backends! {
    on_test_clock async fn managers_hear_weekly_about_their_teams_renewals(app) {
        let Some(sink) = SmtpSink::start() else { return };
        let move_to = |day: &'static str| {
            let app = &app;
            async move {
                app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": day})), Some(&app.token)).await.expect(StatusCode::OK);
            }
        };
        move_to("2027-03-03").await; // a Wednesday
        app.program(json!({"code": "FORK", "name": "Forklift", "validity": {"count": 1, "unit": "years"}, "grace_days": 30})).await;
        app.program(json!({"code": "CPR", "name": "CPR", "validity": {"count": 3, "unit": "years"}})).await;
        for (u, name, email, manager) in [("boss", "Bea Boss", Some("bea@example.org"), None), ("mute", "Max Mute", None, None),
                                          ("ann", "Ann Ash", Some("ann@example.org"), Some("boss")),
                                          ("ben", "Ben Birch", None, Some("boss")), ("cid", "Cid Cole", None, Some("mute"))] {
            app.post("/api/v1/learners", json!({"username": u, "legal_name": name, "email": email, "manager": manager}))
                .await.expect(StatusCode::CREATED);
        }
        let award = |learner: &'static str, program: &'static str, issued: &'static str| {
            let app = &app;
            async move {
                app.post("/api/v1/awards", json!({"learner": learner, "program": program, "issued_on": issued}))
                    .await.expect(StatusCode::CREATED)["id"].as_str().unwrap().to_owned()
            }
        };
        let ann = award("ann", "FORK", "2026-04-10").await; // expires in 38 days
        let ben = award("ben", "FORK", "2026-02-20").await; // expired, in grace until 22 March
        award("ben", "CPR", "2026-03-01").await; // years away: not listed
        award("cid", "FORK", "2026-03-20").await; // his manager has no address

        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        let run = || async {
            service.scheduler_tick().await.unwrap();
        };
        run().await;
        let digests = || -> Vec<Value> {
            sink.messages().into_iter().filter(|m| m["headers"]["X-Recert-Event"] == "digest.manager").collect()
        };
        let got = digests();
        assert_eq!(got.len(), 1, "{got:#?}");
        let m = &got[0];
        assert_eq!(m["rcpt_tos"], json!(["bea@example.org"]));
        assert!(m["headers"].get("X-Recert-Award").is_none(), "{m:#}");
        assert_eq!(m["headers"]["Subject"], "Your team: 2 certifications to renew");
        let text = m["text"].as_str().unwrap();
        let (ben_at, ann_at) = (text.find("Ben Birch").unwrap(), text.find("Ann Ash").unwrap());
        assert!(ben_at < ann_at, "soonest first: {text}");
        assert!(text.contains("expired on 20 February 2027; renewable until 22 March 2027"), "{text}");
        assert!(text.contains("expires on 10 April 2027 (in 38 days)"), "{text}");
        assert!(text.contains(&format!("{}/renew/{ann}", app.base)) && text.contains(&format!("{}/renew/{ben}", app.base)), "{text}");
        assert!(text.contains(&format!("{}/team", app.base)) && !text.contains("CPR"), "{text}");
        assert!(m["html"].as_str().unwrap().contains(&format!("href=\"{}/renew/{ann}\"", app.base)), "{m:#}");

        // Later the same week, or from another instance: nothing more.
        move_to("2027-03-07").await; // Sunday
        run().await;
        let other = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        assert_eq!(other.digest_pass().await.unwrap(), 0, "the week's digest was queued already");
        other.deliver_outbox().await.unwrap();
        assert_eq!(digests().len(), 1);

        // The next Monday: a new digest; Ben's award has lapsed by then only after grace.
        move_to("2027-03-08").await;
        run().await;
        let got = digests();
        assert_eq!(got.len(), 2, "{got:#?}");
        assert!(got[1]["text"].as_str().unwrap().contains("(in 33 days)"), "{:#}", got[1]);
    }
}
