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

pub async fn insert_statement(conn: &mut Writer, s: &Statement) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO xapi_statements (id, connection_id, stored_at, verb, object_id, learner_id, statement, outcome) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(&s.id)
    .bind(s.connection_id)
    .bind(s.stored_at_ms)
    .bind(&s.verb)
    .bind(&s.object_id)
    .bind(s.learner_id)
    .bind(rows::to_json(&s.statement)?)
    .bind(&s.outcome)
    .execute(conn)
    .await?;
    Ok(())
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
