//! RFC 9457 problem details: the ONE place service errors and request rejections become
//! HTTP answers. A 5xx logs its cause under an id and tells the client only that id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use recert_domain::FieldError;
use recert_service::ServiceError;
use serde::Serialize;

/// A problem details body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For server errors: the request's id (also in the `x-request-id` header and every
    /// log line of the request); quote it when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    /// The same id under the name the header uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: format!("/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            error_id: None,
            request_id: None,
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    fn internal(cause: &str) -> Self {
        // The request's id: the same one is on the response header and on every log line
        // of the request, so a user's report leads to the cause.
        let id = crate::request_id::current().unwrap_or_else(|| "unknown".to_owned());
        tracing::error!(error_id = %id, cause, "internal error");
        let mut p = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            format!("Something went wrong on our side. Quote request id {id} when reporting it."),
        );
        p.request_id = Some(id.clone());
        p.error_id = Some(id);
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"recert\""),
            );
        }
        res
    }
}

/// Any error a handler returns.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<Problem> for ApiError {
    fn from(p: Problem) -> Self {
        Self(p)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        Self(match e {
            ServiceError::Validation(d) => {
                let detail = d.to_string();
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "Invalid input",
                    detail,
                )
                .with_errors(d.0)
            }
            ServiceError::NotFound { what, key } => Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                if key.is_empty() {
                    format!("{what} not found")
                } else {
                    format!("{what} {key:?} does not exist")
                },
            ),
            ServiceError::Conflict(msg) => {
                Problem::new(StatusCode::CONFLICT, "conflict", "Conflict", msg)
            }
            ServiceError::Unauthenticated => Problem::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
                "send a valid API token as 'Authorization: Bearer rct_…' (create one with 'recert token create')",
            ),
            ServiceError::Forbidden(msg) => {
                Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", msg)
            }
            ServiceError::TooManyRequests(msg) => Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
                msg,
            ),
            ServiceError::TooLarge(msg) => {
                Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", "Too large", msg)
            }
            ServiceError::Internal(cause) => Problem::internal(&cause),
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Whether the client asked for a page: a browser's `Accept` names `text/html`, an API
/// client's names JSON or nothing in particular.
pub fn wants_html(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let kind = parts.next().unwrap_or("");
            // `text/html;q=0` says "anything but a page".
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            kind.eq_ignore_ascii_case("text/html") && q > 0.0
        })
}

/// No route: the styled error page for a browser, a problem document for anyone else.
pub async fn not_found(headers: axum::http::HeaderMap, uri: axum::http::Uri) -> Response {
    if wants_html(&headers) {
        return crate::ui::error_page(
            StatusCode::NOT_FOUND,
            "Page not found",
            "There is no page at this address. It may have been mistyped, or the link may be out of date.",
        );
    }
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        format!("no route {}", uri.path()),
    )
    .into_response()
}

/// A route that does not take this method: as [`not_found`], a page or a problem document.
pub async fn method_not_allowed(
    headers: axum::http::HeaderMap,
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> Response {
    let detail = format!("{method} is not allowed on {}", uri.path());
    if wants_html(&headers) {
        return crate::ui::error_page(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", &detail);
    }
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        detail,
    )
    .into_response()
}

/// A handler panicked: answer like any other internal error rather than dropping the
/// connection.
pub fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let cause = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic".to_owned());
    Problem::internal(&cause).into_response()
}
