//! The sign-in throttle: failed password checks slow further attempts down, per account,
//! per client address and per account-and-address pair, each after a number of free
//! failures and then by a doubling wait up to a cap.
//!
//! It replaces a hard lockout, which told an attacker which usernames exist (only a real
//! account ever said "locked") and let anyone lock `admin` out with five requests. Names
//! that exist and names that do not are counted and answered alike. The account-wide
//! wait is capped at a minute, so people elsewhere cannot keep its owner out; guessing
//! from one address is slowed to a crawl by the pair and address waits.

use crate::{Result, Service};
use recert_store::throttle as store;
use std::net::IpAddr;

/// Failures counted together when less than this apart; an hour's quiet forgets them.
pub const WINDOW_MS: i64 = 60 * 60 * 1000;

/// How one kind of key slows attempts down.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Failures that cost nothing (typos).
    pub free: i64,
    /// The longest wait, in seconds.
    pub cap_s: i64,
}

/// One account from one address: someone guessing a password.
pub const PAIR: Rule = Rule {
    free: 3,
    cap_s: 15 * 60,
};
/// One address, any accounts: someone trying many names.
pub const ADDRESS: Rule = Rule {
    free: 20,
    cap_s: 15 * 60,
};
/// One account, any addresses: guessing spread over many addresses. Capped low so that
/// nobody can keep the account's owner out for long.
pub const ACCOUNT: Rule = Rule {
    free: 10,
    cap_s: 60,
};

impl Rule {
    /// Seconds to wait after `failures` failures: none while free, then 1, 2, 4… up to
    /// the cap.
    pub fn wait_s(self, failures: i64) -> i64 {
        let over = failures - self.free;
        if over <= 0 {
            return 0;
        }
        let doubled = 1i64
            .checked_shl((over - 1).min(30) as u32)
            .unwrap_or(i64::MAX);
        doubled.min(self.cap_s)
    }
}

/// The keys one attempt is counted under, each with its rule.
pub(crate) struct Keys {
    name: String,
    keys: Vec<(String, Rule)>,
}

impl Keys {
    /// An attempt to sign in as `username` from `from` (unknown for the command line).
    pub(crate) fn new(username: &str, from: Option<IpAddr>) -> Self {
        let name = username.trim().to_lowercase();
        let mut keys = vec![(format!("account:{name}"), ACCOUNT)];
        if let Some(ip) = from {
            keys.push((format!("pair:{name} {ip}"), PAIR));
            keys.push((format!("address:{ip}"), ADDRESS));
        }
        Self { name, keys }
    }

    fn names(&self) -> Vec<String> {
        self.keys.iter().map(|(k, _)| k.clone()).collect()
    }

    /// The keys a success clears: the account's, from this address and overall. The
    /// address's count stays: others behind the same address may be guessing.
    fn cleared_by_success(&self) -> Vec<String> {
        self.keys
            .iter()
            .filter(|(k, _)| !k.starts_with("address:"))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

impl Service {
    /// Seconds the attempt must still wait before a password is checked; 0 when it may go
    /// ahead.
    pub(crate) async fn sign_in_wait(&self, keys: &Keys) -> Result<i64> {
        let mut conn = self.store.read().await?;
        let until = store::wait_until(&mut conn, &keys.names()).await?;
        let left = until - self.real_now_ms();
        // Whole seconds, rounded up: "wait 0 seconds" would be a lie.
        Ok(if left > 0 { (left + 999) / 1000 } else { 0 })
    }

    /// Counts a failed password check under every key of the attempt, in the caller's
    /// write; answers the account's failures in this window.
    pub(crate) async fn sign_in_failed(
        &self,
        tx: &mut recert_store::WriteTx,
        keys: &Keys,
    ) -> Result<i64> {
        let now = self.real_now_ms();
        store::purge(tx.conn(), now - WINDOW_MS, now).await?;
        let mut account = 0;
        for (key, rule) in &keys.keys {
            let username = (!key.starts_with("address:")).then_some(keys.name.as_str());
            let failures = store::fail(tx.conn(), key, username, now, now - WINDOW_MS).await?;
            if key.starts_with("account:") {
                account = failures;
            }
            let wait = rule.wait_s(failures);
            if wait > 0 {
                store::hold(tx.conn(), key, now + wait * 1000).await?;
            }
        }
        Ok(account)
    }

    /// Forgets the attempt's failures after a success.
    pub(crate) async fn sign_in_succeeded(
        &self,
        tx: &mut recert_store::WriteTx,
        keys: &Keys,
    ) -> Result<()> {
        store::clear(tx.conn(), &keys.cleared_by_success()).await?;
        Ok(())
    }

    /// Forgets every failure counted against an account (an administrator's unlock).
    pub(crate) async fn sign_in_forgive(
        &self,
        tx: &mut recert_store::WriteTx,
        username: &str,
    ) -> Result<()> {
        store::clear_user(tx.conn(), &username.trim().to_lowercase()).await?;
        Ok(())
    }

    /// Whether sign-ins to this account are being held back now (shown on the accounts
    /// list, where an administrator can lift it).
    pub(crate) async fn sign_in_held(
        &self,
        conn: &mut recert_store::Conn,
        username: &str,
    ) -> Result<bool> {
        let key = format!("account:{}", username.trim().to_lowercase());
        Ok(store::wait_until(conn, &[key]).await? > self.real_now_ms())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_double_and_stop_at_the_cap() {
        let waits: Vec<i64> = (1..=8).map(|n| PAIR.wait_s(n)).collect();
        assert_eq!(waits, vec![0, 0, 0, 1, 2, 4, 8, 16]);
        assert_eq!(PAIR.wait_s(40), 15 * 60);
        assert_eq!(PAIR.wait_s(i64::MAX), 15 * 60);
        assert_eq!(ACCOUNT.wait_s(10), 0);
        assert_eq!(ACCOUNT.wait_s(11), 1);
        assert_eq!(ACCOUNT.wait_s(30), 60);
        assert_eq!(ADDRESS.wait_s(20), 0);
        assert_eq!(ADDRESS.wait_s(21), 1);
    }

    #[test]
    fn names_differing_in_case_share_their_keys() {
        let a = Keys::new(" Admin ", Some("10.0.0.1".parse().unwrap()));
        let b = Keys::new("admin", Some("10.0.0.1".parse().unwrap()));
        assert_eq!(a.names(), b.names());
        assert_eq!(a.cleared_by_success().len(), 2);
        assert_eq!(Keys::new("admin", None).names(), vec!["account:admin"]);
    }
}
