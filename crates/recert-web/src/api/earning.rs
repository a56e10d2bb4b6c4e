//! Earning (SPEC §3.3): `/api/v1/completions`, `/api/v1/lms-connections`,
//! `/api/v1/external-training`, `/api/v1/group-awards` and program backfill.

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth};
use crate::problem::{ApiError, ApiResult, Problem};
use axum::Json;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use recert_service::ServiceError;
use recert_service::backfill::BackfillReport;
use recert_service::completions::{
    BatchResult, CompletionDraft, CompletionQuery, CompletionView, Intake, Unreadable,
};
use recert_service::external::{DecisionDraft, ExternalDraft, ExternalView, Upload};
use recert_service::group_awards::{GroupAwardDraft, GroupAwardReport, GroupAwardView};
use recert_service::page::Page;
use recert_service::xapi::{CreatedConnection, LmsConnectionDraft, LmsConnectionView};
use serde::Deserialize;
use serde_json::Value;

/// The body of `POST /api/v1/completions`: one completion, or an array of them.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum CompletionBody {
    One(CompletionDraft),
    Batch(Vec<CompletionDraft>),
}

fn draft_from(v: Value) -> Result<CompletionDraft, ServiceError> {
    serde_json::from_value(v).map_err(|e| ServiceError::field("body", e.to_string()))
}

/// Records one completion (answer: the completion, 201; 200 for a replay) or a batch of
/// up to 1000 (answer: one entry per completion, 200; bad entries are rejected one by one).
#[utoipa::path(post, path = "/api/v1/completions", tag = "completions", request_body = CompletionBody,
    responses((status = 201, body = CompletionView), (status = 200, body = BatchResult),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn record(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    match body {
        Value::Array(items) => {
            // An entry that is not even an object is no completion at all: the batch is
            // malformed and refused whole, naming it.
            if let Some(i) = items.iter().position(|v| !v.is_object()) {
                return Err(
                    ServiceError::field(&format!("[{i}]"), "must be a completion object").into(),
                );
            }
            // Each entry is read on its own so one malformed entry is reported by its index
            // instead of refusing the batch.
            let drafts = items
                .into_iter()
                .map(|v| {
                    let event_id = v.get("event_id").and_then(Value::as_str).map(str::to_owned);
                    serde_json::from_value::<CompletionDraft>(v).map_err(|e| Unreadable {
                        event_id,
                        errors: recert_domain::DomainError(vec![recert_domain::FieldError {
                            field: "body".into(),
                            message: e.to_string(),
                        }]),
                    })
                })
                .collect();
            let result = s.service.record_completions(&who, drafts).await?;
            Ok((StatusCode::OK, Json(result)).into_response())
        }
        Value::Object(_) => {
            let v = s.service.record_completion(&who, draft_from(body)?).await?;
            let status = match v.status {
                Intake::Recorded => StatusCode::CREATED,
                Intake::Replayed => StatusCode::OK,
            };
            Ok((status, Json(v)).into_response())
        }
        _ => {
            Err(ServiceError::field("body", "send a completion object or an array of them").into())
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompletionParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub learner: Option<String>,
    pub item: Option<String>,
}

/// Lists completions received, newest first, with what each did.
#[utoipa::path(get, path = "/api/v1/completions", tag = "completions", params(CompletionParams),
    responses((status = 200, body = Page<CompletionView>)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<CompletionParams>,
) -> ApiResult<Json<Page<CompletionView>>> {
    let page = super::page(p.cursor.as_deref(), p.limit)?;
    let q = CompletionQuery {
        learner: p.learner,
        item: p.item,
    };
    Ok(Json(s.service.completions(&who, q, page).await?))
}

/// One completion by event id.
#[utoipa::path(get, path = "/api/v1/completions/{event_id}", tag = "completions",
    params(("event_id" = String, Path)),
    responses((status = 200, body = CompletionView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(event_id): ApiPath<String>,
) -> ApiResult<Json<CompletionView>> {
    Ok(Json(s.service.completion(&who, &event_id).await?))
}

/// Creates xAPI credentials for an LMS; the secret is shown only in this answer.
#[utoipa::path(post, path = "/api/v1/lms-connections", tag = "lms-connections", request_body = LmsConnectionDraft,
    responses((status = 201, body = CreatedConnection), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_connection(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<LmsConnectionDraft>,
) -> ApiResult<(StatusCode, Json<CreatedConnection>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.service.create_lms_connection(&who, d).await?),
    ))
}

/// Lists LMS connections (never their secrets).
#[utoipa::path(get, path = "/api/v1/lms-connections", tag = "lms-connections",
    responses((status = 200, body = Page<LmsConnectionView>)))]
pub async fn list_connections(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Page<LmsConnectionView>>> {
    Ok(Json(Page {
        items: s.service.lms_connections(&who).await?,
        next_cursor: None,
    }))
}

/// Revokes an LMS connection's credentials.
#[utoipa::path(post, path = "/api/v1/lms-connections/{name}/revoke", tag = "lms-connections",
    params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_connection(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.service.revoke_lms_connection(&who, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reads an external training report from a multipart form: its text fields and the
/// optional `evidence` file. Shared by the API and the pages.
pub async fn read_report_form(
    mp: Multipart,
) -> Result<(Vec<(String, String)>, Option<Upload>), ServiceError> {
    crate::extract::read_multipart(mp, "evidence").await
}

/// A form field's value, trimmed; `None` when absent or empty.
pub fn form_value(fields: &[(String, String)], k: &str) -> Option<String> {
    fields
        .iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The `hours` form field as a number, refused by name when it is not one.
pub fn form_hours(fields: &[(String, String)]) -> Result<Option<f64>, ServiceError> {
    form_value(fields, "hours")
        .map(|h| {
            h.parse::<f64>().map_err(|_| {
                ServiceError::field("hours", format!("{h:?} is not a number of hours"))
            })
        })
        .transpose()
}

/// An external training draft from form fields.
pub fn external_draft(fields: &[(String, String)]) -> Result<ExternalDraft, ServiceError> {
    let get = |k: &str| form_value(fields, k);
    let hours = form_hours(fields)?;
    Ok(ExternalDraft {
        learner: get("learner"),
        program: get("program"),
        title: get("title"),
        provider: get("provider"),
        completed_on: get("completed_on"),
        hours,
    })
}

/// Reports external training: JSON, or `multipart/form-data` with the same fields and an
/// optional `evidence` file (up to 10 MB). Approved at once when the reporter may approve
/// it or the program asks for no approval; otherwise it waits in the approvers' queue.
#[utoipa::path(post, path = "/api/v1/external-training", tag = "external-training", request_body = ExternalDraft,
    responses((status = 201, body = ExternalView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: Request,
) -> ApiResult<(StatusCode, Json<ExternalView>)> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (draft, upload) = if multipart {
        let mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| ServiceError::field("body", e.body_text()))?;
        let (fields, upload) = read_report_form(mp).await?;
        (external_draft(&fields)?, upload)
    } else {
        let ApiJson(d) = ApiJson::<ExternalDraft>::from_request(req, &()).await?;
        (d, None)
    };
    Ok((
        StatusCode::CREATED,
        Json(s.service.report_external(&who, draft, upload).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// pending, approved or rejected.
    pub state: Option<String>,
    pub learner: Option<String>,
}

/// Lists external training reports the caller may see (`state=pending`: the queue).
#[utoipa::path(get, path = "/api/v1/external-training", tag = "external-training", params(ReportParams),
    responses((status = 200, body = Page<ExternalView>)))]
pub async fn reports(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ReportParams>,
) -> ApiResult<Json<Page<ExternalView>>> {
    Ok(Json(Page {
        items: s
            .service
            .external_reports(&who, p.state.as_deref(), p.learner.as_deref())
            .await?,
        next_cursor: None,
    }))
}

/// One external training report.
#[utoipa::path(get, path = "/api/v1/external-training/{id}", tag = "external-training",
    params(("id" = i64, Path)), responses((status = 200, body = ExternalView)))]
pub async fn report_show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ExternalView>> {
    Ok(Json(s.service.external_report(&who, id).await?))
}

/// A report's evidence file, downloaded as an attachment.
pub fn evidence_response(u: Upload) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        u.name
            .replace(|c: char| !c.is_ascii() || c == '"' || c == '\\', "_")
    );
    let mut res = (StatusCode::OK, u.bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&u.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = header::HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(crate::security::DOWNLOAD_POLICY),
    );
    res
}

/// The evidence file of a report.
#[utoipa::path(get, path = "/api/v1/external-training/{id}/evidence", tag = "external-training",
    params(("id" = i64, Path)), responses((status = 200, description = "The file"),
    (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn evidence(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    Ok(evidence_response(
        s.service.external_evidence(&who, id).await?,
    ))
}

/// Approves a pending report: it earns the program with issue date = its completion date.
#[utoipa::path(post, path = "/api/v1/external-training/{id}/approve", tag = "external-training",
    params(("id" = i64, Path)), request_body = DecisionDraft,
    responses((status = 200, body = ExternalView), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn approve(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<ExternalView>> {
    Ok(Json(s.service.approve_external(&who, id, d).await?))
}

/// Rejects a pending report; `note` (required) tells the learner why.
#[utoipa::path(post, path = "/api/v1/external-training/{id}/reject", tag = "external-training",
    params(("id" = i64, Path)), request_body = DecisionDraft,
    responses((status = 200, body = ExternalView), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn reject(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(d): ApiJson<DecisionDraft>,
) -> ApiResult<Json<ExternalView>> {
    Ok(Json(s.service.reject_external(&who, id, d).await?))
}

/// Awards a program to every member of a group (`"preview": true` changes nothing and
/// says who would get what).
#[utoipa::path(post, path = "/api/v1/group-awards", tag = "group-awards", request_body = GroupAwardDraft,
    responses((status = 201, body = GroupAwardReport), (status = 200, body = GroupAwardReport, description = "A preview"),
    (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn group_award(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiJson(d): ApiJson<GroupAwardDraft>,
) -> ApiResult<(StatusCode, Json<GroupAwardReport>)> {
    let r = s.service.create_group_award(&who, d).await?;
    let status = if r.preview {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(r)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupAwardParams {
    pub group: Option<String>,
}

/// Lists group awards (with whether they reach later members).
#[utoipa::path(get, path = "/api/v1/group-awards", tag = "group-awards", params(GroupAwardParams),
    responses((status = 200, body = Page<GroupAwardView>),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "The group does not exist")))]
pub async fn group_awards(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<GroupAwardParams>,
) -> ApiResult<Json<Page<GroupAwardView>>> {
    Ok(Json(Page {
        items: s.service.group_awards(&who, p.group.as_deref()).await?,
        next_cursor: None,
    }))
}

/// Stops awarding members who join later; awards already made stay.
#[utoipa::path(post, path = "/api/v1/group-awards/{id}/stop", tag = "group-awards",
    params(("id" = i64, Path)), responses((status = 200, body = GroupAwardView)))]
pub async fn stop_group_award(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<GroupAwardView>> {
    Ok(Json(s.service.stop_group_award(&who, id).await?))
}

/// Previews a backfill: which earlier completions would become awards, for whom.
#[utoipa::path(get, path = "/api/v1/programs/{code}/backfill", tag = "programs",
    params(("code" = String, Path)), responses((status = 200, body = BackfillReport)))]
pub async fn backfill_preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BackfillReport>> {
    Ok(Json(s.service.backfill(&who, &code, false).await?))
}

/// Runs the backfill (audited): earlier completions become awards.
#[utoipa::path(post, path = "/api/v1/programs/{code}/backfill", tag = "programs",
    params(("code" = String, Path)), responses((status = 200, body = BackfillReport)))]
pub async fn backfill_run(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<BackfillReport>> {
    Ok(Json(s.service.backfill(&who, &code, true).await?))
}
