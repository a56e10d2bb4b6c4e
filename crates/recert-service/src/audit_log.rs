//! The audit log for auditors (SPEC §5): every change, filtered by actor, action, subject
//! and days, newest first, with a total; and the hash chain checked on demand. The audit
//! page, its exports and `recert audit verify` call these.

use crate::auth::Action;
use crate::exports::{Cell, Download, Format};
use crate::history::{Described, describe};
use crate::listing::{Listed, Sheet, Sort, Window};
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
    /// One window of the events matching, in the order asked (the audit page), with
    /// the total.
    pub async fn audit_listed(
        &self,
        who: &Principal,
        query: &AuditQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<Described>> {
        who.require(Action::ReadAudit)?;
        let search = query.search()?;
        self.listed(&search, sort, window, |e| Ok(describe(&e)))
            .await
    }

    /// One window of the events matching, as stored (with before/after and the hashes
    /// that chain them), for the API.
    pub async fn audit_events(
        &self,
        who: &Principal,
        query: &AuditQuery,
        sort: &Sort,
        window: Window,
    ) -> Result<Listed<crate::AuditEvent>> {
        who.require(Action::ReadAudit)?;
        let search = query.search()?;
        self.listed(&search, sort, window, Ok).await
    }

    /// Every matching event, in the order asked, as a CSV or XLSX file written while it
    /// is read (an auditor's export of any size).
    pub fn audit_export(
        &self,
        who: &Principal,
        query: &AuditQuery,
        sort: &Sort,
        format: Format,
    ) -> Result<Download> {
        who.require(Action::ReadAudit)?;
        let sheet = Sheet {
            stem: "audit-log".into(),
            title: "Audit log".into(),
            headers: AUDIT_HEADERS,
        };
        self.export(Some(query.search()?), sort, format, sheet, |e| {
            Ok(event_cells(&e))
        })
    }

    /// Recomputes the hash chain (what `recert audit verify` does), for admins and auditors.
    pub async fn verify_audit(&self, who: &Principal) -> Result<Verdict> {
        who.require(Action::ReadAudit)?;
        let mut conn = self.store.read().await?;
        Ok(store::verify(&mut conn).await?)
    }
}

/// The columns of an audit export.
const AUDIT_HEADERS: &[&str] = &[
    "seq",
    "at_utc",
    "actor",
    "action",
    "subject_type",
    "subject_id",
    "reason",
    "changes",
    "hash",
];

/// An event as a row of an export: what changed as "field: before → after".
fn event_cells(e: &recert_store::audit::Event) -> Vec<Cell> {
    let d = describe(e);
    let changes: Vec<String> = d
        .changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
        .collect();
    vec![
        Cell::Int(e.seq),
        d.at.into(),
        d.actor.into(),
        d.action.into(),
        d.subject_type.into(),
        d.subject_id.into(),
        d.reason.unwrap_or_default().into(),
        changes.join("; ").into(),
        e.hash.as_str().into(),
    ]
}
