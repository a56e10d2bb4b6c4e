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
        if has_nul_escape(&bytes) {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Invalid input",
                "text must not contain NUL (\\u0000) characters",
            )
            .with_errors(vec![FieldError {
                field: "body".into(),
                message: "contains a NUL character".into(),
            }])
            .into());
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_problem(rejection).into()),
        }
    }
}

/// Whether a JSON text holds a `\u0000` escape in a string. No database stores NUL in text
/// (PostgreSQL refuses it), so it is refused here with a clear answer.
fn has_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
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

/// Refuses a URL whose path or query decodes to a NUL character, before any handler.
pub async fn refuse_nul(req: Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = req.uri();
    let nul = uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00"));
    if nul {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            "the URL contains a NUL (%00) character",
        )
        .into_response();
    }
    next.run(req).await
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
