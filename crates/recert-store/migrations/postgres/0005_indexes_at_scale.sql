-- Queries that hold at a million awards (measured by `recert bench awards_1m`).
-- Rare statuses are listed through partial indexes in creation order (keyset pagination
-- reads them in id order and stops at a page); current awards by program serve status
-- filters on current awards and the holder counts without touching ended ones.
CREATE INDEX awards_revoked_by_id ON awards(id) WHERE revoked_on IS NOT NULL;
CREATE INDEX awards_archived_by_id ON awards(id) WHERE archived_on IS NOT NULL;
CREATE INDEX awards_current_by_program ON awards(program_id, grace_ends_on, expires_on, window_opens_on, issued_on)
    WHERE is_current = 1;

-- Learner search matches a fragment anywhere in a name, username or e-mail: trigram
-- indexes answer that without reading every learner. pg_trgm ships with PostgreSQL; where
-- the database role may not create extensions, search still works (by a scan) and the
-- migration says so instead of failing.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX learners_legal_name_trgm ON learners USING gin (lower(legal_name) gin_trgm_ops);
    CREATE INDEX learners_username_trgm ON learners USING gin (lower(username) gin_trgm_ops);
    CREATE INDEX learners_email_trgm ON learners USING gin (lower(email) gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file THEN
    RAISE NOTICE 'pg_trgm is not available: learner search scans instead of using trigram indexes';
END
$$;

-- A program's revision, raised by every change to it or its items: readers keep the
-- catalogue (programs and organizations) in memory and reload it only when the count and
-- the sum of revisions they read (one small query) say it changed.
ALTER TABLE programs ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
