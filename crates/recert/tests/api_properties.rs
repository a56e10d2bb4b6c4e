#![allow(clippy::unwrap_used)]
//! The API against its own OpenAPI document, by third-party tools run on the real binary
//! over a demo organization, on each database:
//! - schemathesis (`tools/api-check`, pinned) calls every operation with generated valid
//!   and invalid input: no 5xx, status codes, content types and headers as documented,
//!   bodies matching their schemas, invalid input refused;
//! - openapi-python-client generates a client from `docs/openapi.json`, and a smoke script
//!   does a day's work with it (create a program and a learner, award, read back, verify).

mod common;
use common::{recert_ok, serve};
use recert_testkit::{Backend, TestDb};
use std::path::Path;
use std::process::Command;

#[test]
fn the_api_answers_generated_requests_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    properties(&["--data-dir", data.to_str().unwrap()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(recert_pg),
    ignore = "PostgreSQL case: set RECERT_TEST_POSTGRES_URL to run it"
)]
async fn the_api_answers_generated_requests_as_documented_on_postgresql() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || properties(&["--database-url", &url, "--data-dir", &data]))
        .await
        .unwrap();
}

#[test]
fn a_client_generated_from_the_document_does_a_days_work() {
    let Some(tool) = recert_testkit::python_tool("api-check", "openapi-python-client") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&["--demo", "--data-dir", data.to_str().unwrap()]);
    let package = dir.path().join("recert_client");
    let generated = Command::new(tool.join(".venv/bin/openapi-python-client"))
        .current_dir(&tool)
        .env("PATH", path_with(&tool.join(".venv/bin")))
        .args(["generate", "--meta", "none", "--overwrite", "--path"])
        .arg(openapi_document())
        .arg("--output-path")
        .arg(&package)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "the generator failed:\n{}\n{}",
        String::from_utf8_lossy(&generated.stdout),
        String::from_utf8_lossy(&generated.stderr)
    );
    let out = Command::new(tool.join(".venv/bin/python"))
        .current_dir(&tool)
        .env("PYTHONPATH", dir.path())
        .args(["client_smoke.py", &server.base, &server.token])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ok"),
        "the generated client saw:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Serves the demo organization on this database and runs schemathesis against it.
fn properties(db_args: &[&str]) {
    let Some(tool) = recert_testkit::python_tool("api-check", "schemathesis") else {
        return;
    };
    let mut args = vec!["lms", "create", "--name", "schemathesis"];
    args.extend_from_slice(db_args);
    let creds = recert_ok(&args);
    let (key, secret) = creds.trim_end().split_once(':').unwrap();
    let mut serve_args = vec!["--demo"];
    serve_args.extend_from_slice(db_args);
    let server = serve(&serve_args);
    let report = tempfile::tempdir().unwrap();
    let out = Command::new(tool.join(".venv/bin/schemathesis"))
        .current_dir(&tool)
        .env("RECERT_TOKEN", &server.token)
        .env("RECERT_LMS_KEY", key)
        .env("RECERT_LMS_SECRET", secret)
        .env("NO_COLOR", "1")
        .args([
            "--no-color",
            "run",
            "--url",
            &server.base,
            "--seed",
            "20270615",
        ])
        // One worker: with more, CPython 3.11's `ast` (which Hypothesis calls to describe its
        // strategies) is not thread-safe and now and then fails the run with "AST constructor
        // recursion depth mismatch", an error of the tool, not of recert.
        .args(["--workers", "1", "--report", "junit", "--report-dir"])
        .arg(report.path())
        .arg(openapi_document())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found answers that differ from the document:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = server.log.lock().unwrap();
    assert!(
        !log.iter().any(|l| l.contains("panicked")),
        "the server panicked:\n{}",
        log.join("\n")
    );
}

fn openapi_document() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// `PATH` with `dir` first (the generator runs ruff, installed beside it, on its output).
fn path_with(dir: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_default();
    format!("{}:{rest}", dir.display())
}
