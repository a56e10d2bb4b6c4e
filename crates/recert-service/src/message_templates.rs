//! Message templates (SPEC §3.7): the wording of every email recert sends, edited by an
//! administrator for all programs and by a program's managers for theirs, previewed
//! before it is saved. A message takes its program's template, else the organization's
//! default, else the wording recert ships with ([`recert_domain::messages::KINDS`]).
//!
//! Templates are read when a message is composed (a reminder when it goes out), so an
//! edit applies to everything sent after it. They are few and kept in memory by the audit
//! head: every edit is audited, so a moved head is when to read them again.

use crate::auth::Action;
use crate::awards::Context;
use crate::notices::day_in_words;
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::messages::{self, Kind, Rendered, Template, Values};
use recert_domain::program::Pathway;
use recert_domain::{Date, Program};
use recert_store::templates::{self as store, Stored};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A template to save: both parts.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateDraft {
    /// One line, with shortcodes.
    pub subject: Option<String>,
    /// Plain text with shortcodes; a blank line starts a paragraph. The HTML part of the
    /// email is made from it.
    pub body: Option<String>,
}

/// The template a message goes out with, and where it comes from.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessageTemplateView {
    /// The event that sends it (`award.reminder`, …).
    pub event: String,
    pub label: String,
    /// Who receives it.
    pub recipient: String,
    /// The program these templates are for; null for the organization's default.
    pub program: Option<String>,
    pub subject: String,
    pub body: String,
    /// `program` (written for this program), `organization` (the default written for
    /// every program) or `built_in` (recert's own wording).
    pub source: String,
    /// The shortcodes this message may use.
    pub shortcodes: Vec<String>,
    /// Who last wrote it, and when; null for the built-in wording.
    pub updated_by: Option<String>,
    pub updated_at: Option<String>,
}

/// A message as it would go out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MessagePreview {
    pub event: String,
    pub subject: String,
    /// The text part.
    pub text: String,
    /// The HTML part, made from the text.
    pub html: String,
}

/// The template of `event` for `program` (its code; `None` for the organization's
/// default) from what is stored, and where it comes from.
fn effective<'a>(
    stored: &'a [Stored],
    kind: &Kind,
    program: Option<&str>,
) -> (Template, &'static str, Option<&'a Stored>) {
    let find = |p: Option<&str>| {
        stored
            .iter()
            .find(|s| s.event == kind.event && s.program.as_deref() == p)
    };
    let own = program
        .filter(|_| kind.per_program)
        .and_then(|p| find(Some(p)));
    match (own, find(None)) {
        (Some(s), _) => (template(s), "program", Some(s)),
        (None, Some(s)) => (template(s), "organization", Some(s)),
        (None, None) => (kind.default_template(), "built_in", None),
    }
}

fn template(s: &Stored) -> Template {
    Template {
        subject: s.subject.clone(),
        body: s.body.clone(),
    }
}

/// The values of every award shortcode.
pub(crate) struct AwardFacts<'a> {
    pub legal_name: &'a str,
    /// The program's name, code and renewal pathways in words.
    pub program: (&'a str, &'a str, String),
    pub cert: &'a str,
    pub issued_on: Date,
    pub expires_on: Option<Date>,
    pub grace_ends_on: Option<Date>,
    pub today: Date,
}

impl<'a> AwardFacts<'a> {
    /// The program part of the facts.
    pub(crate) fn program(p: &'a Program) -> (&'a str, &'a str, String) {
        (&p.name, p.code.as_str(), pathways_in_words(p))
    }

    pub(crate) fn values(&self, base: &str) -> Values {
        let mut v = Values::new();
        let cert = self.cert;
        v.set("learner_name", self.legal_name)
            .set("certification_name", self.program.0)
            .set("certification_code", self.program.1)
            .set("certificate_id", cert)
            .set("issue_date", day_in_words(self.issued_on))
            .set("renew_link", format!("{base}/renew/{cert}"))
            .set("certificate_link", format!("{base}/awards/{cert}"))
            .set("verify_link", format!("{base}/verify/{cert}"))
            .set("pathways", self.program.2.clone());
        match self.expires_on {
            Some(x) => {
                let days = (x - self.today).get_days();
                let phrase = match days {
                    1.. => format!(
                        "expires on {} ({days} day{} left)",
                        day_in_words(x),
                        if days == 1 { "" } else { "s" }
                    ),
                    0 => format!("expires today, {}", day_in_words(x)),
                    _ => format!("expired on {}", day_in_words(x)),
                };
                v.set("expiry_date", day_in_words(x))
                    .set("days_left", days.to_string())
                    .set("expiry_phrase", phrase)
                    .set(
                        "validity",
                        format!("It is valid until {}.", day_in_words(x)),
                    );
            }
            None => {
                v.set("expiry_date", "never")
                    .set("days_left", "")
                    .set("expiry_phrase", "does not expire")
                    .set("validity", "It does not expire.");
            }
        }
        v.set(
            "grace_end_date",
            self.grace_ends_on.map(day_in_words).unwrap_or_default(),
        );
        v
    }
}

fn compose(
    stored: &[Stored],
    event: &str,
    program: Option<&str>,
    values: &Values,
) -> Result<Rendered> {
    let kind = kind_of(event)?;
    let (t, _, _) = effective(stored, kind, program);
    Ok(messages::render(&t, values))
}

/// The award shortcodes of a stored award, on its organization's `today`.
pub(crate) fn record_values(
    base: &str,
    record: &recert_store::awards::AwardRecord,
    program: &Program,
    today: Date,
) -> Values {
    let a = &record.award;
    AwardFacts {
        legal_name: &record.legal_name,
        program: AwardFacts::program(program),
        cert: a.id.as_str(),
        issued_on: a.issued_on,
        expires_on: a.expiry(),
        grace_ends_on: a.expiry().map(|x| a.grace_ends(x)),
        today,
    }
    .values(base)
}

/// The program's renewal pathways in words, for [pathways].
pub(crate) fn pathways_in_words(program: &Program) -> String {
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

fn kind_of(event: &str) -> Result<&'static Kind> {
    messages::kind(event).ok_or_else(|| ServiceError::not_found("message", event))
}

impl Service {
    /// The templates as stored, from memory while the audit head has not moved.
    async fn stored_templates(&self, conn: &mut recert_store::Conn) -> Result<Arc<Vec<Stored>>> {
        let head = self.current_head_on(conn).await?;
        if let Some(t) = self.templates.get("all", head, 0) {
            return Ok(t);
        }
        let all = Arc::new(store::all(conn).await?);
        self.templates.put("all".into(), head, 0, all.clone());
        Ok(all)
    }

    /// The email of `event` about `program` (by its code) with these values, in the
    /// template that applies now: read on a connection outside any write (a delivery, the
    /// digest), so the templates may come from memory.
    pub(crate) async fn compose_message(
        &self,
        conn: &mut recert_store::Conn,
        event: &str,
        program: Option<&str>,
        values: &Values,
    ) -> Result<Rendered> {
        let stored = self.stored_templates(conn).await?;
        compose(&stored, event, program, values)
    }

    /// [`Service::compose_message`] inside a write: the templates are read in it, never
    /// kept. The head it sees counts its own events, which a rollback takes back, so a
    /// copy kept under that head could later pass for another change's.
    pub(crate) async fn compose_message_in(
        &self,
        tx: &mut recert_store::WriteTx,
        event: &str,
        program: Option<&str>,
        values: &Values,
    ) -> Result<Rendered> {
        let stored = store::all(tx.conn()).await?;
        compose(&stored, event, program, values)
    }

    /// Checks who may see or change the templates of `program` (or the defaults), and
    /// finds the program.
    async fn template_scope(
        &self,
        conn: &mut recert_store::Conn,
        who: &Principal,
        program: Option<&str>,
    ) -> Result<Option<(i64, Program, Context)>> {
        match program {
            None => {
                who.require(Action::Administer)?;
                Ok(None)
            }
            Some(code) => {
                let (id, p, ctx) = Context::for_program(conn, code)
                    .await?
                    .ok_or_else(|| ServiceError::not_found("program", code))?;
                who.require(Action::ManageProgram(id))?;
                Ok(Some((id, p, ctx)))
            }
        }
    }

    fn template_view(
        stored: &[Stored],
        kind: &'static Kind,
        program: Option<&str>,
    ) -> MessageTemplateView {
        let (t, source, row) = effective(stored, kind, program);
        MessageTemplateView {
            event: kind.event.into(),
            label: kind.label.into(),
            recipient: kind.recipient.into(),
            program: program.map(str::to_owned),
            subject: t.subject,
            body: t.body,
            source: source.into(),
            shortcodes: kind.shortcodes.iter().map(|s| (*s).to_owned()).collect(),
            updated_by: row.map(|r| r.updated_by.clone()),
            updated_at: row
                .and_then(|r| crate::instant(r.updated_at_ms).ok())
                .map(|t| t.to_string()),
        }
    }

    /// Every message and the template it goes out with: the organization's defaults
    /// (`program` = `None`; administrators) or one program's (its managers). A program
    /// lists only the messages it may word itself.
    pub async fn message_templates(
        &self,
        who: &Principal,
        program: Option<&str>,
    ) -> Result<Vec<MessageTemplateView>> {
        let mut conn = self.store.read().await?;
        let scope = self.template_scope(&mut conn, who, program).await?;
        let code = scope.as_ref().map(|(_, p, _)| p.code.to_string());
        let stored = self.stored_templates(&mut conn).await?;
        Ok(messages::KINDS
            .iter()
            .filter(|k| code.is_none() || k.per_program)
            .map(|k| Self::template_view(&stored, k, code.as_deref()))
            .collect())
    }

    /// One message's template (see [`Service::message_templates`]).
    pub async fn message_template(
        &self,
        who: &Principal,
        program: Option<&str>,
        event: &str,
    ) -> Result<MessageTemplateView> {
        let mut conn = self.store.read().await?;
        let scope = self.template_scope(&mut conn, who, program).await?;
        let kind = scoped_kind(event, scope.is_some())?;
        let code = scope.as_ref().map(|(_, p, _)| p.code.to_string());
        let stored = self.stored_templates(&mut conn).await?;
        Ok(Self::template_view(&stored, kind, code.as_deref()))
    }

    /// Saves the template of one message for a program or for all (audited, with the
    /// wording before and after). Answers it as it now applies.
    pub async fn put_message_template(
        &self,
        who: &Principal,
        program: Option<&str>,
        event: &str,
        draft: MessageTemplateDraft,
    ) -> Result<MessageTemplateView> {
        let mut tx = self.store.begin_write().await?;
        let scope = self.template_scope(tx.conn(), who, program).await?;
        let kind = scoped_kind(event, scope.is_some())?;
        let t = kind.check(
            draft.subject.as_deref().unwrap_or(""),
            draft.body.as_deref().unwrap_or(""),
        )?;
        let code = scope.as_ref().map(|(_, p, _)| p.code.to_string());
        let mut stored = store::all(tx.conn()).await?;
        let before = Self::template_view(&stored, kind, code.as_deref());
        let at_ms = self.real_now_ms();
        store::put(
            tx.conn(),
            scope.as_ref().map(|(id, _, _)| *id),
            kind.event,
            &t.subject,
            &t.body,
            &who.name,
            at_ms,
        )
        .await?;
        // What was read, with the row just written in place of its predecessor.
        stored.retain(|s| !(s.event == kind.event && s.program == code));
        stored.push(Stored {
            program: code.clone(),
            event: kind.event.to_owned(),
            subject: t.subject,
            body: t.body,
            updated_by: who.name.clone(),
            updated_at_ms: at_ms,
        });
        let after = Self::template_view(&stored, kind, code.as_deref());
        self.audit_template(
            &mut tx,
            who,
            "message_template.changed",
            code.as_deref(),
            &before,
            &after,
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes the template written for one message, for a program (which then takes the
    /// organization's default) or for all (which then take recert's own wording).
    /// Answers the template that now applies.
    pub async fn reset_message_template(
        &self,
        who: &Principal,
        program: Option<&str>,
        event: &str,
    ) -> Result<MessageTemplateView> {
        let mut tx = self.store.begin_write().await?;
        let scope = self.template_scope(tx.conn(), who, program).await?;
        let kind = scoped_kind(event, scope.is_some())?;
        let code = scope.as_ref().map(|(_, p, _)| p.code.to_string());
        let mut stored = store::all(tx.conn()).await?;
        let before = Self::template_view(&stored, kind, code.as_deref());
        let removed =
            store::remove(tx.conn(), scope.as_ref().map(|(id, _, _)| *id), kind.event).await?;
        stored.retain(|s| !(s.event == kind.event && s.program == code));
        let after = Self::template_view(&stored, kind, code.as_deref());
        if removed {
            self.audit_template(
                &mut tx,
                who,
                "message_template.reset",
                code.as_deref(),
                &before,
                &after,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    async fn audit_template(
        &self,
        tx: &mut recert_store::WriteTx,
        who: &Principal,
        action: &str,
        program: Option<&str>,
        before: &MessageTemplateView,
        after: &MessageTemplateView,
    ) -> Result<()> {
        let shown = |v: &MessageTemplateView| serde_json::json!({"event": v.event, "source": v.source, "subject": v.subject, "body": v.body});
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action,
            subject_type: if program.is_some() {
                "program"
            } else {
                "messages"
            },
            subject_id: program.unwrap_or("default"),
            before: Some(shown(before)),
            after: Some(shown(after)),
        })
        .await?;
        Ok(())
    }

    /// A message as it would go out, with example values (the program's own name, code
    /// and pathways; a learner "Alex Example" whose certificate expires in 30 days): the
    /// draft when one is given (checked as saving would), else the template that applies.
    pub async fn preview_message(
        &self,
        who: &Principal,
        program: Option<&str>,
        event: &str,
        draft: Option<MessageTemplateDraft>,
    ) -> Result<MessagePreview> {
        let mut conn = self.store.read().await?;
        let scope = self.template_scope(&mut conn, who, program).await?;
        let kind = scoped_kind(event, scope.is_some())?;
        let code = scope.as_ref().map(|(_, p, _)| p.code.to_string());
        let t = match draft {
            Some(d) => kind.check(
                d.subject.as_deref().unwrap_or(""),
                d.body.as_deref().unwrap_or(""),
            )?,
            None => {
                effective(
                    &self.stored_templates(&mut conn).await?,
                    kind,
                    code.as_deref(),
                )
                .0
            }
        };
        let (program, today) = match &scope {
            Some((_, p, ctx)) => (Some(p.clone()), self.today_in(ctx.org(p)?)),
            None => {
                // The first program stands for "a program" in the defaults' preview.
                let ctx = self.catalogue(&mut conn).await?;
                match ctx.programs.first() {
                    Some((_, p)) => (Some(p.clone()), self.today_in(ctx.org(p)?)),
                    None => (
                        None,
                        recert_domain::dates::day_in_zone(self.now(), &jiff::tz::TimeZone::UTC),
                    ),
                }
            }
        };
        let values = example_values(self.base_url(), program.as_ref(), today);
        let r = messages::render(&t, &values);
        Ok(MessagePreview {
            event: kind.event.into(),
            subject: r.subject,
            text: r.text,
            html: r.html,
        })
    }
}

/// The kind of `event`, if it may be worded at this scope.
fn scoped_kind(event: &str, for_program: bool) -> Result<&'static Kind> {
    let kind = kind_of(event)?;
    if for_program && !kind.per_program {
        return Err(ServiceError::not_found("per-program message", event));
    }
    Ok(kind)
}

/// Example values of every shortcode, for previews.
fn example_values(base: &str, program: Option<&Program>, today: Date) -> Values {
    let add = recert_domain::dates::add_days;
    let expiry = add(today, 30);
    let (name, code, pathways) = match program {
        Some(p) => AwardFacts::program(p),
        None => (
            "Example certification",
            "EXAMPLE",
            "retake an assigned course".to_owned(),
        ),
    };
    let grace = program.map_or(30, |p| p.grace_days);
    let mut v = AwardFacts {
        legal_name: "Alex Example",
        program: (name, code, pathways),
        cert: "EXAMPLE-0000-0000",
        issued_on: add(today, -335),
        expires_on: Some(expiry),
        grace_ends_on: Some(add(expiry, i64::from(grace))),
        today,
    }
    .values(base);
    v.set("offset_days", "30")
        .set("pathway", "refresher module")
        .set("revocation_reason", "issued in error")
        .set("credit_hours", "2")
        .set("credit_provider", "St John Ambulance")
        .set("credit_date", day_in_words(add(today, -3)))
        .set("decision", "approved")
        .set("decision_note", "")
        .set(
            "outcome",
            format!(
                "They were approved. Your progress toward renewing {code}: {base}/renew/EXAMPLE-0000-0000"
            ),
        )
        .set("manager_name", "Sam Supervisor")
        .set("signoff_link", format!("{base}/signoffs"))
        .set("comment", "please take the refresher first")
        .set("team_count", "2 certifications")
        .set(
            "team_list",
            format!(
                "- Alex Example: {name} ({code}) expires on {} (in 30 days). Renewal page: {base}/renew/EXAMPLE-0000-0000\n- Jo Example: {name} ({code}) expired on {}; renewable until {}. Renewal page: {base}/renew/EXAMPLE-1111-1111",
                day_in_words(expiry),
                day_in_words(add(today, -5)),
                day_in_words(add(today, 25)),
            ),
        )
        .set("team_link", format!("{base}/team"))
        .set("horizon_days", crate::digest::HORIZON_DAYS.to_string());
    v
}
