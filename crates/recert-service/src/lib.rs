//! recert's use cases. Each write is one transaction holding the change and its audit
//! event; time comes from a [`Clock`] so tests move it without sleeping.

pub mod audit_log;
pub mod auth;
pub mod award_batches;
pub mod award_mail;
pub mod awards;
pub mod backfill;
mod cache;
pub mod clock;
pub mod completions;
pub mod credentials;
pub mod credits;
pub mod demo;
pub mod digest;
pub mod error;
pub mod exports;
pub mod external;
pub mod group_awards;
pub mod groups;
pub mod history;
pub mod idempotency;
pub mod imports;
pub mod learners;
pub mod listing;
pub mod logos;
pub mod mail;
pub mod message_templates;
pub mod notices;
pub mod outbox;
pub mod page;
pub mod programs;
pub mod reapply;
pub mod renewal_guide;
pub mod renewals;
pub mod reports;
pub mod sessions;
pub mod sign_in_throttle;
pub mod signoffs;
pub mod test_clock;
pub mod tokens;
pub mod users;
pub mod webhook_post;
pub mod webhooks;
pub mod xapi;

pub use auth::{Principal, Role};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ServiceError;
pub use recert_store::audit::Event as AuditEvent;
pub use recert_store::{Backend, Store};

use recert_domain::organization::{self, DEFAULT_CODE};
use recert_domain::{Date, Organization};
use recert_store::audit::NewEvent;
use std::sync::Arc;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Everything a use case needs: the store, the clock, and the public base URL that
/// verification links start with.
#[derive(Clone)]
pub struct Service {
    pub store: Store,
    clock: Arc<dyn Clock>,
    /// The clock sessions and the sign-in throttle run on: the same as `clock`, except on the test
    /// clock, where moving time must not sign everyone out or lift a sign-in wait.
    real_clock: Arc<dyn Clock>,
    base_url: String,
    /// The programs and organizations as last read, with the version they were read at.
    catalogue: Arc<std::sync::Mutex<Option<Catalogue>>>,
    /// Compliance trends by report scope, with the audit head and day they were computed
    /// at (see [`Service::compliance_trend`]).
    trends: Arc<cache::HeadCache<reports::Trend>>,
    /// Seals and opens the organizations' signing keys (see [`Service::with_kek`]).
    kek: Option<Arc<recert_credentials::Kek>>,
    /// Signed credentials by what they say and the key that signed them.
    signed: Arc<cache::ContentCache<serde_json::Value>>,
    /// Whether a signed credential checks against its published key (see `verify_public`).
    checked: Arc<cache::ContentCache<bool>>,
    /// Certificate documents drawn, by what they show and their format (about 60 KB each).
    drawn: Arc<cache::ContentCache<Vec<u8>>>,
    /// Public verifications by certificate ID (see [`Service::verify_public`]).
    verifications: Arc<cache::HeadCache<credentials::Verification>>,
    /// The audit head as last read (see [`Service::current_head`]).
    head_probe: Arc<cache::HeadProbe>,
    /// Organizations' logos by organization id (see `Service::cached_logo`).
    logos: Arc<cache::HeadCache<Option<Arc<logos::CachedLogo>>>>,
    /// The test clock, on an instance that runs on one (see [`Service::with_test_clock`]).
    test_clock: Option<Arc<ManualClock>>,
    /// Delivers email, when a mail server is configured (see [`Service::with_mailer`]).
    mailer: Option<Arc<mail::Mailer>>,
    /// Wakes the scheduler loop before its interval (see [`Service::wake_scheduler`]).
    scheduler_wake: Arc<tokio::sync::Notify>,
    /// Wakes the import runner when a job is queued (see [`Service::imports_woken`]).
    imports_wake: Arc<tokio::sync::Notify>,
    /// Rows an import writes per transaction (see [`Service::with_import_batch_rows`]).
    import_batch_rows: usize,
    /// The week (days since 2000-01-03) whose manager digests this instance last queued.
    digest_week: Arc<std::sync::atomic::AtomicI64>,
    /// The message templates written, by the audit head they were read at.
    templates: Arc<cache::HeadCache<Arc<Vec<recert_store::templates::Stored>>>>,
}

/// An in-memory copy of the catalogue: listings need every program's name, organization
/// and archive day for each row, and reading them costs more than the page itself.
struct Catalogue {
    version: (i64, i64, i64),
    ctx: Arc<awards::Context>,
}

impl Service {
    pub fn new(store: Store, clock: Arc<dyn Clock>, base_url: impl Into<String>) -> Self {
        Self {
            store,
            real_clock: clock.clone(),
            clock,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            catalogue: Arc::default(),
            // A handful of report scopes in practice.
            trends: Arc::new(cache::HeadCache::new(256)),
            kek: None,
            signed: Arc::new(cache::ContentCache::new(20_000)),
            checked: Arc::new(cache::ContentCache::new(20_000)),
            drawn: Arc::new(cache::ContentCache::new(2_000)),
            verifications: Arc::new(cache::HeadCache::new(50_000)),
            head_probe: Arc::default(),
            logos: Arc::new(cache::HeadCache::new(1_000)),
            test_clock: None,
            mailer: None,
            scheduler_wake: Arc::default(),
            imports_wake: Arc::default(),
            import_batch_rows: imports::DEFAULT_BATCH_ROWS,
            digest_week: Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
            templates: Arc::new(cache::HeadCache::new(1)),
        }
    }

    /// The audit head: what this process last committed, or what any instance did as read
    /// from the database at most a second ago — whichever is newer.
    pub(crate) async fn current_head(&self) -> Result<i64> {
        if let Some(h) = self.recent_head() {
            return Ok(h);
        }
        let mut conn = self.store.read().await?;
        self.current_head_on(&mut conn).await
    }

    /// [`Service::current_head`] reading, when it must, on a connection the caller holds
    /// (taking a second one while holding one starves the pool under load).
    pub(crate) async fn current_head_on(&self, conn: &mut recert_store::Conn) -> Result<i64> {
        if let Some(h) = self.recent_head() {
            return Ok(h);
        }
        let read = recert_store::audit::head_seq(conn).await?;
        self.head_probe.set(read);
        Ok(self.store.committed_head().max(read))
    }

    fn recent_head(&self) -> Option<i64> {
        let read = self.head_probe.fresh(std::time::Duration::from_secs(1))?;
        Some(self.store.committed_head().max(read))
    }

    pub fn now(&self) -> recert_domain::Timestamp {
        self.clock.now()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now().as_millisecond()
    }

    /// Now by the real clock even on the test clock (see `real_clock`).
    pub(crate) fn real_now_ms(&self) -> i64 {
        self.real_clock.now().as_millisecond()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Migrates the database and makes sure the default organization exists (SPEC §9: a
    /// fresh installation has one organization, code `default`).
    pub async fn prepare(&self, org_name: &str, time_zone: &str) -> Result<()> {
        self.store.migrate().await?;
        let mut tx = self.store.begin_write().await?;
        recert_store::learners::fill_mbox_sha1(tx.conn()).await?;
        self.index_old_statements(&mut tx).await?;
        if recert_store::organizations::list(tx.conn())
            .await?
            .is_empty()
        {
            let tz = recert_domain::names::parse_time_zone("time_zone", time_zone)?;
            let org = Organization {
                code: DEFAULT_CODE.to_owned(),
                name: org_name.to_owned(),
                url: None,
                time_zone: tz,
            };
            recert_store::organizations::insert(tx.conn(), &org, self.now_ms()).await?;
            tx.audit(NewEvent {
                at: self.now(),
                actor: "system",
                action: "organization.created",
                subject_type: "organization",
                subject_id: DEFAULT_CODE,
                before: None,
                after: Some(serde_json::to_value(&org).map_err(ServiceError::internal)?),
            })
            .await?;
        }
        tx.commit().await?;
        if self.kek.is_some() {
            self.ensure_signing_keys().await?;
        }
        Ok(())
    }

    /// Today in the given organization's time zone: the day statuses are judged on.
    pub fn today_in(&self, org: &Organization) -> Date {
        recert_domain::dates::day_in_zone(self.now(), &organization::zone(&org.time_zone))
    }

    /// The latest "today" of any organization (UTC's when there is none): what a
    /// scheduler pass looks up to, each award then judged on its own organization's day.
    pub(crate) fn latest_today(&self, ctx: &awards::Context) -> Date {
        ctx.orgs
            .iter()
            .map(|(_, o)| self.today_in(o))
            .max()
            .unwrap_or_else(|| {
                recert_domain::dates::day_in_zone(self.now(), &jiff::tz::TimeZone::UTC)
            })
    }

    /// Every program and organization, from memory when one small query says nothing
    /// changed since they were read (on this instance or any other on the database).
    pub(crate) async fn catalogue(
        &self,
        conn: &mut recert_store::Conn,
    ) -> Result<Arc<awards::Context>> {
        let version = recert_store::programs::catalogue_version(conn).await?;
        if let Ok(guard) = self.catalogue.lock()
            && let Some(c) = guard.as_ref()
            && c.version == version
        {
            return Ok(c.ctx.clone());
        }
        let ctx = Arc::new(awards::Context::load(conn).await?);
        // Read after the version: a change in between shows as a new version next time.
        if let Ok(mut guard) = self.catalogue.lock() {
            *guard = Some(Catalogue {
                version,
                ctx: ctx.clone(),
            });
        }
        Ok(ctx)
    }

    /// Organizations by code, with their row ids (few; read per operation).
    pub(crate) async fn organizations(
        &self,
        conn: &mut recert_store::Conn,
    ) -> Result<Vec<(i64, Organization)>> {
        Ok(recert_store::organizations::list(conn).await?)
    }

    /// Every organization (issuer), in creation order.
    pub async fn list_organizations(&self, who: &Principal) -> Result<Vec<Organization>> {
        who.require(auth::Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        Ok(self
            .organizations(&mut conn)
            .await?
            .into_iter()
            .map(|(_, o)| o)
            .collect())
    }

    pub(crate) fn verify_url(&self, id: &recert_domain::CertificateId) -> String {
        format!("{}/verify/{}", self.base_url, id)
    }
}

/// A stored instant (epoch milliseconds) as a timestamp; a value out of range is a fault.
pub(crate) fn instant(ms: i64) -> Result<recert_domain::Timestamp> {
    recert_domain::Timestamp::from_millisecond(ms).map_err(ServiceError::internal)
}

/// Serializes a value for the audit trail.
pub(crate) fn snapshot<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(ServiceError::internal)
}
