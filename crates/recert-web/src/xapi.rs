//! `/xapi`: recert as a Learning Record Store for the LMS connections an admin creates
//! (xAPI 1.0.3 communication: statements resource and about resource).

use crate::AppState;
use crate::problem::Problem;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use recert_service::ServiceError;
use recert_service::xapi::{LmsCaller, XAPI_VERSION};

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
    let mut res = match e {
        // The LRS is reached with an LMS connection's key and secret, not an API token.
        ServiceError::Unauthenticated => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "LMS credentials required",
            "send the LMS connection's key and secret as HTTP Basic credentials \
             ('Authorization: Basic ' + base64 of 'key:secret'); an administrator creates them \
             under LMS connections or with 'recert lms create'",
        )
        .into_response(),
        e => crate::problem::ApiError::from(e).into_response(),
    };
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

/// The query parameters of a statements request, each named once.
#[derive(Debug, Default)]
pub struct StatementParams {
    statement_id: Option<String>,
    voided_statement_id: Option<String>,
    limit: Option<i64>,
    /// Every other parameter given, by name (checked against what the method takes).
    others: Vec<String>,
}

/// What GET takes besides the two ids (xAPI 1.0.3 Part 3, 2.1.3).
const GET_FILTERS: &[&str] = &[
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
];
/// What recert's statement queries answer today; the rest of [`GET_FILTERS`] is refused
/// by name rather than ignored (ignoring a filter would answer the wrong statements).
const GET_SUPPORTED: &[&str] = &["limit", "format", "attachments"];

/// Reads the query string: unknown or repeated parameters are refused (400), as the
/// specification asks, with the version header like every answer.
fn parse_params(raw: Option<&str>, allowed: &[&str]) -> Result<StatementParams, String> {
    let mut p = StatementParams::default();
    let mut seen = std::collections::HashSet::new();
    for pair in raw.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = crate::extract::percent_decoded(k);
        let value = crate::extract::percent_decoded(v);
        if !allowed.contains(&key.as_str()) {
            return Err(format!(
                "{key:?} is not a parameter of this resource (it takes: {})",
                allowed.join(", ")
            ));
        }
        if !seen.insert(key.clone()) {
            return Err(format!("the parameter {key:?} is given twice"));
        }
        match key.as_str() {
            "statementId" => p.statement_id = Some(value),
            "voidedStatementId" => p.voided_statement_id = Some(value),
            "limit" => match value.parse::<i64>() {
                Ok(n) if n >= 0 => p.limit = Some(n),
                _ => {
                    return Err(format!("limit {value:?} is not a whole number"));
                }
            },
            _ => p.others.push(key),
        }
    }
    Ok(p)
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
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let p = match parse_params(q.as_deref(), &["statementId"]) {
        Ok(p) => p,
        Err(m) => return bad_request(m),
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
    RawQuery(q): RawQuery,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let mut allowed = vec!["statementId", "voidedStatementId"];
    allowed.extend_from_slice(GET_FILTERS);
    let p = match parse_params(q.as_deref(), &allowed) {
        Ok(p) => p,
        Err(m) => return bad_request(m),
    };
    let by_id = p.statement_id.is_some() || p.voided_statement_id.is_some();
    if p.statement_id.is_some() && p.voided_statement_id.is_some() {
        return bad_request("statementId and voidedStatementId cannot be used together");
    }
    if by_id && (p.limit.is_some() || p.others.iter().any(|o| o != "format" && o != "attachments"))
    {
        return bad_request(
            "with statementId or voidedStatementId only format and attachments may be given",
        );
    }
    if let Some(unsupported) = p
        .others
        .iter()
        .find(|o| !GET_SUPPORTED.contains(&o.as_str()))
    {
        return bad_request(format!(
            "this LRS does not filter statements by {unsupported:?}: it keeps the statements recert learns from, and answers by statementId or the newest first"
        ));
    }
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

/// The State, Activity Profile, Agent Profile, Activities and Agents resources: recert keeps
/// statements only (it is the LRS of its own LMS connections, not a general one), and says
/// so in the LRS's own terms.
pub async fn not_implemented(uri: axum::http::Uri) -> Response {
    versioned(
        Problem::new(
            StatusCode::NOT_IMPLEMENTED,
            "xapi-not-implemented",
            "Not implemented by this LRS",
            format!(
                "{} is not offered: recert's LRS takes and answers statements (/xapi/statements) and /xapi/about only",
                uri.path()
            ),
        )
        .into_response(),
    )
}

/// Anything else under /xapi: an unknown resource, with the version header.
pub async fn unknown(uri: axum::http::Uri) -> Response {
    versioned(
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("{} is not an xAPI resource of this LRS", uri.path()),
        )
        .into_response(),
    )
}
