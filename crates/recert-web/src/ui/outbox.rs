//! `/admin/outbox`: is mail going out? Counts first, then every message — failures first —
//! with its recipients, state, attempts and last error, and a button to send again.

use super::forms::Form;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::outbox::OutboxPage;

const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxView {
    c: Chrome,
    o: OutboxPage,
    /// 1-based page number, and the rows shown ("51–100").
    page: i64,
    first: i64,
    last: i64,
    has_next: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct OutboxQuery {
    page: Option<String>,
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<OutboxQuery>,
) -> PageResult {
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=1_000_000).contains(p))
        .unwrap_or(1);
    let o = state
        .service
        .outbox(&viewer.session.principal, (page - 1) * PER_PAGE, PER_PAGE)
        .await?;
    let first = (page - 1) * PER_PAGE + 1;
    let last = (page - 1) * PER_PAGE + i64::try_from(o.items.len()).unwrap_or(0);
    let has_next = last < o.total;
    let notice = (q.done.as_deref() == Some("resent"))
        .then(|| "The message is queued again; it goes out with the next delivery.".to_owned());
    Ok(render(&OutboxView {
        c: Chrome::new(&viewer, "Outbox", "outbox").with_notice(notice),
        o,
        page,
        first,
        last,
        has_next,
    }))
}

/// `POST /admin/outbox/{id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = id.parse::<i64>().map_err(|_| {
        super::PageError(recert_service::ServiceError::not_found(
            "message",
            id.clone(),
        ))
    })?;
    state
        .service
        .resend_message(&form.viewer.session.principal, id)
        .await?;
    Ok(Redirect::to("/admin/outbox?done=resent").into_response())
}
