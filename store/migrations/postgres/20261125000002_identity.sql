-- Identity: organisations and their locations, people, memberships, API clients, signing keys.
-- Lists (roles, scopes, location ids) are space-separated text: the form OAuth uses for scopes, and the same
-- on both engines.

CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    provider_id TEXT UNIQUE,
    four_eyes   BOOLEAN NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE locations (
    id              UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    location_id     TEXT UNIQUE,
    name            TEXT NOT NULL,
    address_line_1  TEXT NOT NULL,
    address_line_2  TEXT,
    town            TEXT NOT NULL,
    postcode        TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX locations_by_organisation ON locations (organisation_id);

CREATE TABLE users (
    id               UUID PRIMARY KEY,
    email            TEXT NOT NULL,
    email_normalised TEXT NOT NULL UNIQUE,
    display_name     TEXT NOT NULL,
    password_hash    TEXT,
    staff_roles      TEXT NOT NULL,
    disabled         BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    user_id         UUID NOT NULL REFERENCES users (id),
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    roles           TEXT NOT NULL,
    location_ids    TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX memberships_by_organisation ON memberships (organisation_id);

CREATE TABLE api_clients (
    id              UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    secret_hash     TEXT,
    jwks            TEXT,
    roles           TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    location_ids    TEXT,
    created_by      UUID REFERENCES users (id),
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    CHECK (secret_hash IS NOT NULL OR jwks IS NOT NULL)
);
CREATE INDEX api_clients_by_organisation ON api_clients (organisation_id);

CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY,
    algorithm       TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    retired_at      TIMESTAMPTZ
);

-- `jti`s of private_key_jwt client assertions already used, kept until the assertion expires (RFC 7523 §3).
CREATE TABLE client_assertions (
    client_id  UUID NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, jti)
);
