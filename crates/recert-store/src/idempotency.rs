//! Answers kept for `Idempotency-Key` (migration 0022).

use crate::{Result, Writer, rows};
use sqlx::AnyConnection;

/// A kept answer, or the mark of one still being given.
#[derive(Debug, Clone)]
pub struct Kept {
    pub fingerprint: String,
    pub created_ms: i64,
    /// `None` while the first request is still being answered.
    pub answer: Option<Answer>,
}

/// What the first request was answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// The entry of `key` for `caller`, made at or after `since_ms`.
pub async fn find(
    conn: &mut AnyConnection,
    caller: &str,
    key: &str,
    since_ms: i64,
) -> Result<Option<Kept>> {
    let Some(row) = crate::sql::q(
        "SELECT fingerprint, created_ms, status, content_type, location, body \
         FROM idempotency_keys WHERE caller = $1 AND key = $2 AND created_ms >= $3",
    )
    .bind(caller)
    .bind(key)
    .bind(since_ms)
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let answer = match rows::opt_int(&row, "status")? {
        None => None,
        Some(status) => {
            use sqlx::Row;
            let body: Option<Vec<u8>> = row
                .try_get("body")
                .map_err(|e| crate::StoreError::Corrupt(format!("idempotency body: {e}")))?;
            Some(Answer {
                status: u16::try_from(status)
                    .map_err(|_| crate::StoreError::Corrupt(format!("status {status}")))?,
                content_type: rows::opt_text(&row, "content_type")?,
                location: rows::opt_text(&row, "location")?,
                body: body.unwrap_or_default(),
            })
        }
    };
    Ok(Some(Kept {
        fingerprint: rows::text(&row, "fingerprint")?,
        created_ms: rows::int(&row, "created_ms")?,
        answer,
    }))
}

/// Marks `key` as being answered, dropping entries older than `expired_before_ms` (its
/// own included). `false` when another request holds the key now.
pub async fn claim(
    conn: &mut Writer,
    caller: &str,
    key: &str,
    fingerprint: &str,
    now_ms: i64,
    expired_before_ms: i64,
) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM idempotency_keys WHERE created_ms < $1")
        .bind(expired_before_ms)
        .execute(&mut *conn)
        .await?;
    let done = crate::sql::q(
        "INSERT INTO idempotency_keys (caller, key, fingerprint, created_ms) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (caller, key) DO NOTHING",
    )
    .bind(caller)
    .bind(key)
    .bind(fingerprint)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Keeps the answer given to the request that claimed `key`.
pub async fn keep(conn: &mut Writer, caller: &str, key: &str, answer: &Answer) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE idempotency_keys SET status = $1, content_type = $2, location = $3, body = $4 \
         WHERE caller = $5 AND key = $6",
    )
    .bind(i64::from(answer.status))
    .bind(answer.content_type.as_deref())
    .bind(answer.location.as_deref())
    .bind(answer.body.clone())
    .bind(caller)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets `key` go without an answer (the request failed on the server's side: a retry
/// may do the work).
pub async fn release(conn: &mut Writer, caller: &str, key: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM idempotency_keys WHERE caller = $1 AND key = $2")
        .bind(caller)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
