-- The tokens of each sign-in, apart from the session's data. A request saves the whole session it loaded
-- when it ends; were the tokens in that data, a page finishing after another had renewed them would put back
-- a spent refresh token (and the API, taking its reuse for theft, would end the sign-in). Only signing in,
-- renewing and signing out write here. `sign_in_id` on the session says whose tokens it holds, so that
-- housekeeping can remove the tokens of sessions that have gone.
CREATE TABLE portal_sign_ins (
    id TEXT PRIMARY KEY NOT NULL,
    access_token TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_token TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE portal_sessions ADD COLUMN sign_in_id TEXT;
CREATE INDEX portal_sessions_sign_in_id ON portal_sessions (sign_in_id);
