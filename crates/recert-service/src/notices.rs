//! The scheduler's notice pass (SPEC §3.7): for each award whose next notice has come
//! (the notice queue of migration 0015), decide with [`recert_domain::notices::plan`] what to send,
//! record it (at most once per award and stage, even with several schedulers on one
//! database) and queue the email in the same transaction.

use crate::awards::Context;
use crate::message_templates::AwardFacts;
use crate::{Result, Service};
use recert_domain::Date;
use recert_domain::notices::{self, Stage};
use recert_store::notices as store;
use serde::Serialize;
use std::collections::HashSet;

/// Awards looked at per transaction: on PostgreSQL a pass of 10,000 due awards takes 12%
/// less time in batches of 2,000 than of 500; on SQLite the size makes no difference.
const BATCH: i64 = 2000;
/// Batches per pass at most; what is left waits for the next pass.
const MAX_BATCHES: usize = 500;

/// What one pass did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PassReport {
    /// Awards looked at.
    pub looked_at: usize,
    /// Notices queued (one message each).
    pub sent: usize,
    /// Notices recorded without a message: superseded by a later one, or stale.
    pub skipped: usize,
}

/// A day in words: "31 December 2027" (as certificates and public pages say it).
pub use recert_domain::dates::in_words as day_in_words;

/// A mailbox for a header: `Name <address>`, the name quoted.
pub(crate) fn mailbox(name: &str, address: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    format!("\"{name}\" <{address}>")
}

/// An email as an outbox message: the rendered template, its recipients and the headers
/// mail rules sort by (`X-Recert-Event`; `X-Recert-Award` when it is about one award).
pub(crate) fn email_message(
    to: (&str, &str),
    cc: Vec<String>,
    rendered: recert_domain::messages::Rendered,
    event: &str,
    award: Option<&str>,
) -> serde_json::Value {
    let mut headers = serde_json::Map::new();
    headers.insert("X-Recert-Event".into(), event.into());
    if let Some(award) = award {
        headers.insert("X-Recert-Award".into(), award.into());
    }
    serde_json::json!({
        "to": [mailbox(to.0, to.1)],
        "cc": cc,
        "subject": rendered.subject,
        "text": rendered.text,
        "html": rendered.html,
        "headers": headers,
    })
}

/// One award's part of a pass: the stages to record, the message to send if its stage is
/// recorded now, and when to look at it next.
struct Decided {
    /// The certificate ID.
    cert: String,
    notices: Vec<store::Notice>,
    send: Option<(Stage, Option<store::NewMessage>)>,
    next: Option<Date>,
}

impl Service {
    /// One pass of the scheduler over the awards whose notices are due: records each
    /// notice once and queues its email. Safe to run on every instance at once. Its cost
    /// grows with the awards due, not with all awards: a few statements per batch of them.
    pub async fn notice_pass(&self) -> Result<PassReport> {
        self.refresh_test_clock().await?;
        let mut report = PassReport::default();
        let mut seen = HashSet::new();
        for _ in 0..MAX_BATCHES {
            let mut tx = self.store.begin_write().await?;
            let ctx = self.catalogue(tx.conn()).await?;
            let latest = self.latest_today(&ctx);
            let due = store::due(tx.conn(), &latest.to_string(), BATCH).await?;
            let fresh: Vec<store::Due> =
                due.into_iter().filter(|d| seen.insert(d.row_id)).collect();
            if fresh.is_empty() {
                tx.commit().await?;
                break;
            }
            let decided: Vec<(i64, Decided)> = fresh
                .iter()
                .map(|d| Ok((d.row_id, self.decide(&ctx, d)?)))
                .collect::<Result<_>>()?;
            report.looked_at += decided.len();
            let notices: Vec<store::Notice> = decided
                .iter()
                .flat_map(|(_, d)| d.notices.iter().cloned())
                .collect();
            store::record(tx.conn(), self.store.backend(), &notices, self.now_ms()).await?;
            report.skipped += notices.iter().filter(|n| !n.sent).count();
            let mut messages = Vec::new();
            let mut events = Vec::new();
            let mut next = Vec::with_capacity(decided.len());
            for (row, d) in decided {
                if let Some((stage, message)) = d.send {
                    messages.extend(message);
                    let data = match stage {
                        Stage::Reminder(days) => serde_json::json!({ "offset_days": days }),
                        _ => serde_json::json!({}),
                    };
                    let key = format!("notice:{}:{}", d.cert, stage.key());
                    events.push((stage.event(), d.cert, data, key));
                }
                next.push((row, d.next));
            }
            report.sent += store::enqueue_new(
                tx.conn(),
                self.store.backend(),
                &messages,
                self.real_now_ms(),
            )
            .await? as usize;
            let hooks = self.webhook_messages(tx.conn(), &events).await?;
            store::enqueue(tx.conn(), self.store.backend(), &hooks, self.real_now_ms()).await?;
            store::requeue(tx.conn(), self.store.backend(), &latest.to_string(), &next).await?;
            tx.commit().await?;
        }
        let mut tx = self.store.begin_write().await?;
        store::set_last_pass(tx.conn(), self.now_ms()).await?;
        tx.commit().await?;
        Ok(report)
    }

    /// What one due award needs today, from its dates alone.
    fn decide(&self, ctx: &Context, due: &store::Due) -> Result<Decided> {
        let Some((expiry, grace_ends)) = due.dates else {
            return Ok(Decided {
                cert: due.cert_id.clone(),
                notices: Vec::new(),
                send: None,
                next: None,
            });
        };
        let program = ctx.program(due.program_id)?;
        let org = ctx.org(program)?;
        let today = self.today_in(org);
        let stages = notices::stages(expiry, grace_ends, &program.reminder_offsets_days);
        let recorded: Vec<Stage> = stages
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| due.recorded.iter().any(|k| *k == s.key()))
            .collect();
        let plan = notices::plan(&stages, &recorded, today);
        let notice = |stage: Stage, sent: bool| store::Notice {
            award_row: due.row_id,
            stage,
            due_on: stages
                .iter()
                .find(|(x, _)| *x == stage)
                .map_or(today, |(_, d)| *d),
            sent,
        };
        let mut list: Vec<store::Notice> = plan.skip.iter().map(|s| notice(*s, false)).collect();
        // The email is composed when it goes out (see `notice_email`): the outbox holds
        // which notice it is, written with the notice's record in one transaction. That
        // keeps a pass to small writes, and a reminder for an award renewed meanwhile is
        // dropped rather than sent.
        let send = plan.send.map(|s| {
            list.push(notice(s, true));
            let message = due.email.as_ref().map(|_| store::NewMessage {
                channel: "email",
                event: s.event(),
                award: Some(due.cert_id.clone()),
                dedupe_key: format!("notice:{}:{}:email", due.cert_id, s.key()),
                message: serde_json::json!({ "notice": s.key() }).to_string(),
            });
            (s, message)
        });
        Ok(Decided {
            cert: due.cert_id.clone(),
            notices: list,
            send,
            next: plan.next,
        })
    }

    /// The email of a queued message: a notice's is composed now from the award as it
    /// stands (`Err` with the reason when it is not to be sent any more); any other is
    /// stored whole. Read on the caller's connection: a page or a delivery batch
    /// composes many on one.
    pub(crate) async fn email_of(
        &self,
        conn: &mut recert_store::Conn,
        queued: &store::Queued,
    ) -> Result<std::result::Result<serde_json::Value, String>> {
        let message: serde_json::Value = match serde_json::from_str(&queued.message) {
            Ok(m) => m,
            Err(e) => return Ok(Err(format!("the stored message is not JSON: {e}"))),
        };
        let Some(key) = message.get("notice").and_then(|k| k.as_str()) else {
            return Ok(Ok(message));
        };
        let (Some(stage), Some(cert)) = (Stage::parse(key), queued.award.as_deref()) else {
            return Ok(Err(format!(
                "the stored notice {key:?} is not one recert knows"
            )));
        };
        let ctx = self.catalogue(conn).await?;
        let Some(due) = store::target(conn, cert).await? else {
            return Ok(Err(format!("certificate {cert} no longer exists")));
        };
        let Some(dates) = due.dates else {
            return Ok(Err(
                "the award was renewed, revoked or unassigned before the notice went out".into(),
            ));
        };
        let Some(to) = &due.email else {
            return Ok(Err("the learner no longer has an email address".into()));
        };
        let program = ctx.program(due.program_id)?;
        let today = self.today_in(ctx.org(program)?);
        Ok(Ok(self
            .notice_email(conn, &due, to, program, stage, dates, today)
            .await?))
    }

    /// The email of one notice, to the learner with their manager in Cc from the
    /// escalation offset on, in the template that applies now.
    #[allow(clippy::too_many_arguments)]
    async fn notice_email(
        &self,
        conn: &mut recert_store::Conn,
        due: &store::Due,
        to: &str,
        program: &recert_domain::Program,
        stage: Stage,
        (expiry, grace_ends): (Date, Date),
        today: Date,
    ) -> Result<serde_json::Value> {
        let mut cc = Vec::new();
        if notices::copies_manager(stage, i64::from(program.escalation_offset_days))
            && let Some((name, e)) = &due.manager
        {
            cc.push(mailbox(name, e));
        }
        let mut values = AwardFacts {
            legal_name: &due.legal_name,
            program: AwardFacts::program(program),
            cert: &due.cert_id,
            issued_on: due.issued_on,
            expires_on: Some(expiry),
            grace_ends_on: Some(grace_ends),
            today,
        }
        .values(self.base_url());
        if let Stage::Reminder(d) = stage {
            values.set("offset_days", d.to_string());
        }
        let rendered = self
            .compose_message(conn, stage.event(), Some(program.code.as_str()), &values)
            .await?;
        let mut message = email_message(
            (&due.legal_name, to),
            cc,
            rendered,
            stage.event(),
            Some(&due.cert_id),
        );
        if let Stage::Reminder(d) = stage
            && let Some(h) = message["headers"].as_object_mut()
        {
            h.insert("X-Recert-Offset-Days".into(), d.to_string().into());
        }
        Ok(message)
    }
}
