//! Completion intake (SPEC §3.3): a completion event earns every program that has its item
//! assigned — or records, per program, why it did not. Idempotent by event id: writes are
//! serialized on the audit head (across instances on PostgreSQL), so a replay always finds
//! the first copy, and the UNIQUE index on `event_id` backs that up.

use crate::auth::{Action, Reach};
use crate::awards::{Context, NewAward, Replace};
use crate::exports::{Cell, Download, Format};
use crate::listing::{Listed, Sheet, Sort, Window};
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::earning::{self, Decision, Facts, Outcome, Via};
use recert_domain::error::Errors;
use recert_domain::names::{optional_text, parse_date, required_text};
use recert_domain::{Date, Timestamp, Username};
use recert_store::audit::NewEvent;
use recert_store::completions::{self as store, CompletionRecord};
use recert_store::{WriteTx, awards as award_store, learners as learner_store};
use serde::{Deserialize, Serialize};

/// The most completions one batch request may carry.
pub const MAX_BATCH: usize = 1000;

/// A completion event as an LMS sends it (SPEC §9).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompletionDraft {
    /// The sender's unique id for this event: sending it again changes nothing.
    pub event_id: Option<String>,
    /// The learner's username.
    pub learner: Option<String>,
    /// The learning item's code (or its xAPI activity IRI).
    pub item: Option<String>,
    /// `YYYY-MM-DD`, or an RFC 3339 instant (its day in the organization's time zone).
    pub completed_on: Option<String>,
    pub score: Option<f64>,
    /// With `score`: the score is `score / max_score`. Without it, `score` is a fraction 0–1.
    pub max_score: Option<f64>,
    /// What the learning system decided; `false` never earns.
    pub passed: Option<bool>,
    pub content_version: Option<String>,
}

/// What a completion did for one program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgramOutcome {
    /// The program concerned; null when no program has the item assigned.
    pub program: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The outcome in a sentence.
    pub reason: String,
    /// Set when an administrator's backfill turned this completion into an award.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backfilled: bool,
}

impl ProgramOutcome {
    pub(crate) fn new(program: Option<&str>, outcome: Outcome) -> Self {
        Self {
            program: program.map(str::to_owned),
            reason: outcome.reason(),
            outcome,
            backfilled: false,
        }
    }
}

/// Whether this request stored the event or found it already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intake {
    Recorded,
    Replayed,
}

/// A completion as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompletionView {
    pub event_id: String,
    pub learner: String,
    pub item: String,
    #[schema(value_type = String, format = Date)]
    pub completed_on: Date,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    /// The score as a fraction 0–1: what pass thresholds are compared with.
    pub scaled_score: Option<f64>,
    pub passed: Option<bool>,
    pub content_version: Option<String>,
    /// `api`, or `xapi:<connection>` for statements.
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    pub status: Intake,
    /// How many times the same event was sent again (each changed nothing).
    pub replays: i64,
    /// Whether it earned or renewed anything.
    pub earned: bool,
    pub outcomes: Vec<ProgramOutcome>,
    /// In a sentence: what happened.
    pub message: String,
}

/// One entry of a batch answer: the completion, or why it was refused.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchEntry {
    /// Position in the request, from 0.
    pub index: usize,
    pub event_id: Option<String>,
    /// `recorded`, `replayed`, or `rejected` (nothing stored; see `errors`).
    pub status: String,
    pub completion: Option<CompletionView>,
    pub errors: Vec<recert_domain::FieldError>,
}

/// A batch entry the caller could not read as a completion (its event id, if it had one).
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub event_id: Option<String>,
    pub errors: recert_domain::DomainError,
}

/// A batch answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchResult {
    pub recorded: usize,
    pub replayed: usize,
    pub rejected: usize,
    pub awarded: usize,
    pub items: Vec<BatchEntry>,
}

/// Listing filters.
#[derive(Debug, Clone, Default)]
pub struct CompletionQuery {
    pub learner: Option<String>,
    pub item: Option<String>,
}

/// A completion checked and resolved against the database, ready to judge.
pub(crate) struct Parsed {
    pub event_id: String,
    pub learner_id: i64,
    pub username: Username,
    pub legal_name: String,
    pub item: String,
    pub completed: CompletedAt,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub passed: Option<bool>,
    pub content_version: Option<String>,
    pub source: String,
}

/// When a completion happened, as sent: a calendar day, or an instant whose day depends on
/// the zone of the organization whose program it earns (SPEC §3.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CompletedAt {
    Day(Date),
    At(Timestamp),
}

impl CompletedAt {
    /// The completion day in an organization's time zone.
    pub(crate) fn day_in(self, org: &recert_domain::Organization) -> Date {
        self.day_in_zone(&recert_domain::organization::zone(&org.time_zone))
    }

    /// The completion day in a time zone.
    fn day_in_zone(self, zone: &jiff::tz::TimeZone) -> Date {
        match self {
            Self::Day(d) => d,
            Self::At(ts) => recert_domain::dates::day_in_zone(ts, zone),
        }
    }

    /// Whether it is dated after `now`: a day after tomorrow in UTC (every zone is behind
    /// that), or an instant more than five minutes ahead (clock skew between systems).
    pub(crate) fn is_future(self, now: Timestamp) -> bool {
        match self {
            Self::Day(d) => {
                d > recert_domain::dates::add_days(
                    recert_domain::dates::day_in_zone(now, &jiff::tz::TimeZone::UTC),
                    1,
                )
            }
            Self::At(ts) => ts.as_millisecond() > now.as_millisecond() + 5 * 60_000,
        }
    }
}

impl Parsed {
    fn scaled(&self) -> Option<f64> {
        earning::scale(self.score, self.max_score)
    }

    /// Whether a stored event carries the same facts (a true replay); `day` is this
    /// completion's day as it would be stored.
    fn same_as(&self, r: &CompletionRecord, day: Date) -> bool {
        r.learner_id == self.learner_id
            && r.item == self.item
            && r.completed_on == day
            && r.score == self.score
            && r.max_score == self.max_score
            && r.passed == self.passed
    }
}

fn view(r: &CompletionRecord, status: Intake) -> Result<CompletionView> {
    let outcomes: Vec<ProgramOutcome> =
        serde_json::from_value(r.outcomes.clone()).map_err(ServiceError::internal)?;
    let earned = outcomes.iter().any(|o| o.outcome.earned());
    let received_at = crate::instant(r.received_at_ms)?;
    let summary = outcomes
        .iter()
        .map(|o| match &o.program {
            Some(p) => format!("{p}: {}", o.reason),
            None => o.reason.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    let message = match status {
        Intake::Recorded => summary,
        Intake::Replayed => format!(
            "event {} was already received at {received_at}; this copy changed nothing (first time: {summary})",
            r.event_id
        ),
    };
    Ok(CompletionView {
        event_id: r.event_id.clone(),
        learner: r.username.clone(),
        item: r.item.clone(),
        completed_on: r.completed_on,
        score: r.score,
        max_score: r.max_score,
        scaled_score: r.scaled,
        passed: r.passed,
        content_version: r.content_version.clone(),
        source: r.source.clone(),
        received_at,
        status,
        replays: r.replays,
        earned,
        outcomes,
        message,
    })
}

/// A completion time from `YYYY-MM-DD` or an RFC 3339 instant.
pub(crate) fn completion_time(
    field: &str,
    raw: &str,
) -> std::result::Result<CompletedAt, recert_domain::DomainError> {
    let raw = raw.trim();
    if raw.len() > 10
        && let Ok(ts) = raw.parse::<Timestamp>()
    {
        // The same bounds as a written date (years 1900–2200).
        parse_date(
            field,
            &ts.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
        )?;
        return Ok(CompletedAt::At(ts));
    }
    parse_date(field, raw).map(CompletedAt::Day)
}

impl Service {
    /// Checks a completion; its learner comes from `known` (read beforehand, in one query
    /// for a whole batch).
    fn parse_completion(
        &self,
        known: &Identities,
        d: CompletionDraft,
        source: &str,
    ) -> Result<Parsed> {
        let mut e = Errors::new();
        let event_id = match d.event_id.as_deref() {
            Some(s) => e.check(required_text("event_id", s, 200)),
            None => {
                e.add(
                    "event_id",
                    "is required: the sender's unique id for this event",
                );
                None
            }
        };
        let learner = crate::awards::known_learner(known, &mut e, d.learner.as_deref());
        let item = match d.item.as_deref() {
            Some(s) => e.check(required_text("item", s, 500)),
            None => {
                e.add("item", "is required: the learning item's code");
                None
            }
        };
        let completed_on = match d.completed_on.as_deref() {
            Some(s) => e.check(completion_time("completed_on", s)),
            None => {
                e.add("completed_on", "is required");
                None
            }
        };
        if let Some(c) = completed_on
            && c.is_future(self.now())
        {
            e.add(
                "completed_on",
                format!(
                    "{} is in the future",
                    d.completed_on.as_deref().unwrap_or("")
                ),
            );
        }
        if let Some(s) = d.score
            && !(s.is_finite() && s >= 0.0)
        {
            e.add("score", "must be a number, 0 or more");
        }
        match (d.score, d.max_score) {
            (_, Some(m)) if !(m.is_finite() && m > 0.0) => {
                e.add("max_score", "must be a number above 0")
            }
            (Some(s), Some(m)) if s > m => {
                e.add("score", format!("must not exceed max_score ({m})"))
            }
            (None, Some(_)) => e.add("score", "is required when max_score is given"),
            (Some(s), None) if s > 1.0 => e.add(
                "max_score",
                "is required when score is above 1 (without it, score is a fraction 0–1)",
            ),
            _ => {}
        }
        let content_version = e
            .check(optional_text(
                "content_version",
                d.content_version.as_deref(),
                100,
            ))
            .filter(|s| !s.is_empty());
        e.finish()?;
        let (Some(event_id), Some((learner_id, username, legal_name)), Some(item), Some(day)) =
            (event_id, learner, item, completed_on)
        else {
            return Err(ServiceError::field("completion", "is incomplete"));
        };
        Ok(Parsed {
            event_id,
            learner_id,
            username,
            legal_name,
            item,
            completed: day,
            score: d.score,
            max_score: d.max_score,
            passed: d.passed,
            content_version,
            source: source.to_owned(),
        })
    }

    /// Records one completion inside `tx` and issues what it earns. A replay (same event
    /// id, same facts) changes nothing but a counter; the same id with other facts is a
    /// conflict.
    pub(crate) async fn record_parsed(
        &self,
        tx: &mut WriteTx,
        actor: &str,
        ctx: &Context,
        mut c: Parsed,
    ) -> Result<CompletionView> {
        // The programs this item earns, and the day the completion is stored under: its day
        // in the zone of the first such program's organization (else the first one's).
        let matched: Vec<(i64, &recert_domain::Program, Via<'_>)> = ctx
            .programs
            .iter()
            .filter_map(|(id, p)| earning::match_item(p, &c.item).map(|via| (*id, p, via)))
            .collect();
        // Kept under the item's code when it was named by its xAPI activity IRI, so that
        // completions list and filter by the codes people know (the IRI stays in the
        // statement log).
        if let Some(code) = matched.iter().find_map(|(_, _, via)| match via {
            Via::Item(item) => Some(item.code.clone()),
            _ => None,
        }) {
            c.item = code;
        }
        let record_day = match matched.first() {
            Some((_, p, _)) => c.completed.day_in(ctx.org(p)?),
            None => match ctx.orgs.first() {
                Some((_, o)) => c.completed.day_in(o),
                None => c.completed.day_in_zone(&jiff::tz::TimeZone::UTC),
            },
        };
        if let Some(prior) = store::by_event_id(tx.conn(), &c.event_id).await? {
            if !c.same_as(&prior, record_day) {
                return Err(ServiceError::Conflict(format!(
                    "event_id {:?} was already received with different content (learner {}, item {}, completed on {}); send a new event_id for a new completion",
                    c.event_id, prior.username, prior.item, prior.completed_on
                )));
            }
            store::count_replay(tx.conn(), prior.id).await?;
            let prior = CompletionRecord {
                replays: prior.replays + 1,
                ..prior
            };
            return view(&prior, Intake::Replayed);
        }
        // A learning system may send what it dates in the future (an LRS must store it), but
        // nothing is earned before it happens.
        let future = c.completed.is_future(self.now());
        let scaled = c.scaled();
        let mut outcomes = Vec::new();
        for (program_id, program, via) in matched {
            let completed_on = c.completed.day_in(ctx.org(program)?);
            if future {
                outcomes.push(ProgramOutcome::new(
                    Some(program.code.as_str()),
                    Outcome::FutureDated { completed_on },
                ));
                continue;
            }
            let facts = Facts {
                completed_on,
                scaled,
                passed: c.passed,
            };
            let current = award_store::current(tx.conn(), c.learner_id, program_id).await?;
            let outcome = match earning::decide(
                program,
                via,
                facts,
                current.as_ref().map(|r| &r.award),
                false,
            ) {
                Decision::Refuse(o) => o,
                Decision::Grant(g) => {
                    let renews = g.renews.is_some();
                    let replace = match current {
                        Some(cur) if renews => Replace::Supersede(cur),
                        Some(cur) if g.closes_lapsed => Replace::CloseLapsed(cur),
                        _ => Replace::Nothing,
                    };
                    let new = NewAward {
                        learner_id: c.learner_id,
                        username: c.username.clone(),
                        legal_name: c.legal_name.clone(),
                        program_id,
                        issued_on: g.issued_on,
                        completed_on: Some(completed_on),
                        expires_on: g.expires_on,
                        score: scaled,
                        pass_threshold: g.pass_threshold,
                        association: g.association,
                        source_ref: Some(source_ref(&c.event_id, via)),
                        credits: None,
                        content_version: c.content_version.clone(),
                        fields: Default::default(),
                        pathway: g.pathway,
                        cycle: g.cycle,
                    };
                    let extra = serde_json::json!({ "completion": c.event_id, "item": c.item });
                    let issued = self
                        .issue(tx, actor, ctx, new, replace, Some(extra))
                        .await?;
                    let award = crate::awards::parse_id(&issued.id)?;
                    match g.renews {
                        Some(predecessor) => Outcome::Renewed { award, predecessor },
                        None => Outcome::Awarded { award },
                    }
                }
            };
            outcomes.push(ProgramOutcome::new(Some(program.code.as_str()), outcome));
        }
        if outcomes.is_empty() {
            outcomes.push(ProgramOutcome::new(None, Outcome::NotAssigned));
        }
        let record = CompletionRecord {
            id: 0,
            event_id: c.event_id,
            learner_id: c.learner_id,
            username: c.username.to_string(),
            item: c.item,
            completed_on: record_day,
            score: c.score,
            max_score: c.max_score,
            scaled,
            passed: c.passed,
            content_version: c.content_version,
            source: c.source,
            received_at_ms: self.now_ms(),
            outcomes: snapshot(&outcomes)?,
            replays: 0,
        };
        let id = store::insert(tx.conn(), &record).await?;
        let record = CompletionRecord { id, ..record };
        let shown = view(&record, Intake::Recorded)?;
        tx.audit(NewEvent {
            at: self.now(),
            actor,
            action: "completion.recorded",
            subject_type: "completion",
            subject_id: &record.event_id,
            before: None,
            after: Some(snapshot(&shown)?),
        })
        .await?;
        Ok(shown)
    }

    /// Records one completion event.
    pub async fn record_completion(
        &self,
        who: &Principal,
        draft: CompletionDraft,
    ) -> Result<CompletionView> {
        who.require(Action::RecordCompletions)?;
        // Checked and resolved before the write lock: the input, the learner, and only the
        // programs this item earns.
        let mut conn = self.store.read().await?;
        let known = identities(&mut conn, std::slice::from_ref(&draft)).await?;
        let parsed = self.parse_completion(&known, draft, "api")?;
        let ctx = Context::for_items(&mut conn, std::slice::from_ref(&parsed.item)).await?;
        let mut tx = self.store.write_on(conn).await?;
        let shown = self.record_parsed(&mut tx, &who.name, &ctx, parsed).await?;
        tx.commit().await?;
        Ok(shown)
    }

    /// Records a batch in one transaction. Each entry stands alone: a bad one — including
    /// one that could not even be read (`Err`, from the caller's parsing) — is rejected with
    /// its errors and the others are recorded.
    pub async fn record_completions(
        &self,
        who: &Principal,
        drafts: Vec<std::result::Result<CompletionDraft, Unreadable>>,
    ) -> Result<BatchResult> {
        who.require(Action::RecordCompletions)?;
        if drafts.is_empty() {
            return Err(ServiceError::field("completions", "the batch is empty"));
        }
        if drafts.len() > MAX_BATCH {
            return Err(ServiceError::field(
                "completions",
                format!(
                    "a batch holds at most {MAX_BATCH} completions; this one has {}",
                    drafts.len()
                ),
            ));
        }
        // Every entry is checked and resolved before the write lock; the lock is held only
        // to record them.
        let mut conn = self.store.read().await?;
        let readable: Vec<CompletionDraft> = drafts
            .iter()
            .filter_map(|d| d.as_ref().ok().cloned())
            .collect();
        let known = identities(&mut conn, &readable).await?;
        let mut parsed = Vec::with_capacity(drafts.len());
        for d in drafts {
            parsed.push(match d {
                Ok(d) => {
                    let event_id = d.event_id.clone();
                    (event_id, self.parse_completion(&known, d, "api"))
                }
                Err(u) => (u.event_id, Err(ServiceError::Validation(u.errors))),
            });
        }
        let items: Vec<String> = parsed
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.item.clone()))
            .collect();
        let ctx = Context::for_items(&mut conn, &items).await?;
        let mut tx = self.store.write_on(conn).await?;
        let mut out = BatchResult {
            recorded: 0,
            replayed: 0,
            rejected: 0,
            awarded: 0,
            items: Vec::with_capacity(parsed.len()),
        };
        for (index, (event_id, p)) in parsed.into_iter().enumerate() {
            let result = match p {
                Ok(p) => self.record_parsed(&mut tx, &who.name, &ctx, p).await,
                Err(e) => Err(e),
            };
            let entry = match result {
                Ok(v) => {
                    match v.status {
                        Intake::Recorded => out.recorded += 1,
                        Intake::Replayed => out.replayed += 1,
                    }
                    if v.status == Intake::Recorded {
                        out.awarded += v.outcomes.iter().filter(|o| o.outcome.earned()).count();
                    }
                    BatchEntry {
                        index,
                        event_id,
                        status: match v.status {
                            Intake::Recorded => "recorded".into(),
                            Intake::Replayed => "replayed".into(),
                        },
                        completion: Some(v),
                        errors: Vec::new(),
                    }
                }
                Err(ServiceError::Validation(d)) => {
                    out.rejected += 1;
                    BatchEntry {
                        index,
                        event_id,
                        status: "rejected".into(),
                        completion: None,
                        errors: d.0,
                    }
                }
                Err(ServiceError::Conflict(msg)) => {
                    out.rejected += 1;
                    BatchEntry {
                        index,
                        event_id,
                        status: "rejected".into(),
                        completion: None,
                        errors: vec![recert_domain::FieldError {
                            field: "event_id".into(),
                            message: msg,
                        }],
                    }
                }
                Err(other) => return Err(other),
            };
            out.items.push(entry);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Completions received, newest first, limited to the learners the caller may see.
    pub async fn completions(
        &self,
        who: &Principal,
        q: CompletionQuery,
        page: PageRequest,
    ) -> Result<Page<CompletionView>> {
        let Some(filter) = completion_filter(who, q) else {
            return Ok(Page::empty());
        };
        let mut conn = self.store.read().await?;
        let before = (page.after > 0).then_some(page.after);
        let rows = store::list(&mut conn, &filter, before, page.fetch()).await?;
        page.finish(rows, |r| r.id, |r| view(&r, Intake::Recorded))
    }

    /// One window of the completions matching, in the order asked, with the total.
    pub async fn completions_listed(
        &self,
        who: &Principal,
        q: CompletionQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<CompletionView>> {
        match completion_filter(who, q) {
            Some(filter) => {
                self.listed(&filter, sort, window, |r| view(&r, Intake::Recorded))
                    .await
            }
            None => Ok(Listed::empty()),
        }
    }

    /// Every completion matching, in the order asked, as a CSV or XLSX file written while
    /// it is read.
    pub fn completions_export(
        &self,
        who: &Principal,
        q: CompletionQuery,
        sort: &Sort,
        format: Format,
    ) -> Result<Download> {
        let stem = match q.learner.as_deref().filter(|s| !s.is_empty()) {
            Some(u) => format!("completions-{u}"),
            None => "completions".to_owned(),
        };
        let sheet = Sheet {
            stem,
            title: "Completions".into(),
            headers: COMPLETION_HEADERS,
        };
        self.export(completion_filter(who, q), sort, format, sheet, |r| {
            Ok(completion_cells(&view(&r, Intake::Recorded)?))
        })
    }

    /// One completion by event id.
    pub async fn completion(&self, who: &Principal, event_id: &str) -> Result<CompletionView> {
        let mut conn = self.store.read().await?;
        let r = store::by_event_id(&mut conn, event_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("completion", event_id))?;
        let manager = learner_store::manager_id(&mut conn, r.learner_id).await?;
        who.require_learner(r.learner_id, manager, "completion", event_id)?;
        view(&r, Intake::Recorded)
    }
}

/// Learners by username: (row id, username, legal name).
pub(crate) type Identities =
    std::collections::HashMap<String, (i64, recert_domain::Username, String)>;

/// The learners these completions name, in one query per 500.
async fn identities(
    conn: &mut recert_store::Conn,
    drafts: &[CompletionDraft],
) -> Result<Identities> {
    let mut names: Vec<String> = drafts
        .iter()
        .filter_map(|d| d.learner.as_deref().map(|u| u.trim().to_owned()))
        .filter(|u| !u.is_empty())
        .collect();
    names.sort_unstable();
    names.dedup();
    Ok(learner_store::identities(conn, &names)
        .await?
        .into_iter()
        .map(|i| (i.1.to_string(), i))
        .collect())
}

/// What an award records as having earned it.
fn source_ref(event_id: &str, via: Via<'_>) -> String {
    match via {
        Via::Item(item) => format!("completion:{event_id} (item {})", item.code),
        Via::Refresher | Via::External => format!("completion:{event_id} (refresher)"),
    }
}

/// The store's filter for a completion query as this caller may see it; `None` when they
/// may see none.
fn completion_filter(who: &Principal, q: CompletionQuery) -> Option<store::Filter> {
    let within = match who.reach() {
        // Completions belong to no program: a program manager reads them like learners.
        Reach::Programs(_) => recert_store::sql::Within::All,
        other => other.within()?,
    };
    Some(store::Filter {
        learner: q.learner.filter(|s| !s.is_empty()),
        item: q.item.filter(|s| !s.is_empty()),
        within,
    })
}

/// The columns of a completions export.
const COMPLETION_HEADERS: &[&str] = &[
    "event_id",
    "username",
    "item",
    "completed_on",
    "score",
    "source",
    "received_at_utc",
    "replays",
    "earned",
    "outcome",
];

fn completion_cells(c: &CompletionView) -> Vec<Cell> {
    let outcomes: Vec<String> = c
        .outcomes
        .iter()
        .map(|o| match &o.program {
            Some(p) => format!("{p}: {}", o.reason),
            None => o.reason.clone(),
        })
        .collect();
    vec![
        c.event_id.as_str().into(),
        c.learner.as_str().into(),
        c.item.as_str().into(),
        Cell::Date(Some(c.completed_on)),
        Cell::Percent(c.scaled_score),
        c.source.as_str().into(),
        c.received_at.to_string().into(),
        Cell::Int(c.replays),
        if c.earned { "yes" } else { "no" }.into(),
        outcomes.join("; ").into(),
    ]
}
