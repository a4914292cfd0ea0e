-- The audit trail: an append-only, hash-chained log of every state change, sign-in and staff read.
-- `seq` is the position in the chain (1, 2, 3, … without gaps); `hash` is SHA-256 over the previous entry's
-- hash and this entry's fields (see api/src/audit), so editing or deleting a past entry breaks the chain where
-- it happened. Appends take an advisory lock, so the chain is linear however many nodes write.
-- `at` is RFC 3339 text with microseconds, exactly as hashed (no rounding by the engine).

CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY CHECK (seq > 0),
    id              UUID NOT NULL UNIQUE,
    at              TEXT NOT NULL,
    actor_user      UUID,
    actor_client    UUID,
    action          TEXT NOT NULL,
    method          TEXT NOT NULL,
    object          TEXT NOT NULL,
    organisation_id UUID,
    request_id      TEXT,
    status          INTEGER NOT NULL,
    detail          TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_by_actor_user ON audit_log (actor_user, seq);
CREATE INDEX audit_log_by_organisation ON audit_log (organisation_id, seq);

-- Nothing may change or remove an entry: only a privileged operator who disables this trigger could, and the
-- chain would then show where.
CREATE FUNCTION audit_log_append_only() RETURNS TRIGGER AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
