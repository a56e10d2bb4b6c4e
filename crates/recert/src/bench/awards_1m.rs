//! `recert bench awards_1m`: listing queries over a million awards, each through the HTTP
//! API beside the same result computed by one hand-written SQL query on the same database
//! in the same run. The data is generated with a fixed seed: 100,000 learners, 20 programs,
//! renewal chains (the older award superseded), and the rare statuses an auditor filters
//! for (revoked, in grace) at realistic rates.

// Baselines are hand-written SQL on purpose, beside what the store runs.
#![allow(clippy::disallowed_methods)]

use anyhow::{Context, Result, bail};
use recert_service::{Principal, Service, Store, SystemClock};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*): the same data on every run.
pub(super) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const FIRST: [&str; 24] = [
    "Ana", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemal",
    "Lena", "Mateo", "Nadia", "Olu", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor",
    "Wen", "Yara",
];
const LAST: [&str; 24] = [
    "Garcia",
    "Okafor",
    "Nguyen",
    "Kowalski",
    "Schmidt",
    "Haddad",
    "Rossi",
    "Tanaka",
    "Silva",
    "Jensen",
    "Moreau",
    "Ivanova",
    "Cohen",
    "Mensah",
    "Larsen",
    "Novak",
    "Fischer",
    "Ortega",
    "Kaur",
    "Dubois",
    "Lindqvist",
    "Murphy",
    "Petrov",
    "Zhang",
];

/// The database the benchmark runs on, dropped afterwards when it is a PostgreSQL one.
pub(super) struct Db {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl Db {
    pub async fn create(database_url: Option<String>) -> Result<Self> {
        sqlx::any::install_default_drivers();
        match database_url {
            None => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}", dir.path().join("awards_1m.db").display());
                Ok(Self {
                    url,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Some(admin) if admin.starts_with("postgres") => {
                let mut seed = [0u8; 4];
                clock_bytes(&mut seed);
                let name = format!(
                    "recert_bench_{}",
                    seed.iter().map(|b| format!("{b:02x}")).collect::<String>()
                );
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .context("connecting to PostgreSQL")?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                let url = match admin.rsplit_once('/') {
                    Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
                        format!("{base}/{name}")
                    }
                    _ => bail!("--database-url must name a database: postgres://USER@HOST/DB"),
                };
                Ok(Self {
                    url,
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
            Some(other) => bail!("--database-url {other:?}: use postgres://USER@HOST/DB"),
        }
    }

    pub async fn drop_pg(&self) {
        if let Some((admin, name)) = &self.pg
            && let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

fn clock_bytes(buf: &mut [u8]) {
    // The database name only has to differ between runs; the clock is enough.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (nanos >> (i * 8)) as u8;
    }
}

/// Runs `bench` on a fresh database (a temporary SQLite file, or a new PostgreSQL
/// database on the server named), dropping a PostgreSQL one afterwards, failed or not.
pub(super) async fn on_fresh_db(
    url: Option<String>,
    bench: impl AsyncFnOnce(&Db) -> Result<()>,
) -> Result<()> {
    let db = Db::create(url).await?;
    let result = bench(&db).await;
    db.drop_pg().await;
    result
}

/// The million-award data of `data` (its sizes kept in range), generated on a fresh
/// database for the benchmark `name`, which then runs on it.
pub(super) async fn on_generated(
    data: crate::cli::BenchData,
    name: &str,
    bench: impl AsyncFnOnce(&Db, Data) -> Result<()>,
) -> Result<()> {
    on_fresh_db(data.database_url, async |db| {
        let generated = generate(
            db,
            data.awards,
            data.learners.max(1),
            data.programs.clamp(1, 99),
            name,
        )
        .await?;
        bench(db, generated).await
    })
    .await
}

pub async fn run(data: crate::cli::BenchData, runs: usize) -> Result<()> {
    on_generated(data, "awards_1m", async |_, generated| {
        bench(generated, runs.max(3)).await
    })
    .await
}

/// The generated data, ready to query.
pub(super) struct Data {
    pub backend: &'static str,
    pub store: Store,
    pub service: Service,
    pub program_ids: Vec<(i64, recert_domain::Program)>,
    pub learner_ids: Vec<i64>,
    pub today: recert_domain::Date,
    /// How many awards were generated.
    pub awards: usize,
}

/// Generates `learners` learners and `awards` awards over `programs` programs (fixed seed).
pub(super) async fn generate(
    db: &Db,
    awards: usize,
    learners: usize,
    programs: usize,
    name: &str,
) -> Result<Data> {
    let backend = if db.pg.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };
    let store = Store::connect(&db.url).await?;
    let service = Service::new(store.clone(), Arc::new(SystemClock), "http://127.0.0.1");
    service.prepare("Bench Org", "UTC").await?;
    let admin = Principal::system();
    let today = service.today_in(&recert_domain::Organization {
        code: "default".into(),
        name: String::new(),
        url: None,
        time_zone: "UTC".into(),
    });
    let mut program_ids: Vec<(i64, recert_domain::Program)> = Vec::new();
    for p in 0..programs {
        let (count, unit) = match p % 4 {
            0 | 1 => (1, "years"),
            2 => (2, "years"),
            _ => (6, "months"),
        };
        let v = service
            .create_program(
                &admin,
                serde_json::from_value(serde_json::json!({
                    "code": format!("P{:02}", p + 1), "name": format!("Program {}", p + 1),
                    "validity": {"count": count, "unit": unit},
                    "renewal_window_days": 90, "grace_days": if p % 3 == 0 { 60 } else { 30 },
                }))?,
            )
            .await?;
        program_ids.push((v.row_id, v.program));
    }
    let started = Instant::now();
    eprintln!("bench {name}: generating {learners} learners and {awards} awards on {backend}…");
    let learner_ids = load_learners(&store, learners).await?;
    load_awards(&store, &learner_ids, &program_ids, awards, today).await?;
    let mut conn = store.read().await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    drop(conn);
    eprintln!(
        "bench {name}: data ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    Ok(Data {
        backend,
        store,
        service,
        program_ids,
        learner_ids,
        today,
        awards,
    })
}

async fn bench(data: Data, runs: usize) -> Result<()> {
    let Data {
        backend,
        store,
        service,
        program_ids,
        today,
        ..
    } = data;
    let programs = program_ids.len();
    let serving = service.clone();
    let (addr, token, stop, server) = super::serve_local(serving).await?;
    let base = format!("http://{addr}");
    let client = reqwest::Client::new();

    // A page deep into the listing: its cursor, read from the API itself.
    let deep_after = {
        let mut conn = store.read().await?;
        let row = sqlx::query("SELECT MAX(id) AS m FROM awards")
            .fetch_one(&mut *conn)
            .await?;
        let max: i64 = sqlx::Row::try_get(&row, "m")?;
        max * 9 / 10
    };
    let deep_cursor = format!("c{deep_after:x}");
    let program = &program_ids[programs / 2].1.code;
    let fragment = "kowal";
    let day = today.to_string();
    let program_id = program_ids[programs / 2].0;
    let select = "SELECT a.*, l.username, l.legal_name, p.code AS program_code FROM awards a \
                  JOIN learners l ON l.id = a.learner_id JOIN programs p ON p.id = a.program_id";
    let cases: Vec<(&str, String, String, Vec<String>)> = vec![
        (
            "revoked_first_page",
            "/api/v1/awards?status=revoked".into(),
            format!("{select} WHERE a.revoked_on <= $1 ORDER BY a.id LIMIT 51"),
            vec![day.clone()],
        ),
        (
            "grace_in_program_first_page",
            format!("/api/v1/awards?status=grace&program={program}"),
            format!(
                "{select} WHERE p.code = $2 AND a.is_current = 1 AND a.issued_on <= $1 \
                 AND a.expires_on < $1 AND $1 <= a.grace_ends_on ORDER BY a.id LIMIT 51"
            ),
            vec![day.clone(), program.to_string()],
        ),
        (
            "deep_page_by_cursor",
            format!("/api/v1/awards?cursor={deep_cursor}"),
            format!("{select} WHERE a.id > $1 ORDER BY a.id LIMIT 51"),
            vec![deep_after.to_string()],
        ),
        (
            "learner_search",
            format!("/api/v1/learners?q={fragment}"),
            "SELECT l.*, m.username AS manager_username FROM learners l LEFT JOIN learners m ON m.id = l.manager_id \
             WHERE lower(l.username) LIKE $1 OR lower(l.legal_name) LIKE $1 OR lower(l.email) LIKE $1 \
             OR l.id IN (SELECT learner_id FROM awards WHERE cert_id = $2) ORDER BY l.id LIMIT 51"
                .into(),
            vec![format!("%{fragment}%"), fragment.to_uppercase()],
        ),
        (
            "program_holder_counts",
            format!("/api/v1/programs/{program}/holders"),
            "SELECT CASE WHEN $2 < a.issued_on THEN 'not_yet_valid' \
             WHEN a.expires_on IS NULL OR $2 < a.window_opens_on THEN 'active' \
             WHEN $2 <= a.expires_on THEN 'expiring' WHEN $2 <= a.grace_ends_on THEN 'grace' \
             ELSE 'lapsed' END AS status, COUNT(*) AS n FROM awards a \
             WHERE a.program_id = $1 AND a.is_current = 1 GROUP BY 1"
                .into(),
            vec![program_id.to_string(), day.clone()],
        ),
    ];
    let mut all_ok = true;
    for (name, path, sql, args) in cases {
        // The service call the API handler makes (what the query costs at this scale)…
        let mut calls = Vec::with_capacity(runs);
        let mut found = 0;
        for i in 0..runs + 2 {
            let t = Instant::now();
            found = service_call(&service, name, program, &deep_cursor, fragment).await?;
            // The first two runs warm caches on every side.
            if i >= 2 {
                calls.push(t.elapsed());
            }
        }
        // …the same through HTTP (adds the request, the token check and the JSON)…
        let mut http = Vec::with_capacity(runs);
        for i in 0..runs + 2 {
            let t = Instant::now();
            let res = client
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await?;
            if !res.status().is_success() {
                bail!("{path}: HTTP {}", res.status());
            }
            // Timed to the last byte received; reading the JSON is the client's work.
            res.bytes().await?;
            if i >= 2 {
                http.push(t.elapsed());
            }
        }
        // …and the hand-written query, its rows read as a client would.
        let mut base_times = Vec::with_capacity(runs);
        let mut base_rows = 0;
        for i in 0..runs + 2 {
            let mut conn = store.read().await?;
            let t = Instant::now();
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for a in &args {
                // Ids are numbers; days, codes and patterns are text.
                q = match a.parse::<i64>() {
                    Ok(n) => q.bind(n),
                    Err(_) => q.bind(a.clone()),
                };
            }
            let rows = q.fetch_all(&mut *conn).await?;
            read_all(&rows);
            let elapsed = t.elapsed();
            base_rows = rows.len();
            if i >= 2 {
                base_times.push(elapsed);
            }
        }
        let (a, h, b) = (
            median(&mut calls),
            median(&mut http),
            median(&mut base_times),
        );
        let ratio = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ok = ratio <= 2.0 && ms(a) < 50.0;
        all_ok &= ok;
        println!(
            "bench awards_1m {name} ({backend}): recert {:.2} ms ({found} results; {:.2} ms through HTTP) | baseline sql {:.2} ms ({base_rows} rows) | ratio {ratio:.2} | target <= 2x and < 50 ms: {}",
            ms(a),
            ms(h),
            ms(b),
            if ok { "met" } else { "MISSED" }
        );
    }
    let _ = stop.send(());
    let _ = server.await;
    if !all_ok && backend == "sqlite" {
        eprintln!("bench awards_1m: some figures missed their target");
    }
    Ok(())
}

/// Runs the service call behind one case; answers how many results it gave.
async fn service_call(
    service: &Service,
    name: &str,
    program: &recert_domain::Code,
    deep_cursor: &str,
    fragment: &str,
) -> Result<usize> {
    use recert_service::awards::AwardQuery;
    use recert_service::page::PageRequest;
    let who = Principal::system();
    let first = PageRequest::parse(None, None)?;
    Ok(match name {
        "revoked_first_page" => {
            let q = AwardQuery {
                status: Some("revoked".into()),
                ..AwardQuery::default()
            };
            service.awards(&who, q, first).await?.items.len()
        }
        "grace_in_program_first_page" => {
            let q = AwardQuery {
                status: Some("grace".into()),
                program: Some(program.to_string()),
                ..AwardQuery::default()
            };
            service.awards(&who, q, first).await?.items.len()
        }
        "deep_page_by_cursor" => {
            let page = PageRequest::parse(Some(deep_cursor), None)?;
            service
                .awards(&who, AwardQuery::default(), page)
                .await?
                .items
                .len()
        }
        "learner_search" => {
            let q = recert_service::learners::LearnerQuery {
                q: Some(fragment.into()),
                ..Default::default()
            };
            service.learners(&who, q, first).await?.items.len()
        }
        _ => {
            service
                .program_holders(&who, program.as_str())
                .await?
                .holders as usize
        }
    })
}

/// Reads every column of every row as a client of the query would.
pub(super) fn read_all(rows: &[sqlx::any::AnyRow]) {
    use sqlx::{Column, Row};
    for r in rows {
        for c in r.columns() {
            let i = c.ordinal();
            let _ = r
                .try_get::<Option<String>, _>(i)
                .map(|_| ())
                .or_else(|_| r.try_get::<Option<i64>, _>(i).map(|_| ()))
                .or_else(|_| r.try_get::<Option<f64>, _>(i).map(|_| ()));
        }
    }
}

pub(super) fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Inserts learners in multi-row statements; answers their ids in order.
async fn load_learners(store: &Store, count: usize) -> Result<Vec<i64>> {
    let mut rng = Rng(0x5EED_1EA2);
    let mut tx = store.begin_write().await?;
    let now = jiff::Timestamp::now().as_millisecond();
    let per = 400;
    let mut i = 0;
    while i < count {
        let n = per.min(count - i);
        let mut sql = String::from(
            "INSERT INTO learners (username, legal_name, email, external_ids, active, attributes, created_at, updated_at) VALUES ",
        );
        let mut values: Vec<String> = Vec::with_capacity(n * 3);
        for k in 0..n {
            let id = i + k;
            let (f, l) = (FIRST[rng.below(24) as usize], LAST[rng.below(24) as usize]);
            let p = values.len();
            sql.push_str(&format!(
                "{}(${}, ${}, ${}, '{{}}', 1, '{{}}', {now}, {now})",
                if k == 0 { "" } else { "," },
                p + 1,
                p + 2,
                p + 3
            ));
            values.push(format!("u{id:06}"));
            values.push(format!("{f} {l}"));
            values.push(format!(
                "{}.{}{id}@example.com",
                f.to_lowercase(),
                l.to_lowercase()
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in values {
            q = q.bind(v);
        }
        q.execute(&mut **tx.conn()).await?;
        i += n;
    }
    tx.commit().await?;
    let mut conn = store.read().await?;
    let rows = sqlx::query("SELECT id FROM learners ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| sqlx::Row::try_get::<i64, _>(r, "id").map_err(Into::into))
        .collect()
}

/// Inserts `count` awards: per learner, renewal chains in several programs (the older
/// award superseded by its renewal), with about 0.5% revoked and 1% unassigned; the
/// current awards spread over active, expiring, grace and lapsed.
async fn load_awards(
    store: &Store,
    learners: &[i64],
    programs: &[(i64, recert_domain::Program)],
    count: usize,
    today: recert_domain::Date,
) -> Result<()> {
    use recert_domain::dates::add_days;
    let mut rng = Rng(0xA11_AAA2D5);
    let now = jiff::Timestamp::now().as_millisecond();
    let cols = "cert_id, program_id, learner_id, issued_on, expires_on, always_valid, window_opens_on, \
                grace_ends_on, renewal_window_days, grace_days, grace_extension_days, association, fields, \
                predecessor, superseded_by, superseded_on, revoked_at, revoked_on, revoked_reason, \
                revoked_category, archived_on, is_current, created_at, updated_at, cycle_start, cycle_count";
    let ncols = 26;
    let per = 300;
    let mut rows: Vec<Vec<Option<String>>> = Vec::with_capacity(per);
    let mut made = 0;
    let mut tx = store.begin_write().await?;
    let mut li = 0usize;
    let mut flushed = 0;
    // One chain per learner and program: a learner holds at most one current award of it.
    let mut used = std::collections::HashSet::new();
    'outer: loop {
        let learner = learners[li % learners.len()];
        li += 1;
        // Each learner holds a few programs, each as a chain of one to three awards.
        let held = 3 + rng.below(5) as usize;
        let first_program = rng.below(programs.len() as u64) as usize;
        for h in 0..held {
            let (pid, p) = &programs[(first_program + h * 7) % programs.len()];
            if !used.insert((learner, *pid)) {
                continue;
            }
            let (window, grace) = (i64::from(p.renewal_window_days), i64::from(p.grace_days));
            let links = 1 + rng.below(3) as usize;
            let mut issued = add_days(today, -(200 + rng.below(1800) as i64));
            let mut ids: Vec<String> = Vec::new();
            for link in 0..links {
                if made >= count {
                    break 'outer;
                }
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&rng.next().to_le_bytes());
                bytes[8..].copy_from_slice(&rng.next().to_le_bytes());
                let id = recert_domain::CertificateId::from_random(bytes).to_string();
                let expires = p.validity.expiry_from(issued).unwrap_or(issued);
                let renewal_on = add_days(expires, -(rng.below(80) as i64));
                // A chain ends at its last link, or where a renewal would lie ahead.
                let last = link + 1 == links || renewal_on > today;
                let roll = rng.below(1000);
                let revoked = last && roll < 5;
                let archived = last && (5..15).contains(&roll);
                let superseded = !last;
                let d = |x: recert_domain::Date| Some(x.to_string());
                rows.push(vec![
                    Some(id.clone()),
                    Some(pid.to_string()),
                    Some(learner.to_string()),
                    d(issued),
                    d(expires),
                    Some("0".into()),
                    d(add_days(expires, -window)),
                    d(add_days(expires, grace)),
                    Some(window.to_string()),
                    Some(grace.to_string()),
                    Some("0".into()),
                    Some(if link == 0 { "manual" } else { "renewal" }.into()),
                    Some("{}".into()),
                    ids.last().cloned(),
                    None, // superseded_by is filled below for the older award
                    superseded.then(|| renewal_on.to_string()),
                    revoked.then(|| now.to_string()),
                    revoked.then(|| add_days(today, -(rng.below(300) as i64)).to_string()),
                    revoked.then(|| "bench".to_owned()),
                    revoked.then(|| "other".to_owned()),
                    archived.then(|| add_days(today, -(rng.below(300) as i64)).to_string()),
                    Some(
                        if last && !revoked && !archived {
                            "1"
                        } else {
                            "0"
                        }
                        .into(),
                    ),
                    Some(now.to_string()),
                    Some(now.to_string()),
                    d(issued),
                    Some("1".into()),
                ]);
                if let Some(prev) = rows.len().checked_sub(2)
                    && link > 0
                {
                    rows[prev][14] = Some(id.clone());
                }
                ids.push(id);
                made += 1;
                issued = renewal_on;
                if last {
                    if rows.len() >= per {
                        insert_rows(&mut tx, cols, ncols, &rows).await?;
                        rows.clear();
                    }
                    break;
                }
            }
        }
        if made - flushed >= 50_000 {
            tx.commit().await?;
            tx = store.begin_write().await?;
            flushed = made;
        }
    }
    if !rows.is_empty() {
        insert_rows(&mut tx, cols, ncols, &rows).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_rows(
    tx: &mut recert_store::WriteTx,
    cols: &str,
    ncols: usize,
    rows: &[Vec<Option<String>>],
) -> Result<()> {
    // Integer columns are written as numbers: they are generated here, not input.
    const INTEGER: [usize; 11] = [1, 2, 5, 8, 9, 10, 16, 21, 22, 23, 25];
    let mut sql = format!("INSERT INTO awards ({cols}) VALUES ");
    let mut binds: Vec<Option<String>> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for (c, v) in row.iter().enumerate().take(ncols) {
            if c > 0 {
                sql.push(',');
            }
            match v {
                Some(v) if INTEGER.contains(&c) => sql.push_str(v),
                None => sql.push_str("NULL"),
                Some(v) => {
                    binds.push(Some(v.clone()));
                    sql.push_str(&format!("${}", binds.len()));
                }
            }
        }
        sql.push(')');
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = q.bind(b);
    }
    q.execute(&mut **tx.conn()).await?;
    Ok(())
}
