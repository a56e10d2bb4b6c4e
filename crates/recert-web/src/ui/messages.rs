//! The wording of the emails recert sends: `/admin/messages` (for every program) and
//! `/programs/{code}/messages` (one program's own), each message edited on its own page
//! with a preview of the email as it would go out. One set of handlers serves both: the
//! scope is the program's code or none.

use super::forms::{FieldErrors, Form};
use super::{Chrome, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_service::message_templates::{
    MessagePreview, MessageTemplateDraft, MessageTemplateView,
};

/// Where a set of templates lives: its pages' address and title.
struct Scope {
    program: Option<String>,
}

/// The path's parameters: `{event}` under `/admin/messages`, `{code}` and `{event}` under
/// `/programs/{code}/messages`. One handler serves both routes.
type Params = Path<std::collections::HashMap<String, String>>;

fn scoped(Path(mut p): Params) -> (Scope, String) {
    let event = p.remove("event").unwrap_or_default();
    (
        Scope {
            program: p.remove("code"),
        },
        event,
    )
}

impl Scope {
    fn base(&self) -> String {
        match &self.program {
            Some(code) => format!("/programs/{}/messages", super::session::urlencode(code)),
            None => "/admin/messages".into(),
        }
    }

    fn title(&self) -> String {
        match &self.program {
            Some(code) => format!("Messages of {code}"),
            None => "Messages".into(),
        }
    }

    fn section(&self) -> &'static str {
        if self.program.is_some() {
            "programs"
        } else {
            "messages"
        }
    }
}

#[derive(Template)]
#[template(path = "messages/list.html")]
struct ListPage {
    c: Chrome,
    base: String,
    program: Option<String>,
    templates: Vec<MessageTemplateView>,
}

#[derive(Template)]
#[template(path = "messages/edit.html")]
struct EditPage {
    c: Chrome,
    base: String,
    program: Option<String>,
    t: MessageTemplateView,
    subject: String,
    body: String,
    preview: Option<MessagePreview>,
    errors: FieldErrors,
}

impl ListPage {
    fn source_words(&self, t: &MessageTemplateView) -> String {
        source_words(t, self.program.is_some())
    }
}

impl EditPage {
    fn source_words(&self) -> String {
        source_words(&self.t, self.program.is_some())
    }
}

fn source_words(t: &MessageTemplateView, for_program: bool) -> String {
    match t.source.as_str() {
        "program" => "Written for this program".into(),
        "organization" if for_program => "The organization's wording (for every program)".into(),
        "organization" => "Written here".into(),
        _ => "recert's default wording".into(),
    }
}

async fn list(
    state: &AppState,
    viewer: &Viewer,
    scope: Scope,
    notice: Option<String>,
) -> PageResult {
    let templates = state
        .service
        .message_templates(&viewer.session.principal, scope.program.as_deref())
        .await?;
    Ok(render(&ListPage {
        c: Chrome::new(viewer, scope.title(), scope.section()).with_notice(notice),
        base: scope.base(),
        program: scope.program,
        templates,
    }))
}

#[derive(serde::Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

fn done_notice(q: &DoneQuery) -> Option<String> {
    match q.done.as_deref() {
        Some("saved") => Some("Saved: messages sent from now on use this wording.".into()),
        Some("reset") => Some("Reset: the message uses the wording it falls back to.".into()),
        _ => None,
    }
}

pub async fn index(
    State(state): State<AppState>,
    viewer: Viewer,
    params: Params,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let (scope, _) = scoped(params);
    list(&state, &viewer, scope, done_notice(&q)).await
}

async fn edit(
    state: &AppState,
    viewer: &Viewer,
    scope: Scope,
    event: &str,
    notice: Option<String>,
) -> PageResult {
    let who = &viewer.session.principal;
    let program = scope.program.as_deref();
    let t = state.service.message_template(who, program, event).await?;
    let preview = state
        .service
        .preview_message(who, program, event, None)
        .await?;
    Ok(crate::security::previewing(render(&EditPage {
        c: Chrome::new(
            viewer,
            format!("{}: {}", scope.title(), t.label),
            scope.section(),
        )
        .with_notice(notice),
        base: scope.base(),
        program: scope.program,
        subject: t.subject.clone(),
        body: t.body.clone(),
        t,
        preview: Some(preview),
        errors: FieldErrors::default(),
    })))
}

pub async fn edit_page(
    State(state): State<AppState>,
    viewer: Viewer,
    params: Params,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let (scope, event) = scoped(params);
    edit(&state, &viewer, scope, &event, done_notice(&q)).await
}

/// Saves the draft, or (with `action=preview`) shows it as it would go out: both check it
/// the same way and show every problem beside its field.
async fn save(state: &AppState, scope: Scope, event: &str, form: Form) -> PageResult {
    let who = &form.viewer.session.principal;
    let program = scope.program.as_deref();
    let draft = MessageTemplateDraft {
        subject: Some(form.fields.text("subject")),
        body: Some(form.fields.text("body")),
    };
    let previewing = form.fields.get("action") == Some("preview");
    let outcome = if previewing {
        state
            .service
            .preview_message(who, program, event, Some(draft))
            .await
            .map(Some)
    } else {
        state
            .service
            .put_message_template(who, program, event, draft)
            .await
            .map(|_| None)
    };
    let (preview, errors) = match outcome {
        Ok(None) => {
            let to = format!(
                "{}/{}?done=saved",
                scope.base(),
                super::session::urlencode(event)
            );
            return Ok(Redirect::to(&to).into_response());
        }
        Ok(Some(p)) => (Some(p), FieldErrors::default()),
        Err(e) => {
            let errors = FieldErrors::from_service(&e, |f| {
                ["subject", "body"].contains(&f).then(|| f.to_owned())
            })
            .ok_or(super::PageError(e))?;
            (None, errors)
        }
    };
    let t = state.service.message_template(who, program, event).await?;
    let page = EditPage {
        c: Chrome::new(
            &form.viewer,
            format!("{}: {}", scope.title(), t.label),
            scope.section(),
        )
        .with_notice(
            preview
                .as_ref()
                .map(|_| "Preview of your draft: it is not saved yet.".to_owned()),
        ),
        base: scope.base(),
        program: scope.program,
        subject: form.fields.text("subject"),
        body: form
            .fields
            .get("body")
            .map(str::to_owned)
            .unwrap_or_default(),
        t,
        preview,
        errors,
    };
    Ok(crate::security::previewing(if page.errors.is_empty() {
        render(&page)
    } else {
        render_invalid(&page)
    }))
}

pub async fn save_page(State(state): State<AppState>, params: Params, form: Form) -> PageResult {
    let (scope, event) = scoped(params);
    save(&state, scope, &event, form).await
}

async fn reset(state: &AppState, scope: Scope, event: &str, form: Form) -> PageResult {
    state
        .service
        .reset_message_template(
            &form.viewer.session.principal,
            scope.program.as_deref(),
            event,
        )
        .await?;
    let to = format!(
        "{}/{}?done=reset",
        scope.base(),
        super::session::urlencode(event)
    );
    Ok(Redirect::to(&to).into_response())
}

pub async fn reset_page(State(state): State<AppState>, params: Params, form: Form) -> PageResult {
    let (scope, event) = scoped(params);
    reset(&state, scope, &event, form).await
}
