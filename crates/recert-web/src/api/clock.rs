//! `/api/v1/test-clock`: the instant an instance takes as now, and moving it on an instance
//! started with `--test-clock` (SPEC §9).

use crate::AppState;
use crate::extract::{ApiJson, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use recert_service::test_clock::{TestClockDraft, TestClockView};

/// The instant this instance takes as now, and whether it runs on the test clock.
/// Administrators only.
#[utoipa::path(get, path = "/api/v1/test-clock", tag = "operations",
    responses((status = 200, body = TestClockView)))]
pub async fn test_clock(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<TestClockView>> {
    Ok(Json(s.service.test_clock(&who)?))
}

/// Moves the test clock; every instance on this database started with `--test-clock` takes
/// it as now within a second. Refused (409) on an instance on the real clock. Audited.
#[utoipa::path(put, path = "/api/v1/test-clock", tag = "operations", request_body = TestClockDraft,
    responses((status = 200, body = TestClockView),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn move_test_clock(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<TestClockDraft>,
) -> ApiResult<Json<TestClockView>> {
    Ok(Json(s.service.move_test_clock(&who, &d.now).await?))
}
