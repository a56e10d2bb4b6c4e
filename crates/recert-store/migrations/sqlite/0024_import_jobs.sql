-- Import jobs (SPEC §7, §9 "Reports and imports"). The uploaded file is kept in the
-- database in chunks, so a job survives a restart and any instance can run it; a job
-- records how far it got (rows_done, data rows after the header) in the same transaction
-- as the rows it wrote, which is what makes a resumed job finish exactly once.
CREATE TABLE import_jobs (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    dry_run BIGINT NOT NULL,
    settings TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT,
    file_size BIGINT NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    runner TEXT,
    lease_until BIGINT,
    rows_total BIGINT,
    rows_done BIGINT NOT NULL DEFAULT 0,
    -- People imports link managers and groups in a second pass over the file: its rows done.
    links_done BIGINT NOT NULL DEFAULT 0,
    imported BIGINT NOT NULL DEFAULT 0,
    rejected BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    learners_created BIGINT NOT NULL DEFAULT 0,
    superseded BIGINT NOT NULL DEFAULT 0,
    history BIGINT NOT NULL DEFAULT 0,
    failure TEXT
);
CREATE INDEX import_jobs_by_state ON import_jobs(state, created_at);

CREATE TABLE import_chunks (
    job_id BIGINT NOT NULL REFERENCES import_jobs(id),
    seq BIGINT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- What a job found, row by row: rejections (the errors report) and notes on rows it
-- imported or skipped (superseded an award, kept as history, replaced by a later row).
CREATE TABLE import_issues (
    id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES import_jobs(id),
    line BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    value TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected BIGINT NOT NULL
);
CREATE INDEX import_issues_by_job ON import_issues(job_id, rejected, line);
