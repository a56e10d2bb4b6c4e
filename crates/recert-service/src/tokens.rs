//! API bearer tokens: shown once at creation, stored as SHA-256 hashes. A token is 256
//! random bits, so a fast hash suffices (argon2 is for low-entropy passwords). A token has
//! a role; a token with a scoped role (program manager, supervisor, learner) acts for an
//! account with that role and inherits its scope.

use crate::auth::{Action, Principal, Role};
use crate::sessions::random_token;
use crate::{Result, Service, ServiceError};
use recert_domain::names::required_text;
use recert_store::audit::NewEvent;
use recert_store::tokens as store;
use recert_store::users as user_store;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "rct_";

/// A request for a new token.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenDraft {
    pub name: Option<String>,
    pub role: Option<String>,
    /// The account a scoped token acts for (required for program_manager, supervisor and
    /// learner tokens; must have the same role).
    pub user: Option<String>,
}

impl TokenDraft {
    /// A token for an unscoped role (admin, auditor).
    pub fn unscoped(name: &str, role: &str) -> Self {
        Self {
            name: Some(name.to_owned()),
            role: Some(role.to_owned()),
            user: None,
        }
    }
}

/// A token as listed (never the token itself).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub user: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
}

/// A new token: the only answer that ever holds the secret.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub info: TokenView,
    pub token: String,
}

fn instant(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl Service {
    /// Creates a token and returns it in clear, the only time it is ever available.
    pub async fn create_token(&self, who: &Principal, draft: TokenDraft) -> Result<CreatedToken> {
        who.require(Action::Administer)?;
        let name = required_text("name", draft.name.as_deref().unwrap_or(""), 100)?;
        let role = Role::parse_field("role", draft.role.as_deref().unwrap_or(""))?;
        let token = format!("{PREFIX}{}", random_token(32)?);
        let mut tx = self.store.begin_write().await?;
        let user = match draft
            .user
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(u) => {
                let found = user_store::by_username(tx.conn(), u)
                    .await?
                    .ok_or_else(|| ServiceError::field("user", format!("no account {u:?}")))?;
                if found.role != role.as_str() {
                    return Err(ServiceError::field(
                        "role",
                        format!(
                            "account {u:?} is a {}; a token acting for it must have that role",
                            found.role
                        ),
                    ));
                }
                Some(found)
            }
            None if matches!(role, Role::Admin | Role::Auditor) => None,
            None => {
                return Err(ServiceError::field(
                    "user",
                    format!(
                        "is required for a {} token: the token takes that account's scope",
                        role.as_str()
                    ),
                ));
            }
        };
        let id = store::insert(
            tx.conn(),
            &name,
            role.as_str(),
            &crate::sessions::sha256_hex(&token),
            user.as_ref().map(|u| u.id),
            self.now_ms(),
        )
        .await?;
        let info = TokenView {
            id,
            name,
            role: role.as_str().to_owned(),
            user: user.map(|u| u.username),
            created_at: instant(self.now_ms()),
            last_used_at: None,
            revoked: false,
        };
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "token.created",
            subject_type: "token",
            subject_id: &id.to_string(),
            before: None,
            after: Some(crate::snapshot(&info)?),
        })
        .await?;
        tx.commit().await?;
        Ok(CreatedToken { info, token })
    }

    /// Every token, oldest first.
    pub async fn tokens(&self, who: &Principal) -> Result<Vec<TokenView>> {
        who.require(Action::Administer)?;
        let mut conn = self.store.read().await?;
        let users = user_store::list(&mut conn).await?;
        Ok(store::list(&mut conn)
            .await?
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                user: t
                    .user_id
                    .and_then(|id| users.iter().find(|u| u.id == id))
                    .map(|u| u.username.clone()),
                name: t.name,
                role: t.role,
                created_at: instant(t.created_at_ms),
                last_used_at: t.last_used_at_ms.map(instant),
                revoked: t.revoked,
            })
            .collect())
    }

    /// Revokes a token: it authenticates no one from now on.
    pub async fn revoke_token(&self, who: &Principal, id: i64) -> Result<()> {
        who.require(Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        let t = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("token", id.to_string()))?;
        if !store::revoke(tx.conn(), id, self.now_ms()).await? {
            return Err(ServiceError::Conflict(format!(
                "token {id} is already revoked"
            )));
        }
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "token.revoked",
            subject_type: "token",
            subject_id: &id.to_string(),
            before: Some(serde_json::json!({ "name": t.name, "role": t.role })),
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The caller a bearer token stands for; revoked and unknown tokens, and tokens of
    /// disabled accounts, authenticate no one.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !token.starts_with(PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let mut conn = self.store.read().await?;
        let t = match store::by_hash(&mut conn, &crate::sessions::sha256_hex(token)).await? {
            Some(t) if !t.revoked => t,
            _ => return Err(ServiceError::Unauthenticated),
        };
        let role = Role::parse(&t.role)
            .ok_or_else(|| ServiceError::internal(format!("token {} has unknown role", t.id)))?;
        let name = format!("token:{}", t.name);
        match t.user_id {
            None => Ok(Principal::unscoped(name, role)),
            Some(uid) => {
                let user = user_store::by_id(&mut conn, uid)
                    .await?
                    .filter(|u| !u.disabled)
                    .ok_or(ServiceError::Unauthenticated)?;
                self.principal_of(&mut conn, &user, role, name).await
            }
        }
    }
}
