-- Supervisor sign-off (SPEC §3.4, §9): a learner asks their manager to confirm they are
-- still competent; the manager approves (which renews) or declines, with a comment.
CREATE TABLE signoffs (
    id INTEGER PRIMARY KEY,
    award_id BIGINT NOT NULL REFERENCES awards(id),
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    -- The manager asked, as recorded when the request was made.
    manager_id BIGINT NOT NULL REFERENCES learners(id),
    -- pending, approved, declined
    state TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at_ms BIGINT NOT NULL,
    decided_by TEXT,
    decided_at_ms BIGINT,
    comment TEXT,
    -- The certificate ID of the renewal an approval issued.
    renewal TEXT
);
-- At most one open request per award.
CREATE UNIQUE INDEX signoffs_one_pending ON signoffs(award_id) WHERE state = 'pending';
CREATE INDEX signoffs_manager ON signoffs(manager_id, state);
