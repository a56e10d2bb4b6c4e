//! People, row by row. Each row becomes the same learner draft the API takes and goes
//! through the same checks (`learners::resolve`); a second pass links managers and groups,
//! so a row may name a manager who comes later in the file.

use super::reader::Row;
use super::{Dup, Run, issue, note};
use crate::learners::{LearnerDraft, resolve, set_groups};
use crate::{Result, Service, ServiceError};
use recert_store::WriteTx;
use recert_store::imports::{self as store, Counts, Issue};
use recert_store::learners as learner_store;

impl Run {
    /// A cell as an owned value, `None` when absent or empty.
    fn text(&self, row: &Row, name: &str) -> std::result::Result<Option<String>, &'static str> {
        self.cols
            .cell(row, name)
            .map(|v| v.filter(|s| !s.is_empty()).map(str::to_owned))
    }

    /// The file's heading for a field the learner checks name (`email`, `groups[0]`,
    /// `attributes.site`).
    fn heading_of_field(&self, field: &str) -> String {
        if let Some(k) = field.strip_prefix("attributes.") {
            return format!("attr:{k}");
        }
        if let Some(k) = field.strip_prefix("external_ids.") {
            return format!("ext:{k}");
        }
        let base = field.split(['.', '[']).next().unwrap_or(field);
        self.heading(base)
    }

    fn rejected_by_duplicate(&self, row: &Row) -> Option<Issue> {
        let user = self
            .text(row, "username")
            .ok()
            .flatten()
            .unwrap_or_default();
        super::dup_issue(self, row, "username", &user)
    }
}

/// A learner's attributes or external ids (`prefix`: `attr` or `ext`) with the row's
/// non-empty cells of those columns set over the learner's own; whether any cell had one.
fn merged(
    row: &Row,
    columns: &[(String, usize)],
    prefix: &str,
    base: Option<&serde_json::Map<String, serde_json::Value>>,
    bad: &mut Vec<Issue>,
) -> (serde_json::Map<String, serde_json::Value>, bool) {
    let mut map = base.cloned().unwrap_or_default();
    let mut any = false;
    for (name, i) in columns {
        match row.get(*i) {
            Ok(v) if !v.trim().is_empty() => {
                map.insert(name.clone(), v.trim().into());
                any = true;
            }
            Ok(_) => {}
            Err(why) => bad.push(issue(row.line, format!("{prefix}:{name}"), "", why)),
        }
    }
    (map, any)
}

/// `active`: yes or no, or the words themselves.
pub(super) fn flag(raw: &str) -> Option<bool> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "active" => Some(true),
        "inactive" => Some(false),
        _ => super::yes_no(raw),
    }
}

fn problems(
    run: &Run,
    line: i64,
    e: ServiceError,
    value_of: impl Fn(&str) -> String,
) -> Result<Vec<Issue>> {
    match e {
        ServiceError::Validation(d) => Ok(d
            .0
            .into_iter()
            .map(|f| {
                let heading = run.heading_of_field(&f.field);
                issue(line, heading.clone(), &value_of(&heading), f.message)
            })
            .collect()),
        ServiceError::Conflict(m) => Ok(vec![issue(line, run.heading("username"), "", m)]),
        other => Err(other),
    }
}

impl Service {
    /// First pass: creates or updates each row's learner (without manager and groups).
    pub(super) async fn import_people_rows(
        &self,
        tx: &mut WriteTx,
        run: &mut Run,
        rows: &[Row],
    ) -> Result<Counts> {
        let mut c = Counts::default();
        let mut issues = Vec::new();
        let dry = run.settings.dry_run;
        for row in rows {
            match run.rejected_by_duplicate(row) {
                Some(d) if d.rejected => {
                    issues.push(d);
                    c.rejected += 1;
                    continue;
                }
                Some(d) => {
                    issues.push(d);
                    c.skipped += 1;
                    continue;
                }
                None => {}
            }
            let mut bad = Vec::new();
            let mut get = |name: &str| match run.text(row, name) {
                Ok(v) => v,
                Err(why) => {
                    bad.push(issue(row.line, run.heading(name), "", why));
                    None
                }
            };
            let username = get("username");
            let legal_name = get("legal_name");
            let email = get("email");
            let time_zone = get("time_zone");
            let end_date = get("end_date");
            let active_raw = get("active");
            let Some(username) = username else {
                if bad.is_empty() {
                    bad.push(issue(row.line, run.heading("username"), "", "is required"));
                }
                issues.extend(bad);
                c.rejected += 1;
                continue;
            };
            let active = match active_raw.as_deref() {
                None => None,
                Some(a) => match flag(a) {
                    Some(b) => Some(b),
                    None => {
                        bad.push(issue(
                            row.line,
                            run.heading("active"),
                            a,
                            "must be 1 or 0 (or true or false)",
                        ));
                        None
                    }
                },
            };
            let base = learner_store::by_username(tx.conn(), &username).await?;
            let (attributes, any_attr) = merged(
                row,
                &run.cols.attributes,
                "attr",
                base.as_ref().map(|(_, l)| &l.attributes),
                &mut bad,
            );
            let (external_ids, any_ext) = merged(
                row,
                &run.cols.external_ids,
                "ext",
                base.as_ref().map(|(_, l)| &l.external_ids),
                &mut bad,
            );
            if !bad.is_empty() {
                issues.extend(bad);
                c.rejected += 1;
                continue;
            }
            let draft = LearnerDraft {
                username: base.is_none().then(|| username.clone()),
                legal_name: legal_name.clone(),
                email: email.clone().map(Some),
                external_ids: any_ext.then_some(external_ids),
                manager: None,
                groups: None,
                time_zone: time_zone.clone().map(Some),
                active,
                end_date: end_date.clone().map(Some),
                attributes: any_attr.then_some(attributes),
            };
            let value_of = |heading: &str| -> String {
                run.cols
                    .headings
                    .iter()
                    .position(|h| h.trim() == heading)
                    .and_then(|i| row.get(i).ok())
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            };
            let resolved = match resolve(tx.conn(), draft, base.as_ref().map(|(_, l)| l)).await {
                Ok(r) => r,
                Err(e) => {
                    issues.extend(problems(run, row.line, e, value_of)?);
                    c.rejected += 1;
                    continue;
                }
            };
            match base {
                Some((id, before)) => {
                    if resolved.learner == before {
                        c.skipped += 1;
                        issues.push(note(
                            row.line,
                            run.heading("username"),
                            &username,
                            "left out: no change",
                        ));
                        continue;
                    }
                    if !dry {
                        let manager_id = learner_store::manager_id(tx.conn(), id).await?;
                        learner_store::update(
                            tx.conn(),
                            id,
                            &resolved.learner,
                            manager_id,
                            self.now_ms(),
                        )
                        .await?;
                    }
                    c.imported += 1;
                }
                None => {
                    if !dry {
                        learner_store::insert(tx.conn(), &resolved.learner, None, self.now_ms())
                            .await?;
                    }
                    c.imported += 1;
                    c.learners_created += 1;
                }
            }
        }
        store::add_issues(tx.conn(), run.job, &issues).await?;
        Ok(c)
    }

    /// Second pass: each row's manager and groups (the groups a row lists are the
    /// learner's groups from then on; an empty cell leaves them as they are).
    pub(super) async fn import_people_links(
        &self,
        tx: &mut WriteTx,
        run: &mut Run,
        rows: &[Row],
    ) -> Result<Counts> {
        let mut c = Counts::default();
        let mut issues = Vec::new();
        let has_links =
            run.cols.named.contains_key("manager") || run.cols.named.contains_key("groups");
        if !has_links || run.settings.dry_run {
            // A dry run created no one, so there is nothing to link; the first pass has
            // checked every row that could be checked without writing.
            return Ok(c);
        }
        for row in rows {
            if matches!(
                run.dups.get(&row.line),
                Some(Dup::Rejected(_) | Dup::Replaced(_))
            ) {
                continue;
            }
            let (Ok(Some(username)), Ok(manager), Ok(groups)) = (
                run.text(row, "username"),
                run.text(row, "manager"),
                run.text(row, "groups"),
            ) else {
                continue;
            };
            if manager.is_none() && groups.is_none() {
                continue;
            }
            // Rows the first pass refused have no learner: they are reported already.
            let Some((id, before)) = learner_store::by_username(tx.conn(), &username).await? else {
                continue;
            };
            let group_list = groups.as_ref().map(|g| {
                g.split([';', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            });
            if manager.as_deref() == Some(username.as_str()) {
                issues.push(issue(
                    row.line,
                    run.heading("manager"),
                    &username,
                    "a learner cannot be their own manager",
                ));
                c.rejected += 1;
                continue;
            }
            let draft = LearnerDraft {
                manager: manager.clone().map(Some),
                groups: group_list.clone(),
                ..Default::default()
            };
            let value_of = |heading: &str| -> String {
                if heading == run.heading("manager") {
                    manager.clone().unwrap_or_default()
                } else {
                    groups.clone().unwrap_or_default()
                }
            };
            let r = match resolve(tx.conn(), draft, Some(&before)).await {
                Ok(r) => r,
                Err(e) => {
                    issues.extend(problems(run, row.line, e, value_of)?);
                    c.rejected += 1;
                    continue;
                }
            };
            if r.learner == before {
                continue;
            }
            learner_store::update(tx.conn(), id, &r.learner, r.manager_id, self.now_ms()).await?;
            if let Some(ids) = &r.group_ids {
                let joined = set_groups(tx.conn(), id, &before.groups, ids).await?;
                self.award_joiner(tx, &format!("import:{}", run.job), id, &joined)
                    .await?;
            }
        }
        store::add_issues(tx.conn(), run.job, &issues).await?;
        Ok(c)
    }
}
