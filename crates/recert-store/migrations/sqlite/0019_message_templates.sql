-- Message templates (SPEC §3.7): the wording of each email an event sends, written by an
-- administrator for every program (program_id NULL) or for one program. What has no row
-- here goes out in the wording recert ships with.
CREATE TABLE message_templates (
    id INTEGER PRIMARY KEY,
    program_id BIGINT REFERENCES programs(id),
    -- The event type: award.reminder, award.issued, … (recert_domain::messages::KINDS).
    event TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE UNIQUE INDEX message_templates_by_scope ON message_templates(COALESCE(program_id, 0), event);
