//! Awards. Status is derived from dates (SPEC §3.2), so status filters become date
//! predicates on stored columns: `window_opens_on` and `grace_ends_on` are kept beside
//! `expires_on` for exactly that, and rewritten whenever the dates they derive from change.

use crate::Writer;
use crate::sql::{Arg, SortKeys, Sql};
use crate::{Result, StoreError, rows};
use recert_domain::award::{Credits, RevocationCategory};
use recert_domain::{
    Association, Award, CertificateId, Code, Cycle, Date, Pathway, Revocation, Status, Username,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;

const SELECT: &str = "SELECT a.*, l.username, l.legal_name, p.code AS program_code FROM awards a \
                      JOIN learners l ON l.id = a.learner_id JOIN programs p ON p.id = a.program_id";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn cert(col: &str, s: &str) -> Result<CertificateId> {
    CertificateId::parse(s).map_err(|e| corrupt(format!("{col}: {e}")))
}

/// An award with the keys it is stored under.
#[derive(Debug, Clone)]
pub struct AwardRecord {
    pub row_id: i64,
    pub learner_id: i64,
    pub program_id: i64,
    /// The holder's legal name, as it stands now.
    pub legal_name: String,
    pub award: Award,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// The holder turned off the award's public share page.
    pub sharing_off: bool,
}

pub(crate) fn from_row(row: &AnyRow) -> Result<AwardRecord> {
    let superseded = match (
        rows::opt_text(row, "superseded_by")?,
        rows::opt_date(row, "superseded_on")?,
    ) {
        (Some(id), Some(on)) => Some((cert("superseded_by", &id)?, on)),
        _ => None,
    };
    let revoked = match rows::opt_timestamp(row, "revoked_at")? {
        Some(at) => Some(Revocation {
            at,
            on: rows::date(row, "revoked_on")?,
            reason: rows::opt_text(row, "revoked_reason")?.unwrap_or_default(),
            category: RevocationCategory::parse(
                "revoked_category",
                &rows::text(row, "revoked_category")?,
            )
            .map_err(corrupt)?,
        }),
        None => None,
    };
    let credits = rows::opt_f64(row, "credits_hours")?.map(|hours| Credits {
        hours,
        category: rows::opt_text(row, "credits_category").ok().flatten(),
    });
    let award = Award {
        id: cert("cert_id", &rows::text(row, "cert_id")?)?,
        learner: Username::parse("username", &rows::text(row, "username")?).map_err(corrupt)?,
        program: Code::parse("program_code", &rows::text(row, "program_code")?).map_err(corrupt)?,
        issued_on: rows::date(row, "issued_on")?,
        completed_on: rows::opt_date(row, "completed_on")?,
        expires_on: rows::opt_date(row, "expires_on")?,
        always_valid: rows::flag(row, "always_valid")?,
        score: rows::opt_f64(row, "score")?,
        pass_threshold: rows::opt_f64(row, "pass_threshold")?,
        association: Association::parse("association", &rows::text(row, "association")?)
            .map_err(corrupt)?,
        source_ref: rows::opt_text(row, "source_ref")?,
        credits,
        content_version: rows::opt_text(row, "content_version")?,
        fields: rows::json(row, "fields")?,
        predecessor: rows::opt_text(row, "predecessor")?
            .map(|s| cert("predecessor", &s))
            .transpose()?,
        superseded,
        pathway: rows::opt_text(row, "pathway")?
            .map(|s| Pathway::parse("pathway", &s).map_err(corrupt))
            .transpose()?,
        renewal_window_days: rows::u32_of(row, "renewal_window_days")?,
        grace_days: rows::u32_of(row, "grace_days")?,
        grace_extension_days: rows::u32_of(row, "grace_extension_days")?,
        revoked,
        archived_on: rows::opt_date(row, "archived_on")?,
        closed_on: rows::opt_date(row, "closed_on")?,
        cycle: match (
            rows::opt_date(row, "cycle_start")?,
            rows::opt_int(row, "cycle_count")?,
        ) {
            (Some(start), Some(count)) => Some(Cycle {
                start,
                count: u32::try_from(count).map_err(|_| corrupt("cycle_count: out of range"))?,
            }),
            _ => None,
        },
    };
    Ok(AwardRecord {
        row_id: rows::int(row, "id")?,
        learner_id: rows::int(row, "learner_id")?,
        program_id: rows::int(row, "program_id")?,
        legal_name: rows::text(row, "legal_name")?,
        award,
        created_at_ms: rows::int(row, "created_at")?,
        updated_at_ms: rows::int(row, "updated_at")?,
        sharing_off: rows::flag(row, "sharing_off")?,
    })
}

/// Turns an award's public share page off or on.
pub async fn set_sharing(conn: &mut Writer, row_id: i64, off: bool) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q("UPDATE awards SET sharing_off = $1 WHERE id = $2")
        .bind(i64::from(off))
        .bind(row_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts a stored or changed award before the scheduler (see migration 0015): at once
/// (its issue day) when it is current and expires; otherwise not, and an entry left from
/// before is dropped when it comes due.
async fn queue_for_notices(conn: &mut AnyConnection, row_id: i64, a: &Award) -> Result<()> {
    if a.is_current() && a.expiry().is_some() {
        crate::sql::q(
            "INSERT INTO notice_queue (due_on, award_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(rows::date_text(a.issued_on))
        .bind(row_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Derived date columns kept for status filters.
fn derived(a: &Award) -> (Option<String>, Option<String>) {
    match a.expiry() {
        Some(x) => (
            Some(rows::date_text(a.window_opens(x))),
            Some(rows::date_text(a.grace_ends(x))),
        ),
        None => (None, None),
    }
}

pub async fn by_id(conn: &mut AnyConnection, id: &CertificateId) -> Result<Option<AwardRecord>> {
    crate::sql::q_assembled(format!("{SELECT} WHERE a.cert_id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The learner's current award for a program, if any (at most one exists).
pub async fn current(
    conn: &mut AnyConnection,
    learner_id: i64,
    program_id: i64,
) -> Result<Option<AwardRecord>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE a.learner_id = $1 AND a.program_id = $2 AND a.is_current = 1"
    ))
    .bind(learner_id)
    .bind(program_id)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// The current awards of a program held by any of these learners (one query per 500), by
/// learner id.
pub async fn current_of(
    conn: &mut AnyConnection,
    program_id: i64,
    learner_ids: &[i64],
) -> Result<std::collections::HashMap<i64, AwardRecord>> {
    let mut out = std::collections::HashMap::with_capacity(learner_ids.len());
    for chunk in learner_ids.chunks(500) {
        let mut q = Sql::new(SELECT);
        let p = q.arg(Arg::Int(program_id));
        q.push(&format!(
            " WHERE a.program_id = {p} AND a.is_current = 1 AND a.learner_id IN "
        ));
        q.push_in_list(chunk);
        for row in q.query().fetch_all(&mut *conn).await? {
            let r = from_row(&row)?;
            out.insert(r.learner_id, r);
        }
    }
    Ok(out)
}

/// Every award of a learner, newest first.
pub async fn of_learner(conn: &mut AnyConnection, learner_id: i64) -> Result<Vec<AwardRecord>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE a.learner_id = $1 ORDER BY a.id DESC"
    ))
    .bind(learner_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Stores a new award; whether it is current is what its recorded facts say.
pub async fn insert(
    conn: &mut Writer,
    a: &Award,
    learner_id: i64,
    program_id: i64,
    now_ms: i64,
) -> Result<i64> {
    let conn: &mut AnyConnection = conn;
    let (window_opens, grace_ends) = derived(a);
    let row = crate::sql::q(
        "INSERT INTO awards (cert_id, program_id, learner_id, issued_on, completed_on, expires_on, always_valid, \
         window_opens_on, grace_ends_on, renewal_window_days, grace_days, grace_extension_days, score, \
         pass_threshold, association, source_ref, credits_hours, credits_category, content_version, fields, \
         predecessor, pathway, is_current, created_at, updated_at, cycle_start, cycle_count) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,CAST($13 AS DOUBLE PRECISION),CAST($14 AS DOUBLE PRECISION),$15,$16,CAST($17 AS DOUBLE PRECISION),$18,$19,$20,$21,$22,$23,$24,$24,$25,$26) \
         RETURNING id",
    )
    .bind(a.id.as_str())
    .bind(program_id)
    .bind(learner_id)
    .bind(rows::date_text(a.issued_on))
    .bind(rows::opt_date_text(a.completed_on))
    .bind(rows::opt_date_text(a.expiry()))
    .bind(i64::from(a.always_valid))
    .bind(window_opens)
    .bind(grace_ends)
    .bind(i64::from(a.renewal_window_days))
    .bind(i64::from(a.grace_days))
    .bind(i64::from(a.grace_extension_days))
    .bind(crate::sql::Real(a.score))
    .bind(crate::sql::Real(a.pass_threshold))
    .bind(a.association.as_str())
    .bind(&a.source_ref)
    .bind(crate::sql::Real(a.credits.as_ref().map(|c| c.hours)))
    .bind(a.credits.as_ref().and_then(|c| c.category.clone()))
    .bind(&a.content_version)
    .bind(rows::to_json(&a.fields)?)
    .bind(a.predecessor.as_ref().map(|p| p.as_str().to_owned()))
    .bind(a.pathway.map(|p| p.as_str()))
    .bind(i64::from(a.is_current()))
    .bind(now_ms)
    .bind(a.cycle.map(|c| rows::date_text(c.start)))
    .bind(a.cycle.map(|c| i64::from(c.count)))
    .fetch_one(&mut *conn)
    .await?;
    let id = rows::int(&row, "id")?;
    queue_for_notices(conn, id, a).await?;
    Ok(id)
}

/// Rewrites every mutable column of a stored award from `a`. Whether it stays current
/// follows from its recorded facts (revoked, superseded, archived, closed), never from dates.
pub async fn update(conn: &mut Writer, row_id: i64, a: &Award, now_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    let (window_opens, grace_ends) = derived(a);
    let (revoked_at, revoked_on, reason, category) = match &a.revoked {
        Some(r) => (
            Some(r.at.as_millisecond()),
            Some(rows::date_text(r.on)),
            Some(r.reason.clone()),
            Some(r.category.as_str()),
        ),
        None => (None, None, None, None),
    };
    crate::sql::q(
        "UPDATE awards SET issued_on = $1, completed_on = $2, expires_on = $3, always_valid = $4, \
         window_opens_on = $5, grace_ends_on = $6, grace_extension_days = $7, score = CAST($8 AS DOUBLE PRECISION), pass_threshold = CAST($9 AS DOUBLE PRECISION), \
         association = $10, source_ref = $11, credits_hours = CAST($12 AS DOUBLE PRECISION), credits_category = $13, content_version = $14, \
         fields = $15, superseded_by = $16, superseded_on = $17, pathway = $18, revoked_at = $19, revoked_on = $20, \
         revoked_reason = $21, revoked_category = $22, archived_on = $23, is_current = $24, updated_at = $25, \
         closed_on = $26, cycle_start = $27, cycle_count = $28, renewal_window_days = $30, grace_days = $31 \
         WHERE id = $29",
    )
    .bind(rows::date_text(a.issued_on))
    .bind(rows::opt_date_text(a.completed_on))
    .bind(rows::opt_date_text(a.expiry()))
    .bind(i64::from(a.always_valid))
    .bind(window_opens)
    .bind(grace_ends)
    .bind(i64::from(a.grace_extension_days))
    .bind(crate::sql::Real(a.score))
    .bind(crate::sql::Real(a.pass_threshold))
    .bind(a.association.as_str())
    .bind(&a.source_ref)
    .bind(crate::sql::Real(a.credits.as_ref().map(|c| c.hours)))
    .bind(a.credits.as_ref().and_then(|c| c.category.clone()))
    .bind(&a.content_version)
    .bind(rows::to_json(&a.fields)?)
    .bind(a.superseded.as_ref().map(|s| s.0.as_str().to_owned()))
    .bind(a.superseded.as_ref().map(|s| rows::date_text(s.1)))
    .bind(a.pathway.map(|p| p.as_str()))
    .bind(revoked_at)
    .bind(revoked_on)
    .bind(reason)
    .bind(category)
    .bind(rows::opt_date_text(a.archived_on))
    .bind(i64::from(a.is_current()))
    .bind(now_ms)
    .bind(rows::opt_date_text(a.closed_on))
    .bind(a.cycle.map(|c| rows::date_text(c.start)))
    .bind(a.cycle.map(|c| i64::from(c.count)))
    .bind(row_id)
    .bind(i64::from(a.renewal_window_days))
    .bind(i64::from(a.grace_days))
    .execute(&mut *conn)
    .await?;
    queue_for_notices(conn, row_id, a).await
}

/// Filters for listing awards (SPEC §9).
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Matches the learner's name or username (substring, any case) or the certificate ID
    /// exactly (canonical form).
    pub text: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
    pub group: Option<String>,
    pub status: Option<Status>,
    pub issued_from: Option<Date>,
    pub issued_to: Option<Date>,
    pub expires_from: Option<Date>,
    pub expires_to: Option<Date>,
    /// What the caller may see.
    pub within: crate::sql::Within,
    /// Only current awards: true whenever the status asked is active, expiring, grace or
    /// not yet valid on today or a later day (every ending — revocation, renewal,
    /// unassignment, closing — is recorded by the day it counts from, so an award in one of
    /// those statuses then is current now). It lets the partial index on current awards
    /// answer.
    pub current_only: bool,
}

/// The SQL condition for "has status `s` on day `d`", mirroring `recert_domain::status_on`
/// row for row (events count from the day they happened).
fn status_condition(s: Status, d: &str) -> String {
    let not_revoked = format!("(a.revoked_on IS NULL OR a.revoked_on > {d})");
    let not_superseded = format!("(a.superseded_on IS NULL OR a.superseded_on > {d})");
    let not_archived = format!(
        "((a.archived_on IS NULL OR a.archived_on > {d}) AND (p.archived_on IS NULL OR p.archived_on > {d}))"
    );
    let not_closed = format!("(a.closed_on IS NULL OR a.closed_on > {d})");
    let ended = format!("{not_revoked} AND {not_superseded} AND {not_archived}");
    // Neither ended nor closed, and issued by then.
    let live = format!("{ended} AND {not_closed} AND a.issued_on <= {d}");
    match s {
        Status::Revoked => format!("a.revoked_on <= {d}"),
        Status::Superseded => format!("{not_revoked} AND a.superseded_on <= {d}"),
        Status::Archived => format!("{not_revoked} AND {not_superseded} AND NOT {not_archived}"),
        Status::NotYetValid => format!("{ended} AND {not_closed} AND {d} < a.issued_on"),
        Status::Active => format!("{live} AND (a.expires_on IS NULL OR {d} < a.window_opens_on)"),
        Status::Expiring => format!("{live} AND a.window_opens_on <= {d} AND {d} <= a.expires_on"),
        Status::Grace => format!("{live} AND a.expires_on < {d} AND {d} <= a.grace_ends_on"),
        Status::Lapsed => format!(
            "{ended} AND (a.closed_on <= {d} OR ({not_closed} AND a.issued_on <= {d} AND a.grace_ends_on < {d}))"
        ),
    }
}

/// The conditions of `f` (statuses judged on `today`), appended to a query over awards `a`
/// joined with learners `l` and programs `p`.
fn push_filter(q: &mut Sql, f: &Filter, today: Date) {
    let text = |q: &mut Sql, cond: &str, v: String| {
        let p = q.arg(Arg::Text(v));
        q.push(&format!(" AND {}", cond.replace("{}", &p)));
    };
    if let Some(t) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let like = q.arg(Arg::Text(crate::sql::contains_pattern(t)));
        let exact = q.arg(Arg::Text(t.to_uppercase()));
        q.push(&format!(
            " AND (lower(l.username) LIKE {like} ESCAPE '\\' OR lower(l.legal_name) LIKE {like} ESCAPE '\\' \
             OR a.cert_id = {exact})"
        ));
    }
    if let Some(v) = &f.learner {
        text(q, "l.username = {}", v.clone());
    }
    if let Some(v) = &f.program {
        text(q, "p.code = {}", v.clone());
    }
    if let Some(v) = &f.group {
        text(
            q,
            "EXISTS (SELECT 1 FROM group_members gm JOIN learner_groups g ON g.id = gm.group_id \
             WHERE gm.learner_id = a.learner_id AND g.name = {})",
            v.clone(),
        );
    }
    if let Some(v) = f.issued_from {
        text(q, "a.issued_on >= {}", rows::date_text(v));
    }
    if let Some(v) = f.issued_to {
        text(q, "a.issued_on <= {}", rows::date_text(v));
    }
    if let Some(v) = f.expires_from {
        text(q, "a.expires_on >= {}", rows::date_text(v));
    }
    if let Some(v) = f.expires_to {
        text(q, "a.expires_on <= {}", rows::date_text(v));
    }
    f.within.push(q, "a.learner_id", Some("a.program_id"));
    if f.current_only {
        q.push(" AND a.is_current = 1");
    }
    if let Some(s) = f.status {
        let d = q.arg(Arg::Text(rows::date_text(today)));
        q.push(&format!(" AND {}", status_condition(s, &d)));
    }
}

/// Awards matching `f`, by creation order after row `after`. `today` is the day status
/// filters are judged on.
pub async fn list(
    conn: &mut AnyConnection,
    f: &Filter,
    today: Date,
    after: i64,
    limit: i64,
) -> Result<Vec<AwardRecord>> {
    let mut q = Sql::new(SELECT);
    let p = q.arg(Arg::Int(after));
    q.push(&format!(" WHERE a.id > {p}"));
    push_filter(&mut q, f, today);
    let p = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY a.id LIMIT {p}"));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// Awards matching a filter, their statuses judged on a day (what award listings read).
#[derive(Debug, Clone)]
pub struct On {
    pub filter: Filter,
    pub day: Date,
}

impl crate::listing::Listing for On {
    type Row = AwardRecord;
    const SELECT: &'static str = SELECT;
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM awards a JOIN learners l ON l.id = a.learner_id \
         JOIN programs p ON p.id = a.program_id";
    const ID: &'static str = "a.id";
    const SORTS: SortKeys = &[
        ("name", "lower(l.legal_name)"),
        ("username", "l.username"),
        ("program", "p.code"),
        ("issued", "a.issued_on"),
        ("expires", "a.expires_on"),
        ("id", "a.cert_id"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        push_filter(q, &self.filter, self.day);
    }

    fn row(r: &AnyRow) -> Result<AwardRecord> {
        from_row(r)
    }
}

/// How many of a program's current awards are in each status on `day` (today or later:
/// then every award not ended is current), in one query over the partial index on current
/// awards. Mirrors `recert_domain::status_on` for awards nothing has ended.
pub async fn holder_counts(
    conn: &mut AnyConnection,
    program_id: i64,
    day: Date,
) -> Result<Vec<(Status, i64)>> {
    let rows_ = crate::sql::q(
        "SELECT CASE \
           WHEN p.archived_on IS NOT NULL AND p.archived_on <= $2 THEN 'archived' \
           WHEN $2 < a.issued_on THEN 'not_yet_valid' \
           WHEN a.expires_on IS NULL OR $2 < a.window_opens_on THEN 'active' \
           WHEN $2 <= a.expires_on THEN 'expiring' \
           WHEN $2 <= a.grace_ends_on THEN 'grace' \
           ELSE 'lapsed' END AS status, COUNT(*) AS n \
         FROM awards a JOIN programs p ON p.id = a.program_id \
         WHERE a.program_id = $1 AND a.is_current = 1 GROUP BY 1",
    )
    .bind(program_id)
    .bind(rows::date_text(day))
    .fetch_all(conn)
    .await?;
    rows_
        .iter()
        .map(|r| {
            let s = rows::text(r, "status")?;
            let status = Status::parse(&s).ok_or_else(|| corrupt(format!("status {s}")))?;
            Ok((status, rows::int(r, "n")?))
        })
        .collect()
}

/// How many awards exist in all (for the demo's "already seeded" check and metrics).
pub async fn count(conn: &mut AnyConnection) -> Result<i64> {
    let row = crate::sql::q("SELECT COUNT(*) AS n FROM awards")
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

/// Every current award of a program, oldest first (a policy change for current holders
/// reads them all).
pub async fn current_in_program(
    conn: &mut AnyConnection,
    program_id: i64,
) -> Result<Vec<AwardRecord>> {
    crate::sql::q_assembled(format!(
        "{SELECT} WHERE a.program_id = $1 AND a.is_current = 1 ORDER BY a.id"
    ))
    .bind(program_id)
    .fetch_all(conn)
    .await?
    .iter()
    .map(from_row)
    .collect()
}
