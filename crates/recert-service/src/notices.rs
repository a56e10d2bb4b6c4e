//! The scheduler's notice pass (SPEC §3.7): for each award whose next notice has come
//! (`awards.notice_from`), decide with [`recert_domain::notices::plan`] what to send,
//! record it (at most once per award and stage, even with several schedulers on one
//! database) and queue the email in the same transaction.

use crate::awards::Context;
use crate::{Result, Service};
use recert_domain::Date;
use recert_domain::notices::{self, Stage};
use recert_domain::program::Pathway;
use recert_store::notices as store;
use serde::Serialize;
use std::collections::HashSet;

/// Awards looked at per transaction.
const BATCH: i64 = 200;
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

/// The words and links a notice is made of: SPEC §3.7's shortcodes.
#[derive(Debug, Clone)]
pub(crate) struct Shortcodes {
    pub learner_name: String,
    pub certification_name: String,
    pub certification_code: String,
    pub expiry_date: String,
    pub days_left: i64,
    pub renew_link: String,
    pub certificate_link: String,
    pub verify_link: String,
    pub pathways: String,
}

impl Shortcodes {
    /// `template` with every `[shortcode]` replaced; `escape` is applied to the values
    /// (HTML bodies escape them, text bodies do not).
    pub fn fill(&self, template: &str, escape: fn(&str) -> String) -> String {
        let pairs = [
            ("[learner_name]", self.learner_name.clone()),
            ("[certification_name]", self.certification_name.clone()),
            ("[certification_code]", self.certification_code.clone()),
            ("[expiry_date]", self.expiry_date.clone()),
            ("[days_left]", self.days_left.to_string()),
            ("[renew_link]", self.renew_link.clone()),
            ("[certificate_link]", self.certificate_link.clone()),
            ("[verify_link]", self.verify_link.clone()),
            ("[pathways]", self.pathways.clone()),
        ];
        let mut out = template.to_owned();
        for (code, value) in pairs {
            out = out.replace(code, &escape(&value));
        }
        out
    }
}

/// The default subject and lead paragraph of each notice.
fn wording(stage: Stage) -> (&'static str, &'static str) {
    match stage {
        Stage::Reminder(d) if d > 0 => (
            "Reminder: [certification_name] expires on [expiry_date] ([days_left] days left)",
            "Your [certification_name] certification ([certification_code]) expires on [expiry_date], in [days_left] days. Renew it before then to stay certified: [pathways].",
        ),
        Stage::Reminder(0) => (
            "[certification_name] expires today",
            "Your [certification_name] certification ([certification_code]) expires today, [expiry_date]. Renew it now to stay certified: [pathways].",
        ),
        Stage::Reminder(_) => (
            "[certification_name] expired on [expiry_date]: renew it",
            "Your [certification_name] certification ([certification_code]) expired on [expiry_date]. You can still renew it during the grace period: [pathways].",
        ),
        Stage::Expired => (
            "[certification_name] has expired: renew it during the grace period",
            "Your [certification_name] certification ([certification_code]) expired on [expiry_date]. The grace period has started: renew it before it ends to keep your certification without starting over ([pathways]).",
        ),
        Stage::GraceEnding => (
            "Last days to renew [certification_name]",
            "The grace period of your [certification_name] certification ([certification_code]), which expired on [expiry_date], ends in a few days. After that it lapses and only the full initial requirements earn it again. Renew now: [pathways].",
        ),
        Stage::Lapsed => (
            "[certification_name] has lapsed",
            "Your [certification_name] certification ([certification_code]) expired on [expiry_date] and was not renewed during the grace period, so it has lapsed. To be certified again, complete the initial requirements; the renewal page says what they are.",
        ),
    }
}

const TEXT: &str = "Hello [learner_name],\n\n[lead]\n\nRenew: [renew_link]\nYour certificate: [certificate_link]\nAnyone can check it at: [verify_link]\n\nCertification: [certification_name] ([certification_code])\nExpiry date: [expiry_date]\n";

const HTML: &str = "<!doctype html><html><body style=\"font-family: sans-serif; line-height: 1.5\">\
<p>Hello [learner_name],</p><p>[lead]</p>\
<p><a href=\"[renew_link]\" style=\"display:inline-block;padding:.5em 1em;background:#1f5f99;color:#fff;text-decoration:none;border-radius:4px\">Renew [certification_name]</a></p>\
<p><a href=\"[certificate_link]\">Your certificate</a> · <a href=\"[verify_link]\">Verification page</a></p>\
<p style=\"color:#555\">Certification: [certification_name] ([certification_code])<br>Expiry date: [expiry_date]</p>\
</body></html>";

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The email of one notice: subject, text and HTML bodies.
pub(crate) fn compose(stage: Stage, codes: &Shortcodes) -> (String, String, String) {
    let (subject, lead) = wording(stage);
    let text = TEXT.replace("[lead]", lead);
    let html = HTML.replace("[lead]", lead);
    (
        codes.fill(subject, str::to_owned),
        codes.fill(&text, str::to_owned),
        codes.fill(&html, escape_html),
    )
}

/// A day in words: "31 December 2027".
pub fn day_in_words(d: Date) -> String {
    d.strftime("%-d %B %Y").to_string()
}

/// A mailbox for a header: `Name <address>`, the name quoted.
fn mailbox(name: &str, address: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    format!("\"{name}\" <{address}>")
}

impl Service {
    /// One pass of the scheduler over the awards whose notices are due: records each
    /// notice once and queues its email. Safe to run on every instance at once.
    pub async fn notice_pass(&self) -> Result<PassReport> {
        self.refresh_test_clock().await?;
        let mut report = PassReport::default();
        let mut seen = HashSet::new();
        for _ in 0..MAX_BATCHES {
            let mut tx = self.store.begin_write().await?;
            let ctx = self.catalogue(tx.conn()).await?;
            // The latest "today" of any organization: each award is then judged on its
            // own organization's day.
            let latest = ctx
                .orgs
                .iter()
                .map(|(_, o)| self.today_in(o))
                .max()
                .unwrap_or_else(|| {
                    recert_domain::dates::day_in_zone(self.now(), &jiff::tz::TimeZone::UTC)
                });
            let due =
                store::due_awards(tx.conn(), self.store.backend(), &latest.to_string(), BATCH)
                    .await?;
            let fresh: Vec<String> = due.into_iter().filter(|c| seen.insert(c.clone())).collect();
            if fresh.is_empty() {
                tx.commit().await?;
                break;
            }
            for cert in &fresh {
                self.notice_one(&mut tx, &ctx, cert, &mut report).await?;
            }
            tx.commit().await?;
        }
        let mut tx = self.store.begin_write().await?;
        store::set_last_pass(tx.conn(), self.now_ms()).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn notice_one(
        &self,
        tx: &mut recert_store::WriteTx,
        ctx: &Context,
        cert: &str,
        report: &mut PassReport,
    ) -> Result<()> {
        report.looked_at += 1;
        let id = recert_domain::certificate_id::CertificateId::parse(cert)
            .map_err(crate::ServiceError::internal)?;
        let Some(rec) = recert_store::awards::by_id(tx.conn(), &id).await? else {
            return Ok(());
        };
        let (true, Some(expiry)) = (rec.award.is_current(), rec.award.expiry()) else {
            store::set_notice_from(tx.conn(), rec.row_id, None).await?;
            return Ok(());
        };
        let program = ctx.program(rec.program_id)?;
        let org = ctx.org(program)?;
        let today = self.today_in(org);
        let grace_ends = rec.award.grace_ends(expiry);
        let stages = notices::stages(expiry, grace_ends, &program.reminder_offsets_days);
        let keys = store::recorded(tx.conn(), rec.row_id).await?;
        let recorded: Vec<Stage> = stages
            .iter()
            .map(|(s, _)| *s)
            .filter(|s| keys.contains(&s.key()))
            .collect();
        let plan = notices::plan(&stages, &recorded, today);
        let now = self.now_ms();
        let due_on = |s: Stage| {
            stages
                .iter()
                .find(|(x, _)| *x == s)
                .map(|(_, d)| d.to_string())
                .unwrap_or_default()
        };
        for s in &plan.skip {
            if store::record(tx.conn(), rec.row_id, &s.key(), &due_on(*s), false, now).await? {
                report.skipped += 1;
            }
        }
        if let Some(s) = plan.send
            && store::record(tx.conn(), rec.row_id, &s.key(), &due_on(s), true, now).await?
            && self
                .queue_notice(tx, &rec, program, s, expiry, today)
                .await?
        {
            report.sent += 1;
        }
        let next = plan.next.map(|d| d.to_string());
        store::set_notice_from(tx.conn(), rec.row_id, next.as_deref()).await?;
        Ok(())
    }

    /// Queues the email of one notice, to the learner with their manager in Cc from the
    /// escalation offset on. `false` when the learner has no email address (the notice is
    /// still recorded: it is not retried when one is added later).
    async fn queue_notice(
        &self,
        tx: &mut recert_store::WriteTx,
        rec: &recert_store::awards::AwardRecord,
        program: &recert_domain::Program,
        stage: Stage,
        expiry: Date,
        today: Date,
    ) -> Result<bool> {
        let (email, manager) =
            recert_store::learners::notice_contacts(tx.conn(), rec.learner_id).await?;
        let Some(to) = email else {
            return Ok(false);
        };
        let mut cc = Vec::new();
        if notices::copies_manager(stage, i64::from(program.escalation_offset_days))
            && let Some((name, e)) = &manager
        {
            cc.push(mailbox(name, e));
        }
        let base = self.base_url();
        let cert = rec.award.id.as_str();
        let codes = Shortcodes {
            learner_name: rec.legal_name.clone(),
            certification_name: program.name.clone(),
            certification_code: program.code.to_string(),
            expiry_date: day_in_words(expiry),
            days_left: (expiry - today).get_days().into(),
            renew_link: format!("{base}/renew/{cert}"),
            certificate_link: format!("{base}/awards/{cert}"),
            verify_link: format!("{base}/verify/{cert}"),
            pathways: pathways_in_words(program),
        };
        let (subject, text, html) = compose(stage, &codes);
        let mut headers = serde_json::Map::new();
        headers.insert("X-Recert-Event".into(), stage.event().into());
        headers.insert("X-Recert-Award".into(), cert.into());
        if let Stage::Reminder(d) = stage {
            headers.insert("X-Recert-Offset-Days".into(), d.to_string().into());
        }
        let message = serde_json::json!({
            "to": [mailbox(&rec.legal_name, &to)],
            "cc": cc,
            "subject": subject,
            "text": text,
            "html": html,
            "headers": headers,
        });
        store::enqueue(
            tx.conn(),
            &store::NewMessage {
                channel: "email".into(),
                event: stage.event().into(),
                award: Some(cert.to_owned()),
                dedupe_key: format!("notice:{cert}:{}:email", stage.key()),
                message: message.to_string(),
            },
            self.real_now_ms(),
        )
        .await?;
        Ok(true)
    }
}

/// The program's renewal pathways in words, for [pathways].
fn pathways_in_words(program: &recert_domain::Program) -> String {
    let words: Vec<&str> = program
        .renewal_pathways
        .iter()
        .map(|p| match p {
            Pathway::Retake => "retake an assigned course",
            Pathway::Refresher => "take the refresher course",
            Pathway::Credits => "earn continuing-education credits",
            Pathway::Signoff => "ask your manager to sign off",
        })
        .collect();
    if words.is_empty() {
        "see the renewal page".into()
    } else {
        words.join(", or ")
    }
}
