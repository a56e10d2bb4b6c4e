-- Each organization's Ed25519 signing keys (credentials, status lists). The secret half is
-- sealed with the key-encryption key from configuration; the public half is published in
-- the organization's DID document for as long as credentials it signed may be checked.
CREATE TABLE signing_keys (
    id INTEGER PRIMARY KEY,
    organization_id INTEGER NOT NULL REFERENCES organizations(id),
    key_id TEXT NOT NULL,
    public_multibase TEXT NOT NULL,
    sealed_secret BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (organization_id, key_id)
);
