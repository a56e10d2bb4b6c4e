#![allow(clippy::unwrap_used)]
//! The web application over HTTP: sign-in, its throttle, CSRF, first run, and forms that
//! re-render with the message beside the field.

use recert_testkit::{PASSWORD, StatusCode, TestApp, both_backends, cookie_of};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"_csrf\" value=\"").unwrap() + 20;
    html[i..i + html[i..].find('"').unwrap()].to_owned()
}

/// Signs in through the form; returns the session cookie (or the failed page).
async fn sign_in(
    app: &TestApp,
    c: &reqwest::Client,
    user: &str,
    password: &str,
) -> Result<String, (StatusCode, String)> {
    sign_in_from(app, c, user, password, "203.0.113.1").await
}

/// As [`sign_in`], from a client at `from` (the test server trusts its loopback proxy).
async fn sign_in_from(
    app: &TestApp,
    c: &reqwest::Client,
    user: &str,
    password: &str,
    from: &str,
) -> Result<String, (StatusCode, String)> {
    let form = c.get(format!("{}/login", app.base)).send().await.unwrap();
    let pre = cookie_of(&form, "recert_login_csrf").unwrap();
    let csrf = csrf_of(&form.text().await.unwrap());
    let res = c
        .post(format!("{}/login", app.base))
        .header("cookie", format!("recert_login_csrf={pre}"))
        .header("x-forwarded-for", from)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
            ("next", "/programs"),
        ])
        .send()
        .await
        .unwrap();
    match cookie_of(&res, "recert_session") {
        Some(s) if !s.is_empty() => {
            let set = res
                .headers()
                .get("set-cookie")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax"),
                "{set}"
            );
            Ok(s)
        }
        _ => Err((res.status(), res.text().await.unwrap())),
    }
}

both_backends! {
    async fn first_run_page_creates_the_admin_once(app) {
        let c = client();
        let res = c.get(format!("{}/login", app.base)).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/setup");
        let page = c.get(format!("{}/setup", app.base)).send().await.unwrap();
        let pre = cookie_of(&page, "recert_login_csrf").unwrap();
        let csrf = csrf_of(&page.text().await.unwrap());
        let post = |pw: &'static str, repeat: &'static str| {
            c.post(format!("{}/setup", app.base))
                .header("cookie", format!("recert_login_csrf={pre}"))
                .form(&[("_csrf", csrf.as_str()), ("username", "chief"), ("password", pw), ("repeat_password", repeat)])
                .send()
        };
        let bad = post("short", "short").await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = bad.text().await.unwrap();
        assert!(html.contains("id=\"password-error\">must be at least 10 characters"), "{html}");
        let mismatch = post("long enough one", "another one!!").await.unwrap().text().await.unwrap();
        assert!(mismatch.contains("id=\"repeat_password-error\""), "{mismatch}");
        let ok = post("long enough one", "long enough one").await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        // Once an admin exists, the page is closed.
        let again = c.get(format!("{}/setup", app.base)).send().await.unwrap();
        assert_eq!(again.headers()["location"], "/login");
        assert!(sign_in(&app, &c, "chief", "long enough one").await.is_ok());
    }
}

both_backends! {
    async fn failed_sign_ins_slow_down_alike_for_every_name_and_lock_nobody_out(app) {
        app.account("root", "admin", None, &[]).await;
        let c = client();
        // A real name and an unknown one, each guessed from its own address: every answer
        // is the same, so the answers never tell which accounts exist.
        let mut answers = Vec::new();
        for (user, from) in [("root", "198.51.100.1"), ("nobody", "198.51.100.2")] {
            let mut seen = Vec::new();
            for _ in 0..6 {
                let (status, html) =
                    sign_in_from(&app, &c, user, "wrong password", from).await.unwrap_err();
                let message = html[html.find("role=\"alert\"").unwrap()..].split("</").next().unwrap().to_owned();
                seen.push((status, message));
            }
            answers.push(seen);
        }
        assert_eq!(answers[0], answers[1], "known and unknown names are answered alike");
        let seen = &answers[0];
        // Three free failures, a fourth that starts a wait, then held back with the wait named.
        for (status, message) in &seen[..4] {
            assert_eq!(*status, StatusCode::UNAUTHORIZED);
            assert!(message.contains("Wrong username or password."), "{message}");
        }
        for (status, message) in &seen[4..] {
            assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
            assert!(message.contains("Too many failed sign-ins. Wait 1 second"), "{message}");
            assert!(!message.contains("locked"), "{message}");
        }
        // Held back from the guessing address even with the right password…
        let (status, _) = sign_in_from(&app, &c, "root", PASSWORD, "198.51.100.1").await.unwrap_err();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        // …but the owner elsewhere signs in: five requests no longer lock an account.
        assert!(sign_in_from(&app, &c, "root", PASSWORD, "192.0.2.7").await.is_ok());
        // The wait doubles and is lifted by time.
        app.set_time("2027-06-15T12:00:02Z");
        let (status, _) = sign_in_from(&app, &c, "root", "wrong again", "198.51.100.1").await.unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, html) = sign_in_from(&app, &c, "root", PASSWORD, "198.51.100.1").await.unwrap_err();
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("Wait 2 seconds"), "{html}");
        app.set_time("2027-06-15T12:00:05Z");
        assert!(sign_in_from(&app, &c, "root", PASSWORD, "198.51.100.1").await.is_ok());
        // Failures are in the audit trail with the client's address (from the proxy's header).
        let web = app.web_session("root").await;
        let (_, log) = web.get("/audit?action=user.login_failed").await;
        assert!(log.contains("198.51.100.1"), "{log}");
        assert!(!log.contains("198.51.100.2"), "no events for names that do not exist: {log}");
    }
}

both_backends! {
    async fn the_current_password_check_is_throttled_like_sign_in(app) {
        app.account("root", "admin", None, &[]).await;
        let web = app.web_session("root").await;
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let (status, page) = web.post("/account/password", &[
                ("current_password", "not it"), ("new_password", "a new long password"),
                ("repeat_password", "a new long password")]).await;
            statuses.push(status);
            if statuses.len() == 5 {
                assert!(page.contains("Too many failed sign-ins"), "{page}");
            }
        }
        assert!(statuses.iter().all(|s| *s == StatusCode::UNPROCESSABLE_ENTITY), "{statuses:?}");
        // Even the right one waits now.
        let (_, page) = web.post("/account/password", &[
            ("current_password", PASSWORD), ("new_password", "a new long password"),
            ("repeat_password", "a new long password")]).await;
        assert!(page.contains("Too many failed sign-ins"), "{page}");
    }
}

both_backends! {
    async fn forms_without_the_session_csrf_token_are_refused(app) {
        app.account("root", "admin", None, &[]).await;
        let c = client();
        let s = sign_in(&app, &c, "root", PASSWORD).await.unwrap();
        let res = c.post(format!("{}/groups", app.base))
            .header("cookie", format!("recert_session={s}"))
            .form(&[("name", "Evil"), ("kind", "team")])
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert!(res.text().await.unwrap().contains("This form has expired"));
        let res = c.post(format!("{}/groups", app.base))
            .header("cookie", format!("recert_session={s}"))
            .form(&[("_csrf", "0123456789abcdef0123456789abcdef"), ("name", "Evil"), ("kind", "team")])
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        app.get("/api/v1/groups/Evil").await.problem(StatusCode::NOT_FOUND);
        // Signing out ends the session for good.
        let page = c.get(format!("{}/programs", app.base)).header("cookie", format!("recert_session={s}")).send().await.unwrap();
        let csrf = csrf_of(&page.text().await.unwrap());
        c.post(format!("{}/logout", app.base)).header("cookie", format!("recert_session={s}")).form(&[("_csrf", csrf)]).send().await.unwrap();
        let after = c.get(format!("{}/programs", app.base)).header("cookie", format!("recert_session={s}")).send().await.unwrap();
        assert!(after.headers()["location"].to_str().unwrap().starts_with("/login?next="));
    }
}

both_backends! {
    async fn bad_program_form_rerenders_with_messages_beside_the_fields(app) {
        app.account("root", "admin", None, &[]).await;
        let c = client();
        let s = sign_in(&app, &c, "root", PASSWORD).await.unwrap();
        let page = c.get(format!("{}/programs/new", app.base)).header("cookie", format!("recert_session={s}")).send().await.unwrap();
        let csrf = csrf_of(&page.text().await.unwrap());
        let post = |fields: Vec<(&'static str, &'static str)>| {
            let mut all = vec![("_csrf", csrf.clone())];
            all.extend(fields.into_iter().map(|(k, v)| (k, v.to_owned())));
            c.post(format!("{}/programs", app.base)).header("cookie", format!("recert_session={s}")).form(&all).send()
        };
        let res = post(vec![("code", "X"), ("name", "X"), ("validity_count", "two"), ("validity_unit", "years")]).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"validity_count-error\">must be a whole number"), "{html}");
        assert!(html.contains("value=\"two\""), "the input is kept");
        // A number that cannot be read and a rule broken elsewhere show in the same round.
        let res = post(vec![("code", "Y"), ("name", ""), ("validity_count", "two"), ("validity_unit", "years"), ("grace_days", "-1")]).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"validity_count-error\">must be a whole number<"), "only the syntax message beside the count: {html}");
        for field in ["name", "grace_days"] {
            assert!(html.contains(&format!("id=\"{field}-error\"")), "no message beside {field}: {html}");
        }
        let res = post(vec![("code", "has space"), ("name", ""), ("validity_count", "1"), ("validity_unit", "fortnights"), ("grace_days", "-3"), ("items", "A course 7")]).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        for field in ["code", "name", "validity_unit", "grace_days", "items"] {
            assert!(html.contains(&format!("id=\"{field}-error\"")), "no message beside {field}: {html}");
        }
        let ok = post(vec![("code", "GOOD"), ("name", "Good"), ("validity_count", "2"), ("validity_unit", "years"), ("renewal_pathways", "retake"), ("renewal_pathways", "credits"), ("credits_hours", "20"), ("credits_categories", "ethics=2"), ("items", "G-101 course 0.8")]).await.unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        let p = app.get("/api/v1/programs/GOOD").await.expect(StatusCode::OK);
        assert_eq!(p["validity"]["count"], 2);
        assert_eq!(p["credits_required"]["categories"]["ethics"], 2.0);
        assert_eq!(p["items"][0]["pass_threshold"], 0.8);
        assert_eq!(p["renewal_pathways"], serde_json::json!(["retake", "credits"]));
    }
}

both_backends! {
    async fn admins_disable_enable_and_unlock_accounts(app) {
        app.account("root", "admin", None, &[]).await;
        app.account("aud", "auditor", None, &[]).await;
        let aud_token = app.user_token("aud2", "auditor", None, &[]).await;
        let aud_session = app.service.login("aud", PASSWORD, None).await.unwrap().unwrap();
        // Disabling ends the sessions and stops the tokens.
        let v = app.post("/api/v1/users/aud/disable", serde_json::json!({})).await.expect(StatusCode::OK);
        assert_eq!(v["disabled"], true);
        assert!(app.service.session(&aud_session).await.is_err(), "the session ended");
        assert!(matches!(app.service.login("aud", PASSWORD, None).await, Ok(Err(_)) | Err(_)), "a disabled account cannot sign in");
        app.post("/api/v1/users/aud2/disable", serde_json::json!({})).await.expect(StatusCode::OK);
        app.send(reqwest::Method::GET, "/api/v1/programs", None, Some(&aud_token)).await.problem(StatusCode::UNAUTHORIZED);
        app.post("/api/v1/users/aud2/enable", serde_json::json!({})).await.expect(StatusCode::OK);
        app.send(reqwest::Method::GET, "/api/v1/programs", None, Some(&aud_token)).await.expect(StatusCode::OK);
        // The last active admin stays; nobody disables themself.
        app.post("/api/v1/users/root/disable", serde_json::json!({})).await.problem(StatusCode::CONFLICT);
        let web = app.web_session("root").await;
        let (status, page) = web.post("/admin/users/root/disable", &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(page.contains("your own account"), "{page}");
        let (status, page) = web.post("/admin/users/aud/enable", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Account enabled."), "{page}");
        // Sign-ins held back after failed attempts (the account-wide wait starts after ten)
        // are released from the page.
        for _ in 0..11 {
            let _ = app.service.login("aud", "wrong password", None).await;
        }
        let (_, page) = web.get("/admin/users").await;
        assert!(page.contains("locked") && page.contains("Unlock aud"), "{page}");
        let (_, page) = web.post("/admin/users/aud/unlock", &[]).await;
        assert!(page.contains("Account unlocked."), "{page}");
        assert!(app.service.login("aud", PASSWORD, None).await.unwrap().is_ok());
        app.post("/api/v1/users/nobody/unlock", serde_json::json!({})).await.problem(StatusCode::NOT_FOUND);
        let events = app.get("/api/v1/users").await.expect(StatusCode::OK);
        assert!(events["items"].as_array().unwrap().iter().any(|u| u["username"] == "aud" && u["locked"] == false));
    }
}

both_backends! {
    async fn the_accounts_list_names_each_managers_programs(app) {
        for code in ["P1", "P2", "P3"] {
            app.program(serde_json::json!({"code": code, "name": code, "validity": {"count": 1, "unit": "years"}})).await;
        }
        app.account("pm-a", "program_manager", None, &["P1", "P3"]).await;
        app.account("pm-b", "program_manager", None, &["P2"]).await;
        app.account("aud", "auditor", None, &[]).await;
        let list = app.get("/api/v1/users").await.expect(StatusCode::OK);
        let programs = |name: &str| -> Vec<String> {
            list["items"].as_array().unwrap().iter().find(|u| u["username"] == name).unwrap()["programs"]
                .as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(programs("pm-a"), vec!["P1", "P3"]);
        assert_eq!(programs("pm-b"), vec!["P2"]);
        assert!(programs("aud").is_empty());
    }
}

both_backends! {
    async fn signing_out_under_a_concurrent_write_load_always_ends_the_session(app) {
        app.program(serde_json::json!({"code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}})).await;
        let mut awards = Vec::new();
        for i in 0..8 {
            let u = format!("l{i}");
            app.learner(&u).await;
            let a = app.post("/api/v1/awards", serde_json::json!({"learner": u, "program": "P"})).await.expect(StatusCode::CREATED);
            awards.push(a["id"].as_str().unwrap().to_owned());
        }
        app.account("root", "admin", None, &[]).await;
        let mut sessions = Vec::new();
        for _ in 0..16 {
            sessions.push(app.web_session("root").await);
        }
        // Eight writers edit awards as fast as they can while every session signs out.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut load = Vec::new();
        for (n, id) in awards.iter().enumerate() {
            let (client, base, token, id, stop) = (app.client.clone(), app.base.clone(), app.token.clone(), id.clone(), stop.clone());
            load.push(tokio::spawn(async move {
                let mut writes = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = client.patch(format!("{base}/api/v1/awards/{id}")).bearer_auth(&token)
                        .json(&serde_json::json!({"content_version": format!("v{n}-{writes}")})).send().await.unwrap();
                    assert_eq!(r.status(), StatusCode::OK);
                    writes += 1;
                }
                writes
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let outs = sessions.iter().map(|s| s.post("/logout", &[]));
        let mut answers = Vec::new();
        for f in outs {
            answers.push(f.await);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let mut writes = 0;
        for l in load {
            writes += l.await.unwrap();
        }
        assert!(writes > 0);
        for ((status, page), s) in answers.iter().zip(&sessions) {
            assert_eq!(*status, StatusCode::OK, "{page}");
            assert!(page.contains("name=\"password\""), "signing out lands on the sign-in page");
            assert!(
                matches!(app.service.session(&s.session).await, Err(recert_service::ServiceError::Unauthenticated)),
                "the session still works after signing out"
            );
        }
    }
}
