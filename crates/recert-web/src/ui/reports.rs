//! The dashboard and the compliance report pages: the answer first (how compliant, who is
//! not), every number a link to the people behind it, every view exportable with exactly
//! its filters. Figures come from `Service::compliance` / `Service::dashboard`, the same
//! calls the API and the CLI make.

use super::charts::{self, Bar};
use super::listing::{Paging, Sort, query_string};
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use crate::api::reports::file;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use recert_service::exports::Format;
use recert_service::reports::{
    ComplianceQuery, ComplianceReport, Dashboard, Figures, PeopleFilter, PersonRow,
};

/// A whole number however deeply a template borrowed it.
pub trait Whole {
    fn whole(&self) -> i64;
}

impl Whole for i64 {
    fn whole(&self) -> i64 {
        *self
    }
}

impl<T: Whole + ?Sized> Whole for &T {
    fn whole(&self) -> i64 {
        (**self).whole()
    }
}

/// "1,284".
pub fn thousands(n: impl Whole) -> String {
    let n = n.whole();
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// "84.2%" or "—" when no one is required.
pub fn pct(f: &Figures) -> String {
    f.percent_compliant
        .map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%"))
}

/// "in 12 days", "today", "85 days overdue".
pub fn days_words(d: impl Whole) -> String {
    match d.whole() {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "1 day overdue".into(),
        n if n < 0 => format!("{} days overdue", thousands(-n)),
        n => format!("in {} days", thousands(n)),
    }
}

/// One bar per program or group of the dashboard, each leading to the report filtered by it.
fn rollup_bars(
    title: &str,
    rollups: &[recert_service::reports::Rollup],
    key: &str,
    sep: &str,
) -> String {
    let bars: Vec<Bar> = rollups
        .iter()
        .map(|r| Bar {
            label: format!("{}{sep}{}", r.key, r.name),
            fraction: r.figures.fraction(),
            text: pct(&r.figures),
            href: format!("/reports/compliance?{}", query_string(&[(key, &r.key)])),
        })
        .collect();
    charts::bars(title, &bars, Some(0.95))
}

#[derive(Template)]
#[template(path = "reports/dashboard.html")]
struct DashboardPage {
    c: Chrome,
    d: Dashboard,
    program_chart: String,
    group_chart: String,
}

impl DashboardPage {
    fn standing_href(&self, standing: &str) -> String {
        format!("/reports/compliance/people?standing={standing}")
    }
}

/// The home page of admins, program managers and auditors.
pub async fn dashboard(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let d = state.service.dashboard(&viewer.session.principal).await?;
    let program_chart = rollup_bars("Compliance per program", &d.by_program, "program", " — ");
    let group_chart = rollup_bars("Compliance per site and group", &d.by_group, "group", " · ");
    Ok(render(&DashboardPage {
        c: Chrome::new(&viewer, "Dashboard", "dashboard"),
        d,
        program_chart,
        group_chart,
    }))
}

#[derive(Template)]
#[template(path = "reports/_trend.html")]
struct TrendPart {
    chart: String,
    trend: Vec<(recert_domain::Date, Option<f64>)>,
}

#[derive(Template)]
#[template(path = "reports/trend.html")]
struct TrendPage {
    c: Chrome,
    chart: String,
    trend: Vec<(recert_domain::Date, Option<f64>)>,
}

/// The dashboard's twelve-month trend: loaded after the page (it is the slow part), or
/// as a page of its own where scripts do not run.
pub async fn trend(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let trend = state
        .service
        .compliance_trend(&viewer.session.principal)
        .await?;
    let chart = charts::trend(
        "Compliance over the last twelve months",
        &trend
            .iter()
            .map(|(day, f)| (day.strftime("%b %y").to_string(), *f))
            .collect::<Vec<_>>(),
    );
    if headers.contains_key("HX-Request") {
        return Ok(render(&TrendPart { chart, trend }));
    }
    Ok(render(&TrendPage {
        c: Chrome::new(&viewer, "Compliance over twelve months", "dashboard"),
        chart,
        trend,
    }))
}

#[derive(Template)]
#[template(path = "reports/compliance.html")]
struct CompliancePage {
    c: Chrome,
    r: ComplianceReport,
    programs: Vec<(String, String)>,
    groups: Vec<String>,
    chosen_program: String,
    chosen_group: String,
    as_of: String,
    chart: String,
    /// The query string of this view (for exports and links).
    here: String,
}

impl CompliancePage {
    /// The drill-down link for one row (or the totals) and one standing.
    fn people(&self, program: &str, group: &str, standing: &str) -> String {
        let day = self.r.as_of.to_string();
        let mut pairs: Vec<(&str, &str)> = vec![("as_of", &day)];
        if !program.is_empty() {
            pairs.push(("program", program));
        }
        if !group.is_empty() {
            pairs.push(("group", group));
        }
        if !standing.is_empty() {
            pairs.push(("standing", standing));
        }
        format!("/reports/compliance/people?{}", query_string(&pairs))
    }

    fn total_people(&self, standing: &str) -> String {
        self.people(&self.chosen_program, &self.chosen_group, standing)
    }
}

/// Reads the page's query: the report's own parameters (shared with the API).
fn report_query(pairs: &[(String, String)]) -> Result<(ComplianceQuery, Format), super::PageError> {
    Ok(ComplianceQuery::from_pairs(pairs, &[])?)
}

fn first(pairs: &[(String, String)], key: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// The compliance report page (programs × groups as of a day), or its CSV/XLSX file.
pub async fn compliance(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let who = &viewer.session.principal;
    let (query, format) = report_query(&pairs)?;
    let r = state.service.compliance(who, &query).await?;
    if format != Format::Json {
        let bytes = r.table(query.detail).encode(format)?;
        return Ok(file(bytes, format, &format!("compliance-{}", r.as_of)));
    }
    let programs = super::all_pages(|req| state.service.programs(who, req, true))
        .await?
        .into_iter()
        .filter(|p| who.reports_on(p.row_id))
        .map(|p| (p.program.code.to_string(), p.program.name.clone()))
        .collect();
    let groups = super::group_names(&state, who).await?;
    let chart = charts::bars(
        "Compliance per requirement",
        &r.rows
            .iter()
            .map(|row| Bar {
                label: format!("{} · {}", row.program, row.group),
                fraction: row.figures.fraction(),
                text: pct(&row.figures),
                href: format!(
                    "/reports/compliance/people?{}",
                    query_string(&[
                        ("program", &row.program),
                        ("group", &row.group),
                        ("as_of", &r.as_of.to_string()),
                        ("standing", "not_compliant"),
                    ])
                ),
            })
            .collect::<Vec<_>>(),
        Some(0.95),
    );
    let here = query_string(
        &pairs
            .iter()
            .filter(|(k, _)| k != "format")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    Ok(render(&CompliancePage {
        c: Chrome::new(&viewer, format!("Compliance as of {}", r.as_of), "reports"),
        chosen_program: first(&pairs, "program"),
        chosen_group: first(&pairs, "group"),
        as_of: r.as_of.to_string(),
        r,
        programs,
        groups,
        chart,
        here,
    }))
}

#[derive(Template)]
#[template(path = "reports/people.html")]
struct PeoplePage {
    c: Chrome,
    as_of: String,
    program: String,
    group: String,
    standing: String,
    /// `expiring=N`: only compliant people whose certificate expires within N days.
    expiring: String,
    standing_label: String,
    rows: Vec<PersonRow>,
    paging: Paging,
    sort: Sort,
    here: String,
    /// The report's own parameters (the link back to it).
    report: String,
    /// How many in each standing (for the filter links).
    counts: Vec<(&'static str, &'static str, usize)>,
}

impl PeoplePage {
    fn with(&self, key: &str, value: impl std::fmt::Display) -> String {
        let value = value.to_string();
        let mut pairs: Vec<(&str, &str)> = vec![("as_of", &self.as_of)];
        if !self.expiring.is_empty() && key != "standing" {
            pairs.push(("expiring", &self.expiring));
        }
        if !self.program.is_empty() {
            pairs.push(("program", &self.program));
        }
        if !self.group.is_empty() {
            pairs.push(("group", &self.group));
        }
        if !self.standing.is_empty() && key != "standing" {
            pairs.push(("standing", &self.standing));
        }
        let sort = self.sort.as_param();
        if key != "sort" && sort != "urgency" {
            pairs.push(("sort", &sort));
        }
        if !value.is_empty() {
            pairs.push((key, &value));
        }
        format!("?{}", query_string(&pairs))
    }
}

/// The drill-down's own parameters, beside the report's.
const DRILL_DOWN_PARAMS: &[&str] = &["standing", "page", "sort", "expiring"];

/// The people behind a number: required people of the requirements in view, filtered by
/// standing (`not_compliant` = every standing that does not count as compliant).
pub async fn people(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let who = &viewer.session.principal;
    let (query, format) = ComplianceQuery::from_pairs(&pairs, DRILL_DOWN_PARAMS)?;
    let standing = first(&pairs, "standing");
    let expiring = first(&pairs, "expiring");
    let filter = PeopleFilter::parse(&standing, &expiring, &first(&pairs, "sort"))?;
    let sort = filter.sort.clone();
    let found = state
        .service
        .compliance_people(who, &query, &filter)
        .await?;
    let standing_label = filter.label();
    let as_of = found.as_of.to_string();
    if format != Format::Json {
        let t = found.table(format!("{standing_label} {as_of}"));
        let stem = format!("compliance-people-{as_of}");
        return Ok(file(t.encode(format)?, format, &stem).into_response());
    }
    let counts = found.counts;
    let all = found.rows;
    let paging = Paging::of(&first(&pairs, "page"), all.len())?;
    let rows: Vec<PersonRow> = all
        .into_iter()
        .skip(paging.offset())
        .take(paging.per)
        .collect();
    let here = query_string(
        &pairs
            .iter()
            .filter(|(k, _)| k != "format" && k != "page")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    // The report this drill-down came from: its own parameters only.
    let report = query_string(
        &pairs
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "program" | "group" | "as_of"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
    );
    let program = first(&pairs, "program");
    let group = first(&pairs, "group");
    let mut title = standing_label.clone();
    for part in [&program, &group] {
        if !part.is_empty() {
            title.push_str(&format!(" · {part}"));
        }
    }
    title.push_str(&format!(" · as of {as_of}"));
    Ok(render(&PeoplePage {
        c: Chrome::new(&viewer, title, "reports"),
        as_of,
        program,
        group,
        standing,
        expiring,
        standing_label,
        rows,
        paging,
        sort,
        here,
        report,
        counts,
    }))
}
