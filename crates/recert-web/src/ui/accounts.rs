//! Signing in and out, the first-run administrator, and changing one's password.

use super::forms::{FieldErrors, Fields, Form, csrf_refused, parse_urlencoded, same_secret};
use super::session::{LOGIN_CSRF_COOKIE, SESSION_COOKIE, set_cookie, with_cookie};
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use crate::client_addr::ClientIp;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use recert_service::ServiceError;
use recert_service::sessions::{LoginRefused, SESSION_HOURS, random_token};

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts/setup.html")]
struct SetupPage {
    csrf: String,
    username: String,
    errors: FieldErrors,
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordPage {
    c: Chrome,
    errors: FieldErrors,
}

#[derive(serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: only a path on this site (no open redirect). Browsers
/// drop tabs and line breaks from URLs and read `\\` as `/`, so `/\t/evil.example`
/// or `/\\evil.example` would leave the site: a path holding any control character,
/// space or backslash, or starting `//`, is replaced by the home page.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n
                    .chars()
                    .any(|c| c.is_control() || c.is_whitespace() || c == '\\') =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A fresh pre-session CSRF token and the cookie carrying it.
fn login_csrf(state: &AppState) -> Result<(String, axum::http::HeaderValue), PageError> {
    let t = random_token(16)?;
    let c = set_cookie(LOGIN_CSRF_COOKIE, &t, 3600, state.secure_cookies());
    Ok((t, c))
}

fn login_page(
    state: &AppState,
    next: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let (csrf, cookie) = login_csrf(state)?;
    let page = LoginPage {
        csrf,
        next,
        username,
        error,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    Ok(with_cookie(res, cookie))
}

pub async fn login_form(State(state): State<AppState>, Query(q): Query<NextQuery>) -> PageResult {
    if state.service.needs_first_admin().await? {
        return Ok(Redirect::to("/setup").into_response());
    }
    login_page(
        &state,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
        StatusCode::OK,
    )
}

/// Reads a pre-session form and checks its double-submit CSRF token.
async fn anonymous_form(headers: &HeaderMap, body: axum::body::Bytes) -> Result<Fields, Response> {
    let fields = parse_urlencoded(&body);
    if let Some(refused) = fields.refused_chars() {
        return Err(refused);
    }
    let cookie = super::session::cookie(headers, LOGIN_CSRF_COOKIE);
    match (fields.get("_csrf"), cookie) {
        (Some(f), Some(c)) if same_secret(f, &c) => Ok(fields),
        _ => Err(csrf_refused()),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let fields = match anonymous_form(&headers, body).await {
        Ok(f) => f,
        Err(res) => return Ok(res),
    };
    let next = safe_next(fields.get("next"));
    let username = fields.text("username");
    if !state.login_limiter.allow(client, &username) {
        return login_page(
            &state,
            next,
            username,
            Some("Too many sign-in attempts. Wait a minute and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let password = fields.secret("password");
    if username.is_empty() || password.is_empty() {
        return login_page(
            &state,
            next,
            username,
            Some("Enter your username and password.".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match state
        .service
        .login(&username, &password, Some(client))
        .await?
    {
        Ok(token) => {
            let res = Redirect::to(&next).into_response();
            let res = with_cookie(
                res,
                set_cookie(
                    SESSION_COOKIE,
                    &token,
                    SESSION_HOURS * 3600,
                    state.secure_cookies(),
                ),
            );
            Ok(with_cookie(
                res,
                set_cookie(LOGIN_CSRF_COOKIE, "", 0, state.secure_cookies()),
            ))
        }
        Err(refused) => {
            let status = match refused {
                LoginRefused::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNAUTHORIZED,
            };
            let mut res = login_page(&state, next, username, Some(refused.message()), status)?;
            if let LoginRefused::Throttled { wait_s } = refused
                && let Ok(v) = axum::http::HeaderValue::from_str(&wait_s.to_string())
            {
                res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            Ok(res)
        }
    }
}

pub async fn logout(State(state): State<AppState>, form: Form) -> PageResult {
    state.service.logout(&form.viewer.token).await?;
    Ok(with_cookie(
        Redirect::to("/login").into_response(),
        set_cookie(SESSION_COOKIE, "", 0, state.secure_cookies()),
    ))
}

pub async fn setup_form(State(state): State<AppState>) -> PageResult {
    if !state.service.needs_first_admin().await? {
        return Ok(Redirect::to("/login").into_response());
    }
    let (csrf, cookie) = login_csrf(&state)?;
    Ok(with_cookie(
        render(&SetupPage {
            csrf,
            username: String::new(),
            errors: FieldErrors::default(),
        }),
        cookie,
    ))
}

pub async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> PageResult {
    let fields = match anonymous_form(&headers, body).await {
        Ok(f) => f,
        Err(res) => return Ok(res),
    };
    let username = fields.text("username");
    let password = fields.secret("password");
    let repeat = fields.secret("repeat_password");
    let mut errors = FieldErrors::default();
    if password != repeat {
        errors.add("repeat_password", "does not match the password");
    }
    if errors.is_empty() {
        match state.service.create_first_admin(&username, &password).await {
            Ok(_) => return Ok(Redirect::to("/login?next=/programs").into_response()),
            Err(e) => match FieldErrors::from_service(&e, super::forms::same_name) {
                Some(fe) => errors = fe,
                None => return Err(PageError(e)),
            },
        }
    }
    let (csrf, cookie) = login_csrf(&state)?;
    let res = render_invalid(&SetupPage {
        csrf,
        username,
        errors,
    });
    Ok(with_cookie(res, cookie))
}

pub async fn password_form(viewer: Viewer) -> PageResult {
    Ok(render(&PasswordPage {
        c: Chrome::new(&viewer, "Change password", "account"),
        errors: FieldErrors::default(),
    }))
}

pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    form: Form,
) -> PageResult {
    let raw = |k: &str| form.fields.secret(k);
    match state
        .service
        .change_password(
            &form.viewer.token,
            &raw("current_password"),
            &raw("new_password"),
            &raw("repeat_password"),
            Some(client),
        )
        .await
    {
        Ok(()) => {
            let c = Chrome::new(&form.viewer, "Change password", "account").with_notice(Some(
                "Your password was changed. Other sessions of your account were signed out.".into(),
            ));
            Ok(render(&PasswordPage {
                c,
                errors: FieldErrors::default(),
            }))
        }
        Err(ServiceError::Unauthenticated) => Ok(Redirect::to("/login").into_response()),
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            Ok(render_invalid(&PasswordPage {
                c: Chrome::new(&form.viewer, "Change password", "account"),
                errors,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(
            safe_next(Some("/programs?status=grace")),
            "/programs?status=grace"
        );
        for away in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "/ /evil.example",
            "/\u{1}x",
            "",
        ] {
            assert_eq!(safe_next(Some(away)), "/", "{away:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
