//! Pages for earning: a program's assigned items, backfill preview and run, the external
//! training queue (and reporting, also from "My certifications"), LMS connections.

use super::forms::{FieldErrors, Fields, Form};
use super::listing::List;
use super::programs::{notice, show_page};
use super::session::urlencode;
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_domain::program::ItemDraft;
use recert_service::ServiceError;
use recert_service::auth::Role;
use recert_service::backfill::BackfillReport;
use recert_service::exports::Format;
use recert_service::external::{DecisionDraft, ExternalView};
use recert_service::listing::keys;
use recert_service::xapi::{
    CreatedConnection, LmsConnectionDraft, LmsConnectionView, StatementLog,
};

/// The add-item form as typed.
#[derive(Debug, Clone, Default)]
pub struct ItemForm {
    pub code: String,
    pub kind: String,
    pub pass_threshold: String,
    pub activity_id: String,
    pub url: String,
}

/// A pass threshold as people type it: `80%`, `80` (a percentage) or `0.8`.
fn parse_threshold(raw: &str) -> Result<Option<f64>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let (number, percent) = match raw.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (raw, false),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("{raw:?} is not a number: write 80% or 0.8"))?;
    let v = if percent || v > 1.0 { v / 100.0 } else { v };
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(Some(v))
    } else {
        Err("must be from 0% to 100%".into())
    }
}

fn program_url(code: &str, done: &str) -> String {
    format!("/programs/{}?done={done}", urlencode(code))
}

/// Assigns one more item to a program (assigned today: not retroactive).
pub async fn add_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let who = &form.viewer.session.principal;
    let f = &form.fields;
    let typed = ItemForm {
        code: f.text("item_code"),
        kind: f.text("item_kind"),
        pass_threshold: f.text("item_pass_threshold"),
        activity_id: f.text("item_activity_id"),
        url: f.text("item_url"),
    };
    let mut errors = FieldErrors::default();
    let threshold = parse_threshold(&typed.pass_threshold).unwrap_or_else(|m| {
        errors.add("item_pass_threshold", m);
        None
    });
    if errors.is_empty() {
        let draft = ItemDraft {
            code: Some(typed.code.clone()),
            kind: (!typed.kind.is_empty()).then(|| typed.kind.clone()),
            pass_threshold: threshold,
            assigned_on: None,
            activity_id: (!typed.activity_id.is_empty()).then(|| typed.activity_id.clone()),
            url: (!typed.url.is_empty()).then(|| typed.url.clone()),
        };
        match state.service.add_item(who, &code, draft).await {
            Ok(_) => return Ok(Redirect::to(&program_url(&code, "item-added")).into_response()),
            Err(ServiceError::Conflict(m)) => errors.add("item_code", m),
            Err(e) => {
                errors = FieldErrors::from_service(&e, |api| Some(format!("item_{api}")))
                    .ok_or(PageError(e))?;
            }
        }
    } else {
        // Who may not change the program learns that first, not what is wrong with the
        // input: the service's own check, with nothing to write.
        state.service.may_manage_program(who, &code).await?;
    }
    let mut page = show_page(&state, &form.viewer, &code, None, None, None).await?;
    page.item_form = typed;
    page.item_errors = errors;
    Ok(render_invalid(&page))
}

/// Unassigns an item: completions from now on no longer earn by it; awards stay.
pub async fn remove_item(
    State(state): State<AppState>,
    Path((code, item)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    let who = &form.viewer.session.principal;
    state.service.remove_item(who, &code, &item).await?;
    Ok(Redirect::to(&program_url(&code, "item-removed")).into_response())
}

#[derive(Template)]
#[template(path = "earning/backfill.html")]
struct BackfillPage {
    c: Chrome,
    r: BackfillReport,
}

/// What a backfill would do: the preview page with a button to run it.
pub async fn backfill_preview(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> PageResult {
    let r = state
        .service
        .backfill(&viewer.session.principal, &code, false)
        .await?;
    Ok(render(&BackfillPage {
        c: Chrome::new(&viewer, format!("Backfill {code}"), "programs"),
        r,
    }))
}

pub async fn backfill_run(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let r = state
        .service
        .backfill(&form.viewer.session.principal, &code, true)
        .await?;
    let c = Chrome::new(&form.viewer, format!("Backfill {code}"), "programs").with_notice(Some(
        format!(
            "Backfill done: {} award{} issued.",
            r.awards,
            if r.awards == 1 { "" } else { "s" }
        ),
    ));
    Ok(render(&BackfillPage { c, r }))
}

/// The external training form as typed.
#[derive(Debug, Clone, Default)]
pub struct ReportForm {
    pub learner: String,
    pub program: String,
    pub title: String,
    pub provider: String,
    pub completed_on: String,
    pub hours: String,
}

impl ReportForm {
    fn of(f: &Fields) -> Self {
        Self {
            learner: f.text("learner"),
            program: f.text("program"),
            title: f.text("title"),
            provider: f.text("provider"),
            completed_on: f.text("completed_on"),
            hours: f.text("hours"),
        }
    }
}

/// Programs open to reports: (code, name) of every program not archived.
pub async fn open_programs(
    state: &AppState,
    who: &recert_service::Principal,
) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(super::open_programs(state, who)
        .await?
        .into_iter()
        .map(|p| (p.program.code.to_string(), p.program.name))
        .collect())
}

#[derive(Template)]
#[template(path = "earning/queue.html")]
struct QueuePage {
    c: Chrome,
    /// The reports on this page of the list.
    reports: Vec<ExternalView>,
    /// `pending` (the default), `approved`, `rejected` or `all`.
    state: String,
    /// The state filter, sort and page in the URL.
    list: List,
    programs: Vec<(String, String)>,
    report_form: ReportForm,
    report_errors: FieldErrors,
    /// A refused decision: the report's id and the messages.
    decide_errors: Option<(i64, FieldErrors)>,
}

impl QueuePage {
    fn decide_error(&self, id: &i64, field: &str) -> Option<&str> {
        match &self.decide_errors {
            Some((i, e)) if i == id => e.get(field),
            _ => None,
        }
    }
}

/// The queue's states, as (value, label); the first is the default.
const QUEUE_STATES: [(&str, &str); 4] = [
    ("pending", "Waiting"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("all", "All"),
];

#[derive(serde::Deserialize, Default)]
pub struct QueueQuery {
    done: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

impl QueueQuery {
    /// The list's URL state; waiting reports oldest first, decided ones newest first.
    fn list(&self) -> Result<(String, List), PageError> {
        let state = match self.state.as_deref().map(str::trim) {
            None | Some("") => "pending",
            Some(s) => s,
        };
        let default = if state == "pending" {
            "submitted"
        } else {
            "-submitted"
        };
        let filter = if state == "pending" { "" } else { state };
        let list = List::new(
            "/external-training",
            &[("state", filter)],
            self.sort.as_deref().unwrap_or(""),
            self.page.as_deref().unwrap_or(""),
            &keys::external(),
            default,
        )?;
        Ok((state.to_owned(), list))
    }
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// `all` is no filter at all.
fn state_filter(state: &str) -> Option<&str> {
    (state != "all").then_some(state)
}

async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    q: &QueueQuery,
) -> Result<QueuePage, PageError> {
    let who = &viewer.session.principal;
    if !matches!(who.role, Role::Admin | Role::ProgramManager | Role::Auditor) {
        return Err(PageError(who.forbidden(
            "see the external training queue (learners report from My certifications)",
        )));
    }
    let (filter, list) = q.list()?;
    let found = state
        .service
        .external_listed(who, state_filter(&filter), &list.sort, list.window())
        .await?;
    Ok(QueuePage {
        c: Chrome::new(viewer, "External training", "training"),
        reports: found.items,
        state: filter,
        list: list.total(found.total),
        programs: open_programs(state, who).await?,
        report_form: ReportForm::default(),
        report_errors: FieldErrors::default(),
        decide_errors: None,
    })
}

impl QueuePage {
    fn states(&self) -> [(&'static str, &'static str); 4] {
        QUEUE_STATES
    }

    /// The link to the list in state `s`, in its default order.
    fn state_href(&self, s: &str) -> String {
        if s == "pending" {
            "/external-training".to_owned()
        } else {
            format!("/external-training?state={s}")
        }
    }
}

/// The approvers' queue: what waits for a decision (oldest first) and, by state, what was
/// decided; exports with exactly the state and order shown.
pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let format = Format::parse(q.format.as_deref())?;
    if format != Format::Json {
        let who = &viewer.session.principal;
        let (filter, list) = q.list()?;
        let d = state
            .service
            .external_export(who, state_filter(&filter), &list.sort, format)?;
        return Ok(crate::api::reports::download(d));
    }
    let mut page = queue_page(&state, &viewer, &q).await?;
    page.c = page.c.with_notice(notice(q.done.as_deref()));
    Ok(render(&page))
}

/// Files a report (multipart, with an optional evidence file) from the queue page or from
/// "My certifications" (`back=my`); a refused form comes back with messages beside fields.
pub async fn report(State(state): State<AppState>, viewer: Viewer, mp: Multipart) -> PageResult {
    let (fields, upload) = match super::forms::multipart_form(&viewer, mp, "evidence").await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let from_my = fields.get("back") == Some("my");
    let typed = ReportForm::of(&fields);
    let who = &viewer.session.principal;
    let result = match crate::api::earning::external_draft(&fields.0) {
        Ok(d) => state.service.report_external(who, d, upload).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let to = if from_my {
                "/my?done=reported"
            } else {
                "/external-training?done=reported"
            };
            Ok(Redirect::to(to).into_response())
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            if from_my && viewer.session.learner.is_some() {
                let mut page = super::me::my_page(&state, &viewer).await?;
                page.report_form = typed;
                page.report_errors = errors;
                Ok(render_invalid(&page))
            } else {
                let mut page = queue_page(&state, &viewer, &QueueQuery::default()).await?;
                page.report_form = typed;
                page.report_errors = errors;
                Ok(render_invalid(&page))
            }
        }
    }
}

fn report_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| {
        PageError(ServiceError::not_found(
            "external training report",
            raw.to_owned(),
        ))
    })
}

pub async fn evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let u = state
        .service
        .external_evidence(&viewer.session.principal, report_id(&id)?)
        .await?;
    Ok(crate::api::earning::evidence_response(u))
}

async fn decide(state: AppState, id: String, form: Form, approve: bool) -> PageResult {
    let id = report_id(&id)?;
    let who = &form.viewer.session.principal;
    let d = DecisionDraft {
        note: form.fields.get("note").map(str::to_owned),
    };
    let result = if approve {
        state.service.approve_external(who, id, d).await
    } else {
        state.service.reject_external(who, id, d).await
    };
    match result {
        // To the decided reports, where this one now shows what it did.
        Ok(_) => Ok(Redirect::to(if approve {
            "/external-training?state=approved&done=approved"
        } else {
            "/external-training?state=rejected&done=rejected"
        })
        .into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut page = queue_page(&state, &form.viewer, &QueueQuery::default()).await?;
            page.decide_errors = Some((id, errors));
            Ok(render_invalid(&page))
        }
    }
}

pub async fn approve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    decide(state, id, form, true).await
}

pub async fn reject(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    decide(state, id, form, false).await
}

#[derive(Template)]
#[template(path = "earning/lms.html")]
struct LmsPage {
    c: Chrome,
    connections: Vec<LmsConnectionView>,
    log: Vec<StatementLog>,
    created: Option<CreatedConnection>,
    name: String,
    errors: FieldErrors,
}

async fn lms_page(state: &AppState, viewer: &Viewer) -> Result<LmsPage, PageError> {
    let who = &viewer.session.principal;
    Ok(LmsPage {
        c: Chrome::new(viewer, "LMS connections", "lms"),
        connections: state.service.lms_connections(who).await?,
        log: state.service.statement_log(who, 50).await?,
        created: None,
        name: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn connections(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut page = lms_page(&state, &viewer).await?;
    page.c = page.c.with_notice(notice(q.done.as_deref()));
    Ok(render(&page))
}

pub async fn create_connection(State(state): State<AppState>, form: Form) -> PageResult {
    let draft = LmsConnectionDraft {
        name: form.fields.get("name").map(str::to_owned),
    };
    match state
        .service
        .create_lms_connection(&form.viewer.session.principal, draft)
        .await
    {
        Ok(created) => {
            let mut page = lms_page(&state, &form.viewer).await?;
            page.c = page.c.with_notice(Some(format!(
                "Connection {:?} created. Copy the secret now: it is shown only once.",
                created.name
            )));
            page.created = Some(created);
            Ok(super::render_secret(&page))
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut page = lms_page(&state, &form.viewer).await?;
            page.name = form.fields.text("name");
            page.errors = errors;
            Ok(render_invalid(&page))
        }
    }
}

pub async fn revoke_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: Form,
) -> PageResult {
    state
        .service
        .revoke_lms_connection(&form.viewer.session.principal, &name)
        .await?;
    Ok(Redirect::to("/admin/lms?done=connection-revoked").into_response())
}

#[cfg(test)]
mod tests {
    use super::parse_threshold;

    #[test]
    fn thresholds_read_as_people_write_them() {
        assert_eq!(parse_threshold(""), Ok(None));
        assert_eq!(parse_threshold("80%"), Ok(Some(0.8)));
        assert_eq!(parse_threshold("80"), Ok(Some(0.8)));
        assert_eq!(parse_threshold("0.75"), Ok(Some(0.75)));
        assert_eq!(parse_threshold("1"), Ok(Some(1.0)));
        assert!(parse_threshold("120%").is_err());
        assert!(parse_threshold("high").is_err());
    }
}
