//! API bearer tokens: shown once at creation, stored as SHA-256 hashes. A token is 256
//! random bits, so a fast hash suffices (argon2 is for low-entropy passwords).

use crate::auth::{Principal, Role};
use crate::{Result, Service, ServiceError};
use recert_domain::names::required_text;
use recert_store::audit::NewEvent;
use recert_store::tokens as store;
use sha2::{Digest, Sha256};

const PREFIX: &str = "rct_";

fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Service {
    /// Creates a token and returns it in clear, the only time it is ever available.
    pub async fn create_token(&self, who: &Principal, name: &str, role: &str) -> Result<String> {
        if who.role != Role::Admin {
            return Err(ServiceError::Forbidden(
                "only admins create API tokens".into(),
            ));
        }
        let name = required_text("name", name, 100)?;
        let role = Role::parse(role).ok_or_else(|| {
            ServiceError::field("role", format!("unknown role {role:?}: must be one of admin, program_manager, auditor, supervisor, learner"))
        })?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(ServiceError::internal)?;
        let token = format!(
            "{PREFIX}{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let mut tx = self.store.begin_write().await?;
        let id = store::insert(
            tx.conn(),
            &name,
            role.as_str(),
            &hash(&token),
            self.now_ms(),
        )
        .await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "token.created",
            subject_type: "token",
            subject_id: &id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "name": name, "role": role.as_str() })),
        })
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The caller a bearer token stands for; revoked and unknown tokens authenticate no one.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !token.starts_with(PREFIX) {
            return Err(ServiceError::Unauthenticated);
        }
        let mut conn = self.store.read().await?;
        match store::by_hash(&mut conn, &hash(token)).await? {
            Some(t) if !t.revoked => {
                let role = Role::parse(&t.role).ok_or_else(|| {
                    ServiceError::internal(format!("token {} has unknown role", t.id))
                })?;
                Ok(Principal {
                    name: format!("token:{}", t.name),
                    role,
                })
            }
            _ => Err(ServiceError::Unauthenticated),
        }
    }
}
