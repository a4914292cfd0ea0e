-- The event feed (docs/events.md) gains documents' scan results, and a submission's receipt reference.
-- SQLite cannot change a CHECK in place: the table is rebuilt with the new one, keeping every event.
CREATE TABLE organisation_events_rebuilt (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    seq             INTEGER NOT NULL,
    id              BLOB NOT NULL,
    at              TEXT NOT NULL,
    object_type     TEXT NOT NULL CHECK (object_type IN ('notification', 'registration_application', 'document')),
    object_id       BLOB NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL,
    location_id     BLOB,
    reference       TEXT,
    PRIMARY KEY (organisation_id, seq)
);
INSERT INTO organisation_events_rebuilt (organisation_id, seq, id, at, object_type, object_id, action, status,
                                         location_id)
    SELECT organisation_id, seq, id, at, object_type, object_id, action, status, location_id FROM organisation_events;
DROP TRIGGER notification_status_events;
DROP TRIGGER application_status_events;
DROP TABLE organisation_events;
ALTER TABLE organisation_events_rebuilt RENAME TO organisation_events;

-- A submission's event carries the reference its receipt quotes.
CREATE TRIGGER notification_status_events AFTER INSERT ON notification_events
    WHEN NEW.to_status IS NOT NULL OR NEW.action = 'created'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1
        WHERE id = (SELECT organisation_id FROM notifications WHERE id = NEW.notification_id);
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status,
                                     location_id, reference)
    SELECT n.organisation_id, o.event_seq, NEW.id, NEW.at, 'notification', n.id, NEW.action,
           COALESCE(NEW.to_status, 'draft'), n.location_id, CASE WHEN NEW.action = 'submitted' THEN n.reference END
    FROM notifications n JOIN organisations o ON o.id = n.organisation_id WHERE n.id = NEW.notification_id;
END;

CREATE TRIGGER application_status_events AFTER INSERT ON registration_application_events
    WHEN NEW.to_status IS NOT NULL OR NEW.action = 'created'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1
        WHERE id = (SELECT organisation_id FROM registration_applications WHERE id = NEW.application_id);
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status,
                                     location_id, reference)
    SELECT a.organisation_id, o.event_seq, NEW.id, NEW.at, 'registration_application', a.id, NEW.action,
           COALESCE(NEW.to_status, 'draft'), NULL, CASE WHEN NEW.action = 'submitted' THEN a.reference END
    FROM registration_applications a JOIN organisations o ON o.id = a.organisation_id WHERE a.id = NEW.application_id;
END;

-- A document's scan result (clean, infected or failed), once: when a scan records it, or when a document is
-- stored already clean (no scanner configured). The event's id is a random UUID (version 4 bits set).
CREATE TRIGGER document_scan_events AFTER UPDATE OF scan_status ON documents
    WHEN NEW.scan_status <> OLD.scan_status AND NEW.scan_status <> 'pending'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1 WHERE id = NEW.organisation_id;
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status,
                                     location_id)
    SELECT NEW.organisation_id, o.event_seq, randomblob(6) || X'40' || randomblob(1) || X'80' || randomblob(7),
           COALESCE(NEW.scanned_at, NEW.created_at), 'document', NEW.id, 'scanned', NEW.scan_status,
           NEW.location_id
    FROM organisations o WHERE o.id = NEW.organisation_id;
END;

CREATE TRIGGER document_stored_scanned_events AFTER INSERT ON documents
    WHEN NEW.scan_status <> 'pending'
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1 WHERE id = NEW.organisation_id;
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status,
                                     location_id)
    SELECT NEW.organisation_id, o.event_seq, randomblob(6) || X'40' || randomblob(1) || X'80' || randomblob(7),
           COALESCE(NEW.scanned_at, NEW.created_at), 'document', NEW.id, 'scanned', NEW.scan_status,
           NEW.location_id
    FROM organisations o WHERE o.id = NEW.organisation_id;
END;
