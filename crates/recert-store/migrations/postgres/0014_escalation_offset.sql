-- From how many days before expiry a program's reminders copy the learner's manager (and
-- every notice after expiry does): SPEC §9 `escalation_offset_days`, default 30.
ALTER TABLE programs ADD COLUMN escalation_offset_days BIGINT NOT NULL DEFAULT 30;
