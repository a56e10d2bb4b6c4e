//! Reminders and notices by email (SPEC §3.7, §9), over a real SMTP conversation with
//! aiosmtpd, the test clock moved through a certification's year: each notice on its day,
//! once, to the learner with the manager in Cc from the program's escalation offset; after downtime
//! only the latest due one. Both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_service::mail::Mailer;
use recert_testkit::{SmtpSink, StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

async fn move_clock(app: &TestApp, day: recert_domain::Date) {
    app.send(
        Method::PUT,
        "/api/v1/test-clock",
        Some(json!({"now": day.to_string()})),
        Some(&app.token),
    )
    .await
    .expect(StatusCode::OK);
}

both_backends! {
    on_test_clock async fn notices_go_out_on_their_days_once_with_the_manager_copied(app) {
        let Some(sink) = SmtpSink::start() else { return };
        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "Recert <recert@example.org>").unwrap());
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        // The manager is copied from 60 days before expiry in this program.
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"},
                           "grace_days": 30, "renewal_pathways": ["retake"], "escalation_offset_days": 60})).await;
        app.post("/api/v1/learners", json!({"username": "boss", "legal_name": "Bea Boss", "email": "bea@example.org"}))
            .await.expect(StatusCode::CREATED);
        for u in ["ana", "ben"] {
            app.post("/api/v1/learners", json!({"username": u, "legal_name": format!("Learner {u}"),
                                                 "email": format!("{u}@example.org"), "manager": "boss"}))
                .await.expect(StatusCode::CREATED);
        }
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        let grace_ends = add_days(expiry, 30);

        let run = || async {
            service.notice_pass().await.unwrap();
            service.deliver_outbox().await.unwrap();
        };
        // (day, event, offset header, manager copied)
        let expected = [
            (add_days(expiry, -90), "award.reminder", Some("90"), false),
            (add_days(expiry, -60), "award.reminder", Some("60"), true),
            (add_days(expiry, -30), "award.reminder", Some("30"), true),
            (add_days(expiry, 1), "award.expired", None, true),
            (add_days(grace_ends, -7), "award.grace_ending", None, true),
            (add_days(grace_ends, 1), "award.lapsed", None, true),
        ];
        let mut seen = 0;
        for (day, event, offset, cc) in expected {
            // The day before: nothing yet.
            move_clock(&app, add_days(day, -1)).await;
            run().await;
            assert_eq!(sink.notices().len(), seen, "nothing is due the day before {day}");
            move_clock(&app, day).await;
            run().await;
            run().await; // a second pass the same day sends nothing again
            let all = sink.notices();
            assert_eq!(all.len(), seen + 1, "one message on {day}: {all:#?}");
            let m: &Value = &all[seen];
            seen += 1;
            let h = &m["headers"];
            assert_eq!(h["X-Recert-Event"], event, "{m:#}");
            assert_eq!(h["X-Recert-Award"], id.as_str());
            assert_eq!(h["X-Recert-Offset-Days"].as_str(), offset);
            assert_eq!(m["mail_from"], "recert@example.org");
            assert!(h["To"].as_str().unwrap().contains("ana@example.org"), "{m:#}");
            let rcpt: Vec<&str> = m["rcpt_tos"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert_eq!(rcpt.contains(&"bea@example.org"), cc, "manager copied on {day}: {m:#}");
            assert_eq!(h.get("Cc").is_some(), cc);
            assert!(h["Subject"].as_str().unwrap().contains("Site safety"), "{m:#}");
            let renew = format!("{}/renew/{id}", app.base);
            let text = m["text"].as_str().unwrap();
            let html = m["html"].as_str().unwrap();
            assert!(text.contains(&renew) && text.contains("Learner ana"), "{text}");
            assert!(html.contains(&format!("href=\"{renew}\"")), "{html}");
            assert!(text.contains("Expiry date:"), "{text}");
        }

        // Down from before the 90-day reminder of ben's award until 20 days before its
        // expiry: only the 30-day reminder goes.
        move_clock(&app, add_days(expiry, 400)).await;
        let b = app.post("/api/v1/awards", json!({"learner": "ben", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let ben_expiry: recert_domain::Date = b["expires_on"].as_str().unwrap().parse().unwrap();
        move_clock(&app, add_days(ben_expiry, -20)).await;
        run().await;
        let all = sink.notices();
        assert_eq!(all.len(), seen + 1, "{all:#?}");
        assert_eq!(all[seen]["headers"]["X-Recert-Offset-Days"], "30");
        assert_eq!(all[seen]["headers"]["X-Recert-Award"], b["id"]);

        let s = app.get("/api/v1/scheduler").await.expect(StatusCode::OK);
        assert_eq!(s["outbox_pending"], 0, "{s}");
        assert_eq!(s["last_pass_at"], s["now"], "{s}");
    }
}

both_backends! {
    on_test_clock async fn a_mail_server_that_refuses_leaves_the_message_to_retry(app) {
        // Nothing listens on this port: delivery fails, the message stays pending with
        // the reason, and is tried again after its back-off (not at once).
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let service = app.service.clone()
            .with_mailer(Mailer::new(&format!("smtp://127.0.0.1:{port}?starttls=never"), "recert@example.org").unwrap());
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana", "email": "ana@example.org"}))
            .await.expect(StatusCode::CREATED);
        // Recorded after the fact (a week and more back): no "you are certified" email.
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE", "issued_on": "2027-01-01"}))
            .await.expect(StatusCode::CREATED);
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        move_clock(&app, add_days(expiry, -90)).await;
        service.notice_pass().await.unwrap();
        assert_eq!(service.deliver_outbox().await.unwrap(), 0);
        assert_eq!(app.get("/api/v1/scheduler").await.expect(StatusCode::OK)["outbox_pending"], 1);
        // Retried on the real clock's back-off: not again right away.
        assert_eq!(service.deliver_outbox().await.unwrap(), 0);
        let mut conn = app.service.store.read().await.unwrap();
        let (items, total) = recert_store::notices::recent(&mut conn, 10, 0).await.unwrap();
        assert_eq!(total, 1);
        assert_eq!(items[0].attempts, 1, "tried once, waiting for the next attempt");
        assert_eq!(items[0].state, "pending");
        assert!(items[0].last_error.as_deref().unwrap().contains(&port.to_string()), "{:?}", items[0].last_error);

        // The outbox page says so, and sends it again on request (administrators).
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (status, page) = web.get("/admin/outbox").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("1 waiting") && page.contains("award.reminder") && page.contains(&port.to_string()), "{page}");
        assert!(page.contains("ana@example.org") && page.contains("Send again"), "{page}");
        // Filtered by state with its total, sorted, exported as shown; nonsense refused.
        let (status, page) = web.get("/admin/outbox?state=pending&sort=-attempts").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Waiting (1)") && page.contains("award.reminder"), "{page}");
        let (_, page) = web.get("/admin/outbox?state=sent").await;
        assert!(page.contains("Sent (0)") && page.contains("None."), "{page}");
        let (status, csv) = web.get("/admin/outbox?state=pending&format=csv").await;
        assert_eq!(status, StatusCode::OK);
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert!(lines[0].starts_with("id,queued_at_utc,channel,event,certificate_id,state,attempts"), "{csv}");
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[1].contains(",email,award.reminder,") && lines[1].contains(",pending,1,"), "{csv}");
        let (status, _) = web.get("/admin/outbox?state=lost").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = web.get("/admin/outbox?sort=nope").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, page) = web.post(&format!("/admin/outbox/{}/resend", items[0].id), &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("queued again"), "{page}");
        let (_, again) = recert_store::notices::recent(&mut conn, 10, 0).await.unwrap();
        assert_eq!(again, 1);
        let (items, _) = recert_store::notices::recent(&mut conn, 10, 0).await.unwrap();
        assert_eq!((items[0].attempts, items[0].state.as_str()), (0, "pending"));
        let (status, _) = web.post("/admin/outbox/999999/resend", &[]).await;
        assert_eq!(status, StatusCode::CONFLICT);
        app.account("aud", "auditor", None, &[]).await;
        let (status, _) = app.web_session("aud").await.get("/admin/outbox").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

both_backends! {
    on_test_clock async fn a_notice_for_an_award_renewed_before_it_went_out_is_not_sent(app) {
        // The pass queues the 30-day reminder while no mail server is set; the learner
        // renews before one is; the reminder is then dropped, not sent, and the outbox
        // says why. The renewed award's own notices start from its issue day.
        let Some(sink) = SmtpSink::start() else { return };
        move_clock(&app, "2027-01-10".parse().unwrap()).await;
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"},
                           "renewal_pathways": ["retake"]})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana", "email": "ana@example.org"}))
            .await.expect(StatusCode::CREATED);
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        let expiry: recert_domain::Date = a["expires_on"].as_str().unwrap().parse().unwrap();
        move_clock(&app, add_days(expiry, -30)).await;
        let pass = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(pass["notices"]["sent"], 1, "{pass}");
        assert_eq!(pass["delivered"], 0, "no mail server yet: {pass}");
        app.post(&format!("/api/v1/awards/{id}/renew"), json!({"pathway": "retake", "note": "retook it"}))
            .await.expect(StatusCode::CREATED);

        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        // Only the news of the issue and of the renewal go out.
        assert_eq!(service.deliver_outbox().await.unwrap(), 2);
        assert!(sink.notices().is_empty(), "{:#?}", sink.notices());
        let events: Vec<_> = sink.messages().iter().map(|m| m["headers"]["X-Recert-Event"].as_str().unwrap().to_owned()).collect();
        assert_eq!(events, ["award.issued", "award.renewed"]);
        let mut conn = app.service.store.read().await.unwrap();
        let (items, _) = recert_store::notices::recent(&mut conn, 10, 0).await.unwrap();
        let reminder = items.iter().find(|i| i.event == "award.reminder").unwrap();
        assert_eq!(reminder.state, "cancelled");
        assert!(reminder.last_error.as_deref().unwrap().contains("renewed"), "{:?}", reminder.last_error);
        app.account("root", "admin", None, &[]).await;
        let (_, page) = app.web_session("root").await.get("/admin/outbox").await;
        assert!(page.contains("not sent") && page.contains("renewed, revoked or unassigned"), "{page}");
        assert!(!page.contains("Send again"), "{page}");
        assert_eq!(app.get("/api/v1/scheduler").await.expect(StatusCode::OK)["outbox_pending"], 0);
    }
}

both_backends! {
    on_test_clock async fn learners_hear_of_a_new_certificate_and_of_its_revocation(app) {
        let Some(sink) = SmtpSink::start() else { return };
        move_clock(&app, "2027-01-10".parse().unwrap()).await;
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"}})).await;
        app.post("/api/v1/learners", json!({"username": "ana", "legal_name": "Ana Lee", "email": "ana@example.org"}))
            .await.expect(StatusCode::CREATED);
        app.post("/api/v1/learners", json!({"username": "old", "legal_name": "Old Record", "email": "old@example.org"}))
            .await.expect(StatusCode::CREATED);
        let a = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE"})).await.expect(StatusCode::CREATED);
        let id = a["id"].as_str().unwrap().to_owned();
        // A record from last year is not news.
        app.post("/api/v1/awards", json!({"learner": "old", "program": "SAFE", "issued_on": "2026-02-01"})).await.expect(StatusCode::CREATED);
        app.post(&format!("/api/v1/awards/{id}/revoke"), json!({"reason": "exam irregularity", "category": "misconduct"}))
            .await.expect(StatusCode::OK);
        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        assert_eq!(service.deliver_outbox().await.unwrap(), 2);
        let all = sink.messages();
        let (issued, revoked) = (&all[0], &all[1]);
        assert_eq!(issued["rcpt_tos"], json!(["ana@example.org"]));
        assert_eq!(issued["headers"]["X-Recert-Event"], "award.issued");
        assert_eq!(issued["headers"]["X-Recert-Award"], id.as_str());
        assert_eq!(issued["headers"]["Subject"], "You are certified: Site safety");
        let text = issued["text"].as_str().unwrap();
        assert!(text.contains("issued on 10 January 2027") && text.contains("valid until 10 January 2028"), "{text}");
        assert!(text.contains(&format!("{}/awards/{id}", app.base)) && text.contains(&format!("/verify/{id}")), "{text}");
        assert!(issued["html"].as_str().unwrap().contains(&format!("href=\"{}/awards/{id}\"", app.base)), "{issued:#}");
        assert_eq!(revoked["headers"]["X-Recert-Event"], "award.revoked");
        let text = revoked["text"].as_str().unwrap();
        assert!(text.contains("was revoked (misconduct)") && !text.contains("exam irregularity"), "the category, not the reason: {text}");
    }
}
