//! Policy changes for current holders (SPEC §3.5): a program's new validity, window and
//! grace apply to new awards only, unless its administrator applies them to the current
//! holders too. The preview lists every current award the change would alter, with its
//! expiry and status before and after; applying runs exactly that as one audited job (one
//! transaction, one event for the job and the before/after of each award).

use crate::auth::Action;
use crate::awards::Context;
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::renewal::reapplied;
use recert_domain::status::status_on;
use recert_domain::{Award, Date, Program};
use recert_store::awards::{self as store, AwardRecord};
use serde::Serialize;

/// An award's expiry and status on one side of the change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Standing {
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    pub status: String,
    /// First day of the renewal window.
    #[schema(value_type = Option<String>, format = Date)]
    pub renewal_window_opens_on: Option<Date>,
    /// Last day of grace.
    #[schema(value_type = Option<String>, format = Date)]
    pub grace_ends_on: Option<Date>,
}

/// One award the change alters.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReapplyItem {
    pub award: String,
    pub learner: String,
    pub legal_name: String,
    pub before: Standing,
    pub after: Standing,
}

/// What applying the program's present rules to its current holders would change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReapplyPreview {
    pub program: String,
    /// The day statuses are judged on (the organization's today).
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub items: Vec<ReapplyItem>,
}

/// What applying did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReapplyDone {
    pub program: String,
    /// Awards changed.
    pub count: usize,
}

fn standing(a: &Award, program: &Program, on: Date) -> Standing {
    Standing {
        expires_on: a.expiry(),
        status: status_on(a, program, on).as_str().to_owned(),
        renewal_window_opens_on: a.expiry().map(|x| a.window_opens(x)),
        grace_ends_on: a.expiry().map(|x| a.grace_ends(x)),
    }
}

impl Service {
    /// Every current award of the program whose record the present rules change, as
    /// (the award as it is, as it would be), on the caller's connection.
    async fn reapply_plan(
        &self,
        conn: &mut recert_store::Conn,
        who: &Principal,
        code: &str,
    ) -> Result<(Program, Context, Date, Vec<(AwardRecord, Award)>)> {
        let (program_id, program, ctx) = Context::for_program(conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        who.require(Action::ManageProgram(program_id))?;
        let today = self.today_in(ctx.org(&program)?);
        let mut plan = Vec::new();
        for rec in store::current_in_program(conn, program_id).await? {
            let predecessor = match &rec.award.predecessor {
                Some(id) => store::by_id(conn, id).await?.map(|p| p.award),
                None => None,
            };
            let after = reapplied(&rec.award, &program, predecessor.as_ref());
            if after != rec.award {
                plan.push((rec, after));
            }
        }
        Ok((program, ctx, today, plan))
    }

    /// The preview: each current award the program's present rules would change, its
    /// expiry and status before and after. Administrators and the program's managers.
    pub async fn reapply_preview(&self, who: &Principal, code: &str) -> Result<ReapplyPreview> {
        let mut conn = self.store.read().await?;
        let (program, _, today, plan) = self.reapply_plan(&mut conn, who, code).await?;
        Ok(ReapplyPreview {
            program: program.code.to_string(),
            as_of: today,
            items: plan
                .iter()
                .map(|(rec, after)| ReapplyItem {
                    award: rec.award.id.to_string(),
                    learner: rec.award.learner.to_string(),
                    legal_name: rec.legal_name.clone(),
                    before: standing(&rec.award, &program, today),
                    after: standing(after, &program, today),
                })
                .collect(),
        })
    }

    /// Applies the program's present rules to its current holders as one audited job:
    /// what the preview lists, computed again in the same transaction.
    pub async fn reapply(&self, who: &Principal, code: &str) -> Result<ReapplyDone> {
        let mut tx = self.store.begin_write().await?;
        let (program, ctx, _, plan) = self.reapply_plan(tx.conn(), who, code).await?;
        let job = serde_json::json!({"policy_change": program.code.as_str()});
        let mut changed = Vec::with_capacity(plan.len());
        for (rec, after) in &plan {
            self.record_change(
                &mut tx,
                &who.name,
                &ctx,
                rec,
                after,
                "award.policy_applied",
                Some(job.clone()),
            )
            .await?;
            changed.push(rec.award.id.to_string());
        }
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.reapplied",
            subject_type: "program",
            subject_id: program.code.as_str(),
            before: None,
            after: Some(serde_json::json!({
                "validity": program.validity,
                "renewal_window_days": program.renewal_window_days,
                "grace_days": program.grace_days,
                "renewal_anchor": program.renewal_anchor,
                "count": changed.len(),
                "awards": changed,
            })),
        })
        .await?;
        tx.commit().await?;
        self.wake_scheduler();
        Ok(ReapplyDone {
            program: program.code.to_string(),
            count: changed.len(),
        })
    }
}
