//! `/api/v1/programs`.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_domain::program::{ItemDraft, ProgramDraft};
use recert_service::page::Page;
use recert_service::programs::ProgramView;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

/// Assigns one learning item to a program (assigned today unless `assigned_on` says).
///
/// Only this item is written: two items added at once are both kept.
#[utoipa::path(post, path = "/api/v1/programs/{code}/items", tag = "programs", params(("code" = String, Path, description = "The program's code")),
    request_body = ItemDraft,
    responses((status = 201, body = ProgramView, description = "The program with the item assigned"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such program"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The item is already assigned"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The item breaks a rule")))]
pub async fn add_item(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(d): ApiJson<ItemDraft>,
) -> ApiResult<(StatusCode, Json<ProgramView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.add_item(&who, &code, d).await?),
    ))
}

/// Unassigns one learning item; awards it earned are kept.
#[utoipa::path(delete, path = "/api/v1/programs/{code}/items/{item}", tag = "programs",
    params(("code" = String, Path, description = "The program's code"), ("item" = String, Path, description = "The item's code")),
    responses((status = 200, body = ProgramView, description = "The program without the item"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such program, or the item is not assigned")))]
pub async fn remove_item(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, item)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProgramView>> {
    Ok(Json(s.service.remove_item(&who, &code, &item).await?))
}

/// How many learners hold the program now, by status, judged today in the program's
/// organization's zone.
#[utoipa::path(get, path = "/api/v1/programs/{code}/holders", tag = "programs", params(("code" = String, Path, description = "The program's code")),
    responses((status = 200, body = recert_service::awards::HolderCounts, description = "Current holders by status"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such program")))]
pub async fn holders(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<recert_service::awards::HolderCounts>> {
    Ok(Json(s.service.program_holders(&who, &code).await?))
}

/// Previews applying the program's present validity, window and grace to its current
/// holders (SPEC §3.5): every current award whose expiry or status would change, before
/// and after. New awards get the present rules anyway; nothing changes until `POST`.
#[utoipa::path(get, path = "/api/v1/programs/{code}/reapply", tag = "programs", params(("code" = String, Path)),
    responses((status = 200, body = recert_service::reapply::ReapplyPreview),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn reapply_preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<recert_service::reapply::ReapplyPreview>> {
    Ok(Json(s.service.reapply_preview(&who, &code).await?))
}

/// Applies the program's present rules to its current holders, as the preview lists, in
/// one audited job; answers how many awards changed.
#[utoipa::path(post, path = "/api/v1/programs/{code}/reapply", tag = "programs", params(("code" = String, Path)),
    responses((status = 200, body = recert_service::reapply::ReapplyDone),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn reapply(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<recert_service::reapply::ReapplyDone>> {
    Ok(Json(s.service.reapply(&who, &code).await?))
}
