//! Group and branch awards (SPEC §3.3): a program awarded to every member of a group (team,
//! site, branch…) in one transaction, previewed first. A standing group award with
//! `include_later_members` also awards members who join afterwards, until it is stopped.

use crate::auth::Action;
use crate::award_batches::{AwardBatchDraft, BatchOutcome, blocking};
use crate::awards::{Context, NewAward, Replace};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::error::Errors;
use recert_domain::{Association, Date, Timestamp, status_on};
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

/// A validation error on `from` reported on `to` (the same check under another API's name).
fn rename_field(e: ServiceError, from: &str, to: &str) -> ServiceError {
    match e {
        ServiceError::Validation(mut d) => {
            for f in &mut d.0 {
                if f.field == from {
                    f.field = to.to_owned();
                }
            }
            ServiceError::Validation(d)
        }
        other => other,
    }
}

impl Service {
    /// Awards a program to every member of a group, or previews it: an award batch of one
    /// group, recorded as a group award (standing for later members when asked).
    pub async fn create_group_award(
        &self,
        who: &Principal,
        draft: GroupAwardDraft,
    ) -> Result<GroupAwardReport> {
        who.require_program_runner()?;
        let group = draft
            .group
            .as_deref()
            .map(str::trim)
            .unwrap_or("")
            .to_owned();
        if group.is_empty() {
            // Checked with the rest of the input, so every error comes back in one round.
            let mut e = Errors::new();
            e.add("group", "is required");
            if draft.program.as_deref().is_none_or(|p| p.trim().is_empty()) {
                e.add("program", "is required");
            }
            e.finish()?;
        }
        let preview = draft.preview.unwrap_or(false);
        let include_later = draft.include_later_members.unwrap_or(false);
        let batch = AwardBatchDraft {
            program: draft.program,
            learners: None,
            groups: Some(vec![group.clone()]),
            issued_on: draft.issued_on,
            expires_on: draft.expires_on,
            always_valid: draft.always_valid,
            association: draft.association,
            include_later_members: Some(include_later),
            preview: Some(preview),
        };
        let r = self
            .run_batch(who, batch, true)
            .await
            .map_err(|e| rename_field(e, "groups[0]", "group"))?;
        let rows: Vec<GroupAwardRow> = r
            .results
            .into_iter()
            .map(|row| GroupAwardRow {
                learner: row.learner,
                legal_name: row.legal_name.unwrap_or_default(),
                result: match (row.outcome, preview) {
                    (BatchOutcome::Awarded, true) => "award",
                    (BatchOutcome::Awarded, false) => "awarded",
                    _ => "skip",
                }
                .into(),
                reason: row.reason,
                award: row.award,
            })
            .collect();
        let awards = rows.iter().filter(|r| r.result != "skip").count();
        Ok(GroupAwardReport {
            id: r.group_awards.first().map(|s| s.id),
            group: r
                .group_awards
                .first()
                .map(|s| s.group.clone())
                .unwrap_or(group),
            program: r.program,
            preview,
            include_later_members: include_later,
            awards,
            skipped: rows.len() - awards,
            rows,
        })
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
        let Some((_, username, legal_name)) =
            learner_store::identity_by_id(tx.conn(), learner_id).await?
        else {
            return Ok(());
        };
        for g in standing {
            // Only the program this group award is for, not the whole catalogue.
            let Some((_, _, ctx)) = Context::for_program(tx.conn(), &g.program_code).await? else {
                continue;
            };
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
