#![allow(clippy::unwrap_used)]
//! The LRS over HTTP against the statement requirements of xAPI 1.0.3 as the ADL LRS
//! conformance suite groups them (Multiplicity, Type, Format, Vocabulary, "null", version,
//! Agents and Groups, Verbs, Activities and interactions, SubStatements, Results, Contexts,
//! authority, voiding): each row changes one thing in a valid statement and names the answer
//! the specification requires — 400 for every invalid statement, 200 for the valid
//! variations beside them. The rule-by-rule table of the validator itself is in
//! `recert_domain::xapi`; this one proves the answers end to end, on both databases.

use recert_testkit::{StatusCode, both_backends};
use serde_json::{Value, json};

fn basic(key: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}"))
    )
}

fn statement() -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": "mailto:xapi@example.com", "name": "xAPI mbox"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended", "en-US": "attended"}},
        "object": {"objectType": "Activity", "id": "http://www.example.com/meetings/occurances/34534"}
    })
}

/// Sets (or, with `None`, removes) the value at a JSON pointer, creating objects on the way.
fn set(mut s: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let mut target = &mut s;
    for part in parent.split('/').filter(|p| !p.is_empty()) {
        target = target
            .as_object_mut()
            .unwrap()
            .entry(part)
            .or_insert_with(|| json!({}));
    }
    let obj = target.as_object_mut().unwrap();
    match value {
        Some(v) => {
            obj.insert(key.to_owned(), v);
        }
        None => {
            obj.remove(key);
        }
    }
    s
}

/// The actor identified by `ifi` alone (its mbox removed).
fn actor_by(ifi: &str, value: Value) -> Value {
    let s = set(statement(), "/actor/mbox", None);
    set(s, &format!("/actor/{ifi}"), Some(value))
}

fn sub(object: Value) -> Value {
    json!({"objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"},
           "verb": {"id": "http://example.com/verbs/v"}, "object": object})
}

fn cases() -> Vec<(&'static str, Value, u16)> {
    let s = statement;
    let null_ext = json!({"extensions": {"http://example.com/null": null}});
    vec![
        // Multiplicity: actor, verb and object are required.
        ("no actor", set(s(), "/actor", None), 400),
        ("no verb", set(s(), "/verb", None), 400),
        ("no object", set(s(), "/object", None), 400),
        // Type and syntax of the statement's own properties.
        ("id a number", set(s(), "/id", Some(json!(12345))), 400),
        (
            "id an object",
            set(s(), "/id", Some(json!({"key": "x"}))),
            400,
        ),
        (
            "id with too many digits",
            set(
                s(),
                "/id",
                Some(json!("AA97B177-9383-4934-8543-0F91A7A028368")),
            ),
            400,
        ),
        (
            "id with a letter past F",
            set(
                s(),
                "/id",
                Some(json!("MA97B177-9383-4934-8543-0F91A7A02836")),
            ),
            400,
        ),
        (
            "timestamp not a date",
            set(s(), "/timestamp", Some(json!("should fail"))),
            400,
        ),
        (
            "timestamp in another format",
            set(s(), "/timestamp", Some(json!("01/011/2015"))),
            400,
        ),
        (
            "timestamp valid",
            set(s(), "/timestamp", Some(json!("2013-05-18T05:32:34.804Z"))),
            200,
        ),
        (
            "stored not a date",
            set(s(), "/stored", Some(json!("should fail"))),
            400,
        ),
        (
            "version a word",
            set(s(), "/version", Some(json!("should fail"))),
            400,
        ),
        (
            "version 0.9.9",
            set(s(), "/version", Some(json!("0.9.9"))),
            400,
        ),
        (
            "version 1.1.0",
            set(s(), "/version", Some(json!("1.1.0"))),
            400,
        ),
        ("version 1.0", set(s(), "/version", Some(json!("1.0"))), 200),
        (
            "version 1.0.9",
            set(s(), "/version", Some(json!("1.0.9"))),
            200,
        ),
        (
            "a property xAPI does not define",
            set(s(), "/foo", Some(json!("bar"))),
            400,
        ),
        // "null" is refused everywhere but in extensions.
        (
            "actor name null",
            set(s(), "/actor/name", Some(Value::Null)),
            400,
        ),
        (
            "verb display value null",
            set(s(), "/verb/display", Some(json!({"en-US": null}))),
            400,
        ),
        (
            "context registration null",
            set(s(), "/context", Some(json!({"registration": null}))),
            400,
        ),
        (
            "definition moreInfo null",
            set(s(), "/object/definition", Some(json!({"moreInfo": null}))),
            400,
        ),
        (
            "activity extension null",
            set(s(), "/object/definition", Some(null_ext.clone())),
            200,
        ),
        (
            "result extension null",
            set(s(), "/result", Some(null_ext.clone())),
            200,
        ),
        (
            "context extension null",
            set(s(), "/context", Some(null_ext)),
            200,
        ),
        // Agents and Groups.
        (
            "agent with two identifiers",
            set(
                s(),
                "/actor/account",
                Some(json!({"homePage": "http://example.com", "name": "x"})),
            ),
            400,
        ),
        (
            "agent with no identifier",
            set(s(), "/actor/mbox", None),
            400,
        ),
        (
            "mbox without mailto",
            set(s(), "/actor/mbox", Some(json!("xapi@example.com"))),
            400,
        ),
        (
            "mbox_sha1sum a number",
            actor_by("mbox_sha1sum", json!(12345)),
            400,
        ),
        (
            "mbox_sha1sum valid",
            actor_by(
                "mbox_sha1sum",
                json!("cd9b00a5611f94eaa7b1661edab976068e364975"),
            ),
            200,
        ),
        (
            "openid not an IRI",
            actor_by("openid", json!("not an iri")),
            400,
        ),
        (
            "account without homePage",
            actor_by("account", json!({"name": "x"})),
            400,
        ),
        (
            "account without name",
            actor_by("account", json!({"homePage": "http://example.com"})),
            400,
        ),
        (
            "account homePage not an IRI",
            actor_by("account", json!({"homePage": "x", "name": "y"})),
            400,
        ),
        (
            "objectType in the wrong case",
            set(s(), "/actor/objectType", Some(json!("agent"))),
            400,
        ),
        (
            "anonymous group without members",
            set(s(), "/actor", Some(json!({"objectType": "Group"}))),
            400,
        ),
        (
            "group with a group as member",
            set(
                s(),
                "/actor",
                Some(
                    json!({"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:a@example.com"}]}),
                ),
            ),
            400,
        ),
        (
            "agent with members",
            set(
                s(),
                "/actor/member",
                Some(json!([{"mbox": "mailto:a@example.com"}])),
            ),
            400,
        ),
        // Verbs.
        (
            "verb without id",
            set(s(), "/verb", Some(json!({"display": {"en-US": "x"}}))),
            400,
        ),
        (
            "verb id not an IRI",
            set(s(), "/verb/id", Some(json!("attended"))),
            400,
        ),
        (
            "verb display not a language map",
            set(s(), "/verb/display", Some(json!("attended"))),
            400,
        ),
        (
            "verb display with a bad language tag",
            set(s(), "/verb/display", Some(json!({"not a tag!": "x"}))),
            400,
        ),
        // Activities and interactions.
        (
            "activity without id",
            set(s(), "/object", Some(json!({"objectType": "Activity"}))),
            400,
        ),
        (
            "activity id not an IRI",
            set(s(), "/object/id", Some(json!("not an iri"))),
            400,
        ),
        (
            "object objectType in the wrong case",
            set(s(), "/object/objectType", Some(json!("activity"))),
            400,
        ),
        (
            "definition type not an IRI",
            set(s(), "/object/definition", Some(json!({"type": "x"}))),
            400,
        ),
        (
            "definition name not a language map",
            set(s(), "/object/definition", Some(json!({"name": "x"}))),
            400,
        ),
        (
            "interactionType xAPI does not define",
            set(
                s(),
                "/object/definition",
                Some(json!({"interactionType": "xx"})),
            ),
            400,
        ),
        (
            "choices without interactionType",
            set(
                s(),
                "/object/definition",
                Some(json!({"choices": [{"id": "a", "description": {"en-US": "A"}}]})),
            ),
            400,
        ),
        (
            "scale on a choice interaction",
            set(
                s(),
                "/object/definition",
                Some(json!({"interactionType": "choice", "scale": [{"id": "a"}]})),
            ),
            400,
        ),
        (
            "correctResponsesPattern not a list",
            set(
                s(),
                "/object/definition",
                Some(json!({"interactionType": "choice", "correctResponsesPattern": "a"})),
            ),
            400,
        ),
        (
            "a choice interaction",
            set(
                s(),
                "/object/definition",
                Some(
                    json!({"interactionType": "choice", "correctResponsesPattern": ["a"], "choices": [{"id": "a", "description": {"en-US": "A"}}]}),
                ),
            ),
            200,
        ),
        // Statement references and SubStatements.
        (
            "StatementRef without id",
            set(s(), "/object", Some(json!({"objectType": "StatementRef"}))),
            400,
        ),
        (
            "StatementRef id not a UUID",
            set(
                s(),
                "/object",
                Some(json!({"objectType": "StatementRef", "id": "x"})),
            ),
            400,
        ),
        (
            "SubStatement with an id",
            set(
                s(),
                "/object",
                Some(set(
                    sub(json!({"id": "http://example.com/o"})),
                    "/id",
                    Some(json!("fd41c918-b88b-4b20-a0a5-a4c32391aaa0")),
                )),
            ),
            400,
        ),
        (
            "SubStatement with stored",
            set(
                s(),
                "/object",
                Some(set(
                    sub(json!({"id": "http://example.com/o"})),
                    "/stored",
                    Some(json!("2013-05-18T05:32:34.804Z")),
                )),
            ),
            400,
        ),
        (
            "SubStatement in a SubStatement",
            set(
                s(),
                "/object",
                Some(sub(sub(json!({"id": "http://example.com/o"})))),
            ),
            400,
        ),
        (
            "a SubStatement",
            set(
                s(),
                "/object",
                Some(sub(json!({"id": "http://example.com/o"}))),
            ),
            200,
        ),
        // Results.
        (
            "score scaled above 1",
            set(s(), "/result", Some(json!({"score": {"scaled": 1.5}}))),
            400,
        ),
        (
            "score raw below min",
            set(
                s(),
                "/result",
                Some(json!({"score": {"raw": 1, "min": 2, "max": 5}})),
            ),
            400,
        ),
        (
            "success a string",
            set(s(), "/result", Some(json!({"success": "true"}))),
            400,
        ),
        (
            "completion a string",
            set(s(), "/result", Some(json!({"completion": "true"}))),
            400,
        ),
        (
            "response a number",
            set(s(), "/result", Some(json!({"response": 5}))),
            400,
        ),
        (
            "duration not ISO 8601",
            set(s(), "/result", Some(json!({"duration": "1 hour"}))),
            400,
        ),
        (
            "extension key not an IRI",
            set(s(), "/result", Some(json!({"extensions": {"k": 1}}))),
            400,
        ),
        // Contexts.
        (
            "registration not a UUID",
            set(s(), "/context", Some(json!({"registration": "x"}))),
            400,
        ),
        (
            "instructor with no identifier",
            set(s(), "/context", Some(json!({"instructor": {"name": "x"}}))),
            400,
        ),
        (
            "team an Agent",
            set(
                s(),
                "/context",
                Some(json!({"team": {"mbox": "mailto:a@example.com"}})),
            ),
            400,
        ),
        (
            "contextActivities with an unknown key",
            set(
                s(),
                "/context",
                Some(json!({"contextActivities": {"foo": [{"id": "http://example.com"}]}})),
            ),
            400,
        ),
        (
            "revision about an Agent",
            set(
                set(
                    s(),
                    "/object",
                    Some(json!({"objectType": "Agent", "mbox": "mailto:a@example.com"})),
                ),
                "/context",
                Some(json!({"revision": "1"})),
            ),
            400,
        ),
        (
            "platform about an Agent",
            set(
                set(
                    s(),
                    "/object",
                    Some(json!({"objectType": "Agent", "mbox": "mailto:a@example.com"})),
                ),
                "/context",
                Some(json!({"platform": "x"})),
            ),
            400,
        ),
        (
            "language not a tag",
            set(s(), "/context", Some(json!({"language": "english please"}))),
            400,
        ),
        (
            "context statement not a StatementRef",
            set(
                s(),
                "/context",
                Some(json!({"statement": {"objectType": "StatementRef", "id": "x"}})),
            ),
            400,
        ),
        // Authority, attachments, voiding.
        (
            "Group authority of three",
            set(
                s(),
                "/authority",
                Some(
                    json!({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}, {"mbox": "mailto:c@example.com"}]}),
                ),
            ),
            400,
        ),
        (
            "attachment without usageType",
            set(
                s(),
                "/attachments",
                Some(
                    json!([{"display": {"en-US": "a"}, "contentType": "text/plain", "length": 1, "sha2": "x"}]),
                ),
            ),
            400,
        ),
        (
            "voiding an Activity",
            set(
                s(),
                "/verb/id",
                Some(json!("http://adlnet.gov/expapi/verbs/voided")),
            ),
            400,
        ),
    ]
}

both_backends! {
    async fn statements_are_answered_as_xapi_1_0_3_requires(app) {
        let conn = app.post("/api/v1/lms-connections", json!({"name": "Conformance"})).await.expect(StatusCode::CREATED);
        let auth = basic(conn["key"].as_str().unwrap(), conn["secret"].as_str().unwrap());
        let mut wrong = Vec::new();
        for (name, body, want) in cases() {
            let res = app
                .client
                .post(format!("{}/xapi/statements", app.base))
                .header("authorization", &auth)
                .header("x-experience-api-version", "1.0.3")
                .json(&body)
                .send()
                .await
                .unwrap();
            let got = res.status().as_u16();
            assert!(res.headers().contains_key("x-experience-api-version"), "{name}: no version header");
            if got != want {
                wrong.push(format!("{name}: {got}, not {want} — {}", res.text().await.unwrap()));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
