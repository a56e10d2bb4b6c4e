//! Organizations (issuers).

use crate::Writer;
use crate::{Result, rows};
use recert_domain::Organization;
use sqlx::AnyConnection;

fn from_row(row: &sqlx::any::AnyRow) -> Result<(i64, Organization)> {
    Ok((
        rows::int(row, "id")?,
        Organization {
            code: rows::text(row, "code")?,
            name: rows::text(row, "name")?,
            url: rows::opt_text(row, "url")?,
            time_zone: rows::text(row, "time_zone")?,
        },
    ))
}

pub async fn insert(conn: &mut Writer, org: &Organization, now_ms: i64) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO organizations (code, name, url, time_zone, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&org.code)
    .bind(&org.name)
    .bind(&org.url)
    .bind(&org.time_zone)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<(i64, Organization)>> {
    crate::sql::q("SELECT * FROM organizations WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<(i64, Organization)>> {
    crate::sql::q("SELECT * FROM organizations ORDER BY id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}
