//! Failed sign-ins per key (migration 0021): what the sign-in throttle reads and counts.

use crate::{Result, Writer, rows};
use sqlx::AnyConnection;

/// The latest instant (ms) until which any of `keys` must wait; 0 when none must.
pub async fn wait_until(conn: &mut AnyConnection, keys: &[String]) -> Result<i64> {
    let mut latest = 0;
    for key in keys {
        if let Some(r) = crate::sql::q("SELECT wait_until_ms FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?
        {
            latest = latest.max(rows::int(&r, "wait_until_ms")?);
        }
    }
    Ok(latest)
}

/// Counts one failure against `key`, restarting the count when the last one is older
/// than `since_ms`; answers the failures counted now.
pub async fn fail(
    conn: &mut Writer,
    key: &str,
    username: Option<&str>,
    now_ms: i64,
    since_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q(
        "INSERT INTO sign_in_throttle (key, username, failures, last_ms, wait_until_ms) \
         VALUES ($1, $2, 1, $3, 0) ON CONFLICT (key) DO UPDATE SET \
         failures = CASE WHEN sign_in_throttle.last_ms < $4 THEN 1 \
                         ELSE sign_in_throttle.failures + 1 END, \
         last_ms = $3 RETURNING failures",
    )
    .bind(key)
    .bind(username)
    .bind(now_ms)
    .bind(since_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&r, "failures")
}

/// Sets the instant until which `key` waits.
pub async fn hold(conn: &mut Writer, key: &str, until_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE sign_in_throttle SET wait_until_ms = $1 WHERE key = $2")
        .bind(until_ms)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the failures of these keys (a sign-in that succeeded).
pub async fn clear(conn: &mut Writer, keys: &[String]) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    for key in keys {
        crate::sql::q("DELETE FROM sign_in_throttle WHERE key = $1")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Forgets every failure counted against an account, from any address (an unlock, a new
/// password).
pub async fn clear_user(conn: &mut Writer, username: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM sign_in_throttle WHERE username = $1")
        .bind(username)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops counts whose last failure is older than `before_ms` and that no longer hold
/// anyone back: they would restart at one anyway.
pub async fn purge(conn: &mut Writer, before_ms: i64, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM sign_in_throttle WHERE last_ms < $1 AND wait_until_ms < $2")
        .bind(before_ms)
        .bind(now_ms)
        .execute(conn)
        .await?;
    Ok(())
}

/// The (lowercased) usernames whose sign-ins are held back at `now_ms`.
pub async fn held_accounts(
    conn: &mut AnyConnection,
    now_ms: i64,
) -> Result<std::collections::HashSet<String>> {
    crate::sql::q(
        "SELECT username FROM sign_in_throttle \
         WHERE key LIKE 'account:%' AND wait_until_ms > $1 AND username IS NOT NULL",
    )
    .bind(now_ms)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| rows::text(r, "username"))
    .collect()
}
