//! Extractors whose rejections are problem+json too (axum's own answer in plain text), and
//! the authenticated caller.

use crate::AppState;
use crate::problem::{ApiError, Problem};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use recert_domain::FieldError;
use recert_service::{Principal, ServiceError};
use serde::de::DeserializeOwned;

/// A JSON body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "send the body as JSON with 'Content-Type: application/json'",
            )
            .into());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large()
                } else {
                    Problem::new(r.status(), "bad-request", "Bad request", r.body_text())
                }
            })?;
        parse_json(&bytes).map(Self)
    }
}

/// Reads a JSON body already taken from the request: text no field may hold is refused
/// first (naming where it is), then the body is read into `T`.
// The error every handler answers with (`ApiResult`); this is a step of a handler.
#[allow(clippy::result_large_err)]
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if needs_text_check(bytes)
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(e) = json_text_error(&v)
    {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "Invalid input",
            format!("{}: {}", e.field, e.message),
        )
        .with_errors(vec![e])
        .into());
    }
    match axum::Json::<T>::from_bytes(bytes) {
        Ok(axum::Json(v)) => Ok(v),
        Err(rejection) => Err(json_problem(rejection).into()),
    }
}

/// Whether a JSON text may hold a string no field may hold: a `\u00XX` escape of a
/// control character (the only way one gets into a JSON string; raw ones are not JSON), or
/// a string longer than [`recert_domain::names::MAX_TEXT_CHARS`] bytes. A quick scan, so the
/// common body is parsed once.
pub fn needs_text_check(bytes: &[u8]) -> bool {
    let max = recert_domain::names::MAX_TEXT_CHARS;
    let (mut i, mut in_string, mut run) = (0, false, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                if bytes.get(i + 1) == Some(&b'u')
                    && bytes.get(i + 2..i + 4) == Some(b"00")
                    && matches!(bytes.get(i + 4), Some(b'0' | b'1'))
                {
                    return true;
                }
                run += 2;
                i += 2;
                continue;
            }
            b'"' => {
                in_string = !in_string;
                run = 0;
            }
            _ if in_string => run += 1,
            _ => {}
        }
        if run > max {
            return true;
        }
        i += 1;
    }
    false
}

/// The first string (or key) of a JSON document holding a character no text may hold
/// (`recert_domain::names::forbidden_char`), named by its path: `learners[2]`,
/// `actor.name`. The JSON edges (API, xAPI) refuse such documents with this.
pub fn json_text_error(v: &serde_json::Value) -> Option<FieldError> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<FieldError> {
        let at = |p: &str| {
            if p.is_empty() {
                "body".to_owned()
            } else {
                p.to_owned()
            }
        };
        match v {
            serde_json::Value::String(s) => recert_domain::names::check_text(&at(path), s)
                .err()
                .and_then(|e| e.0.into_iter().next()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match recert_domain::names::check_text(&at(&p), k) {
                    Err(e) => e.0.into_iter().next(),
                    Ok(()) => walk(x, &p),
                }
            }),
            _ => None,
        }
    }
    walk(v, "")
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "Request body too large",
        format!(
            "the request body exceeds the limit of {} bytes",
            crate::BODY_LIMIT
        ),
    )
}

/// Percent-decodes a URL part leniently (bad escapes stay as they are).
pub(crate) fn percent_decoded(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses, before any handler, a URL whose path or query decodes to a character no text
/// may hold: the same rule as every body. The API answers problem+json, pages an HTML page.
pub fn refused(req: &Request) -> Option<axum::response::Response> {
    use axum::response::IntoResponse;
    let uri = req.uri();
    let bad = [("path", uri.path()), ("query", uri.query().unwrap_or(""))]
        .into_iter()
        .find_map(|(part, raw)| {
            recert_domain::names::check_text(part, &percent_decoded(raw)).err()
        });
    if let Some(e) = bad {
        let detail = format!("the URL's {e}");
        let api = uri.path().starts_with("/api/") || uri.path().starts_with("/xapi/");
        return Some(if api {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                detail,
            )
            .into_response()
        } else {
            crate::ui::error_page(StatusCode::BAD_REQUEST, "Bad address", &detail)
        });
    }
    None
}

fn json_problem(r: JsonRejection) -> Problem {
    let status = r.status();
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => {
            // serde names the path: "…: validity.count: invalid type…"; surface it as a field.
            let detail = text
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
                .to_owned();
            let (field, message) = match detail.split_once(": ") {
                Some((f, m)) if !f.contains(' ') => (f.to_owned(), m.to_owned()),
                _ => ("body".to_owned(), detail.clone()),
            };
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
                detail,
            )
            .with_errors(vec![FieldError { field, message }])
        }
        JsonRejection::JsonSyntaxError(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Malformed JSON",
            text,
        ),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "send the body as JSON with 'Content-Type: application/json'",
        ),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            status,
            "body-too-large",
            "Request body too large",
            format!(
                "the request body exceeds the limit of {} bytes",
                crate::BODY_LIMIT
            ),
        ),
        _ => Problem::new(status, "bad-request", "Bad request", text),
    }
}

/// A query string.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(r) => Err(query_problem(r).into()),
        }
    }
}

fn query_problem(r: QueryRejection) -> Problem {
    let detail = r
        .body_text()
        .trim_start_matches("Failed to deserialize query string: ")
        .to_owned();
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation",
        "Invalid query parameter",
        detail.clone(),
    )
    .with_errors(vec![FieldError {
        field: "query".into(),
        message: detail,
    }])
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(r) => Err(path_problem(r).into()),
        }
    }
}

fn path_problem(r: PathRejection) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "bad-path",
        "Bad path parameter",
        r.body_text(),
    )
}

/// The authenticated caller, from `Authorization: Bearer …`.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ServiceError::Unauthenticated)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or(ServiceError::Unauthenticated)?;
        Ok(Self(state.service.authenticate(token.trim()).await?))
    }
}

/// A multipart form's text fields and its one file (the field named `file_field`), each
/// checked for characters no record may hold.
pub async fn read_multipart(
    mut mp: axum::extract::Multipart,
    file_field: &str,
) -> Result<
    (
        Vec<(String, String)>,
        Option<recert_service::external::Upload>,
    ),
    ServiceError,
> {
    let mut fields = Vec::new();
    let mut upload = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(file_field, &e)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        recert_domain::names::check_text("field name", &name)?;
        if name == file_field {
            let file_name = field.file_name().unwrap_or(file_field).to_owned();
            recert_domain::names::check_text(file_field, &file_name)?;
            let content_type = field.content_type().unwrap_or_default().to_owned();
            let bytes = field
                .bytes()
                .await
                .map_err(|e| multipart_error(file_field, &e))?;
            upload = Some(recert_service::external::Upload {
                name: file_name,
                content_type,
                bytes: bytes.to_vec(),
            });
        } else {
            let text = field.text().await.map_err(|e| multipart_error(&name, &e))?;
            recert_domain::names::check_text(&name, &text)?;
            fields.push((name, text));
        }
    }
    Ok((fields, upload))
}

/// A multipart body that could not be read: over the size limit (413), or broken (the
/// field named).
fn multipart_error(field: &str, e: &axum::extract::multipart::MultipartError) -> ServiceError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServiceError::TooLarge(format!(
            "the upload is over {} MB, the most one request may carry",
            crate::UPLOAD_LIMIT / (1024 * 1024)
        ))
    } else {
        ServiceError::field(
            field,
            format!("the upload could not be read: {}", e.body_text()),
        )
    }
}
