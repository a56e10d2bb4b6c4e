//! Accounts (SPEC §6): creating users, the first-run admin, passwords, and the principal a
//! user acts as. Sign-in and sessions live in `sessions.rs`.

use crate::auth::{Action, Principal, Role};
use crate::{Result, Service, ServiceError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use recert_domain::error::Errors;
use recert_domain::names::Username;
use recert_store::audit::NewEvent;
use recert_store::users::{self as store, NewUser, UserRecord};
use recert_store::{Conn, learners as learner_store, programs as program_store};
use serde::{Deserialize, Serialize};

/// Shortest and longest passwords accepted (NIST SP 800-63B: length, not composition).
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 256;

/// A request to create an account.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserDraft {
    pub username: Option<String>,
    pub password: Option<String>,
    /// admin | program_manager | auditor | supervisor | learner
    pub role: Option<String>,
    /// The learner record this person is (required for supervisors and learners).
    pub learner: Option<String>,
    /// Program codes a program manager runs.
    #[serde(default)]
    pub programs: Vec<String>,
}

/// An account as shown to admins (never the password hash).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub username: String,
    pub role: Role,
    pub learner: Option<String>,
    pub programs: Vec<String>,
    /// Sign-ins to it are being held back after failed attempts (an unlock lifts it).
    pub locked: bool,
    pub disabled: bool,
    pub created_at: String,
}

/// Hashes a password with Argon2id (OWASP parameters) off the async runtime: ~30 ms of
/// CPU would otherwise stall every request sharing the worker thread.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(ServiceError::internal)
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Checks a password against a stored hash, off the async runtime.
pub async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok()
    })
    .await
    .map_err(ServiceError::internal)
}

/// Checks a new password; `field` names the form field for the message.
pub fn check_password(field: &str, password: &str, username: &str) -> Result<()> {
    let n = password.chars().count();
    if n < PASSWORD_MIN {
        return Err(ServiceError::field(
            field,
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(ServiceError::field(
            field,
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ServiceError::field(field, "must not be the username"));
    }
    Ok(())
}

/// A random password of 16 characters from an alphabet without look-alikes.
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(ServiceError::internal)?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

fn millis_to_rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl Service {
    /// The principal an account acts as, with its scope loaded.
    pub(crate) async fn principal_of(
        &self,
        conn: &mut Conn,
        u: &UserRecord,
        role: Role,
        name: String,
    ) -> Result<Principal> {
        let programs = if role == Role::ProgramManager {
            store::programs(conn, u.id).await?
        } else {
            Vec::new()
        };
        Ok(Principal {
            name,
            role,
            user_id: Some(u.id),
            learner_id: u.learner_id,
            programs,
        })
    }

    async fn view_user(&self, conn: &mut Conn, u: UserRecord) -> Result<UserView> {
        let programs = store::program_codes(conn, u.id).await?;
        let held = self.sign_in_held(conn, &u.username).await?;
        self.user_view(u, programs, held)
    }

    fn user_view(&self, u: UserRecord, programs: Vec<String>, held: bool) -> Result<UserView> {
        Ok(UserView {
            role: Role::parse(&u.role).ok_or_else(|| {
                ServiceError::internal(format!("user {} has an unknown role", u.id))
            })?,
            locked: held,
            disabled: u.disabled,
            created_at: millis_to_rfc3339(u.created_at_ms),
            learner: u.learner,
            username: u.username,
            programs,
        })
    }

    /// Creates an account (admins only, or the system at first run).
    pub async fn create_user(&self, who: &Principal, draft: UserDraft) -> Result<UserView> {
        who.require(Action::Administer)?;
        let mut e = Errors::new();
        let username = match draft.username.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => e.check(Username::parse("username", u)),
            _ => {
                e.add("username", "is required");
                None
            }
        };
        let password = draft.password.unwrap_or_default();
        if let Some(u) = &username
            && let Err(ServiceError::Validation(d)) =
                check_password("password", &password, u.as_str())
        {
            e.check::<()>(Err(d));
        }
        let role = match draft.role.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => match Role::parse_field("role", r) {
                Ok(role) => Some(role),
                Err(ServiceError::Validation(d)) => {
                    e.check::<()>(Err(d));
                    None
                }
                Err(other) => return Err(other),
            },
            None => {
                e.add("role", "is required");
                None
            }
        };
        // Checked, read and hashed before the write lock: Argon2 takes ~30 ms of CPU that
        // other writers must not wait for.
        let mut conn = self.store.read().await?;
        let learner_id = match draft
            .learner
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(l) => match learner_store::id_of(&mut conn, l).await? {
                Some(id) => Some(id),
                None => {
                    e.add("learner", format!("no learner with username {l:?}"));
                    None
                }
            },
            None => {
                if role.is_some_and(Role::needs_learner) {
                    e.add(
                        "learner",
                        "is required for supervisors and learners: name the learner record this person is",
                    );
                }
                None
            }
        };
        let mut program_ids = Vec::new();
        for (i, code) in draft.programs.iter().enumerate() {
            let code = code.trim();
            if code.is_empty() {
                continue;
            }
            match program_store::by_code(&mut conn, code).await? {
                Some((id, _)) => program_ids.push(id),
                None => e.add(
                    format!("programs[{i}]"),
                    format!("no program with code {code:?}"),
                ),
            }
        }
        if role == Some(Role::ProgramManager) && program_ids.is_empty() {
            e.add(
                "programs",
                "name at least one program this program manager runs",
            );
        }
        if role.is_some_and(|r| r != Role::ProgramManager) && !program_ids.is_empty() {
            e.add("programs", "only program managers are scoped to programs");
        }
        e.finish()?;
        let (Some(username), Some(role)) = (username, role) else {
            return Err(ServiceError::field("username", "is required"));
        };
        let taken = |u: &str| {
            ServiceError::Conflict(format!("an account with username {u:?} already exists"))
        };
        if store::by_username(&mut conn, username.as_str())
            .await?
            .is_some()
        {
            return Err(taken(username.as_str()));
        }
        drop(conn);
        let hash = hash_password(password).await?;
        let mut tx = self.store.begin_write().await?;
        // Someone may have taken the name while the password was hashed.
        if store::by_username(tx.conn(), username.as_str())
            .await?
            .is_some()
        {
            return Err(taken(username.as_str()));
        }
        let id = store::insert(
            tx.conn(),
            &NewUser {
                username: username.as_str(),
                password_hash: &hash,
                role: role.as_str(),
                learner_id,
            },
            self.now_ms(),
        )
        .await?;
        store::set_programs(tx.conn(), id, &program_ids).await?;
        let record = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::internal("account vanished"))?;
        let view = self.view_user(tx.conn(), record).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "user.created",
            subject_type: "user",
            subject_id: username.as_str(),
            before: None,
            after: Some(crate::snapshot(&view)?),
        })
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Every account, by username.
    pub async fn users(&self, who: &Principal) -> Result<Vec<UserView>> {
        who.require(Action::Administer)?;
        let mut conn = self.store.read().await?;
        // Two queries for the whole list, not one per account.
        let codes = store::all_program_codes(&mut conn).await?;
        let held = recert_store::throttle::held_accounts(&mut conn, self.real_now_ms()).await?;
        store::list(&mut conn)
            .await?
            .into_iter()
            .map(|u| {
                let programs = codes
                    .iter()
                    .filter(|(id, _)| *id == u.id)
                    .map(|(_, c)| c.clone())
                    .collect();
                let locked = held.contains(&u.username.to_lowercase());
                self.user_view(u, programs, locked)
            })
            .collect()
    }

    /// Whether the first-run page should be offered: no enabled admin account exists.
    pub async fn needs_first_admin(&self) -> Result<bool> {
        let mut conn = self.store.read().await?;
        Ok(!store::admin_exists(&mut conn).await?)
    }

    /// Creates the first admin account; refused once any admin exists, so the first-run
    /// page cannot be used to take over an installation.
    pub async fn create_first_admin(&self, username: &str, password: &str) -> Result<UserView> {
        // Checked again inside create_user's transaction window by the unique username;
        // two racing first-run submissions can at worst both create admins, which is the
        // intent of either.
        if !self.needs_first_admin().await? {
            return Err(ServiceError::Conflict(
                "an administrator already exists; sign in instead".into(),
            ));
        }
        self.create_user(
            &Principal::unscoped("first-run", Role::Admin),
            UserDraft {
                username: Some(username.to_owned()),
                password: Some(password.to_owned()),
                role: Some("admin".into()),
                ..UserDraft::default()
            },
        )
        .await
    }

    /// Sets a password without knowing the old one (CLI recovery, demo accounts).
    pub async fn reset_password(
        &self,
        who: &Principal,
        username: &str,
        password: &str,
    ) -> Result<()> {
        who.require(Action::Administer)?;
        check_password("password", password, username)?;
        let hash = hash_password(password.to_owned()).await?;
        let mut tx = self.store.begin_write().await?;
        let u = store::by_username(tx.conn(), username)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", username))?;
        store::set_password(tx.conn(), u.id, &hash, self.now_ms()).await?;
        self.sign_in_forgive(&mut tx, &u.username).await?;
        recert_store::sessions::delete_for_user(tx.conn(), u.id, None).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "user.password_reset",
            subject_type: "user",
            subject_id: username,
            before: None,
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes an account's state: `disable` (its sessions end, its tokens stop working),
    /// `enable`, or `unlock` (lifts the wait after failed sign-ins).
    pub async fn set_account_state(
        &self,
        who: &Principal,
        username: &str,
        change: AccountChange,
    ) -> Result<UserView> {
        who.require(Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        let u = store::by_username(tx.conn(), username)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", username))?;
        let before = self.view_user(tx.conn(), u.clone()).await?;
        let action = match change {
            AccountChange::Disable => {
                if who.user_id == Some(u.id) {
                    return Err(ServiceError::Conflict(
                        "you cannot disable your own account".into(),
                    ));
                }
                if u.role == Role::Admin.as_str() && !u.disabled {
                    let admins = store::list(tx.conn())
                        .await?
                        .into_iter()
                        .filter(|x| x.role == Role::Admin.as_str() && !x.disabled)
                        .count();
                    if admins <= 1 {
                        return Err(ServiceError::Conflict(
                            "this is the last active admin account; create another admin first"
                                .into(),
                        ));
                    }
                }
                store::set_disabled(tx.conn(), u.id, Some(self.now_ms())).await?;
                recert_store::sessions::delete_for_user(tx.conn(), u.id, None).await?;
                "user.disabled"
            }
            AccountChange::Enable => {
                store::set_disabled(tx.conn(), u.id, None).await?;
                "user.enabled"
            }
            AccountChange::Unlock => {
                self.sign_in_forgive(&mut tx, &u.username).await?;
                "user.unlocked"
            }
        };
        let after_rec = store::by_username(tx.conn(), username)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", username))?;
        let after = self.view_user(tx.conn(), after_rec).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action,
            subject_type: "user",
            subject_id: username,
            before: Some(crate::snapshot(&before)?),
            after: Some(crate::snapshot(&after)?),
        })
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// A change of an account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
    Unlock,
}
