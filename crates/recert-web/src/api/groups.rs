//! `/api/v1/groups` and requirements.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_domain::Group;
use recert_service::groups::{GroupDraft, MembersDraft, Requirement, RequirementDraft};
use recert_service::page::Page;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
    /// team, site, branch, department or cohort.
    pub kind: Option<String>,
}

/// Lists groups.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(ListParams),
    responses((status = 200, body = Page<Group>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Group>>> {
    Ok(Json(
        s.service
            .groups(
                &who,
                p.kind.as_deref(),
                super::page(p.cursor.as_deref(), p.limit)?,
            )
            .await?,
    ))
}

/// Creates a group.
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupDraft,
    responses((status = 201, body = Group), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<GroupDraft>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_group(&who, d).await?),
    ))
}

/// Shows a group.
#[utoipa::path(get, path = "/api/v1/groups/{name}", tag = "groups", params(("name" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Group>> {
    Ok(Json(s.service.group(&who, &name).await?))
}

/// A page of a collection with no filters of its own.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Lists a group's members (usernames), in username order, a page at a time.
#[utoipa::path(get, path = "/api/v1/groups/{name}/members", tag = "groups", params(("name" = String, Path), PageParams),
    responses((status = 200, body = Page<String>), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn members(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(name): ApiPath<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<String>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    Ok(Json(s.service.group_members(&who, &name, page).await?))
}

/// Adds learners to a group.
#[utoipa::path(post, path = "/api/v1/groups/{name}/members", tag = "groups", params(("name" = String, Path)), request_body = MembersDraft,
    responses((status = 200, body = Group), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_members(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(name): ApiPath<String>,
    ApiJson(d): ApiJson<MembersDraft>,
) -> ApiResult<Json<Group>> {
    Ok(Json(s.service.add_members(&who, &name, d).await?))
}

/// Removes a learner from a group.
#[utoipa::path(delete, path = "/api/v1/groups/{name}/members/{username}", tag = "groups",
    params(("name" = String, Path), ("username" = String, Path)),
    responses((status = 200, body = Group), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((name, username)): ApiPath<(String, String)>,
) -> ApiResult<Json<Group>> {
    Ok(Json(s.service.remove_member(&who, &name, &username).await?))
}

/// Requires members of a group to hold a program.
#[utoipa::path(post, path = "/api/v1/groups/{name}/requirements", tag = "groups", params(("name" = String, Path)), request_body = RequirementDraft,
    responses((status = 201, body = Requirement), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_requirement(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(name): ApiPath<String>,
    ApiJson(d): ApiJson<RequirementDraft>,
) -> ApiResult<(StatusCode, Json<Requirement>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.add_requirement(&who, &name, d).await?),
    ))
}

/// Drops a requirement.
#[utoipa::path(delete, path = "/api/v1/groups/{name}/requirements/{program}", tag = "groups",
    params(("name" = String, Path), ("program" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn remove_requirement(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((name, program)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.service.remove_requirement(&who, &name, &program).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists every requirement (group and program), in the order they were made, a page at a time.
#[utoipa::path(get, path = "/api/v1/requirements", tag = "groups", params(PageParams),
    responses((status = 200, body = Page<Requirement>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn requirements(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<Requirement>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    Ok(Json(s.service.requirements(&who, page).await?))
}
