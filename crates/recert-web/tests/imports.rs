#![allow(clippy::unwrap_used)]
//! Imports (issue 15): certification records in the Docebo column set and people, through
//! `POST /api/v1/imports`, run as jobs; the per-row report; dry runs; the chain rules
//! against existing awards; charsets, separators and column mappings; one audit event per
//! job. Every test runs on SQLite and PostgreSQL.

use recert_testkit::{StatusCode, TestApp, both_backends};
use reqwest::Method;
use serde_json::{Value, json};

const HEADER: &str =
    "username,certification_code,certification_issue_date,always_valid,certification_expire_date\n";

/// SAFE: valid a year, renewal window 30 days, grace 30 days, reminders 30 and 7 days
/// before expiry.
async fn seed(app: &TestApp) {
    app.program(json!({
        "code": "SAFE", "name": "Site Safety", "validity": {"count": 1, "unit": "years"},
        "renewal_window_days": 30, "grace_days": 30, "reminder_offsets_days": [30, 7]
    }))
    .await;
}

/// Posts an import (the settings as form fields) and answers the response.
async fn upload(
    app: &TestApp,
    file: Vec<u8>,
    fields: &[(&str, &str)],
    token: Option<&str>,
) -> recert_testkit::Response {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name("records.csv"),
    );
    let res = app
        .client
        .post(format!("{}/api/v1/imports", app.base))
        .bearer_auth(token.unwrap_or(&app.token))
        .multipart(form)
        .send()
        .await
        .unwrap();
    recert_testkit::Response::from(res).await
}

/// Uploads, runs the queued jobs as the server's runner does, and answers the finished job.
async fn import(app: &TestApp, file: &str, fields: &[(&str, &str)]) -> Value {
    import_bytes(app, file.as_bytes().to_vec(), fields).await
}

async fn import_bytes(app: &TestApp, file: Vec<u8>, fields: &[(&str, &str)]) -> Value {
    let queued = upload(app, file, fields, None)
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(queued["state"], "queued", "{queued}");
    app.service.run_import_jobs("test").await.unwrap();
    let job = app
        .get(&format!("/api/v1/imports/{}", queued["job"]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(job["state"], "done", "{job}");
    job
}

async fn errors_csv(app: &TestApp, job: &Value) -> String {
    let res = app.get(job["errors_url"].as_str().unwrap()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(
        res.content_type.starts_with("text/csv"),
        "{}",
        res.content_type
    );
    res.text
}

async fn award_of(app: &TestApp, learner: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/awards?learner={learner}&program=SAFE"))
        .await
        .expect(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn audit_count(app: &TestApp, action: &str) -> usize {
    app.get(&format!("/api/v1/audit?action={action}&limit=500"))
        .await
        .expect(StatusCode::OK)["items"]
        .as_array()
        .unwrap()
        .len()
}

both_backends! {
    async fn a_docebo_file_imports_with_the_right_statuses_one_audit_event_and_no_stale_reminders(app) {
        seed(&app).await;
        // Ben and Eve exist (with e-mail addresses); the others are created by the import.
        for u in ["ben", "eve"] {
            app.post("/api/v1/learners", json!({"username": u, "legal_name": u, "email": format!("{u}@example.org")}))
                .await
                .expect(StatusCode::CREATED);
        }
        let events_before = app.get("/api/v1/audit?limit=500").await.expect(StatusCode::OK)["items"].as_array().unwrap().len();
        // Today is 2027-06-15.
        let file = format!(
            "{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\n\
             ben,SAFE,2026-06-01,0,2027-06-01\n\
             cy,safe,2024-01-01,false,2025-01-01\n\
             dee,SAFE,2020-03-01,1,\n\
             eve,SAFE,2026-07-01 00:00:00,0,2027-07-01\n\
             fay,SAFE,2027-06-20,0,\n"
        );
        let job = import(&app, &file, &[]).await;
        assert_eq!((job["rows_total"].as_i64(), job["imported"].as_i64(), job["rejected"].as_i64(), job["learners_created"].as_i64()),
            (Some(6), Some(6), Some(0), Some(4)), "{job}");
        assert_eq!(job["percent"], 100);
        assert_eq!(job["file_sha256"].as_str().unwrap().len(), 64);
        for (who, status, expires) in [
            ("ana", "active", Some("2028-01-10")),
            ("ben", "grace", Some("2027-06-01")),
            ("cy", "lapsed", Some("2025-01-01")),
            ("dee", "active", None),
            ("eve", "expiring", Some("2027-07-01")),
            // No expiry in the file: the program's validity from the issue date.
            ("fay", "not_yet_valid", Some("2028-06-20")),
        ] {
            let a = &award_of(&app, who).await[0];
            assert_eq!((a["status"].as_str(), a["expires_on"].as_str()), (Some(status), expires), "{who}: {a}");
            assert_eq!(a["association"], "import");
            let line = ["ana", "ben", "cy", "dee", "eve", "fay"].iter().position(|w| w == &who).unwrap() + 2;
            assert_eq!(a["source_ref"], format!("import:{}:{line}", job["job"]), "{a}");
        }
        // One audit event for the whole job; the trail still verifies.
        assert_eq!(audit_count(&app, "import.completed").await, 1);
        let events_after = app.get("/api/v1/audit?limit=500").await.expect(StatusCode::OK)["items"].as_array().unwrap().len();
        assert_eq!(events_after, events_before + 1);
        let ev = &app.get("/api/v1/audit?action=import.completed").await.expect(StatusCode::OK)["items"][0];
        let after = &ev["after"];
        assert_eq!(after["file_sha256"], job["file_sha256"], "{ev}");
        assert_eq!(after["counts"]["imported"], 6, "{ev}");
        assert_eq!(after["settings"]["create_learners"], true, "{ev}");
        assert!(matches!(app.service.verify_audit(&recert_service::Principal::system()).await.unwrap(),
            recert_service::audit_log::Verdict::Intact { .. }));
        // The scheduler's next pass sends nothing for these backdated records: ben's
        // expiry notice and eve's 30-day reminder fell before the import.
        let run = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(run["notices"]["sent"], 0, "{run}");
        // The next notices come on their day (2027-06-24): Eve's 7-day reminder and "grace
        // ends in 7 days" for Ben — one each, the earlier ones skipped.
        app.set_time("2027-06-24T12:00:00Z");
        let run = app.post("/api/v1/scheduler/run", json!({})).await.expect(StatusCode::OK);
        assert_eq!(run["notices"]["sent"], 2, "{run}");
    }
}

both_backends! {
    async fn bad_rows_are_reported_by_row_and_column_and_nothing_wrong_is_imported(app) {
        seed(&app).await;
        let mut file = HEADER.as_bytes().to_vec();
        file.extend_from_slice(b"ana,SAFE,2027-02-30,0,2028-02-28\n"); // 2: impossible date
        file.extend_from_slice(b"ben,NOPE,2027-01-01,0,2028-01-01\n"); // 3: unknown program
        file.extend_from_slice(b"cy,SAFE,2027-01-01,0,2028-01-01\n"); // 4: duplicate of 6
        file.extend_from_slice(b"d\xe9e,SAFE,2027-01-01,0,2028-01-01\n"); // 5: not UTF-8
        file.extend_from_slice(b"cy,SAFE,2027-02-01,0,2028-02-01\n"); // 6: duplicate of 4
        file.extend_from_slice(b"eve,SAFE,2027-03-01,0,2026-03-01\n"); // 7: expiry before issue
        file.extend_from_slice(b"fay,SAFE,2027-03-01,maybe,2028-03-01\n"); // 8: bad flag
        file.extend_from_slice(b"gus,SAFE,2027-03-01,0,2028-03-01\n"); // 9: good
        file.extend_from_slice(b"hal,SAFE,03/01/2027,0,2028-03-01\n"); // 10: not ISO
        file.extend_from_slice(b"n\x00l,SAFE,2027-03-01,0,2028-03-01\n"); // 11: NUL (PostgreSQL refuses it)
        let job = import_bytes(&app, file, &[("charset", "utf-8")]).await;
        assert_eq!((job["imported"].as_i64(), job["rejected"].as_i64()), (Some(1), Some(9)), "{job}");
        let csv = errors_csv(&app, &job).await;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "row,column,value,reason");
        let row = |n: &str, col: &str| lines.iter().find(|l| l.starts_with(&format!("{n},{col},"))).copied()
            .unwrap_or_else(|| panic!("no error for row {n} column {col} in:\n{csv}"));
        assert!(row("2", "certification_issue_date").contains("not a real calendar date"), "{csv}");
        assert!(row("3", "certification_code").contains("no program has this code"), "{csv}");
        assert!(row("4", "username").contains("row 6"), "{csv}");
        assert!(row("6", "username").contains("row 4"), "{csv}");
        assert!(row("5", "username").contains("not valid UTF-8"), "{csv}");
        assert!(row("7", "certification_expire_date").contains("2026-03-01"), "{csv}");
        assert!(row("8", "always_valid").contains("maybe"), "{csv}");
        assert!(row("10", "certification_issue_date").contains("YYYY-MM-DD"), "{csv}");
        assert!(row("11", "username").contains("control character"), "{csv}");
        // Only the good row's learner and award exist.
        for who in ["ana", "ben", "cy", "eve", "fay", "hal"] {
            assert_eq!(app.get(&format!("/api/v1/learners/{who}")).await.status, StatusCode::NOT_FOUND, "{who}");
        }
        assert_eq!(award_of(&app, "gus").await.len(), 1);

        // "Keep last duplicate": the later row wins, the earlier is noted, not rejected.
        let file = format!("{HEADER}cy,SAFE,2027-01-01,0,2028-01-01\nzed,SAFE,2027-01-01,0,2028-01-01\ncy,SAFE,2027-02-01,0,2028-02-01\n");
        let job = import(&app, &file, &[("keep_last_duplicate", "true")]).await;
        assert_eq!((job["imported"].as_i64(), job["rejected"].as_i64(), job["skipped"].as_i64()), (Some(2), Some(0), Some(1)), "{job}");
        assert_eq!(award_of(&app, "cy").await[0]["issued_on"], "2027-02-01");
        let report = app.get(job["report_url"].as_str().unwrap()).await.text;
        assert!(report.lines().any(|l| l.starts_with("2,username,cy,") && l.contains("row 4") && l.ends_with(",note")), "{report}");
    }
}

both_backends! {
    async fn a_dry_run_reports_everything_and_changes_nothing_then_runs_for_real(app) {
        seed(&app).await;
        app.learner("ana").await;
        let file = format!("{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\nben,SAFE,2027-01-10,0,2028-01-10\nben2,SAFE,bad,0,\n");
        let dry = import(&app, &file, &[("dry_run", "true")]).await;
        assert_eq!(dry["dry_run"], true);
        assert_eq!((dry["imported"].as_i64(), dry["rejected"].as_i64(), dry["learners_created"].as_i64()), (Some(2), Some(1), Some(1)), "{dry}");
        assert_eq!(app.get("/api/v1/learners/ben").await.status, StatusCode::NOT_FOUND);
        assert!(award_of(&app, "ana").await.is_empty());
        assert_eq!(audit_count(&app, "import.completed").await, 0);
        assert!(errors_csv(&app, &dry).await.contains("4,certification_issue_date,bad,"));
        // The same file, for real.
        let real = app.post(&format!("/api/v1/imports/{}/run", dry["job"]), json!({})).await.expect(StatusCode::ACCEPTED);
        assert_ne!(real["job"], dry["job"]);
        app.service.run_import_jobs("test").await.unwrap();
        let real = app.get(&format!("/api/v1/imports/{}", real["job"])).await.expect(StatusCode::OK);
        assert_eq!((real["state"].as_str(), real["dry_run"].as_bool(), real["imported"].as_i64()), (Some("done"), Some(false), Some(2)), "{real}");
        assert_eq!(real["file_sha256"], dry["file_sha256"]);
        assert_eq!(award_of(&app, "ben").await.len(), 1);
        // A real run is not run again.
        app.post(&format!("/api/v1/imports/{}/run", real["job"]), json!({})).await.problem(StatusCode::CONFLICT);
    }
}

both_backends! {
    async fn existing_awards_follow_the_chain_rules_and_a_second_import_changes_nothing(app) {
        seed(&app).await;
        for u in ["ana", "ben"] {
            app.learner(u).await;
        }
        let ana_old = app.post("/api/v1/awards", json!({"learner": "ana", "program": "SAFE", "issued_on": "2027-01-01"})).await.expect(StatusCode::CREATED);
        let ben_cur = app.post("/api/v1/awards", json!({"learner": "ben", "program": "SAFE", "issued_on": "2027-05-01"})).await.expect(StatusCode::CREATED);
        let file = format!(
            "{HEADER}ana,SAFE,2027-05-01,0,2028-05-01\nben,SAFE,2026-05-01,0,2027-05-01\nben,SAFE,2027-05-01,0,2028-05-01\n"
        );
        // Ben's rows 3 and 4 are duplicates: keep the last, the same record ben holds.
        let job = import(&app, &file, &[("create_learners", "false"), ("keep_last_duplicate", "true")]).await;
        assert_eq!((job["imported"].as_i64(), job["superseded"].as_i64(), job["skipped"].as_i64()), (Some(1), Some(1), Some(2)), "{job}");
        let ana = award_of(&app, "ana").await;
        let current: Vec<&Value> = ana.iter().filter(|a| a["status"] == "active").collect();
        assert_eq!(current.len(), 1, "{ana:?}");
        assert_eq!(current[0]["issued_on"], "2027-05-01");
        assert_eq!(current[0]["predecessor"], ana_old["id"], "{ana:?}");
        let old = app.get(&format!("/api/v1/awards/{}", ana_old["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(old["status"], "superseded", "{old}");

        // An older record becomes history behind the current award.
        let job = import(&app, &format!("{HEADER}ben,SAFE,2026-05-01,0,2027-05-01\n"), &[]).await;
        assert_eq!((job["imported"].as_i64(), job["history"].as_i64()), (Some(1), Some(1)), "{job}");
        let ben = award_of(&app, "ben").await;
        assert_eq!(ben.len(), 2);
        let still = app.get(&format!("/api/v1/awards/{}", ben_cur["id"].as_str().unwrap())).await.expect(StatusCode::OK);
        assert_eq!(still["status"], "active");
        let report = app.get(job["report_url"].as_str().unwrap()).await.text;
        assert!(report.contains("kept as history"), "{report}");

        // The same file again: every row is already held.
        let again = import(&app, &format!("{HEADER}ben,SAFE,2026-05-01,0,2027-05-01\n"), &[]).await;
        assert_eq!(again["imported"], 0, "{again}");
        let again = import(&app, &format!("{HEADER}ana,SAFE,2027-05-01,0,2028-05-01\n"), &[]).await;
        assert_eq!((again["imported"].as_i64(), again["skipped"].as_i64()), (Some(0), Some(1)), "{again}");

        // Unknown learners refused when the import may not create them.
        let job = import(&app, &format!("{HEADER}nobody,SAFE,2027-05-01,0,2028-05-01\n"), &[("create_learners", "false")]).await;
        assert!(errors_csv(&app, &job).await.contains("2,username,nobody,\"no learner has this username"));
    }
}

both_backends! {
    async fn charsets_separators_and_column_mappings(app) {
        seed(&app).await;
        // Windows-1252, semicolons, other headings mapped, a legal name with an accent.
        let mut file = b"Login;Cert;Issued;Forever;Expires;Name\r\n".to_vec();
        file.extend_from_slice(b"jose;SAFE;2027-01-10;0;2028-01-10;Jos\xe9 Mu\xf1oz\r\n");
        let mapping = json!({"username": "Login", "certification_code": "Cert", "certification_issue_date": "Issued",
            "always_valid": "Forever", "certification_expire_date": "Expires", "legal_name": "Name"}).to_string();
        let job = import_bytes(&app, file, &[("mapping", &mapping)]).await;
        assert_eq!(job["imported"], 1, "{job}");
        let jose = app.get("/api/v1/learners/jose").await.expect(StatusCode::OK);
        assert_eq!(jose["legal_name"], "José Muñoz");

        // UTF-16 with a byte-order mark, tab-separated, Greek.
        let text = "username\tcertification_code\tcertification_issue_date\talways_valid\tcertification_expire_date\tlegal_name\n\
                    eleni\tSAFE\t2027-01-10\t0\t2028-01-10\tΕλένη Παπαδοπούλου\n";
        let mut bytes = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let job = import_bytes(&app, bytes, &[]).await;
        assert_eq!(job["imported"], 1, "{job}");
        assert_eq!(app.get("/api/v1/learners/eleni").await.expect(StatusCode::OK)["legal_name"], "Ελένη Παπαδοπούλου");

        // UTF-8 with a byte-order mark; a course code with a backslash, `\N` (PostgreSQL's
        // COPY null) and a tab comes through as it was.
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(
            "username,certification_code,certification_issue_date,always_valid,certification_expire_date,course_code\n\
             zoe,SAFE,2027-01-10,0,2028-01-10,\"C:\\dir\\N\tx\"\n"
                .as_bytes(),
        );
        assert_eq!(import_bytes(&app, bytes, &[]).await["imported"], 1);
        let zoe = award_of(&app, "zoe").await;
        assert_eq!(zoe[0]["fields"]["course_code"], "C:\\dir\\N\tx", "{zoe:?}");
    }
}

both_backends! {
    async fn a_file_or_form_that_cannot_run_is_refused_at_once(app) {
        seed(&app).await;
        let p = upload(&app, b"user,code\nana,SAFE\n".to_vec(), &[], None).await.invalid_field("file");
        assert!(p.to_string().contains("certification_code"), "{p}");
        upload(&app, Vec::new(), &[], None).await.invalid_field("file");
        upload(&app, HEADER.as_bytes().to_vec(), &[("charset", "ebcdic")], None).await.invalid_field("charset");
        upload(&app, HEADER.as_bytes().to_vec(), &[("separator", "x")], None).await.invalid_field("separator");
        upload(&app, HEADER.as_bytes().to_vec(), &[("mapping", "[1]")], None).await.invalid_field("mapping");
        upload(&app, HEADER.as_bytes().to_vec(), &[("mapping", r#"{"nope": "x"}"#)], None).await.invalid_field("mapping");
        upload(&app, HEADER.as_bytes().to_vec(), &[("kind", "programs")], None).await.invalid_field("kind");
        upload(&app, HEADER.as_bytes().to_vec(), &[("colour", "red")], None).await.invalid_field("colour");
        // No file at all.
        let res = app.client.post(format!("{}/api/v1/imports", app.base)).bearer_auth(&app.token)
            .multipart(reqwest::multipart::Form::new().text("kind", "awards")).send().await.unwrap();
        recert_testkit::Response::from(res).await.invalid_field("file");
        // Not multipart.
        assert_eq!(app.post("/api/v1/imports", json!({})).await.status.as_u16() / 100, 4);
        // Roles: a learner may not import; a program manager may not import people.
        app.learner("lena").await;
        let learner = app.user_token("lena", "learner", Some("lena"), &[]).await;
        upload(&app, HEADER.as_bytes().to_vec(), &[], Some(&learner)).await.problem(StatusCode::FORBIDDEN);
        let pm = app.user_token("pat", "program_manager", None, &["SAFE"]).await;
        upload(&app, b"username\nx\n".to_vec(), &[("kind", "learners")], Some(&pm)).await.problem(StatusCode::FORBIDDEN);
        // An unknown job, and someone else's job for a program manager, are 404.
        app.get("/api/v1/imports/12345").await.problem(StatusCode::NOT_FOUND);
        let mine = upload(&app, format!("{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\n").into_bytes(), &[], None).await.expect(StatusCode::ACCEPTED);
        app.send(Method::GET, &format!("/api/v1/imports/{}", mine["job"]), None, Some(&pm)).await.problem(StatusCode::NOT_FOUND);
        // None of the refused uploads left a job behind.
        let jobs = app.get("/api/v1/imports").await.expect(StatusCode::OK);
        assert_eq!(jobs.as_array().unwrap().len(), 1, "{jobs}");
    }
}

both_backends! {
    async fn a_program_manager_imports_only_their_programs(app) {
        seed(&app).await;
        app.program(json!({"code": "FORK", "name": "Forklift", "validity": {"count": 2, "unit": "years"}})).await;
        let pm = app.user_token("pat", "program_manager", None, &["SAFE"]).await;
        let file = format!("{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\nana,FORK,2027-01-10,0,2029-01-10\n");
        let queued = upload(&app, file.into_bytes(), &[], Some(&pm)).await.expect(StatusCode::ACCEPTED);
        app.service.run_import_jobs("test").await.unwrap();
        let job = app.send(Method::GET, &format!("/api/v1/imports/{}", queued["job"]), None, Some(&pm)).await.expect(StatusCode::OK);
        assert_eq!((job["imported"].as_i64(), job["rejected"].as_i64()), (Some(1), Some(1)), "{job}");
        let res = app.send(Method::GET, job["errors_url"].as_str().unwrap(), None, Some(&pm)).await;
        assert!(res.text.contains("3,certification_code,FORK,you may not award program FORK"), "{}", res.text);
    }
}

both_backends! {
    async fn people_import_creates_and_updates_learners_with_managers_groups_and_attributes(app) {
        app.post("/api/v1/groups", json!({"name": "Site B", "kind": "site"})).await.expect(StatusCode::CREATED);
        app.post("/api/v1/groups", json!({"name": "Night shift", "kind": "team"})).await.expect(StatusCode::CREATED);
        app.learner("old").await;
        let file = "username,legal_name,email,manager,groups,attr:role,ext:hr\n\
                    ana,Ana Silva,ana@example.org,boss,Site B|Night shift,Operator,E1\n\
                    boss,Bo Boss,boss@example.org,,Site B,Supervisor,E2\n\
                    bad,Bad Email,not-an-email,,,,\n\
                    old,Old Learner Renamed,,,,,\n\
                    lost,Lost,lost@example.org,ghost,,,\n\
                    ,No Name,,,,,\n";
        let job = import(&app, file, &[("kind", "learners")]).await;
        assert_eq!(job["kind"], "learners");
        assert_eq!((job["imported"].as_i64(), job["learners_created"].as_i64()), (Some(4), Some(3)), "{job}");
        let ana = app.get("/api/v1/learners/ana").await.expect(StatusCode::OK);
        assert_eq!((ana["manager"].as_str(), ana["attributes"]["role"].as_str(), ana["external_ids"]["hr"].as_str()),
            (Some("boss"), Some("Operator"), Some("E1")), "{ana}");
        let mut groups: Vec<&str> = ana["groups"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
        groups.sort();
        assert_eq!(groups, vec!["Night shift", "Site B"]);
        assert_eq!(app.get("/api/v1/learners/old").await.expect(StatusCode::OK)["legal_name"], "Old Learner Renamed");
        let csv = errors_csv(&app, &job).await;
        assert!(csv.lines().any(|l| l.starts_with("4,email,not-an-email,")), "{csv}");
        assert!(csv.lines().any(|l| l.starts_with("6,manager,ghost,")), "{csv}");
        assert!(csv.lines().any(|l| l.starts_with("7,username,,")), "{csv}");
        assert_eq!(app.get("/api/v1/learners/bad").await.status, StatusCode::NOT_FOUND);
        assert_eq!(audit_count(&app, "import.completed").await, 1);
    }
}

both_backends! {
    async fn the_imports_page_takes_a_file_shows_the_progress_and_runs_a_dry_run_for_real(app) {
        seed(&app).await;
        app.account("ada", "admin", None, &[]).await;
        let web = app.web_session("ada").await;
        let (status, html) = web.get("/imports").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Start the import") && html.contains("No imports yet"), "{html}");
        // The page's form sends its token first, then the file (as the browser does).
        let form = |file: &[u8]| {
            reqwest::multipart::Form::new()
                .text("_csrf", web.csrf.clone())
                .text("kind", "awards")
                // The hidden "false" first, then the ticked box: the last value counts.
                .text("dry_run", "false")
                .text("dry_run", "true")
                .part("file", reqwest::multipart::Part::bytes(file.to_vec()).file_name("history.csv"))
        };
        // A file without the columns: the message is beside the file field.
        let (status, html) = web.post_multipart("/imports", form(b"login,cert\nana,SAFE\n")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let beside = recert_testkit::error_beside(&html, "file").unwrap_or_else(|| panic!("{html}"));
        assert!(beside.contains("certification_code"), "{beside}");
        // A forged form (no token before the file) stores nothing.
        let forged = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(format!("{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\n").into_bytes()).file_name("x.csv"));
        let (status, _) = web.post_multipart("/imports", forged).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(app.get("/api/v1/imports").await.expect(StatusCode::OK).as_array().unwrap().is_empty());

        // A dry run: the job's page shows its progress, then its findings.
        let file = format!("{HEADER}ana,SAFE,2027-01-10,0,2028-01-10\nben,SAFE,2027-02-30,0,\n");
        let (status, html) = web.post_multipart("/imports", form(file.as_bytes())).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("Waiting to start") && html.contains("<progress"), "{html}");
        assert!(html.contains("hx-trigger=\"every 1s\""), "the page polls while the job waits: {html}");
        let job = app.get("/api/v1/imports").await.expect(StatusCode::OK)[0].clone();
        app.service.run_import_jobs("test").await.unwrap();
        let (_, part) = web.get_htmx(&format!("/imports/{}/progress", job["job"])).await;
        assert!(part.contains("Dry run finished") && !part.contains("hx-trigger"), "{part}");
        let (_, html) = web.get(&format!("/imports/{}", job["job"])).await;
        assert!(html.contains("Run this import for real") && html.contains("not a real calendar date"), "{html}");
        let (status, csv) = web.get(&format!("/imports/{}/errors.csv", job["job"])).await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.starts_with("row,column,value,reason\n3,certification_issue_date,"), "{csv}");
        // Run it for real from the page.
        let (status, html) = web.post(&format!("/imports/{}/run", job["job"]), &[]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        app.service.run_import_jobs("test").await.unwrap();
        assert_eq!(award_of(&app, "ana").await.len(), 1);
        let (_, html) = web.get("/imports").await;
        assert!(html.contains("history.csv"), "{html}");
    }
}

/// A dry run stopped after its first batch and resumed (SQLite requeues a job whose
/// process stopped when recert starts again) counts each learner it would create once,
/// as an uninterrupted dry run does: learners whose rows straddle the stop were counted
/// twice when the resumed run forgot the ones it had already counted.
#[tokio::test]
async fn a_dry_run_resumed_after_a_stop_counts_each_learner_to_create_once() {
    let app = TestApp::spawn(recert_testkit::Backend::Sqlite)
        .await
        .unwrap();
    // 300 new learners, each in 10 programs, one row in every 300: all of them on both
    // sides of the stop (after the first 2,000 rows: the file is read 2,000 at a time).
    let file = ten_programs_file(&app, 3000).await;
    let whole = import(&app, &file, &[("dry_run", "true")]).await;
    assert_eq!(
        (
            whole["learners_created"].as_i64(),
            whole["imported"].as_i64()
        ),
        (Some(300), Some(3000)),
        "{whole}"
    );

    let queued = upload(&app, file.into_bytes(), &[("dry_run", "true")], None)
        .await
        .expect(StatusCode::ACCEPTED);
    let job = queued["job"].as_i64().unwrap();
    stop_after_first_batch(&app, job).await;
    let part = app
        .get(&format!("/api/v1/imports/{job}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (part["state"].as_str(), part["rows_done"].as_i64()),
        (Some("running"), Some(2000)),
        "{part}"
    );
    assert_eq!(part["learners_created"], 300, "{part}");

    assert_eq!(app.service.recover_imports().await.unwrap(), 1);
    app.service.run_import_jobs("test").await.unwrap();
    let resumed = app
        .get(&format!("/api/v1/imports/{job}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(resumed["state"], "done", "{resumed}");
    assert_eq!(resumed["rows_done"], 3000, "{resumed}");
    assert_eq!(
        resumed["learners_created"], whole["learners_created"],
        "{resumed}"
    );
    assert_eq!(resumed["imported"], whole["imported"], "{resumed}");
    assert_eq!(resumed["rejected"], whole["rejected"], "{resumed}");
    // Nothing was written by either.
    let people = app
        .get("/api/v1/learners?q=cx")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        people["items"].as_array().map(Vec::len),
        Some(0),
        "{people}"
    );
}

/// Runs `job` in batches of 2,000 rows (as the file is read) and stops its runner, as a
/// killed process would, once the first batch is committed: its progress report panics
/// there, on purpose, so the runner goes no further whatever the timing (a runner whose
/// database calls all answer at once never yields to a test waiting beside it).
async fn stop_after_first_batch(app: &TestApp, job: i64) {
    let runner = app.service.clone().with_import_batch_rows(100);
    let run = tokio::spawn(async move {
        let mut progress = |j: &recert_service::imports::ImportJob| {
            if j.rows_done > 0 {
                panic!("the runner is stopped after its first batch (on purpose)");
            }
        };
        runner.run_import_job(job, "first", &mut progress).await
    });
    match run.await {
        Err(stopped) if stopped.is_panic() => {}
        other => panic!(
            "the job ended before it was stopped: {:?}",
            other.map(|r| r.map(|j| j.rows_done))
        ),
    }
}

/// A file of `rows` valid award rows for new learners, over ten programs P0…P9 (created
/// here), in the Docebo columns.
async fn ten_programs_file(app: &TestApp, rows: usize) -> String {
    for p in 0..10 {
        app.program(json!({
            "code": format!("P{p}"), "name": format!("Program {p}"),
            "validity": {"count": 1, "unit": "years"}
        }))
        .await;
    }
    let mut file = String::from(HEADER);
    for i in 0..rows {
        file.push_str(&format!("cx{},P{},2026-01-10,0,\n", i % 300, i / 300));
    }
    file
}

both_backends! {
    async fn a_queued_import_is_cancelled_and_never_runs(app) {
        let file = ten_programs_file(&app, 30).await;
        let queued = upload(&app, file.into_bytes(), &[], None).await.expect(StatusCode::ACCEPTED);
        let job = queued["job"].as_i64().unwrap();
        let cancelled = app.post(&format!("/api/v1/imports/{job}/cancel"), json!({})).await.expect(StatusCode::OK);
        assert_eq!((cancelled["state"].as_str(), cancelled["failure"].as_str()), (Some("failed"), Some("cancelled by API token “test-admin”")), "{cancelled}");
        assert_eq!(app.service.run_import_jobs("test").await.unwrap(), 0);
        let awards = app.get("/api/v1/awards?program=P0").await.expect(StatusCode::OK);
        assert_eq!(awards["items"].as_array().map(Vec::len), Some(0), "{awards}");
        // Audited: a real import was stopped, by whom, having written nothing.
        let ev = &app.get("/api/v1/audit?action=import.cancelled").await.expect(StatusCode::OK)["items"][0];
        assert_eq!(ev["after"]["counts"]["imported"], 0, "{ev}");
        // An ended job cannot be cancelled; an unknown one is not found.
        let again = app.post(&format!("/api/v1/imports/{job}/cancel"), json!({})).await.problem(StatusCode::CONFLICT);
        assert!(again["detail"].as_str().unwrap().contains("already ended"), "{again}");
        app.post("/api/v1/imports/12345/cancel", json!({})).await.problem(StatusCode::NOT_FOUND);
        app.post("/api/v1/imports/abc/cancel", json!({})).await.problem(StatusCode::BAD_REQUEST);
        // The job's page says so and offers nothing more to do.
        app.account("ada", "admin", None, &[]).await;
        let web = app.web_session("ada").await;
        let (status, page) = web.get(&format!("/imports/{job}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("cancelled by API token “test-admin”"), "{page}");
        assert!(!page.contains("Cancel this import"), "{page}");
    }
}

both_backends! {
    async fn a_running_import_cancelled_keeps_its_committed_batches_and_undoes_the_rest(app) {
        let file = ten_programs_file(&app, 3000).await;
        let queued = upload(&app, file.into_bytes(), &[], None).await.expect(StatusCode::ACCEPTED);
        let job = queued["job"].as_i64().unwrap();
        // The runner commits its first batch (the file is read 2,000 rows at a time) and is
        // stopped in the middle of the second, as a slow import would be when cancelled.
        stop_after_first_batch(&app, job).await;
        // The page offers to cancel, and says what stays.
        app.account("ada", "admin", None, &[]).await;
        let web = app.web_session("ada").await;
        let (_, page) = web.get(&format!("/imports/{job}")).await;
        assert!(page.contains("Cancel this import"), "{page}");
        assert!(page.contains("Records already written stay (2000 so far)"), "{page}");
        let (status, _) = web.post(&format!("/imports/{job}/cancel"), &[]).await;
        assert_eq!(status, StatusCode::OK);
        let ended = app.get(&format!("/api/v1/imports/{job}")).await.expect(StatusCode::OK);
        assert_eq!((ended["state"].as_str(), ended["rows_done"].as_i64(), ended["imported"].as_i64()), (Some("failed"), Some(2000), Some(2000)), "{ended}");
        assert_eq!(ended["failure"], "cancelled by ada", "{ended}");
        // Nobody takes it up again, not even after a restart.
        app.service.recover_imports().await.unwrap();
        assert_eq!(app.service.run_import_jobs("test").await.unwrap(), 0);
        // The first batch's awards stay; none of the rest was written.
        let mut written = 0;
        for p in 0..10 {
            let page = app.get(&format!("/api/v1/awards?program=P{p}&limit=500")).await.expect(StatusCode::OK);
            written += page["items"].as_array().unwrap().len();
        }
        assert_eq!(written, 2000);
        let ev = &app.get("/api/v1/audit?action=import.cancelled").await.expect(StatusCode::OK)["items"][0];
        assert_eq!((ev["after"]["counts"]["imported"].as_i64(), ev["actor"].as_str()), (Some(2000), Some("user:ada")), "{ev}");
        assert_eq!(audit_count(&app, "import.completed").await, 0);
    }
}

both_backends! {
    async fn a_runner_writing_when_its_import_is_cancelled_stops_and_leaves_nothing_staged(app) {
        let file = ten_programs_file(&app, 3000).await;
        let queued = upload(&app, file.into_bytes(), &[], None).await.expect(StatusCode::ACCEPTED);
        let job = queued["job"].as_i64().unwrap();
        // The runner waits after its first batch until the job is cancelled, then writes its
        // second batch (on PostgreSQL staging it first) as a cancel in mid-batch finds it.
        let runner = app.service.clone().with_import_batch_rows(100);
        let (paused, is_paused) = tokio::sync::oneshot::channel::<()>();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let mut paused = Some(paused);
        let live = tokio::spawn(async move {
            let mut progress = move |j: &recert_service::imports::ImportJob| {
                if j.rows_done > 0 && let Some(p) = paused.take() {
                    let _ = p.send(());
                    let _ = wait.recv();
                }
            };
            runner.run_import_job(job, "live", &mut progress).await
        });
        is_paused.await.unwrap();
        app.post(&format!("/api/v1/imports/{job}/cancel"), json!({})).await.expect(StatusCode::OK);
        go.send(()).unwrap();
        let ended = live.await.unwrap().unwrap();
        assert_eq!((ended.state.as_str(), ended.rows_done, ended.imported), ("failed", 2000, 2000));
        let mut written = 0;
        for p in 0..10 {
            let page = app.get(&format!("/api/v1/awards?program=P{p}&limit=500")).await.expect(StatusCode::OK);
            written += page["items"].as_array().unwrap().len();
        }
        assert_eq!(written, 2000, "the batch written after the cancel was not rolled back");
        let mut conn = app.service.store.read().await.unwrap();
        assert_eq!(recert_store::imports::staged_rows(&mut conn, job).await.unwrap(), 0);
    }
}
