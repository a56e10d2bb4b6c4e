//! Learner use cases.

use crate::auth::Action;
use crate::awards::AwardView;
use crate::exports::{Cell, Download, Format};
use crate::listing::{Listed, Sheet, Sort, Window};
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::error::Errors;
use recert_domain::names::{
    optional_text, parse_date, parse_email, parse_time_zone, required_text,
};
use recert_domain::{Learner, Username};
use recert_store::audit::NewEvent;
use recert_store::{Conn, groups as group_store, learners as store};
use serde::{Deserialize, Serialize};

/// A learner create or patch request; absent fields keep their value (patch) or default.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LearnerDraft {
    pub username: Option<String>,
    pub legal_name: Option<String>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub external_ids: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub manager: Option<Option<String>>,
    pub groups: Option<Vec<String>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub end_date: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A learner's whole record, as the learner page shows it.
#[derive(Debug, Clone)]
pub struct LearnerRecord {
    pub detail: LearnerDetail,
    pub completions: Vec<crate::completions::CompletionView>,
    pub reports: Vec<crate::external::ExternalView>,
    pub events: Vec<recert_store::audit::Event>,
}

/// A learner with every award they hold or held.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LearnerDetail {
    #[serde(flatten)]
    pub learner: Learner,
    pub awards: Vec<AwardView>,
}

/// Listing filters (SPEC §9: `q`, `group`, `status`).
#[derive(Debug, Clone, Default)]
pub struct LearnerQuery {
    pub q: Option<String>,
    pub group: Option<String>,
    /// `active` or `inactive`.
    pub status: Option<String>,
    pub manager: Option<String>,
}

pub(crate) struct Resolved {
    pub(crate) learner: Learner,
    pub(crate) manager_id: Option<i64>,
    pub(crate) group_ids: Option<Vec<i64>>,
}

/// Validates a draft against the stored learner (if any), resolving manager and groups.
pub(crate) async fn resolve(
    conn: &mut Conn,
    draft: LearnerDraft,
    base: Option<&Learner>,
) -> Result<Resolved> {
    let mut e = Errors::new();
    let username = match (&draft.username, base) {
        (Some(raw), None) => e.check(Username::parse("username", raw)),
        (None, None) => {
            e.add("username", "is required");
            None
        }
        (Some(raw), Some(b)) if raw.trim() != b.username.as_str() => {
            e.add("username", "cannot be changed");
            None
        }
        (_, Some(b)) => Some(b.username.clone()),
    };
    let legal_name = match (&draft.legal_name, base) {
        (Some(raw), _) => e.check(required_text("legal_name", raw, 300)),
        (None, Some(b)) => Some(b.legal_name.clone()),
        (None, None) => {
            e.add("legal_name", "is required");
            None
        }
    };
    let email = match draft.email {
        Some(Some(raw)) if !raw.trim().is_empty() => e.check(parse_email("email", &raw)),
        Some(_) => None,
        None => base.and_then(|b| b.email.clone()),
    };
    let time_zone = match draft.time_zone {
        Some(Some(raw)) if !raw.trim().is_empty() => e.check(parse_time_zone("time_zone", &raw)),
        Some(_) => None,
        None => base.and_then(|b| b.time_zone.clone()),
    };
    let end_date = match draft.end_date {
        Some(Some(raw)) if !raw.trim().is_empty() => e.check(parse_date("end_date", &raw)),
        Some(_) => None,
        None => base.and_then(|b| b.end_date),
    };
    let external_ids = draft
        .external_ids
        .unwrap_or_else(|| base.map(|b| b.external_ids.clone()).unwrap_or_default());
    for (k, v) in &external_ids {
        if !v.is_string() {
            e.add(format!("external_ids.{k}"), "must be text");
        }
    }
    recert_domain::learner::check_attributes(
        "external_ids",
        &external_ids,
        recert_domain::learner::MAX_EXTERNAL_IDS,
        &mut e,
    );
    let attributes = draft
        .attributes
        .unwrap_or_else(|| base.map(|b| b.attributes.clone()).unwrap_or_default());
    recert_domain::learner::check_attributes(
        "attributes",
        &attributes,
        recert_domain::learner::MAX_ATTRIBUTES,
        &mut e,
    );
    let (manager, manager_id) = match draft.manager {
        Some(Some(raw)) if !raw.trim().is_empty() => {
            let m = e.check(Username::parse("manager", &raw));
            match m {
                Some(m) if username.as_ref() == Some(&m) => {
                    e.add("manager", "a learner cannot be their own manager");
                    (None, None)
                }
                Some(m) => match store::id_of(conn, m.as_str()).await? {
                    Some(id) => (Some(m), Some(id)),
                    None => {
                        e.add(
                            "manager",
                            format!("no learner with username {:?}", m.as_str()),
                        );
                        (None, None)
                    }
                },
                None => (None, None),
            }
        }
        Some(_) => (None, None),
        None => match base.and_then(|b| b.manager.clone()) {
            Some(m) => {
                let id = store::id_of(conn, m.as_str()).await?;
                (Some(m), id)
            }
            None => (None, None),
        },
    };
    let (groups, group_ids) = match draft.groups {
        Some(names) => {
            let mut ids = Vec::new();
            let mut out = Vec::new();
            for (i, name) in names.iter().enumerate() {
                match group_store::by_name(conn, name.trim()).await? {
                    Some((id, g)) => {
                        if !ids.contains(&id) {
                            ids.push(id);
                            out.push(g.name);
                        }
                    }
                    None => e.add(
                        format!("groups[{i}]"),
                        format!("no group named {name:?}; create it first (POST /api/v1/groups)"),
                    ),
                }
            }
            (out, Some(ids))
        }
        None => (base.map(|b| b.groups.clone()).unwrap_or_default(), None),
    };
    let active = draft
        .active
        .unwrap_or_else(|| base.is_none_or(|b| b.active));
    e.finish()?;
    match (username, legal_name) {
        (Some(username), Some(legal_name)) => Ok(Resolved {
            learner: Learner {
                username,
                legal_name,
                email,
                external_ids,
                manager,
                groups,
                time_zone,
                active,
                end_date,
                attributes,
            },
            manager_id,
            group_ids,
        }),
        _ => Err(ServiceError::field("learner", "is incomplete")),
    }
}

/// Makes the learner's memberships exactly `group_ids`; the groups newly joined.
pub(crate) async fn set_groups(
    conn: &mut recert_store::Writer,
    learner_id: i64,
    current: &[String],
    group_ids: &[i64],
) -> Result<Vec<i64>> {
    for name in current {
        if let Some((gid, _)) = group_store::by_name(conn, name).await?
            && !group_ids.contains(&gid)
        {
            group_store::remove_member(conn, gid, learner_id).await?;
        }
    }
    let mut joined = Vec::new();
    for gid in group_ids {
        if group_store::add_member(conn, *gid, learner_id).await? {
            joined.push(*gid);
        }
    }
    Ok(joined)
}

impl Service {
    pub async fn create_learner(&self, who: &Principal, draft: LearnerDraft) -> Result<Learner> {
        who.require(Action::ManagePeople)?;
        let mut tx = self.store.begin_write().await?;
        let r = resolve(tx.conn(), draft, None).await?;
        if store::id_of(tx.conn(), r.learner.username.as_str())
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "a learner with username {:?} already exists",
                r.learner.username.as_str()
            )));
        }
        let id = store::insert(tx.conn(), &r.learner, r.manager_id, self.now_ms()).await?;
        let joined = set_groups(
            tx.conn(),
            id,
            &[],
            r.group_ids.as_deref().unwrap_or_default(),
        )
        .await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "learner.created",
            subject_type: "learner",
            subject_id: r.learner.username.as_str(),
            before: None,
            after: Some(snapshot(&r.learner)?),
        })
        .await?;
        self.award_joiner(&mut tx, &who.name, id, &joined).await?;
        tx.commit().await?;
        Ok(r.learner)
    }

    pub async fn update_learner(
        &self,
        who: &Principal,
        username: &str,
        draft: LearnerDraft,
    ) -> Result<Learner> {
        who.require(Action::ManagePeople)?;
        let mut tx = self.store.begin_write().await?;
        let (id, before) = store::by_username(tx.conn(), username)
            .await?
            .ok_or_else(|| ServiceError::not_found("learner", username))?;
        let r = resolve(tx.conn(), draft, Some(&before)).await?;
        if r.learner == before {
            // Nothing changed: no write, no audit event.
            return Ok(before);
        }
        store::update(tx.conn(), id, &r.learner, r.manager_id, self.now_ms()).await?;
        let joined = match &r.group_ids {
            Some(ids) => set_groups(tx.conn(), id, &before.groups, ids).await?,
            None => Vec::new(),
        };
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "learner.updated",
            subject_type: "learner",
            subject_id: username,
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&r.learner)?),
        })
        .await?;
        self.award_joiner(&mut tx, &who.name, id, &joined).await?;
        tx.commit().await?;
        Ok(r.learner)
    }

    pub async fn learner(&self, who: &Principal, username: &str) -> Result<LearnerDetail> {
        let mut conn = self.store.read().await?;
        let (id, learner) = store::by_username(&mut conn, username)
            .await?
            .ok_or_else(|| ServiceError::not_found("learner", username))?;
        let reach = who.reach();
        let manager_id = store::manager_id(&mut conn, id).await?;
        who.require_learner(id, manager_id, "learner", username)?;
        // A program manager sees the learner, but only the awards of their programs.
        let records = recert_store::awards::of_learner(&mut conn, id)
            .await?
            .into_iter()
            .filter(|r| reach.award(id, manager_id, r.program_id))
            .collect();
        let awards = self.award_views(&mut conn, records, None).await?;
        Ok(LearnerDetail { learner, awards })
    }

    /// Everything the learner page shows, each loaded once: the learner with their awards,
    /// their newest completions (up to 500), their external training reports, and the audit
    /// events about all of these (newest first, at most 1000).
    pub async fn learner_record(&self, who: &Principal, username: &str) -> Result<LearnerRecord> {
        let detail = self.learner(who, username).await?;
        let completions = self
            .completions(
                who,
                crate::completions::CompletionQuery {
                    learner: Some(username.to_owned()),
                    item: None,
                },
                crate::page::PageRequest::parse(None, Some(crate::page::MAX_LIMIT))?,
            )
            .await?
            .items;
        let reports = self.external_reports(who, None, Some(username)).await?;
        let report_ids: Vec<String> = reports.iter().map(|r| r.id.to_string()).collect();
        let mut subjects: Vec<(&str, &str)> = vec![("learner", username)];
        subjects.extend(detail.awards.iter().map(|a| ("award", a.id.as_str())));
        subjects.extend(
            completions
                .iter()
                .map(|c| ("completion", c.event_id.as_str())),
        );
        subjects.extend(
            report_ids
                .iter()
                .map(|id| ("external_training", id.as_str())),
        );
        let mut conn = self.store.read().await?;
        let events = recert_store::audit::about(&mut conn, &subjects, 1000).await?;
        Ok(LearnerRecord {
            detail,
            completions,
            reports,
            events,
        })
    }

    pub async fn learners(
        &self,
        who: &Principal,
        query: LearnerQuery,
        page: PageRequest,
    ) -> Result<Page<Learner>> {
        let Some(filter) = learner_filter(who, query)? else {
            return Ok(Page::empty());
        };
        let mut conn = self.store.read().await?;
        let rows = store::list(&mut conn, &filter, page.after, page.fetch()).await?;
        page.finish(rows, |(id, _)| *id, |(_, l)| Ok(l))
    }

    /// One window of the learners directory in the order asked, with the total that
    /// matches.
    pub async fn learners_listed(
        &self,
        who: &Principal,
        query: LearnerQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<Learner>> {
        match learner_filter(who, query)? {
            Some(filter) => self.listed(&filter, sort, window, Ok).await,
            None => Ok(Listed::empty()),
        }
    }

    /// Every learner the query matches, in the order asked, as a CSV or XLSX file
    /// written while it is read.
    pub fn learners_export(
        &self,
        who: &Principal,
        query: LearnerQuery,
        sort: &Sort,
        format: Format,
    ) -> Result<Download> {
        let sheet = Sheet {
            stem: "learners".into(),
            title: "Learners".into(),
            headers: LEARNER_HEADERS,
        };
        self.export(learner_filter(who, query)?, sort, format, sheet, |l| {
            Ok(learner_cells(&l))
        })
    }

    /// How many learners match (the total beside a page of the list).
    pub async fn learners_total(&self, who: &Principal, query: LearnerQuery) -> Result<i64> {
        let Some(filter) = learner_filter(who, query)? else {
            return Ok(0);
        };
        let mut conn = self.store.read().await?;
        Ok(recert_store::listing::count(&mut conn, &filter).await?)
    }
}

/// The store's filter for a learner query as this caller may see it; `None` when they may
/// see no one.
fn learner_filter(who: &Principal, query: LearnerQuery) -> Result<Option<store::Filter>> {
    let Some(within) = who.reach().within() else {
        return Ok(None);
    };
    let active = match query.status.as_deref() {
        None | Some("") => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(other) => {
            return Err(ServiceError::field(
                "status",
                format!("unknown status {other:?}: must be active or inactive"),
            ));
        }
    };
    let cert_id = query
        .q
        .as_deref()
        .and_then(|t| recert_domain::CertificateId::parse(t).ok())
        .map(|c| c.to_string());
    let filter = store::Filter {
        cert_id,
        q: query.q,
        group: query.group,
        active,
        manager: query.manager,
        within,
    };
    Ok(Some(filter))
}

/// The columns of a learners export.
const LEARNER_HEADERS: &[&str] = &[
    "username",
    "legal_name",
    "email",
    "groups",
    "manager",
    "active",
    "end_date",
];

/// A learner as a row of an export.
fn learner_cells(l: &Learner) -> Vec<Cell> {
    vec![
        l.username.as_str().into(),
        l.legal_name.as_str().into(),
        l.email.clone().unwrap_or_default().into(),
        l.groups.join(", ").into(),
        l.manager.as_ref().map(|m| m.as_str()).unwrap_or("").into(),
        if l.active { "yes" } else { "no" }.into(),
        Cell::Date(l.end_date),
    ]
}

/// When a search looks like a certificate ID (16 symbols of its alphabet, hyphens aside)
/// but is not one, what is wrong with it: usually a mistyped symbol that the check
/// character catches.
pub fn certificate_id_hint(q: &str) -> Option<String> {
    let symbols: String = q.chars().filter(|c| *c != '-' && *c != ' ').collect();
    if symbols.chars().count() != 16 || !symbols.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    match recert_domain::CertificateId::parse(q) {
        Ok(_) => None,
        Err(e) => Some(
            e.0.first()
                .map(|f| f.message.clone())
                .unwrap_or_else(|| e.to_string()),
        ),
    }
}

/// Checks free text for a description-like field (shared with groups).
pub(crate) fn description(raw: Option<&str>) -> Result<String> {
    Ok(optional_text("description", raw, 2000)?)
}
