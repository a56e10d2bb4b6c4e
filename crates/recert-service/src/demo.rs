//! `serve --demo`: a realistic organization to click through. Three sites, 400 employees,
//! a mandatory annual safety certification and a two-year professional credential with CE
//! credits, with awards spread so every status shows up today.

use crate::awards::AwardDraft;
use crate::groups::{GroupDraft, RequirementDraft};
use crate::learners::LearnerDraft;
use crate::{Principal, Result, Service};
use recert_domain::dates::add_days;
use recert_domain::program::ProgramDraft;

/// A small deterministic generator (splitmix64): the same demo on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Gustavo", "Hana", "Ivan", "Jonas", "Keiko",
    "Liam", "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor",
    "Wen", "Ximena", "Yusuf", "Zoë",
];
const LAST: &[&str] = &[
    "Álvarez",
    "Brennan",
    "Chen",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Hoffmann",
    "Iyer",
    "Jovanović",
    "Kowalski",
    "Larsen",
    "Müller",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Quispe",
    "Rossi",
    "Santos",
    "Tanaka",
    "Ueda",
    "Vasquez",
    "Walsh",
    "Xu",
    "Yilmaz",
    "Zimmermann",
];
const SITES: &[&str] = &["Houston Plant", "Tulsa Yard", "Baton Rouge Terminal"];
const DEPARTMENTS: &[&str] = &["Operations", "Maintenance", "Engineering"];

fn json<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
    serde_json::from_value(v).map_err(crate::ServiceError::internal)
}

impl Service {
    /// Seeds the demo organization unless it is already there. Returns whether it seeded.
    pub async fn seed_demo(&self) -> Result<bool> {
        let who = Principal::unscoped("demo-seed", crate::Role::Admin);
        {
            let mut conn = self.store.read().await?;
            if recert_store::programs::by_code(&mut conn, "SAFE-ANNUAL")
                .await?
                .is_some()
            {
                return Ok(false);
            }
        }
        let today = {
            let mut conn = self.store.read().await?;
            let orgs = self.organizations(&mut conn).await?;
            match orgs.first() {
                Some((_, o)) => self.today_in(o),
                None => return Err(crate::ServiceError::internal("no organization")),
            }
        };
        for name in SITES {
            self.create_group(&who, json(serde_json::json!({"name": name, "kind": "site", "description": format!("All employees based at {name}")}))?).await?;
        }
        for name in DEPARTMENTS {
            self.create_group(
                &who,
                GroupDraft {
                    name: Some((*name).into()),
                    kind: Some("department".into()),
                    description: None,
                },
            )
            .await?;
        }
        let safety: ProgramDraft = json(serde_json::json!({
            "code": "SAFE-ANNUAL",
            "name": "Annual Workplace Safety Certification",
            "description": "Mandatory yearly certification in site safety, lockout/tagout and emergency response.",
            "validity": {"count": 1, "unit": "years"},
            "renewal_window_days": 90, "grace_days": 30, "reminder_offsets_days": [90, 60, 30, -1],
            "renewal_pathways": ["retake", "refresher", "credits", "signoff"], "refresher_item": "SAFE-REFRESH",
            "credits_required": {"hours": 4, "categories": {"first aid": 1}},
            "approved_providers": ["St John Ambulance", "Red Cross"],
            "content_version": "2026.2",
            "items": [
                {"code": "SAFE-101", "kind": "course", "pass_threshold": 0.8, "assigned_on": "2020-01-01",
                 "activity_id": "https://lms.example.com/xapi/activities/safe-101", "url": "https://lms.example.com/course/safe-101"},
                {"code": "SAFE-REFRESH", "kind": "course", "pass_threshold": 0.8, "assigned_on": "2020-01-01"}
            ]
        }))?;
        self.create_program(&who, safety).await?;
        let pro: ProgramDraft = json(serde_json::json!({
            "code": "CPE",
            "name": "Certified Process Engineer",
            "description": "Two-year professional credential; renew with 20 hours of continuing education (2 in ethics) or by re-examination.",
            "validity": {"count": 2, "unit": "years"},
            "renewal_window_days": 180, "grace_days": 60, "reminder_offsets_days": [180, 90, 30, -1],
            "renewal_pathways": ["credits", "retake"], "credits_required": {"hours": 20, "categories": {"ethics": 2}},
            "approved_providers": ["Institution of Process Engineers"],
            "items": [{"code": "CPE-EXAM", "kind": "assessment", "pass_threshold": 0.7, "assigned_on": "2020-01-01"}]
        }))?;
        self.create_program(&who, pro).await?;
        for site in SITES {
            self.add_requirement(
                &who,
                site,
                RequirementDraft {
                    program: "SAFE-ANNUAL".into(),
                },
            )
            .await?;
        }
        self.add_requirement(
            &who,
            "Engineering",
            RequirementDraft {
                program: "CPE".into(),
            },
        )
        .await?;

        // Names first, from their own generator, so managers' usernames are known up front.
        let mut names = Rng(0x5EED_2026);
        let people: Vec<(String, &str, &str)> = (0..400u32)
            .map(|i| {
                let first = names.pick(FIRST);
                let last = names.pick(LAST);
                let initial = first.chars().next().unwrap_or('x').to_lowercase();
                (format!("{initial}{}{i:03}", ascii(last)), first, last)
            })
            .collect();
        let mut rng = Rng(0xA11_0CA7E);
        let supervisors = 12;
        for (i, (username, first, last)) in people.iter().enumerate() {
            let i = i as u32;
            let username = username.clone();
            let site = SITES[(i % 3) as usize];
            let dept = DEPARTMENTS[rng.below(3) as usize];
            let manager = (i >= supervisors).then(|| people[(i % supervisors) as usize].0.clone());
            self.create_learner(&who, LearnerDraft {
                username: Some(username.clone()),
                legal_name: Some(format!("{first} {last}")),
                email: Some(Some(format!("{username}@northwind.example"))),
                external_ids: Some(json(serde_json::json!({"hr": format!("E{:05}", 10_000 + i)}))?),
                manager: Some(manager),
                groups: Some(vec![site.to_owned(), dept.to_owned()]),
                time_zone: None,
                active: Some(true),
                end_date: None,
                attributes: Some(json(serde_json::json!({"job_role": if dept == "Engineering" { "Process engineer" } else { "Technician" }, "site": site}))?),
            })
            .await?;
            // Safety: 93% hold it; issue dates spread over ~15 months so every status shows.
            if rng.below(100) < 93 {
                let back = rng.below(460) as i64;
                self.create_award(
                    &who,
                    AwardDraft {
                        learner: Some(username.clone()),
                        program: Some("SAFE-ANNUAL".into()),
                        issued_on: Some(add_days(today, -back).to_string()),
                        completed_on: Some(add_days(today, -back).to_string()),
                        // Whole percentages divided once: 0.8 + 0.05 would be
                        // 0.8500000000000001 in every API answer.
                        score: Some((80 + rng.below(21)) as f64 / 100.0),
                        pass_threshold: Some(0.8),
                        association: Some("course_completion".into()),
                        source_ref: Some(format!("lms:SAFE-101:{username}")),
                        ..Default::default()
                    },
                )
                .await?;
            }
            if dept == "Engineering" && rng.below(100) < 85 {
                let back = rng.below(900) as i64;
                self.create_award(
                    &who,
                    AwardDraft {
                        learner: Some(username.clone()),
                        program: Some("CPE".into()),
                        issued_on: Some(add_days(today, -back).to_string()),
                        completed_on: Some(add_days(today, -back).to_string()),
                        score: Some((70 + rng.below(31)) as f64 / 100.0),
                        pass_threshold: Some(0.7),
                        association: Some("course_completion".into()),
                        ..Default::default()
                    },
                )
                .await?;
            }
        }
        self.seed_demo_earning(&people, today).await?;
        Ok(true)
    }

    /// Completions from the LMS (passing, failing, repeated) and external training reports
    /// waiting for approval, so the learner pages and the queue have something to show.
    async fn seed_demo_earning(
        &self,
        people: &[(String, &str, &str)],
        today: recert_domain::Date,
    ) -> Result<()> {
        let who = Principal::unscoped("lms:demo", crate::Role::Admin);
        let mut rng = Rng(0xC0_FFEE);
        let mut batch = Vec::new();
        for (i, (username, _, _)) in people.iter().take(60).enumerate() {
            let back = rng.below(120) as i64;
            let score = 55 + rng.below(46) as i64;
            batch.push(Ok(crate::completions::CompletionDraft {
                event_id: Some(format!("demo-lms-{i:04}")),
                learner: Some(username.clone()),
                item: Some(
                    if i % 7 == 0 {
                        "SAFE-REFRESH"
                    } else {
                        "SAFE-101"
                    }
                    .into(),
                ),
                completed_on: Some(add_days(today, -back).to_string()),
                score: Some(score as f64),
                max_score: Some(100.0),
                passed: None,
                content_version: Some("2026.2".into()),
            }));
        }
        self.record_completions(&who, batch).await?;
        for (username, _, _) in people.iter().skip(12).take(3) {
            let learner_id = {
                let mut conn = self.store.read().await?;
                recert_store::learners::id_of(&mut conn, username).await?
            };
            let learner = Principal {
                learner_id,
                ..Principal::unscoped(format!("user:{username}"), crate::Role::Learner)
            };
            self.report_external(
                &learner,
                crate::external::ExternalDraft {
                    learner: None,
                    program: Some("SAFE-ANNUAL".into()),
                    title: Some("First aid at work (3-day course)".into()),
                    provider: Some("St John Ambulance".into()),
                    completed_on: Some(add_days(today, -(rng.below(30) as i64)).to_string()),
                    hours: Some(18.0),
                },
                None,
            )
            .await?;
        }
        // Continuing-education credits logged by engineers toward CPE: some from the
        // approved institution, some waiting in the approvers' queue.
        let mut logged = 0;
        for (username, _, _) in people {
            if logged == 6 {
                break;
            }
            let (provider, category, hours) = if logged % 2 == 0 {
                ("Institution of Process Engineers", "ethics", 2.0)
            } else {
                ("Process Safety Summit", "process safety", 6.5)
            };
            let draft = crate::credits::CreditDraft {
                learner: Some(username.clone()),
                program: Some("CPE".into()),
                completed_on: Some(today.to_string()),
                hours: Some(hours),
                category: Some(category.into()),
                provider: Some(provider.into()),
            };
            // Only current CPE holders take credits; the others are refused and skipped.
            let as_learner = Principal {
                learner_id: {
                    let mut conn = self.store.read().await?;
                    recert_store::learners::id_of(&mut conn, username).await?
                },
                ..Principal::unscoped(format!("user:{username}"), crate::Role::Learner)
            };
            if self.log_credit(&as_learner, draft, None).await.is_ok() {
                logged += 1;
            }
        }
        Ok(())
    }
}

/// One demo account to make: username, role, learner record, programs, what it shows.
type DemoPlan = (
    &'static str,
    crate::Role,
    Option<String>,
    Vec<String>,
    String,
);

/// A demo sign-in, printed at start so a newcomer can click through every role.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: &'static str,
    pub role: crate::Role,
    pub password: String,
    /// What this account shows, e.g. whose team.
    pub note: String,
}

impl Service {
    /// Makes sure there is one account per role and gives each a fresh random password
    /// (so a demo database never keeps a known password between starts).
    pub async fn demo_accounts(&self) -> Result<Vec<DemoAccount>> {
        use crate::Role;
        let who = Principal::unscoped("demo-seed", Role::Admin);
        let (manager, report) = {
            let mut conn = self.store.read().await?;
            recert_store::learners::manager_and_report(&mut conn)
                .await?
                .ok_or_else(|| crate::ServiceError::internal("the demo has no managed learner"))?
        };
        let plan: [DemoPlan; 5] = [
            ("admin", Role::Admin, None, vec![], "everything".into()),
            (
                "pm",
                Role::ProgramManager,
                None,
                vec!["SAFE-ANNUAL".into()],
                "runs SAFE-ANNUAL only".into(),
            ),
            (
                "auditor",
                Role::Auditor,
                None,
                vec![],
                "reads everything, changes nothing".into(),
            ),
            (
                "supervisor",
                Role::Supervisor,
                Some(manager.clone()),
                vec![],
                format!("learner {manager} and their team"),
            ),
            (
                "learner",
                Role::Learner,
                Some(report.clone()),
                vec![],
                format!("learner {report}'s own certifications"),
            ),
        ];
        let mut out = Vec::new();
        for (username, role, learner, programs, note) in plan {
            let password = crate::users::generate_password()?;
            let exists = {
                let mut conn = self.store.read().await?;
                recert_store::users::by_username(&mut conn, username)
                    .await?
                    .is_some()
            };
            if exists {
                self.reset_password(&who, username, &password).await?;
            } else {
                self.create_user(
                    &who,
                    crate::users::UserDraft {
                        username: Some(username.into()),
                        password: Some(password.clone()),
                        role: Some(role.as_str().into()),
                        learner,
                        programs,
                    },
                )
                .await?;
            }
            out.push(DemoAccount {
                username,
                role,
                password,
                note,
            });
        }
        Ok(out)
    }
}

fn ascii(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'á' | 'Á' => Some('a'),
            'é' => Some('e'),
            'ć' => Some('c'),
            'ü' => Some('u'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
