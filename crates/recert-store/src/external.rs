//! External training reports (SPEC §3.3): an activity done elsewhere, reported toward a
//! program, optionally approved, then earning it with issue date = completion date.

use crate::Writer;
use crate::sql::{Arg, SortKeys, Sql, Within};
use crate::{Result, rows};
use recert_domain::Date;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// An uploaded evidence file.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A report as stored (without the evidence bytes, which are read on their own).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: i64,
    pub learner_id: i64,
    pub username: String,
    pub legal_name: String,
    pub program_id: i64,
    pub program_code: String,
    pub title: String,
    pub provider: String,
    pub completed_on: Date,
    pub hours: Option<f64>,
    pub evidence_name: Option<String>,
    pub evidence_type: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    pub submitted_by: String,
    pub submitted_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decision_note: Option<String>,
    pub award_id: Option<String>,
    /// What approval did (or why it earned nothing), for people.
    pub outcome: Option<String>,
}

const SELECT: &str = "SELECT x.id, x.learner_id, x.program_id, x.title, x.provider, x.completed_on, x.hours, \
     x.evidence_name, x.evidence_type, x.state, x.submitted_by, x.submitted_at, x.decided_by, x.decided_at, \
     x.decision_note, x.award_id, x.outcome, l.username, l.legal_name, p.code AS program_code \
     FROM external_training x JOIN learners l ON l.id = x.learner_id JOIN programs p ON p.id = x.program_id";

fn from_row(row: &AnyRow) -> Result<Report> {
    Ok(Report {
        id: rows::int(row, "id")?,
        learner_id: rows::int(row, "learner_id")?,
        username: rows::text(row, "username")?,
        legal_name: rows::text(row, "legal_name")?,
        program_id: rows::int(row, "program_id")?,
        program_code: rows::text(row, "program_code")?,
        title: rows::text(row, "title")?,
        provider: rows::text(row, "provider")?,
        completed_on: rows::date(row, "completed_on")?,
        hours: rows::opt_f64(row, "hours")?,
        evidence_name: rows::opt_text(row, "evidence_name")?,
        evidence_type: rows::opt_text(row, "evidence_type")?,
        state: rows::text(row, "state")?,
        submitted_by: rows::text(row, "submitted_by")?,
        submitted_at_ms: rows::int(row, "submitted_at")?,
        decided_by: rows::opt_text(row, "decided_by")?,
        decided_at_ms: rows::opt_int(row, "decided_at")?,
        decision_note: rows::opt_text(row, "decision_note")?,
        award_id: rows::opt_text(row, "award_id")?,
        outcome: rows::opt_text(row, "outcome")?,
    })
}

/// Stores a report under `r.id`, which the caller draws at random: report ids are in URLs
/// and must not tell how many reports there are or let one guess another's.
pub async fn insert(conn: &mut Writer, r: &Report, evidence: Option<&Evidence>) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO external_training (id, learner_id, program_id, title, provider, completed_on, hours, \
         evidence_name, evidence_type, evidence, state, submitted_by, submitted_at) \
         VALUES ($1,$2,$3,$4,$5,$6,CAST($7 AS DOUBLE PRECISION),$8,$9,$10,$11,$12,$13) RETURNING id",
    )
    .bind(r.id)
    .bind(r.learner_id)
    .bind(r.program_id)
    .bind(&r.title)
    .bind(&r.provider)
    .bind(rows::date_text(r.completed_on))
    .bind(crate::sql::Real(r.hours))
    .bind(evidence.map(|e| e.name.clone()))
    .bind(evidence.map(|e| e.content_type.clone()))
    .bind(evidence.map(|e| e.bytes.clone()))
    .bind(&r.state)
    .bind(&r.submitted_by)
    .bind(r.submitted_at_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Report>> {
    crate::sql::q_assembled(format!("{SELECT} WHERE x.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Records the decision (and, on approval, the award it earned).
pub async fn decide(conn: &mut Writer, r: &Report) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE external_training SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4, \
         award_id = $5, outcome = $6 WHERE id = $7",
    )
    .bind(&r.state)
    .bind(&r.decided_by)
    .bind(r.decided_at_ms)
    .bind(&r.decision_note)
    .bind(&r.award_id)
    .bind(&r.outcome)
    .bind(r.id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn evidence(conn: &mut AnyConnection, id: i64) -> Result<Option<Evidence>> {
    evidence_in(conn, "external_training", id).await
}

/// The evidence file of row `id` of `table` (external training reports and credit
/// entries keep their files in the same columns).
pub(crate) async fn evidence_in(
    conn: &mut AnyConnection,
    table: &'static str,
    id: i64,
) -> Result<Option<Evidence>> {
    let row = crate::sql::q_assembled(format!(
        "SELECT evidence_name, evidence_type, evidence FROM {table} WHERE id = $1 AND evidence IS NOT NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    match row {
        Some(row) => {
            use sqlx::Row;
            let bytes: Vec<u8> = row
                .try_get("evidence")
                .map_err(|e| crate::StoreError::Corrupt(format!("evidence: {e}")))?;
            Ok(Some(Evidence {
                name: rows::text(&row, "evidence_name")?,
                content_type: rows::text(&row, "evidence_type")?,
                bytes,
            }))
        }
        None => Ok(None),
    }
}

impl crate::listing::Listing for Filter {
    type Row = Report;
    const SELECT: &'static str = SELECT;
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM external_training x \
         JOIN learners l ON l.id = x.learner_id JOIN programs p ON p.id = x.program_id";
    const ID: &'static str = "x.id";
    const SORTS: SortKeys = &[
        ("submitted", "x.submitted_at"),
        ("completed", "x.completed_on"),
        ("name", "lower(l.legal_name)"),
        ("program", "p.code"),
        ("state", "x.state"),
        ("decided", "x.decided_at"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        push_filter(q, self);
    }

    fn row(r: &AnyRow) -> Result<Report> {
        from_row(r)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<String>,
    pub learner: Option<String>,
    pub within: Within,
}

/// Oldest pending first when filtering by state; otherwise newest first.
pub async fn list(conn: &mut AnyConnection, f: &Filter, limit: i64) -> Result<Vec<Report>> {
    let mut q = Sql::new(SELECT);
    q.push(" WHERE 1 = 1");
    push_filter(&mut q, f);
    let p = q.arg(Arg::Int(limit));
    if f.state.as_deref() == Some("pending") {
        q.push(&format!(" ORDER BY x.submitted_at, x.id LIMIT {p}"));
    } else {
        q.push(&format!(
            " ORDER BY x.submitted_at DESC, x.id DESC LIMIT {p}"
        ));
    }
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The conditions of `f`, appended to a query over `external_training x` joined with
/// learners `l`.
fn push_filter(q: &mut Sql, f: &Filter) {
    if let Some(s) = &f.state {
        let p = q.arg(Arg::Text(s.clone()));
        q.push(&format!(" AND x.state = {p}"));
    }
    if let Some(u) = &f.learner {
        let p = q.arg(Arg::Text(u.clone()));
        q.push(&format!(" AND l.username = {p}"));
    }
    f.within.push(q, "x.learner_id", Some("x.program_id"));
}

/// A learner's evidence files: how many were uploaded at or after `since_ms` (external
/// training and credit entries together), and how many bytes all of theirs take.
pub async fn evidence_use(
    conn: &mut AnyConnection,
    learner_id: i64,
    since_ms: i64,
) -> Result<(i64, i64)> {
    let r = crate::sql::q(
        "SELECT \
           (SELECT COUNT(*) FROM external_training \
              WHERE learner_id = $1 AND evidence IS NOT NULL AND submitted_at >= $2) \
         + (SELECT COUNT(*) FROM credits \
              WHERE learner_id = $1 AND evidence IS NOT NULL AND submitted_at >= $2) AS recent, \
           CAST((SELECT COALESCE(SUM(LENGTH(evidence)), 0) FROM external_training WHERE learner_id = $1) \
         + (SELECT COALESCE(SUM(LENGTH(evidence)), 0) FROM credits WHERE learner_id = $1) AS BIGINT) AS total",
    )
    .bind(learner_id)
    .bind(since_ms)
    .fetch_one(conn)
    .await?;
    Ok((rows::int(&r, "recent")?, rows::int(&r, "total")?))
}
