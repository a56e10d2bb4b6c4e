//! Operations on the real binary (issue 15): an import job killed mid-way finishes exactly
//! once after a restart; `recert backup` while serving and `recert restore` into a new
//! directory give the same awards and a verifying audit chain; `recert export` streams.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{recert_ok, serve};

fn recert(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recert"))
        .args(args)
        .output()
        .unwrap()
}

async fn get(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    let r = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

/// `POST /api/v1/imports` with `form`; the queued job's answer.
async fn submit_import(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    form: reqwest::multipart::Form,
) -> Value {
    client
        .post(format!("{base}/api/v1/imports"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_import_finishes_the_job_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    const ROWS: usize = 30_000;
    let mut csv = String::from(
        "username,certification_code,certification_issue_date,always_valid,certification_expire_date\n",
    );
    for i in 0..ROWS {
        csv.push_str(&format!(
            "imp{i:05},SAFE-ANNUAL,2026-{:02}-{:02},0,2027-{:02}-{:02}\n",
            i % 12 + 1,
            i % 28 + 1,
            i % 12 + 1,
            i % 28 + 1
        ));
    }
    // Batches of 2,000 rows, so the job is killed between commits.
    let mut server = serve(&["--demo", "--data-dir", data, "--import-batch-rows", "2000"]);
    let client = reqwest::Client::new();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("history.csv"),
    );
    let queued = submit_import(&client, &server.base, &server.token, form).await;
    let job = queued["job"].as_i64().unwrap_or_else(|| panic!("{queued}"));
    let path = format!("/api/v1/imports/{job}");
    // Wait until some batches are committed, then kill the process (SIGKILL: no chance to
    // finish the batch it is in).
    let until = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let j = get(&client, &server.base, &server.token, &path).await;
        let done = j["rows_done"].as_i64().unwrap();
        if j["state"] == "running" && done > 0 {
            break done;
        }
        assert!(
            j["state"] != "done",
            "the import finished before it could be killed: {j}"
        );
        assert!(Instant::now() < until, "the import never started: {j}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let token = server.token.clone();
    drop(server);
    assert!(at_kill < ROWS as i64);

    // Started again, the server takes the job up where its last commit left it.
    server = serve(&["--data-dir", data, "--import-batch-rows", "2000"]);
    let until = Instant::now() + Duration::from_secs(300);
    let finished = loop {
        let j = get(&client, &server.base, &token, &path).await;
        if j["state"] == "done" {
            break j;
        }
        assert!(j["state"] != "failed", "{j}");
        assert!(
            Instant::now() < until,
            "the import did not finish after the restart: {j}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (
            finished["rows_done"].as_i64(),
            finished["imported"].as_i64(),
            finished["rejected"].as_i64(),
            finished["learners_created"].as_i64()
        ),
        (
            Some(ROWS as i64),
            Some(ROWS as i64),
            Some(0),
            Some(ROWS as i64)
        ),
        "{finished}"
    );
    let events = get(
        &client,
        &server.base,
        &token,
        "/api/v1/audit?action=import.completed",
    )
    .await;
    assert_eq!(events["total"], 1, "{events}");
    drop(server);

    // Every row is one award: none lost, none twice.
    let lines = recert_ok(&["export", "awards", "--format", "jsonl", "--data-dir", data]);
    let mut refs: Vec<String> = lines
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter_map(|a| a["source_ref"].as_str().map(str::to_owned))
        .filter(|r| r.starts_with(&format!("import:{job}:")))
        .collect();
    assert_eq!(refs.len(), ROWS);
    refs.sort();
    refs.dedup();
    assert_eq!(refs.len(), ROWS, "an import row became two awards");
    let verify = recert_ok(&["audit", "verify", "--data-dir", data]);
    assert!(verify.contains("intact"), "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_serving_restores_the_same_awards_and_a_verifying_chain() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let file = dir.path().join("recert-backup.db");
    let file = file.to_str().unwrap();
    let server = serve(&["--demo", "--data-dir", a]);
    // People keep being added while the backup is taken.
    let base = server.base.clone();
    let token = server.token.clone();
    let writer = tokio::spawn(async move {
        let client = reqwest::Client::new();
        for i in 0..40 {
            let r = client
                .post(format!("{base}/api/v1/learners"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"username": format!("during{i}"), "legal_name": format!("During {i}")}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    });
    let out = recert(&["backup", file, "--data-dir", a]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("key-encryption"));
    writer.await.unwrap();
    // A second backup to the same file is refused rather than overwriting it.
    assert!(!recert(&["backup", file, "--data-dir", a]).status.success());

    let out = recert(&["restore", file, "--data-dir", b]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.contains("audit trail intact"), "{said}");
    // Restoring over a database is refused.
    assert!(!recert(&["restore", file, "--data-dir", b]).status.success());

    let verify = recert_ok(&["audit", "verify", "--data-dir", b]);
    assert!(verify.contains("intact"), "{verify}");
    // The same awards, field for field (the server is still running on A).
    let awards_a = recert_ok(&["export", "awards", "--format", "csv", "--data-dir", a]);
    let awards_b = recert_ok(&["export", "awards", "--format", "csv", "--data-dir", b]);
    assert!(awards_a.lines().count() > 100, "{awards_a}");
    assert_eq!(awards_a, awards_b);
    drop(server);
}

recert_testkit::both_backends! {
    /// `recert import list` shows the jobs; `recert import cancel` stops a queued one as
    /// the API does, naming the operator, and refuses clearly what it cannot cancel.
    async fn the_command_line_lists_and_cancels_import_jobs(app) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let db: [&str; 4] = ["--database-url", &app.db.url, "--data-dir", data];
        let form = reqwest::multipart::Form::new().text("kind", "learners").part(
            "file",
            reqwest::multipart::Part::bytes(b"username,legal_name\nana,Ana \xC3\x81lvarez\n".to_vec())
                .file_name("people.csv"),
        );
        let queued = submit_import(&app.client, &app.base, &app.token, form).await;
        let job = queued["job"].as_i64().unwrap_or_else(|| panic!("{queued}")).to_string();
        assert_eq!(queued["state"], "queued", "{queued}");

        let list = recert_ok(&[&["import", "list"][..], &db].concat());
        let line = list.lines().find(|l| l.starts_with(&job)).unwrap_or_else(|| panic!("{list}"));
        assert!(line.contains("queued") && line.contains("people.csv"), "{list}");

        let out = recert(&[&["import", "cancel", &job][..], &db].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains(&format!("import {job} cancelled")), "{err}");
        let ended = app.get(&format!("/api/v1/imports/{job}")).await.expect(recert_testkit::StatusCode::OK);
        assert_eq!(ended["state"], "failed", "{ended}");
        let failure = ended["failure"].as_str().unwrap_or_default();
        assert!(failure.starts_with("cancelled by ") && failure.ends_with(" (command line)"), "{ended}");
        assert_eq!(app.service.run_import_jobs("test").await.unwrap(), 0);

        // Ended, unknown, not a number: each said plainly, none a panic.
        for (arg, says) in [(job.as_str(), "already ended"), ("12345", "does not exist"), ("abc", "not an import job's number")] {
            let out = recert(&[&["import", "cancel", arg][..], &db].concat());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success() && err.contains(says), "{arg}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
    }
}
