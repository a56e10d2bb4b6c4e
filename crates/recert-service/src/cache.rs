//! Results kept by what they were made from: a signed credential by its content and key,
//! a drawn certificate by its SVG and format. In memory, per instance, bounded: when full it
//! starts again empty (the entries are cheap to make again, and correct either way).

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
