//! `/renew/{award}`: the learner's renewal page, the target of every reminder's
//! [renew_link]. Signed-out visitors go through sign-in and come back here.

use super::{Chrome, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
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

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let g = state
        .service
        .renewal_guide(&viewer.session.principal, &id)
        .await?;
    let on_behalf = viewer
        .session
        .learner
        .as_ref()
        .is_none_or(|l| l.as_str() != g.award.learner);
    Ok(render(&RenewPage {
        c: Chrome::new(&viewer, format!("Renew {}", g.award.program_name), "my"),
        lead: lead(&g),
        on_behalf,
        g,
    }))
}
