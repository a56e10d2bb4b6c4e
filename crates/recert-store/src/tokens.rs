//! API bearer tokens, stored as SHA-256 hashes only.

use crate::Writer;
use crate::{Result, rows};
use sqlx::AnyConnection;

/// A token as stored (never the token itself).
#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at_ms: i64,
    pub revoked: bool,
    pub last_used_at_ms: Option<i64>,
    /// The account a scoped token acts for.
    pub user_id: Option<i64>,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: rows::int(row, "id")?,
        name: rows::text(row, "name")?,
        role: rows::text(row, "role")?,
        created_at_ms: rows::int(row, "created_at")?,
        revoked: rows::opt_int(row, "revoked_at")?.is_some(),
        last_used_at_ms: rows::opt_int(row, "last_used_at")?,
        user_id: rows::opt_int(row, "user_id")?,
    })
}

pub async fn insert(
    conn: &mut Writer,
    name: &str,
    role: &str,
    hash: &str,
    user_id: Option<i64>,
    now_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO api_tokens (name, role, token_hash, user_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(name)
    .bind(role)
    .bind(hash)
    .bind(user_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_hash(conn: &mut AnyConnection, hash: &str) -> Result<Option<TokenRecord>> {
    crate::sql::q("SELECT * FROM api_tokens WHERE token_hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<TokenRecord>> {
    crate::sql::q("SELECT * FROM api_tokens ORDER BY id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<TokenRecord>> {
    crate::sql::q("SELECT * FROM api_tokens WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn revoke(conn: &mut Writer, id: i64, now_ms: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let r =
        crate::sql::q("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_ms)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(r.rows_affected() == 1)
}
