//! Creating and editing learners by hand (admins): the same `LearnerDraft` the API takes,
//! with external ids and attributes written one `key=value` per line.

use super::forms::{FieldErrors, Fields, Form};
use super::session::urlencode;
use super::{Chrome, PageError, PageResult, Viewer, render, render_invalid};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use recert_domain::Learner;
use recert_service::ServiceError;
use recert_service::auth::Action;
use recert_service::learners::LearnerDraft;

/// The learner form as typed.
#[derive(Debug, Clone, Default)]
pub struct LearnerForm {
    pub username: String,
    pub legal_name: String,
    pub email: String,
    pub manager: String,
    pub groups: Vec<String>,
    pub time_zone: String,
    pub active: bool,
    pub end_date: String,
    pub external_ids: String,
    pub attributes: String,
}

fn lines_of(map: &serde_json::Map<String, serde_json::Value>) -> String {
    map.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => format!("{k}={s}"),
            None => format!("{k}={v}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads `key=value` lines; a line without `=` is an error naming its line number.
fn map_of(
    field: &str,
    text: &str,
    errors: &mut FieldErrors,
) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.insert(k.trim().to_owned(), serde_json::Value::from(v.trim()));
            }
            _ => errors.add(
                field,
                format!("line {}: write key=value, e.g. hr=E10423", i + 1),
            ),
        }
    }
    out
}

impl LearnerForm {
    pub fn in_group(&self, g: &str) -> bool {
        self.groups.iter().any(|x| x == g)
    }

    pub fn new_learner() -> Self {
        Self {
            active: true,
            ..Self::default()
        }
    }

    fn of(l: &Learner) -> Self {
        Self {
            username: l.username.to_string(),
            legal_name: l.legal_name.clone(),
            email: l.email.clone().unwrap_or_default(),
            manager: l
                .manager
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            groups: l.groups.clone(),
            time_zone: l.time_zone.clone().unwrap_or_default(),
            active: l.active,
            end_date: l.end_date.map(|d| d.to_string()).unwrap_or_default(),
            external_ids: lines_of(&l.external_ids),
            attributes: lines_of(&l.attributes),
        }
    }

    fn from_fields(f: &Fields) -> Self {
        Self {
            username: f.text("username"),
            legal_name: f.text("legal_name"),
            email: f.text("email"),
            manager: f.text("manager"),
            groups: f.all("groups"),
            time_zone: f.text("time_zone"),
            active: f.checked("active"),
            end_date: f.text("end_date"),
            external_ids: f.text("external_ids"),
            attributes: f.text("attributes"),
        }
    }

    /// The draft for the service, or the line errors of the key=value fields.
    fn draft(&self, creating: bool) -> Result<LearnerDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let external_ids = map_of("external_ids", &self.external_ids, &mut errors);
        let attributes = map_of("attributes", &self.attributes, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(LearnerDraft {
            username: creating.then(|| self.username.clone()),
            legal_name: Some(self.legal_name.clone()),
            email: Some(opt(&self.email)),
            external_ids: Some(external_ids),
            manager: Some(opt(&self.manager)),
            groups: Some(self.groups.clone()),
            time_zone: Some(opt(&self.time_zone)),
            active: Some(self.active),
            end_date: Some(opt(&self.end_date)),
            attributes: Some(attributes),
        })
    }
}

#[derive(Template)]
#[template(path = "learners/form.html")]
pub struct FormPage {
    pub c: Chrome,
    pub f: LearnerForm,
    pub errors: FieldErrors,
    /// The username being edited; `None` for a new learner.
    pub editing: Option<String>,
    pub group_names: Vec<String>,
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    f: LearnerForm,
    editing: Option<String>,
) -> Result<FormPage, PageError> {
    let who = &viewer.session.principal;
    who.require(Action::ManagePeople)?;
    let title = match &editing {
        Some(u) => format!("Edit {u}"),
        None => "New learner".to_owned(),
    };
    Ok(FormPage {
        c: Chrome::new(viewer, title, "learners"),
        f,
        errors: FieldErrors::default(),
        editing,
        group_names: super::group_names(state, who).await?,
    })
}

/// Saves the form: creates (no `editing`) or updates; a refused form comes back with the
/// messages beside its fields.
async fn save(state: AppState, form: Form, editing: Option<String>) -> PageResult {
    let who = &form.viewer.session.principal;
    who.require(Action::ManagePeople)?;
    let f = LearnerForm::from_fields(&form.fields);
    let result = match f.draft(editing.is_none()) {
        Ok(draft) => match &editing {
            Some(u) => state.service.update_learner(who, u, draft).await,
            None => state.service.create_learner(who, draft).await,
        },
        Err(errors) => {
            let mut page = form_page(&state, &form.viewer, f, editing).await?;
            page.errors = errors;
            return Ok(render_invalid(&page));
        }
    };
    match result {
        Ok(l) => {
            let done = if editing.is_some() {
                "learner-updated"
            } else {
                "learner-created"
            };
            Ok(Redirect::to(&format!(
                "/learners/{}?done={done}",
                urlencode(l.username.as_str())
            ))
            .into_response())
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut page = form_page(&state, &form.viewer, f, editing).await?;
            page.errors = errors;
            Ok(render_invalid(&page))
        }
    }
}

/// `POST /learners`: the "New learner" form on the learners page.
pub async fn create(State(state): State<AppState>, form: Form) -> PageResult {
    save(state, form, None).await
}

pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(username): Path<String>,
) -> PageResult {
    viewer.session.principal.require(Action::ManagePeople)?;
    let d = state
        .service
        .learner(&viewer.session.principal, &username)
        .await?;
    let page = form_page(&state, &viewer, LearnerForm::of(&d.learner), Some(username)).await?;
    Ok(render(&page))
}

pub async fn update(
    State(state): State<AppState>,
    Path(username): Path<String>,
    form: Form,
) -> PageResult {
    // Unknown learners are a 404 page, not a form error.
    let who = &form.viewer.session.principal;
    who.require(Action::ManagePeople)?;
    if let Err(e @ ServiceError::NotFound { .. }) = state.service.learner(who, &username).await {
        return Err(PageError(e));
    }
    save(state, form, Some(username)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_lines_read_and_name_the_bad_line() {
        let mut e = FieldErrors::default();
        let m = map_of("external_ids", "hr=E1\n\n lms = 88 \n", &mut e);
        assert!(e.is_empty());
        assert_eq!(m["hr"], "E1");
        assert_eq!(m["lms"], "88");
        map_of("attributes", "site=B\nbroken line", &mut e);
        assert!(e.get("attributes").unwrap().contains("line 2"));
    }
}
