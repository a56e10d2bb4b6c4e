//! Webhooks (SPEC §9): an administrator registers an endpoint and the events it wants;
//! each event is written to the outbox in the transaction that causes it (one message per
//! webhook), and delivered as a POST of `{"type", "timestamp", "data"}` signed per
//! Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
//! HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the base64-decoded secret). A
//! non-2xx answer is retried with back-off under the same `webhook-id`; every attempt is
//! logged. The secret is shown once and kept sealed with the key-encryption key.

use crate::{Principal, Result, Service, ServiceError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use recert_store::notices::{NewMessage, Queued};
use recert_store::webhooks as store;
use serde::{Deserialize, Serialize};

/// Every event type a webhook may ask for.
pub const EVENTS: [&str; 10] = [
    "award.issued",
    "award.renewed",
    "award.revoked",
    "award.reminder",
    "award.expired",
    "award.grace_ending",
    "award.lapsed",
    "credit.decided",
    "signoff.requested",
    "signoff.decided",
];

/// What the sealed secret is bound to.
const SEAL_CONTEXT: &[u8] = b"recert webhook secret";

/// A webhook to register.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookDraft {
    /// Where events are POSTed: an absolute `http://` or `https://` URL.
    pub url: Option<String>,
    /// Event types (`award.issued`, …) or `["*"]` for all.
    pub events: Option<Vec<String>>,
}

/// A webhook as the API shows it (never its secret, but once at creation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_by: String,
    pub created_at: String,
    /// `whsec_` + base64: only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn view(w: &store::Webhook) -> WebhookView {
    WebhookView {
        id: w.id,
        url: w.url.clone(),
        events: w.events.clone(),
        active: w.active,
        created_by: w.created_by.clone(),
        created_at: crate::instant(w.created_at_ms)
            .map(|t| t.to_string())
            .unwrap_or_default(),
        secret: None,
    }
}

/// One delivery attempt as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    /// The `webhook-id` sent: the same on every retry of one message.
    pub webhook_id: String,
    pub event: String,
    pub attempt: i64,
    pub at: String,
    /// The HTTP status answered; null when none came.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    pub ok: bool,
}

/// The `webhook-id` of an outbox message.
fn message_id(outbox_id: i64) -> String {
    format!("msg_{outbox_id}")
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed by the secret's bytes.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Result<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .map_err(|e| ServiceError::internal(format!("webhook secret: {e}")))?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| ServiceError::internal(format!("webhook secret: {e}")))?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn check_url(raw: &str) -> Result<String> {
    let url = raw.trim();
    let bad = |why: &str| Err(ServiceError::field("url", why.to_owned()));
    if url.is_empty() {
        return bad("is required: where events are sent");
    }
    if url.len() > 2000 {
        return bad("must be at most 2000 characters");
    }
    let Ok(uri) = url.parse::<hyper::Uri>() else {
        return bad("is not a URL");
    };
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return bad("must be an absolute http:// or https:// URL");
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return bad("must not hold credentials: the signature authenticates recert");
    }
    Ok(url.to_owned())
}

impl Service {
    /// Registers a webhook (administrators). The answer holds the secret, shown once.
    pub async fn create_webhook(&self, who: &Principal, d: WebhookDraft) -> Result<WebhookView> {
        who.require(crate::auth::Action::Administer)?;
        let url = check_url(d.url.as_deref().unwrap_or(""))?;
        let events = match d.events {
            None => {
                return Err(ServiceError::field(
                    "events",
                    "is required: the event types, or [\"*\"]",
                ));
            }
            Some(list) if list.is_empty() => {
                return Err(ServiceError::field(
                    "events",
                    "must name at least one event type, or \"*\"",
                ));
            }
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for (i, e) in list.iter().enumerate() {
                    let e = e.trim();
                    if e != "*" && !EVENTS.contains(&e) {
                        return Err(ServiceError::field(
                            &format!("events[{i}]"),
                            format!(
                                "unknown event type {e:?}: one of {} or \"*\"",
                                EVENTS.join(", ")
                            ),
                        ));
                    }
                    if !out.iter().any(|o| o == e) {
                        out.push(e.to_owned());
                    }
                }
                if out.iter().any(|e| e == "*") {
                    vec!["*".to_owned()]
                } else {
                    out
                }
            }
        };
        let mut raw = [0u8; 24];
        getrandom::fill(&mut raw)
            .map_err(|e| ServiceError::internal(format!("randomness: {e}")))?;
        let secret = format!("whsec_{}", STANDARD.encode(raw));
        let sealed = self.kek()?.seal(secret.as_bytes(), SEAL_CONTEXT)?;
        let mut tx = self.store.begin_write().await?;
        let now = self.real_now_ms();
        let id = store::insert(tx.conn(), &url, &events, &sealed, &who.name, now).await?;
        let made = store::by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| ServiceError::internal("the webhook just stored is missing"))?;
        let mut shown = view(&made);
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "webhook.created",
            subject_type: "webhook",
            subject_id: &id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&shown).map_err(ServiceError::internal)?),
        })
        .await?;
        tx.commit().await?;
        shown.secret = Some(secret);
        Ok(shown)
    }

    /// Every webhook (administrators), newest first.
    pub async fn webhooks(&self, who: &Principal) -> Result<Vec<WebhookView>> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        Ok(store::all(&mut conn).await?.iter().map(view).collect())
    }

    pub async fn webhook(&self, who: &Principal, id: i64) -> Result<WebhookView> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        store::by_id(&mut conn, id)
            .await?
            .map(|w| view(&w))
            .ok_or_else(|| ServiceError::not_found("webhook", id.to_string()))
    }

    /// Stops a webhook: nothing more is queued for it, and what waits is not sent. Kept
    /// with its delivery log.
    pub async fn delete_webhook(&self, who: &Principal, id: i64) -> Result<()> {
        who.require(crate::auth::Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        if !store::deactivate(tx.conn(), id).await? {
            return Err(ServiceError::not_found("webhook", id.to_string()));
        }
        tx.audit(recert_store::audit::NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "webhook.deleted",
            subject_type: "webhook",
            subject_id: &id.to_string(),
            before: None,
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A webhook's delivery attempts, oldest first.
    pub async fn webhook_deliveries(
        &self,
        who: &Principal,
        id: i64,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<DeliveryView>> {
        who.require(crate::auth::Action::Administer)?;
        let mut conn = self.store.read().await?;
        if store::by_id(&mut conn, id).await?.is_none() {
            return Err(ServiceError::not_found("webhook", id.to_string()));
        }
        let rows = store::deliveries(&mut conn, id, page.after, page.fetch()).await?;
        page.finish(
            rows,
            |d| d.id,
            |d| {
                Ok(DeliveryView {
                    id: d.id,
                    webhook_id: message_id(d.outbox_id),
                    event: d.event,
                    attempt: d.attempt,
                    at: crate::instant(d.at_ms)?.to_string(),
                    ok: d.status.is_some_and(|s| (200..300).contains(&s)),
                    status: d.status,
                    error: d.error,
                    duration_ms: d.duration_ms,
                })
            },
        )
    }

    /// The webhook messages of events, for the active webhooks that want them: each
    /// `(event, certificate ID, data beyond the award, key unique to the event)`.
    pub(crate) async fn webhook_messages(
        &self,
        conn: &mut recert_store::Conn,
        events: &[(&'static str, String, serde_json::Value, String)],
    ) -> Result<Vec<NewMessage>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let hooks = store::active(conn).await?;
        if hooks.is_empty() {
            return Ok(Vec::new());
        }
        let at = self.now().to_string();
        let mut out = Vec::new();
        for (id, wants) in &hooks {
            for (event, award, data, key) in events {
                if wants.iter().any(|w| w == "*" || w == event) {
                    out.push(NewMessage {
                        channel: "webhook",
                        event,
                        award: Some(award.clone()),
                        dedupe_key: format!("webhook:{id}:{key}"),
                        message: serde_json::json!({
                            "webhook": id, "type": event, "timestamp": at, "data": data,
                        })
                        .to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Queues one event for the webhooks that want it, in the caller's transaction.
    pub(crate) async fn emit(
        &self,
        tx: &mut recert_store::WriteTx,
        event: &'static str,
        award: &str,
        data: serde_json::Value,
        key: String,
    ) -> Result<()> {
        let messages = self
            .webhook_messages(tx.conn(), &[(event, award.to_owned(), data, key)])
            .await?;
        recert_store::notices::enqueue(
            tx.conn(),
            self.store.backend(),
            &messages,
            self.real_now_ms(),
        )
        .await?;
        Ok(())
    }

    /// Delivers one webhook message: the body composed now (the award as the API shows
    /// it), signed, posted; the attempt logged. `Ok` when the endpoint answered 2xx.
    pub(crate) async fn post_webhook(&self, m: &Queued) -> Result<std::result::Result<(), String>> {
        let msg: serde_json::Value = serde_json::from_str(&m.message)
            .map_err(|e| ServiceError::internal(format!("webhook message {}: {e}", m.id)))?;
        let hook_id = msg["webhook"].as_i64().unwrap_or_default();
        let hook = {
            let mut conn = self.store.read().await?;
            store::by_id(&mut conn, hook_id).await?
        };
        let Some(hook) = hook.filter(|h| h.active) else {
            return Ok(Err("cancel: the webhook was deleted".into()));
        };
        let mut data = msg["data"].clone();
        if let Some(cert) = &m.award
            && let Ok(award) = self.award(&Principal::system(), cert, None).await
        {
            data["award"] = serde_json::to_value(award).map_err(ServiceError::internal)?;
        }
        let body =
            serde_json::json!({"type": msg["type"], "timestamp": msg["timestamp"], "data": data})
                .to_string()
                .into_bytes();
        let secret = String::from_utf8(self.kek()?.open(&hook.sealed_secret, SEAL_CONTEXT)?)
            .map_err(|e| ServiceError::internal(format!("webhook secret: {e}")))?;
        let id = message_id(m.id);
        let ts = self.real_now_ms() / 1000;
        let headers = [
            ("webhook-id", id.clone()),
            ("webhook-timestamp", ts.to_string()),
            ("webhook-signature", signature(&secret, &id, ts, &body)?),
        ];
        let started = std::time::Instant::now();
        let answer = crate::webhook_post::post(&hook.url, &headers, body).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, error) = match &answer {
            Ok(s) if (200..300).contains(s) => (Some(i64::from(*s)), None),
            Ok(s) => (Some(i64::from(*s)), Some(format!("answered HTTP {s}"))),
            Err(e) => (None, Some(e.clone())),
        };
        let mut tx = self.store.begin_write().await?;
        store::log_delivery(
            tx.conn(),
            &store::Delivery {
                id: 0,
                webhook_id: hook.id,
                outbox_id: m.id,
                event: m.event.clone(),
                attempt: m.attempts + 1,
                at_ms: self.real_now_ms(),
                status,
                error: error.clone(),
                duration_ms,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(match error {
            None => Ok(()),
            Some(e) => Err(e),
        })
    }
}
