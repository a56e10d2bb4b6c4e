//! `Idempotency-Key` (SPEC §7): a POST sent again with the same key and the same request
//! within 24 hours gets the first answer instead of doing the work twice — what a client
//! needs to retry safely after a timeout. The same key with a different request is refused.
//! Keys belong to the caller (its credentials), so two integrations cannot collide.

use crate::sessions::sha256_hex;
use crate::{Result, Service, ServiceError};
use recert_store::idempotency as store;
pub use recert_store::idempotency::Answer;

/// How long an answer is kept.
pub const KEEP_MS: i64 = 24 * 60 * 60 * 1000;
/// A claim with no answer after this long was left by a request that never finished (the
/// process stopped mid-way, its transaction rolled back): the next retry does the work.
pub const ABANDONED_AFTER_MS: i64 = 5 * 60 * 1000;
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Begin {
    /// First time: answer it, then [`Service::idempotency_keep`] the answer.
    Go,
    /// Seen before: give this answer again.
    Replay(Answer),
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still being answered.
    Busy,
}

/// What makes two requests the same request: the method, the path with its query, and
/// the body (hashed; a key's entry keeps only this).
pub fn fingerprint(method: &str, uri: &str, body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(method);
    h.update(b"\n");
    h.update(uri);
    h.update(b"\n");
    h.update(body);
    crate::sessions::hex(&h.finalize())
}

/// Checks a key: 1–255 visible ASCII characters.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty()
        || key.len() > MAX_KEY_LEN
        || !key.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
    {
        return Err(ServiceError::field(
            "Idempotency-Key",
            format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters (a UUID is usual)"),
        ));
    }
    Ok(())
}

impl Service {
    /// Looks a key up for the caller behind `credentials` (the Authorization header as
    /// sent) and the request's `fingerprint`; claims it when it is new.
    pub async fn idempotency_begin(
        &self,
        credentials: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Begin> {
        check_key(key)?;
        let caller = sha256_hex(credentials);
        let now = self.real_now_ms();
        let since = now - KEEP_MS;
        let mut conn = self.store.read().await?;
        let kept = store::find(&mut conn, &caller, key, since).await?;
        drop(conn);
        let abandoned = kept
            .as_ref()
            .is_some_and(|k| k.answer.is_none() && k.created_ms < now - ABANDONED_AFTER_MS);
        if let Some(kept) = kept.filter(|_| !abandoned) {
            return Ok(decide(kept, fingerprint));
        }
        let mut tx = self.store.begin_write().await?;
        if abandoned {
            store::release(tx.conn(), &caller, key).await?;
        }
        let claimed = store::claim(tx.conn(), &caller, key, fingerprint, now, since).await?;
        if claimed {
            tx.commit().await?;
            return Ok(Begin::Go);
        }
        // Claimed by a request that came in meanwhile.
        let kept = store::find(tx.conn(), &caller, key, since).await?;
        tx.commit().await?;
        Ok(kept.map_or(Begin::Busy, |k| decide(k, fingerprint)))
    }

    /// Keeps the answer to the request that claimed `key`.
    pub async fn idempotency_keep(
        &self,
        credentials: &str,
        key: &str,
        answer: &Answer,
    ) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        store::keep(tx.conn(), &sha256_hex(credentials), key, answer).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets a claimed key go without an answer (the server failed: a retry may do the work).
    pub async fn idempotency_release(&self, credentials: &str, key: &str) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        store::release(tx.conn(), &sha256_hex(credentials), key).await?;
        tx.commit().await?;
        Ok(())
    }
}

fn decide(kept: store::Kept, fingerprint: &str) -> Begin {
    if kept.fingerprint != fingerprint {
        return Begin::Mismatch;
    }
    match kept.answer {
        Some(a) => Begin::Replay(a),
        None => Begin::Busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(check_key("5f1c7d9e-1b2a-4c3d-9e8f-0a1b2c3d4e5f").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key("tab\there").is_err());
        assert!(check_key("é").is_err());
    }
}
