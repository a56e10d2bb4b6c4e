//! `/api/v1/organizations`.

use crate::AppState;
use crate::extract::Auth;
use crate::problem::ApiResult;
use axum::Json;
use axum::extract::State;
use recert_domain::Organization;
use recert_service::page::Page;

/// Lists the organizations (issuers). A fresh installation has one, code `default`.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations",
    responses((status = 200, body = Page<Organization>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<Organization>>> {
    // Organizations are few: one page holds them all.
    Ok(Json(Page {
        items: s.service.list_organizations(&who).await?,
        next_cursor: None,
    }))
}
