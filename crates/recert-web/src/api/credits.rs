//! `/api/v1/credits`: continuing-education credit entries (SPEC §3.4, §9), and
//! `/api/v1/awards/{id}/credits`, one certification's progress.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use recert_service::ServiceError;
use recert_service::credits::{CreditDraft, CreditLogged, CreditQuery, CreditStanding, CreditView};
use recert_service::external::{DecisionDraft, Upload};
use recert_service::page::Page;
use serde::Deserialize;

/// A credit draft from form fields (multipart API bodies and the renewal page's form).
pub fn credit_draft(fields: &[(String, String)]) -> Result<CreditDraft, ServiceError> {
    let get = |k: &str| super::earning::form_value(fields, k);
    let hours = super::earning::form_hours(fields)?;
    Ok(CreditDraft {
        learner: get("learner"),
        program: get("program"),
        completed_on: get("completed_on"),
        hours,
        category: get("category"),
        provider: get("provider"),
    })
}

/// Reads a credit entry from JSON, or from `multipart/form-data` with the same fields and
/// an optional `evidence` file.
async fn read_entry(req: Request) -> Result<(CreditDraft, Option<Upload>), ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| ServiceError::field("body", e.body_text()))?;
        let (fields, upload) = crate::extract::read_multipart(mp, "evidence").await?;
        Ok((credit_draft(&fields)?, upload))
    } else {
        let ApiJson(d) = ApiJson::<CreditDraft>::from_request(req, &()).await?;
        Ok((d, None))
    }
}

/// Logs a credit entry toward the learner's current certification of a program: JSON, or
/// `multipart/form-data` with the same fields and an optional `evidence` file (up to
/// 10 MB). `state` is `approved` at once for the program's approved providers and when an
/// approver logs it, otherwise `pending`; `renewed` names the new certificate when the
/// approval met the requirement inside the renewal window.
#[utoipa::path(post, path = "/api/v1/credits", tag = "credits", request_body = CreditDraft,
    responses((status = 201, body = CreditLogged), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn log(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: Request,
) -> ApiResult<(StatusCode, Json<CreditLogged>)> {
    let (draft, upload) = read_entry(req).await?;
    Ok((
        StatusCode::CREATED,
        Json(s.service.log_credit(&who, draft, upload).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// pending (the approval queue), approved or rejected; default all.
    pub state: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Credit entries the caller may see, oldest first.
#[utoipa::path(get, path = "/api/v1/credits", tag = "credits", params(ListParams),
    responses((status = 200, body = Page<CreditView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<CreditView>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    let q = CreditQuery {
        state: p.state,
        learner: p.learner,
        program: p.program,
    };
    Ok(Json(s.service.credits(&who, &q, page).await?))
}

/// One credit entry.
#[utoipa::path(get, path = "/api/v1/credits/{id}", tag = "credits", params(("id" = i64, Path)),
    responses((status = 200, body = CreditView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CreditView>> {
    Ok(Json(s.service.credit(&who, id).await?))
}

/// The evidence file of a credit entry.
#[utoipa::path(get, path = "/api/v1/credits/{id}/evidence", tag = "credits", params(("id" = i64, Path)),
    responses((status = 200, description = "The file"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn evidence(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(super::earning::evidence_response(
        s.service.credit_evidence(&who, id).await?,
    ))
}

/// Approves a pending entry (administrators and the program's managers); renews the
/// certification when the approved credits now meet the requirement inside the window.
#[utoipa::path(post, path = "/api/v1/credits/{id}/approve", tag = "credits", params(("id" = i64, Path)),
    request_body = DecisionDraft,
    responses((status = 200, body = CreditLogged), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<CreditLogged>> {
    Ok(Json(s.service.approve_credit(&who, id, d).await?))
}

/// Rejects a pending entry; `note` (required) tells the learner why.
#[utoipa::path(post, path = "/api/v1/credits/{id}/reject", tag = "credits", params(("id" = i64, Path)),
    request_body = DecisionDraft,
    responses((status = 200, body = CreditLogged), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<CreditLogged>> {
    Ok(Json(s.service.reject_credit(&who, id, d).await?))
}

/// One certification's credits: progress of its cycle (total and per category), hours
/// waiting for review, and every entry.
#[utoipa::path(get, path = "/api/v1/awards/{id}/credits", tag = "credits", params(("id" = String, Path)),
    responses((status = 200, body = CreditStanding), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn standing(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CreditStanding>> {
    Ok(Json(s.service.credit_standing(&who, &id).await?))
}
