//! Webhook endpoints and their delivery log (migration 0018).

use crate::{Result, Writer, rows};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

/// A webhook endpoint as stored.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    /// The signing secret, sealed.
    pub sealed_secret: Vec<u8>,
    pub active: bool,
    pub created_by: String,
    pub created_at_ms: i64,
}

fn from_row(r: &AnyRow) -> Result<Webhook> {
    use sqlx::Row;
    Ok(Webhook {
        id: rows::int(r, "id")?,
        url: rows::text(r, "url")?,
        events: rows::json(r, "events")?,
        sealed_secret: r
            .try_get("secret")
            .map_err(|e| crate::StoreError::Corrupt(format!("webhook secret: {e}")))?,
        active: rows::flag(r, "active")?,
        created_by: rows::text(r, "created_by")?,
        created_at_ms: rows::int(r, "created_at_ms")?,
    })
}

pub async fn insert(
    conn: &mut Writer,
    url: &str,
    events: &[String],
    sealed_secret: &[u8],
    created_by: &str,
    now_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO webhooks (url, events, secret, active, created_by, created_at_ms) \
         VALUES ($1, $2, $3, 1, $4, $5) RETURNING id",
    )
    .bind(url)
    .bind(rows::to_json(&events)?)
    .bind(sealed_secret.to_vec())
    .bind(created_by)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Webhook>> {
    crate::sql::q("SELECT * FROM webhooks WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every webhook, newest first (inactive ones too, for their history).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Webhook>> {
    crate::sql::q("SELECT * FROM webhooks ORDER BY id DESC")
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The active webhooks and the events each wants: what an event is sent to.
pub async fn active(conn: &mut AnyConnection) -> Result<Vec<(i64, Vec<String>)>> {
    crate::sql::q("SELECT id, events FROM webhooks WHERE active = 1")
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((rows::int(r, "id")?, rows::json(r, "events")?)))
        .collect()
}

/// Stops a webhook; false when there is no active one by that id.
pub async fn deactivate(conn: &mut Writer, id: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    Ok(
        crate::sql::q("UPDATE webhooks SET active = 0 WHERE id = $1 AND active = 1")
            .bind(id)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// One delivery attempt.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub outbox_id: i64,
    pub event: String,
    pub attempt: i64,
    pub at_ms: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// Logs an attempt; its number counts the message's attempts so far, resends included
/// (`d.attempt` is not read).
pub async fn log_delivery(conn: &mut Writer, d: &Delivery) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO webhook_deliveries (webhook_id, outbox_id, event, attempt, at_ms, status, error, duration_ms) \
         VALUES ($1, $2, $3, (SELECT COUNT(*) + 1 FROM webhook_deliveries WHERE outbox_id = $2), $4, $5, $6, $7)",
    )
    .bind(d.webhook_id)
    .bind(d.outbox_id)
    .bind(&d.event)
    .bind(d.at_ms)
    .bind(d.status)
    .bind(&d.error)
    .bind(d.duration_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// A webhook's attempts after id `after`, oldest first, at most `limit`.
pub async fn deliveries(
    conn: &mut AnyConnection,
    webhook_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Delivery>> {
    crate::sql::q(
        "SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND id > $2 ORDER BY id LIMIT $3",
    )
    .bind(webhook_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Delivery {
            id: rows::int(r, "id")?,
            webhook_id: rows::int(r, "webhook_id")?,
            outbox_id: rows::int(r, "outbox_id")?,
            event: rows::text(r, "event")?,
            attempt: rows::int(r, "attempt")?,
            at_ms: rows::int(r, "at_ms")?,
            status: rows::opt_int(r, "status")?,
            error: rows::opt_text(r, "error")?,
            duration_ms: rows::int(r, "duration_ms")?,
        })
    })
    .collect()
}
