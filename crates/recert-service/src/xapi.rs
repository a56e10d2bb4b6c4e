//! xAPI 1.0.3 intake (SPEC §7): recert answers `/xapi/statements` as a Learning Record
//! Store does, for the LMS connections an admin creates. Every valid statement is stored;
//! `completed` and `passed` statements about a known learner and activity become
//! completions (event id `xapi:<statement id>`) and earn as any completion does.

use crate::auth::Action;
use crate::awards::Context;
use crate::completions::Parsed;
use crate::sessions::{random_token, sha256_hex};
use crate::{Principal, Result, Service, ServiceError};
use recert_domain::Timestamp;
use recert_domain::names::required_text;
use recert_domain::xapi::is_uuid;
use recert_store::audit::NewEvent;
use recert_store::learners::ActorKey;
use recert_store::lms::{self as store, Statement};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The xAPI version recert speaks.
pub const XAPI_VERSION: &str = "1.0.3";
const COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
const PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
/// The most statements one request may carry.
pub const MAX_STATEMENTS: usize = 1000;

/// A request for new LMS credentials.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LmsConnectionDraft {
    pub name: Option<String>,
}

/// New credentials, shown once: the LMS sends `key:secret` as HTTP Basic credentials.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedConnection {
    pub name: String,
    pub key: String,
    pub secret: String,
    /// The LRS endpoint to configure in the LMS.
    pub endpoint: String,
}

/// An LMS connection as listed (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LmsConnectionView {
    pub name: String,
    pub key: String,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Timestamp>,
    pub endpoint: String,
}

/// An authenticated LMS.
#[derive(Debug, Clone)]
pub struct LmsCaller {
    pub id: i64,
    pub name: String,
    pub key: String,
}

/// What the LRS answers for a batch: the statement ids, in order.
pub type StatementIds = Vec<String>;

/// A statement that is not valid xAPI: the LRS answers 400 with this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadStatement(pub String);

use crate::instant as ts;

/// A statement checked against the parts of xAPI 1.0.3 recert relies on.
struct Checked {
    id: Option<String>,
    actor: Option<ActorKey>,
    verb: String,
    object_id: Option<String>,
    timestamp: Option<Timestamp>,
    scaled: Option<f64>,
    raw: Option<f64>,
    max: Option<f64>,
    min: Option<f64>,
    success: Option<bool>,
    completion: Option<bool>,
}

fn new_uuid() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(ServiceError::internal)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn number(v: &Value, at: &str) -> std::result::Result<Option<f64>, BadStatement> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(BadStatement(format!("{at} must be a number"))),
    }
}

fn check(stmt: &Value, at: &str) -> std::result::Result<Checked, BadStatement> {
    let bad = |m: String| BadStatement(format!("{at}: {m}"));
    let obj = stmt
        .as_object()
        .ok_or_else(|| bad("a statement must be a JSON object".into()))?;
    let id = match obj.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_uuid(s) => Some(s.to_lowercase()),
        Some(_) => return Err(bad("id must be a UUID".into())),
    };
    let actor = obj
        .get("actor")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("actor is required".into()))?;
    let mut ifis = Vec::new();
    if let Some(m) = actor.get("mbox") {
        let m = m
            .as_str()
            .and_then(|s| s.strip_prefix("mailto:"))
            .filter(|s| s.contains('@'))
            .ok_or_else(|| bad("actor.mbox must be a mailto: IRI".into()))?;
        ifis.push(ActorKey::Email(m.to_owned()));
    }
    if let Some(s) = actor.get("mbox_sha1sum") {
        let s = s
            .as_str()
            .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| bad("actor.mbox_sha1sum must be 40 hex digits".into()))?;
        ifis.push(ActorKey::MboxSha1(s.to_lowercase()));
    }
    if let Some(a) = actor.get("account") {
        let name = a
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("actor.account.name is required".into()))?;
        if a.get("homePage").and_then(Value::as_str).is_none() {
            return Err(bad("actor.account.homePage is required".into()));
        }
        ifis.push(ActorKey::Account(name.to_owned()));
    }
    let openid = actor.get("openid").is_some();
    let group = actor.get("objectType").and_then(Value::as_str) == Some("Group");
    let identified = ifis.len() + usize::from(openid);
    if identified > 1 {
        return Err(bad(
            "actor must have exactly one of mbox, mbox_sha1sum, openid, account".into(),
        ));
    }
    if identified == 0 && !group {
        return Err(bad(
            "actor needs one of mbox, mbox_sha1sum, openid or account".into(),
        ));
    }
    let verb = obj
        .get("verb")
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str)
        .filter(|s| s.contains(':'))
        .ok_or_else(|| bad("verb.id is required and must be an IRI".into()))?
        .to_owned();
    let object = obj
        .get("object")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("object is required".into()))?;
    let object_type = object
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity");
    let object_id = match object.get("id") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        None if object_type != "Activity" => None,
        _ => return Err(bad("object.id is required for an Activity".into())),
    };
    let timestamp = match obj.get("timestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            s.parse::<Timestamp>()
                .map_err(|_| bad(format!("timestamp {s:?} is not an ISO 8601 instant")))?,
        ),
        Some(_) => return Err(bad("timestamp must be a string".into())),
    };
    let result = obj.get("result").and_then(Value::as_object);
    let score = result.and_then(|r| r.get("score"));
    let field = |name: &str| score.and_then(|s| s.get(name)).unwrap_or(&Value::Null);
    let scaled = number(field("scaled"), &format!("{at}: result.score.scaled"))?;
    if let Some(s) = scaled
        && !(-1.0..=1.0).contains(&s)
    {
        return Err(bad("result.score.scaled must be from -1 to 1".into()));
    }
    let raw = number(field("raw"), &format!("{at}: result.score.raw"))?;
    let max = number(field("max"), &format!("{at}: result.score.max"))?;
    let min = number(field("min"), &format!("{at}: result.score.min"))?;
    if let (Some(r), Some(m)) = (raw, max)
        && r > m
    {
        return Err(bad(
            "result.score.raw must not exceed result.score.max".into()
        ));
    }
    if let (Some(r), Some(m)) = (raw, min)
        && r < m
    {
        return Err(bad(
            "result.score.raw must not be below result.score.min".into()
        ));
    }
    let flag = |name: &str| -> std::result::Result<Option<bool>, BadStatement> {
        match result.and_then(|r| r.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(bad(format!("result.{name} must be true or false"))),
        }
    };
    Ok(Checked {
        id,
        actor: ifis.into_iter().next(),
        verb,
        object_id,
        timestamp,
        scaled,
        raw,
        max,
        min,
        success: flag("success")?,
        completion: flag("completion")?,
    })
}

impl Checked {
    /// The score as a fraction: `scaled`, else (raw − min) / (max − min).
    fn fraction(&self) -> Option<f64> {
        if let Some(s) = self.scaled {
            return Some(s.max(0.0));
        }
        match (self.raw, self.max) {
            (Some(r), Some(m)) => {
                let min = self.min.unwrap_or(0.0);
                (m > min).then(|| ((r - min) / (m - min)).clamp(0.0, 1.0))
            }
            _ => None,
        }
    }
}

/// Two copies of a statement are the same if they agree apart from what the LRS adds.
fn same_statement(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            for k in ["stored", "authority", "version", "timestamp", "id"] {
                o.remove(k);
            }
        }
        v
    };
    strip(a) == strip(b)
}

impl Service {
    /// Creates LMS credentials (shown once).
    pub async fn create_lms_connection(
        &self,
        who: &Principal,
        draft: LmsConnectionDraft,
    ) -> Result<CreatedConnection> {
        who.require(Action::Administer)?;
        let name = required_text("name", draft.name.as_deref().unwrap_or(""), 100)?;
        let mut tx = self.store.begin_write().await?;
        if store::by_name(tx.conn(), &name).await?.is_some() {
            return Err(ServiceError::field(
                "name",
                format!("an LMS connection named {name:?} already exists"),
            ));
        }
        let key = format!("lms_{}", random_token(12)?);
        let secret = random_token(24)?;
        let record = store::Connection {
            id: 0,
            name: name.clone(),
            key: key.clone(),
            secret_hash: sha256_hex(&secret),
            created_by: who.name.clone(),
            created_at_ms: self.now_ms(),
            revoked_at_ms: None,
            last_used_at_ms: None,
        };
        store::insert(tx.conn(), &record).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "lms_connection.created",
            subject_type: "lms_connection",
            subject_id: &name,
            before: None,
            after: Some(json!({ "name": name, "key": key })),
        })
        .await?;
        tx.commit().await?;
        Ok(CreatedConnection {
            name,
            key,
            secret,
            endpoint: format!("{}/xapi/", self.base_url()),
        })
    }

    pub async fn lms_connections(&self, who: &Principal) -> Result<Vec<LmsConnectionView>> {
        who.require(Action::Administer)?;
        let mut conn = self.store.read().await?;
        store::list(&mut conn)
            .await?
            .into_iter()
            .map(|c| {
                Ok(LmsConnectionView {
                    name: c.name,
                    key: c.key,
                    created_by: c.created_by,
                    created_at: ts(c.created_at_ms)?,
                    last_used_at: c.last_used_at_ms.map(ts).transpose()?,
                    revoked_at: c.revoked_at_ms.map(ts).transpose()?,
                    endpoint: format!("{}/xapi/", self.base_url()),
                })
            })
            .collect()
    }

    /// Revokes an LMS connection: its credentials stop working at once.
    pub async fn revoke_lms_connection(&self, who: &Principal, name: &str) -> Result<()> {
        who.require(Action::Administer)?;
        let mut tx = self.store.begin_write().await?;
        let c = store::by_name(tx.conn(), name)
            .await?
            .ok_or_else(|| ServiceError::not_found("LMS connection", name))?;
        if c.revoked_at_ms.is_some() {
            return Ok(());
        }
        store::revoke(tx.conn(), c.id, self.now_ms()).await?;
        tx.audit(NewEvent {
            at: self.now(),
            actor: &who.name,
            action: "lms_connection.revoked",
            subject_type: "lms_connection",
            subject_id: name,
            before: None,
            after: None,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks HTTP Basic credentials of an LMS connection.
    pub async fn authenticate_lms(&self, key: &str, secret: &str) -> Result<LmsCaller> {
        let mut conn = self.store.read().await?;
        let c = store::by_key(&mut conn, key)
            .await?
            .filter(|c| c.revoked_at_ms.is_none())
            .ok_or(ServiceError::Unauthenticated)?;
        // Both sides are hashes of the same length: comparing every byte keeps the time flat.
        let given = sha256_hex(secret);
        let differ = given
            .bytes()
            .zip(c.secret_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differ != 0 || given.len() != c.secret_hash.len() {
            return Err(ServiceError::Unauthenticated);
        }
        Ok(LmsCaller {
            id: c.id,
            name: c.name,
            key: c.key,
        })
    }

    /// Stores statements (POST: one or many; PUT: one, with `put_id`). All are checked
    /// first: one bad statement refuses the batch, as an LRS does.
    pub async fn store_statements(
        &self,
        lms: &LmsCaller,
        body: Value,
        put_id: Option<&str>,
    ) -> Result<std::result::Result<StatementIds, BadStatement>> {
        let mut list = match body {
            Value::Array(a) if put_id.is_none() => a,
            Value::Array(_) => {
                return Ok(Err(BadStatement(
                    "PUT takes a single statement, not an array".into(),
                )));
            }
            other => vec![other],
        };
        if list.is_empty() {
            return Ok(Err(BadStatement("no statements were sent".into())));
        }
        if list.len() > MAX_STATEMENTS {
            return Ok(Err(BadStatement(format!(
                "at most {MAX_STATEMENTS} statements per request; this one has {}",
                list.len()
            ))));
        }
        let put_id = match put_id {
            Some(p) if is_uuid(p) => Some(p.to_lowercase()),
            Some(_) => return Ok(Err(BadStatement("statementId must be a UUID".into()))),
            None => None,
        };
        let mut checked = Vec::with_capacity(list.len());
        let many = list.len() > 1;
        for (i, s) in list.iter_mut().enumerate() {
            let at = if many {
                format!("statement {i}")
            } else {
                "statement".to_owned()
            };
            // The structure first (xAPI 1.0.3, every property), then what recert reads of it.
            if let Err(e) = recert_domain::xapi::validate(s) {
                return Ok(Err(BadStatement(format!("{at}: {e}"))));
            }
            match check(s, &at) {
                Ok(mut c) => {
                    if let Some(p) = &put_id {
                        match &c.id {
                            Some(id) if id != p => {
                                return Ok(Err(BadStatement(
                                    "the statement's id differs from statementId".into(),
                                )));
                            }
                            _ => c.id = Some(p.clone()),
                        }
                    }
                    checked.push(c);
                }
                Err(e) => return Ok(Err(e)),
            }
        }
        let mut seen = std::collections::HashSet::new();
        for c in &checked {
            if let Some(id) = &c.id
                && !seen.insert(id.clone())
            {
                return Ok(Err(BadStatement(format!(
                    "statement id {id} appears twice in one request"
                ))));
            }
        }

        // The learners and programs the statements name are read before the write lock.
        let mut conn = self.store.read().await?;
        let objects: Vec<String> = checked.iter().filter_map(|c| c.object_id.clone()).collect();
        let ctx = Context::for_items(&mut conn, &objects).await?;
        let mut learners = Vec::with_capacity(checked.len());
        for c in &checked {
            learners.push(match &c.actor {
                Some(key) => recert_store::learners::by_actor(&mut conn, key).await?,
                None => None,
            });
        }
        drop(conn);
        let mut tx = self.store.begin_write().await?;
        let actor = format!("lms:{}", lms.name);
        let mut ids = Vec::with_capacity(checked.len());
        for ((c, original), learner) in checked.into_iter().zip(list).zip(learners) {
            let id = match &c.id {
                Some(id) => id.clone(),
                None => new_uuid()?,
            };
            if let Some(prior) = store::statement(tx.conn(), &id).await? {
                if !same_statement(&prior.statement, &original) {
                    return Err(ServiceError::Conflict(format!(
                        "statement {id} is already stored with different content"
                    )));
                }
                ids.push(id);
                continue;
            }
            let stored_at = self.now();
            let mut full = original;
            if let Some(o) = full.as_object_mut() {
                o.insert("id".into(), json!(id));
                o.insert("stored".into(), json!(stored_at.to_string()));
                o.entry("timestamp")
                    .or_insert_with(|| json!(stored_at.to_string()));
                o.insert(
                    "authority".into(),
                    json!({"objectType": "Agent", "name": lms.name,
                           "account": {"homePage": self.base_url(), "name": lms.key}}),
                );
                o.entry("version").or_insert_with(|| json!(XAPI_VERSION));
            }
            let index = recert_domain::xapi::index(&full);
            if let Some(target) = &index.voids
                && let Some(t) = store::statement(tx.conn(), target).await?
                && t.verb == recert_domain::xapi::VOIDED
            {
                return Ok(Err(BadStatement(format!(
                    "statement {target} voids another statement and cannot itself be voided"
                ))));
            }
            let outcome = self
                .statement_completion(&mut tx, &ctx, &actor, &c, &id, stored_at, learner.clone())
                .await?;
            store::insert_statement(
                tx.conn(),
                &Statement {
                    id: id.clone(),
                    connection_id: Some(lms.id),
                    stored_at_ms: stored_at.as_millisecond(),
                    verb: c.verb.clone(),
                    object_id: c.object_id.clone(),
                    learner_id: learner.as_ref().map(|l| l.0),
                    statement: full,
                    outcome,
                    voided: false,
                },
                &index,
            )
            .await?;
            // The voided statement is kept, answered only by voidedStatementId from now on.
            if let Some(target) = &index.voids {
                store::void(tx.conn(), target).await?;
            }
            ids.push(id);
        }
        store::touch(tx.conn(), lms.id, self.now_ms()).await?;
        tx.commit().await?;
        Ok(Ok(ids))
    }

    /// Turns a `completed`/`passed` statement about a known learner into a completion;
    /// says in words what happened either way.
    #[allow(clippy::too_many_arguments)]
    async fn statement_completion(
        &self,
        tx: &mut recert_store::WriteTx,
        ctx: &Context,
        actor: &str,
        c: &Checked,
        id: &str,
        stored_at: Timestamp,
        learner: Option<(i64, recert_domain::Username, String)>,
    ) -> Result<String> {
        if c.verb != COMPLETED && c.verb != PASSED {
            return Ok(format!("stored; the verb {} earns nothing", c.verb));
        }
        let Some(object_id) = &c.object_id else {
            return Ok("stored; the object is not an activity".into());
        };
        let Some((learner_id, username, legal_name)) = learner else {
            return Ok(
                "stored; the actor matches no learner (by e-mail, mbox_sha1sum, username or external id)".into(),
            );
        };
        if c.completion == Some(false) {
            return Ok("stored; result.completion is false".into());
        }
        let when = c.timestamp.unwrap_or(stored_at);
        let passed = match (c.success, c.verb.as_str()) {
            (Some(s), _) => Some(s),
            (None, PASSED) => Some(true),
            (None, _) => None,
        };
        let fraction = c.fraction();
        let parsed = Parsed {
            event_id: format!("xapi:{id}"),
            learner_id,
            username,
            legal_name,
            item: object_id.clone(),
            completed: crate::completions::CompletedAt::At(when),
            score: fraction,
            max_score: None,
            passed,
            content_version: None,
            source: actor.replacen("lms:", "xapi:", 1),
        };
        let view = self.record_parsed(tx, actor, ctx, parsed).await?;
        Ok(format!("completion recorded: {}", view.message))
    }

    /// One stored statement, as the LRS returns it: by `statementId` (`voided` false) one
    /// that is not voided, by `voidedStatementId` (`voided` true) one that is. An LMS reads
    /// only what it sent: the statements of other connections name other systems' learners.
    pub async fn statement(
        &self,
        lms: &LmsCaller,
        id: &str,
        voided: bool,
        ids_only: bool,
    ) -> Result<Value> {
        let mut conn = self.store.read().await?;
        let s = store::statement(&mut conn, &id.to_lowercase())
            .await?
            .filter(|s| s.connection_id == Some(lms.id) && s.voided == voided)
            .ok_or_else(|| {
                ServiceError::not_found(
                    if voided {
                        "voided statement"
                    } else {
                        "statement"
                    },
                    id,
                )
            })?;
        Ok(if ids_only {
            recert_domain::xapi::ids_format(&s.statement)
        } else {
            s.statement
        })
    }

    /// The connection's statements a query matches, a page at a time (the LRS answers them
    /// as a StatementResult whose `more` leads to the next page).
    pub async fn statements(&self, lms: &LmsCaller, q: &StatementQuery) -> Result<StatementPage> {
        let mut conn = self.store.read().await?;
        let mut filter = q.filter.clone();
        filter.registration = filter.registration.map(|r| r.to_lowercase());
        let mut query = store::StatementQuery {
            connection_id: lms.id,
            filter,
            since_ms: q.since.map(|t| t.as_millisecond()),
            until_ms: q.until.map(|t| t.as_millisecond()),
            after: None,
            limit: match q.limit {
                Some(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => MAX_PAGE,
            },
        };
        if let Some(c) = &q.cursor {
            query.after = Some(decode_cursor(c).ok_or_else(|| {
                ServiceError::field("cursor", "is not one this LRS gave in `more`")
            })?);
        }
        let mut found = store::find_statements(&mut conn, &query).await?;
        let more = found.len() as i64 > query.limit;
        found.truncate(query.limit as usize);
        let next_cursor = match found.last() {
            Some(last) if more => Some(encode_cursor(last.stored_at_ms, &last.id)),
            _ => None,
        };
        let statements: Vec<Value> = found
            .into_iter()
            .map(|s| {
                if q.ids_only {
                    recert_domain::xapi::ids_format(&s.statement)
                } else {
                    s.statement
                }
            })
            .collect();
        Ok(StatementPage {
            statements,
            next_cursor,
        })
    }

    /// Indexes statements stored before the index existed (migration 0023), at start.
    pub(crate) async fn index_old_statements(&self, tx: &mut recert_store::WriteTx) -> Result<()> {
        loop {
            let batch = store::unindexed(tx.conn(), 500).await?;
            if batch.is_empty() {
                return Ok(());
            }
            for s in batch {
                store::set_index(tx.conn(), &s.id, &recert_domain::xapi::index(&s.statement))
                    .await?;
            }
        }
    }

    /// What recert did with each recent statement (for the LMS connections page).
    pub async fn statement_log(&self, who: &Principal, limit: i64) -> Result<Vec<StatementLog>> {
        who.require(Action::Administer)?;
        let mut conn = self.store.read().await?;
        let conns = store::list(&mut conn).await?;
        store::recent_statements(&mut conn, None, limit)
            .await?
            .into_iter()
            .map(|s| {
                Ok(StatementLog {
                    id: s.id,
                    connection: conns
                        .iter()
                        .find(|c| Some(c.id) == s.connection_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    stored_at: ts(s.stored_at_ms)?,
                    verb: s.verb,
                    object_id: s.object_id,
                    outcome: s.outcome,
                })
            })
            .collect()
    }
}

/// A stored statement in the statement log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatementLog {
    pub id: String,
    pub connection: String,
    #[schema(value_type = String, format = DateTime)]
    pub stored_at: Timestamp,
    pub verb: String,
    pub object_id: Option<String>,
    pub outcome: String,
}

pub use recert_store::lms::StatementFilter;

/// Statements per page at most (and when `limit` is 0 or absent).
pub const MAX_PAGE: i64 = 500;

/// A statement query as the LRS receives it (xAPI 1.0.3 Part 3, 2.1.3), parsed.
#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    pub filter: StatementFilter,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub limit: Option<i64>,
    /// `format=ids`.
    pub ids_only: bool,
    /// From a previous answer's `more`.
    pub cursor: Option<String>,
}

/// A page's place: the stored instant and id of its last statement.
fn encode_cursor(stored_at_ms: i64, id: &str) -> String {
    format!("{stored_at_ms}.{id}")
}

fn decode_cursor(c: &str) -> Option<(i64, String)> {
    let (at, id) = c.split_once('.')?;
    is_uuid(id).then(|| Some((at.parse().ok()?, id.to_owned())))?
}

/// A page of statements and the cursor of the next one, if any.
#[derive(Debug, Clone)]
pub struct StatementPage {
    pub statements: Vec<Value>,
    pub next_cursor: Option<String>,
}
