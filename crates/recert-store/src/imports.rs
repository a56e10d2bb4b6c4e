//! Import jobs: the stored file (in chunks), the job's progress and counts, what it found
//! row by row, and the bulk writes an import makes. Bulk writes are multi-row statements
//! (one round trip per few hundred rows instead of one per row: see docs/benchmarks.md).

use crate::sql::q;
use crate::{Result, WriteTx, Writer, rows};
use recert_domain::{Award, Date};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// A job as stored.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub dry_run: bool,
    /// The job's settings as the service wrote them (JSON).
    pub settings: String,
    pub file_name: String,
    pub file_sha256: Option<String>,
    pub file_size: i64,
    pub created_by: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub rows_total: Option<i64>,
    pub counts: Counts,
    pub failure: Option<String>,
}

/// How far a job got and what it did; written with the rows it wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Data rows (after the header) read so far.
    pub rows_done: i64,
    pub imported: i64,
    pub rejected: i64,
    /// Rows left out without being wrong: the same record already held, or a duplicate
    /// replaced by a later row ("keep last duplicate").
    pub skipped: i64,
    pub learners_created: i64,
    /// Rows done in a people import's second pass (managers and groups).
    pub links_done: i64,
    /// Existing current awards that an imported newer record superseded.
    pub superseded: i64,
    /// Imported records older than the learner's current award, kept as its history.
    pub history: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.rows_done += o.rows_done;
        self.imported += o.imported;
        self.rejected += o.rejected;
        self.skipped += o.skipped;
        self.learners_created += o.learners_created;
        self.links_done += o.links_done;
        self.superseded += o.superseded;
        self.history += o.history;
    }
}

/// One finding about one row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    /// The line in the file (the header is 1).
    pub line: i64,
    pub column: String,
    pub value: String,
    pub reason: String,
    /// A rejection (in the errors report) rather than a note on a row that was handled.
    pub rejected: bool,
}

fn job_from(row: &AnyRow) -> Result<JobRecord> {
    Ok(JobRecord {
        id: rows::int(row, "id")?,
        kind: rows::text(row, "kind")?,
        state: rows::text(row, "state")?,
        dry_run: rows::flag(row, "dry_run")?,
        settings: rows::text(row, "settings")?,
        file_name: rows::text(row, "file_name")?,
        file_sha256: rows::opt_text(row, "file_sha256")?,
        file_size: rows::int(row, "file_size")?,
        created_by: rows::text(row, "created_by")?,
        created_at_ms: rows::int(row, "created_at")?,
        started_at_ms: rows::opt_int(row, "started_at")?,
        finished_at_ms: rows::opt_int(row, "finished_at")?,
        rows_total: rows::opt_int(row, "rows_total")?,
        counts: Counts {
            rows_done: rows::int(row, "rows_done")?,
            imported: rows::int(row, "imported")?,
            rejected: rows::int(row, "rejected")?,
            skipped: rows::int(row, "skipped")?,
            learners_created: rows::int(row, "learners_created")?,
            links_done: rows::int(row, "links_done")?,
            superseded: rows::int(row, "superseded")?,
            history: rows::int(row, "history")?,
        },
        failure: rows::opt_text(row, "failure")?,
    })
}

/// A job whose file is being uploaded (state `uploading`, not yet runnable).
pub struct NewJob<'a> {
    pub id: i64,
    pub kind: &'a str,
    pub dry_run: bool,
    pub settings: &'a str,
    pub file_name: &'a str,
    pub created_by: &'a str,
    pub created_at_ms: i64,
}

pub async fn create(conn: &mut Writer, j: &NewJob<'_>) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    q("INSERT INTO import_jobs (id, kind, state, dry_run, settings, file_name, created_by, created_at) \
       VALUES ($1, $2, 'uploading', $3, $4, $5, $6, $7)")
    .bind(j.id)
    .bind(j.kind)
    .bind(i64::from(j.dry_run))
    .bind(j.settings)
    .bind(j.file_name)
    .bind(j.created_by)
    .bind(j.created_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn add_chunk(conn: &mut Writer, job: i64, seq: i64, data: &[u8]) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    q("INSERT INTO import_chunks (job_id, seq, data) VALUES ($1, $2, $3)")
        .bind(job)
        .bind(seq)
        .bind(data)
        .execute(conn)
        .await?;
    Ok(())
}

/// Copies another job's stored file (running a dry run's file for real).
pub async fn copy_chunks(conn: &mut Writer, from: i64, to: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    q("INSERT INTO import_chunks (job_id, seq, data) SELECT $1, seq, data FROM import_chunks WHERE job_id = $2")
        .bind(to)
        .bind(from)
        .execute(conn)
        .await?;
    Ok(())
}

/// The upload is complete and its settings known (`settings` as JSON, with `kind` and
/// `dry_run` in it): the job can run.
pub async fn queue(
    conn: &mut Writer,
    job: i64,
    sha256: &str,
    size: i64,
    settings: &str,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    let parsed: serde_json::Value =
        serde_json::from_str(settings).map_err(|e| crate::StoreError::Other(e.to_string()))?;
    let kind = parsed["kind"].as_str().unwrap_or("awards").to_owned();
    let dry_run = parsed["dry_run"].as_bool().unwrap_or(false);
    q(
        "UPDATE import_jobs SET state = 'queued', file_sha256 = $2, file_size = $3, settings = $4, \
       kind = $5, dry_run = $6 WHERE id = $1",
    )
    .bind(job)
    .bind(sha256)
    .bind(size)
    .bind(settings)
    .bind(kind)
    .bind(i64::from(dry_run))
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a job that never got its whole file (the upload broke off or was refused).
pub async fn discard(conn: &mut Writer, job: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    for sql in [
        "DELETE FROM import_chunks WHERE job_id = $1",
        "DELETE FROM import_issues WHERE job_id = $1",
        "DELETE FROM import_jobs WHERE id = $1 AND state = 'uploading'",
    ] {
        q(sql).bind(job).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Uploads that never finished and are older than `before_ms`.
pub async fn stale_uploads(conn: &mut AnyConnection, before_ms: i64) -> Result<Vec<i64>> {
    q("SELECT id FROM import_jobs WHERE state = 'uploading' AND created_at < $1")
        .bind(before_ms)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| rows::int(r, "id"))
        .collect()
}

pub async fn job(conn: &mut AnyConnection, id: i64) -> Result<Option<JobRecord>> {
    q("SELECT * FROM import_jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(job_from)
        .transpose()
}

/// The latest jobs first.
pub async fn recent(conn: &mut AnyConnection, limit: i64) -> Result<Vec<JobRecord>> {
    q("SELECT * FROM import_jobs WHERE state <> 'uploading' ORDER BY created_at DESC, id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(job_from)
        .collect()
}

/// Takes the oldest job that is queued, or running under a lease that ran out (its
/// runner stopped), for `runner` until `lease_until_ms`. Write transactions are
/// serialized, so two instances never take the same job.
pub async fn claim(
    conn: &mut Writer,
    runner: &str,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Option<JobRecord>> {
    let Some(row) = q(
        "SELECT id FROM import_jobs WHERE state = 'queued' OR (state = 'running' AND lease_until < $1) \
         ORDER BY created_at, id LIMIT 1",
    )
    .bind(now_ms)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    claim_one(conn, rows::int(&row, "id")?, runner, now_ms, lease_until_ms).await
}

/// Takes this job if it is queued, or running under a lease that ran out.
pub async fn claim_one(
    conn: &mut Writer,
    id: i64,
    runner: &str,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Option<JobRecord>> {
    let conn: &mut AnyConnection = conn;
    let taken = q(
        "UPDATE import_jobs SET state = 'running', runner = $2, lease_until = $3, \
       started_at = COALESCE(started_at, $4) \
       WHERE id = $1 AND (state = 'queued' OR (state = 'running' AND lease_until < $4))",
    )
    .bind(id)
    .bind(runner)
    .bind(lease_until_ms)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if taken.rows_affected() == 0 {
        return Ok(None);
    }
    job(conn, id).await
}

/// Hands every running job back to the queue: on SQLite only one process uses the
/// database, so a job still marked running at start-up lost its runner.
pub async fn requeue_running(conn: &mut Writer) -> Result<u64> {
    let conn: &mut AnyConnection = conn;
    Ok(
        q("UPDATE import_jobs SET state = 'queued', runner = NULL, lease_until = NULL WHERE state = 'running'")
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// The number of stored chunks of a job's file.
pub async fn chunk_count(conn: &mut AnyConnection, job: i64) -> Result<i64> {
    let row = q("SELECT COUNT(*) AS n FROM import_chunks WHERE job_id = $1")
        .bind(job)
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

pub async fn chunk(conn: &mut AnyConnection, job: i64, seq: i64) -> Result<Option<Vec<u8>>> {
    use sqlx::Row;
    let Some(row) = q("SELECT data FROM import_chunks WHERE job_id = $1 AND seq = $2")
        .bind(job)
        .bind(seq)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    row.try_get::<Vec<u8>, _>("data")
        .map(Some)
        .map_err(|e| crate::StoreError::Corrupt(format!("import_chunks.data: {e}")))
}

pub async fn set_total(conn: &mut Writer, job: i64, total: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    q("UPDATE import_jobs SET rows_total = $2 WHERE id = $1")
        .bind(job)
        .bind(total)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records progress (absolute counts) and renews the runner's lease, in the transaction
/// that wrote the rows counted. Answers false when the job is no longer this runner's (its
/// lease ran out and another runner took it): the caller must then roll back.
pub async fn checkpoint(
    conn: &mut Writer,
    job: i64,
    runner: &str,
    c: &Counts,
    lease_until_ms: i64,
) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = q(
        "UPDATE import_jobs SET rows_done = $3, imported = $4, rejected = $5, skipped = $6, \
         learners_created = $7, superseded = $8, history = $9, lease_until = $10, links_done = $11 \
         WHERE id = $1 AND runner = $2 AND state = 'running'",
    )
    .bind(job)
    .bind(runner)
    .bind(c.rows_done)
    .bind(c.imported)
    .bind(c.rejected)
    .bind(c.skipped)
    .bind(c.learners_created)
    .bind(c.superseded)
    .bind(c.history)
    .bind(lease_until_ms)
    .bind(c.links_done)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Renews the runner's lease while it works without committing rows (the first pass
/// over a long file); false when the job is no longer this runner's.
pub async fn renew(conn: &mut Writer, job: i64, runner: &str, lease_until_ms: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = q("UPDATE import_jobs SET lease_until = $3 WHERE id = $1 AND runner = $2 AND state = 'running'")
        .bind(job)
        .bind(runner)
        .bind(lease_until_ms)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a job (`done` or `failed`); its file is no longer needed once it is done, except
/// after a dry run, whose file a real run may reuse.
/// How many rows a job has staged: those of a batch being written, or left by one that
/// never committed (cleared when the job ends).
pub async fn staged_rows(conn: &mut AnyConnection, job: i64) -> Result<i64> {
    let row = q("SELECT COUNT(*) AS n FROM import_staging WHERE job_id = $1")
        .bind(job)
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

/// Rows a job staged for a batch that never committed (see `copy_awards`).
pub async fn clear_staging(conn: &mut AnyConnection, job: i64) -> Result<()> {
    q("DELETE FROM import_staging WHERE job_id = $1")
        .bind(job)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn finish(
    conn: &mut Writer,
    job: i64,
    state: &str,
    failure: Option<&str>,
    now_ms: i64,
    keep_file: bool,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    q("UPDATE import_jobs SET state = $2, failure = $3, finished_at = $4, runner = NULL, lease_until = NULL \
       WHERE id = $1")
    .bind(job)
    .bind(state)
    .bind(failure)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    clear_staging(conn, job).await?;
    if !keep_file {
        q("DELETE FROM import_chunks WHERE job_id = $1")
            .bind(job)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether a job's file is still stored.
pub async fn has_file(conn: &mut AnyConnection, job: i64) -> Result<bool> {
    Ok(chunk_count(conn, job).await? > 0)
}

const ISSUE_ROWS: usize = 400;

pub async fn add_issues(conn: &mut Writer, job: i64, issues: &[Issue]) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    for part in issues.chunks(ISSUE_ROWS) {
        let mut sql = String::from(
            "INSERT INTO import_issues (job_id, line, column_name, value, reason, rejected) VALUES ",
        );
        rows_of(&mut sql, Marks::of(conn), part.len(), 6);
        let mut stmt = crate::sql::q_assembled(sql);
        for is in part {
            stmt = stmt
                .bind(job)
                .bind(is.line)
                .bind(is.column.as_str())
                .bind(is.value.as_str())
                .bind(is.reason.as_str())
                .bind(i64::from(is.rejected));
        }
        stmt.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A page of a job's findings in file order (`rejected_only`: the errors report).
pub async fn issues(
    conn: &mut AnyConnection,
    job: i64,
    rejected_only: bool,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, Issue)>> {
    q(
        "SELECT * FROM import_issues WHERE job_id = $1 AND ($2 = 0 OR rejected = 1) AND id > $3 \
       ORDER BY id LIMIT $4",
    )
    .bind(job)
    .bind(i64::from(rejected_only))
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            rows::int(r, "id")?,
            Issue {
                line: rows::int(r, "line")?,
                column: rows::text(r, "column_name")?,
                value: rows::text(r, "value")?,
                reason: rows::text(r, "reason")?,
                rejected: rows::flag(r, "rejected")?,
            },
        ))
    })
    .collect()
}

/// Row ids of these learners by username (missing ones are absent).
pub async fn learner_ids(
    conn: &mut AnyConnection,
    usernames: &[&str],
) -> Result<HashMap<String, i64>> {
    let mut found = HashMap::with_capacity(usernames.len());
    for part in usernames.chunks(IN_LIST) {
        let sql = format!(
            "SELECT id, username FROM learners WHERE username IN ({})",
            Marks::of(conn).list(part.len())
        );
        let mut stmt = crate::sql::q_assembled(sql);
        for u in part {
            stmt = stmt.bind(*u);
        }
        for r in stmt.fetch_all(&mut *conn).await? {
            found.insert(rows::text(&r, "username")?, rows::int(&r, "id")?);
        }
    }
    Ok(found)
}

/// A learner created by an import with only what the file says.
pub struct NewLearner<'a> {
    pub username: &'a str,
    pub legal_name: &'a str,
    pub email: Option<&'a str>,
}

/// Creates learners (active, no manager) and answers their row ids by username.
pub async fn insert_learners(
    conn: &mut Writer,
    new: &[NewLearner<'_>],
    now_ms: i64,
) -> Result<HashMap<String, i64>> {
    let conn: &mut AnyConnection = conn;
    let mut ids = HashMap::with_capacity(new.len());
    for part in new.chunks(IN_LIST) {
        let mut m = Marks::of(conn);
        // OR ROLLBACK: no copy of the pages for undoing just this statement (see
        // `insert_awards`).
        let mut sql = String::from(if m.sqlite {
            "INSERT OR ROLLBACK INTO learners "
        } else {
            "INSERT INTO learners "
        });
        sql.push_str(
            "(username, legal_name, email, external_ids, active, attributes, \
             created_at, updated_at, mbox_sha1) VALUES ",
        );
        for i in 0..part.len() {
            if i > 0 {
                sql.push(',');
            }
            let (u, n, e, now, now2, sha) =
                (m.next(), m.next(), m.next(), m.next(), m.next(), m.next());
            sql.push_str(&format!(
                "({u}, {n}, {e}, '{{}}', 1, '{{}}', {now}, {now2}, {sha})"
            ));
        }
        sql.push_str(" RETURNING id, username");
        let mut stmt = crate::sql::q_assembled(sql);
        for l in part {
            stmt = stmt
                .bind(l.username)
                .bind(l.legal_name)
                .bind(l.email)
                .bind(now_ms)
                .bind(now_ms)
                .bind(l.email.map(crate::learners::mbox_sha1));
        }
        for r in stmt.fetch_all(&mut *conn).await? {
            ids.insert(rows::text(&r, "username")?, rows::int(&r, "id")?);
        }
    }
    Ok(ids)
}

/// How many values go in one `IN (…)` list or one multi-row statement.
const IN_LIST: usize = 500;

/// Placeholders for statements with many values: `$1, $2, …` on PostgreSQL, and `?` on
/// SQLite. SQLite looks a numbered placeholder's name up by walking a list, and sqlx asks
/// for every one of them, so a statement with n numbered values costs n² steps: with
/// 10,000 values that was 83% of an import's time (measured with perf on
/// `recert bench import_1m`). Anonymous `?` have no name to look up.
#[derive(Clone, Copy)]
struct Marks {
    sqlite: bool,
    n: usize,
}

impl Marks {
    fn of(conn: &AnyConnection) -> Self {
        Self {
            sqlite: conn.backend_name() == "SQLite",
            n: 0,
        }
    }

    fn next(&mut self) -> String {
        self.n += 1;
        if self.sqlite {
            "?".to_owned()
        } else {
            format!("${}", self.n)
        }
    }

    /// `n` placeholders separated by commas (an `IN` list).
    fn list(mut self, n: usize) -> String {
        (0..n).map(|_| self.next()).collect::<Vec<_>>().join(",")
    }
}

/// Appends `rows` tuples of `width` placeholders, comma-separated, in binding order.
fn rows_of(sql: &mut String, mut m: Marks, rows: usize, width: usize) {
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push(',');
            }
            sql.push_str(&m.next());
        }
        sql.push(')');
    }
}

/// Every award of these learners, current or not.
pub async fn awards_of(
    conn: &mut AnyConnection,
    learner_ids: &[i64],
) -> Result<Vec<crate::awards::AwardRecord>> {
    let mut out = Vec::new();
    for part in learner_ids.chunks(IN_LIST) {
        let sql = format!(
            "SELECT a.*, l.username, l.legal_name, p.code AS program_code FROM awards a \
             JOIN learners l ON l.id = a.learner_id JOIN programs p ON p.id = a.program_id \
             WHERE a.learner_id IN ({})",
            Marks::of(conn).list(part.len())
        );
        let mut stmt = crate::sql::q_assembled(sql);
        for id in part {
            stmt = stmt.bind(*id);
        }
        for r in stmt.fetch_all(&mut *conn).await? {
            out.push(crate::awards::from_row(&r)?);
        }
    }
    Ok(out)
}

/// An award an import creates, with where it is stored and, for a current award with an
/// expiry, the day the scheduler first looks at it.
pub struct Imported {
    pub award: Award,
    pub learner_id: i64,
    pub program_id: i64,
    pub notice_from: Option<Date>,
}

const AWARD_COLUMNS: usize = 24;

/// Row IDs for `n` new awards, taken before they are written, so the notice queue can
/// name them without reading them back (a `RETURNING` row per award cost a hand-over
/// between SQLite's worker thread and the import per row). On SQLite the write
/// transaction holds the only write lock, and SQLite would give the next rows the IDs
/// after the largest anyway; on PostgreSQL they come from the identity's sequence.
async fn reserve_award_ids(conn: &mut AnyConnection, sqlite: bool, n: usize) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if sqlite {
        let row = q("SELECT COALESCE(MAX(id), 0) AS id FROM awards")
            .fetch_one(&mut *conn)
            .await?;
        let last = rows::int(&row, "id")?;
        Ok((1..=n as i64).map(|i| last + i).collect())
    } else {
        let found = q(
            "SELECT nextval(pg_get_serial_sequence('awards', 'id')) AS id \
             FROM generate_series(1, $1)",
        )
        .bind(n as i64)
        .fetch_all(&mut *conn)
        .await?;
        found.iter().map(|r| rows::int(r, "id")).collect()
    }
}

/// The award columns an import writes, in the order of the values of both paths below.
const AWARD_INSERT_COLUMNS: &str = "id, cert_id, program_id, learner_id, issued_on, expires_on, \
     always_valid, window_opens_on, grace_ends_on, renewal_window_days, grace_days, association, \
     source_ref, content_version, fields, predecessor, superseded_by, superseded_on, is_current, \
     cycle_start, cycle_count, grace_extension_days, created_at, updated_at";

/// One imported award's values, in the order of [`AWARD_INSERT_COLUMNS`].
enum Value {
    Int(i64),
    Text(String),
    Null,
    NullInt,
}

fn award_values(im: &Imported, id: i64, now_ms: i64) -> Result<[Value; AWARD_COLUMNS]> {
    use Value::{Int, Null, NullInt, Text};
    let a = &im.award;
    let text = |v: Option<String>| v.map_or(Null, Text);
    let (opens, grace) = match a.expiry() {
        Some(x) => (
            Text(rows::date_text(a.window_opens(x))),
            Text(rows::date_text(a.grace_ends(x))),
        ),
        None => (Null, Null),
    };
    Ok([
        Int(id),
        Text(a.id.as_str().to_owned()),
        Int(im.program_id),
        Int(im.learner_id),
        Text(rows::date_text(a.issued_on)),
        text(rows::opt_date_text(a.expiry())),
        Int(i64::from(a.always_valid)),
        opens,
        grace,
        Int(i64::from(a.renewal_window_days)),
        Int(i64::from(a.grace_days)),
        Text(a.association.as_str().to_owned()),
        text(a.source_ref.clone()),
        text(a.content_version.clone()),
        Text(rows::to_json(&a.fields)?),
        text(a.predecessor.as_ref().map(|p| p.as_str().to_owned())),
        text(a.superseded.as_ref().map(|s| s.0.as_str().to_owned())),
        text(a.superseded.as_ref().map(|s| rows::date_text(s.1))),
        Int(i64::from(a.is_current())),
        text(a.cycle.map(|c| rows::date_text(c.start))),
        a.cycle.map_or(NullInt, |c| Int(i64::from(c.count))),
        Int(i64::from(a.grace_extension_days)),
        Int(now_ms),
        Int(now_ms),
    ])
}

/// Appends a value to a `COPY … FROM STDIN` text-format line: `\N` for null, and a
/// backslash before the characters that would end the field or the line.
fn copy_value(line: &mut String, v: &Value) {
    use std::fmt::Write;
    match v {
        Value::Null | Value::NullInt => line.push_str("\\N"),
        Value::Int(i) => {
            let _ = write!(line, "{i}");
        }
        Value::Text(t) => {
            for c in t.chars() {
                match c {
                    '\\' => line.push_str("\\\\"),
                    '\t' => line.push_str("\\t"),
                    '\n' => line.push_str("\\n"),
                    '\r' => line.push_str("\\r"),
                    c => line.push(c),
                }
            }
        }
    }
}

/// What `COPY` sends to the server at a time.
const COPY_CHUNK: usize = 1 << 20;

/// PostgreSQL: the awards `COPY`ed into `import_staging` on a connection of their own
/// (committed at once, outside the batch), then moved into awards and the notice queue
/// by the batch's transaction. Only that transaction makes them awards, together with the
/// job's progress, so a crash between the two leaves staged rows that never count; they
/// are cleared when the job ends ([`finish`]).
async fn copy_awards(
    copier: &sqlx::PgPool,
    conn: &mut AnyConnection,
    job: i64,
    awards: &[Imported],
    ids: &[i64],
    now_ms: i64,
) -> Result<()> {
    let Some(&stage) = ids.first() else {
        return Ok(());
    };
    let mut pg = copier.acquire().await?;
    let mut copy = pg
        .copy_in_raw(&format!(
            "COPY import_staging (stage, job_id, {AWARD_INSERT_COLUMNS}, due_on) FROM STDIN"
        ))
        .await?;
    let mut buf = String::with_capacity(COPY_CHUNK + 4096);
    for (im, id) in awards.iter().zip(ids) {
        copy_value(&mut buf, &Value::Int(stage));
        buf.push('\t');
        copy_value(&mut buf, &Value::Int(job));
        for v in award_values(im, *id, now_ms)? {
            buf.push('\t');
            copy_value(&mut buf, &v);
        }
        buf.push('\t');
        copy_value(
            &mut buf,
            &im.notice_from
                .map_or(Value::Null, |d| Value::Text(rows::date_text(d))),
        );
        buf.push('\n');
        if buf.len() >= COPY_CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    drop(pg);
    crate::sql::q_assembled(format!(
        "INSERT INTO awards ({AWARD_INSERT_COLUMNS}) SELECT {AWARD_INSERT_COLUMNS} \
         FROM import_staging WHERE stage = $1 ORDER BY id"
    ))
    .bind(stage)
    .execute(&mut *conn)
    .await?;
    q(
        "INSERT INTO notice_queue (due_on, award_id) SELECT due_on, id FROM import_staging \
       WHERE stage = $1 AND due_on IS NOT NULL ON CONFLICT DO NOTHING",
    )
    .bind(stage)
    .execute(&mut *conn)
    .await?;
    q("DELETE FROM import_staging WHERE stage = $1")
        .bind(stage)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Stores a job's imported awards and their notice queue entries: on PostgreSQL by `COPY`
/// (see [`copy_awards`]), on SQLite several rows per statement. Imported records carry no
/// score, credits, pathway, revocation or archive: those columns take their empty values.
pub async fn insert_awards(
    tx: &mut WriteTx,
    job: i64,
    awards: &[Imported],
    now_ms: i64,
) -> Result<()> {
    let copier = tx.copier().cloned();
    let conn: &mut AnyConnection = tx.conn();
    let marks = Marks::of(conn);
    let sqlite = marks.sqlite;
    let ids = reserve_award_ids(conn, sqlite, awards.len()).await?;
    if let Some(copier) = copier {
        return copy_awards(&copier, conn, job, awards, &ids, now_ms).await;
    }
    // 24 values a row: 500 rows stay under SQLite's 32,766 and PostgreSQL's 65,535.
    for (part, ids) in awards.chunks(IN_LIST).zip(ids.chunks(IN_LIST)) {
        // A statement of many rows that may fail half-way keeps a copy of every page it
        // changes, to undo just itself; a conflict that rolls the whole batch back needs
        // no such copy (see the bulk connection in `lib.rs`).
        let mut sql = String::from(if sqlite {
            "INSERT OR ROLLBACK INTO awards "
        } else {
            "INSERT INTO awards "
        });
        sql.push('(');
        sql.push_str(AWARD_INSERT_COLUMNS);
        sql.push_str(") VALUES ");
        rows_of(&mut sql, marks, part.len(), AWARD_COLUMNS);
        let mut stmt = crate::sql::q_assembled(sql);
        for (im, id) in part.iter().zip(ids) {
            for v in award_values(im, *id, now_ms)? {
                stmt = match v {
                    Value::Int(i) => stmt.bind(i),
                    Value::Text(t) => stmt.bind(t),
                    Value::Null => stmt.bind(None::<String>),
                    Value::NullInt => stmt.bind(None::<i64>),
                };
            }
        }
        stmt.execute(&mut *conn).await?;
        let queued: Vec<(String, i64)> = part
            .iter()
            .zip(ids)
            .filter_map(|(im, id)| im.notice_from.map(|on| (rows::date_text(on), *id)))
            .collect();
        if !queued.is_empty() {
            // New awards have no queue entries yet; OR IGNORE (not ON CONFLICT, which
            // keeps NOT NULL's abort and so the page copies) in case one had.
            let mut sql = String::from(if sqlite {
                "INSERT OR IGNORE INTO notice_queue (due_on, award_id) VALUES "
            } else {
                "INSERT INTO notice_queue (due_on, award_id) VALUES "
            });
            rows_of(&mut sql, marks, queued.len(), 2);
            if !sqlite {
                sql.push_str(" ON CONFLICT DO NOTHING");
            }
            let mut stmt = crate::sql::q_assembled(sql);
            for (on, id) in queued {
                stmt = stmt.bind(on).bind(id);
            }
            stmt.execute(&mut *conn).await?;
        }
    }
    Ok(())
}
