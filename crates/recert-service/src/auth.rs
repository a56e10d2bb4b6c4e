//! Who is calling, and what their role lets them do (SPEC §6). This is the one
//! authorization policy: the API handlers and the web pages both reach it through the
//! service calls, so a page can never show what the API would refuse.
//!
//! | role            | programs     | people (learners, groups)  | awards                 | audit, accounts |
//! |-----------------|--------------|----------------------------|------------------------|-----------------|
//! | admin           | all, write   | all, write                 | all, write             | yes             |
//! | program_manager | read; edit own | read                     | own programs, write    | no              |
//! | auditor         | read         | read                       | read                   | audit read      |
//! | supervisor      | read         | own team + self            | own team + self, read  | no              |
//! | learner         | read         | self                       | own, read              | no              |

use crate::ServiceError;
use serde::{Deserialize, Serialize};

/// The roles of SPEC §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

    /// How people read the role's name.
    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Administrator",
            Self::ProgramManager => "Program manager",
            Self::Auditor => "Auditor",
            Self::Supervisor => "Supervisor",
            Self::Learner => "Learner",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }

    /// Parses a role named in a request, as a validation error on `field` when unknown.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, ServiceError> {
        Self::parse(raw).ok_or_else(|| {
            ServiceError::field(
                field,
                format!("unknown role {raw:?}: must be one of admin, program_manager, auditor, supervisor, learner"),
            )
        })
    }

    /// Whether the role only makes sense for a person with a learner record.
    pub fn needs_learner(self) -> bool {
        matches!(self, Self::Supervisor | Self::Learner)
    }
}

/// An authenticated caller and the scope their role applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// How the caller appears in the audit trail, e.g. `user:ana` or `token:ci-bot`.
    pub name: String,
    pub role: Role,
    /// The account behind the caller (a web session, or a token created for a user).
    pub user_id: Option<i64>,
    /// The caller's own learner record: the "self" of learners and supervisors.
    pub learner_id: Option<i64>,
    /// The programs a program manager runs.
    pub programs: Vec<i64>,
}

/// What a caller wants to do, at the granularity SPEC §6 distinguishes. Reads of people
/// and awards are judged per record (see [`Reach`]), not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Programs and organizations: the catalogue every role may read.
    ReadCatalog,
    /// Groups, memberships and requirements: the organization's structure.
    ReadDirectory,
    /// The audit trail across records.
    ReadAudit,
    /// Create programs.
    CreateProgram,
    /// Edit or archive this program, or change which groups must hold it.
    ManageProgram(i64),
    /// Issue, edit, revoke or unassign awards of this program.
    WriteAward(i64),
    /// Create and change learners, groups and memberships.
    ManagePeople,
    /// Accounts, API tokens and LMS connections.
    Administer,
    /// Post completion events (an LMS or HR integration acting for the organization).
    RecordCompletions,
    /// Turn completions made before an item's assignment into awards (SPEC §3.3).
    Backfill,
}

/// Which learners' records (and awards) a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    All,
    /// Awards of these programs (a program manager's); every learner record.
    Programs(Vec<i64>),
    /// A supervisor: themself and the learners whose manager they are.
    Team(i64),
    /// A learner: themself only.
    Own(i64),
    /// A scoped role without a linked learner record sees no one.
    Nobody,
}

impl Reach {
    /// Whether a learner (with this manager) is in reach.
    pub fn learner(&self, learner_id: i64, manager_id: Option<i64>) -> bool {
        match self {
            Self::All | Self::Programs(_) => true,
            Self::Team(me) => learner_id == *me || manager_id == Some(*me),
            Self::Own(me) => learner_id == *me,
            Self::Nobody => false,
        }
    }

    /// Whether an award of `program_id` held by that learner is in reach.
    pub fn award(&self, learner_id: i64, manager_id: Option<i64>, program_id: i64) -> bool {
        match self {
            Self::Programs(ids) => ids.contains(&program_id),
            other => other.learner(learner_id, manager_id),
        }
    }
}

impl Reach {
    /// The store's listing limit for this reach; `None` when nothing is in reach.
    pub fn within(&self) -> Option<recert_store::sql::Within> {
        use recert_store::sql::Within;
        match self {
            Self::All => Some(Within::All),
            Self::Programs(ids) => Some(Within::Programs(ids.clone())),
            Self::Team(me) => Some(Within::Team(*me)),
            Self::Own(me) => Some(Within::Learner(*me)),
            Self::Nobody => None,
        }
    }
}

impl Principal {
    /// The server itself (demo seeding, CLI bootstrap).
    pub fn system() -> Self {
        Self::unscoped("system", Role::Admin)
    }

    /// A caller whose role needs no scope (admins, auditors, bootstrap tokens).
    pub fn unscoped(name: impl Into<String>, role: Role) -> Self {
        Self {
            name: name.into(),
            role,
            user_id: None,
            learner_id: None,
            programs: Vec::new(),
        }
    }

    pub fn may(&self, action: Action) -> bool {
        use Action::*;
        use Role::*;
        match (self.role, action) {
            (Admin, _) => true,
            (_, ReadCatalog) => true,
            (ProgramManager | Auditor, ReadDirectory) => true,
            (Auditor, ReadAudit) => true,
            (ProgramManager, ManageProgram(id) | WriteAward(id)) => self.programs.contains(&id),
            _ => false,
        }
    }

    /// Allows or refuses `action` with a message saying what the role lacks.
    pub fn require(&self, action: Action) -> Result<(), ServiceError> {
        if self.may(action) {
            return Ok(());
        }
        let what = match action {
            Action::ReadCatalog => "read programs",
            Action::ReadDirectory => "read groups and requirements",
            Action::ReadAudit => "read the audit trail",
            Action::CreateProgram => "create programs",
            Action::ManageProgram(_) => "change this program",
            Action::WriteAward(_) => "change awards of this program",
            Action::ManagePeople => "change learners and groups",
            Action::Administer => "manage accounts, API tokens and LMS connections",
            Action::RecordCompletions => "record completions",
            Action::Backfill => "backfill awards from earlier completions",
        };
        Err(self.forbidden(what))
    }

    /// The refusal for this caller, naming what they tried.
    pub fn forbidden(&self, what: &str) -> ServiceError {
        ServiceError::Forbidden(format!("the {} role may not {what}", self.role.as_str()))
    }

    /// Whose records this caller may read.
    pub fn reach(&self) -> Reach {
        match (self.role, self.learner_id) {
            (Role::Admin | Role::Auditor, _) => Reach::All,
            (Role::ProgramManager, _) => Reach::Programs(self.programs.clone()),
            (Role::Supervisor, Some(me)) => Reach::Team(me),
            (Role::Learner, Some(me)) => Reach::Own(me),
            (Role::Supervisor | Role::Learner, None) => Reach::Nobody,
        }
    }

    /// Refuses callers who can change no award at all, before any input is looked at
    /// (per-program checks follow once the program is known).
    pub fn require_program_runner(&self) -> Result<(), ServiceError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::ProgramManager if !self.programs.is_empty() => Ok(()),
            _ => Err(self.forbidden("change programs or awards")),
        }
    }

    /// Whether this caller reads compliance reports (admins, auditors, program managers).
    pub fn reads_reports(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Auditor | Role::ProgramManager
        )
    }

    /// Whether this caller reads the compliance of this program.
    pub fn reports_on(&self, program_id: i64) -> bool {
        match self.role {
            Role::Admin | Role::Auditor => true,
            Role::ProgramManager => self.programs.contains(&program_id),
            _ => false,
        }
    }

    /// The programs a caller's compliance reports are limited to (`None`: all), or the
    /// refusal for roles that read no reports.
    pub fn report_programs(&self) -> Result<Option<Vec<i64>>, ServiceError> {
        match self.role {
            Role::Admin | Role::Auditor => Ok(None),
            Role::ProgramManager => Ok(Some(self.programs.clone())),
            _ => Err(self.forbidden("read compliance reports")),
        }
    }

    /// Refuses unless the learner is in reach.
    ///
    /// Out of reach answers as unknown (`what` `key` does not exist): usernames and event
    /// ids are not public, and a different answer would tell who is on the books.
    pub fn require_learner(
        &self,
        learner_id: i64,
        manager_id: Option<i64>,
        what: &'static str,
        key: &str,
    ) -> Result<(), ServiceError> {
        if self.reach().learner(learner_id, manager_id) {
            Ok(())
        } else {
            Err(ServiceError::not_found(what, key))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(role: Role, learner: Option<i64>, programs: &[i64]) -> Principal {
        Principal {
            learner_id: learner,
            programs: programs.to_vec(),
            ..Principal::unscoped("t", role)
        }
    }

    #[test]
    fn program_manager_changes_only_their_programs() {
        let pm = who(Role::ProgramManager, None, &[7]);
        assert!(pm.may(Action::WriteAward(7)));
        assert!(pm.may(Action::ManageProgram(7)));
        assert!(!pm.may(Action::WriteAward(8)));
        assert!(!pm.may(Action::CreateProgram));
        assert!(!pm.may(Action::ManagePeople));
        assert!(pm.reach().award(1, None, 7));
        assert!(!pm.reach().award(1, None, 8));
    }

    #[test]
    fn auditor_reads_everything_and_changes_nothing() {
        let a = who(Role::Auditor, None, &[]);
        assert!(a.may(Action::ReadAudit) && a.may(Action::ReadDirectory));
        for act in [
            Action::CreateProgram,
            Action::ManageProgram(1),
            Action::WriteAward(1),
            Action::ManagePeople,
            Action::Administer,
        ] {
            assert!(!a.may(act), "{act:?}");
        }
        assert_eq!(a.reach(), Reach::All);
    }

    #[test]
    fn supervisor_reaches_self_and_reports_only() {
        let s = who(Role::Supervisor, Some(10), &[]);
        assert!(s.reach().learner(10, None));
        assert!(s.reach().learner(11, Some(10)));
        assert!(!s.reach().learner(12, Some(99)));
        assert!(!s.may(Action::ReadDirectory));
    }

    #[test]
    fn learner_reaches_only_self_and_unlinked_scoped_roles_reach_nobody() {
        assert!(who(Role::Learner, Some(3), &[]).reach().learner(3, None));
        assert!(!who(Role::Learner, Some(3), &[]).reach().learner(4, Some(3)));
        assert_eq!(who(Role::Learner, None, &[]).reach(), Reach::Nobody);
        assert_eq!(who(Role::Supervisor, None, &[]).reach(), Reach::Nobody);
    }
}
