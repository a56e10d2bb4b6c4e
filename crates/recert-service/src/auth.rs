//! Who is calling, and what their role lets them do. Every handler receives a
//! [`Principal`]; the checks live here so the API and the web pages share one policy.

use crate::ServiceError;
use serde::{Deserialize, Serialize};

/// The roles of SPEC §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProgramManager,
    Auditor,
    Supervisor,
    Learner,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Self::Admin,
        Self::ProgramManager,
        Self::Auditor,
        Self::Supervisor,
        Self::Learner,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ProgramManager => "program_manager",
            Self::Auditor => "auditor",
            Self::Supervisor => "supervisor",
            Self::Learner => "learner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// How the caller appears in the audit trail, e.g. `token:ci-bot`.
    pub name: String,
    pub role: Role,
}

/// What a caller wants to do, at the granularity the role model distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read records: programs, learners, groups, awards, audit.
    Read,
    /// Create or change records.
    Write,
}

impl Principal {
    pub fn system() -> Self {
        Self {
            name: "system".into(),
            role: Role::Admin,
        }
    }

    /// Allows or refuses `action`. Until scoped roles arrive (program managers limited to
    /// their programs, supervisors to their team, learners to themselves), only admins
    /// write and only admins and auditors read everything; other roles are refused rather
    /// than given more than SPEC §6 grants them.
    pub fn require(&self, action: Action) -> Result<(), ServiceError> {
        let allowed = matches!(
            (self.role, action),
            (Role::Admin, _) | (Role::Auditor, Action::Read)
        );
        if allowed {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(format!(
                "the {} role may not {} here",
                self.role.as_str(),
                match action {
                    Action::Read => "read records",
                    Action::Write => "change records",
                }
            )))
        }
    }
}
