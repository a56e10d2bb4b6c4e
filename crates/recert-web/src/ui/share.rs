//! An award's public share page (`/share/{id}`) with Open Graph tags, LinkedIn's "Add to
//! profile" link and the signed credential; its holder can turn it off.

use super::forms::Form;
use super::{PageResult, render};
use crate::AppState;
use crate::client_addr::ClientIp;
use crate::extract::ApiPath;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use recert_service::credentials::ShareView;

#[derive(Template)]
#[template(path = "share/show.html")]
struct ShowPage {
    s: ShareView,
}

pub async fn show(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> PageResult {
    state.allow_verification(client)?;
    let s = state.service.share_view(&id).await?;
    Ok(render(&ShowPage { s }))
}

/// The signed credential of a shared award, for anyone (`?suite=` as in the API).
pub async fn credential(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(id): ApiPath<String>,
    axum::extract::Query(q): axum::extract::Query<crate::api::credentials::CredentialParams>,
) -> PageResult {
    state.allow_verification(client)?;
    let doc = state
        .service
        .shared_credential(&id, q.suite.as_deref())
        .await?;
    Ok(crate::api::credentials::credential_file(&doc, &id))
}

/// The certificate of a shared award as a PNG, for anyone (the share page's image).
pub async fn certificate_png(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(id): ApiPath<String>,
) -> PageResult {
    state.allow_verification(client)?;
    let doc = recert_service::credentials::Document::Png { scale: 1 };
    let bytes = state.service.shared_certificate(&id, doc).await?;
    Ok(crate::api::credentials::document(bytes, doc, &id))
}

/// Turns sharing on (`on=1`) or off (`on=0`) and goes back to where the form was
/// (`back`: a path on this site; My certifications by default).
pub async fn set(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    form: Form,
) -> PageResult {
    let on = form.fields.get("on") == Some("1");
    state
        .service
        .set_sharing(&form.viewer.session.principal, &id, on)
        .await?;
    let back = form
        .fields
        .get("back")
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or("/my");
    let sep = if back.contains('?') { '&' } else { '?' };
    let done = if on { "sharing-on" } else { "sharing-off" };
    Ok(Redirect::to(&format!("{back}{sep}done={done}")).into_response())
}
