-- How people come to administer or join an organisation: enrolment codes the regulator issues for a
-- registered provider (the first redeemer becomes its admin), and invitations an admin sends. Both are
-- single-use secrets, stored as SHA-256 hashes.

CREATE TABLE enrolment_codes (
    code_hash       TEXT PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    issued_by       UUID NOT NULL REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    redeemed_at     TIMESTAMPTZ,
    redeemed_by     UUID REFERENCES users (id)
);

CREATE TABLE invitations (
    id               UUID PRIMARY KEY,
    organisation_id  UUID NOT NULL REFERENCES organisations (id),
    email            TEXT NOT NULL,
    email_normalised TEXT NOT NULL,
    roles            TEXT NOT NULL,
    location_ids     TEXT,
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       UUID NOT NULL REFERENCES users (id),
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    accepted_at      TIMESTAMPTZ,
    accepted_by      UUID REFERENCES users (id),
    revoked_at       TIMESTAMPTZ
);
CREATE INDEX invitations_by_organisation ON invitations (organisation_id, created_at);

-- Listing every organisation or user for the regulator's staff, a page at a time, in creation order.
CREATE INDEX organisations_by_creation ON organisations (created_at, id);
CREATE INDEX users_by_creation ON users (created_at, id);
