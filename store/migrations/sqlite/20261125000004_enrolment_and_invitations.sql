-- How people come to administer or join an organisation: enrolment codes the regulator issues for a
-- registered provider (the first redeemer becomes its admin), and invitations an admin sends. Both are
-- single-use secrets, stored as SHA-256 hashes.

CREATE TABLE enrolment_codes (
    code_hash       TEXT PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    issued_by       BLOB NOT NULL REFERENCES users (id),
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    redeemed_at     TEXT,
    redeemed_by     BLOB REFERENCES users (id)
) STRICT;

CREATE TABLE invitations (
    id               BLOB PRIMARY KEY,
    organisation_id  BLOB NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL,
    email_normalised TEXT NOT NULL,
    roles            TEXT NOT NULL,
    location_ids     TEXT,
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       BLOB NOT NULL REFERENCES users (id),
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    accepted_at      TEXT,
    accepted_by      BLOB REFERENCES users (id),
    revoked_at       TEXT
) STRICT;
CREATE INDEX invitations_by_organisation ON invitations (organisation_id, created_at);

-- Listing every organisation or user for the regulator's staff, a page at a time, in creation order.
CREATE INDEX organisations_by_creation ON organisations (created_at, id);
CREATE INDEX users_by_creation ON users (created_at, id);
