//! Awards to many (SPEC §9 "Awards to many, items"): one program awarded by hand to named
//! learners and/or every member of groups (teams, sites, branches…), in ONE transaction,
//! or previewed without writing. The award form, `POST /api/v1/award-batches` and
//! `POST /api/v1/group-awards` all come here.
//!
//! Everything that does not depend on who holds what — the input, the program, the
//! learners and group members — is read before the write lock is taken; the current awards
//! are read again under it, so what is decided is what holds when it is written.

use crate::auth::Action;
use crate::awards::{Context, NewAward, Replace};
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::error::Errors;
use recert_domain::names::parse_date;
use recert_domain::{Association, Date, Program, Status, Username, status_on};
use recert_store::audit::NewEvent;
use recert_store::awards::{self as award_store, AwardRecord};
use recert_store::group_awards::{self as standing_store, GroupAward};
use recert_store::{Conn, groups as group_store, learners as learner_store};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// Award a program to learners and/or groups.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardBatchDraft {
    pub program: Option<String>,
    /// Usernames; each is awarded once however often it is named.
    pub learners: Option<Vec<String>>,
    /// Group names (any kind: team, site, branch…): every current member is awarded.
    pub groups: Option<Vec<String>>,
    /// Defaults to today in the program's organization's time zone.
    pub issued_on: Option<String>,
    /// Omitted (and not always valid) = issue date + the program's validity.
    pub expires_on: Option<String>,
    pub always_valid: Option<bool>,
    /// Defaults to `manual`.
    pub association: Option<String>,
    /// Also award members who join these groups later, each on the day they join, until
    /// the standing group award is stopped. Default false.
    pub include_later_members: Option<bool>,
    /// True: answer what would happen and change nothing.
    pub preview: Option<bool>,
}

/// What happened (or, in a preview, would happen) to one learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchOutcome {
    /// Awarded (in a preview: would be awarded).
    Awarded,
    /// Left as is: the learner already holds the program.
    Skipped,
    /// Not awarded: the learner named does not exist.
    Refused,
}

impl BatchOutcome {
    /// The outcome in words, for pages.
    pub fn label(self, preview: bool) -> &'static str {
        match (self, preview) {
            (Self::Awarded, true) => "Would be awarded",
            (Self::Awarded, false) => "Awarded",
            (Self::Skipped, _) => "Skipped",
            (Self::Refused, _) => "Not found",
        }
    }
}

/// One learner's line of the answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BatchRow {
    pub learner: String,
    pub legal_name: Option<String>,
    /// The group that brought the learner in; null when named directly.
    pub group: Option<String>,
    pub outcome: BatchOutcome,
    pub reason: String,
    /// The certificate issued (not in a preview).
    pub award: Option<String>,
}

/// The answer to an award batch or its preview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AwardBatchResult {
    pub program: String,
    pub preview: bool,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    pub awarded: usize,
    pub skipped: usize,
    pub refused: usize,
    /// The group awards recorded (standing for later members when asked), by group.
    pub group_awards: Vec<StandingRef>,
    pub results: Vec<BatchRow>,
}

/// A standing group award recorded by a batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StandingRef {
    pub id: i64,
    pub group: String,
}

/// A learner the batch concerns, resolved before the write lock.
struct Target {
    learner_id: i64,
    username: Username,
    legal_name: String,
    group: Option<String>,
}

/// A batch whose input and reads are checked: everything but who holds what.
struct Checked {
    program_id: i64,
    program: Program,
    ctx: Context,
    groups: Vec<(i64, String)>,
    targets: Vec<Target>,
    unknown: Vec<String>,
    issued_on: Date,
    expires_on: Option<Date>,
    association: Association,
    include_later: bool,
}

/// Whether a current award blocks a new one: anything but a lapsed one does (after lapse
/// a new chain starts).
pub(crate) fn blocking(status: Status) -> bool {
    status != Status::Lapsed
}

impl Service {
    /// Awards a program to learners and/or every member of groups in one transaction, or
    /// previews it (`preview: true`) without writing.
    pub async fn award_batch(
        &self,
        who: &Principal,
        draft: AwardBatchDraft,
    ) -> Result<AwardBatchResult> {
        self.run_batch(who, draft, false).await
    }

    /// [`Service::award_batch`]; `record_groups` records each group's award (standing for
    /// later members or not) as the group-awards API shows them.
    pub(crate) async fn run_batch(
        &self,
        who: &Principal,
        draft: AwardBatchDraft,
        record_groups: bool,
    ) -> Result<AwardBatchResult> {
        who.require_program_runner()?;
        let preview = draft.preview.unwrap_or(false);
        let mut conn = self.store.read().await?;
        let b = self.check_batch(&mut conn, who, draft).await?;
        if preview {
            let ids: Vec<i64> = b.targets.iter().map(|t| t.learner_id).collect();
            let current = award_store::current_of(&mut conn, b.program_id, &ids).await?;
            drop(conn);
            return self.decide_batch(&b, &current, true);
        }
        drop(conn);
        let mut tx = self.store.begin_write().await?;
        let ids: Vec<i64> = b.targets.iter().map(|t| t.learner_id).collect();
        let mut current = award_store::current_of(tx.conn(), b.program_id, &ids).await?;
        let mut standing = Vec::new();
        if b.include_later || record_groups {
            for (group_id, name) in &b.groups {
                let g = GroupAward {
                    id: 0,
                    group_id: *group_id,
                    group_name: name.clone(),
                    program_id: b.program_id,
                    program_code: b.program.code.to_string(),
                    include_later: b.include_later,
                    association: b.association.as_str().to_owned(),
                    created_by: who.name.clone(),
                    created_at_ms: self.now_ms(),
                    stopped_at_ms: None,
                };
                let id = standing_store::insert(tx.conn(), &g).await?;
                standing.push(StandingRef {
                    id,
                    group: name.clone(),
                });
            }
        }
        let mut result = self.decide_batch(&b, &current, false)?;
        result.group_awards = standing;
        // Issue what was decided, in order; each award carries its own audit event.
        for (row, t) in result.results.iter_mut().zip(plan_order(&b)) {
            let Some(t) = t else { continue };
            if row.outcome != BatchOutcome::Awarded {
                continue;
            }
            let replace = match current.remove(&t.learner_id) {
                Some(cur) => Replace::CloseLapsed(cur),
                None => Replace::Nothing,
            };
            let new = NewAward {
                learner_id: t.learner_id,
                username: t.username.clone(),
                legal_name: t.legal_name.clone(),
                program_id: b.program_id,
                issued_on: b.issued_on,
                completed_on: None,
                expires_on: b.expires_on,
                score: None,
                pass_threshold: None,
                association: b.association,
                source_ref: t.group.as_ref().map(|g| format!("group:{g}")),
                credits: None,
                content_version: None,
                fields: Default::default(),
                pathway: None,
                cycle: None,
            };
            let extra = match &t.group {
                Some(g) => serde_json::json!({ "batch": true, "group": g,
                    "group_award": result.group_awards.iter().find(|s| &s.group == g).map(|s| s.id) }),
                None => serde_json::json!({ "batch": true }),
            };
            let issued = self
                .issue(&mut tx, &who.name, &b.ctx, new, replace, Some(extra))
                .await?;
            row.reason = format!("certificate {} issued", issued.id);
            row.award = Some(issued.id);
        }
        for s in &result.group_awards {
            tx.audit(NewEvent {
                at: self.now(),
                actor: &who.name,
                action: "group_award.created",
                subject_type: "group_award",
                subject_id: &s.id.to_string(),
                before: None,
                after: Some(serde_json::json!({
                    "group": s.group, "program": b.program.code.as_str(),
                    "include_later_members": b.include_later,
                    "awards": result.results.iter().filter(|r| r.group.as_ref() == Some(&s.group) && r.outcome == BatchOutcome::Awarded).count(),
                })),
            })
            .await?;
        }
        tx.commit().await?;
        Ok(result)
    }

    /// Checks the input and reads the program, learners and group members (no lock).
    async fn check_batch(
        &self,
        conn: &mut Conn,
        who: &Principal,
        d: AwardBatchDraft,
    ) -> Result<Checked> {
        let mut e = Errors::new();
        let found = match d
            .program
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(code) => match Context::for_program(conn, code).await? {
                Some((id, p, ctx)) => {
                    // Who may not award it learns that first, not that it is archived.
                    who.require(Action::WriteAward(id))?;
                    if p.archived_on.is_some() {
                        e.add(
                            "program",
                            format!("program {code:?} is archived and cannot be awarded"),
                        );
                        None
                    } else {
                        Some((id, p, ctx))
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
        let issued_on = opt_date(&mut e, "issued_on", d.issued_on.as_deref());
        let explicit_expiry = opt_date(&mut e, "expires_on", d.expires_on.as_deref());
        let always_valid = d.always_valid.unwrap_or(false);
        if always_valid && explicit_expiry.is_some() {
            e.add("expires_on", "must be omitted when always_valid is true");
        }
        let association = match d.association.as_deref().filter(|s| !s.is_empty()) {
            Some(a) => e.check(Association::parse("association", a)),
            None => Some(Association::Manual),
        };
        let mut groups = Vec::new();
        for (i, raw) in d.groups.unwrap_or_default().iter().enumerate() {
            let name = raw.trim();
            if name.is_empty() {
                continue;
            }
            match group_store::by_name(conn, name).await? {
                Some((id, g)) if !groups.iter().any(|(gid, _)| *gid == id) => {
                    groups.push((id, g.name))
                }
                Some(_) => {}
                None => e.add(format!("groups[{i}]"), format!("no group named {name:?}")),
            }
        }
        let mut named: Vec<String> = Vec::new();
        for raw in d.learners.unwrap_or_default() {
            let u = raw.trim().to_owned();
            if !u.is_empty() && !named.contains(&u) {
                named.push(u);
            }
        }
        if named.is_empty() && groups.is_empty() && e.is_empty() {
            e.add("learners", "name at least one learner, or a group");
        }
        e.finish()?;
        let (Some((program_id, program, ctx)), Some(association)) = (found, association) else {
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

        let known: HashMap<String, (i64, Username, String)> =
            learner_store::identities(conn, &named)
                .await?
                .into_iter()
                .map(|i| (i.1.to_string(), i))
                .collect();
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        let mut unknown = Vec::new();
        for u in named {
            match known.get(&u) {
                Some((id, username, legal_name)) => {
                    if seen.insert(*id) {
                        targets.push(Target {
                            learner_id: *id,
                            username: username.clone(),
                            legal_name: legal_name.clone(),
                            group: None,
                        });
                    }
                }
                None => unknown.push(u),
            }
        }
        for (group_id, name) in &groups {
            for (id, username, legal_name) in learner_store::members_of(conn, *group_id).await? {
                if seen.insert(id) {
                    targets.push(Target {
                        learner_id: id,
                        username,
                        legal_name,
                        group: Some(name.clone()),
                    });
                }
            }
        }
        Ok(Checked {
            program_id,
            program,
            ctx,
            groups,
            targets,
            unknown,
            issued_on,
            expires_on,
            association,
            include_later: d.include_later_members.unwrap_or(false),
        })
    }

    /// What each learner gets, given who holds the program now.
    fn decide_batch(
        &self,
        b: &Checked,
        current: &HashMap<i64, AwardRecord>,
        preview: bool,
    ) -> Result<AwardBatchResult> {
        let today = self.today_in(b.ctx.org(&b.program)?);
        let mut results = Vec::with_capacity(b.targets.len() + b.unknown.len());
        for u in &b.unknown {
            results.push(BatchRow {
                learner: u.clone(),
                legal_name: None,
                group: None,
                outcome: BatchOutcome::Refused,
                reason: format!("no learner with username {u:?}"),
                award: None,
            });
        }
        for t in &b.targets {
            let mut row = BatchRow {
                learner: t.username.to_string(),
                legal_name: Some(t.legal_name.clone()),
                group: t.group.clone(),
                outcome: BatchOutcome::Awarded,
                reason: String::new(),
                award: None,
            };
            match current.get(&t.learner_id) {
                Some(cur) if blocking(status_on(&cur.award, &b.program, today)) => {
                    row.outcome = BatchOutcome::Skipped;
                    row.reason = format!(
                        "already holds certificate {} ({})",
                        cur.award.id,
                        status_on(&cur.award, &b.program, today).as_str()
                    );
                }
                Some(cur) => {
                    row.reason = format!(
                        "certificate {} lapsed: a new one {}",
                        cur.award.id,
                        would(preview, b.issued_on, b.expires_on)
                    );
                }
                None => {
                    row.reason = format!(
                        "a certificate {}",
                        would(preview, b.issued_on, b.expires_on)
                    )
                }
            }
            results.push(row);
        }
        let count = |o: BatchOutcome| results.iter().filter(|r| r.outcome == o).count();
        Ok(AwardBatchResult {
            program: b.program.code.to_string(),
            preview,
            issued_on: b.issued_on,
            expires_on: b.expires_on,
            awarded: count(BatchOutcome::Awarded),
            skipped: count(BatchOutcome::Skipped),
            refused: count(BatchOutcome::Refused),
            group_awards: Vec::new(),
            results,
        })
    }
}

/// The batch's learners in the order of its result rows (unknown usernames first).
fn plan_order(b: &Checked) -> impl Iterator<Item = Option<&Target>> {
    b.unknown
        .iter()
        .map(|_| None)
        .chain(b.targets.iter().map(Some))
}

fn would(preview: bool, issued_on: Date, expires_on: Option<Date>) -> String {
    let verb = if preview {
        "would be issued"
    } else {
        "is issued"
    };
    match expires_on {
        Some(x) => format!("{verb} on {issued_on}, expiring {x}"),
        None => format!("{verb} on {issued_on}, never expiring"),
    }
}
