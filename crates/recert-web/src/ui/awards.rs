//! Award pages: award a program to learners, a group or a branch by hand; one award with
//! its history; edit, revoke and unassign.

use super::forms::{FieldErrors, Fields, Form};
use super::programs::show_page;
use super::session::urlencode;
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use recert_service::AuditEvent as Event;
use recert_service::ServiceError;
use recert_service::awards::{ArchiveDraft, AwardDraft, AwardPatch, AwardView, RevokeDraft};
use recert_service::group_awards::GroupAwardDraft;

/// The award form as typed.
#[derive(Debug, Clone, Default)]
pub struct AwardForm {
    pub learners: String,
    pub group: String,
    pub issued_on: String,
    pub expires_on: String,
    pub always_valid: bool,
    pub association: String,
    /// Also award members who join the group later.
    pub include_later: bool,
}

impl AwardForm {
    fn from_fields(f: &Fields) -> Self {
        Self {
            learners: f.text("learners"),
            group: f.text("group"),
            issued_on: f.text("issued_on"),
            expires_on: f.text("expires_on"),
            always_valid: f.checked("always_valid"),
            association: f.text("association"),
            include_later: f.checked("include_later"),
        }
    }
}

/// The association types a manual award may record.
pub const ASSOCIATIONS: [(&str, &str); 6] = [
    ("manual", "Manual"),
    ("course_completion", "Course completion"),
    ("learning_plan", "Learning plan"),
    ("external_training", "External training"),
    ("import", "Import"),
    ("renewal", "Renewal"),
];

/// Awards the program to every named learner (one award each) and to every member of the
/// chosen group (or branch, site… — any group kind) as one group award, previewed first;
/// reports per learner what happened.
pub async fn create(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let who = form.viewer.session.principal.clone();
    let f = AwardForm::from_fields(&form.fields);
    let confirmed = form.fields.checked("confirm");
    let mut errors = FieldErrors::default();
    let mut usernames: Vec<String> = f
        .learners
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    // Each learner once, in the order named.
    let mut seen = std::collections::HashSet::new();
    usernames.retain(|u| seen.insert(u.clone()));
    if usernames.is_empty() && f.group.is_empty() {
        errors.add("learners", "name at least one learner, or choose a group");
    }
    let group_draft = |preview: bool| GroupAwardDraft {
        group: Some(f.group.clone()),
        program: Some(code.clone()),
        issued_on: (!f.issued_on.is_empty()).then(|| f.issued_on.clone()),
        expires_on: (!f.expires_on.is_empty() && !f.always_valid).then(|| f.expires_on.clone()),
        always_valid: Some(f.always_valid),
        association: (!f.association.is_empty()).then(|| f.association.clone()),
        include_later_members: Some(f.include_later),
        preview: Some(preview),
    };
    // A group award is shown as a preview first; it runs once confirmed.
    if errors.is_empty() && !f.group.is_empty() && !confirmed {
        match state
            .service
            .create_group_award(&who, group_draft(true))
            .await
        {
            Ok(preview) => {
                let mut page = show_page(&state, &form.viewer, &code, None, None).await?;
                page.preview = Some(preview);
                page.award_form = f;
                return Ok(render(&page));
            }
            Err(e) => {
                errors =
                    FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            }
        }
    }
    let mut results = Vec::new();
    let mut awarded = 0;
    let mut considered = usernames.len();
    if errors.is_empty() {
        for u in &usernames {
            let draft = AwardDraft {
                learner: Some(u.clone()),
                program: Some(code.clone()),
                issued_on: (!f.issued_on.is_empty()).then(|| f.issued_on.clone()),
                expires_on: (!f.expires_on.is_empty() && !f.always_valid)
                    .then(|| f.expires_on.clone()),
                always_valid: Some(f.always_valid),
                association: (!f.association.is_empty()).then(|| f.association.clone()),
                ..AwardDraft::default()
            };
            match state.service.create_award(&who, draft).await {
                Ok(a) => {
                    awarded += 1;
                    results.push(format!("{u}: awarded {}", a.id));
                }
                // Input errors that concern the form itself stop after the first learner.
                Err(ServiceError::Validation(d)) if d.0.iter().any(|e| e.field != "learner") => {
                    for e in d.0 {
                        if e.field == "learner" {
                            results.push(format!("{u}: {}", e.message));
                        } else {
                            errors.add(&e.field, e.message);
                        }
                    }
                    break;
                }
                Err(ServiceError::Validation(d)) => {
                    for e in d.0 {
                        results.push(format!("{u}: {}", e.message));
                    }
                }
                Err(ServiceError::Conflict(m)) => results.push(format!("{u}: not awarded — {m}")),
                Err(e) => return Err(PageError(e)),
            }
        }
    }
    if errors.is_empty() && !f.group.is_empty() {
        match state
            .service
            .create_group_award(&who, group_draft(false))
            .await
        {
            Ok(r) => {
                considered += r.rows.len();
                awarded += r.awards;
                for row in r.rows {
                    results.push(format!(
                        "{} (group {}): {}",
                        row.learner, r.group, row.reason
                    ));
                }
            }
            Err(e) => {
                errors =
                    FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            }
        }
    }
    let mut page = show_page(&state, &form.viewer, &code, None, None).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    if errors.is_empty() {
        page.c = page.c.with_notice(Some(format!(
            "Awarded {awarded} of {considered} learner{}.",
            if considered == 1 { "" } else { "s" }
        )));
        page.results = results;
    } else {
        page.award_form = f;
        page.results = results;
        page.errors = errors;
    }
    let mut res = render(&page);
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Template)]
#[template(path = "awards/show.html")]
struct ShowPage {
    c: Chrome,
    a: AwardView,
    history: Vec<Event>,
    may_change: bool,
    edit: EditForm,
    errors: FieldErrors,
    /// Which form the errors belong to: edit, revoke or archive.
    errors_for: &'static str,
    categories: [&'static str; 5],
}

impl ShowPage {
    fn associations(&self) -> [(&'static str, &'static str); 6] {
        ASSOCIATIONS
    }
}

/// The edit form as typed.
#[derive(Debug, Clone, Default)]
struct EditForm {
    issued_on: String,
    completed_on: String,
    expires_on: String,
    always_valid: bool,
    association: String,
    reason: String,
    revoke_reason: String,
    revoke_category: String,
    archive_reason: String,
}

impl EditForm {
    fn of(a: &AwardView) -> Self {
        Self {
            issued_on: a.issued_on.to_string(),
            completed_on: a.completed_on.map(|d| d.to_string()).unwrap_or_default(),
            expires_on: a.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            always_valid: a.always_valid,
            association: a.association.as_str().to_owned(),
            ..Self::default()
        }
    }
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
}

async fn page(state: &AppState, viewer: &Viewer, id: &str) -> Result<ShowPage, PageError> {
    let who = &viewer.session.principal;
    let a = state.service.award(who, id, None).await?;
    let history = state.service.award_history(who, id).await?;
    let program = state.service.program(who, &a.program).await?;
    Ok(ShowPage {
        c: Chrome::new(viewer, format!("Certificate {}", a.id), "programs"),
        may_change: who.may(recert_service::auth::Action::WriteAward(program.row_id)),
        edit: EditForm::of(&a),
        a,
        history,
        errors: FieldErrors::default(),
        errors_for: "",
        categories: recert_domain::award::RevocationCategory::ALL.map(|c| c.as_str()),
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer, &id).await?;
    p.c = p.c.with_notice(super::programs::notice(q.done.as_deref()));
    Ok(render(&p))
}

fn done(id: &str, what: &str) -> Response {
    Redirect::to(&format!("/awards/{}?done={what}", urlencode(id))).into_response()
}

/// Re-renders the award page with a form's errors beside its fields.
async fn failed(
    state: &AppState,
    form: &Form,
    id: &str,
    e: ServiceError,
    errors_for: &'static str,
    map: fn(&str) -> Option<String>,
) -> PageResult {
    let errors = FieldErrors::from_service(&e, map).ok_or(PageError(e))?;
    let mut p = page(state, &form.viewer, id).await?;
    let f = &form.fields;
    p.edit = EditForm {
        issued_on: f.text("issued_on"),
        completed_on: f.text("completed_on"),
        expires_on: f.text("expires_on"),
        always_valid: f.checked("always_valid"),
        association: f.text("association"),
        reason: f.text("reason"),
        revoke_reason: f.text("revoke_reason"),
        revoke_category: f.text("revoke_category"),
        archive_reason: f.text("archive_reason"),
    };
    if errors_for != "edit" {
        let fresh = EditForm::of(&p.a);
        p.edit = EditForm {
            revoke_reason: p.edit.revoke_reason,
            revoke_category: p.edit.revoke_category,
            archive_reason: p.edit.archive_reason,
            ..fresh
        };
    }
    p.errors = errors;
    p.errors_for = errors_for;
    Ok(render_invalid(&p))
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let f = &form.fields;
    let always_valid = f.checked("always_valid");
    let patch = AwardPatch {
        issued_on: f.get("issued_on").map(str::to_owned),
        completed_on: Some(f.get("completed_on").map(str::to_owned)),
        expires_on: Some(if always_valid {
            None
        } else {
            f.get("expires_on").map(str::to_owned)
        }),
        always_valid: Some(always_valid),
        association: f.get("association").map(str::to_owned),
        reason: f.get("reason").map(str::to_owned),
        ..AwardPatch::default()
    };
    if f.get("issued_on").is_none() {
        let e = ServiceError::field("issued_on", "is required");
        return failed(&state, &form, &id, e, "edit", super::forms::same_name).await;
    }
    match state
        .service
        .update_award(&form.viewer.session.principal, &id, patch)
        .await
    {
        Ok(_) => Ok(done(&id, "award-updated")),
        Err(e) => failed(&state, &form, &id, e, "edit", super::forms::same_name).await,
    }
}

fn revoke_field(api: &str) -> Option<String> {
    Some(format!("revoke_{api}"))
}

fn archive_field(api: &str) -> Option<String> {
    Some(format!("archive_{api}"))
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let draft = RevokeDraft {
        reason: Some(form.fields.text("revoke_reason")),
        category: form.fields.get("revoke_category").map(str::to_owned),
    };
    match state
        .service
        .revoke_award(&form.viewer.session.principal, &id, draft)
        .await
    {
        Ok(_) => Ok(done(&id, "revoked")),
        Err(e) => failed(&state, &form, &id, e, "revoke", revoke_field).await,
    }
}

pub async fn archive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let draft = ArchiveDraft {
        reason: form.fields.get("archive_reason").map(str::to_owned),
    };
    match state
        .service
        .archive_award(&form.viewer.session.principal, &id, draft)
        .await
    {
        Ok(_) => Ok(done(&id, "unassigned")),
        Err(e) => failed(&state, &form, &id, e, "archive", archive_field).await,
    }
}
