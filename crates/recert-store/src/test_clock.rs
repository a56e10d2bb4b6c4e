//! The stored test clock (see migration 0012).

use crate::{Result, Writer};
use sqlx::AnyConnection;

/// The stored "now", in milliseconds since the epoch, when one was ever set.
pub async fn get(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let row = crate::sql::q("SELECT now_ms FROM test_clock WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    row.map(|r| crate::rows::int(&r, "now_ms")).transpose()
}

/// Stores "now" (`now_ms`), set at real time `set_at_ms`.
pub async fn set(conn: &mut Writer, now_ms: i64, set_at_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO test_clock (id, now_ms, set_at_ms) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET now_ms = excluded.now_ms, set_at_ms = excluded.set_at_ms",
    )
    .bind(now_ms)
    .bind(set_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}
