//! What the document promises about requests beyond what the Rust types say, applied to the
//! generated document once: which body fields are required (the drafts keep every field
//! optional so that a missing one is named beside its field, not refused as bad JSON), the
//! values an enumerated text takes, the range of `limit`, the characters text may hold, and
//! the 404 of every operation that names a record in its path. The property-based API test
//! (`crates/recert/tests/api_properties.rs`) holds the server to these promises both ways.

use recert_domain::award::{Association, RevocationCategory};
use recert_domain::dates::ValidityUnit;
use recert_domain::group::GroupKind;
use recert_domain::program::{ItemKind, Pathway, RenewalAnchor};
use serde_json::{Map, Value, json};

/// Text recert takes at every edge: no C0 control character but tab, line feed and carriage
/// return (`recert_domain::names::forbidden_char`).
const TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$";
/// Text that must also hold something besides white space (Rust's `trim`, spelled out: the
/// ECMA `\s` class differs from it by two characters).
const SOME_TEXT: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*[^\\u0000-\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F]*$";

/// Rust's white space (`char::is_whitespace`), spelled out for ECMA patterns.
const SPACE: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// Rust's control characters (`char::is_control`).
const CONTROL: &str = "\\u0000-\\u001F\\u007F-\\u009F";
/// A code (program, item, organization): `recert_domain::names::Code`.
const CODE: &str = "^[A-Za-z0-9._-]{1,64}$";

/// What a text field holds, by its name, in every request schema and parameter.
#[derive(Clone, Copy)]
enum Field {
    /// A program's, item's or organization's code.
    Code,
    /// A learner's or account's login name: no spaces or control characters, 1–128.
    Username,
    /// A username, or empty for none.
    UsernameOrEmpty,
    /// A group's name: 1–120 characters, no control characters.
    GroupName,
    /// A calendar day, `YYYY-MM-DD`.
    Date,
    /// A calendar day, or empty for none.
    DateOrEmpty,
}

const FIELDS: &[(&str, Field)] = &[
    ("code", Field::Code),
    ("program", Field::Code),
    ("organization", Field::Code),
    ("refresher_item", Field::Code),
    ("username", Field::Username),
    ("usernames", Field::Username),
    ("learner", Field::UsernameOrEmpty),
    ("user", Field::UsernameOrEmpty),
    ("manager", Field::UsernameOrEmpty),
    ("group", Field::GroupName),
    ("groups", Field::GroupName),
    ("issued_on", Field::Date),
    ("expires_on", Field::Date),
    ("completed_on", Field::Date),
    ("assigned_on", Field::Date),
    ("end_date", Field::DateOrEmpty),
    ("as_of", Field::DateOrEmpty),
    ("issued_from", Field::DateOrEmpty),
    ("issued_to", Field::DateOrEmpty),
    ("expires_from", Field::DateOrEmpty),
    ("expires_to", Field::DateOrEmpty),
    // The audit trail's day range.
    ("from", Field::DateOrEmpty),
    ("to", Field::DateOrEmpty),
];

/// The schema of a text field of this kind (`nullable` keeps a `null` it allowed; `empty`
/// lets an empty text stand for none, as query parameters and optional fields do).
fn field_schema(kind: Field, nullable: bool, empty: bool) -> Value {
    let kind = match (kind, empty) {
        (Field::Username, true) => Field::UsernameOrEmpty,
        (Field::Date, true) => Field::DateOrEmpty,
        (Field::UsernameOrEmpty, false) => Field::Username,
        (Field::DateOrEmpty, false) => Field::Date,
        (k, _) => k,
    };
    let one = |s: Value| {
        if nullable {
            json!({ "anyOf": [s, { "type": "null" }] })
        } else {
            s
        }
    };
    let username = format!("^[^{SPACE}{CONTROL}]{{1,128}}$");
    match kind {
        Field::Code if empty => one(json!({ "type": "string", "pattern": format!("^$|{CODE}") })),
        Field::Code => one(json!({ "type": "string", "pattern": CODE })),
        Field::Username => one(json!({ "type": "string", "pattern": username })),
        Field::UsernameOrEmpty => {
            one(json!({ "type": "string", "pattern": format!("^$|{username}") }))
        }
        Field::GroupName if empty => one(json!({
            "type": "string",
            "maxLength": 120,
            "pattern": format!("^$|^[^{CONTROL}]*[^{CONTROL}{SPACE}][^{CONTROL}]*$"),
        })),
        Field::GroupName => one(json!({
            "type": "string",
            "maxLength": 120,
            "pattern": format!("^[^{CONTROL}]*[^{CONTROL}{SPACE}][^{CONTROL}]*$"),
        })),
        Field::Date => one(json!({ "type": "string", "format": "date" })),
        Field::DateOrEmpty => one(json!({
            "anyOf": [{ "type": "string", "format": "date" }, { "type": "string", "maxLength": 0 }],
        })),
    }
}

/// Gives the text field `name` (or a list of them) the schema its kind has; `required`
/// fields may not be empty, others may where their kind allows it.
fn shape_field(name: &str, prop: &mut Value, required: bool) {
    let Some((_, kind)) = FIELDS.iter().find(|(n, _)| *n == name) else {
        return;
    };
    let Some(obj) = prop.as_object_mut() else {
        return;
    };
    let types: Vec<Value> = match obj.get("type") {
        Some(Value::Array(ts)) => ts.clone(),
        Some(t) => vec![t.clone()],
        None => return,
    };
    let nullable = types.contains(&json!("null"));
    if types.contains(&json!("array")) {
        if let Some(items) = obj.get_mut("items") {
            shape_field(name, items, true);
        }
        return;
    }
    if !types.contains(&json!("string")) || obj.contains_key("enum") {
        return;
    }
    let description = obj.get("description").cloned();
    let mut shaped = match kind {
        Field::UsernameOrEmpty | Field::DateOrEmpty => field_schema(*kind, nullable, !required),
        _ => field_schema(*kind, nullable, false),
    };
    if let (Some(d), Some(o)) = (description, shaped.as_object_mut()) {
        o.insert("description".into(), d);
    }
    *prop = shaped;
}

/// The body fields each request needs (a missing one is answered 422, naming it).
const REQUIRED: &[(&str, &[&str])] = &[
    ("ImportUpload", &["file"]),
    ("AwardBatchDraft", &["program"]),
    ("AwardDraft", &["learner", "program"]),
    ("ExtendGraceDraft", &["days", "reason"]),
    ("RenewDraft", &["pathway", "note"]),
    ("RevokeDraft", &["reason"]),
    (
        "CreditDraft",
        &["learner", "program", "completed_on", "provider", "hours"],
    ),
    (
        "ExternalDraft",
        &["learner", "program", "title", "provider", "completed_on"],
    ),
    ("GroupAwardDraft", &["group", "program"]),
    ("GroupDraft", &["name", "kind"]),
    ("LmsConnectionDraft", &["name"]),
    ("MessageTemplateDraft", &["subject", "body"]),
    ("ItemDraft", &["code"]),
    ("SignoffDraft", &["award"]),
    ("TokenDraft", &["name", "role"]),
    ("UserDraft", &["username", "role", "password"]),
    ("WebhookDraft", &["url", "events"]),
    (
        "CompletionDraft",
        &["event_id", "learner", "item", "completed_on"],
    ),
];

/// Bodies one operation needs more of than the schema it shares with another (a create and
/// its patch, an approval and its rejection): (method, path, shared schema, the operation's
/// own schema, its required fields).
const VARIANTS: &[(&str, &str, &str, &str, &[&str])] = &[
    (
        "post",
        "/api/v1/programs",
        "ProgramDraft",
        "ProgramCreate",
        &["code", "name", "validity"],
    ),
    (
        "post",
        "/api/v1/learners",
        "LearnerDraft",
        "LearnerCreate",
        &["username", "legal_name"],
    ),
    (
        "post",
        "/api/v1/credits/{id}/reject",
        "DecisionDraft",
        "Rejection",
        &["note"],
    ),
    (
        "post",
        "/api/v1/external-training/{id}/reject",
        "DecisionDraft",
        "Rejection",
        &["note"],
    ),
];

/// The values an enumerated text field takes: (schema, field, values). A field that is a
/// list takes them for its items.
fn enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    let group_kinds: Vec<_> = GroupKind::ALL.iter().map(|k| k.as_str()).collect();
    let pathways: Vec<_> = Pathway::ALL.iter().map(|p| p.as_str()).collect();
    let associations: Vec<_> = Association::ALL.iter().map(|a| a.as_str()).collect();
    let roles: Vec<_> = recert_service::auth::Role::ALL
        .iter()
        .map(|r| r.as_str())
        .collect();
    vec![
        ("GroupDraft", "kind", group_kinds),
        ("RenewDraft", "pathway", pathways.clone()),
        ("ProgramDraft", "renewal_pathways", pathways),
        (
            "ProgramDraft",
            "renewal_anchor",
            RenewalAnchor::ALL.iter().map(|a| a.as_str()).collect(),
        ),
        (
            "ValidityDraft",
            "unit",
            ValidityUnit::ALL.iter().map(|u| u.as_str()).collect(),
        ),
        (
            "ItemDraft",
            "kind",
            ItemKind::ALL.iter().map(|k| k.as_str()).collect(),
        ),
        (
            "RevokeDraft",
            "category",
            RevocationCategory::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        ("AwardDraft", "association", associations.clone()),
        ("AwardPatch", "association", associations.clone()),
        ("AwardBatchDraft", "association", associations.clone()),
        ("GroupAwardDraft", "association", associations),
        ("WebhookDraft", "events", {
            let mut events = recert_service::webhooks::EVENTS.to_vec();
            events.push("*");
            events
        }),
        ("UserDraft", "role", roles.clone()),
        ("TokenDraft", "role", roles),
        (
            "ImportUpload",
            "kind",
            recert_service::imports::Kind::ALL.to_vec(),
        ),
        (
            "ImportUpload",
            "charset",
            recert_service::imports::Charset::ALL.to_vec(),
        ),
        ("ImportUpload", "separator", vec!["", ",", ";", "|", "tab"]),
    ]
}

/// Optional texts that, when given, may not be empty: (schema, field; a list's items).
const NOT_EMPTY: &[(&str, &str)] = &[
    ("ProgramDraft", "approved_providers"),
    ("ProgramDraft", "name"),
    ("LearnerDraft", "legal_name"),
    ("CustomFieldDef", "key"),
    ("CustomFieldDef", "label"),
];

/// Other bounds the drafts do not state: (schema, field or `field/items`, keyword, value).
fn bounds() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    use recert_service::users::{PASSWORD_MAX, PASSWORD_MIN};
    vec![
        ("MembersDraft", "usernames", "minItems", json!(1)),
        ("ExtendGraceDraft", "days", "minimum", json!(1)),
        ("ExtendGraceDraft", "days", "maximum", json!(3650)),
        ("ProgramDraft", "renewal_window_days", "minimum", json!(0)),
        (
            "ProgramDraft",
            "renewal_window_days",
            "maximum",
            json!(3650),
        ),
        ("AwardDraft", "score", "minimum", json!(0)),
        ("AwardPatch", "score", "minimum", json!(0)),
        ("CompletionDraft", "score", "minimum", json!(0)),
        ("CompletionDraft", "max_score", "exclusiveMinimum", json!(0)),
        ("ExternalDraft", "hours", "minimum", json!(0)),
        ("ExternalDraft", "hours", "maximum", json!(10_000)),
        ("Credits", "hours", "minimum", json!(0)),
        ("CreditsRequired", "hours", "exclusiveMinimum", json!(0)),
        ("CreditsRequired", "hours", "maximum", json!(10_000)),
        (
            "CreditsRequired",
            "categories/additionalProperties",
            "minimum",
            json!(0),
        ),
        (
            "CreditsRequired",
            "categories/propertyNames",
            "pattern",
            json!(SOME_TEXT),
        ),
        (
            "ProgramDraft",
            "reminder_offsets_days/items",
            "minimum",
            json!(-3650),
        ),
        (
            "ProgramDraft",
            "reminder_offsets_days/items",
            "maximum",
            json!(3650),
        ),
        ("ProgramDraft", "grace_days", "minimum", json!(0)),
        ("ProgramDraft", "grace_days", "maximum", json!(3650)),
        ("LmsConnectionDraft", "name", "maxLength", json!(100)),
        ("TokenDraft", "name", "maxLength", json!(100)),
        ("UserDraft", "password", "minLength", json!(PASSWORD_MIN)),
        ("UserDraft", "password", "maxLength", json!(PASSWORD_MAX)),
    ]
}

const PLAIN_JSON_REF: &str = "#/components/schemas/PlainJson";

/// Any JSON whose texts (keys included) are plain text: what free-form fields hold. Typeless
/// on purpose: `pattern` binds only strings, `items` only arrays, the rest only objects, so
/// no union is needed (client generators model unions of arrays and objects poorly).
fn plain_json() -> Value {
    json!({
        "description": "Any JSON value whose texts, keys included, hold no control character but tab, line feed and carriage return.",
        "pattern": TEXT,
        "items": { "$ref": PLAIN_JSON_REF },
        "propertyNames": { "pattern": TEXT },
        "additionalProperties": { "$ref": PLAIN_JSON_REF },
    })
}

/// `allOf: [{$ref: a oneOf}, {common fields}]` (serde's flatten of an enum) as a `oneOf` of
/// each variant with the common fields: the same values, in a shape generators model.
fn distribute(doc: &mut Value, name: &str) {
    let Some(schema) = doc.pointer(&format!("/components/schemas/{name}")) else {
        return;
    };
    let Some([Value::Object(first), Value::Object(common)]) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    else {
        return;
    };
    let Some(variants) = first
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| doc.pointer(&r.replace("#/", "/")))
        .and_then(|v| v.get("oneOf"))
        .and_then(Value::as_array)
    else {
        return;
    };
    let merged: Vec<Value> = variants
        .iter()
        .map(|v| {
            let mut v = v.clone();
            if let Some(o) = v.as_object_mut() {
                if let (Some(Value::Object(props)), Some(Value::Object(extra))) =
                    (o.get("properties").cloned(), common.get("properties"))
                {
                    let mut props = props;
                    props.extend(extra.clone());
                    o.insert("properties".into(), Value::Object(props));
                }
                let mut required = o
                    .get("required")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if let Some(Value::Array(extra)) = common.get("required") {
                    required.extend(extra.iter().cloned());
                }
                o.insert("required".into(), Value::Array(required));
            }
            v
        })
        .collect();
    let description = schema.get("description").cloned();
    let mut out = json!({ "oneOf": merged });
    if let (Some(d), Some(o)) = (description, out.as_object_mut()) {
        o.insert("description".into(), d);
    }
    if let Some(target) = doc.pointer_mut(&format!("/components/schemas/{name}")) {
        *target = out;
    }
}

/// Applies every rule to the generated document.
pub fn apply(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.insert("PlainJson".into(), plain_json());
    }
    distribute(doc, "ProgramOutcome");
    if let Some(name) = doc.pointer_mut("/components/schemas/GroupDraft/properties/name") {
        *name = field_schema(Field::GroupName, false, false);
    }
    // A batch's entries are read one by one, each refused on its own (by index) when it
    // breaks a rule: the batch promises objects, not valid completions.
    if let Some(batch) = doc.pointer_mut("/components/schemas/CompletionBody/oneOf/1/items") {
        *batch = json!({ "type": "object", "description": "A completion, as CompletionDraft; one that breaks a rule is rejected on its own." });
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, field) in NOT_EMPTY {
            if let Some(prop) = property(schemas, name, field) {
                let target = if prop.get("items").is_some() {
                    prop.get_mut("items")
                } else {
                    Some(prop)
                };
                if let Some(Value::Object(t)) = target {
                    t.insert("pattern".into(), json!(SOME_TEXT));
                }
            }
        }
        for (name, field, keyword, value) in bounds() {
            if let Some(Value::Object(prop)) = property(schemas, name, field) {
                prop.insert(keyword.into(), value);
            }
        }
    }
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (name, fields) in REQUIRED {
        if let Some(schema) = schemas.get_mut(*name) {
            require(schema, fields);
        }
    }
    for (name, field, values) in enums() {
        if let Some(prop) = property(schemas, name, field) {
            enumerate(prop, &values);
        }
    }
    variants(doc);
    let requested = request_schemas(doc);
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for name in &requested {
            if let Some(schema) = schemas.get_mut(name) {
                plain_text(schema);
            }
        }
    }
    operations(doc);
    // A single completion sent again is answered 200 with the completion; a batch is
    // answered 200 with one entry per completion.
    if let Some(schema) = doc.pointer_mut(
        "/paths/~1api~1v1~1completions/post/responses/200/content/application~1json/schema",
    ) {
        *schema = json!({ "anyOf": [
            { "$ref": "#/components/schemas/CompletionView" },
            { "$ref": "#/components/schemas/BatchResult" },
        ] });
    }
}

/// The property `field` (a path below `properties`) of the component schema `schema`.
fn property<'a>(
    schemas: &'a mut Map<String, Value>,
    schema: &str,
    field: &str,
) -> Option<&'a mut Value> {
    schemas
        .get_mut(schema)
        .and_then(|s| s.pointer_mut(&format!("/properties/{field}")))
}

/// Marks `fields` required and not null; a required text must hold something.
fn require(schema: &mut Value, fields: &[&str]) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let mut required: Vec<Value> = obj
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for f in fields {
        if !required.iter().any(|r| r == f) {
            required.push(json!(f));
        }
        let Some(prop) = obj
            .get_mut("properties")
            .and_then(|p| p.get_mut(*f))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        not_null(prop);
        if prop.get("type") == Some(&json!("string"))
            && !prop.contains_key("format")
            && !prop.contains_key("enum")
            && !prop.contains_key("pattern")
        {
            prop.insert("pattern".into(), json!(SOME_TEXT));
        }
    }
    obj.insert("required".into(), Value::Array(required));
}

/// `type: [T, "null"]` becomes `type: T`; `oneOf: [null, X]` becomes X.
fn not_null(prop: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = prop.get("type") {
        let kept: Vec<Value> = types
            .iter()
            .filter(|t| *t != &json!("null"))
            .cloned()
            .collect();
        let one = if kept.len() == 1 {
            kept[0].clone()
        } else {
            Value::Array(kept)
        };
        prop.insert("type".into(), one);
    }
    if let Some(Value::Array(choices)) = prop.get("oneOf") {
        let kept: Vec<Value> = choices
            .iter()
            .filter(|c| c.get("type") != Some(&json!("null")))
            .cloned()
            .collect();
        if kept.len() == 1
            && let Some(only) = kept[0].as_object()
        {
            let only = only.clone();
            prop.remove("oneOf");
            for (k, v) in only {
                prop.entry(k).or_insert(v);
            }
        }
    }
}

/// The field (or a list's items) takes only `values` (or null, where it took null).
fn enumerate(prop: &mut Value, values: &[&str]) {
    let target = match prop.get("items") {
        Some(_) => prop.get_mut("items"),
        None => Some(prop),
    };
    let Some(Value::Object(t)) = target else {
        return;
    };
    let nullable = t
        .get("type")
        .and_then(Value::as_array)
        .is_some_and(|ts| ts.contains(&json!("null")));
    let text = json!({ "type": "string", "enum": values });
    let mut shaped = if nullable {
        json!({ "anyOf": [text, { "type": "null" }] })
    } else {
        text
    };
    if let (Some(d), Some(o)) = (t.get("description").cloned(), shaped.as_object_mut()) {
        o.insert("description".into(), d);
    }
    if let Value::Object(o) = shaped {
        *t = o;
    }
}

/// Gives every free text in a request schema (not an enum, a format or a pattern of its own)
/// the characters recert takes, down through nested objects, lists and maps.
fn plain_text(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let is_text = match obj.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.contains(&json!("string")),
        _ => false,
    };
    if is_text
        && !obj.contains_key("enum")
        && !obj.contains_key("format")
        && !obj.contains_key("pattern")
    {
        obj.insert("pattern".into(), json!(TEXT));
    }
    let is_object = match obj.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.contains(&json!("object")),
        _ => false,
    };
    if is_object && obj.contains_key("properties") && !obj.contains_key("additionalProperties") {
        // Fields recert does not know are ignored, but their text is checked all the same.
        obj.insert("propertyNames".into(), json!({ "pattern": TEXT }));
        obj.insert(
            "additionalProperties".into(),
            json!({ "$ref": PLAIN_JSON_REF }),
        );
    }
    if is_object && !obj.contains_key("properties") {
        // A map or a free-form object: its keys are text too, and a free-form value holds
        // only plain JSON.
        obj.entry("propertyNames")
            .or_insert_with(|| json!({ "pattern": TEXT }));
        if matches!(
            obj.get("additionalProperties"),
            None | Some(Value::Bool(true))
        ) || obj.get("additionalProperties") == Some(&json!({}))
        {
            obj.insert(
                "additionalProperties".into(),
                json!({ "$ref": PLAIN_JSON_REF }),
            );
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(v) = obj.get_mut(key) {
            plain_text(v);
        }
    }
    let required: Vec<Value> = obj
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for (name, v) in props.iter_mut() {
            shape_field(name, v, required.contains(&json!(name)));
            plain_text(v);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(vs)) = obj.get_mut(key) {
            for v in vs {
                plain_text(v);
            }
        }
    }
}

/// The names of the component schemas request bodies use, directly or through others.
fn request_schemas(doc: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let mut todo = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for item in paths.values() {
            for op in item.as_object().into_iter().flat_map(|o| o.values()) {
                if let Some(body) = op.get("requestBody") {
                    refs(body, &mut todo);
                }
            }
        }
    }
    while let Some(name) = todo.pop() {
        if names.contains(&name) {
            continue;
        }
        if let Some(schema) = doc.pointer(&format!("/components/schemas/{name}")) {
            refs(schema, &mut todo);
        }
        names.push(name);
    }
    names
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_owned());
            }
            o.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Copies each shared schema under the operation's own name, with its required fields, and
/// points the operation's body at it.
fn variants(doc: &mut Value) {
    for (method, path, shared, own, fields) in VARIANTS {
        let Some(mut schema) = doc
            .pointer(&format!("/components/schemas/{shared}"))
            .cloned()
        else {
            continue;
        };
        require(&mut schema, fields);
        if let Some(schemas) = doc
            .pointer_mut("/components/schemas")
            .and_then(Value::as_object_mut)
        {
            schemas.insert((*own).to_owned(), schema);
        }
        let pointer = format!(
            "/paths/{}/{method}/requestBody/content/application~1json/schema",
            path.replace('~', "~0").replace('/', "~1")
        );
        if let Some(body) = doc.pointer_mut(&pointer) {
            *body = json!({ "$ref": format!("#/components/schemas/{own}") });
        }
    }
}

/// Per operation: text parameters take recert's characters, `limit` its range, and a record
/// named in the path may not exist (404).
fn operations(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let Some(op) = op.as_object_mut() else {
                continue;
            };
            if let Some(Value::Object(content)) =
                op.get_mut("requestBody").and_then(|b| b.get_mut("content"))
            {
                for media in content.values_mut() {
                    if let Some(schema) = media.get_mut("schema")
                        && schema.get("$ref").is_none()
                    {
                        plain_text(schema);
                    }
                }
            }
            let mut names_a_record = false;
            if let Some(Value::Array(params)) = op.get_mut("parameters") {
                for p in params {
                    let place = p.get("in").and_then(Value::as_str).unwrap_or("").to_owned();
                    let place = place.as_str();
                    let name = p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    names_a_record |= place == "path";
                    let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else {
                        continue;
                    };
                    if place == "query" && name == "limit" {
                        schema.insert("minimum".into(), json!(1));
                        schema.insert("maximum".into(), json!(recert_service::page::MAX_LIMIT));
                    }
                    if matches!(place, "path" | "query") {
                        let mut s = Value::Object(std::mem::take(schema));
                        if place == "query" {
                            query_field(path, &name, &mut s);
                        } else {
                            shape_field(&name, &mut s, true);
                        }
                        plain_text(&mut s);
                        if let Value::Object(s) = s {
                            *schema = s;
                        }
                    }
                }
            }
            if names_a_record && let Some(Value::Object(responses)) = op.get_mut("responses") {
                responses.entry("404").or_insert_with(|| {
                    json!({
                        "description": "Not found",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                    })
                });
            }
        }
    }
}

/// Query parameters: an empty value stands for none; enumerated filters take their values.
fn query_field(path: &str, name: &str, schema: &mut Value) {
    let statuses: Vec<&str> = recert_domain::status::Status::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let values: Option<Vec<&str>> = match name {
        "status" if path == "/api/v1/learners" => Some(vec!["active", "inactive"]),
        "status" => Some(statuses),
        "state" => Some(vec!["pending", "approved", "rejected"]),
        "kind" => Some(GroupKind::ALL.iter().map(|k| k.as_str()).collect()),
        _ => None,
    };
    if let Some(values) = values {
        let mut list: Vec<Value> = values.iter().map(|v| json!(v)).collect();
        list.push(json!(""));
        *schema = json!({ "type": "string", "enum": list });
        return;
    }
    // Other filters take any text: one that matches nothing finds nothing.
    let Some((_, kind)) = FIELDS
        .iter()
        .find(|(n, k)| *n == name && matches!(k, Field::Date | Field::DateOrEmpty))
    else {
        return;
    };
    if schema.get("type") == Some(&json!("string")) {
        *schema = field_schema(*kind, false, true);
    } else if let Some(items) = schema.get_mut("items")
        && items.get("type") == Some(&json!("string"))
    {
        *items = field_schema(*kind, false, false);
    }
}
