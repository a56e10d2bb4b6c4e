//! Groups (teams, sites, branches, departments, cohorts): create, membership, and which
//! programs each group's members must hold.

use super::forms::{FieldErrors, Form};
use super::listing::List;
use super::session::urlencode;
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_domain::Group;
use recert_service::ServiceError;
use recert_service::groups::{GroupDraft, MembersDraft, RequirementDraft};
use recert_service::reports::{ComplianceQuery, ComplianceReport, Standing};
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "groups/list.html")]
struct ListPage {
    c: Chrome,
    groups: Vec<Group>,
    name: String,
    kind: String,
    description: String,
    errors: FieldErrors,
}

impl ListPage {
    fn kinds(&self) -> [&'static str; 5] {
        recert_domain::GroupKind::ALL.map(recert_domain::GroupKind::as_str)
    }
}

#[derive(serde::Deserialize)]
pub struct Done {
    done: Option<String>,
    /// The members list's sort, page and export format.
    sort: Option<String>,
    page: Option<String>,
    format: Option<String>,
}

async fn list_page(state: &AppState, viewer: &Viewer) -> Result<ListPage, PageError> {
    let groups = super::all_groups(state, &viewer.session.principal).await?;
    Ok(ListPage {
        c: Chrome::new(viewer, "Groups", "groups"),
        groups,
        name: String::new(),
        kind: "team".into(),
        description: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<Done>,
) -> PageResult {
    let mut p = list_page(&state, &viewer).await?;
    p.c = p.c.with_notice(super::programs::notice(q.done.as_deref()));
    Ok(render(&p))
}

pub async fn create(State(state): State<AppState>, form: Form) -> PageResult {
    let f = &form.fields;
    let draft = GroupDraft {
        name: f.get("name").map(str::to_owned),
        kind: f.get("kind").map(str::to_owned),
        description: f.get("description").map(str::to_owned),
    };
    match state
        .service
        .create_group(&form.viewer.session.principal, draft)
        .await
    {
        Ok(g) => Ok(Redirect::to(&format!(
            "/groups/{}?done=group-created",
            urlencode(&g.name)
        ))
        .into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = list_page(&state, &form.viewer).await?;
            p.name = f.text("name");
            p.kind = f.text("kind");
            p.description = f.text("description");
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

#[derive(Template)]
#[template(path = "groups/show.html")]
struct ShowPage {
    c: Chrome,
    g: Group,
    /// One page of members.
    members: Vec<recert_domain::Learner>,
    /// The members list's sort and page in the URL.
    list: List,
    /// How its requirements stand today (the compliance report of this group).
    compliance: Option<ComplianceReport>,
    /// Each member's standing per required program.
    standings: HashMap<(String, String), Standing>,
    /// Standing awards to this group (members who join later are awarded).
    standing_awards: Vec<recert_service::group_awards::GroupAwardView>,
    programs: Vec<String>,
    usernames: String,
    errors: FieldErrors,
}

impl ShowPage {
    fn standing(&self, username: &str, program: &str) -> Option<Standing> {
        self.standings
            .get(&(username.to_owned(), program.to_owned()))
            .copied()
    }
}

/// The members list's URL state.
fn members_list(name: &str, sort: &str, page: &str) -> Result<List, PageError> {
    let mut list = List::new(
        format!("/groups/{}", urlencode(name)),
        &[],
        sort,
        page,
        &recert_service::listing::keys::learners(),
        "name",
    )?;
    list.anchor = "#members";
    Ok(list)
}

fn members_of(name: &str) -> recert_service::learners::LearnerQuery {
    recert_service::learners::LearnerQuery {
        group: Some(name.to_owned()),
        ..Default::default()
    }
}

async fn show_page(
    state: &AppState,
    viewer: &Viewer,
    name: &str,
    sort: &str,
    page: &str,
) -> Result<ShowPage, PageError> {
    let who = &viewer.session.principal;
    let g = state.service.group(who, name).await?;
    let list = members_list(&g.name, sort, page)?;
    let members = state
        .service
        .learners_listed(who, members_of(&g.name), &list.sort, list.window())
        .await?;
    let list = list.total(members.total);
    let compliance = if who.reads_reports() {
        Some(
            state
                .service
                .compliance(
                    who,
                    &ComplianceQuery {
                        groups: vec![g.name.clone()],
                        detail: true,
                        ..ComplianceQuery::default()
                    },
                )
                .await?,
        )
    } else {
        None
    };
    let mut standings = HashMap::new();
    for r in compliance.iter().flat_map(|c| &c.rows) {
        for p in r.learners.iter().flatten() {
            standings.insert((p.username.clone(), r.program.clone()), p.standing);
        }
    }
    let programs = super::open_programs(state, who)
        .await?
        .into_iter()
        .filter(|p| who.may(recert_service::auth::Action::ManageProgram(p.row_id)))
        .map(|p| p.program.code.to_string())
        .collect();
    let standing_awards = state
        .service
        .group_awards(who, Some(&g.name))
        .await?
        .into_iter()
        .filter(|x| x.include_later_members && x.stopped_at.is_none())
        .collect();
    Ok(ShowPage {
        standing_awards,
        c: Chrome::new(viewer, format!("Group {}", g.name), "groups"),
        g,
        members: members.items,
        list,
        compliance,
        standings,
        programs,
        usernames: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<Done>,
) -> PageResult {
    let format = recert_service::exports::Format::parse(q.format.as_deref())?;
    if format != recert_service::exports::Format::Json {
        let who = &viewer.session.principal;
        let g = state.service.group(who, &name).await?;
        let list = members_list(&g.name, q.sort.as_deref().unwrap_or(""), "")?;
        let d = state
            .service
            .learners_export(who, members_of(&g.name), &list.sort, format)?;
        return Ok(crate::api::reports::download(d));
    }
    let mut p = show_page(
        &state,
        &viewer,
        &name,
        q.sort.as_deref().unwrap_or(""),
        q.page.as_deref().unwrap_or(""),
    )
    .await?;
    p.c = p.c.with_notice(super::programs::notice(q.done.as_deref()));
    Ok(render(&p))
}

fn back(name: &str, done: &str) -> axum::response::Response {
    Redirect::to(&format!("/groups/{}?done={done}", urlencode(name))).into_response()
}

async fn failed(state: &AppState, form: &Form, name: &str, e: ServiceError) -> PageResult {
    let errors = FieldErrors::from_service(&e, |f| {
        Some(if f.starts_with("members") || f.starts_with("usernames") {
            "usernames".into()
        } else {
            f.replace('.', "_")
        })
    })
    .ok_or(PageError(e))?;
    let mut p = show_page(state, &form.viewer, name, "", "").await?;
    p.usernames = form.fields.text("usernames");
    p.errors = errors;
    Ok(render_invalid(&p))
}

pub async fn add_members(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: Form,
) -> PageResult {
    let usernames: Vec<String> = form
        .fields
        .text("usernames")
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if usernames.is_empty() {
        return failed(
            &state,
            &form,
            &name,
            ServiceError::field("usernames", "name at least one learner"),
        )
        .await;
    }
    match state
        .service
        .add_members(
            &form.viewer.session.principal,
            &name,
            MembersDraft { usernames },
        )
        .await
    {
        Ok(_) => Ok(back(&name, "members-added")),
        Err(e) => failed(&state, &form, &name, e).await,
    }
}

pub async fn remove_member(
    State(state): State<AppState>,
    Path((name, username)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    state
        .service
        .remove_member(&form.viewer.session.principal, &name, &username)
        .await?;
    Ok(back(&name, "member-removed"))
}

pub async fn add_requirement(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: Form,
) -> PageResult {
    let draft = RequirementDraft {
        program: form.fields.text("program"),
    };
    match state
        .service
        .add_requirement(&form.viewer.session.principal, &name, draft)
        .await
    {
        Ok(_) => Ok(back(&name, "requirement-added")),
        Err(e) => failed(&state, &form, &name, e).await,
    }
}

pub async fn remove_requirement(
    State(state): State<AppState>,
    Path((name, program)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    state
        .service
        .remove_requirement(&form.viewer.session.principal, &name, &program)
        .await?;
    Ok(back(&name, "requirement-removed"))
}

/// Stops a standing group award (members who join later are no longer awarded), then
/// returns to the group or program page it was stopped from.
pub async fn stop_group_award(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: Form,
) -> PageResult {
    state
        .service
        .stop_group_award(&form.viewer.session.principal, id)
        .await?;
    let back = form.fields.text("back");
    // Only back to a page of this site that shows standing awards.
    let back = if (back.starts_with("/groups/") || back.starts_with("/programs/"))
        && !back.contains("//")
        && !back.contains('?')
    {
        back
    } else {
        "/groups".to_owned()
    };
    Ok(Redirect::to(&format!("{back}?done=group-award-stopped")).into_response())
}
