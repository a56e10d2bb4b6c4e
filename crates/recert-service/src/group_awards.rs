//! Group and branch awards (SPEC §3.3): a program awarded to every member of a group (team,
//! site, branch…) in one transaction, previewed first. A standing group award with
//! `include_later_members` also awards members who join afterwards, until it is stopped.

use crate::auth::Action;
use crate::awards::{Context, NewAward, Replace};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::error::Errors;
use recert_domain::names::parse_date;
use recert_domain::{Association, Date, Status, Timestamp, status_on};
use recert_store::audit::NewEvent;
use recert_store::group_awards::{self as store, GroupAward};
use recert_store::{
    WriteTx, awards as award_store, groups as group_store, learners as learner_store,
};
use serde::{Deserialize, Serialize};

/// Award a program to a whole group.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupAwardDraft {
    pub group: Option<String>,
    pub program: Option<String>,
    /// Defaults to today in the organization's time zone.
    pub issued_on: Option<String>,
    /// Omitted (and not always valid) = issue date + the program's validity.
    pub expires_on: Option<String>,
    pub always_valid: Option<bool>,
    /// Defaults to `manual`.
    pub association: Option<String>,
    /// Also award members who join the group later (each on the day they join). Default false.
    pub include_later_members: Option<bool>,
    /// True: say what would happen and change nothing.
    pub preview: Option<bool>,
}

/// What happens (or would happen) to one member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupAwardRow {
    pub learner: String,
    pub legal_name: String,
    /// `award` (preview), `awarded`, or `skip`.
    pub result: String,
    pub reason: String,
    pub award: Option<String>,
}

/// The answer to a group award or its preview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupAwardReport {
    /// The standing group award's id (not set for a preview).
    pub id: Option<i64>,
    pub group: String,
    pub program: String,
    pub preview: bool,
    pub include_later_members: bool,
    /// Awards issued, or that would be issued.
    pub awards: usize,
    pub skipped: usize,
    pub rows: Vec<GroupAwardRow>,
}

/// A standing group award.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupAwardView {
    pub id: i64,
    pub group: String,
    pub program: String,
    pub include_later_members: bool,
    pub association: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub stopped_at: Option<Timestamp>,
}

fn view(g: &GroupAward) -> Result<GroupAwardView> {
    let ts = crate::instant;
    Ok(GroupAwardView {
        id: g.id,
        group: g.group_name.clone(),
        program: g.program_code.clone(),
        include_later_members: g.include_later,
        association: g.association.clone(),
        created_by: g.created_by.clone(),
        created_at: ts(g.created_at_ms)?,
        stopped_at: g.stopped_at_ms.map(ts).transpose()?,
    })
}

/// Whether a current award blocks a new one: anything but a lapsed one does.
fn blocking(status: Status) -> bool {
    status != Status::Lapsed
}

impl Service {
    /// Awards a program to every member of a group, or previews it.
    pub async fn create_group_award(
        &self,
        who: &Principal,
        draft: GroupAwardDraft,
    ) -> Result<GroupAwardReport> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let ctx = Context::load(tx.conn()).await?;
        let mut e = Errors::new();
        let group = match draft
            .group
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(name) => match group_store::by_name(tx.conn(), name).await? {
                Some((id, g)) => Some((id, g.name)),
                None => {
                    e.add("group", format!("no group named {name:?}"));
                    None
                }
            },
            None => {
                e.add("group", "is required");
                None
            }
        };
        let program = match draft
            .program
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => match ctx.by_code(code) {
                Some((id, p)) => {
                    who.require(Action::WriteAward(id))?;
                    if p.archived_on.is_some() {
                        e.add(
                            "program",
                            format!("program {code:?} is archived and cannot be awarded"),
                        );
                        None
                    } else {
                        Some((id, p.clone()))
                    }
                }
                None => {
                    e.add("program", format!("no program with code {code:?}"));
                    None
                }
            },
            None => {
                e.add("program", "is required");
                None
            }
        };
        let opt_date = |e: &mut Errors, field: &str, raw: Option<&str>| {
            raw.filter(|s| !s.trim().is_empty())
                .and_then(|s| e.check(parse_date(field, s)))
        };
        let issued_on = opt_date(&mut e, "issued_on", draft.issued_on.as_deref());
        let explicit_expiry = opt_date(&mut e, "expires_on", draft.expires_on.as_deref());
        let always_valid = draft.always_valid.unwrap_or(false);
        if always_valid && explicit_expiry.is_some() {
            e.add("expires_on", "must be omitted when always_valid is true");
        }
        let association = match draft.association.as_deref().filter(|s| !s.is_empty()) {
            Some(a) => e.check(Association::parse("association", a)),
            None => Some(Association::Manual),
        };
        e.finish()?;
        let (Some((group_id, group_name)), Some((program_id, program)), Some(association)) =
            (group, program, association)
        else {
            return Err(ServiceError::field("award", "is incomplete"));
        };
        let today = self.today_in(ctx.org(&program)?);
        let issued_on = issued_on.unwrap_or(today);
        let expires_on = if always_valid {
            None
        } else {
            explicit_expiry.or_else(|| program.validity.expiry_from(issued_on))
        };
        recert_domain::award::check_dates(issued_on, None, expires_on)?;
        let preview = draft.preview.unwrap_or(false);
        let include_later = draft.include_later_members.unwrap_or(false);

        let standing_id = if preview {
            None
        } else {
            let g = GroupAward {
                id: 0,
                group_id,
                group_name: group_name.clone(),
                program_id,
                program_code: program.code.to_string(),
                include_later,
                association: association.as_str().to_owned(),
                created_by: who.name.clone(),
                created_at_ms: self.now_ms(),
                stopped_at_ms: None,
            };
            Some(store::insert(tx.conn(), &g).await?)
        };
        let members = group_store::members(tx.conn(), group_id, "", i64::MAX).await?;
        let mut rows = Vec::with_capacity(members.len());
        for (learner_id, _) in members {
            let Some((_, username, legal_name)) =
                learner_store::identity_by_id(tx.conn(), learner_id).await?
            else {
                continue;
            };
            let mut row = GroupAwardRow {
                learner: username.to_string(),
                legal_name: legal_name.clone(),
                result: "skip".into(),
                reason: String::new(),
                award: None,
            };
            let current = award_store::current(tx.conn(), learner_id, program_id).await?;
            let replace = match current {
                Some(cur) => {
                    let status = status_on(&cur.award, &program, today);
                    if blocking(status) {
                        row.reason = format!(
                            "already holds certificate {} ({})",
                            cur.award.id,
                            status.as_str()
                        );
                        rows.push(row);
                        continue;
                    }
                    Replace::CloseLapsed(cur)
                }
                None => Replace::Nothing,
            };
            if preview {
                row.result = "award".into();
                row.reason = match expires_on {
                    Some(x) => format!("would be issued on {issued_on}, expiring {x}"),
                    None => format!("would be issued on {issued_on}, never expiring"),
                };
            } else {
                let new = NewAward {
                    learner_id,
                    username,
                    legal_name,
                    program_id,
                    issued_on,
                    completed_on: None,
                    expires_on,
                    score: None,
                    pass_threshold: None,
                    association,
                    source_ref: Some(format!("group:{group_name}")),
                    credits: None,
                    content_version: None,
                    fields: Default::default(),
                    pathway: None,
                    cycle: None,
                };
                let extra = serde_json::json!({ "group_award": standing_id, "group": group_name });
                let issued = self
                    .issue(&mut tx, &who.name, &ctx, new, replace, Some(extra))
                    .await?;
                row.result = "awarded".into();
                row.reason = format!("certificate {} issued", issued.id);
                row.award = Some(issued.id);
            }
            rows.push(row);
        }
        let awards = rows.iter().filter(|r| r.result != "skip").count();
        let report = GroupAwardReport {
            id: standing_id,
            group: group_name.clone(),
            program: program.code.to_string(),
            preview,
            include_later_members: include_later,
            awards,
            skipped: rows.len() - awards,
            rows,
        };
        if let Some(id) = standing_id {
            tx.audit(NewEvent {
                at: self.now(),
                actor: &who.name,
                action: "group_award.created",
                subject_type: "group_award",
                subject_id: &id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "group": group_name, "program": program.code.as_str(),
                    "include_later_members": include_later, "awards": awards,
                    "skipped": report.skipped,
                })),
            })
            .await?;
            tx.commit().await?;
        }
        Ok(report)
    }

    /// Standing group awards, newest first (optionally one group's).
    pub async fn group_awards(
        &self,
        who: &Principal,
        group: Option<&str>,
    ) -> Result<Vec<GroupAwardView>> {
        who.require(Action::ReadDirectory)?;
        let mut conn = self.store.read().await?;
        let gid = match group.filter(|s| !s.is_empty()) {
            Some(name) => Some(
                group_store::by_name(&mut conn, name)
                    .await?
                    .map(|(id, _)| id)
                    .ok_or_else(|| ServiceError::not_found("group", name))?,
            ),
            None => None,
        };
        store::list(&mut conn, gid)
            .await?
            .iter()
            .map(view)
            .collect()
    }

    /// Stops awarding later members (awards already made stay).
    pub async fn stop_group_award(&self, who: &Principal, id: i64) -> Result<GroupAwardView> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let g = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("group award", id.to_string()))?;
        who.require(Action::WriteAward(g.program_id))?;
        if g.stopped_at_ms.is_some() {
            return view(&g);
        }
        store::stop(tx.conn(), id, self.now_ms()).await?;
        let after = GroupAward {
            stopped_at_ms: Some(self.now_ms()),
            ..g.clone()
        };
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "group_award.stopped",
            subject_type: "group_award",
            subject_id: &id.to_string(),
            before: Some(snapshot(&view(&g)?)?),
            after: Some(snapshot(&view(&after)?)?),
        })
        .await?;
        tx.commit().await?;
        view(&after)
    }

    /// Awards a learner who just joined these groups every program a standing group award
    /// extends to later members, issued today — unless they already hold it.
    pub(crate) async fn award_joiner(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        learner_id: i64,
        joined: &[i64],
    ) -> Result<()> {
        let mut standing = Vec::new();
        for gid in joined {
            standing.extend(store::for_joiners(tx.conn(), *gid).await?);
        }
        if standing.is_empty() {
            return Ok(());
        }
        let ctx = Context::load(tx.conn()).await?;
        let Some((_, username, legal_name)) =
            learner_store::identity_by_id(tx.conn(), learner_id).await?
        else {
            return Ok(());
        };
        for g in standing {
            let program = ctx.program(g.program_id)?;
            if program.archived_on.is_some() {
                continue;
            }
            let today: Date = self.today_in(ctx.org(program)?);
            let replace = match award_store::current(tx.conn(), learner_id, g.program_id).await? {
                Some(cur) if blocking(status_on(&cur.award, program, today)) => continue,
                Some(cur) => Replace::CloseLapsed(cur),
                None => Replace::Nothing,
            };
            let association = Association::parse("association", &g.association)
                .map_err(ServiceError::internal)?;
            let new = NewAward {
                learner_id,
                username: username.clone(),
                legal_name: legal_name.clone(),
                program_id: g.program_id,
                issued_on: today,
                completed_on: None,
                expires_on: program.validity.expiry_from(today),
                score: None,
                pass_threshold: None,
                association,
                source_ref: Some(format!("group:{} (joined)", g.group_name)),
                credits: None,
                content_version: None,
                fields: Default::default(),
                pathway: None,
                cycle: None,
            };
            let extra =
                serde_json::json!({ "group_award": g.id, "group": g.group_name, "joined": true });
            self.issue(tx, actor, &ctx, new, replace, Some(extra))
                .await?;
        }
        Ok(())
    }
}
