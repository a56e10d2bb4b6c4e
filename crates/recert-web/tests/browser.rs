#![allow(clippy::unwrap_used)]
//! The web application in a real headless Chromium (Debian `chromium` + `chromium-driver`):
//! an admin creates a program and awards it to a group, sees it on a learner's page; the
//! learner sees it in "My certifications"; an auditor cannot change anything; an admin
//! checks a file of certification records with a dry run, then imports it for real.
//! Chromium and ChromeDriver are found on `PATH` (or named by `CHROME` and `CHROMEDRIVER`);
//! skipped with a note when missing, except with `CI=true`, where it fails.

use fantoccini::{Client, ClientBuilder, Locator};
use recert_testkit::{Backend, PASSWORD, StatusCode, TestApp, in_ci};
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
    click(b, Locator::Css("form button[type=submit]")).await;
    wait_for(b, "Sign out").await;
}

/// Clicks the element `at` points to.
async fn click(b: &Client, at: Locator<'_>) {
    b.find(at).await.unwrap().click().await.unwrap();
}

/// Chooses `path` in the file input with the id `id`.
async fn choose_file(b: &Client, id: &str, path: &std::path::Path) {
    b.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
}

async fn sign_out(b: &Client) {
    click(b, Locator::Css("header form button")).await;
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
    // A refused form: the error summary at the top has the focus and links to each field;
    // the title says "Error:".
    click(&b, Locator::Css("form.stack button[type=submit]")).await;
    wait_for(&b, "There is a problem").await;
    let (focused, title, first_link) = {
        let v = b
            .execute(
                "return [document.activeElement.id, document.title, document.querySelector('#error-summary a').getAttribute('href')];",
                vec![],
            )
            .await
            .unwrap();
        (v[0].clone(), v[1].clone(), v[2].clone())
    };
    assert_eq!(focused, "error-summary");
    assert!(title.as_str().unwrap().starts_with("Error: "), "{title}");
    assert!(
        first_link.as_str().unwrap().starts_with('#'),
        "{first_link}"
    );
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
    click(&b, Locator::Css("form.stack button[type=submit]")).await;
    wait_for(&b, "Program created.").await;

    click(&b, Locator::Css("#award-details summary")).await;
    b.find(Locator::Id("group"))
        .await
        .unwrap()
        .select_by_value("Night Crew")
        .await
        .unwrap();
    click(
        &b,
        Locator::Css("form[action$='/awards'] button[type=submit]"),
    )
    .await;
    // A group award is previewed first, then confirmed.
    wait_for(&b, "Preview: award FORK-LIFT to group Night Crew").await;
    click(&b, Locator::Id("confirm-group-award")).await;
    let page = wait_for(&b, "Awarded 1 of 1 learner.").await;
    assert!(page.contains("Ana Álvarez"), "the holder is listed");

    b.goto(&format!("{base}/learners?q=ana")).await.unwrap();
    click(&b, Locator::LinkText("Ana Álvarez")).await;
    let page = wait_for(&b, "Certifications").await;
    assert!(
        page.contains("FORK-LIFT") && page.contains("<td>Awarded</td>"),
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
            && cards.contains("Active"),
        "{cards}\n{page}"
    );
    // The learner reports external training with an evidence file (a real multipart upload).
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("first-aid.pdf");
    std::fs::write(&evidence, b"%PDF-1.4 first aid").unwrap();
    click(&b, Locator::Css("#report-details summary")).await;
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
    choose_file(&b, "evidence", &evidence).await;
    click(
        &b,
        Locator::Css("form[action='/external-training'] button[type=submit]"),
    )
    .await;
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

/// Reads an XLSX file with openpyxl (Debian `python3-openpyxl`, a real spreadsheet
/// library) and answers each cell as `type:value`, rows by lines; `None` when openpyxl is
/// missing outside CI.
fn xlsx_cells(bytes: &[u8]) -> Option<Vec<Vec<String>>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let script = "import sys, openpyxl\n\
        wb = openpyxl.load_workbook(sys.argv[1])\n\
        for row in wb.active.iter_rows():\n\
        \x20   print('\\t'.join(f'{type(c.value).__name__}:{c.value}:{c.number_format}' for c in row))\n";
    let out = recert_testkit::python_with("openpyxl")
        .map(|py| Command::new(py).args(["-c", script]).arg(&path).output());
    match out {
        Some(Ok(o)) if o.status.success() => Some(
            String::from_utf8(o.stdout)
                .unwrap()
                .lines()
                .map(|l| l.split('\t').map(str::to_owned).collect())
                .collect(),
        ),
        other => {
            assert!(
                !in_ci(),
                "python3 with openpyxl must be installed in CI (.ci/run installs python3-openpyxl): {other:?}"
            );
            eprintln!("skipped: XLSX check (install python3-openpyxl)");
            None
        }
    }
}

/// The href of the first element matching `css`.
async fn href(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditor_finds_who_was_not_compliant_three_months_ago_in_three_clicks() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    assert!(app.service.seed_demo().await.unwrap());
    app.account("root", "admin", None, &[]).await;
    app.account("aud", "auditor", None, &[]).await;
    let base = app.base.clone();
    // Today is 2027-06-15 on the test clock: three months ago.
    let day = "2027-03-15";
    let api = app
        .get(&format!(
            "/api/v1/reports/compliance?program=SAFE-ANNUAL&group=Tulsa%20Yard&as_of={day}&detail=true"
        ))
        .await
        .expect(StatusCode::OK);
    let row = &api["rows"][0];
    let not_compliant = row["required"].as_i64().unwrap() - row["compliant"].as_i64().unwrap();
    assert!(not_compliant > 0, "{row}");

    sign_in(&b, &base, "aud", PASSWORD).await;
    // An auditor starts on the dashboard.
    wait_for(&b, "Compliance today").await;
    // Click 1: Reports.
    click(&b, Locator::LinkText("Reports")).await;
    wait_for(&b, "Export XLSX").await;
    b.execute(
        &format!("document.getElementById('as_of').value = '{day}';"),
        vec![],
    )
    .await
    .unwrap();
    // Click 2: Show.
    click(&b, Locator::Css("form.filters button[type=submit]")).await;
    wait_for(&b, &format!("Compliance as of {day}")).await;
    // Click 3: the Tulsa Yard × SAFE-ANNUAL "not compliant" number.
    click(
        &b,
        Locator::Css("a[aria-label$='not compliant with SAFE-ANNUAL at Tulsa Yard']"),
    )
    .await;
    let page = wait_for(&b, "Not compliant · SAFE-ANNUAL · Tulsa Yard").await;
    assert!(
        page.contains(&format!("of {not_compliant}</span>"))
            || page.contains(&format!("1–{not_compliant} of {not_compliant}")),
        "{page}"
    );
    let rows = b
        .find_all(Locator::Css("table tbody tr"))
        .await
        .unwrap()
        .len();
    assert_eq!(rows as i64, not_compliant.min(50));
    let expected: Vec<String> = row["learners"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["compliant"] == false)
        .map(|p| p["username"].as_str().unwrap().to_owned())
        .collect();
    for u in expected.iter().take(50) {
        assert!(page.contains(u.as_str()), "{u} is listed");
    }

    // The export, as the browser would download it with this session.
    let xlsx = href(&b, "a[href*='format=xlsx']").await;
    let cookie = b.get_named_cookie("recert_session").await.unwrap();
    let res = app
        .client
        .get(format!("{base}/reports/compliance/people{xlsx}"))
        .header("cookie", format!("recert_session={}", cookie.value()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.unwrap();
    if let Some(cells) = xlsx_cells(&bytes) {
        assert_eq!(
            cells.len() as i64,
            not_compliant + 1,
            "a header and one row per person"
        );
        assert!(cells[0][0].starts_with("str:program"));
        for r in &cells[1..] {
            assert!(r[0].starts_with("str:SAFE-ANNUAL"), "{r:?}");
            // as_of is a real date cell, formatted as a date.
            assert!(
                r[8].starts_with(&format!("datetime:{day} 00:00:00:yyyy-mm-dd")),
                "{r:?}"
            );
        }
        let usernames: Vec<String> = cells[1..]
            .iter()
            .map(|r| {
                r[2].trim_start_matches("str:")
                    .split(':')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        for u in &expected {
            assert!(usernames.contains(u), "{u} is in the export");
        }
    }
    // The report's own export: counts as numbers, percentages as numbers formatted as %.
    let report_xlsx = app
        .client
        .get(format!("{base}/reports/compliance?as_of={day}&format=xlsx"))
        .header("cookie", format!("recert_session={}", cookie.value()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    if let Some(cells) = xlsx_cells(&report_xlsx) {
        let tulsa = cells
            .iter()
            .find(|r| r[2].starts_with("str:Tulsa Yard"))
            .unwrap();
        assert_eq!(tulsa[4], format!("int:{}:General", row["required"]));
        assert!(
            tulsa[6].starts_with("float:") && tulsa[6].ends_with(":0.0%"),
            "{tulsa:?}"
        );
    }
    b.close().await.unwrap();
}

/// Where a link leads, reduced to the page it is an instance of (`/learners/ana` →
/// `/learners/*`), so a crawl visits each kind of page once.
fn page_kind(path: &str) -> String {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let parts: Vec<&str> = path.split('/').collect();
    let mut kind: Vec<String> = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        // Segments after a collection name are names and ids.
        let named = i >= 2
            && matches!(
                parts[i - 1],
                "learners"
                    | "programs"
                    | "groups"
                    | "awards"
                    | "users"
                    | "tokens"
                    | "lms"
                    | "external-training"
                    | "members"
                    | "requirements"
                    | "items"
            );
        kind.push(if named { "*".into() } else { (*p).to_owned() });
    }
    let mut keys: Vec<&str> = query
        .split('&')
        .filter_map(|kv| kv.split('=').next())
        .filter(|k| !k.is_empty() && *k != "cursor" && *k != "page" && *k != "done")
        .collect();
    keys.sort_unstable();
    keys.dedup();
    format!("{}?{}", kind.join("/"), keys.join("&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_demo_page_is_wider_than_a_phone() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    // On the test clock, so that every page carries its banner and the crawl reaches the
    // page that moves it.
    let app = TestApp::spawn_on_test_clock(Backend::Sqlite).await.unwrap();
    assert!(app.service.seed_demo().await.unwrap());
    let accounts = app.service.demo_accounts().await.unwrap();
    let base = app.base.clone();
    b.set_window_size(390, 844).await.unwrap();
    let mut too_wide = Vec::new();
    let mut broken = Vec::new();
    let mut visited_kinds = std::collections::HashSet::new();
    let mut pages = 0;
    for acc in &accounts {
        sign_in(&b, &base, acc.username, &acc.password).await;
        let width: i64 = b
            .execute("return window.innerWidth;", vec![])
            .await
            .unwrap()
            .as_i64()
            .unwrap();
        assert!(width <= 390, "the window is phone-sized ({width} px)");
        let mut queue: std::collections::VecDeque<String> = ["/".to_owned()].into();
        let mut seen = std::collections::HashSet::new();
        while let Some(path) = queue.pop_front() {
            if !seen.insert(page_kind(&path)) {
                continue;
            }
            b.goto(&format!("{base}{path}")).await.unwrap();
            pages += 1;
            visited_kinds.insert(page_kind(&path));
            // A link the page offered must not lead to an error.
            let source = b.source().await.unwrap();
            if let Some(at) = source.find("<p class=\"muted\">Error ") {
                broken.push(format!(
                    "{} {path}: {}",
                    acc.username,
                    &source[at..(at + 40).min(source.len())]
                ));
            }
            let (scroll, inner): (i64, i64) = {
                let v = b
                    .execute(
                        "return [document.documentElement.scrollWidth, window.innerWidth];",
                        vec![],
                    )
                    .await
                    .unwrap();
                (v[0].as_i64().unwrap(), v[1].as_i64().unwrap())
            };
            if scroll > inner {
                // Name the widest elements that stick out, to say what to fix.
                let culprits = b
                    .execute(
                        "const w = window.innerWidth; return Array.from(document.querySelectorAll('body *'))\
                         .filter(e => e.getBoundingClientRect().right > w + 1 && e.parentElement.getBoundingClientRect().right <= w + 1)\
                         .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right) + 'px: ' + (e.textContent || '').trim().slice(0, 40));",
                        vec![],
                    )
                    .await
                    .unwrap();
                too_wide.push(format!("{} {path}: {scroll} px {culprits}", acc.username));
            }
            let links = b
                .execute(
                    "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));",
                    vec![],
                )
                .await
                .unwrap();
            for l in links.as_array().unwrap() {
                let l = l.as_str().unwrap_or_default();
                // Pages of this site only; not downloads, anchors, or the secret-once pages.
                if l.starts_with('/')
                    && !l.starts_with("/assets/")
                    && !l.contains("format=")
                    && !l.contains("/evidence")
                    && !l.starts_with("/logout")
                {
                    let l = l.split('#').next().unwrap().to_owned();
                    if !seen.contains(&page_kind(&l)) {
                        queue.push_back(l);
                    }
                }
            }
        }
        // Back to the home page (the last page crawled may be one without the menu).
        b.goto(&format!("{base}/")).await.unwrap();
        sign_out(&b).await;
    }
    assert!(
        broken.is_empty(),
        "links that lead to errors:\n{}",
        broken.join("\n")
    );
    assert!(
        too_wide.is_empty(),
        "pages wider than 390 px:\n{}",
        too_wide.join("\n")
    );
    // The crawl reached the pages that matter, for some role.
    for kind in [
        "/dashboard?",
        "/reports/compliance?",
        "/groups/*?",
        "/programs/*?",
        "/learners/*?",
        "/awards/*?",
        "/my?",
        "/team?",
        "/audit?",
        "/admin/test-clock?",
    ] {
        assert!(
            visited_kinds.contains(kind),
            "{kind} was not visited: {visited_kinds:?}"
        );
    }
    assert!(pages > 20, "{pages} pages");
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_checks_a_file_with_a_dry_run_then_imports_it_for_real() {
    let Some((_driver, b)) = browser().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.program(json!({
        "code": "SAFE", "name": "Site Safety", "validity": {"count": 1, "unit": "years"},
        "renewal_window_days": 30, "grace_days": 30
    }))
    .await;
    app.account("root", "admin", None, &[]).await;
    let base = app.base.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("history.csv");
    std::fs::write(
        &file,
        "username,certification_code,certification_issue_date,always_valid,certification_expire_date\n\
         mia,SAFE,2026-03-01,0,2027-03-01\n\
         noah,SAFE,2026-04-01,0,\n\
         olga,FORK,2026-04-01,0,2027-04-01\n",
    )
    .unwrap();

    sign_in(&b, &base, "root", PASSWORD).await;
    click(&b, Locator::LinkText("Imports")).await;
    wait_for(&b, "Start the import").await;
    // The dry run is ticked by default.
    choose_file(&b, "file", &file).await;
    click(
        &b,
        Locator::XPath("//button[normalize-space()='Start the import']"),
    )
    .await;
    wait_for(&b, "Import of history.csv").await;
    // The server's runner takes the job; the page follows its progress by itself.
    app.service.run_import_jobs("test").await.unwrap();
    // When it ends, the page reloads by itself with the findings and the next step.
    let page = wait_for(&b, "Run this import for real").await;
    assert!(
        page.contains("Dry run finished: nothing was changed"),
        "{page}"
    );
    assert!(page.contains("no program has this code"), "{page}");
    assert_eq!(awards_of_safe(&app).await, 0, "a dry run wrote awards");

    // Running it for real asks first, naming what it will write.
    click(
        &b,
        Locator::XPath("//button[normalize-space()='Run this import for real']"),
    )
    .await;
    let asked = b.get_alert_text().await.unwrap();
    assert_eq!(
        asked,
        "Import history.csv for real? 2 records will be written (1 row rejected)."
    );
    b.accept_alert().await.unwrap();
    wait_for(&b, "Waiting to start").await;
    app.service.run_import_jobs("test").await.unwrap();
    wait_for(&b, "Finished").await;
    assert_eq!(awards_of_safe(&app).await, 2);
}

/// How many awards program SAFE has, by the API.
async fn awards_of_safe(app: &TestApp) -> usize {
    let awards = app
        .get("/api/v1/awards?program=SAFE")
        .await
        .expect(StatusCode::OK);
    awards["items"].as_array().map_or(0, Vec::len)
}
