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
    let d = s
        .parse::<jiff::civil::Date>()
        .map_err(|_| DomainError::field(field, format!("{s:?} is not a real calendar date")))?;
    if !(FIRST_YEAR..=LAST_YEAR).contains(&d.year()) {
        return Err(DomainError::field(
            field,
            format!("{s} is outside the years {FIRST_YEAR}–{LAST_YEAR} that recert accepts"),
        ));
    }
    Ok(d)
}

/// The years a date may fall in: anything outside is a typo (9999-12-31 for "never"), and
/// dates far outside break calendar arithmetic and other systems' parsers.
pub const FIRST_YEAR: i16 = 1900;
pub const LAST_YEAR: i16 = 2200;

/// The first character that text at any edge (JSON, forms, uploads, xAPI, URLs) may not
/// hold: NUL, which no database stores (PostgreSQL refuses it), and the other C0 control
/// characters but tab, line feed and carriage return, which only tamper with what people
/// read and with the headers text ends up in.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars()
        .find(|c| (*c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
}

/// The longest text any single field may hold, in characters: a message template's body
/// (10,000) is the longest recert has a use for. Without a cap anyone with a token could
/// store (and have every page render) a megabyte per field.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// What every edge (JSON, forms, multipart, query, path) checks of every text it is given:
/// no [`forbidden_char`], at most [`MAX_TEXT_CHARS`] characters. Fields with rules of their
/// own (a name's 128, a URL's 2,000) check those too.
pub fn check_text(field: &str, s: &str) -> Result<(), DomainError> {
    check_chars(field, s)?;
    // Bytes first: no text of fewer bytes can have more characters.
    if s.len() > MAX_TEXT_CHARS && s.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::field(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Refuses text holding a [`forbidden_char`], naming the field and the character.
pub fn check_chars(field: &str, s: &str) -> Result<(), DomainError> {
    match forbidden_char(s) {
        Some(c) => Err(DomainError::field(
            field,
            format!(
                "must not contain the control character U+{:04X}{}",
                c as u32,
                if c == '\0' { " (NUL)" } else { "" }
            ),
        )),
        None => Ok(()),
    }
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
        for outside in ["9999-12-31", "0000-01-01", "1899-12-31", "2201-01-01"] {
            let e = parse_date("d", outside).unwrap_err();
            assert!(e.to_string().contains("1900–2200"), "{outside}: {e}");
        }
        assert!(parse_date("d", "-000001-01-01").is_err());
        assert!(parse_date("d", "1900-01-01").is_ok() && parse_date("d", "2200-12-31").is_ok());
    }

    #[test]
    fn control_characters_but_tab_and_newlines_are_refused() {
        assert_eq!(forbidden_char("a\0b"), Some('\0'));
        assert!(check_text("body", &"é".repeat(MAX_TEXT_CHARS)).is_ok());
        let e = check_text("body", &"x".repeat(MAX_TEXT_CHARS + 1)).unwrap_err();
        assert!(e.to_string().contains("at most 10000 characters"), "{e}");
        assert_eq!(forbidden_char("bell\u{7}"), Some('\u{7}'));
        assert_eq!(forbidden_char("line\nnext\tcol\r"), None);
        assert_eq!(forbidden_char("Ana Ruiz — Ⅳ ✓"), None);
        assert!(
            check_chars("name", "x\0")
                .unwrap_err()
                .to_string()
                .contains("NUL")
        );
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
