//! Message templates (SPEC §3.7): the organization's wording of each email and a program's
//! own, edited through the API and the pages with a preview, used by what goes out over
//! a real SMTP conversation, checked at every edge, audited. Both databases.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_domain::dates::add_days;
use recert_service::mail::Mailer;
use recert_testkit::{SmtpSink, StatusCode, TestApp, both_backends, error_beside};
use reqwest::Method;
use serde_json::{Value, json};

async fn put(app: &TestApp, path: &str, body: Value, token: &str) -> recert_testkit::Response {
    app.send(Method::PUT, path, Some(body), Some(token)).await
}

both_backends! {
    on_test_clock async fn reminders_go_out_in_the_wording_of_their_program_else_the_organization(app) {
        let Some(sink) = SmtpSink::start() else { return };
        let service = app.service.clone().with_mailer(Mailer::new(&sink.url(), "recert@example.org").unwrap());
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": "2027-01-10"})), Some(&app.token)).await.expect(StatusCode::OK);
        for (code, name) in [("SAFE", "Site safety"), ("FORK", "Forklift operation")] {
            app.program(json!({"code": code, "name": name, "validity": {"count": 1, "unit": "years"},
                               "renewal_pathways": ["retake"], "reminder_offsets_days": [30]})).await;
        }
        let mut ids = Vec::new();
        for (u, program) in [("ana", "SAFE"), ("ben", "FORK")] {
            app.post("/api/v1/learners", json!({"username": u, "legal_name": format!("Learner {u}"), "email": format!("{u}@example.org")}))
                .await.expect(StatusCode::CREATED);
            let a = app.post("/api/v1/awards", json!({"learner": u, "program": program, "issued_on": "2026-12-01"}))
                .await.expect(StatusCode::CREATED);
            ids.push((a["id"].as_str().unwrap().to_owned(), a["expires_on"].as_str().unwrap().parse::<recert_domain::Date>().unwrap()));
        }

        // Nothing written yet: every message in recert's wording.
        let all = app.get("/api/v1/message-templates").await.expect(StatusCode::OK);
        let items = all["items"].as_array().unwrap();
        assert_eq!(items.len(), 11, "{all:#}");
        assert!(items.iter().all(|t| t["source"] == "built_in"), "{all:#}");
        let reminder = items.iter().find(|t| t["event"] == "award.reminder").unwrap();
        assert!(reminder["shortcodes"].as_array().unwrap().contains(&json!("renew_link")), "{reminder}");
        // A program lists only what it may word itself: not the weekly digest.
        let safe = app.get("/api/v1/programs/SAFE/message-templates").await.expect(StatusCode::OK);
        assert_eq!(safe["items"].as_array().unwrap().len(), 10);

        // The organization's reminder, then SAFE's own.
        let org = put(&app, "/api/v1/message-templates/award.reminder", json!({
            "subject": "  Org reminder: [certification_name] in [days_left] days ",
            "body": "Dear [learner_name],\r\n\r\nPlease renew: [renew_link]\r\nThe organization"}), &app.token).await.expect(StatusCode::OK);
        assert_eq!(org["source"], "organization");
        assert_eq!(org["subject"], "Org reminder: [certification_name] in [days_left] days", "trimmed: {org}");
        assert_eq!(org["body"], "Dear [learner_name],\n\nPlease renew: [renew_link]\nThe organization");
        assert!(org["updated_by"].as_str().unwrap().contains("test-admin"), "{org}");
        let own = put(&app, "/api/v1/programs/SAFE/message-templates/award.reminder", json!({
            "subject": "[certification_code]: [expiry_phrase]",
            "body": "Hi [learner_name] <3\n\nOffset [offset_days]. Renew: [renew_link]"}), &app.token).await.expect(StatusCode::OK);
        assert_eq!(own["source"], "program");
        assert_eq!(own["program"], "SAFE");
        let fork = app.get("/api/v1/programs/FORK/message-templates/award.reminder").await.expect(StatusCode::OK);
        assert_eq!((fork["source"].as_str(), fork["subject"].as_str()), (Some("organization"), org["subject"].as_str()));

        // The 30-day reminders go out in those words.
        let (expiry, _) = (ids[0].1, ids[1].1);
        app.send(Method::PUT, "/api/v1/test-clock", Some(json!({"now": add_days(expiry, -30).to_string()})), Some(&app.token))
            .await.expect(StatusCode::OK);
        service.notice_pass().await.unwrap();
        service.deliver_outbox().await.unwrap();
        let sent = sink.notices();
        assert_eq!(sent.len(), 2, "{sent:#?}");
        let of = |id: &str| sent.iter().find(|m| m["headers"]["X-Recert-Award"] == id).unwrap().clone();
        let (ana, ben) = (of(&ids[0].0), of(&ids[1].0));
        let day = expiry.strftime("%-d %B %Y").to_string();
        assert_eq!(ana["headers"]["Subject"], format!("SAFE: expires on {day} (30 days left)"));
        let text = &ana["text"].as_str().unwrap().replace("\r\n", "\n");
        let renew = format!("{}/renew/{}", app.base, ids[0].0);
        assert_eq!(*text, format!("Hi Learner ana <3\n\nOffset 30. Renew: {renew}\n"));
        let html = ana["html"].as_str().unwrap();
        assert!(html.contains(&format!("<p>Hi Learner ana &lt;3</p><p>Offset 30. Renew: <a href=\"{renew}\">{renew}</a></p>")), "{html}");
        assert_eq!(ana["headers"]["X-Recert-Offset-Days"], "30");
        assert_eq!(ben["headers"]["Subject"], "Org reminder: Forklift operation in 30 days");
        assert!(ben["text"].as_str().unwrap().starts_with("Dear Learner ben,\r\n\r\nPlease renew: "), "{ben:#}");

        // Removing SAFE's own: it takes the organization's again; removing that: recert's.
        let back = app.delete("/api/v1/programs/SAFE/message-templates/award.reminder").await.expect(StatusCode::OK);
        assert_eq!(back["source"], "organization");
        let back = app.delete("/api/v1/message-templates/award.reminder").await.expect(StatusCode::OK);
        assert_eq!(back["source"], "built_in");
        assert!(back["subject"].as_str().unwrap().starts_with("Reminder: "), "{back}");
        let again = app.delete("/api/v1/message-templates/award.reminder").await.expect(StatusCode::OK);
        assert_eq!(again["source"], "built_in", "resetting twice is harmless");

        // Each change is in the audit trail with what the wording was.
        app.account("root", "admin", None, &[]).await;
        let (_, audit) = app.web_session("root").await.get("/audit").await;
        assert!(audit.contains("message_template.changed") && audit.contains("message_template.reset"), "{audit}");
    }
}

both_backends! {
    async fn templates_are_checked_at_every_edge(app) {
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"}})).await;
        let path = "/api/v1/programs/SAFE/message-templates/award.issued";
        // A misspelt shortcode, a shortcode of another message, a two-line subject, NUL
        // (which PostgreSQL would refuse), nothing at all, too long: each named.
        let p = put(&app, path, json!({"subject": "Hi", "body": "Dear [learner_nme]"}), &app.token).await.invalid_field("body");
        assert!(p.to_string().contains("[learner_nme] is not a shortcode"), "{p}");
        put(&app, path, json!({"subject": "Hi", "body": "[team_list]"}), &app.token).await.invalid_field("body");
        put(&app, path, json!({"subject": "one\ntwo", "body": "x"}), &app.token).await.invalid_field("subject");
        put(&app, path, json!({"subject": "Hi", "body": "nul \u{0} here"}), &app.token).await.invalid_field("body");
        let p = put(&app, path, json!({}), &app.token).await.invalid_field("subject");
        assert!(p.to_string().contains("\"body\""), "both fields at once: {p}");
        put(&app, path, json!({"subject": "x".repeat(201), "body": "x"}), &app.token).await.invalid_field("subject");
        put(&app, path, json!({"subject": "Hi", "body": "x".repeat(10_001)}), &app.token).await.invalid_field("body");
        put(&app, path, json!({"subject": "Hi", "body": "x", "html": "<b>"}), &app.token).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        put(&app, path, json!({"subject": 7, "body": "x"}), &app.token).await.problem(StatusCode::UNPROCESSABLE_ENTITY);
        let raw = app.send_raw(Method::PUT, path, "application/json", b"{\"subject\": ".to_vec()).await;
        assert!(raw.status.is_client_error(), "{}", raw.text);
        // Nothing was stored by any of those.
        let t = app.get(path).await.expect(StatusCode::OK);
        assert_eq!(t["source"], "built_in");
        // Unknown messages and programs, and the digest per program, are not there.
        app.get("/api/v1/message-templates/award.nope").await.problem(StatusCode::NOT_FOUND);
        app.get("/api/v1/programs/NOPE/message-templates/award.issued").await.problem(StatusCode::NOT_FOUND);
        app.get("/api/v1/programs/SAFE/message-templates/digest.manager").await.problem(StatusCode::NOT_FOUND);
        app.get("/api/v1/message-templates/digest.manager").await.expect(StatusCode::OK);
        app.get("/api/v1/message-templates/%00").await.problem(StatusCode::BAD_REQUEST);

        // A preview fills a draft with example values, checked as saving would; brackets
        // that are no shortcode are text.
        let p = app.post("/api/v1/programs/SAFE/message-templates/award.issued/preview",
                         json!({"subject": "For [learner_name] [Ref 7]", "body": "[certification_name] <b>[validity]</b>\n\nSee [verify_link]"}))
            .await.expect(StatusCode::OK);
        assert_eq!(p["subject"], "For Alex Example [Ref 7]");
        assert!(p["text"].as_str().unwrap().starts_with("Site safety <b>It is valid until "), "{p}");
        assert!(p["html"].as_str().unwrap().contains("Site safety &lt;b&gt;It is valid"), "{p}");
        assert!(p["html"].as_str().unwrap().contains(&format!("<a href=\"{}/verify/EXAMPLE-0000-0000\">", app.base)), "{p}");
        app.post("/api/v1/programs/SAFE/message-templates/award.issued/preview", json!({"subject": "", "body": "[nope]"}))
            .await.invalid_field("body");
        let current = app.get("/api/v1/message-templates/digest.manager/preview").await.expect(StatusCode::OK);
        assert_eq!(current["subject"], "Your team: 2 certifications to renew");
        assert!(current["text"].as_str().unwrap().contains("- Alex Example: Site safety (SAFE) expires on "), "{current}");

        // Who may: a program's managers for theirs, administrators for all; no one else.
        app.program(json!({"code": "FORK", "name": "Forklift", "validity": {"count": 1, "unit": "years"}})).await;
        let pm = app.user_token("pm", "program_manager", None, &["SAFE"]).await;
        let body = json!({"subject": "Hi [learner_name]", "body": "Welcome"});
        put(&app, path, body.clone(), &pm).await.expect(StatusCode::OK);
        put(&app, "/api/v1/programs/FORK/message-templates/award.issued", body.clone(), &pm).await.problem(StatusCode::FORBIDDEN);
        put(&app, "/api/v1/message-templates/award.issued", body.clone(), &pm).await.problem(StatusCode::FORBIDDEN);
        app.send(Method::GET, "/api/v1/message-templates", None, Some(&pm)).await.problem(StatusCode::FORBIDDEN);
        let aud = app.user_token("aud", "auditor", None, &[]).await;
        app.send(Method::GET, "/api/v1/programs/SAFE/message-templates", None, Some(&aud)).await.problem(StatusCode::FORBIDDEN);
        app.send(Method::GET, "/api/v1/programs/SAFE/message-templates", None, None).await.problem(StatusCode::UNAUTHORIZED);
    }
}

both_backends! {
    async fn messages_are_worded_and_previewed_on_their_pages(app) {
        app.program(json!({"code": "SAFE", "name": "Site safety", "validity": {"count": 1, "unit": "years"}})).await;
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let (status, page) = web.get("/admin/messages").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("11 messages") && page.contains("Renewal reminder") && page.contains("recert's default wording"), "{page}");
        let (status, page) = web.get("/admin/messages/award.issued").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("id=\"preview-subject\">You are certified: Site safety<"), "the preview of what goes out now: {page}");
        assert!(page.contains("<code>[validity]</code>"), "the shortcodes it may use: {page}");

        // A mistake is shown beside its field, with what was typed kept.
        let (status, page) = web.post("/admin/messages/award.issued", &[("subject", "Hi [learner_name]"), ("body", "Dear [learner_nme]"), ("action", "preview")]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(error_beside(&page, "body").unwrap().starts_with("[learner_nme] is not a shortcode"), "{page}");
        assert!(page.contains("Dear [learner_nme]</textarea>"), "{page}");
        // A preview of a draft, not saved.
        let (status, page) = web.post("/admin/messages/award.issued", &[("subject", "Hi [learner_name]"), ("body", "Dear [learner_name]"), ("action", "preview")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("not saved yet") && page.contains("id=\"preview-subject\">Hi Alex Example<"), "{page}");
        assert_eq!(app.get("/api/v1/message-templates/award.issued").await.expect(StatusCode::OK)["source"], "built_in");
        // Saved.
        let (status, page) = web.post("/admin/messages/award.issued", &[("subject", "Hi [learner_name]"), ("body", "Dear [learner_name]"), ("action", "save")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Saved") && page.contains("Written here"), "{page}");
        let t = app.get("/api/v1/message-templates/award.issued").await.expect(StatusCode::OK);
        assert_eq!((t["subject"].as_str(), t["body"].as_str()), (Some("Hi [learner_name]"), Some("Dear [learner_name]")));

        // A program manager words their program's message from its page.
        app.account("pm", "program_manager", None, &["SAFE"]).await;
        let pmw = app.web_session("pm").await;
        let (status, page) = pmw.get("/programs/SAFE/messages").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("10 messages") && page.contains("The organization&#39;s wording (for every program)"), "{page}");
        let (status, page) = pmw.post("/programs/SAFE/messages/award.issued", &[("subject", "SAFE: [certification_name]"), ("body", "Well done"), ("action", "save")]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Written for this program") && page.contains("Use the organization"), "{page}");
        assert_eq!(app.get("/api/v1/programs/SAFE/message-templates/award.issued").await.expect(StatusCode::OK)["source"], "program");
        let (status, _) = pmw.get("/admin/messages").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, page) = pmw.post("/programs/SAFE/messages/award.issued/reset", &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Reset") && page.contains("id=\"preview-subject\">Hi Alex Example<"), "{page}");
        let (status, _) = pmw.get("/programs/SAFE/messages/digest.manager").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
