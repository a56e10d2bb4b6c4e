//! `recert bench verify_rps`: `GET /api/v1/verify/{id}` over a million awards under
//! `wrk -t2 -c64` (keep-alive, 64 connections), beside nginx serving the very same JSON
//! body as a static file with the same wrk settings, on the same machine in the same run.
//! The per-address verification limit is lifted for the run: all of wrk's load comes from
//! one address.

use super::awards_1m::{Data, on_generated};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub async fn run(data: crate::cli::BenchData, duration: u32) -> Result<()> {
    let wrk = super::which("wrk").context("wrk is needed (apt-get install wrk)")?;
    let nginx = super::which("nginx").context("nginx is needed (apt-get install nginx-light)")?;
    let seconds = duration.clamp(1, 600);
    on_generated(data, "verify_rps", async |_, generated| {
        bench(generated, seconds, &wrk, &nginx).await
    })
    .await
}

/// What wrk measured.
struct Load {
    per_second: f64,
    p99_ms: f64,
    errors: u64,
}

async fn bench(data: Data, seconds: u32, wrk: &Path, nginx: &Path) -> Result<()> {
    use sqlx::Row;
    let awards = data.awards;
    // An award from the middle of the table (not one a cache warmed by the generator).
    let id: String = {
        let mut conn = data.store.read().await?;
        sqlx::query("SELECT cert_id FROM awards ORDER BY id LIMIT 1 OFFSET $1")
            .bind((awards / 2) as i64)
            .fetch_one(&mut *conn)
            .await?
            .try_get("cert_id")?
    };
    let limits = recert_web::Limits {
        verifications_per_minute: u32::MAX,
        ..recert_web::Limits::default()
    };
    // Signing keys sealed with a key made for the run (the first request makes them).
    let service = data
        .service
        .clone()
        .with_kek(recert_credentials::Kek::generate()?);
    let (addr, _token, stop, server) = super::serve_local_with(service, limits).await?;
    let path = format!("/api/v1/verify/{id}");
    let res = reqwest::get(format!("http://{addr}{path}")).await?;
    if !res.status().is_success() {
        bail!("GET {path}: HTTP {}", res.status());
    }
    let body = res.bytes().await?;

    // The baseline: the same bytes, as a file nginx serves at the same path.
    let dir = tempfile::tempdir()?;
    let www = dir.path().join("www/api/v1/verify");
    std::fs::create_dir_all(&www)?;
    std::fs::write(www.join(&id), &body)?;
    readable_by_all(dir.path())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let conf = nginx_conf(dir.path(), port);
    std::fs::write(dir.path().join("nginx.conf"), conf)?;
    let nginx_args = |extra: &[&str]| {
        let mut c = Command::new(nginx);
        c.arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .args(extra);
        c
    };
    let mut child = nginx_args(&[]).spawn().context("starting nginx")?;
    let static_url = format!("http://127.0.0.1:{port}{path}");
    let mut up = false;
    for _ in 0..50 {
        if reqwest::get(&static_url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let outcome = async {
        if !up {
            bail!(
                "nginx did not answer: {}",
                std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
            );
        }
        let ours = load(wrk, &format!("http://{addr}{path}"), seconds).await?;
        let theirs = load(wrk, &static_url, seconds).await?;
        Ok((ours, theirs))
    }
    .await;
    let _ = nginx_args(&["-s", "stop"]).status();
    let _ = child.wait();
    let _ = stop.send(());
    let _ = server.await;
    let (ours, theirs) = outcome?;
    if ours.errors > 0 {
        bail!("recert answered {} requests with an error", ours.errors);
    }
    let ratio = ours.per_second / theirs.per_second.max(f64::MIN_POSITIVE);
    let ok = ratio >= 0.5 && ours.p99_ms <= 10.0;
    println!(
        "bench verify_rps ({}, {awards} awards, wrk -t2 -c64 -d{seconds}s, {} bytes): recert {:.0} req/s p99 {:.2} ms | baseline nginx static file {:.0} req/s p99 {:.2} ms | ratio {ratio:.2} | target >= 0.5x nginx and p99 <= 10 ms: {}",
        data.backend,
        body.len(),
        ours.per_second,
        ours.p99_ms,
        theirs.per_second,
        theirs.p99_ms,
        if ok { "met" } else { "MISSED" }
    );
    Ok(())
}

/// A configuration that serves `dir/www` on `port` and keeps every file it writes in `dir`.
fn nginx_conf(dir: &Path, port: u16) -> String {
    let d = dir.display();
    // As many workers as cores, like recert's runtime; no access log (recert keeps none
    // per request either).
    format!(
        "worker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nevents {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp-body;\n  proxy_temp_path {d}/tmp-proxy;\n\
           fastcgi_temp_path {d}/tmp-fastcgi;\n  uwsgi_temp_path {d}/tmp-uwsgi;\n  scgi_temp_path {d}/tmp-scgi;\n\
           keepalive_requests 1000000;\n\
           server {{\n    listen 127.0.0.1:{port};\n    root {d}/www;\n    location / {{ default_type application/json; }}\n  }}\n}}\n"
    )
}

/// nginx's workers run as another user when started as root: let them read the files.
fn readable_by_all(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::metadata(&p)?;
        let mode = if meta.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))?;
        if meta.is_dir() {
            for e in std::fs::read_dir(&p)? {
                stack.push(e?.path());
            }
        }
    }
    Ok(())
}

/// Runs wrk against `url` and reads its rate, 99th percentile and errors.
async fn load(wrk: &Path, url: &str, seconds: u32) -> Result<Load> {
    let wrk = wrk.to_path_buf();
    let url = url.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(wrk)
            .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", &url])
            .output()
    })
    .await?
    .context("running wrk")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    }
    parse_wrk(&text).with_context(|| format!("reading wrk's report:\n{text}"))
}

fn parse_wrk(text: &str) -> Result<Load> {
    let mut per_second = None;
    let mut p99_ms = None;
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            per_second = Some(v.trim().parse::<f64>()?);
        } else if let Some(v) = line.strip_prefix("99%") {
            p99_ms = Some(duration_ms(v.trim())?);
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v.trim().parse::<u64>()?;
        } else if line.starts_with("Socket errors:") {
            // "Socket errors: connect 0, read 0, write 0, timeout 0"
            errors += line
                .split([',', ':'])
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    Ok(Load {
        per_second: per_second.context("no Requests/sec line")?,
        p99_ms: p99_ms.context("no 99% line (run with --latency)")?,
        errors,
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `1.01s`.
fn duration_ms(v: &str) -> Result<f64> {
    let (number, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        bail!("unknown duration {v:?}")
    };
    Ok(number.parse::<f64>()? * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read() {
        let report = "Running 10s test @ http://127.0.0.1:8080/x\n  2 threads and 64 connections\n\
            Latency Distribution\n     50%  451.00us\n     75%  700.00us\n     90%    1.10ms\n     99%    3.25ms\n\
            561234 requests in 10.00s, 300.00MB read\n  Socket errors: connect 0, read 2, write 0, timeout 1\n\
            Non-2xx or 3xx responses: 4\nRequests/sec:  56123.40\nTransfer/sec:     30.00MB\n";
        let l = parse_wrk(report).unwrap();
        assert_eq!((l.per_second, l.p99_ms, l.errors), (56123.40, 3.25, 7));
        assert_eq!(duration_ms("812.00us").unwrap(), 0.812);
        assert_eq!(duration_ms("1.01s").unwrap(), 1010.0);
    }
}
