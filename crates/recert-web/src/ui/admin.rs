//! Administration: accounts and API tokens.

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::tokens::{TokenDraft, TokenView};
use recert_service::users::{UserDraft, UserView};

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserView>,
    programs: Vec<String>,
    f: UserForm,
    errors: FieldErrors,
}

#[derive(Debug, Clone, Default)]
struct UserForm {
    username: String,
    role: String,
    learner: String,
    programs: Vec<String>,
}

impl UserForm {
    fn has_program(&self, p: &str) -> bool {
        self.programs.iter().any(|x| x == p)
    }
}

const ROLES: [(&str, &str); 5] = [
    ("admin", "Administrator"),
    ("program_manager", "Program manager"),
    ("auditor", "Auditor"),
    ("supervisor", "Supervisor"),
    ("learner", "Learner"),
];

impl UsersPage {
    fn roles(&self) -> [(&'static str, &'static str); 5] {
        ROLES
    }
}

async fn users_page(state: &AppState, viewer: &Viewer) -> Result<UsersPage, PageError> {
    let who = &viewer.session.principal;
    let users = state.service.users(who).await?;
    let programs = super::open_programs(state, who)
        .await?
        .into_iter()
        .map(|p| p.program.code.to_string())
        .collect();
    Ok(UsersPage {
        c: Chrome::new(viewer, "Accounts", "users"),
        users,
        programs,
        f: UserForm {
            role: "learner".into(),
            ..UserForm::default()
        },
        errors: FieldErrors::default(),
    })
}

#[derive(serde::Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn users(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> PageResult {
    let mut page = users_page(&state, &viewer).await?;
    page.c = page
        .c
        .with_notice(super::programs::notice(q.done.as_deref()));
    Ok(render(&page))
}

pub async fn create_user(State(state): State<AppState>, form: Form) -> PageResult {
    let f = &form.fields;
    let draft = UserDraft {
        username: f.get("username").map(str::to_owned),
        password: Some(f.secret("password")).filter(|p| !p.is_empty()),
        role: f.get("role").map(str::to_owned),
        learner: f.get("learner").map(str::to_owned),
        programs: f.all("programs"),
    };
    match state
        .service
        .create_user(&form.viewer.session.principal, draft)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/users?done=account-created").into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = users_page(&state, &form.viewer).await?;
            p.f = UserForm {
                username: f.text("username"),
                role: f.text("role"),
                learner: f.text("learner"),
                programs: f.all("programs"),
            };
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    c: Chrome,
    tokens: Vec<TokenView>,
    created: Option<String>,
    name: String,
    role: String,
    user: String,
    errors: FieldErrors,
}

impl TokensPage {
    fn roles(&self) -> [(&'static str, &'static str); 5] {
        ROLES
    }
}

async fn tokens_page(state: &AppState, viewer: &Viewer) -> Result<TokensPage, PageError> {
    Ok(TokensPage {
        c: Chrome::new(viewer, "API tokens", "tokens"),
        tokens: state.service.tokens(&viewer.session.principal).await?,
        created: None,
        name: String::new(),
        role: "auditor".into(),
        user: String::new(),
        errors: FieldErrors::default(),
    })
}

pub async fn tokens(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    Ok(render(&tokens_page(&state, &viewer).await?))
}

pub async fn create_token(State(state): State<AppState>, form: Form) -> PageResult {
    let f = &form.fields;
    let draft = TokenDraft {
        name: f.get("name").map(str::to_owned),
        role: f.get("role").map(str::to_owned),
        user: f.get("user").map(str::to_owned),
    };
    match state
        .service
        .create_token(&form.viewer.session.principal, draft)
        .await
    {
        Ok(t) => {
            let mut p = tokens_page(&state, &form.viewer).await?;
            p.c = p.c.with_notice(Some(format!(
                "Token {:?} created. Copy it now: it is shown only once.",
                t.info.name
            )));
            p.created = Some(t.token);
            Ok(super::render_secret(&p))
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut p = tokens_page(&state, &form.viewer).await?;
            p.name = f.text("name");
            p.role = f.text("role");
            p.user = f.text("user");
            p.errors = errors;
            Ok(render_invalid(&p))
        }
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Form,
) -> PageResult {
    let Ok(id) = id.parse::<i64>() else {
        return Err(PageError(recert_service::ServiceError::not_found(
            "token", id,
        )));
    };
    state
        .service
        .revoke_token(&form.viewer.session.principal, id)
        .await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}

/// `POST /admin/users/{username}/{disable|enable|unlock}`: the buttons on the accounts list.
pub async fn change_user(
    State(state): State<AppState>,
    Path((username, change)): Path<(String, String)>,
    form: Form,
) -> PageResult {
    use recert_service::users::AccountChange;
    let (c, done) = match change.as_str() {
        "disable" => (AccountChange::Disable, "account-disabled"),
        "enable" => (AccountChange::Enable, "account-enabled"),
        "unlock" => (AccountChange::Unlock, "account-unlocked"),
        _ => {
            return Err(PageError(recert_service::ServiceError::not_found(
                "account action",
                change,
            )));
        }
    };
    match state
        .service
        .set_account_state(&form.viewer.session.principal, &username, c)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response()),
        Err(e @ recert_service::ServiceError::Conflict(_)) => {
            let mut page = users_page(&state, &form.viewer).await?;
            page.errors.general.push(e.to_string());
            Ok(render_invalid(&page))
        }
        Err(e) => Err(PageError(e)),
    }
}
