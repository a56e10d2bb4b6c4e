//! What the learner's renewal page (`/renew/{award}`, the target of every [renew_link])
//! says: where the certification stands today and, for each of the program's renewal
//! pathways, what to do — with a direct link to each course in the learning system. After
//! lapse it names the initial requirements instead.

use crate::awards::AwardView;
use crate::{Principal, Result, Service};
use recert_domain::program::{Pathway, Program};
use recert_domain::status::Status;

/// A course or other item to take, with where it opens.
#[derive(Debug, Clone)]
pub struct ItemLink {
    pub code: String,
    pub kind: &'static str,
    /// Opens it in the learning system, when the program says where.
    pub url: Option<String>,
}

/// One way to renew.
#[derive(Debug, Clone)]
pub struct RenewalStep {
    pub pathway: Pathway,
    /// What it takes, in words.
    pub detail: String,
    pub items: Vec<ItemLink>,
}

/// The renewal page of one award.
#[derive(Debug, Clone)]
pub struct RenewalGuide {
    pub award: AwardView,
    pub program: Program,
    /// The learner's manager, by name (sign-off goes to them).
    pub manager: Option<String>,
    /// Renewal is possible today (from the window's opening to the end of grace).
    pub open: bool,
    /// The ways to renew (when the award can still be renewed).
    pub steps: Vec<RenewalStep>,
    /// After lapse (or when nothing else is left): what earns the certification anew.
    pub initial: Vec<ItemLink>,
    /// The latest sign-off request about this certificate, if any.
    pub signoff: Option<crate::signoffs::SignoffView>,
    /// The cycle's credits, when the program renews by credits and the award still can.
    pub credits: Option<crate::credits::CreditStanding>,
}

impl Service {
    /// The renewal page of an award: who may see the award may see this.
    pub async fn renewal_guide(&self, who: &Principal, id: &str) -> Result<RenewalGuide> {
        let award = self.award(who, id, None).await?;
        let mut conn = self.store.read().await?;
        // From the catalogue in memory: reading the award just loaded it.
        let program = self
            .catalogue(&mut conn)
            .await?
            .programs
            .iter()
            .map(|(_, p)| p)
            .find(|p| p.code.as_str() == award.program)
            .cloned()
            .ok_or_else(|| crate::ServiceError::not_found("program", award.program.clone()))?;
        let manager = recert_store::learners::manager_name(&mut conn, &award.learner).await?;
        let link = |code: &str| {
            program
                .items
                .iter()
                .find(|i| i.code == code)
                .map(|i| ItemLink {
                    code: i.code.clone(),
                    kind: i.kind.label(),
                    url: i.url.clone(),
                })
        };
        let all_items: Vec<ItemLink> = program.items.iter().filter_map(|i| link(&i.code)).collect();
        let renewable = matches!(
            award.status,
            Status::Active | Status::Expiring | Status::Grace
        );
        let open = matches!(award.status, Status::Expiring | Status::Grace);
        let steps = if renewable {
            program
                .renewal_pathways
                .iter()
                .map(|&pathway| match pathway {
                    Pathway::Retake => RenewalStep {
                        pathway,
                        detail: "Complete one of the program's assigned items again, passing it.".into(),
                        items: all_items.clone(),
                    },
                    Pathway::Refresher => RenewalStep {
                        pathway,
                        detail: "Complete the refresher item.".into(),
                        items: program.refresher_item.as_deref().and_then(link).into_iter().collect(),
                    },
                    Pathway::Credits => RenewalStep {
                        pathway,
                        detail: match &program.credits_required {
                            Some(c) if c.categories.is_empty() => format!(
                                "Earn {} hours of approved continuing-education credits in this cycle.",
                                c.hours
                            ),
                            Some(c) => format!(
                                "Earn {} hours of approved continuing-education credits in this cycle, including {}.",
                                c.hours,
                                c.categories
                                    .iter()
                                    .map(|(k, h)| format!("{h} hours of {k}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            None => "Earn the continuing-education credits the program asks for.".into(),
                        },
                        items: Vec::new(),
                    },
                    Pathway::Signoff => RenewalStep {
                        pathway,
                        detail: match &manager {
                            Some(m) => format!("Ask your manager, {m}, to sign off your renewal."),
                            None => "Ask your manager to sign off your renewal.".into(),
                        },
                        items: Vec::new(),
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        let signoff = recert_store::signoffs::latest_for(&mut conn, &award.id)
            .await?
            .map(crate::signoffs::view);
        let credits = if renewable && program.renewal_pathways.contains(&Pathway::Credits) {
            Some(crate::credits::standing(&mut conn, &award, &program).await?)
        } else {
            None
        };
        Ok(RenewalGuide {
            credits,
            signoff,
            initial: all_items,
            award,
            program,
            manager,
            open,
            steps,
        })
    }
}
