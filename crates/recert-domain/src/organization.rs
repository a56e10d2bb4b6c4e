//! SPEC §2 organizations: the issuer of credentials, with its time zone.

use jiff::tz::TimeZone;

/// The code of the organization a fresh installation starts with.
pub const DEFAULT_CODE: &str = "default";

/// The organization's time zone, falling back to UTC for a name the bundled database no
/// longer knows (names are validated on entry, so this is only a safety net).
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// An issuing organization.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Organization {
    pub code: String,
    pub name: String,
    pub url: Option<String>,
    /// IANA time zone in which issue and expiry dates are reckoned.
    pub time_zone: String,
}
