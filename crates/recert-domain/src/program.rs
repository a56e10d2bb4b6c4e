//! SPEC §2 programs: a certification with its validity, renewal rules and assigned items.
//! A `Program` that exists is valid: build one only through [`ProgramDraft::into_program`].

use crate::dates::{Validity, ValidityUnit};
use crate::error::{DomainError, Errors};
use crate::names::{Code, optional_text, parse_date, required_text};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A way to renew (SPEC §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pathway {
    Retake,
    Refresher,
    Credits,
    Signoff,
}

impl Pathway {
    pub const ALL: [Pathway; 4] = [Self::Retake, Self::Refresher, Self::Credits, Self::Signoff];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Retake => "retake",
            Self::Refresher => "refresher",
            Self::Credits => "credits",
            Self::Signoff => "signoff",
        }
    }
    /// The pathway in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Retake => "Retake an assigned item",
            Self::Refresher => "Refresher module",
            Self::Credits => "Continuing-education credits",
            Self::Signoff => "Supervisor sign-off",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw).ok_or_else(|| {
            DomainError::field(
                field,
                format!("unknown pathway {raw:?}: must be one of retake, refresher, credits, signoff"),
            )
        })
    }
}

/// Where a renewal's new validity starts counting from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RenewalAnchor {
    /// New expiry = previous expiry + validity: early renewers lose nothing (the default).
    PreviousExpiry,
    /// New expiry = renewal date + validity.
    RenewalDate,
}

impl RenewalAnchor {
    pub const ALL: [RenewalAnchor; 2] = [Self::PreviousExpiry, Self::RenewalDate];
    /// The anchor in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::PreviousExpiry => "From the previous expiry date",
            Self::RenewalDate => "From the renewal date",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PreviousExpiry => "previous_expiry",
            Self::RenewalDate => "renewal_date",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "previous_expiry" => Ok(Self::PreviousExpiry),
            "renewal_date" => Ok(Self::RenewalDate),
            _ => Err(DomainError::field(
                field,
                format!("unknown anchor {raw:?}: must be previous_expiry or renewal_date"),
            )),
        }
    }
}

/// At most this many items (courses, assessments) in one program.
pub const MAX_ITEMS: usize = 200;
/// At most this many custom fields on a program's awards.
pub const MAX_CUSTOM_FIELDS: usize = 50;

/// Continuing-education requirement for the credits pathway: total hours per cycle and
/// per-category minimums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CreditsRequired {
    pub hours: f64,
    #[serde(default)]
    pub categories: BTreeMap<String, f64>,
}

/// The kind of a learning item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Course,
    LearningPlan,
    Assessment,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [Self::Course, Self::LearningPlan, Self::Assessment];
    /// The kind in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Course => "Course",
            Self::LearningPlan => "Learning plan",
            Self::Assessment => "Assessment",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Course => "course",
            Self::LearningPlan => "learning_plan",
            Self::Assessment => "assessment",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        match raw {
            "course" => Ok(Self::Course),
            "learning_plan" => Ok(Self::LearningPlan),
            "assessment" => Ok(Self::Assessment),
            _ => Err(DomainError::field(
                field,
                format!("unknown kind {raw:?}: must be course, learning_plan or assessment"),
            )),
        }
    }
}

/// A learning item assigned to a program: completing any one of them earns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProgramItem {
    pub code: String,
    pub kind: ItemKind,
    /// Fraction 0–1 compared with score / max score; null = any completion passes.
    pub pass_threshold: Option<f64>,
    #[schema(value_type = String, format = Date)]
    pub assigned_on: Date,
    /// The item's xAPI activity IRI.
    pub activity_id: Option<String>,
    /// Opens the item in the LMS.
    pub url: Option<String>,
}

/// The type of a custom field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Boolean,
}

/// A custom field that awards of this program carry (e.g. the regulatory module number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomFieldDef {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    #[serde(default)]
    pub required: bool,
}

/// A certification program, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Program {
    #[schema(value_type = String)]
    pub code: Code,
    pub name: String,
    pub description: String,
    #[schema(value_type = String)]
    pub organization: Code,
    pub validity: Validity,
    pub renewal_window_days: u32,
    pub grace_days: u32,
    /// Days before expiry a reminder goes out; negative = after expiry.
    pub reminder_offsets_days: Vec<i32>,
    /// From this many days before expiry, reminders copy the learner's manager; every
    /// notice after expiry does too.
    #[serde(default = "default_escalation")]
    pub escalation_offset_days: u32,
    pub renewal_pathways: Vec<Pathway>,
    pub renewal_anchor: RenewalAnchor,
    pub credits_required: Option<CreditsRequired>,
    /// Credit providers whose entries are approved without review.
    #[serde(default)]
    pub approved_providers: Vec<String>,
    pub refresher_item: Option<String>,
    pub items: Vec<ProgramItem>,
    pub content_version: Option<String>,
    pub custom_fields: Vec<CustomFieldDef>,
    /// Whether compliance reports count holders in grace as compliant.
    pub grace_counts_as_compliant: bool,
    /// Whether learners' external training reports wait for an approver (the default) or
    /// earn the program at once.
    #[serde(default = "yes")]
    pub external_training_approval: bool,
    /// The day the program was archived, if it was.
    #[schema(value_type = Option<String>, format = Date)]
    pub archived_on: Option<Date>,
}

impl Program {
    /// The item with this code, if assigned.
    pub fn item(&self, code: &str) -> Option<&ProgramItem> {
        self.items.iter().find(|i| i.code == code)
    }
}

fn yes() -> bool {
    true
}

/// Item as written in a request; `assigned_on` defaults to the day it is added.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemDraft {
    pub code: Option<String>,
    pub kind: Option<String>,
    pub pass_threshold: Option<f64>,
    pub assigned_on: Option<String>,
    pub activity_id: Option<String>,
    pub url: Option<String>,
}

/// Validity as written in a request: the unit is text so an unknown one gets a clear error.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidityDraft {
    pub count: i64,
    pub unit: String,
}

/// A program create or patch request. Absent fields keep their current value (patch) or the
/// SPEC's default (create). Nullable settings distinguish "absent" from "set to null".
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgramDraft {
    pub code: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub organization: Option<String>,
    pub validity: Option<ValidityDraft>,
    pub renewal_window_days: Option<i64>,
    pub grace_days: Option<i64>,
    pub reminder_offsets_days: Option<Vec<i64>>,
    /// Days before expiry from which reminders copy the manager (0–3650; default 30).
    #[schema(minimum = 0, maximum = 3650)]
    pub escalation_offset_days: Option<i64>,
    pub renewal_pathways: Option<Vec<String>>,
    pub renewal_anchor: Option<String>,
    #[serde(default, deserialize_with = "crate::names::present")]
    #[schema(value_type = Option<CreditsRequired>)]
    pub credits_required: Option<Option<CreditsRequired>>,
    /// Credit providers whose entries are approved without review (at most 100).
    pub approved_providers: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::names::present")]
    #[schema(value_type = Option<String>)]
    pub refresher_item: Option<Option<String>>,
    pub items: Option<Vec<ItemDraft>>,
    #[serde(default, deserialize_with = "crate::names::present")]
    #[schema(value_type = Option<String>)]
    pub content_version: Option<Option<String>>,
    pub custom_fields: Option<Vec<CustomFieldDef>>,
    pub grace_counts_as_compliant: Option<bool>,
    pub external_training_approval: Option<bool>,
}

pub const DEFAULT_WINDOW_DAYS: u32 = 90;
pub const DEFAULT_GRACE_DAYS: u32 = 30;
pub const DEFAULT_REMINDERS: [i32; 4] = [90, 60, 30, -1];

/// Reminders copy the manager from 30 days before expiry unless a program says otherwise.
pub const DEFAULT_ESCALATION_DAYS: u32 = 30;

fn default_escalation() -> u32 {
    DEFAULT_ESCALATION_DAYS
}

fn bounded_days(errors: &mut Errors, field: &str, v: i64, max: i64) -> u32 {
    if v < 0 {
        errors.add(field, "must not be negative");
        0
    } else if v > max {
        errors.add(field, format!("must be at most {max} days"));
        0
    } else {
        u32::try_from(v).unwrap_or(0)
    }
}

impl ProgramDraft {
    /// Builds a valid program from this draft on top of `base` (the current program on patch,
    /// `None` on create). `today` is the default assignment day of newly added items.
    pub fn into_program(
        self,
        base: Option<&Program>,
        default_org: &Code,
        today: Date,
    ) -> Result<Program, DomainError> {
        let mut e = Errors::new();
        let code = match (&self.code, base) {
            (Some(raw), None) => e.check(Code::parse("code", raw)),
            (None, None) => {
                e.add("code", "is required");
                None
            }
            (Some(raw), Some(b)) if raw.trim() != b.code.as_str() => {
                e.add("code", "cannot be changed; create a new program instead");
                None
            }
            (_, Some(b)) => Some(b.code.clone()),
        };
        let name = match (&self.name, base) {
            (Some(raw), _) => e.check(required_text("name", raw, 200)),
            (None, Some(b)) => Some(b.name.clone()),
            (None, None) => {
                e.add("name", "is required");
                None
            }
        };
        let description = match &self.description {
            Some(raw) => e.check(optional_text("description", Some(raw), 10_000)),
            None => Some(base.map(|b| b.description.clone()).unwrap_or_default()),
        };
        let organization = match (&self.organization, base) {
            (Some(raw), _) => e.check(Code::parse("organization", raw)),
            (None, Some(b)) => Some(b.organization.clone()),
            (None, None) => Some(default_org.clone()),
        };
        let validity = match &self.validity {
            Some(v) => {
                let unit = e.check(ValidityUnit::parse("validity.unit", &v.unit));
                unit.and_then(|u| e.check(Validity::new(v.count, u)))
            }
            None => match base {
                Some(b) => Some(b.validity),
                None => {
                    e.add("validity", "is required, e.g. {\"count\": 1, \"unit\": \"years\"} (count 0 = never expires)");
                    None
                }
            },
        };
        let renewal_window_days = match self.renewal_window_days {
            Some(v) => bounded_days(&mut e, "renewal_window_days", v, 3650),
            None => base.map_or(DEFAULT_WINDOW_DAYS, |b| b.renewal_window_days),
        };
        let grace_days = match self.grace_days {
            Some(v) => bounded_days(&mut e, "grace_days", v, 3650),
            None => base.map_or(DEFAULT_GRACE_DAYS, |b| b.grace_days),
        };
        let reminder_offsets_days = match &self.reminder_offsets_days {
            Some(list) => {
                let mut out = Vec::with_capacity(list.len());
                for (i, &v) in list.iter().enumerate() {
                    if !(-3650..=3650).contains(&v) {
                        e.add(
                            format!("reminder_offsets_days[{i}]"),
                            "must be between -3650 and 3650 days",
                        );
                    } else if out.contains(&(v as i32)) {
                        e.add(
                            format!("reminder_offsets_days[{i}]"),
                            format!("{v} is listed twice"),
                        );
                    } else {
                        out.push(v as i32);
                    }
                }
                out.sort_unstable_by(|a, b| b.cmp(a));
                out
            }
            None => base.map_or(DEFAULT_REMINDERS.to_vec(), |b| {
                b.reminder_offsets_days.clone()
            }),
        };
        let escalation_offset_days = match self.escalation_offset_days {
            Some(v) => bounded_days(&mut e, "escalation_offset_days", v, 3650),
            None => base.map_or(DEFAULT_ESCALATION_DAYS, |b| b.escalation_offset_days),
        };
        let renewal_pathways = match &self.renewal_pathways {
            Some(list) => {
                let mut out = Vec::new();
                for (i, raw) in list.iter().enumerate() {
                    let field = format!("renewal_pathways[{i}]");
                    if let Some(p) = e.check(Pathway::parse(&field, raw)) {
                        if out.contains(&p) {
                            e.add(field, format!("{raw:?} is listed twice"));
                        } else {
                            out.push(p);
                        }
                    }
                }
                out
            }
            None => base.map_or(vec![Pathway::Retake], |b| b.renewal_pathways.clone()),
        };
        let renewal_anchor = match &self.renewal_anchor {
            Some(raw) => e
                .check(RenewalAnchor::parse("renewal_anchor", raw))
                .unwrap_or(RenewalAnchor::PreviousExpiry),
            None => base.map_or(RenewalAnchor::PreviousExpiry, |b| b.renewal_anchor),
        };
        let credits_required = match self.credits_required {
            Some(c) => c,
            None => base.and_then(|b| b.credits_required.clone()),
        };
        if let Some(c) = &credits_required {
            if !(c.hours.is_finite() && c.hours > 0.0 && c.hours <= 10_000.0) {
                e.add(
                    "credits_required.hours",
                    "must be a positive number of hours",
                );
            }
            for (cat, min) in &c.categories {
                let field = format!("credits_required.categories.{cat}");
                if cat.trim().is_empty() {
                    e.add(
                        "credits_required.categories",
                        "category names must not be empty",
                    );
                } else if !(min.is_finite() && *min >= 0.0) {
                    e.add(field, "must be a number of hours, 0 or more");
                } else if *min > c.hours {
                    e.add(field, "cannot exceed the total hours required");
                }
            }
        }
        let approved_providers = match &self.approved_providers {
            Some(list) => {
                if list.len() > 100 {
                    e.add("approved_providers", "at most 100 providers");
                }
                let mut out: Vec<String> = Vec::with_capacity(list.len());
                for (i, raw) in list.iter().enumerate() {
                    let field = format!("approved_providers[{i}]");
                    if let Some(name) = e.check(required_text(&field, raw, 200)) {
                        let key = crate::credits::category_key(&name);
                        if out.iter().any(|o| crate::credits::category_key(o) == key) {
                            e.add(field, format!("{name:?} is listed twice"));
                        } else {
                            out.push(name);
                        }
                    }
                }
                out
            }
            None => base
                .map(|b| b.approved_providers.clone())
                .unwrap_or_default(),
        };
        let refresher_item = match self.refresher_item {
            Some(Some(s)) if s.trim().is_empty() => None,
            Some(r) => r.map(|s| s.trim().to_owned()),
            None => base.and_then(|b| b.refresher_item.clone()),
        };
        let items = match self.items {
            Some(drafts) if drafts.len() > MAX_ITEMS => {
                e.add(
                    "items",
                    format!("at most {MAX_ITEMS} items, not {}", drafts.len()),
                );
                Vec::new()
            }
            Some(drafts) => {
                let mut out: Vec<ProgramItem> = Vec::with_capacity(drafts.len());
                for (i, d) in drafts.into_iter().enumerate() {
                    let prior = base.and_then(|b| d.code.as_deref().and_then(|c| b.item(c.trim())));
                    if let Some(item) = e.check(d.into_item(&format!("items[{i}]"), prior, today)) {
                        if out.iter().any(|o| o.code == item.code) {
                            e.add(
                                format!("items[{i}].code"),
                                format!("{:?} is assigned twice", item.code),
                            );
                        } else {
                            out.push(item);
                        }
                    }
                }
                out
            }
            None => base.map(|b| b.items.clone()).unwrap_or_default(),
        };
        let content_version = match self.content_version {
            Some(v) => v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            None => base.and_then(|b| b.content_version.clone()),
        };
        let custom_fields = match self.custom_fields {
            Some(defs) if defs.len() > MAX_CUSTOM_FIELDS => {
                e.add(
                    "custom_fields",
                    format!("at most {MAX_CUSTOM_FIELDS} fields, not {}", defs.len()),
                );
                Vec::new()
            }
            Some(defs) => {
                for (i, d) in defs.iter().enumerate() {
                    if e.check(Code::parse(&format!("custom_fields[{i}].key"), &d.key))
                        .is_some()
                        && defs[..i].iter().any(|o| o.key == d.key)
                    {
                        e.add(
                            format!("custom_fields[{i}].key"),
                            format!("{:?} is defined twice", d.key),
                        );
                    }
                    e.check(required_text(
                        &format!("custom_fields[{i}].label"),
                        &d.label,
                        200,
                    ));
                }
                defs
            }
            None => base.map(|b| b.custom_fields.clone()).unwrap_or_default(),
        };
        if renewal_pathways.contains(&Pathway::Credits) && credits_required.is_none() {
            e.add(
                "credits_required",
                "is required when renewal_pathways includes credits",
            );
        }
        if renewal_pathways.contains(&Pathway::Refresher) && refresher_item.is_none() {
            e.add(
                "refresher_item",
                "is required when renewal_pathways includes refresher",
            );
        }
        let grace_counts_as_compliant = self
            .grace_counts_as_compliant
            .unwrap_or_else(|| base.is_some_and(|b| b.grace_counts_as_compliant));
        let external_training_approval = self
            .external_training_approval
            .unwrap_or_else(|| base.is_none_or(|b| b.external_training_approval));
        let archived_on = base.and_then(|b| b.archived_on);
        e.finish()?;
        match (code, name, description, organization, validity) {
            (Some(code), Some(name), Some(description), Some(organization), Some(validity)) => {
                Ok(Program {
                    code,
                    name,
                    description,
                    organization,
                    validity,
                    renewal_window_days,
                    grace_days,
                    reminder_offsets_days,
                    escalation_offset_days,
                    renewal_pathways,
                    renewal_anchor,
                    credits_required,
                    approved_providers,
                    refresher_item,
                    items,
                    content_version,
                    custom_fields,
                    grace_counts_as_compliant,
                    external_training_approval,
                    archived_on,
                })
            }
            _ => Err(DomainError::field("program", "is incomplete")),
        }
    }
}

/// The name of an item's field: `code` alone, or `items[2].code` inside a program.
fn at_field(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_owned()
    } else {
        format!("{at}.{name}")
    }
}

impl ItemDraft {
    /// Validates one item; `at` prefixes its field names (empty for an item on its own). An
    /// item already assigned keeps its assignment day unless the request names one, so
    /// re-sending the item list does not move assignment dates.
    pub fn into_item(
        self,
        at: &str,
        prior: Option<&ProgramItem>,
        today: Date,
    ) -> Result<ProgramItem, DomainError> {
        let mut e = Errors::new();
        let code = match &self.code {
            Some(c) => e
                .check(Code::parse(&at_field(at, "code"), c))
                .map(|c| c.as_str().to_owned()),
            None => {
                e.add(at_field(at, "code"), "is required");
                None
            }
        };
        let kind = match &self.kind {
            Some(k) => e.check(ItemKind::parse(&at_field(at, "kind"), k)),
            None => Some(prior.map_or(ItemKind::Course, |p| p.kind)),
        };
        if let Some(t) = self.pass_threshold
            && !(t.is_finite() && (0.0..=1.0).contains(&t))
        {
            e.add(
                at_field(at, "pass_threshold"),
                "must be a fraction from 0 to 1 (0.8 = 80%)",
            );
        }
        let assigned_on = match &self.assigned_on {
            Some(d) => e.check(parse_date(&at_field(at, "assigned_on"), d)),
            None => Some(prior.map_or(today, |p| p.assigned_on)),
        };
        let activity_id = self
            .activity_id
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(a) = &activity_id
            && !a.contains(':')
        {
            e.add(
                at_field(at, "activity_id"),
                "must be an IRI such as https://lms.example.com/course/42",
            );
        }
        let url = self
            .url
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(u) = &url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            e.add(at_field(at, "url"), "must start with https:// or http://");
        }
        e.finish()?;
        match (code, kind, assigned_on) {
            (Some(code), Some(kind), Some(assigned_on)) => Ok(ProgramItem {
                code,
                kind,
                pass_threshold: self.pass_threshold,
                assigned_on,
                activity_id,
                url,
            }),
            _ => Err(DomainError::field(
                if at.is_empty() { "item" } else { at },
                "is incomplete",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn org() -> Code {
        Code::parse("organization", "default").unwrap()
    }

    fn draft(json: serde_json::Value) -> ProgramDraft {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn create_applies_spec_defaults() {
        let p = draft(serde_json::json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}}))
            .into_program(None, &org(), date(2027, 1, 1))
            .unwrap();
        assert_eq!(p.renewal_window_days, 90);
        assert_eq!(p.grace_days, 30);
        assert_eq!(p.reminder_offsets_days, vec![90, 60, 30, -1]);
        assert_eq!(p.renewal_anchor, RenewalAnchor::PreviousExpiry);
        assert_eq!(p.organization.as_str(), "default");
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = draft(serde_json::json!({
            "code": "bad code", "name": "", "validity": {"count": 1, "unit": "fortnights"},
            "renewal_window_days": -5, "renewal_pathways": ["credits", "teleport"],
            "items": [{"code": "C1", "pass_threshold": 1.5}]
        }))
        .into_program(None, &org(), date(2027, 1, 1))
        .unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|f| f.field.as_str()).collect();
        for want in [
            "code",
            "name",
            "validity.unit",
            "renewal_window_days",
            "renewal_pathways[1]",
            "items[0].pass_threshold",
            "credits_required",
        ] {
            assert!(fields.contains(&want), "{want} missing from {fields:?}");
        }
    }

    #[test]
    fn patch_keeps_assignment_day_of_existing_items() {
        let base = draft(serde_json::json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}, "items": [{"code": "C1"}]}))
            .into_program(None, &org(), date(2027, 1, 1))
            .unwrap();
        let patched = draft(serde_json::json!({"items": [{"code": "C1"}, {"code": "C2"}]}))
            .into_program(Some(&base), &org(), date(2027, 6, 1))
            .unwrap();
        assert_eq!(patched.items[0].assigned_on, date(2027, 1, 1));
        assert_eq!(patched.items[1].assigned_on, date(2027, 6, 1));
    }

    #[test]
    fn code_cannot_change_on_patch() {
        let base = draft(serde_json::json!({"code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"}}))
            .into_program(None, &org(), date(2027, 1, 1))
            .unwrap();
        assert!(
            draft(serde_json::json!({"code": "OTHER"}))
                .into_program(Some(&base), &org(), date(2027, 1, 1))
                .is_err()
        );
    }
}
