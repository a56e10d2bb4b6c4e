//! Notices and the outbox (see migrations 0013 and 0015): which awards the scheduler
//! looks at, the notices recorded per award, messages waiting to be delivered, and the
//! last pass.

use crate::{Backend, Result, Writer, rows};
use recert_domain::Date;
use recert_domain::notices::Stage;
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// Rows given to one statement as a single JSON array parameter, read back as a table
/// (`json_each` on SQLite, `json_array_elements` on PostgreSQL): one prepared statement
/// serves any number of rows, and SQLite, which looks numbered parameters up by a linear
/// scan, is spared hundreds of them (measured with `recert bench reminders_1m`).
struct JsonRows(Backend);

impl JsonRows {
    /// The table of the array bound as `$1`, aliased `j`.
    fn table(&self) -> &'static str {
        match self.0 {
            Backend::Sqlite => "json_each($1) AS j",
            Backend::Postgres => "json_array_elements($1::json) AS j",
        }
    }

    /// Element `i` of each row as text.
    fn text(&self, i: usize) -> String {
        match self.0 {
            Backend::Sqlite => format!("(j.value ->> {i})"),
            Backend::Postgres => format!("(j ->> {i})"),
        }
    }

    /// Element `i` of each row as a number.
    fn int(&self, i: usize) -> String {
        match self.0 {
            Backend::Sqlite => format!("(j.value ->> {i})"),
            Backend::Postgres => format!("(j ->> {i})::bigint"),
        }
    }
}

/// An award whose notices are due: the little a notice needs of it, the addresses the
/// notice goes to and the stages already recorded for it.
#[derive(Debug, Clone)]
pub struct Due {
    pub row_id: i64,
    pub cert_id: String,
    pub program_id: i64,
    /// The holder's legal name.
    pub legal_name: String,
    pub issued_on: Date,
    /// Its expiry and last day of grace; `None` when it is no longer current or never
    /// expires (then no notice is left to send).
    pub dates: Option<(Date, Date)>,
    /// The holder's email address, if any.
    pub email: Option<String>,
    /// The holder's manager's name and email address, when both are known.
    pub manager: Option<(String, String)>,
    /// The stages (`reminder:90`, `expired`…) recorded for it, sent or skipped.
    pub recorded: Vec<String>,
}

const DUE_SELECT: &str = "SELECT a.id, a.cert_id, a.program_id, a.issued_on, a.is_current, a.always_valid, \
    a.expires_on, a.grace_ends_on, l.legal_name, l.email AS learner_email, \
    m.legal_name AS manager_name, m.email AS manager_email \
    FROM awards a JOIN learners l ON l.id = a.learner_id LEFT JOIN learners m ON m.id = l.manager_id";

fn due_of(r: &sqlx::any::AnyRow) -> Result<Due> {
    let present = |v: Option<String>| v.filter(|s| !s.is_empty());
    let manager = match (
        rows::opt_text(r, "manager_name")?,
        present(rows::opt_text(r, "manager_email")?),
    ) {
        (Some(name), Some(email)) => Some((name, email)),
        _ => None,
    };
    // The stored flags and derived dates say the same as the award's own rules
    // (`is_current`, `expiry`, `grace_ends`): the store keeps them so on every write.
    let dates = if rows::flag(r, "is_current")? && !rows::flag(r, "always_valid")? {
        match (
            rows::opt_date(r, "expires_on")?,
            rows::opt_date(r, "grace_ends_on")?,
        ) {
            (Some(x), Some(g)) => Some((x, g)),
            _ => None,
        }
    } else {
        None
    };
    Ok(Due {
        row_id: rows::int(r, "id")?,
        cert_id: rows::text(r, "cert_id")?,
        program_id: rows::int(r, "program_id")?,
        legal_name: rows::text(r, "legal_name")?,
        issued_on: rows::date(r, "issued_on")?,
        dates,
        email: present(rows::opt_text(r, "learner_email")?),
        manager,
        recorded: Vec::new(),
    })
}

/// One award as a notice about it needs it, by certificate ID (without its recorded
/// stages): what delivery composes the message from.
pub async fn target(conn: &mut AnyConnection, cert_id: &str) -> Result<Option<Due>> {
    crate::sql::q_assembled(format!("{DUE_SELECT} WHERE a.cert_id = $1"))
        .bind(cert_id)
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(due_of)
        .transpose()
}

/// Awards whose notices are due by `today` (`YYYY-MM-DD`) on the queue (migration 0015),
/// oldest first, at most `limit`, in two queries whatever their number.
///
/// Several schedulers on one PostgreSQL database never take the same awards: every write
/// transaction first locks the audit chain's head row ([`crate::Store::begin_write`]), so
/// their batches run one after the other and each reads what the one before committed.
/// Locking the award rows as well (`FOR UPDATE`) would write to each of them for nothing
/// (measured with `recert bench reminders_1m`).
pub async fn due(conn: &mut Writer, today: &str, limit: i64) -> Result<Vec<Due>> {
    let conn: &mut AnyConnection = conn;
    let found = crate::sql::q_assembled(format!(
        "{DUE_SELECT} JOIN notice_queue q ON q.award_id = a.id WHERE q.due_on <= $1 \
         ORDER BY q.due_on, q.award_id LIMIT $2"
    ))
    .bind(today)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<Due> = Vec::with_capacity(found.len());
    let mut taken = HashSet::with_capacity(found.len());
    for r in &found {
        let d = due_of(r)?;
        // An award may have several entries due (one left behind by a change).
        if taken.insert(d.row_id) {
            out.push(d);
        }
    }
    if out.is_empty() {
        return Ok(out);
    }
    // Row ids are numbers this query just read: written into the text as they are.
    let ids: Vec<String> = out.iter().map(|d| d.row_id.to_string()).collect();
    let mut by_award: HashMap<i64, Vec<String>> = HashMap::new();
    for r in crate::sql::q_assembled(format!(
        "SELECT award_id, stage FROM notices WHERE award_id IN ({})",
        ids.join(",")
    ))
    .fetch_all(&mut *conn)
    .await?
    {
        by_award
            .entry(rows::int(&r, "award_id")?)
            .or_default()
            .push(rows::text(&r, "stage")?);
    }
    for d in &mut out {
        d.recorded = by_award.remove(&d.row_id).unwrap_or_default();
    }
    Ok(out)
}

/// Takes these awards' entries due by `today` off the queue and queues each again for its
/// next notice (`None`: none left, until it changes), in two statements.
pub async fn requeue(
    conn: &mut Writer,
    backend: Backend,
    today: &str,
    next: &[(i64, Option<Date>)],
) -> Result<()> {
    if next.is_empty() {
        return Ok(());
    }
    let conn: &mut AnyConnection = conn;
    // Row ids are numbers the pass read: written into the text as they are.
    let ids: Vec<String> = next.iter().map(|(id, _)| id.to_string()).collect();
    crate::sql::q_assembled(format!(
        "DELETE FROM notice_queue WHERE due_on <= $1 AND award_id IN ({})",
        ids.join(",")
    ))
    .bind(today)
    .execute(&mut *conn)
    .await?;
    let rows: Vec<serde_json::Value> = next
        .iter()
        .filter_map(|(id, day)| day.map(|d| serde_json::json!([rows::date_text(d), id])))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let j = JsonRows(backend);
    crate::sql::q_assembled(format!(
        "INSERT INTO notice_queue (due_on, award_id) SELECT {}, {} FROM {} WHERE true \
         ON CONFLICT DO NOTHING",
        j.text(0),
        j.int(1),
        j.table()
    ))
    .bind(serde_json::Value::Array(rows).to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// A stage of an award to record as sent or skipped.
#[derive(Debug, Clone)]
pub struct Notice {
    pub award_row: i64,
    pub stage: Stage,
    pub due_on: Date,
    pub sent: bool,
}

/// Records stages of awards, each at most once, in one statement.
///
/// The caller holds the write lock (see [`due`]) and read the awards' recorded stages
/// under it, so none of these can have
/// been recorded by anyone else: if one was, the rules were broken somewhere, and the
/// error rolls the batch back rather than send a notice twice.
pub async fn record(
    conn: &mut Writer,
    backend: Backend,
    notices: &[Notice],
    at_ms: i64,
) -> Result<()> {
    if notices.is_empty() {
        return Ok(());
    }
    let conn: &mut AnyConnection = conn;
    let rows: Vec<serde_json::Value> = notices
        .iter()
        .map(|n| {
            serde_json::json!([
                n.award_row,
                n.stage.key(),
                rows::date_text(n.due_on),
                i64::from(n.sent)
            ])
        })
        .collect();
    let j = JsonRows(backend);
    // A plain insert: a stage recorded already breaks the primary key and rolls the
    // batch back (cheaper on PostgreSQL than ON CONFLICT's speculative insertion).
    let done = crate::sql::q_assembled(format!(
        "INSERT INTO notices (award_id, stage, due_on, sent, at_ms) \
         SELECT {}, {}, {}, {}, $2 FROM {}",
        j.int(0),
        j.text(1),
        j.text(2),
        j.int(3),
        j.table()
    ))
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(at_ms)
    .execute(conn)
    .await?;
    let expected = notices.len() as u64;
    if done.rows_affected() != expected {
        return Err(crate::StoreError::Conflict {
            constraint: format!(
                "notices (award_id, stage): {} of {expected} recorded already; the batch is rolled back",
                expected - done.rows_affected()
            ),
        });
    }
    Ok(())
}

/// A message to deliver.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `email`.
    pub channel: &'static str,
    /// The event type (`award.reminder`…).
    pub event: &'static str,
    pub award: Option<String>,
    pub dedupe_key: String,
    /// The message as JSON: an email whole, or `{"notice": stage}` for a notice, composed
    /// when it goes out.
    pub message: String,
}

/// Queues messages in one statement; those whose key was queued before are left out.
/// Answers how many were queued.
pub async fn enqueue(
    conn: &mut Writer,
    backend: Backend,
    messages: &[NewMessage],
    now_ms: i64,
) -> Result<u64> {
    insert_messages(
        conn,
        backend,
        messages,
        now_ms,
        " ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .await
}

/// Queues messages whose keys cannot have been queued before: the notices a scheduler
/// pass records in the same transaction (each stage once per award, by the notices'
/// primary key). A plain insert — on PostgreSQL ON CONFLICT's speculative insertion cost
/// 40% more (`recert bench reminders_1m`); a key queued already breaks the unique index
/// and rolls the batch back, as a notice recorded twice does.
pub async fn enqueue_new(
    conn: &mut Writer,
    backend: Backend,
    messages: &[NewMessage],
    now_ms: i64,
) -> Result<u64> {
    insert_messages(conn, backend, messages, now_ms, "").await
}

async fn insert_messages(
    conn: &mut Writer,
    backend: Backend,
    messages: &[NewMessage],
    now_ms: i64,
    on_conflict: &str,
) -> Result<u64> {
    if messages.is_empty() {
        return Ok(0);
    }
    let conn: &mut AnyConnection = conn;
    let rows: Vec<serde_json::Value> = messages
        .iter()
        .map(|m| serde_json::json!([m.channel, m.event, m.award, m.dedupe_key, m.message]))
        .collect();
    let j = JsonRows(backend);
    let done = crate::sql::q_assembled(format!(
        "INSERT INTO outbox (channel, event, award, dedupe_key, message, state, attempts, next_attempt_ms, created_ms) \
         SELECT {}, {}, {}, {}, {}, 'pending', 0, $2, $2 FROM {} WHERE true{on_conflict}",
        j.text(0),
        j.text(1),
        j.text(2),
        j.text(3),
        j.text(4),
        j.table()
    ))
    .bind(serde_json::Value::Array(rows).to_string())
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A message in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub channel: String,
    pub event: String,
    pub award: Option<String>,
    pub message: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
}

fn queued(r: &sqlx::any::AnyRow) -> Result<Queued> {
    Ok(Queued {
        id: rows::int(r, "id")?,
        channel: rows::text(r, "channel")?,
        event: rows::text(r, "event")?,
        award: rows::opt_text(r, "award")?,
        message: rows::text(r, "message")?,
        state: rows::text(r, "state")?,
        attempts: rows::int(r, "attempts")?,
        next_attempt_ms: rows::int(r, "next_attempt_ms")?,
        last_error: rows::opt_text(r, "last_error")?,
        created_ms: rows::int(r, "created_ms")?,
        sent_ms: rows::opt_int(r, "sent_ms")?,
    })
}

const COLUMNS: &str = "id, channel, event, award, message, state, attempts, next_attempt_ms, \
                       last_error, created_ms, sent_ms";

/// Takes up to `limit` pending messages due by `now_ms` for delivery, leased until
/// `lease_until_ms` (a crashed deliverer's messages come back after the lease).
pub async fn claim(
    conn: &mut Writer,
    backend: Backend,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
    with_email: bool,
) -> Result<Vec<Queued>> {
    let conn: &mut AnyConnection = conn;
    // Without a mail server, email waits and webhooks still go.
    let channel = if with_email {
        ""
    } else {
        " AND channel <> 'email'"
    };
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = crate::sql::q_assembled(format!(
        "UPDATE outbox SET locked_until_ms = $1 WHERE id IN (SELECT id FROM outbox \
         WHERE state = 'pending' AND next_attempt_ms <= $2{channel} \
         AND (locked_until_ms IS NULL OR locked_until_ms < $2) ORDER BY id LIMIT $3{lock}) \
         RETURNING {COLUMNS}"
    ))
    .bind(lease_until_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<Queued> = rows.iter().map(queued).collect::<Result<_>>()?;
    out.sort_by_key(|q| q.id);
    Ok(out)
}

/// A delivery's outcome: sent, or failed with the next attempt at `retry_at_ms` (`None`:
/// given up).
pub async fn delivered(
    conn: &mut Writer,
    id: i64,
    now_ms: i64,
    outcome: std::result::Result<(), (String, Option<i64>)>,
) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    match outcome {
        Ok(()) => {
            crate::sql::q(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_ms = $1, \
                 locked_until_ms = NULL, last_error = NULL WHERE id = $2",
            )
            .bind(now_ms)
            .bind(id)
            .execute(conn)
            .await?;
        }
        Err((error, retry_at)) => {
            crate::sql::q(
                "UPDATE outbox SET state = $1, attempts = attempts + 1, next_attempt_ms = $2, \
                 locked_until_ms = NULL, last_error = $3 WHERE id = $4",
            )
            .bind(if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            })
            .bind(retry_at.unwrap_or(now_ms))
            .bind(error)
            .bind(id)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// A message that will not be sent after all (its reason kept for the outbox page).
pub async fn cancel(conn: &mut Writer, id: i64, reason: &str) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "UPDATE outbox SET state = 'cancelled', locked_until_ms = NULL, last_error = $1 WHERE id = $2",
    )
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts a message back in the queue, to be delivered at once. `false` when there is no
/// such message or it was already delivered.
pub async fn resend(conn: &mut Writer, id: i64, now_ms: i64) -> Result<bool> {
    let conn: &mut AnyConnection = conn;
    let done = crate::sql::q(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $1, locked_until_ms = NULL \
         WHERE id = $2 AND state IN ('pending', 'failed')",
    )
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Messages not yet delivered or given up.
pub async fn pending(conn: &mut AnyConnection) -> Result<i64> {
    let row = crate::sql::q("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
        .fetch_one(conn)
        .await?;
    rows::int(&row, "n")
}

/// Messages by state: pending, failed (given up), sent.
pub async fn counts(conn: &mut AnyConnection) -> Result<(i64, i64, i64)> {
    let row = crate::sql::q(
        "SELECT COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS pending, \
         COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
         COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) AS sent FROM outbox",
    )
    .fetch_one(conn)
    .await?;
    Ok((
        rows::int(&row, "pending")?,
        rows::int(&row, "failed")?,
        rows::int(&row, "sent")?,
    ))
}

/// One page of messages: given up first, then waiting, then sent; newest first within each.
pub async fn recent(
    conn: &mut AnyConnection,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Queued>, i64)> {
    let rows = crate::sql::q_assembled(format!(
        "SELECT {COLUMNS} FROM outbox ORDER BY CASE state WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, id DESC \
         LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = crate::sql::q("SELECT COUNT(*) AS n FROM outbox")
        .fetch_one(&mut *conn)
        .await?;
    Ok((
        rows.iter().map(queued).collect::<Result<_>>()?,
        rows::int(&total, "n")?,
    ))
}

/// When the latest complete scheduler pass ran.
pub async fn last_pass(conn: &mut AnyConnection) -> Result<Option<i64>> {
    let row = crate::sql::q("SELECT last_pass_ms FROM scheduler_state WHERE id = 1")
        .fetch_optional(conn)
        .await?;
    row.map(|r| rows::int(&r, "last_pass_ms")).transpose()
}

pub async fn set_last_pass(conn: &mut Writer, at_ms: i64) -> Result<()> {
    let conn: &mut AnyConnection = conn;
    crate::sql::q(
        "INSERT INTO scheduler_state (id, last_pass_ms) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET last_pass_ms = excluded.last_pass_ms",
    )
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// One line of a manager's weekly digest: a team member's current award that expires by
/// the digest's horizon or is in grace.
#[derive(Debug, Clone)]
pub struct DigestLine {
    pub manager_id: i64,
    pub manager_name: String,
    pub manager_email: String,
    pub legal_name: String,
    pub program_code: String,
    pub program_name: String,
    pub cert_id: String,
    pub expires_on: recert_domain::Date,
    pub grace_ends_on: recert_domain::Date,
}

/// The digest lines of every manager with an email address: their direct reports'
/// current awards expiring from `from` to `to`, or expired and still in grace on `from`,
/// by manager then expiry.
pub async fn digest_lines(
    conn: &mut AnyConnection,
    from: recert_domain::Date,
    to: recert_domain::Date,
) -> Result<Vec<DigestLine>> {
    crate::sql::q(
        "SELECT m.id AS manager_id, m.legal_name AS manager_name, m.email AS manager_email, \
         l.legal_name, p.code AS program_code, p.name AS program_name, a.cert_id, a.expires_on, a.grace_ends_on \
         FROM awards a JOIN learners l ON l.id = a.learner_id JOIN learners m ON m.id = l.manager_id \
         JOIN programs p ON p.id = a.program_id \
         WHERE a.is_current = 1 AND a.expires_on IS NOT NULL AND a.expires_on <= $2 AND a.grace_ends_on >= $1 \
         AND m.email IS NOT NULL AND m.email <> '' \
         ORDER BY m.id, a.expires_on, l.legal_name",
    )
    .bind(rows::date_text(from))
    .bind(rows::date_text(to))
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| {
        Ok(DigestLine {
            manager_id: rows::int(r, "manager_id")?,
            manager_name: rows::text(r, "manager_name")?,
            manager_email: rows::text(r, "manager_email")?,
            legal_name: rows::text(r, "legal_name")?,
            program_code: rows::text(r, "program_code")?,
            program_name: rows::text(r, "program_name")?,
            cert_id: rows::text(r, "cert_id")?,
            expires_on: rows::date(r, "expires_on")?,
            grace_ends_on: rows::date(r, "grace_ends_on")?,
        })
    })
    .collect()
}

/// Which messages the outbox page lists: all, or those in one state.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// pending, sent, failed or cancelled.
    pub state: Option<String>,
}

impl crate::listing::Listing for OutboxFilter {
    type Row = Queued;
    const SELECT: &'static str = "SELECT id, channel, event, award, message, state, attempts, \
        next_attempt_ms, last_error, created_ms, sent_ms FROM outbox";
    const COUNT: &'static str = "SELECT COUNT(*) AS n FROM outbox";
    const ID: &'static str = "id";
    const SORTS: crate::sql::SortKeys = &[
        // What needs a person first: given up, then waiting, then the rest.
        (
            "state",
            "CASE state WHEN 'failed' THEN 0 WHEN 'pending' THEN 1 WHEN 'cancelled' THEN 2 ELSE 3 END",
        ),
        ("queued", "created_ms"),
        ("event", "event"),
        ("attempts", "attempts"),
    ];

    fn push_filter(&self, q: &mut crate::sql::Sql) {
        if let Some(st) = &self.state {
            let p = q.arg(crate::sql::Arg::Text(st.clone()));
            q.push(&format!(" AND state = {p}"));
        }
    }

    fn row(r: &sqlx::any::AnyRow) -> Result<Queued> {
        queued(r)
    }
}
