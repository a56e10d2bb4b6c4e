//! `/admin/webhooks`: the endpoints told of events, a form to add one (its secret shown
//! once), and each one's delivery log with what every attempt answered.

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::ServiceError;
use recert_service::webhooks::{DeliveryView, EVENTS, WebhookDraft, WebhookView};

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    hooks: Vec<WebhookView>,
    /// The webhook just made, with its secret.
    created: Option<WebhookView>,
    url: String,
    events: Vec<String>,
    errors: FieldErrors,
}

impl WebhooksPage {
    fn all_events(&self) -> &'static [&'static str] {
        &EVENTS
    }

    fn checked(&self, e: &str) -> bool {
        self.events.iter().any(|x| x == e)
    }
}

async fn page(state: &AppState, viewer: &Viewer) -> Result<WebhooksPage, PageError> {
    Ok(WebhooksPage {
        c: Chrome::new(viewer, "Webhooks", "webhooks"),
        hooks: state.service.webhooks(&viewer.session.principal).await?,
        created: None,
        url: String::new(),
        events: Vec::new(),
        errors: FieldErrors::default(),
    })
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer).await?;
    if q.done.as_deref() == Some("deleted") {
        p.c = p.c.with_notice(Some(
            "Webhook stopped: nothing more is sent to it. Its log is kept.".into(),
        ));
    }
    Ok(render(&p))
}

pub async fn create(State(state): State<AppState>, form: Form) -> PageResult {
    let events: Vec<String> = form
        .fields
        .0
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| v.clone())
        .collect();
    let draft = WebhookDraft {
        url: form.fields.get("url").map(str::to_owned),
        events: Some(events.clone()),
    };
    match state
        .service
        .create_webhook(&form.viewer.session.principal, draft)
        .await
    {
        Ok(created) => {
            let mut p = page(&state, &form.viewer).await?;
            p.c = p.c.with_notice(Some(
                "Webhook added. Copy its secret now: it is shown only once.".into(),
            ));
            p.created = Some(created);
            Ok(super::render_secret(&p))
        }
        Err(e) => {
            let errors = FieldErrors::from_service(&e, |f| {
                Some(if f.starts_with("events") { "events" } else { f }.to_owned())
            })
            .ok_or(PageError(e))?;
            let mut p = page(&state, &form.viewer).await?;
            p.url = form.fields.text("url");
            p.events = events;
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookPage {
    c: Chrome,
    hook: WebhookView,
    deliveries: Vec<DeliveryView>,
}

fn hook_id(raw: &str) -> Result<i64, PageError> {
    raw.parse()
        .map_err(|_| PageError(ServiceError::not_found("webhook", raw.to_owned())))
}

/// One webhook and its latest 200 attempts, newest first.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let id = hook_id(&id)?;
    let who = &viewer.session.principal;
    let hook = state.service.webhook(who, id).await?;
    let mut deliveries = Vec::new();
    let mut cursor: Option<String> = None;
    // The log oldest first, kept to its newest 200 for the page.
    loop {
        let page = recert_service::page::PageRequest::parse(cursor.as_deref(), Some(500))?;
        let got = state.service.webhook_deliveries(who, id, page).await?;
        deliveries.extend(got.items);
        if deliveries.len() > 200 {
            deliveries.drain(..deliveries.len() - 200);
        }
        match got.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    deliveries.reverse();
    Ok(render(&WebhookPage {
        c: Chrome::new(&viewer, format!("Webhook {id}"), "webhooks"),
        hook,
        deliveries,
    }))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let id = hook_id(&id)?;
    state
        .service
        .delete_webhook(&form.viewer.session.principal, id)
        .await?;
    Ok(Redirect::to("/admin/webhooks?done=deleted").into_response())
}
