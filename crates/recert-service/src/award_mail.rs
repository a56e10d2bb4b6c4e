//! The issued, renewed and revoked notices (SPEC §3.7): the learner is told by email, in
//! the transaction that issues, renews or revokes, with the certificate's page and its
//! verification link. A certificate recorded with an issue date more than a week back (a
//! record from the past, an import) is not news and sends nothing.

use crate::awards::AwardView;
use crate::notices::{day_in_words, plain_email};
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
        let base = self.base_url();
        let expiry = match award.expires_on {
            Some(x) => format!("It is valid until {}.", day_in_words(x)),
            None => "It does not expire.".into(),
        };
        let links = format!(
            "Your certificate: {base}/awards/{id}\nAnyone can check it at: {url}\n",
            id = award.id,
            url = award.verify_url
        );
        let (subject, lead) = match event {
            "award.issued" => (
                format!("You are certified: {}", award.program_name),
                format!(
                    "you have been awarded {} ({}), certificate {}, issued on {}. {expiry}",
                    award.program_name,
                    award.program,
                    award.id,
                    day_in_words(award.issued_on)
                ),
            ),
            "award.renewed" => (
                format!("Renewed: {}", award.program_name),
                format!(
                    "your {} certification is renewed{}: the new certificate is {}. {expiry}",
                    award.program_name,
                    award
                        .pathway
                        .map(|p| format!(" ({})", p.label().to_lowercase()))
                        .unwrap_or_default(),
                    award.id
                ),
            ),
            _ => (
                format!("Certificate revoked: {}", award.program_name),
                format!(
                    "your {} certificate {} was revoked{}. It no longer counts; ask the program's administrator if you have questions.",
                    award.program_name,
                    award.id,
                    award
                        .revocation
                        .as_ref()
                        .map(|r| format!(" ({})", r.category.label().to_lowercase()))
                        .unwrap_or_default()
                ),
            ),
        };
        let text = format!("Hello {},\n\n{lead}\n\n{links}", award.legal_name);
        let message = NewMessage {
            channel: "email",
            event,
            award: Some(award.id.clone()),
            dedupe_key: format!("{event}:{}:email", award.id),
            message: plain_email(
                (&award.legal_name, &email),
                &subject,
                &text,
                event,
                &award.id,
            ),
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
