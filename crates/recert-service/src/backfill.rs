//! Backfill (SPEC §3.3): assignment is not retroactive, so completions made before an
//! item was assigned earn nothing — until an administrator previews who would get what and
//! runs the backfill, as one audited transaction.

use crate::auth::Action;
use crate::awards::{Context, NewAward, Replace};
use crate::completions::ProgramOutcome;
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::Date;
use recert_domain::earning::{self, Decision, Facts, Outcome};
use recert_store::audit::NewEvent;
use recert_store::completions::{self as completion_store, CompletionRecord};
use recert_store::{awards as award_store, learners as learner_store};
use serde::Serialize;
use std::collections::HashSet;

/// What the backfill does (or would do) with one earlier completion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackfillRow {
    pub learner: String,
    pub legal_name: String,
    pub event_id: String,
    pub item: String,
    #[schema(value_type = String, format = Date)]
    pub completed_on: Date,
    pub scaled_score: Option<f64>,
    /// `award` (preview), `awarded` (run) or `skip`.
    pub result: String,
    pub reason: String,
    /// The certificate issued (run only).
    pub award: Option<String>,
}

/// A backfill preview or run for one program.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackfillReport {
    pub program: String,
    /// False for a preview: nothing was changed.
    pub ran: bool,
    /// Awards issued (run) or that would be issued (preview).
    pub awards: usize,
    pub rows: Vec<BackfillRow>,
}

impl Service {
    /// Previews (`run` false) or runs the backfill of one program.
    pub async fn backfill(&self, who: &Principal, code: &str, run: bool) -> Result<BackfillReport> {
        who.require(Action::Backfill)?;
        // A preview runs the same decisions on a read connection, without the write lock
        // (which other writers would wait on); a run makes them again under the lock and
        // writes them.
        let mut access = if run {
            Access::Write(self.store.begin_write().await?)
        } else {
            Access::Read(self.store.read().await?)
        };
        let (program_id, program, ctx) = Context::for_program(access.conn(), code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        let mut idents = Vec::new();
        for item in &program.items {
            idents.push(item.code.clone());
            if let Some(a) = &item.activity_id {
                idents.push(a.clone());
            }
        }
        let mut found = completion_store::of_items(access.conn(), &idents).await?;
        // Completions that already earned this program are done.
        found.retain(|c| !earned_for(c, program.code.as_str()));
        // Newest first per learner: each learner's latest passing completion is the one used.
        found.sort_by(|a, b| {
            (a.username.as_str(), std::cmp::Reverse(a.completed_on), a.id).cmp(&(
                b.username.as_str(),
                std::cmp::Reverse(b.completed_on),
                b.id,
            ))
        });
        let mut granted: HashSet<i64> = HashSet::new();
        let mut rows = Vec::new();
        let mut issued = Vec::new();
        for c in found {
            let Some(via) = earning::match_item(&program, &c.item) else {
                continue;
            };
            let mut row = BackfillRow {
                learner: c.username.clone(),
                legal_name: String::new(),
                event_id: c.event_id.clone(),
                item: c.item.clone(),
                completed_on: c.completed_on,
                scaled_score: c.scaled,
                result: "skip".into(),
                reason: String::new(),
                award: None,
            };
            let identity = learner_store::identity(access.conn(), &c.username).await?;
            let Some((learner_id, username, legal_name)) = identity else {
                continue;
            };
            row.legal_name = legal_name.clone();
            if granted.contains(&learner_id) {
                row.reason = "a later completion of this learner is used".into();
                rows.push(row);
                continue;
            }
            let current = award_store::current(access.conn(), learner_id, program_id).await?;
            let facts = Facts {
                completed_on: c.completed_on,
                scaled: c.scaled,
                passed: c.passed,
            };
            match earning::decide(
                &program,
                via,
                facts,
                current.as_ref().map(|r| &r.award),
                true,
            ) {
                Decision::Refuse(o) => row.reason = o.reason(),
                Decision::Grant(g) => {
                    granted.insert(learner_id);
                    if let Access::Write(tx) = &mut access {
                        let replace = match current {
                            Some(cur) if g.renews.is_some() => Replace::Supersede(cur),
                            Some(cur) if g.closes_lapsed => Replace::CloseLapsed(cur),
                            _ => Replace::Nothing,
                        };
                        let new = NewAward {
                            learner_id,
                            username,
                            legal_name,
                            program_id,
                            issued_on: g.issued_on,
                            completed_on: Some(c.completed_on),
                            expires_on: g.expires_on,
                            score: c.scaled,
                            pass_threshold: g.pass_threshold,
                            association: g.association,
                            source_ref: Some(format!(
                                "completion:{} (item {}, backfill)",
                                c.event_id, c.item
                            )),
                            credits: None,
                            content_version: c.content_version.clone(),
                            fields: Default::default(),
                            pathway: g.pathway,
                            cycle: g.cycle,
                        };
                        let extra = serde_json::json!({"backfill": true, "completion": c.event_id});
                        let view = self
                            .issue(tx, &who.name, &ctx, new, replace, Some(extra))
                            .await?;
                        let award = crate::awards::parse_id(&view.id)?;
                        mark_backfilled(tx, &c, program.code.as_str(), &g, award).await?;
                        row.result = "awarded".into();
                        row.reason = format!("certificate {} issued on {}", view.id, g.issued_on);
                        row.award = Some(view.id.clone());
                        issued.push(view.id);
                    } else {
                        row.result = "award".into();
                        row.reason = match g.expires_on {
                            Some(x) => format!("would be issued on {}, expiring {x}", g.issued_on),
                            None => format!("would be issued on {}, never expiring", g.issued_on),
                        };
                    }
                }
            }
            rows.push(row);
        }
        let awards = rows.iter().filter(|r| r.result != "skip").count();
        let report = BackfillReport {
            program: program.code.to_string(),
            ran: run,
            awards,
            rows,
        };
        if let Access::Write(mut tx) = access {
            tx.audit(NewEvent {
                at: self.now(),
                actor: &who.name,
                action: "program.backfilled",
                subject_type: "program",
                subject_id: program.code.as_str(),
                before: None,
                after: Some(
                    serde_json::json!({ "awards": issued, "considered": report.rows.len() }),
                ),
            })
            .await?;
            tx.commit().await?;
        }
        Ok(report)
    }
}

/// A read connection (preview) or the write transaction (run).
enum Access {
    Read(recert_store::ReadConn),
    Write(recert_store::WriteTx),
}

impl Access {
    fn conn(&mut self) -> &mut recert_store::Conn {
        match self {
            Self::Read(c) => c,
            Self::Write(tx) => tx.conn(),
        }
    }
}

/// Whether the completion already earned (or renewed) this program.
fn earned_for(c: &CompletionRecord, program: &str) -> bool {
    serde_json::from_value::<Vec<ProgramOutcome>>(c.outcomes.clone())
        .map(|list| {
            list.iter()
                .any(|o| o.program.as_deref() == Some(program) && o.outcome.earned())
        })
        .unwrap_or(false)
}

/// Rewrites the completion's outcome for this program: it earned, by backfill.
async fn mark_backfilled(
    tx: &mut recert_store::WriteTx,
    c: &CompletionRecord,
    program: &str,
    g: &earning::Grant,
    award: recert_domain::CertificateId,
) -> Result<()> {
    let mut outcomes: Vec<ProgramOutcome> =
        serde_json::from_value(c.outcomes.clone()).map_err(ServiceError::internal)?;
    let outcome = match &g.renews {
        Some(p) => Outcome::Renewed {
            award,
            predecessor: p.clone(),
        },
        None => Outcome::Awarded { award },
    };
    let mut entry = ProgramOutcome::new(Some(program), outcome);
    entry.backfilled = true;
    match outcomes
        .iter_mut()
        .find(|o| o.program.as_deref() == Some(program))
    {
        Some(o) => *o = entry,
        None => outcomes.push(entry),
    }
    completion_store::set_outcomes(tx.conn(), c.id, &snapshot(&outcomes)?).await?;
    Ok(())
}
