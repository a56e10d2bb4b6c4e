//! Renewals recorded by hand and grace extensions (SPEC §3.4, §9): an administrator or the
//! program's manager records that a learner renewed by one of the program's pathways (a new
//! award supersedes the current one, with the expiry rule of §3.4); an administrator
//! extends one award's grace with a reason. Both are audited like every change of an award.

use crate::awards::{NewAward, Replace};
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::award::Association;
use recert_domain::error::Errors;
use recert_domain::names::{parse_date, required_text};
use recert_domain::program::Pathway;
use recert_domain::status::{Status, status_on};
use serde::Deserialize;

/// A renewal recorded by hand.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewDraft {
    /// One of the program's renewal pathways: retake, refresher, credits, signoff.
    pub pathway: Option<String>,
    /// The day the renewal was earned (`YYYY-MM-DD`); default today. Not in the future.
    pub completed_on: Option<String>,
    /// What the renewal rests on (evidence, who confirmed it): kept in the audit trail.
    pub note: Option<String>,
}

/// A grace extension.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendGraceDraft {
    /// Days added to the award's grace (1–3650).
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<i64>,
    /// Why: kept in the audit trail.
    pub reason: Option<String>,
}

impl Service {
    /// Records a renewal by hand: the new award (its `predecessor` the old one, its
    /// `pathway` the one given, association `renewal`). Refused, saying why, when the
    /// award cannot be renewed on that day (window not open yet, lapsed, already renewed,
    /// revoked or unassigned). Administrators and the program's managers.
    pub async fn renew_award(
        &self,
        who: &Principal,
        id: &str,
        draft: RenewDraft,
    ) -> Result<crate::awards::AwardView> {
        let mut e = Errors::new();
        let pathway = match draft.pathway.as_deref() {
            Some(p) => e.check(Pathway::parse("pathway", p)),
            None => {
                e.add(
                    "pathway",
                    "is required: retake, refresher, credits or signoff",
                );
                None
            }
        };
        let completed_on = draft
            .completed_on
            .as_deref()
            .filter(|s| !s.is_empty())
            .and_then(|s| e.check(parse_date("completed_on", s)));
        let note = match draft.note.as_deref() {
            Some(n) => e.check(required_text("note", n, 2000)),
            None => {
                e.add("note", "is required: say what the renewal rests on");
                None
            }
        };
        e.finish()?;
        let (Some(pathway), Some(note)) = (pathway, note) else {
            return Err(ServiceError::field("pathway", "is required"));
        };
        let mut tx = self.store.begin_write().await?;
        let (current, program, today, ctx) = self.load_for_write(&mut tx, who, id).await?;
        let on = completed_on.unwrap_or(today);
        if on > today {
            return Err(ServiceError::field(
                "completed_on",
                format!("{on} is in the future: record a renewal once it has happened"),
            ));
        }
        let view = self
            .renew_current(
                &mut tx,
                &who.name,
                &ctx,
                current,
                &program,
                pathway,
                on,
                Some(serde_json::json!({"note": note})),
                format!("manual:{}", who.name),
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Renews `current` by `pathway` on day `on`: the program must allow the pathway and
    /// the award be open to renewal that day ([`renewable`]). Answers the new award. Every
    /// renewal by a pathway other than an earning (by hand, by sign-off) goes through here.
    #[allow(clippy::too_many_arguments)] // the facts of one renewal, each needed
    pub(crate) async fn renew_current(
        &self,
        tx: &mut recert_store::WriteTx,
        actor: &str,
        ctx: &crate::awards::Context,
        current: recert_store::awards::AwardRecord,
        program: &recert_domain::Program,
        pathway: Pathway,
        on: recert_domain::Date,
        extra: Option<serde_json::Value>,
        source_ref: String,
        credits: Option<recert_domain::award::Credits>,
    ) -> Result<crate::awards::AwardView> {
        if !program.renewal_pathways.contains(&pathway) {
            return Err(ServiceError::field(
                "pathway",
                format!(
                    "{} does not renew {}: it allows {}",
                    pathway.as_str(),
                    program.code,
                    program
                        .renewal_pathways
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let a = &current.award;
        renewable(a, program, on)?;
        let (expires_on, cycle) = match recert_domain::renewal::renewal_expiry(
            program.validity,
            program.renewal_anchor,
            a,
            on,
        ) {
            Some((x, c)) => (Some(x), Some(c)),
            None => (None, None),
        };
        let new = NewAward {
            learner_id: current.learner_id,
            username: a.learner.clone(),
            legal_name: current.legal_name.clone(),
            program_id: current.program_id,
            issued_on: on,
            completed_on: Some(on),
            expires_on,
            score: None,
            pass_threshold: None,
            association: Association::Renewal,
            source_ref: Some(source_ref),
            credits,
            content_version: None,
            fields: Default::default(),
            pathway: Some(pathway),
            cycle,
        };
        self.issue(tx, actor, ctx, new, Replace::Supersede(current), extra)
            .await
    }

    /// Extends one award's grace by some days, with a reason. Administrators only.
    pub async fn extend_grace(
        &self,
        who: &Principal,
        id: &str,
        draft: ExtendGraceDraft,
    ) -> Result<crate::awards::AwardView> {
        who.require(crate::auth::Action::Administer)?;
        let mut e = Errors::new();
        let days = match draft.days {
            Some(d) if (1..=3650).contains(&d) => u32::try_from(d).ok(),
            Some(_) => {
                e.add("days", "must be between 1 and 3650");
                None
            }
            None => {
                e.add(
                    "days",
                    "is required: how many days to add to the grace period",
                );
                None
            }
        };
        let reason = match draft.reason.as_deref() {
            Some(r) => e.check(required_text("reason", r, 1000)),
            None => {
                e.add("reason", "is required: say why grace is extended");
                None
            }
        };
        e.finish()?;
        let (Some(days), Some(reason)) = (days, reason) else {
            return Err(ServiceError::field("days", "is required"));
        };
        let mut tx = self.store.begin_write().await?;
        let (current, _, _, ctx) = self.load_for_write(&mut tx, who, id).await?;
        if !current.award.is_current() || current.award.expiry().is_none() {
            return Err(ServiceError::Conflict(format!(
                "certificate {} has no grace to extend: it is not current or never expires",
                current.award.id
            )));
        }
        let mut after = current.award.clone();
        after.grace_extension_days = after.grace_extension_days.saturating_add(days);
        let extra = serde_json::json!({"reason": reason, "days": days});
        self.save(
            tx,
            who,
            "award.grace_extended",
            &ctx,
            &current,
            &after,
            Some(extra),
        )
        .await
    }
}

/// Whether `a` can be renewed on day `on`: from the window's opening to the end of grace.
/// The error says why not (window not open yet, lapsed, renewed, revoked, unassigned).
pub(crate) fn renewable(
    a: &recert_domain::Award,
    program: &recert_domain::Program,
    on: recert_domain::Date,
) -> Result<()> {
    match status_on(a, program, on) {
        Status::Expiring | Status::Grace => {}
        Status::Active if a.expiry().is_none() => {
            return Err(ServiceError::Conflict(format!(
                "certificate {} never expires: there is nothing to renew",
                a.id
            )));
        }
        Status::Active => {
            return Err(ServiceError::Conflict(format!(
                "the renewal window of certificate {} opens on {}",
                a.id,
                a.expiry()
                    .map(|x| a.window_opens(x).to_string())
                    .unwrap_or_default()
            )));
        }
        Status::Lapsed => {
            return Err(ServiceError::Conflict(format!(
                "certificate {} lapsed on {}: only the initial requirements earn it again",
                a.id,
                a.expiry()
                    .map(|x| a.grace_ends(x).to_string())
                    .unwrap_or_default()
            )));
        }
        other => {
            return Err(ServiceError::Conflict(format!(
                "certificate {} is {} and cannot be renewed",
                a.id,
                other.as_str()
            )));
        }
    }
    Ok(())
}
