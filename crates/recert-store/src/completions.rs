//! Completion events (SPEC §3.3): every one received is kept with what it did per program,
//! so a learner's record can say why a completion earned nothing.

use crate::Writer;
use crate::sql::{Arg, SortKeys, Sql, Within};
use crate::{Result, rows};
use recert_domain::Date;
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// A completion as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRecord {
    pub id: i64,
    pub event_id: String,
    pub learner_id: i64,
    pub username: String,
    /// The item code or xAPI activity IRI as received.
    pub item: String,
    pub completed_on: Date,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub scaled: Option<f64>,
    pub passed: Option<bool>,
    pub content_version: Option<String>,
    /// `api`, `xapi:<connection>`, …
    pub source: String,
    pub received_at_ms: i64,
    /// What it did, per program (JSON list, written by the service).
    pub outcomes: serde_json::Value,
    /// How many times the same event came again (and changed nothing).
    pub replays: i64,
}

const SELECT: &str =
    "SELECT c.*, l.username FROM completions c JOIN learners l ON l.id = c.learner_id";

fn from_row(row: &AnyRow) -> Result<CompletionRecord> {
    Ok(CompletionRecord {
        id: rows::int(row, "id")?,
        event_id: rows::text(row, "event_id")?,
        learner_id: rows::int(row, "learner_id")?,
        username: rows::text(row, "username")?,
        item: rows::text(row, "item")?,
        completed_on: rows::date(row, "completed_on")?,
        score: rows::opt_f64(row, "score")?,
        max_score: rows::opt_f64(row, "max_score")?,
        scaled: rows::opt_f64(row, "scaled")?,
        passed: rows::opt_int(row, "passed")?.map(|v| v != 0),
        content_version: rows::opt_text(row, "content_version")?,
        source: rows::text(row, "source")?,
        received_at_ms: rows::int(row, "received_at")?,
        outcomes: rows::json(row, "outcomes")?,
        replays: rows::int(row, "replays")?,
    })
}

pub async fn by_event_id(
    conn: &mut AnyConnection,
    event_id: &str,
) -> Result<Option<CompletionRecord>> {
    crate::sql::q_assembled(format!("{SELECT} WHERE c.event_id = $1"))
        .bind(event_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Stores a new completion; its id.
pub async fn insert(conn: &mut Writer, c: &CompletionRecord) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO completions (event_id, learner_id, item, completed_on, score, max_score, scaled, passed, \
         content_version, source, received_at, outcomes, replays) \
         VALUES ($1,$2,$3,$4,CAST($5 AS DOUBLE PRECISION),CAST($6 AS DOUBLE PRECISION),CAST($7 AS DOUBLE PRECISION),$8,$9,$10,$11,$12,0) RETURNING id",
    )
    .bind(&c.event_id)
    .bind(c.learner_id)
    .bind(&c.item)
    .bind(rows::date_text(c.completed_on))
    .bind(crate::sql::Real(c.score))
    .bind(crate::sql::Real(c.max_score))
    .bind(crate::sql::Real(c.scaled))
    .bind(c.passed.map(i64::from))
    .bind(&c.content_version)
    .bind(&c.source)
    .bind(c.received_at_ms)
    .bind(rows::to_json(&c.outcomes)?)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

/// Rewrites what a completion did (a backfill turned it into an award).
pub async fn set_outcomes(conn: &mut Writer, id: i64, outcomes: &serde_json::Value) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE completions SET outcomes = $1 WHERE id = $2")
        .bind(rows::to_json(outcomes)?)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts a replay of an event already received.
pub async fn count_replay(conn: &mut Writer, id: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE completions SET replays = replays + 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Listing filters.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub learner: Option<String>,
    pub item: Option<String>,
    pub within: Within,
}

/// Newest first, keyed by id descending for cursor paging (`before` = the last id seen).
pub async fn list(
    conn: &mut AnyConnection,
    f: &Filter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<CompletionRecord>> {
    let mut q = Sql::new(SELECT);
    let p = q.arg(Arg::Int(before.unwrap_or(i64::MAX)));
    q.push(&format!(" WHERE c.id < {p}"));
    push_filter(&mut q, f);
    let p = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY c.id DESC LIMIT {p}"));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

impl crate::listing::Listing for Filter {
    type Row = CompletionRecord;
    const SELECT: &'static str = SELECT;
    const COUNT: &'static str =
        "SELECT COUNT(*) AS n FROM completions c JOIN learners l ON l.id = c.learner_id";
    const ID: &'static str = "c.id";
    const SORTS: SortKeys = &[
        ("completed", "c.completed_on"),
        ("item", "c.item"),
        ("username", "l.username"),
        ("received", "c.id"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        push_filter(q, self);
    }

    fn row(r: &AnyRow) -> Result<CompletionRecord> {
        from_row(r)
    }
}

/// Every completion of any of these item identifiers (codes or activity IRIs): the
/// candidates of a backfill.
pub async fn of_items(conn: &mut AnyConnection, items: &[String]) -> Result<Vec<CompletionRecord>> {
    let mut out = Vec::new();
    for ident in items {
        let found = crate::sql::q_assembled(format!(
            "{SELECT} WHERE c.item = $1 ORDER BY c.completed_on, c.id"
        ))
        .bind(ident)
        .fetch_all(&mut *conn)
        .await?;
        for row in &found {
            out.push(from_row(row)?);
        }
    }
    Ok(out)
}

/// The conditions of `f`, appended to a query over `completions c` joined with learners
/// `l`.
fn push_filter(q: &mut Sql, f: &Filter) {
    if let Some(u) = &f.learner {
        let p = q.arg(Arg::Text(u.clone()));
        q.push(&format!(" AND l.username = {p}"));
    }
    if let Some(i) = &f.item {
        let p = q.arg(Arg::Text(i.clone()));
        q.push(&format!(" AND c.item = {p}"));
    }
    f.within.push(q, "c.learner_id", None);
}
