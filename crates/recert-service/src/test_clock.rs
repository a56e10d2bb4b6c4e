//! The test clock (SPEC §9): an instance started with `--test-clock` takes "now" from the
//! database instead of the system clock, so a person can walk the demo through a year and
//! watch reminders, expiries and lapses happen, and a test can do the same without waiting.
//! `recert clock set` moves it from the command line; the API and the banner form move it
//! on such an instance only. Every move is audited.

use crate::{ManualClock, Principal, Result, Service, ServiceError};
use recert_domain::Timestamp;
use recert_domain::organization::{self, DEFAULT_CODE};
use recert_store::audit::NewEvent;
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

/// The clock as an instance sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TestClockView {
    /// The instant this instance takes as now (RFC 3339, UTC).
    pub now: String,
    /// Whether this instance runs on the test clock (`recert serve --test-clock`).
    pub test_clock: bool,
}

impl Service {
    /// This service on the test clock: "now" is the stored value (read by
    /// [`Service::refresh_test_clock`]; until one is read, the system's), standing still
    /// until moved. Sessions and lockouts keep
    /// the clock it had: moving time signs no one out.
    pub fn with_test_clock(mut self) -> Self {
        let clock = Arc::new(ManualClock::new(Timestamp::now()));
        self.clock = clock.clone();
        self.test_clock = Some(clock);
        self
    }

    pub fn on_test_clock(&self) -> bool {
        self.test_clock.is_some()
    }

    /// Reads the stored test clock again (another instance, or `recert clock set`, may
    /// have moved it). Nothing on an instance without one.
    pub async fn refresh_test_clock(&self) -> Result<()> {
        if let Some(clock) = &self.test_clock {
            let mut conn = self.store.read().await?;
            if let Some(at) = recert_store::test_clock::get(&mut conn)
                .await?
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            {
                clock.set(at);
            }
        }
        Ok(())
    }

    /// The instant this instance takes as now, and whether it is the test clock's.
    /// Administrators only (pages show everyone the banner, which says as much).
    pub fn test_clock(&self, who: &Principal) -> Result<TestClockView> {
        who.require(crate::auth::Action::Administer)?;
        Ok(TestClockView {
            now: self.now().to_string(),
            test_clock: self.on_test_clock(),
        })
    }

    /// Moves this instance's test clock to `value`: an RFC 3339 instant, or a date
    /// (`YYYY-MM-DD`, meaning 09:00 in the default organization's time zone). Refused on an
    /// instance that does not run one: there the stored value means nothing.
    /// Administrators only.
    pub async fn move_test_clock(&self, who: &Principal, value: &str) -> Result<TestClockView> {
        who.require(crate::auth::Action::Administer)?;
        if !self.on_test_clock() {
            return Err(ServiceError::Conflict(
                "this instance runs on the real clock; start it with `recert serve --test-clock` to move time".into(),
            ));
        }
        self.set_test_clock(who, value).await
    }

    /// Stores the test clock (`recert clock set`): every instance started with
    /// `--test-clock` on this database takes it as now within a second. Audited.
    /// Administrators only.
    pub async fn set_test_clock(&self, who: &Principal, value: &str) -> Result<TestClockView> {
        who.require(crate::auth::Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        let at = match value.trim() {
            v if v.len() == 10 => {
                let day = recert_domain::names::parse_date("now", v)?;
                let (_, org) = recert_store::organizations::by_code(tx.conn(), DEFAULT_CODE)
                    .await?
                    .ok_or_else(|| ServiceError::not_found("organization", DEFAULT_CODE))?;
                day.at(9, 0, 0, 0)
                    .to_zoned(organization::zone(&org.time_zone))
                    .map(|z| z.timestamp())
                    .map_err(|e| ServiceError::field("now", e.to_string()))?
            }
            v => v.parse::<Timestamp>().map_err(|_| {
                ServiceError::field(
                    "now",
                    format!("{v:?} is neither a date (2027-10-12) nor an instant with its offset (2027-10-12T09:00:00Z)"),
                )
            })?,
        };
        let before = recert_store::test_clock::get(tx.conn()).await?;
        let real = Timestamp::now().as_millisecond();
        recert_store::test_clock::set(tx.conn(), at.as_millisecond(), real).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "test_clock.set",
            subject_type: "test_clock",
            subject_id: "test_clock",
            before: before
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .map(|t| json!({"now": t.to_string()})),
            after: Some(json!({"now": at.to_string()})),
        })
        .await?;
        tx.commit().await?;
        if let Some(clock) = &self.test_clock {
            clock.set(at);
            // Notices due on the new day go out now, not at the next interval.
            self.wake_scheduler();
        }
        Ok(TestClockView {
            now: at.to_string(),
            test_clock: self.on_test_clock(),
        })
    }
}

/// A request to move the test clock.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestClockDraft {
    /// An RFC 3339 instant (`2027-10-12T09:00:00Z`), or a date (`2027-10-12`: 09:00 in the
    /// default organization's time zone).
    pub now: String,
}
