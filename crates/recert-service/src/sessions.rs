//! Web sign-in: password check with the sign-in throttle, database-stored sessions (any instance can
//! serve any request), the CSRF token each session carries, sign-out and password change.

use crate::auth::{Principal, Role};
use crate::sign_in_throttle::Keys;
use crate::users::{check_password, hash_password, verify_password};
use crate::{Result, Service, ServiceError};
use recert_store::audit::NewEvent;
use recert_store::sessions as store;
use recert_store::users as user_store;
use sha2::{Digest, Sha256};

/// How long a session lasts from sign-in.
pub const SESSION_HOURS: i64 = 12;

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A record id that can stand in a URL without telling how many records there are or
/// letting one guess another's: random, positive, below 2^53 (exact in JSON numbers).
pub fn unguessable_id() -> Result<i64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(ServiceError::internal)?;
    Ok((u64::from_le_bytes(b) >> 11).max(1) as i64)
}

/// A random token of `n` bytes, hex-encoded.
pub fn random_token(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(ServiceError::internal)?;
    Ok(hex(&b))
}

/// The SHA-256 of a secret, as stored in place of the secret itself.
pub(crate) fn sha256_hex(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// An account's own event (signed in, signed out) in the audit trail.
async fn user_event(
    tx: &mut recert_store::WriteTx,
    at: jiff::Timestamp,
    username: &str,
    action: &str,
    from: Option<std::net::IpAddr>,
) -> Result<()> {
    tx.audit(NewEvent {
        at,
        actor: &format!("user:{username}"),
        action,
        subject_type: "user",
        subject_id: username,
        before: None,
        after: from.map(|a| serde_json::json!({ "address": a.to_string() })),
    })
    .await?;
    Ok(())
}

/// Why a sign-in failed, worded for the person at the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefused {
    /// Unknown user or wrong password: deliberately the same message.
    BadCredentials,
    /// Too many failed attempts (for this name, from this address, or both): the password
    /// is not checked for this many more seconds. Said alike for every name.
    Throttled { wait_s: i64 },
    /// The right password for a disabled account.
    Disabled,
}

impl LoginRefused {
    pub fn message(&self) -> String {
        match self {
            Self::BadCredentials => "Wrong username or password.".into(),
            Self::Throttled { wait_s } => format!(
                "Too many failed sign-ins. Wait {} and try again, or ask an administrator to reset your password.",
                seconds_in_words(*wait_s)
            ),
            Self::Disabled => "This account is disabled. Ask an administrator.".into(),
        }
    }
}

/// "1 second", "45 seconds", "3 minutes".
fn seconds_in_words(s: i64) -> String {
    match s {
        1 => "1 second".into(),
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", (s + 59) / 60),
    }
}

/// A signed-in session: who, and the CSRF token every form must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub username: String,
    /// The linked learner's username, when the account is a learner.
    pub learner: Option<String>,
    pub csrf: String,
}

impl Service {
    /// Checks a username and password from a client at `from` (the address the
    /// throttle counts; `None` when unknown); on success opens a session and returns its
    /// cookie value (shown only now; stored hashed).
    ///
    /// Every refusal reads the same whether the name exists or not: the throttle counts
    /// unknown names too, and a disabled account says so only to its right password.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        from: Option<std::net::IpAddr>,
    ) -> Result<std::result::Result<String, LoginRefused>> {
        let now = self.real_now_ms();
        let keys = Keys::new(username, from);
        let wait_s = self.sign_in_wait(&keys).await?;
        if wait_s > 0 {
            return Ok(Err(LoginRefused::Throttled { wait_s }));
        }
        let mut conn = self.store.read().await?;
        let user = user_store::by_username(&mut conn, username.trim()).await?;
        drop(conn);
        let ok = match &user {
            Some(u) => verify_password(password.to_owned(), u.password_hash.clone()).await?,
            None => {
                // Spend the same Argon2 work as a real check, so timing does not reveal
                // which usernames exist.
                hash_password(password.to_owned()).await?;
                false
            }
        };
        let mut tx = self.store.begin_write().await?;
        let user = match user {
            Some(u) if ok => u,
            user => {
                let failures = self.sign_in_failed(&mut tx, &keys).await?;
                if let Some(u) = &user {
                    tx.audit(NewEvent {
                        at: self.now(),
                        actor: &format!("user:{}", u.username),
                        action: "user.login_failed",
                        subject_type: "user",
                        subject_id: &u.username,
                        before: None,
                        after: Some(serde_json::json!({
                            "failed_logins": failures,
                            "address": from.map(|a| a.to_string()),
                        })),
                    })
                    .await?;
                }
                tx.commit().await?;
                return Ok(Err(LoginRefused::BadCredentials));
            }
        };
        if user.disabled {
            tx.commit().await?;
            return Ok(Err(LoginRefused::Disabled));
        }
        self.sign_in_succeeded(&mut tx, &keys).await?;
        let token = random_token(32)?;
        let csrf = random_token(16)?;
        store::insert(
            tx.conn(),
            &sha256_hex(&token),
            user.id,
            &csrf,
            now,
            now + SESSION_HOURS * 3_600_000,
        )
        .await?;
        store::purge_expired(tx.conn(), now).await?;
        user_event(&mut tx, self.now(), &user.username, "user.signed_in", from).await?;
        tx.commit().await?;
        Ok(Ok(token))
    }

    /// The session a cookie value stands for; expired, unknown and disabled ones stand for
    /// no one.
    pub async fn session(&self, token: &str) -> Result<Session> {
        let mut conn = self.store.read().await?;
        let s = store::by_hash(&mut conn, &sha256_hex(token), self.real_now_ms())
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        let user = user_store::by_id(&mut conn, s.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(ServiceError::Unauthenticated)?;
        let role = Role::parse(&user.role).ok_or_else(|| {
            ServiceError::internal(format!("user {} has an unknown role", user.id))
        })?;
        let principal = self
            .principal_of(&mut conn, &user, role, format!("user:{}", user.username))
            .await?;
        Ok(Session {
            principal,
            username: user.username,
            learner: user.learner,
            csrf: s.csrf,
        })
    }

    /// Ends the session behind a cookie value. A write like any other: it queues behind
    /// other writers instead of failing under load, so signing out always signs out.
    pub async fn logout(&self, token: &str) -> Result<()> {
        let hash = sha256_hex(token);
        let mut conn = self.store.read().await?;
        let user = match store::by_hash(&mut conn, &hash, self.real_now_ms()).await? {
            Some(s) => user_store::by_id(&mut conn, s.user_id).await?,
            None => None,
        };
        drop(conn);
        let mut tx = self.store.begin_write().await?;
        store::delete(tx.conn(), &hash).await?;
        if let Some(user) = user {
            user_event(&mut tx, self.now(), &user.username, "user.signed_out", None).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Changes the signed-in user's password after checking the current one; other
    /// sessions of the account are ended.
    pub async fn change_password(
        &self,
        session_token: &str,
        current: &str,
        new: &str,
        repeat: &str,
        from: Option<std::net::IpAddr>,
    ) -> Result<()> {
        let session = self.session(session_token).await?;
        let mut conn = self.store.read().await?;
        let user = user_store::by_username(&mut conn, &session.username)
            .await?
            .ok_or(ServiceError::Unauthenticated)?;
        drop(conn);
        // Someone at an unlocked screen must not be able to guess the password faster here
        // than at the sign-in form: the same throttle counts both.
        let keys = Keys::new(&user.username, from);
        let wait_s = self.sign_in_wait(&keys).await?;
        if wait_s > 0 {
            return Err(ServiceError::field(
                "current_password",
                LoginRefused::Throttled { wait_s }.message(),
            ));
        }
        if !verify_password(current.to_owned(), user.password_hash.clone()).await? {
            let mut tx = self.store.begin_write().await?;
            self.sign_in_failed(&mut tx, &keys).await?;
            tx.commit().await?;
            return Err(ServiceError::field(
                "current_password",
                "is not your current password",
            ));
        }
        check_password("new_password", new, &user.username)?;
        if new != repeat {
            return Err(ServiceError::field(
                "repeat_password",
                "does not match the new password",
            ));
        }
        let hashed = hash_password(new.to_owned()).await?;
        let mut tx = self.store.begin_write().await?;
        user_store::set_password(tx.conn(), user.id, &hashed, self.now_ms()).await?;
        self.sign_in_forgive(&mut tx, &user.username).await?;
        store::delete_for_user(tx.conn(), user.id, Some(&sha256_hex(session_token))).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &session.principal.name,
            action: "user.password_changed",
            subject_type: "user",
            subject_id: &user.username,
            before: None,
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
