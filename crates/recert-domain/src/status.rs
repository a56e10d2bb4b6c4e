//! SPEC §3.2: an award's status as of a given day, derived only from dates and events.

use crate::award::Award;
use crate::program::Program;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Where an award stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Valid, before the renewal window opens.
    Active,
    /// Valid, inside the renewal window.
    Expiring,
    /// Expired, but still renewable without a full retake.
    Grace,
    /// After grace: only the initial requirements earn it again.
    Lapsed,
    /// Revoked by an administrator, with a reason.
    Revoked,
    /// Renewed: a newer award in its chain is the current one.
    Superseded,
    /// Unassigned, or its program archived; kept for history and audit.
    Archived,
    /// The day asked is before the issue date (a future-dated award, or a day before it
    /// was issued).
    NotYetValid,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Self::Active,
        Self::Expiring,
        Self::Grace,
        Self::Lapsed,
        Self::Revoked,
        Self::Superseded,
        Self::Archived,
        Self::NotYetValid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expiring => "expiring",
            Self::Grace => "grace",
            Self::Lapsed => "lapsed",
            Self::Revoked => "revoked",
            Self::Superseded => "superseded",
            Self::Archived => "archived",
            Self::NotYetValid => "not_yet_valid",
        }
    }

    /// The status in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Expiring => "Expiring",
            Self::Grace => "In grace",
            Self::Lapsed => "Lapsed",
            Self::Revoked => "Revoked",
            Self::Superseded => "Superseded",
            Self::Archived => "Archived",
            Self::NotYetValid => "Not yet valid",
        }
    }

    /// Whether the award has ended (revoked, renewed or unassigned): such an award shows no
    /// days left, renewal window or grace.
    pub fn is_ended(self) -> bool {
        matches!(self, Self::Revoked | Self::Superseded | Self::Archived)
    }

    /// Every value, for error messages: "active, expiring, …".
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Whether a holder counts as compliant (active and expiring always; grace when the
    /// program says so).
    pub fn is_compliant(self, program: &Program) -> bool {
        match self {
            Self::Active | Self::Expiring => true,
            Self::Grace => program.grace_counts_as_compliant,
            _ => false,
        }
    }
}

/// The status of `award` on calendar day `day` (in the organization's time zone). Reads row
/// for row like the SPEC §3.2 table.
/// Events count from the day they happened, so a past day shows the status it had then.
pub fn status_on(award: &Award, program: &Program, day: Date) -> Status {
    let happened = |on: Option<Date>| on.is_some_and(|d| d <= day);
    if happened(award.revoked.as_ref().map(|r| r.on)) {
        return Status::Revoked;
    }
    if happened(award.superseded.as_ref().map(|s| s.1)) {
        return Status::Superseded;
    }
    if happened(award.archived_on) || happened(program.archived_on) {
        return Status::Archived;
    }
    // Closed after lapsing (a new chain started): a fact that later edits cannot undo.
    if happened(award.closed_on) {
        return Status::Lapsed;
    }
    if day < award.issued_on {
        return Status::NotYetValid;
    }
    let Some(expires) = award.expiry() else {
        return Status::Active;
    };
    match day {
        d if d < award.window_opens(expires) => Status::Active,
        d if d <= expires => Status::Expiring,
        d if d <= award.grace_ends(expires) => Status::Grace,
        _ => Status::Lapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::award::{Revocation, RevocationCategory};
    use crate::certificate_id::CertificateId;
    use crate::names::Code;
    use crate::program::ProgramDraft;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn program(window: i64, grace: i64) -> Program {
        let d: ProgramDraft = serde_json::from_value(serde_json::json!({
            "code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"},
            "renewal_window_days": window, "grace_days": grace
        }))
        .unwrap();
        d.into_program(
            None,
            &Code::parse("o", "default").unwrap(),
            date(2027, 1, 1),
        )
        .unwrap()
    }

    fn award(expires: Option<Date>) -> Award {
        award_with(expires, 90, 30)
    }

    fn award_with(expires: Option<Date>, window: u32, grace: u32) -> Award {
        crate::award::test_award(date(2027, 1, 31), expires, window, grace)
    }

    /// Every edge of the §3.2 table, for an award expiring 2028-01-31 with a 90-day window
    /// (opens 2027-11-02) and 30 days of grace (ends 2028-03-01, a leap year).
    #[test]
    fn status_edges_match_the_spec_table() {
        let p = program(90, 30);
        let a = award(Some(date(2028, 1, 31)));
        let cases = [
            (date(2027, 1, 31), Status::Active),
            (date(2027, 11, 1), Status::Active),
            (date(2027, 11, 2), Status::Expiring),
            (date(2028, 1, 31), Status::Expiring),
            (date(2028, 2, 1), Status::Grace),
            (date(2028, 3, 1), Status::Grace),
            (date(2028, 3, 2), Status::Lapsed),
            (date(2040, 1, 1), Status::Lapsed),
        ];
        for (day, want) in cases {
            assert_eq!(status_on(&a, &p, day), want, "on {day}");
        }
    }

    #[test]
    fn grace_extension_moves_the_lapse_day() {
        let p = program(90, 30);
        let mut a = award(Some(date(2028, 1, 31)));
        a.grace_extension_days = 14;
        assert_eq!(status_on(&a, &p, date(2028, 3, 15)), Status::Grace);
        assert_eq!(status_on(&a, &p, date(2028, 3, 16)), Status::Lapsed);
    }

    #[test]
    fn zero_window_and_zero_grace() {
        let p = program(0, 0);
        let a = award_with(Some(date(2028, 1, 31)), 0, 0);
        assert_eq!(status_on(&a, &p, date(2028, 1, 30)), Status::Active);
        assert_eq!(status_on(&a, &p, date(2028, 1, 31)), Status::Expiring);
        assert_eq!(status_on(&a, &p, date(2028, 2, 1)), Status::Lapsed);
    }

    #[test]
    fn always_valid_is_active_forever() {
        let p = program(90, 30);
        let mut a = award(Some(date(2028, 1, 31)));
        a.always_valid = true;
        assert_eq!(status_on(&a, &p, date(2099, 1, 1)), Status::Active);
    }

    #[test]
    fn revoked_superseded_archived_win_over_dates_in_that_order() {
        let p = program(90, 30);
        let mut a = award(Some(date(2028, 1, 31)));
        a.archived_on = Some(date(2027, 6, 1));
        assert_eq!(status_on(&a, &p, date(2027, 6, 1)), Status::Archived);
        a.superseded = Some((CertificateId::from_random([2; 16]), date(2027, 5, 1)));
        assert_eq!(status_on(&a, &p, date(2027, 6, 1)), Status::Superseded);
        a.revoked = Some(Revocation {
            at: jiff::Timestamp::UNIX_EPOCH,
            on: date(2027, 6, 1),
            reason: "issued in error".into(),
            category: RevocationCategory::IssuedInError,
        });
        assert_eq!(status_on(&a, &p, date(2027, 6, 1)), Status::Revoked);
        // The day before the revocation it was still superseded, and before that valid.
        assert_eq!(status_on(&a, &p, date(2027, 5, 31)), Status::Superseded);
        assert_eq!(status_on(&a, &p, date(2027, 4, 30)), Status::Active);
    }

    #[test]
    fn archived_program_archives_its_awards() {
        let mut p = program(90, 30);
        p.archived_on = Some(date(2027, 1, 1));
        assert_eq!(
            status_on(&award(Some(date(2028, 1, 31))), &p, date(2027, 6, 1)),
            Status::Archived
        );
    }

    #[test]
    fn compliance_counts_grace_only_when_the_program_says_so() {
        let mut p = program(90, 30);
        assert!(!Status::Grace.is_compliant(&p));
        p.grace_counts_as_compliant = true;
        assert!(Status::Grace.is_compliant(&p));
        assert!(Status::Expiring.is_compliant(&p));
        assert!(!Status::Lapsed.is_compliant(&p));
    }

    #[test]
    fn a_day_before_the_issue_date_is_not_yet_valid() {
        let p = program(90, 30);
        let a = award(Some(date(2028, 1, 31)));
        assert_eq!(status_on(&a, &p, date(2027, 1, 30)), Status::NotYetValid);
        assert_eq!(status_on(&a, &p, date(2027, 1, 31)), Status::Active);
        let mut forever = award(None);
        forever.always_valid = true;
        assert_eq!(
            status_on(&forever, &p, date(2027, 1, 30)),
            Status::NotYetValid
        );
    }

    #[test]
    fn a_closed_award_stays_lapsed_whatever_its_dates_say() {
        let p = program(90, 30);
        let mut a = award(Some(date(2028, 1, 31)));
        a.closed_on = Some(date(2028, 6, 1));
        // Edited to expire much later: still lapsed from the day it was closed.
        a.expires_on = Some(date(2030, 1, 31));
        assert_eq!(status_on(&a, &p, date(2028, 6, 1)), Status::Lapsed);
        assert_eq!(status_on(&a, &p, date(2029, 1, 1)), Status::Lapsed);
        assert_eq!(status_on(&a, &p, date(2028, 5, 31)), Status::Active);
        assert!(!a.is_current());
    }

    fn rank(s: Status) -> u8 {
        match s {
            Status::NotYetValid => 0,
            Status::Active => 1,
            Status::Expiring => 2,
            Status::Grace => 3,
            Status::Lapsed => 4,
            _ => 9,
        }
    }

    proptest! {
        #[test]
        fn status_is_monotonic_in_the_day_until_renewal(
            window in 0i64..400, grace in 0i64..400, ext in 0u32..100,
            offset in 0i64..2000, a_day in 0i64..3000, b_day in 0i64..3000,
        ) {
            let p = program(window, grace);
            let mut aw = award_with(Some(crate::dates::add_days(date(2027, 1, 1), offset)), window as u32, grace as u32);
            aw.grace_extension_days = ext;
            let (lo, hi) = if a_day <= b_day { (a_day, b_day) } else { (b_day, a_day) };
            let base = date(2026, 1, 1);
            let s_lo = status_on(&aw, &p, crate::dates::add_days(base, lo));
            let s_hi = status_on(&aw, &p, crate::dates::add_days(base, hi));
            prop_assert!(rank(s_lo) <= rank(s_hi), "{:?} then {:?}", s_lo, s_hi);
        }
    }
}
