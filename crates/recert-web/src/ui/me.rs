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
    /// What the learner must hold and does not (or soon will not).
    missing: Vec<recert_service::reports::Requirement>,
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
    let missing = state
        .service
        .requirements_of(who, std::slice::from_ref(&me))
        .await?
        .into_iter()
        .filter(|r| r.needs_action())
        .collect();
    Ok(MyPage {
        c: Chrome::new(viewer, "My certifications", "my"),
        missing,
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
    /// One entry per person, most urgent first.
    members: Vec<TeamMember>,
    /// "12 people · 3 need action: …".
    summary: String,
}

/// A person on My team: what they must hold and how they stand, and their certificates.
struct TeamMember {
    learner: Learner,
    requirements: Vec<recert_service::reports::Requirement>,
    awards: Vec<AwardView>,
}

impl TeamMember {
    fn needs_action(&self) -> bool {
        self.requirements.iter().any(|r| r.needs_action())
    }
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
    let usernames: Vec<String> = learners.iter().map(|l| l.username.to_string()).collect();
    let requirements = state.service.requirements_of(who, &usernames).await?;
    let mut members: Vec<TeamMember> = learners
        .into_iter()
        .map(|l| {
            let awards = awards
                .iter()
                .filter(|a| a.learner == l.username.as_str() && a.superseded_by.is_none())
                .cloned()
                .collect();
            let requirements = requirements
                .iter()
                .filter(|r| r.username == l.username.as_str())
                .cloned()
                .collect();
            TeamMember {
                learner: l,
                requirements,
                awards,
            }
        })
        .collect();
    // Most urgent person first: their most urgent requirement decides.
    members.sort_by_key(|m| {
        (
            m.requirements
                .iter()
                .map(|r| r.urgency())
                .min()
                .unwrap_or((9, i64::MAX)),
            m.learner.legal_name.clone(),
        )
    });
    let count = |s: recert_service::reports::Standing| {
        requirements.iter().filter(|r| r.standing == s).count()
    };
    use recert_service::reports::Standing as S;
    let expiring = requirements
        .iter()
        .filter(|r| r.standing == S::Compliant && r.days_left.is_some_and(|d| d <= 90))
        .count();
    let acting = members.iter().filter(|m| m.needs_action()).count();
    let summary = format!(
        "{} {} · {} {} action: {} required and never certified, {} lapsed, {} revoked, {} in grace, {} expiring within 90 days",
        members.len(),
        if members.len() == 1 {
            "person"
        } else {
            "people"
        },
        acting,
        if acting == 1 { "needs" } else { "need" },
        count(S::NeverCertified),
        count(S::Lapsed),
        count(S::Revoked),
        count(S::Grace),
        expiring,
    );
    Ok(render(&TeamPage {
        c: Chrome::new(&viewer, "My team", "team"),
        members,
        summary,
    }))
}
