//! Supervisor sign-off (SPEC §3.4, §9): the learner (or an administrator) asks the
//! learner's manager to confirm a certification; the manager (or an administrator)
//! approves, which renews it by the `signoff` pathway, or declines, with a comment. The
//! request is refused, saying why, when the program has no sign-off pathway, the award is
//! not open to renewal, the learner has no manager, or a request is already open.

use crate::{Principal, Result, Service, ServiceError};
use recert_domain::names::{check_chars, optional_text};
use recert_domain::program::Pathway;
use recert_store::notices as outbox;
use recert_store::signoffs as store;
use serde::{Deserialize, Serialize};

/// A sign-off request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignoffView {
    pub id: i64,
    /// The certificate ID to renew.
    pub award: String,
    pub program: String,
    pub program_name: String,
    pub learner: String,
    pub learner_name: String,
    /// The manager asked.
    pub manager: String,
    pub manager_name: String,
    /// pending, approved or declined.
    pub state: String,
    pub requested_by: String,
    pub requested_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub comment: Option<String>,
    /// The new certificate an approval issued.
    pub renewal: Option<String>,
}

pub(crate) fn view(s: store::Signoff) -> SignoffView {
    let at = |ms: i64| {
        crate::instant(ms)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    SignoffView {
        id: s.id,
        award: s.cert_id,
        program: s.program_code,
        program_name: s.program_name,
        learner: s.learner,
        learner_name: s.learner_name,
        manager: s.manager,
        manager_name: s.manager_name,
        state: s.state,
        requested_by: s.requested_by,
        requested_at: at(s.requested_at_ms),
        decided_by: s.decided_by,
        decided_at: s.decided_at_ms.map(at),
        comment: s.comment,
        renewal: s.renewal,
    }
}

/// A request: the certificate to renew.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignoffDraft {
    pub award: Option<String>,
}

/// A decision's comment (optional; kept with the request and in the audit trail).
/// (Named apart from the credit and external-training decision, whose field is `note`.)
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SignoffDecisionDraft)]
pub struct DecisionDraft {
    pub comment: Option<String>,
}

impl Service {
    /// Asks the learner's manager to sign off one of the learner's certifications. The
    /// learner themself or an administrator. Emails the manager.
    pub async fn request_signoff(
        &self,
        who: &Principal,
        draft: SignoffDraft,
    ) -> Result<SignoffView> {
        let Some(id) = draft.award.filter(|a| !a.is_empty()) else {
            return Err(ServiceError::field(
                "award",
                "is required: the certificate ID to renew",
            ));
        };
        // The ID is this request's `award` field: a mistyped one is named so.
        let cert = recert_domain::CertificateId::parse(&id).map_err(|mut e| {
            for f in &mut e.0 {
                f.field = "award".into();
            }
            ServiceError::from(e)
        })?;
        let mut tx = self.store.begin_write().await?;
        let (current, program, today, _) = self.load_award(&mut tx, &cert).await?;
        let is_admin = who.role == crate::auth::Role::Admin;
        if !is_admin && who.learner_id != Some(current.learner_id) {
            // Someone else's award: as if it did not exist.
            return Err(ServiceError::not_found("award", cert.as_str()));
        }
        if !program.renewal_pathways.contains(&Pathway::Signoff) {
            return Err(ServiceError::Conflict(format!(
                "{} is not renewed by sign-off",
                program.code
            )));
        }
        crate::renewals::renewable(&current.award, &program, today)?;
        let Some((manager_id, manager_name, manager_email)) =
            store::manager_of(tx.conn(), current.learner_id).await?
        else {
            return Err(ServiceError::Conflict(format!(
                "{} has no manager to sign off: an administrator can record the renewal instead",
                current.legal_name
            )));
        };
        if store::pending_for(tx.conn(), current.row_id)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "a sign-off of certificate {cert} is already waiting for {manager_name}"
            )));
        }
        let now = self.real_now_ms();
        let sid = store::insert(
            tx.conn(),
            current.row_id,
            current.learner_id,
            manager_id,
            &who.name,
            now,
        )
        .await?;
        let made = store::by_id(tx.conn(), sid)
            .await?
            .ok_or_else(|| ServiceError::internal("the request just stored is missing"))?;
        let shown = view(made);
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "signoff.requested",
            subject_type: "award",
            subject_id: cert.as_str(),
            before: None,
            after: Some(serde_json::to_value(&shown).map_err(ServiceError::internal)?),
        })
        .await?;
        self.emit(
            &mut tx,
            "signoff.requested",
            cert.as_str(),
            serde_json::json!({ "signoff": &shown }),
            format!("signoff:{sid}:requested"),
        )
        .await?;
        if let Some(to) = manager_email {
            let base = self.base_url();
            let mut values =
                crate::message_templates::record_values(base, &current, &program, today);
            values
                .set("manager_name", manager_name.clone())
                .set("signoff_link", format!("{base}/signoffs"));
            let rendered = self
                .compose_message_in(
                    &mut tx,
                    "signoff.requested",
                    Some(program.code.as_str()),
                    &values,
                )
                .await?;
            let message = crate::notices::email_message(
                (&manager_name, &to),
                Vec::new(),
                rendered,
                "signoff.requested",
                Some(cert.as_str()),
            )
            .to_string();
            outbox::enqueue(
                tx.conn(),
                self.store.backend(),
                &[outbox::NewMessage {
                    channel: "email",
                    event: "signoff.requested",
                    award: Some(cert.as_str().to_owned()),
                    dedupe_key: format!("signoff:{sid}:requested:email"),
                    message,
                }],
                now,
            )
            .await?;
        }
        tx.commit().await?;
        self.wake_scheduler();
        Ok(shown)
    }

    /// Approves (renewing the certification by the `signoff` pathway, today) or declines
    /// a pending request. The manager asked, or an administrator.
    pub async fn decide_signoff(
        &self,
        who: &Principal,
        id: i64,
        approve: bool,
        draft: DecisionDraft,
    ) -> Result<SignoffView> {
        let comment = optional_text("comment", draft.comment.as_deref(), 2000)?;
        check_chars("comment", &comment)?;
        let comment = Some(comment).filter(|c| !c.is_empty());
        let mut tx = self.store.begin_write().await?;
        let s = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("sign-off", id.to_string()))?;
        let is_admin = who.role == crate::auth::Role::Admin;
        let is_their_manager =
            who.role == crate::auth::Role::Supervisor && who.learner_id == Some(s.manager_id);
        if !is_admin && !is_their_manager {
            return Err(ServiceError::not_found("sign-off", id.to_string()));
        }
        if s.state != "pending" {
            return Err(ServiceError::Conflict(format!(
                "sign-off {id} was {} already",
                s.state
            )));
        }
        let mut renewal = None;
        if approve {
            let cert = crate::awards::parse_id(&s.cert_id)?;
            let (current, program, today, ctx) = self.load_award(&mut tx, &cert).await?;
            let new = self
                .renew_current(
                    &mut tx,
                    &who.name,
                    &ctx,
                    current,
                    &program,
                    Pathway::Signoff,
                    today,
                    Some(serde_json::json!({"signoff": id, "comment": comment})),
                    format!("signoff:{id}"),
                    None,
                )
                .await?;
            renewal = Some(new.id.clone());
        }
        let state = if approve { "approved" } else { "declined" };
        if !store::decide(
            tx.conn(),
            id,
            state,
            &who.name,
            self.real_now_ms(),
            comment.as_deref(),
            renewal.as_deref(),
        )
        .await?
        {
            return Err(ServiceError::Conflict(format!(
                "sign-off {id} was decided already"
            )));
        }
        let decided = view(
            store::by_id(tx.conn(), id)
                .await?
                .ok_or_else(|| ServiceError::internal("the request just decided is missing"))?,
        );
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "signoff.decided",
            subject_type: "award",
            subject_id: &decided.award,
            before: None,
            after: Some(serde_json::to_value(&decided).map_err(ServiceError::internal)?),
        })
        .await?;
        self.emit(
            &mut tx,
            "signoff.decided",
            &decided.award,
            serde_json::json!({ "signoff": &decided }),
            format!("signoff:{id}:decided"),
        )
        .await?;
        if !approve {
            // An approval tells the learner by the renewal's own message.
            self.email_signoff_declined(&mut tx, &s, comment.as_deref())
                .await?;
        }
        tx.commit().await?;
        Ok(decided)
    }

    /// Tells the learner their manager declined, with the comment (SPEC §3.7), through
    /// the outbox in the deciding transaction.
    async fn email_signoff_declined(
        &self,
        tx: &mut recert_store::WriteTx,
        s: &store::Signoff,
        comment: Option<&str>,
    ) -> Result<()> {
        let Some(email) = recert_store::learners::email_of(tx.conn(), s.learner_id).await? else {
            return Ok(());
        };
        let cert = crate::awards::parse_id(&s.cert_id)?;
        let (record, program, today, _) = self.load_award(tx, &cert).await?;
        let mut values =
            crate::message_templates::record_values(self.base_url(), &record, &program, today);
        values
            .set("manager_name", s.manager_name.clone())
            .set("comment", comment.unwrap_or("no comment given").to_owned());
        let rendered = self
            .compose_message_in(tx, "signoff.decided", Some(program.code.as_str()), &values)
            .await?;
        outbox::enqueue(
            tx.conn(),
            self.store.backend(),
            &[outbox::NewMessage {
                channel: "email",
                event: "signoff.decided",
                award: Some(s.cert_id.clone()),
                dedupe_key: format!("signoff:{}:decided:email", s.id),
                message: crate::notices::email_message(
                    (&s.learner_name, &email),
                    Vec::new(),
                    rendered,
                    "signoff.decided",
                    Some(&s.cert_id),
                )
                .to_string(),
            }],
            self.real_now_ms(),
        )
        .await?;
        Ok(())
    }

    /// The store's filter for the caller's requests in `state`: a supervisor's own queue
    /// (asked of them), or every request for an administrator.
    fn signoff_filter(who: &Principal, state: Option<&str>) -> Result<store::Filter> {
        let state = state.map(str::trim).filter(|s| !s.is_empty());
        if let Some(s) = state
            && !["pending", "approved", "declined"].contains(&s)
        {
            return Err(ServiceError::field(
                "state",
                "is pending, approved or declined",
            ));
        }
        let manager_id = match (who.role, who.learner_id) {
            (crate::auth::Role::Admin, _) => None,
            (crate::auth::Role::Supervisor, Some(me)) => Some(me),
            _ => {
                return Err(ServiceError::Forbidden(
                    "only supervisors and administrators have a sign-off queue".into(),
                ));
            }
        };
        Ok(store::Filter {
            manager_id,
            state: state.map(str::to_owned),
        })
    }

    /// Sign-off requests: a supervisor's own queue (asked of them), or every request for
    /// an administrator; `state` filters (pending, approved, declined). Oldest first.
    pub async fn signoffs(
        &self,
        who: &Principal,
        state: Option<&str>,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<SignoffView>> {
        let filter = Self::signoff_filter(who, state)?;
        let mut conn = self.store.read().await?;
        let rows = store::list(
            &mut conn,
            filter.manager_id,
            filter.state.as_deref(),
            page.after,
            page.fetch(),
        )
        .await?;
        page.finish(rows, |s| s.id, |s| Ok(view(s)))
    }

    /// One window of the caller's requests in the order asked, with the total.
    pub async fn signoffs_listed(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &crate::listing::Sort,
        window: crate::listing::Window,
    ) -> Result<crate::listing::Listed<SignoffView>> {
        let filter = Self::signoff_filter(who, state)?;
        self.listed(&filter, sort, window, |s| Ok(view(s))).await
    }

    /// The caller's requests in `state`, in the order asked, as a CSV or XLSX file.
    pub fn signoffs_export(
        &self,
        who: &Principal,
        state: Option<&str>,
        sort: &crate::listing::Sort,
        format: crate::exports::Format,
    ) -> Result<crate::exports::Download> {
        use crate::exports::Cell;
        let filter = Self::signoff_filter(who, state)?;
        let sheet = crate::listing::Sheet {
            stem: "signoffs".into(),
            title: "Sign-offs".into(),
            headers: &[
                "id",
                "certificate_id",
                "program",
                "username",
                "legal_name",
                "manager",
                "state",
                "requested_by",
                "requested_at_utc",
                "decided_by",
                "decided_at_utc",
                "comment",
                "renewal",
            ],
        };
        self.export(Some(filter), sort, format, sheet, |s| {
            let v = view(s);
            let text = |s: &Option<String>| Cell::Text(s.clone().unwrap_or_default());
            Ok(vec![
                Cell::Int(v.id),
                v.award.as_str().into(),
                v.program.as_str().into(),
                v.learner.as_str().into(),
                v.learner_name.as_str().into(),
                v.manager.as_str().into(),
                v.state.as_str().into(),
                v.requested_by.as_str().into(),
                v.requested_at.as_str().into(),
                text(&v.decided_by),
                text(&v.decided_at),
                text(&v.comment),
                text(&v.renewal),
            ])
        })
    }
}
