-- Two-factor sign-in (docs/identity.md): a person's TOTP secret (RFC 6238), confirmed once they have entered a
-- code from it, with the last time step a code was accepted for, so no code is accepted twice; their
-- single-use recovery codes, kept as SHA-256 hashes; and the organisations that require it of their admins and
-- submitters.
CREATE TABLE two_factor (
    user_id      UUID PRIMARY KEY REFERENCES users (id),
    secret       BYTEA NOT NULL,
    confirmed_at TIMESTAMPTZ,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE recovery_codes (
    user_id   UUID NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE two_factor_policies (
    organisation_id UUID PRIMARY KEY REFERENCES organisations (id),
    required_since  TIMESTAMPTZ NOT NULL
);
