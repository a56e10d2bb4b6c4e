//! The learner's own area ("My certifications") and the supervisor's team page.

use super::earning::ReportForm;
use super::forms::FieldErrors;
use super::{Chrome, PageError, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use recert_domain::Learner;
use recert_service::awards::{AwardQuery, AwardView};
use recert_service::completions::{CompletionQuery, CompletionView};
use recert_service::external::ExternalView;
use recert_service::learners::LearnerQuery;
use recert_service::page::PageRequest;

#[derive(Template)]
#[template(path = "me/my.html")]
pub struct MyPage {
    c: Chrome,
    awards: Vec<AwardView>,
    descriptions: Vec<(String, String)>,
    completions: Vec<CompletionView>,
    reports: Vec<ExternalView>,
    programs: Vec<(String, String)>,
    pub report_form: ReportForm,
    pub report_errors: FieldErrors,
}

impl MyPage {
    fn description(&self, code: &str) -> &str {
        self.descriptions
            .iter()
            .find(|(c, _)| c == code)
            .map_or("", |(_, d)| d.as_str())
    }
}

/// The learner's own page: certificates, recent completions with what they did, external
/// training reports and the form to report more.
pub async fn my_page(state: &AppState, viewer: &Viewer) -> Result<MyPage, PageError> {
    let Some(me) = viewer.session.learner.clone() else {
        return Err(PageError(recert_service::ServiceError::Forbidden(
            "this account is not linked to a learner record, so it holds no certifications".into(),
        )));
    };
    let who = &viewer.session.principal;
    let d = state.service.learner(who, &me).await?;
    // Current certificates first; superseded links of a chain are history, not shown here.
    let awards: Vec<AwardView> = d
        .awards
        .into_iter()
        .filter(|a| a.superseded_by.is_none())
        .collect();
    let mut descriptions = Vec::new();
    for a in &awards {
        if !descriptions
            .iter()
            .any(|(c, _): &(String, String)| *c == a.program)
        {
            let p = state.service.program(who, &a.program).await?;
            descriptions.push((a.program.clone(), p.program.description));
        }
    }
    let completions = state
        .service
        .completions(
            who,
            CompletionQuery {
                learner: Some(me.clone()),
                item: None,
            },
            PageRequest::parse(None, Some(20))?,
        )
        .await?
        .items;
    let reports = state.service.external_reports(who, None, Some(&me)).await?;
    Ok(MyPage {
        c: Chrome::new(viewer, "My certifications", "my"),
        awards,
        descriptions,
        completions,
        reports,
        programs: super::earning::open_programs(state, who).await?,
        report_form: ReportForm::default(),
        report_errors: FieldErrors::default(),
    })
}

#[derive(serde::Deserialize)]
pub struct MyQuery {
    done: Option<String>,
}

pub async fn my_certifications(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MyQuery>,
) -> PageResult {
    let mut page = my_page(&state, &viewer).await?;
    page.c = page
        .c
        .with_notice(super::programs::notice(q.done.as_deref()));
    Ok(render(&page))
}

#[derive(Template)]
#[template(path = "me/team.html")]
struct TeamPage {
    c: Chrome,
    members: Vec<(Learner, Vec<AwardView>)>,
}

pub async fn team(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let who = &viewer.session.principal;
    if !viewer
        .session
        .principal
        .role
        .eq(&recert_service::Role::Supervisor)
    {
        return Err(PageError(
            who.forbidden("see a team page (it is for supervisors)"),
        ));
    }
    let me = viewer.session.learner.clone().unwrap_or_default();
    // Every page of the team and of its awards: a big team is shown whole, not cut at the
    // first page.
    let learners = super::all_pages(|req| {
        state.service.learners(
            who,
            LearnerQuery {
                manager: Some(me.clone()),
                ..LearnerQuery::default()
            },
            req,
        )
    })
    .await?;
    let awards =
        super::all_pages(|req| state.service.awards(who, AwardQuery::default(), req)).await?;
    let members = learners
        .into_iter()
        .map(|l| {
            let mine = awards
                .iter()
                .filter(|a| a.learner == l.username.as_str() && a.superseded_by.is_none())
                .cloned()
                .collect();
            (l, mine)
        })
        .collect();
    Ok(render(&TeamPage {
        c: Chrome::new(&viewer, "My team", "team"),
        members,
    }))
}
