//! Notices and the outbox (see migration 0013): which awards the scheduler looks at, the
//! notices recorded per award, messages waiting to be delivered, and the last pass.

use crate::{Backend, Result, Writer, rows};
use sqlx::AnyConnection;

/// Awards whose notices are due by `today` (`YYYY-MM-DD`), oldest first, at most `limit`:
/// their certificate IDs. On PostgreSQL the rows are locked for the transaction and rows
/// another scheduler holds are passed over, so several instances share the work.
pub async fn due_awards(
    conn: &mut Writer,
    backend: Backend,
    today: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let conn: &mut AnyConnection = conn;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = crate::sql::q_assembled(format!(
        "SELECT cert_id FROM awards WHERE notice_from IS NOT NULL AND notice_from <= $1 \
         ORDER BY notice_from, id LIMIT $2{lock}"
    ))
    .bind(today)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| rows::text(r, "cert_id")).collect()
}

/// When to look at an award next (`None`: never, until it changes).
pub async fn set_notice_from(conn: &mut Writer, award_row: i64, day: Option<&str>) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE awards SET notice_from = $1 WHERE id = $2")
        .bind(day)
        .bind(award_row)
        .execute(conn)
        .await?;
    Ok(())
}

/// The stages (`reminder:90`, `expired`…) recorded for an award, sent or skipped.
pub async fn recorded(conn: &mut AnyConnection, award_row: i64) -> Result<Vec<String>> {
    let rows = crate::sql::q("SELECT stage FROM notices WHERE award_id = $1")
        .bind(award_row)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| rows::text(r, "stage")).collect()
}

/// Records a stage of an award as sent or skipped. `false` when it already was (another
/// instance got there first): then nothing is to be sent.
pub async fn record(
    conn: &mut Writer,
    award_row: i64,
    stage: &str,
    due_on: &str,
    sent: bool,
    at_ms: i64,
) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "INSERT INTO notices (award_id, stage, due_on, sent, at_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (award_id, stage) DO NOTHING",
    )
    .bind(award_row)
    .bind(stage)
    .bind(due_on)
    .bind(i64::from(sent))
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message to deliver.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub channel: String,
    pub event: String,
    pub award: Option<String>,
    pub dedupe_key: String,
    /// The message as JSON (see the migration).
    pub message: String,
}

/// Queues a message. `false` when one with its key was queued before.
pub async fn enqueue(conn: &mut Writer, m: &NewMessage, now_ms: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "INSERT INTO outbox (channel, event, award, dedupe_key, message, state, attempts, next_attempt_ms, created_ms) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&m.channel)
    .bind(&m.event)
    .bind(&m.award)
    .bind(&m.dedupe_key)
    .bind(&m.message)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A message in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub award: Option<String>,
    pub message: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
}

fn queued(r: &sqlx::any::AnyRow) -> Result<Queued> {
    Ok(Queued {
        id: rows::int(r, "id")?,
        channel: rows::text(r, "channel")?,
        event: rows::text(r, "event")?,
        award: rows::opt_text(r, "award")?,
        message: rows::text(r, "message")?,
        state: rows::text(r, "state")?,
        attempts: rows::int(r, "attempts")?,
        next_attempt_ms: rows::int(r, "next_attempt_ms")?,
        last_error: rows::opt_text(r, "last_error")?,
        created_ms: rows::int(r, "created_ms")?,
        sent_ms: rows::opt_int(r, "sent_ms")?,
    })
}

const COLUMNS: &str = "id, channel, event, award, message, state, attempts, next_attempt_ms, \
                       last_error, created_ms, sent_ms";

/// Takes up to `limit` pending messages due by `now_ms` for delivery, leased until
/// `lease_until_ms` (a crashed deliverer's messages come back after the lease).
pub async fn claim(
    conn: &mut Writer,
    backend: Backend,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<Queued>> {
    let conn: &mut AnyConnection = conn;
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = crate::sql::q_assembled(format!(
        "UPDATE outbox SET locked_until_ms = $1 WHERE id IN (SELECT id FROM outbox \
         WHERE state = 'pending' AND next_attempt_ms <= $2 \
         AND (locked_until_ms IS NULL OR locked_until_ms < $2) ORDER BY id LIMIT $3{lock}) \
         RETURNING {COLUMNS}"
    ))
    .bind(lease_until_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Queued> = rows.iter().map(queued).collect::<Result<_>>()?;
    out.sort_by_key(|q| q.id);
    Ok(out)
}

/// A delivery's outcome: sent, or failed with the next attempt at `retry_at_ms` (`None`:
/// given up).
pub async fn delivered(
    conn: &mut Writer,
    id: i64,
    now_ms: i64,
    outcome: std::result::Result<(), (String, Option<i64>)>,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    match outcome {
        Ok(()) => {
            crate::sql::q(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_ms = $1, \
                 locked_until_ms = NULL, last_error = NULL WHERE id = $2",
            )
            .bind(now_ms)
            .bind(id)
            .execute(conn)
            .await?;
        }
        Err((error, retry_at)) => {
            crate::sql::q(
                "UPDATE outbox SET state = $1, attempts = attempts + 1, next_attempt_ms = $2, \
                 locked_until_ms = NULL, last_error = $3 WHERE id = $4",
            )
            .bind(if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            })
            .bind(retry_at.unwrap_or(now_ms))
            .bind(error)
            .bind(id)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// Puts a message back in the queue, to be delivered at once. `false` when there is no
/// such message or it was already delivered.
pub async fn resend(conn: &mut Writer, id: i64, now_ms: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $1, locked_until_ms = NULL \
         WHERE id = $2 AND state <> 'sent'",
    )
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Messages not yet delivered or given up.
pub async fn pending(conn: &mut AnyConnection) -> Result<i64> {
    let row = crate::sql::q("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

/// Messages by state: pending, failed (given up), sent.
pub async fn counts(conn: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let row = crate::sql::q(
        "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
         COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
         COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) AS sent FROM outbox",
    )
    .fetch_one(conn)
    .await?;
    Ok((
        rows::int(&row, "pending")?,
        rows::int(&row, "failed")?,
        rows::int(&row, "sent")?,
    ))
}

/// One page of messages: given up first, then waiting, then sent; newest first within each.
pub async fn recent(
    conn: &mut AnyConnection,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Queued>, i64)> {
    let rows = crate::sql::q_assembled(format!(
        "SELECT {COLUMNS} FROM outbox ORDER BY CASE state WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, id DESC \
         LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = crate::sql::q("SELECT COUNT(*) AS n FROM outbox")
        .fetch_one(&mut *conn)
        .await?;
    Ok((
        rows.iter().map(queued).collect::<Result<_>>()?,
        rows::int(&total, "n")?,
    ))
}

/// When the latest complete scheduler pass ran.
pub async fn last_pass(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let row = crate::sql::q("SELECT last_pass_ms FROM scheduler_state WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    row.map(|r| rows::int(&r, "last_pass_ms")).transpose()
}

pub async fn set_last_pass(conn: &mut Writer, at_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO scheduler_state (id, last_pass_ms) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET last_pass_ms = excluded.last_pass_ms",
    )
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}
