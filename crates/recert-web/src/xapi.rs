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
        // xAPI answers every bad request 400, never 422.
        ServiceError::Validation(d) => return bad_request(d.to_string()),
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

/// Refuses a body sent as multipart/mixed (statements with their attachments' files):
/// recert keeps the statements it learns from, not files, and says so instead of "invalid
/// JSON".
fn attachment_parts_refusal(headers: &HeaderMap) -> Option<Response> {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("multipart/"));
    multipart.then(|| {
        bad_request(
            "this LRS does not take attachments sent as multipart/mixed: send the statement as application/json, \
             with each attachment's metadata and, where the file is elsewhere, its fileUrl",
        )
    })
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
    /// Every other parameter given, by name, with its value.
    others: Vec<(String, String)>,
}

impl StatementParams {
    fn get(&self, name: &str) -> Option<&str> {
        self.others
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What GET takes besides the two ids (xAPI 1.0.3 Part 3, 2.1.3), and `cursor`, which
/// this LRS writes into `more`.
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
    "cursor",
];

/// A filter query as the service takes it; the message says which parameter is wrong.
fn statement_query(p: &StatementParams) -> Result<recert_service::xapi::StatementQuery, String> {
    use recert_domain::xapi::{agent_key, is_iri, is_uuid};
    let flag = |name: &str| -> Result<bool, String> {
        match p.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(v) => Err(format!("{name} must be true or false, not {v:?}")),
        }
    };
    let iri = |name: &str| -> Result<Option<String>, String> {
        match p.get(name) {
            None => Ok(None),
            Some(v) if is_iri(v) => Ok(Some(v.to_owned())),
            Some(v) => Err(format!("{name} must be an absolute IRI, not {v:?}")),
        }
    };
    let instant = |name: &str| -> Result<Option<recert_domain::Timestamp>, String> {
        match p.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("{name} must be an ISO 8601 instant with a zone, not {v:?}")),
        }
    };
    let agent = match p.get("agent") {
        None => None,
        Some(raw) => {
            let v: serde_json::Value = serde_json::from_str(raw)
                .map_err(|_| "agent must be an Agent or Group as JSON".to_owned())?;
            // Checked as the actor of a statement would be: the same rules.
            let mut probe = serde_json::json!({
                "actor": v,
                "verb": {"id": "http://x.invalid/v"},
                "object": {"id": "http://x.invalid/o"},
            });
            recert_domain::xapi::validate(&mut probe).map_err(|e| format!("agent: {e}"))?;
            Some(agent_key(&probe["actor"]).ok_or_else(|| {
                "agent must have an identifier (mbox, mbox_sha1sum, openid or account)".to_owned()
            })?)
        }
    };
    let registration = match p.get("registration") {
        None => None,
        Some(r) if is_uuid(r) => Some(r.to_owned()),
        Some(r) => return Err(format!("registration must be a UUID, not {r:?}")),
    };
    let ids_only = match p.get("format") {
        None | Some("exact") | Some("canonical") => false,
        Some("ids") => true,
        Some(f) => return Err(format!("format must be ids, exact or canonical, not {f:?}")),
    };
    flag("attachments")?;
    Ok(recert_service::xapi::StatementQuery {
        filter: recert_service::xapi::StatementFilter {
            verb: iri("verb")?,
            agent,
            related_agents: flag("related_agents")?,
            activity: iri("activity")?,
            related_activities: flag("related_activities")?,
            registration,
            ascending: flag("ascending")?,
        },
        since: instant("since")?,
        until: instant("until")?,
        limit: p.limit,
        ids_only,
        cursor: p.get("cursor").map(str::to_owned),
    })
}

/// The address of the next page: the same query with the cursor of the page's end.
fn more_link(raw: Option<&str>, cursor: &str) -> String {
    let mut link = String::from("/xapi/statements?");
    for p in raw
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
    {
        link.push_str(p);
        link.push('&');
    }
    link.push_str("cursor=");
    link.push_str(cursor);
    link
}

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
            _ => p.others.push((key, value)),
        }
    }
    Ok(p)
}

/// The query parameters of `GET /xapi/statements`, for the OpenAPI document (the handler
/// reads the raw query to refuse unknown and repeated ones).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; parse_params reads it
pub struct StatementQueryDoc {
    /// One statement by id (not voided).
    #[param(rename = "statementId")]
    statement_id: Option<String>,
    /// One voided statement by id.
    #[param(rename = "voidedStatementId")]
    voided_statement_id: Option<String>,
    /// An Agent or Group as JSON: statements where it is the actor or the object.
    agent: Option<String>,
    /// A verb IRI.
    verb: Option<String>,
    /// An Activity IRI: statements about it.
    activity: Option<String>,
    /// A registration UUID.
    registration: Option<String>,
    /// Also match the activity in context activities and SubStatements.
    related_activities: Option<bool>,
    /// Also match the agent as authority, instructor, team member or in SubStatements.
    related_agents: Option<bool>,
    /// Stored after this instant (exclusive).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Stored at or before this instant.
    #[param(format = DateTime)]
    until: Option<String>,
    /// Statements per page, 0–500 (0 or none: 500).
    #[param(minimum = 0, maximum = 500)]
    limit: Option<i64>,
    /// ids, exact or canonical.
    format: Option<String>,
    /// Attachments are kept as metadata only; true or false answer the same JSON.
    attachments: Option<bool>,
    /// Oldest first.
    ascending: Option<bool>,
    /// Where a previous page's `more` left off.
    cursor: Option<String>,
}

/// Sends statements (xAPI 1.0.3).
///
/// One statement or an array of them; answers their ids in order. Each is checked against
/// every structural rule of xAPI 1.0.3; one bad statement refuses the whole request.
#[utoipa::path(post, path = "/xapi/statements", tag = "xapi",
    request_body(content = serde_json::Value, content_type = "application/json", description = "A statement or an array of statements"),
    responses((status = 200, description = "The statements' ids, in order", body = Vec<String>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("lmsBasic" = [])))]
pub async fn post_statements(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lms = match authorize(&s, &headers).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    if let Some(r) = attachment_parts_refusal(&headers) {
        return r;
    }
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

/// Stores one statement under a given id (xAPI 1.0.3).
#[utoipa::path(put, path = "/xapi/statements", tag = "xapi",
    params(("statementId" = String, Query, description = "The statement's id (a UUID)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "One statement"),
    responses((status = 204, description = "Stored (or already stored with the same content)"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("lmsBasic" = [])))]
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
    if let Some(r) = attachment_parts_refusal(&headers) {
        return r;
    }
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

/// Reads statements (xAPI 1.0.3).
///
/// One statement by `statementId` or `voidedStatementId`, or a StatementResult of those the
/// filters match, newest first, whose `more` leads to the next page.
#[utoipa::path(get, path = "/xapi/statements", tag = "xapi", params(StatementQueryDoc),
    responses((status = 200, description = "A statement, or a StatementResult", body = serde_json::Value),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("lmsBasic" = [])))]
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
    if by_id
        && (p.limit.is_some()
            || p.others
                .iter()
                .any(|(k, _)| k != "format" && k != "attachments"))
    {
        return bad_request(
            "with statementId or voidedStatementId only format and attachments may be given",
        );
    }
    let query = match statement_query(&p) {
        Ok(q) => q,
        Err(m) => return bad_request(m),
    };
    let answer = match (&p.statement_id, &p.voided_statement_id) {
        (Some(id), _) => s.service.statement(&lms, id, false, query.ids_only).await,
        (_, Some(id)) => s.service.statement(&lms, id, true, query.ids_only).await,
        _ => s.service.statements(&lms, &query).await.map(|page| {
            serde_json::json!({
                "statements": page.statements,
                "more": page
                    .next_cursor
                    .map(|c| more_link(q.as_deref(), &c))
                    .unwrap_or_default(),
            })
        }),
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

/// The xAPI versions this LRS speaks (no credentials needed).
#[utoipa::path(get, path = "/xapi/about", tag = "xapi",
    responses((status = 200, description = "`{\"version\": [\"1.0.3\"]}`", body = serde_json::Value)),
    security(()))]
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
