"""Schemathesis hooks for recert (loaded by schemathesis.toml).

- Each request carries a fresh Idempotency-Key, as a real client's new request does. A key
  drawn from the schema repeats ("0", "00"…) across unrelated requests, and recert rightly
  refuses a key reused for another request (422); keys that break the documented format are
  left alone, so refusing those is still tested.
- `shape_is_documented`: when a request the document calls valid is refused 422, the reason
  may be a rule no schema can state (a reference to a learner that does not exist, a
  certificate ID whose check character does not match, an end before a start), but never a
  rule about the request's shape (a required field, an empty text, an unknown field, a value
  outside its list or range, a control character): those must be in the document.
"""

import json
import re
import uuid

import schemathesis

IDEMPOTENCY_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")

# Messages recert gives for a shape rule (see recert_domain::names and the drafts).
# Not counted: a requirement that depends on another field ("is required for a learner
# token", "is required when renewal_pathways includes credits"), a bound that depends on another field ("at most 100 years"), and serde reading
# 1113.0 as no integer (JSON Schema counts it as one; recert takes integers written 1113).
SHAPE_RULES = re.compile(
    r"is required(?! for| when)|must not be empty|unknown field|control character|must be one of|"
    r"must be from|must be at most \d+ characters|must be at least \d+ characters|"
    r"must not be negative|must list at least|must be between|must be a positive|"
    r"names must not be empty|must be a number|must be a positive|"
    r"unknown (state|status|kind|role|unit|pathway|event|format)|must be a date|"
    r"invalid type: (?!floating point)|missing field"
)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and IDEMPOTENCY_KEY.match(str(headers[name])):
            headers[name] = str(uuid.uuid4())


@schemathesis.check
def shape_is_documented(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        problem = json.loads(response.content)
    except ValueError:
        raise AssertionError("a 422 that is not a problem document")
    if problem.get("type") == "/problems/idempotency-key-reused":
        return None
    shapes = [
        f"{e.get('field')}: {e.get('message')}"
        for e in problem.get("errors") or [{"field": "(request)", "message": problem.get("detail", "")}]
        if SHAPE_RULES.search(str(e.get("message", "")))
    ]
    if shapes:
        raise AssertionError(
            "A request valid by the document was refused for its shape; the document must say so:\n  "
            + "\n  ".join(shapes)
        )
    return None
