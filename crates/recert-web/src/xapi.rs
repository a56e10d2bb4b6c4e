//! `/xapi`: recert as a Learning Record Store for the LMS connections an admin creates
//! (xAPI 1.0.3 communication: statements resource and about resource).

use crate::AppState;
use crate::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use recert_service::ServiceError;
use recert_service::xapi::{LmsCaller, XAPI_VERSION};
use serde::Deserialize;

const VERSION_HEADER: &str = "x-experience-api-version";

/// Every LRS answer carries the version it speaks.
fn versioned(mut res: Response) -> Response {
    res.headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(XAPI_VERSION));
    res
}

fn bad_request(detail: impl Into<String>) -> Response {
    versioned(
        Problem::new(
            StatusCode::BAD_REQUEST,
            "xapi-bad-request",
            "Bad xAPI request",
            detail,
        )
        .into_response(),
    )
}

fn error(e: ServiceError) -> Response {
    let mut res = crate::problem::ApiError::from(e).into_response();
    if res.status() == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"recert xAPI\""),
        );
    }
    versioned(res)
}

/// Checks the HTTP Basic credentials of an LMS connection, then the version header (1.0.x).
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<LmsCaller, Response> {
    let creds = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok());
    let Some(creds) = creds else {
        return Err(error(ServiceError::Unauthenticated));
    };
    let Some((key, secret)) = creds.split_once(':') else {
        return Err(error(ServiceError::Unauthenticated));
    };
    // Credentials first: without them nothing else about the request is answered.
    let lms = state
        .service
        .authenticate_lms(key, secret)
        .await
        .map_err(error)?;
    match headers.get(VERSION_HEADER).and_then(|v| v.to_str().ok()) {
        Some(v) if v.trim().starts_with("1.0") => {}
        Some(v) => {
            return Err(bad_request(format!(
                "X-Experience-API-Version {v:?} is not supported; this LRS speaks {XAPI_VERSION}"
            )));
        }
        None => {
            return Err(bad_request(
                "the X-Experience-API-Version header is required (1.0.3)",
            ));
        }
    }
    Ok(lms)
}

fn parse_body(body: &Bytes) -> Result<serde_json::Value, String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    // The same rule for text as every other edge: no NUL or other control characters.
    match crate::extract::json_text_error(&v) {
        Some(e) => Err(format!("{}: {}", e.field, e.message)),
        None => Ok(v),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementParams {
    statement_id: Option<String>,
    voided_statement_id: Option<String>,
    limit: Option<i64>,
}

/// `POST /xapi/statements`: one statement or an array; answers the ids in order.
pub async fn post_statements(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(m) => return bad_request(m),
    };
    match s.service.store_statements(&lms, body, None).await {
        Ok(Ok(ids)) => versioned((StatusCode::OK, Json(ids)).into_response()),
        Ok(Err(bad)) => bad_request(bad.0),
        Err(e) => error(e),
    }
}

/// `PUT /xapi/statements?statementId=…`: one statement under a given id; 204.
pub async fn put_statement(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<StatementParams>,
    body: Bytes,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Some(id) = p.statement_id else {
        return bad_request("PUT needs the statementId parameter");
    };
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(m) => return bad_request(m),
    };
    match s.service.store_statements(&lms, body, Some(&id)).await {
        Ok(Ok(_)) => versioned(StatusCode::NO_CONTENT.into_response()),
        Ok(Err(bad)) => bad_request(bad.0),
        Err(e) => error(e),
    }
}

/// `GET /xapi/statements`: one statement by `statementId`, or the newest as a
/// StatementResult.
pub async fn get_statements(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<StatementParams>,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if p.voided_statement_id.is_some() {
        // recert does not void statements, so no voided statement can be found.
        return error(ServiceError::not_found(
            "voided statement",
            p.voided_statement_id.unwrap_or_default(),
        ));
    }
    let answer = match p.statement_id {
        Some(id) => s.service.statement(&lms, &id).await,
        None => s.service.statements(&lms, p.limit).await,
    };
    match answer {
        Ok(v) => {
            let mut res = versioned((StatusCode::OK, Json(v)).into_response());
            // Every statement stored before this answer is in it (writes commit before
            // they are acknowledged), so the answer is consistent through now.
            if let Ok(now) = HeaderValue::from_str(&s.service.now().to_string()) {
                res.headers_mut()
                    .insert("x-experience-api-consistent-through", now);
            }
            res
        }
        Err(e) => error(e),
    }
}

/// `GET /xapi/about`: the versions this LRS speaks (no credentials needed).
pub async fn about() -> Response {
    versioned(Json(serde_json::json!({ "version": [XAPI_VERSION] })).into_response())
}
