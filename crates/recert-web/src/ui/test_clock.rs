//! `/admin/test-clock`: moving the test clock from the browser, so a person walking the demo
//! through a year does it where they watch it (administrators, on an instance started with
//! `--test-clock`; elsewhere the page says how to start one).

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::test_clock::TestClockView;

#[derive(Template)]
#[template(path = "admin/test_clock.html")]
struct TestClockPage {
    c: Chrome,
    clock: TestClockView,
    /// One-click moves: label and the instant they move to.
    steps: Vec<(&'static str, String)>,
    value: String,
    errors: FieldErrors,
}

#[derive(serde::Deserialize, Default)]
pub struct MovedQuery {
    moved: Option<String>,
}

fn page(state: &AppState, viewer: &Viewer) -> Result<TestClockPage, PageError> {
    let clock = state.service.test_clock(&viewer.session.principal)?;
    let now = state.service.now();
    let steps = [
        ("1 day later", 1),
        ("1 week later", 7),
        ("30 days later", 30),
        ("90 days later", 90),
    ]
    .into_iter()
    .filter_map(|(label, days)| {
        let to = now
            .checked_add(jiff::SignedDuration::from_hours(24 * days))
            .ok()?;
        Some((label, to.to_string()))
    })
    .collect();
    Ok(TestClockPage {
        c: Chrome::new(viewer, "Test clock", "test-clock"),
        clock,
        steps,
        value: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<MovedQuery>,
) -> PageResult {
    let mut p = page(&state, &viewer)?;
    if q.moved.is_some() {
        p.c = p.c.with_notice(Some("The clock has moved.".to_owned()));
    }
    Ok(render(&p))
}

/// `POST /admin/test-clock` (`now`: a date, or an instant from a one-click move).
pub async fn set(State(state): State<AppState>, form: Form) -> PageResult {
    let value = form.fields.text("now");
    match state
        .service
        .move_test_clock(&form.viewer.session.principal, &value)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/test-clock?moved=1").into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = page(&state, &form.viewer)?;
            p.value = value;
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}
