//! Results kept by what they were made from: a signed credential by its content and key,
//! a drawn certificate by its SVG and format; a verification, a logo or a compliance trend
//! by the audit head it was read at. In memory, per instance, bounded: when full it starts again empty (the entries are
//! cheap to make again, and correct either way).

use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug)]
pub(crate) struct ContentCache<V> {
    entries: Mutex<HashMap<Vec<u8>, V>>,
    capacity: usize,
}

impl<V: Clone> ContentCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::default(),
            capacity,
        }
    }

    /// The key of `parts`: SHA-256 over each in turn.
    pub(crate) fn key(parts: &[&[u8]]) -> Vec<u8> {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p);
        }
        h.finalize().to_vec()
    }

    pub(crate) fn get(&self, key: &[u8]) -> Option<V> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn put(&self, key: Vec<u8>, value: V) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() >= self.capacity {
                e.clear();
            }
            e.insert(key, value);
        }
    }
}

/// Answers read from the database, kept with the audit head and time bucket they were read
/// at: one is served only while both are still current. Every change is audited, so a
/// moved head means something may have changed. Per instance, bounded like the others.
#[derive(Debug)]
pub(crate) struct HeadCache<V> {
    entries: Mutex<HashMap<String, (i64, i64, V)>>,
    capacity: usize,
}

impl<V: Clone> HeadCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::default(),
            capacity,
        }
    }

    pub(crate) fn get(&self, key: &str, head: i64, bucket: i64) -> Option<V> {
        let e = self.entries.lock().ok()?;
        match e.get(key) {
            Some((h, b, v)) if *h == head && *b == bucket => Some(v.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, key: String, head: i64, bucket: i64, value: V) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() >= self.capacity {
                e.clear();
            }
            e.insert(key, (head, bucket, value));
        }
    }
}

/// The audit head as last read from the database, and when: read again once it is older
/// than a second, so changes other instances make show here within that second.
#[derive(Debug, Default)]
pub(crate) struct HeadProbe(Mutex<Option<(std::time::Instant, i64)>>);

impl HeadProbe {
    pub(crate) fn fresh(&self, within: std::time::Duration) -> Option<i64> {
        match *self.0.lock().ok()? {
            Some((at, head)) if at.elapsed() < within => Some(head),
            _ => None,
        }
    }

    pub(crate) fn set(&self, head: i64) {
        if let Ok(mut p) = self.0.lock() {
            *p = Some((std::time::Instant::now(), head));
        }
    }
}
