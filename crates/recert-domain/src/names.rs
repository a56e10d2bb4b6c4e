//! Identifiers people type: program codes, group names, usernames.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A short code (program, organization): letters, digits, `-`, `_`, `.`; 1–64 characters.
/// Case is kept as entered; lookups compare exactly so `SAFE-1` and `safe-1` may not both be
/// meant, which is why creation refuses a code that differs from an existing one only by case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Code(String);

impl Code {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::field(field, "must not be empty"));
        }
        if s.chars().count() > 64 {
            return Err(DomainError::field(field, "must be at most 64 characters"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(DomainError::field(
                field,
                format!("may contain only letters, digits, '-', '_' and '.' (found {c:?})"),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A learner's login name: 1–128 characters, no spaces or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::field(field, "must not be empty"));
        }
        if s.chars().count() > 128 {
            return Err(DomainError::field(field, "must be at most 128 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::field(
                field,
                "must not contain spaces or control characters",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// For patch requests: deserializes a present field (even `null`) as `Some(..)`, so an
/// absent field stays `None` and "leave it" differs from "clear it". Use with
/// `#[serde(default, deserialize_with = "recert_domain::names::present")]`.
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Free text that must be present and bounded (names, titles).
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, DomainError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DomainError::field(field, "must not be empty"));
    }
    if s.chars().count() > max {
        return Err(DomainError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

/// Optional free text, bounded.
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> Result<String, DomainError> {
    let s = raw.unwrap_or("").trim();
    if s.chars().count() > max {
        return Err(DomainError::field(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(s.to_owned())
}

/// A calendar date written `YYYY-MM-DD`.
pub fn parse_date(field: &str, raw: &str) -> Result<jiff::civil::Date, DomainError> {
    let s = raw.trim();
    let bytes = s.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err(DomainError::field(
            field,
            format!("must be a date written YYYY-MM-DD (got {s:?})"),
        ));
    }
    s.parse::<jiff::civil::Date>()
        .map_err(|_| DomainError::field(field, format!("{s:?} is not a real calendar date")))
}

/// An IANA time zone name such as `Europe/Paris`.
pub fn parse_time_zone(field: &str, raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    match jiff::tz::TimeZone::get(s) {
        Ok(_) => Ok(s.to_owned()),
        Err(_) => Err(DomainError::field(
            field,
            format!("{s:?} is not a known IANA time zone (e.g. Europe/Paris, UTC)"),
        )),
    }
}

/// An e-mail address, checked for shape only (delivery proves the rest).
pub fn parse_email(field: &str, raw: &str) -> Result<String, DomainError> {
    let s = raw.trim();
    let ok = s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if ok {
        Ok(s.to_owned())
    } else {
        Err(DomainError::field(
            field,
            format!("{s:?} is not an e-mail address"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_real_and_dashed() {
        assert!(parse_date("d", "2027-01-31").is_ok());
        assert!(parse_date("d", "2027-02-30").is_err());
        assert!(parse_date("d", "01/31/27").is_err());
        assert!(parse_date("d", "2027-1-31").is_err());
        assert!(parse_date("d", "2028-02-29").is_ok());
        assert!(parse_date("d", "2027-02-29").is_err());
    }

    #[test]
    fn codes_reject_spaces_and_symbols() {
        assert!(Code::parse("code", "SAFE-101").is_ok());
        assert!(Code::parse("code", "safe 101").is_err());
        assert!(Code::parse("code", "").is_err());
        assert!(Code::parse("code", "a/b").is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert!(parse_time_zone("tz", "Europe/Paris").is_ok());
        assert!(parse_time_zone("tz", "Mars/Olympus").is_err());
    }

    #[test]
    fn emails_need_a_domain() {
        assert!(parse_email("email", "ana@example.com").is_ok());
        assert!(parse_email("email", "ana@example").is_err());
        assert!(parse_email("email", "ana example.com").is_err());
    }
}
