//! Program use cases: create, read, change, archive. Changes to validity, window, grace or
//! reminders apply to new awards (SPEC §3.5): awards keep the rules they were issued under.

use crate::auth::Action;
use crate::page::{Page, PageRequest};
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_domain::program::{ItemDraft, ProgramDraft};
use recert_domain::{Code, Organization, Program};
use recert_store::audit::NewEvent;
use recert_store::programs as store;
use serde::Serialize;

/// A program as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProgramView {
    /// The store's key, for policy checks; not part of the API.
    #[serde(skip)]
    #[schema(ignore)]
    pub row_id: i64,
    #[serde(flatten)]
    pub program: Program,
    pub archived: bool,
    /// Learners currently holding it (not superseded, revoked or unassigned).
    pub current_awards: i64,
}

fn org_of<'a>(orgs: &'a [(i64, Organization)], code: &Code) -> Result<&'a (i64, Organization)> {
    orgs.iter()
        .find(|(_, o)| o.code == code.as_str())
        .ok_or_else(|| {
            ServiceError::field(
                "organization",
                format!("no organization with code {code:?}"),
            )
        })
}

/// Which organization a request means when it names none: allowed while only one exists.
fn default_org(orgs: &[(i64, Organization)]) -> Result<Code> {
    match orgs {
        [(_, only)] => Code::parse("organization", &only.code).map_err(ServiceError::from),
        _ => Code::parse("organization", recert_domain::organization::DEFAULT_CODE)
            .map_err(ServiceError::from),
    }
}

impl Service {
    pub async fn create_program(
        &self,
        who: &Principal,
        draft: ProgramDraft,
    ) -> Result<ProgramView> {
        who.require(Action::CreateProgram)?;
        let mut tx = self.store.begin_write().await?;
        let orgs = self.organizations(tx.conn()).await?;
        if draft.organization.is_none() && orgs.len() > 1 {
            return Err(ServiceError::field(
                "organization",
                "is required: this installation has several organizations",
            ));
        }
        let default = default_org(&orgs)?;
        let today = self.today_in(&org_of(&orgs, &default)?.1);
        let program = draft.into_program(None, &default, today)?;
        let (org_id, _) = org_of(&orgs, &program.organization)?;
        if let Some(existing) = store::folded_code_taken(tx.conn(), program.code.as_str()).await? {
            return Err(ServiceError::Conflict(format!(
                "a program with code {existing:?} already exists"
            )));
        }
        let id = store::insert(tx.conn(), &program, *org_id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.created",
            subject_type: "program",
            subject_id: program.code.as_str(),
            before: None,
            after: Some(snapshot(&program)?),
        })
        .await?;
        tx.commit().await?;
        Ok(ProgramView {
            row_id: id,
            archived: false,
            current_awards: 0,
            program,
        })
    }

    pub async fn program(&self, who: &Principal, code: &str) -> Result<ProgramView> {
        who.require(Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        let (id, program) = store::by_code(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        let count = store::current_award_counts(&mut conn, &[id])
            .await?
            .into_iter()
            .find(|(p, _)| *p == id)
            .map_or(0, |(_, n)| n);
        Ok(ProgramView {
            row_id: id,
            archived: program.archived_on.is_some(),
            current_awards: count,
            program,
        })
    }

    pub async fn programs(
        &self,
        who: &Principal,
        page: PageRequest,
        include_archived: bool,
    ) -> Result<Page<ProgramView>> {
        who.require(Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        let rows = store::list(&mut conn, page.after, page.fetch(), include_archived).await?;
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let counts = store::current_award_counts(&mut conn, &ids).await?;
        page.finish(
            rows,
            |(id, _)| *id,
            |(id, program)| {
                Ok(ProgramView {
                    row_id: id,
                    archived: program.archived_on.is_some(),
                    current_awards: counts.iter().find(|(p, _)| *p == id).map_or(0, |(_, n)| *n),
                    program,
                })
            },
        )
    }

    pub async fn update_program(
        &self,
        who: &Principal,
        code: &str,
        draft: ProgramDraft,
    ) -> Result<ProgramView> {
        let mut tx = self.store.begin_write().await?;
        let (id, before) = store::by_code(tx.conn(), code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        who.require(Action::ManageProgram(id))?;
        let orgs = self.organizations(tx.conn()).await?;
        let today = self.today_in(&org_of(&orgs, &before.organization)?.1);
        let after = draft.into_program(Some(&before), &before.organization, today)?;
        let (org_id, _) = org_of(&orgs, &after.organization)?;
        if after == before {
            // Nothing changed: no write, no audit event.
            drop(tx);
            return self.program(who, code).await;
        }
        store::update(tx.conn(), id, &after, *org_id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.updated",
            subject_type: "program",
            subject_id: code,
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        })
        .await?;
        tx.commit().await?;
        self.program(who, code).await
    }

    /// Archives a program: never destroyed, its awards show as archived from today.
    pub async fn archive_program(&self, who: &Principal, code: &str) -> Result<ProgramView> {
        let mut tx = self.store.begin_write().await?;
        let (id, before) = store::by_code(tx.conn(), code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        who.require(Action::ManageProgram(id))?;
        if before.archived_on.is_some() {
            return Err(ServiceError::Conflict(format!(
                "program {code:?} is already archived"
            )));
        }
        let orgs = self.organizations(tx.conn()).await?;
        let (org_id, org) = org_of(&orgs, &before.organization)?;
        let mut after = before.clone();
        after.archived_on = Some(self.today_in(org));
        store::update(tx.conn(), id, &after, *org_id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.archived",
            subject_type: "program",
            subject_id: code,
            before: Some(snapshot(&before)?),
            after: Some(snapshot(&after)?),
        })
        .await?;
        tx.commit().await?;
        self.program(who, code).await
    }
}

impl Service {
    /// Assigns one item to a program, in one transaction with its audit event: two people
    /// adding items at once both keep theirs (nothing else of the program is rewritten).
    /// Assignment is not retroactive: `assigned_on` defaults to today.
    pub async fn add_item(
        &self,
        who: &Principal,
        code: &str,
        draft: ItemDraft,
    ) -> Result<ProgramView> {
        // Input and permission are checked before the write lock is taken.
        let mut conn = self.store.read().await?;
        let (id, program, org) = store::with_organization(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        drop(conn);
        who.require(Action::ManageProgram(id))?;
        let item = draft.into_item("", None, self.today_in(&org))?;
        let mut tx = self.store.begin_write().await?;
        let (_, before) = store::by_id(tx.conn(), id).await?;
        if before.item(&item.code).is_some() {
            return Err(ServiceError::Conflict(format!(
                "item {:?} is already assigned to {}",
                item.code, before.code
            )));
        }
        store::add_item(tx.conn(), id, &item).await?;
        store::touch(tx.conn(), id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.item_added",
            subject_type: "program",
            subject_id: program.code.as_str(),
            before: None,
            after: Some(snapshot(&item)?),
        })
        .await?;
        tx.commit().await?;
        self.program(who, code).await
    }

    /// Refuses unless the caller may change this program's settings and items.
    pub async fn may_manage_program(&self, who: &Principal, code: &str) -> Result<()> {
        let mut conn = self.store.read().await?;
        let (id, _) = store::by_code(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        who.require(Action::ManageProgram(id))
    }

    /// Unassigns one item: completions from now on no longer earn by it; awards it earned
    /// stay.
    pub async fn remove_item(
        &self,
        who: &Principal,
        code: &str,
        item: &str,
    ) -> Result<ProgramView> {
        let mut conn = self.store.read().await?;
        let (id, _) = store::by_code(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        drop(conn);
        who.require(Action::ManageProgram(id))?;
        let mut tx = self.store.begin_write().await?;
        let (_, before) = store::by_id(tx.conn(), id).await?;
        let Some(removed) = before.item(item).cloned() else {
            return Err(ServiceError::not_found("item", item));
        };
        store::remove_item(tx.conn(), id, item).await?;
        store::touch(tx.conn(), id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.item_removed",
            subject_type: "program",
            subject_id: before.code.as_str(),
            before: Some(snapshot(&removed)?),
            after: None,
        })
        .await?;
        tx.commit().await?;
        self.program(who, code).await
    }
}
