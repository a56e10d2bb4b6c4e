//! Compliance (SPEC §5): for each requirement ("members of group G must hold program P"),
//! how its required people stand on a given day. Each person counts once, by their best
//! award in the program on that day. The standing is computed in SQL so a report over a
//! million awards is one pass over them (measured by `recert bench compliance_1m`); the
//! expression mirrors `recert_domain::status_on` row for row.

use crate::sql::{Arg, Sql};
use crate::{Result, StoreError, rows};
use recert_domain::Date;
use sqlx::AnyConnection;

/// How a required person stands, best first. The numbers are the SQL ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// Holds an active or expiring award.
    Compliant = 1,
    /// Their best award is in grace.
    Grace = 2,
    /// Their best award lapsed.
    Lapsed = 3,
    /// Their best award was revoked.
    Revoked = 4,
    /// No award that counts: none at all, or only archived, superseded or not yet valid ones.
    NeverCertified = 9,
}

impl Standing {
    fn from_rank(rank: Option<i64>) -> Result<Self> {
        Ok(match rank {
            None | Some(9) => Self::NeverCertified,
            Some(1) => Self::Compliant,
            Some(2) => Self::Grace,
            Some(3) => Self::Lapsed,
            Some(4) => Self::Revoked,
            Some(other) => return Err(StoreError::Corrupt(format!("standing rank {other}"))),
        })
    }
}

/// One award `a`'s standing on day `{d}` as a single number, so that one `MIN` per learner
/// and program finds their best award and its expiry in one pass (evaluating one
/// expression once per award is what keeps a million-award report under a second):
///
/// - `100000000`: valid and never expires (the best there is);
/// - `199999999 - YYYYMMDD`: valid until that expiry (a later expiry is smaller, so better);
/// - `200000000` grace, `300000000` lapsed, `400000000` revoked;
/// - `900000000`: counts for nothing that day (superseded, unassigned, not yet issued).
///
/// `code / 100000000` is the rank (1 valid … 4 revoked, 9 nothing). The checks come in
/// the order of `recert_domain::status_on`: revoked, then superseded or unassigned, then
/// closed, then the dates. Awards of programs archived on or before the day count for
/// nothing; those programs are named in `archived` (few, read from the catalogue).
fn code_expr(d: &str, archived: &str) -> String {
    format!(
        "CASE WHEN a.revoked_on <= {d} THEN 400000000 \
         WHEN a.superseded_on <= {d} OR a.archived_on <= {d}{archived} THEN 900000000 \
         WHEN a.closed_on <= {d} THEN 300000000 \
         WHEN {d} < a.issued_on THEN 900000000 \
         WHEN a.expires_on IS NULL THEN 100000000 \
         WHEN {d} <= a.expires_on THEN 199999999 - CAST(REPLACE(a.expires_on, '-', '') AS BIGINT) \
         WHEN {d} <= a.grace_ends_on THEN 200000000 \
         ELSE 300000000 END"
    )
}

/// The best code for "valid until `day`" and every later expiry: valid codes at or above
/// it expire on or before `day`.
fn until_code(day: Date) -> i64 {
    199_999_999
        - (i64::from(day.year()) * 10_000 + i64::from(day.month()) * 100 + i64::from(day.day()))
}

/// Decodes a best code: the standing, and the expiry of a valid award (`None` when it
/// never expires or is not valid).
fn decode(code: Option<i64>) -> Result<(Standing, Option<Date>)> {
    let Some(code) = code else {
        return Ok((Standing::NeverCertified, None));
    };
    let standing = Standing::from_rank(Some(code / 100_000_000))?;
    if standing != Standing::Compliant || code == 100_000_000 {
        return Ok((standing, None));
    }
    let ymd = 199_999_999 - code;
    let bad = || StoreError::Corrupt(format!("expiry code {code}"));
    let (y, m, dd) = (ymd / 10_000, (ymd / 100) % 100, ymd % 100);
    let day = Date::new(
        i16::try_from(y).map_err(|_| bad())?,
        i8::try_from(m).map_err(|_| bad())?,
        i8::try_from(dd).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    Ok((standing, Some(day)))
}

/// Which requirements a report covers. `None` = all; an empty list = none.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub programs: Option<Vec<i64>>,
    pub groups: Option<Vec<i64>>,
    /// Programs archived on or before the day asked: their awards count for nothing.
    pub archived_programs: Vec<i64>,
    /// Only these people (a learner's own page, a supervisor's team); `None` = everyone.
    pub learners: Option<Vec<i64>>,
}

/// One requirement in scope, with its group's name and kind.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub program_id: i64,
    pub group_id: i64,
    pub group: String,
    pub group_kind: String,
}

/// The counts of one requirement on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub required: i64,
    pub valid: i64,
    pub grace: i64,
    pub lapsed: i64,
    pub revoked: i64,
    pub expiring_30: i64,
    pub expiring_60: i64,
    pub expiring_90: i64,
}

impl Counts {
    pub fn never_certified(&self) -> i64 {
        (self.required - self.valid - self.grace - self.lapsed - self.revoked).max(0)
    }
}

/// One required person of one requirement, and how they stand.
#[derive(Debug, Clone)]
pub struct Person {
    pub program_id: i64,
    pub group_id: i64,
    pub username: String,
    pub legal_name: String,
    pub standing: Standing,
    /// The expiry of their best valid award (`None` when always valid or not valid).
    pub valid_until: Option<Date>,
    /// Whether their best valid award never expires.
    pub always_valid: bool,
}

/// `req`: the requirements in scope, as a common table expression.
fn push_req(q: &mut Sql, scope: &Scope) {
    q.push("req AS (SELECT r.program_id, r.group_id FROM requirements r WHERE 1 = 1");
    if let Some(ids) = &scope.programs {
        q.push(" AND r.program_id IN ");
        push_ids(q, ids);
    }
    if let Some(ids) = &scope.groups {
        q.push(" AND r.group_id IN ");
        push_ids(q, ids);
    }
    q.push(")");
}

fn push_ids(q: &mut Sql, ids: &[i64]) {
    if ids.is_empty() {
        q.push("(NULL)");
    } else {
        q.push_in_list(ids);
    }
}

/// `best`: per learner and program in scope, the best award's code (see [`code_expr`]).
/// Awards that count for nothing that day (superseded, unassigned or issued later) are
/// left out before grouping: in a long history most awards are superseded, and the
/// grouping is what costs. `learners` limits the awards read to some learners.
fn push_best(q: &mut Sql, d: &str, scope: &Scope, learners: Option<&str>) {
    let mut archived = String::new();
    if !scope.archived_programs.is_empty() {
        let list: Vec<String> = scope
            .archived_programs
            .iter()
            .map(|id| id.to_string())
            .collect();
        // Ids are numbers read from the database, not input.
        archived = format!(" OR a.program_id IN ({})", list.join(","));
    }
    q.push(&format!(
        ", best AS (SELECT a.learner_id, a.program_id, CAST(MIN({}) AS BIGINT) AS code \
         FROM awards a WHERE {} \
         AND (a.revoked_on <= {d} OR ((a.superseded_on IS NULL OR a.superseded_on > {d}) \
              AND (a.archived_on IS NULL OR a.archived_on > {d}) \
              AND (a.closed_on <= {d} OR a.issued_on <= {d})))",
        code_expr(d, &archived),
        // Every program's awards are read in one scan anyway: filter only when asked.
        if scope.programs.is_some() {
            "a.program_id IN (SELECT program_id FROM req)"
        } else {
            "1 = 1"
        }
    ));
    if let Some(cond) = learners {
        q.push(&format!(" AND a.learner_id IN ({cond})"));
    }
    q.push(" GROUP BY a.learner_id, a.program_id)");
}

/// Whether learner `l` is required on day `{d}`: active with no end date, or their end
/// date not yet passed (people who left stop counting after their last day).
fn required_person(d: &str) -> String {
    // Never NULL (its negation selects the people who are not required).
    format!(
        "((l.end_date IS NULL AND l.active = 1) OR (l.end_date IS NOT NULL AND {d} <= l.end_date))"
    )
}

/// The requirements in scope, by program and group name.
pub async fn requirements(conn: &mut AnyConnection, scope: &Scope) -> Result<Vec<Requirement>> {
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    q.push(
        " SELECT req.program_id, req.group_id, g.name, g.kind FROM req \
         JOIN learner_groups g ON g.id = req.group_id ORDER BY req.program_id, g.name",
    );
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Requirement {
                program_id: rows::int(r, "program_id")?,
                group_id: rows::int(r, "group_id")?,
                group: rows::text(r, "name")?,
                group_kind: rows::text(r, "kind")?,
            })
        })
        .collect()
}

/// The counts of every requirement in scope on `day`, keyed by (program id, group id).
/// Requirements whose group has no required member are absent (all zero).
pub async fn counts(
    conn: &mut AnyConnection,
    scope: &Scope,
    requirements: &[Requirement],
    day: Date,
) -> Result<Vec<((i64, i64), Counts)>> {
    let mut out: std::collections::BTreeMap<(i64, i64), Counts> = Default::default();

    // How many people each group requires: the same for every program it requires.
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    let d = q.arg(Arg::Text(rows::date_text(day)));
    q.push(&format!(
        " SELECT gm.group_id, COUNT(*) AS n FROM group_members gm JOIN learners l ON l.id = gm.learner_id \
         WHERE gm.group_id IN (SELECT group_id FROM req) AND {} GROUP BY gm.group_id",
        required_person(&d)
    ));
    let per_group: std::collections::HashMap<i64, i64> = q
        .query()
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((rows::int(r, "group_id")?, rows::int(r, "n")?)))
        .collect::<Result<_>>()?;
    for r in requirements {
        let required = per_group.get(&r.group_id).copied().unwrap_or(0);
        out.insert(
            (r.program_id, r.group_id),
            Counts {
                required,
                ..Counts::default()
            },
        );
    }

    // How the members who hold anything stand: one pass over the awards, counted per
    // group and program (the requirements are picked from the few sums afterwards), then
    // the same for the members who are not required that day (left, or inactive),
    // subtracted: they are few, and filtering every row by them costs more.
    let everyone = standings(conn, scope, day, None).await?;
    let not_required = standings(
        conn,
        scope,
        day,
        Some(&format!(
            "SELECT l.id FROM learners l WHERE NOT {}",
            required_person("{d}")
        )),
    )
    .await?;
    for (sign, rows_) in [(1, everyone), (-1, not_required)] {
        for (key, rank, n, e30, e60, e90) in rows_ {
            let Some(c) = out.get_mut(&key) else {
                continue; // a group and program that no requirement pairs
            };
            match Standing::from_rank(Some(rank))? {
                Standing::Compliant => {
                    c.valid += sign * n;
                    c.expiring_30 += sign * e30;
                    c.expiring_60 += sign * e60;
                    c.expiring_90 += sign * e90;
                }
                Standing::Grace => c.grace += sign * n,
                Standing::Lapsed => c.lapsed += sign * n,
                Standing::Revoked => c.revoked += sign * n,
                Standing::NeverCertified => {}
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Per (program, group) of the scope and rank: how many members stand so, and how many
/// valid ones expire within 30, 60 and 90 days. `learners` (SQL selecting learner ids, with
/// `{d}` for the day) limits the members counted.
#[allow(clippy::type_complexity)]
async fn standings(
    conn: &mut AnyConnection,
    scope: &Scope,
    day: Date,
    learners: Option<&str>,
) -> Result<Vec<((i64, i64), i64, i64, i64, i64, i64)>> {
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    let d = q.arg(Arg::Text(rows::date_text(day)));
    let learners = learners.map(|l| l.replace("{d}", &d));
    push_best(&mut q, &d, scope, learners.as_deref());
    let code = |n: i64| until_code(recert_domain::dates::add_days(day, n));
    q.push(&format!(
        " SELECT b.program_id, gm.group_id, b.code / 100000000 AS rk, COUNT(*) AS n, \
         SUM(CASE WHEN b.code >= {} AND b.code < 200000000 THEN 1 ELSE 0 END) AS e30, \
         SUM(CASE WHEN b.code >= {} AND b.code < 200000000 THEN 1 ELSE 0 END) AS e60, \
         SUM(CASE WHEN b.code >= {} AND b.code < 200000000 THEN 1 ELSE 0 END) AS e90 \
         FROM best b JOIN group_members gm ON gm.learner_id = b.learner_id \
         GROUP BY b.program_id, gm.group_id, b.code / 100000000",
        code(30),
        code(60),
        code(90)
    ));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                (rows::int(r, "program_id")?, rows::int(r, "group_id")?),
                rows::int(r, "rk")?,
                rows::int(r, "n")?,
                rows::int(r, "e30")?,
                rows::int(r, "e60")?,
                rows::int(r, "e90")?,
            ))
        })
        .collect()
}

/// Every required person of every requirement in scope on `day`, worst standing first,
/// then by name.
pub async fn people(conn: &mut AnyConnection, scope: &Scope, day: Date) -> Result<Vec<Person>> {
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    let d = q.arg(Arg::Text(rows::date_text(day)));
    // Ids are numbers read from the database, not input.
    let only = scope.learners.as_ref().map(|ids| {
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        format!(
            "({})",
            if list.is_empty() {
                "NULL".into()
            } else {
                list.join(",")
            }
        )
    });
    let members = match &only {
        Some(list) => format!("SELECT id FROM learners WHERE id IN {list}"),
        None => {
            "SELECT gm.learner_id FROM group_members gm WHERE gm.group_id IN (SELECT group_id FROM req)"
                .to_owned()
        }
    };
    push_best(&mut q, &d, scope, Some(&members));
    let only_cond = only
        .map(|list| format!(" AND l.id IN {list}"))
        .unwrap_or_default();
    q.push(&format!(
        " SELECT req.program_id, req.group_id, l.username, l.legal_name, b.code \
         FROM req JOIN group_members gm ON gm.group_id = req.group_id \
         JOIN learners l ON l.id = gm.learner_id \
         LEFT JOIN best b ON b.learner_id = l.id AND b.program_id = req.program_id \
         WHERE {}{only_cond} ORDER BY req.program_id, req.group_id, COALESCE(b.code, 900000000) DESC, \
         l.legal_name, l.username",
        required_person(&d)
    ));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            let code = rows::opt_int(r, "code")?;
            let (standing, valid_until) = decode(code)?;
            Ok(Person {
                program_id: rows::int(r, "program_id")?,
                group_id: rows::int(r, "group_id")?,
                username: rows::text(r, "username")?,
                legal_name: rows::text(r, "legal_name")?,
                standing,
                valid_until,
                always_valid: code == Some(100_000_000),
            })
        })
        .collect()
}
