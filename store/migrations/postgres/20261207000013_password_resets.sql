-- "Forgot your password?": a single-use link, emailed, kept as the SHA-256 hash of its secret. Using one ends
-- every other of the person's outstanding links and every sign-in they had.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id),
    -- The sign-in page the person came from (an /v1/oauth/authorize address), to return to afterwards.
    return_to  TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_resets_by_user ON password_resets (user_id);
