//! Groups, memberships and requirements.

use crate::auth::Action;
use crate::learners::description;
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::error::Errors;
use recert_domain::group::parse_group_name;
use recert_domain::{Group, GroupKind};
use recert_store::audit::NewEvent;
use recert_store::{groups as store, learners as learner_store, programs as program_store};
use serde::{Deserialize, Serialize};

/// A group create or patch request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupDraft {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
}

/// Learners to add to a group.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersDraft {
    pub usernames: Vec<String>,
}

/// A program a group's members must hold.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementDraft {
    pub program: String,
}

/// "Members of `group` must hold `program`".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requirement {
    pub group: String,
    pub program: String,
}

/// The row id of the group named `name`, or not found.
async fn group_id(conn: &mut recert_store::Conn, name: &str) -> Result<i64> {
    store::by_name(conn, name)
        .await?
        .map(|(id, _)| id)
        .ok_or_else(|| ServiceError::not_found("group", name))
}

impl Service {
    pub async fn create_group(&self, who: &Principal, draft: GroupDraft) -> Result<Group> {
        who.require(Action::ManagePeople)?;
        let mut e = Errors::new();
        let name = match &draft.name {
            Some(n) => e.check(parse_group_name("name", n)),
            None => {
                e.add("name", "is required");
                None
            }
        };
        let kind = match &draft.kind {
            Some(k) => e.check(GroupKind::parse("kind", k)),
            None => {
                e.add(
                    "kind",
                    "is required: one of team, site, branch, department, cohort",
                );
                None
            }
        };
        let desc = e.check(description(draft.description.as_deref()).map_err(|_| {
            recert_domain::DomainError::field("description", "must be at most 2000 characters")
        }));
        e.finish()?;
        let (Some(name), Some(kind), Some(desc)) = (name, kind, desc) else {
            return Err(ServiceError::field("group", "is incomplete"));
        };
        let mut tx = self.store.begin_write().await?;
        if store::by_name(tx.conn(), &name).await?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "a group named {name:?} already exists"
            )));
        }
        store::insert(tx.conn(), &name, kind, &desc, self.now_ms()).await?;
        let group = Group {
            name: name.clone(),
            kind,
            description: desc,
            member_count: 0,
            required_programs: vec![],
        };
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "group.created",
            subject_type: "group",
            subject_id: &name,
            before: None,
            after: Some(snapshot(&group)?),
        })
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    pub async fn group(&self, who: &Principal, name: &str) -> Result<Group> {
        who.require(Action::ReadDirectory)?;
        let mut conn = self.store.read().await?;
        store::by_name(&mut conn, name)
            .await?
            .map(|(_, g)| g)
            .ok_or_else(|| ServiceError::not_found("group", name))
    }

    pub async fn groups(
        &self,
        who: &Principal,
        kind: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Group>> {
        who.require(Action::ReadDirectory)?;
        let kind = kind
            .filter(|k| !k.is_empty())
            .map(|k| GroupKind::parse("kind", k))
            .transpose()?;
        let mut conn = self.store.read().await?;
        let rows = store::list(&mut conn, kind, page.after, page.fetch()).await?;
        page.finish(rows, |(id, _)| *id, |(_, g)| Ok(g))
    }

    /// Adds learners to a group; every unknown username is reported and nothing changes.
    pub async fn add_members(
        &self,
        who: &Principal,
        group: &str,
        draft: MembersDraft,
    ) -> Result<Group> {
        who.require(Action::ManagePeople)?;
        let mut tx = self.store.begin_write().await?;
        let gid = group_id(tx.conn(), group).await?;
        let mut e = Errors::new();
        let mut ids = Vec::new();
        for (i, u) in draft.usernames.iter().enumerate() {
            match learner_store::id_of(tx.conn(), u.trim()).await? {
                Some(id) => ids.push((id, u.trim().to_owned())),
                None => e.add(
                    format!("usernames[{i}]"),
                    format!("no learner with username {u:?}"),
                ),
            }
        }
        if draft.usernames.is_empty() {
            e.add("usernames", "must list at least one username");
        }
        e.finish()?;
        for (lid, username) in &ids {
            if store::add_member(tx.conn(), gid, *lid).await? {
                tx.audit(NewEvent {
                    at: self.now(),
                    actor: &who.name,
                    action: "group.member_added",
                    subject_type: "group",
                    subject_id: group,
                    before: None,
                    after: Some(serde_json::json!({ "learner": username })),
                })
                .await?;
                self.award_joiner(&mut tx, &who.name, *lid, &[gid]).await?;
            }
        }
        tx.commit().await?;
        self.group(who, group).await
    }

    pub async fn remove_member(
        &self,
        who: &Principal,
        group: &str,
        username: &str,
    ) -> Result<Group> {
        who.require(Action::ManagePeople)?;
        let mut tx = self.store.begin_write().await?;
        let gid = group_id(tx.conn(), group).await?;
        let lid = learner_store::id_of(tx.conn(), username)
            .await?
            .ok_or_else(|| ServiceError::not_found("learner", username))?;
        if !store::remove_member(tx.conn(), gid, lid).await? {
            return Err(ServiceError::not_found(
                "membership",
                format!("{username} in {group}"),
            ));
        }
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "group.member_removed",
            subject_type: "group",
            subject_id: group,
            before: Some(serde_json::json!({ "learner": username })),
            after: None,
        })
        .await?;
        tx.commit().await?;
        self.group(who, group).await
    }

    /// Usernames of a group's members, in username order.
    pub async fn group_members(
        &self,
        who: &Principal,
        group: &str,
        page: PageRequest,
    ) -> Result<Page<String>> {
        who.require(Action::ReadDirectory)?;
        let mut conn = self.store.read().await?;
        let gid = group_id(&mut conn, group).await?;
        let rows = store::members(&mut conn, gid, page.after, page.fetch()).await?;
        page.finish(rows, |(id, _)| *id, |(_, u)| Ok(u))
    }

    pub async fn add_requirement(
        &self,
        who: &Principal,
        group: &str,
        draft: RequirementDraft,
    ) -> Result<Requirement> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let gid = group_id(tx.conn(), group).await?;
        let (pid, program) = program_store::by_code(tx.conn(), draft.program.trim())
            .await?
            .ok_or_else(|| {
                ServiceError::field(
                    "program",
                    format!("no program with code {:?}", draft.program),
                )
            })?;
        who.require(Action::ManageProgram(pid))?;
        if program.archived_on.is_some() {
            return Err(ServiceError::field(
                "program",
                "is archived; archived programs cannot be required",
            ));
        }
        let req = Requirement {
            group: group.to_owned(),
            program: program.code.to_string(),
        };
        if !store::add_requirement(tx.conn(), gid, pid, self.now_ms()).await? {
            return Err(ServiceError::Conflict(format!(
                "group {group:?} already requires {}",
                program.code
            )));
        }
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "requirement.created",
            subject_type: "group",
            subject_id: group,
            before: None,
            after: Some(snapshot(&req)?),
        })
        .await?;
        tx.commit().await?;
        Ok(req)
    }

    pub async fn remove_requirement(
        &self,
        who: &Principal,
        group: &str,
        program: &str,
    ) -> Result<()> {
        who.require_program_runner()?;
        let mut tx = self.store.begin_write().await?;
        let gid = group_id(tx.conn(), group).await?;
        let (pid, _) = program_store::by_code(tx.conn(), program)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", program))?;
        who.require(Action::ManageProgram(pid))?;
        if !store::remove_requirement(tx.conn(), gid, pid).await? {
            return Err(ServiceError::not_found(
                "requirement",
                format!("{group} must hold {program}"),
            ));
        }
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "requirement.removed",
            subject_type: "group",
            subject_id: group,
            before: Some(serde_json::json!({ "group": group, "program": program })),
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every group's required programs, one page at a time, in the order they were made.
    pub async fn requirements(
        &self,
        who: &Principal,
        page: PageRequest,
    ) -> Result<Page<Requirement>> {
        who.require(Action::ReadDirectory)?;
        let mut conn = self.store.read().await?;
        let rows = store::requirements(&mut conn, page.after, page.fetch()).await?;
        page.finish(
            rows,
            |(id, _, _)| *id,
            |(_, group, program)| Ok(Requirement { group, program }),
        )
    }
}
