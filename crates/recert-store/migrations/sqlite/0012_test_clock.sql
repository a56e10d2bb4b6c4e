-- The test clock: "now" for instances started with `--test-clock`, kept in the database so
-- that every instance on it agrees. One row at most; without the flag it is ignored.
CREATE TABLE test_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    now_ms BIGINT NOT NULL,
    -- When (real time) it was last set.
    set_at_ms BIGINT NOT NULL
);
