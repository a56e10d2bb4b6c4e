-- recert foundation schema (SQLite). Dates are TEXT YYYY-MM-DD, instants BIGINT epoch ms,
-- flags BIGINT 0/1, structured settings TEXT JSON: the same column types as PostgreSQL so one
-- portable query set serves both.

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    url TEXT,
    time_zone TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    code_folded TEXT NOT NULL UNIQUE,
    organization_id BIGINT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    validity_count BIGINT NOT NULL,
    validity_unit TEXT NOT NULL,
    renewal_window_days BIGINT NOT NULL,
    grace_days BIGINT NOT NULL,
    reminder_offsets_days TEXT NOT NULL,
    renewal_pathways TEXT NOT NULL,
    renewal_anchor TEXT NOT NULL,
    credits_required TEXT,
    refresher_item TEXT,
    content_version TEXT,
    custom_fields TEXT NOT NULL,
    grace_counts_as_compliant BIGINT NOT NULL,
    archived_on TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE program_items (
    id INTEGER PRIMARY KEY,
    program_id BIGINT NOT NULL REFERENCES programs(id),
    position BIGINT NOT NULL,
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    pass_threshold REAL,
    assigned_on TEXT NOT NULL,
    activity_id TEXT,
    url TEXT,
    UNIQUE (program_id, code)
);
CREATE INDEX program_items_code ON program_items(code);

CREATE TABLE learners (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    legal_name TEXT NOT NULL,
    email TEXT,
    external_ids TEXT NOT NULL,
    manager_id BIGINT REFERENCES learners(id),
    time_zone TEXT,
    active BIGINT NOT NULL,
    end_date TEXT,
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX learners_email ON learners(email);
CREATE INDEX learners_manager ON learners(manager_id);

CREATE TABLE learner_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES learner_groups(id),
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    PRIMARY KEY (group_id, learner_id)
);
CREATE INDEX group_members_learner ON group_members(learner_id);

CREATE TABLE requirements (
    id INTEGER PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES learner_groups(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    created_at BIGINT NOT NULL,
    UNIQUE (group_id, program_id)
);

CREATE TABLE awards (
    id INTEGER PRIMARY KEY,
    cert_id TEXT NOT NULL UNIQUE,
    program_id BIGINT NOT NULL REFERENCES programs(id),
    learner_id BIGINT NOT NULL REFERENCES learners(id),
    issued_on TEXT NOT NULL,
    completed_on TEXT,
    expires_on TEXT,
    always_valid BIGINT NOT NULL,
    window_opens_on TEXT,
    grace_ends_on TEXT,
    renewal_window_days BIGINT NOT NULL,
    grace_days BIGINT NOT NULL,
    grace_extension_days BIGINT NOT NULL,
    score REAL,
    pass_threshold REAL,
    association TEXT NOT NULL,
    source_ref TEXT,
    credits_hours REAL,
    credits_category TEXT,
    content_version TEXT,
    fields TEXT NOT NULL,
    predecessor TEXT,
    superseded_by TEXT,
    superseded_on TEXT,
    pathway TEXT,
    revoked_at BIGINT,
    revoked_on TEXT,
    revoked_reason TEXT,
    revoked_category TEXT,
    archived_on TEXT,
    is_current BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A learner holds at most one current award per program (SPEC §3.3).
CREATE UNIQUE INDEX awards_one_current ON awards(learner_id, program_id) WHERE is_current = 1;
CREATE INDEX awards_learner ON awards(learner_id);
CREATE INDEX awards_program_expires ON awards(program_id, expires_on);
CREATE INDEX awards_expires ON awards(expires_on);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);

-- The audit trail is one hash chain; audit_head serializes appends (its row is locked by
-- every write transaction first) and remembers the last link.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_subject ON audit_events(subject_type, subject_id);
