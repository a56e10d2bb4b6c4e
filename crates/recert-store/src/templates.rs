//! Message templates written by administrators (migration 0019): per event, for every
//! program (no program) or for one.

use crate::{Result, Writer, rows};
use sqlx::AnyConnection;

/// A template as stored.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The program's code; `None` for the organization's default.
    pub program: Option<String>,
    pub event: String,
    pub subject: String,
    pub body: String,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

/// Every template written (few: at most one per program and event).
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Stored>> {
    crate::sql::q(
        "SELECT p.code AS program, t.event, t.subject, t.body, t.updated_by, t.updated_at_ms \
         FROM message_templates t LEFT JOIN programs p ON p.id = t.program_id \
         ORDER BY t.id",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Stored {
            program: rows::opt_text(r, "program")?,
            event: rows::text(r, "event")?,
            subject: rows::text(r, "subject")?,
            body: rows::text(r, "body")?,
            updated_by: rows::text(r, "updated_by")?,
            updated_at_ms: rows::int(r, "updated_at_ms")?,
        })
    })
    .collect()
}

/// Writes the template of `event` for `program_id` (or every program), replacing the one
/// there was.
pub async fn put(
    conn: &mut Writer,
    program_id: Option<i64>,
    event: &str,
    subject: &str,
    body: &str,
    by: &str,
    at_ms: i64,
) -> Result<()> {
    remove(conn, program_id, event).await?;
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO message_templates (program_id, event, subject, body, updated_by, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(program_id)
    .bind(event)
    .bind(subject)
    .bind(body)
    .bind(by)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the template of `event` for `program_id` (or every program); answers whether
/// there was one.
pub async fn remove(conn: &mut Writer, program_id: Option<i64>, event: &str) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "DELETE FROM message_templates WHERE COALESCE(program_id, 0) = $1 AND event = $2",
    )
    .bind(program_id.unwrap_or(0))
    .bind(event)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
