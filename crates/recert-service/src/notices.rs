//! The scheduler's notice pass (SPEC §3.7): for each award whose next notice has come
//! (the notice queue of migration 0015), decide with [`recert_domain::notices::plan`] what to send,
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
    /// (HTML bodies escape them, text bodies do not). One pass over the template; an
    /// unknown `[word]` stays as written.
    pub fn fill(&self, template: &str, escape: fn(&str) -> String) -> String {
        let mut out = String::with_capacity(template.len() + 256);
        let mut rest = template;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            let value = after
                .find(']')
                .and_then(|close| self.value(&after[1..close]).map(|v| (close, v)));
            match value {
                Some((close, v)) => {
                    out.push_str(&escape(&v));
                    rest = &after[close + 1..];
                }
                None => {
                    out.push('[');
                    rest = &after[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The value of one shortcode, by its name.
    fn value(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow::{Borrowed, Owned};
        Some(match name {
            "learner_name" => Borrowed(&self.learner_name),
            "certification_name" => Borrowed(&self.certification_name),
            "certification_code" => Borrowed(&self.certification_code),
            "expiry_date" => Borrowed(&self.expiry_date),
            "days_left" => Owned(self.days_left.to_string()),
            "renew_link" => Borrowed(&self.renew_link),
            "certificate_link" => Borrowed(&self.certificate_link),
            "verify_link" => Borrowed(&self.verify_link),
            "pathways" => Borrowed(&self.pathways),
            _ => return None,
        })
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

pub(crate) fn escape_html(s: &str) -> String {
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
pub(crate) fn mailbox(name: &str, address: &str) -> String {
    let name: String = name
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect();
    format!("\"{name}\" <{address}>")
}

/// A one-off email (a sign-off request, a credit decision) to one person, as an outbox
/// message: the text as written, and an HTML part with its paragraphs and links.
pub(crate) fn plain_email(
    to: (&str, &str),
    subject: &str,
    text: &str,
    event: &'static str,
    award: &str,
) -> String {
    let html: String = text
        .split("\n\n")
        .map(|para| {
            let lines: Vec<String> = para
                .lines()
                .map(|line| {
                    line.split(' ')
                        .map(|w| {
                            if w.starts_with("https://") || w.starts_with("http://") {
                                format!("<a href=\"{0}\">{0}</a>", escape_html(w))
                            } else {
                                escape_html(w)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect();
    serde_json::json!({
        "to": [mailbox(to.0, to.1)],
        "cc": [],
        "subject": subject,
        "text": text,
        "html": format!("<!doctype html><html><body style=\"font-family:sans-serif\">{html}</body></html>"),
        "headers": if award.is_empty() {
            serde_json::json!({"X-Recert-Event": event})
        } else {
            serde_json::json!({"X-Recert-Event": event, "X-Recert-Award": award})
        },
    })
    .to_string()
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
            report.sent += store::enqueue(
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
        let Some((expiry, _)) = due.dates else {
            return Ok(Err(
                "the award was renewed, revoked or unassigned before the notice went out".into(),
            ));
        };
        let Some(to) = &due.email else {
            return Ok(Err("the learner no longer has an email address".into()));
        };
        let program = ctx.program(due.program_id)?;
        let today = self.today_in(ctx.org(program)?);
        Ok(Ok(
            self.notice_email(&due, to, program, stage, expiry, today)
        ))
    }

    /// The email of one notice, to the learner with their manager in Cc from the
    /// escalation offset on.
    fn notice_email(
        &self,
        due: &store::Due,
        to: &str,
        program: &recert_domain::Program,
        stage: Stage,
        expiry: Date,
        today: Date,
    ) -> serde_json::Value {
        let mut cc = Vec::new();
        if notices::copies_manager(stage, i64::from(program.escalation_offset_days))
            && let Some((name, e)) = &due.manager
        {
            cc.push(mailbox(name, e));
        }
        let base = self.base_url();
        let cert = &due.cert_id;
        let codes = Shortcodes {
            learner_name: due.legal_name.clone(),
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
        headers.insert("X-Recert-Award".into(), cert.as_str().into());
        if let Stage::Reminder(d) = stage {
            headers.insert("X-Recert-Offset-Days".into(), d.to_string().into());
        }
        serde_json::json!({
            "to": [mailbox(&due.legal_name, to)],
            "cc": cc,
            "subject": subject,
            "text": text,
            "html": html,
            "headers": headers,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(name: &str) -> Shortcodes {
        Shortcodes {
            learner_name: name.into(),
            certification_name: "Site <safety>".into(),
            certification_code: "SAFE".into(),
            expiry_date: "31 December 2027".into(),
            days_left: 30,
            renew_link: "https://r.example/renew/X".into(),
            certificate_link: "https://r.example/awards/X".into(),
            verify_link: "https://r.example/verify/X".into(),
            pathways: "retake an assigned course".into(),
        }
    }

    #[test]
    fn shortcodes_are_filled_once_and_unknown_ones_stay() {
        // A value that looks like a shortcode is not expanded again.
        let c = codes("[renew_link] Ann");
        assert_eq!(
            c.fill(
                "Hi [learner_name], [days_left] days: [renew_link] [unknown] [",
                str::to_owned
            ),
            "Hi [renew_link] Ann, 30 days: https://r.example/renew/X [unknown] ["
        );
        assert_eq!(
            c.fill("[certification_name]", escape_html),
            "Site &lt;safety&gt;"
        );
    }
}
