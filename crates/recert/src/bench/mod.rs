//! `recert bench …`: each benchmark builds its own data (fixed seed) in a temporary
//! directory (or a fresh PostgreSQL database) and prints its figure beside a baseline
//! measured in the same run, on the same machine and data (docs/benchmarks.md).

// Baselines are hand-written SQL on purpose, beside what the store runs.
#![allow(clippy::disallowed_methods)]

mod awards_1m;
mod compliance_1m;
mod import_1m;
mod reminders_1m;
mod render;
mod sign_verify;
mod verify_rps;

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
        BenchCommand::Completions {
            count,
            clients,
            batch,
        } => completions(count, clients, batch).await,
        BenchCommand::Awards1m { data, runs } => awards_1m::run(data, runs).await,
        BenchCommand::Compliance1m { data, sites, runs } => {
            compliance_1m::run(data, sites, runs).await
        }
        BenchCommand::Reminders1m {
            data,
            runs,
            due_percent,
        } => reminders_1m::run(data, runs, due_percent).await,
        BenchCommand::Import1m { rows } => import_1m::run(rows, None, false).await,
        BenchCommand::Import1mPg { rows, database_url } => {
            import_1m::run(rows, database_url, true).await
        }
        BenchCommand::SignVerify { count } => sign_verify::run(count),
        BenchCommand::Render { runs } => render::run(runs),
        BenchCommand::VerifyRps { data, duration } => verify_rps::run(data, duration).await,
    }
}

/// A fresh SQLite database with one program (item `C1` assigned long ago), `count`
/// learners, and an admin token; the server answering on a local port.
struct Setup {
    dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn setup(count: usize) -> Result<Setup> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Store::connect(&url).await?;
    let service = Service::new(store, Arc::new(SystemClock), "http://127.0.0.1");
    service.prepare("Bench Org", "UTC").await?;
    let admin = Principal::system();
    service
        .create_program(&admin, serde_json::from_value(serde_json::json!({
            "code": "BENCH", "name": "Benchmark Certification", "validity": {"count": 1, "unit": "years"},
            "items": [{"code": "C1", "kind": "course", "pass_threshold": 0.8, "assigned_on": "2020-01-01"}]
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
    let (addr, token, stop, server) = serve_local(service).await?;
    Ok(Setup {
        dir,
        addr,
        token,
        stop,
        server,
    })
}

/// A running server on a local port, with an admin token.
type Served = (
    std::net::SocketAddr,
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
);

/// Serves `service` on a free local port and makes an admin token for it; stop it by
/// sending on the channel and awaiting the task.
pub(crate) async fn serve_local(service: Service) -> Result<Served> {
    serve_local_with(service, recert_web::Limits::default()).await
}

/// [`serve_local`] with limits of its own.
pub(crate) async fn serve_local_with(
    service: Service,
    limits: recert_web::Limits,
) -> Result<Served> {
    let token = service
        .create_token(
            &Principal::system(),
            recert_service::tokens::TokenDraft::unscoped("bench", "admin"),
        )
        .await?
        .token;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(recert_web::serve_with(listener, service, limits, async {
        let _ = stop_rx.await;
    }));
    Ok((addr, token, stop, server))
}

impl Setup {
    async fn finish(self) -> tempfile::TempDir {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.dir
    }
}

/// Sends `jobs` POST requests to `path` from `clients` concurrent keep-alive clients; the
/// body of job `i` comes from `body(i)`. Returns the wall time and each request's latency.
async fn drive(
    s: &Setup,
    path: &str,
    jobs: usize,
    clients: usize,
    expect: reqwest::StatusCode,
    body: Arc<dyn Fn(usize) -> serde_json::Value + Send + Sync>,
) -> Result<(Duration, Vec<Duration>)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, next, token, body) =
            (client.clone(), next.clone(), s.token.clone(), body.clone());
        let endpoint = format!("http://{}{path}", s.addr);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs {
                    break;
                }
                let t = Instant::now();
                let res = client
                    .post(&endpoint)
                    .bearer_auth(&token)
                    .json(&body(i))
                    .send()
                    .await?;
                if res.status() != expect {
                    bail!(
                        "request {i}: HTTP {} {}",
                        res.status(),
                        res.text().await.unwrap_or_default()
                    );
                }
                latencies.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(jobs);
    for t in tasks {
        latencies.extend(t.await.context("client task")??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((elapsed, latencies))
}

fn p99(latencies: &[Duration]) -> Duration {
    latencies
        .get(latencies.len().saturating_mul(99) / 100)
        .copied()
        .unwrap_or_default()
}

/// Awards issued through the HTTP API, one request each, keep-alive, N concurrent clients,
/// against the same number of bare single-row SQLite transactions.
async fn issue(count: usize, clients: usize) -> Result<()> {
    let s = setup(count).await?;
    let body = Arc::new(
        |i: usize| serde_json::json!({"learner": format!("learner{i:06}"), "program": "BENCH", "issued_on": "2026-01-15"}),
    );
    let (elapsed, latencies) = drive(
        &s,
        "/api/v1/awards",
        count,
        clients,
        reqwest::StatusCode::CREATED,
        body,
    )
    .await?;
    let dir = s.finish().await;
    let baseline = baseline_inserts(dir.path(), count, 1).await?;
    let rate = count as f64 / elapsed.as_secs_f64();
    let base_rate = count as f64 / baseline.as_secs_f64();
    println!(
        "bench issue_10k: recert {rate:.0} awards/s ({:.2} s, {clients} clients, p99 {:.1} ms) | baseline sqlite single-row tx {base_rate:.0} inserts/s ({:.2} s) | ratio {:.2} | target >= 2000 awards/s, ratio <= 3",
        elapsed.as_secs_f64(),
        p99(&latencies).as_secs_f64() * 1000.0,
        baseline.as_secs_f64(),
        elapsed.as_secs_f64() / baseline.as_secs_f64(),
    );
    Ok(())
}

/// Completions through the API, each earning an award: first one per request, then the
/// same number again (new learners' events) in batches. Baselines: bare SQLite inserts of
/// the same count, one per transaction and `batch` per transaction.
async fn completions(count: usize, clients: usize, batch: usize) -> Result<()> {
    let batch = batch.clamp(1, recert_service::completions::MAX_BATCH);
    // Learners 0..count take single completions, count..2*count batched ones.
    let s = setup(count * 2).await?;
    let single = Arc::new(|i: usize| {
        serde_json::json!({"event_id": format!("s-{i}"), "learner": format!("learner{i:06}"),
            "item": "C1", "completed_on": "2026-01-15", "score": 92, "max_score": 100})
    });
    let (single_time, single_lat) = drive(
        &s,
        "/api/v1/completions",
        count,
        clients,
        reqwest::StatusCode::CREATED,
        single,
    )
    .await?;
    let requests = count.div_ceil(batch);
    let batched = Arc::new(move |r: usize| {
        let items: Vec<serde_json::Value> = (r * batch..((r + 1) * batch).min(count))
            .map(|i| {
                let n = count + i;
                serde_json::json!({"event_id": format!("b-{n}"), "learner": format!("learner{n:06}"),
                    "item": "C1", "completed_on": "2026-01-15", "score": 0.92})
            })
            .collect();
        serde_json::Value::Array(items)
    });
    let (batch_time, _) = drive(
        &s,
        "/api/v1/completions",
        requests,
        clients.min(requests.max(1)),
        reqwest::StatusCode::OK,
        batched,
    )
    .await?;
    let dir = s.finish().await;
    let base_single = baseline_inserts(dir.path(), count, 1).await?;
    let base_batch = baseline_inserts(dir.path(), count, batch).await?;
    let rate = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "bench completions_single: recert {:.0} completions/s ({:.2} s, {clients} clients, p99 {:.1} ms, each earning an award) | baseline sqlite single-row tx {:.0} inserts/s ({:.2} s) | ratio {:.2}",
        rate(count, single_time),
        single_time.as_secs_f64(),
        p99(&single_lat).as_secs_f64() * 1000.0,
        rate(count, base_single),
        base_single.as_secs_f64(),
        single_time.as_secs_f64() / base_single.as_secs_f64(),
    );
    println!(
        "bench completions_batch: recert {:.0} completions/s ({:.2} s, {requests} requests of {batch}) | baseline sqlite inserts, {batch} per tx {:.0} inserts/s ({:.2} s) | ratio {:.2}",
        rate(count, batch_time),
        batch_time.as_secs_f64(),
        rate(count, base_batch),
        base_batch.as_secs_f64(),
        batch_time.as_secs_f64() / base_batch.as_secs_f64(),
    );
    Ok(())
}

/// The same number of rows inserted bare on one SQLite connection with the same journal
/// settings, `per_tx` rows per transaction.
async fn baseline_inserts(dir: &std::path::Path, count: usize, per_tx: usize) -> Result<Duration> {
    sqlx::any::install_default_drivers();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.join(format!("baseline-{per_tx}.db")).display()
    );
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
    conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .await?;
    conn.execute(
        "CREATE TABLE awards (id INTEGER PRIMARY KEY, cert_id TEXT NOT NULL UNIQUE, learner_id BIGINT NOT NULL, \
         program_id BIGINT NOT NULL, issued_on TEXT NOT NULL, expires_on TEXT)",
    )
    .await?;
    let started = Instant::now();
    let mut i = 0;
    while i < count {
        let mut tx = <sqlx::AnyConnection as sqlx::Connection>::begin(&mut conn).await?;
        for _ in 0..per_tx.min(count - i) {
            sqlx::query("INSERT INTO awards (cert_id, learner_id, program_id, issued_on, expires_on) VALUES ($1, $2, 1, '2026-01-15', '2027-01-15')")
                .bind(format!("C{i:015}"))
                .bind(i as i64)
                .execute(&mut *tx)
                .await?;
            i += 1;
        }
        tx.commit().await?;
    }
    Ok(started.elapsed())
}

/// A program on the `PATH` (or in `/usr/sbin`, where Debian puts nginx).
pub(super) fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([std::path::PathBuf::from("/usr/sbin")])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
