//! The organizations' settings page (administrators): each organization as an issuer — its
//! did:web and DID document — and its logo, uploaded, replaced or removed here.

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::logos::OrganizationView;

#[derive(Template)]
#[template(path = "admin/organizations.html")]
struct OrganizationsPage {
    c: Chrome,
    orgs: Vec<OrganizationView>,
    /// The organization whose logo form was refused, and why.
    refused: Option<String>,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
    removed: Option<String>,
}

async fn page(state: &AppState, viewer: &Viewer) -> Result<OrganizationsPage, PageError> {
    Ok(OrganizationsPage {
        c: Chrome::new(viewer, "Organization", "organizations"),
        orgs: state
            .service
            .organization_settings(&viewer.session.principal)
            .await?,
        refused: None,
        errors: FieldErrors::default(),
    })
}

fn notice(q: &DoneQuery) -> Option<String> {
    match q.done.as_deref()? {
        "logo-saved" => Some(
            match q.removed.as_deref().and_then(|r| r.parse::<usize>().ok()) {
                Some(n) if n > 0 => format!(
                    "Logo saved. {} removed from it (listed in the audit log). Certificates drawn from now on show it.",
                    super::forms::unsafe_parts_were(n)
                ),
                _ => "Logo saved. Certificates drawn from now on show it.".to_owned(),
            },
        ),
        "logo-removed" => Some("Logo removed. Certificates are drawn without one.".to_owned()),
        _ => None,
    }
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer).await?;
    p.c = p.c.with_notice(notice(&q));
    Ok(render(&p))
}

/// `POST /admin/organizations/{code}/logo` (multipart, the file in `logo`).
pub async fn upload_logo(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    mp: Multipart,
) -> PageResult {
    let (_, upload) = match super::forms::multipart_form(&viewer, mp, "logo").await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let bytes = upload.map(|u| u.bytes).unwrap_or_default();
    match state
        .service
        .set_logo(&viewer.session.principal, &code, &bytes)
        .await
    {
        Ok(stored) => {
            let to = format!(
                "/admin/organizations?done=logo-saved&removed={}#org-{}",
                stored.removed.len(),
                super::session::urlencode(&code)
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = page(&state, &viewer).await?;
            p.refused = Some(code);
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

/// `POST /admin/organizations/{code}/logo/remove` (the page asks first).
pub async fn remove_logo(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    state
        .service
        .remove_logo(&form.viewer.session.principal, &code)
        .await?;
    Ok(Redirect::to(&format!(
        "/admin/organizations?done=logo-removed#org-{}",
        super::session::urlencode(&code)
    ))
    .into_response())
}
