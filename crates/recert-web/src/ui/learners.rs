//! The learners directory (search by name, username, e-mail or certificate ID; filter by
//! group and certification status) and a learner's page with every award, its renewal
//! chain and its audit events.

use super::listing::List;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use recert_domain::Learner;
use recert_service::AuditEvent;
use recert_service::awards::{AwardQuery, AwardView};
use recert_service::completions::CompletionQuery;
use recert_service::exports::Format;
use recert_service::learners::{LearnerDetail, LearnerQuery};
use recert_service::listing::keys;

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
    /// The filters, sort and page in the URL.
    list: List,
    partial: bool,
    /// Whether a certification status was chosen (awards are listed, not learners).
    awards_mode: bool,
    /// The "New learner" form (admins).
    f: super::learner_form::LearnerForm,
    errors: super::forms::FieldErrors,
    editing: Option<String>,
    group_names: Vec<String>,
}

impl ListPage {
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
    list: &'a List,
}

#[derive(serde::Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    group: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    /// `csv` or `xlsx`: every row matching the filters, in the same order, as a file.
    format: Option<String>,
}

/// The learners directory; with a certificate status chosen, the certificates in that
/// status (of the people searched for) instead.
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
    let awards_mode = !status.is_empty();
    let (keys, default) = if awards_mode {
        (keys::awards(), "expires")
    } else {
        (keys::learners(), "name")
    };
    let list = List::new(
        "/learners",
        &[("q", &q), ("group", &group), ("status", &status)],
        lq.sort.as_deref().unwrap_or(""),
        lq.page.as_deref().unwrap_or(""),
        &keys,
        default,
    )?;
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    let learner_query = LearnerQuery {
        q: opt(&q),
        group: opt(&group),
        ..LearnerQuery::default()
    };
    let award_query = AwardQuery {
        text: opt(&q),
        group: opt(&group),
        status: opt(&status),
        ..AwardQuery::default()
    };
    let format = Format::parse(lq.format.as_deref())?;
    if format != Format::Json {
        let d = if awards_mode {
            let title = format!("Certificates {status}");
            let stem = format!("certificates-{status}");
            state
                .service
                .awards_export(who, award_query, &list.sort, format, &title, &stem)
                .await?
        } else {
            state
                .service
                .learners_export(who, learner_query, &list.sort, format)?
        };
        return Ok(crate::api::reports::download(d));
    }
    let groups = super::group_names(&state, who).await?;
    let (learners, awards, list) = if awards_mode {
        let found = state
            .service
            .awards_listed(who, award_query, &list.sort, list.window())
            .await?;
        (Vec::new(), found.items, list.total(found.total))
    } else {
        let found = state
            .service
            .learners_listed(who, learner_query, &list.sort, list.window())
            .await?;
        (found.items, Vec::new(), list.total(found.total))
    };
    let page = ListPage {
        c: Chrome::new(&viewer, "Learners", "learners"),
        q,
        group,
        status,
        groups: groups.clone(),
        learners,
        awards,
        list,
        partial: headers.contains_key("HX-Request"),
        awards_mode,
        f: super::learner_form::LearnerForm::new_learner(),
        errors: super::forms::FieldErrors::default(),
        editing: None,
        group_names: groups,
    };
    // htmx asks for the results only while the person types.
    if page.partial {
        return Ok(render(&Results {
            page: &page,
            list: &page.list,
        }));
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
    /// The completions list's sort and page in the URL.
    list: List,
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
    /// The completions list's sort, page and export format.
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
    Query(sq): Query<ShowQuery>,
) -> PageResult {
    let who = &viewer.session.principal;
    let mut list = List::new(
        format!("/learners/{}", super::session::urlencode(&username)),
        &[],
        sq.sort.as_deref().unwrap_or(""),
        sq.page.as_deref().unwrap_or(""),
        &keys::completions(),
        "-completed",
    )?;
    list.anchor = "#completions";
    let mine = || CompletionQuery {
        learner: Some(username.clone()),
        item: None,
    };
    let format = Format::parse(sq.format.as_deref())?;
    if format != Format::Json {
        // The learner must be one the caller may see, as for the page itself.
        state.service.learner(who, &username).await?;
        let d = state
            .service
            .completions_export(who, mine(), &list.sort, format)?;
        return Ok(crate::api::reports::download(d));
    }
    let r = state.service.learner_record(who, &username).await?;
    let found = state
        .service
        .completions_listed(who, mine(), &list.sort, list.window())
        .await?;
    let list = list.total(found.total);
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
        completions: found.items,
        list,
        reports: r.reports,
    }))
}
