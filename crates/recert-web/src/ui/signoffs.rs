//! `/signoffs`: the manager's sign-off queue (SPEC §3.4): what waits first, approve (which
//! renews, after the manager confirms) or decline with a comment. Every rule is the
//! service's; this page parses, calls and renders.

use super::forms::Form;
use super::{Chrome, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::signoffs::{DecisionDraft, SignoffView};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "signoffs/queue.html")]
struct QueuePage {
    c: Chrome,
    state: String,
    items: Vec<SignoffView>,
    /// Requests waiting, whatever the state shown.
    pending: i64,
    /// The state filter, sort and page in the URL.
    list: super::listing::List,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    state: Option<String>,
    done: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

impl QueueQuery {
    /// The state shown (waiting first by default) and the list's URL state: waiting
    /// requests oldest first, decided ones newest first.
    fn list(&self) -> Result<(String, super::listing::List), super::PageError> {
        let shown = match self.state.as_deref().map(str::trim) {
            None | Some("") => "pending",
            Some(s) => s,
        };
        let default = if shown == "pending" {
            "asked"
        } else {
            "-asked"
        };
        let list = super::listing::List::new(
            "/signoffs",
            &[("state", shown)],
            self.sort.as_deref().unwrap_or(""),
            self.page.as_deref().unwrap_or(""),
            &recert_service::listing::keys::signoffs(),
            default,
        )?;
        Ok((shown.to_owned(), list))
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    q: &QueueQuery,
) -> Result<QueuePage, super::PageError> {
    let who = &viewer.session.principal;
    let (shown, list) = q.list()?;
    let found = state
        .service
        .signoffs_listed(who, Some(&shown), &list.sort, list.window())
        .await?;
    let pending = if shown == "pending" {
        found.total
    } else {
        state
            .service
            .signoffs_listed(
                who,
                Some("pending"),
                &list.sort,
                recert_service::listing::Window {
                    offset: 0,
                    limit: Some(1),
                },
            )
            .await?
            .total
    };
    Ok(QueuePage {
        c: Chrome::new(viewer, "Sign-offs", "signoffs"),
        state: shown,
        pending,
        items: found.items,
        list: list.total(found.total),
        error: None,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let format = recert_service::exports::Format::parse(q.format.as_deref())?;
    if format != recert_service::exports::Format::Json {
        let (shown, list) = q.list()?;
        let d = state.service.signoffs_export(
            &viewer.session.principal,
            Some(&shown),
            &list.sort,
            format,
        )?;
        return Ok(crate::api::reports::download(d));
    }
    let mut p = page(&state, &viewer, &q).await?;
    p.c = p.c.with_notice(match q.done.as_deref() {
        Some("approved") => Some("Approved: the certification is renewed.".to_owned()),
        Some("declined") => Some("Declined: the learner can see your comment.".to_owned()),
        _ => None,
    });
    Ok(render(&p))
}

async fn decide(state: AppState, id: i64, form: Form, approve: bool) -> PageResult {
    let who = &form.viewer.session.principal;
    let draft = DecisionDraft {
        comment: form.fields.get("comment").map(str::to_owned),
    };
    if approve && form.fields.get("confirm") != Some("yes") {
        let mut p = page(&state, &form.viewer, &QueueQuery::default()).await?;
        p.error =
            Some("Tick the confirmation to approve: approving issues a new certificate.".into());
        return Ok(render_invalid(&p));
    }
    match state.service.decide_signoff(who, id, approve, draft).await {
        Ok(_) => Ok(Redirect::to(if approve {
            "/signoffs?state=approved&done=approved"
        } else {
            "/signoffs?state=declined&done=declined"
        })
        .into_response()),
        Err(e) => {
            let mut p = page(&state, &form.viewer, &QueueQuery::default()).await?;
            p.error = Some(e.to_string());
            Ok(render_invalid(&p))
        }
    }
}

pub async fn approve(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    decide(state, id, form, true).await
}

pub async fn decline(State(state): State<AppState>, Path(id): Path<i64>, form: Form) -> PageResult {
    decide(state, id, form, false).await
}
