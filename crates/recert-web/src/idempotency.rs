//! The `Idempotency-Key` layer over every `POST /api/v1/…`: reads the request once,
//! asks the service whether its key was seen, and either answers again what was answered
//! then or lets the request through and has its answer kept. The rule itself lives in
//! `recert_service::idempotency`.

use crate::AppState;
use crate::problem::{ApiError, Problem};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use recert_service::idempotency::{Answer, Begin};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Answers larger than this are not kept (none of the API's POST answers comes close).
const MAX_KEPT_ANSWER: usize = 4 * 1024 * 1024;

pub async fn layer<F, Fut>(state: &AppState, req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    if req.method() != Method::POST || !req.uri().path().starts_with("/api/v1/") {
        return next(req).await;
    }
    let Some(key) = req.headers().get(HEADER) else {
        return next(req).await;
    };
    let Ok(key) = key.to_str().map(str::to_owned) else {
        return ApiError::from(recert_service::ServiceError::field(
            "Idempotency-Key",
            "must be visible ASCII characters (a UUID is usual)",
        ))
        .into_response();
    };
    if let Err(e) = recert_service::idempotency::check_key(&key) {
        return ApiError::from(e).into_response();
    }
    // Keys belong to a caller: a request without credentials has none to look up (it is
    // answered 401, or publicly, as if it carried no key).
    let Some(credentials) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_owned)
    else {
        return next(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::UPLOAD_LIMIT).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
            format!("the body is over {} bytes", crate::UPLOAD_LIMIT),
        )
        .into_response();
    };
    let fingerprint = recert_service::idempotency::fingerprint(
        parts.method.as_str(),
        &parts.uri.to_string(),
        &bytes,
    );
    match state
        .service
        .idempotency_begin(&credentials, &key, &fingerprint)
        .await
    {
        Err(e) => return ApiError::from(e).into_response(),
        Ok(Begin::Replay(answer)) => return replay(answer),
        Ok(Begin::Mismatch) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key used for another request",
                "This Idempotency-Key was sent with a different request in the last 24 hours. Use a new key for a new request.",
            )
            .into_response();
        }
        Ok(Begin::Busy) => {
            return Problem::new(
                StatusCode::CONFLICT,
                "idempotency-key-busy",
                "Request still being answered",
                "The first request with this Idempotency-Key is still being answered. Retry when it is done.",
            )
            .into_response();
        }
        Ok(Begin::Go) => {}
    }
    // A panic below is answered here, as the 500 it becomes outside, so the key is released
    // like after any other failure of ours rather than left busy until it expires.
    let res = std::panic::AssertUnwindSafe(next(Request::from_parts(parts, Body::from(bytes))))
        .catch_unwind()
        .await
        .unwrap_or_else(crate::problem::panicked);
    let status = res.status();
    // A failure on our side, a missing token or a rate limit is not the answer to keep:
    // the retry the key exists for should get a real one.
    if status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        if let Err(e) = state.service.idempotency_release(&credentials, &key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_KEPT_ANSWER).await else {
        let _ = state.service.idempotency_release(&credentials, &key).await;
        return ApiError::from(recert_service::ServiceError::internal(
            "an answer too large to keep for its Idempotency-Key",
        ))
        .into_response();
    };
    let text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let answer = Answer {
        status: status.as_u16(),
        content_type: text(header::CONTENT_TYPE),
        location: text(header::LOCATION),
        body: bytes.to_vec(),
    };
    if let Err(e) = state
        .service
        .idempotency_keep(&credentials, &key, &answer)
        .await
    {
        // The work is done and answered; only a retry would repeat it.
        tracing::warn!(error = %e, "could not keep the answer for an idempotency key");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The first answer again, marked as a replay.
fn replay(answer: Answer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut res = (status, answer.body).into_response();
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, answer.content_type),
        (header::LOCATION, answer.location),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(name, v);
        }
    }
    h.insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}
