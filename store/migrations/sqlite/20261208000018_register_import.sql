-- The regulator's register, imported (docs/register.md).
-- Where each provider and location record last came from (docs/register.md, "Precedence"): the register's file,
-- its syndication records, or a decision made in this service; and the date that source speaks for.
ALTER TABLE organisations ADD COLUMN registered_since TEXT;
ALTER TABLE organisations ADD COLUMN companies_house_number TEXT;
ALTER TABLE organisations ADD COLUMN charity_number TEXT;
-- The provider's own postal address, as the register gives it: where enrolment letters go.
ALTER TABLE organisations ADD COLUMN address_line_1 TEXT;
ALTER TABLE organisations ADD COLUMN address_line_2 TEXT;
ALTER TABLE organisations ADD COLUMN town TEXT;
ALTER TABLE organisations ADD COLUMN county TEXT;
ALTER TABLE organisations ADD COLUMN postcode TEXT;
ALTER TABLE organisations ADD COLUMN register_source TEXT
    CHECK (register_source IN ('register_file', 'syndication', 'decision'));
ALTER TABLE organisations ADD COLUMN register_as_of TEXT;
ALTER TABLE organisations ADD COLUMN register_import_id BLOB;
ALTER TABLE locations ADD COLUMN ods_code TEXT;
ALTER TABLE locations ADD COLUMN county TEXT;
ALTER TABLE locations ADD COLUMN care_home INTEGER;
ALTER TABLE locations ADD COLUMN beds INTEGER;
ALTER TABLE locations ADD COLUMN registered_since TEXT;
-- Space-separated codes, as the register marks them.
ALTER TABLE locations ADD COLUMN service_types TEXT;
ALTER TABLE locations ADD COLUMN user_bands TEXT;
ALTER TABLE locations ADD COLUMN register_source TEXT
    CHECK (register_source IN ('register_file', 'syndication', 'decision'));
ALTER TABLE locations ADD COLUMN register_as_of TEXT;
ALTER TABLE locations ADD COLUMN register_import_id BLOB;
-- What is already here was brought across or decided in this service.
UPDATE organisations SET register_source = 'decision', register_as_of = substr(updated_at, 1, 10)
    WHERE provider_id IS NOT NULL;
UPDATE locations SET register_source = 'decision', register_as_of = substr(COALESCE(deregistered_at, registered_at), 1, 10)
    WHERE registered_at IS NOT NULL;

-- A registered manager as the register names them: a name only, never matched to a person (names are not
-- identities), so unverified; a verified manager comes only from the registration flow (registered_managers).
CREATE TABLE published_managers (
    location_id BLOB PRIMARY KEY REFERENCES locations (id),
    full_name   TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 300),
    as_of       TEXT NOT NULL
) STRICT;

CREATE TABLE register_imports (
    id                 BLOB PRIMARY KEY,
    kind               TEXT NOT NULL CHECK (kind IN ('ods', 'csv', 'ndjson')),
    source             TEXT NOT NULL CHECK (source IN ('register_file', 'syndication')),
    as_of              TEXT NOT NULL,
    document_id        BLOB,
    file_name          TEXT NOT NULL,
    sha256             TEXT,
    dry_run            INTEGER NOT NULL,
    started_by         BLOB REFERENCES users (id),
    started_at         TEXT NOT NULL,
    heartbeat_at       TEXT NOT NULL,
    finished_at        TEXT,
    failure            TEXT,
    rows_read          INTEGER NOT NULL DEFAULT 0,
    providers_created  INTEGER NOT NULL DEFAULT 0,
    providers_updated  INTEGER NOT NULL DEFAULT 0,
    providers_unchanged INTEGER NOT NULL DEFAULT 0,
    locations_created  INTEGER NOT NULL DEFAULT 0,
    locations_updated  INTEGER NOT NULL DEFAULT 0,
    locations_unchanged INTEGER NOT NULL DEFAULT 0,
    rows_refused       INTEGER NOT NULL DEFAULT 0,
    rows_in_conflict   INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX register_imports_by_start ON register_imports (started_at, id);

-- The rows an import refused or found in conflict, with why.
CREATE TABLE register_import_rows (
    import_id   BLOB NOT NULL REFERENCES register_imports (id),
    row_number  INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('refused', 'conflict')),
    provider_id TEXT,
    location_id TEXT,
    reason      TEXT NOT NULL,
    PRIMARY KEY (import_id, outcome, row_number, reason)
) STRICT;

-- A reissued code ends the one before it.
ALTER TABLE enrolment_codes ADD COLUMN ended_at TEXT;
CREATE INDEX enrolment_codes_by_organisation ON enrolment_codes (organisation_id, created_at);

-- The event feed gains the register's changes to an organisation's record and its locations. SQLite cannot
-- change a CHECK in place: the table is rebuilt with the new one, keeping every event, and its triggers with it.
CREATE TABLE organisation_events_rebuilt (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    seq             INTEGER NOT NULL,
    id              BLOB NOT NULL,
    at              TEXT NOT NULL,
    object_type     TEXT NOT NULL CHECK (object_type IN ('notification', 'registration_application', 'document',
                                                         'organisation', 'location')),
    object_id       BLOB NOT NULL,
    action          TEXT NOT NULL,
    status          TEXT NOT NULL,
    location_id     BLOB,
    reference       TEXT,
    PRIMARY KEY (organisation_id, seq)
);
INSERT INTO organisation_events_rebuilt SELECT organisation_id, seq, id, at, object_type, object_id, action, status,
                                               location_id, reference FROM organisation_events;
DROP TRIGGER notification_status_events;
DROP TRIGGER application_status_events;
DROP TRIGGER document_scan_events;
DROP TRIGGER document_stored_scanned_events;
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

-- The regulator's own organisation: it holds the files its staff upload (a register file to import) through
-- the same upload path as everyone's. It has no provider ID, so no code enrols anyone in it, and no members:
-- staff with `staff_admin` reach its documents (api/src/auth/principal.rs).
INSERT INTO organisations (id, name, provider_id, four_eyes, version, created_at, updated_at)
    VALUES (X'00000000000040008000000000000001', 'Care Quality Commission (staff files)', NULL, 1, 1,
            '2026-12-08T00:00:00Z', '2026-12-08T00:00:00Z');
