-- Facts recorded on the award itself, never recomputed from its other fields (SPEC §3.2,
-- §3.4): the day a lapsed award was closed because a new chain started, and where its
-- expiry sits in its chain's cycle (expiry = cycle_start + cycle_count × validity).
ALTER TABLE awards ADD COLUMN closed_on TEXT;
ALTER TABLE awards ADD COLUMN cycle_start TEXT;
ALTER TABLE awards ADD COLUMN cycle_count BIGINT;

-- Awards closed before this column existed: not current, and ended by nothing else. They
-- were closed on the day their successor in the same program was issued.
UPDATE awards SET closed_on = COALESCE(
    (SELECT MIN(n.issued_on) FROM awards n
      WHERE n.learner_id = awards.learner_id AND n.program_id = awards.program_id
        AND n.id > awards.id),
    awards.grace_ends_on, awards.issued_on)
WHERE is_current = 0 AND revoked_at IS NULL AND superseded_by IS NULL AND archived_on IS NULL;
