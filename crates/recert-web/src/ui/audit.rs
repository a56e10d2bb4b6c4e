//! The audit log page (admins and auditors): filters kept in the URL, newest first with a
//! total, each change in words with its reason and before → after, exports with exactly the
//! filters, and the hash chain checked on demand.

use super::listing::query_string;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use crate::api::reports::file;
use askama::Template;
use axum::extract::{Query, State};
use recert_service::audit_log::AuditQuery;
use recert_service::exports::Format;
use recert_service::history::Described;
use recert_service::page::PageRequest;

#[derive(serde::Deserialize, Default)]
pub struct LogQuery {
    actor: Option<String>,
    action: Option<String>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    format: Option<String>,
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "audit/log.html")]
struct LogPage {
    c: Chrome,
    q: AuditQuery,
    events: Vec<Described>,
    total: i64,
    next_cursor: Option<String>,
    /// The filters as a query string (for exports and the next page).
    here: String,
    /// The chain check, when asked for.
    verdict: Option<Result<i64, (i64, String)>>,
    error: Option<String>,
}

impl LogPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn subject_href(&self, e: &Described) -> Option<String> {
        let id = super::session::urlencode(&e.subject_id);
        match e.subject_type.as_str() {
            "award" => Some(format!("/awards/{id}")),
            "learner" => Some(format!("/learners/{id}")),
            "program" => Some(format!("/programs/{id}")),
            "group" => Some(format!("/groups/{id}")),
            _ => None,
        }
    }
}

pub async fn log(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(lq): Query<LogQuery>,
) -> PageResult {
    let who = &viewer.session.principal;
    let q = AuditQuery {
        actor: lq.actor,
        action: lq.action,
        subject_type: lq.subject_type,
        subject_id: lq.subject_id,
        from: lq.from,
        to: lq.to,
    };
    let pairs: Vec<(&str, &str)> = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("subject_type", &q.subject_type),
        ("subject_id", &q.subject_id),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().filter(|s| !s.is_empty()).map(|v| (k, v)))
    .collect();
    let here = query_string(&pairs);
    let format = Format::parse(lq.format.as_deref())?;
    if format != Format::Json {
        let table = state.service.audit_table(who, &q).await?;
        return Ok(file(table.encode(format)?, format, "audit-log"));
    }
    let verdict = if lq.verify.is_some() {
        Some(match state.service.verify_audit(who).await? {
            recert_service::audit_log::Verdict::Intact { events } => Ok(events),
            recert_service::audit_log::Verdict::Broken { seq, reason } => Err((seq, reason)),
        })
    } else {
        None
    };
    let page = PageRequest::parse(lq.cursor.as_deref(), Some(50))
        .or_else(|_| PageRequest::parse(None, Some(50)))?;
    let (events, total, next_cursor, error) = match state.service.audit_log(who, &q, page).await {
        Ok(p) => (p.page.items, p.total, p.page.next_cursor, None),
        Err(recert_service::ServiceError::Validation(e)) => (
            Vec::new(),
            0,
            None,
            Some(
                e.0.iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(render(&LogPage {
        c: Chrome::new(&viewer, "Audit log", "audit"),
        q,
        events,
        total,
        next_cursor,
        here,
        verdict,
        error,
    }))
}
