//! Certification records, row by row: what a row must hold, and what it does to the
//! learner's awards of that program under the chain rules — a new chain, a newer record
//! that supersedes the current award, an older one kept as history, or the same record
//! already held (left out, so importing a file twice changes nothing).

use super::{Run, dup_issue, issue, note};
use crate::awards::new_id;
use crate::{Result, Service};
use recert_domain::award::check_dates;
use recert_domain::names::{parse_date, parse_email};
use recert_domain::notices::stages;
use recert_domain::renewal::first_cycle;
use recert_domain::{Association, Award, Date, Program, Username};
use recert_store::WriteTx;
use recert_store::awards as award_store;
use recert_store::imports::{self as store, Counts, Imported, Issue, NewLearner};
use std::collections::HashMap;

use super::reader::Row;

/// A row that passed its own checks.
struct Checked {
    line: i64,
    username: Username,
    program_id: i64,
    issued_on: Date,
    expires_on: Option<Date>,
    course_code: Option<String>,
    course_type: Option<String>,
    legal_name: Option<String>,
    email: Option<String>,
}

/// A date cell: `YYYY-MM-DD`, or with a time after it (times are UTC; the day is kept).
fn date_cell(raw: &str) -> std::result::Result<Date, String> {
    let s = raw.trim();
    let day = match s.get(..10) {
        Some(d) if s.len() > 10 && matches!(s.as_bytes()[10], b' ' | b'T') => d,
        _ => s,
    };
    parse_date("date", day).map_err(|e| {
        e.0.first()
            .map(|f| f.message.clone())
            .unwrap_or_else(|| "is not a date".into())
    })
}

/// `always_valid`: yes or no, and empty is no.
pub(super) fn flag_cell(raw: &str) -> Option<bool> {
    if raw.trim().is_empty() {
        Some(false)
    } else {
        super::yes_no(raw)
    }
}

impl Run {
    /// The cell of recert's column `name`, or the issue that it is not text.
    fn cell<'r>(&self, row: &'r Row, name: &str, out: &mut Vec<Issue>) -> Option<&'r str> {
        match self.cols.cell(row, name) {
            Ok(v) => v,
            Err(why) => {
                out.push(issue(row.line, self.heading(name), "", why));
                None
            }
        }
    }

    fn check_award(&self, row: &Row) -> std::result::Result<Checked, Vec<Issue>> {
        let mut out = Vec::new();
        let line = row.line;
        let username = match self.cell(row, "username", &mut out) {
            Some("") => {
                out.push(issue(line, self.heading("username"), "", "is required"));
                None
            }
            Some(u) => match Username::parse("username", u) {
                Ok(u) => Some(u),
                Err(e) => {
                    for f in e.0 {
                        out.push(issue(line, self.heading("username"), u, f.message));
                    }
                    None
                }
            },
            None => None,
        };
        let program = match self.cell(row, "certification_code", &mut out) {
            Some("") => {
                out.push(issue(
                    line,
                    self.heading("certification_code"),
                    "",
                    "is required",
                ));
                None
            }
            Some(code) => match self.programs.get(&code.to_lowercase()) {
                None => {
                    out.push(issue(
                        line,
                        self.heading("certification_code"),
                        code,
                        "no program has this code",
                    ));
                    None
                }
                Some(&id) => {
                    let p = self.ctx.program(id).ok();
                    match p {
                        Some(p) if p.archived_on.is_some() => {
                            out.push(issue(
                                line,
                                self.heading("certification_code"),
                                code,
                                format!("program {} is archived and cannot be awarded", p.code),
                            ));
                            None
                        }
                        Some(p) if !self.may_award(id) => {
                            out.push(issue(
                                line,
                                self.heading("certification_code"),
                                code,
                                format!("you may not award program {}", p.code),
                            ));
                            None
                        }
                        Some(p) => Some((id, p)),
                        None => None,
                    }
                }
            },
            None => None,
        };
        let issued_on = match self.cell(row, "certification_issue_date", &mut out) {
            Some("") => {
                out.push(issue(
                    line,
                    self.heading("certification_issue_date"),
                    "",
                    "is required",
                ));
                None
            }
            Some(raw) => match date_cell(raw) {
                Ok(d) => Some(d),
                Err(why) => {
                    out.push(issue(
                        line,
                        self.heading("certification_issue_date"),
                        raw,
                        why,
                    ));
                    None
                }
            },
            None => None,
        };
        let always_valid = match self.cell(row, "always_valid", &mut out) {
            Some(raw) => match flag_cell(raw) {
                Some(b) => b,
                None => {
                    out.push(issue(
                        line,
                        self.heading("always_valid"),
                        raw,
                        "must be 1 or 0 (or true or false)",
                    ));
                    false
                }
            },
            None => false,
        };
        // Always valid: no expiry, whatever the expiry column says (as Docebo reads it).
        let expiry_cell = self.cell(row, "certification_expire_date", &mut out);
        let explicit = match expiry_cell {
            Some(raw) if !always_valid && !raw.is_empty() => match date_cell(raw) {
                Ok(d) => Some(d),
                Err(why) => {
                    out.push(issue(
                        line,
                        self.heading("certification_expire_date"),
                        raw,
                        why,
                    ));
                    None
                }
            },
            _ => None,
        };
        let optional = |name: &str, out: &mut Vec<Issue>| {
            self.cell(row, name, out)
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().take(200).collect::<String>())
        };
        let course_code = optional("course_code", &mut out);
        let course_type = optional("course_type", &mut out);
        let legal_name = optional("legal_name", &mut out);
        let email = match optional("email", &mut out) {
            Some(e) => match parse_email("email", &e) {
                Ok(e) => Some(e),
                Err(err) => {
                    for f in err.0 {
                        out.push(issue(line, self.heading("email"), &e, f.message));
                    }
                    None
                }
            },
            None => None,
        };
        let (Some(username), Some((program_id, program)), Some(issued_on)) =
            (username, program, issued_on)
        else {
            return Err(out);
        };
        if !out.is_empty() {
            return Err(out);
        }
        let expires_on = if always_valid {
            None
        } else {
            explicit.or_else(|| program.validity.expiry_from(issued_on))
        };
        if let Err(e) = check_dates(issued_on, None, expires_on) {
            for f in e.0 {
                out.push(issue(
                    line,
                    self.heading("certification_expire_date"),
                    &expires_on.map(|d| d.to_string()).unwrap_or_default(),
                    f.message,
                ));
            }
            return Err(out);
        }
        Ok(Checked {
            line,
            username,
            program_id,
            issued_on,
            expires_on,
            course_code,
            course_type,
            legal_name,
            email,
        })
    }
}

/// The day the scheduler first looks at an imported current award: its first notice on
/// or after the day of the import. Notices that fell before it are never sent, so a
/// backdated record brings no burst of stale reminders.
fn notice_from(a: &Award, program: &Program, today: Date) -> Option<Date> {
    let x = a.expiry()?;
    stages(x, a.grace_ends(x), &program.reminder_offsets_days)
        .into_iter()
        .map(|(_, on)| on)
        .find(|on| *on >= today)
}

impl Service {
    /// Checks and writes one batch of certification records (a dry run writes only the
    /// findings).
    pub(super) async fn import_award_rows(
        &self,
        tx: &mut WriteTx,
        run: &mut Run,
        rows: &[Row],
    ) -> Result<Counts> {
        let mut c = Counts::default();
        let mut issues: Vec<Issue> = Vec::new();
        let mut good: Vec<Checked> = Vec::with_capacity(rows.len());
        for row in rows {
            let user_cell = run.cols.cell(row, "username").ok().flatten().unwrap_or("");
            let dup = dup_issue(run, row, "username", user_cell);
            match (run.check_award(row), dup) {
                (Err(mut found), dup) => {
                    if let Some(d) = dup.filter(|d| d.rejected) {
                        found.push(d);
                    }
                    issues.extend(found);
                    c.rejected += 1;
                }
                (Ok(_), Some(d)) if d.rejected => {
                    issues.push(d);
                    c.rejected += 1;
                }
                (Ok(_), Some(d)) => {
                    issues.push(d);
                    c.skipped += 1;
                }
                (Ok(ok), None) => good.push(ok),
            }
        }
        let dry = run.settings.dry_run;

        // Learners: found, created (or, in a dry run, counted as created), or refused.
        let mut names: Vec<&str> = good.iter().map(|g| g.username.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let mut ids = store::learner_ids(tx.conn(), &names).await?;
        let mut missing: Vec<&Checked> = Vec::new();
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for g in &good {
            let u = g.username.as_str();
            if !ids.contains_key(u) && !run.would_create.contains_key(u) && seen.insert(u) {
                missing.push(g);
            }
        }
        if run.settings.create_learners && !missing.is_empty() {
            let new: Vec<NewLearner<'_>> = missing
                .iter()
                .map(|g| NewLearner {
                    username: g.username.as_str(),
                    legal_name: g.legal_name.as_deref().unwrap_or(g.username.as_str()),
                    email: g.email.as_deref(),
                })
                .collect();
            c.learners_created += new.len() as i64;
            if dry {
                for n in &new {
                    let stand_in = -(run.would_create.len() as i64) - 1;
                    run.would_create.insert(n.username.to_owned(), stand_in);
                }
            } else {
                ids.extend(store::insert_learners(tx.conn(), &new, self.now_ms()).await?);
            }
        }
        for (u, id) in &run.would_create {
            ids.entry(u.clone()).or_insert(*id);
        }
        let known: Vec<i64> = {
            let mut v: Vec<i64> = good
                .iter()
                .filter_map(|g| ids.get(g.username.as_str()).copied())
                .filter(|id| *id > 0)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        // What the learners hold already: the current award per program, and every
        // record's dates (a row that repeats one is left out).
        let mut current: HashMap<(i64, i64), award_store::AwardRecord> = HashMap::new();
        let mut held: HashMap<(i64, i64, Date, Option<Date>), String> = HashMap::new();
        for r in store::awards_of(tx.conn(), &known).await? {
            held.insert(
                (
                    r.learner_id,
                    r.program_id,
                    r.award.issued_on,
                    r.award.expiry(),
                ),
                r.award.id.to_string(),
            );
            if r.award.is_current() {
                current.insert((r.learner_id, r.program_id), r);
            }
        }

        let mut todays: HashMap<i64, Date> = HashMap::new();
        let mut new_awards: Vec<Imported> = Vec::with_capacity(good.len());
        let mut superseded: Vec<award_store::AwardRecord> = Vec::new();
        for g in good {
            let Some(&learner_id) = ids.get(g.username.as_str()) else {
                issues.push(issue(
                    g.line,
                    run.heading("username"),
                    g.username.as_str(),
                    "no learner has this username (allow the import to create learners, or import the people first)",
                ));
                c.rejected += 1;
                continue;
            };
            let program = run.ctx.program(g.program_id)?;
            let today = match todays.get(&g.program_id) {
                Some(d) => *d,
                None => {
                    let d = self.today_in(run.ctx.org(program)?);
                    todays.insert(g.program_id, d);
                    d
                }
            };
            let mut fields = serde_json::Map::new();
            if let Some(cc) = &g.course_code {
                fields.insert("course_code".into(), cc.clone().into());
            }
            if let Some(ct) = &g.course_type {
                fields.insert("course_type".into(), ct.clone().into());
            }
            let mut award = Award {
                id: new_id()?,
                learner: g.username.clone(),
                program: program.code.clone(),
                issued_on: g.issued_on,
                completed_on: None,
                expires_on: g.expires_on,
                always_valid: g.expires_on.is_none(),
                score: None,
                pass_threshold: None,
                association: Association::Import,
                source_ref: Some(format!("import:{}:{}", run.job, g.line)),
                credits: None,
                content_version: program.content_version.clone(),
                fields,
                predecessor: None,
                superseded: None,
                pathway: None,
                renewal_window_days: program.renewal_window_days,
                grace_days: program.grace_days,
                grace_extension_days: 0,
                revoked: None,
                archived_on: None,
                closed_on: None,
                cycle: first_cycle(program.validity, g.issued_on, g.expires_on),
            };
            let code_heading = run.heading("certification_code");
            if let Some(id) = held.get(&(learner_id, g.program_id, g.issued_on, award.expiry())) {
                issues.push(note(
                    g.line,
                    code_heading,
                    program.code.as_str(),
                    format!("left out: already held as certificate {id}"),
                ));
                c.skipped += 1;
                continue;
            }
            if let Some(cur) = current.remove(&(learner_id, g.program_id)) {
                let held = &cur.award;
                if held.issued_on == g.issued_on {
                    issues.push(issue(
                        g.line,
                        run.heading("certification_expire_date"),
                        &award.expiry().map(|d| d.to_string()).unwrap_or_default(),
                        format!(
                            "certificate {} of {} was issued the same day with {}; edit that award instead",
                            held.id,
                            program.code,
                            match held.expiry() {
                                Some(x) => format!("expiry {x}"),
                                None => "no expiry".into(),
                            }
                        ),
                    ));
                    c.rejected += 1;
                    current.insert((learner_id, g.program_id), cur);
                    continue;
                }
                if g.issued_on > held.issued_on {
                    // The newer record supersedes the current award and continues its chain.
                    award.predecessor = Some(held.id.clone());
                    issues.push(note(
                        g.line,
                        code_heading,
                        program.code.as_str(),
                        format!(
                            "supersedes certificate {} issued {}",
                            held.id, held.issued_on
                        ),
                    ));
                    let mut ended = cur.clone();
                    ended.award.superseded = Some((award.id.clone(), g.issued_on));
                    superseded.push(ended);
                    c.superseded += 1;
                } else {
                    // An older record: history behind the current award.
                    award.superseded = Some((held.id.clone(), held.issued_on));
                    issues.push(note(
                        g.line,
                        code_heading,
                        program.code.as_str(),
                        format!(
                            "kept as history: certificate {} issued {} is newer",
                            held.id, held.issued_on
                        ),
                    ));
                    c.history += 1;
                    current.insert((learner_id, g.program_id), cur);
                }
            }
            let from = if award.is_current() {
                notice_from(&award, program, today)
            } else {
                None
            };
            new_awards.push(Imported {
                award,
                learner_id,
                program_id: g.program_id,
                notice_from: from,
            });
        }
        c.imported = new_awards.len() as i64;
        if !dry {
            let now = self.now_ms();
            for s in &superseded {
                award_store::update(tx.conn(), s.row_id, &s.award, now).await?;
            }
            // In program and expiry order: three of the awards table's indexes and the
            // notice queue are in (nearly) that order, so inserting sorted walks them
            // instead of jumping about them (a million rows on SQLite: 31 s instead of
            // 35 s in certificate-ID order, which serves one index).
            new_awards.sort_unstable_by_key(|a| (a.program_id, a.award.expiry()));
            store::insert_awards(tx, run.job, &new_awards, now).await?;
        }
        issues.sort_by_key(|i| i.line);
        store::add_issues(tx.conn(), run.job, &issues).await?;
        Ok(c)
    }
}
