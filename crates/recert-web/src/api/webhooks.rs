//! `/api/v1/webhooks` (SPEC §9): endpoints told of events, signed per Standard Webhooks,
//! and their delivery log. Administrators only.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use recert_service::page::Page;
use recert_service::webhooks::{DeliveryView, WebhookDraft, WebhookView};
use serde::Deserialize;

/// Registers a webhook: `{"url", "events": ["award.issued", …] | ["*"]}`. The answer holds
/// `secret` (`whsec_` + base64), shown only here: keep it to check signatures.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookDraft,
    responses((status = 201, body = WebhookView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<WebhookDraft>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_webhook(&who, d).await?),
    ))
}

/// Every webhook, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Page<WebhookView>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<WebhookView>>> {
    Ok(Json(Page {
        items: s.service.webhooks(&who).await?,
        next_cursor: None,
    }))
}

/// One webhook.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(s.service.webhook(&who, id).await?))
}

/// Stops a webhook: nothing more is sent to it; its delivery log is kept.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    s.service.delete_webhook(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A webhook's delivery attempts, oldest first: each with its `webhook_id` (the same on
/// every retry of a message), the status answered or the error, and how long it took.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path), DeliveryParams),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn deliveries(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Page<DeliveryView>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    Ok(Json(s.service.webhook_deliveries(&who, id, page).await?))
}
