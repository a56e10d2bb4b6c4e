//! `/api/v1/imports`: CSV imports of certification records and people, run as background
//! jobs (SPEC §9 "Reports and imports"). The file streams into the job as it arrives.

use crate::AppState;
use crate::extract::{ApiPath, ApiQuery, Auth};
use crate::problem::{ApiResult, Problem};
use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use recert_service::imports::{ImportForm, ImportJob};
use recert_service::{Principal, Service, ServiceError};
use serde::Deserialize;

/// Sets a form field of an import by name (a repeated name: the last value counts, as a
/// page's hidden "false" before its checkbox relies on); an unknown name is refused.
fn set(form: &mut ImportForm, name: &str, value: String) -> Result<(), ServiceError> {
    let slot = match name {
        "kind" => &mut form.kind,
        "dry_run" => &mut form.dry_run,
        "separator" => &mut form.separator,
        "charset" => &mut form.charset,
        "keep_last_duplicate" => &mut form.keep_last_duplicate,
        "create_learners" => &mut form.create_learners,
        "mapping" => &mut form.mapping,
        // The pages' CSRF token is checked by the page handler.
        "_csrf" => return Ok(()),
        other => {
            return Err(ServiceError::field(
                other,
                "unknown field: an import takes file, kind, dry_run, separator, charset, keep_last_duplicate, create_learners and mapping",
            ));
        }
    };
    *slot = Some(value);
    Ok(())
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ServiceError {
    ServiceError::field(
        "file",
        format!(
            "the upload broke off or is not a valid form: {}",
            e.body_text()
        ),
    )
}

/// Reads an import form (the settings and the `file`, in any order), streaming the file
/// into a new job, and queues it. Shared by the API and the pages; a page passes its
/// session's CSRF token, which must come before the file (as the page's form sends it),
/// so a forged form is refused before anything is stored.
pub async fn receive(
    service: &Service,
    who: &Principal,
    mut mp: Multipart,
    csrf: Option<&str>,
) -> Result<(ImportJob, ImportForm), ServiceError> {
    let mut form = ImportForm::default();
    let mut csrf_ok = csrf.is_none();
    let mut upload = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                if let Some(u) = upload.take() {
                    recert_service::imports::Upload::abandon(u).await;
                }
                return Err(multipart_error(e));
            }
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            if !csrf_ok {
                return Err(expired());
            }
            if upload.is_some() {
                return Err(ServiceError::field("file", "send one file per import"));
            }
            let file_name = field.file_name().unwrap_or("upload.csv").to_owned();
            let mut up = service.begin_import(who, &file_name).await?;
            let mut field = field;
            loop {
                match field.chunk().await {
                    Ok(Some(bytes)) => {
                        if let Err(e) = up.push(&bytes).await {
                            up.abandon().await;
                            return Err(e);
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        up.abandon().await;
                        return Err(multipart_error(e));
                    }
                }
            }
            upload = Some(up);
        } else {
            let value = field.text().await.map_err(multipart_error)?;
            if name == "_csrf" {
                csrf_ok = csrf.is_none_or(|want| crate::ui::forms::same_secret(&value, want));
            }
            if let Err(e) = set(&mut form, &name, value) {
                if let Some(u) = upload.take() {
                    u.abandon().await;
                }
                return Err(e);
            }
        }
    }
    let Some(up) = upload else {
        if !csrf_ok {
            return Err(expired());
        }
        return Err(ServiceError::field(
            "file",
            "no file was sent: add the CSV file as the form field file",
        ));
    };
    Ok((up.finish(who, &form).await?, form))
}

fn expired() -> ServiceError {
    ServiceError::Forbidden("this form has expired: reload the page and send the file again".into())
}

/// The multipart form of an import, for the OpenAPI document: every field but `file` is
/// optional (absent: its default), none is null, and any other field is refused.
#[derive(utoipa::ToSchema, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(dead_code)]
pub struct ImportUpload {
    /// The CSV file.
    #[schema(value_type = String, format = Binary)]
    #[serde(skip)]
    file: Vec<u8>,
    /// `awards` (default) or `learners`.
    kind: String,
    /// `true`: report what the import would do, change nothing.
    dry_run: bool,
    /// `,` `;` `|` or `tab`; empty: detected from the header line.
    separator: String,
    /// `auto` (default), `utf-8`, `utf-16`, `utf-16le`, `utf-16be`, `windows-1252`, `iso-8859-1`.
    charset: String,
    /// Import only the last of rows with the same username and certification code.
    keep_last_duplicate: bool,
    /// Create learners the file names that do not exist (default true).
    create_learners: bool,
    /// JSON object: recert's column name → the file's heading, e.g. `{"username": "Login"}`.
    mapping: String,
}

impl Default for ImportUpload {
    fn default() -> Self {
        Self {
            file: Vec::new(),
            kind: "awards".into(),
            dry_run: false,
            separator: String::new(),
            charset: "auto".into(),
            keep_last_duplicate: false,
            create_learners: true,
            mapping: String::new(),
        }
    }
}

/// Starts an import. The file's columns are checked at once; its rows are checked and
/// written by a background job whose progress `GET /api/v1/imports/{job}` answers.
/// Admins import anything; program managers import records of their own programs.
#[utoipa::path(post, path = "/api/v1/imports", tag = "imports",
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses((status = 202, body = ImportJob, description = "Queued"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<ImportJob>)> {
    use axum::extract::FromRequest;
    // Read here rather than as an extractor, so a body that is no multipart form gets a
    // problem like every other refusal.
    let mp = Multipart::from_request(req, &()).await.map_err(|e| {
        ServiceError::field(
            "body",
            format!(
                "send a multipart/form-data form with the file: {}",
                e.body_text()
            ),
        )
    })?;
    let (job, _) = receive(&s.service, &who, mp, None).await?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// How many of the latest jobs (1–500, default 50).
    pub limit: Option<i64>,
}

/// The latest import jobs, newest first (a program manager sees their own).
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ListParams),
    responses((status = 200, body = Vec<ImportJob>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<ImportJob>>> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ServiceError::field("limit", "must be 1 to 500").into());
    }
    Ok(Json(s.service.import_jobs(&who, limit).await?))
}

/// An import job's state and counts.
#[utoipa::path(get, path = "/api/v1/imports/{job}", tag = "imports", params(("job" = i64, Path)),
    responses((status = 200, body = ImportJob), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(job): ApiPath<i64>,
) -> ApiResult<Json<ImportJob>> {
    Ok(Json(s.service.import_job(&who, job).await?))
}

/// The rejected rows as CSV `row,column,value,reason` (row: the line in the file; the
/// header is 1).
#[utoipa::path(get, path = "/api/v1/imports/{job}/errors.csv", tag = "imports", params(("job" = i64, Path)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn errors(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(job): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(super::reports::download(
        s.service.import_report(&who, job, true).await?,
    ))
}

/// Every finding — rejections and notes (superseded awards, history, replaced
/// duplicates, unchanged rows) — as CSV `row,column,value,reason,outcome`.
#[utoipa::path(get, path = "/api/v1/imports/{job}/report.csv", tag = "imports", params(("job" = i64, Path)),
    responses((status = 200, body = String, content_type = "text/csv"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn report(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(job): ApiPath<i64>,
) -> ApiResult<Response> {
    Ok(super::reports::download(
        s.service.import_report(&who, job, false).await?,
    ))
}

/// Runs a finished dry run's file for real, with the same settings: a new job.
#[utoipa::path(post, path = "/api/v1/imports/{job}/run", tag = "imports", params(("job" = i64, Path)),
    responses((status = 202, body = ImportJob), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn run(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(job): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<ImportJob>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(s.service.run_dry_run_for_real(&who, job).await?),
    ))
}

/// Cancels a queued or running import: the batch in progress is rolled back, batches
/// already committed stay (the job's counts say how many rows), and the job ends as
/// failed with who cancelled it.
#[utoipa::path(post, path = "/api/v1/imports/{job}/cancel", tag = "imports", params(("job" = i64, Path)),
    responses((status = 200, body = ImportJob), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiPath(job): ApiPath<i64>,
) -> ApiResult<Json<ImportJob>> {
    Ok(Json(s.service.cancel_import(&who, job).await?))
}
