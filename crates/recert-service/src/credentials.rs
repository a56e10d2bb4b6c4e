//! Credentials anyone can verify (SPEC §4): each award as a signed Open Badges 3.0
//! credential, the issuers' DID documents and signing keys, revocation status lists, and
//! verification — of an award by its ID (the public page) and of a credential document
//! brought from elsewhere (checked against the published keys and status, not the
//! award's record).

use crate::awards::Context;
use crate::{Principal, Result, Service, ServiceError, snapshot};
use recert_credentials::ob3::{AwardFacts, StatusEntry};
use recert_credentials::status_list::LIST_SIZE;
use recert_credentials::{
    CredentialError, Kek, PublicKey, SigningKey, did, ob3, proof, status_list,
};
use recert_domain::{CertificateId, Date, Pathway, Status};
use recert_store::Conn;
use recert_store::audit::NewEvent;
use recert_store::awards::{self as award_store, AwardRecord};
use recert_store::programs as program_store;
use recert_store::signing_keys::{self as key_store, StoredKey};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

impl From<CredentialError> for ServiceError {
    fn from(e: CredentialError) -> Self {
        ServiceError::internal(e)
    }
}

pub use recert_credentials::proof::Suite;

/// One link of a certification's chain of renewals, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineageLink {
    pub id: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    pub pathway: Option<Pathway>,
}

/// What the verification page and `GET /api/v1/verify/{id}` say of a certificate.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyView {
    pub id: String,
    pub status: Status,
    pub learner_name: String,
    pub program: String,
    pub program_name: String,
    pub organization: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: Date,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<Date>,
    /// Whether the credential recert issues for it verifies with the key its issuer
    /// publishes.
    pub signature_valid: bool,
    /// The chain that ends with this certificate, oldest first (this one last).
    pub lineage: Vec<LineageLink>,
    /// The revocation's category (never its reason), when revoked.
    pub revocation_category: Option<String>,
    /// The day the chain began, while this certificate counts today (active, expiring, or
    /// in a grace period its program counts): certified continuously since then.
    #[schema(value_type = Option<String>, format = Date)]
    pub certified_since: Option<Date>,
    /// The signed credential's URL (for people with access) and the issuer's DID.
    pub issuer_did: String,
    /// The issuer's logo (`/orgs/{code}/logo`), when it has one.
    pub logo_url: Option<String>,
}

/// A public verification as kept in memory: the view, and its JSON.
#[derive(Debug, Clone)]
pub(crate) struct Verification {
    view: Arc<VerifyView>,
    json: bytes::Bytes,
}

/// What an award's public share page shows: its verification, and the links to add it to
/// a LinkedIn profile and to download it.
#[derive(Debug, Clone, Serialize)]
pub struct ShareView {
    pub verify: VerifyView,
    pub verify_url: String,
    /// The share page's own URL (its image is `{share_url}/certificate.png`).
    pub share_url: String,
    /// LinkedIn's "Add to profile" link with the certification's fields filled in.
    pub linkedin_url: String,
}

/// A certificate document's format.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Document {
    Pdf,
    /// At 1× (842 × 595 pixels) or 2×.
    Png {
        scale: u8,
    },
}

impl Document {
    /// From `?scale=` (1 or 2; default 1) for a PNG.
    pub fn png(scale: Option<&str>) -> Result<Self> {
        match scale.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("1") => Ok(Self::Png { scale: 1 }),
            Some("2") => Ok(Self::Png { scale: 2 }),
            Some(_) => Err(ServiceError::field("scale", "Choose a scale of 1 or 2")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Png { .. } => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Png { .. } => "png",
        }
    }
}

/// What storing a template did: what the sanitizer took out.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TemplateStored {
    pub program: String,
    /// Each thing removed from the upload (scripts, event handlers, external references…).
    pub removed: Vec<String>,
}

/// One check of a credential document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

/// The answer to `POST /api/v1/verify`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub verified: bool,
    pub checks: Vec<Check>,
}

/// A status list's URL path segment: `{organization}-{n}`, n from 1.
fn list_name(org_code: &str, row_id: i64) -> (String, u64) {
    let row = u64::try_from(row_id).unwrap_or(0);
    (
        format!("{org_code}-{}", row / LIST_SIZE + 1),
        row % LIST_SIZE,
    )
}

impl Service {
    /// Uses `kek` to seal and open signing keys.
    pub fn with_kek(mut self, kek: Kek) -> Self {
        self.kek = Some(std::sync::Arc::new(kek));
        self
    }

    pub(crate) fn kek(&self) -> Result<&Kek> {
        self.kek.as_deref().ok_or_else(|| {
            ServiceError::internal(
                "no key-encryption key is configured: credentials cannot be signed",
            )
        })
    }

    /// The did:web of an organization.
    pub fn issuer_did(&self, org_code: &str) -> Result<String> {
        Ok(did::did_web(self.base_url(), org_code)?)
    }

    /// Gives every organization without a signing key its first one (at start-up). Made
    /// later, on the first signature, a first key is written while the request holds a
    /// read connection: many first requests at once would each hold one and wait for
    /// another, and starve the pool.
    pub(crate) async fn ensure_signing_keys(&self) -> Result<()> {
        let mut conn = self.store.read().await?;
        let orgs = recert_store::organizations::list(&mut conn).await?;
        let mut missing = Vec::new();
        for (id, org) in orgs {
            if key_store::of_organization(&mut conn, id).await?.is_empty() {
                missing.push((id, org.code));
            }
        }
        drop(conn);
        for (id, code) in missing {
            self.add_key(id, &code, "system", true).await?;
        }
        Ok(())
    }

    /// The organization's current signing key (the newest), still sealed; its first is
    /// made at start-up, or here when an organization has none yet.
    async fn current_key(&self, conn: &mut Conn, org_id: i64, org_code: &str) -> Result<StoredKey> {
        let keys = key_store::of_organization(conn, org_id).await?;
        match keys.last() {
            Some(k) => Ok(k.clone()),
            None => self.add_key(org_id, org_code, "system", true).await,
        }
    }

    /// Opens a stored key with the key-encryption key (only when something is signed).
    fn open_key(&self, org_code: &str, stored: &StoredKey) -> Result<SigningKey> {
        let secret = self.kek()?.open(
            &stored.sealed_secret,
            seal_context(org_code, &stored.key_id).as_bytes(),
        )?;
        Ok(SigningKey::from_secret(&secret)?)
    }

    /// Adds a signing key to an organization (`key-1`, `key-2`, …), audited. With
    /// `first_only`, only when it has none: two requests adding the first key at once both
    /// end with the one that was stored.
    async fn add_key(
        &self,
        org_id: i64,
        org_code: &str,
        actor: &str,
        first_only: bool,
    ) -> Result<StoredKey> {
        let mut tx = self.store.begin_write().await?;
        let existing = key_store::of_organization(tx.conn(), org_id).await?;
        if first_only && let Some(k) = existing.last() {
            return Ok(k.clone());
        }
        let key_id = format!("key-{}", existing.len() + 1);
        let key = SigningKey::generate()?;
        let stored = StoredKey {
            key_id: key_id.clone(),
            public_multibase: key.public().multibase(),
            sealed_secret: self
                .kek()?
                .seal(&key.secret(), seal_context(org_code, &key_id).as_bytes())?,
            created_at_ms: self.now_ms(),
        };
        key_store::insert(tx.conn(), org_id, &stored).await?;
        let subject = format!("{org_code}#{key_id}");
        tx.audit(NewEvent {
            at: self.now(),
            actor,
            action: "signing_key.created",
            subject_type: "organization",
            subject_id: &subject,
            before: None,
            after: Some(snapshot(&serde_json::json!({
                "key_id": key_id, "public_key_multibase": stored.public_multibase,
            }))?),
        })
        .await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Adds a new signing key to an organization (admins; `recert keys rotate`). New
    /// credentials are signed with it; the old keys stay in the DID document, so what they
    /// signed still verifies.
    pub async fn rotate_key(&self, who: &Principal, org_code: &str) -> Result<String> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        let (org_id, _) = recert_store::organizations::by_code(&mut conn, org_code)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization", org_code))?;
        drop(conn);
        Ok(self
            .add_key(org_id, org_code, &who.name, false)
            .await?
            .key_id)
    }

    /// The organization's DID document: every key it has signed with.
    pub async fn did_document(&self, org_code: &str) -> Result<Value> {
        let mut conn = self.store.read().await?;
        let (org_id, _) = recert_store::organizations::by_code(&mut conn, org_code)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization", org_code))?;
        let mut keys = key_store::of_organization(&mut conn, org_id).await?;
        if keys.is_empty() {
            drop(conn);
            keys.push(self.add_key(org_id, org_code, "system", true).await?);
        }
        let published: Vec<(String, PublicKey)> = keys
            .iter()
            .map(|k| {
                Ok((
                    k.key_id.clone(),
                    PublicKey::from_multibase(&k.public_multibase)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(did::did_document(&self.issuer_did(org_code)?, &published))
    }

    /// An award as a signed Open Badges 3.0 credential, for whoever may see the award.
    pub async fn credential(
        &self,
        who: &Principal,
        id: &str,
        suite: Option<&str>,
    ) -> Result<Value> {
        let suite = parse_suite(suite)?;
        let id = crate::awards::parse_id(id)?;
        let mut conn = self.store.read().await?;
        let r = award_store::by_id(&mut conn, &id)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", id.as_str()))?;
        crate::awards::require_award_reach(&mut conn, who, &r).await?;
        self.signed_credential(&mut conn, &r, suite).await
    }

    async fn signed_credential(
        &self,
        conn: &mut Conn,
        r: &AwardRecord,
        suite: Suite,
    ) -> Result<Value> {
        Ok(self.signed_and_keyed(conn, r, suite).await?.0)
    }

    /// The signed credential, and the key it is cached by (what it was made from).
    async fn signed_and_keyed(
        &self,
        conn: &mut Conn,
        r: &AwardRecord,
        suite: Suite,
    ) -> Result<(Value, Vec<u8>)> {
        let ctx = self.catalogue(conn).await?;
        let program = ctx.program(r.program_id)?;
        let org = ctx.org(program)?;
        let org_id = org_id(&ctx, &org.code)?;
        let did = self.issuer_did(&org.code)?;
        let (list, index) = list_name(&org.code, r.row_id);
        let a = &r.award;
        let facts = AwardFacts {
            id: self.verify_url(&a.id),
            certificate_id: a.id.to_string(),
            issuer_did: did.clone(),
            issuer_name: org.name.clone(),
            issuer_url: org
                .url
                .clone()
                .unwrap_or_else(|| self.base_url().to_owned()),
            learner_name: r.legal_name.clone(),
            achievement_id: format!("{}/programs/{}", self.base_url(), program.code),
            program_code: program.code.to_string(),
            program_name: program.name.clone(),
            program_description: program.description.clone(),
            issued_on: a.issued_on.to_string(),
            expires_on: a.expires_on.map(|d| d.to_string()),
            score: a.score,
            predecessor: a.predecessor.as_ref().map(|p| self.verify_url(p)),
            status: Some(StatusEntry {
                list_url: format!("{}/status/{list}", self.base_url()),
                index,
            }),
        };
        let stored = self.current_key(conn, org_id, &org.code).await?;
        let key_id = &stored.key_id;
        let unsigned = ob3::credential(&facts);
        // Signed once per content and key: the same facts give the same document (and
        // proof date) until something in it changes — the award, its holder's name, the
        // program, the organization — or the key rotates.
        let cache_key = crate::cache::ContentCache::<Value>::key(&[
            unsigned.to_string().as_bytes(),
            key_id.as_bytes(),
            suite.name().as_bytes(),
        ]);
        if let Some(doc) = self.signed.get(&cache_key) {
            return Ok((doc, cache_key));
        }
        // The key is opened only to sign: a document already signed needs no secret.
        let key = self.open_key(&org.code, &stored)?;
        let created = self.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let doc = proof::sign(&unsigned, &key, &format!("{did}#{key_id}"), &created, suite)?;
        self.signed.put(cache_key.clone(), doc.clone());
        Ok((doc, cache_key))
    }

    /// A status list credential (`{organization}-{n}`), signed, with the bit of every
    /// revoked award in its range set. Computed when asked, so a revocation shows at once on
    /// every instance.
    pub async fn status_list(&self, name: &str) -> Result<Value> {
        let mut conn = self.store.read().await?;
        let (org_code, org_id, encoded) = self.revocation_bits(&mut conn, name).await?;
        let did = self.issuer_did(&org_code)?;
        let url = format!("{}/status/{name}", self.base_url());
        let stored = self.current_key(&mut conn, org_id, &org_code).await?;
        let key = self.open_key(&org_code, &stored)?;
        // Dated by the day, so the list's bytes (and its ETag) change only with its bits.
        let today = self.now().strftime("%Y-%m-%dT00:00:00Z").to_string();
        let doc = status_list::list_credential(&url, &did, &today, &encoded);
        // In the default suite, the one every verifier of the credentials also knows.
        Ok(proof::sign(
            &doc,
            &key,
            &format!("{did}#{}", stored.key_id),
            &today,
            Suite::default(),
        )?)
    }

    /// A status list's organization and its encoded bits (what the list credential carries
    /// and what checking a credential's status reads), from the revoked awards in its range.
    async fn revocation_bits(&self, conn: &mut Conn, name: &str) -> Result<(String, i64, String)> {
        let not_found = || ServiceError::not_found("status list", name);
        let (org_code, n) = name.rsplit_once('-').ok_or_else(not_found)?;
        let n: u64 = n.parse().ok().filter(|n| *n >= 1).ok_or_else(not_found)?;
        let ctx = self.catalogue(conn).await?;
        let org_id = org_id(&ctx, org_code).map_err(|_| not_found())?;
        let from = i64::try_from((n - 1) * LIST_SIZE).map_err(|_| not_found())?;
        let to = from + LIST_SIZE as i64;
        let revoked: Vec<u64> = key_store::revoked_in(conn, org_id, from, to)
            .await?
            .into_iter()
            .map(|id| (id - from) as u64)
            .collect();
        Ok((org_code.to_owned(), org_id, status_list::encode(&revoked)?))
    }

    /// What anyone may know of a certificate by its ID: who, what, by whom, its status
    /// today, its chain, and whether its credential checks.
    ///
    /// Answered from memory while nothing changed: the answer is kept with the audit head
    /// it was read at (every change is audited) and the quarter hour (a status turns at an
    /// organization's midnight, which falls on a quarter hour in every time zone). A change
    /// made by this instance shows at once, one made by another instance within a second
    /// (see [`Service::current_head`]). A public page that anyone can load is what must
    /// stay fast under load (`recert bench verify_rps`).
    pub async fn verify_public(&self, id: &str) -> Result<Arc<VerifyView>> {
        Ok(self.verification(id).await?.view)
    }

    /// [`Service::verify_public`] as the API's JSON body, made once per kept answer: the
    /// verification anyone can load is served from memory without copying or
    /// serializing it again.
    pub async fn verify_public_json(&self, id: &str) -> Result<bytes::Bytes> {
        Ok(self.verification(id).await?.json)
    }

    async fn verification(&self, id: &str) -> Result<Verification> {
        let cid = crate::awards::parse_id(id)?;
        let head = self.current_head().await?;
        let bucket = self.now().as_second().div_euclid(900);
        if let Some(v) = self.verifications.get(cid.as_str(), head, bucket) {
            return Ok(v);
        }
        let key = cid.as_str().to_owned();
        let view = self.verify_fresh(cid).await?;
        let json = serde_json::to_vec(&view).map_err(ServiceError::internal)?;
        let v = Verification {
            view: Arc::new(view),
            json: json.into(),
        };
        self.verifications.put(key, head, bucket, v.clone());
        Ok(v)
    }

    async fn verify_fresh(&self, id: CertificateId) -> Result<VerifyView> {
        let mut conn = self.store.read().await?;
        let r = award_store::by_id(&mut conn, &id)
            .await?
            .ok_or_else(|| ServiceError::not_found("certificate", id.as_str()))?;
        let ctx = self.catalogue(&mut conn).await?;
        let view = self.view(&ctx, &r, None)?;
        let program = ctx.program(r.program_id)?;
        let org = ctx.org(program)?;
        // The chain, walked back through each predecessor.
        let mut lineage = vec![link(&r)];
        let mut prev = r.award.predecessor.clone();
        while let Some(p) = prev.take() {
            if lineage.len() >= 500 {
                break;
            }
            match award_store::by_id(&mut conn, &p).await? {
                Some(x) => {
                    prev = x.award.predecessor.clone();
                    lineage.push(link(&x));
                }
                None => break,
            }
        }
        lineage.reverse();
        let (signed, made_from) = self
            .signed_and_keyed(&mut conn, &r, Suite::default())
            .await?;
        let logo_url = self
            .cached_logo(&mut conn, org_id(&ctx, &org.code)?)
            .await?
            .map(|_| format!("{}/orgs/{}/logo", self.base_url(), org.code));
        // The connection goes back before the DID document takes one of its own: holding
        // one while waiting for another starves the pool under load (every request waits
        // for a second connection that no request gives back).
        drop(conn);
        let did_doc = self.did_document(&org.code).await?;
        let signature_valid = match proof::verification_method(&signed)
            .ok()
            .and_then(|m| did::assertion_key(&did_doc, &m))
        {
            None => false,
            // Checked once per signed document and published key: the same document
            // checks the same way against the same key, and a full RDF check costs
            // milliseconds that a busy verification page should not spend each time.
            Some(k) => {
                let check = crate::cache::ContentCache::<bool>::key(&[
                    &made_from,
                    k.multibase().as_bytes(),
                ]);
                match self.checked.get(&check) {
                    Some(ok) => ok,
                    None => {
                        let ok = proof::verify(&signed, &k).is_ok();
                        self.checked.put(check, ok);
                        ok
                    }
                }
            }
        };
        Ok(VerifyView {
            id: view.id,
            status: view.status,
            learner_name: r.legal_name.clone(),
            program: program.code.to_string(),
            program_name: program.name.clone(),
            organization: org.name.clone(),
            issued_on: view.issued_on,
            expires_on: view.expires_on,
            signature_valid,
            // Only a certificate that counts today certifies anyone continuously: a
            // revoked, lapsed or replaced one ends its chain's claim.
            certified_since: lineage
                .first()
                .filter(|_| view.status.is_compliant(program))
                .map(|l| l.issued_on),
            lineage,
            revocation_category: r
                .award
                .revoked
                .as_ref()
                .map(|x| x.category.label().to_owned()),
            issuer_did: self.issuer_did(&org.code)?,
            logo_url,
        })
    }

    /// The public share page of an award, unless its holder turned sharing off (then it is
    /// "not found", as for an ID nobody holds).
    pub async fn share_view(&self, id: &str) -> Result<ShareView> {
        let mut conn = self.store.read().await?;
        let r = shared_award(&mut conn, id).await?;
        drop(conn);
        let verify = self.verify_public(id).await?;
        let verify_url = self.verify_url(&r.award.id);
        let mut params: Vec<(&str, String)> = vec![
            ("startTask", "CERTIFICATION_NAME".into()),
            ("name", verify.program_name.clone()),
            ("organizationName", verify.organization.clone()),
            ("issueYear", verify.issued_on.year().to_string()),
            ("issueMonth", verify.issued_on.month().to_string()),
        ];
        if let Some(e) = verify.expires_on {
            params.push(("expirationYear", e.year().to_string()));
            params.push(("expirationMonth", e.month().to_string()));
        }
        params.push(("certUrl", verify_url.clone()));
        params.push(("certId", verify.id.clone()));
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect();
        Ok(ShareView {
            share_url: format!("{}/share/{}", self.base_url(), r.award.id),
            linkedin_url: format!("https://www.linkedin.com/profile/add?{}", query.join("&")),
            verify: VerifyView::clone(&verify),
            verify_url,
        })
    }

    /// An award's certificate as a PDF or PNG, for whoever may see the award.
    pub async fn certificate(&self, who: &Principal, id: &str, doc: Document) -> Result<Vec<u8>> {
        let cid = crate::awards::parse_id(id)?;
        let mut conn = self.store.read().await?;
        let r = award_store::by_id(&mut conn, &cid)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", cid.as_str()))?;
        crate::awards::require_award_reach(&mut conn, who, &r).await?;
        self.draw(&mut conn, &r, doc).await
    }

    /// The certificate of a shared award as a PNG, for anyone (the share page's image).
    pub async fn shared_certificate(&self, id: &str, doc: Document) -> Result<Vec<u8>> {
        let mut conn = self.store.read().await?;
        let r = shared_award(&mut conn, id).await?;
        self.draw(&mut conn, &r, doc).await
    }

    /// Draws the certificate from the default template; drawings are kept by what they show
    /// and their format, so a certificate is drawn once until something on it changes.
    async fn draw(&self, conn: &mut Conn, r: &AwardRecord, doc: Document) -> Result<Vec<u8>> {
        let ctx = self.catalogue(conn).await?;
        let program = ctx.program(r.program_id)?;
        let org = ctx.org(program)?;
        let fields = recert_credentials::render::Fields {
            organization: org.name.clone(),
            learner_name: r.legal_name.clone(),
            program_name: program.name.clone(),
            program_code: program.code.to_string(),
            issued_on: r.award.issued_on.to_string(),
            expires_on: r.award.expires_on.map(|d| d.to_string()),
            certificate_id: r.award.id.to_string(),
            verify_url: self.verify_url(&r.award.id),
            logo: self.logo_data_url(conn, org_id(&ctx, &org.code)?).await?,
        };
        let template = program_store::certificate_template(conn, r.program_id).await?;
        let svg = recert_credentials::render::svg_with(template.as_deref(), &fields)?;
        let title = format!(
            "{} — {} ({})",
            fields.program_name, fields.learner_name, fields.certificate_id
        );
        let issued = fields.issued_on.clone();
        let key = crate::cache::ContentCache::<Vec<u8>>::key(&[
            svg.as_bytes(),
            format!("{doc:?}").as_bytes(),
        ]);
        if let Some(bytes) = self.drawn.get(&key) {
            return Ok(bytes);
        }
        // Drawing is CPU work (milliseconds): off the request threads.
        let bytes = tokio::task::spawn_blocking(move || match doc {
            Document::Pdf => recert_credentials::render::pdf(&svg, &title, &issued),
            Document::Png { scale } => recert_credentials::render::png(&svg, f32::from(scale)),
        })
        .await
        .map_err(ServiceError::internal)??;
        self.drawn.put(key, bytes.clone());
        Ok(bytes)
    }

    /// Stores a program's certificate template (SVG with `{{ field }}` placeholders),
    /// sanitized; refuses one that cannot be made safe, saying why. Audited.
    pub async fn set_certificate_template(
        &self,
        who: &Principal,
        code: &str,
        svg: &str,
    ) -> Result<TemplateStored> {
        let mut tx = self.store.begin_write().await?;
        let (id, program) = program_store::by_code(tx.conn(), code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        who.require(crate::auth::Action::ManageProgram(id))?;
        let clean = recert_credentials::template::sanitize(svg)
            .map_err(|e| ServiceError::field("template", e.0))?;
        // It must draw: a template that parses but does not render is refused now, not at
        // the first download.
        let sample = sample_fields(&program.name, program.code.as_str(), self.base_url());
        let filled = recert_credentials::render::svg_with(Some(&clean.svg), &sample)
            .map_err(|e| ServiceError::field("template", e.to_string()))?;
        recert_credentials::render::png(&filled, 0.25)
            .map_err(|e| ServiceError::field("template", e.to_string()))?;
        let before = program_store::certificate_template(tx.conn(), id).await?;
        program_store::set_certificate_template(tx.conn(), id, Some(&clean.svg)).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "program.template_changed",
            subject_type: "program",
            subject_id: program.code.as_str(),
            before: Some(serde_json::json!({"custom_template": before.is_some()})),
            after: Some(serde_json::json!({"custom_template": true, "removed": clean.removed})),
        })
        .await?;
        tx.commit().await?;
        Ok(TemplateStored {
            program: program.code.to_string(),
            removed: clean.removed,
        })
    }

    /// A program's certificate template (its own, else the default), for whoever reads
    /// the catalogue.
    pub async fn certificate_template(&self, who: &Principal, code: &str) -> Result<String> {
        who.require(crate::auth::Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        let (id, _) = program_store::by_code(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        Ok(program_store::certificate_template(&mut conn, id)
            .await?
            .unwrap_or_else(|| recert_credentials::render::DEFAULT_TEMPLATE.to_owned()))
    }

    /// The program's template drawn on sample data, as a PNG.
    pub async fn template_preview(&self, who: &Principal, code: &str) -> Result<Vec<u8>> {
        who.require(crate::auth::Action::ReadCatalog)?;
        let mut conn = self.store.read().await?;
        let (id, program) = program_store::by_code(&mut conn, code)
            .await?
            .ok_or_else(|| ServiceError::not_found("program", code))?;
        let template = program_store::certificate_template(&mut conn, id).await?;
        let ctx = self.catalogue(&mut conn).await?;
        let org = ctx.org(ctx.program(id)?)?;
        let mut sample = sample_fields(&program.name, program.code.as_str(), self.base_url());
        sample.organization = org.name.clone();
        sample.logo = self
            .logo_data_url(&mut conn, org_id(&ctx, &org.code)?)
            .await?;
        drop(conn);
        let svg = recert_credentials::render::svg_with(template.as_deref(), &sample)?;
        tokio::task::spawn_blocking(move || recert_credentials::render::png(&svg, 1.0))
            .await
            .map_err(ServiceError::internal)?
            .map_err(ServiceError::from)
    }

    /// The signed credential of a shared award, for anyone (the share page links it).
    pub async fn shared_credential(&self, id: &str, suite: Option<&str>) -> Result<Value> {
        let suite = parse_suite(suite)?;
        let mut conn = self.store.read().await?;
        let r = shared_award(&mut conn, id).await?;
        self.signed_credential(&mut conn, &r, suite).await
    }

    /// Turns an award's public share page on or off: its holder (signed in as themself) or
    /// whoever may write the program's awards. Audited.
    pub async fn set_sharing(&self, who: &Principal, id: &str, on: bool) -> Result<()> {
        let cid = crate::awards::parse_id(id)?;
        let mut tx = self.store.begin_write().await?;
        let r = award_store::by_id(tx.conn(), &cid)
            .await?
            .ok_or_else(|| ServiceError::not_found("award", cid.as_str()))?;
        let holder = who.learner_id == Some(r.learner_id);
        if !holder && !who.may(crate::auth::Action::WriteAward(r.program_id)) {
            return Err(who.forbidden("change the sharing of this award"));
        }
        // Already as asked: nothing to record.
        if r.sharing_off != on {
            return Ok(());
        }
        award_store::set_sharing(tx.conn(), r.row_id, !on).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "award.sharing_changed",
            subject_type: "award",
            subject_id: cid.as_str(),
            before: Some(serde_json::json!({"sharing": !r.sharing_off})),
            after: Some(serde_json::json!({"sharing": on})),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a credential document: its proof against the key its issuer publishes, that
    /// the issuer signed it, its dates today, and its revocation status. Issuers other than
    /// this recert's organizations cannot be checked here (nothing is fetched).
    pub async fn verify_document(&self, doc: &Value) -> Result<VerifyReport> {
        let mut checks = Vec::new();
        let mut add = |check: &str, ok: bool, detail: String| {
            checks.push(Check {
                check: check.into(),
                ok,
                detail,
            })
        };
        // The proof, against the issuer's published key.
        let method = proof::verification_method(doc);
        let issuer = doc["issuer"]["id"]
            .as_str()
            .or_else(|| doc["issuer"].as_str())
            .unwrap_or("")
            .to_owned();
        let ours = self.our_organization(&issuer).await?;
        match (&method, &ours) {
            (Err(e), _) => add("proof", false, e.to_string()),
            (Ok(_), None) => add(
                "proof",
                false,
                format!(
                    "the issuer {issuer:?} is not an organization of this recert, so its keys cannot be checked here"
                ),
            ),
            (Ok(m), Some(code)) => {
                let did_doc = self.did_document(code).await?;
                let same_issuer = m.split('#').next() == Some(issuer.as_str());
                match did::assertion_key(&did_doc, m) {
                    None => add(
                        "proof",
                        false,
                        format!("{m} is not a key the issuer publishes"),
                    ),
                    Some(_) if !same_issuer => {
                        add("proof", false, format!("{m} is not the issuer's key"))
                    }
                    Some(k) => match proof::verify(doc, &k) {
                        Ok(suite) => {
                            add("proof", true, format!("signed by {m} ({})", suite.name()))
                        }
                        Err(e) => add("proof", false, e.to_string()),
                    },
                }
            }
        }
        // Dates, today.
        let now = self.now();
        let at = |k: &str| {
            doc[k]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        };
        match (
            at("validFrom"),
            doc.get("validUntil").map(|_| at("validUntil")),
        ) {
            (None, _) => add(
                "dates",
                false,
                "validFrom is missing or not a date-time".into(),
            ),
            (_, Some(None)) => add("dates", false, "validUntil is not a date-time".into()),
            (Some(from), _) if now < from => {
                add("dates", false, format!("not valid before {from}"))
            }
            (_, Some(Some(until))) if now > until => {
                add("dates", false, format!("expired on {until}"))
            }
            (Some(from), until) => add(
                "dates",
                true,
                match until.flatten() {
                    Some(u) => format!("valid from {from} until {u}"),
                    None => format!("valid from {from}, with no end"),
                },
            ),
        }
        // Revocation, from this recert's own status list.
        let status = &doc["credentialStatus"];
        if status.is_null() {
            add("status", true, "the credential names no status list".into());
        } else {
            let list = status["statusListCredential"].as_str().unwrap_or("");
            let index = status["statusListIndex"]
                .as_str()
                .and_then(|i| i.parse::<u64>().ok());
            let prefix = format!("{}/status/", self.base_url());
            match (list.strip_prefix(&prefix), index) {
                (Some(name), Some(i)) => match self
                    .revocation_bits(&mut *self.store.read().await?, name)
                    .await
                {
                    Ok((_, _, encoded)) => match status_list::is_set(&encoded, i) {
                        Ok(true) => add("status", false, "revoked".into()),
                        Ok(false) => add("status", true, "not revoked".into()),
                        Err(e) => add("status", false, e.to_string()),
                    },
                    Err(_) => add("status", false, format!("no status list {list}")),
                },
                _ => add(
                    "status",
                    false,
                    format!("the status list {list:?} is not one this recert serves"),
                ),
            }
        }
        let verified = checks.iter().all(|c| c.ok);
        Ok(VerifyReport { verified, checks })
    }

    /// The code of this recert's organization whose DID is `did`.
    async fn our_organization(&self, did: &str) -> Result<Option<String>> {
        let mut conn = self.store.read().await?;
        let ctx = self.catalogue(&mut conn).await?;
        for (_, o) in &ctx.orgs {
            if self.issuer_did(&o.code)? == did {
                return Ok(Some(o.code.clone()));
            }
        }
        Ok(None)
    }
}

fn seal_context(org_code: &str, key_id: &str) -> String {
    format!("recert signing key {org_code}#{key_id}")
}

fn org_id(ctx: &Context, code: &str) -> Result<i64> {
    ctx.orgs
        .iter()
        .find(|(_, o)| o.code == code)
        .map(|(id, _)| *id)
        .ok_or_else(|| ServiceError::not_found("organization", code))
}

fn link(r: &AwardRecord) -> LineageLink {
    LineageLink {
        id: r.award.id.to_string(),
        issued_on: r.award.issued_on,
        expires_on: r.award.expires_on,
        pathway: r.award.pathway,
    }
}

/// The suite asked for (`?suite=`), the default when none is.
pub fn parse_suite(suite: Option<&str>) -> Result<Suite> {
    match suite.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Suite::default()),
        Some(s) => Suite::named(s).ok_or_else(|| {
            ServiceError::field(
                "suite",
                format!(
                    "Unknown cryptosuite {s:?}: this recert signs with {} (the default) or {}",
                    proof::RDFC,
                    proof::JCS
                ),
            )
        }),
    }
}

/// Parses a certificate ID the way verification pages do (for callers outside).
pub fn parse_certificate_id(raw: &str) -> Result<CertificateId> {
    crate::awards::parse_id(raw)
}

/// `application/x-www-form-urlencoded` text of a query value.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An award whose holder shares it; "not found" otherwise, as for an ID nobody holds.
async fn shared_award(conn: &mut Conn, id: &str) -> Result<AwardRecord> {
    let cid = crate::awards::parse_id(id)?;
    award_store::by_id(conn, &cid)
        .await?
        .filter(|r| !r.sharing_off)
        .ok_or_else(|| ServiceError::not_found("shared certificate", cid.as_str()))
}

/// Sample fields for previews: a real program, a made-up holder.
fn sample_fields(program_name: &str, code: &str, base: &str) -> recert_credentials::render::Fields {
    recert_credentials::render::Fields {
        organization: "Your organization".into(),
        learner_name: "Ana Álvarez Ruiz".into(),
        program_name: program_name.to_owned(),
        program_code: code.to_owned(),
        issued_on: "2027-01-10".into(),
        expires_on: Some("2028-01-10".into()),
        certificate_id: "7K3M-9QXD-2HBR-4VTW".into(),
        verify_url: format!("{base}/verify/7K3M-9QXD-2HBR-4VTW"),
        logo: None,
    }
}
