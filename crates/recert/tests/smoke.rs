//! Starts the real `recert` binary the way the README does and talks to it over HTTP.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use recert_testkit::{Backend, TestDb};
use std::process::Command;
use std::time::Duration;

mod common;
use common::{Server, recert_ok, serve};

/// Runs `recert serve --demo` on port 0 and waits for the address and demo token it prints.
fn serve_demo(db_args: &[&str]) -> Server {
    let mut args = vec!["--demo"];
    args.extend_from_slice(db_args);
    common::serve(&args)
}

async fn check_demo(server: &Server, db_args: &[&str]) {
    let client = reqwest::Client::new();
    let health: serde_json::Value = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let get = |path: String| {
        let client = client.clone();
        let token = server.token.clone();
        async move {
            let r = client.get(path).bearer_auth(token).send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let programs = get(format!("{}/api/v1/programs", server.base)).await;
    let codes: Vec<&str> = programs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["code"].as_str())
        .collect();
    assert_eq!(codes, vec!["SAFE-ANNUAL", "CPE"]);
    let sites = get(format!("{}/api/v1/groups?kind=site", server.base)).await;
    assert_eq!(sites["items"].as_array().unwrap().len(), 3);
    let learners = get(format!("{}/api/v1/learners?limit=500", server.base)).await;
    assert_eq!(learners["items"].as_array().unwrap().len(), 400);
    // Every date status is represented in the demo today.
    for status in ["active", "expiring", "grace", "lapsed"] {
        let page = get(format!(
            "{}/api/v1/awards?status={status}&limit=5",
            server.base
        ))
        .await;
        assert!(
            !page["items"].as_array().unwrap().is_empty(),
            "no {status} awards in the demo"
        );
    }
    // Scores read as people wrote them (0.85, never 0.8500000000000001).
    let scored = get(format!("{}/api/v1/awards?limit=200", server.base)).await;
    for a in scored["items"].as_array().unwrap() {
        if let Some(score) = a["score"].as_f64() {
            let shown = score.to_string();
            assert!(shown.len() <= 4, "{} has score {shown}", a["id"]);
        }
    }
    // The demo has completions from the LMS and reports waiting for approval.
    let completions = get(format!("{}/api/v1/completions?limit=100", server.base)).await;
    assert_eq!(completions["items"].as_array().unwrap().len(), 60);
    let pending = get(format!(
        "{}/api/v1/external-training?state=pending",
        server.base
    ))
    .await;
    assert_eq!(pending["items"].as_array().unwrap().len(), 3);

    // The compliance report: the CLI gives the API's numbers, today and three months ago.
    let today = get(format!("{}/api/v1/reports/compliance", server.base)).await;
    let day: jiff::civil::Date = today["as_of"].as_str().unwrap().parse().unwrap();
    let earlier = day
        .checked_sub(jiff::Span::new().months(3))
        .unwrap()
        .to_string();
    for as_of in [day.to_string(), earlier] {
        let api = get(format!(
            "{}/api/v1/reports/compliance?as_of={as_of}&group=Tulsa%20Yard&program=SAFE-ANNUAL",
            server.base
        ))
        .await;
        let mut args = vec![
            "report",
            "compliance",
            "--as-of",
            &as_of,
            "--group",
            "Tulsa Yard",
            "--program",
            "SAFE-ANNUAL",
            "--format",
            "json",
        ];
        args.extend_from_slice(db_args);
        let cli: serde_json::Value = serde_json::from_str(&recert_ok(&args)).unwrap();
        assert_eq!(cli, api, "as of {as_of}");
        assert!(api["rows"][0]["required"].as_i64().unwrap() > 100, "{api}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xlsx");
    let mut args = vec![
        "report",
        "compliance",
        "--format",
        "xlsx",
        "--output",
        file.to_str().unwrap(),
    ];
    args.extend_from_slice(db_args);
    recert_ok(&args);
    assert_eq!(&std::fs::read(&file).unwrap()[..2], b"PK");
    let mut args = vec!["report", "compliance", "--format", "csv"];
    args.extend_from_slice(db_args);
    let csv = recert_ok(&args);
    assert_eq!(
        csv.lines().count(),
        today["rows"].as_array().unwrap().len() + 2,
        "{csv}"
    );

    // A credential the server signed verifies with `recert verify` on the same database
    // (the same keys and status lists), and a tampered copy does not.
    let awards = get(format!(
        "{}/api/v1/awards?limit=1&status=active",
        server.base
    ))
    .await;
    let id = awards["items"][0]["id"].as_str().unwrap().to_owned();
    let vc = get(format!("{}/api/v1/awards/{id}/credential", server.base)).await;
    let file = dir_of(db_args).join("credential.json");
    std::fs::write(&file, vc.to_string()).unwrap();
    let mut args = vec![
        "verify",
        file.to_str().unwrap(),
        "--base-url",
        server.base.as_str(),
    ];
    args.extend_from_slice(db_args);
    let out = recert_ok(&args);
    assert!(
        out.contains("ok   proof: signed by") && out.ends_with("verified\n"),
        "{out}"
    );
    let mut tampered = vc.clone();
    tampered["name"] = serde_json::json!("Something else");
    std::fs::write(&file, tampered.to_string()).unwrap();
    let (ok, out, _) = recert_env(&args, &[]);
    assert!(!ok && out.contains("FAIL proof"), "{out}");
}

/// The data directory among a command's arguments.
fn dir_of(db_args: &[&str]) -> std::path::PathBuf {
    let i = db_args
        .iter()
        .position(|a| *a == "--data-dir")
        .expect("a --data-dir");
    std::path::PathBuf::from(db_args[i + 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_quick_start_serves_the_demo_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let server = serve_demo(&["--data-dir", data]);
    check_demo(&server, &["--data-dir", data]).await;
    // `token create` on the same database prints the token alone on stdout.
    let token = recert_ok(&[
        "token",
        "create",
        "--name",
        "ci",
        "--role",
        "admin",
        "--data-dir",
        data,
    ]);
    let token = token.trim_end_matches('\n');
    assert!(
        token.starts_with("rct_") && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/awards?limit=1", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // `lms create` prints KEY:SECRET alone on stdout; the LRS accepts them at once.
    let creds = recert_ok(&["lms", "create", "--name", "moodle", "--data-dir", data]);
    let creds = creds.trim_end_matches('\n');
    let (key, secret) = creds.split_once(':').unwrap();
    assert!(
        key.starts_with("lms_") && !secret.contains(char::is_whitespace),
        "{creds:?}"
    );
    let r = reqwest::Client::new()
        .get(format!("{}/xapi/statements", server.base))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    assert!(recert_ok(&["lms", "list", "--data-dir", data]).contains("moodle"));
    recert_ok(&["lms", "revoke", "--name", "moodle", "--data-dir", data]);
    let r = reqwest::Client::new()
        .get(format!("{}/xapi/statements", server.base))
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED);
    drop(server);
    // Restarting does not seed twice.
    let again = serve_demo(&["--data-dir", data]);
    check_demo(&again, &["--data-dir", data]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(recert_pg),
    ignore = "PostgreSQL case: set RECERT_TEST_POSTGRES_URL to run it"
)]
async fn demo_serves_on_postgresql_too() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    recert_ok(&["migrate", "--database-url", &db.url]);
    // The data directory still holds the generated key-encryption key.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = ["--database-url", db.url.as_str(), "--data-dir", data];
    let server = serve_demo(&args);
    check_demo(&server, &args).await;
}

#[test]
fn bad_database_url_fails_with_a_message_not_a_panic() {
    let out = Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(["migrate", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Runs the binary with extra environment; returns (success, stdout, stderr).
fn recert_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn setting<'a>(shown: &'a str, key: &str) -> &'a str {
    shown
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("{key} not shown:\n{shown}"))
}

#[test]
fn config_show_layers_defaults_file_environment_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("recert.toml"),
        "org_name = \"From The File\"\nbind = \"127.0.0.1:1111\"\ntime_zone = \"Europe/Paris\"\n\
         database_url = \"postgres://app:s3cret@db.example/recert\"\nsurprise = 1\n",
    )
    .unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let (ok, shown, err) = recert_env(
        &[
            "config",
            "show",
            "--data-dir",
            data_dir,
            "--bind",
            "127.0.0.1:3333",
        ],
        &[("RECERT_TIME_ZONE", "Asia/Tokyo"), ("RECERT_LOG", "debug")],
    );
    assert!(ok, "{err}");
    assert!(setting(&shown, "org_name").contains("From The File"));
    assert!(setting(&shown, "org_name").contains("# file "));
    assert!(
        setting(&shown, "bind").contains("127.0.0.1:3333")
            && setting(&shown, "bind").contains("# flag --bind")
    );
    assert!(
        setting(&shown, "time_zone").contains("Asia/Tokyo")
            && setting(&shown, "time_zone").contains("# env RECERT_TIME_ZONE")
    );
    assert!(
        setting(&shown, "log").contains("debug")
            && setting(&shown, "log").contains("# env RECERT_LOG")
    );
    assert!(
        setting(&shown, "demo").contains("false") && setting(&shown, "demo").contains("# default")
    );
    assert!(setting(&shown, "database_url").contains("postgres://app:***@db.example/recert"));
    assert!(
        !shown.contains("s3cret") && !err.contains("s3cret"),
        "the password leaked"
    );
    assert!(shown.contains("unknown key in the settings file: surprise"));
    // A flag beats the environment, which beats the file.
    let (_, shown, _) = recert_env(
        &[
            "config",
            "show",
            "--data-dir",
            data_dir,
            "--org-name",
            "From A Flag",
        ],
        &[("RECERT_ORG_NAME", "From The Environment")],
    );
    assert!(setting(&shown, "org_name").contains("From A Flag"));
    let (_, shown, _) = recert_env(
        &["config", "show", "--data-dir", data_dir],
        &[("RECERT_ORG_NAME", "From The Environment")],
    );
    assert!(setting(&shown, "org_name").contains("From The Environment"));
    // An explicit settings file must exist; a malformed one is named.
    let (ok, _, err) = recert_env(
        &["config", "show", "--config", "/nonexistent/recert.toml"],
        &[],
    );
    assert!(!ok && err.contains("/nonexistent/recert.toml"), "{err}");
    std::fs::write(dir.path().join("bad.toml"), "bind = [1, 2]\n").unwrap();
    let bad = dir.path().join("bad.toml");
    let (ok, _, err) = recert_env(&["config", "show", "--config", bad.to_str().unwrap()], &[]);
    assert!(!ok && err.contains("bind must be a string"), "{err}");
}

/// Whether a command is on PATH.
fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

#[test]
fn audit_verify_counts_an_intact_chain_and_names_a_row_edited_with_sqlite3() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    recert_ok(&["token", "create", "--name", "ci", "--data-dir", data_dir]);
    recert_ok(&["lms", "create", "--name", "moodle", "--data-dir", data_dir]);
    let intact = recert_ok(&["audit", "verify", "--data-dir", data_dir]);
    // The organization, its first signing key, the token, the LMS connection.
    assert!(intact.contains("intact: 4 events"), "{intact}");
    if !on_path("sqlite3") {
        assert!(
            std::env::var("CI").is_err(),
            "the sqlite3 CLI must be installed in CI (.ci/run installs it)"
        );
        eprintln!("skipped: the edit with the sqlite3 CLI (not installed)");
        return;
    }
    let db = dir.path().join("recert.db");
    let edit = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
        .output()
        .unwrap();
    assert!(
        edit.status.success(),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let (ok, out, err) = recert_env(&["audit", "verify", "--data-dir", data_dir], &[]);
    assert!(!ok, "an edited chain verified: {out}");
    assert!(err.contains("broken at event 2"), "{err}");
}

/// `recert clock set` moves the test clock of a running `serve --test-clock` (read again
/// every second), and a date means 09:00 in the organization's zone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_set_moves_a_running_test_clock_instance() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = recert_ok(&["clock", "set", "2027-10-12", "--data-dir", data]);
    assert!(out.contains("2027-10-12T09:00:00Z"), "{out}");
    let server = serve_demo(&["--data-dir", data, "--test-clock"]);
    let client = reqwest::Client::new();
    let now = || async {
        let v: serde_json::Value = client
            .get(format!("{}/api/v1/test-clock", server.base))
            .bearer_auth(&server.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["test_clock"], true, "{v}");
        v["now"].as_str().unwrap().to_owned()
    };
    assert_eq!(now().await, "2027-10-12T09:00:00Z");
    recert_ok(&["clock", "set", "2028-01-31T17:45:00Z", "--data-dir", data]);
    let mut seen = String::new();
    for _ in 0..50 {
        seen = now().await;
        if seen == "2028-01-31T17:45:00Z" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen, "2028-01-31T17:45:00Z",
        "the instance follows within seconds"
    );
    // A bad value is refused with a message, not a panic.
    let out = Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(["clock", "set", "the 12th", "--data-dir", data])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("now"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_request_in_flight_and_stops_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let token = recert_ok(&[
        "token",
        "create",
        "--name",
        "ci",
        "--role",
        "admin",
        "--data-dir",
        data,
    ]);
    let token = token.trim_end_matches('\n');
    let mut server = serve(&["--data-dir", data]);
    // A request whose body is still on its way when the signal comes.
    let body = r#"{"username": "late", "legal_name": "Late Arrival"}"#;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/learners HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ended = tokio::task::spawn_blocking(move || {
        let ended = server.terminate(Duration::from_secs(20));
        (ended, server)
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    conn.write_all(body.as_bytes()).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight was answered: {answer}"
    );
    let (ended, server) = ended.await.unwrap();
    let log = server.log.lock().unwrap().join("\n");
    assert_eq!(
        ended,
        Some(true),
        "recert ended with success on SIGTERM: {log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    // The learner written in the last moments is there when recert starts again.
    let again = serve(&["--data-dir", data]);
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/learners/late", again.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}
