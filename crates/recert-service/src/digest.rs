//! The weekly manager digest (SPEC §3.7): once a week, each manager with an email address
//! is sent the certifications of their direct reports that expire in the next 90 days or
//! are in grace, soonest first, with a link to each renewal page and to their team page.
//! Once per manager and week, even with several instances (the outbox key holds the
//! week); a week with nothing to say sends nothing.

use crate::notices::day_in_words;
use crate::{Result, Service};
use recert_domain::Date;
use recert_domain::dates::add_days;
use recert_domain::messages::Values;
use recert_store::notices::{self as store, DigestLine, NewMessage};
use std::sync::atomic::Ordering;

/// How far ahead the digest looks.
pub const HORIZON_DAYS: i64 = 90;

/// The Monday of the week `day` falls in.
pub fn week_of(day: Date) -> Date {
    add_days(day, -i64::from(day.weekday().to_monday_zero_offset()))
}

/// The shortcode values of one manager's digest.
fn digest_values(base: &str, lines: &[&DigestLine], today: Date) -> Values {
    let list: Vec<String> = lines
        .iter()
        .map(|l| {
            let when = if l.expires_on < today {
                format!(
                    "expired on {}; renewable until {}",
                    day_in_words(l.expires_on),
                    day_in_words(l.grace_ends_on)
                )
            } else {
                let days = (l.expires_on - today).get_days();
                format!(
                    "expires on {} (in {days} day{})",
                    day_in_words(l.expires_on),
                    if days == 1 { "" } else { "s" }
                )
            };
            format!(
                "- {}: {} ({}) {when}. Renewal page: {base}/renew/{}",
                l.legal_name, l.program_name, l.program_code, l.cert_id
            )
        })
        .collect();
    let mut v = Values::new();
    v.set("manager_name", lines[0].manager_name.clone())
        .set(
            "team_count",
            format!(
                "{} certification{}",
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            ),
        )
        .set("team_list", list.join("\n"))
        .set("team_link", format!("{base}/team"))
        .set("horizon_days", HORIZON_DAYS.to_string());
    v
}

impl Service {
    /// Queues this week's digests unless this instance already did this week. Answers
    /// how many were queued.
    pub async fn digest_pass(&self) -> Result<usize> {
        let mut conn = self.store.read().await?;
        let ctx = self.catalogue(&mut conn).await?;
        let today = self.latest_today(&ctx);
        let week = week_of(today);
        let key = (week - Date::new(2000, 1, 3).unwrap_or(week)).get_days() as i64;
        if self.digest_week.load(Ordering::Relaxed) == key {
            return Ok(0);
        }
        let lines = store::digest_lines(&mut conn, today, add_days(today, HORIZON_DAYS)).await?;
        let base = self.base_url();
        let mut messages = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let manager = lines[i].manager_id;
            let group: Vec<&DigestLine> = lines[i..]
                .iter()
                .take_while(|l| l.manager_id == manager)
                .collect();
            i += group.len();
            let rendered = self
                .compose_message(
                    &mut conn,
                    "digest.manager",
                    None,
                    &digest_values(base, &group, today),
                )
                .await?;
            messages.push(NewMessage {
                channel: "email",
                event: "digest.manager",
                award: None,
                dedupe_key: format!("digest:{manager}:{week}"),
                message: crate::notices::email_message(
                    (&group[0].manager_name, &group[0].manager_email),
                    Vec::new(),
                    rendered,
                    "digest.manager",
                    None,
                )
                .to_string(),
            });
        }
        drop(conn);
        let mut tx = self.store.begin_write().await?;
        let queued = store::enqueue(
            tx.conn(),
            self.store.backend(),
            &messages,
            self.real_now_ms(),
        )
        .await?;
        tx.commit().await?;
        self.digest_week.store(key, Ordering::Relaxed);
        Ok(queued as usize)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_week_starts_on_monday() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(week_of(d("2027-03-03")), d("2027-03-01")); // a Wednesday
        assert_eq!(week_of(d("2027-03-01")), d("2027-03-01"));
        assert_eq!(week_of(d("2027-03-07")), d("2027-03-01")); // Sunday
        assert_eq!(week_of(d("2027-03-08")), d("2027-03-08"));
    }
}
