-- Queries that hold at a million awards (measured by `recert bench awards_1m`).
-- Rare statuses are listed through partial indexes in creation order (keyset pagination
-- reads them in id order and stops at a page); current awards by program serve status
-- filters on current awards and the holder counts without touching ended ones.
CREATE INDEX awards_revoked_by_id ON awards(id) WHERE revoked_on IS NOT NULL;
CREATE INDEX awards_archived_by_id ON awards(id) WHERE archived_on IS NOT NULL;
CREATE INDEX awards_current_by_program ON awards(program_id, grace_ends_on, expires_on, window_opens_on, issued_on)
    WHERE is_current = 1;

-- A program's revision, raised by every change to it or its items: readers keep the
-- catalogue (programs and organizations) in memory and reload it only when the count and
-- the sum of revisions they read (one small query) say it changed.
ALTER TABLE programs ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
