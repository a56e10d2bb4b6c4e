//! Organizations' signing keys: the public half as a Multikey, the secret half sealed.

use crate::Writer;
use crate::{Result, StoreError, rows};
use sqlx::AnyConnection;

/// One stored key (newest last in listings).
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub key_id: String,
    pub public_multibase: String,
    pub sealed_secret: Vec<u8>,
    pub created_at_ms: i64,
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredKey> {
    use sqlx::Row;
    Ok(StoredKey {
        key_id: rows::text(row, "key_id")?,
        public_multibase: rows::text(row, "public_multibase")?,
        sealed_secret: row
            .try_get("sealed_secret")
            .map_err(|e| StoreError::Corrupt(format!("sealed_secret: {e}")))?,
        created_at_ms: rows::int(row, "created_at")?,
    })
}

/// Every key of an organization, oldest first (the last one signs).
pub async fn of_organization(conn: &mut AnyConnection, org_id: i64) -> Result<Vec<StoredKey>> {
    crate::sql::q("SELECT * FROM signing_keys WHERE organization_id = $1 ORDER BY id")
        .bind(org_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

pub async fn insert(conn: &mut Writer, org_id: i64, key: &StoredKey) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO signing_keys (organization_id, key_id, public_multibase, sealed_secret, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org_id)
    .bind(&key.key_id)
    .bind(&key.public_multibase)
    .bind(key.sealed_secret.clone())
    .bind(key.created_at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// The row ids of an organization's revoked awards in `[from, to)` (one status list).
pub async fn revoked_in(
    conn: &mut AnyConnection,
    org_id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<i64>> {
    crate::sql::q(
        "SELECT a.id FROM awards a JOIN programs p ON p.id = a.program_id \
         WHERE p.organization_id = $1 AND a.id >= $2 AND a.id < $3 AND a.revoked_at IS NOT NULL",
    )
    .bind(org_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| rows::int(r, "id"))
    .collect()
}
