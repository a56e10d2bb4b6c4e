//! The web application: server-rendered pages (askama) with a little htmx, over the same
//! service calls and the same authorization policy as the JSON API. Every form carries the
//! session's CSRF token; a form error re-renders the form with the message beside the field.

pub mod accounts;
pub mod admin;
pub mod assets;
pub mod audit;
pub mod awards;
pub mod charts;
pub mod credits;
pub mod earning;
pub mod forms;
pub mod groups;
pub mod imports;
pub mod learner_form;
pub mod learners;
pub mod listing;
pub mod me;
pub mod messages;
pub mod organizations;
pub mod outbox;
pub mod programs;
pub mod renew;
pub mod reports;
pub mod session;
pub mod share;
pub mod signoffs;
pub mod test_clock;
pub mod verify;
pub mod webhooks;

use crate::AppState;
use crate::problem::ApiError;
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use recert_service::auth::{Action, Role};
use recert_service::{Principal, ServiceError};
pub use session::Viewer;

/// What every signed-in page shows around its content: who is signed in, the navigation
/// their role gets, and the CSRF token forms carry.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    pub username: String,
    pub role: Role,
    pub csrf: String,
    /// The navigation entry to mark as current.
    pub section: &'static str,
    pub has_learner: bool,
    pub notice: Option<String>,
    /// The test clock's now, on an instance running on one (see [`Viewer::test_clock`]).
    pub test_clock: Option<String>,
    principal: Principal,
}

impl Chrome {
    pub fn new(viewer: &Viewer, title: impl Into<String>, section: &'static str) -> Self {
        Self {
            title: title.into(),
            username: viewer.session.username.clone(),
            role: viewer.session.principal.role,
            csrf: viewer.session.csrf.clone(),
            section,
            has_learner: viewer.session.learner.is_some(),
            notice: None,
            test_clock: viewer.test_clock.clone(),
            principal: viewer.session.principal.clone(),
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn role_label(&self) -> &'static str {
        self.role.label()
    }

    /// Whether to show the learners directory.
    pub fn sees_learners(&self) -> bool {
        !matches!(self.role, Role::Learner)
    }

    /// Whether to show imports (admins and program managers start them; auditors read).
    pub fn sees_imports(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::ProgramManager | Role::Auditor
        )
    }

    /// Whether to show the audit log.
    pub fn sees_audit(&self) -> bool {
        self.principal.may(Action::ReadAudit)
    }

    /// Whether to show the dashboard and the compliance report.
    pub fn sees_reports(&self) -> bool {
        self.principal.reads_reports()
    }

    pub fn sees_groups(&self) -> bool {
        self.principal.may(Action::ReadDirectory)
    }

    pub fn is_admin(&self) -> bool {
        self.principal.may(Action::Administer)
    }

    pub fn is_supervisor(&self) -> bool {
        self.role == Role::Supervisor
    }

    pub fn may_create_program(&self) -> bool {
        self.principal.may(Action::CreateProgram)
    }

    pub fn may_manage_program(&self, id: &i64) -> bool {
        self.principal.may(Action::ManageProgram(*id))
    }

    pub fn may_award(&self, program_id: &i64) -> bool {
        self.principal.may(Action::WriteAward(*program_id))
    }

    pub fn may_backfill(&self) -> bool {
        self.principal.may(Action::Backfill)
    }

    /// Whether the viewer approves external training (runs at least one program).
    pub fn approves_training(&self) -> bool {
        self.principal.require_program_runner().is_ok()
    }

    /// Whether to show the external training queue (approvers, and auditors to read it).
    pub fn sees_training(&self) -> bool {
        self.approves_training() || self.role == Role::Auditor
    }

    pub fn may_manage_people(&self) -> bool {
        self.principal.may(Action::ManagePeople)
    }

    pub fn current(&self, section: &str) -> &'static str {
        if self.section == section {
            "page"
        } else {
            "false"
        }
    }
}

/// Renders a page, or the error page if the template fails.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be drawn. The error was logged.",
            )
        }
    }
}

/// Renders a page that shows a secret once (a new token or LMS secret): kept out of caches
/// and the browser history.
pub fn render_secret<T: Template>(t: &T) -> Response {
    let mut res = render(t);
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

/// Renders a form page that is being shown again because its input was refused.
pub fn render_invalid<T: Template>(t: &T) -> Response {
    let mut res = render(t);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

/// The names of the groups the viewer may see (none for roles without the directory),
/// for group pickers.
pub async fn group_names(
    state: &crate::AppState,
    who: &Principal,
) -> Result<Vec<String>, ServiceError> {
    if !who.may(Action::ReadDirectory) {
        return Ok(Vec::new());
    }
    Ok(all_groups(state, who)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect())
}

/// Every group the viewer may see, all pages: a list that silently stopped at the first
/// 500 would hide groups.
pub async fn all_groups(
    state: &crate::AppState,
    who: &Principal,
) -> Result<Vec<recert_domain::Group>, ServiceError> {
    all_pages(|req| state.service.groups(who, None, req)).await
}

/// Every item of a paged collection, fetching 500 at a time until the last page.
pub async fn all_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, ServiceError>
where
    F: FnMut(recert_service::page::PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<recert_service::page::Page<T>, ServiceError>>,
{
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let req = recert_service::page::PageRequest::parse(cursor.as_deref(), Some(500))?;
        let page = fetch(req).await?;
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Every program not archived, all pages (for pickers).
pub async fn open_programs(
    state: &crate::AppState,
    who: &Principal,
) -> Result<Vec<recert_service::programs::ProgramView>, ServiceError> {
    all_pages(|req| state.service.programs(who, req, false)).await
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    detail: &'a str,
}

/// A plain error page (no navigation: the viewer may not be signed in).
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        title,
        detail,
    };
    let html = page.render().unwrap_or_else(|_| detail.to_owned());
    (status, Html(html)).into_response()
}

/// A service error as a page, with the status and wording the API would give it.
#[derive(Debug)]
pub struct PageError(pub ServiceError);

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        Self(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, ServiceError::Unauthenticated) {
            return Redirect::to("/login").into_response();
        }
        // A page names fields by their labels, not by their names in the API.
        let labelled = match &self.0 {
            ServiceError::Validation(d) => Some(
                d.0.iter()
                    .map(|f| {
                        format!(
                            "{}: {}",
                            recert_service::history::field_label(&f.field),
                            f.message
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            _ => None,
        };
        let p = ApiError::from(self.0).0;
        let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        error_page(status, &p.title, labelled.as_deref().unwrap_or(&p.detail))
    }
}

pub type PageResult = Result<Response, PageError>;

/// An instant as pages show it: `<time>` to the minute in UTC, which the page's script
/// rewrites into the viewer's own zone. Takes a timestamp or its RFC 3339 text; anything
/// else is shown as it is (escaped).
pub fn when(t: impl std::fmt::Display) -> String {
    let text = t.to_string();
    match text.parse::<recert_domain::Timestamp>() {
        Ok(ts) => format!(
            "<time datetime=\"{ts}\" data-local>{}</time>",
            recert_service::history::minute_utc(ts)
        ),
        Err(_) => askama::filters::escape(&text, askama::filters::Html)
            .map(|e| e.to_string())
            .unwrap_or_default(),
    }
}

/// Where a signed-in person starts: their own work first.
async fn home(viewer: Viewer) -> Response {
    let p = &viewer.session.principal;
    let to = match p.role {
        Role::Learner => "/my",
        Role::Supervisor => "/team",
        _ if p.reads_reports() => "/dashboard",
        _ => "/programs",
    };
    Redirect::to(to).into_response()
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/assets/{file}", get(assets::serve))
        .route("/login", get(accounts::login_form).post(accounts::login))
        .route("/logout", post(accounts::logout))
        .route("/setup", get(accounts::setup_form).post(accounts::setup))
        .route(
            "/account/password",
            get(accounts::password_form).post(accounts::change_password),
        )
        .route("/verify/{id}", get(verify::show))
        .route("/share/{id}", get(share::show))
        .route("/share/{id}/credential.json", get(share::credential))
        .route("/share/{id}/certificate.png", get(share::certificate_png))
        .route("/awards/{id}/certificate.pdf", get(awards::certificate_pdf))
        .route("/awards/{id}/certificate.png", get(awards::certificate_png))
        .route("/awards/{id}/sharing", post(share::set))
        .route("/dashboard", get(reports::dashboard))
        .route("/dashboard/trend", get(reports::trend))
        .route("/audit", get(audit::log))
        .route(
            "/imports",
            get(imports::list)
                .post(imports::create)
                // The file streams into the job; the service limits its size.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/imports/{job}", get(imports::show))
        .route("/imports/{job}/progress", get(imports::progress))
        .route("/imports/{job}/errors.csv", get(imports::errors))
        .route("/imports/{job}/report.csv", get(imports::report))
        .route("/imports/{job}/run", post(imports::run))
        .route("/imports/{job}/cancel", post(imports::cancel))
        .route("/reports/compliance", get(reports::compliance))
        .route("/reports/compliance/people", get(reports::people))
        .route("/programs", get(programs::list).post(programs::create))
        .route("/programs/new", get(programs::new))
        .route("/programs/{code}", get(programs::show))
        .route(
            "/programs/{code}/edit",
            get(programs::edit).post(programs::update),
        )
        .route("/programs/{code}/archive", post(programs::archive))
        .route(
            "/programs/{code}/reapply",
            get(programs::reapply_preview).post(programs::reapply),
        )
        .route("/programs/{code}/template", post(programs::save_template))
        .route(
            "/programs/{code}/template/preview.png",
            get(programs::template_preview),
        )
        .route("/programs/{code}/awards", post(awards::create))
        .route("/awards/{id}", get(awards::show).post(awards::update))
        .route("/awards/{id}/renew", post(awards::renew))
        .route("/awards/{id}/extend-grace", post(awards::extend_grace))
        .route("/renew/{id}", get(renew::show))
        .route("/renew/{id}/signoff", post(renew::ask_signoff))
        .route(
            "/renew/{id}/credits",
            post(renew::log_credit)
                .layer(axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/credits", get(credits::queue))
        .route("/credits/{id}/evidence", get(credits::evidence))
        .route("/credits/{id}/approve", post(credits::approve))
        .route("/credits/{id}/reject", post(credits::reject))
        .route("/signoffs", get(signoffs::queue))
        .route("/signoffs/{id}/approve", post(signoffs::approve))
        .route("/signoffs/{id}/decline", post(signoffs::decline))
        .route("/awards/{id}/revoke", post(awards::revoke))
        .route("/awards/{id}/credential.json", get(awards::credential))
        .route("/awards/{id}/archive", post(awards::archive))
        .route("/learners", get(learners::list).post(learner_form::create))
        .route("/learners/{username}", get(learners::show))
        .route(
            "/learners/{username}/edit",
            get(learner_form::edit).post(learner_form::update),
        )
        .route("/groups", get(groups::list).post(groups::create))
        .route("/groups/{name}", get(groups::show))
        .route("/groups/{name}/members", post(groups::add_members))
        .route(
            "/groups/{name}/members/{username}/remove",
            post(groups::remove_member),
        )
        .route("/groups/{name}/requirements", post(groups::add_requirement))
        .route("/group-awards/{id}/stop", post(groups::stop_group_award))
        .route(
            "/groups/{name}/requirements/{program}/remove",
            post(groups::remove_requirement),
        )
        .route("/programs/{code}/items", post(earning::add_item))
        .route(
            "/programs/{code}/items/{item}/remove",
            post(earning::remove_item),
        )
        .route(
            "/programs/{code}/backfill",
            get(earning::backfill_preview).post(earning::backfill_run),
        )
        .route(
            "/external-training",
            get(earning::queue)
                .post(earning::report)
                .layer(axum::extract::DefaultBodyLimit::max(crate::UPLOAD_LIMIT)),
        )
        .route("/external-training/{id}/evidence", get(earning::evidence))
        .route("/external-training/{id}/approve", post(earning::approve))
        .route("/external-training/{id}/reject", post(earning::reject))
        .route(
            "/admin/lms",
            get(earning::connections).post(earning::create_connection),
        )
        .route("/admin/lms/{name}/revoke", post(earning::revoke_connection))
        .route("/my", get(me::my_certifications))
        .route("/team", get(me::team))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route("/admin/organizations", get(organizations::show))
        .route("/admin/outbox", get(outbox::show))
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::show))
        .route("/admin/messages", get(messages::index))
        .route(
            "/admin/messages/{event}",
            get(messages::edit_page).post(messages::save_page),
        )
        .route("/admin/messages/{event}/reset", post(messages::reset_page))
        .route("/programs/{code}/messages", get(messages::index))
        .route(
            "/programs/{code}/messages/{event}",
            get(messages::edit_page).post(messages::save_page),
        )
        .route(
            "/programs/{code}/messages/{event}/reset",
            post(messages::reset_page),
        )
        .route("/admin/webhooks/{id}/delete", post(webhooks::delete))
        .route("/admin/outbox/{id}/resend", post(outbox::resend))
        .route(
            "/admin/test-clock",
            get(test_clock::show).post(test_clock::set),
        )
        .route(
            "/admin/organizations/{code}/logo",
            post(organizations::upload_logo),
        )
        .route(
            "/admin/organizations/{code}/logo/remove",
            post(organizations::remove_logo),
        )
        .route("/admin/users/{username}/{change}", post(admin::change_user))
        .route(
            "/admin/tokens",
            get(admin::tokens).post(admin::create_token),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
}
