//! Programs and their assigned learning items.

use crate::Writer;
use crate::sql::Sql;
use crate::{Result, StoreError, rows};
use recert_domain::program::ItemKind;
use recert_domain::{
    Code, Organization, Program, ProgramItem, RenewalAnchor, Validity, ValidityUnit,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

const SELECT: &str = "SELECT p.*, o.code AS org_code FROM programs p \
                      JOIN organizations o ON o.id = p.organization_id";

fn code(col: &str, s: &str) -> Result<Code> {
    Code::parse(col, s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_row(row: &AnyRow, items: Vec<ProgramItem>) -> Result<(i64, Program)> {
    let unit = rows::text(row, "validity_unit")?;
    let unit = ValidityUnit::parse("validity_unit", &unit)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let anchor = RenewalAnchor::parse("renewal_anchor", &rows::text(row, "renewal_anchor")?)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok((
        rows::int(row, "id")?,
        Program {
            code: code("code", &rows::text(row, "code")?)?,
            name: rows::text(row, "name")?,
            description: rows::text(row, "description")?,
            organization: code("organization", &rows::text(row, "org_code")?)?,
            validity: Validity {
                count: rows::u32_of(row, "validity_count")?,
                unit,
            },
            renewal_window_days: rows::u32_of(row, "renewal_window_days")?,
            grace_days: rows::u32_of(row, "grace_days")?,
            reminder_offsets_days: rows::json(row, "reminder_offsets_days")?,
            escalation_offset_days: rows::u32_of(row, "escalation_offset_days")?,
            renewal_pathways: rows::json(row, "renewal_pathways")?,
            renewal_anchor: anchor,
            credits_required: rows::opt_json(row, "credits_required")?,
            approved_providers: rows::json(row, "approved_providers")?,
            refresher_item: rows::opt_text(row, "refresher_item")?,
            items,
            content_version: rows::opt_text(row, "content_version")?,
            custom_fields: rows::json(row, "custom_fields")?,
            grace_counts_as_compliant: rows::flag(row, "grace_counts_as_compliant")?,
            external_training_approval: rows::flag(row, "external_training_approval")?,
            archived_on: rows::opt_date(row, "archived_on")?,
        },
    ))
}

/// Decodes an item from columns named `{prefix}code`, `{prefix}kind`, … (a plain
/// `program_items` row has no prefix; the joined program query uses `item_`).
fn item_from_row(row: &AnyRow, prefix: &str) -> Result<ProgramItem> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(ProgramItem {
        code: rows::text(row, &col("code"))?,
        kind: ItemKind::parse("kind", &rows::text(row, &col("kind"))?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        pass_threshold: rows::opt_f64(row, &col("pass_threshold"))?,
        assigned_on: rows::date(row, &col("assigned_on"))?,
        activity_id: rows::opt_text(row, &col("activity_id"))?,
        url: rows::opt_text(row, &col("url"))?,
    })
}

async fn items_of(conn: &mut AnyConnection, ids: &[i64]) -> Result<Vec<(i64, ProgramItem)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new("SELECT * FROM program_items WHERE program_id IN ");
    q.push_in_list(ids).push(" ORDER BY program_id, position");
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((rows::int(r, "program_id")?, item_from_row(r, "")?)))
        .collect()
}

async fn with_items(conn: &mut AnyConnection, rows_: Vec<AnyRow>) -> Result<Vec<(i64, Program)>> {
    let ids: Vec<i64> = rows_
        .iter()
        .map(|r| rows::int(r, "id"))
        .collect::<Result<_>>()?;
    let mut items = items_of(conn, &ids).await?;
    let mut out = Vec::with_capacity(rows_.len());
    for (row, id) in rows_.iter().zip(ids) {
        let mine: Vec<ProgramItem> = items
            .iter()
            .filter(|(pid, _)| *pid == id)
            .map(|(_, i)| i.clone())
            .collect();
        items.retain(|(pid, _)| *pid != id);
        out.push(from_row(row, mine)?);
    }
    Ok(out)
}

pub async fn by_code(conn: &mut AnyConnection, code: &str) -> Result<Option<(i64, Program)>> {
    Ok(with_organization(conn, code)
        .await?
        .map(|(id, p, _)| (id, p)))
}

/// A program with its items and its organization in ONE query: writes look programs up on
/// every request, and each query is a round trip to the database's worker thread.
pub async fn with_organization(
    conn: &mut AnyConnection,
    code: &str,
) -> Result<Option<(i64, Program, Organization)>> {
    let found = crate::sql::q(
        "SELECT p.*, o.code AS org_code, o.name AS org_name, o.url AS org_url, o.time_zone AS org_time_zone, \
         i.code AS item_code, i.kind AS item_kind, i.pass_threshold AS item_pass_threshold, \
         i.assigned_on AS item_assigned_on, i.activity_id AS item_activity_id, i.url AS item_url \
         FROM programs p JOIN organizations o ON o.id = p.organization_id \
         LEFT JOIN program_items i ON i.program_id = p.id WHERE p.code = $1 ORDER BY i.position",
    )
    .bind(code)
    .fetch_all(conn)
    .await?;
    let Some(first) = found.first() else {
        return Ok(None);
    };
    let mut items = Vec::new();
    for row in &found {
        if rows::opt_text(row, "item_code")?.is_some() {
            items.push(item_from_row(row, "item_")?);
        }
    }
    let (id, program) = from_row(first, items)?;
    let org = Organization {
        code: rows::text(first, "org_code")?,
        name: rows::text(first, "org_name")?,
        url: rows::opt_text(first, "org_url")?,
        time_zone: rows::text(first, "org_time_zone")?,
    };
    Ok(Some((id, program, org)))
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<(i64, Program)> {
    let row = crate::sql::q_assembled(format!("{SELECT} WHERE p.id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    with_items(conn, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// The programs that one of these learning items (by code or xAPI activity IRI) or
/// refresher items earns or renews, each with its organization: all a completion needs,
/// in two queries instead of the catalogue.
pub async fn for_items(
    conn: &mut AnyConnection,
    idents: &[String],
) -> Result<Vec<(i64, Program, Organization)>> {
    if idents.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT p.*, o.code AS org_code, o.name AS org_name, o.url AS org_url, o.time_zone AS org_time_zone \
         FROM programs p JOIN organizations o ON o.id = p.organization_id WHERE p.id IN \
         (SELECT program_id FROM program_items WHERE code IN ",
    );
    let mut list = String::from("(");
    for (n, ident) in idents.iter().enumerate() {
        let a = q.arg(crate::sql::Arg::Text(ident.clone()));
        list.push_str(if n == 0 { "" } else { "," });
        list.push_str(&a);
    }
    list.push(')');
    q.push(&list)
        .push(" OR activity_id IN ")
        .push(&list)
        .push(") OR p.refresher_item IN ")
        .push(&list)
        .push(" ORDER BY p.id");
    let found = q.query().fetch_all(&mut *conn).await?;
    let orgs = found
        .iter()
        .map(|r| {
            Ok(Organization {
                code: rows::text(r, "org_code")?,
                name: rows::text(r, "org_name")?,
                url: rows::opt_text(r, "org_url")?,
                time_zone: rows::text(r, "org_time_zone")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(with_items(conn, found)
        .await?
        .into_iter()
        .zip(orgs)
        .map(|((id, p), o)| (id, p, o))
        .collect())
}

/// What the catalogue's in-memory copies are checked against: how many programs and
/// organizations exist and the sum of the programs' revisions (every change raises one).
pub async fn catalogue_version(conn: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let row = crate::sql::q(
        "SELECT (SELECT COUNT(*) FROM programs) AS n, \
         (SELECT CAST(COALESCE(SUM(revision), 0) AS BIGINT) FROM programs) AS r, \
         (SELECT COUNT(*) FROM organizations) AS o",
    )
    .fetch_one(conn)
    .await?;
    Ok((
        rows::int(&row, "n")?,
        rows::int(&row, "r")?,
        rows::int(&row, "o")?,
    ))
}

/// Whether another program's code differs from `code` only by case.
pub async fn folded_code_taken(conn: &mut AnyConnection, code: &str) -> Result<Option<String>> {
    let row = crate::sql::q("SELECT code FROM programs WHERE code_folded = $1")
        .bind(code.to_lowercase())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|r| rows::text(r, "code")).transpose()
}

/// Programs after id `after`, in creation order.
pub async fn list(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
    include_archived: bool,
) -> Result<Vec<(i64, Program)>> {
    let archived = if include_archived {
        ""
    } else {
        " AND p.archived_on IS NULL"
    };
    let rows_ = crate::sql::q_assembled(format!(
        "{SELECT} WHERE p.id > $1{archived} ORDER BY p.id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    with_items(conn, rows_).await
}

/// Every program (for reports and seeding); small by nature.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<(i64, Program)>> {
    let rows_ = crate::sql::q_assembled(format!("{SELECT} ORDER BY p.id"))
        .fetch_all(&mut *conn)
        .await?;
    with_items(conn, rows_).await
}

/// Current awards (not superseded, revoked or unassigned) of the given programs only, so a
/// page of programs never counts the whole awards table.
pub async fn current_award_counts(
    conn: &mut AnyConnection,
    program_ids: &[i64],
) -> Result<Vec<(i64, i64)>> {
    if program_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Sql::new(
        "SELECT program_id, COUNT(*) AS n FROM awards WHERE is_current = 1 AND program_id IN ",
    );
    q.push_in_list(program_ids).push(" GROUP BY program_id");
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| Ok((rows::int(r, "program_id")?, rows::int(r, "n")?)))
        .collect()
}

fn json_fields(p: &Program) -> Result<[String; 4]> {
    Ok([
        rows::to_json(&p.reminder_offsets_days)?,
        rows::to_json(&p.renewal_pathways)?,
        rows::to_json(&p.custom_fields)?,
        rows::to_json(&p.approved_providers)?,
    ])
}

pub async fn insert(conn: &mut Writer, p: &Program, org_id: i64, now_ms: i64) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let [reminders, pathways, custom, providers] = json_fields(p)?;
    let credits = p.credits_required.as_ref().map(rows::to_json).transpose()?;
    let row = crate::sql::q(
        "INSERT INTO programs (code, code_folded, organization_id, name, description, \
         validity_count, validity_unit, renewal_window_days, grace_days, reminder_offsets_days, \
         renewal_pathways, renewal_anchor, credits_required, refresher_item, content_version, \
         custom_fields, grace_counts_as_compliant, archived_on, created_at, updated_at, \
         external_training_approval, escalation_offset_days, approved_providers) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$19,$20,$21,$22) RETURNING id",
    )
    .bind(p.code.as_str())
    .bind(p.code.as_str().to_lowercase())
    .bind(org_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(i64::from(p.validity.count))
    .bind(p.validity.unit.as_str())
    .bind(i64::from(p.renewal_window_days))
    .bind(i64::from(p.grace_days))
    .bind(reminders)
    .bind(pathways)
    .bind(p.renewal_anchor.as_str())
    .bind(credits)
    .bind(&p.refresher_item)
    .bind(&p.content_version)
    .bind(custom)
    .bind(i64::from(p.grace_counts_as_compliant))
    .bind(rows::opt_date_text(p.archived_on))
    .bind(now_ms)
    .bind(i64::from(p.external_training_approval))
    .bind(i64::from(p.escalation_offset_days))
    .bind(providers)
    .fetch_one(&mut *conn)
    .await?;
    let id = rows::int(&row, "id")?;
    replace_items(conn, id, &p.items).await?;
    Ok(id)
}

pub async fn update(
    conn: &mut Writer,
    id: i64,
    p: &Program,
    org_id: i64,
    now_ms: i64,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    let [reminders, pathways, custom, providers] = json_fields(p)?;
    let credits = p.credits_required.as_ref().map(rows::to_json).transpose()?;
    crate::sql::q(
        "UPDATE programs SET organization_id = $1, name = $2, description = $3, validity_count = $4, \
         validity_unit = $5, renewal_window_days = $6, grace_days = $7, reminder_offsets_days = $8, \
         renewal_pathways = $9, renewal_anchor = $10, credits_required = $11, refresher_item = $12, \
         content_version = $13, custom_fields = $14, grace_counts_as_compliant = $15, \
         archived_on = $16, updated_at = $17, external_training_approval = $19, escalation_offset_days = $20, \
         approved_providers = $21, revision = revision + 1 WHERE id = $18",
    )
    .bind(org_id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(i64::from(p.validity.count))
    .bind(p.validity.unit.as_str())
    .bind(i64::from(p.renewal_window_days))
    .bind(i64::from(p.grace_days))
    .bind(reminders)
    .bind(pathways)
    .bind(p.renewal_anchor.as_str())
    .bind(credits)
    .bind(&p.refresher_item)
    .bind(&p.content_version)
    .bind(custom)
    .bind(i64::from(p.grace_counts_as_compliant))
    .bind(rows::opt_date_text(p.archived_on))
    .bind(now_ms)
    .bind(id)
    .bind(i64::from(p.external_training_approval))
    .bind(i64::from(p.escalation_offset_days))
    .bind(providers)
    .execute(&mut *conn)
    .await?;
    replace_items(conn, id, &p.items).await
}

/// Assigns one more item to a program, after its others.
pub async fn add_item(conn: &mut Writer, program_id: i64, it: &ProgramItem) -> Result<()> {
    insert_item(conn, program_id, it).await
}

async fn insert_item(conn: &mut AnyConnection, program_id: i64, it: &ProgramItem) -> Result<()> {
    crate::sql::q(
        "INSERT INTO program_items (program_id, position, code, kind, pass_threshold, assigned_on, activity_id, url) \
         VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM program_items WHERE program_id = $1), \
         $2, $3, CAST($4 AS DOUBLE PRECISION), $5, $6, $7)",
    )
    .bind(program_id)
    .bind(&it.code)
    .bind(it.kind.as_str())
    .bind(crate::sql::Real(it.pass_threshold))
    .bind(rows::date_text(it.assigned_on))
    .bind(&it.activity_id)
    .bind(&it.url)
    .execute(conn)
    .await?;
    Ok(())
}

/// Unassigns one item; `false` when it was not assigned.
pub async fn remove_item(conn: &mut Writer, program_id: i64, code: &str) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q("DELETE FROM program_items WHERE program_id = $1 AND code = $2")
        .bind(program_id)
        .bind(code)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks a program changed (its items are in their own table): a new revision.
pub async fn touch(conn: &mut Writer, program_id: i64, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE programs SET updated_at = $1, revision = revision + 1 WHERE id = $2")
        .bind(now_ms)
        .bind(program_id)
        .execute(conn)
        .await?;
    Ok(())
}

async fn replace_items(
    conn: &mut AnyConnection,
    program_id: i64,
    items: &[ProgramItem],
) -> Result<()> {
    crate::sql::q("DELETE FROM program_items WHERE program_id = $1")
        .bind(program_id)
        .execute(&mut *conn)
        .await?;
    // In order: each goes after the ones before it.
    for it in items {
        insert_item(conn, program_id, it).await?;
    }
    Ok(())
}

/// A program's own certificate template, if it has one.
pub async fn certificate_template(conn: &mut AnyConnection, id: i64) -> Result<Option<String>> {
    let row = crate::sql::q("SELECT certificate_template FROM programs WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await?;
    rows::opt_text(&row, "certificate_template")
}

/// Stores (or with `None` drops) a program's certificate template.
pub async fn set_certificate_template(
    conn: &mut crate::Writer,
    id: i64,
    svg: Option<&str>,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE programs SET certificate_template = $1 WHERE id = $2")
        .bind(svg)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
