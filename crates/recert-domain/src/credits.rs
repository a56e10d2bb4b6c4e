//! Continuing-education credits (SPEC §3.4): a renewal pathway met when the approved
//! credits of the current cycle reach the program's total hours and every per-category
//! minimum. Categories compare without regard to case or surrounding space, so "Ethics"
//! logged by a learner counts toward the program's "ethics".

use crate::program::{CreditsRequired, Program};
use serde::Serialize;

/// Progress toward one category's minimum.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CategoryProgress {
    pub category: String,
    pub required: f64,
    pub earned: f64,
}

/// Progress of one cycle toward the program's requirement.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CreditProgress {
    /// Total hours the program asks for per cycle.
    pub required_hours: f64,
    /// Approved hours in the cycle.
    pub earned_hours: f64,
    pub categories: Vec<CategoryProgress>,
    /// Every total and minimum is reached.
    pub met: bool,
}

impl CreditProgress {
    /// Hours still missing in total (0 when reached).
    pub fn missing_hours(&self) -> f64 {
        round2((self.required_hours - self.earned_hours).max(0.0))
    }

    /// Share of the total reached, 0–100, for a progress bar.
    pub fn percent(&self) -> u32 {
        if self.required_hours <= 0.0 {
            return 100;
        }
        ((self.earned_hours / self.required_hours * 100.0).clamp(0.0, 100.0)) as u32
    }
}

/// Hours are summed as people add them: two decimals, so 0.1 + 0.2 reaches 0.3.
fn round2(h: f64) -> f64 {
    (h * 100.0).round() / 100.0
}

/// The key a category is compared by.
pub fn category_key(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Progress of approved entries, each `(hours, category)`, toward `req`.
pub fn progress<'a>(
    req: &CreditsRequired,
    approved: impl IntoIterator<Item = (f64, Option<&'a str>)>,
) -> CreditProgress {
    let mut total = 0.0;
    let mut by_category: Vec<CategoryProgress> = req
        .categories
        .iter()
        .map(|(c, h)| CategoryProgress {
            category: c.clone(),
            required: *h,
            earned: 0.0,
        })
        .collect();
    for (hours, category) in approved {
        total += hours;
        if let Some(c) = category {
            let key = category_key(c);
            if let Some(p) = by_category
                .iter_mut()
                .find(|p| category_key(&p.category) == key)
            {
                p.earned += hours;
            }
        }
    }
    for p in &mut by_category {
        p.earned = round2(p.earned);
    }
    let earned_hours = round2(total);
    let met = earned_hours >= req.hours && by_category.iter().all(|p| p.earned >= p.required);
    CreditProgress {
        required_hours: req.hours,
        earned_hours,
        categories: by_category,
        met,
    }
}

/// Whether entries from this provider are approved without review.
pub fn approved_provider(program: &Program, provider: &str) -> bool {
    let key = category_key(provider);
    program
        .approved_providers
        .iter()
        .any(|p| category_key(p) == key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn req(hours: f64, cats: &[(&str, f64)]) -> CreditsRequired {
        CreditsRequired {
            hours,
            categories: cats
                .iter()
                .map(|(c, h)| ((*c).to_owned(), *h))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn the_total_and_every_category_minimum_must_be_reached() {
        let r = req(20.0, &[("ethics", 2.0)]);
        let p = progress(&r, [(19.0, None), (1.0, Some("Ethics"))]);
        assert_eq!(p.earned_hours, 20.0);
        assert_eq!(p.categories[0].earned, 1.0);
        assert!(!p.met, "one hour of ethics is short of two");
        let p = progress(&r, [(18.0, None), (2.0, Some(" ETHICS "))]);
        assert!(p.met);
        let p = progress(&r, [(2.0, Some("ethics")), (17.5, None)]);
        assert!(!p.met, "19.5 of 20 hours");
        assert_eq!(p.missing_hours(), 0.5);
        assert_eq!(p.percent(), 97);
    }

    #[test]
    fn decimal_hours_add_up_as_people_expect() {
        let r = req(0.3, &[]);
        assert!(progress(&r, [(0.1, None), (0.2, None)]).met);
    }

    #[test]
    fn categories_outside_the_requirement_still_count_toward_the_total() {
        let r = req(3.0, &[("safety", 1.0)]);
        let p = progress(&r, [(2.0, Some("leadership")), (1.0, Some("safety"))]);
        assert!(p.met);
    }
}
