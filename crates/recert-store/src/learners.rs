//! Learners and their group memberships.

use crate::sql::{Arg, Sql};
use crate::{Result, StoreError, rows};
use recert_domain::{Learner, Username};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

const SELECT: &str = "SELECT l.*, m.username AS manager_username FROM learners l \
                      LEFT JOIN learners m ON m.id = l.manager_id";

fn from_row(row: &AnyRow) -> Result<(i64, Learner)> {
    let username = |col: &str| -> Result<Option<Username>> {
        rows::opt_text(row, col)?
            .map(|s| Username::parse(col, &s).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    };
    Ok((
        rows::int(row, "id")?,
        Learner {
            username: username("username")?
                .ok_or_else(|| StoreError::Corrupt("username: missing".into()))?,
            legal_name: rows::text(row, "legal_name")?,
            email: rows::opt_text(row, "email")?,
            external_ids: rows::json(row, "external_ids")?,
            manager: username("manager_username")?,
            groups: Vec::new(),
            time_zone: rows::opt_text(row, "time_zone")?,
            active: rows::flag(row, "active")?,
            end_date: rows::opt_date(row, "end_date")?,
            attributes: rows::json(row, "attributes")?,
        },
    ))
}

/// Fills in each learner's group names.
async fn with_groups(
    conn: &mut AnyConnection,
    mut learners: Vec<(i64, Learner)>,
) -> Result<Vec<(i64, Learner)>> {
    if learners.is_empty() {
        return Ok(learners);
    }
    let mut q = Sql::new(
        "SELECT gm.learner_id, g.name FROM group_members gm JOIN learner_groups g ON g.id = gm.group_id \
         WHERE gm.learner_id IN ",
    );
    let ids: Vec<i64> = learners.iter().map(|(id, _)| *id).collect();
    q.push_in_list(&ids).push(" ORDER BY g.name");
    for row in q.query().fetch_all(conn).await? {
        let lid = rows::int(&row, "learner_id")?;
        let name = rows::text(&row, "name")?;
        if let Some((_, l)) = learners.iter_mut().find(|(id, _)| *id == lid) {
            l.groups.push(name);
        }
    }
    Ok(learners)
}

pub async fn by_username(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<(i64, Learner)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE l.username = $1"
    )))
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(r) => Ok(with_groups(conn, vec![from_row(&r)?]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn id_of(conn: &mut AnyConnection, username: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT id FROM learners WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|r| rows::int(r, "id")).transpose()
}

/// A manager and one of their reports who holds a current award (for demo accounts).
pub async fn manager_and_report(conn: &mut AnyConnection) -> Result<Option<(String, String)>> {
    let row = sqlx::query(
        "SELECT m.username AS manager, l.username AS report FROM learners l \
         JOIN learners m ON m.id = l.manager_id \
         WHERE EXISTS (SELECT 1 FROM awards a WHERE a.learner_id = l.id AND a.is_current = 1) \
         ORDER BY m.id, l.id LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((rows::text(&r, "manager")?, rows::text(&r, "report")?)))
        .transpose()
}

/// Who manages a learner (by row id), for the supervisor's reach.
pub async fn manager_id(conn: &mut AnyConnection, learner_id: i64) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT manager_id FROM learners WHERE id = $1")
        .bind(learner_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => rows::opt_int(&r, "manager_id")?,
        None => None,
    })
}

/// A learner's row id, username and legal name: what writes about them need.
pub async fn identity(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<(i64, Username, String)>> {
    let row = sqlx::query("SELECT id, username, legal_name FROM learners WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    match row {
        Some(r) => Ok(Some((
            rows::int(&r, "id")?,
            Username::parse("username", &rows::text(&r, "username")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            rows::text(&r, "legal_name")?,
        ))),
        None => Ok(None),
    }
}

/// Filters for listing learners.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Matches name, username or e-mail (substring, any case) or a certificate ID exactly.
    pub q: Option<String>,
    pub group: Option<String>,
    pub active: Option<bool>,
    pub manager: Option<String>,
    /// What the caller may see.
    pub within: crate::sql::Within,
}

pub async fn list(
    conn: &mut AnyConnection,
    f: &Filter,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Learner)>> {
    let mut q = Sql::new(SELECT);
    let p = q.arg(Arg::Int(after));
    q.push(&format!(" WHERE l.id > {p}"));
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let like = q.arg(Arg::Text(format!(
            "%{}%",
            escape_like(&text.to_lowercase())
        )));
        let exact = q.arg(Arg::Text(text.to_uppercase()));
        q.push(&format!(
            " AND (lower(l.username) LIKE {like} ESCAPE '\\' OR lower(l.legal_name) LIKE {like} ESCAPE '\\' \
             OR lower(l.email) LIKE {like} ESCAPE '\\' \
             OR EXISTS (SELECT 1 FROM awards a WHERE a.learner_id = l.id AND a.cert_id = {exact}))"
        ));
    }
    if let Some(g) = &f.group {
        let p = q.arg(Arg::Text(g.clone()));
        q.push(&format!(
            " AND EXISTS (SELECT 1 FROM group_members gm JOIN learner_groups g ON g.id = gm.group_id \
             WHERE gm.learner_id = l.id AND g.name = {p})"
        ));
    }
    if let Some(a) = f.active {
        let p = q.arg(Arg::Int(i64::from(a)));
        q.push(&format!(" AND l.active = {p}"));
    }
    if let Some(m) = &f.manager {
        let p = q.arg(Arg::Text(m.clone()));
        q.push(&format!(" AND m.username = {p}"));
    }
    f.within.push(&mut q, "l.id", None);
    let p = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY l.id LIMIT {p}"));
    let found = q
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<Vec<_>>>()?;
    with_groups(conn, found).await
}

/// Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub async fn insert(
    conn: &mut AnyConnection,
    l: &Learner,
    manager_id: Option<i64>,
    now_ms: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO learners (username, legal_name, email, external_ids, manager_id, time_zone, active, \
         end_date, attributes, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) RETURNING id",
    )
    .bind(l.username.as_str())
    .bind(&l.legal_name)
    .bind(&l.email)
    .bind(rows::to_json(&l.external_ids)?)
    .bind(manager_id)
    .bind(&l.time_zone)
    .bind(i64::from(l.active))
    .bind(rows::opt_date_text(l.end_date))
    .bind(rows::to_json(&l.attributes)?)
    .bind(now_ms)
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn update(
    conn: &mut AnyConnection,
    id: i64,
    l: &Learner,
    manager_id: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE learners SET legal_name = $1, email = $2, external_ids = $3, manager_id = $4, time_zone = $5, \
         active = $6, end_date = $7, attributes = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(&l.legal_name)
    .bind(&l.email)
    .bind(rows::to_json(&l.external_ids)?)
    .bind(manager_id)
    .bind(&l.time_zone)
    .bind(i64::from(l.active))
    .bind(rows::opt_date_text(l.end_date))
    .bind(rows::to_json(&l.attributes)?)
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
