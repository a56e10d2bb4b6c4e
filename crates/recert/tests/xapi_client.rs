#![allow(clippy::unwrap_used)]
//! recert's LRS driven by a real xAPI client library (`@xapi/xapi` under node, in
//! `tools/xapi-client`, pinned by its lock file), against the real binary on the system
//! clock: statements sent, queried by agent, verb and since, paged through `more`, voided
//! and read back, an invalid one refused.

mod common;
use common::{recert_ok, serve};
use recert_testkit::{Backend, TestDb};

#[test]
fn an_xapi_client_library_sends_queries_pages_and_voids() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    client_check(&["--data-dir", data.to_str().unwrap()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(recert_pg),
    ignore = "PostgreSQL case: set RECERT_TEST_POSTGRES_URL to run it"
)]
async fn an_xapi_client_library_sends_queries_pages_and_voids_on_postgresql() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let url = db.url.clone();
    tokio::task::spawn_blocking(move || {
        client_check(&["--database-url", &url, "--data-dir", &data]);
    })
    .await
    .unwrap();
}

/// Creates an LMS connection, serves, and runs the client check against it.
fn client_check(db_args: &[&str]) {
    let Some(tool) = recert_testkit::node_tool("xapi-client") else {
        return;
    };
    let mut args = vec!["lms", "create", "--name", "client"];
    args.extend_from_slice(db_args);
    let creds = recert_ok(&args);
    let (key, secret) = creds.trim_end().split_once(':').unwrap();
    let server = serve(db_args);
    let out = std::process::Command::new("node")
        .current_dir(&tool)
        .args(["check.mjs", &format!("{}/xapi/", server.base), key, secret])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("\"ok\":true"),
        "the client saw: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
