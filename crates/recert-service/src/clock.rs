//! Where "now" comes from.

use recert_domain::Timestamp;
use std::sync::Mutex;

/// The source of the current instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock tests set by hand.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        if let Ok(mut t) = self.0.lock() {
            *t = at;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

/// The test clock (`recert serve --test-clock`): "now" is a value kept in the database, so
/// every instance on it agrees, and it stands still until someone moves it — a person
/// walking the demo through a year, or a test, sees exactly the day they chose. This holds
/// the value as last read or set here; [`crate::Service::refresh_test_clock`] reads it
/// again (the server does every second, and the scheduler before each pass).
#[derive(Debug)]
pub struct StoredClock(std::sync::atomic::AtomicI64);

impl StoredClock {
    /// Until a value is read, the system clock's.
    pub fn new() -> Self {
        Self(std::sync::atomic::AtomicI64::new(
            Timestamp::now().as_millisecond(),
        ))
    }

    pub fn set_ms(&self, ms: i64) {
        self.0.store(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for StoredClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for StoredClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(self.0.load(std::sync::atomic::Ordering::Relaxed))
            .unwrap_or_else(|_| Timestamp::now())
    }
}
