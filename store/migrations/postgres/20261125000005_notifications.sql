-- Statutory notifications, their history, and the idempotency keys that make creating and submitting them
-- safe to retry. Content is the form as JSON text, exactly as last written (frozen once submitted).

CREATE TABLE notifications (
    id                  UUID PRIMARY KEY,
    organisation_id     UUID NOT NULL REFERENCES organisations (id),
    location_id         UUID REFERENCES locations (id),
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'acknowledged',
                            'information_requested', 'responded', 'closed', 'discarded')),
    content             TEXT NOT NULL,
    follows_id          UUID REFERENCES notifications (id),
    version             BIGINT NOT NULL,
    created_by_user     UUID,
    created_by_client   UUID,
    edited_by_user      UUID,
    edited_by_client    UUID,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    reference           TEXT UNIQUE,
    submitted_at        TIMESTAMPTZ,
    submitted_by_user   UUID,
    submitted_by_client UUID,
    schema_version      BIGINT,
    content_sha256      TEXT,
    receipt             TEXT,
    request_message     TEXT,
    request_due_on      TEXT,
    outcome             TEXT,
    outcome_note        TEXT,
    CHECK ((status = 'draft' OR status = 'discarded') = (reference IS NULL))
);
CREATE INDEX notifications_by_organisation ON notifications (organisation_id, created_at, id);
CREATE INDEX notifications_queue ON notifications (status, created_at, id);

CREATE TABLE notification_events (
    id              UUID PRIMARY KEY,
    notification_id UUID NOT NULL REFERENCES notifications (id),
    at              TIMESTAMPTZ NOT NULL,
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    actor_user      UUID,
    actor_client    UUID,
    fields          TEXT,
    message         TEXT,
    due_on          TEXT
);
CREATE INDEX notification_events_by_notification ON notification_events (notification_id, id);

CREATE TABLE idempotency_keys (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    locked_until TIMESTAMPTZ NOT NULL,
    status       BIGINT,
    headers      TEXT,
    body         TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    PRIMARY KEY (scope, key)
);
