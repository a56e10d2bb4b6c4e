-- What the LRS's statement queries filter by, read from each statement when it is stored
-- (recert_domain::xapi::index): the agents and activities it involves (newline-delimited,
-- tagged actor/object or related), its registration, and voiding. Statements stored before
-- this migration are indexed by the service when it starts (agents IS NULL).
ALTER TABLE xapi_statements ADD COLUMN agents TEXT;
ALTER TABLE xapi_statements ADD COLUMN activities TEXT;
ALTER TABLE xapi_statements ADD COLUMN registration TEXT;
-- The statement this one voids (a voiding statement), and whether this one is voided.
ALTER TABLE xapi_statements ADD COLUMN voids TEXT;
ALTER TABLE xapi_statements ADD COLUMN voided BIGINT NOT NULL DEFAULT 0;
CREATE INDEX xapi_statements_by_connection ON xapi_statements(connection_id, stored_at);
CREATE INDEX xapi_statements_unindexed ON xapi_statements(id) WHERE agents IS NULL;
