//! `/api/v1/programs`.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_domain::program::ProgramDraft;
use recert_service::page::Page;
use recert_service::programs::ProgramView;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Include archived programs.
    pub include_archived: Option<bool>,
}

/// Lists programs.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs", params(ListParams),
    responses((status = 200, body = Page<ProgramView>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<ProgramView>>> {
    Ok(Json(
        s.service
            .programs(
                &who,
                super::page(p.cursor.as_deref(), p.limit)?,
                p.include_archived.unwrap_or(false),
            )
            .await?,
    ))
}

/// Creates a program.
#[utoipa::path(post, path = "/api/v1/programs", tag = "programs", request_body = ProgramDraft,
    responses((status = 201, body = ProgramView), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<ProgramDraft>,
) -> ApiResult<(StatusCode, Json<ProgramView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_program(&who, d).await?),
    ))
}

/// Shows a program.
#[utoipa::path(get, path = "/api/v1/programs/{code}", tag = "programs", params(("code" = String, Path)),
    responses((status = 200, body = ProgramView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ProgramView>> {
    Ok(Json(s.service.program(&who, &code).await?))
}

/// Changes a program's settings; absent fields are kept. Applies to new awards.
#[utoipa::path(patch, path = "/api/v1/programs/{code}", tag = "programs", params(("code" = String, Path)), request_body = ProgramDraft,
    responses((status = 200, body = ProgramView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(d): ApiJson<ProgramDraft>,
) -> ApiResult<Json<ProgramView>> {
    Ok(Json(s.service.update_program(&who, &code, d).await?))
}

/// Archives a program (never destroyed).
#[utoipa::path(post, path = "/api/v1/programs/{code}/archive", tag = "programs", params(("code" = String, Path)),
    responses((status = 200, body = ProgramView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn archive(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<ProgramView>> {
    Ok(Json(s.service.archive_program(&who, &code).await?))
}
