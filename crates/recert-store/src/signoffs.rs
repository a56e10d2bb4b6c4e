//! Supervisor sign-off requests (migration 0016).

use crate::sql::{Arg, Sql};
use crate::{Result, Writer, rows};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// A sign-off request with the names it is shown with.
#[derive(Debug, Clone)]
pub struct Signoff {
    pub id: i64,
    pub award_id: i64,
    pub cert_id: String,
    pub program_code: String,
    pub program_name: String,
    pub learner_id: i64,
    pub learner: String,
    pub learner_name: String,
    pub manager_id: i64,
    pub manager: String,
    pub manager_name: String,
    pub state: String,
    pub requested_by: String,
    pub requested_at_ms: i64,
    pub decided_by: Option<String>,
    pub decided_at_ms: Option<i64>,
    pub comment: Option<String>,
    pub renewal: Option<String>,
}

const SELECT: &str = "SELECT s.*, a.cert_id, p.code AS program_code, p.name AS program_name, \
    l.username AS learner, l.legal_name AS learner_name, m.username AS manager, m.legal_name AS manager_name \
    FROM signoffs s JOIN awards a ON a.id = s.award_id JOIN programs p ON p.id = a.program_id \
    JOIN learners l ON l.id = s.learner_id JOIN learners m ON m.id = s.manager_id";

fn from_row(r: &AnyRow) -> Result<Signoff> {
    Ok(Signoff {
        id: rows::int(r, "id")?,
        award_id: rows::int(r, "award_id")?,
        cert_id: rows::text(r, "cert_id")?,
        program_code: rows::text(r, "program_code")?,
        program_name: rows::text(r, "program_name")?,
        learner_id: rows::int(r, "learner_id")?,
        learner: rows::text(r, "learner")?,
        learner_name: rows::text(r, "learner_name")?,
        manager_id: rows::int(r, "manager_id")?,
        manager: rows::text(r, "manager")?,
        manager_name: rows::text(r, "manager_name")?,
        state: rows::text(r, "state")?,
        requested_by: rows::text(r, "requested_by")?,
        requested_at_ms: rows::int(r, "requested_at_ms")?,
        decided_by: rows::opt_text(r, "decided_by")?,
        decided_at_ms: rows::opt_int(r, "decided_at_ms")?,
        comment: rows::opt_text(r, "comment")?,
        renewal: rows::opt_text(r, "renewal")?,
    })
}

/// Records a pending request. A second open request for the same award is refused by
/// the store's unique index (a conflict).
pub async fn insert(
    conn: &mut Writer,
    award_id: i64,
    learner_id: i64,
    manager_id: i64,
    requested_by: &str,
    at_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO signoffs (award_id, learner_id, manager_id, state, requested_by, requested_at_ms) \
         VALUES ($1, $2, $3, 'pending', $4, $5) RETURNING id",
    )
    .bind(award_id)
    .bind(learner_id)
    .bind(manager_id)
    .bind(requested_by)
    .bind(at_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

/// The one request `filter` (SQL over `s` and `a`, with `$1`) finds, newest first.
async fn one(conn: &mut AnyConnection, filter: &str, arg: Arg) -> Result<Option<Signoff>> {
    let mut q = Sql::new(SELECT);
    let p = q.arg(arg);
    q.push(&format!(
        " WHERE {} ORDER BY s.id DESC LIMIT 1",
        filter.replace("$1", &p)
    ));
    q.query()
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Signoff>> {
    one(conn, "s.id = $1", Arg::Int(id)).await
}

/// The open request for an award, if any.
pub async fn pending_for(conn: &mut AnyConnection, award_id: i64) -> Result<Option<Signoff>> {
    one(
        conn,
        "s.award_id = $1 AND s.state = 'pending'",
        Arg::Int(award_id),
    )
    .await
}

/// The latest request about a certificate, if any.
pub async fn latest_for(conn: &mut AnyConnection, cert_id: &str) -> Result<Option<Signoff>> {
    one(conn, "a.cert_id = $1", Arg::Text(cert_id.to_owned())).await
}

/// Requests in a state (`None`: all), those asked of one manager or of anyone, oldest
/// first.
pub async fn list(
    conn: &mut AnyConnection,
    manager_id: Option<i64>,
    state: Option<&str>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<Signoff>> {
    let mut q = Sql::new(SELECT);
    let after = q.arg(Arg::Int(after_id));
    q.push(&format!(" WHERE s.id > {after}"));
    if let Some(m) = manager_id {
        let p = q.arg(Arg::Int(m));
        q.push(&format!(" AND s.manager_id = {p}"));
    }
    if let Some(st) = state {
        let p = q.arg(Arg::Text(st.to_owned()));
        q.push(&format!(" AND s.state = {p}"));
    }
    let limit = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY s.id LIMIT {limit}"));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Decides a pending request. `false` when it was decided already.
pub async fn decide(
    conn: &mut Writer,
    id: i64,
    state: &str,
    by: &str,
    at_ms: i64,
    comment: Option<&str>,
    renewal: Option<&str>,
) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "UPDATE signoffs SET state = $1, decided_by = $2, decided_at_ms = $3, comment = $4, renewal = $5 \
         WHERE id = $6 AND state = 'pending'",
    )
    .bind(state)
    .bind(by)
    .bind(at_ms)
    .bind(comment)
    .bind(renewal)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A learner's manager: row id, legal name and email address (if any).
pub async fn manager_of(
    conn: &mut AnyConnection,
    learner_id: i64,
) -> Result<Option<(i64, String, Option<String>)>> {
    let row = crate::sql::q(
        "SELECT m.id, m.legal_name, m.email FROM learners l JOIN learners m ON m.id = l.manager_id \
         WHERE l.id = $1",
    )
    .bind(learner_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            rows::int(&r, "id")?,
            rows::text(&r, "legal_name")?,
            rows::opt_text(&r, "email")?.filter(|e| !e.is_empty()),
        ))
    })
    .transpose()
}

/// Which requests a list shows: those asked of one manager (or of anyone), in a state.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub manager_id: Option<i64>,
    pub state: Option<String>,
}

impl crate::listing::Listing for Filter {
    type Row = Signoff;
    const SELECT: &'static str = SELECT;
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM signoffs s JOIN awards a ON a.id = s.award_id \
        JOIN programs p ON p.id = a.program_id JOIN learners l ON l.id = s.learner_id \
        JOIN learners m ON m.id = s.manager_id";
    const ID: &'static str = "s.id";
    const SORTS: crate::sql::SortKeys = &[
        ("asked", "s.requested_at_ms"),
        ("name", "lower(l.legal_name)"),
        ("program", "p.code"),
        ("manager", "lower(m.legal_name)"),
        ("state", "s.state"),
        ("decided", "s.decided_at_ms"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        if let Some(m) = self.manager_id {
            let p = q.arg(Arg::Int(m));
            q.push(&format!(" AND s.manager_id = {p}"));
        }
        if let Some(st) = &self.state {
            let p = q.arg(Arg::Text(st.clone()));
            q.push(&format!(" AND s.state = {p}"));
        }
    }

    fn row(r: &AnyRow) -> Result<Signoff> {
        from_row(r)
    }
}
