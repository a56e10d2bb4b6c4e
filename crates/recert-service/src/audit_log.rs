//! The audit log for auditors (SPEC §5): every change, filtered by actor, action, subject
//! and days, newest first, with a total; and the hash chain checked on demand. The audit
//! page, its exports and `recert audit verify` call these.

use crate::auth::Action;
use crate::exports::{Cell, Table};
use crate::history::{Described, describe};
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::names::parse_date;
pub use recert_store::audit::Verdict;
use recert_store::audit::{self as store, Search};

/// The filters, as received (empty = any).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// First day (UTC), `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day (UTC), inclusive.
    pub to: Option<String>,
}

/// A page of the log and how many events match in all.
#[derive(Debug)]
pub struct AuditPage {
    pub page: Page<Described>,
    pub total: i64,
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl AuditQuery {
    fn search(&self) -> Result<Search> {
        let day_ms = |field: &str, raw: &Option<String>, plus: i64| -> Result<Option<i64>> {
            let Some(raw) = given(raw) else {
                return Ok(None);
            };
            let d = recert_domain::dates::add_days(parse_date(field, &raw)?, plus);
            let ts = d
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(ServiceError::internal)?
                .timestamp();
            Ok(Some(ts.as_millisecond()))
        };
        let s = Search {
            actor: given(&self.actor),
            action: given(&self.action),
            subject_type: given(&self.subject_type),
            subject_id: given(&self.subject_id),
            from_ms: day_ms("from", &self.from, 0)?,
            to_ms: day_ms("to", &self.to, 1)?,
        };
        if let (Some(f), Some(t)) = (s.from_ms, s.to_ms)
            && f >= t
        {
            return Err(ServiceError::field(
                "to",
                "Enter a last day on or after the first day",
            ));
        }
        Ok(s)
    }
}

impl Service {
    /// One page of the audit log, newest first (admins and auditors).
    pub async fn audit_log(
        &self,
        who: &Principal,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<AuditPage> {
        who.require(Action::ReadAudit)?;
        let search = query.search()?;
        let mut conn = self.store.read().await?;
        let before = (page.after > 0).then_some(page.after);
        let rows = store::search(&mut conn, &search, before, page.fetch()).await?;
        let total = store::count_matching(&mut conn, &search).await?;
        let page = page.finish(rows, |e| e.seq, |e| Ok(describe(&e)))?;
        Ok(AuditPage { page, total })
    }

    /// Every matching event as a sheet (an auditor's export), newest first.
    pub async fn audit_table(&self, who: &Principal, query: &AuditQuery) -> Result<Table> {
        who.require(Action::ReadAudit)?;
        let search = query.search()?;
        let mut conn = self.store.read().await?;
        let mut t = Table::new(
            "Audit log",
            vec![
                "seq",
                "at_utc",
                "actor",
                "action",
                "subject_type",
                "subject_id",
                "reason",
                "changes",
                "hash",
            ],
        );
        let mut before = None;
        loop {
            let rows = store::search(&mut conn, &search, before, 1000).await?;
            let Some(last) = rows.last() else { break };
            before = Some(last.seq);
            for e in &rows {
                let d = describe(e);
                let changes: Vec<String> = d
                    .changes
                    .iter()
                    .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
                    .collect();
                t.rows.push(vec![
                    Cell::Int(e.seq),
                    d.at.into(),
                    d.actor.into(),
                    d.action.into(),
                    d.subject_type.into(),
                    d.subject_id.into(),
                    d.reason.unwrap_or_default().into(),
                    changes.join("; ").into(),
                    e.hash.as_str().into(),
                ]);
            }
        }
        Ok(t)
    }

    /// Recomputes the hash chain (what `recert audit verify` does), for admins and auditors.
    pub async fn verify_audit(&self, who: &Principal) -> Result<Verdict> {
        who.require(Action::ReadAudit)?;
        let mut conn = self.store.read().await?;
        Ok(store::verify(&mut conn).await?)
    }
}
