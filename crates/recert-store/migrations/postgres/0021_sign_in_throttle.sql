-- Failed sign-ins, counted per account, per client address and per account-and-address
-- pair. They slow sign-in down progressively instead of locking an account (which anyone
-- who knows a username could do with five requests). Counted alike for names that exist
-- and names that do not, so the answers never tell which accounts exist.
-- (users.failed_logins and users.locked_until, the lockout's, are no longer read.)
CREATE TABLE sign_in_throttle (
    -- 'account:<name>', 'address:<ip>' or 'pair:<name> <ip>'
    key TEXT PRIMARY KEY,
    -- The username the key is about (account and pair keys): an unlock clears them.
    username TEXT,
    failures BIGINT NOT NULL,
    last_ms BIGINT NOT NULL,
    -- No attempt is checked before this instant.
    wait_until_ms BIGINT NOT NULL
);
CREATE INDEX sign_in_throttle_by_user ON sign_in_throttle(username);
CREATE INDEX sign_in_throttle_by_age ON sign_in_throttle(last_ms);
