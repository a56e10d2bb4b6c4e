-- Continuing-education credits (SPEC §3.4, §9): entries a learner (or their supervisor,
-- or an approver) logs toward renewing a certification; approved at once for the
-- program's approved providers, otherwise by an approver. When the approved entries of a
-- cycle meet the program's requirement inside the renewal window, the award renews.
ALTER TABLE programs ADD COLUMN approved_providers TEXT NOT NULL DEFAULT '[]';
CREATE TABLE credits (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    -- The award whose cycle the entry counts toward (current when it was logged).
    award_id BIGINT NOT NULL REFERENCES awards(id),
    completed_on TEXT NOT NULL,
    hours DOUBLE PRECISION NOT NULL,
    category TEXT,
    provider TEXT NOT NULL,
    evidence_name TEXT,
    evidence_type TEXT,
    evidence BLOB,
    -- pending, approved, rejected
    state TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_note TEXT,
    -- The certificate ID of the renewal these credits completed, once they did.
    renewal TEXT
);
CREATE INDEX credits_award ON credits(award_id, state);
CREATE INDEX credits_state ON credits(state, submitted_at);
CREATE INDEX credits_learner ON credits(learner_id);
-- Approved entries not yet used by a renewal: what the scheduler's credit pass reads.
CREATE INDEX credits_unused ON credits(award_id) WHERE state = 'approved' AND renewal IS NULL;
