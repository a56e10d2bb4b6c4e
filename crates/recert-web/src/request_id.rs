//! `x-request-id`: every response carries one (the caller's own when it sent a usable one),
//! every log line of the request is inside a span that names it, and a 5xx problem body
//! quotes it, so a report from a user finds its log lines.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being handled, if any (outside a request: `None`).
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// An id the caller sent is kept when it is short and plain (letters, digits, `-_.:`),
/// so it can be logged and echoed safely; otherwise a new one is made.
fn usable(raw: &str) -> bool {
    (1..=128).contains(&raw.len())
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn fresh() -> String {
    recert_service::sessions::random_token(8).unwrap_or_else(|_| {
        // Randomness failing is a fault elsewhere; a time-based id still correlates.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        format!("{nanos:x}")
    })
}

/// Runs `next` inside the request's id and span, and puts the id on the answer.
pub async fn layer<F, Fut>(req: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable(v))
        .map(str::to_owned)
        .unwrap_or_else(fresh);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let mut res = CURRENT
        .scope(id.clone(), next(req))
        .instrument(span.clone())
        .await;
    let status = res.status();
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "answered"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                ms = started.elapsed().as_millis() as u64,
                "answered"
            );
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::usable;

    #[test]
    fn only_plain_short_ids_are_kept() {
        assert!(usable("3f2a-01:abc_DEF.9"));
        assert!(!usable(""));
        assert!(!usable("has space"));
        assert!(!usable("line\nbreak"));
        assert!(!usable(&"x".repeat(129)));
    }
}
