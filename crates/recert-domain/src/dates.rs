//! SPEC §3.1: calendar dates, validity periods and the day a credential stops being valid.
//!
//! Issue, completion and expiry dates are calendar dates in the organization's time zone;
//! instants are UTC. A credential is valid through the END of its expiry date in that zone.

use crate::error::DomainError;
use jiff::{Span, Timestamp, civil::Date, tz::TimeZone};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The unit of a validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidityUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl ValidityUnit {
    pub const ALL: [ValidityUnit; 4] = [Self::Days, Self::Weeks, Self::Months, Self::Years];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Days => "days",
            Self::Weeks => "weeks",
            Self::Months => "months",
            Self::Years => "years",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|u| u.as_str() == raw)
            .ok_or_else(|| {
                DomainError::field(
                    field,
                    format!("unknown unit {raw:?}: must be one of days, weeks, months, years"),
                )
            })
    }
}

/// How long a credential stays valid after its issue date. `count == 0` means it never expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Validity {
    pub count: u32,
    pub unit: ValidityUnit,
}

/// Longest validity accepted, in years' worth of any unit: beyond a century is a typo.
const MAX_DAYS: u32 = 36_600;

impl Validity {
    /// In words, for pages: "1 year", "6 months", "never expires".
    pub fn words(&self) -> String {
        if self.count == 0 {
            return "never expires".into();
        }
        let unit = self.unit.as_str();
        if self.count == 1 {
            format!("1 {}", unit.trim_end_matches('s'))
        } else {
            format!("{} {unit}", self.count)
        }
    }

    pub const NEVER: Validity = Validity {
        count: 0,
        unit: ValidityUnit::Years,
    };

    pub fn new(count: i64, unit: ValidityUnit) -> Result<Self, DomainError> {
        if count < 0 {
            return Err(DomainError::field(
                "validity.count",
                "must be 0 (never expires) or a positive number",
            ));
        }
        let per = match unit {
            ValidityUnit::Days => 1,
            ValidityUnit::Weeks => 7,
            ValidityUnit::Months => 31,
            ValidityUnit::Years => 366,
        };
        if count.saturating_mul(per) > i64::from(MAX_DAYS) {
            return Err(DomainError::field(
                "validity.count",
                "must be at most 100 years",
            ));
        }
        Ok(Self {
            count: u32::try_from(count).unwrap_or(0),
            unit,
        })
    }

    pub fn never_expires(self) -> bool {
        self.count == 0
    }

    /// The date a credential issued on `issued` expires on, or `None` if it never does.
    /// Calendar arithmetic clamped to month end: Jan 31 + 1 month = Feb 28/29,
    /// Feb 29 + 1 year = Feb 28.
    pub fn expiry_from(self, issued: Date) -> Option<Date> {
        self.times(issued, 1)
    }

    /// `start + k × validity`, computed in one step from `start` so month ends never drift
    /// (2027-01-31 + 2 months is 2027-03-31, not 2027-02-28 + 1 month). `None` if it never
    /// expires.
    pub fn times(self, start: Date, k: u32) -> Option<Date> {
        if self.never_expires() {
            return None;
        }
        let n = i64::from(self.count) * i64::from(k);
        let span = match self.unit {
            ValidityUnit::Days => Span::new().try_days(n),
            ValidityUnit::Weeks => Span::new().try_weeks(n),
            ValidityUnit::Months => Span::new().try_months(n),
            ValidityUnit::Years => Span::new().try_years(n),
        };
        // jiff clamps the day of month when the target month is shorter, exactly the rule.
        // Only dates past 9999-12-31 fail, which the validity bound and the accepted years
        // make unreachable; saturate to the last representable day regardless.
        Some(
            span.ok()
                .and_then(|span| start.checked_add(span).ok())
                .unwrap_or(Date::MAX),
        )
    }
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.never_expires() {
            return f.write_str("never expires");
        }
        let unit = self.unit.as_str();
        if self.count == 1 {
            write!(f, "1 {}", unit.trim_end_matches('s'))
        } else {
            write!(f, "{} {unit}", self.count)
        }
    }
}

/// A date as people read it anywhere: "12 October 2026" (day and month cannot be swapped,
/// as they can in 10/12/2026). Certificates and public pages show dates so.
pub fn in_words(date: impl std::borrow::Borrow<Date>) -> String {
    date.borrow().strftime("%-d %B %Y").to_string()
}

/// [`in_words`] of an ISO date ("2026-10-12"); anything else as it is.
pub fn iso_in_words(iso: &str) -> String {
    iso.parse::<Date>()
        .map(in_words)
        .unwrap_or_else(|_| iso.to_owned())
}

/// Adds (or with a negative `days`, subtracts) whole days, saturating at the calendar's ends.
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Span::new().days(days))
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    from.until(to)
        .map(|span| i64::from(span.get_days()))
        .unwrap_or(0)
}

/// The calendar day it is at instant `now` in time zone `tz`: the day status is judged on.
pub fn day_in_zone(now: Timestamp, tz: &TimeZone) -> Date {
    now.to_zoned(tz.clone()).date()
}

/// Whether a credential expiring on `expires` is still valid at instant `now`: it is valid
/// through the end of that day in the organization's zone, expired from the next midnight.
pub fn valid_at(expires: Date, now: Timestamp, tz: &TimeZone) -> bool {
    day_in_zone(now, tz) <= expires
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn dates_in_words_cannot_be_misread() {
        assert_eq!(in_words(date(2027, 1, 5)), "5 January 2027");
        assert_eq!(in_words(date(2026, 12, 31)), "31 December 2026");
        assert_eq!(iso_in_words("2027-01-10"), "10 January 2027");
        for odd in [
            "",
            "2027",
            "2027-13-01",
            "2027-00-10",
            "2027-01-32",
            "2027-02-29",
            "x",
            "27-01-10",
            "2027-1-5",
        ] {
            assert_eq!(iso_in_words(odd), odd);
        }
    }
    use jiff::civil::date;
    use proptest::prelude::*;

    fn months(n: u32) -> Validity {
        Validity {
            count: n,
            unit: ValidityUnit::Months,
        }
    }
    fn years(n: u32) -> Validity {
        Validity {
            count: n,
            unit: ValidityUnit::Years,
        }
    }

    #[test]
    fn month_end_issue_plus_one_month_clamps_to_february() {
        assert_eq!(
            months(1).expiry_from(date(2027, 1, 31)),
            Some(date(2027, 2, 28))
        );
        assert_eq!(
            months(1).expiry_from(date(2028, 1, 31)),
            Some(date(2028, 2, 29))
        );
    }

    #[test]
    fn leap_day_plus_one_year_is_february_28() {
        assert_eq!(
            years(1).expiry_from(date(2028, 2, 29)),
            Some(date(2029, 2, 28))
        );
        assert_eq!(
            years(4).expiry_from(date(2028, 2, 29)),
            Some(date(2032, 2, 29))
        );
    }

    #[test]
    fn weeks_and_days_are_exact() {
        let w = Validity {
            count: 2,
            unit: ValidityUnit::Weeks,
        };
        assert_eq!(w.expiry_from(date(2027, 12, 25)), Some(date(2028, 1, 8)));
        let d = Validity {
            count: 365,
            unit: ValidityUnit::Days,
        };
        assert_eq!(d.expiry_from(date(2028, 1, 1)), Some(date(2028, 12, 31)));
    }

    #[test]
    fn zero_validity_never_expires() {
        assert_eq!(Validity::NEVER.expiry_from(date(2027, 1, 1)), None);
    }

    #[test]
    fn validity_rejects_negative_and_absurd_counts() {
        assert!(Validity::new(-1, ValidityUnit::Days).is_err());
        assert!(Validity::new(101, ValidityUnit::Years).is_err());
        assert!(Validity::new(100, ValidityUnit::Years).is_ok());
        assert!(ValidityUnit::parse("validity.unit", "fortnights").is_err());
    }

    #[test]
    fn valid_through_end_of_expiry_day_in_org_zone() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let expires = date(2027, 3, 10);
        // 23:59 New York on the expiry day is 03:59 UTC the next day: still valid.
        let late: Timestamp = "2027-03-11T03:59:00Z".parse().unwrap();
        assert!(valid_at(expires, late, &tz));
        // 00:00 New York the next day: expired.
        let next: Timestamp = "2027-03-11T05:00:00Z".parse().unwrap();
        assert!(!valid_at(expires, next, &tz));
        // In UTC the same instant is already past the expiry day.
        assert!(!valid_at(expires, late, &TimeZone::UTC));
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (1900i16..2200, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| {
            let first = date(y, m, 1);
            let last = first.last_of_month().day();
            date(y, m, d.min(last))
        })
    }

    /// Any validity of 1 to 120 units (shared by the renewal tests).
    pub(crate) fn any_validity() -> impl Strategy<Value = Validity> {
        (
            1u32..=120,
            prop_oneof![
                Just(ValidityUnit::Days),
                Just(ValidityUnit::Weeks),
                Just(ValidityUnit::Months),
                Just(ValidityUnit::Years)
            ],
        )
            .prop_map(|(count, unit)| Validity { count, unit })
    }

    proptest! {
        #[test]
        fn expiry_is_never_before_issue(issued in any_date(), v in any_validity()) {
            let expires = v.expiry_from(issued).unwrap();
            prop_assert!(expires > issued);
        }

        #[test]
        fn adding_a_month_never_skips_a_month(issued in any_date(), n in 1u32..=48) {
            let expires = months(n).expiry_from(issued).unwrap();
            let month_index = |d: Date| i32::from(d.year()) * 12 + i32::from(d.month());
            prop_assert_eq!(month_index(expires) - month_index(issued), i32::try_from(n).unwrap());
            // The day is kept unless the target month is shorter, then it is that month's last.
            let want = issued.day().min(expires.last_of_month().day());
            prop_assert_eq!(expires.day(), want);
        }

        #[test]
        fn years_are_twelve_months(issued in any_date(), n in 1u32..=10) {
            prop_assert_eq!(years(n).expiry_from(issued), months(n * 12).expiry_from(issued));
        }

        #[test]
        fn days_between_inverts_add_days(d in any_date(), n in -5000i64..5000) {
            prop_assert_eq!(days_between(d, add_days(d, n)), n);
        }
    }
}
