//! `/renew/{award}`: the learner's renewal page, the target of every reminder's
//! [renew_link]. Signed-out visitors go through sign-in and come back here.

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
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer, &id).await?;
    if q.done.as_deref() == Some("asked") {
        p.c = p.c.with_notice(Some(
            "Asked: your manager has been emailed and will see it in their sign-off queue.".into(),
        ));
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
