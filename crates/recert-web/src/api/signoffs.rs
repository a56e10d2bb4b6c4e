//! `/api/v1/signoffs`: supervisor sign-off requests (SPEC §3.4, §9).

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_service::page::Page;
use recert_service::signoffs::{DecisionDraft, SignoffDraft, SignoffView};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// pending, approved or declined (default: all).
    pub state: Option<String>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The caller's sign-off queue: requests asked of them (supervisors), or every request
/// (administrators), oldest first.
#[utoipa::path(get, path = "/api/v1/signoffs", tag = "signoffs", params(ListParams),
    responses((status = 200, body = Page<SignoffView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<SignoffView>>> {
    let page = super::page(q.cursor.as_deref(), q.limit)?;
    Ok(Json(
        s.service.signoffs(&who, q.state.as_deref(), page).await?,
    ))
}

/// Asks the learner's manager to sign off a certification (the learner, or an
/// administrator). The manager is emailed. Refused with the reason when the program has
/// no sign-off pathway, the renewal window is not open, the learner has no manager, or a
/// request is already waiting.
#[utoipa::path(post, path = "/api/v1/signoffs", tag = "signoffs", request_body = SignoffDraft,
    responses((status = 201, body = SignoffView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn request(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<SignoffDraft>,
) -> ApiResult<(StatusCode, Json<SignoffView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.request_signoff(&who, d).await?),
    ))
}

/// Approves a sign-off: renews the certification by the `signoff` pathway today (the
/// manager asked, or an administrator). Answers the request with `renewal`, the new
/// certificate ID.
#[utoipa::path(post, path = "/api/v1/signoffs/{id}/approve", tag = "signoffs", params(("id" = i64, Path)),
    request_body = DecisionDraft,
    responses((status = 200, body = SignoffView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<SignoffView>> {
    Ok(Json(s.service.decide_signoff(&who, id, true, d).await?))
}

/// Declines a sign-off, with a comment (the manager asked, or an administrator).
#[utoipa::path(post, path = "/api/v1/signoffs/{id}/decline", tag = "signoffs", params(("id" = i64, Path)),
    request_body = DecisionDraft,
    responses((status = 200, body = SignoffView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn decline(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<SignoffView>> {
    Ok(Json(s.service.decide_signoff(&who, id, false, d).await?))
}
