-- Accounts (SPEC §6): who may sign in, with which role, linked to a learner record where
-- the person is one. Program managers are scoped to named programs through user_programs.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    learner_id BIGINT REFERENCES learners(id),
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled_at BIGINT,
    password_changed_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_programs (
    user_id BIGINT NOT NULL REFERENCES users(id),
    program_id BIGINT NOT NULL REFERENCES programs(id),
    PRIMARY KEY (user_id, program_id)
);

-- Web sessions live in the database so any instance can serve any request. Only the
-- SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A token for a scoped role acts for a user and inherits that user's scope.
ALTER TABLE api_tokens ADD COLUMN user_id BIGINT REFERENCES users(id);
