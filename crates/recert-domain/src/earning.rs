//! SPEC §3.3 earning: what one completion does to one program. Pure: the caller brings the
//! program, the learner's current award (if any) and the completion's facts, and gets a
//! decision with the reason a person can read.

use crate::award::{Award, Cycle};
use crate::program::{ItemKind, Pathway, Program, ProgramItem};
use crate::status::{Status, status_on};
use crate::{Association, CertificateId};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Scores within this of the threshold pass: 69.99999…% is 70% to a person.
const SCORE_EPSILON: f64 = 1e-9;

/// What a completion reports, reduced to what the rules look at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    pub completed_on: Date,
    /// Score as a fraction 0–1 (score / max score, or xAPI `result.score.scaled`).
    pub scaled: Option<f64>,
    /// What the LMS said (`passed`, xAPI `result.success`); `Some(false)` never earns.
    pub passed: Option<bool>,
}

/// Why a completion earned nothing for a program, or what it earned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// A new award (a new chain).
    Awarded {
        #[schema(value_type = String)]
        award: CertificateId,
    },
    /// A new award renewing the current one, which is now superseded.
    Renewed {
        #[schema(value_type = String)]
        award: CertificateId,
        #[schema(value_type = String)]
        predecessor: CertificateId,
    },
    /// No program has this item assigned.
    NotAssigned,
    /// Completed before the item was assigned to the program: kept for an admin backfill.
    BeforeAssignment {
        #[schema(value_type = String, format = Date)]
        assigned_on: Date,
    },
    /// The score is below the item's pass threshold.
    FailedScore { score: f64, pass_threshold: f64 },
    /// The item has a pass threshold and the completion reported no score.
    NoScore { pass_threshold: f64 },
    /// The LMS reported the attempt as not passed.
    NotPassed,
    /// The learner holds a current award outside its renewal window: recorded and ignored.
    AlreadyHeld {
        #[schema(value_type = String)]
        award: CertificateId,
        status: Status,
        #[schema(value_type = Option<String>, format = Date)]
        renewal_opens_on: Option<Date>,
    },
    /// Inside the renewal window, but the program does not allow this pathway.
    PathwayNotAllowed { pathway: Pathway },
    /// The refresher item renews a current award; it does not earn the program alone.
    RefresherNeedsCurrent,
    /// Completed before the current award was issued.
    OlderThanCurrent {
        #[schema(value_type = String)]
        award: CertificateId,
    },
    /// The program is archived.
    ProgramArchived,
    /// Dated after the moment it was received: stored, but nothing is earned before it
    /// happens.
    FutureDated {
        #[schema(value_type = String, format = Date)]
        completed_on: Date,
    },
    /// External training while the current award is due for renewal: it renews only by
    /// one of the program's pathways.
    NotAPathway {
        #[schema(value_type = String)]
        award: CertificateId,
    },
}

impl Outcome {
    pub fn earned(&self) -> bool {
        matches!(self, Self::Awarded { .. } | Self::Renewed { .. })
    }

    /// One sentence for people (API answers, the learner's record).
    pub fn reason(&self) -> String {
        match self {
            Self::Awarded { award } => format!("earned: certificate {award} issued"),
            Self::Renewed { award, predecessor } => {
                format!("renewed: certificate {award} replaces {predecessor}")
            }
            Self::NotAssigned => "this item is not assigned to any program".into(),
            Self::BeforeAssignment { assigned_on } => format!(
                "completed before the item was assigned to the program on {assigned_on}; an administrator may backfill it"
            ),
            Self::FailedScore {
                score,
                pass_threshold,
            } => format!(
                "score {:.0}% is below the pass threshold of {:.0}%",
                score * 100.0,
                pass_threshold * 100.0
            ),
            Self::NoScore { pass_threshold } => format!(
                "no score was reported and the item needs {:.0}% to pass",
                pass_threshold * 100.0
            ),
            Self::NotPassed => "the learning system reported the attempt as not passed".into(),
            Self::AlreadyHeld {
                award,
                status,
                renewal_opens_on,
            } => match renewal_opens_on {
                Some(d) => format!(
                    "already holds certificate {award} ({}); renewal opens on {d}",
                    status.as_str()
                ),
                None => format!(
                    "already holds certificate {award} ({}), which does not expire",
                    status.as_str()
                ),
            },
            Self::PathwayNotAllowed { pathway } => format!(
                "the certificate is due for renewal, but the program does not allow renewal by {}",
                pathway.as_str()
            ),
            Self::RefresherNeedsCurrent => {
                "the refresher renews a current certificate; it does not earn the program on its own"
                    .into()
            }
            Self::OlderThanCurrent { award } => {
                format!("completed before the current certificate {award} was issued")
            }
            Self::ProgramArchived => "the program is archived".into(),
            Self::FutureDated { completed_on } => format!(
                "dated {completed_on}, in the future: it is stored, but nothing is earned before it happens"
            ),
            Self::NotAPathway { award } => format!(
                "certificate {award} is due for renewal; external training is not a renewal pathway, renew it by one of the program's pathways"
            ),
        }
    }
}

/// How an earning completion matched the program.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Via<'a> {
    /// One of the program's assigned items.
    Item(&'a ProgramItem),
    /// The program's refresher item.
    Refresher,
    /// Approved external training reported toward the program.
    External,
}

/// The program's item (or refresher) this identifier names: an item's code or its xAPI
/// activity IRI.
pub fn match_item<'a>(program: &'a Program, ident: &str) -> Option<Via<'a>> {
    if let Some(item) = program
        .items
        .iter()
        .find(|i| i.code == ident || i.activity_id.as_deref() == Some(ident))
    {
        return Some(Via::Item(item));
    }
    (program.refresher_item.as_deref() == Some(ident)).then_some(Via::Refresher)
}

/// What to issue when a completion earns.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub issued_on: Date,
    pub expires_on: Option<Date>,
    /// Where `expires_on` sits in the chain's cycle (SPEC §3.4).
    pub cycle: Option<Cycle>,
    pub association: Association,
    /// The award this one renews (it becomes superseded).
    pub renews: Option<CertificateId>,
    pub pathway: Option<Pathway>,
    /// Whether a lapsed current award is closed to start a new chain.
    pub closes_lapsed: bool,
    pub pass_threshold: Option<f64>,
}

/// The decision for one program: a grant, or the outcome that explains why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Grant(Grant),
    Refuse(Outcome),
}

/// Applies SPEC §3.3/§3.4 to one completion and one program.
///
/// `current` is the learner's current award of this program, if any. Its status is judged
/// on the completion day: a retake done inside the renewal window renews, even if it is
/// reported later.
pub fn decide(
    program: &Program,
    via: Via<'_>,
    facts: Facts,
    current: Option<&Award>,
    backfill: bool,
) -> Decision {
    if program.archived_on.is_some() {
        return Decision::Refuse(Outcome::ProgramArchived);
    }
    let threshold = match via {
        Via::Item(item) => {
            if facts.completed_on < item.assigned_on && !backfill {
                return Decision::Refuse(Outcome::BeforeAssignment {
                    assigned_on: item.assigned_on,
                });
            }
            item.pass_threshold
        }
        Via::Refresher | Via::External => None,
    };
    if facts.passed == Some(false) {
        return Decision::Refuse(Outcome::NotPassed);
    }
    if let Some(t) = threshold {
        match facts.scaled {
            None => return Decision::Refuse(Outcome::NoScore { pass_threshold: t }),
            Some(s) if s + SCORE_EPSILON < t => {
                return Decision::Refuse(Outcome::FailedScore {
                    score: s,
                    pass_threshold: t,
                });
            }
            Some(_) => {}
        }
    }
    let initial_association = match via {
        Via::Item(ProgramItem {
            kind: ItemKind::LearningPlan,
            ..
        }) => Association::LearningPlan,
        Via::External => Association::ExternalTraining,
        _ => Association::CourseCompletion,
    };
    let fresh = |closes_lapsed: bool| {
        let expires_on = program.validity.expiry_from(facts.completed_on);
        Decision::Grant(Grant {
            issued_on: facts.completed_on,
            expires_on,
            cycle: crate::renewal::first_cycle(program.validity, facts.completed_on, expires_on),
            association: initial_association,
            renews: None,
            pathway: None,
            closes_lapsed,
            pass_threshold: threshold,
        })
    };
    let Some(current) = current else {
        return match via {
            Via::Item(_) | Via::External => fresh(false),
            Via::Refresher => Decision::Refuse(Outcome::RefresherNeedsCurrent),
        };
    };
    if facts.completed_on < current.issued_on {
        return Decision::Refuse(Outcome::OlderThanCurrent {
            award: current.id.clone(),
        });
    }
    match status_on(current, program, facts.completed_on) {
        Status::Expiring | Status::Grace => {
            let pathway = match via {
                // The refresher item may be assigned too: completing it inside the window
                // is a refresher renewal wherever the program allows one.
                Via::Item(item)
                    if program.refresher_item.as_deref() == Some(item.code.as_str())
                        && program.renewal_pathways.contains(&Pathway::Refresher) =>
                {
                    Pathway::Refresher
                }
                Via::Item(_) => Pathway::Retake,
                Via::Refresher => Pathway::Refresher,
                // External training is none of the renewal pathways of SPEC §3.4.
                Via::External => {
                    return Decision::Refuse(Outcome::NotAPathway {
                        award: current.id.clone(),
                    });
                }
            };
            if !program.renewal_pathways.contains(&pathway) {
                return Decision::Refuse(Outcome::PathwayNotAllowed { pathway });
            }
            let renewed = crate::renewal::renewal_expiry(
                program.validity,
                program.renewal_anchor,
                current,
                facts.completed_on,
            );
            Decision::Grant(Grant {
                issued_on: facts.completed_on,
                expires_on: renewed.map(|(x, _)| x),
                cycle: renewed.map(|(_, c)| c),
                association: Association::Renewal,
                renews: Some(current.id.clone()),
                pathway: Some(pathway),
                closes_lapsed: false,
                pass_threshold: threshold,
            })
        }
        // After lapse only the initial requirements earn it again: a new chain.
        Status::Lapsed => match via {
            Via::Item(_) | Via::External => fresh(true),
            Via::Refresher => Decision::Refuse(Outcome::RefresherNeedsCurrent),
        },
        status => Decision::Refuse(Outcome::AlreadyHeld {
            award: current.id.clone(),
            status,
            renewal_opens_on: current.expiry().map(|x| current.window_opens(x)),
        }),
    }
}

/// The scaled score (0–1) of a raw score out of a maximum, or of a bare fraction.
pub fn scale(score: Option<f64>, max_score: Option<f64>) -> Option<f64> {
    match (score, max_score) {
        (Some(s), Some(m)) if m > 0.0 => Some(s / m),
        (Some(s), None) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::Code;
    use crate::program::ProgramDraft;

    fn d(y: i16, m: i8, day: i8) -> Date {
        Date::new(y, m, day).unwrap()
    }

    fn program(threshold: Option<f64>) -> Program {
        let draft: ProgramDraft = serde_json::from_value(serde_json::json!({
            "code": "SAFE", "name": "Safety", "validity": {"count": 1, "unit": "years"},
            "renewal_pathways": ["retake"], "refresher_item": "REFRESH",
            "items": [{"code": "C1", "kind": "course", "pass_threshold": threshold,
                       "assigned_on": "2026-01-10", "activity_id": "https://lms.example/c1"},
                      {"code": "LP", "kind": "learning_plan", "assigned_on": "2026-01-10"}]
        }))
        .unwrap();
        draft
            .into_program(
                None,
                &Code::parse("organization", "default").unwrap(),
                d(2026, 1, 10),
            )
            .unwrap()
    }

    fn facts(on: Date, scaled: Option<f64>) -> Facts {
        Facts {
            completed_on: on,
            scaled,
            passed: None,
        }
    }

    fn grant(dec: Decision) -> Grant {
        match dec {
            Decision::Grant(g) => g,
            Decision::Refuse(o) => panic!("refused: {o:?}"),
        }
    }

    fn refused(dec: Decision) -> Outcome {
        match dec {
            Decision::Refuse(o) => o,
            Decision::Grant(g) => panic!("granted: {g:?}"),
        }
    }

    #[test]
    fn items_match_by_code_or_activity_iri() {
        let p = program(None);
        assert!(matches!(match_item(&p, "C1"), Some(Via::Item(_))));
        assert!(matches!(
            match_item(&p, "https://lms.example/c1"),
            Some(Via::Item(i)) if i.code == "C1"
        ));
        assert_eq!(match_item(&p, "REFRESH"), Some(Via::Refresher));
        assert_eq!(match_item(&p, "c1"), None);
    }

    #[test]
    fn a_passing_completion_on_or_after_assignment_earns_with_issue_date_completion() {
        let p = program(Some(0.8));
        let via = match_item(&p, "C1").unwrap();
        let g = grant(decide(
            &p,
            via,
            facts(d(2026, 1, 10), Some(0.8)),
            None,
            false,
        ));
        assert_eq!(g.issued_on, d(2026, 1, 10));
        assert_eq!(g.expires_on, Some(d(2027, 1, 10)));
        assert_eq!(g.association, Association::CourseCompletion);
        assert_eq!(g.pass_threshold, Some(0.8));
        let lp = match_item(&p, "LP").unwrap();
        let g = grant(decide(&p, lp, facts(d(2026, 2, 1), None), None, false));
        assert_eq!(g.association, Association::LearningPlan);
    }

    #[test]
    fn threshold_is_inclusive_and_tolerates_rounding() {
        let p = program(Some(0.7));
        let via = match_item(&p, "C1").unwrap();
        let scaled = scale(Some(7.0), Some(10.0));
        assert!(matches!(
            decide(&p, via, facts(d(2026, 3, 1), scaled), None, false),
            Decision::Grant(_)
        ));
        assert!(matches!(
            decide(
                &p,
                via,
                facts(d(2026, 3, 1), Some(0.699_999_999_99)),
                None,
                false
            ),
            Decision::Grant(_)
        ));
        assert_eq!(
            refused(decide(
                &p,
                via,
                facts(d(2026, 3, 1), Some(0.69)),
                None,
                false
            )),
            Outcome::FailedScore {
                score: 0.69,
                pass_threshold: 0.7
            }
        );
        assert_eq!(
            refused(decide(&p, via, facts(d(2026, 3, 1), None), None, false)),
            Outcome::NoScore {
                pass_threshold: 0.7
            }
        );
    }

    #[test]
    fn a_reported_fail_never_earns_even_without_threshold() {
        let p = program(None);
        let via = match_item(&p, "C1").unwrap();
        let f = Facts {
            completed_on: d(2026, 3, 1),
            scaled: Some(1.0),
            passed: Some(false),
        };
        assert_eq!(refused(decide(&p, via, f, None, false)), Outcome::NotPassed);
    }

    #[test]
    fn assignment_is_not_retroactive_except_by_backfill() {
        let p = program(None);
        let via = match_item(&p, "C1").unwrap();
        let early = facts(d(2026, 1, 9), None);
        assert_eq!(
            refused(decide(&p, via, early, None, false)),
            Outcome::BeforeAssignment {
                assigned_on: d(2026, 1, 10)
            }
        );
        let g = grant(decide(&p, via, early, None, true));
        assert_eq!(g.issued_on, d(2026, 1, 9));
    }

    fn held(p: &Program, issued: Date) -> Award {
        let expires = p.validity.expiry_from(issued);
        let mut a = crate::award::test_award(issued, expires, p.renewal_window_days, p.grace_days);
        a.id = CertificateId::from_random([7; 16]);
        a.program = p.code.clone();
        a.completed_on = Some(issued);
        a.association = Association::CourseCompletion;
        a.cycle = crate::renewal::first_cycle(p.validity, issued, expires);
        a
    }

    #[test]
    fn earning_again_is_ignored_outside_the_window_and_renews_inside_it() {
        let p = program(None);
        let via = match_item(&p, "C1").unwrap();
        let current = held(&p, d(2026, 2, 1)); // expires 2027-02-01, window opens 2026-11-03
        assert!(matches!(
            refused(decide(&p, via, facts(d(2026, 6, 1), None), Some(&current), false)),
            Outcome::AlreadyHeld { renewal_opens_on: Some(x), .. } if x == d(2026, 11, 3)
        ));
        let g = grant(decide(
            &p,
            via,
            facts(d(2026, 12, 1), None),
            Some(&current),
            false,
        ));
        assert_eq!(g.renews, Some(current.id.clone()));
        assert_eq!(g.pathway, Some(Pathway::Retake));
        assert_eq!(g.association, Association::Renewal);
        // Previous expiry + validity: early renewers lose nothing.
        assert_eq!(g.expires_on, Some(d(2028, 2, 1)));
        // In grace (expired 2027-02-01, grace 30 days) it still renews.
        let g = grant(decide(
            &p,
            via,
            facts(d(2027, 2, 20), None),
            Some(&current),
            false,
        ));
        assert_eq!(g.renews, Some(current.id.clone()));
        // After grace: a new chain, the lapsed award closed.
        let g = grant(decide(
            &p,
            via,
            facts(d(2027, 4, 1), None),
            Some(&current),
            false,
        ));
        assert_eq!((g.renews, g.closes_lapsed), (None, true));
        assert_eq!(g.expires_on, Some(d(2028, 4, 1)));
        assert!(matches!(
            refused(decide(
                &p,
                via,
                facts(d(2026, 1, 20), None),
                Some(&current),
                false
            )),
            Outcome::OlderThanCurrent { .. }
        ));
    }

    #[test]
    fn the_refresher_only_renews_and_only_when_allowed() {
        let mut p = program(None);
        let current = held(&p, d(2026, 2, 1));
        let f = facts(d(2026, 12, 1), None);
        assert_eq!(
            refused(decide(&p, Via::Refresher, f, None, false)),
            Outcome::RefresherNeedsCurrent
        );
        assert_eq!(
            refused(decide(&p, Via::Refresher, f, Some(&current), false)),
            Outcome::PathwayNotAllowed {
                pathway: Pathway::Refresher
            }
        );
        p.renewal_pathways.push(Pathway::Refresher);
        p.renewal_anchor = crate::program::RenewalAnchor::RenewalDate;
        let g = grant(decide(&p, Via::Refresher, f, Some(&current), false));
        assert_eq!(g.pathway, Some(Pathway::Refresher));
        assert_eq!(g.expires_on, Some(d(2027, 12, 1)));
    }

    #[test]
    fn an_assigned_refresher_item_renews_by_the_refresher_pathway() {
        let mut p = program(None);
        let current = held(&p, d(2026, 2, 1));
        let f = facts(d(2026, 12, 1), None);
        let code = p.items[0].code.clone();
        p.refresher_item = Some(code.clone());
        let item = p.items[0].clone();
        // Without the refresher pathway it is a retake, as any assigned item.
        let g = grant(decide(&p, Via::Item(&item), f, Some(&current), false));
        assert_eq!(g.pathway, Some(Pathway::Retake));
        p.renewal_pathways.push(Pathway::Refresher);
        let g = grant(decide(&p, Via::Item(&item), f, Some(&current), false));
        assert_eq!(g.pathway, Some(Pathway::Refresher));
        // Without a certificate it earns the program, as an assigned item does.
        let g = grant(decide(&p, Via::Item(&item), f, None, false));
        assert_eq!(g.pathway, None);
    }

    #[test]
    fn external_training_earns_with_its_completion_date_but_does_not_renew() {
        let p = program(Some(0.9));
        let f = facts(d(2025, 12, 1), None);
        let g = grant(decide(&p, Via::External, f, None, false));
        assert_eq!(g.issued_on, d(2025, 12, 1));
        assert_eq!(g.association, Association::ExternalTraining);
        let current = held(&p, d(2026, 2, 1));
        assert!(matches!(
            refused(decide(
                &p,
                Via::External,
                facts(d(2026, 12, 1), None),
                Some(&current),
                false
            )),
            Outcome::NotAPathway { .. }
        ));
    }

    #[test]
    fn archived_programs_earn_nothing() {
        let mut p = program(None);
        p.archived_on = Some(d(2026, 5, 1));
        let via = match_item(&p, "C1").unwrap();
        assert_eq!(
            refused(decide(&p, via, facts(d(2026, 3, 1), None), None, false)),
            Outcome::ProgramArchived
        );
    }
}
