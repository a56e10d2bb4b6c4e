//! Continuing-education credits (SPEC §3.4, §9): the learner — or their supervisor, or an
//! approver — logs hours (date, category, provider, evidence) toward renewing a current
//! certification. Entries from the program's `approved_providers`, and those an approver
//! logs, are approved at once; the rest wait in the approvers' queue (the external
//! training queue's sibling). Each entry counts in the cycle of the award current when it
//! was logged. When the approved hours of a cycle meet the program's requirement (total
//! and per-category minimums) inside the renewal window, the award renews by the
//! `credits` pathway — at once on the approval that meets it, or by the scheduler on the
//! day the window opens.

use crate::auth::{Action, Role};
use crate::awards::Context;
use crate::exports::{Cell, Download, Format};
use crate::external::{DecisionDraft, Upload, evidence_of};
use crate::listing::{Listed, Sheet, Sort, Window};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::award::Credits;
use recert_domain::credits::{CreditProgress, approved_provider, progress};
use recert_domain::error::Errors;
use recert_domain::names::{optional_text, parse_date, required_text};
use recert_domain::program::Pathway;
use recert_domain::{CertificateId, Date, Timestamp};
use recert_store::audit::NewEvent;
use recert_store::credits::{self as store, Entry};
use recert_store::{WriteTx, awards as award_store, learners as learner_store};
use serde::{Deserialize, Serialize};

/// Hours one entry may claim.
pub const MAX_ENTRY_HOURS: f64 = 1000.0;

/// A credit entry as logged.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditDraft {
    /// The learner's username; omitted = the caller's own record.
    pub learner: Option<String>,
    /// The program whose current certification the credits renew.
    pub program: Option<String>,
    /// The day the activity was completed (`YYYY-MM-DD`), in the current cycle.
    pub completed_on: Option<String>,
    /// Hours earned (more than 0, at most 1000).
    #[schema(exclusive_minimum = 0, maximum = 1000)]
    pub hours: Option<f64>,
    /// The credit category (e.g. `ethics`); counts toward that category's minimum.
    pub category: Option<String>,
    /// Who provided the activity; entries from the program's approved providers are
    /// approved without review.
    pub provider: Option<String>,
}

/// A credit entry as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditView {
    pub id: i64,
    pub learner: String,
    pub legal_name: String,
    pub program: String,
    /// The certificate whose renewal cycle the entry counts toward.
    pub award: String,
    #[schema(value_type = String, format = Date)]
    pub completed_on: Date,
    pub hours: f64,
    pub category: Option<String>,
    pub provider: String,
    /// The evidence file's name, if one was uploaded.
    pub evidence: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub state: String,
    pub submitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: Timestamp,
    pub decided_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Timestamp>,
    pub note: Option<String>,
    /// The certificate of the renewal these credits completed, once they did.
    pub renewal: Option<String>,
}

fn view(e: &Entry) -> Result<CreditView> {
    Ok(CreditView {
        id: e.id,
        learner: e.username.clone(),
        legal_name: e.legal_name.clone(),
        program: e.program_code.clone(),
        award: e.cert_id.clone(),
        completed_on: e.completed_on,
        hours: e.hours,
        category: e.category.clone(),
        provider: e.provider.clone(),
        evidence: e.evidence_name.clone(),
        state: e.state.clone(),
        submitted_by: e.submitted_by.clone(),
        submitted_at: crate::instant(e.submitted_at_ms)?,
        decided_by: e.decided_by.clone(),
        decided_at: e.decided_at_ms.map(crate::instant).transpose()?,
        note: e.decision_note.clone(),
        renewal: e.renewal.clone(),
    })
}

/// One certification's credits: what the cycle asks for, what is approved and waiting,
/// and every entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditStanding {
    pub award: String,
    pub program: String,
    /// Progress of the approved entries toward the requirement (null when the program
    /// asks for no credits).
    pub progress: Option<CreditProgress>,
    /// Hours logged and still waiting for an approver.
    pub pending_hours: f64,
    pub entries: Vec<CreditView>,
    /// The certificate these credits renewed this award into, if they did.
    pub renewal: Option<String>,
}

/// What logging an entry did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditLogged {
    #[serde(flatten)]
    pub entry: CreditView,
    /// The renewal the entry completed, when its approval met the requirement.
    pub renewed: Option<String>,
}

/// The credits of an award already read (and its program): one query.
pub(crate) async fn standing(
    conn: &mut recert_store::Conn,
    award: &crate::awards::AwardView,
    program: &recert_domain::Program,
) -> Result<CreditStanding> {
    let entries = store::of_cert(conn, &award.id).await?;
    let pending: f64 = entries
        .iter()
        .filter(|e| e.state == "pending")
        .map(|e| e.hours)
        .sum();
    Ok(CreditStanding {
        progress: program
            .credits_required
            .as_ref()
            .map(|r| progress(r, approved_hours(&entries))),
        pending_hours: (pending * 100.0).round() / 100.0,
        renewal: entries.iter().find_map(|e| e.renewal.clone()),
        entries: entries.iter().map(view).collect::<Result<_>>()?,
        award: award.id.clone(),
        program: award.program.clone(),
    })
}

fn approved_hours(entries: &[Entry]) -> impl Iterator<Item = (f64, Option<&str>)> {
    entries
        .iter()
        .filter(|e| e.state == "approved")
        .map(|e| (e.hours, e.category.as_deref()))
}

impl Service {
    /// Logs a credit entry toward the learner's current certification of a program.
    /// Approved at once for the program's approved providers and when an approver logs
    /// it; an approval that meets the requirement inside the window renews at once.
    pub async fn log_credit(
        &self,
        who: &Principal,
        draft: CreditDraft,
        upload: Option<Upload>,
    ) -> Result<CreditLogged> {
        if who.role == Role::Auditor {
            return Err(who.forbidden("log credits"));
        }
        let mut conn = self.store.read().await?;
        let mut e = Errors::new();
        let learner = match draft
            .learner
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(u) => crate::awards::named_learner(&mut conn, &mut e, Some(u)).await?,
            None => match who.learner_id {
                Some(me) if matches!(who.role, Role::Learner | Role::Supervisor) => {
                    learner_store::identity_by_id(&mut conn, me).await?
                }
                _ => {
                    e.add("learner", "is required: whose credits are these?");
                    None
                }
            },
        };
        let found = match draft
            .program
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => match Context::for_program(&mut conn, code).await? {
                Some(found) => Some(found),
                None => {
                    e.add("program", format!("no program with code {code:?}"));
                    None
                }
            },
            None => {
                e.add(
                    "program",
                    "is required: which certification do the credits renew?",
                );
                None
            }
        };
        if let (Some((lid, _, _)), Some((pid, _, _))) = (&learner, &found) {
            let manager = learner_store::manager_id(&mut conn, *lid).await?;
            if !who.reach().award(*lid, manager, *pid) {
                return Err(who.forbidden("log credits for this learner"));
            }
        }
        let completed_on = match draft.completed_on.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => e.check(parse_date("completed_on", s)),
            _ => {
                e.add("completed_on", "is required: the day of the activity");
                None
            }
        };
        let hours = match draft.hours {
            Some(h) if h.is_finite() && h > 0.0 && h <= MAX_ENTRY_HOURS => Some(h),
            Some(_) => {
                e.add(
                    "hours",
                    format!("must be more than 0 and at most {MAX_ENTRY_HOURS} hours"),
                );
                None
            }
            None => {
                e.add("hours", "is required: how many hours were earned");
                None
            }
        };
        let category = e
            .check(optional_text("category", draft.category.as_deref(), 100))
            .filter(|c| !c.is_empty());
        let provider = e.check(required_text(
            "provider",
            draft.provider.as_deref().unwrap_or(""),
            200,
        ));
        let evidence = evidence_of(&mut e, upload);
        // The certification the credits count toward: the learner's current award.
        let mut current = None;
        if let (Some((lid, _, legal_name)), Some((pid, program, ctx))) = (&learner, &found) {
            let today = self.today_in(ctx.org(program)?);
            if !program.renewal_pathways.contains(&Pathway::Credits) {
                e.add(
                    "program",
                    format!(
                        "{} is not renewed by continuing-education credits",
                        program.code
                    ),
                );
            } else {
                match award_store::current(&mut conn, *lid, *pid).await? {
                    Some(a) => match crate::renewals::renewable(&a.award, program, today) {
                        // Credits build up through the cycle, before the window opens too.
                        Ok(()) => current = Some(a),
                        Err(_) if a.award.expiry().is_some_and(|x| today < a.award.window_opens(x)) => {
                            current = Some(a)
                        }
                        Err(why) => e.add("program", why.to_string()),
                    },
                    None => e.add(
                        "program",
                        format!(
                            "{legal_name} holds no current {} certification: credits renew one; earn it first",
                            program.code
                        ),
                    ),
                }
            }
            if let (Some(c), Some(a)) = (completed_on, &current) {
                if c > today {
                    e.add("completed_on", format!("{c} is in the future"));
                } else if c < a.award.issued_on {
                    e.add(
                        "completed_on",
                        format!(
                            "{c} is before this cycle began on {}: only credits earned since then count",
                            a.award.issued_on
                        ),
                    );
                }
            }
        }
        e.finish()?;
        let (
            Some((learner_id, username, legal_name)),
            Some((program_id, program, _)),
            Some(current),
            Some(completed_on),
            Some(hours),
            Some(provider),
        ) = (learner, found, current, completed_on, hours, provider)
        else {
            return Err(ServiceError::field("credit", "is incomplete"));
        };
        let auto = if who.may(Action::WriteAward(program_id)) {
            Some("logged by an approver")
        } else if approved_provider(&program, &provider) {
            Some("an approved provider")
        } else {
            None
        };
        let mut entry = Entry {
            id: 0,
            learner_id,
            username: username.to_string(),
            legal_name,
            program_id,
            program_code: program.code.to_string(),
            award_id: current.row_id,
            cert_id: current.award.id.as_str().to_owned(),
            completed_on,
            hours,
            category,
            provider,
            evidence_name: evidence.as_ref().map(|x| x.name.clone()),
            evidence_type: evidence.as_ref().map(|x| x.content_type.clone()),
            state: "pending".into(),
            submitted_by: who.name.clone(),
            submitted_at_ms: self.real_now_ms(),
            decided_by: None,
            decided_at_ms: None,
            decision_note: None,
            renewal: None,
        };
        let mut tx = self.store.begin_write().await?;
        // The award may have changed since it was read: it must still be the current one.
        let still = award_store::current(tx.conn(), learner_id, program_id).await?;
        if still.as_ref().map(|a| a.row_id) != Some(current.row_id) {
            return Err(ServiceError::Conflict(format!(
                "certificate {} changed while the credits were logged: try again",
                current.award.id
            )));
        }
        crate::external::check_evidence_allowance(
            tx.conn(),
            learner_id,
            evidence.as_ref(),
            self.now_ms(),
        )
        .await?;
        entry.id = store::insert(tx.conn(), &entry, evidence.as_ref()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "credit.logged",
            subject_type: "award",
            subject_id: &entry.cert_id,
            before: None,
            after: Some(snapshot(&view(&entry)?)?),
        })
        .await?;
        let mut renewed = None;
        if let Some(why) = auto {
            entry.state = "approved".into();
            entry.decided_by = Some(who.name.clone());
            entry.decided_at_ms = Some(entry.submitted_at_ms);
            entry.decision_note = Some(why.into());
            store::decide(tx.conn(), &entry).await?;
            renewed = self
                .renew_by_credits(&mut tx, &who.name, &current.award.id)
                .await?;
            entry.renewal = renewed.clone();
            // Decided at once: integrations hear of it as of any decision.
            let shown = view(&entry)?;
            self.emit_credit_decided(&mut tx, &entry, &shown).await?;
        }
        tx.commit().await?;
        if auto.is_none() {
            self.wake_scheduler();
        }
        Ok(CreditLogged {
            entry: view(&entry)?,
            renewed,
        })
    }

    /// Renews `cert` by the credits pathway today when it is current, open to renewal and
    /// its approved credits meet the program's requirement; answers the new certificate ID.
    async fn renew_by_credits(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        cert: &CertificateId,
    ) -> Result<Option<String>> {
        let (current, program, today, ctx) = self.load_award(tx, cert).await?;
        let Some(req) = &program.credits_required else {
            return Ok(None);
        };
        if !current.award.is_current()
            || !program.renewal_pathways.contains(&Pathway::Credits)
            || crate::renewals::renewable(&current.award, &program, today).is_err()
        {
            return Ok(None);
        }
        let row_id = current.row_id;
        let entries: Vec<Entry> = store::of_award(tx.conn(), row_id)
            .await?
            .into_iter()
            .filter(|e| e.renewal.is_none())
            .collect();
        let p = progress(req, approved_hours(&entries));
        if !p.met {
            return Ok(None);
        }
        let used: Vec<i64> = entries
            .iter()
            .filter(|e| e.state == "approved")
            .map(|e| e.id)
            .collect();
        let new = self
            .renew_current(
                tx,
                actor,
                &ctx,
                current,
                &program,
                Pathway::Credits,
                today,
                Some(serde_json::json!({"credits": used, "hours": p.earned_hours})),
                format!(
                    "credits:{}",
                    used.iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                Some(Credits {
                    hours: p.earned_hours,
                    category: None,
                }),
            )
            .await?;
        store::use_for_renewal(tx.conn(), row_id, &new.id).await?;
        Ok(Some(new.id))
    }

    /// The scheduler's credit pass: renews every current award whose approved credits
    /// already meet the requirement once its renewal window is open (credits logged
    /// before the window opened). Answers how many renewed.
    pub async fn credit_renewal_pass(&self) -> Result<usize> {
        self.refresh_test_clock().await?;
        let mut renewed = 0;
        let mut seen = std::collections::HashSet::new();
        loop {
            // Read first: most passes find nothing, and take no write lock for it.
            let ready: Vec<String> = {
                let mut conn = self.store.read().await?;
                let ctx = self.catalogue(&mut conn).await?;
                let latest = self.latest_today(&ctx);
                store::ready(&mut conn, latest, 200)
                    .await?
                    .into_iter()
                    .filter(|c| seen.insert(c.clone()))
                    .collect()
            };
            if ready.is_empty() {
                return Ok(renewed);
            }
            // Each award is read again under the write lock: another instance may have
            // renewed it meanwhile, and then nothing happens.
            let mut tx = self.store.begin_write().await?;
            for cert in ready {
                let id = crate::awards::parse_id(&cert)?;
                if self
                    .renew_by_credits(&mut tx, "system:scheduler", &id)
                    .await?
                    .is_some()
                {
                    renewed += 1;
                }
            }
            tx.commit().await?;
        }
    }

    /// Approves a pending entry (administrators and the program's managers); renews the
    /// certification when the approved credits now meet the requirement in the window.
    pub async fn approve_credit(
        &self,
        who: &Principal,
        id: i64,
        d: DecisionDraft,
    ) -> Result<CreditLogged> {
        let note = optional_text("note", d.note.as_deref(), 1000)?;
        self.decide_credit(who, id, true, Some(note).filter(|n| !n.is_empty()))
            .await
    }

    /// Rejects a pending entry; the note (required) tells the learner why.
    pub async fn reject_credit(
        &self,
        who: &Principal,
        id: i64,
        d: DecisionDraft,
    ) -> Result<CreditLogged> {
        let note = required_text("note", d.note.as_deref().unwrap_or(""), 1000)
            .map_err(|_| ServiceError::field("note", "is required: tell the learner why"))?;
        self.decide_credit(who, id, false, Some(note)).await
    }

    async fn decide_credit(
        &self,
        who: &Principal,
        id: i64,
        approve: bool,
        note: Option<String>,
    ) -> Result<CreditLogged> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let mut entry = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("credit entry", id.to_string()))?;
        who.require(Action::WriteAward(entry.program_id))?;
        if entry.state != "pending" {
            return Err(ServiceError::Conflict(format!(
                "credit entry {id} was already {} by {}",
                entry.state,
                entry.decided_by.as_deref().unwrap_or("someone")
            )));
        }
        let before = snapshot(&view(&entry)?)?;
        entry.state = if approve { "approved" } else { "rejected" }.into();
        entry.decided_by = Some(who.name.clone());
        entry.decided_at_ms = Some(self.real_now_ms());
        entry.decision_note = note;
        if !store::decide(tx.conn(), &entry).await? {
            return Err(ServiceError::Conflict(format!(
                "credit entry {id} was decided already"
            )));
        }
        let renewed = if approve {
            let cert = crate::awards::parse_id(&entry.cert_id)?;
            self.renew_by_credits(&mut tx, &who.name, &cert).await?
        } else {
            None
        };
        entry.renewal = renewed.clone();
        let shown = view(&entry)?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: if approve {
                "credit.approved"
            } else {
                "credit.rejected"
            },
            subject_type: "award",
            subject_id: &entry.cert_id,
            before: Some(before),
            after: Some(snapshot(&shown)?),
        })
        .await?;
        self.email_credit_decision(&mut tx, &entry, renewed.as_deref())
            .await?;
        self.emit_credit_decided(&mut tx, &entry, &shown).await?;
        tx.commit().await?;
        self.wake_scheduler();
        Ok(CreditLogged {
            entry: shown,
            renewed,
        })
    }

    /// Tells the webhooks an entry was decided (at once or after review), once per entry.
    async fn emit_credit_decided(
        &self,
        tx: &mut WriteTx,
        entry: &Entry,
        shown: &CreditView,
    ) -> Result<()> {
        self.emit(
            tx,
            "credit.decided",
            &entry.cert_id,
            serde_json::json!({ "credit": shown }),
            format!("credit:{}", entry.id),
        )
        .await
    }

    /// Tells the learner what became of an entry that waited for review (SPEC §3.7
    /// "credit decided"), through the outbox in the deciding transaction.
    async fn email_credit_decision(
        &self,
        tx: &mut WriteTx,
        entry: &Entry,
        renewed: Option<&str>,
    ) -> Result<()> {
        let Some(email) = learner_store::email_of(tx.conn(), entry.learner_id).await? else {
            return Ok(());
        };
        let base = self.base_url();
        // The facts of the award it is about: the renewal it completed, else the award
        // whose cycle it counts toward.
        let cert = crate::awards::parse_id(renewed.unwrap_or(&entry.cert_id))?;
        let (record, program, today, _) = self.load_award(tx, &cert).await?;
        let outcome = match (entry.state.as_str(), renewed) {
            ("approved", Some(new)) => format!(
                "They were approved, and your credits now meet the requirement: your {} certification is renewed. The new certificate: {base}/awards/{new}",
                entry.program_code
            ),
            ("approved", None) => format!(
                "They were approved. Your progress toward renewing {}: {base}/renew/{}",
                entry.program_code, entry.cert_id
            ),
            _ => format!(
                "They were not approved: {}\n\nYour renewal page: {base}/renew/{}",
                entry.decision_note.as_deref().unwrap_or("no reason given"),
                entry.cert_id
            ),
        };
        let mut values = crate::message_templates::record_values(base, &record, &program, today);
        values
            .set("credit_hours", entry.hours.to_string())
            .set("credit_provider", entry.provider.clone())
            .set(
                "credit_date",
                crate::notices::day_in_words(entry.completed_on),
            )
            .set(
                "decision",
                if entry.state == "approved" {
                    "approved"
                } else {
                    "not approved"
                },
            )
            .set(
                "decision_note",
                entry.decision_note.clone().unwrap_or_default(),
            )
            .set("outcome", outcome);
        let rendered = self
            .compose_message_in(tx, "credit.decided", Some(&entry.program_code), &values)
            .await?;
        let message = crate::notices::email_message(
            (&entry.legal_name, &email),
            Vec::new(),
            rendered,
            "credit.decided",
            Some(&entry.cert_id),
        )
        .to_string();
        recert_store::notices::enqueue(
            tx.conn(),
            self.store.backend(),
            &[recert_store::notices::NewMessage {
                channel: "email",
                event: "credit.decided",
                award: Some(entry.cert_id.clone()),
                dedupe_key: format!("credit:{}:decided:email", entry.id),
                message,
            }],
            self.real_now_ms(),
        )
        .await?;
        Ok(())
    }

    /// One award's credits: progress of its cycle and every entry. Whoever may see the
    /// award.
    pub async fn credit_standing(&self, who: &Principal, id: &str) -> Result<CreditStanding> {
        let award = self.award(who, id, None).await?;
        let mut conn = self.store.read().await?;
        let program = self
            .catalogue(&mut conn)
            .await?
            .programs
            .iter()
            .map(|(_, p)| p)
            .find(|p| p.code.as_str() == award.program)
            .cloned()
            .ok_or_else(|| ServiceError::not_found("program", award.program.clone()))?;
        standing(&mut conn, &award, &program).await
    }

    /// One API page of the entries the caller may see, oldest first.
    pub async fn credits(
        &self,
        who: &Principal,
        q: &CreditQuery,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<CreditView>> {
        let Some(filter) = credit_filter(who, q)? else {
            return Ok(crate::page::Page {
                items: Vec::new(),
                next_cursor: None,
            });
        };
        let mut conn = self.store.read().await?;
        let rows = store::page(&mut conn, &filter, page.after, page.fetch()).await?;
        page.finish(rows, |e| e.id, |e| view(&e))
    }

    /// Entries the caller may see; `state` narrows (e.g. `pending` for the queue).
    pub async fn credits_listed(
        &self,
        who: &Principal,
        q: &CreditQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<CreditView>> {
        match credit_filter(who, q)? {
            Some(filter) => self.listed(&filter, sort, window, |e| view(&e)).await,
            None => Ok(Listed::empty()),
        }
    }

    /// Every entry the caller may see matching `q`, in the order asked, as a CSV or XLSX
    /// file written while it is read.
    pub fn credits_export(
        &self,
        who: &Principal,
        q: &CreditQuery,
        sort: &Sort,
        format: Format,
    ) -> Result<Download> {
        let sheet = Sheet {
            stem: "credits".into(),
            title: "Continuing-education credits".into(),
            headers: CREDIT_HEADERS,
        };
        let filter = credit_filter(who, q)?;
        self.export(filter, sort, format, sheet, |e| {
            Ok(credit_cells(&view(&e)?))
        })
    }

    async fn readable_entry(
        &self,
        conn: &mut recert_store::Conn,
        who: &Principal,
        id: i64,
    ) -> Result<Entry> {
        let e = store::by_id(conn, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("credit entry", id.to_string()))?;
        // Out of reach answers as unknown: entry ids are not public.
        if crate::external::may_see(conn, who, e.learner_id, e.program_id).await? {
            Ok(e)
        } else {
            Err(ServiceError::not_found("credit entry", id.to_string()))
        }
    }

    pub async fn credit(&self, who: &Principal, id: i64) -> Result<CreditView> {
        let mut conn = self.store.read().await?;
        view(&self.readable_entry(&mut conn, who, id).await?)
    }

    /// The evidence file of an entry the caller may see.
    pub async fn credit_evidence(&self, who: &Principal, id: i64) -> Result<Upload> {
        let mut conn = self.store.read().await?;
        self.readable_entry(&mut conn, who, id).await?;
        store::evidence(&mut conn, id)
            .await?
            .map(Upload::from)
            .ok_or_else(|| ServiceError::not_found("evidence of credit entry", id.to_string()))
    }
}

/// Which entries a list asks for.
#[derive(Debug, Clone, Default)]
pub struct CreditQuery {
    /// pending, approved or rejected; none = all.
    pub state: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
}

fn credit_filter(who: &Principal, q: &CreditQuery) -> Result<Option<store::Filter>> {
    let state = crate::external::decision_state(q.state.as_deref())?;
    let Some(within) = who.reach().within() else {
        return Ok(None);
    };
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Some(store::Filter {
        state,
        learner: text(&q.learner),
        program: text(&q.program),
        within,
    }))
}

/// The columns of a credits export.
const CREDIT_HEADERS: &[&str] = &[
    "id",
    "username",
    "legal_name",
    "program",
    "certificate_id",
    "completed_on",
    "hours",
    "category",
    "provider",
    "state",
    "submitted_by",
    "submitted_at_utc",
    "decided_by",
    "decided_at_utc",
    "note",
    "renewal",
];

fn credit_cells(r: &CreditView) -> Vec<Cell> {
    let text = |s: &Option<String>| Cell::Text(s.clone().unwrap_or_default());
    vec![
        Cell::Int(r.id),
        r.learner.as_str().into(),
        r.legal_name.as_str().into(),
        r.program.as_str().into(),
        r.award.as_str().into(),
        Cell::Date(Some(r.completed_on)),
        Cell::Number(Some(r.hours)),
        text(&r.category),
        r.provider.as_str().into(),
        r.state.as_str().into(),
        r.submitted_by.as_str().into(),
        r.submitted_at.to_string().into(),
        text(&r.decided_by),
        Cell::Text(r.decided_at.map(|t| t.to_string()).unwrap_or_default()),
        text(&r.note),
        text(&r.renewal),
    ]
}
