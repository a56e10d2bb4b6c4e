//! `/admin/outbox`: is mail going out? Counts first, then every message — failures first —
//! with its recipients, state, attempts and last error, and a button to send again.

use super::forms::Form;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::outbox::OutboxPage;

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxView {
    c: Chrome,
    o: OutboxPage,
    /// The state shown ("" for all).
    state: String,
    /// The state filter, sort and page in the URL.
    list: super::listing::List,
}

#[derive(serde::Deserialize, Default)]
pub struct OutboxQuery {
    state: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
    done: Option<String>,
}

/// Every message, what needs a person first (given up, then waiting), newest first
/// within each; filtered by state, sortable, paged with its total, and exported as shown.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<OutboxQuery>,
) -> PageResult {
    let shown = q.state.as_deref().map(str::trim).unwrap_or("").to_owned();
    let list = super::listing::List::new(
        "/admin/outbox",
        &[("state", &shown)],
        q.sort.as_deref().unwrap_or(""),
        q.page.as_deref().unwrap_or(""),
        &recert_service::listing::keys::outbox(),
        "state",
    )?;
    let who = &viewer.session.principal;
    let only = Some(shown.as_str()).filter(|s| !s.is_empty());
    let format = recert_service::exports::Format::parse(q.format.as_deref())?;
    if format != recert_service::exports::Format::Json {
        let d = state.service.outbox_export(who, only, &list.sort, format)?;
        return Ok(crate::api::reports::download(d));
    }
    let o = state
        .service
        .outbox(who, only, &list.sort, list.window())
        .await?;
    let notice = (q.done.as_deref() == Some("resent"))
        .then(|| "The message is queued again; it goes out with the next delivery.".to_owned());
    let list = list.total(o.total);
    Ok(render(&OutboxView {
        c: Chrome::new(&viewer, "Outbox", "outbox").with_notice(notice),
        o,
        state: shown,
        list,
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
