//! SPEC §2 learners.

use crate::names::Username;
pub use crate::names::{parse_email, parse_time_zone};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A person who holds (or must hold) credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Learner {
    #[schema(value_type = String)]
    pub username: Username,
    /// The name printed on credentials, matching identity documents.
    pub legal_name: String,
    pub email: Option<String>,
    /// Identifiers in other systems, e.g. `{"hr": "E1042", "lms": "8812"}`.
    #[schema(value_type = Object)]
    pub external_ids: serde_json::Map<String, serde_json::Value>,
    /// The manager's username.
    #[schema(value_type = Option<String>)]
    pub manager: Option<Username>,
    /// Names of the groups the learner belongs to.
    pub groups: Vec<String>,
    pub time_zone: Option<String>,
    pub active: bool,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    /// Custom attributes such as job role or site.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// At most this many custom attributes per learner (job role, site, shift…).
pub const MAX_ATTRIBUTES: usize = 50;
/// At most this many external ids per learner (one per connected system).
pub const MAX_EXTERNAL_IDS: usize = 20;
/// An attribute's or external id's name, at most this many characters.
pub const MAX_KEY_CHARS: usize = 64;
/// An attribute's value as JSON, at most this many characters.
pub const MAX_ATTRIBUTE_CHARS: usize = 1_000;

/// Checks a learner's attributes (or external ids, `field` naming which): how many, how
/// long each name and value.
pub fn check_attributes(
    field: &str,
    map: &serde_json::Map<String, serde_json::Value>,
    max: usize,
    e: &mut crate::error::Errors,
) {
    if map.len() > max {
        e.add(
            field,
            format!("at most {max} may be set, not {}", map.len()),
        );
    }
    for (k, v) in map {
        if k.trim().is_empty() || k.chars().count() > MAX_KEY_CHARS {
            e.add(
                format!("{field}.{k}"),
                format!("the name must be 1 to {MAX_KEY_CHARS} characters"),
            );
        } else if v.to_string().chars().count() > MAX_ATTRIBUTE_CHARS {
            e.add(
                format!("{field}.{k}"),
                format!("must be at most {MAX_ATTRIBUTE_CHARS} characters"),
            );
        }
    }
}
