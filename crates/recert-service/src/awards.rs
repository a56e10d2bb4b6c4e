//! Award use cases: manual award, read (with status as of any day), edit, revoke, archive.

use crate::auth::Action;
use crate::exports::{Cell, Download, Format};
use crate::listing::{Listed, Sheet, Sort, Window};
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::award::{Credits, RevocationCategory, check_dates, check_fields, check_score};
use recert_domain::error::Errors;
use recert_domain::names::{optional_text, parse_date, required_text};
use recert_domain::{
    Association, Award, CertificateId, Date, Organization, Pathway, Program, Revocation, Status,
    status_on,
};
use recert_store::audit::NewEvent;
use recert_store::awards::{self as store, AwardRecord};
use recert_store::{Conn, learners as learner_store, programs as program_store};
use serde::{Deserialize, Serialize};

/// What a new award holds; [`Service::issue`] fills in the rest from the program.
pub(crate) struct NewAward {
    pub learner_id: i64,
    pub username: recert_domain::Username,
    pub legal_name: String,
    pub program_id: i64,
    pub issued_on: Date,
    pub completed_on: Option<Date>,
    /// None = always valid.
    pub expires_on: Option<Date>,
    pub score: Option<f64>,
    pub pass_threshold: Option<f64>,
    pub association: Association,
    pub source_ref: Option<String>,
    pub credits: Option<Credits>,
    /// None = the program's content version.
    pub content_version: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub pathway: Option<Pathway>,
    /// Where the expiry sits in the chain's cycle; `None` = a new chain's first award.
    pub cycle: Option<recert_domain::Cycle>,
}

/// What happens to the learner's current award of the program when a new one is issued.
pub(crate) enum Replace {
    Nothing,
    /// It lapsed: it stops being current and a new chain starts.
    CloseLapsed(AwardRecord),
    /// It is renewed: it becomes superseded by the new award.
    Supersede(AwardRecord),
}

/// A manual award request (SPEC §3.3 "Manual award").
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardDraft {
    pub learner: Option<String>,
    pub program: Option<String>,
    /// Defaults to today in the organization's time zone.
    pub issued_on: Option<String>,
    pub completed_on: Option<String>,
    /// Omitted (and not always valid) = issue date + the program's validity.
    pub expires_on: Option<String>,
    pub always_valid: Option<bool>,
    pub score: Option<f64>,
    pub pass_threshold: Option<f64>,
    /// Defaults to `manual`.
    pub association: Option<String>,
    pub source_ref: Option<String>,
    pub credits: Option<Credits>,
    pub content_version: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// An award edit: absent fields are unchanged, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardPatch {
    pub issued_on: Option<String>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub completed_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub expires_on: Option<Option<String>>,
    pub always_valid: Option<bool>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<f64>)]
    pub score: Option<Option<f64>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<f64>)]
    pub pass_threshold: Option<Option<f64>>,
    pub association: Option<String>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub source_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<Credits>)]
    pub credits: Option<Option<Credits>>,
    #[serde(default, deserialize_with = "recert_domain::names::present")]
    #[schema(value_type = Option<String>)]
    pub content_version: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Why the record is being corrected; kept in the audit trail.
    pub reason: Option<String>,
}

/// A revocation request: the reason is required; the category is what verifiers see.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeDraft {
    pub reason: Option<String>,
    /// Defaults to `other`.
    pub category: Option<String>,
}

/// An unassignment (archive) request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchiveDraft {
    pub reason: Option<String>,
}

/// The public part of a revocation plus the recorded reason.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RevocationView {
    #[schema(value_type = String, format = Date)]
    pub on: Date,
    pub category: RevocationCategory,
    pub reason: String,
}

/// An award as the API shows it (SPEC §9).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AwardView {
    /// The certificate ID.
    pub id: String,
    pub learner: String,
    pub legal_name: String,
    pub program: String,
    pub program_name: String,
    pub organization: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub completed_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    pub always_valid: bool,
    pub score: Option<f64>,
    pub pass_threshold: Option<f64>,
    pub association: Association,
    pub source_ref: Option<String>,
    pub status: Status,
    /// The day `status` was judged on.
    #[schema(value_type = String, format = Date)]
    pub status_as_of: Date,
    /// Days until expiry as of `status_as_of` (negative once expired); null if it never expires.
    pub days_left: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub renewal_window_opens_on: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub grace_ends_on: Option<Date>,
    pub grace_extension_days: u32,
    pub predecessor: Option<String>,
    pub superseded_by: Option<String>,
    pub pathway: Option<Pathway>,
    pub credits: Option<Credits>,
    pub content_version: Option<String>,
    #[schema(value_type = Object)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub revocation: Option<RevocationView>,
    #[schema(value_type = Option<String>, format = Date)]
    pub archived_on: Option<Date>,
    pub verify_url: String,
    /// Whether the award's public share page is on (its holder may turn it off).
    pub sharing: bool,
}

/// A program's current holders by status today.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HolderCounts {
    pub program: String,
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    /// Learners holding a current award of the program, whatever its status.
    pub holders: i64,
    /// Of those, the ones that count as compliant (active and expiring, and grace when the
    /// program says so).
    pub compliant: i64,
    pub active: i64,
    pub expiring: i64,
    pub grace: i64,
    /// Lapsed and not renewed: still the learner's latest award, no longer valid.
    pub lapsed: i64,
    pub not_yet_valid: i64,
}

/// The columns of an awards export.
const AWARD_HEADERS: &[&str] = &[
    "certificate_id",
    "username",
    "legal_name",
    "program",
    "issued_on",
    "expires_on",
    "days_left",
    "status",
    "status_as_of",
    "completed_on",
    "always_valid",
    "association",
    "source_ref",
    "predecessor",
    "organization",
];

/// An award as a row of an export.
fn award_cells(a: &AwardView) -> Vec<Cell> {
    vec![
        a.id.as_str().into(),
        a.learner.as_str().into(),
        a.legal_name.as_str().into(),
        a.program.as_str().into(),
        Cell::Date(Some(a.issued_on)),
        Cell::Date(a.expires_on),
        match a.days_left {
            Some(d) if !a.status.is_ended() => Cell::Int(d),
            _ => Cell::Text(String::new()),
        },
        a.status.label().into(),
        Cell::Date(Some(a.status_as_of)),
        Cell::Date(a.completed_on),
        Cell::from(if a.always_valid { "yes" } else { "no" }),
        a.association.as_str().into(),
        a.source_ref.clone().unwrap_or_default().into(),
        a.predecessor.clone().unwrap_or_default().into(),
        a.organization.as_str().into(),
    ]
}

/// Listing filters (SPEC §9), as received.
#[derive(Debug, Clone, Default)]
pub struct AwardQuery {
    /// A learner's name or username (part of it, any case) or a certificate ID.
    pub text: Option<String>,
    pub learner: Option<String>,
    pub program: Option<String>,
    pub group: Option<String>,
    pub status: Option<String>,
    pub issued_from: Option<String>,
    pub issued_to: Option<String>,
    pub expires_from: Option<String>,
    pub expires_to: Option<String>,
    pub as_of: Option<String>,
}

fn opt_date(e: &mut Errors, field: &str, raw: Option<&str>) -> Option<Date> {
    raw.filter(|s| !s.trim().is_empty())
        .and_then(|s| e.check(parse_date(field, s)))
}

pub(crate) fn new_id() -> Result<CertificateId> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(ServiceError::internal)?;
    Ok(CertificateId::from_random(bytes))
}

/// Parses a certificate ID from a path, as a 404-style problem when mistyped.
pub fn parse_id(raw: &str) -> Result<CertificateId> {
    CertificateId::parse(raw).map_err(ServiceError::from)
}

#[derive(Clone)]
pub(crate) struct Context {
    pub(crate) programs: Vec<(i64, Program)>,
    pub(crate) orgs: Vec<(i64, Organization)>,
}

impl Context {
    pub(crate) async fn load(conn: &mut Conn) -> Result<Self> {
        Ok(Self {
            programs: program_store::all(conn).await?,
            orgs: recert_store::organizations::list(conn).await?,
        })
    }

    /// One program (by code) with its organization: all a write about that program needs,
    /// in one query instead of the whole catalogue.
    pub(crate) async fn for_program(
        conn: &mut Conn,
        code: &str,
    ) -> Result<Option<(i64, Program, Self)>> {
        Ok(program_store::with_organization(conn, code)
            .await?
            .map(|(id, p, org)| {
                let ctx = Self {
                    programs: vec![(id, p.clone())],
                    orgs: vec![(0, org)],
                };
                (id, p, ctx)
            }))
    }

    /// The programs these learning items (codes, activity IRIs, refresher items) earn or
    /// renew, with their organizations and the default one (a completion no program takes
    /// is stored under its day there).
    pub(crate) async fn for_items(conn: &mut Conn, idents: &[String]) -> Result<Self> {
        let mut ctx = Self {
            programs: Vec::new(),
            orgs: Vec::new(),
        };
        for (id, p, org) in program_store::for_items(conn, idents).await? {
            if !ctx.orgs.iter().any(|(_, o)| o.code == org.code) {
                ctx.orgs.push((0, org));
            }
            ctx.programs.push((id, p));
        }
        if ctx.orgs.is_empty() {
            ctx.orgs = recert_store::organizations::list(conn).await?;
        }
        Ok(ctx)
    }

    /// The program with this code and its row id.
    pub(crate) fn by_code(&self, code: &str) -> Option<(i64, &Program)> {
        self.programs
            .iter()
            .find(|(_, p)| p.code.as_str() == code)
            .map(|(id, p)| (*id, p))
    }

    pub(crate) fn program(&self, id: i64) -> Result<&Program> {
        self.programs
            .iter()
            .find(|(pid, _)| *pid == id)
            .map(|(_, p)| p)
            .ok_or_else(|| ServiceError::internal(format!("program {id} missing")))
    }

    pub(crate) fn org(&self, p: &Program) -> Result<&Organization> {
        self.orgs
            .iter()
            .find(|(_, o)| o.code == p.organization.as_str())
            .map(|(_, o)| o)
            .ok_or_else(|| {
                ServiceError::internal(format!("organization {} missing", p.organization))
            })
    }
}

impl Service {
    pub(crate) fn view(
        &self,
        ctx: &Context,
        r: &AwardRecord,
        as_of: Option<Date>,
    ) -> Result<AwardView> {
        let program = ctx.program(r.program_id)?;
        let day = match as_of {
            Some(d) => d,
            None => self.today_in(ctx.org(program)?),
        };
        let a = &r.award;
        let expiry = a.expiry();
        Ok(AwardView {
            id: a.id.to_string(),
            learner: a.learner.to_string(),
            legal_name: r.legal_name.clone(),
            program: a.program.to_string(),
            program_name: program.name.clone(),
            organization: program.organization.to_string(),
            issued_on: a.issued_on,
            completed_on: a.completed_on,
            expires_on: expiry,
            always_valid: a.always_valid,
            score: a.score,
            pass_threshold: a.pass_threshold,
            association: a.association,
            source_ref: a.source_ref.clone(),
            status: status_on(a, program, day),
            status_as_of: day,
            days_left: expiry.map(|x| recert_domain::dates::days_between(day, x)),
            renewal_window_opens_on: expiry.map(|x| a.window_opens(x)),
            grace_ends_on: expiry.map(|x| a.grace_ends(x)),
            grace_extension_days: a.grace_extension_days,
            predecessor: a.predecessor.as_ref().map(ToString::to_string),
            superseded_by: a.superseded.as_ref().map(|s| s.0.to_string()),
            pathway: a.pathway,
            credits: a.credits.clone(),
            content_version: a.content_version.clone(),
            fields: a.fields.clone(),
            revocation: a.revoked.as_ref().map(|r| RevocationView {
                on: r.on,
                category: r.category,
                reason: r.reason.clone(),
            }),
            archived_on: a.archived_on,
            verify_url: self.verify_url(&a.id),
            sharing: !r.sharing_off,
        })
    }

    pub(crate) async fn award_views(
        &self,
        conn: &mut Conn,
        records: Vec<AwardRecord>,
        as_of: Option<Date>,
    ) -> Result<Vec<AwardView>> {
        let ctx = self.catalogue(conn).await?;
        records.iter().map(|r| self.view(&ctx, r, as_of)).collect()
    }

    async fn view_one(
        &self,
        conn: &mut Conn,
        r: &AwardRecord,
        as_of: Option<Date>,
    ) -> Result<AwardView> {
        let ctx = self.catalogue(conn).await?;
        self.view(&ctx, r, as_of)
    }

    /// Awards a program to a learner by hand.
    pub async fn create_award(&self, who: &Principal, draft: AwardDraft) -> Result<AwardView> {
        who.require_program_runner()?;
        // The input, the learner and the program are checked before the write lock is
        // taken; only who holds what is read under it.
        let mut conn = self.store.read().await?;
        let mut e = Errors::new();
        let learner = named_learner(&mut conn, &mut e, draft.learner.as_deref()).await?;
        let found = match draft.program.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() => match program_store::with_organization(&mut conn, c).await?
            {
                Some(found) if found.1.archived_on.is_some() => {
                    // Who may not award it learns that first, not that it is archived.
                    who.require(Action::WriteAward(found.0))?;
                    e.add(
                        "program",
                        format!("program {c:?} is archived and cannot be awarded"),
                    );
                    None
                }
                Some(found) => Some(found),
                None => {
                    e.add("program", format!("no program with code {c:?}"));
                    None
                }
            },
            _ => {
                e.add("program", "is required");
                None
            }
        };
        if let Some((id, _, _)) = &found {
            who.require(Action::WriteAward(*id))?;
        }
        // Only this program and its organization are needed, not every program.
        let (program, ctx) = match found {
            Some((id, p, org)) => (
                Some((id, p.clone())),
                Context {
                    programs: vec![(id, p)],
                    orgs: vec![(0, org)],
                },
            ),
            None => (
                None,
                Context {
                    programs: Vec::new(),
                    orgs: Vec::new(),
                },
            ),
        };
        // Without a program the request is refused below; UTC only fills in defaults meanwhile.
        let today = match &program {
            Some((_, p)) => self.today_in(ctx.org(p)?),
            None => recert_domain::dates::day_in_zone(self.now(), &jiff::tz::TimeZone::UTC),
        };
        let issued_on = opt_date(&mut e, "issued_on", draft.issued_on.as_deref()).unwrap_or(today);
        let completed_on = opt_date(&mut e, "completed_on", draft.completed_on.as_deref());
        let explicit_expiry = opt_date(&mut e, "expires_on", draft.expires_on.as_deref());
        let association = match draft.association.as_deref() {
            Some(a) => e
                .check(Association::parse("association", a))
                .unwrap_or(Association::Manual),
            None => Association::Manual,
        };
        e.check(check_score(draft.score, draft.pass_threshold));
        if let Some(c) = &draft.credits
            && !(c.hours.is_finite() && c.hours >= 0.0)
        {
            e.add("credits.hours", "must be a number of hours, 0 or more");
        }
        let source_ref = e
            .check(optional_text(
                "source_ref",
                draft.source_ref.as_deref(),
                500,
            ))
            .filter(|s| !s.is_empty());
        let fields = draft.fields.unwrap_or_default();
        if let Some((_, p)) = &program {
            e.check(check_fields(p, &fields, true));
        }
        let always_valid_asked = draft.always_valid.unwrap_or(false);
        if always_valid_asked && explicit_expiry.is_some() {
            e.add("expires_on", "must be omitted when always_valid is true");
        }
        e.finish()?;
        let (Some((learner_id, username, legal_name)), Some((program_id, program))) =
            (learner, program)
        else {
            return Err(ServiceError::field("award", "is incomplete"));
        };
        let computed = program.validity.expiry_from(issued_on);
        let expires_on = if always_valid_asked {
            None
        } else {
            explicit_expiry.or(computed)
        };
        check_dates(issued_on, completed_on, expires_on)?;
        let mut tx = self.store.write_on(conn).await?;

        // At most one current award per program: a lapsed one closes and a new chain starts;
        // anything still valid or renewable must be renewed, revoked or unassigned first.
        let replace = match store::current(tx.conn(), learner_id, program_id).await? {
            Some(current) => {
                let status = status_on(&current.award, &program, today);
                if status != Status::Lapsed {
                    return Err(ServiceError::Conflict(format!(
                        "{} already holds {} as certificate {} (status {}); renew, revoke or unassign it first",
                        username,
                        program.code,
                        current.award.id,
                        status.as_str()
                    )));
                }
                Replace::CloseLapsed(current)
            }
            None => Replace::Nothing,
        };
        let new = NewAward {
            learner_id,
            username,
            legal_name,
            program_id,
            issued_on,
            completed_on,
            expires_on,
            score: draft.score,
            pass_threshold: draft.pass_threshold,
            association,
            source_ref,
            credits: draft.credits,
            content_version: draft.content_version.filter(|s| !s.trim().is_empty()),
            fields,
            pathway: None,
            cycle: None,
        };
        let view = self
            .issue(&mut tx, &who.name, &ctx, new, replace, None)
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Stores a new current award and its audit event, first closing (lapsed) or
    /// superseding (renewed) the learner's current one as `replace` says. Every way of
    /// earning — by hand, completion, external training, group, backfill — ends here.
    pub(crate) async fn issue(
        &self,
        tx: &mut recert_store::WriteTx,
        actor: &str,
        ctx: &Context,
        new: NewAward,
        replace: Replace,
        extra: Option<serde_json::Value>,
    ) -> Result<AwardView> {
        let program = ctx.program(new.program_id)?;
        let id = new_id()?;
        let now = self.now_ms();
        let mut predecessor = None;
        let ended = match replace {
            Replace::Nothing => None,
            Replace::CloseLapsed(current) => {
                // Recorded on the award itself, so no later edit of it (or of its
                // successor) can make it current again.
                let mut after = current.award.clone();
                after.closed_on = Some(self.today_in(ctx.org(program)?));
                Some((current, after, "award.closed"))
            }
            Replace::Supersede(current) => {
                let mut after = current.award.clone();
                after.superseded = Some((id.clone(), new.issued_on));
                predecessor = Some(current.award.id.clone());
                Some((current, after, "award.superseded"))
            }
        };
        if let Some((current, after, action)) = ended {
            self.record_change(tx, actor, ctx, &current, &after, action, None)
                .await?;
        }
        let renewal = predecessor.is_some();
        let award = Award {
            id,
            learner: new.username,
            program: program.code.clone(),
            issued_on: new.issued_on,
            completed_on: new.completed_on,
            always_valid: new.expires_on.is_none(),
            expires_on: new.expires_on,
            score: new.score,
            pass_threshold: new.pass_threshold,
            association: new.association,
            source_ref: new.source_ref,
            credits: new.credits,
            content_version: new
                .content_version
                .or_else(|| program.content_version.clone()),
            fields: new.fields,
            predecessor,
            superseded: None,
            pathway: new.pathway,
            renewal_window_days: program.renewal_window_days,
            grace_days: program.grace_days,
            grace_extension_days: 0,
            revoked: None,
            archived_on: None,
            closed_on: None,
            cycle: new.cycle.or_else(|| {
                recert_domain::renewal::first_cycle(program.validity, new.issued_on, new.expires_on)
            }),
        };
        let row_id = store::insert(tx.conn(), &award, new.learner_id, new.program_id, now).await?;
        let record = AwardRecord {
            row_id,
            learner_id: new.learner_id,
            program_id: new.program_id,
            legal_name: new.legal_name,
            award,
            created_at_ms: now,
            updated_at_ms: now,
            sharing_off: false,
        };
        let view = self.view(ctx, &record, None)?;
        let after = with_change(snapshot(&view)?, extra);
        tx.audit(NewEvent {
            at: self.now(),
            actor,
            action: if renewal {
                "award.renewed"
            } else {
                "award.created"
            },
            subject_type: "award",
            subject_id: record.award.id.as_str(),
            before: None,
            after: Some(after),
        })
        .await?;
        let event = if renewal {
            "award.renewed"
        } else {
            "award.issued"
        };
        self.emit(
            tx,
            event,
            &view.id,
            serde_json::json!({}),
            format!("{event}:{}", view.id),
        )
        .await?;
        self.mail_award_event(tx, event, &view, record.learner_id)
            .await?;
        Ok(view)
    }

    /// One award; its status as of `as_of` (default today).
    pub async fn award(&self, who: &Principal, id: &str, as_of: Option<&str>) -> Result<AwardView> {
        let as_of = as_of
            .filter(|s| !s.is_empty())
            .map(|s| parse_date("as_of", s))
            .transpose()?;
        let id = parse_id(id)?;
        let mut conn = self.store.read().await?;
        let r = store::by_id(&mut conn, &id)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", id.as_str()))?;
        require_award_reach(&mut conn, who, &r).await?;
        self.view_one(&mut conn, &r, as_of).await
    }

    pub async fn awards(
        &self,
        who: &Principal,
        q: AwardQuery,
        page: PageRequest,
    ) -> Result<Page<AwardView>> {
        let mut conn = self.store.read().await?;
        let Some((filter, day, ctx)) = self.award_filter(&mut conn, who, q).await? else {
            return Ok(Page::empty());
        };
        let rows = store::list(&mut conn, &filter, day, page.after, page.fetch()).await?;
        page.finish(rows, |r| r.row_id, |r| self.view(&ctx, &r, Some(day)))
    }

    /// One window of the awards matching, in the order asked, with the total.
    pub async fn awards_listed(
        &self,
        who: &Principal,
        q: AwardQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<AwardView>> {
        let mut conn = self.store.read().await?;
        let found = self.award_filter(&mut conn, who, q).await?;
        drop(conn);
        let Some((filter, day, ctx)) = found else {
            return Ok(Listed::empty());
        };
        let on = store::On { filter, day };
        self.listed(&on, sort, window, |r| self.view(&ctx, &r, Some(day)))
            .await
    }

    /// Every award matching, in the order asked, as a CSV or XLSX file written while it
    /// is read. `title` names the sheet, `stem` the file.
    pub async fn awards_export(
        &self,
        who: &Principal,
        q: AwardQuery,
        sort: &Sort,
        format: Format,
        title: &str,
        stem: &str,
    ) -> Result<Download> {
        let mut conn = self.store.read().await?;
        let found = self.award_filter(&mut conn, who, q).await?;
        drop(conn);
        let sheet = Sheet {
            stem: stem.to_owned(),
            title: title.to_owned(),
            headers: AWARD_HEADERS,
        };
        let service = self.clone();
        let (on, day, ctx) = match found {
            Some((filter, day, ctx)) => (Some(store::On { filter, day }), Some(day), Some(ctx)),
            None => (None, None, None),
        };
        self.export(on, sort, format, sheet, move |r| {
            let ctx = ctx
                .as_deref()
                .ok_or_else(|| ServiceError::internal("an award without its catalogue"))?;
            Ok(award_cells(&service.view(ctx, &r, day)?))
        })
    }

    /// How many awards match (the total beside a page of the list).
    pub async fn awards_total(&self, who: &Principal, q: AwardQuery) -> Result<i64> {
        let mut conn = self.store.read().await?;
        let Some((filter, day, _)) = self.award_filter(&mut conn, who, q).await? else {
            return Ok(0);
        };
        Ok(recert_store::listing::count(&mut conn, &store::On { filter, day }).await?)
    }

    /// The store's filter for an award query as this caller may see it, the day statuses
    /// are judged on, and the catalogue; `None` when they may see no award.
    async fn award_filter(
        &self,
        conn: &mut Conn,
        who: &Principal,
        q: AwardQuery,
    ) -> Result<Option<(store::Filter, Date, std::sync::Arc<Context>)>> {
        let Some(within) = who.reach().within() else {
            return Ok(None);
        };
        let mut e = Errors::new();
        let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => match Status::parse(s) {
                Some(st) => Some(st),
                None => {
                    e.add(
                        "status",
                        format!("unknown status {s:?}: must be one of {}", Status::names()),
                    );
                    None
                }
            },
            None => None,
        };
        let as_of = opt_date(&mut e, "as_of", q.as_of.as_deref());
        // A certificate ID typed without hyphens or in lower case still finds its award.
        let text = q
            .text
            .filter(|s| !s.trim().is_empty())
            .map(|t| CertificateId::parse(&t).map(|c| c.to_string()).unwrap_or(t));
        let mut filter = store::Filter {
            text,
            learner: q.learner.filter(|s| !s.is_empty()),
            program: q.program.filter(|s| !s.is_empty()),
            group: q.group.filter(|s| !s.is_empty()),
            status,
            issued_from: opt_date(&mut e, "issued_from", q.issued_from.as_deref()),
            issued_to: opt_date(&mut e, "issued_to", q.issued_to.as_deref()),
            expires_from: opt_date(&mut e, "expires_from", q.expires_from.as_deref()),
            expires_to: opt_date(&mut e, "expires_to", q.expires_to.as_deref()),
            within,
            current_only: false,
        };
        e.finish()?;
        let ctx = self.catalogue(conn).await?;
        // Status filters are judged on one day: `as_of`, else today in the zone of the
        // filtered program's organization (or the first organization).
        let day = match as_of {
            Some(d) => d,
            None => {
                let org = match filter.program.as_deref().and_then(|c| ctx.by_code(c)) {
                    Some((_, p)) => ctx.org(p)?.clone(),
                    None => ctx
                        .orgs
                        .first()
                        .map(|(_, o)| o.clone())
                        .ok_or_else(|| ServiceError::internal("no organization"))?,
                };
                self.today_in(&org)
            }
        };
        // On today or later (in the zone furthest ahead, where endings are recorded first),
        // only a current award can be active, expiring, in grace or not yet valid.
        let latest_today = ctx.orgs.iter().map(|(_, o)| self.today_in(o)).max();
        filter.current_only = matches!(
            status,
            Some(Status::Active | Status::Expiring | Status::Grace | Status::NotYetValid)
        ) && latest_today.is_some_and(|t| day >= t);
        Ok(Some((filter, day, ctx)))
    }

    /// How many learners hold the program now, by status (SPEC §3.2), judged today in the
    /// program's organization's zone.
    pub async fn program_holders(&self, who: &Principal, code: &str) -> Result<HolderCounts> {
        who.require(Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        let (id, program, ctx) = Context::for_program(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        let today = self.today_in(ctx.org(&program)?);
        let counts = store::holder_counts(&mut conn, id, today).await?;
        let n = |s: Status| counts.iter().find(|(x, _)| *x == s).map_or(0, |(_, n)| *n);
        let compliant = n(Status::Active)
            + n(Status::Expiring)
            + if program.grace_counts_as_compliant {
                n(Status::Grace)
            } else {
                0
            };
        Ok(HolderCounts {
            program: program.code.to_string(),
            as_of: today,
            holders: counts.iter().map(|(_, n)| n).sum(),
            compliant,
            active: n(Status::Active),
            expiring: n(Status::Expiring),
            grace: n(Status::Grace),
            lapsed: n(Status::Lapsed),
            not_yet_valid: n(Status::NotYetValid),
        })
    }

    /// The award to change, read under the write lock, with its program and its
    /// organization (only those: not the whole catalogue) and today in that zone.
    pub(crate) async fn load_for_write(
        &self,
        tx: &mut recert_store::WriteTx,
        who: &Principal,
        id: &str,
    ) -> Result<(AwardRecord, Program, Date, Context)> {
        let loaded = self.load_award(tx, &parse_id(id)?).await?;
        who.require(Action::WriteAward(loaded.0.program_id))?;
        Ok(loaded)
    }

    /// An award with its program, the program's "today" and the context a write needs,
    /// read inside the write; who may write is the caller's to check.
    pub(crate) async fn load_award(
        &self,
        tx: &mut recert_store::WriteTx,
        id: &CertificateId,
    ) -> Result<(AwardRecord, Program, Date, Context)> {
        let r = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", id.as_str()))?;
        let (_, program, ctx) = Context::for_program(tx.conn(), r.award.program.as_str())
            .await?
            .ok_or_else(|| ServiceError::internal(format!("program {} missing", r.program_id)))?;
        let today = self.today_in(ctx.org(&program)?);
        Ok((r, program, today, ctx))
    }

    /// Writes a changed award and its audit event (before and after as the API shows
    /// them, with what prompted the change); answers the award as it is now.
    #[allow(clippy::too_many_arguments)] // one call shape for every change of an award
    pub(crate) async fn record_change(
        &self,
        tx: &mut recert_store::WriteTx,
        actor: &str,
        ctx: &Context,
        before: &AwardRecord,
        after: &Award,
        action: &str,
        extra: Option<serde_json::Value>,
    ) -> Result<AwardView> {
        store::update(tx.conn(), before.row_id, after, self.now_ms()).await?;
        let after_rec = AwardRecord {
            award: after.clone(),
            ..before.clone()
        };
        let after_view = self.view(ctx, &after_rec, None)?;
        tx.audit(NewEvent {
            at: self.now(),
            actor,
            action,
            subject_type: "award",
            subject_id: after.id.as_str(),
            before: Some(snapshot(&self.view(ctx, before, None)?)?),
            after: Some(with_change(snapshot(&after_view)?, extra)),
        })
        .await?;
        Ok(after_view)
    }

    #[allow(clippy::too_many_arguments)] // one call shape for edit, revoke, unassign
    pub(crate) async fn save(
        &self,
        mut tx: recert_store::WriteTx,
        who: &Principal,
        action: &str,
        ctx: &Context,
        before: &AwardRecord,
        after: &Award,
        extra: Option<serde_json::Value>,
    ) -> Result<AwardView> {
        let view = self
            .record_change(&mut tx, &who.name, ctx, before, after, action, extra)
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Edits an award's record; before/after go to the audit trail.
    pub async fn update_award(
        &self,
        who: &Principal,
        id: &str,
        patch: AwardPatch,
    ) -> Result<AwardView> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let (r, program, _, ctx) = self.load_for_write(&mut tx, who, id).await?;
        let mut a = r.award.clone();
        let mut e = Errors::new();
        if let Some(d) = patch.issued_on.as_deref()
            && let Some(d) = e.check(parse_date("issued_on", d))
        {
            a.issued_on = d;
        }
        if let Some(c) = patch.completed_on {
            a.completed_on = opt_date(&mut e, "completed_on", c.as_deref());
        }
        match (patch.always_valid, patch.expires_on) {
            (Some(true), Some(Some(_))) => {
                e.add("expires_on", "must be omitted when always_valid is true")
            }
            (Some(true), _) => {
                a.always_valid = true;
                a.expires_on = None;
            }
            (av, Some(x)) => {
                a.expires_on = opt_date(&mut e, "expires_on", x.as_deref());
                a.always_valid = av.unwrap_or(false) || a.expires_on.is_none();
                if av == Some(false) && a.expires_on.is_none() {
                    e.add("expires_on", "is required when always_valid is false");
                }
            }
            (Some(false), None) => {
                if a.always_valid {
                    a.expires_on = program.validity.expiry_from(a.issued_on);
                    if a.expires_on.is_none() {
                        e.add("expires_on", "is required: the program never expires, so give the date this award expires");
                    }
                }
                a.always_valid = a.expires_on.is_none();
            }
            (None, None) => {}
        }
        if let Some(s) = patch.score {
            a.score = s;
        }
        if let Some(t) = patch.pass_threshold {
            a.pass_threshold = t;
        }
        e.check(check_score(a.score, a.pass_threshold));
        if let Some(x) = patch.association.as_deref()
            && let Some(assoc) = e.check(Association::parse("association", x))
        {
            a.association = assoc;
        }
        if let Some(s) = patch.source_ref {
            a.source_ref = s.filter(|s| !s.trim().is_empty());
        }
        if let Some(c) = patch.credits {
            a.credits = c;
        }
        if let Some(v) = patch.content_version {
            a.content_version = v.filter(|s| !s.trim().is_empty());
        }
        if let Some(f) = patch.fields {
            e.check(check_fields(&program, &f, false));
            a.fields = f;
        }
        let reason = e.check(optional_text("reason", patch.reason.as_deref(), 1000));
        e.finish()?;
        check_dates(a.issued_on, a.completed_on, a.expiry())?;
        if a.expiry() != r.award.expiry() {
            // A corrected expiry restarts the chain's count from it (SPEC §3.4).
            a.cycle =
                recert_domain::renewal::first_cycle(program.validity, a.issued_on, a.expiry());
        }
        if a == r.award {
            return self.view(&ctx, &r, None);
        }
        let extra = reason
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::json!({ "reason": s }));
        self.save(tx, who, "award.updated", &ctx, &r, &a, extra)
            .await
    }

    /// Revokes an award: a reason is required; verification then says revoked.
    pub async fn revoke_award(
        &self,
        who: &Principal,
        id: &str,
        draft: RevokeDraft,
    ) -> Result<AwardView> {
        who.require_program_runner()?;
        let mut e = Errors::new();
        let reason = match draft.reason.as_deref() {
            Some(r) => e.check(required_text("reason", r, 1000)),
            None => {
                e.add("reason", "is required: say why the certificate is revoked");
                None
            }
        };
        let category = match draft.category.as_deref() {
            Some(c) => e.check(RevocationCategory::parse("category", c)),
            None => Some(RevocationCategory::Other),
        };
        e.finish()?;
        let (Some(reason), Some(category)) = (reason, category) else {
            return Err(ServiceError::field("reason", "is required"));
        };
        let mut tx = self.store.begin_write().await?;
        let (r, _, today, ctx) = self.load_for_write(&mut tx, who, id).await?;
        if r.award.revoked.is_some() {
            return Err(ServiceError::Conflict(format!(
                "certificate {} is already revoked",
                r.award.id
            )));
        }
        let mut a = r.award.clone();
        a.revoked = Some(Revocation {
            at: self.now(),
            on: today,
            reason,
            category,
        });
        let cert = r.award.id.as_str().to_owned();
        self.emit(
            &mut tx,
            "award.revoked",
            &cert,
            serde_json::json!({}),
            format!("award.revoked:{cert}"),
        )
        .await?;
        let view = self
            .record_change(&mut tx, &who.name, &ctx, &r, &a, "award.revoked", None)
            .await?;
        self.mail_award_event(&mut tx, "award.revoked", &view, r.learner_id)
            .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Unassigns an award: kept for history and audit, no longer current.
    pub async fn archive_award(
        &self,
        who: &Principal,
        id: &str,
        draft: ArchiveDraft,
    ) -> Result<AwardView> {
        who.require_program_runner()?;
        let reason = optional_text("reason", draft.reason.as_deref(), 1000)?;
        let mut tx = self.store.begin_write().await?;
        let (r, _, today, ctx) = self.load_for_write(&mut tx, who, id).await?;
        if r.award.archived_on.is_some() {
            return Err(ServiceError::Conflict(format!(
                "certificate {} is already archived",
                r.award.id
            )));
        }
        let mut a = r.award.clone();
        a.archived_on = Some(today);
        let extra = (!reason.is_empty()).then(|| serde_json::json!({ "reason": reason }));
        self.save(tx, who, "award.archived", &ctx, &r, &a, extra)
            .await
    }

    /// The audit events about one award, oldest first.
    pub async fn award_history(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<Vec<recert_store::audit::Event>> {
        let id = parse_id(id)?;
        let mut conn = self.store.read().await?;
        let r = store::by_id(&mut conn, &id)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", id.as_str()))?;
        require_award_reach(&mut conn, who, &r).await?;
        Ok(recert_store::audit::list(&mut conn, Some(("award", id.as_str())), 0, 10_000).await?)
    }
}

/// An audit snapshot with what prompted the change (a reason, the completion or group that
/// earned it…) under `_change`.
fn with_change(
    mut after: serde_json::Value,
    extra: Option<serde_json::Value>,
) -> serde_json::Value {
    if let (Some(extra), Some(obj)) = (extra, after.as_object_mut()) {
        obj.insert("_change".into(), extra);
    }
    after
}

/// The learner a request names by username (`learner`): their row id, username and legal
/// name, or a message on the `learner` field when absent or unknown.
pub(crate) async fn named_learner(
    conn: &mut Conn,
    e: &mut Errors,
    raw: Option<&str>,
) -> Result<Option<(i64, recert_domain::Username, String)>> {
    let mut known = crate::completions::Identities::new();
    if let Some(u) = raw.map(str::trim).filter(|s| !s.is_empty())
        && let Some(found) = learner_store::identity(conn, u).await?
    {
        known.insert(u.to_owned(), found);
    }
    Ok(known_learner(&known, e, raw))
}

/// [`named_learner`] among learners read beforehand (a batch reads them in one query).
pub(crate) fn known_learner(
    known: &crate::completions::Identities,
    e: &mut Errors,
    raw: Option<&str>,
) -> Option<(i64, recert_domain::Username, String)> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(u) => {
            let found = known.get(u).cloned();
            if found.is_none() {
                e.add("learner", format!("no learner with username {u:?}"));
            }
            found
        }
        None => {
            e.add("learner", "is required");
            None
        }
    }
}

/// Refuses unless the award is one the caller may read.
pub(crate) async fn require_award_reach(
    conn: &mut Conn,
    who: &Principal,
    r: &AwardRecord,
) -> Result<()> {
    let reach = who.reach();
    let manager_id = match reach {
        crate::auth::Reach::Team(_) => learner_store::manager_id(conn, r.learner_id).await?,
        _ => None,
    };
    if reach.award(r.learner_id, manager_id, r.program_id) {
        Ok(())
    } else {
        Err(who.forbidden("see this award"))
    }
}
