-- Answers to POST requests sent with an Idempotency-Key header, kept 24 hours: the same
-- caller sending the same key and the same request again gets the first answer instead of
-- doing the work twice (a client retrying after a timeout).
CREATE TABLE idempotency_keys (
    -- SHA-256 of the caller's credentials: a key means something only to its caller.
    caller TEXT NOT NULL,
    key TEXT NOT NULL,
    -- SHA-256 of the method, path and query, and body: the same key with another request
    -- is refused.
    fingerprint TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    -- NULL while the first request is still being answered.
    status BIGINT,
    content_type TEXT,
    location TEXT,
    body BLOB,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_ms);
