-- Registration applications (sections edited independently, history, requests for information as history
-- entries), the registered details a decision changes, and the organisation-scoped event feed.

CREATE TABLE registration_applications (
    id                  BLOB PRIMARY KEY,
    organisation_id     BLOB NOT NULL REFERENCES organisations (id),
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'under_assessment',
                            'information_requested', 'proposal_issued', 'granted', 'refused', 'withdrawn')),
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
    content_sha256      TEXT,
    receipt             TEXT,
    accepted_at         TEXT,
    inspector_id        BLOB REFERENCES users (id),
    decided_at          TEXT,
    workflow            TEXT NOT NULL
);
CREATE INDEX registration_applications_by_organisation ON registration_applications (organisation_id, created_at, id);
CREATE INDEX registration_applications_queue ON registration_applications (status, created_at, id);

CREATE TABLE registration_application_sections (
    application_id   BLOB NOT NULL REFERENCES registration_applications (id),
    name             TEXT NOT NULL,
    content          TEXT NOT NULL,
    version          INTEGER NOT NULL,
    edited_by_user   BLOB,
    edited_by_client BLOB,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (application_id, name)
);

CREATE TABLE registration_application_events (
    id             BLOB PRIMARY KEY,
    application_id BLOB NOT NULL REFERENCES registration_applications (id),
    at             TEXT NOT NULL,
    action         TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT,
    actor_user     BLOB,
    actor_client   BLOB,
    section        TEXT,
    fields         TEXT,
    message        TEXT,
    due_on         TEXT,
    thread_id      BLOB,
    attachments    TEXT
);
CREATE INDEX registration_application_events_by_application ON registration_application_events (application_id, id);

-- Registered details.
ALTER TABLE locations ADD COLUMN registered_at TEXT;
ALTER TABLE locations ADD COLUMN deregistered_at TEXT;

CREATE TABLE location_activities (
    location_id    BLOB NOT NULL REFERENCES locations (id),
    activity       TEXT NOT NULL REFERENCES regulated_activities (code),
    registered_at  TEXT NOT NULL,
    application_id BLOB REFERENCES registration_applications (id),
    PRIMARY KEY (location_id, activity)
);

CREATE TABLE registered_managers (
    location_id    BLOB PRIMARY KEY REFERENCES locations (id),
    full_name      TEXT NOT NULL,
    email          TEXT NOT NULL,
    registered_at  TEXT NOT NULL,
    application_id BLOB REFERENCES registration_applications (id)
);

CREATE TABLE registration_conditions (
    id              BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    location_id     BLOB REFERENCES locations (id),
    wording         TEXT NOT NULL,
    imposed_at      TEXT NOT NULL,
    application_id  BLOB REFERENCES registration_applications (id),
    removed_at      TEXT
);
CREATE INDEX registration_conditions_by_organisation ON registration_conditions (organisation_id);

CREATE TABLE registered_partners (
    id              BLOB PRIMARY KEY,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    full_name       TEXT NOT NULL,
    email           TEXT NOT NULL,
    registered_at   TEXT NOT NULL,
    application_id  BLOB REFERENCES registration_applications (id),
    removed_at      TEXT
);
CREATE INDEX registered_partners_by_organisation ON registered_partners (organisation_id);

-- The event feed: every status change of a notification or an application, numbered per organisation.
-- Triggers on the history tables write it in the same transaction as the change. Taking the next number
-- updates the organisation's row, which holds its lock until commit: so an organisation's events commit in
-- number order, and a reader that has seen number n never later finds a smaller one appear.
ALTER TABLE organisations ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;

CREATE TABLE organisation_events (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    seq             INTEGER NOT NULL,
    id              BLOB NOT NULL,
    at              TEXT NOT NULL,
    object_type     TEXT NOT NULL CHECK (object_type IN ('notification', 'registration_application')),
    object_id       BLOB NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL,
    location_id     BLOB,
    PRIMARY KEY (organisation_id, seq)
);

-- SQLite has one writer at a time, so numbering inside the trigger is enough.
CREATE TRIGGER notification_status_events AFTER INSERT ON notification_events
    WHEN NEW.to_status IS NOT NULL OR NEW.action = 'created'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1
        WHERE id = (SELECT organisation_id FROM notifications WHERE id = NEW.notification_id);
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status, location_id)
    SELECT n.organisation_id, o.event_seq, NEW.id, NEW.at, 'notification', n.id, NEW.action,
           COALESCE(NEW.to_status, 'draft'), n.location_id
    FROM notifications n JOIN organisations o ON o.id = n.organisation_id WHERE n.id = NEW.notification_id;
END;

CREATE TRIGGER application_status_events AFTER INSERT ON registration_application_events
    WHEN NEW.to_status IS NOT NULL OR NEW.action = 'created'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1
        WHERE id = (SELECT organisation_id FROM registration_applications WHERE id = NEW.application_id);
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status, location_id)
    SELECT a.organisation_id, o.event_seq, NEW.id, NEW.at, 'registration_application', a.id, NEW.action,
           COALESCE(NEW.to_status, 'draft'), NULL
    FROM registration_applications a JOIN organisations o ON o.id = a.organisation_id WHERE a.id = NEW.application_id;
END;
