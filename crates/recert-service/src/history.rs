//! Audit events in words: what happened, who did it, why, and each field's value before →
//! after. The award page and the audit log page show events through [`describe`].

use recert_store::audit::Event;
use serde_json::Value;

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// An audit event for people.
#[derive(Debug, Clone)]
pub struct Described {
    pub seq: i64,
    /// "2027-06-15 12:00 UTC": to the minute, with the zone.
    pub at: String,
    /// The instant, RFC 3339, for pages to show in the viewer's own zone.
    pub at_rfc3339: String,
    /// Who, as recorded ("user:ada", "token:lms-sync", "system").
    pub actor: String,
    /// Who, in words ("ada", "API token “lms-sync”", "recert itself").
    pub who: String,
    pub action: String,
    /// The action in words ("Edited", "Revoked").
    pub what: String,
    pub subject_type: String,
    pub subject_id: String,
    /// Why, when the change recorded a reason.
    pub reason: Option<String>,
    pub changes: Vec<FieldChange>,
}

/// Who did something, in words: a person by their username, an API token by its name,
/// recert's own work as such; any other recorded name as it is.
pub fn actor_label(actor: &str) -> String {
    if let Some(user) = actor.strip_prefix("user:") {
        user.to_owned()
    } else if let Some(token) = actor.strip_prefix("token:") {
        format!("API token “{token}”")
    } else if let Some(user) = actor.strip_prefix("cli:") {
        format!("{user} (command line)")
    } else if actor == "system" {
        "recert itself".to_owned()
    } else {
        actor.to_owned()
    }
}

/// The action in words.
pub fn action_label(action: &str) -> String {
    match action {
        "award.created" => "Awarded".into(),
        "award.updated" => "Edited".into(),
        "award.revoked" => "Revoked".into(),
        "award.archived" => "Unassigned".into(),
        "award.superseded" => "Renewed by a newer certificate".into(),
        "award.renewed" => "Renewed".into(),
        "award.closed" => "Closed: lapsed, and a new certificate started".into(),
        "award.grace_extended" => "Grace extended".into(),
        "import.completed" => "Imported a file".into(),
        other => {
            // "learner.created" → "Learner created".
            let words = other.replace(['.', '_'], " ");
            let mut c = words.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

/// A field's name in words, as pages show it in messages and change lists ("issued_on"
/// → "Issue date"); a name not listed reads as its words ("issued_from" → "Issued from").
pub fn field_label(key: &str) -> String {
    let known = match key {
        "issued_on" => "Issue date",
        "completed_on" => "Completion date",
        "expires_on" => "Expiry date",
        "always_valid" => "Always valid",
        "score" => "Score",
        "pass_threshold" => "Pass score",
        "association" => "Association",
        "source_ref" => "Earned by",
        "credits" => "Credits",
        "content_version" => "Content version",
        "fields" => "Custom fields",
        "grace_extension_days" => "Grace extension (days)",
        "legal_name" => "Legal name",
        "email" => "E-mail",
        "manager" => "Manager",
        "groups" => "Groups",
        "active" => "Active",
        "end_date" => "End date",
        "revoked" => "Revocation",
        "archived_on" => "Unassigned on",
        "closed_on" => "Closed on",
        "superseded" => "Renewed by",
        "learner" => "Learner",
        "program" => "Program",
        "username" => "Username",
        "as_of" => "As of",
        "sort" => "Sort",
        "page" => "Page",
        "format" => "Format",
        "note" => "Reason",
        "category" => "Category",
        "validity" => "Validity",
        "password" => "Password",
        "address" => "Client address",
        "failed_logins" => "Failed sign-ins",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    let words = key.replace(['_', '.'], " ");
    let mut c = words.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(true)) => "yes".into(),
        Some(Value::Bool(false)) => "no".into(),
        Some(other) => other.to_string(),
    }
}

/// Events of an account signing in or failing to, whose facts (the client's address, the
/// failures counted) are shown as they are.
const SIGN_IN_EVENTS: &[&str] = &["user.signed_in", "user.login_failed"];

/// The event in words.
pub fn describe(e: &Event) -> Described {
    let empty = serde_json::Map::new();
    let before = e
        .before
        .as_ref()
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let after = e
        .after
        .as_ref()
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let reason = after
        .get("_change")
        .and_then(|c| c.get("reason"))
        .or_else(|| after.get("revoked").and_then(|r| r.get("reason")))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut changes = Vec::new();
    // Only an edit lists its fields: a creation's "after" is the whole record.
    if !before.is_empty() {
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            if k.starts_with('_') || k == "status" || k == "updated_at" {
                continue;
            }
            let (b, a) = (before.get(k), after.get(k));
            if b != a {
                changes.push(FieldChange {
                    field: field_label(k),
                    before: show(b),
                    after: show(a),
                });
            }
        }
    } else if SIGN_IN_EVENTS.contains(&e.action.as_str()) {
        // A sign-in event records facts, not a record: where from, how many failures.
        for (k, v) in after {
            changes.push(FieldChange {
                field: field_label(k),
                before: String::new(),
                after: show(Some(v)),
            });
        }
    }
    Described {
        seq: e.seq,
        at: minute_utc(e.at),
        at_rfc3339: e.at.to_string(),
        actor: e.actor.clone(),
        who: actor_label(&e.actor),
        what: action_label(&e.action),
        action: e.action.clone(),
        subject_type: e.subject_type.clone(),
        subject_id: e.subject_id.clone(),
        reason,
        changes,
    }
}

/// An instant to the minute in UTC, e.g. "2027-03-01 14:05 UTC" (pages show it in the
/// viewer's own zone where their browser runs scripts).
pub fn minute_utc(t: impl std::borrow::Borrow<jiff::Timestamp>) -> String {
    t.borrow().strftime("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(action: &str, before: Option<Value>, after: Option<Value>) -> Event {
        Event {
            seq: 1,
            at: "2027-06-15T12:34:56Z".parse().unwrap(),
            actor: "user:root".into(),
            action: action.into(),
            subject_type: "award".into(),
            subject_id: "X".into(),
            before,
            after,
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn actors_are_named_in_words() {
        assert_eq!(actor_label("user:ada"), "ada");
        assert_eq!(actor_label("token:lms-sync"), "API token “lms-sync”");
        assert_eq!(actor_label("system"), "recert itself");
        assert_eq!(actor_label("cli:root"), "root (command line)");
        assert_eq!(actor_label("lms:demo"), "lms:demo");
        assert_eq!(describe(&event("award.revoked", None, None)).who, "root");
    }

    #[test]
    fn an_edit_lists_each_field_before_and_after_with_its_reason() {
        let d = describe(&event(
            "award.updated",
            Some(serde_json::json!({"score": 0.8, "expires_on": "2028-01-10", "learner": "ana"})),
            Some(
                serde_json::json!({"score": 0.9, "expires_on": "2028-01-10", "learner": "ana",
                                    "_change": {"reason": "HR correction"}}),
            ),
        ));
        assert_eq!(d.what, "Edited");
        assert_eq!(d.at, "2027-06-15 12:34 UTC");
        assert_eq!(d.reason.as_deref(), Some("HR correction"));
        assert_eq!(
            d.changes,
            vec![FieldChange {
                field: "Score".into(),
                before: "0.8".into(),
                after: "0.9".into()
            }]
        );
    }

    #[test]
    fn unknown_actions_read_as_words() {
        assert_eq!(action_label("learner.created"), "Learner created");
        assert_eq!(action_label("award.revoked"), "Revoked");
    }
}
