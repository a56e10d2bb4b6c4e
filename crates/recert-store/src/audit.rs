//! The tamper-evident audit trail: every change appends an event whose hash covers the
//! previous event's hash, so editing or deleting any stored event breaks the chain.

use crate::rows;
use crate::sql::{Arg, SortKeys, Sql};
use crate::{Result, WriteTx};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// A change to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub at: Timestamp,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A stored event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Event {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

struct Link<'a> {
    seq: i64,
    at_ms: i64,
    actor: &'a str,
    action: &'a str,
    subject_type: &'a str,
    subject_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
    prev_hash: &'a str,
}

/// SHA-256 over a JSON array of the stored fields: unambiguous (no delimiter collisions)
/// and recomputable from the rows alone.
fn hash(link: &Link<'_>) -> String {
    let material = serde_json::json!([
        link.seq,
        link.at_ms,
        link.actor,
        link.action,
        link.subject_type,
        link.subject_id,
        link.before,
        link.after,
        link.prev_hash
    ]);
    let digest = Sha256::digest(material.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl WriteTx {
    /// Appends an event to the chain inside this transaction.
    pub async fn audit(&mut self, ev: NewEvent<'_>) -> Result<()> {
        let seq = self.head.0 + 1;
        let prev = self.head.1.clone();
        let before = ev.before.as_ref().map(rows::to_json).transpose()?;
        let after = ev.after.as_ref().map(rows::to_json).transpose()?;
        let at_ms = ev.at.as_millisecond();
        let h = hash(&Link {
            seq,
            at_ms,
            actor: ev.actor,
            action: ev.action,
            subject_type: ev.subject_type,
            subject_id: ev.subject_id,
            before: before.as_deref(),
            after: after.as_deref(),
            prev_hash: &prev,
        });
        crate::sql::q(
            "INSERT INTO audit_events (seq, at, actor, action, subject_type, subject_id, \
             before_json, after_json, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(seq)
        .bind(at_ms)
        .bind(ev.actor)
        .bind(ev.action)
        .bind(ev.subject_type)
        .bind(ev.subject_id)
        .bind(before)
        .bind(after)
        .bind(&prev)
        .bind(&h)
        .execute(self.conn())
        .await?;
        // The head row is written once, at commit (it stays locked by this transaction).
        self.head = (seq, h);
        self.head_moved = true;
        Ok(())
    }
}

fn event(row: &sqlx::any::AnyRow) -> Result<Event> {
    Ok(Event {
        seq: rows::int(row, "seq")?,
        at: rows::timestamp(row, "at")?,
        actor: rows::text(row, "actor")?,
        action: rows::text(row, "action")?,
        subject_type: rows::text(row, "subject_type")?,
        subject_id: rows::text(row, "subject_id")?,
        before: rows::opt_json(row, "before_json")?,
        after: rows::opt_json(row, "after_json")?,
        prev_hash: rows::text(row, "prev_hash")?,
        hash: rows::text(row, "hash")?,
    })
}

/// Events about one subject (or all when `subject` is `None`), oldest first, after `after_seq`.
pub async fn list(
    conn: &mut AnyConnection,
    subject: Option<(&str, &str)>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<Event>> {
    let mut q = Sql::new("SELECT * FROM audit_events WHERE seq > ");
    let p = q.arg(Arg::Int(after_seq));
    q.push(&p);
    if let Some((t, id)) = subject {
        let pt = q.arg(Arg::Text(t.to_owned()));
        let pi = q.arg(Arg::Text(id.to_owned()));
        q.push(&format!(" AND subject_type = {pt} AND subject_id = {pi}"));
    }
    let pl = q.arg(Arg::Int(limit));
    q.push(&format!(" ORDER BY seq LIMIT {pl}"));
    q.query().fetch_all(conn).await?.iter().map(event).collect()
}

/// The events about any of these subjects (type, id), newest first, at most `limit`.
/// One query per 200 subjects, not one per subject.
pub async fn about(
    conn: &mut AnyConnection,
    subjects: &[(&str, &str)],
    limit: i64,
) -> Result<Vec<Event>> {
    let mut out = Vec::new();
    for chunk in subjects.chunks(200) {
        let mut q = Sql::new("SELECT * FROM audit_events WHERE ");
        for (i, (t, id)) in chunk.iter().enumerate() {
            let pt = q.arg(Arg::Text((*t).to_owned()));
            let pi = q.arg(Arg::Text((*id).to_owned()));
            let or = if i == 0 { "" } else { " OR " };
            q.push(&format!("{or}(subject_type = {pt} AND subject_id = {pi})"));
        }
        let pl = q.arg(Arg::Int(limit));
        q.push(&format!(" ORDER BY seq DESC LIMIT {pl}"));
        for row in q.query().fetch_all(&mut *conn).await? {
            out.push(event(&row)?);
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.seq));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}

/// The outcome of recomputing the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Intact { events: i64 },
    Broken { seq: i64, reason: String },
}

/// Recomputes every link of the chain, in pages, and checks the head points at the last one.
pub async fn verify(conn: &mut AnyConnection) -> Result<Verdict> {
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1;
    loop {
        let rows_ = crate::sql::q(
            "SELECT seq, at, actor, action, subject_type, subject_id, before_json, after_json, \
             prev_hash, hash FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT 1000",
        )
        .bind(expected_seq)
        .fetch_all(&mut *conn)
        .await?;
        if rows_.is_empty() {
            break;
        }
        for row in &rows_ {
            let seq = rows::int(row, "seq")?;
            if seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: "event missing".into(),
                });
            }
            let stored_prev = rows::text(row, "prev_hash")?;
            if stored_prev != prev {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "previous hash does not match".into(),
                });
            }
            let before = rows::opt_text(row, "before_json")?;
            let after = rows::opt_text(row, "after_json")?;
            let actor = rows::text(row, "actor")?;
            let action = rows::text(row, "action")?;
            let st = rows::text(row, "subject_type")?;
            let sid = rows::text(row, "subject_id")?;
            let h = hash(&Link {
                seq,
                at_ms: rows::int(row, "at")?,
                actor: &actor,
                action: &action,
                subject_type: &st,
                subject_id: &sid,
                before: before.as_deref(),
                after: after.as_deref(),
                prev_hash: &stored_prev,
            });
            if h != rows::text(row, "hash")? {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "event content does not match its hash".into(),
                });
            }
            prev = h;
            expected_seq += 1;
        }
    }
    let head = crate::sql::q("SELECT seq, last_hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    if rows::int(&head, "seq")? != expected_seq - 1 || rows::text(&head, "last_hash")? != prev {
        return Ok(Verdict::Broken {
            seq: expected_seq,
            reason: "events after the last stored one were removed".into(),
        });
    }
    Ok(Verdict::Intact {
        events: expected_seq - 1,
    })
}

/// What an auditor filters the trail by. Text filters match exactly (an actor such as
/// `user:ana`, an action such as `award.revoked`, a subject type and id); days bound the
/// events' instants (`from_ms` inclusive, `to_ms` exclusive).
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

fn push_search(q: &mut Sql, s: &Search) {
    for (col, v) in [
        ("actor", &s.actor),
        ("action", &s.action),
        ("subject_type", &s.subject_type),
        ("subject_id", &s.subject_id),
    ] {
        if let Some(v) = v {
            let p = q.arg(Arg::Text(v.clone()));
            q.push(&format!(" AND {col} = {p}"));
        }
    }
    if let Some(v) = s.from_ms {
        let p = q.arg(Arg::Int(v));
        q.push(&format!(" AND at >= {p}"));
    }
    if let Some(v) = s.to_ms {
        let p = q.arg(Arg::Int(v));
        q.push(&format!(" AND at < {p}"));
    }
}

/// The sequence number of the newest event (0 when there is none): it moves with every
/// write, so it tells whether anything changed since it was last read.
pub async fn head_seq(conn: &mut AnyConnection) -> Result<i64> {
    let row = crate::sql::q("SELECT COALESCE(MAX(seq), 0) AS n FROM audit_events")
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

impl crate::listing::Listing for Search {
    type Row = Event;
    const SELECT: &'static str = "SELECT * FROM audit_events";
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM audit_events";
    const ID: &'static str = "seq";
    /// `at` is the order events were recorded in.
    const SORTS: SortKeys = &[
        ("at", "seq"),
        ("actor", "actor"),
        ("action", "action"),
        ("subject", "subject_type || ':' || subject_id"),
    ];

    fn push_filter(&self, q: &mut Sql) {
        push_search(q, self);
    }

    fn row(r: &sqlx::any::AnyRow) -> Result<Event> {
        event(r)
    }
}
