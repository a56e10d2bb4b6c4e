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
use recert_domain::Association;
use recert_service::ServiceError;
use recert_service::award_batches::AwardBatchDraft;
use recert_service::awards::{ArchiveDraft, AwardPatch, AwardView, RevokeDraft};

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

/// Awards the program to every named learner and every member of the chosen group (or
/// branch, site… — any group kind) in one transaction: one service call, previewed first
/// when a group is chosen; reports per learner what happened.
pub async fn create(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let who = form.viewer.session.principal.clone();
    let f = AwardForm::from_fields(&form.fields);
    let confirmed = form.fields.checked("confirm");
    let preview = !f.group.is_empty() && !confirmed;
    let draft = AwardBatchDraft {
        program: Some(code.clone()),
        learners: Some(
            f.learners
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        groups: Some(vec![f.group.clone()]),
        issued_on: (!f.issued_on.is_empty()).then(|| f.issued_on.clone()),
        expires_on: (!f.expires_on.is_empty() && !f.always_valid).then(|| f.expires_on.clone()),
        always_valid: Some(f.always_valid),
        association: (!f.association.is_empty()).then(|| f.association.clone()),
        include_later_members: Some(f.include_later && !f.group.is_empty()),
        preview: Some(preview),
    };
    let result = state.service.award_batch(&who, draft).await;
    if let Ok(r) = &result
        && !r.preview
        && r.skipped == 0
        && r.refused == 0
    {
        // Everyone awarded: to the program page (reloading it awards no one again), its
        // holders newest first.
        return Ok(Redirect::to(&format!(
            "/programs/{}?done=awarded&awarded={}&of={}&sort=-issued#holders",
            urlencode(&code),
            r.awarded,
            r.results.len()
        ))
        .into_response());
    }
    let mut page = show_page(&state, &form.viewer, &code, None, None, None).await?;
    match result {
        Ok(r) if r.preview => {
            page.preview = Some(r);
            page.award_form = f;
            Ok(render(&page))
        }
        // Someone skipped or refused: the outcome of each learner, with its reason, is the
        // answer (and sending it again awards no one twice: they are skipped then).
        Ok(r) => {
            let considered = r.results.len();
            page.c = page.c.with_notice(Some(format!(
                "Awarded {} of {considered} learner{}.",
                r.awarded,
                if considered == 1 { "" } else { "s" }
            )));
            page.results = r
                .results
                .iter()
                .map(|row| match &row.group {
                    Some(g) => format!("{} (group {g}): {}", row.learner, row.reason),
                    None => format!("{}: {}", row.learner, row.reason),
                })
                .collect();
            Ok(render(&page))
        }
        Err(e) => {
            page.errors = FieldErrors::from_service(&e, |api| {
                Some(if api.starts_with("groups[") {
                    "group".into()
                } else {
                    api.to_owned()
                })
            })
            .ok_or(PageError(e))?;
            page.award_form = f;
            let mut res = render(&page);
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

#[derive(Template)]
#[template(path = "awards/show.html")]
struct ShowPage {
    c: Chrome,
    a: AwardView,
    history: Vec<recert_service::history::Described>,
    may_change: bool,
    edit: EditForm,
    errors: FieldErrors,
    /// Which form the errors belong to: edit, revoke, archive, renew or grace.
    errors_for: &'static str,
    categories: [recert_domain::award::RevocationCategory; 5],
    /// The program's renewal pathways, for the renewal form.
    pathways: Vec<recert_domain::program::Pathway>,
    /// The viewer may extend grace (administrators).
    may_extend_grace: bool,
}

impl ShowPage {
    fn associations(&self) -> [Association; 6] {
        Association::ALL
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
    renew_pathway: String,
    renew_completed_on: String,
    renew_note: String,
    grace_days: String,
    grace_reason: String,
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
    let history = state
        .service
        .award_history(who, id)
        .await?
        .iter()
        .map(recert_service::history::describe)
        .collect();
    let program = state.service.program(who, &a.program).await?;
    Ok(ShowPage {
        c: Chrome::new(viewer, format!("Certificate {}", a.id), "programs"),
        may_change: who.may(recert_service::auth::Action::WriteAward(program.row_id)),
        edit: EditForm::of(&a),
        a,
        history,
        errors: FieldErrors::default(),
        errors_for: "",
        categories: recert_domain::award::RevocationCategory::ALL,
        pathways: program.program.renewal_pathways.clone(),
        may_extend_grace: who.may(recert_service::auth::Action::Administer),
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

/// The award's signed credential as a file, for whoever may see the award (the same
/// document as `GET /api/v1/awards/{id}/credential`, `?suite=` too).
pub async fn credential(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<crate::api::credentials::CredentialParams>,
) -> PageResult {
    let doc = state
        .service
        .credential(&viewer.session.principal, &id, q.suite.as_deref())
        .await?;
    Ok(crate::api::credentials::credential_file(&doc, &id))
}

#[derive(serde::Deserialize)]
pub struct ScaleQuery {
    scale: Option<String>,
}

/// The award's certificate as a PDF, for whoever may see the award.
pub async fn certificate_pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    use recert_service::credentials::Document;
    let bytes = state
        .service
        .certificate(&viewer.session.principal, &id, Document::Pdf)
        .await?;
    Ok(crate::api::credentials::document(bytes, Document::Pdf, &id))
}

/// The award's certificate as a PNG (`?scale=2`), for whoever may see the award.
pub async fn certificate_png(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ScaleQuery>,
) -> PageResult {
    use recert_service::credentials::Document;
    let doc = Document::png(q.scale.as_deref())?;
    let bytes = state
        .service
        .certificate(&viewer.session.principal, &id, doc)
        .await?;
    Ok(crate::api::credentials::document(bytes, doc, &id))
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
        renew_pathway: f.text("renew_pathway"),
        renew_completed_on: f.text("renew_completed_on"),
        renew_note: f.text("renew_note"),
        grace_days: f.text("grace_days"),
        grace_reason: f.text("grace_reason"),
    };
    if errors_for != "edit" {
        let fresh = EditForm::of(&p.a);
        p.edit = EditForm {
            revoke_reason: p.edit.revoke_reason,
            revoke_category: p.edit.revoke_category,
            archive_reason: p.edit.archive_reason,
            renew_pathway: p.edit.renew_pathway,
            renew_completed_on: p.edit.renew_completed_on,
            renew_note: p.edit.renew_note,
            grace_days: p.edit.grace_days,
            grace_reason: p.edit.grace_reason,
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

fn renew_field(api: &str) -> Option<String> {
    Some(format!("renew_{api}"))
}

fn grace_field(api: &str) -> Option<String> {
    Some(format!("grace_{api}"))
}

/// `POST /awards/{id}/renew`: a renewal recorded by hand; on success, the new award's page.
pub async fn renew(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let f = &form.fields;
    let draft = recert_service::renewals::RenewDraft {
        pathway: f.get("renew_pathway").map(str::to_owned),
        completed_on: f.get("renew_completed_on").map(str::to_owned),
        note: Some(f.text("renew_note")),
    };
    match state
        .service
        .renew_award(&form.viewer.session.principal, &id, draft)
        .await
    {
        Ok(new) => Ok(done(&new.id, "renewed")),
        Err(e) => failed(&state, &form, &id, e, "renew", renew_field).await,
    }
}

/// `POST /awards/{id}/extend-grace`.
pub async fn extend_grace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let f = &form.fields;
    let days = match f.get("grace_days").map(|d| d.parse::<i64>()) {
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            let e = ServiceError::field("days", "is a whole number of days");
            return failed(&state, &form, &id, e, "grace", grace_field).await;
        }
        None => None,
    };
    let draft = recert_service::renewals::ExtendGraceDraft {
        days,
        reason: Some(f.text("grace_reason")),
    };
    match state
        .service
        .extend_grace(&form.viewer.session.principal, &id, draft)
        .await
    {
        Ok(_) => Ok(done(&id, "grace-extended")),
        Err(e) => failed(&state, &form, &id, e, "grace", grace_field).await,
    }
}
