//! SPEC §2 groups: teams, sites, branches, departments and cohorts.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};

/// What a group stands for; reports filter by it ("who is not compliant at site B?").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    Team,
    Site,
    Branch,
    Department,
    Cohort,
}

impl GroupKind {
    pub const ALL: [GroupKind; 5] = [
        Self::Team,
        Self::Site,
        Self::Branch,
        Self::Department,
        Self::Cohort,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Team => "team",
            Self::Site => "site",
            Self::Branch => "branch",
            Self::Department => "department",
            Self::Cohort => "cohort",
        }
    }
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            DomainError::field(
                field,
                format!("unknown kind {raw:?}: must be one of team, site, branch, department, cohort"),
            )
        })
    }
}

/// A group name: 1–120 characters of visible text.
pub fn parse_group_name(field: &str, raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DomainError::field(field, "must not be empty"));
    }
    if s.chars().count() > 120 || s.chars().any(char::is_control) {
        return Err(DomainError::field(
            field,
            "must be at most 120 characters, without control characters",
        ));
    }
    Ok(s.to_owned())
}

/// A group of learners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Group {
    pub name: String,
    pub kind: GroupKind,
    pub description: String,
    /// How many learners belong to it.
    pub member_count: i64,
    /// Codes of the programs its members must hold.
    pub required_programs: Vec<String>,
}
