-- The authorization-code flow: integrator applications (third-party software, and the regulator's own
-- portal) act for a user who signed in and consented. Codes and refresh tokens are stored as SHA-256 hashes.

CREATE TABLE integrator_apps (
    id            BLOB PRIMARY KEY,
    name          TEXT NOT NULL,
    -- One exact redirect URI a line; a request must name one of them exactly.
    redirect_uris TEXT NOT NULL,
    -- NULL: a public client (a browser or native app), which relies on PKCE alone.
    secret_hash   TEXT,
    scopes        TEXT NOT NULL,
    created_by    BLOB REFERENCES users (id),
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
) STRICT;

CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    app_id         BLOB NOT NULL REFERENCES integrator_apps (id),
    user_id        BLOB NOT NULL REFERENCES users (id),
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    scopes         TEXT NOT NULL,
    -- The refresh-token family the code was exchanged into, so a replayed code can revoke it.
    family_id      BLOB NOT NULL,
    expires_at     TEXT NOT NULL,
    used_at        TEXT
) STRICT;

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  BLOB NOT NULL,
    app_id     BLOB NOT NULL REFERENCES integrator_apps (id),
    user_id    BLOB NOT NULL REFERENCES users (id),
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    -- Set when the token is exchanged for a new one; a second use is a replay and revokes the family.
    used_at    TEXT,
    revoked_at TEXT
) STRICT;
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

-- Access tokens revoked before they expire (RFC 7009), by jti; kept until they would have expired.
CREATE TABLE revoked_access_tokens (
    jti        BLOB PRIMARY KEY,
    expires_at TEXT NOT NULL
) STRICT;
