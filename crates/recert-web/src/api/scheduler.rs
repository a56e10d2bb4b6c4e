//! `/api/v1/scheduler`: what the reminder scheduler has done (SPEC §9).

use crate::AppState;
use crate::extract::Auth;
use crate::problem::ApiResult;
use axum::Json;
use axum::extract::State;
use recert_service::outbox::{SchedulerView, TickReport};

/// The clock the scheduler runs on, when its latest complete pass ran (by any instance),
/// and how many messages wait for delivery. Administrators only.
#[utoipa::path(get, path = "/api/v1/scheduler", tag = "operations",
    responses((status = 200, body = SchedulerView)))]
pub async fn scheduler(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<SchedulerView>> {
    Ok(Json(s.service.scheduler_status(&who).await?))
}

/// Runs one scheduler pass now, as every instance does each `scheduler_interval`:
/// records and queues the notices that are due, then delivers what waits in the outbox.
/// Answers what it did. Safe beside the instances' own passes. Administrators only.
#[utoipa::path(post, path = "/api/v1/scheduler/run", tag = "operations",
    responses((status = 200, body = TickReport)))]
pub async fn run(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<TickReport>> {
    Ok(Json(s.service.run_scheduler(&who).await?))
}
