//! `recert bench …`: each benchmark builds its own data (fixed seed) in a temporary
//! directory and prints its figure beside a baseline measured in the same run
//! (see shared/BENCHMARKS.md).

use crate::cli::BenchCommand;
use anyhow::{Context, Result, bail};
use recert_service::learners::LearnerDraft;
use recert_service::{Principal, Service, Store, SystemClock};
use sqlx::Executor;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub async fn run(which: BenchCommand) -> Result<()> {
    match which {
        BenchCommand::Issue10k { count, clients } => issue(count, clients).await,
    }
}

/// Awards issued through the HTTP API, one request each, keep-alive, N concurrent clients,
/// against the same number of bare single-row SQLite transactions.
async fn issue(count: usize, clients: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await?;
    let service = Service::new(store, Arc::new(SystemClock), "http://127.0.0.1");
    service.prepare("Bench Org", "UTC").await?;
    let admin = Principal::system();
    service
        .create_program(&admin, serde_json::from_value(serde_json::json!({
            "code": "BENCH", "name": "Benchmark Certification", "validity": {"count": 1, "unit": "years"}
        }))?)
        .await?;
    eprintln!("preparing {count} learners…");
    for i in 0..count {
        service
            .create_learner(
                &admin,
                LearnerDraft {
                    username: Some(format!("learner{i:06}")),
                    legal_name: Some(format!("Learner {i}")),
                    ..Default::default()
                },
            )
            .await?;
    }
    let token = service
        .create_token(
            &admin,
            recert_service::tokens::TokenDraft::unscoped("bench", "admin"),
        )
        .await?
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(recert_web::serve(listener, service, async {
        let _ = stop_rx.await;
    }));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, next, token) = (client.clone(), next.clone(), token.clone());
        let endpoint = format!("http://{addr}/api/v1/awards");
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                let t = Instant::now();
                let res = client
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"learner": format!("learner{i:06}"), "program": "BENCH", "issued_on": "2026-01-15"}))
                    .send()
                    .await?;
                if res.status() != reqwest::StatusCode::CREATED {
                    bail!("award {i}: HTTP {} {}", res.status(), res.text().await.unwrap_or_default());
                }
                latencies.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    for t in tasks {
        latencies.extend(t.await.context("client task")??);
    }
    let elapsed = started.elapsed();
    let _ = stop_tx.send(());
    let _ = server.await;
    latencies.sort();
    let p99 = latencies
        .get(latencies.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default();

    let baseline = baseline_inserts(dir.path(), count).await?;
    let rate = count as f64 / elapsed.as_secs_f64();
    let base_rate = count as f64 / baseline.as_secs_f64();
    println!(
        "bench issue_10k: recert {rate:.0} awards/s ({:.2} s, {clients} clients, p99 {:.1} ms) | baseline sqlite single-row tx {base_rate:.0} inserts/s ({:.2} s) | ratio {:.2} | target >= 2000 awards/s, ratio <= 3",
        elapsed.as_secs_f64(),
        p99.as_secs_f64() * 1000.0,
        baseline.as_secs_f64(),
        elapsed.as_secs_f64() / baseline.as_secs_f64(),
    );
    Ok(())
}

/// The same rows inserted as bare single-row transactions on one SQLite connection with
/// the same journal settings.
async fn baseline_inserts(dir: &std::path::Path, count: usize) -> Result<Duration> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rwc", dir.join("baseline.db").display());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .await?;
    conn.execute(
        "CREATE TABLE awards (id INTEGER PRIMARY KEY, cert_id TEXT NOT NULL UNIQUE, learner_id BIGINT NOT NULL, \
         program_id BIGINT NOT NULL, issued_on TEXT NOT NULL, expires_on TEXT)",
    )
    .await?;
    let started = Instant::now();
    for i in 0..count {
        let mut tx = <sqlx::AnyConnection as sqlx::Connection>::begin(&mut conn).await?;
        sqlx::query("INSERT INTO awards (cert_id, learner_id, program_id, issued_on, expires_on) VALUES ($1, $2, 1, '2026-01-15', '2027-01-15')")
            .bind(format!("C{i:015}"))
            .bind(i as i64)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(started.elapsed())
}
