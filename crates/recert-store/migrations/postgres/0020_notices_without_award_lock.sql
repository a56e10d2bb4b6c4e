-- A notice's award is never deleted (records are kept; retention anonymizes them in
-- place), so the reference cannot dangle. On PostgreSQL checking it locked every award
-- row a scheduler pass records a notice for (FOR KEY SHARE, a write to the award's page):
-- measured with `recert bench reminders_1m`, the largest part of recording 10,000 notices.
ALTER TABLE notices DROP CONSTRAINT IF EXISTS notices_award_id_fkey;
