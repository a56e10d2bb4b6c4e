//! `/api/v1/award-batches`: one program awarded to learners and/or groups at once.

use crate::AppState;
use crate::extract::{ApiJson, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use recert_service::award_batches::{AwardBatchDraft, AwardBatchResult};

/// Awards a program to learners and/or every member of groups, in one transaction.
///
/// Each learner gets one line: `awarded`, `skipped` (already holds it) or `refused`
/// (no such learner). With `preview: true` nothing is written and the answer says what
/// would happen.
#[utoipa::path(post, path = "/api/v1/award-batches", tag = "awards", operation_id = "create_batch", request_body = AwardBatchDraft,
    responses((status = 200, body = AwardBatchResult, description = "What happened to each learner (or would, in a preview)"),
        (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller may not award this program"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "The input breaks a rule; every field at fault is named")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<AwardBatchDraft>,
) -> ApiResult<Json<AwardBatchResult>> {
    Ok(Json(s.service.award_batch(&who, d).await?))
}
