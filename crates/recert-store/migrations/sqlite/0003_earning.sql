-- Earning (SPEC §3.3): completions from the API and xAPI, LMS connections, external
-- training reports, standing group awards.

-- Every completion event ever received, whether or not it earned anything: `outcomes` says
-- per program what it did and why (JSON list). `event_id` makes intake idempotent; writes
-- are serialized on the audit head, and the UNIQUE index backs that up across instances.
CREATE TABLE completions (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    item TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    score REAL,
    max_score REAL,
    scaled REAL,
    passed BIGINT,
    content_version TEXT,
    source TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    outcomes TEXT NOT NULL,
    replays BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX completions_learner ON completions(learner_id, completed_on);
CREATE INDEX completions_item ON completions(item, completed_on);

-- HTTP Basic credentials an LMS uses on /xapi. Only the SHA-256 of the secret is kept.
CREATE TABLE lms_connections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);

-- Every xAPI statement accepted, as stored (with `stored` and `authority` set), so the
-- LRS can answer GET /xapi/statements for it.
CREATE TABLE xapi_statements (
    id TEXT PRIMARY KEY,
    connection_id BIGINT REFERENCES lms_connections(id),
    stored_at BIGINT NOT NULL,
    verb TEXT NOT NULL,
    object_id TEXT,
    learner_id BIGINT REFERENCES learners(id),
    statement TEXT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX xapi_statements_stored ON xapi_statements(stored_at);

-- External training a learner (or an admin for them) reports toward a program.
CREATE TABLE external_training (
    id INTEGER PRIMARY KEY,
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    title TEXT NOT NULL,
    provider TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    hours REAL,
    evidence_name TEXT,
    evidence_type TEXT,
    evidence BLOB,
    state TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_note TEXT,
    award_id TEXT,
    outcome TEXT
);
CREATE INDEX external_training_state ON external_training(state, submitted_at);
CREATE INDEX external_training_learner ON external_training(learner_id);

-- A program awarded to a group; with include_later, members who join afterwards are
-- awarded it as they join, until the standing award is stopped.
CREATE TABLE group_awards (
    id INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES learner_groups(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    include_later BIGINT NOT NULL,
    association TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    stopped_at BIGINT
);
CREATE INDEX group_awards_group ON group_awards(group_id);

-- xAPI actors may be identified by the SHA-1 of their mailto: IRI; kept beside the email.
ALTER TABLE learners ADD COLUMN mbox_sha1 TEXT;
CREATE INDEX learners_mbox_sha1 ON learners(mbox_sha1);

-- Whether learners' external training reports wait for an approver (default) or earn at once.
ALTER TABLE programs ADD COLUMN external_training_approval BIGINT NOT NULL DEFAULT 1;
