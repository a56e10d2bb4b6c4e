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
    pending: usize,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    state: Option<String>,
    done: Option<String>,
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    shown: &str,
) -> Result<QueuePage, super::PageError> {
    let who = &viewer.session.principal;
    let pending = state.service.signoffs(who, Some("pending")).await?;
    let items = if shown == "pending" {
        pending.clone()
    } else {
        state.service.signoffs(who, Some(shown)).await?
    };
    Ok(QueuePage {
        c: Chrome::new(viewer, "Sign-offs", "signoffs"),
        state: shown.to_owned(),
        pending: pending.len(),
        items,
        error: None,
    })
}

pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<QueueQuery>,
) -> PageResult {
    let shown = q.state.as_deref().unwrap_or("pending");
    let mut p = page(&state, &viewer, shown).await?;
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
        let mut p = page(&state, &form.viewer, "pending").await?;
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
            let mut p = page(&state, &form.viewer, "pending").await?;
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
