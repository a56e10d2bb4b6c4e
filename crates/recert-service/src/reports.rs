//! The compliance report (SPEC §5, §9 "Reports"): for each requirement in scope, how its
//! required people stood on a given day. The API, the pages, the dashboard and the CLI all
//! call [`Service::compliance`]; files come from [`ComplianceReport::table`].

use crate::exports::{Cell, Table};
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::Date;
use recert_domain::names::parse_date;
use recert_store::compliance::{self as store, Scope, Standing as StoreStanding};
use serde::Serialize;

/// What a report covers: programs and groups by code and name (empty = all), the day
/// (default today), and whether to list the people behind each number.
#[derive(Debug, Clone, Default)]
pub struct ComplianceQuery {
    pub programs: Vec<String>,
    pub groups: Vec<String>,
    pub as_of: Option<String>,
    pub detail: bool,
}

impl ComplianceQuery {
    /// Reads a query string's pairs (`program` and `group` repeatable, empty values
    /// ignored, as a form's "all" option sends them) and the format asked. Any other
    /// parameter is refused, except those in `page_params` (which the page around the
    /// report reads itself, e.g. a drill-down's `standing`).
    pub fn from_pairs(
        pairs: &[(String, String)],
        page_params: &[&str],
    ) -> Result<(Self, crate::exports::Format)> {
        let mut q = Self::default();
        let mut format = None;
        for (k, v) in pairs {
            let v = v.trim();
            match k.as_str() {
                "program" if !v.is_empty() => q.programs.push(v.to_owned()),
                "group" if !v.is_empty() => q.groups.push(v.to_owned()),
                "program" | "group" => {}
                "as_of" => q.as_of = Some(v.to_owned()),
                "detail" => {
                    q.detail = match v {
                        "" | "false" | "0" => false,
                        "true" | "1" => true,
                        _ => {
                            return Err(ServiceError::field(
                                "detail",
                                "Say true or false for detail",
                            ));
                        }
                    }
                }
                "format" => format = Some(v.to_owned()),
                other if page_params.contains(&other) => {}
                other => {
                    return Err(ServiceError::field(
                        other,
                        format!(
                            "Unknown parameter {other:?}: use program, group, as_of, detail or format{}",
                            page_params
                                .iter()
                                .map(|p| format!(", {p}"))
                                .collect::<String>()
                        ),
                    ));
                }
            }
        }
        Ok((q, crate::exports::Format::parse(format.as_deref())?))
    }
}

/// How a required person stands on the day asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Holds an active or expiring award.
    Compliant,
    /// Their best award is in grace (compliant too when the program says so).
    Grace,
    Lapsed,
    Revoked,
    /// Required, but holds no award that counts.
    NeverCertified,
}

impl Standing {
    pub const ALL: [Standing; 5] = [
        Self::Compliant,
        Self::Grace,
        Self::Lapsed,
        Self::Revoked,
        Self::NeverCertified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "compliant",
            Self::Grace => "grace",
            Self::Lapsed => "lapsed",
            Self::Revoked => "revoked",
            Self::NeverCertified => "never_certified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Compliant => "Compliant",
            Self::Grace => "In grace",
            Self::Lapsed => "Lapsed",
            Self::Revoked => "Revoked",
            Self::NeverCertified => "Required, never certified",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    fn of(s: StoreStanding) -> Self {
        match s {
            StoreStanding::Compliant => Self::Compliant,
            StoreStanding::Grace => Self::Grace,
            StoreStanding::Lapsed => Self::Lapsed,
            StoreStanding::Revoked => Self::Revoked,
            StoreStanding::NeverCertified => Self::NeverCertified,
        }
    }
}

/// The figures of one requirement (or of all of them, in `totals`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// Current members of the group who are required (active, or not yet past their end date).
    pub required: i64,
    /// Holding an active or expiring award (and in grace, when the program counts grace).
    pub compliant: i64,
    /// Compliant people whose award expires within 30 days of the day asked.
    pub expiring_30: i64,
    pub expiring_60: i64,
    pub expiring_90: i64,
    pub grace: i64,
    pub lapsed: i64,
    pub revoked: i64,
    /// Required, with no award that counts (none, or only archived, superseded or not yet
    /// valid ones).
    pub never_certified: i64,
    /// compliant ÷ required × 100, one decimal; null when no one is required.
    pub percent_compliant: Option<f64>,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.required += o.required;
        self.compliant += o.compliant;
        self.expiring_30 += o.expiring_30;
        self.expiring_60 += o.expiring_60;
        self.expiring_90 += o.expiring_90;
        self.grace += o.grace;
        self.lapsed += o.lapsed;
        self.revoked += o.revoked;
        self.never_certified += o.never_certified;
        self.percent_compliant = percent(self.compliant, self.required);
    }

    /// People not compliant: what an auditor asks for.
    pub fn not_compliant(&self) -> i64 {
        self.required - self.compliant
    }

    /// How many stand so.
    pub fn count(&self, s: Standing) -> i64 {
        match s {
            Standing::Compliant => self.compliant,
            Standing::Grace => self.grace,
            Standing::Lapsed => self.lapsed,
            Standing::Revoked => self.revoked,
            Standing::NeverCertified => self.never_certified,
        }
    }

    /// The fraction compliant (0–1), for charts and spreadsheets.
    pub fn fraction(&self) -> Option<f64> {
        self.percent_compliant.map(|p| p / 100.0)
    }
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// One required person behind the numbers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequiredPerson {
    pub username: String,
    pub legal_name: String,
    pub standing: Standing,
    /// Counted as compliant (standing `compliant`, or `grace` where the program counts it).
    pub compliant: bool,
    /// When their best valid award expires (null when it never does, or none is valid).
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    /// Days from the day asked to that expiry.
    pub days_left: Option<i64>,
}

/// One requirement: program × group.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceRow {
    pub program: String,
    pub program_name: String,
    pub group: String,
    pub group_kind: String,
    /// Whether grace counts as compliant in this program.
    pub grace_counts_as_compliant: bool,
    #[serde(flatten)]
    pub figures: Figures,
    /// The people behind the numbers (with `detail=true`), worst standing first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learners: Option<Vec<RequiredPerson>>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceReport {
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub rows: Vec<ComplianceRow>,
    /// Sums over the rows (a person required by two rows counts in both).
    pub totals: Figures,
}

/// Required people as a sheet, one row each: the report's detail export and the
/// drill-down page's.
pub fn people_table<'a>(
    title: String,
    as_of: Date,
    people: impl IntoIterator<Item = (&'a str, &'a str, &'a RequiredPerson)>,
) -> Table {
    let mut t = Table::new(title, PEOPLE_HEADERS.to_vec());
    for (program, group, p) in people {
        t.rows.push(vec![
            program.into(),
            group.into(),
            p.username.as_str().into(),
            p.legal_name.as_str().into(),
            p.standing.label().into(),
            if p.compliant { "yes" } else { "no" }.into(),
            Cell::Date(p.expires_on),
            p.days_left.map_or(Cell::Text(String::new()), Cell::Int),
            Cell::Date(Some(as_of)),
        ]);
    }
    t
}

const PEOPLE_HEADERS: &[&str] = &[
    "program",
    "group",
    "username",
    "legal_name",
    "standing",
    "compliant",
    "expires_on",
    "days_left",
    "as_of",
];

/// What a drill-down sorts by; urgency first: never certified, revoked, lapsed, grace,
/// then the soonest expiry.
pub const PEOPLE_SORTS: [&str; 5] = ["urgency", "name", "program", "group", "expires"];

/// Which of a report's people a drill-down lists, and in what order.
#[derive(Debug, Clone)]
pub struct PeopleFilter {
    /// `None`: everyone required; `Some(None)`: everyone not compliant; otherwise the
    /// people in that standing.
    pub standing: Option<Option<Standing>>,
    /// Compliant people whose award expires within this many days.
    pub expiring_within: Option<i64>,
    pub sort: crate::listing::Sort,
}

impl PeopleFilter {
    /// From the drill-down's parameters as written in its URL (empty = not set).
    pub fn parse(standing: &str, expiring: &str, sort: &str) -> Result<Self> {
        let standing = match standing.trim() {
            "" => None,
            "not_compliant" => Some(None),
            s => Some(Some(Standing::parse(s).ok_or_else(|| {
                ServiceError::field(
                    "standing",
                    "Choose a standing: compliant, grace, lapsed, revoked, never_certified or not_compliant",
                )
            })?)),
        };
        let expiring_within = match expiring.trim() {
            "" => None,
            s => Some(
                s.parse::<i64>()
                    .ok()
                    .filter(|n| (0..=3660).contains(n))
                    .ok_or_else(|| {
                        ServiceError::field("expiring", "Enter a number of days, e.g. 30")
                    })?,
            ),
        };
        Ok(Self {
            standing,
            expiring_within,
            sort: crate::listing::Sort::parse(sort, &PEOPLE_SORTS, "urgency")?,
        })
    }

    /// What the list holds, in words ("Lapsed", "Expiring within 30 days").
    pub fn label(&self) -> String {
        if let Some(n) = self.expiring_within {
            return format!("Expiring within {n} days");
        }
        match self.standing {
            None => "All required people".to_owned(),
            Some(None) => "Not compliant".to_owned(),
            Some(Some(s)) => s.label().to_owned(),
        }
    }

    fn keeps(&self, p: &RequiredPerson) -> bool {
        let standing = match self.standing {
            None => true,
            Some(None) => !p.compliant,
            Some(Some(s)) => p.standing == s,
        };
        standing
            && self.expiring_within.is_none_or(|n| {
                p.standing == Standing::Compliant && p.days_left.is_some_and(|d| d <= n)
            })
    }
}

/// One person of a drill-down, with the requirement they are counted under.
#[derive(Debug, Clone)]
pub struct PersonRow {
    pub program: String,
    pub group: String,
    pub p: RequiredPerson,
}

/// The people behind a report's numbers: how many in each standing (for the filter
/// links, over everyone required) and the rows the filter keeps, in its order.
#[derive(Debug, Clone)]
pub struct People {
    pub as_of: Date,
    /// (standing key, label, count), the last one "not_compliant".
    pub counts: Vec<(&'static str, &'static str, usize)>,
    pub rows: Vec<PersonRow>,
}

impl People {
    pub fn table(&self, title: String) -> Table {
        people_table(
            title,
            self.as_of,
            self.rows
                .iter()
                .map(|x| (x.program.as_str(), x.group.as_str(), &x.p)),
        )
    }
}

impl ComplianceReport {
    /// The report as a sheet: one row per requirement, or with `detail` one row per
    /// required person.
    pub fn table(&self, detail: bool) -> Table {
        let title = format!("Compliance {}", self.as_of);
        if detail {
            return people_table(
                title,
                self.as_of,
                self.rows.iter().flat_map(|r| {
                    r.learners
                        .iter()
                        .flatten()
                        .map(move |p| (r.program.as_str(), r.group.as_str(), p))
                }),
            );
        }
        let mut t = Table::new(
            title,
            vec![
                "program",
                "program_name",
                "group",
                "group_kind",
                "required",
                "compliant",
                "percent_compliant",
                "expiring_30",
                "expiring_60",
                "expiring_90",
                "grace",
                "lapsed",
                "revoked",
                "never_certified",
                "as_of",
            ],
        );
        let line = |program: &str, name: &str, group: &str, kind: &str, f: &Figures| {
            vec![
                program.into(),
                name.into(),
                group.into(),
                kind.into(),
                Cell::Int(f.required),
                Cell::Int(f.compliant),
                Cell::Percent(f.fraction()),
                Cell::Int(f.expiring_30),
                Cell::Int(f.expiring_60),
                Cell::Int(f.expiring_90),
                Cell::Int(f.grace),
                Cell::Int(f.lapsed),
                Cell::Int(f.revoked),
                Cell::Int(f.never_certified),
                Cell::Date(Some(self.as_of)),
            ]
        };
        for r in &self.rows {
            t.rows.push(line(
                &r.program,
                &r.program_name,
                &r.group,
                &r.group_kind,
                &r.figures,
            ));
        }
        t.rows.push(line("Total", "", "", "", &self.totals));
        t
    }
}

/// % compliant per day, oldest first (`None`: nobody was required that day).
pub type Trend = Vec<(Date, Option<f64>)>;

impl Service {
    /// The compliance report (SPEC §9): admins and auditors see every requirement, program
    /// managers those of their programs. Supervisors see their team on "My team".
    /// The people behind a report's numbers, filtered and sorted for a drill-down (its
    /// page and its exports).
    pub async fn compliance_people(
        &self,
        who: &Principal,
        query: &ComplianceQuery,
        f: &PeopleFilter,
    ) -> Result<People> {
        let mut query = query.clone();
        query.detail = true;
        let r = self.compliance(who, &query).await?;
        let mut counts: Vec<(&'static str, &'static str, usize)> = Standing::ALL
            .iter()
            .map(|s| (s.as_str(), s.label(), 0))
            .collect();
        let mut not_compliant = 0;
        let mut rows = Vec::new();
        for row in r.rows {
            for p in row.learners.into_iter().flatten() {
                if let Some(c) = counts.iter_mut().find(|c| c.0 == p.standing.as_str()) {
                    c.2 += 1;
                }
                not_compliant += usize::from(!p.compliant);
                if f.keeps(&p) {
                    rows.push(PersonRow {
                        program: row.program.clone(),
                        group: row.group.clone(),
                        p,
                    });
                }
            }
        }
        counts.push(("not_compliant", "Not compliant", not_compliant));
        let rank = |s: Standing| match s {
            Standing::NeverCertified => 0,
            Standing::Revoked => 1,
            Standing::Lapsed => 2,
            Standing::Grace => 3,
            Standing::Compliant => 4,
        };
        match f.sort.key {
            "name" => rows.sort_by(|a, b| {
                (&a.p.legal_name, &a.p.username).cmp(&(&b.p.legal_name, &b.p.username))
            }),
            "program" => rows
                .sort_by(|a, b| (&a.program, &a.p.legal_name).cmp(&(&b.program, &b.p.legal_name))),
            "group" => {
                rows.sort_by(|a, b| (&a.group, &a.p.legal_name).cmp(&(&b.group, &b.p.legal_name)))
            }
            "expires" => rows.sort_by_key(|x| {
                (
                    x.p.expires_on.is_none(),
                    x.p.expires_on,
                    x.p.legal_name.clone(),
                )
            }),
            _ => rows.sort_by_key(|x| {
                (
                    rank(x.p.standing),
                    x.p.days_left.unwrap_or(i64::MAX),
                    x.p.legal_name.clone(),
                )
            }),
        }
        if f.sort.descending {
            rows.reverse();
        }
        Ok(People {
            as_of: r.as_of,
            counts,
            rows,
        })
    }

    pub async fn compliance(
        &self,
        who: &Principal,
        query: &ComplianceQuery,
    ) -> Result<ComplianceReport> {
        let limited_to = who.report_programs()?;
        let as_of = query
            .as_of
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| parse_date("as_of", s))
            .transpose()?;
        let mut conn = self.store.read().await?;
        let ctx = self.catalogue(&mut conn).await?;
        let day = match as_of {
            Some(d) => d,
            None => self.first_org_today(&ctx)?,
        };

        let mut scope = Scope::default();
        if !query.programs.is_empty() {
            let mut ids = Vec::new();
            for code in &query.programs {
                let code = code.trim();
                let (id, _) = ctx
                    .programs
                    .iter()
                    .find(|(_, p)| p.code.as_str().eq_ignore_ascii_case(code))
                    .ok_or_else(|| {
                        ServiceError::field("program", format!("No program has the code {code:?}"))
                    })?;
                ids.push(*id);
            }
            scope.programs = Some(ids);
        }
        if let Some(mine) = limited_to {
            scope.programs = Some(match scope.programs {
                None => mine,
                Some(asked) => {
                    if let Some(other) = asked.iter().find(|id| !mine.contains(id)) {
                        let code = ctx
                            .programs
                            .iter()
                            .find(|(i, _)| i == other)
                            .map(|(_, p)| p.code.to_string())
                            .unwrap_or_default();
                        return Err(who.forbidden(&format!("read compliance of program {code}")));
                    }
                    asked
                }
            });
        }
        if !query.groups.is_empty() {
            let mut ids = Vec::new();
            for name in &query.groups {
                let name = name.trim();
                let (id, _) = recert_store::groups::by_name(&mut conn, name)
                    .await?
                    .ok_or_else(|| {
                        ServiceError::field("group", format!("No group is named {name:?}"))
                    })?;
                ids.push(id);
            }
            scope.groups = Some(ids);
        }

        scope.archived_programs = archived_by(&ctx, day);
        // A program archived by that day is no longer required of anyone: its requirements
        // drop out of the report from the day it was archived (and count before it).
        let requirements: Vec<store::Requirement> = store::requirements(&mut conn, &scope)
            .await?
            .into_iter()
            .filter(|r| !scope.archived_programs.contains(&r.program_id))
            .collect();
        // One pass (splitting it by program over two connections was measured slower here:
        // both halves scan every award).
        let counts: std::collections::HashMap<(i64, i64), store::Counts> =
            store::counts(&mut conn, &scope, &requirements, day)
                .await?
                .into_iter()
                .collect();
        let mut people: std::collections::HashMap<(i64, i64), Vec<store::Person>> =
            Default::default();
        if query.detail {
            for p in store::people(&mut conn, &scope, day).await? {
                people
                    .entry((p.program_id, p.group_id))
                    .or_default()
                    .push(p);
            }
        }

        let mut rows = Vec::with_capacity(requirements.len());
        let mut totals = Figures::default();
        for r in requirements {
            let Some((_, program)) = ctx.programs.iter().find(|(id, _)| *id == r.program_id) else {
                continue;
            };
            let grace_counts = program.grace_counts_as_compliant;
            let c = counts
                .get(&(r.program_id, r.group_id))
                .cloned()
                .unwrap_or_default();
            let compliant = c.valid + if grace_counts { c.grace } else { 0 };
            let figures = Figures {
                required: c.required,
                compliant,
                expiring_30: c.expiring_30,
                expiring_60: c.expiring_60,
                expiring_90: c.expiring_90,
                grace: c.grace,
                lapsed: c.lapsed,
                revoked: c.revoked,
                never_certified: c.never_certified(),
                percent_compliant: percent(compliant, c.required),
            };
            totals.add(&figures);
            let learners = query.detail.then(|| {
                people
                    .remove(&(r.program_id, r.group_id))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|p| {
                        let standing = Standing::of(p.standing);
                        RequiredPerson {
                            username: p.username,
                            legal_name: p.legal_name,
                            compliant: standing == Standing::Compliant
                                || (standing == Standing::Grace && grace_counts),
                            standing,
                            expires_on: p.valid_until,
                            days_left: p
                                .valid_until
                                .map(|x| recert_domain::dates::days_between(day, x)),
                        }
                    })
                    .collect()
            });
            rows.push(ComplianceRow {
                program: program.code.to_string(),
                program_name: program.name.clone(),
                group: r.group,
                group_kind: r.group_kind,
                grace_counts_as_compliant: grace_counts,
                figures,
                learners,
            });
        }
        rows.sort_by(|a, b| (&a.program, &a.group).cmp(&(&b.program, &b.group)));
        Ok(ComplianceReport {
            as_of: day,
            rows,
            totals,
        })
    }
}

/// How one person stands on one requirement today (their own page, My team).
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub username: String,
    pub legal_name: String,
    pub program: String,
    pub program_name: String,
    /// The group that requires it.
    pub group: String,
    pub standing: Standing,
    pub compliant: bool,
    pub expires_on: Option<Date>,
    pub days_left: Option<i64>,
}

impl Requirement {
    /// Whether someone must act: not compliant, or compliant but expiring within 90 days.
    pub fn needs_action(&self) -> bool {
        !self.compliant || self.days_left.is_some_and(|d| d <= 90)
    }

    /// Most urgent first: never certified, revoked, lapsed, grace, then the soonest expiry.
    pub fn urgency(&self) -> (u8, i64) {
        let rank = match self.standing {
            Standing::NeverCertified => 0,
            Standing::Revoked => 1,
            Standing::Lapsed => 2,
            Standing::Grace => 3,
            Standing::Compliant => 4,
        };
        (rank, self.days_left.unwrap_or(i64::MAX))
    }
}

impl Service {
    /// What each of these learners is required to hold, and how they stand today. Anyone
    /// may ask about the learners in their reach (a learner about themself, a supervisor
    /// about their team); a requirement is counted once per group that sets it.
    pub async fn requirements_of(
        &self,
        who: &Principal,
        usernames: &[String],
    ) -> Result<Vec<Requirement>> {
        let mut conn = self.store.read().await?;
        // One query for every learner asked about, not two each (My team asks for all).
        let found = recert_store::learners::with_managers(&mut conn, usernames).await?;
        let mut ids = Vec::with_capacity(usernames.len());
        for u in usernames {
            let (id, _, manager) = found
                .iter()
                .find(|(_, name, _)| name == u)
                .ok_or_else(|| ServiceError::not_found("learner", u.clone()))?;
            who.require_learner(*id, *manager, "learner", u)?;
            ids.push(*id);
        }
        let ctx = self.catalogue(&mut conn).await?;
        let day = self.first_org_today(&ctx)?;
        let scope = Scope {
            archived_programs: archived_by(&ctx, day),
            learners: Some(ids),
            ..Scope::default()
        };
        let groups: std::collections::HashMap<i64, String> = store::requirements(&mut conn, &scope)
            .await?
            .into_iter()
            .map(|r| (r.group_id, r.group))
            .collect();
        let mut out = Vec::new();
        for p in store::people(&mut conn, &scope, day).await? {
            let Some((_, program)) = ctx.programs.iter().find(|(id, _)| *id == p.program_id) else {
                continue;
            };
            // An archived program is required of no one any more.
            if scope.archived_programs.contains(&p.program_id) {
                continue;
            }
            let standing = Standing::of(p.standing);
            out.push(Requirement {
                username: p.username,
                legal_name: p.legal_name,
                program: program.code.to_string(),
                program_name: program.name.clone(),
                group: groups.get(&p.group_id).cloned().unwrap_or_default(),
                compliant: standing == Standing::Compliant
                    || (standing == Standing::Grace && program.grace_counts_as_compliant),
                standing,
                expires_on: p.valid_until,
                days_left: p
                    .valid_until
                    .map(|x| recert_domain::dates::days_between(day, x)),
            });
        }
        out.sort_by_key(|r| (r.urgency(), r.legal_name.clone(), r.program.clone()));
        Ok(out)
    }
}

/// One person on a dashboard list: who, in which program and group, and until when.
#[derive(Debug, Clone, Serialize)]
pub struct Due {
    pub program: String,
    pub group: String,
    pub username: String,
    pub legal_name: String,
    pub expires_on: Option<Date>,
    pub days_left: Option<i64>,
}

/// A list cut for a dashboard: the first few and how many in all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shortlist {
    pub total: usize,
    pub first: Vec<Due>,
}

/// Figures summed over a program's or a group's requirements.
#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    pub key: String,
    pub name: String,
    pub figures: Figures,
}

/// The home page of admins, program managers and auditors: how compliant, what is due.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub as_of: Date,
    pub totals: Figures,
    pub by_program: Vec<Rollup>,
    /// Per group (sites first).
    pub by_group: Vec<Rollup>,
    /// Compliant people whose award expires within 90 days, soonest first.
    pub expiring: Shortlist,
    pub grace: Shortlist,
    pub never_certified: Shortlist,
}

const SHORTLIST: usize = 10;

impl Service {
    /// The dashboard, from today's compliance report (the trend is
    /// [`Service::compliance_trend`]).
    pub async fn dashboard(&self, who: &Principal) -> Result<Dashboard> {
        let report = self
            .compliance(
                who,
                &ComplianceQuery {
                    detail: true,
                    ..ComplianceQuery::default()
                },
            )
            .await?;
        let today = report.as_of;
        let mut by_program: Vec<Rollup> = Vec::new();
        let mut by_group: Vec<(bool, Rollup)> = Vec::new();
        let mut expiring = Vec::new();
        let mut grace = Vec::new();
        let mut never = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for r in &report.rows {
            match by_program.iter_mut().find(|x| x.key == r.program) {
                Some(x) => x.figures.add(&r.figures),
                None => {
                    let mut figures = Figures::default();
                    figures.add(&r.figures);
                    by_program.push(Rollup {
                        key: r.program.clone(),
                        name: r.program_name.clone(),
                        figures,
                    });
                }
            }
            match by_group.iter_mut().find(|(_, x)| x.key == r.group) {
                Some((_, x)) => x.figures.add(&r.figures),
                None => {
                    let mut figures = Figures::default();
                    figures.add(&r.figures);
                    by_group.push((
                        r.group_kind != "site",
                        Rollup {
                            key: r.group.clone(),
                            name: r.group_kind.clone(),
                            figures,
                        },
                    ));
                }
            }
            for p in r.learners.iter().flatten() {
                // A person required by two groups for one program is listed once.
                if !seen.insert((r.program.clone(), p.username.clone())) {
                    continue;
                }
                let due = Due {
                    program: r.program.clone(),
                    group: r.group.clone(),
                    username: p.username.clone(),
                    legal_name: p.legal_name.clone(),
                    expires_on: p.expires_on,
                    days_left: p.days_left,
                };
                match p.standing {
                    Standing::Compliant if p.days_left.is_some_and(|d| d <= 90) => {
                        expiring.push(due)
                    }
                    Standing::Grace => grace.push(due),
                    Standing::NeverCertified => never.push(due),
                    _ => {}
                }
            }
        }
        expiring.sort_by_key(|d| (d.days_left, d.legal_name.clone()));
        grace.sort_by_key(|d| (d.days_left, d.legal_name.clone()));
        never.sort_by(|a, b| (&a.program, &a.legal_name).cmp(&(&b.program, &b.legal_name)));
        let short = |mut v: Vec<Due>| {
            let total = v.len();
            v.truncate(SHORTLIST);
            Shortlist { total, first: v }
        };
        by_group.sort_by(|a, b| (a.0, &a.1.key).cmp(&(b.0, &b.1.key)));

        Ok(Dashboard {
            as_of: today,
            totals: report.totals,
            by_program,
            by_group: by_group.into_iter().map(|(_, r)| r).collect(),
            expiring: short(expiring),
            grace: short(grace),
            never_certified: short(never),
        })
    }

    /// % compliant on the first of each of the last eleven months and today, each as of
    /// that day (computed, never stored). Eleven reports cost seconds over a million
    /// awards, so the answer is kept until the data changes (any write moves the audit
    /// chain's head) or the day does.
    pub async fn compliance_trend(&self, who: &Principal) -> Result<Trend> {
        let scope = who.report_programs()?;
        let mut conn = self.store.read().await?;
        let ctx = self.catalogue(&mut conn).await?;
        let today = self.first_org_today(&ctx)?;
        let head = recert_store::audit::head_seq(&mut conn).await?;
        drop(conn);
        let key = format!("{scope:?}");
        // Kept per day: the day's number stands for it.
        let day_number = i64::from(today.year()) * 10_000
            + i64::from(today.month()) * 100
            + i64::from(today.day());
        if let Some(t) = self.trends.get(&key, head, day_number) {
            return Ok(t);
        }
        let mut trend = Vec::with_capacity(12);
        for back in (0..12).rev() {
            let day = if back == 0 {
                today
            } else {
                first_of_month(today, back)
            };
            let r = self
                .compliance(
                    who,
                    &ComplianceQuery {
                        as_of: Some(day.to_string()),
                        ..ComplianceQuery::default()
                    },
                )
                .await?;
            trend.push((day, r.totals.fraction()));
        }
        self.trends.put(key, head, day_number, trend.clone());
        Ok(trend)
    }
}

/// Programs archived on or before `day`: their awards count for nothing then.
fn archived_by(ctx: &crate::awards::Context, day: Date) -> Vec<i64> {
    ctx.programs
        .iter()
        .filter(|(_, p)| p.archived_on.is_some_and(|d| d <= day))
        .map(|(id, _)| *id)
        .collect()
}

impl Service {
    /// Today in the first organization's zone: the day a report is judged on when none is
    /// asked (read from the catalogue already in memory).
    fn first_org_today(&self, ctx: &crate::awards::Context) -> Result<Date> {
        let (_, org) = ctx
            .orgs
            .first()
            .ok_or_else(|| ServiceError::internal("no organization"))?;
        Ok(self.today_in(org))
    }
}

/// The first day of the month `back` months before `day`'s month.
fn first_of_month(day: Date, back: i32) -> Date {
    let months = i32::from(day.year()) * 12 + i32::from(day.month()) - 1 - back;
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
    // Years here are within 1900–2200 (every stored date is), so both casts hold.
    Date::new(y as i16, m as i8, 1).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_back_cross_years() {
        let d = jiff::civil::date(2026, 3, 15);
        assert_eq!(first_of_month(d, 1), jiff::civil::date(2026, 2, 1));
        assert_eq!(first_of_month(d, 3), jiff::civil::date(2025, 12, 1));
        assert_eq!(first_of_month(d, 11), jiff::civil::date(2025, 4, 1));
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(5, 5), Some(100.0));
    }
}
