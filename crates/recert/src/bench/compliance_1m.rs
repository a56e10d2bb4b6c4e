//! `recert bench compliance_1m`: the compliance report (every program × every site, as of
//! today and as of a day a year ago) over a million awards and 100,000 learners, beside
//! the same figures computed by one hand-written SQL query — in the `sqlite3` CLI on
//! SQLite (as a DBA would run it), through the driver on PostgreSQL. Both answers are
//! compared figure by figure before any time is reported.

use super::awards_1m::{Data, Db, median, on_generated};
use anyhow::{Context, Result, bail};
use recert_service::Principal;
use recert_service::reports::ComplianceQuery;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Figures per (program code, group name): required, compliant, expiring 30/60/90,
/// grace, lapsed, revoked, never certified.
type Figures = BTreeMap<(String, String), [i64; 9]>;

/// The hand-written query: every required person joined with their best award.
fn baseline_sql(day: &str, d30: &str, d60: &str, d90: &str) -> String {
    format!(
        "WITH people AS (
           SELECT r.program_id, r.group_id, gm.learner_id FROM requirements r
           JOIN group_members gm ON gm.group_id = r.group_id
           JOIN learners l ON l.id = gm.learner_id
           WHERE (l.end_date IS NULL AND l.active = 1) OR (l.end_date IS NOT NULL AND '{day}' <= l.end_date)),
         st AS (
           SELECT a.learner_id, a.program_id,
             MIN(CASE WHEN a.revoked_on <= '{day}' THEN 4
                  WHEN a.superseded_on <= '{day}' OR a.archived_on <= '{day}' OR p.archived_on <= '{day}' THEN 9
                  WHEN a.closed_on <= '{day}' THEN 3 WHEN '{day}' < a.issued_on THEN 9
                  WHEN a.expires_on IS NULL OR '{day}' <= a.expires_on THEN 1
                  WHEN '{day}' <= a.grace_ends_on THEN 2 ELSE 3 END) AS rk,
             MAX(CASE WHEN (a.revoked_on IS NULL OR a.revoked_on > '{day}')
                       AND (a.superseded_on IS NULL OR a.superseded_on > '{day}')
                       AND (a.archived_on IS NULL OR a.archived_on > '{day}')
                       AND (p.archived_on IS NULL OR p.archived_on > '{day}')
                       AND (a.closed_on IS NULL OR a.closed_on > '{day}')
                       AND a.issued_on <= '{day}' AND (a.expires_on IS NULL OR '{day}' <= a.expires_on)
                  THEN COALESCE(a.expires_on, '9999-12-31') END) AS until
           FROM awards a JOIN programs p ON p.id = a.program_id GROUP BY a.learner_id, a.program_id)
         SELECT p.code, g.name, COUNT(*),
           SUM(CASE WHEN st.rk = 1 THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk = 1 AND st.until <= '{d30}' THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk = 1 AND st.until <= '{d60}' THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk = 1 AND st.until <= '{d90}' THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk = 2 THEN 1 ELSE 0 END), SUM(CASE WHEN st.rk = 3 THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk = 4 THEN 1 ELSE 0 END),
           SUM(CASE WHEN st.rk IS NULL OR st.rk = 9 THEN 1 ELSE 0 END)
         FROM people JOIN programs p ON p.id = people.program_id
         JOIN learner_groups g ON g.id = people.group_id
         LEFT JOIN st ON st.learner_id = people.learner_id AND st.program_id = people.program_id
         GROUP BY p.code, g.name ORDER BY p.code, g.name;"
    )
}

pub async fn run(data: crate::cli::BenchData, sites: usize, runs: usize) -> Result<()> {
    on_generated(data, "compliance_1m", async |db, generated| {
        bench(db, generated, sites.clamp(1, 500), runs.max(3)).await
    })
    .await
}

async fn bench(db: &Db, data: Data, sites: usize, runs: usize) -> Result<()> {
    add_sites(&data, sites).await?;
    // A copy of the data to study the queries by hand (`sqlite3 FILE`), when asked.
    if let (Ok(keep), true) = (std::env::var("RECERT_BENCH_KEEP"), data.backend == "sqlite") {
        let mut conn = data.store.read().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "VACUUM INTO '{}'",
            keep.replace('\'', "''")
        )))
        .execute(&mut *conn)
        .await?;
        eprintln!("bench compliance_1m: a copy of the data is in {keep}");
    }
    let sqlite_file = db.url.strip_prefix("sqlite://").map(str::to_owned);
    let cli = sqlite_file.as_ref().and_then(|_| super::which("sqlite3"));
    if sqlite_file.is_some() && cli.is_none() {
        bail!("the sqlite3 CLI is needed for the baseline (apt-get install sqlite3)");
    }
    let mut all_ok = true;
    for (label, day) in [
        ("as of today", data.today),
        (
            "as of a year ago",
            recert_domain::dates::add_days(data.today, -365),
        ),
    ] {
        let query = ComplianceQuery {
            as_of: Some(day.to_string()),
            ..ComplianceQuery::default()
        };
        let who = Principal::system();
        let mut ours = Vec::with_capacity(runs);
        let mut figures = Figures::new();
        for i in 0..runs + 1 {
            let t = Instant::now();
            let r = data.service.compliance(&who, &query).await?;
            let elapsed = t.elapsed();
            if i >= 1 {
                ours.push(elapsed);
            }
            figures = r
                .rows
                .iter()
                .map(|row| {
                    let f = &row.figures;
                    (
                        (row.program.clone(), row.group.clone()),
                        [
                            f.required,
                            f.compliant,
                            f.expiring_30,
                            f.expiring_60,
                            f.expiring_90,
                            f.grace,
                            f.lapsed,
                            f.revoked,
                            f.never_certified,
                        ],
                    )
                })
                .collect();
        }
        let add = |n| recert_domain::dates::add_days(day, n).to_string();
        let sql = baseline_sql(&day.to_string(), &add(30), &add(60), &add(90));
        let mut base = Vec::with_capacity(runs);
        let mut base_figures = Figures::new();
        for i in 0..runs + 1 {
            let (elapsed, f) = match (&cli, &sqlite_file) {
                (Some(cli), Some(file)) => run_cli(cli, file, &sql)?,
                _ => run_driver(&data, &sql).await?,
            };
            if i >= 1 {
                base.push(elapsed);
            }
            base_figures = f;
        }
        if figures != base_figures {
            let diff: Vec<String> = figures
                .iter()
                .filter(|(k, v)| base_figures.get(*k) != Some(*v))
                .take(5)
                .map(|(k, v)| format!("{k:?}: recert {v:?}, baseline {:?}", base_figures.get(k)))
                .collect();
            bail!(
                "compliance_1m {label}: recert and the baseline disagree ({} vs {} rows): {}",
                figures.len(),
                base_figures.len(),
                diff.join("; ")
            );
        }
        let (a, b) = (median(&mut ours), median(&mut base));
        let ratio = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ok = ratio <= 1.5 && ms(a) < 1000.0;
        all_ok &= ok;
        let required: i64 = figures.values().map(|f| f[0]).sum();
        let baseline_name = if cli.is_some() {
            "sqlite3 CLI, one hand-written query"
        } else {
            "one hand-written query"
        };
        println!(
            "bench compliance_1m {label} ({}): recert {:.0} ms ({} rows, {required} required people) | baseline {baseline_name} {:.0} ms | ratio {ratio:.2} | target <= 1.5x and < 1 s: {}",
            data.backend,
            ms(a),
            figures.len(),
            ms(b),
            if ok { "met" } else { "MISSED" }
        );
    }
    if !all_ok && data.backend == "sqlite" {
        eprintln!("bench compliance_1m: some figures missed their target");
    }
    Ok(())
}

/// `sites` site groups; every learner at one of them (one in fifty inactive, not
/// required), and every program required at every site.
async fn add_sites(data: &Data, sites: usize) -> Result<()> {
    let mut tx = data.store.begin_write().await?;
    let now = jiff::Timestamp::now().as_millisecond();
    for s in 0..sites {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO learner_groups (name, kind, description, created_at) VALUES ('Site {:02}', 'site', '', {now})",
            s + 1
        )))
        .execute(&mut **tx.conn())
        .await?;
    }
    let site_ids: Vec<i64> = {
        let rows = sqlx::query("SELECT id FROM learner_groups WHERE kind = 'site' ORDER BY id")
            .fetch_all(&mut **tx.conn())
            .await?;
        rows.iter()
            .map(|r| sqlx::Row::try_get::<i64, _>(r, "id"))
            .collect::<Result<_, _>>()?
    };
    for chunk in data.learner_ids.chunks(500) {
        let values: Vec<String> = chunk
            .iter()
            .map(|id| format!("({}, {id})", site_ids[(*id as usize) % site_ids.len()]))
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO group_members (group_id, learner_id) VALUES {}",
            values.join(",")
        )))
        .execute(&mut **tx.conn())
        .await?;
    }
    sqlx::query("UPDATE learners SET active = 0 WHERE id % 50 = 0")
        .execute(&mut **tx.conn())
        .await?;
    for (pid, _) in &data.program_ids {
        for gid in &site_ids {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO requirements (group_id, program_id, created_at) VALUES ({gid}, {pid}, {now})"
            )))
            .execute(&mut **tx.conn())
            .await?;
        }
    }
    tx.commit().await?;
    let mut conn = data.store.read().await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    Ok(())
}

/// Runs the query in the `sqlite3` CLI; the time is the whole process, as a person at a
/// shell would see it.
fn run_cli(cli: &std::path::Path, file: &str, sql: &str) -> Result<(Duration, Figures)> {
    let t = Instant::now();
    let out = std::process::Command::new(cli)
        .args(["-batch", "-readonly", "-separator", "\t", file, sql])
        .output()
        .context("running sqlite3")?;
    let elapsed = t.elapsed();
    if !out.status.success() {
        bail!("sqlite3: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut f = Figures::new();
    for line in String::from_utf8(out.stdout)?.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 11 {
            bail!("sqlite3 printed {line:?}");
        }
        let mut n = [0i64; 9];
        for (i, c) in cols[2..].iter().enumerate() {
            n[i] = c.parse()?;
        }
        f.insert((cols[0].to_owned(), cols[1].to_owned()), n);
    }
    Ok((elapsed, f))
}

/// Runs the query through the driver (PostgreSQL), reading every row.
async fn run_driver(data: &Data, sql: &str) -> Result<(Duration, Figures)> {
    use sqlx::Row;
    let mut conn = data.store.read().await?;
    // PostgreSQL's SUM and COUNT are numeric/bigint: read them as bigint.
    let sql = sql
        .replace("SUM(", "CAST(SUM(")
        .replace(" ELSE 0 END)", " ELSE 0 END) AS BIGINT)");
    let t = Instant::now();
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let elapsed = t.elapsed();
    let mut f = Figures::new();
    for r in rows {
        let mut n = [0i64; 9];
        for (i, v) in n.iter_mut().enumerate() {
            *v = r.try_get::<i64, _>(i + 2)?;
        }
        f.insert((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?), n);
    }
    Ok((elapsed, f))
}
