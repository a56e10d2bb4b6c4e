//! SPEC §2 awards: a certificate held by a learner, with every field an auditor needs
//! (the reference guide's eight record fields, renewal lineage and revocation).

use crate::certificate_id::CertificateId;
use crate::dates::add_days;
use crate::error::DomainError;
use crate::names::{Code, Username};
use crate::program::{FieldKind, Pathway, Program};

use jiff::{Timestamp, civil::Date};
use serde::{Deserialize, Serialize};

/// How an award came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Association {
    CourseCompletion,
    LearningPlan,
    ExternalTraining,
    Manual,
    Import,
    Renewal,
}

impl Association {
    pub const ALL: [Association; 6] = [
        Self::CourseCompletion,
        Self::LearningPlan,
        Self::ExternalTraining,
        Self::Manual,
        Self::Import,
        Self::Renewal,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CourseCompletion => "course_completion",
            Self::LearningPlan => "learning_plan",
            Self::ExternalTraining => "external_training",
            Self::Manual => "manual",
            Self::Import => "import",
            Self::Renewal => "renewal",
        }
    }
    /// The value in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::CourseCompletion => "Course completion",
            Self::LearningPlan => "Learning plan",
            Self::ExternalTraining => "External training",
            Self::Manual => "Manual",
            Self::Import => "Import",
            Self::Renewal => "Renewal",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw).ok_or_else(|| {
            DomainError::field(
                field,
                format!(
                    "unknown association {raw:?}: must be one of course_completion, learning_plan, external_training, manual, import, renewal"
                ),
            )
        })
    }
}

/// Why an award was revoked. Public verification shows only this category, never the
/// free-text reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RevocationCategory {
    IssuedInError,
    Misconduct,
    RequirementsNotMet,
    WithdrawnByHolder,
    Other,
}

impl RevocationCategory {
    pub const ALL: [RevocationCategory; 5] = [
        Self::IssuedInError,
        Self::Misconduct,
        Self::RequirementsNotMet,
        Self::WithdrawnByHolder,
        Self::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IssuedInError => "issued_in_error",
            Self::Misconduct => "misconduct",
            Self::RequirementsNotMet => "requirements_not_met",
            Self::WithdrawnByHolder => "withdrawn_by_holder",
            Self::Other => "other",
        }
    }
    /// The value in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::IssuedInError => "Issued in error",
            Self::Misconduct => "Misconduct",
            Self::RequirementsNotMet => "Requirements not met",
            Self::WithdrawnByHolder => "Withdrawn by the holder",
            Self::Other => "Other",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|a| a.as_str() == raw).ok_or_else(|| {
            DomainError::field(
                field,
                format!(
                    "unknown category {raw:?}: must be one of issued_in_error, misconduct, requirements_not_met, withdrawn_by_holder, other"
                ),
            )
        })
    }
}

/// A recorded revocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Revocation {
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The day (organization's zone) from which the award counts as revoked.
    #[schema(value_type = String, format = Date)]
    pub on: Date,
    pub reason: String,
    pub category: RevocationCategory,
}

/// Continuing-education credits an award earned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credits {
    pub hours: f64,
    pub category: Option<String>,
}

/// A certificate held by a learner.
#[derive(Debug, Clone, PartialEq)]
pub struct Award {
    pub id: CertificateId,
    pub learner: Username,
    pub program: Code,
    pub issued_on: Date,
    pub completed_on: Option<Date>,
    pub expires_on: Option<Date>,
    pub always_valid: bool,
    pub score: Option<f64>,
    pub pass_threshold: Option<f64>,
    pub association: Association,
    /// What earned it: a completion event id, an activity, an import row.
    pub source_ref: Option<String>,
    pub credits: Option<Credits>,
    pub content_version: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub predecessor: Option<CertificateId>,
    /// The award that renewed this one, and the day it did.
    pub superseded: Option<(CertificateId, Date)>,
    pub pathway: Option<Pathway>,
    /// The program's renewal window when this award was issued: later program changes
    /// apply to new awards only (SPEC §3.5) unless explicitly applied to holders.
    pub renewal_window_days: u32,
    /// The program's grace period when this award was issued.
    pub grace_days: u32,
    /// Days of grace granted beyond the program's, summed over every recorded extension.
    pub grace_extension_days: u32,
    pub revoked: Option<Revocation>,
    /// The day the award was unassigned (archived), if it was.
    pub archived_on: Option<Date>,
    /// The day the award, already lapsed, was closed because a new chain started. From
    /// that day it stays `lapsed` whatever is later edited on it (SPEC §3.2).
    pub closed_on: Option<Date>,
    /// Where the award's expiry sits in its chain's cycle (SPEC §3.4); `None` when it
    /// never expires, or for records older than the cycle.
    pub cycle: Option<Cycle>,
}

/// An expiry written as `start + count × validity`: a renewal by the previous-expiry
/// anchor counts on from here, so a chain keeps its day of the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cycle {
    pub start: Date,
    pub count: u32,
}

impl Award {
    /// First day of the renewal window for this award.
    pub fn window_opens(&self, expires: Date) -> Date {
        add_days(expires, -i64::from(self.renewal_window_days))
    }

    /// Last day of grace for this award: expiry + grace + any extension.
    pub fn grace_ends(&self, expires: Date) -> Date {
        add_days(
            expires,
            i64::from(self.grace_days) + i64::from(self.grace_extension_days),
        )
    }

    /// Whether this is the learner's current award of its program: nothing has ended it
    /// (revoked, renewed, unassigned, or closed after lapsing). Recorded facts only: never
    /// inferred from dates.
    pub fn is_current(&self) -> bool {
        self.revoked.is_none()
            && self.superseded.is_none()
            && self.archived_on.is_none()
            && self.closed_on.is_none()
    }

    /// The effective expiry: none when always valid.
    pub fn expiry(&self) -> Option<Date> {
        if self.always_valid {
            None
        } else {
            self.expires_on
        }
    }
}

/// A plain manual award of program `P` held by `ana`, for the rule tests: `expires` none =
/// always valid; window and grace as given.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn test_award(issued: Date, expires: Option<Date>, window: u32, grace: u32) -> Award {
    Award {
        id: CertificateId::from_random([1; 16]),
        learner: Username::parse("u", "ana").unwrap(),
        program: Code::parse("p", "P").unwrap(),
        issued_on: issued,
        completed_on: None,
        expires_on: expires,
        always_valid: expires.is_none(),
        score: None,
        pass_threshold: None,
        association: Association::Manual,
        source_ref: None,
        credits: None,
        content_version: None,
        fields: Default::default(),
        predecessor: None,
        superseded: None,
        pathway: None,
        renewal_window_days: window,
        grace_days: grace,
        grace_extension_days: 0,
        revoked: None,
        archived_on: None,
        closed_on: None,
        cycle: None,
    }
}

/// Checks an award's dates and scores against each other.
pub fn check_dates(
    issued_on: Date,
    completed_on: Option<Date>,
    expires_on: Option<Date>,
) -> Result<(), DomainError> {
    let mut e = crate::error::Errors::new();
    if let Some(x) = expires_on
        && x < issued_on
    {
        e.add("expires_on", "must not be before issued_on");
    }
    if let Some(c) = completed_on
        && c > issued_on
    {
        e.add("completed_on", "must not be after issued_on");
    }
    e.finish()
}

/// Checks a score as a fraction of its maximum or as a bare fraction 0–1.
pub fn check_score(score: Option<f64>, pass_threshold: Option<f64>) -> Result<(), DomainError> {
    let mut e = crate::error::Errors::new();
    if let Some(s) = score
        && !(s.is_finite() && s >= 0.0)
    {
        e.add("score", "must be a number, 0 or more");
    }
    if let Some(t) = pass_threshold
        && !(t.is_finite() && (0.0..=1.0).contains(&t))
    {
        e.add(
            "pass_threshold",
            "must be a fraction from 0 to 1 (0.8 = 80%)",
        );
    }
    e.finish()
}

/// Checks custom field values against the program's definitions.
pub fn check_fields(
    program: &Program,
    fields: &serde_json::Map<String, serde_json::Value>,
    require_all: bool,
) -> Result<(), DomainError> {
    use serde_json::Value;
    let mut e = crate::error::Errors::new();
    for (key, value) in fields {
        let Some(def) = program.custom_fields.iter().find(|d| &d.key == key) else {
            e.add(
                format!("fields.{key}"),
                format!("program {} defines no custom field {key:?}", program.code),
            );
            continue;
        };
        let ok = match (def.kind, value) {
            (_, Value::Null) => !def.required,
            (FieldKind::Text, Value::String(_)) => true,
            (FieldKind::Number, Value::Number(_)) => true,
            (FieldKind::Boolean, Value::Bool(_)) => true,
            (FieldKind::Date, Value::String(s)) => crate::names::parse_date("", s).is_ok(),
            _ => false,
        };
        if !ok {
            e.add(
                format!("fields.{key}"),
                format!(
                    "must be a {}",
                    match def.kind {
                        FieldKind::Text => "text",
                        FieldKind::Number => "number",
                        FieldKind::Boolean => "boolean",
                        FieldKind::Date => "date written YYYY-MM-DD",
                    }
                ),
            );
        }
    }
    if require_all {
        for def in program.custom_fields.iter().filter(|d| d.required) {
            if !fields.contains_key(&def.key) {
                e.add(format!("fields.{}", def.key), "is required by this program");
            }
        }
    }
    e.finish()
}
