//! LMS connections (the HTTP Basic credentials an LMS uses on `/xapi`) and the xAPI
//! statements they send.

use crate::Writer;
use crate::{Result, rows};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: i64,
    pub name: String,
    pub key: String,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    pub last_used_at_ms: Option<i64>,
}

fn from_row(row: &AnyRow) -> Result<Connection> {
    Ok(Connection {
        id: rows::int(row, "id")?,
        name: rows::text(row, "name")?,
        key: rows::text(row, "key")?,
        secret_hash: rows::text(row, "secret_hash")?,
        created_by: rows::text(row, "created_by")?,
        created_at_ms: rows::int(row, "created_at")?,
        revoked_at_ms: rows::opt_int(row, "revoked_at")?,
        last_used_at_ms: rows::opt_int(row, "last_used_at")?,
    })
}

pub async fn insert(conn: &mut Writer, c: &Connection) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO lms_connections (name, key, secret_hash, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5) RETURNING id",
    )
    .bind(&c.name)
    .bind(&c.key)
    .bind(&c.secret_hash)
    .bind(&c.created_by)
    .bind(c.created_at_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Connection>> {
    crate::sql::q("SELECT * FROM lms_connections ORDER BY id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Connection>> {
    crate::sql::q("SELECT * FROM lms_connections WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_key(conn: &mut AnyConnection, key: &str) -> Result<Option<Connection>> {
    crate::sql::q("SELECT * FROM lms_connections WHERE key = $1")
        .bind(key)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn revoke(conn: &mut Writer, id: i64, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE lms_connections SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn touch(conn: &mut Writer, id: i64, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE lms_connections SET last_used_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// An xAPI statement as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub id: String,
    pub connection_id: Option<i64>,
    pub stored_at_ms: i64,
    pub verb: String,
    pub object_id: Option<String>,
    pub learner_id: Option<i64>,
    /// The full statement with `id`, `stored`, `timestamp` and `authority` set.
    pub statement: serde_json::Value,
    /// What recert did with it, for people.
    pub outcome: String,
    /// Voided by a later statement: answered only by `voidedStatementId`.
    pub voided: bool,
}

fn statement_from_row(row: &AnyRow) -> Result<Statement> {
    Ok(Statement {
        id: rows::text(row, "id")?,
        connection_id: rows::opt_int(row, "connection_id")?,
        stored_at_ms: rows::int(row, "stored_at")?,
        verb: rows::text(row, "verb")?,
        object_id: rows::opt_text(row, "object_id")?,
        learner_id: rows::opt_int(row, "learner_id")?,
        statement: rows::json(row, "statement")?,
        outcome: rows::text(row, "outcome")?,
        voided: rows::flag(row, "voided")?,
    })
}

pub async fn statement(conn: &mut AnyConnection, id: &str) -> Result<Option<Statement>> {
    crate::sql::q("SELECT * FROM xapi_statements WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(statement_from_row)
        .transpose()
}

pub async fn insert_statement(
    conn: &mut Writer,
    s: &Statement,
    index: &recert_domain::xapi::Index,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO xapi_statements (id, connection_id, stored_at, verb, object_id, learner_id, statement, outcome, \
         agents, activities, registration, voids, voided) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,0)",
    )
    .bind(&s.id)
    .bind(s.connection_id)
    .bind(s.stored_at_ms)
    .bind(&s.verb)
    .bind(&s.object_id)
    .bind(s.learner_id)
    .bind(rows::to_json(&s.statement)?)
    .bind(&s.outcome)
    .bind(&index.agents)
    .bind(&index.activities)
    .bind(&index.registration)
    .bind(&index.voids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a statement voided.
pub async fn void(conn: &mut Writer, id: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE xapi_statements SET voided = 1 WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Statements stored before their index existed (migration 0023), a batch at a time.
pub async fn unindexed(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Statement>> {
    crate::sql::q("SELECT * FROM xapi_statements WHERE agents IS NULL ORDER BY id LIMIT $1")
        .bind(limit)
        .fetch_all(conn)
        .await?
        .iter()
        .map(statement_from_row)
        .collect()
}

/// Writes the index of a statement stored before it existed (voiding included).
pub async fn set_index(
    conn: &mut Writer,
    id: &str,
    index: &recert_domain::xapi::Index,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE xapi_statements SET agents = $1, activities = $2, registration = $3, voids = $4 \
         WHERE id = $5",
    )
    .bind(&index.agents)
    .bind(&index.activities)
    .bind(&index.registration)
    .bind(&index.voids)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if let Some(target) = &index.voids {
        crate::sql::q("UPDATE xapi_statements SET voided = 1 WHERE id = $1")
            .bind(target)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// What a statement query filters on (xAPI 1.0.3 Part 3, 2.1.3), as the LRS parsed it.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    pub verb: Option<String>,
    /// An agent's key (`recert_domain::xapi::agent_key`).
    pub agent: Option<String>,
    pub related_agents: bool,
    pub activity: Option<String>,
    pub related_activities: bool,
    /// A UUID, lowercase.
    pub registration: Option<String>,
    pub ascending: bool,
}

/// One page of a statement query against one connection's statements.
#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    pub connection_id: i64,
    pub filter: StatementFilter,
    /// Stored after (ms), stored at or before (ms).
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// The last statement of the previous page: (stored_at, id).
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// `%\n<tag>:<value>\n%`, with LIKE's wildcards in the value escaped.
fn contains(tags: &[&str], value: &str) -> Vec<String> {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    tags.iter()
        .map(|t| format!("%\n{t}:{escaped}\n%"))
        .collect()
}

/// The statements a query matches, not voided, in stored order (newest first unless
/// ascending), at most `limit + 1` (the extra one says there are more).
pub async fn find_statements(
    conn: &mut AnyConnection,
    q: &StatementQuery,
) -> Result<Vec<Statement>> {
    use crate::sql::{Arg, Sql};
    let mut sql = Sql::new("SELECT * FROM xapi_statements");
    let c = sql.arg(Arg::Int(q.connection_id));
    sql.push(&format!(" WHERE connection_id = {c} AND voided = 0"));
    if let Some(v) = &q.filter.verb {
        let p = sql.arg(Arg::Text(v.clone()));
        sql.push(&format!(" AND verb = {p}"));
    }
    if let Some(r) = &q.filter.registration {
        let p = sql.arg(Arg::Text(r.clone()));
        sql.push(&format!(" AND registration = {p}"));
    }
    for (column, value, related, main) in [
        ("agents", &q.filter.agent, q.filter.related_agents, "a"),
        (
            "activities",
            &q.filter.activity,
            q.filter.related_activities,
            "o",
        ),
    ] {
        let Some(value) = value else { continue };
        let tags: &[&str] = if related { &[main, "r"] } else { &[main] };
        let alternatives: Vec<String> = contains(tags, value)
            .into_iter()
            .map(|pattern| {
                let p = sql.arg(Arg::Text(pattern));
                format!("{column} LIKE {p} ESCAPE '\\'")
            })
            .collect();
        sql.push(&format!(" AND ({})", alternatives.join(" OR ")));
    }
    if let Some(s) = q.since_ms {
        let p = sql.arg(Arg::Int(s));
        sql.push(&format!(" AND stored_at > {p}"));
    }
    if let Some(u) = q.until_ms {
        let p = sql.arg(Arg::Int(u));
        sql.push(&format!(" AND stored_at <= {p}"));
    }
    let (cmp, dir) = if q.filter.ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    if let Some((at, id)) = &q.after {
        let a1 = sql.arg(Arg::Int(*at));
        let a2 = sql.arg(Arg::Int(*at));
        let i = sql.arg(Arg::Text(id.clone()));
        sql.push(&format!(
            " AND (stored_at {cmp} {a1} OR (stored_at = {a2} AND id {cmp} {i}))"
        ));
    }
    let l = sql.arg(Arg::Int(q.limit + 1));
    sql.push(&format!(" ORDER BY stored_at {dir}, id {dir} LIMIT {l}"));
    sql.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(statement_from_row)
        .collect()
}

/// The newest statements, newest first: every connection's, or one connection's.
pub async fn recent_statements(
    conn: &mut AnyConnection,
    connection_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Statement>> {
    crate::sql::q(
        "SELECT * FROM xapi_statements WHERE ($1 = 0 OR connection_id = $1) \
         ORDER BY stored_at DESC, id DESC LIMIT $2",
    )
    .bind(connection_id.unwrap_or(0))
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(statement_from_row)
    .collect()
}
