//! `/api/v1/message-templates` and `/api/v1/programs/{code}/message-templates` (SPEC §3.7):
//! the wording of each email, for every program (administrators) or one program (its
//! managers), with a preview. Saving or resetting is audited.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use recert_service::message_templates::{
    MessagePreview, MessageTemplateDraft, MessageTemplateView,
};
use recert_service::page::Page;

/// Every message and the template it goes out with for all programs: written here, or
/// recert's own wording (`source`).
#[utoipa::path(get, path = "/api/v1/message-templates", tag = "messages",
    responses((status = 200, body = Page<MessageTemplateView>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<MessageTemplateView>>> {
    Ok(Json(Page {
        items: s.service.message_templates(&who, None).await?,
        next_cursor: None,
    }))
}

/// One message's template for all programs.
#[utoipa::path(get, path = "/api/v1/message-templates/{event}", tag = "messages", params(("event" = String, Path)),
    responses((status = 200, body = MessageTemplateView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event): ApiPath<String>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(s.service.message_template(&who, None, &event).await?))
}

/// Saves one message's template for all programs (`{"subject", "body"}`; shortcodes in
/// `[brackets]`, only those the message lists).
#[utoipa::path(put, path = "/api/v1/message-templates/{event}", tag = "messages", params(("event" = String, Path)),
    request_body = MessageTemplateDraft,
    responses((status = 200, body = MessageTemplateView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event): ApiPath<String>,
    ApiJson(d): ApiJson<MessageTemplateDraft>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(
        s.service
            .put_message_template(&who, None, &event, d)
            .await?,
    ))
}

/// Goes back to recert's own wording for one message; answers the template that now applies.
#[utoipa::path(delete, path = "/api/v1/message-templates/{event}", tag = "messages", params(("event" = String, Path)),
    responses((status = 200, body = MessageTemplateView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn reset(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event): ApiPath<String>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(
        s.service.reset_message_template(&who, None, &event).await?,
    ))
}

/// The message as it goes out now, with example values.
#[utoipa::path(get, path = "/api/v1/message-templates/{event}/preview", tag = "messages", params(("event" = String, Path)),
    responses((status = 200, body = MessagePreview), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event): ApiPath<String>,
) -> ApiResult<Json<MessagePreview>> {
    Ok(Json(
        s.service.preview_message(&who, None, &event, None).await?,
    ))
}

/// A draft as it would go out, with example values; checked as saving would check it.
#[utoipa::path(post, path = "/api/v1/message-templates/{event}/preview", tag = "messages", params(("event" = String, Path)),
    request_body = MessageTemplateDraft,
    responses((status = 200, body = MessagePreview), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn preview_draft(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event): ApiPath<String>,
    ApiJson(d): ApiJson<MessageTemplateDraft>,
) -> ApiResult<Json<MessagePreview>> {
    Ok(Json(
        s.service
            .preview_message(&who, None, &event, Some(d))
            .await?,
    ))
}

/// Every message a program may word itself and the template it goes out with: the
/// program's own, the organization's default, or recert's wording (`source`).
#[utoipa::path(get, path = "/api/v1/programs/{code}/message-templates", tag = "messages", params(("code" = String, Path)),
    responses((status = 200, body = Page<MessageTemplateView>), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn program_list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<Page<MessageTemplateView>>> {
    Ok(Json(Page {
        items: s.service.message_templates(&who, Some(&code)).await?,
        next_cursor: None,
    }))
}

/// One message's template for the program.
#[utoipa::path(get, path = "/api/v1/programs/{code}/message-templates/{event}", tag = "messages",
    params(("code" = String, Path), ("event" = String, Path)),
    responses((status = 200, body = MessageTemplateView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn program_show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, event)): ApiPath<(String, String)>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(
        s.service
            .message_template(&who, Some(&code), &event)
            .await?,
    ))
}

/// Saves one message's template for the program.
#[utoipa::path(put, path = "/api/v1/programs/{code}/message-templates/{event}", tag = "messages",
    params(("code" = String, Path), ("event" = String, Path)), request_body = MessageTemplateDraft,
    responses((status = 200, body = MessageTemplateView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn program_put(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, event)): ApiPath<(String, String)>,
    ApiJson(d): ApiJson<MessageTemplateDraft>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(
        s.service
            .put_message_template(&who, Some(&code), &event, d)
            .await?,
    ))
}

/// Removes the program's own template: the message goes out with the organization's
/// default again. Answers the template that now applies.
#[utoipa::path(delete, path = "/api/v1/programs/{code}/message-templates/{event}", tag = "messages",
    params(("code" = String, Path), ("event" = String, Path)),
    responses((status = 200, body = MessageTemplateView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn program_reset(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, event)): ApiPath<(String, String)>,
) -> ApiResult<Json<MessageTemplateView>> {
    Ok(Json(
        s.service
            .reset_message_template(&who, Some(&code), &event)
            .await?,
    ))
}

/// The program's message as it goes out now, with example values.
#[utoipa::path(get, path = "/api/v1/programs/{code}/message-templates/{event}/preview", tag = "messages",
    params(("code" = String, Path), ("event" = String, Path)),
    responses((status = 200, body = MessagePreview), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn program_preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, event)): ApiPath<(String, String)>,
) -> ApiResult<Json<MessagePreview>> {
    Ok(Json(
        s.service
            .preview_message(&who, Some(&code), &event, None)
            .await?,
    ))
}

/// A draft of the program's message as it would go out, with example values.
#[utoipa::path(post, path = "/api/v1/programs/{code}/message-templates/{event}/preview", tag = "messages",
    params(("code" = String, Path), ("event" = String, Path)), request_body = MessageTemplateDraft,
    responses((status = 200, body = MessagePreview), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn program_preview_draft(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath((code, event)): ApiPath<(String, String)>,
    ApiJson(d): ApiJson<MessageTemplateDraft>,
) -> ApiResult<Json<MessagePreview>> {
    Ok(Json(
        s.service
            .preview_message(&who, Some(&code), &event, Some(d))
            .await?,
    ))
}
