-- The audit trail: an append-only, hash-chained log of every state change, sign-in and staff read.
-- `seq` is the position in the chain (1, 2, 3, … without gaps); `hash` is SHA-256 over the previous entry's
-- hash and this entry's fields (see api/src/audit), so editing or deleting a past entry breaks the chain where
-- it happened. `at` is RFC 3339 text with microseconds, exactly as hashed.

CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY CHECK (seq > 0),
    id              BLOB NOT NULL UNIQUE,
    at              TEXT NOT NULL,
    actor_user      BLOB,
    actor_client    BLOB,
    action          TEXT NOT NULL,
    method          TEXT NOT NULL,
    object          TEXT NOT NULL,
    organisation_id BLOB,
    request_id      TEXT,
    status          INTEGER NOT NULL,
    detail          TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_by_actor_user ON audit_log (actor_user, seq);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation_id, seq);

-- Nothing may change or remove an entry: only someone who drops these triggers could, and the chain would then
-- show where.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
