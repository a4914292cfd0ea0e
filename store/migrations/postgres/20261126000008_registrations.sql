-- Registration applications (sections edited independently, history, requests for information as history
-- entries), the registered details a decision changes, and the organisation-scoped event feed.

CREATE TABLE registration_applications (
    id                  UUID PRIMARY KEY,
    organisation_id     UUID NOT NULL REFERENCES organisations (id),
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'under_assessment',
                            'information_requested', 'proposal_issued', 'granted', 'refused', 'withdrawn')),
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
    content_sha256      TEXT,
    receipt             TEXT,
    accepted_at         TIMESTAMPTZ,
    inspector_id        UUID REFERENCES users (id),
    decided_at          TIMESTAMPTZ,
    workflow            TEXT NOT NULL
);
CREATE INDEX registration_applications_by_organisation ON registration_applications (organisation_id, created_at, id);
CREATE INDEX registration_applications_queue ON registration_applications (status, created_at, id);

CREATE TABLE registration_application_sections (
    application_id   UUID NOT NULL REFERENCES registration_applications (id),
    name             TEXT NOT NULL,
    content          TEXT NOT NULL,
    version          BIGINT NOT NULL,
    edited_by_user   UUID,
    edited_by_client UUID,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (application_id, name)
);

CREATE TABLE registration_application_events (
    id             UUID PRIMARY KEY,
    application_id UUID NOT NULL REFERENCES registration_applications (id),
    at             TIMESTAMPTZ NOT NULL,
    action         TEXT NOT NULL,
    from_status    TEXT,
    to_status      TEXT,
    actor_user     UUID,
    actor_client   UUID,
    section        TEXT,
    fields         TEXT,
    message        TEXT,
    due_on         TEXT,
    thread_id      UUID,
    attachments    TEXT
);
CREATE INDEX registration_application_events_by_application ON registration_application_events (application_id, id);

-- Registered details.
ALTER TABLE locations ADD COLUMN registered_at TIMESTAMPTZ;
ALTER TABLE locations ADD COLUMN deregistered_at TIMESTAMPTZ;

CREATE TABLE location_activities (
    location_id    UUID NOT NULL REFERENCES locations (id),
    activity       TEXT NOT NULL REFERENCES regulated_activities (code),
    registered_at  TIMESTAMPTZ NOT NULL,
    application_id UUID REFERENCES registration_applications (id),
    PRIMARY KEY (location_id, activity)
);

CREATE TABLE registered_managers (
    location_id    UUID PRIMARY KEY REFERENCES locations (id),
    full_name      TEXT NOT NULL,
    email          TEXT NOT NULL,
    registered_at  TIMESTAMPTZ NOT NULL,
    application_id UUID REFERENCES registration_applications (id)
);

CREATE TABLE registration_conditions (
    id              UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    location_id     UUID REFERENCES locations (id),
    wording         TEXT NOT NULL,
    imposed_at      TIMESTAMPTZ NOT NULL,
    application_id  UUID REFERENCES registration_applications (id),
    removed_at      TIMESTAMPTZ
);
CREATE INDEX registration_conditions_by_organisation ON registration_conditions (organisation_id);

CREATE TABLE registered_partners (
    id              UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    full_name       TEXT NOT NULL,
    email           TEXT NOT NULL,
    registered_at   TIMESTAMPTZ NOT NULL,
    application_id  UUID REFERENCES registration_applications (id),
    removed_at      TIMESTAMPTZ
);
CREATE INDEX registered_partners_by_organisation ON registered_partners (organisation_id);

-- The event feed: every status change of a notification or an application, numbered per organisation.
-- Triggers on the history tables write it in the same transaction as the change. Taking the next number
-- updates the organisation's row, which holds its lock until commit: so an organisation's events commit in
-- number order, and a reader that has seen number n never later finds a smaller one appear.
ALTER TABLE organisations ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE organisation_events (
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    seq             BIGINT NOT NULL,
    id              UUID NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    object_type     TEXT NOT NULL CHECK (object_type IN ('notification', 'registration_application')),
    object_id       UUID NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL,
    location_id     UUID,
    PRIMARY KEY (organisation_id, seq)
);

CREATE FUNCTION organisation_event(org UUID, event_id UUID, event_at TIMESTAMPTZ, object_type TEXT,
                                   object_id UUID, action TEXT, status TEXT, location UUID) RETURNS VOID AS $$
DECLARE
    next_seq BIGINT;
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1 WHERE id = org RETURNING event_seq INTO next_seq;
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status, location_id)
    VALUES (org, next_seq, event_id, event_at, object_type, object_id, action, status, location);
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION notification_status_event() RETURNS TRIGGER AS $$
BEGIN
    PERFORM organisation_event(n.organisation_id, NEW.id, NEW.at, 'notification', n.id, NEW.action,
                               COALESCE(NEW.to_status, 'draft'), n.location_id)
    FROM notifications n WHERE n.id = NEW.notification_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER notification_status_events AFTER INSERT ON notification_events
    FOR EACH ROW WHEN (NEW.to_status IS NOT NULL OR NEW.action = 'created')
    EXECUTE FUNCTION notification_status_event();

CREATE FUNCTION application_status_event() RETURNS TRIGGER AS $$
BEGIN
    PERFORM organisation_event(a.organisation_id, NEW.id, NEW.at, 'registration_application', a.id, NEW.action,
                               COALESCE(NEW.to_status, 'draft'), NULL)
    FROM registration_applications a WHERE a.id = NEW.application_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER application_status_events AFTER INSERT ON registration_application_events
    FOR EACH ROW WHEN (NEW.to_status IS NOT NULL OR NEW.action = 'created')
    EXECUTE FUNCTION application_status_event();
