-- Statutory notifications, their history, and the idempotency keys that make creating and submitting them
-- safe to retry. Content is the form as JSON text, exactly as last written (frozen once submitted).

CREATE TABLE notifications (
    id                  BLOB PRIMARY KEY,
    organisation_id     BLOB NOT NULL REFERENCES organisations (id),
    location_id         BLOB REFERENCES locations (id),
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'acknowledged',
                            'information_requested', 'responded', 'closed', 'discarded')),
    content             TEXT NOT NULL,
    follows_id          BLOB REFERENCES notifications (id),
    version             INTEGER NOT NULL,
    created_by_user     BLOB,
    created_by_client   BLOB,
    edited_by_user      BLOB,
    edited_by_client    BLOB,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    reference           TEXT UNIQUE,
    submitted_at        TEXT,
    submitted_by_user   BLOB,
    submitted_by_client BLOB,
    schema_version      INTEGER,
    content_sha256      TEXT,
    receipt             TEXT,
    request_message     TEXT,
    request_due_on      TEXT,
    outcome             TEXT,
    outcome_note        TEXT,
    CHECK ((status = 'draft' OR status = 'discarded') = (reference IS NULL))
) STRICT;
CREATE INDEX notifications_by_organisation ON notifications (organisation_id, created_at, id);
CREATE INDEX notifications_queue ON notifications (status, created_at, id);

CREATE TABLE notification_events (
    id              BLOB PRIMARY KEY,
    notification_id BLOB NOT NULL REFERENCES notifications (id),
    at              TEXT NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    actor_user      BLOB,
    actor_client    BLOB,
    fields          TEXT,
    message         TEXT,
    due_on          TEXT
) STRICT;
CREATE INDEX notification_events_by_notification ON notification_events (notification_id, id);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    locked_until TEXT NOT NULL,
    status       INTEGER,
    headers      TEXT,
    body         TEXT,
    created_at   TEXT NOT NULL,
    completed_at TEXT,
    PRIMARY KEY (scope, key)
) STRICT;
