//! Reports (SPEC §9 "Reports"): the compliance report as JSON, CSV or XLSX.

use crate::AppState;
use crate::extract::{ApiQuery, Auth};
use crate::problem::ApiResult;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Json, Response};
use recert_service::exports::Format;
use recert_service::reports::{ComplianceQuery, ComplianceReport};

/// The parameters, for the OpenAPI document (the handler reads the pairs themselves:
/// `program` and `group` repeat).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ComplianceParams {
    /// A program code; repeat for several. Default: every program.
    program: Option<Vec<String>>,
    /// A group name; repeat for several. Default: every group.
    group: Option<Vec<String>>,
    /// The day to judge on, `YYYY-MM-DD` (default today): what recert said that day.
    #[param(format = Date)]
    as_of: Option<String>,
    /// Add the learners behind each number.
    detail: Option<bool>,
    /// `json` (default), `csv` or `xlsx`.
    format: Option<String>,
}

/// The compliance report: per requirement (program × group), how its required people stood
/// on the day asked.
///
/// Each required person (a current member of the group) counts once, by their best award in
/// the program that day. Program managers see their own programs; supervisors and learners
/// may not read reports.
#[utoipa::path(get, path = "/api/v1/reports/compliance", tag = "reports", params(ComplianceParams),
    responses((status = 200, body = ComplianceReport, description = "The report (or a CSV/XLSX file with `format`)",
        content(
            (ComplianceReport = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = crate::problem::Problem, content_type = "application/problem+json", description = "The role may not read reports")))]
pub async fn compliance(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(pairs): ApiQuery<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let (query, format) = ComplianceQuery::from_pairs(&pairs, &[])?;
    let report = s.service.compliance(&who, &query).await?;
    if format == Format::Json {
        return Ok(Json(report).into_response());
    }
    let bytes = report.table(query.detail).encode(format)?;
    Ok(file(bytes, format, &format!("compliance-{}", report.as_of)))
}

/// A download: the bytes with their type and a file name.
pub fn file(bytes: Vec<u8>, format: Format, stem: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, disposition(stem, format)),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment; filename="…"` with only characters every client takes in a header.
fn disposition(stem: &str, format: Format) -> String {
    content_disposition("attachment", stem, format.extension())
}

/// `{kind}; filename="{stem}.{extension}"`, the stem reduced to characters every client
/// takes in a header (the others become `-`).
pub fn content_disposition(kind: &str, stem: &str, extension: &str) -> String {
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{kind}; filename=\"{safe}.{extension}\"")
}

/// A file sent as the service writes it (chunked), so an export of any size takes
/// constant memory on both sides. A failure part way aborts the response, which the
/// client sees as an incomplete download rather than a short file.
pub fn download(d: recert_service::exports::Download) -> Response {
    let format = d.format;
    let name = disposition(&d.stem, format);
    let body = axum::body::Body::from_stream(futures_util::stream::unfold(d, |mut d| async move {
        d.next_chunk()
            .await
            .map(|chunk| (chunk.map(axum::body::Bytes::from), d))
    }));
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response()
}
