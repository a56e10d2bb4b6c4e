//! Organizations' logos (SPEC §4): uploaded by an administrator, shown on the
//! organization's certificates and verification pages. A PNG is kept as uploaded once it
//! reads; an SVG is kept as sanitized (what was removed is said, and audited).

use crate::{Principal, Result, Service, ServiceError};
use recert_store::Conn;
use recert_store::audit::NewEvent;
use recert_store::organizations::{self as org_store, Logo};
use serde::Serialize;
use std::sync::Arc;

/// What storing a logo did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LogoStored {
    pub organization: String,
    /// `image/png` or `image/svg+xml`.
    pub content_type: String,
    /// Each thing the sanitizer took out of an SVG (scripts, event handlers, external
    /// references…).
    pub removed: Vec<String>,
}

/// An organization as its settings page shows it: who it is as an issuer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganizationView {
    pub code: String,
    pub name: String,
    pub url: Option<String>,
    pub time_zone: String,
    /// Its did:web, and where its DID document is served.
    pub did: String,
    pub did_document_url: String,
    /// `/orgs/{code}/logo` when it has a logo.
    pub logo_url: Option<String>,
}

/// A logo as kept in memory: as stored, and as the `data:` URL certificates draw.
#[derive(Debug)]
pub(crate) struct CachedLogo {
    logo: Logo,
    data_url: String,
}

/// A logo to serve: its bytes and content type.
#[derive(Debug, Clone)]
pub struct LogoFile {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl Service {
    async fn org_by_code(&self, conn: &mut Conn, code: &str) -> Result<i64> {
        recert_store::organizations::by_code(conn, code.trim())
            .await?
            .map(|(id, _)| id)
            .ok_or_else(|| ServiceError::not_found("organization", code))
    }

    /// Every organization with what its settings page shows. Administrators only.
    pub async fn organization_settings(&self, who: &Principal) -> Result<Vec<OrganizationView>> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        let mut out = Vec::new();
        for (id, org) in recert_store::organizations::list(&mut conn).await? {
            let has_logo = self.cached_logo(&mut conn, id).await?.is_some();
            out.push(OrganizationView {
                did: self.issuer_did(&org.code)?,
                did_document_url: format!("{}/orgs/{}/did.json", self.base_url(), org.code),
                logo_url: has_logo.then(|| format!("/orgs/{}/logo", org.code)),
                code: org.code,
                name: org.name,
                url: org.url,
                time_zone: org.time_zone,
            });
        }
        Ok(out)
    }

    /// Stores an organization's logo (PNG or SVG), or refuses it saying why. Audited.
    pub async fn set_logo(&self, who: &Principal, code: &str, bytes: &[u8]) -> Result<LogoStored> {
        who.require(crate::auth::Action::Administer)?;
        let checked =
            recert_credentials::logo::check(bytes).map_err(|e| ServiceError::field("logo", e.0))?;
        let mut tx = self.store.begin_write().await?;
        let id = self.org_by_code(tx.conn(), code).await?;
        let before = org_store::logo(tx.conn(), id).await?;
        let logo = Logo {
            bytes: checked.bytes,
            content_type: checked.content_type.to_owned(),
        };
        org_store::set_logo(tx.conn(), id, Some(&logo)).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "organization.logo_changed",
            subject_type: "organization",
            subject_id: code.trim(),
            before: Some(serde_json::json!({"logo": before.map(|l| l.content_type)})),
            after: Some(serde_json::json!({
                "logo": logo.content_type, "bytes": logo.bytes.len(), "removed": checked.removed,
            })),
        })
        .await?;
        tx.commit().await?;
        Ok(LogoStored {
            organization: code.trim().to_owned(),
            content_type: logo.content_type,
            removed: checked.removed,
        })
    }

    /// Removes an organization's logo (certificates draw without one). Audited.
    pub async fn remove_logo(&self, who: &Principal, code: &str) -> Result<()> {
        who.require(crate::auth::Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        let id = self.org_by_code(tx.conn(), code).await?;
        let Some(before) = org_store::logo(tx.conn(), id).await? else {
            return Ok(());
        };
        org_store::set_logo(tx.conn(), id, None).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "organization.logo_removed",
            subject_type: "organization",
            subject_id: code.trim(),
            before: Some(serde_json::json!({"logo": before.content_type})),
            after: Some(serde_json::json!({"logo": null})),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An organization's logo, for anyone (verification pages show it): not found when it
    /// has none.
    pub async fn logo(&self, code: &str) -> Result<LogoFile> {
        let mut conn = self.store.read().await?;
        let id = self.org_by_code(&mut conn, code).await?;
        let logo = self
            .cached_logo(&mut conn, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("logo of organization", code))?;
        Ok(LogoFile {
            bytes: logo.logo.bytes.clone(),
            content_type: logo.logo.content_type.clone(),
        })
    }

    /// An organization's logo, read once and kept while the audit head stands (setting or
    /// removing one is audited): every certificate drawn and every verification page
    /// would otherwise read up to 512 KB from the database and encode it again.
    pub(crate) async fn cached_logo(
        &self,
        conn: &mut Conn,
        org_id: i64,
    ) -> Result<Option<Arc<CachedLogo>>> {
        let head = self.current_head_on(conn).await?;
        let key = org_id.to_string();
        if let Some(l) = self.logos.get(&key, head, 0) {
            return Ok(l);
        }
        let logo = org_store::logo(conn, org_id).await?.map(|logo| {
            let data_url = recert_credentials::logo::data_url(&logo.bytes, &logo.content_type);
            Arc::new(CachedLogo { logo, data_url })
        });
        self.logos.put(key, head, 0, logo.clone());
        Ok(logo)
    }

    /// The logo of an organization as a `data:` URL for a certificate, if it has one.
    pub(crate) async fn logo_data_url(
        &self,
        conn: &mut Conn,
        org_id: i64,
    ) -> Result<Option<String>> {
        Ok(self
            .cached_logo(conn, org_id)
            .await?
            .map(|l| l.data_url.clone()))
    }
}
