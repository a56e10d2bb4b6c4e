//! Accounts: who may sign in, their role and scope. Passwords arrive here already hashed.

use crate::Writer;
use crate::{Result, rows};
use sqlx::AnyConnection;

/// An account as stored.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub learner_id: Option<i64>,
    /// The linked learner's username, when there is one.
    pub learner: Option<String>,
    pub disabled: bool,
    pub created_at_ms: i64,
}

const SELECT: &str = "SELECT u.*, l.username AS learner_username FROM users u \
                      LEFT JOIN learners l ON l.id = u.learner_id";

fn from_row(row: &sqlx::any::AnyRow) -> Result<UserRecord> {
    Ok(UserRecord {
        id: rows::int(row, "id")?,
        username: rows::text(row, "username")?,
        password_hash: rows::text(row, "password_hash")?,
        role: rows::text(row, "role")?,
        learner_id: rows::opt_int(row, "learner_id")?,
        learner: rows::opt_text(row, "learner_username")?,
        disabled: rows::opt_int(row, "disabled_at")?.is_some(),
        created_at_ms: rows::int(row, "created_at")?,
    })
}

/// A new account.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub learner_id: Option<i64>,
}

pub async fn insert(conn: &mut Writer, u: &NewUser<'_>, now_ms: i64) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO users (username, password_hash, role, learner_id, password_changed_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(u.username)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.learner_id)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_username(conn: &mut AnyConnection, username: &str) -> Result<Option<UserRecord>> {
    let q = format!("{SELECT} WHERE u.username = $1");
    crate::sql::q_assembled(q)
        .bind(username)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRecord>> {
    let q = format!("{SELECT} WHERE u.id = $1");
    crate::sql::q_assembled(q)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<UserRecord>> {
    let q = format!("{SELECT} ORDER BY u.username");
    crate::sql::q_assembled(q)
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Whether any enabled admin account exists (the first-run page is offered until one does).
pub async fn admin_exists(conn: &mut AnyConnection) -> Result<bool> {
    let row = crate::sql::q(
        "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok(rows::int(&row, "n")? > 0)
}

/// The ids of the programs a program manager runs.
pub async fn programs(conn: &mut AnyConnection, user_id: i64) -> Result<Vec<i64>> {
    crate::sql::q("SELECT program_id FROM user_programs WHERE user_id = $1 ORDER BY program_id")
        .bind(user_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| rows::int(r, "program_id"))
        .collect()
}

/// The codes of the programs a program manager runs.
pub async fn program_codes(conn: &mut AnyConnection, user_id: i64) -> Result<Vec<String>> {
    crate::sql::q(
        "SELECT p.code FROM user_programs up JOIN programs p ON p.id = up.program_id \
         WHERE up.user_id = $1 ORDER BY p.code",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| rows::text(r, "code"))
    .collect()
}

/// Every account's program codes at once: (user id, code), by user then code.
pub async fn all_program_codes(conn: &mut AnyConnection) -> Result<Vec<(i64, String)>> {
    crate::sql::q(
        "SELECT up.user_id, p.code FROM user_programs up JOIN programs p ON p.id = up.program_id \
         ORDER BY up.user_id, p.code",
    )
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((rows::int(r, "user_id")?, rows::text(r, "code")?)))
    .collect()
}

pub async fn set_programs(conn: &mut Writer, user_id: i64, ids: &[i64]) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("DELETE FROM user_programs WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for id in ids {
        crate::sql::q("INSERT INTO user_programs (user_id, program_id) VALUES ($1, $2)")
            .bind(user_id)
            .bind(*id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn set_password(
    conn: &mut Writer,
    id: i64,
    password_hash: &str,
    now_ms: i64,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_disabled(conn: &mut Writer, id: i64, at_ms: Option<i64>) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(at_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
