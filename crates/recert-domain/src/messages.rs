//! The messages recert sends (SPEC §3.7): which there are, who gets each, the shortcodes
//! each may use, the wording recert ships with, and how a template becomes an email.
//!
//! A template is a subject line and a plain-text body with `[shortcode]`s. The email's
//! text part is the filled body; its HTML part is made from the same text (paragraphs,
//! line breaks, links), so the two parts always say the same and a template cannot inject
//! markup. Administrators edit templates for everything (the organization's defaults) and
//! per program; what they have not written falls back to the wording here.

use crate::error::{DomainError, Errors};
use crate::names::forbidden_char;

/// One kind of message: an event that sends an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// The event type (as in `X-Recert-Event` and webhooks).
    pub event: &'static str,
    /// What it is, in words.
    pub label: &'static str,
    /// Who it goes to, in words.
    pub recipient: &'static str,
    /// Whether a program may have its own template (the weekly digest spans programs).
    pub per_program: bool,
    /// The shortcodes its template may use.
    pub shortcodes: &'static [&'static str],
    /// The wording recert ships with.
    pub subject: &'static str,
    pub body: &'static str,
}

/// The shortcodes of every message about one award, and those of its kind.
macro_rules! codes {
    ($($extra:literal),* $(,)?) => {
        &[
            "learner_name", "certification_name", "certification_code", "certificate_id",
            "issue_date", "expiry_date", "days_left", "expiry_phrase", "grace_end_date",
            "renew_link", "certificate_link", "verify_link", "pathways", $($extra),*
        ]
    };
}

/// The end of every message about renewing: the links and what it is about.
macro_rules! with_footer {
    ($lead:literal) => {
        concat!(
            $lead,
            "\n\nRenew: [renew_link]\nYour certificate: [certificate_link]\nAnyone can check it at: [verify_link]\n\nCertification: [certification_name] ([certification_code])\nExpiry date: [expiry_date]"
        )
    };
}

/// Every message recert sends, in the order pages list them.
pub const KINDS: [Kind; 11] = [
    Kind {
        event: "award.issued",
        label: "Certificate issued",
        recipient: "the learner",
        per_program: true,
        shortcodes: codes!("validity"),
        subject: "You are certified: [certification_name]",
        body: "Hello [learner_name],\n\nYou have been awarded [certification_name] ([certification_code]), certificate [certificate_id], issued on [issue_date]. [validity]\n\nYour certificate: [certificate_link]\nAnyone can check it at: [verify_link]",
    },
    Kind {
        event: "award.reminder",
        label: "Renewal reminder (each reminder offset)",
        recipient: "the learner; their manager in Cc from the escalation offset",
        per_program: true,
        shortcodes: codes!("offset_days"),
        subject: "Reminder: [certification_name] [expiry_phrase]",
        body: with_footer!(
            "Hello [learner_name],\n\nYour [certification_name] certification ([certification_code]) [expiry_phrase]. Renew it to stay certified: [pathways]."
        ),
    },
    Kind {
        event: "award.expired",
        label: "Expired: the grace period starts",
        recipient: "the learner, their manager in Cc",
        per_program: true,
        shortcodes: codes!(),
        subject: "[certification_name] has expired: renew it during the grace period",
        body: with_footer!(
            "Hello [learner_name],\n\nYour [certification_name] certification ([certification_code]) expired on [expiry_date]. The grace period has started: renew it by [grace_end_date] to keep your certification without starting over ([pathways])."
        ),
    },
    Kind {
        event: "award.grace_ending",
        label: "Grace period ending",
        recipient: "the learner, their manager in Cc",
        per_program: true,
        shortcodes: codes!(),
        subject: "Last days to renew [certification_name]",
        body: with_footer!(
            "Hello [learner_name],\n\nThe grace period of your [certification_name] certification ([certification_code]), which expired on [expiry_date], ends on [grace_end_date]. After that it lapses and only the full initial requirements earn it again. Renew now: [pathways]."
        ),
    },
    Kind {
        event: "award.lapsed",
        label: "Lapsed",
        recipient: "the learner, their manager in Cc",
        per_program: true,
        shortcodes: codes!(),
        subject: "[certification_name] has lapsed",
        body: with_footer!(
            "Hello [learner_name],\n\nYour [certification_name] certification ([certification_code]) expired on [expiry_date] and was not renewed during the grace period, so it has lapsed. To be certified again, complete the initial requirements; the renewal page says what they are."
        ),
    },
    Kind {
        event: "award.renewed",
        label: "Renewed",
        recipient: "the learner",
        per_program: true,
        shortcodes: codes!("validity", "pathway"),
        subject: "Renewed: [certification_name]",
        body: "Hello [learner_name],\n\nYour [certification_name] certification is renewed ([pathway]): the new certificate is [certificate_id]. [validity]\n\nYour certificate: [certificate_link]\nAnyone can check it at: [verify_link]",
    },
    Kind {
        event: "award.revoked",
        label: "Revoked",
        recipient: "the learner",
        per_program: true,
        shortcodes: codes!("revocation_reason"),
        subject: "Certificate revoked: [certification_name]",
        body: "Hello [learner_name],\n\nYour [certification_name] certificate [certificate_id] was revoked ([revocation_reason]). It no longer counts; ask the program's administrator if you have questions.\n\nYour certificate: [certificate_link]\nAnyone can check it at: [verify_link]",
    },
    Kind {
        event: "credit.decided",
        label: "Continuing-education credits reviewed",
        recipient: "the learner",
        per_program: true,
        shortcodes: codes!(
            "credit_hours",
            "credit_provider",
            "credit_date",
            "decision",
            "decision_note",
            "outcome"
        ),
        subject: "Your [certification_code] credits were reviewed",
        body: "Hello [learner_name],\n\nYour continuing-education credits ([credit_hours] hours from [credit_provider] completed on [credit_date]) were reviewed.\n\n[outcome]",
    },
    Kind {
        event: "signoff.requested",
        label: "Sign-off requested",
        recipient: "the learner's manager",
        per_program: true,
        shortcodes: codes!("manager_name", "signoff_link"),
        subject: "[learner_name] asks you to sign off [certification_name]",
        body: "Hello [manager_name],\n\n[learner_name] asks you to sign off their [certification_name] certification ([certification_code]), which expires on [expiry_date].\n\nApprove or decline it: [signoff_link]\n\nCertificate: [certificate_link]",
    },
    Kind {
        event: "signoff.decided",
        label: "Sign-off declined",
        recipient: "the learner (an approval sends “Renewed”)",
        per_program: true,
        shortcodes: codes!("manager_name", "comment"),
        subject: "Your sign-off for [certification_name] was declined",
        body: with_footer!(
            "Hello [learner_name],\n\n[manager_name] declined to sign off your [certification_name] certification ([certification_code]): [comment]\n\nYou can renew it another way or ask again: [pathways]."
        ),
    },
    Kind {
        event: "digest.manager",
        label: "Weekly manager digest",
        recipient: "each manager whose team has certifications to renew",
        per_program: false,
        shortcodes: &[
            "manager_name",
            "team_count",
            "team_list",
            "team_link",
            "horizon_days",
        ],
        subject: "Your team: [team_count] to renew",
        body: "Hello [manager_name],\n\nThese certifications of your team expire in the next [horizon_days] days or have expired and are in grace:\n\n[team_list]\n\nYour team's certifications: [team_link]",
    },
];

/// The kind of message of an event type.
pub fn kind(event: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.event == event)
}

/// Longest subject and body a template may have.
pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 10_000;

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

impl Kind {
    /// The template recert ships with.
    pub fn default_template(&self) -> Template {
        Template {
            subject: self.subject.to_owned(),
            body: self.body.to_owned(),
        }
    }

    /// Checks a template written for this kind: a one-line subject and a body, both
    /// present, bounded, free of control characters, and using only this kind's
    /// shortcodes (a misspelt one would go out as written). Every problem at once.
    pub fn check(&self, subject: &str, body: &str) -> Result<Template, DomainError> {
        let mut errors = Errors::new();
        let subject = subject.trim();
        let body = body.trim().replace("\r\n", "\n");
        let mut field = |name: &str, text: &str, max: usize, one_line: bool| {
            if text.is_empty() {
                errors.add(name, "must not be empty");
            } else if text.chars().count() > max {
                errors.add(name, format!("must be at most {max} characters"));
            } else if one_line && text.contains(['\n', '\r']) {
                errors.add(name, "must be one line");
            } else if let Some(c) = forbidden_char(text) {
                errors.add(
                    name,
                    format!("must not contain the control character U+{:04X}", c as u32),
                );
            } else if let Some(unknown) = shortcodes_in(text)
                .into_iter()
                .find(|c| !self.shortcodes.contains(c))
            {
                errors.add(
                    name,
                    format!(
                        "[{unknown}] is not a shortcode of this message; it may use {}",
                        self.shortcodes
                            .iter()
                            .map(|c| format!("[{c}]"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                );
            }
        };
        field("subject", subject, MAX_SUBJECT, true);
        field("body", &body, MAX_BODY, false);
        errors.finish()?;
        Ok(Template {
            subject: subject.to_owned(),
            body,
        })
    }
}

/// The `[word]`s of a text that look like shortcodes (lowercase letters and `_`).
fn shortcodes_in(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close)
                if close > 0
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                found.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

/// The values of a message's shortcodes, by name.
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<(&'static str, String)>);

impl Values {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets one value (a later one replaces an earlier).
    pub fn set(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `template` with every known `[shortcode]` replaced, in one pass: a value that
    /// looks like a shortcode is not expanded again, and an unknown `[word]` stays.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len() + 256);
        let mut rest = template;
        while let Some(open) = rest.find('[') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            let value = after
                .find(']')
                .and_then(|close| self.get(&after[1..close]).map(|v| (close, v)));
            match value {
                Some((close, v)) => {
                    out.push_str(v);
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
}

/// An email made from a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Fills a template: the subject on one line, the text as written, and the HTML part
/// made from that text.
pub fn render(template: &Template, values: &Values) -> Rendered {
    let subject = values
        .fill(&template.subject)
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut text = values.fill(&template.body);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let html = text_to_html(&text);
    Rendered {
        subject,
        text,
        html,
    }
}

pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML part of a text: a paragraph per blank-line-separated block, a line break per
/// line, every `http(s)://` word a link, everything else escaped.
pub fn text_to_html(text: &str) -> String {
    let paragraphs: String = text
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|para| {
            let lines: Vec<String> = para
                .trim_matches('\n')
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
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">{paragraphs}</body></html>"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_default_uses_only_its_own_shortcodes() {
        for k in &KINDS {
            assert_eq!(
                k.check(k.subject, k.body).unwrap(),
                k.default_template(),
                "{}",
                k.event
            );
        }
        let events: std::collections::HashSet<_> = KINDS.iter().map(|k| k.event).collect();
        assert_eq!(events.len(), KINDS.len());
    }

    #[test]
    fn a_template_is_checked_field_by_field() {
        let k = kind("award.reminder").unwrap();
        let e = k.check("", "Hi [learner_nme]").unwrap_err();
        assert_eq!(e.0.len(), 2, "{e:?}");
        assert_eq!(e.0[0].field, "subject");
        assert!(
            e.0[1]
                .message
                .starts_with("[learner_nme] is not a shortcode")
        );
        assert!(e.0[1].message.contains("[offset_days]"));
        // Shortcodes of another kind are refused; brackets that are not one are text.
        let e = k.check("Hi", "[team_list]").unwrap_err();
        assert!(e.0[0].message.contains("[team_list]"));
        assert!(k.check("Hi [A] [x y] []", "Ok [1]").is_ok());
        let e = k.check("two\nlines", "nul \0").unwrap_err();
        assert_eq!(e.0[0].message, "must be one line");
        assert!(e.0[1].message.contains("U+0000"));
        let e = k.check("s", &"x".repeat(MAX_BODY + 1)).unwrap_err();
        assert_eq!(e.0[0].field, "body");
    }

    #[test]
    fn values_are_filled_once_and_unknown_words_stay() {
        let mut v = Values::new();
        v.set("learner_name", "[renew_link] Ann <A&B>")
            .set("renew_link", "https://r.example/renew/X?a=1&b=2")
            .set("days_left", "30");
        assert_eq!(
            v.fill("Hi [learner_name], [days_left] days: [renew_link] [unknown] ["),
            "Hi [renew_link] Ann <A&B>, 30 days: https://r.example/renew/X?a=1&b=2 [unknown] ["
        );
        let r = render(
            &Template {
                subject: "For [learner_name]".into(),
                body: "Hello [learner_name],\n\nRenew: [renew_link]\nThanks".into(),
            },
            &v,
        );
        assert_eq!(r.subject, "For [renew_link] Ann <A&B>");
        assert!(r.text.ends_with("Thanks\n"));
        assert!(
            r.html.contains(
                "<p>Hello [renew_link] Ann &lt;A&amp;B&gt;,</p><p>Renew: <a href=\"https://r.example/renew/X?a=1&amp;b=2\">https://r.example/renew/X?a=1&amp;b=2</a><br>Thanks</p>"
            ),
            "{}",
            r.html
        );
    }
}
