//! The audit log page (admins and auditors): filters kept in the URL, in any order with a
//! total, each change in words with its reason and before → after, exports with exactly the
//! filters, and the hash chain checked on demand.

use super::listing::List;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use crate::api::reports::download;
use askama::Template;
use axum::extract::{Query, State};
use recert_service::audit_log::AuditQuery;
use recert_service::exports::Format;
use recert_service::history::Described;
use recert_service::listing::keys;

#[derive(serde::Deserialize, Default)]
pub struct LogQuery {
    actor: Option<String>,
    action: Option<String>,
    subject_type: Option<String>,
    subject_id: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
    verify: Option<String>,
}

#[derive(Template)]
#[template(path = "audit/log.html")]
struct LogPage {
    c: Chrome,
    q: AuditQuery,
    events: Vec<Described>,
    /// The filters, sort and page in the URL.
    list: List,
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
    let filters: Vec<(&str, &str)> = [
        ("actor", &q.actor),
        ("action", &q.action),
        ("subject_type", &q.subject_type),
        ("subject_id", &q.subject_id),
        ("from", &q.from),
        ("to", &q.to),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.as_deref().unwrap_or("")))
    .collect();
    let list = List::new(
        "/audit",
        &filters,
        lq.sort.as_deref().unwrap_or(""),
        lq.page.as_deref().unwrap_or(""),
        &keys::audit(),
        "-at",
    )?;
    let format = Format::parse(lq.format.as_deref())?;
    if format != Format::Json {
        let d = state.service.audit_export(who, &q, &list.sort, format)?;
        return Ok(download(d));
    }
    let verdict = if lq.verify.is_some() {
        Some(match state.service.verify_audit(who).await? {
            recert_service::audit_log::Verdict::Intact { events } => Ok(events),
            recert_service::audit_log::Verdict::Broken { seq, reason } => Err((seq, reason)),
        })
    } else {
        None
    };
    let (events, list, error) = match state
        .service
        .audit_listed(who, &q, &list.sort, list.window())
        .await
    {
        Ok(found) => (found.items, list.total(found.total), None),
        Err(recert_service::ServiceError::Validation(e)) => (
            Vec::new(),
            list,
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
        list,
        verdict,
        error,
    }))
}
