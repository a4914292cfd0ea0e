-- The portal's server-side sessions. The browser's cookie holds only `id`; `data` is the session's JSON
-- (tokens, chosen organisation, CSRF token, answers in progress). `expires_at` is in Unix seconds, the same
-- type on both engines, so expiry compares as a number.
CREATE TABLE portal_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);
