//! Groups, memberships and requirements ("members of G must hold P").

use crate::Writer;
use crate::sql::{Arg, Sql};
use crate::{Result, StoreError, rows};
use recert_domain::{Group, GroupKind};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

fn from_row(row: &AnyRow) -> Result<(i64, Group)> {
    Ok((
        rows::int(row, "id")?,
        Group {
            name: rows::text(row, "name")?,
            kind: GroupKind::parse("kind", &rows::text(row, "kind")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            description: rows::text(row, "description")?,
            member_count: rows::int(row, "member_count")?,
            required_programs: Vec::new(),
        },
    ))
}

const SELECT: &str = "SELECT g.*, (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS member_count \
                      FROM learner_groups g";

async fn with_requirements(
    conn: &mut AnyConnection,
    mut groups: Vec<(i64, Group)>,
) -> Result<Vec<(i64, Group)>> {
    if groups.is_empty() {
        return Ok(groups);
    }
    let mut q = Sql::new(
        "SELECT r.group_id, p.code FROM requirements r JOIN programs p ON p.id = r.program_id WHERE r.group_id IN ",
    );
    let ids: Vec<i64> = groups.iter().map(|(id, _)| *id).collect();
    q.push_in_list(&ids).push(" ORDER BY p.code");
    for row in q.query().fetch_all(conn).await? {
        let gid = rows::int(&row, "group_id")?;
        let code = rows::text(&row, "code")?;
        if let Some((_, g)) = groups.iter_mut().find(|(id, _)| *id == gid) {
            g.required_programs.push(code);
        }
    }
    Ok(groups)
}

pub async fn by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<(i64, Group)>> {
    let row = crate::sql::q_assembled(format!("{SELECT} WHERE g.name = $1"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(with_requirements(conn, vec![from_row(&r)?]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn list(
    conn: &mut AnyConnection,
    kind: Option<GroupKind>,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Group)>> {
    let mut q = Sql::new(SELECT);
    let p = q.arg(Arg::Int(after));
    q.push(&format!(" WHERE g.id > {p}"));
    if let Some(k) = kind {
        let p = q.arg(Arg::Text(k.as_str().to_owned()));
        q.push(&format!(" AND g.kind = {p}"));
    }
    let p = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY g.id LIMIT {p}"));
    let found = q
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
    with_requirements(conn, found).await
}

pub async fn insert(
    conn: &mut Writer,
    name: &str,
    kind: GroupKind,
    description: &str,
    now_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO learner_groups (name, kind, description, created_at) VALUES ($1,$2,$3,$4) RETURNING id",
    )
    .bind(name)
    .bind(kind.as_str())
    .bind(description)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn update(conn: &mut Writer, id: i64, kind: GroupKind, description: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE learner_groups SET kind = $1, description = $2 WHERE id = $3")
        .bind(kind.as_str())
        .bind(description)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Adds a member; returns false when they already were one.
pub async fn add_member(conn: &mut Writer, group_id: i64, learner_id: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q(
        "INSERT INTO group_members (group_id, learner_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(learner_id)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Removes a member; returns false when they were not one.
pub async fn remove_member(conn: &mut Writer, group_id: i64, learner_id: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q("DELETE FROM group_members WHERE group_id = $1 AND learner_id = $2")
        .bind(group_id)
        .bind(learner_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Usernames of a group's members, in username order, after `after` (a username).
pub async fn members(
    conn: &mut AnyConnection,
    group_id: i64,
    after_learner: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    // In username order, after the username of the learner a cursor names (learners are
    // never deleted, so it always resolves).
    crate::sql::q(
        "SELECT l.id, l.username FROM group_members gm JOIN learners l ON l.id = gm.learner_id \
         WHERE gm.group_id = $1 AND l.username > \
           COALESCE((SELECT username FROM learners WHERE id = $2), '') \
         ORDER BY l.username LIMIT $3",
    )
    .bind(group_id)
    .bind(after_learner)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| Ok((rows::int(r, "id")?, rows::text(r, "username")?)))
    .collect()
}

pub async fn add_requirement(
    conn: &mut Writer,
    group_id: i64,
    program_id: i64,
    now_ms: i64,
) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q(
        "INSERT INTO requirements (group_id, program_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(group_id)
    .bind(program_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn remove_requirement(conn: &mut Writer, group_id: i64, program_id: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let r = crate::sql::q("DELETE FROM requirements WHERE group_id = $1 AND program_id = $2")
        .bind(group_id)
        .bind(program_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Every requirement as (group name, program code).
/// Requirements in the order they were made, after row `after_id`: (id, group, program).
pub async fn requirements(
    conn: &mut AnyConnection,
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String, String)>> {
    crate::sql::q(
        "SELECT r.id, g.name, p.code FROM requirements r JOIN learner_groups g ON g.id = r.group_id \
         JOIN programs p ON p.id = r.program_id WHERE r.id > $1 ORDER BY r.id LIMIT $2",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            rows::int(r, "id")?,
            rows::text(r, "name")?,
            rows::text(r, "code")?,
        ))
    })
    .collect()
}
