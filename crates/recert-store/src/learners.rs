//! Learners and their group memberships.

use crate::Writer;
use crate::sql::{Arg, SortKeys, Sql};
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
    let row = crate::sql::q_assembled(format!("{SELECT} WHERE l.username = $1"))
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(with_groups(conn, vec![from_row(&r)?]).await?.pop()),
        None => Ok(None),
    }
}

pub async fn id_of(conn: &mut AnyConnection, username: &str) -> Result<Option<i64>> {
    let row = crate::sql::q("SELECT id FROM learners WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|r| rows::int(r, "id")).transpose()
}

/// A manager and one of their reports who holds a current award (for demo accounts).
pub async fn manager_and_report(conn: &mut AnyConnection) -> Result<Option<(String, String)>> {
    let row = crate::sql::q(
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
    let row = crate::sql::q("SELECT manager_id FROM learners WHERE id = $1")
        .bind(learner_id)
        .fetch_optional(conn)
        .await?;
    Ok(match row {
        Some(r) => rows::opt_int(&r, "manager_id")?,
        None => None,
    })
}

/// The legal name of a learner's manager, if they have one, in one query.
pub async fn manager_name(conn: &mut AnyConnection, username: &str) -> Result<Option<String>> {
    let row = crate::sql::q(
        "SELECT m.legal_name FROM learners l JOIN learners m ON m.id = l.manager_id \
         WHERE l.username = $1",
    )
    .bind(username)
    .fetch_optional(conn)
    .await?;
    row.map(|r| rows::text(&r, "legal_name")).transpose()
}

/// A learner's row id, username and legal name: what writes about them need.
pub async fn identity(
    conn: &mut AnyConnection,
    username: &str,
) -> Result<Option<(i64, Username, String)>> {
    let row = crate::sql::q("SELECT id, username, legal_name FROM learners WHERE username = $1")
        .bind(username)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(identity_of).transpose()
}

fn identity_of(r: &AnyRow) -> Result<(i64, Username, String)> {
    Ok((
        rows::int(r, "id")?,
        Username::parse("username", &rows::text(r, "username")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        rows::text(r, "legal_name")?,
    ))
}

/// Rows of `learners` for many usernames at once (one query per 500, `cols` selected),
/// in no particular order; unknown usernames are simply absent.
async fn by_usernames<T>(
    conn: &mut AnyConnection,
    cols: &str,
    usernames: &[String],
    of_row: impl Fn(&AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(usernames.len());
    for chunk in usernames.chunks(500) {
        let mut q =
            crate::sql::Sql::new(&format!("SELECT {cols} FROM learners WHERE username IN ("));
        for (i, u) in chunk.iter().enumerate() {
            let p = q.arg(crate::sql::Arg::Text(u.clone()));
            q.push(if i == 0 { "" } else { "," }).push(&p);
        }
        q.push(")");
        for row in q.query().fetch_all(&mut *conn).await? {
            out.push(of_row(&row)?);
        }
    }
    Ok(out)
}

/// [`identity`] for many usernames at once, in no particular order; unknown usernames are
/// simply absent.
pub async fn identities(
    conn: &mut AnyConnection,
    usernames: &[String],
) -> Result<Vec<(i64, Username, String)>> {
    by_usernames(conn, "id, username, legal_name", usernames, identity_of).await
}

/// Row id, username and manager's row id of many learners at once (what a reach check
/// needs), in no particular order; unknown usernames are simply absent.
pub async fn with_managers(
    conn: &mut AnyConnection,
    usernames: &[String],
) -> Result<Vec<(i64, String, Option<i64>)>> {
    by_usernames(conn, "id, username, manager_id", usernames, |r| {
        Ok((
            rows::int(r, "id")?,
            rows::text(r, "username")?,
            rows::opt_int(r, "manager_id")?,
        ))
    })
    .await
}

/// The identities of every member of a group, by username.
pub async fn members_of(
    conn: &mut AnyConnection,
    group_id: i64,
) -> Result<Vec<(i64, Username, String)>> {
    crate::sql::q(
        "SELECT l.id, l.username, l.legal_name FROM group_members gm \
         JOIN learners l ON l.id = gm.learner_id WHERE gm.group_id = $1 ORDER BY l.username",
    )
    .bind(group_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(identity_of)
    .collect()
}

/// [`identity`] by row id.
pub async fn identity_by_id(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<Option<(i64, Username, String)>> {
    let row = crate::sql::q("SELECT id, username, legal_name FROM learners WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(identity_of).transpose()
}

/// Filters for listing learners.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Matches name, username or e-mail (substring, any case) or a certificate ID exactly.
    pub q: Option<String>,
    pub group: Option<String>,
    pub active: Option<bool>,
    pub manager: Option<String>,
    /// The certificate ID `q` names, in its canonical form, when it is one (typed with or
    /// without hyphens, in any case).
    pub cert_id: Option<String>,
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
    push_filter(&mut q, f);
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

/// Group names in one column, joined by the unit separator (no name holds a control
/// character).
const GROUP_SEPARATOR: char = '\u{1f}';

impl crate::listing::Listing for Filter {
    type Row = Learner;
    // Each learner's groups come with the row, so a page or an export is one query.
    const SELECT: &'static str = "SELECT l.*, m.username AS manager_username, \
         (SELECT string_agg(g.name, '\u{1f}' ORDER BY g.name) FROM group_members gm \
          JOIN learner_groups g ON g.id = gm.group_id WHERE gm.learner_id = l.id) AS group_names \
         FROM learners l LEFT JOIN learners m ON m.id = l.manager_id";
    const COUNT: &'static str =
        "SELECT COUNT(*) AS n FROM learners l LEFT JOIN learners m ON m.id = l.manager_id";
    const ID: &'static str = "l.id";
    const SORTS: SortKeys = &[
        ("name", "lower(l.legal_name)"),
        ("username", "l.username"),
        ("email", "lower(l.email)"),
        ("manager", "m.username"),
        ("active", "l.active"),
        ("end_date", "l.end_date"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        push_filter(q, self);
    }

    fn row(r: &AnyRow) -> Result<Learner> {
        let (_, mut l) = from_row(r)?;
        l.groups = rows::opt_text(r, "group_names")?
            .map(|g| g.split(GROUP_SEPARATOR).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(l)
    }
}

/// The conditions of `f`, appended to a query over `learners l` (joined with its manager
/// `m`).
fn push_filter(q: &mut Sql, f: &Filter) {
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // The certificate ID is looked up once through its unique index, not per learner.
        let like = q.arg(Arg::Text(crate::sql::contains_pattern(text)));
        let exact = q.arg(Arg::Text(
            f.cert_id.clone().unwrap_or_else(|| text.to_uppercase()),
        ));
        q.push(&format!(
            " AND (lower(l.username) LIKE {like} ESCAPE '\\' OR lower(l.legal_name) LIKE {like} ESCAPE '\\' \
             OR lower(l.email) LIKE {like} ESCAPE '\\' \
             OR l.id IN (SELECT a.learner_id FROM awards a WHERE a.cert_id = {exact}))"
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
    f.within.push(q, "l.id", None);
}

pub async fn insert(
    conn: &mut Writer,
    l: &Learner,
    manager_id: Option<i64>,
    now_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let row = crate::sql::q(
        "INSERT INTO learners (username, legal_name, email, external_ids, manager_id, time_zone, active, \
         end_date, attributes, created_at, updated_at, mbox_sha1) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10,$11) RETURNING id",
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
    .bind(l.email.as_deref().map(mbox_sha1))
    .fetch_one(conn)
    .await?;
    rows::int(&row, "id")
}

pub async fn update(
    conn: &mut Writer,
    id: i64,
    l: &Learner,
    manager_id: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE learners SET legal_name = $1, email = $2, external_ids = $3, manager_id = $4, time_zone = $5, \
         active = $6, end_date = $7, attributes = $8, updated_at = $9, mbox_sha1 = $11 WHERE id = $10",
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
    .bind(l.email.as_deref().map(mbox_sha1))
    .execute(conn)
    .await?;
    Ok(())
}

/// The xAPI `mbox_sha1sum` of an e-mail address: SHA-1 of its `mailto:` IRI, lower case.
pub fn mbox_sha1(email: &str) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(format!("mailto:{}", email.trim().to_lowercase()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fills `mbox_sha1` for learners stored before it existed (run at start-up; idempotent).
pub async fn fill_mbox_sha1(conn: &mut Writer) -> Result<u64> {
    let conn: &mut AnyConnection = conn;
    let rows_ = crate::sql::q(
        "SELECT id, email FROM learners WHERE email IS NOT NULL AND mbox_sha1 IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut n = 0;
    for row in rows_ {
        let (id, email) = (rows::int(&row, "id")?, rows::text(&row, "email")?);
        crate::sql::q("UPDATE learners SET mbox_sha1 = $1 WHERE id = $2")
            .bind(mbox_sha1(&email))
            .bind(id)
            .execute(&mut *conn)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// How an xAPI statement names its actor (an Agent's inverse functional identifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorKey {
    /// `mbox`: the e-mail address without `mailto:`.
    Email(String),
    /// `mbox_sha1sum`, lower-case hex.
    MboxSha1(String),
    /// `account.name`: a username or any external id.
    Account(String),
}

/// The learner an xAPI actor names: (row id, username, legal name).
pub async fn by_actor(
    conn: &mut AnyConnection,
    key: &ActorKey,
) -> Result<Option<(i64, Username, String)>> {
    let name = match key {
        ActorKey::Email(email) => return by_mbox_sha1(conn, &mbox_sha1(email)).await,
        ActorKey::MboxSha1(sum) => return by_mbox_sha1(conn, &sum.to_lowercase()).await,
        ActorKey::Account(name) => name,
    };
    if let Some(row) =
        crate::sql::q("SELECT id, username, legal_name FROM learners WHERE username = $1")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
    {
        return identity_of(&row).map(Some);
    }
    // External ids live in a JSON object: narrow with LIKE, then check the values exactly.
    let pattern = format!(
        "%{}%",
        crate::sql::escape_like(&serde_json::Value::from(name.as_str()).to_string())
    );
    let candidates = crate::sql::q(
        "SELECT id, username, legal_name, external_ids FROM learners \
         WHERE external_ids LIKE $1 ESCAPE '\\' ORDER BY id LIMIT 50",
    )
    .bind(pattern)
    .fetch_all(&mut *conn)
    .await?;
    for row in candidates {
        let ids: serde_json::Map<String, serde_json::Value> = rows::json(&row, "external_ids")?;
        if ids.values().any(|v| v.as_str() == Some(name.as_str())) {
            return identity_of(&row).map(Some);
        }
    }
    Ok(None)
}

async fn by_mbox_sha1(
    conn: &mut AnyConnection,
    sum: &str,
) -> Result<Option<(i64, Username, String)>> {
    let row = crate::sql::q(
        "SELECT id, username, legal_name FROM learners WHERE mbox_sha1 = $1 ORDER BY id LIMIT 1",
    )
    .bind(sum)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(identity_of).transpose()
}

/// A learner's email address, when they have one.
pub async fn email_of(conn: &mut AnyConnection, id: i64) -> Result<Option<String>> {
    let row = crate::sql::q("SELECT email FROM learners WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row
        .map(|r| rows::opt_text(&r, "email"))
        .transpose()?
        .flatten()
        .filter(|e| !e.is_empty()))
}
