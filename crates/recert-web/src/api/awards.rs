//! `/api/v1/awards`.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_service::awards::{
    ArchiveDraft, AwardDraft, AwardPatch, AwardQuery, AwardView, RevokeDraft,
};
use recert_service::page::Page;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
    pub group: Option<String>,
    /// active, expiring, grace, lapsed, revoked, superseded or archived.
    pub status: Option<String>,
    pub issued_from: Option<String>,
    pub issued_to: Option<String>,
    pub expires_from: Option<String>,
    pub expires_to: Option<String>,
    /// Judge status on this day (YYYY-MM-DD) and list only awards issued by then.
    pub as_of: Option<String>,
}

/// Lists awards with filters.
#[utoipa::path(get, path = "/api/v1/awards", tag = "awards", params(ListParams),
    responses((status = 200, body = Page<AwardView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<AwardView>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    let q = AwardQuery {
        text: None,
        learner: p.learner,
        program: p.program,
        group: p.group,
        status: p.status,
        issued_from: p.issued_from,
        issued_to: p.issued_to,
        expires_from: p.expires_from,
        expires_to: p.expires_to,
        as_of: p.as_of,
    };
    Ok(Json(s.service.awards(&who, q, page).await?))
}

/// Awards a program to a learner by hand.
#[utoipa::path(post, path = "/api/v1/awards", tag = "awards", request_body = AwardDraft,
    responses((status = 201, body = AwardView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<AwardDraft>,
) -> ApiResult<(StatusCode, Json<AwardView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_award(&who, d).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowParams {
    /// Judge status on this day (YYYY-MM-DD) instead of today.
    pub as_of: Option<String>,
}

/// Shows an award, with its status today or `as_of` a given day.
#[utoipa::path(get, path = "/api/v1/awards/{id}", tag = "awards", params(("id" = String, Path, description = "certificate ID"), ShowParams),
    responses((status = 200, body = AwardView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<ShowParams>,
) -> ApiResult<Json<AwardView>> {
    Ok(Json(s.service.award(&who, &id, p.as_of.as_deref()).await?))
}

/// Edits an award's record; before/after are audited.
#[utoipa::path(patch, path = "/api/v1/awards/{id}", tag = "awards", params(("id" = String, Path)), request_body = AwardPatch,
    responses((status = 200, body = AwardView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<AwardPatch>,
) -> ApiResult<Json<AwardView>> {
    Ok(Json(s.service.update_award(&who, &id, d).await?))
}

/// Revokes an award; a reason is required.
#[utoipa::path(post, path = "/api/v1/awards/{id}/revoke", tag = "awards", params(("id" = String, Path)), request_body = RevokeDraft,
    responses((status = 200, body = AwardView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<RevokeDraft>,
) -> ApiResult<Json<AwardView>> {
    Ok(Json(s.service.revoke_award(&who, &id, d).await?))
}

/// Unassigns (archives) an award; it stays in the record.
#[utoipa::path(post, path = "/api/v1/awards/{id}/archive", tag = "awards", params(("id" = String, Path)), request_body = ArchiveDraft,
    responses((status = 200, body = AwardView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn archive(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<AwardView>> {
    // The body is optional here: an empty one means "no reason given".
    let d: ArchiveDraft = if body.iter().all(u8::is_ascii_whitespace) {
        ArchiveDraft::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    Ok(Json(s.service.archive_award(&who, &id, d).await?))
}

/// The audit events about an award, oldest first.
#[utoipa::path(get, path = "/api/v1/awards/{id}/history", tag = "awards", params(("id" = String, Path)),
    responses((status = 200, description = "audit events"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn history(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let events = s.service.award_history(&who, &id).await?;
    Ok(Json(serde_json::json!({ "items": events })))
}

/// Records a renewal by hand (administrators and the program's managers): answers the NEW
/// award, whose `predecessor` is this one, `pathway` the one given and `association`
/// `renewal`. 409 when the award cannot be renewed on that day (window not open, lapsed,
/// already renewed, revoked, unassigned), saying which.
#[utoipa::path(post, path = "/api/v1/awards/{id}/renew", tag = "awards", params(("id" = String, Path)),
    request_body = recert_service::renewals::RenewDraft,
    responses((status = 201, body = AwardView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn renew(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<recert_service::renewals::RenewDraft>,
) -> ApiResult<(StatusCode, Json<AwardView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.renew_award(&who, &id, d).await?),
    ))
}

/// Extends one award's grace period by some days, with a reason (administrators).
#[utoipa::path(post, path = "/api/v1/awards/{id}/extend-grace", tag = "awards", params(("id" = String, Path)),
    request_body = recert_service::renewals::ExtendGraceDraft,
    responses((status = 200, body = AwardView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn extend_grace(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(d): ApiJson<recert_service::renewals::ExtendGraceDraft>,
) -> ApiResult<Json<AwardView>> {
    Ok(Json(s.service.extend_grace(&who, &id, d).await?))
}
