//! `/renew/{award}`: the learner's renewal page, the target of every reminder's
//! [renew_link]. Signed-out visitors go through sign-in and come back here.

use super::forms::FieldErrors;
use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use recert_domain::status::Status;
use recert_service::notices::day_in_words;
use recert_service::renewal_guide::RenewalGuide;

#[derive(Template)]
#[template(path = "renew/show.html")]
struct RenewPage {
    c: Chrome,
    g: RenewalGuide,
    /// The page's answer, in one sentence.
    lead: String,
    /// The viewer is not the holder (a manager or an administrator looking).
    on_behalf: bool,
    /// Why asking for a sign-off was refused, if it was.
    signoff_error: Option<String>,
    /// The credit form as typed and what was wrong with it, after a refused entry.
    credit_form: CreditForm,
    credit_errors: FieldErrors,
}

/// The credit form as typed.
#[derive(Debug, Clone, Default)]
pub struct CreditForm {
    pub completed_on: String,
    pub hours: String,
    pub category: String,
    pub provider: String,
}

impl RenewPage {
    fn signoff_pending(&self) -> bool {
        self.g
            .signoff
            .as_ref()
            .is_some_and(|s| s.state == "pending")
    }
}

fn lead(g: &RenewalGuide) -> String {
    let a = &g.award;
    let day = |d: Option<recert_domain::Date>| d.map(day_in_words).unwrap_or_default();
    let days = a.days_left.unwrap_or_default();
    match a.status {
        Status::Active if a.expires_on.is_none() => {
            "This certification never expires: there is nothing to renew.".into()
        }
        Status::Active => format!(
            "Valid until {} ({days} days from now). Renewal opens on {}; the ways to renew are below.",
            day(a.expires_on),
            day(a.renewal_window_opens_on)
        ),
        Status::Expiring => format!(
            "Expires on {}, in {days} days. Renew it now to stay certified:",
            day(a.expires_on)
        ),
        Status::Grace => format!(
            "Expired on {}. You can still renew it until {} without starting over:",
            day(a.expires_on),
            day(a.grace_ends_on)
        ),
        Status::Lapsed => format!(
            "Lapsed: it expired on {} and grace ended on {}. To be certified again, complete the initial requirements below.",
            day(a.expires_on),
            day(a.grace_ends_on)
        ),
        Status::Superseded => "This certificate has already been renewed: the newer one is linked below.".into(),
        Status::Revoked => "This certificate was revoked and cannot be renewed. Ask the program's administrator what to do.".into(),
        Status::Archived => "This certificate was unassigned and cannot be renewed. Ask the program's administrator if you need it.".into(),
        Status::NotYetValid => format!("Valid from {}: there is nothing to renew yet.", day(Some(a.issued_on))),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ShowQuery {
    done: Option<String>,
}

async fn page(state: &AppState, viewer: &Viewer, id: &str) -> Result<RenewPage, super::PageError> {
    let g = state
        .service
        .renewal_guide(&viewer.session.principal, id)
        .await?;
    let on_behalf = viewer
        .session
        .learner
        .as_ref()
        .is_none_or(|l| l.as_str() != g.award.learner);
    Ok(RenewPage {
        c: Chrome::new(viewer, format!("Renew {}", g.award.program_name), "my"),
        lead: lead(&g),
        on_behalf,
        g,
        signoff_error: None,
        credit_form: CreditForm::default(),
        credit_errors: FieldErrors::default(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer, &id).await?;
    let notice = match q.done.as_deref() {
        Some("asked") => {
            Some("Asked: your manager has been emailed and will see it in their sign-off queue.")
        }
        Some("credit-pending") => Some("Logged: the credits wait for an approver's review."),
        Some("credit-approved") => Some("Logged and approved: they count toward this cycle."),
        _ => None,
    };
    if let Some(n) = notice {
        p.c = p.c.with_notice(Some(n.into()));
    }
    Ok(render(&p))
}

/// The holder asks their manager to sign off (the "Ask … to sign off" button).
pub async fn ask_signoff(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: super::forms::Form,
) -> PageResult {
    let draft = recert_service::signoffs::SignoffDraft {
        award: Some(id.clone()),
    };
    match state
        .service
        .request_signoff(&form.viewer.session.principal, draft)
        .await
    {
        Ok(_) => {
            Ok(axum::response::Redirect::to(&format!("/renew/{id}?done=asked")).into_response())
        }
        Err(e) => {
            let mut p = page(&state, &form.viewer, &id).await?;
            p.signoff_error = Some(e.to_string());
            Ok(super::render_invalid(&p))
        }
    }
}

/// Logs credits from the renewal page's form (multipart, with an optional evidence file).
/// A renewal the entry completes goes straight to the new certificate.
pub async fn log_credit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    mp: axum::extract::Multipart,
) -> PageResult {
    let (fields, upload) = match super::forms::multipart_form(&viewer, mp, "evidence").await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let mut p = page(&state, &viewer, &id).await?;
    // Whose and which: the award's, never what the form claims.
    let mut all = fields.0.clone();
    all.retain(|(k, _)| k != "learner" && k != "program");
    all.push(("learner".into(), p.g.award.learner.clone()));
    all.push(("program".into(), p.g.award.program.clone()));
    let result = match crate::api::credits::credit_draft(&all) {
        Ok(d) => {
            state
                .service
                .log_credit(&viewer.session.principal, d, upload)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(logged) => {
            let to = match (&logged.renewed, logged.entry.state.as_str()) {
                (Some(new), _) => format!("/awards/{new}?done=renewed"),
                (None, "approved") => format!("/renew/{id}?done=credit-approved#credits"),
                _ => format!("/renew/{id}?done=credit-pending#credits"),
            };
            Ok(axum::response::Redirect::to(&to).into_response())
        }
        Err(e) => {
            p.credit_errors = FieldErrors::from_service(&e, super::forms::same_name)
                .ok_or(super::PageError(e))?;
            p.credit_form = CreditForm {
                completed_on: fields.text("completed_on"),
                hours: fields.text("hours"),
                category: fields.text("category"),
                provider: fields.text("provider"),
            };
            Ok(super::render_invalid(&p))
        }
    }
}
