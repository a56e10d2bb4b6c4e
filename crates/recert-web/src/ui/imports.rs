//! The imports pages: a CSV file in (certification records or people) with its settings,
//! the job's progress bar while it runs, and its report; a finished dry run can be run for
//! real from its page. The job is the one the API and the CLI run.

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::imports::{ImportForm, ImportJob, Issue};

#[derive(Template)]
#[template(path = "imports/list.html")]
struct ImportsPage {
    c: Chrome,
    jobs: Vec<ImportJob>,
    form: ImportForm,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "imports/show.html")]
struct JobPage {
    c: Chrome,
    job: ImportJob,
    findings: Vec<Issue>,
    partial: bool,
}

/// The progress part alone: what the job's page polls while the job runs.
#[derive(Template)]
#[template(path = "imports/_progress.html")]
struct ProgressPart {
    job: ImportJob,
    partial: bool,
}

const SHOWN_FINDINGS: i64 = 200;

impl ProgressPart {
    fn running(&self) -> bool {
        running(&self.job)
    }

    fn state_words(&self) -> String {
        state_words(&self.job)
    }
}

fn running(j: &ImportJob) -> bool {
    matches!(j.state.as_str(), "queued" | "running")
}

/// Where the job is, in words.
fn state_words(j: &ImportJob) -> String {
    {
        match j.state.as_str() {
            "queued" => "Waiting to start".into(),
            "running" => match j.rows_total {
                None => "Reading the file".into(),
                Some(t) => format!("Checked {} of {} rows", j.rows_done.min(t), t),
            },
            "done" if j.dry_run => "Dry run finished: nothing was changed".into(),
            "done" => "Finished".into(),
            "failed" => "Failed".into(),
            other => other.into(),
        }
    }
}

impl JobPage {
    fn running(&self) -> bool {
        running(&self.job)
    }

    fn state_words(&self) -> String {
        state_words(&self.job)
    }

    fn created_at(&self) -> String {
        self.job.created_at.to_string()
    }

    /// What running a dry run's file for real will do, for its confirmation.
    fn run_question(&self) -> String {
        let j = &self.job;
        let count =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "Import {} for real? {} will be written ({} rejected).",
            j.file_name,
            count(j.imported, "record", "records"),
            count(j.rejected, "row", "rows"),
        )
    }

    /// What cancelling will leave, for its confirmation.
    fn cancel_question(&self) -> String {
        let j = &self.job;
        if j.dry_run {
            format!(
                "Cancel the dry run of {}? Nothing has been changed.",
                j.file_name
            )
        } else {
            format!(
                "Cancel the import of {}? Records already written stay ({} so far); the batch in progress is undone.",
                j.file_name, j.imported
            )
        }
    }
}

impl ImportsPage {
    fn checked(&self, v: &Option<String>, default: bool) -> bool {
        match v.as_deref() {
            None => default,
            Some(s) => matches!(s, "true" | "on" | "1"),
        }
    }

    fn dry_run_checked(&self) -> bool {
        self.checked(&self.form.dry_run, true)
    }

    fn keep_last_checked(&self) -> bool {
        self.checked(&self.form.keep_last_duplicate, false)
    }

    fn create_learners_checked(&self) -> bool {
        self.checked(&self.form.create_learners, true)
    }

    fn chosen(&self, field: &str, value: &str) -> bool {
        let v = match field {
            "kind" => self.form.kind.as_deref().unwrap_or("awards"),
            "separator" => self.form.separator.as_deref().unwrap_or(""),
            _ => self.form.charset.as_deref().unwrap_or("auto"),
        };
        v == value
    }

    fn mapping(&self) -> &str {
        self.form.mapping.as_deref().unwrap_or("")
    }

    fn when(&self, j: &ImportJob) -> String {
        j.created_at.to_string()
    }
}

async fn list_page(state: &AppState, viewer: &Viewer) -> Result<ImportsPage, PageError> {
    Ok(ImportsPage {
        c: Chrome::new(viewer, "Imports", "imports"),
        jobs: state
            .service
            .import_jobs(&viewer.session.principal, 100)
            .await?,
        form: ImportForm::default(),
        errors: FieldErrors::default(),
    })
}

/// `GET /imports`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    Ok(render(&list_page(&state, &viewer).await?))
}

/// `POST /imports` (multipart): starts the job and shows its page.
pub async fn create(State(state): State<AppState>, viewer: Viewer, mp: Multipart) -> PageResult {
    let who = &viewer.session.principal;
    match crate::api::imports::receive(&state.service, who, mp, Some(&viewer.session.csrf)).await {
        Ok((job, _)) => Ok(Redirect::to(&format!("/imports/{}", job.job)).into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = list_page(&state, &viewer).await?;
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

async fn job_page(
    state: &AppState,
    viewer: &Viewer,
    job: i64,
    partial: bool,
) -> Result<JobPage, PageError> {
    let who = &viewer.session.principal;
    let j = state.service.import_job(who, job).await?;
    let findings = if partial {
        Vec::new()
    } else {
        state
            .service
            .import_issues(who, job, false, 0, SHOWN_FINDINGS)
            .await?
            .into_iter()
            .map(|(_, i)| i)
            .collect()
    };
    Ok(JobPage {
        c: Chrome::new(viewer, format!("Import of {}", j.file_name), "imports"),
        job: j,
        findings,
        partial,
    })
}

fn job_id(raw: &str) -> Result<i64, PageError> {
    raw.parse::<i64>().map_err(|_| {
        PageError(recert_service::ServiceError::not_found(
            "import",
            raw.to_owned(),
        ))
    })
}

/// `GET /imports/{job}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(job): Path<String>,
) -> PageResult {
    Ok(render(
        &job_page(&state, &viewer, job_id(&job)?, false).await?,
    ))
}

/// `GET /imports/{job}/progress`: the progress part, polled by the page while it runs.
pub async fn progress(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(job): Path<String>,
) -> PageResult {
    let p = job_page(&state, &viewer, job_id(&job)?, true).await?;
    let ended = !running(&p.job);
    let part = ProgressPart {
        job: p.job,
        partial: true,
    };
    let mut res = axum::response::Html(
        part.render()
            .map_err(|e| PageError(recert_service::ServiceError::internal(e)))?,
    )
    .into_response();
    if ended {
        // The job has ended: htmx reloads the whole page, which then shows the findings
        // and, after a dry run, the button to run it for real.
        res.headers_mut()
            .insert("HX-Refresh", axum::http::HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// `GET /imports/{job}/errors.csv`: the rejected rows.
pub async fn errors(state: State<AppState>, viewer: Viewer, job: Path<String>) -> PageResult {
    findings_csv(state, viewer, job, true).await
}

/// `GET /imports/{job}/report.csv`: every finding.
pub async fn report(state: State<AppState>, viewer: Viewer, job: Path<String>) -> PageResult {
    findings_csv(state, viewer, job, false).await
}

async fn findings_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(job): Path<String>,
    rejected_only: bool,
) -> PageResult {
    let d = state
        .service
        .import_report(&viewer.session.principal, job_id(&job)?, rejected_only)
        .await?;
    Ok(crate::api::reports::download(d))
}

/// `POST /imports/{job}/run`: a finished dry run's file, for real (the page asks first).
pub async fn run(State(state): State<AppState>, Path(job): Path<String>, form: Form) -> PageResult {
    let j = state
        .service
        .run_dry_run_for_real(&form.viewer.session.principal, job_id(&job)?)
        .await?;
    Ok(Redirect::to(&format!("/imports/{}", j.job)).into_response())
}

/// `POST /imports/{job}/cancel`: stops a queued or running import (the page asks first).
pub async fn cancel(
    State(state): State<AppState>,
    Path(job): Path<String>,
    form: Form,
) -> PageResult {
    let j = state
        .service
        .cancel_import(&form.viewer.session.principal, job_id(&job)?)
        .await?;
    Ok(Redirect::to(&format!("/imports/{}", j.job)).into_response())
}
