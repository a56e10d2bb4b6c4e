//! SPEC §3.4: the expiry a renewal gets.
//!
//! With the default anchor (`previous_expiry`) a chain keeps its cycle: the k-th expiry of
//! a chain is its first issue date + k × validity, so a monthly chain from 2027-01-31
//! expires 2027-02-28, 2027-03-31, 2027-04-30 — never drifting to the 28th. When the
//! previous expiry + validity would fall before the renewal date (a renewal late in a long
//! grace), whole validity periods are added until the expiry is on or after it: no award
//! ever expires before it is issued. When the previous expiry is not where the cycle says
//! (the program's validity changed, or the expiry was corrected by hand), the count
//! restarts from that expiry.

use crate::award::{Award, Cycle};
use crate::dates::Validity;
use crate::program::RenewalAnchor;
use jiff::civil::Date;

/// The cycle of a new chain's first award: `issued + 1 × validity` when its expiry is the
/// program's, else its own expiry (set by hand) with nothing counted yet.
pub fn first_cycle(validity: Validity, issued_on: Date, expires_on: Option<Date>) -> Option<Cycle> {
    let expires = expires_on?;
    if validity.expiry_from(issued_on) == Some(expires) {
        Some(Cycle {
            start: issued_on,
            count: 1,
        })
    } else {
        Some(Cycle {
            start: expires,
            count: 0,
        })
    }
}

/// The expiry (and its cycle) of the award renewing `previous` on `renewed_on`, or `None`
/// when the program never expires.
pub fn renewal_expiry(
    validity: Validity,
    anchor: RenewalAnchor,
    previous: &Award,
    renewed_on: Date,
) -> Option<(Date, Cycle)> {
    if validity.never_expires() {
        return None;
    }
    let base = match (anchor, previous.expiry()) {
        (RenewalAnchor::PreviousExpiry, Some(prev)) => match previous.cycle {
            // The previous expiry sits where its cycle says: count on.
            Some(c) if validity.times(c.start, c.count) == Some(prev) => c,
            // Otherwise the count restarts from the last expiry issued.
            _ => Cycle {
                start: prev,
                count: 0,
            },
        },
        // Renewal date + validity, or a predecessor that never expired.
        _ => Cycle {
            start: renewed_on,
            count: 0,
        },
    };
    let mut count = base.count.saturating_add(1);
    loop {
        let expires = validity.times(base.start, count)?;
        // `Date::MAX` saturates: stop there rather than loop forever.
        if expires >= renewed_on || expires == Date::MAX {
            return Some((
                expires,
                Cycle {
                    start: base.start,
                    count,
                },
            ));
        }
        count = count.saturating_add(1);
    }
}

/// A current award as the program's present rules would have made it (SPEC §3.5, "apply
/// to current holders"): its window and grace become the program's, and an expiry that
/// followed the validity rule (its cycle counts at least one period) is computed again
/// with the present validity — from the issue date for a first award, or by the renewal
/// rule from `predecessor`. Expiries set by hand and always-valid awards keep theirs; a
/// program that no longer expires makes the award always valid. Never an expiry before
/// the issue date.
pub fn reapplied(award: &Award, program: &crate::Program, predecessor: Option<&Award>) -> Award {
    let mut a = award.clone();
    a.renewal_window_days = program.renewal_window_days;
    a.grace_days = program.grace_days;
    let by_rule = award.expires_on.is_some() && award.cycle.is_some_and(|c| c.count >= 1);
    if !by_rule {
        return a;
    }
    let recomputed = match predecessor {
        Some(prev) => renewal_expiry(
            program.validity,
            program.renewal_anchor,
            prev,
            award.issued_on,
        ),
        None => program.validity.expiry_from(award.issued_on).map(|x| {
            (
                x,
                Cycle {
                    start: award.issued_on,
                    count: 1,
                },
            )
        }),
    };
    match recomputed {
        Some((x, c)) => {
            a.expires_on = Some(x.max(award.issued_on));
            a.always_valid = false;
            a.cycle = Some(c);
        }
        None => {
            a.expires_on = None;
            a.always_valid = true;
            a.cycle = None;
        }
    }
    a
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    use crate::dates::ValidityUnit;

    use crate::{CertificateId, dates::add_days};
    use jiff::civil::date;
    use proptest::prelude::*;

    fn v(count: u32, unit: ValidityUnit) -> Validity {
        Validity { count, unit }
    }

    fn award(issued: Date, expires: Option<Date>, cycle: Option<Cycle>) -> Award {
        let mut a = crate::award::test_award(issued, expires, 10, 60);
        a.id = CertificateId::from_random([3; 16]);
        a.cycle = cycle;
        a
    }

    /// Renews a whole chain, each time on the given day, from a first award issued `first`.
    fn chain(validity: Validity, first: Date, renewals: &[Date]) -> Vec<Date> {
        let expires = validity.expiry_from(first);
        let mut current = award(first, expires, first_cycle(validity, first, expires));
        let mut out = vec![expires.unwrap()];
        for &on in renewals {
            let (x, c) =
                renewal_expiry(validity, RenewalAnchor::PreviousExpiry, &current, on).unwrap();
            out.push(x);
            current = award(on, Some(x), Some(c));
        }
        out
    }

    #[test]
    fn a_monthly_chain_keeps_its_day_of_the_month() {
        let m = v(1, ValidityUnit::Months);
        let first = date(2027, 1, 31);
        let renewals = [date(2027, 2, 25), date(2027, 3, 25), date(2027, 4, 25)];
        assert_eq!(
            chain(m, first, &renewals),
            vec![
                date(2027, 2, 28),
                date(2027, 3, 31),
                date(2027, 4, 30),
                date(2027, 5, 31)
            ]
        );
    }

    /// SPEC §3.4 as a table: (validity, first issue, renewal days) → expiries.
    #[test]
    fn renewal_expiries_table() {
        use ValidityUnit::*;
        let cases: [(Validity, Date, &[Date], &[Date]); 6] = [
            // Early renewal loses nothing: previous expiry + validity.
            (
                v(1, Years),
                date(2027, 3, 4),
                &[date(2028, 1, 15), date(2028, 12, 1)],
                &[date(2028, 3, 4), date(2029, 3, 4), date(2030, 3, 4)],
            ),
            // Leap day: the cycle counts from Feb 29, so the leap year gets it back.
            (
                v(1, Years),
                date(2028, 2, 29),
                &[date(2029, 2, 1), date(2030, 2, 1), date(2031, 2, 1)],
                &[
                    date(2029, 2, 28),
                    date(2030, 2, 28),
                    date(2031, 2, 28),
                    date(2032, 2, 29),
                ],
            ),
            // Late in a long grace: whole months added until on or after the renewal.
            (
                v(1, Months),
                date(2027, 1, 31),
                &[date(2027, 4, 15)],
                &[date(2027, 2, 28), date(2027, 4, 30)],
            ),
            // Renewed on the previous expiry day exactly.
            (
                v(1, Months),
                date(2027, 1, 31),
                &[date(2027, 2, 28)],
                &[date(2027, 2, 28), date(2027, 3, 31)],
            ),
            // Days and weeks are exact.
            (
                v(30, Days),
                date(2027, 1, 1),
                &[date(2027, 1, 25), date(2027, 4, 20)],
                &[date(2027, 1, 31), date(2027, 3, 2), date(2027, 5, 1)],
            ),
            (
                v(2, Weeks),
                date(2027, 12, 25),
                &[date(2028, 1, 5)],
                &[date(2028, 1, 8), date(2028, 1, 22)],
            ),
        ];
        for (validity, first, renewals, want) in cases {
            assert_eq!(
                chain(validity, first, renewals),
                want.to_vec(),
                "{validity} from {first}"
            );
        }
    }

    #[test]
    fn the_count_restarts_from_an_expiry_the_cycle_did_not_produce() {
        let m = v(1, ValidityUnit::Months);
        // Corrected by hand to the 15th: the cycle restarts there.
        let prev = award(
            date(2027, 1, 31),
            Some(date(2027, 3, 15)),
            Some(Cycle {
                start: date(2027, 1, 31),
                count: 1,
            }),
        );
        let (x, c) =
            renewal_expiry(m, RenewalAnchor::PreviousExpiry, &prev, date(2027, 3, 10)).unwrap();
        assert_eq!(x, date(2027, 4, 15));
        assert_eq!(
            c,
            Cycle {
                start: date(2027, 3, 15),
                count: 1
            }
        );
        // Validity changed from 1 month to 3 months: counted from the last expiry.
        let q = v(3, ValidityUnit::Months);
        let prev = award(
            date(2027, 1, 31),
            Some(date(2027, 2, 28)),
            Some(Cycle {
                start: date(2027, 1, 31),
                count: 1,
            }),
        );
        let (x, _) =
            renewal_expiry(q, RenewalAnchor::PreviousExpiry, &prev, date(2027, 2, 20)).unwrap();
        assert_eq!(x, date(2027, 5, 28));
        // A record from before cycles were kept counts from its expiry.
        let old = award(date(2027, 1, 31), Some(date(2027, 2, 28)), None);
        let (x, _) =
            renewal_expiry(m, RenewalAnchor::PreviousExpiry, &old, date(2027, 2, 20)).unwrap();
        assert_eq!(x, date(2027, 3, 28));
    }

    #[test]
    fn the_renewal_date_anchor_counts_from_the_renewal() {
        let y = v(1, ValidityUnit::Years);
        let prev = award(
            date(2027, 1, 10),
            Some(date(2028, 1, 10)),
            first_cycle(y, date(2027, 1, 10), Some(date(2028, 1, 10))),
        );
        let (x, c) =
            renewal_expiry(y, RenewalAnchor::RenewalDate, &prev, date(2027, 12, 1)).unwrap();
        assert_eq!(x, date(2028, 12, 1));
        assert_eq!(
            c,
            Cycle {
                start: date(2027, 12, 1),
                count: 1
            }
        );
        assert_eq!(
            renewal_expiry(
                Validity::NEVER,
                RenewalAnchor::PreviousExpiry,
                &prev,
                date(2027, 12, 1)
            ),
            None
        );
    }

    use crate::dates::tests::any_validity;

    proptest! {
        /// Whatever the delay (inside or long after the window and grace), a renewal
        /// never expires before it is issued, and with the default anchor it lands on the
        /// chain's cycle.
        #[test]
        fn no_renewal_ever_expires_before_it_is_issued(
            validity in any_validity(), first_offset in 0i64..3000, delays in prop::collection::vec(-400i64..900, 1..6),
        ) {
            let first = add_days(date(2020, 1, 1), first_offset);
            let expires = validity.expiry_from(first);
            let mut current = award(first, expires, first_cycle(validity, first, expires));
            let mut k = 1;
            for delay in delays {
                let prev = current.expiry().unwrap();
                let on = add_days(prev, delay).max(current.issued_on);
                let (x, c) = renewal_expiry(validity, RenewalAnchor::PreviousExpiry, &current, on).unwrap();
                prop_assert!(x >= on, "{x} before {on}");
                prop_assert!(c.count > k);
                k = c.count;
                prop_assert_eq!(Some(x), validity.times(first, k));
                current = award(on, Some(x), Some(c));
            }
        }
    }

    fn program_with(validity: Validity, window: u32, grace: u32) -> crate::Program {
        let draft: crate::program::ProgramDraft = serde_json::from_value(serde_json::json!({
            "code": "P", "name": "P", "validity": {"count": 1, "unit": "years"}}))
        .unwrap();
        let mut p = draft
            .into_program(
                None,
                &crate::Code::parse("organization", "default").unwrap(),
                date(2026, 1, 1),
            )
            .unwrap();
        p.validity = validity;
        p.renewal_window_days = window;
        p.grace_days = grace;
        p
    }

    #[test]
    fn reapplying_recomputes_rule_expiries_and_keeps_hand_set_ones() {
        let first = date(2026, 3, 15);
        let two_years = v(2, ValidityUnit::Years);
        let a = award(
            first,
            Some(date(2027, 3, 15)),
            first_cycle(v(1, ValidityUnit::Years), first, Some(date(2027, 3, 15))),
        );
        let p = program_with(two_years, 30, 14);
        let r = reapplied(&a, &p, None);
        assert_eq!(r.expires_on, Some(date(2028, 3, 15)));
        assert_eq!((r.renewal_window_days, r.grace_days), (30, 14));
        // An expiry set by hand (not issue + validity) stays; window and grace follow.
        let hand = award(
            first,
            Some(date(2026, 9, 1)),
            first_cycle(v(1, ValidityUnit::Years), first, Some(date(2026, 9, 1))),
        );
        let r = reapplied(&hand, &p, None);
        assert_eq!(r.expires_on, Some(date(2026, 9, 1)));
        assert_eq!(r.renewal_window_days, 30);
        // A renewal: the predecessor's expiry plus the new validity.
        let renewal_on = date(2027, 2, 20);
        let (x, c) = renewal_expiry(
            v(1, ValidityUnit::Years),
            RenewalAnchor::PreviousExpiry,
            &a,
            renewal_on,
        )
        .unwrap();
        let mut renewed = award(renewal_on, Some(x), Some(c));
        renewed.predecessor = Some(a.id.clone());
        let r = reapplied(&renewed, &p, Some(&a));
        assert_eq!(r.expires_on, Some(date(2029, 3, 15)));
        // A program that no longer expires makes rule-made awards always valid.
        let r = reapplied(&a, &program_with(v(0, ValidityUnit::Years), 30, 14), None);
        assert_eq!((r.expires_on, r.always_valid), (None, true));
        // Always valid stays always valid.
        let always = award(first, None, None);
        assert_eq!(reapplied(&always, &p, None).expires_on, None);
    }
}
