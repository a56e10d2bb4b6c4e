//! Who is looking at a page: the session cookie, and the small per-address limiter that
//! slows password guessing before the sign-in throttle in the database does.

use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use recert_service::sessions::Session;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const SESSION_COOKIE: &str = "recert_session";
/// The pre-session CSRF cookie of the sign-in and first-run forms (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "recert_login_csrf";

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (Strict would drop the session when a
/// learner follows a link from an e-mail), Secure whenever recert is served over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let v = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Adds a cookie to a response.
pub fn with_cookie(mut res: Response, cookie: HeaderValue) -> Response {
    res.headers_mut().append(SET_COOKIE, cookie);
    res
}

/// The signed-in viewer of a page. Pages that need one redirect to the sign-in page
/// without it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub session: Session,
    /// The cookie value (needed to sign out or change the password).
    pub token: String,
    /// On an instance running on the test clock, the instant it takes as now (RFC 3339):
    /// every page says so in a banner.
    pub test_clock: Option<String>,
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .filter(|p| p.starts_with('/') && !p.starts_with("//"))
                .unwrap_or("/");
            let target = format!("/login?next={}", urlencode(next));
            let mut res = Redirect::to(&target).into_response();
            // htmx follows this header instead of swapping the login page into a fragment.
            if let Ok(v) = HeaderValue::from_str(&target) {
                res.headers_mut().insert("HX-Redirect", v);
            }
            res
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.service.session(&token).await {
            Ok(session) => Ok(Self {
                session,
                token,
                test_clock: state
                    .service
                    .on_test_clock()
                    .then(|| state.service.now().to_string()),
            }),
            Err(recert_service::ServiceError::Unauthenticated) => Err(to_login()),
            Err(e) => Err(super::PageError(e).into_response()),
        }
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sign-in attempts per minute for one account from one address before the form answers
/// "slow down".
pub const ATTEMPTS_PER_MINUTE: u32 = 10;

/// Sign-in attempts per minute from one address, all accounts together: high enough for a
/// plant where everyone signs in through one address at shift start, low enough to slow a
/// password sprayer.
pub const ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 300;

/// Fixed-window counters of sign-in attempts, in memory (per instance; the sign-in
/// throttle in the database holds across instances): per account and address, and per
/// address.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    pairs: Mutex<HashMap<(IpAddr, String), (Instant, u32)>>,
    addresses: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

/// Counts one attempt under `key`; whether it is within `allowance` for this minute.
fn count<K: std::hash::Hash + Eq>(
    windows: &Mutex<HashMap<K, (Instant, u32)>>,
    key: K,
    allowance: u32,
) -> bool {
    let now = Instant::now();
    let Ok(mut w) = windows.lock() else {
        return true;
    };
    if w.len() > 10_000 {
        w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
    }
    let entry = w.entry(key).or_insert((now, 0));
    if now.duration_since(entry.0) >= Duration::from_secs(60) {
        *entry = (now, 0);
    }
    entry.1 = entry.1.saturating_add(1);
    entry.1 <= allowance
}

/// Requests per minute from one address to a public route (verification): generous for
/// people and for a verifier checking a batch, a brake on enumerating IDs.
pub const VERIFICATIONS_PER_ADDRESS_PER_MINUTE: u32 = 120;

/// A fixed-window counter of requests per address, in memory (per instance).
#[derive(Debug)]
pub struct AddressLimiter {
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    per_minute: u32,
}

impl AddressLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            windows: Mutex::default(),
            per_minute,
        }
    }

    /// Counts a request from `ip`; `false` when the address has used up its minute.
    pub fn allow(&self, ip: IpAddr) -> bool {
        count(&self.windows, ip, self.per_minute)
    }
}

impl LoginLimiter {
    /// Counts an attempt to sign in as `username` from `ip`; `false` when that account has
    /// used up its minute from that address, or the address its minute in all.
    pub fn allow(&self, ip: IpAddr, username: &str) -> bool {
        let pair = count(
            &self.pairs,
            (ip, username.trim().to_lowercase()),
            ATTEMPTS_PER_MINUTE,
        );
        let address = count(&self.addresses, ip, ATTEMPTS_PER_ADDRESS_PER_MINUTE);
        pair && address
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limiter_refuses_after_the_minutes_allowance() {
        let l = LoginLimiter::default();
        let ip: IpAddr = [10, 0, 0, 1].into();
        for _ in 0..ATTEMPTS_PER_MINUTE {
            assert!(l.allow(ip, "ana"));
        }
        assert!(!l.allow(ip, "ana"));
        assert!(!l.allow(ip, " ANA "), "the same account, however typed");
        assert!(l.allow([10, 0, 0, 2].into(), "ana"));
    }

    #[test]
    fn a_shared_address_does_not_lock_out_a_plant() {
        let l = LoginLimiter::default();
        let ip: IpAddr = [10, 0, 0, 9].into();
        // 200 workers signing in at shift start through one address, a typo or two each.
        for worker in 0..200 {
            for _ in 0..1 + worker % 2 {
                assert!(l.allow(ip, &format!("worker{worker}")), "worker{worker}");
            }
        }
        // A sprayer trying many accounts from one address hits the address ceiling.
        let refused = (0..ATTEMPTS_PER_ADDRESS_PER_MINUTE)
            .filter(|i| !l.allow(ip, &format!("spray{i}")))
            .count();
        assert!(refused > 0);
    }

    #[test]
    fn cookie_is_found_among_several() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; recert_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
