//! `/api/v1/exports/{what}`: every award, learner or audit event the caller may see, as a
//! CSV, XLSX or JSON-lines file streamed while it is read; and `/api/v1/audit`, the audit
//! trail as JSON (SPEC §5, §7).

use crate::AppState;
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use recert_service::audit_log::AuditQuery;
use recert_service::exports::Format;
use recert_service::listing::{Sort, Window, keys};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default), `xlsx` or `jsonl`.
    pub format: Option<String>,
}

/// Every award, learner or audit event the caller may see (`what`: `awards`,
/// `learners` or `audit`), as a file written while it is read: memory stays flat
/// whatever its size.
#[utoipa::path(get, path = "/api/v1/exports/{what}", tag = "reports",
    params(("what" = String, Path, description = "awards, learners or audit"), ExportParams),
    responses((status = 200, description = "The file", content(
            (String = "text/csv"),
            (String = "application/x-ndjson"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(what): ApiPath<String>,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> ApiResult<Response> {
    if !recert_service::exports::EXPORTABLE.contains(&what.as_str()) {
        return Err(recert_service::ServiceError::not_found("export", what).into());
    }
    let format = match p.format.as_deref().map(str::trim) {
        None | Some("") => Format::Csv,
        other => Format::parse(other)?,
    };
    Ok(super::reports::download(
        s.service.export_all(&who, &what, format).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub actor: Option<String>,
    /// e.g. `award.revoked`, `import.completed`.
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// First day (UTC), `YYYY-MM-DD`.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (UTC), inclusive.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Newest first (default) or `at` for oldest first.
    pub sort: Option<String>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
}

/// A window of the audit trail, with the total that matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<recert_service::AuditEvent>,
    pub total: i64,
}

/// The audit trail (admins and auditors): who changed what, when, before and after.
#[utoipa::path(get, path = "/api/v1/audit", tag = "reports", params(AuditParams),
    responses((status = 200, body = AuditPage),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn audit(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditPage>> {
    let q = AuditQuery {
        actor: p.actor,
        action: p.action,
        subject_type: p.subject_type,
        subject_id: p.subject_id,
        from: p.from,
        to: p.to,
    };
    let sort = Sort::parse(p.sort.as_deref().unwrap_or(""), &keys::audit(), "-at")?;
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(recert_service::ServiceError::field("limit", "must be 1 to 500").into());
    }
    let window = Window {
        offset: p.offset.unwrap_or(0).max(0),
        limit: Some(limit),
    };
    let listed = s.service.audit_events(&who, &q, &sort, window).await?;
    Ok(Json(AuditPage {
        items: listed.items,
        total: listed.total,
    }))
}
