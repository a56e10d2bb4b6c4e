#![allow(clippy::unwrap_used)]
//! The web application in a real headless Chromium (Debian `chromium` + `chromium-driver`):
//! an admin creates a program and awards it to a group, sees it on a learner's page; the
//! learner sees it in "My certifications"; an auditor cannot change anything.
//! Chromium and ChromeDriver are found on `PATH` (or named by `CHROME` and `CHROMEDRIVER`);
//! skipped with a note when missing, except with `CI=true`, where it fails.

use fantoccini::{Client, ClientBuilder, Locator};
use recert_testkit::{Backend, PASSWORD, StatusCode, TestApp};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A program named by an environment variable (a path), else the first of `names` on
/// `PATH`.
fn find_program(var: &str, names: &[&str]) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

/// The ChromeDriver process and the browser profile, both gone when dropped.
struct Driver {
    process: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

async fn browser() -> Option<(Driver, Client)> {
    let chromium = find_program("CHROME", &["chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_program("CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        assert!(
            !in_ci(),
            "Chromium and ChromeDriver must be on PATH (or named by CHROME and CHROMEDRIVER) in CI; .ci/run installs them"
        );
        eprintln!(
            "skipped: browser test (put chromium and chromedriver on PATH, or set CHROME and CHROMEDRIVER)"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let profile = tempfile::tempdir().unwrap();
    let profile_dir = profile.path().display().to_string();
    // Owned by the guard at once, so the process is reaped on every path, panics included.
    let driver = Driver {
        process: Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        _profile: profile,
    };
    let caps: serde_json::Map<String, serde_json::Value> = serde_json::from_value(json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium.display().to_string(),
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-dev-shm-usage", "--no-first-run", "--disable-sync", "--disable-component-update",
                     "--window-size=1280,900", format!("--user-data-dir={profile_dir}")]
        }
    }))
    .unwrap();
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        if let Ok(c) = ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            return Some((driver, c));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn sign_in(b: &Client, base: &str, user: &str, password: &str) {
    b.goto(&format!("{base}/login")).await.unwrap();
    b.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    b.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    b.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(b, "Sign out").await;
}

async fn sign_out(b: &Client) {
    b.find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(b, "Sign in to recert").await;
}

/// Waits until the page shows `text` (navigation after a click is asynchronous).
async fn wait_for(b: &Client, text: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        last = b.source().await.unwrap();
        if last.contains(text) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed {text:?}:\n{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_awards_a_new_program_to_a_group_and_the_learner_sees_it() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.post(
        "/api/v1/learners",
        json!({"username": "ana", "legal_name": "Ana Álvarez"}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.post(
        "/api/v1/groups",
        json!({"name": "Night Crew", "kind": "team"}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.post(
        "/api/v1/groups/Night Crew/members",
        json!({"usernames": ["ana"]}),
    )
    .await
    .expect(StatusCode::OK);
    app.account("root", "admin", None, &[]).await;
    app.account("ana", "learner", Some("ana"), &[]).await;
    app.account("audit", "auditor", None, &[]).await;
    let base = app.base.clone();

    sign_in(&b, &base, "root", PASSWORD).await;
    b.goto(&format!("{base}/programs/new")).await.unwrap();
    b.find(Locator::Id("code"))
        .await
        .unwrap()
        .send_keys("FORK-LIFT")
        .await
        .unwrap();
    b.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Forklift Operator")
        .await
        .unwrap();
    b.find(Locator::Id("description"))
        .await
        .unwrap()
        .send_keys("Licensed to drive forklifts on site.")
        .await
        .unwrap();
    b.find(Locator::Css("form.stack button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&b, "Program created.").await;

    b.find(Locator::Css("#award-details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Id("group"))
        .await
        .unwrap()
        .select_by_value("Night Crew")
        .await
        .unwrap();
    b.find(Locator::Css("form[action$='/awards'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A group award is previewed first, then confirmed.
    wait_for(&b, "Preview: award FORK-LIFT to group Night Crew").await;
    b.find(Locator::Id("confirm-group-award"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for(&b, "Awarded 1 of 1 learner.").await;
    assert!(page.contains("Ana Álvarez"), "the holder is listed");

    b.goto(&format!("{base}/learners?q=ana")).await.unwrap();
    b.find(Locator::LinkText("ana"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let page = wait_for(&b, "Certifications").await;
    assert!(
        page.contains("FORK-LIFT") && page.contains("award.created"),
        "{page}"
    );
    sign_out(&b).await;

    sign_in(&b, &base, "ana", PASSWORD).await;
    let page = wait_for(&b, "My certifications").await;
    let cards = b
        .find(Locator::Id("my-certifications"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        cards.contains("Forklift Operator")
            && cards.contains("FORK-LIFT")
            && cards.contains("active"),
        "{cards}\n{page}"
    );
    // The learner reports external training with an evidence file (a real multipart upload).
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("first-aid.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 first aid").unwrap();
    b.find(Locator::Css("#report-details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Id("program"))
        .await
        .unwrap()
        .select_by_value("FORK-LIFT")
        .await
        .unwrap();
    for (id, text) in [
        ("title", "Forklift refresher"),
        ("provider", "Acme Training"),
        ("hours", "4"),
    ] {
        b.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    b.execute(
        "document.getElementById('completed_on').value = '2027-06-01';",
        vec![],
    )
    .await
    .unwrap();
    b.find(Locator::Id("evidence"))
        .await
        .unwrap()
        .send_keys(&evidence.display().to_string())
        .await
        .unwrap();
    b.find(Locator::Css(
        "form[action='/external-training'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let page = wait_for(&b, "Training reported.").await;
    assert!(
        page.contains("Forklift refresher") && page.contains("first-aid.pdf"),
        "{page}"
    );
    sign_out(&b).await;

    sign_in(&b, &base, "audit", PASSWORD).await;
    b.goto(&format!("{base}/programs/FORK-LIFT")).await.unwrap();
    let page = wait_for(&b, "Awarded learners").await;
    assert!(
        !page.contains("Edit program") && !page.contains("Award this program"),
        "an auditor sees no change controls"
    );
    b.goto(&format!("{base}/programs/new")).await.unwrap();
    wait_for(&b, "may not create programs").await;
    b.goto(&format!("{base}/groups/Night%20Crew"))
        .await
        .unwrap();
    let page = wait_for(&b, "Members (1)").await;
    assert!(!page.contains("Add members"), "{page}");
    b.close().await.unwrap();
}
