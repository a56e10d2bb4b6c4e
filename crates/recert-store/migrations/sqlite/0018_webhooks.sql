-- Webhooks (SPEC §9): endpoints told of events, signed per Standard Webhooks. Messages go
-- through the outbox (channel 'webhook'); every attempt is logged.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    -- JSON array of event types, or ["*"].
    events TEXT NOT NULL,
    -- The signing secret, sealed with the key-encryption key.
    secret BLOB NOT NULL,
    active BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks(id),
    -- The outbox message: its webhook-id header is msg_{outbox_id}, the same on every retry.
    outbox_id BIGINT NOT NULL,
    event TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    -- The HTTP status answered, or NULL when none came (connection refused, timeout).
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(webhook_id, id);
CREATE INDEX webhook_deliveries_by_message ON webhook_deliveries(outbox_id);
