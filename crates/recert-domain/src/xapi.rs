//! The structure of an xAPI 1.0.3 statement (Part 2 of the specification, "Statement
//! Properties"): what an LRS must refuse with 400 before looking at what a statement means.
//!
//! [`validate`] walks the whole statement once, naming the first property at fault by its
//! path (`context.registration`, `object.definition.name.en-US`), and normalizes what the
//! specification lets clients abbreviate (`contextActivities` given as one object becomes a
//! one-element array), so stored statements are returned in the canonical form.
//!
//! Rules, each tested in the table at the end:
//! - only the properties the specification defines, at every level outside `extensions`
//!   (whose values are the client's own) — nothing else, and nothing `null`;
//! - `id`, `context.registration` and StatementRef ids are UUIDs;
//! - an Agent has exactly one inverse functional identifier (`mbox` a `mailto:` IRI,
//!   `mbox_sha1sum` 40 hex digits, `openid` an IRI, `account` with `homePage` and `name`)
//!   and no `member`; a Group is `objectType: "Group"`, its members Agents, and an
//!   anonymous Group lists its members;
//! - `verb.id`, Activity ids, `definition.type`, extension keys and attachment `usageType`
//!   are absolute IRIs; `display`, `name` and `description` are language maps;
//! - `result.success`/`completion` are booleans, `score.scaled` is from -1 to 1, `min` ≤
//!   `raw` ≤ `max`, `duration` is an ISO 8601 duration;
//! - `timestamp` and `stored` are ISO 8601 instants with a zone;
//! - `version` is 1.0.x; a SubStatement holds no `id`, `stored`, `version`, `authority`
//!   and no SubStatement; `context.revision` and `platform` only about an Activity;
//! - interaction components (`choices`, `scale`, `source`, `target`, `steps`) and
//!   `correctResponsesPattern` only with an `interactionType` that uses them;
//! - a Group `authority` has exactly two members (OAuth's consumer and user);
//! - a voiding statement's object is a StatementRef.

use serde_json::{Map, Value};

/// The first rule a statement breaks, worded for the client.
pub type Invalid = String;

type Checked = Result<(), Invalid>;

/// Checks a statement and brings it to canonical form.
pub fn validate(statement: &mut Value) -> Checked {
    let obj = as_object(statement, "statement")?;
    statement_body(obj, "", false)
}

fn at(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn as_object<'a>(v: &'a mut Value, path: &str) -> Result<&'a mut Map<String, Value>, Invalid> {
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Err(format!("{path} must not be null")),
        _ => Err(format!("{path} must be a JSON object")),
    }
}

/// Refuses properties outside `allowed` and any that is `null`.
fn only(obj: &Map<String, Value>, path: &str, allowed: &[&str]) -> Checked {
    for (k, v) in obj {
        let here = at(path, k);
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{here} is not a property xAPI 1.0.3 defines here (allowed: {})",
                allowed.join(", ")
            ));
        }
        if v.is_null() {
            return Err(format!("{here} must not be null: leave it out instead"));
        }
    }
    Ok(())
}

fn text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Invalid> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{} must be a string", at(path, key))),
    }
}

fn required_text<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, Invalid> {
    text(obj, key, path)?.ok_or_else(|| format!("{} is required", at(path, key)))
}

/// An absolute IRI: a scheme, a colon, and no spaces.
pub fn is_iri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An IRL: an IRI one can fetch (http or https).
fn is_irl(s: &str) -> bool {
    is_iri(s) && (s.starts_with("http://") || s.starts_with("https://"))
}

/// A UUID in its canonical text form.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// An RFC 5646 language tag, as far as its shape goes (`en`, `en-US`, `zh-Hant-TW`).
fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    parts
        .next()
        .is_some_and(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic()))
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// An ISO 8601 duration such as `PT1H30M`, `P1DT2.5S`, `P3W`.
pub fn is_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P') else {
        return false;
    };
    if rest.is_empty() {
        return false;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return false,
        None => (rest, None),
    };
    fn units(s: &str, allowed: &[char]) -> bool {
        let mut number = String::new();
        let mut last = None::<usize>;
        for c in s.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(c);
                continue;
            }
            let Some(pos) = allowed.iter().position(|u| *u == c) else {
                return false;
            };
            if number.is_empty()
                || number.parse::<f64>().is_err()
                    && number.replace(',', ".").parse::<f64>().is_err()
            {
                return false;
            }
            if last.is_some_and(|l| pos <= l) {
                return false;
            }
            last = Some(pos);
            number.clear();
        }
        number.is_empty()
    }
    units(date, &['Y', 'M', 'W', 'D']) && time.is_none_or(|t| units(t, &['H', 'M', 'S']))
}

/// An ISO 8601 instant with a zone (`Z` or an offset).
fn is_instant(s: &str) -> bool {
    s.parse::<jiff::Timestamp>().is_ok()
}

fn iri_at(obj: &Map<String, Value>, key: &str, path: &str, required: bool) -> Checked {
    match text(obj, key, path)? {
        Some(s) if is_iri(s) => Ok(()),
        Some(s) => Err(format!(
            "{} must be an absolute IRI, not {s:?}",
            at(path, key)
        )),
        None if required => Err(format!("{} is required", at(path, key))),
        None => Ok(()),
    }
}

fn language_map(v: &Value, path: &str) -> Checked {
    let Value::Object(m) = v else {
        return Err(format!(
            "{path} must be a language map (an object of language tags)"
        ));
    };
    for (tag, text) in m {
        if !is_language_tag(tag) {
            return Err(format!("{path}: {tag:?} is not an RFC 5646 language tag"));
        }
        if !text.is_string() {
            return Err(format!("{path}.{tag} must be a string"));
        }
    }
    Ok(())
}

fn extensions(v: &Value, path: &str) -> Checked {
    let Value::Object(m) = v else {
        return Err(format!("{path} must be an object keyed by IRIs"));
    };
    for k in m.keys() {
        if !is_iri(k) {
            return Err(format!("{path}: the key {k:?} is not an absolute IRI"));
        }
    }
    Ok(())
}

fn statement_body(obj: &mut Map<String, Value>, path: &str, sub: bool) -> Checked {
    let allowed: &[&str] = if sub {
        &[
            "objectType",
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "attachments",
        ]
    } else {
        &[
            "id",
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "stored",
            "authority",
            "version",
            "attachments",
        ]
    };
    only(obj, path, allowed)?;
    if !sub {
        if let Some(id) = text(obj, "id", path)?
            && !is_uuid(id)
        {
            return Err(format!("id {id:?} is not a UUID"));
        }
        if let Some(v) = text(obj, "version", path)?
            && !(v == "1.0" || v.starts_with("1.0."))
        {
            return Err(format!(
                "version {v:?} is not 1.0.x: this LRS speaks xAPI 1.0.3"
            ));
        }
        if let Some(s) = text(obj, "stored", path)?
            && !is_instant(s)
        {
            return Err(format!(
                "stored {s:?} is not an ISO 8601 instant with a zone"
            ));
        }
        if let Some(a) = obj.get_mut("authority") {
            actor(a, "authority")?;
            // A Group authority is OAuth's pair: the application and the user.
            if let Some(members) = a.get("member").and_then(Value::as_array)
                && members.len() != 2
            {
                return Err(format!(
                    "authority: a Group authority has exactly two members (the OAuth consumer and user), not {}",
                    members.len()
                ));
            }
        }
        // Voiding names the statement it voids.
        let voids = obj
            .get("verb")
            .and_then(|v| v.get("id"))
            .and_then(Value::as_str)
            == Some(VOIDED);
        let object_type = obj
            .get("object")
            .and_then(|o| o.get("objectType"))
            .and_then(Value::as_str);
        if voids && object_type != Some("StatementRef") {
            return Err(
                "object: a voiding statement's object is a StatementRef to the statement it voids"
                    .into(),
            );
        }
    }
    match obj.get_mut("actor") {
        Some(a) => actor(a, &at(path, "actor"))?,
        None => return Err(format!("{} is required", at(path, "actor"))),
    }
    match obj.get_mut("verb") {
        Some(v) => verb(v, &at(path, "verb"))?,
        None => return Err(format!("{} is required", at(path, "verb"))),
    }
    let object_is_activity = match obj.get_mut("object") {
        Some(o) => object(o, &at(path, "object"), sub)?,
        None => return Err(format!("{} is required", at(path, "object"))),
    };
    if let Some(r) = obj.get_mut("result") {
        result(r, &at(path, "result"))?;
    }
    if let Some(c) = obj.get_mut("context") {
        context(c, &at(path, "context"), object_is_activity)?;
    }
    if let Some(t) = text(obj, "timestamp", path)?
        && !is_instant(t)
    {
        return Err(format!(
            "{} {t:?} is not an ISO 8601 instant with a zone",
            at(path, "timestamp")
        ));
    }
    if let Some(a) = obj.get_mut("attachments") {
        attachments(a, &at(path, "attachments"))?;
    }
    Ok(())
}

const AGENT: &[&str] = &[
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
];
const GROUP: &[&str] = &[
    "objectType",
    "name",
    "mbox",
    "mbox_sha1sum",
    "openid",
    "account",
    "member",
];

/// How many inverse functional identifiers an Agent or Group has, each checked.
fn identifiers(obj: &Map<String, Value>, path: &str) -> Result<usize, Invalid> {
    let mut n = 0;
    if let Some(m) = text(obj, "mbox", path)? {
        let ok = m
            .strip_prefix("mailto:")
            .is_some_and(|a| a.contains('@') && !a.contains(char::is_whitespace));
        if !ok {
            return Err(format!("{path}.mbox must be a mailto: IRI, not {m:?}"));
        }
        n += 1;
    }
    if let Some(s) = text(obj, "mbox_sha1sum", path)? {
        if !(s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!("{path}.mbox_sha1sum must be 40 hex digits"));
        }
        n += 1;
    }
    if obj.contains_key("openid") {
        iri_at(obj, "openid", path, true)?;
        n += 1;
    }
    if let Some(a) = obj.get("account") {
        let here = at(path, "account");
        let Value::Object(a) = a else {
            return Err(format!("{here} must be an object"));
        };
        only(a, &here, &["homePage", "name"])?;
        match text(a, "homePage", &here)? {
            Some(h) if is_irl(h) => {}
            Some(h) => return Err(format!("{here}.homePage must be an IRL, not {h:?}")),
            None => return Err(format!("{here}.homePage is required")),
        }
        required_text(a, "name", &here)?;
        n += 1;
    }
    Ok(n)
}

/// An Agent or a Group (actor, authority, instructor, an object that is one).
fn actor(v: &mut Value, path: &str) -> Checked {
    let obj = as_object(v, path)?;
    let kind = text(obj, "objectType", path)?.unwrap_or("Agent").to_owned();
    match kind.as_str() {
        "Agent" => agent(obj, path),
        "Group" => group(obj, path),
        other => Err(format!(
            "{path}.objectType {other:?} is neither Agent nor Group"
        )),
    }
}

fn agent(obj: &Map<String, Value>, path: &str) -> Checked {
    if obj.contains_key("member") {
        return Err(format!(
            "{path}.member belongs to a Group: an Agent has no members (set objectType \"Group\")"
        ));
    }
    only(obj, path, AGENT)?;
    text(obj, "name", path)?;
    match identifiers(obj, path)? {
        1 => Ok(()),
        0 => Err(format!(
            "{path} needs one of mbox, mbox_sha1sum, openid or account"
        )),
        _ => Err(format!(
            "{path} must have exactly one of mbox, mbox_sha1sum, openid and account"
        )),
    }
}

fn group(obj: &mut Map<String, Value>, path: &str) -> Checked {
    only(obj, path, GROUP)?;
    text(obj, "name", path)?;
    let ids = identifiers(obj, path)?;
    if ids > 1 {
        return Err(format!(
            "{path} must have at most one of mbox, mbox_sha1sum, openid and account"
        ));
    }
    match obj.get_mut("member") {
        Some(Value::Array(members)) => {
            for (i, m) in members.iter_mut().enumerate() {
                let here = format!("{path}.member[{i}]");
                let mo = as_object(m, &here)?;
                match text(mo, "objectType", &here)? {
                    None | Some("Agent") => agent(mo, &here)?,
                    Some(_) => return Err(format!("{here} must be an Agent: Groups do not nest")),
                }
            }
            if ids == 0 && members.is_empty() {
                return Err(format!("{path}: an anonymous Group must list its members"));
            }
            Ok(())
        }
        Some(_) => Err(format!("{path}.member must be an array of Agents")),
        None if ids == 0 => Err(format!(
            "{path}: an anonymous Group (no identifier) must list its members"
        )),
        None => Ok(()),
    }
}

fn verb(v: &mut Value, path: &str) -> Checked {
    let obj = as_object(v, path)?;
    only(obj, path, &["id", "display"])?;
    iri_at(obj, "id", path, true)?;
    if let Some(d) = obj.get("display") {
        language_map(d, &at(path, "display"))?;
    }
    Ok(())
}

/// The object of a statement; answers whether it is an Activity.
fn object(v: &mut Value, path: &str, in_sub: bool) -> Result<bool, Invalid> {
    let obj = as_object(v, path)?;
    let kind = text(obj, "objectType", path)?
        .unwrap_or("Activity")
        .to_owned();
    match kind.as_str() {
        "Activity" => {
            activity(obj, path)?;
            Ok(true)
        }
        "Agent" => agent(obj, path).map(|()| false),
        "Group" => group(obj, path).map(|()| false),
        "StatementRef" => statement_ref(obj, path).map(|()| false),
        "SubStatement" if in_sub => Err(format!("{path}: a SubStatement cannot hold another")),
        "SubStatement" => statement_body(obj, path, true).map(|()| false),
        other => Err(format!(
            "{path}.objectType {other:?} is not Activity, Agent, Group, StatementRef or SubStatement"
        )),
    }
}

fn statement_ref(obj: &Map<String, Value>, path: &str) -> Checked {
    only(obj, path, &["objectType", "id"])?;
    match text(obj, "id", path)? {
        Some(id) if is_uuid(id) => Ok(()),
        Some(id) => Err(format!("{path}.id {id:?} is not a UUID")),
        None => Err(format!("{path}.id is required")),
    }
}

const INTERACTION_TYPES: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

fn activity(obj: &mut Map<String, Value>, path: &str) -> Checked {
    only(obj, path, &["objectType", "id", "definition"])?;
    iri_at(obj, "id", path, true)?;
    let Some(d) = obj.get_mut("definition") else {
        return Ok(());
    };
    let here = at(path, "definition");
    let d = as_object(d, &here)?;
    only(
        d,
        &here,
        &[
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            "choices",
            "scale",
            "source",
            "target",
            "steps",
        ],
    )?;
    for key in ["name", "description"] {
        if let Some(m) = d.get(key) {
            language_map(m, &at(&here, key))?;
        }
    }
    iri_at(d, "type", &here, false)?;
    if let Some(m) = text(d, "moreInfo", &here)?
        && !is_irl(m)
    {
        return Err(format!("{here}.moreInfo must be an IRL, not {m:?}"));
    }
    if let Some(e) = d.get("extensions") {
        extensions(e, &at(&here, "extensions"))?;
    }
    if let Some(t) = text(d, "interactionType", &here)?
        && !INTERACTION_TYPES.contains(&t)
    {
        return Err(format!(
            "{here}.interactionType {t:?} is not one xAPI defines"
        ));
    }
    if let Some(p) = d.get("correctResponsesPattern") {
        let ok = p.as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !ok {
            return Err(format!(
                "{here}.correctResponsesPattern must be an array of strings"
            ));
        }
    }
    // Interaction components belong to the interaction types that use them, and none may
    // be given without an interactionType.
    let interaction = d.get("interactionType").and_then(Value::as_str);
    for (key, types) in [
        ("choices", &["choice", "sequencing"][..]),
        ("scale", &["likert"][..]),
        ("source", &["matching"][..]),
        ("target", &["matching"][..]),
        ("steps", &["performance"][..]),
    ] {
        if d.contains_key(key) && !interaction.is_some_and(|t| types.contains(&t)) {
            return Err(format!(
                "{here}.{key} belongs to an interactionType of {}",
                types.join(" or ")
            ));
        }
    }
    if d.contains_key("correctResponsesPattern") && interaction.is_none() {
        return Err(format!(
            "{here}.correctResponsesPattern needs an interactionType"
        ));
    }
    for key in ["choices", "scale", "source", "target", "steps"] {
        let Some(list) = d.get(key) else { continue };
        let list_at = at(&here, key);
        let Value::Array(items) = list else {
            return Err(format!(
                "{list_at} must be an array of interaction components"
            ));
        };
        for (i, c) in items.iter().enumerate() {
            let c_at = format!("{list_at}[{i}]");
            let Value::Object(c) = c else {
                return Err(format!("{c_at} must be an object"));
            };
            only(c, &c_at, &["id", "description"])?;
            required_text(c, "id", &c_at)?;
            if let Some(m) = c.get("description") {
                language_map(m, &at(&c_at, "description"))?;
            }
        }
    }
    Ok(())
}

fn result(v: &mut Value, path: &str) -> Checked {
    let obj = as_object(v, path)?;
    only(
        obj,
        path,
        &[
            "score",
            "success",
            "completion",
            "response",
            "duration",
            "extensions",
        ],
    )?;
    for key in ["success", "completion"] {
        if let Some(b) = obj.get(key)
            && !b.is_boolean()
        {
            return Err(format!("{} must be true or false, not {b}", at(path, key)));
        }
    }
    text(obj, "response", path)?;
    if let Some(d) = text(obj, "duration", path)?
        && !is_duration(d)
    {
        return Err(format!("{path}.duration {d:?} is not an ISO 8601 duration"));
    }
    if let Some(e) = obj.get("extensions") {
        extensions(e, &at(path, "extensions"))?;
    }
    if let Some(s) = obj.get_mut("score") {
        let here = at(path, "score");
        let s = as_object(s, &here)?;
        only(s, &here, &["scaled", "raw", "min", "max"])?;
        let n = |k: &str| -> Result<Option<f64>, Invalid> {
            match s.get(k) {
                None => Ok(None),
                Some(Value::Number(x)) => Ok(x.as_f64()),
                Some(_) => Err(format!("{here}.{k} must be a number")),
            }
        };
        let (scaled, raw, min, max) = (n("scaled")?, n("raw")?, n("min")?, n("max")?);
        if scaled.is_some_and(|x| !(-1.0..=1.0).contains(&x)) {
            return Err(format!("{here}.scaled must be from -1 to 1"));
        }
        if let (Some(lo), Some(hi)) = (min, max)
            && lo >= hi
        {
            return Err(format!("{here}.min must be below {here}.max"));
        }
        if let (Some(r), Some(hi)) = (raw, max)
            && r > hi
        {
            return Err(format!("{here}.raw must not exceed {here}.max"));
        }
        if let (Some(r), Some(lo)) = (raw, min)
            && r < lo
        {
            return Err(format!("{here}.raw must not be below {here}.min"));
        }
    }
    Ok(())
}

fn context(v: &mut Value, path: &str, about_activity: bool) -> Checked {
    let obj = as_object(v, path)?;
    only(
        obj,
        path,
        &[
            "registration",
            "instructor",
            "team",
            "contextActivities",
            "revision",
            "platform",
            "language",
            "statement",
            "extensions",
        ],
    )?;
    if let Some(r) = text(obj, "registration", path)?
        && !is_uuid(r)
    {
        return Err(format!("{path}.registration {r:?} is not a UUID"));
    }
    for key in ["revision", "platform"] {
        if text(obj, key, path)?.is_some() && !about_activity {
            return Err(format!(
                "{} is only for statements about an Activity",
                at(path, key)
            ));
        }
    }
    if let Some(l) = text(obj, "language", path)?
        && !is_language_tag(l)
    {
        return Err(format!(
            "{path}.language {l:?} is not an RFC 5646 language tag"
        ));
    }
    if let Some(i) = obj.get_mut("instructor") {
        actor(i, &at(path, "instructor"))?;
    }
    if let Some(t) = obj.get_mut("team") {
        let here = at(path, "team");
        let tobj = as_object(t, &here)?;
        if text(tobj, "objectType", &here)? != Some("Group") {
            return Err(format!("{here} must be a Group (objectType \"Group\")"));
        }
        group(tobj, &here)?;
    }
    if let Some(s) = obj.get_mut("statement") {
        let here = at(path, "statement");
        let sobj = as_object(s, &here)?;
        if text(sobj, "objectType", &here)? != Some("StatementRef") {
            return Err(format!("{here} must be a StatementRef"));
        }
        statement_ref(sobj, &here)?;
    }
    if let Some(e) = obj.get("extensions") {
        extensions(e, &at(path, "extensions"))?;
    }
    if let Some(ca) = obj.get_mut("contextActivities") {
        let here = at(path, "contextActivities");
        let ca = as_object(ca, &here)?;
        only(ca, &here, &["parent", "grouping", "category", "other"])?;
        for (key, list) in ca.iter_mut() {
            // One Activity may be given on its own; it is kept as the array it stands for.
            if list.is_object() {
                *list = Value::Array(vec![list.take()]);
            }
            let list_at = at(&here, key);
            let Value::Array(items) = list else {
                return Err(format!("{list_at} must be an Activity or an array of them"));
            };
            for (i, a) in items.iter_mut().enumerate() {
                let a_at = format!("{list_at}[{i}]");
                let aobj = as_object(a, &a_at)?;
                match text(aobj, "objectType", &a_at)? {
                    None | Some("Activity") => activity(aobj, &a_at)?,
                    Some(_) => return Err(format!("{a_at} must be an Activity")),
                }
            }
        }
    }
    Ok(())
}

fn attachments(v: &mut Value, path: &str) -> Checked {
    let Value::Array(items) = v else {
        return Err(format!("{path} must be an array"));
    };
    for (i, a) in items.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let Value::Object(a) = a else {
            return Err(format!("{here} must be an object"));
        };
        only(
            a,
            &here,
            &[
                "usageType",
                "display",
                "description",
                "contentType",
                "length",
                "sha2",
                "fileUrl",
            ],
        )?;
        iri_at(a, "usageType", &here, true)?;
        match a.get("display") {
            Some(d) => language_map(d, &at(&here, "display"))?,
            None => return Err(format!("{here}.display is required")),
        }
        if let Some(d) = a.get("description") {
            language_map(d, &at(&here, "description"))?;
        }
        required_text(a, "contentType", &here)?;
        if a.get("length").is_none_or(|l| l.as_u64().is_none()) {
            return Err(format!(
                "{here}.length is required: a whole number of bytes"
            ));
        }
        let sha2 = required_text(a, "sha2", &here)?;
        if !(sha2.len() >= 56 && sha2.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(format!(
                "{here}.sha2 must be the attachment's SHA-2 hash in hex"
            ));
        }
        if let Some(u) = text(a, "fileUrl", &here)?
            && !is_irl(u)
        {
            return Err(format!("{here}.fileUrl must be an IRL"));
        }
    }
    Ok(())
}

/// The verb that voids the statement its object refers to.
pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// What the statement queries filter by, read from a (valid) statement once when it is
/// stored: each list is newline-delimited with a newline at both ends, so one `LIKE
/// '%\n…\n%'` finds an entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Index {
    /// `a:<agent>` for the actor and an Agent or Group object; `r:<agent>` for every other
    /// Agent or Group (authority, instructor, team, members, a SubStatement's parties).
    pub agents: String,
    /// `o:<id>` for the Activity object; `r:<id>` for context activities and a
    /// SubStatement's Activities.
    pub activities: String,
    pub registration: Option<String>,
    /// The statement a voiding statement voids.
    pub voids: Option<String>,
}

/// An Agent's or Group's identity as the filters compare it: its one inverse functional
/// identifier (`mbox:mailto:…`, `mbox_sha1sum:…`, `openid:…`, `account:<homePage> <name>`).
pub fn agent_key(agent: &Value) -> Option<String> {
    let o = agent.as_object()?;
    if let Some(m) = o.get("mbox").and_then(Value::as_str) {
        return Some(format!("mbox:{}", m.to_lowercase()));
    }
    if let Some(m) = o.get("mbox_sha1sum").and_then(Value::as_str) {
        return Some(format!("mbox_sha1sum:{}", m.to_lowercase()));
    }
    if let Some(m) = o.get("openid").and_then(Value::as_str) {
        return Some(format!("openid:{m}"));
    }
    let a = o.get("account")?;
    Some(format!(
        "account:{} {}",
        a.get("homePage")?.as_str()?,
        a.get("name")?.as_str()?
    ))
}

/// The index of a statement (see [`Index`]).
pub fn index(statement: &Value) -> Index {
    let mut agents = vec![];
    let mut activities = vec![];
    fn party(v: &Value, tag: &str, out: &mut Vec<String>) {
        if let Some(k) = agent_key(v) {
            out.push(format!("{tag}:{k}"));
        }
        for m in v
            .get("member")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(k) = agent_key(m) {
                out.push(format!("r:{k}"));
            }
        }
    }
    fn parts(s: &Value, top: bool, agents: &mut Vec<String>, activities: &mut Vec<String>) {
        let (main, other) = if top { ("a", "o") } else { ("r", "r") };
        if let Some(a) = s.get("actor") {
            party(a, main, agents);
        }
        if let Some(o) = s.get("object") {
            match o
                .get("objectType")
                .and_then(Value::as_str)
                .unwrap_or("Activity")
            {
                "Activity" => {
                    if let Some(id) = o.get("id").and_then(Value::as_str) {
                        activities.push(format!("{other}:{id}"));
                    }
                }
                "Agent" | "Group" => party(o, main, agents),
                "SubStatement" => parts(o, false, agents, activities),
                _ => {}
            }
        }
        if let Some(c) = s.get("context") {
            for key in ["instructor", "team"] {
                if let Some(a) = c.get(key) {
                    party(a, "r", agents);
                }
            }
            if let Some(ca) = c.get("contextActivities").and_then(Value::as_object) {
                for list in ca.values() {
                    for a in list.as_array().into_iter().flatten() {
                        if let Some(id) = a.get("id").and_then(Value::as_str) {
                            activities.push(format!("r:{id}"));
                        }
                    }
                }
            }
        }
    }
    parts(statement, true, &mut agents, &mut activities);
    if let Some(a) = statement.get("authority") {
        party(a, "r", &mut agents);
    }
    let join = |v: Vec<String>| format!("\n{}\n", v.join("\n"));
    let voids = (statement.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED))
        .then(|| statement.pointer("/object/id").and_then(Value::as_str))
        .flatten()
        .map(str::to_lowercase);
    Index {
        agents: join(agents),
        activities: join(activities),
        registration: statement
            .pointer("/context/registration")
            .and_then(Value::as_str)
            .map(str::to_lowercase),
        voids,
    }
}

/// A statement in the `ids` format: Agents, Groups, the verb and Activities reduced to
/// what identifies them.
pub fn ids_format(statement: &Value) -> Value {
    fn agent(v: &Value) -> Value {
        let Some(o) = v.as_object() else {
            return v.clone();
        };
        let mut out = Map::new();
        for key in ["objectType", "mbox", "mbox_sha1sum", "openid", "account"] {
            if let Some(x) = o.get(key) {
                out.insert(key.into(), x.clone());
            }
        }
        if let Some(Value::Array(m)) = o.get("member") {
            out.insert("member".into(), Value::Array(m.iter().map(agent).collect()));
        }
        Value::Object(out)
    }
    let mut s = statement.clone();
    if let Some(o) = s.as_object_mut() {
        for key in ["actor", "authority"] {
            if let Some(a) = o.get(key).map(agent) {
                o.insert(key.into(), a);
            }
        }
        if let Some(id) = o.get("verb").and_then(|v| v.get("id")).cloned() {
            o.insert("verb".into(), serde_json::json!({ "id": id }));
        }
        if let Some(obj) = o.get("object").cloned() {
            let reduced = match obj
                .get("objectType")
                .and_then(Value::as_str)
                .unwrap_or("Activity")
            {
                "Activity" => {
                    serde_json::json!({"objectType": "Activity", "id": obj.get("id").cloned().unwrap_or(Value::Null)})
                }
                "Agent" | "Group" => agent(&obj),
                _ => obj,
            };
            o.insert("object".into(), reduced);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        json!({
            "actor": {"objectType": "Agent", "name": "Ana", "mbox": "mailto:ana@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
            "object": {"id": "http://example.com/activities/c1", "definition": {"name": {"en": "Course 1"}}},
        })
    }

    /// `good()` with the value at a `/`-path set (or removed with `None`).
    fn with(path: &str, value: Option<Value>) -> Value {
        let mut s = good();
        let (parent, key) = path.rsplit_once('/').unwrap_or(("", path));
        let target = if parent.is_empty() {
            &mut s
        } else {
            s.pointer_mut(&format!("/{parent}")).unwrap()
        };
        match value {
            Some(v) => {
                target.as_object_mut().unwrap().insert(key.to_owned(), v);
            }
            None => {
                target.as_object_mut().unwrap().remove(key);
            }
        }
        s
    }

    #[test]
    fn a_well_formed_statement_passes() {
        let mut s = good();
        assert_eq!(validate(&mut s), Ok(()));
        let mut full = json!({
            "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
            "actor": {"objectType": "Group", "name": "Crew", "member": [{"mbox": "mailto:a@example.com"}]},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"objectType": "SubStatement", "actor": {"account": {"homePage": "https://lms.example.com", "name": "ana"}},
                       "verb": {"id": "http://x.example/v"}, "object": {"objectType": "StatementRef", "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa1"}},
            "result": {"score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10}, "success": true, "completion": false,
                       "duration": "PT1H30M5.5S", "response": "x", "extensions": {"http://x.example/e": null}},
            "context": {"registration": "fd41c918-b88b-4b20-a0a5-a4c32391aaa2", "language": "en-US",
                        "instructor": {"openid": "https://id.example.com/bob"},
                        "team": {"objectType": "Group", "mbox": "mailto:team@example.com"},
                        "statement": {"objectType": "StatementRef", "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa3"}},
            "timestamp": "2027-06-15T12:00:00.000+02:00",
            "version": "1.0.3",
        });
        assert_eq!(validate(&mut full), Ok(()));
    }

    #[test]
    fn context_activities_given_as_one_object_are_kept_as_arrays() {
        let mut s = with(
            "context",
            Some(
                json!({"contextActivities": {"parent": {"id": "http://example.com/p"},
                                              "grouping": [{"id": "http://example.com/g"}]}}),
            ),
        );
        assert_eq!(validate(&mut s), Ok(()));
        assert_eq!(
            s["context"]["contextActivities"]["parent"],
            json!([{"id": "http://example.com/p"}])
        );
        assert_eq!(
            s["context"]["contextActivities"]["grouping"],
            json!([{"id": "http://example.com/g"}])
        );
    }

    /// Each invalid statement (after the xAPI 1.0.3 requirements and the conformance
    /// suite's cases) with a word its refusal must name.
    #[test]
    fn every_invalid_statement_is_refused_naming_the_property() {
        let uuid = "fd41c918-b88b-4b20-a0a5-a4c32391aaa0";
        let cases: Vec<(Value, &str)> = vec![
            (with("actor/name", Some(Value::Null)), "actor.name"),
            (with("verb", Some(Value::Null)), "verb"),
            (with("context", Some(Value::Null)), "context"),
            (with("verb", None), "verb is required"),
            (
                with(
                    "object/definition",
                    Some(json!({"choices": [{"id": "a", "description": {"en-US": "A"}}]})),
                ),
                "choices belongs to an interactionType",
            ),
            (
                with(
                    "object/definition",
                    Some(json!({"interactionType": "likert", "choices": [{"id": "a"}]})),
                ),
                "choices belongs to an interactionType",
            ),
            (
                with(
                    "object/definition",
                    Some(json!({"correctResponsesPattern": ["a"]})),
                ),
                "needs an interactionType",
            ),
            (
                with(
                    "authority",
                    Some(json!({"objectType": "Group", "member": [
                        {"mbox": "mailto:a@example.com"},
                        {"mbox": "mailto:b@example.com"},
                        {"mbox": "mailto:c@example.com"}]})),
                ),
                "exactly two members",
            ),
            (
                with("verb/id", Some(json!(VOIDED))),
                "a voiding statement's object is a StatementRef",
            ),
            (with("actor", None), "actor is required"),
            (with("object", None), "object is required"),
            (with("verb/id", Some(json!("completed"))), "verb.id"),
            (
                with("verb/display", Some(json!({"not a tag!": "x"}))),
                "verb.display",
            ),
            (
                with("verb/display", Some(json!("completed"))),
                "verb.display",
            ),
            (
                with("object/id", Some(json!("c1 with spaces"))),
                "object.id",
            ),
            (
                with("result", Some(json!({"success": "true"}))),
                "result.success",
            ),
            (
                with("result", Some(json!({"completion": 1}))),
                "result.completion",
            ),
            (
                with("result", Some(json!({"score": {"scaled": 1.5}}))),
                "result.score.scaled",
            ),
            (
                with("result", Some(json!({"score": {"raw": 11, "max": 10}}))),
                "result.score.raw",
            ),
            (
                with("result", Some(json!({"score": {"min": 5, "max": 5}}))),
                "result.score.min",
            ),
            (
                with("result", Some(json!({"duration": "90 minutes"}))),
                "result.duration",
            ),
            (
                with("result", Some(json!({"extensions": {"not-an-iri": 1}}))),
                "result.extensions",
            ),
            (
                with("context", Some(json!({"registration": "not-a-uuid"}))),
                "context.registration",
            ),
            (
                with("context", Some(json!({"extensions": {"key": 1}}))),
                "context.extensions",
            ),
            (
                with("context", Some(json!({"language": "english please"}))),
                "context.language",
            ),
            (
                with(
                    "context",
                    Some(json!({"team": {"mbox": "mailto:t@example.com"}})),
                ),
                "context.team",
            ),
            (
                with(
                    "context",
                    Some(json!({"contextActivities": {"parent": "http://x.example/p"}})),
                ),
                "contextActivities.parent",
            ),
            (
                with(
                    "context",
                    Some(json!({"contextActivities": {"sibling": []}})),
                ),
                "contextActivities.sibling",
            ),
            (with("version", Some(json!("0.9.9"))), "version"),
            (with("version", Some(json!("2.0.0"))), "version"),
            (with("id", Some(json!("not-a-uuid"))), "id"),
            (with("timestamp", Some(json!("yesterday"))), "timestamp"),
            (
                with("timestamp", Some(json!("2027-06-15T12:00:00"))),
                "timestamp",
            ),
            (with("stored", Some(json!("soon"))), "stored"),
            (with("colour", Some(json!("blue"))), "colour"),
            (
                with(
                    "actor/member",
                    Some(json!([{"mbox": "mailto:b@example.com"}])),
                ),
                "actor.member",
            ),
            (
                with("actor/mbox", Some(json!("ana@example.com"))),
                "actor.mbox",
            ),
            (
                with("actor/mbox_sha1sum", Some(json!("ab"))),
                "actor.mbox_sha1sum",
            ),
            (
                with("actor/openid", Some(json!("https://id.example.com/ana"))),
                "exactly one",
            ),
            (with("actor/mbox", None), "actor needs one"),
            (
                with("actor/objectType", Some(json!("Person"))),
                "actor.objectType",
            ),
            (
                with("actor/account", Some(json!({"name": "ana"}))),
                "actor.account",
            ),
            (
                json!({"actor": {"objectType": "Group"}, "verb": {"id": "http://x.example/v"}, "object": {"id": "http://x.example/o"}}),
                "anonymous Group",
            ),
            (
                json!({"actor": {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]},
                    "verb": {"id": "http://x.example/v"}, "object": {"id": "http://x.example/o"}}),
                "Groups do not nest",
            ),
            (
                with("object/definition", Some(json!({"type": "course"}))),
                "object.definition.type",
            ),
            (
                with(
                    "object/definition",
                    Some(json!({"interactionType": "essay"})),
                ),
                "interactionType",
            ),
            (
                with(
                    "object/definition",
                    Some(
                        json!({"interactionType": "choice", "choices": [{"description": {"en": "x"}}]}),
                    ),
                ),
                "choices[0].id",
            ),
            (
                with("object/definition", Some(json!({"moreInfo": "not a url"}))),
                "moreInfo",
            ),
            (
                with("object/objectType", Some(json!("Thing"))),
                "object.objectType",
            ),
            (
                with(
                    "object",
                    Some(json!({"objectType": "StatementRef", "id": "nope"})),
                ),
                "object.id",
            ),
            (
                with(
                    "object",
                    Some(
                        json!({"objectType": "SubStatement", "id": uuid, "actor": {"mbox": "mailto:a@example.com"},
                                         "verb": {"id": "http://x.example/v"}, "object": {"id": "http://x.example/o"}}),
                    ),
                ),
                "object.id",
            ),
            (
                with(
                    "object",
                    Some(
                        json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"},
                                         "verb": {"id": "http://x.example/v"},
                                         "object": {"objectType": "SubStatement"}}),
                    ),
                ),
                "cannot hold another",
            ),
            (
                with("context", Some(json!({"platform": "Moodle"}))).pipe(|mut s| {
                    s["object"] = json!({"mbox": "mailto:x@example.com", "objectType": "Agent"});
                    s
                }),
                "context.platform",
            ),
            (
                with(
                    "attachments",
                    Some(
                        json!([{"usageType": "http://x.example/u", "display": {"en": "x"}, "contentType": "text/plain", "length": 3, "sha2": "abc"}]),
                    ),
                ),
                "sha2",
            ),
            (
                with("authority", Some(json!({"name": "no identifier"}))),
                "authority",
            ),
        ];
        for (mut statement, names) in cases {
            let shown = statement.to_string();
            match validate(&mut statement) {
                Ok(()) => panic!("accepted: {shown}"),
                Err(e) => assert!(
                    e.contains(names),
                    "{shown}\n  refused with {e:?}, which does not name {names:?}"
                ),
            }
        }
    }

    trait Pipe: Sized {
        fn pipe(self, f: impl FnOnce(Self) -> Self) -> Self {
            f(self)
        }
    }
    impl Pipe for Value {}

    #[test]
    fn the_index_names_actor_object_and_related_parties() {
        let s = json!({
            "actor": {"mbox": "mailto:Ana@Example.com"},
            "verb": {"id": "http://x.example/v"},
            "object": {"id": "http://x.example/a"},
            "context": {"registration": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0",
                        "instructor": {"account": {"homePage": "https://lms.example.com", "name": "bob"}},
                        "contextActivities": {"parent": [{"id": "http://x.example/p"}]}},
            "authority": {"openid": "https://id.example.com/lms"},
        });
        let i = index(&s);
        assert_eq!(
            i.agents,
            "\na:mbox:mailto:ana@example.com\nr:account:https://lms.example.com bob\nr:openid:https://id.example.com/lms\n"
        );
        assert_eq!(
            i.activities,
            "\no:http://x.example/a\nr:http://x.example/p\n"
        );
        assert_eq!(
            i.registration.as_deref(),
            Some("fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
        );
        assert_eq!(i.voids, None);
        let v = json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": VOIDED},
                       "object": {"objectType": "StatementRef", "id": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"}});
        assert_eq!(
            index(&v).voids.as_deref(),
            Some("fd41c918-b88b-4b20-a0a5-a4c32391aaa0")
        );
        let ids = ids_format(
            &json!({"actor": {"name": "Ana", "mbox": "mailto:a@example.com"},
            "verb": {"id": "http://x.example/v", "display": {"en": "v"}},
            "object": {"id": "http://x.example/a", "definition": {"name": {"en": "A"}}}}),
        );
        assert_eq!(ids["actor"], json!({"mbox": "mailto:a@example.com"}));
        assert_eq!(ids["verb"], json!({"id": "http://x.example/v"}));
        assert_eq!(
            ids["object"],
            json!({"objectType": "Activity", "id": "http://x.example/a"})
        );
    }

    #[test]
    fn durations_iris_and_tags() {
        for d in ["PT1H", "P1D", "P3W", "PT0.5S", "P1Y2M3DT4H5M6S"] {
            assert!(is_duration(d), "{d}");
        }
        for d in ["P", "PT", "1H", "PT1H1H", "PTM", "P1S"] {
            assert!(!is_duration(d), "{d}");
        }
        assert!(is_iri("urn:x") && is_iri("http://example.com/a?b#c"));
        assert!(
            !is_iri("example.com") && !is_iri(":x") && !is_iri("a b:c") && !is_iri("http://a b")
        );
        assert!(
            is_language_tag("en") && is_language_tag("zh-Hant-TW") && !is_language_tag("en_US")
        );
    }
}
