//! The issued, renewed and revoked notices (SPEC §3.7): the learner is told by email, in
//! the transaction that issues, renews or revokes, with the certificate's page and its
//! verification link. A certificate recorded with an issue date more than a week back (a
//! record from the past, an import) is not news and sends nothing.

use crate::awards::AwardView;
use crate::message_templates::AwardFacts;
use crate::notices::email_message;
use crate::{Result, Service};
use recert_domain::dates::add_days;
use recert_store::notices::{self as outbox, NewMessage};

/// How far back an issue date may be for the issue to be announced.
const NEWS_DAYS: i64 = 7;

impl Service {
    /// Queues the email of `event` (`award.issued`, `award.renewed` or `award.revoked`)
    /// about `award` to its learner, when they have an address.
    pub(crate) async fn mail_award_event(
        &self,
        tx: &mut recert_store::WriteTx,
        event: &'static str,
        award: &AwardView,
        learner_id: i64,
    ) -> Result<()> {
        if event != "award.revoked" && award.issued_on < add_days(award.status_as_of, -NEWS_DAYS) {
            return Ok(());
        }
        let Some(email) = recert_store::learners::email_of(tx.conn(), learner_id).await? else {
            return Ok(());
        };
        let ctx = self.catalogue(tx.conn()).await?;
        let program = ctx
            .programs
            .iter()
            .map(|(_, p)| p)
            .find(|p| p.code.as_str() == award.program)
            .ok_or_else(|| crate::ServiceError::internal("the award's program is missing"))?;
        let mut values = AwardFacts {
            legal_name: &award.legal_name,
            program: AwardFacts::program(program),
            cert: &award.id,
            issued_on: award.issued_on,
            expires_on: award.expires_on,
            grace_ends_on: award.grace_ends_on,
            today: award.status_as_of,
        }
        .values(self.base_url());
        values
            .set(
                "pathway",
                award
                    .pathway
                    .map(|p| p.label().to_lowercase())
                    .unwrap_or_else(|| "recorded by hand".into()),
            )
            .set(
                "revocation_reason",
                award
                    .revocation
                    .as_ref()
                    .map(|r| r.category.label().to_lowercase())
                    .unwrap_or_default(),
            );
        let rendered = self
            .compose_message_in(tx, event, Some(&award.program), &values)
            .await?;
        let message = NewMessage {
            channel: "email",
            event,
            award: Some(award.id.clone()),
            dedupe_key: format!("{event}:{}:email", award.id),
            message: email_message(
                (&award.legal_name, &email),
                Vec::new(),
                rendered,
                event,
                Some(&award.id),
            )
            .to_string(),
        };
        outbox::enqueue(
            tx.conn(),
            self.store.backend(),
            &[message],
            self.real_now_ms(),
        )
        .await?;
        Ok(())
    }
}
