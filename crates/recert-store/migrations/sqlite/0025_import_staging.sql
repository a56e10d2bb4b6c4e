-- Imported awards reach PostgreSQL by COPY into this table, outside the batch's
-- transaction; the batch then moves them into awards and the notice queue with one
-- INSERT … SELECT inside its transaction, beside the job's progress. Rows of a batch that
-- never committed stay here until the job ends or runs again, and never become awards.
-- SQLite takes multi-row INSERTs directly and never fills this table; it is here so both
-- databases have the same tables.
CREATE TABLE import_staging (
    stage BIGINT NOT NULL,
    job_id BIGINT NOT NULL,
    id BIGINT NOT NULL,
    cert_id TEXT NOT NULL,
    program_id BIGINT NOT NULL,
    learner_id BIGINT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT,
    always_valid BIGINT NOT NULL,
    window_opens_on TEXT,
    grace_ends_on TEXT,
    renewal_window_days BIGINT NOT NULL,
    grace_days BIGINT NOT NULL,
    association TEXT NOT NULL,
    source_ref TEXT,
    content_version TEXT,
    fields TEXT NOT NULL,
    predecessor TEXT,
    superseded_by TEXT,
    superseded_on TEXT,
    is_current BIGINT NOT NULL,
    cycle_start TEXT,
    cycle_count BIGINT,
    grace_extension_days BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    due_on TEXT
);
CREATE INDEX import_staging_stage ON import_staging(stage);
CREATE INDEX import_staging_job ON import_staging(job_id);
