//! `/api/v1/learners`.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_domain::Learner;
use recert_service::learners::{LearnerDetail, LearnerDraft, LearnerQuery};
use recert_service::page::Page;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// Name, username or e-mail (substring) or a certificate ID.
    pub q: Option<String>,
    /// Group name.
    pub group: Option<String>,
    /// `active` or `inactive`.
    pub status: Option<String>,
    /// Manager's username.
    pub manager: Option<String>,
}

/// Lists and searches learners.
#[utoipa::path(get, path = "/api/v1/learners", tag = "learners", params(ListParams),
    responses((status = 200, body = Page<Learner>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Learner>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    let q = LearnerQuery {
        q: p.q,
        group: p.group,
        status: p.status,
        manager: p.manager,
    };
    Ok(Json(s.service.learners(&who, q, page).await?))
}

/// Creates a learner.
#[utoipa::path(post, path = "/api/v1/learners", tag = "learners", request_body = LearnerDraft,
    responses((status = 201, body = Learner), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<LearnerDraft>,
) -> ApiResult<(StatusCode, Json<Learner>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_learner(&who, d).await?),
    ))
}

/// Shows a learner with every award and chain.
#[utoipa::path(get, path = "/api/v1/learners/{username}", tag = "learners", params(("username" = String, Path)),
    responses((status = 200, body = LearnerDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<LearnerDetail>> {
    Ok(Json(s.service.learner(&who, &username).await?))
}

/// Changes a learner; absent fields are kept.
#[utoipa::path(patch, path = "/api/v1/learners/{username}", tag = "learners", params(("username" = String, Path)), request_body = LearnerDraft,
    responses((status = 200, body = Learner), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(username): ApiPath<String>,
    ApiJson(d): ApiJson<LearnerDraft>,
) -> ApiResult<Json<Learner>> {
    Ok(Json(s.service.update_learner(&who, &username, d).await?))
}
