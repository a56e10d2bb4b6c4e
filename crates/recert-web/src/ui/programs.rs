//! Program pages: the list, create and edit with every setting, archive, and a program's
//! awarded learners with the award form.

use super::forms::{FieldErrors, Fields, Form};
use super::{Chrome, PageError, PageResult, Viewer, render};
use crate::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use recert_domain::program::{self, ProgramDraft};
use recert_domain::{Pathway, RenewalAnchor, ValidityUnit};
use recert_domain::{Program, Status};
use recert_service::awards::{AwardQuery, AwardView};
use recert_service::page::PageRequest;
use recert_service::programs::ProgramView;
use serde_json::{Value, json};

#[derive(Template)]
#[template(path = "programs/list.html")]
struct ListPage {
    c: Chrome,
    programs: Vec<ProgramView>,
    archived: bool,
}

#[derive(serde::Deserialize)]
pub struct ListQuery {
    archived: Option<String>,
    done: Option<String>,
}

/// A notice for a redirect's `done` code (codes, not text, so links cannot inject words).
/// A status name in words, for pickers.
pub fn status_label(s: &str) -> &'static str {
    recert_domain::Status::parse(s).map_or("", recert_domain::Status::label)
}

pub fn notice(done: Option<&str>) -> Option<String> {
    if let Some(n) = done?.strip_prefix("reapplied-") {
        return Some(match n {
            "0" => "Nothing to apply: every current certificate already follows the rules.".into(),
            "1" => "Applied: 1 current certificate now follows the program's rules.".into(),
            n => format!("Applied: {n} current certificates now follow the program's rules."),
        });
    }
    Some(
        match done? {
            "created" => "Program created.",
            "updated" => "Program saved.",
            "archived" => "Program archived. Its awards are kept and show as archived.",
            "award-updated" => "Award saved.",
            "revoked" => "Certificate revoked.",
            "unassigned" => "Award unassigned. It is kept in the learner's history.",
            "renewed" => "Renewal recorded: this is the new certificate. The one it renews is kept in its history.",
            "grace-extended" => "Grace extended.",
            "group-created" => "Group created.",
            "members-added" => "Members added.",
            "member-removed" => "Member removed.",
            "requirement-added" => "Requirement added.",
            "requirement-removed" => "Requirement removed.",
            "item-added" => {
                "Item assigned. Completions from its assignment day on earn the program."
            }
            "item-removed" => "Item unassigned. Awards it earned are kept.",
            "reported" => "Training reported.",
            "approved" => "Report approved.",
            "rejected" => "Report rejected.",
            "connection-revoked" => "LMS connection revoked: its credentials no longer work.",
            "learner-created" => "Learner created.",
            "account-disabled" => {
                "Account disabled: its sessions ended and its tokens no longer work."
            }
            "account-enabled" => "Account enabled.",
            "account-created" => "Account created.",
            "template-saved" => "Certificate template saved: certificates draw with it from now on.",
            "sharing-on" => "Sharing on: the certificate's share page is public.",
            "sharing-off" => "Sharing off: the share page is gone (the verification page stays).",
            "account-unlocked" => "Account unlocked.",
            "learner-updated" => "Learner saved.",
            "group-award-stopped" => {
                "Standing award stopped: members who join from now on are not awarded. Awards already made stay."
            }
            _ => return None,
        }
        .to_owned(),
    )
}

pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let archived = q.archived.as_deref() == Some("1");
    let page = state
        .service
        .programs(
            &viewer.session.principal,
            PageRequest::parse(None, Some(500))?,
            archived,
        )
        .await?;
    let c = Chrome::new(&viewer, "Programs", "programs").with_notice(notice(q.done.as_deref()));
    Ok(render(&ListPage {
        c,
        programs: page.items,
        archived,
    }))
}

/// The program form's values as typed (so a re-rendered form keeps the input).
#[derive(Debug, Clone, Default)]
pub struct ProgramForm {
    pub code: String,
    pub name: String,
    pub description: String,
    pub validity_count: String,
    pub validity_unit: String,
    pub renewal_window_days: String,
    pub grace_days: String,
    pub reminder_offsets_days: String,
    pub escalation_offset_days: String,
    pub renewal_pathways: Vec<String>,
    pub renewal_anchor: String,
    pub credits_hours: String,
    pub credits_categories: String,
    pub refresher_item: String,
    pub content_version: String,
    pub items: String,
    pub grace_counts_as_compliant: bool,
    pub external_training_approval: bool,
}

impl ProgramForm {
    fn defaults() -> Self {
        Self {
            // The domain's defaults, as a new program gets them.
            validity_count: "1".into(),
            validity_unit: ValidityUnit::Years.as_str().into(),
            renewal_window_days: program::DEFAULT_WINDOW_DAYS.to_string(),
            grace_days: program::DEFAULT_GRACE_DAYS.to_string(),
            escalation_offset_days: program::DEFAULT_ESCALATION_DAYS.to_string(),
            reminder_offsets_days: program::DEFAULT_REMINDERS.map(|d| d.to_string()).join(", "),
            renewal_anchor: RenewalAnchor::PreviousExpiry.as_str().into(),
            renewal_pathways: vec![Pathway::Retake.as_str().into()],
            external_training_approval: true,
            ..Self::default()
        }
    }

    fn from_program(p: &Program) -> Self {
        Self {
            code: p.code.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            validity_count: p.validity.count.to_string(),
            validity_unit: p.validity.unit.as_str().into(),
            renewal_window_days: p.renewal_window_days.to_string(),
            grace_days: p.grace_days.to_string(),
            escalation_offset_days: p.escalation_offset_days.to_string(),
            reminder_offsets_days: p
                .reminder_offsets_days
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            renewal_pathways: p
                .renewal_pathways
                .iter()
                .map(|x| x.as_str().to_owned())
                .collect(),
            renewal_anchor: p.renewal_anchor.as_str().into(),
            credits_hours: p
                .credits_required
                .as_ref()
                .map(|c| c.hours.to_string())
                .unwrap_or_default(),
            credits_categories: p
                .credits_required
                .as_ref()
                .map(|c| {
                    c.categories
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            refresher_item: p.refresher_item.clone().unwrap_or_default(),
            content_version: p.content_version.clone().unwrap_or_default(),
            items: p
                .items
                .iter()
                .map(|i| match i.pass_threshold {
                    Some(t) => format!("{} {} {t}", i.code, i.kind.as_str()),
                    None => format!("{} {}", i.code, i.kind.as_str()),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            grace_counts_as_compliant: p.grace_counts_as_compliant,
            external_training_approval: p.external_training_approval,
        }
    }

    fn from_fields(f: &Fields) -> Self {
        Self {
            code: f.text("code"),
            name: f.text("name"),
            description: f.text("description"),
            validity_count: f.text("validity_count"),
            validity_unit: f.text("validity_unit"),
            renewal_window_days: f.text("renewal_window_days"),
            grace_days: f.text("grace_days"),
            escalation_offset_days: f.text("escalation_offset_days"),
            reminder_offsets_days: f.text("reminder_offsets_days"),
            renewal_pathways: f.all("renewal_pathways"),
            renewal_anchor: f.text("renewal_anchor"),
            credits_hours: f.text("credits_hours"),
            credits_categories: f.text("credits_categories"),
            refresher_item: f.text("refresher_item"),
            content_version: f.text("content_version"),
            items: f.text("items"),
            grace_counts_as_compliant: f.checked("grace_counts_as_compliant"),
            external_training_approval: f.checked("external_training_approval"),
        }
    }

    pub fn has_pathway(&self, p: &str) -> bool {
        self.renewal_pathways.iter().any(|x| x == p)
    }

    /// The draft the service validates; number and list syntax is checked here, naming
    /// the form field. Items keep their assignment day, activity id and URL on edit.
    /// Fields with a syntax error are left out of the draft, and the errors come back beside
    /// it, so the rest of the form can still be checked in the same round.
    fn to_draft(&self, base: Option<&Program>) -> (ProgramDraft, FieldErrors) {
        let mut e = FieldErrors::default();
        let mut int = |field: &str, raw: &str| -> Option<i64> {
            if raw.is_empty() {
                return None;
            }
            match raw.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    e.add(field, "must be a whole number");
                    None
                }
            }
        };
        let count = int("validity_count", &self.validity_count);
        let window = int("renewal_window_days", &self.renewal_window_days);
        let grace = int("grace_days", &self.grace_days);
        let escalation = int("escalation_offset_days", &self.escalation_offset_days);
        let mut offsets = Vec::new();
        for part in self
            .reminder_offsets_days
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match part.parse::<i64>() {
                Ok(n) => offsets.push(n),
                Err(_) => e.add(
                    "reminder_offsets_days",
                    format!("{part:?} is not a whole number of days"),
                ),
            }
        }
        let credits = if self.credits_hours.is_empty() && self.credits_categories.is_empty() {
            Value::Null
        } else {
            let hours = match self.credits_hours.parse::<f64>() {
                Ok(h) => h,
                Err(_) => {
                    e.add(
                        "credits_hours",
                        "must be a number of hours (e.g. 20 or 7.5)",
                    );
                    0.0
                }
            };
            let mut cats = serde_json::Map::new();
            for part in self
                .credits_categories
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                match part
                    .split_once('=')
                    .map(|(k, v)| (k.trim(), v.trim().parse::<f64>()))
                {
                    Some((k, Ok(v))) if !k.is_empty() => {
                        cats.insert(k.to_owned(), json!(v));
                    }
                    _ => e.add(
                        "credits_categories",
                        format!("{part:?} is not category=hours"),
                    ),
                }
            }
            json!({"hours": hours, "categories": cats})
        };
        let mut items = Vec::new();
        for (n, line) in self
            .items
            .lines()
            .map(str::trim)
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
        {
            let parts: Vec<&str> = line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .collect();
            let code = parts.first().copied().unwrap_or("");
            let kind = parts.get(1).copied().unwrap_or("course");
            let threshold = match parts.get(2).copied() {
                None | Some("-") => Value::Null,
                Some(t) => match t.parse::<f64>() {
                    Ok(v) => json!(v),
                    Err(_) => {
                        e.add(
                            "items",
                            format!(
                                "line {}: pass threshold {t:?} is not a number from 0 to 1",
                                n + 1
                            ),
                        );
                        Value::Null
                    }
                },
            };
            let existing = base.and_then(|b| b.item(code));
            items.push(json!({
                "code": code,
                "kind": kind,
                "pass_threshold": threshold,
                "assigned_on": existing.map(|i| i.assigned_on.to_string()),
                "activity_id": existing.and_then(|i| i.activity_id.clone()),
                "url": existing.and_then(|i| i.url.clone()),
            }));
        }
        let opt = |s: &str| if s.is_empty() { Value::Null } else { json!(s) };
        let mut v = json!({
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "renewal_pathways": self.renewal_pathways,
            "renewal_anchor": opt(&self.renewal_anchor),
            "credits_required": credits,
            "refresher_item": opt(&self.refresher_item),
            "content_version": opt(&self.content_version),
            "items": items,
            "reminder_offsets_days": offsets,
            "grace_counts_as_compliant": self.grace_counts_as_compliant,
            "external_training_approval": self.external_training_approval,
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(c) = count {
                obj.insert(
                    "validity".into(),
                    json!({"count": c, "unit": self.validity_unit}),
                );
            }
            if let Some(w) = window {
                obj.insert("renewal_window_days".into(), json!(w));
            }
            if let Some(g) = grace {
                obj.insert("grace_days".into(), json!(g));
            }
            if let Some(x) = escalation {
                obj.insert("escalation_offset_days".into(), json!(x));
            }
            if base.is_some() {
                // The code is the program's key: it is not edited.
                obj.remove("code");
            }
        }
        match serde_json::from_value(v) {
            Ok(d) => (d, e),
            Err(err) => {
                e.general.push(err.to_string());
                (ProgramDraft::default(), e)
            }
        }
    }
}

/// Every message for a form with syntax errors: those, plus what the program rules say
/// about the rest of the form (checked without saving), so one round shows everything.
fn with_rule_errors(
    state: &AppState,
    draft: ProgramDraft,
    mut syntax: FieldErrors,
    base: Option<&Program>,
) -> FieldErrors {
    let org = match base {
        Some(b) => b.organization.clone(),
        None => match recert_domain::Code::parse(
            "organization",
            recert_domain::organization::DEFAULT_CODE,
        ) {
            Ok(c) => c,
            Err(_) => return syntax,
        },
    };
    let today = recert_domain::dates::day_in_zone(state.service.now(), &jiff::tz::TimeZone::UTC);
    if let Err(e) = draft.into_program(base, &org, today)
        && let Some(rules) =
            FieldErrors::from_service(&recert_service::ServiceError::Validation(e), form_field)
    {
        for (field, message) in rules.by_field {
            // A field whose text could not be read already says so.
            if syntax.get(&field).is_none() {
                syntax.add(&field, message);
            }
        }
        syntax.general.extend(rules.general);
    }
    syntax
}

/// API field names as the program form calls them.
fn form_field(api: &str) -> Option<String> {
    let base = api.split('[').next().unwrap_or(api);
    Some(
        match base {
            "validity" | "validity.count" => "validity_count",
            "validity.unit" => "validity_unit",
            f if f.starts_with("credits_required.categories") => "credits_categories",
            f if f.starts_with("credits_required") => "credits_hours",
            f => return Some(f.replace('.', "_")),
        }
        .to_owned(),
    )
}

#[derive(Template)]
#[template(path = "programs/form.html")]
struct FormPage {
    c: Chrome,
    f: ProgramForm,
    errors: FieldErrors,
    /// `None` when creating.
    editing: Option<String>,
}

fn form_page(
    c: Chrome,
    f: ProgramForm,
    errors: FieldErrors,
    editing: Option<String>,
) -> axum::response::Response {
    let page = FormPage {
        c,
        f,
        errors,
        editing,
    };
    if page.errors.is_empty() {
        render(&page)
    } else {
        super::render_invalid(&page)
    }
}

pub async fn new(viewer: Viewer) -> PageResult {
    viewer
        .session
        .principal
        .require(recert_service::auth::Action::CreateProgram)?;
    let c = Chrome::new(&viewer, "New program", "programs");
    Ok(form_page(
        c,
        ProgramForm::defaults(),
        FieldErrors::default(),
        None,
    ))
}

pub async fn create(State(state): State<AppState>, form: Form) -> PageResult {
    let who = &form.viewer.session.principal;
    who.require(recert_service::auth::Action::CreateProgram)?;
    let f = ProgramForm::from_fields(&form.fields);
    let c = Chrome::new(&form.viewer, "New program", "programs");
    let (draft, syntax) = f.to_draft(None);
    if !syntax.is_empty() {
        let errors = with_rule_errors(&state, draft, syntax, None);
        return Ok(form_page(c, f, errors, None));
    }
    match state.service.create_program(who, draft).await {
        Ok(p) => Ok(Redirect::to(&format!(
            "/programs/{}?done=created",
            super::session::urlencode(p.program.code.as_str())
        ))
        .into_response()),
        Err(e) => {
            let errors = FieldErrors::from_service(&e, form_field).ok_or(PageError(e))?;
            Ok(form_page(c, f, errors, None))
        }
    }
}

pub async fn edit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> PageResult {
    let p = state
        .service
        .program(&viewer.session.principal, &code)
        .await?;
    viewer
        .session
        .principal
        .require(recert_service::auth::Action::ManageProgram(p.row_id))?;
    let c = Chrome::new(&viewer, format!("Edit {}", p.program.code), "programs");
    Ok(form_page(
        c,
        ProgramForm::from_program(&p.program),
        FieldErrors::default(),
        Some(code),
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let who = &form.viewer.session.principal;
    let before = state.service.program(who, &code).await?;
    who.require(recert_service::auth::Action::ManageProgram(before.row_id))?;
    let mut f = ProgramForm::from_fields(&form.fields);
    f.code = code.clone();
    let c = Chrome::new(&form.viewer, format!("Edit {code}"), "programs");
    let (draft, syntax) = f.to_draft(Some(&before.program));
    if !syntax.is_empty() {
        let errors = with_rule_errors(&state, draft, syntax, Some(&before.program));
        return Ok(form_page(c, f, errors, Some(code)));
    }
    match state.service.update_program(who, &code, draft).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/programs/{}?done=updated",
            super::session::urlencode(&code)
        ))
        .into_response()),
        Err(e) => {
            let errors = FieldErrors::from_service(&e, form_field).ok_or(PageError(e))?;
            Ok(form_page(c, f, errors, Some(code)))
        }
    }
}

pub async fn archive(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    state
        .service
        .archive_program(&form.viewer.session.principal, &code)
        .await?;
    Ok(Redirect::to(&format!(
        "/programs/{}?done=archived",
        super::session::urlencode(&code)
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "programs/show.html")]
pub struct ShowPage {
    pub c: Chrome,
    pub p: ProgramView,
    pub awards: Vec<AwardView>,
    /// The holders list's filter, sort and page in the URL.
    pub list: super::listing::List,
    pub status: String,
    pub groups: Vec<String>,
    pub award_form: super::awards::AwardForm,
    pub errors: FieldErrors,
    pub results: Vec<String>,
    /// The add-item form as typed, and its errors.
    pub item_form: super::earning::ItemForm,
    pub item_errors: FieldErrors,
    /// The certificate template form as typed (empty: not being edited), and its errors.
    pub template_text: String,
    pub template_errors: FieldErrors,
    /// A group award's preview, waiting for confirmation.
    pub preview: Option<recert_service::award_batches::AwardBatchResult>,
    /// Who holds it today, by status.
    pub holders: recert_service::awards::HolderCounts,
    /// How the groups that must hold it stand today (for those who read reports).
    pub compliance: Option<recert_service::reports::ComplianceReport>,
    /// Standing group awards of this program (members who join later are awarded).
    pub standing: Vec<recert_service::group_awards::GroupAwardView>,
}

impl ShowPage {
    pub fn kinds(&self) -> [(&'static str, &'static str); 3] {
        recert_domain::program::ItemKind::ALL.map(|k| (k.as_str(), k.label()))
    }

    pub fn statuses(&self) -> [&'static str; 8] {
        recert_domain::Status::ALL.map(recert_domain::Status::as_str)
    }
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
    done: Option<String>,
    /// With `done=awarded`: how many were awarded of how many named.
    awarded: Option<usize>,
    /// With `done=template-saved`: how many unsafe parts the sanitizer removed.
    removed: Option<usize>,
    of: Option<usize>,
    /// `csv` or `xlsx`: the awarded learners with the status filter, as a file.
    format: Option<String>,
}

/// The holders list's URL state: its status filter, sort and page (`sort`, `page` as in
/// the URL).
fn holders_list(
    code: &str,
    status: &str,
    sort: &str,
    page: &str,
) -> Result<super::listing::List, PageError> {
    let mut list = super::listing::List::new(
        format!("/programs/{}", super::session::urlencode(code)),
        &[("status", status)],
        sort,
        page,
        &recert_service::listing::keys::awards(),
        "name",
    )?;
    list.anchor = "#holders";
    Ok(list)
}

/// Loads everything the program page shows; the award form's state comes from the caller.
pub async fn show_page(
    state: &AppState,
    viewer: &Viewer,
    code: &str,
    status: Option<String>,
    sort: Option<String>,
    page: Option<String>,
) -> Result<ShowPage, PageError> {
    let who = &viewer.session.principal;
    let p = state.service.program(who, code).await?;
    let status = status
        .filter(|s| Status::parse(s).is_some())
        .unwrap_or_default();
    let list = holders_list(
        p.program.code.as_str(),
        &status,
        sort.as_deref().unwrap_or(""),
        page.as_deref().unwrap_or(""),
    )?;
    let found = state
        .service
        .awards_listed(
            who,
            AwardQuery {
                program: Some(p.program.code.to_string()),
                status: (!status.is_empty()).then(|| status.clone()),
                ..AwardQuery::default()
            },
            &list.sort,
            list.window(),
        )
        .await?;
    let list = list.total(found.total);
    let groups = super::group_names(state, who).await?;
    let holders = state.service.program_holders(who, code).await?;
    let compliance = if who.reports_on(p.row_id) {
        Some(
            state
                .service
                .compliance(
                    who,
                    &recert_service::reports::ComplianceQuery {
                        programs: vec![p.program.code.to_string()],
                        ..Default::default()
                    },
                )
                .await?,
        )
    } else {
        None
    };
    let standing = if who.may(recert_service::auth::Action::ReadDirectory) {
        state
            .service
            .group_awards(who, None)
            .await?
            .into_iter()
            .filter(|g| {
                g.program == p.program.code.as_str()
                    && g.include_later_members
                    && g.stopped_at.is_none()
            })
            .collect()
    } else {
        Vec::new()
    };
    // The template as it is, to edit from (managers only).
    let template_text = if who.may(recert_service::auth::Action::ManageProgram(p.row_id)) {
        state.service.certificate_template(who, code).await?
    } else {
        String::new()
    };
    Ok(ShowPage {
        list,
        holders,
        compliance,
        standing,
        c: Chrome::new(
            viewer,
            format!("{} — {}", p.program.code, p.program.name),
            "programs",
        ),
        p,
        awards: found.items,
        status,
        groups,
        award_form: super::awards::AwardForm::default(),
        errors: FieldErrors::default(),
        results: Vec::new(),
        item_form: super::earning::ItemForm::default(),
        item_errors: FieldErrors::default(),
        template_text,
        template_errors: FieldErrors::default(),
        preview: None,
    })
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let format = recert_service::exports::Format::parse(q.format.as_deref())?;
    if format != recert_service::exports::Format::Json {
        let who = &viewer.session.principal;
        let status = q.status.unwrap_or_default();
        let list = holders_list(&code, &status, q.sort.as_deref().unwrap_or(""), "")?;
        let status = (!status.is_empty()).then_some(status);
        let title = format!("{code} {}", status.as_deref().unwrap_or("all"));
        let d = state
            .service
            .awards_export(
                who,
                AwardQuery {
                    program: Some(code.clone()),
                    status,
                    ..AwardQuery::default()
                },
                &list.sort,
                format,
                &title,
                &format!("{code}-awards"),
            )
            .await?;
        return Ok(crate::api::reports::download(d));
    }
    let mut page = show_page(&state, &viewer, &code, q.status, q.sort, q.page).await?;
    let said = match (q.done.as_deref(), q.awarded, q.of) {
        (Some("awarded"), Some(n), Some(of)) => Some(format!(
            "Awarded {n} of {of} learner{}.",
            if of == 1 { "" } else { "s" }
        )),
        (Some("template-saved"), _, _) if q.removed.is_some_and(|n| n > 0) => Some(format!(
            "Certificate template saved. {} removed (scripts, event handlers or outside references); the audit log names each.",
            super::forms::unsafe_parts_were(q.removed.unwrap_or(0)),
        )),
        (done, _, _) => notice(done),
    };
    page.c = page.c.with_notice(said);
    Ok(render(&page))
}

/// The program's certificate template drawn on sample data (its live preview).
pub async fn template_preview(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> PageResult {
    let png = state
        .service
        .template_preview(&viewer.session.principal, &code)
        .await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "image/png"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        png,
    )
        .into_response())
}

/// Stores the certificate template typed or pasted in the form; refused input comes back
/// beside the field, and what the sanitizer removed is said after saving.
pub async fn save_template(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: super::forms::Form,
) -> PageResult {
    let svg = form.fields.text("template");
    match state
        .service
        .set_certificate_template(&form.viewer.session.principal, &code, &svg)
        .await
    {
        Ok(stored) => {
            let removed = stored.removed.len().to_string();
            Ok(axum::response::Redirect::to(&format!(
                "/programs/{}?done=template-saved&removed={removed}#template",
                super::session::urlencode(&code)
            ))
            .into_response())
        }
        Err(e) => {
            let errors =
                FieldErrors::from_service(&e, super::forms::same_name).ok_or(PageError(e))?;
            let mut page = show_page(&state, &form.viewer, &code, None, None, None).await?;
            page.template_text = svg;
            page.template_errors = errors;
            Ok(super::render_invalid(&page))
        }
    }
}

#[derive(Template)]
#[template(path = "programs/reapply.html")]
struct ReapplyPage {
    c: Chrome,
    code: String,
    r: recert_service::reapply::ReapplyPreview,
    /// Why applying was refused (the confirmation was not ticked).
    error: Option<String>,
}

/// The preview of applying a program's present rules to its current holders.
pub async fn reapply_preview(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(code): Path<String>,
) -> PageResult {
    let r = state
        .service
        .reapply_preview(&viewer.session.principal, &code)
        .await?;
    Ok(render(&ReapplyPage {
        c: Chrome::new(
            &viewer,
            format!("Apply {code} to current holders"),
            "programs",
        ),
        code: r.program.clone(),
        r,
        error: None,
    }))
}

/// Applies them, once the confirmation is ticked.
pub async fn reapply(
    State(state): State<AppState>,
    Path(code): Path<String>,
    form: Form,
) -> PageResult {
    let who = &form.viewer.session.principal;
    if form.fields.get("confirm") != Some("yes") {
        let r = state.service.reapply_preview(who, &code).await?;
        return Ok(super::render_invalid(&ReapplyPage {
            c: Chrome::new(
                &form.viewer,
                format!("Apply {code} to current holders"),
                "programs",
            ),
            code: r.program.clone(),
            r,
            error: Some("Tick the confirmation to apply the changes.".into()),
        }));
    }
    let done = state.service.reapply(who, &code).await?;
    Ok(Redirect::to(&format!(
        "/programs/{}?done=reapplied-{}",
        super::session::urlencode(&done.program),
        done.count
    ))
    .into_response())
}
