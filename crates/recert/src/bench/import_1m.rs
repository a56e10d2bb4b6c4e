//! `recert bench import_1m` / `import_1m_pg`: a million-row certification-records CSV (the
//! Docebo column set; 100,000 learners × 10 programs, fixed seed) imported into a fresh
//! database through the import job the API and the CLI run — validation, learners created,
//! chain rules, notice queue, one audit event — beside the database's own bulk loader on
//! the same file in the same run: `sqlite3 .import` into a plain table with the same
//! indexes the awards table keeps on those columns, or `psql \copy`.
//! Afterwards it checks a sample of the imported records' statuses against the rules.

// Baselines are hand-written SQL on purpose, beside what the store runs.
#![allow(clippy::disallowed_methods)]

use super::awards_1m::on_fresh_db;
use anyhow::{Context, Result, bail};
use recert_domain::Date;
use recert_service::imports::ImportForm;
use recert_service::{Principal, Service, Store, SystemClock};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

const PROGRAMS: usize = 10;

/// The CSV's rows: row `i` is learner `i / PROGRAMS` in program `i % PROGRAMS`, issued
/// on a day drawn from 2019–2026; 3% always valid, the rest expiring after the program's
/// validity (1–3 years), so every status occurs as of today.
struct Row {
    user: String,
    program: usize,
    issued: Date,
    always_valid: bool,
    expires: Option<Date>,
}

fn validity_years(program: usize) -> i16 {
    (program % 3) as i16 + 1
}

fn row(i: usize, seed: &mut u64) -> Row {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let r = *seed >> 33;
    let program = i % PROGRAMS;
    let issued = recert_domain::dates::add_days(jiff::civil::date(2019, 1, 1), (r % 2900) as i64);
    let always_valid = (r >> 12) % 100 < 3;
    let expires = (!always_valid).then(|| {
        issued
            .checked_add(jiff::Span::new().years(validity_years(program)))
            .unwrap_or(issued)
    });
    Row {
        user: format!("u{:06}", i / PROGRAMS),
        program,
        issued,
        always_valid,
        expires,
    }
}

fn write_csv(path: &std::path::Path, rows: usize) -> Result<u64> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(
        w,
        "username,certification_code,certification_issue_date,always_valid,certification_expire_date"
    )?;
    let mut seed = 20270615;
    for i in 0..rows {
        let r = row(i, &mut seed);
        writeln!(
            w,
            "{},P{:02},{},{},{}",
            r.user,
            r.program,
            r.issued,
            u8::from(r.always_valid),
            r.expires.map(|d| d.to_string()).unwrap_or_default()
        )?;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The process's peak resident memory so far (VmHWM), in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub async fn run(rows: usize, database_url: Option<String>, pg: bool) -> Result<()> {
    let name = if pg { "import_1m_pg" } else { "import_1m" };
    let url = match (pg, database_url) {
        (true, Some(u)) => Some(u),
        (true, None) => Some(
            std::env::var("RECERT_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into()),
        ),
        (false, Some(_)) => bail!("import_1m runs on SQLite; use import_1m_pg for PostgreSQL"),
        (false, None) => None,
    };
    let tools = if pg { "psql" } else { "sqlite3" };
    let cli = super::which(tools).with_context(|| {
        format!(
            "the {tools} CLI is needed for the baseline (apt-get install {})",
            if pg { "postgresql-client" } else { "sqlite3" }
        )
    })?;
    let files = tempfile::tempdir()?;
    let csv = files.path().join("records.csv");
    let t = Instant::now();
    let size = write_csv(&csv, rows)?;
    eprintln!(
        "wrote {rows} rows ({:.1} MB) in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let rss_before = peak_rss_mb();

    // The baseline first, on its own database.
    let baseline = if pg {
        let mut took = std::time::Duration::ZERO;
        on_fresh_db(url.clone(), async |db| {
            took = psql_copy(&cli, &db.url, &csv).await?;
            Ok(())
        })
        .await?;
        took
    } else {
        let db = files.path().join("baseline.db");
        sqlite_import(&cli, &db, &csv)?
    };

    let mut outcome = None;
    let mut peak = 0.0;
    on_fresh_db(url, async |db| {
        let store = Store::connect(&db.url).await?;
        let service = Service::new(store.clone(), Arc::new(SystemClock), "http://127.0.0.1");
        service.prepare("Bench Org", "UTC").await?;
        let admin = Principal::system();
        for p in 0..PROGRAMS {
            service
                .create_program(
                    &admin,
                    serde_json::from_value(serde_json::json!({
                        "code": format!("P{p:02}"),
                        "name": format!("Program {p}"),
                        "validity": {"count": validity_years(p), "unit": "years"},
                        "renewal_window_days": 60,
                        "grace_days": 30,
                    }))?,
                )
                .await?;
        }
        let started = Instant::now();
        let mut upload = service.begin_import(&admin, "records.csv").await?;
        let mut file = tokio::fs::File::open(&csv).await?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            use tokio::io::AsyncReadExt;
            let n = file.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            upload.push(&buf[..n]).await?;
        }
        let job = upload
            .finish(
                &admin,
                &ImportForm {
                    kind: Some("awards".into()),
                    ..Default::default()
                },
            )
            .await?;
        let done = service
            .run_import_job(job.job, "bench", &mut |_| {})
            .await?;
        let took = started.elapsed();
        peak = peak_rss_mb();
        if done.state != "done" || done.imported != rows as i64 || done.rejected != 0 {
            bail!(
                "the import did not take every row: state {}, imported {}, rejected {}, failure {:?}",
                done.state,
                done.imported,
                done.rejected,
                done.failure
            );
        }
        check_statuses(&service, &store, done.job, rows).await?;
        outcome = Some((took, done.learners_created));
        Ok(())
    })
    .await?;
    let Some((took, learners)) = outcome else {
        bail!("the import did not run");
    };
    let ratio = took.as_secs_f64() / baseline.as_secs_f64();
    println!(
        "bench {name}: recert {:.2} s | baseline {} {:.2} s | ratio {ratio:.2} | peak RSS {peak:.0} MB (before the import {rss_before:.0} MB) | {rows} rows, {learners} learners created",
        took.as_secs_f64(),
        if pg { "psql \\copy" } else { "sqlite3 .import" },
        baseline.as_secs_f64(),
    );
    Ok(())
}

/// The baseline on SQLite: the same file into a plain table carrying the indexes the
/// awards table keeps on those columns (one current record per learner and program, by
/// program and expiry, by expiry), with recert's journal settings, timed as a process.
fn sqlite_import(
    cli: &std::path::Path,
    db: &std::path::Path,
    csv: &std::path::Path,
) -> Result<std::time::Duration> {
    let script = format!(
        "PRAGMA journal_mode = WAL;\nPRAGMA synchronous = NORMAL;\n\
         CREATE TABLE records (username TEXT NOT NULL, certification_code TEXT NOT NULL, \
         certification_issue_date TEXT NOT NULL, always_valid TEXT, certification_expire_date TEXT);\n\
         CREATE UNIQUE INDEX records_one ON records(username, certification_code);\n\
         CREATE INDEX records_program_expires ON records(certification_code, certification_expire_date);\n\
         CREATE INDEX records_expires ON records(certification_expire_date);\n\
         .mode csv\n.import --skip 1 {} records\nSELECT COUNT(*) FROM records;\n",
        csv.display()
    );
    let started = Instant::now();
    let out = std::process::Command::new(cli)
        .arg(db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(script.as_bytes())?;
            }
            child.wait_with_output()
        })
        .context("running sqlite3")?;
    let took = started.elapsed();
    if !out.status.success() {
        bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(took)
}

/// The baseline on PostgreSQL: `psql \copy` of the same file into a plain table.
async fn psql_copy(
    cli: &std::path::Path,
    url: &str,
    csv: &std::path::Path,
) -> Result<std::time::Duration> {
    let setup = "CREATE TABLE records (username TEXT NOT NULL, certification_code TEXT NOT NULL, \
                 certification_issue_date TEXT NOT NULL, always_valid TEXT, certification_expire_date TEXT)";
    let status = std::process::Command::new(cli)
        .args([url, "-q", "-c", setup])
        .status()
        .context("running psql")?;
    if !status.success() {
        bail!("psql could not create the baseline table");
    }
    let started = Instant::now();
    let out = std::process::Command::new(cli)
        .args([
            url,
            "-q",
            "-c",
            &format!(
                "\\copy records FROM '{}' WITH (FORMAT csv, HEADER true)",
                csv.display()
            ),
        ])
        .output()
        .context("running psql")?;
    let took = started.elapsed();
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(took)
}

/// Every 997th row's award, read back through the service, has the status the rules
/// give its dates today, and came from its row (`source_ref`).
async fn check_statuses(service: &Service, store: &Store, job: i64, rows: usize) -> Result<()> {
    let admin = Principal::system();
    // The sampled rows' awards by their source (one pass: source_ref has no index).
    let mut conn = store.read().await?;
    let prefix = format!("import:{job}:");
    let mut by_line = std::collections::HashMap::<i64, String>::new();
    let like = format!("{prefix}%");
    let mut found = sqlx::query("SELECT cert_id, source_ref FROM awards WHERE source_ref LIKE $1")
        .bind(&like)
        .fetch(&mut *conn);
    while let Some(r) = futures_util::TryStreamExt::try_next(&mut found).await? {
        let source: String = sqlx::Row::try_get(&r, "source_ref")?;
        if let Some(line) = source
            .strip_prefix(&prefix)
            .and_then(|l| l.parse::<i64>().ok())
            .filter(|l| (l - 2) % 997 == 0)
        {
            by_line.insert(line, sqlx::Row::try_get(&r, "cert_id")?);
        }
    }
    drop(found);
    let mut seed = 20270615;
    let mut checked = 0;
    let mut by_status = std::collections::BTreeMap::<String, usize>::new();
    for i in 0..rows {
        let r = row(i, &mut seed);
        if i % 997 != 0 {
            continue;
        }
        let line = i as i64 + 2;
        let cert = by_line
            .get(&line)
            .with_context(|| format!("no award from row {line}"))?;
        let view = service.award(&admin, cert, None).await?;
        let today = recert_domain::dates::day_in_zone(service.now(), &jiff::tz::TimeZone::UTC);
        let expected = match r.expires {
            None => "active",
            Some(x) if today > recert_domain::dates::add_days(x, 30) => "lapsed",
            Some(x) if today > x => "grace",
            Some(x) if today >= recert_domain::dates::add_days(x, -60) => "expiring",
            Some(_) if today < r.issued => "not_yet_valid",
            Some(_) => "active",
        };
        if view.status.as_str() != expected
            || view.learner != r.user
            || view.issued_on != r.issued
            || view.expires_on != r.expires
        {
            bail!(
                "row {line}: award {cert} is {} for {} issued {} expiring {:?}; the file says {expected} for {} issued {} expiring {:?}",
                view.status.as_str(),
                view.learner,
                view.issued_on,
                view.expires_on,
                r.user,
                r.issued,
                r.expires
            );
        }
        *by_status.entry(expected.to_owned()).or_default() += 1;
        checked += 1;
    }
    eprintln!("statuses checked on {checked} sampled rows: {by_status:?}");
    Ok(())
}
