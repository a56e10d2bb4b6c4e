//! Standing group awards: a program awarded to a group, optionally to members who join
//! later as well.

use crate::Writer;
use crate::{Result, rows};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, PartialEq)]
pub struct GroupAward {
    pub id: i64,
    pub group_id: i64,
    pub group_name: String,
    pub program_id: i64,
    pub program_code: String,
    pub include_later: bool,
    pub association: String,
    pub created_by: String,
    pub created_at_ms: i64,
    pub stopped_at_ms: Option<i64>,
}

const SELECT: &str = "SELECT ga.*, g.name AS group_name, p.code AS program_code FROM group_awards ga \
     JOIN learner_groups g ON g.id = ga.group_id JOIN programs p ON p.id = ga.program_id";

fn from_row(row: &AnyRow) -> Result<GroupAward> {
    Ok(GroupAward {
        id: rows::int(row, "id")?,
        group_id: rows::int(row, "group_id")?,
        group_name: rows::text(row, "group_name")?,
        program_id: rows::int(row, "program_id")?,
        program_code: rows::text(row, "program_code")?,
        include_later: rows::flag(row, "include_later")?,
        association: rows::text(row, "association")?,
        created_by: rows::text(row, "created_by")?,
        created_at_ms: rows::int(row, "created_at")?,
        stopped_at_ms: rows::opt_int(row, "stopped_at")?,
    })
}

pub async fn insert(conn: &mut Writer, g: &GroupAward) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO group_awards (group_id, program_id, include_later, association, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
    )
    .bind(g.group_id)
    .bind(g.program_id)
    .bind(i64::from(g.include_later))
    .bind(&g.association)
    .bind(&g.created_by)
    .bind(g.created_at_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<GroupAward>> {
    crate::sql::q_assembled(format!("{SELECT} WHERE ga.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every standing award, newest first; `group` narrows to one group's.
pub async fn list(conn: &mut AnyConnection, group_id: Option<i64>) -> Result<Vec<GroupAward>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE ($1 = 0 OR ga.group_id = $1) ORDER BY ga.id DESC"
    ))
    .bind(group_id.unwrap_or(0))
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The standing awards that also reach members joining this group now.
pub async fn for_joiners(conn: &mut AnyConnection, group_id: i64) -> Result<Vec<GroupAward>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE ga.group_id = $1 AND ga.include_later = 1 AND ga.stopped_at IS NULL ORDER BY ga.id"
    ))
    .bind(group_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

pub async fn stop(conn: &mut Writer, id: i64, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE group_awards SET stopped_at = $1 WHERE id = $2 AND stopped_at IS NULL")
        .bind(now_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
