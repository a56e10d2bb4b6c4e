//! `/api/v1/users` and `/api/v1/tokens`: accounts and API tokens (admins only).

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_service::page::Page;
use recert_service::tokens::{CreatedToken, TokenDraft, TokenView};
use recert_service::users::{AccountChange, UserDraft, UserView};

/// Lists accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = Page<UserView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_users(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<UserView>>> {
    Ok(Json(Page {
        items: s.service.users(&who).await?,
        next_cursor: None,
    }))
}

/// Creates an account. Supervisors and learners name their learner record; program
/// managers the programs they run.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = UserDraft,
    responses((status = 201, body = UserView), (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(draft): ApiJson<UserDraft>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_user(&who, draft).await?),
    ))
}

/// Lists API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = Page<TokenView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<TokenView>>> {
    Ok(Json(Page {
        items: s.service.tokens(&who).await?,
        next_cursor: None,
    }))
}

/// Creates an API token; the answer is the only time the token is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenDraft,
    responses((status = 201, body = CreatedToken), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(draft): ApiJson<TokenDraft>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_token(&who, draft).await?),
    ))
}

/// Revokes an API token.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "accounts",
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.service.revoke_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change(
    s: AppState,
    who: recert_service::Principal,
    username: String,
    c: AccountChange,
) -> ApiResult<Json<UserView>> {
    Ok(Json(s.service.set_account_state(&who, &username, c).await?))
}

/// Disables an account: its sessions end and its tokens stop working. Not your own, and
/// not the last active admin.
#[utoipa::path(post, path = "/api/v1/users/{username}/disable", tag = "accounts",
    params(("username" = String, Path)),
    responses((status = 200, body = UserView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn disable_user(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<UserView>> {
    change(s, who, username, AccountChange::Disable).await
}

/// Enables a disabled account.
#[utoipa::path(post, path = "/api/v1/users/{username}/enable", tag = "accounts",
    params(("username" = String, Path)), responses((status = 200, body = UserView)))]
pub async fn enable_user(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<UserView>> {
    change(s, who, username, AccountChange::Enable).await
}

/// Lifts the wait on sign-ins after failed attempts.
#[utoipa::path(post, path = "/api/v1/users/{username}/unlock", tag = "accounts",
    params(("username" = String, Path)), responses((status = 200, body = UserView)))]
pub async fn unlock_user(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<UserView>> {
    change(s, who, username, AccountChange::Unlock).await
}
