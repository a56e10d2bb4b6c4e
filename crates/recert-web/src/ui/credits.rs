//! `/credits`: the approvers' queue of continuing-education credit entries (the external
//! training queue's sibling): what waits for review, oldest first, and what was decided;
//! sortable, paged with a total and exportable with exactly the state and order shown.

use super::forms::{FieldErrors, Form};
use super::listing::List;
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::ServiceError;
use recert_service::auth::Role;
use recert_service::credits::{CreditQuery, CreditView};
use recert_service::exports::Format;
use recert_service::external::DecisionDraft;
use recert_service::listing::keys;

#[derive(Template)]
#[template(path = "credits/queue.html")]
struct QueuePage {
    c: Chrome,
    entries: Vec<CreditView>,
    /// `pending` (the default), `approved`, `rejected` or `all`.
    state: String,
    list: List,
    /// A refused decision: the entry's id and the messages.
    decide_errors: Option<(i64, FieldErrors)>,
}

impl QueuePage {
    fn decide_error(&self, id: &i64, field: &str) -> Option<&str> {
        match &self.decide_errors {
            Some((i, e)) if i == id => e.get(field),
            _ => None,
        }
    }

    fn states(&self) -> [(&'static str, &'static str); 4] {
        [
            ("pending", "Waiting"),
            ("approved", "Approved"),
            ("rejected", "Rejected"),
            ("all", "All"),
        ]
    }

    fn state_href(&self, s: &str) -> String {
        if s == "pending" {
            "/credits".to_owned()
        } else {
            format!("/credits?state={s}")
        }
    }

    fn approves(&self) -> bool {
        self.c.approves_training()
    }
}

#[derive(serde::Deserialize, Default)]
pub struct QueueQuery {
    done: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

impl QueueQuery {
    /// The list's URL state; waiting entries oldest first, decided ones newest first.
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
            "/credits",
            &[("state", filter)],
            self.sort.as_deref().unwrap_or(""),
            self.page.as_deref().unwrap_or(""),
            &keys::credits(),
            default,
        )?;
        Ok((state.to_owned(), list))
    }
}

fn query_of(state: &str) -> CreditQuery {
    CreditQuery {
        state: (state != "all").then(|| state.to_owned()),
        ..CreditQuery::default()
    }
}

async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    q: &QueueQuery,
) -> Result<QueuePage, PageError> {
    let who = &viewer.session.principal;
    if !matches!(who.role, Role::Admin | Role::ProgramManager | Role::Auditor) {
        return Err(PageError(who.forbidden(
            "see the credits queue (learners log credits on their renewal page)",
        )));
    }
    let (filter, list) = q.list()?;
    let found = state
        .service
        .credits_listed(who, &query_of(&filter), &list.sort, list.window())
        .await?;
    Ok(QueuePage {
        c: Chrome::new(viewer, "Credits", "credits"),
        entries: found.items,
        state: filter,
        list: list.total(found.total),
        decide_errors: None,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let format = Format::parse(q.format.as_deref())?;
    if format != Format::Json {
        let (filter, list) = q.list()?;
        let d = state.service.credits_export(
            &viewer.session.principal,
            &query_of(&filter),
            &list.sort,
            format,
        )?;
        return Ok(crate::api::reports::download(d));
    }
    let mut page = queue_page(&state, &viewer, &q).await?;
    let notice = match q.done.as_deref() {
        Some("approved") => Some("Approved.".to_owned()),
        Some("rejected") => Some("Rejected: the learner is emailed the reason.".to_owned()),
        Some(new) if new.starts_with("renewed:") => Some(format!(
            "Approved: the credits met the requirement and renewed the certification as {}.",
            &new["renewed:".len()..]
        )),
        _ => None,
    };
    page.c = page.c.with_notice(notice);
    Ok(render(&page))
}

fn entry_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>()
        .map_err(|_| PageError(ServiceError::not_found("credit entry", raw.to_owned())))
}

pub async fn evidence(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let u = state
        .service
        .credit_evidence(&viewer.session.principal, entry_id(&id)?)
        .await?;
    Ok(crate::api::earning::evidence_response(u))
}

async fn decide(state: AppState, id: String, form: Form, approve: bool) -> PageResult {
    let id = entry_id(&id)?;
    let who = &form.viewer.session.principal;
    let d = DecisionDraft {
        note: form.fields.get("note").map(str::to_owned),
    };
    let result = if approve {
        state.service.approve_credit(who, id, d).await
    } else {
        state.service.reject_credit(who, id, d).await
    };
    match result {
        Ok(done) => {
            let to = match (&done.renewed, approve) {
                (Some(new), _) => format!("/credits?state=approved&done=renewed:{new}"),
                (None, true) => "/credits?state=approved&done=approved".into(),
                (None, false) => "/credits?state=rejected&done=rejected".into(),
            };
            Ok(Redirect::to(&to).into_response())
        }
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
