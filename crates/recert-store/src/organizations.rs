//! Organizations (issuers).

use crate::Writer;
use crate::{Result, rows};
use recert_domain::Organization;
use sqlx::AnyConnection;

// Reads name every column but the logo, which only its own reads need.
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
    crate::sql::q("SELECT id, code, name, url, time_zone FROM organizations WHERE code = $1")
        .bind(code)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<(i64, Organization)>> {
    crate::sql::q("SELECT id, code, name, url, time_zone FROM organizations ORDER BY id")
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// An organization's logo: its bytes and content type (`image/png`, `image/svg+xml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

pub async fn logo(conn: &mut AnyConnection, id: i64) -> Result<Option<Logo>> {
    use sqlx::Row;
    let row = crate::sql::q("SELECT logo, logo_type FROM organizations WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let bytes: Option<Vec<u8>> = row
        .try_get("logo")
        .map_err(|e| crate::StoreError::Corrupt(format!("logo: {e}")))?;
    Ok(match (bytes, rows::opt_text(&row, "logo_type")?) {
        (Some(bytes), Some(content_type)) => Some(Logo {
            bytes,
            content_type,
        }),
        _ => None,
    })
}

/// Sets (or, with `None`, removes) an organization's logo.
pub async fn set_logo(conn: &mut Writer, id: i64, logo: Option<&Logo>) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE organizations SET logo = $1, logo_type = $2 WHERE id = $3")
        .bind(logo.map(|l| l.bytes.clone()))
        .bind(logo.map(|l| l.content_type.clone()))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
