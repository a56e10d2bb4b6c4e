//! The learners directory (search by name, username, e-mail or certificate ID; filter by
//! group and certification status) and a learner's page with every award, its renewal
//! chain and its audit events.

use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use recert_domain::{Learner, Status};
use recert_service::AuditEvent;
use recert_service::awards::{AwardQuery, AwardView};
use recert_service::learners::{LearnerDetail, LearnerQuery};
use recert_service::page::PageRequest;

#[derive(Template)]
#[template(path = "learners/list.html")]
struct ListPage {
    c: Chrome,
    q: String,
    group: String,
    status: String,
    groups: Vec<String>,
    learners: Vec<Learner>,
    /// With a certification status chosen, the matching awards instead of learners.
    awards: Vec<AwardView>,
    next_cursor: Option<String>,
    partial: bool,
    /// Whether a certification status was chosen (awards are listed, not learners).
    awards_mode: bool,
    /// How many learners match the search and group.
    total: i64,
    /// The "New learner" form (admins).
    f: super::learner_form::LearnerForm,
    errors: super::forms::FieldErrors,
    editing: Option<String>,
    group_names: Vec<String>,
}

impl ListPage {
    /// The filters as a query string (for the exports).
    fn filters(&self) -> String {
        super::listing::query_string(&[("q", &self.q), ("group", &self.group)])
    }

    /// When nothing matched and the search looks like a mistyped certificate ID, why.
    fn id_hint(&self) -> Option<String> {
        if self.learners.is_empty() && self.awards.is_empty() {
            recert_service::learners::certificate_id_hint(&self.q)
        } else {
            None
        }
    }

    fn statuses(&self) -> [&'static str; 8] {
        recert_domain::Status::ALL.map(recert_domain::Status::as_str)
    }
}

#[derive(Template)]
#[template(path = "learners/_results.html")]
struct Results<'a> {
    page: &'a ListPage,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    /// `csv` or `xlsx`: every learner matching the filters, as a file.
    format: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(lq): Query<ListQuery>,
) -> PageResult {
    let who = &viewer.session.principal;
    let q = lq.q.unwrap_or_default().trim().to_owned();
    let group = lq.group.unwrap_or_default();
    let status = lq.status.unwrap_or_default();
    let query = || LearnerQuery {
        q: (!q.is_empty()).then(|| q.clone()),
        group: (!group.is_empty()).then(|| group.clone()),
        ..LearnerQuery::default()
    };
    let format = recert_service::exports::Format::parse(lq.format.as_deref())?;
    if format != recert_service::exports::Format::Json {
        let all = super::all_pages(|req| state.service.learners(who, query(), req)).await?;
        let table = recert_service::learners::learners_table(&all);
        return Ok(crate::api::reports::file(
            table.encode(format)?,
            format,
            "learners",
        ));
    }
    let total = state.service.learners_total(who, query()).await?;
    let page_req = PageRequest::parse(lq.cursor.as_deref(), Some(100))
        .or_else(|_| PageRequest::parse(None, Some(100)))?;
    let groups = super::group_names(&state, who).await?;
    let awards_mode = Status::parse(&status).is_some();
    let (learners, awards, next_cursor) = if awards_mode {
        let page = state
            .service
            .awards(
                who,
                AwardQuery {
                    group: (!group.is_empty()).then(|| group.clone()),
                    status: Some(status.clone()),
                    ..AwardQuery::default()
                },
                page_req,
            )
            .await?;
        let q_low = q.to_lowercase();
        let items = page
            .items
            .into_iter()
            .filter(|a| {
                q.is_empty()
                    || a.learner.to_lowercase().contains(&q_low)
                    || a.legal_name.to_lowercase().contains(&q_low)
                    || a.id.eq_ignore_ascii_case(&q)
            })
            .collect();
        (Vec::new(), items, page.next_cursor)
    } else {
        let page = state
            .service
            .learners(
                who,
                LearnerQuery {
                    q: (!q.is_empty()).then(|| q.clone()),
                    group: (!group.is_empty()).then(|| group.clone()),
                    ..LearnerQuery::default()
                },
                page_req,
            )
            .await?;
        (page.items, Vec::new(), page.next_cursor)
    };
    let page = ListPage {
        total,
        c: Chrome::new(&viewer, "Learners", "learners"),
        q,
        group,
        status,
        groups: groups.clone(),
        learners,
        awards,
        next_cursor,
        partial: headers.contains_key("HX-Request"),
        awards_mode,
        f: super::learner_form::LearnerForm::new_learner(),
        errors: super::forms::FieldErrors::default(),
        editing: None,
        group_names: groups,
    };
    // htmx asks for the results only while the person types.
    if page.partial {
        return Ok(render(&Results { page: &page }));
    }
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "learners/show.html")]
struct ShowPage {
    c: Chrome,
    d: LearnerDetail,
    events: Vec<AuditEvent>,
    completions: Vec<recert_service::completions::CompletionView>,
    reports: Vec<recert_service::external::ExternalView>,
    /// What the learner must hold, and how they stand today.
    requirements: Vec<recert_service::reports::Requirement>,
}

impl ShowPage {
    /// Awards that are the latest of their chain, first; the rest are history.
    fn current(&self) -> Vec<&AwardView> {
        self.d
            .awards
            .iter()
            .filter(|a| a.superseded_by.is_none())
            .collect()
    }

    /// The earlier links of `a`'s renewal chain, newest first.
    fn chain(&self, a: &AwardView) -> Vec<&AwardView> {
        let mut out = Vec::new();
        let mut prev = a.predecessor.clone();
        while let Some(id) = prev {
            match self.d.awards.iter().find(|x| x.id == id) {
                Some(x) if out.len() < 100 => {
                    prev = x.predecessor.clone();
                    out.push(x);
                }
                _ => break,
            }
        }
        out
    }
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Query(sq): Query<ShowQuery>,
) -> PageResult {
    let who = &viewer.session.principal;
    let r = state.service.learner_record(who, &username).await?;
    let d = r.detail;
    let requirements = state
        .service
        .requirements_of(&viewer.session.principal, &[d.learner.username.to_string()])
        .await?;
    Ok(render(&ShowPage {
        requirements,
        c: Chrome::new(&viewer, d.learner.legal_name.clone(), "learners")
            .with_notice(super::programs::notice(sq.done.as_deref())),
        d,
        events: r.events,
        completions: r.completions,
        reports: r.reports,
    }))
}
