-- The event feed (docs/events.md) gains documents' scan results, and a submission's receipt reference.
ALTER TABLE organisation_events ADD COLUMN reference TEXT;
ALTER TABLE organisation_events DROP CONSTRAINT organisation_events_object_type_check;
ALTER TABLE organisation_events ADD CONSTRAINT organisation_events_object_type_check
    CHECK (object_type IN ('notification', 'registration_application', 'document'));

DROP FUNCTION organisation_event(UUID, UUID, TIMESTAMPTZ, TEXT, UUID, TEXT, TEXT, UUID);
CREATE FUNCTION organisation_event(org UUID, event_id UUID, event_at TIMESTAMPTZ, object_type TEXT,
                                   object_id UUID, action TEXT, status TEXT, location UUID,
                                   reference TEXT) RETURNS VOID AS $$
DECLARE
    next_seq BIGINT;
BEGIN
    UPDATE organisations SET event_seq = event_seq + 1 WHERE id = org RETURNING event_seq INTO next_seq;
    INSERT INTO organisation_events (organisation_id, seq, id, at, object_type, object_id, action, status,
                                     location_id, reference)
    VALUES (org, next_seq, event_id, event_at, object_type, object_id, action, status, location, reference);
END
$$ LANGUAGE plpgsql;

-- A submission's event carries the reference its receipt quotes.
CREATE OR REPLACE FUNCTION notification_status_event() RETURNS TRIGGER AS $$
BEGIN
    PERFORM organisation_event(n.organisation_id, NEW.id, NEW.at, 'notification', n.id, NEW.action,
                               COALESCE(NEW.to_status, 'draft'), n.location_id,
                               CASE WHEN NEW.action = 'submitted' THEN n.reference END)
    FROM notifications n WHERE n.id = NEW.notification_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION application_status_event() RETURNS TRIGGER AS $$
BEGIN
    PERFORM organisation_event(a.organisation_id, NEW.id, NEW.at, 'registration_application', a.id, NEW.action,
                               COALESCE(NEW.to_status, 'draft'), NULL,
                               CASE WHEN NEW.action = 'submitted' THEN a.reference END)
    FROM registration_applications a WHERE a.id = NEW.application_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- A document's scan result (clean, infected or failed), once: when a scan records it, or when a document is
-- stored already clean (no scanner configured).
CREATE FUNCTION document_scan_event() RETURNS TRIGGER AS $$
BEGIN
    PERFORM organisation_event(NEW.organisation_id, gen_random_uuid(), COALESCE(NEW.scanned_at, NEW.created_at),
                               'document', NEW.id, 'scanned', NEW.scan_status, NEW.location_id, NULL);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER document_scan_events AFTER UPDATE OF scan_status ON documents
    FOR EACH ROW WHEN (NEW.scan_status <> OLD.scan_status AND NEW.scan_status <> 'pending')
    EXECUTE FUNCTION document_scan_event();
CREATE TRIGGER document_stored_scanned_events AFTER INSERT ON documents
    FOR EACH ROW WHEN (NEW.scan_status <> 'pending')
    EXECUTE FUNCTION document_scan_event();
