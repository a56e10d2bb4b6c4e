//! Web sessions, stored so that any instance can serve any request. Only the SHA-256 of
//! the cookie value is kept.

use crate::Writer;
use crate::{Result, rows};
use sqlx::AnyConnection;

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at_ms: i64,
}

pub async fn insert(
    conn: &mut Writer,
    token_hash: &str,
    user_id: i64,
    csrf: &str,
    now_ms: i64,
    expires_at_ms: i64,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf)
    .bind(now_ms)
    .bind(expires_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// The live session with this hash, if any (expired ones are ignored).
pub async fn by_hash(
    conn: &mut AnyConnection,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<SessionRecord>> {
    crate::sql::q(
        "SELECT user_id, csrf, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now_ms)
    .fetch_optional(conn)
    .await?
    .map(|r| {
        Ok(SessionRecord {
            user_id: rows::int(&r, "user_id")?,
            csrf: rows::text(&r, "csrf")?,
            expires_at_ms: rows::int(&r, "expires_at")?,
        })
    })
    .transpose()
}

pub async fn delete(conn: &mut Writer, token_hash: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends every session of a user except `keep` (after a password change, other devices are
/// signed out).
pub async fn delete_for_user(conn: &mut Writer, user_id: i64, keep: Option<&str>) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or(""))
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes expired sessions; returns how many.
pub async fn purge_expired(conn: &mut Writer, now_ms: i64) -> Result<u64> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(conn)
        .await?;
    Ok(r.rows_affected())
}
