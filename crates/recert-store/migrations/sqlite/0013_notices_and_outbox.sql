-- Notices (reminders, expiry, grace ending, lapse) and the outbox that delivers them.
--
-- The scheduler looks only at awards whose notice_from has come: set to the issue date
-- whenever an award is stored or changed (look at it soon), then by the scheduler to the
-- day of its next notice, or NULL when none is left. So a pass costs what is due, not
-- every award. Existing current awards with an expiry are looked at once.
ALTER TABLE awards ADD COLUMN notice_from TEXT;
UPDATE awards SET notice_from = issued_on WHERE is_current = 1 AND always_valid = 0 AND expires_on IS NOT NULL;
CREATE INDEX awards_notice_from ON awards(notice_from) WHERE notice_from IS NOT NULL;

-- Each notice of an award, sent or skipped, at most once (the key makes it so even with
-- several schedulers on one database).
CREATE TABLE notices (
    award_id BIGINT NOT NULL REFERENCES awards(id),
    stage TEXT NOT NULL,
    due_on TEXT NOT NULL,
    sent BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (award_id, stage)
);

-- Messages to deliver, written in the same transaction as what causes them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    -- 'email'
    channel TEXT NOT NULL,
    -- The webhook event type it stands for (award.reminder, award.expired…).
    event TEXT NOT NULL,
    -- The certificate ID it is about, if any.
    award TEXT,
    -- Idempotency: one message per key.
    dedupe_key TEXT NOT NULL UNIQUE,
    -- JSON: {"to": [...], "cc": [...], "subject", "text", "html", "headers": {...}}
    message TEXT NOT NULL,
    -- pending, sent, failed (given up)
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    last_error TEXT,
    created_ms BIGINT NOT NULL,
    sent_ms BIGINT
);
CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE state = 'pending';

-- When the latest complete scheduler pass ran (by the clock the instances use).
CREATE TABLE scheduler_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_pass_ms BIGINT NOT NULL
);
