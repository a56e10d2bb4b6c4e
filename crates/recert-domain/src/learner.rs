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
