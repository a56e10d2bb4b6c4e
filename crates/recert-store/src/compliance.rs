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

/// The SQL rank of one award `a` (joined with its program `p`) on day `{d}`: 1 valid,
/// 2 grace, 3 lapsed, 4 revoked, 9 counts for nothing. Same order of checks as
/// `status_on`: revoked, then superseded or archived, then closed, then the dates.
fn rank_expr(d: &str) -> String {
    format!(
        "CASE WHEN a.revoked_on <= {d} THEN 4 \
         WHEN a.superseded_on <= {d} OR a.archived_on <= {d} OR p.archived_on <= {d} THEN 9 \
         WHEN a.closed_on <= {d} THEN 3 \
         WHEN {d} < a.issued_on THEN 9 \
         WHEN a.expires_on IS NULL OR {d} <= a.expires_on THEN 1 \
         WHEN {d} <= a.grace_ends_on THEN 2 \
         ELSE 3 END"
    )
}

/// Which requirements a report covers. `None` = all; an empty list = none.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub programs: Option<Vec<i64>>,
    pub groups: Option<Vec<i64>>,
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

/// `best`: per learner and program in scope, the best rank and the latest expiry among the
/// valid awards ('9999-12-31' for always valid). Awards that count for nothing that day
/// (superseded, unassigned or issued later) are left out before grouping: in a long
/// history most awards are superseded, and the grouping is what costs. `members_only`
/// limits the awards read to members of the groups in scope (a drill-down).
fn push_best(q: &mut Sql, d: &str, members_only: bool) {
    q.push(&format!(
        ", s AS (SELECT a.learner_id, a.program_id, a.expires_on, {} AS rk \
         FROM awards a JOIN programs p ON p.id = a.program_id \
         WHERE a.program_id IN (SELECT program_id FROM req) \
         AND (a.revoked_on <= {d} OR ((a.superseded_on IS NULL OR a.superseded_on > {d}) \
              AND (a.archived_on IS NULL OR a.archived_on > {d}) \
              AND (a.closed_on <= {d} OR a.issued_on <= {d})))",
        rank_expr(d)
    ));
    if members_only {
        q.push(
            " AND a.learner_id IN (SELECT gm.learner_id FROM group_members gm \
             WHERE gm.group_id IN (SELECT group_id FROM req))",
        );
    }
    q.push(
        "), best AS (SELECT learner_id, program_id, CAST(MIN(rk) AS BIGINT) AS rk, \
         MAX(CASE WHEN rk = 1 THEN COALESCE(expires_on, '9999-12-31') END) AS until \
         FROM s WHERE rk < 9 GROUP BY learner_id, program_id)",
    );
}

/// Whether learner `l` is required on day `{d}`: active with no end date, or their end
/// date not yet passed (people who left stop counting after their last day).
fn required_person(d: &str) -> String {
    format!("((l.end_date IS NULL AND l.active = 1) OR {d} <= l.end_date)")
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
    for r in requirements(conn, scope).await? {
        let required = per_group.get(&r.group_id).copied().unwrap_or(0);
        out.insert(
            (r.program_id, r.group_id),
            Counts {
                required,
                ..Counts::default()
            },
        );
    }

    // How the required people who hold anything stand: one pass over the awards.
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    let d = q.arg(Arg::Text(rows::date_text(day)));
    push_best(&mut q, &d, false);
    let within = |q: &mut Sql, n: i64| {
        q.arg(Arg::Text(rows::date_text(recert_domain::dates::add_days(
            day, n,
        ))))
    };
    let (e30, e60, e90) = (within(&mut q, 30), within(&mut q, 60), within(&mut q, 90));
    q.push(&format!(
        " SELECT req.program_id, req.group_id, b.rk, COUNT(*) AS n, \
         SUM(CASE WHEN b.rk = 1 AND b.until <= {e30} THEN 1 ELSE 0 END) AS e30, \
         SUM(CASE WHEN b.rk = 1 AND b.until <= {e60} THEN 1 ELSE 0 END) AS e60, \
         SUM(CASE WHEN b.rk = 1 AND b.until <= {e90} THEN 1 ELSE 0 END) AS e90 \
         FROM best b JOIN group_members gm ON gm.learner_id = b.learner_id \
         JOIN req ON req.group_id = gm.group_id AND req.program_id = b.program_id \
         JOIN learners l ON l.id = b.learner_id \
         WHERE {} GROUP BY req.program_id, req.group_id, b.rk",
        required_person(&d)
    ));
    for r in q.query().fetch_all(&mut *conn).await? {
        let key = (rows::int(&r, "program_id")?, rows::int(&r, "group_id")?);
        let n = rows::int(&r, "n")?;
        let c = out.entry(key).or_default();
        match Standing::from_rank(Some(rows::int(&r, "rk")?))? {
            Standing::Compliant => {
                c.valid += n;
                c.expiring_30 += rows::int(&r, "e30")?;
                c.expiring_60 += rows::int(&r, "e60")?;
                c.expiring_90 += rows::int(&r, "e90")?;
            }
            Standing::Grace => c.grace += n,
            Standing::Lapsed => c.lapsed += n,
            Standing::Revoked => c.revoked += n,
            Standing::NeverCertified => {}
        }
    }
    Ok(out.into_iter().collect())
}

/// Every required person of every requirement in scope on `day`, worst standing first,
/// then by name.
pub async fn people(conn: &mut AnyConnection, scope: &Scope, day: Date) -> Result<Vec<Person>> {
    let mut q = Sql::new("WITH ");
    push_req(&mut q, scope);
    let d = q.arg(Arg::Text(rows::date_text(day)));
    push_best(&mut q, &d, true);
    q.push(&format!(
        " SELECT req.program_id, req.group_id, l.username, l.legal_name, b.rk, b.until \
         FROM req JOIN group_members gm ON gm.group_id = req.group_id \
         JOIN learners l ON l.id = gm.learner_id \
         LEFT JOIN best b ON b.learner_id = l.id AND b.program_id = req.program_id \
         WHERE {} ORDER BY req.program_id, req.group_id, COALESCE(b.rk, 9) DESC, b.until, \
         l.legal_name, l.username",
        required_person(&d)
    ));
    q.query()
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            let until = rows::opt_text(r, "until")?;
            let always_valid = until.as_deref() == Some("9999-12-31");
            let valid_until = match until {
                Some(t) if !always_valid => Some(
                    t.parse::<Date>()
                        .map_err(|e| StoreError::Corrupt(format!("until {t}: {e}")))?,
                ),
                _ => None,
            };
            Ok(Person {
                program_id: rows::int(r, "program_id")?,
                group_id: rows::int(r, "group_id")?,
                username: rows::text(r, "username")?,
                legal_name: rows::text(r, "legal_name")?,
                standing: Standing::from_rank(rows::opt_int(r, "rk")?)?,
                valid_until,
                always_valid,
            })
        })
        .collect()
}
