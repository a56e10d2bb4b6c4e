//! External training (SPEC §3.3): a learner — or an admin or program manager for them —
//! reports an activity done elsewhere toward a program. It waits for an approver unless
//! the program says otherwise or the reporter may approve it; once approved it earns the
//! program with issue date = the activity's completion date.

use crate::auth::{Action, Role};
use crate::awards::{Context, NewAward, Replace};
use crate::exports::{Cell, Download, Format};
use crate::listing::{Listed, Sheet, Sort, Window};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::award::Credits;
use recert_domain::earning::{self, Decision, Facts, Via};
use recert_domain::error::Errors;
use recert_domain::names::{optional_text, parse_date, required_text};
use recert_domain::{Date, Timestamp};
use recert_store::audit::NewEvent;
use recert_store::external::{self as store, Evidence, Report};
use recert_store::{WriteTx, awards as award_store, learners as learner_store};
use serde::{Deserialize, Serialize};

/// Evidence files above this size are refused.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;
/// Evidence files one learner may get in 24 hours (external training and credits together):
/// plenty for a person, a brake on a script with a learner's token.
pub const EVIDENCE_FILES_PER_DAY: i64 = 20;
/// All of one learner's evidence files together, at most.
pub const EVIDENCE_BYTES_PER_LEARNER: i64 = 500 * 1024 * 1024;

/// Refuses a new evidence file for a learner over their allowance: too many files in the
/// last 24 hours (422, beside the field), or too many bytes in all (413). Read in the
/// write that stores it, so concurrent uploads cannot both slip under.
pub(crate) async fn check_evidence_allowance(
    conn: &mut recert_store::Conn,
    learner_id: i64,
    evidence: Option<&Evidence>,
    now_ms: i64,
) -> Result<()> {
    let Some(evidence) = evidence else {
        return Ok(());
    };
    let (recent, total) = store::evidence_use(conn, learner_id, now_ms - 86_400_000).await?;
    if recent >= EVIDENCE_FILES_PER_DAY {
        return Err(ServiceError::field(
            "evidence",
            format!(
                "{recent} evidence files were uploaded for this learner in the last 24 hours, \
                 the most allowed; send this one tomorrow, or without the file"
            ),
        ));
    }
    let size = i64::try_from(evidence.bytes.len()).unwrap_or(i64::MAX);
    if total.saturating_add(size) > EVIDENCE_BYTES_PER_LEARNER {
        return Err(ServiceError::TooLarge(format!(
            "this learner's evidence files already take {} MB; together they may take at most {} MB",
            (total + 1024 * 1024 - 1) / (1024 * 1024),
            EVIDENCE_BYTES_PER_LEARNER / (1024 * 1024)
        )));
    }
    Ok(())
}

/// A report of external training.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalDraft {
    /// The learner's username; omitted = the caller's own record.
    pub learner: Option<String>,
    /// The program it should count toward.
    pub program: Option<String>,
    pub title: Option<String>,
    pub provider: Option<String>,
    pub completed_on: Option<String>,
    pub hours: Option<f64>,
}

/// An uploaded evidence file, as received.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An approver's decision.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionDraft {
    /// Required when rejecting: the learner reads it.
    pub note: Option<String>,
}

/// A report as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExternalView {
    pub id: i64,
    pub learner: String,
    pub legal_name: String,
    pub program: String,
    pub title: String,
    pub provider: String,
    #[schema(value_type = String, format = Date)]
    pub completed_on: Date,
    pub hours: Option<f64>,
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
    pub decision_note: Option<String>,
    /// The certificate approval issued.
    pub award: Option<String>,
    /// What approval did, or why it earned nothing.
    pub outcome: Option<String>,
}

fn view(r: &Report) -> Result<ExternalView> {
    let ts = crate::instant;
    Ok(ExternalView {
        id: r.id,
        learner: r.username.clone(),
        legal_name: r.legal_name.clone(),
        program: r.program_code.clone(),
        title: r.title.clone(),
        provider: r.provider.clone(),
        completed_on: r.completed_on,
        hours: r.hours,
        evidence: r.evidence_name.clone(),
        state: r.state.clone(),
        submitted_by: r.submitted_by.clone(),
        submitted_at: ts(r.submitted_at_ms)?,
        decided_by: r.decided_by.clone(),
        decided_at: r.decided_at_ms.map(ts).transpose()?,
        decision_note: r.decision_note.clone(),
        award: r.award_id.clone(),
        outcome: r.outcome.clone(),
    })
}

/// Keeps a file name to its last path part and printable characters.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    if cleaned.trim().is_empty() {
        "evidence".into()
    } else {
        cleaned
    }
}

impl From<Evidence> for Upload {
    fn from(e: Evidence) -> Self {
        Upload {
            name: e.name,
            content_type: e.content_type,
            bytes: e.bytes,
        }
    }
}

/// Whether the caller may see a record about this learner and program (a report, a
/// credit entry): as they may see the learner's awards of that program.
pub(crate) async fn may_see(
    conn: &mut recert_store::Conn,
    who: &Principal,
    learner_id: i64,
    program_id: i64,
) -> Result<bool> {
    let manager = learner_store::manager_id(conn, learner_id).await?;
    Ok(who.reach().award(learner_id, manager, program_id))
}

/// A decision state to filter by (`pending`, `approved`, `rejected`; empty = any).
pub(crate) fn decision_state(state: Option<&str>) -> Result<Option<String>> {
    match state.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s @ ("pending" | "approved" | "rejected")) => Ok(Some(s.to_owned())),
        Some(other) => Err(ServiceError::field(
            "state",
            format!("unknown state {other:?}: must be pending, approved or rejected"),
        )),
        None => Ok(None),
    }
}

/// An uploaded evidence file checked for size, with a clean name and a content type;
/// an empty upload is no file. Shared by external training and credit entries.
pub(crate) fn evidence_of(e: &mut Errors, upload: Option<Upload>) -> Option<Evidence> {
    match upload {
        Some(u) if u.bytes.is_empty() => None,
        Some(u) if u.bytes.len() > MAX_EVIDENCE_BYTES => {
            e.add(
                "evidence",
                format!(
                    "the file is {} MB; at most {} MB is accepted",
                    u.bytes.len().div_ceil(1024 * 1024),
                    MAX_EVIDENCE_BYTES / (1024 * 1024)
                ),
            );
            None
        }
        Some(u) => Some(Evidence {
            name: clean_file_name(&u.name),
            content_type: if u.content_type.trim().is_empty() {
                "application/octet-stream".into()
            } else {
                u.content_type.chars().take(100).collect()
            },
            bytes: u.bytes,
        }),
        None => None,
    }
}

impl Service {
    /// Files a report; approves it at once when the reporter may approve it or the program
    /// does not ask for approval.
    pub async fn report_external(
        &self,
        who: &Principal,
        draft: ExternalDraft,
        upload: Option<Upload>,
    ) -> Result<ExternalView> {
        if who.role == Role::Auditor {
            return Err(who.forbidden("report external training"));
        }
        // Everything is checked before the write lock is taken.
        let mut conn = self.store.read().await?;
        let mut e = Errors::new();
        // Whose record: the caller's own unless they may write for others.
        let learner = match draft
            .learner
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(u) => crate::awards::named_learner(&mut conn, &mut e, Some(u)).await?,
            None => match (who.role, who.learner_id) {
                (Role::Learner | Role::Supervisor, Some(me)) => {
                    learner_store::identity_by_id(&mut conn, me).await?
                }
                _ => {
                    e.add("learner", "is required: whose training is this?");
                    None
                }
            },
        };
        if let Some((lid, _, _)) = &learner
            && matches!(who.role, Role::Learner | Role::Supervisor)
            && who.learner_id != Some(*lid)
        {
            return Err(who.forbidden("report training for someone else"));
        }
        let found = match draft
            .program
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => Context::for_program(&mut conn, code).await?,
            None => None,
        };
        drop(conn);
        let ctx = match &found {
            Some((_, _, ctx)) => ctx.clone(),
            None => Context {
                programs: Vec::new(),
                orgs: Vec::new(),
            },
        };
        let program = match draft
            .program
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => match ctx.by_code(code) {
                Some((id, p)) if p.archived_on.is_some() => {
                    // Who may not report toward it learns that first.
                    if who.role == Role::ProgramManager {
                        who.require(Action::WriteAward(id))?;
                    }
                    e.add("program", format!("program {code:?} is archived"));
                    None
                }
                Some((id, p)) => Some((id, p.clone())),
                None => {
                    e.add("program", format!("no program with code {code:?}"));
                    None
                }
            },
            None => {
                e.add(
                    "program",
                    "is required: which certification should it count toward?",
                );
                None
            }
        };
        if let Some((id, _)) = &program
            && matches!(who.role, Role::ProgramManager)
        {
            who.require(Action::WriteAward(*id))?;
        }
        let title = e.check(required_text(
            "title",
            draft.title.as_deref().unwrap_or(""),
            200,
        ));
        let provider = e.check(required_text(
            "provider",
            draft.provider.as_deref().unwrap_or(""),
            200,
        ));
        let completed_on = match draft.completed_on.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => e.check(parse_date("completed_on", s)),
            _ => {
                e.add("completed_on", "is required");
                None
            }
        };
        if let (Some(c), Some((_, p))) = (completed_on, &program)
            && c > self.today_in(ctx.org(p)?)
        {
            e.add("completed_on", format!("{c} is in the future"));
        }
        if let Some(h) = draft.hours
            && !(h.is_finite() && (0.0..=10_000.0).contains(&h))
        {
            e.add("hours", "must be a number of hours from 0 to 10000");
        }
        let evidence = evidence_of(&mut e, upload);
        e.finish()?;
        let (
            Some((learner_id, username, legal_name)),
            Some((program_id, program)),
            Some(title),
            Some(provider),
            Some(completed_on),
        ) = (learner, program, title, provider, completed_on)
        else {
            return Err(ServiceError::field("report", "is incomplete"));
        };
        let mut report = Report {
            id: crate::sessions::unguessable_id()?,
            learner_id,
            username: username.to_string(),
            legal_name,
            program_id,
            program_code: program.code.to_string(),
            title,
            provider,
            completed_on,
            hours: draft.hours,
            evidence_name: evidence.as_ref().map(|e| e.name.clone()),
            evidence_type: evidence.as_ref().map(|e| e.content_type.clone()),
            state: "pending".into(),
            submitted_by: who.name.clone(),
            submitted_at_ms: self.now_ms(),
            decided_by: None,
            decided_at_ms: None,
            decision_note: None,
            award_id: None,
            outcome: None,
        };
        let mut tx = self.store.begin_write().await?;
        check_evidence_allowance(tx.conn(), learner_id, evidence.as_ref(), self.now_ms()).await?;
        report.id = store::insert(tx.conn(), &report, evidence.as_ref()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "external_training.reported",
            subject_type: "external_training",
            subject_id: &report.id.to_string(),
            before: None,
            after: Some(snapshot(&view(&report)?)?),
        })
        .await?;
        let approve_now =
            who.may(Action::WriteAward(program_id)) || !program.external_training_approval;
        if approve_now {
            let note = if who.may(Action::WriteAward(program_id)) {
                "reported by an approver"
            } else {
                "the program does not require approval"
            };
            self.approve(&mut tx, &who.name, &ctx, &mut report, Some(note.into()))
                .await?;
        }
        tx.commit().await?;
        view(&report)
    }

    /// Marks the report approved and issues what it earns, recording the outcome.
    async fn approve(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        ctx: &Context,
        report: &mut Report,
        note: Option<String>,
    ) -> Result<()> {
        let before = snapshot(&view(report)?)?;
        let program = ctx.program(report.program_id)?;
        let current = award_store::current(tx.conn(), report.learner_id, report.program_id).await?;
        let facts = Facts {
            completed_on: report.completed_on,
            scaled: None,
            passed: None,
        };
        report.state = "approved".into();
        report.decided_by = Some(actor.to_owned());
        report.decided_at_ms = Some(self.now_ms());
        report.decision_note = note;
        match earning::decide(
            program,
            Via::External,
            facts,
            current.as_ref().map(|r| &r.award),
            false,
        ) {
            Decision::Refuse(o) => report.outcome = Some(o.reason()),
            Decision::Grant(g) => {
                let replace = match current {
                    Some(cur) if g.closes_lapsed => Replace::CloseLapsed(cur),
                    _ => Replace::Nothing,
                };
                let username = recert_domain::Username::parse("learner", &report.username)?;
                let new = NewAward {
                    learner_id: report.learner_id,
                    username,
                    legal_name: report.legal_name.clone(),
                    program_id: report.program_id,
                    issued_on: g.issued_on,
                    completed_on: Some(report.completed_on),
                    expires_on: g.expires_on,
                    score: None,
                    pass_threshold: None,
                    association: g.association,
                    source_ref: Some(format!(
                        "external_training:{} ({}, {})",
                        report.id, report.title, report.provider
                    )),
                    credits: report.hours.map(|hours| Credits {
                        hours,
                        category: None,
                    }),
                    content_version: None,
                    fields: Default::default(),
                    pathway: None,
                    cycle: None,
                };
                let extra = serde_json::json!({ "external_training": report.id });
                let issued = self
                    .issue(tx, actor, ctx, new, replace, Some(extra))
                    .await?;
                report.outcome = Some(format!("earned: certificate {} issued", issued.id));
                report.award_id = Some(issued.id);
            }
        }
        store::decide(tx.conn(), report).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor,
            action: "external_training.approved",
            subject_type: "external_training",
            subject_id: &report.id.to_string(),
            before: Some(before),
            after: Some(snapshot(&view(report)?)?),
        })
        .await?;
        Ok(())
    }

    async fn pending_for_decision(
        &self,
        tx: &mut WriteTx,
        who: &Principal,
        id: i64,
    ) -> Result<Report> {
        let r = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("external training report", id.to_string()))?;
        who.require(Action::WriteAward(r.program_id))?;
        if r.state != "pending" {
            return Err(ServiceError::Conflict(format!(
                "report {id} was already {} by {}",
                r.state,
                r.decided_by.as_deref().unwrap_or("someone")
            )));
        }
        Ok(r)
    }

    /// Approves a pending report (admins, and program managers of its program).
    pub async fn approve_external(
        &self,
        who: &Principal,
        id: i64,
        d: DecisionDraft,
    ) -> Result<ExternalView> {
        who.require_program_runner()?;
        let note = optional_text("note", d.note.as_deref(), 1000)?;
        let mut tx = self.store.begin_write().await?;
        let mut r = self.pending_for_decision(&mut tx, who, id).await?;
        let (_, _, ctx) = Context::for_program(tx.conn(), &r.program_code)
            .await?
            .ok_or_else(|| ServiceError::internal("program of the report missing"))?;
        self.approve(
            &mut tx,
            &who.name,
            &ctx,
            &mut r,
            (!note.is_empty()).then_some(note),
        )
        .await?;
        tx.commit().await?;
        view(&r)
    }

    /// Rejects a pending report; the note (required) tells the learner why.
    pub async fn reject_external(
        &self,
        who: &Principal,
        id: i64,
        d: DecisionDraft,
    ) -> Result<ExternalView> {
        who.require_program_runner()?;
        let note = required_text("note", d.note.as_deref().unwrap_or(""), 1000)
            .map_err(|_| ServiceError::field("note", "is required: tell the learner why"))?;
        let mut tx = self.store.begin_write().await?;
        let mut r = self.pending_for_decision(&mut tx, who, id).await?;
        let before = snapshot(&view(&r)?)?;
        r.state = "rejected".into();
        r.decided_by = Some(who.name.clone());
        r.decided_at_ms = Some(self.now_ms());
        r.outcome = Some(format!("rejected: {note}"));
        r.decision_note = Some(note);
        store::decide(tx.conn(), &r).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "external_training.rejected",
            subject_type: "external_training",
            subject_id: &r.id.to_string(),
            before: Some(before),
            after: Some(snapshot(&view(&r)?)?),
        })
        .await?;
        tx.commit().await?;
        view(&r)
    }

    /// Reports the caller may see: `state` narrows (e.g. `pending` for the approval queue).
    pub async fn external_reports(
        &self,
        who: &Principal,
        state: Option<&str>,
        learner: Option<&str>,
    ) -> Result<Vec<ExternalView>> {
        let Some(filter) = external_filter(who, state, learner)? else {
            return Ok(Vec::new());
        };
        let mut conn = self.store.read().await?;
        store::list(&mut conn, &filter, 500)
            .await?
            .iter()
            .map(view)
            .collect()
    }

    /// One window of the reports the caller may see, in the order asked, with the total
    /// (the approvers' queue and its history).
    pub async fn external_listed(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<ExternalView>> {
        match external_filter(who, state, None)? {
            Some(filter) => self.listed(&filter, sort, window, |r| view(&r)).await,
            None => Ok(Listed::empty()),
        }
    }

    /// Every report the caller may see in `state`, in the order asked, as a CSV or XLSX
    /// file written while it is read.
    pub fn external_export(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &Sort,
        format: Format,
    ) -> Result<Download> {
        let sheet = Sheet {
            stem: "external-training".into(),
            title: "External training".into(),
            headers: EXTERNAL_HEADERS,
        };
        let filter = external_filter(who, state, None)?;
        self.export(filter, sort, format, sheet, |r| {
            Ok(external_cells(&view(&r)?))
        })
    }

    async fn readable_report(
        &self,
        conn: &mut recert_store::Conn,
        who: &Principal,
        id: i64,
    ) -> Result<Report> {
        let r = store::by_id(conn, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("external training report", id.to_string()))?;
        // Out of reach answers as unknown: report ids are not public.
        if may_see(conn, who, r.learner_id, r.program_id).await? {
            Ok(r)
        } else {
            Err(ServiceError::not_found(
                "external training report",
                id.to_string(),
            ))
        }
    }

    pub async fn external_report(&self, who: &Principal, id: i64) -> Result<ExternalView> {
        let mut conn = self.store.read().await?;
        view(&self.readable_report(&mut conn, who, id).await?)
    }

    /// The evidence file of a report the caller may see.
    pub async fn external_evidence(&self, who: &Principal, id: i64) -> Result<Upload> {
        let mut conn = self.store.read().await?;
        self.readable_report(&mut conn, who, id).await?;
        store::evidence(&mut conn, id)
            .await?
            .map(Upload::from)
            .ok_or_else(|| ServiceError::not_found("evidence of report", id.to_string()))
    }
}

/// The store's filter for reports in `state` (of `learner`) as this caller may see them;
/// `None` when they may see none.
fn external_filter(
    who: &Principal,
    state: Option<&str>,
    learner: Option<&str>,
) -> Result<Option<store::Filter>> {
    let state = decision_state(state)?;
    let Some(within) = who.reach().within() else {
        return Ok(None);
    };
    Ok(Some(store::Filter {
        state,
        learner: learner.filter(|s| !s.is_empty()).map(str::to_owned),
        within,
    }))
}

/// The columns of an external training export.
const EXTERNAL_HEADERS: &[&str] = &[
    "id",
    "username",
    "legal_name",
    "program",
    "title",
    "provider",
    "completed_on",
    "hours",
    "state",
    "submitted_by",
    "submitted_at_utc",
    "decided_by",
    "decided_at_utc",
    "decision_note",
    "certificate_id",
    "outcome",
];

fn external_cells(r: &ExternalView) -> Vec<Cell> {
    let text = |s: &Option<String>| Cell::Text(s.clone().unwrap_or_default());
    vec![
        Cell::Int(r.id),
        r.learner.as_str().into(),
        r.legal_name.as_str().into(),
        r.program.as_str().into(),
        r.title.as_str().into(),
        r.provider.as_str().into(),
        Cell::Date(Some(r.completed_on)),
        Cell::Number(r.hours),
        r.state.as_str().into(),
        r.submitted_by.as_str().into(),
        r.submitted_at.to_string().into(),
        text(&r.decided_by),
        Cell::Text(r.decided_at.map(|t| t.to_string()).unwrap_or_default()),
        text(&r.decision_note),
        text(&r.award),
        text(&r.outcome),
    ]
}
