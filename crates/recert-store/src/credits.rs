//! Continuing-education credit entries (migration 0017): hours logged toward renewing a
//! certification, each counted in the cycle of the award that was current when it was
//! logged, until a renewal uses them.

use crate::Writer;
use crate::external::Evidence;
use crate::sql::{Arg, SortKeys, Sql, Within};
use crate::{Result, rows};
use recert_domain::Date;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// An entry as stored (without the evidence bytes, which are read on their own).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: i64,
    pub learner_id: i64,
    pub username: String,
    pub legal_name: String,
    pub program_id: i64,
    pub program_code: String,
    /// The award whose cycle it counts toward: row id and certificate ID.
    pub award_id: i64,
    pub cert_id: String,
    pub completed_on: Date,
    pub hours: f64,
    pub category: Option<String>,
    pub provider: String,
    pub evidence_name: Option<String>,
    pub evidence_type: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    pub submitted_by: String,
    pub submitted_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub decision_note: Option<String>,
    /// The certificate ID of the renewal these credits completed.
    pub renewal: Option<String>,
}

const SELECT: &str = "SELECT c.id, c.learner_id, c.program_id, c.award_id, c.completed_on, c.hours, c.category, \
     c.provider, c.evidence_name, c.evidence_type, c.state, c.submitted_by, c.submitted_at, c.decided_by, \
     c.decided_at, c.decision_note, c.renewal, l.username, l.legal_name, p.code AS program_code, a.cert_id \
     FROM credits c JOIN learners l ON l.id = c.learner_id \
     JOIN programs p ON p.id = c.program_id JOIN awards a ON a.id = c.award_id";

fn from_row(row: &AnyRow) -> Result<Entry> {
    Ok(Entry {
        id: rows::int(row, "id")?,
        learner_id: rows::int(row, "learner_id")?,
        username: rows::text(row, "username")?,
        legal_name: rows::text(row, "legal_name")?,
        program_id: rows::int(row, "program_id")?,
        program_code: rows::text(row, "program_code")?,
        award_id: rows::int(row, "award_id")?,
        cert_id: rows::text(row, "cert_id")?,
        completed_on: rows::date(row, "completed_on")?,
        hours: rows::opt_f64(row, "hours")?.unwrap_or_default(),
        category: rows::opt_text(row, "category")?,
        provider: rows::text(row, "provider")?,
        evidence_name: rows::opt_text(row, "evidence_name")?,
        evidence_type: rows::opt_text(row, "evidence_type")?,
        state: rows::text(row, "state")?,
        submitted_by: rows::text(row, "submitted_by")?,
        submitted_at_ms: rows::int(row, "submitted_at")?,
        decided_by: rows::opt_text(row, "decided_by")?,
        decided_at_ms: rows::opt_int(row, "decided_at")?,
        decision_note: rows::opt_text(row, "decision_note")?,
        renewal: rows::opt_text(row, "renewal")?,
    })
}

/// Stores a new entry; answers its id.
pub async fn insert(conn: &mut Writer, e: &Entry, evidence: Option<&Evidence>) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO credits (learner_id, program_id, award_id, completed_on, hours, category, provider, \
         evidence_name, evidence_type, evidence, state, submitted_by, submitted_at) \
         VALUES ($1,$2,$3,$4,CAST($5 AS DOUBLE PRECISION),$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id",
    )
    .bind(e.learner_id)
    .bind(e.program_id)
    .bind(e.award_id)
    .bind(rows::date_text(e.completed_on))
    .bind(crate::sql::Real(Some(e.hours)))
    .bind(&e.category)
    .bind(&e.provider)
    .bind(evidence.map(|x| x.name.clone()))
    .bind(evidence.map(|x| x.content_type.clone()))
    .bind(evidence.map(|x| x.bytes.clone()))
    .bind(&e.state)
    .bind(&e.submitted_by)
    .bind(e.submitted_at_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Entry>> {
    crate::sql::q_assembled(format!("{SELECT} WHERE c.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Records a decision on a pending entry; false when it was no longer pending (another
/// approver or instance decided first).
pub async fn decide(conn: &mut Writer, e: &Entry) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "UPDATE credits SET state = $1, decided_by = $2, decided_at = $3, decision_note = $4 \
         WHERE id = $5 AND state = 'pending'",
    )
    .bind(&e.state)
    .bind(&e.decided_by)
    .bind(e.decided_at_ms)
    .bind(&e.decision_note)
    .bind(e.id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Every entry of a certificate's cycle, by its certificate ID, oldest completion first.
pub async fn of_cert(conn: &mut AnyConnection, cert_id: &str) -> Result<Vec<Entry>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE a.cert_id = $1 ORDER BY c.completed_on, c.id"
    ))
    .bind(cert_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Every entry of an award's cycle, oldest completion first.
pub async fn of_award(conn: &mut AnyConnection, award_id: i64) -> Result<Vec<Entry>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE c.award_id = $1 ORDER BY c.completed_on, c.id"
    ))
    .bind(award_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks the approved, unused entries of an award's cycle as used by `renewal`.
pub async fn use_for_renewal(conn: &mut Writer, award_id: i64, renewal: &str) -> Result<u64> {
    let conn: &mut AnyConnection = conn;
    Ok(crate::sql::q(
        "UPDATE credits SET renewal = $1 WHERE award_id = $2 AND state = 'approved' AND renewal IS NULL",
    )
    .bind(renewal)
    .bind(award_id)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Current awards with approved, unused credits whose renewal window is open on `today`
/// (certificate IDs, at most `limit`): the only awards the scheduler's credit pass reads,
/// so its cost follows the credits logged, not the awards held.
pub async fn ready(conn: &mut AnyConnection, today: Date, limit: i64) -> Result<Vec<String>> {
    crate::sql::q(
        "SELECT DISTINCT a.cert_id FROM credits c JOIN awards a ON a.id = c.award_id \
         WHERE c.state = 'approved' AND c.renewal IS NULL AND a.is_current = 1 \
         AND a.window_opens_on <= $1 AND $1 <= a.grace_ends_on ORDER BY a.cert_id LIMIT $2",
    )
    .bind(rows::date_text(today))
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| rows::text(r, "cert_id"))
    .collect()
}

pub async fn evidence(conn: &mut AnyConnection, id: i64) -> Result<Option<Evidence>> {
    crate::external::evidence_in(conn, "credits", id).await
}

/// Which entries a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
    pub within: Within,
}

impl crate::listing::Listing for Filter {
    type Row = Entry;
    const SELECT: &'static str = SELECT;
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM credits c JOIN learners l ON l.id = c.learner_id \
     JOIN programs p ON p.id = c.program_id JOIN awards a ON a.id = c.award_id";
    const ID: &'static str = "c.id";
    const SORTS: SortKeys = &[
        ("submitted", "c.submitted_at"),
        ("completed", "c.completed_on"),
        ("name", "lower(l.legal_name)"),
        ("program", "p.code"),
        ("hours", "c.hours"),
        ("provider", "lower(c.provider)"),
        ("state", "c.state"),
        ("decided", "c.decided_at"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        if let Some(s) = &self.state {
            let p = q.arg(Arg::Text(s.clone()));
            q.push(&format!(" AND c.state = {p}"));
        }
        if let Some(u) = &self.learner {
            let p = q.arg(Arg::Text(u.clone()));
            q.push(&format!(" AND l.username = {p}"));
        }
        if let Some(code) = &self.program {
            let p = q.arg(Arg::Text(code.to_lowercase()));
            q.push(&format!(" AND p.code_folded = {p}"));
        }
        self.within.push(q, "c.learner_id", Some("c.program_id"));
    }

    fn row(r: &AnyRow) -> Result<Entry> {
        from_row(r)
    }
}

/// Entries matching `f` after id `after`, oldest first (the API's cursor pages).
pub async fn page(
    conn: &mut AnyConnection,
    f: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<Entry>> {
    use crate::listing::Listing;
    let mut q = Sql::new(SELECT);
    q.push(" WHERE 1 = 1");
    f.push_filter(&mut q);
    let a = q.arg(Arg::Int(after));
    let l = q.arg(Arg::Int(limit));
    q.push(&format!(" AND c.id > {a} ORDER BY c.id LIMIT {l}"));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
