//! Delivering the outbox (SPEC §3.7, §9): messages queued in the same transaction as what
//! caused them go out by email; a failure is retried with back-off (1 minute, 5, 30, 2
//! hours, 12) and given up after the sixth attempt, its reason kept for the outbox page.
//! Retries run on the real clock, even on the test clock: they are about the mail server,
//! not the certifications.

use crate::mail::Mailer;
use crate::{Principal, Result, Service};
use recert_store::notices as store;
use serde::Serialize;
use std::sync::Arc;

/// Delays before the 2nd, 3rd… attempt; after the last one a message is given up.
const BACKOFF_MS: [i64; 5] = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000];
/// How long a deliverer holds the messages it took.
const LEASE_MS: i64 = 120_000;

/// What the scheduler says about itself (`GET /api/v1/scheduler`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SchedulerView {
    /// The instant this instance takes as now (the test clock's on such an instance).
    pub now: String,
    /// When the latest complete pass ran (by that clock), by any instance.
    pub last_pass_at: Option<String>,
    /// Messages not yet delivered or given up.
    pub outbox_pending: i64,
}

/// What one scheduler pass did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TickReport {
    /// Certifications renewed because their approved credits already met the
    /// requirement when the renewal window opened.
    pub credit_renewals: usize,
    pub notices: crate::notices::PassReport,
    /// Weekly manager digests queued (once per manager and week).
    pub digests: usize,
    /// Messages delivered (email accepted by the mail server).
    pub delivered: usize,
}

impl Service {
    /// This service, delivering email with `mailer`.
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(Arc::new(mailer));
        self
    }

    /// Delivers the messages that are due: email (which waits without a mail server
    /// configured) and webhooks. Answers how many went out.
    pub async fn deliver_outbox(&self) -> Result<usize> {
        let mailer = self.mailer.clone();
        let mut sent = 0;
        loop {
            let now = self.real_now_ms();
            let mut tx = self.store.begin_write().await?;
            let batch = store::claim(
                tx.conn(),
                self.store.backend(),
                now,
                now + LEASE_MS,
                50,
                mailer.is_some(),
            )
            .await?;
            tx.commit().await?;
            if batch.is_empty() {
                return Ok(sent);
            }
            // Emails composed on one connection, released before the mail server is
            // spoken to.
            let mut composed = Vec::with_capacity(batch.len());
            {
                let mut conn = self.store.read().await?;
                for m in batch {
                    let email = if m.channel == "email" {
                        Some(self.email_of(&mut conn, &m).await?)
                    } else {
                        None
                    };
                    composed.push((m, email));
                }
            }
            for (m, email) in composed {
                let outcome = match (email, &mailer) {
                    (Some(Ok(message)), Some(mailer)) => mailer.send(&message).await,
                    (Some(Err(reason)), _) => Err(format!("cancel: {reason}")),
                    (None, _) => self.post_webhook(&m).await?,
                    (Some(Ok(_)), None) => continue,
                };
                if let Err(reason) = &outcome
                    && let Some(reason) = reason.strip_prefix("cancel: ")
                {
                    let mut tx = self.store.begin_write().await?;
                    store::cancel(tx.conn(), m.id, reason).await?;
                    tx.commit().await?;
                    continue;
                }
                let now = self.real_now_ms();
                let outcome = match outcome {
                    Ok(()) => {
                        sent += 1;
                        Ok(())
                    }
                    Err(e) => {
                        tracing::warn!(message = m.id, channel = %m.channel, error = %e, "message not delivered");
                        let retry = usize::try_from(m.attempts)
                            .ok()
                            .and_then(|a| BACKOFF_MS.get(a))
                            .map(|d| now + d);
                        Err((e, retry))
                    }
                };
                let mut tx = self.store.begin_write().await?;
                store::delivered(tx.conn(), m.id, now, outcome).await?;
                tx.commit().await?;
            }
        }
    }

    /// The scheduler's state. Administrators only.
    pub async fn scheduler_status(&self, who: &Principal) -> Result<SchedulerView> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        let last = store::last_pass(&mut conn).await?;
        Ok(SchedulerView {
            now: self.now().to_string(),
            last_pass_at: last
                .and_then(|ms| recert_domain::Timestamp::from_millisecond(ms).ok())
                .map(|t| t.to_string()),
            outbox_pending: store::pending(&mut conn).await?,
        })
    }

    /// One scheduler pass as `recert serve` runs it: notices, then delivery.
    pub async fn scheduler_tick(&self) -> Result<TickReport> {
        // Renewals first, so nobody is reminded of a certification renewed today.
        let credit_renewals = self.credit_renewal_pass().await?;
        if credit_renewals > 0 {
            tracing::info!(renewed = credit_renewals, "credit renewals");
        }
        let notices = self.notice_pass().await?;
        let digests = self.digest_pass().await?;
        if digests > 0 {
            tracing::info!(queued = digests, "manager digests");
        }
        if notices.sent + notices.skipped > 0 {
            tracing::info!(
                looked_at = notices.looked_at,
                sent = notices.sent,
                skipped = notices.skipped,
                "notices"
            );
        }
        let delivered = self.deliver_outbox().await?;
        Ok(TickReport {
            credit_renewals,
            notices,
            digests,
            delivered,
        })
    }

    /// A scheduler pass now, on request (administrators).
    pub async fn run_scheduler(&self, who: &Principal) -> Result<TickReport> {
        who.require(crate::auth::Action::Administer)?;
        self.scheduler_tick().await
    }

    /// Wakes the scheduler loop at once (the test clock moved).
    pub fn wake_scheduler(&self) {
        self.scheduler_wake.notify_one();
    }

    /// Resolves when someone wakes the scheduler.
    pub async fn scheduler_woken(&self) {
        self.scheduler_wake.notified().await;
    }
}

/// One message as the outbox page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub created_at: String,
    pub event: String,
    pub award: Option<String>,
    pub to: String,
    pub subject: String,
    /// pending, sent, failed (given up) or cancelled (no longer needed: the award was
    /// renewed, say, before the notice went out).
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    /// When it is tried next (pending ones).
    pub next_attempt_at: Option<String>,
}

/// A page of the outbox, with the counts that answer "is mail going out?".
#[derive(Debug, Clone, Serialize)]
pub struct OutboxPage {
    pub items: Vec<OutboxItem>,
    pub total: i64,
    pub pending: i64,
    pub failed: i64,
    pub sent: i64,
    /// The mail server in use (without credentials), or `None` when none is set.
    pub server: Option<String>,
}

impl Service {
    /// The outbox in `state`, in the order asked, as a CSV or XLSX file (administrators):
    /// what is stored of each message (a notice's wording is composed when it goes out).
    pub fn outbox_export(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &crate::listing::Sort,
        format: crate::exports::Format,
    ) -> Result<crate::exports::Download> {
        use crate::exports::Cell;
        who.require(crate::auth::Action::Administer)?;
        let filter = Self::outbox_filter(state)?;
        let sheet = crate::listing::Sheet {
            stem: "outbox".into(),
            title: "Outbox".into(),
            headers: &[
                "id",
                "queued_at_utc",
                "channel",
                "event",
                "certificate_id",
                "state",
                "attempts",
                "next_attempt_utc",
                "sent_at_utc",
                "last_error",
            ],
        };
        self.export(Some(filter), sort, format, sheet, |q| {
            Ok(vec![
                Cell::Int(q.id),
                Cell::Text(instant(q.created_ms)),
                Cell::Text(q.channel),
                Cell::Text(q.event),
                Cell::Text(q.award.unwrap_or_default()),
                Cell::Text(q.state.clone()),
                Cell::Int(q.attempts),
                Cell::Text(if q.state == "pending" {
                    instant(q.next_attempt_ms)
                } else {
                    String::new()
                }),
                Cell::Text(q.sent_ms.map(instant).unwrap_or_default()),
                Cell::Text(q.last_error.unwrap_or_default()),
            ])
        })
    }
}

fn instant(ms: i64) -> String {
    recert_domain::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl Service {
    /// The filter for the outbox in `state` (all when empty).
    fn outbox_filter(state: Option<&str>) -> Result<store::OutboxFilter> {
        let state = state.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = state
            && !["pending", "sent", "failed", "cancelled"].contains(&s)
        {
            return Err(crate::ServiceError::field(
                "state",
                "is pending, sent, failed or cancelled",
            ));
        }
        Ok(store::OutboxFilter {
            state: state.map(str::to_owned),
        })
    }

    /// The outbox (administrators): messages in `state` (all when `None`), sorted and
    /// windowed, with the counts that answer "is mail going out?".
    pub async fn outbox(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &crate::listing::Sort,
        window: crate::listing::Window,
    ) -> Result<OutboxPage> {
        who.require(crate::auth::Action::Administer)?;
        let filter = Self::outbox_filter(state)?;
        let found = self.listed(&filter, sort, window, Ok).await?;
        let (rows, total) = (found.items, found.total);
        let mut conn = self.store.read().await?;
        let (pending, failed, sent) = store::counts(&mut conn).await?;
        let mut items = Vec::with_capacity(rows.len());
        for q in rows {
            // A notice is shown as it would go out now; one that will not shows empty. A
            // webhook message names its webhook and event.
            let m = if q.channel == "webhook" {
                let hook: serde_json::Value = serde_json::from_str(&q.message).unwrap_or_default();
                serde_json::json!({
                    "to": [format!("webhook {}", hook["webhook"])],
                    "subject": format!("{} (webhook)", q.event),
                })
            } else {
                self.email_of(&mut conn, &q).await?.unwrap_or_default()
            };
            items.push({
                let list = |k: &str| {
                    m[k].as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default()
                };
                let to = match list("cc") {
                    cc if cc.is_empty() => list("to"),
                    cc => format!("{} (Cc {cc})", list("to")),
                };
                OutboxItem {
                    id: q.id,
                    created_at: instant(q.created_ms),
                    event: q.event,
                    award: q.award,
                    to,
                    subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                    next_attempt_at: (q.state == "pending").then(|| instant(q.next_attempt_ms)),
                    state: q.state,
                    attempts: q.attempts,
                    last_error: q.last_error,
                }
            });
        }
        Ok(OutboxPage {
            items,
            total,
            pending,
            failed,
            sent,
            server: self.mailer.as_ref().map(|m| m.server.clone()),
        })
    }

    /// Puts a message that was not delivered back in the queue, to go at the next pass
    /// (administrators). Audited.
    pub async fn resend_message(&self, who: &Principal, id: i64) -> Result<()> {
        who.require(crate::auth::Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        if !store::resend(tx.conn(), id, self.real_now_ms()).await? {
            return Err(crate::ServiceError::Conflict(format!(
                "message {id} does not exist or was already delivered"
            )));
        }
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "message.resent",
            subject_type: "message",
            subject_id: &id.to_string(),
            before: None,
            after: None,
        })
        .await?;
        tx.commit().await?;
        self.wake_scheduler();
        Ok(())
    }
}
