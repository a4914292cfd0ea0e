-- The regulator's register, imported (docs/register.md).
-- Where each provider and location record last came from (docs/register.md, "Precedence"): the register's file,
-- its syndication records, or a decision made in this service; and the date that source speaks for.
ALTER TABLE organisations ADD COLUMN registered_since DATE;
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
ALTER TABLE organisations ADD COLUMN register_as_of DATE;
ALTER TABLE organisations ADD COLUMN register_import_id UUID;
ALTER TABLE locations ADD COLUMN ods_code TEXT;
ALTER TABLE locations ADD COLUMN county TEXT;
ALTER TABLE locations ADD COLUMN care_home BOOLEAN;
ALTER TABLE locations ADD COLUMN beds INTEGER;
ALTER TABLE locations ADD COLUMN registered_since DATE;
-- Space-separated codes, as the register marks them.
ALTER TABLE locations ADD COLUMN service_types TEXT;
ALTER TABLE locations ADD COLUMN user_bands TEXT;
ALTER TABLE locations ADD COLUMN register_source TEXT
    CHECK (register_source IN ('register_file', 'syndication', 'decision'));
ALTER TABLE locations ADD COLUMN register_as_of DATE;
ALTER TABLE locations ADD COLUMN register_import_id UUID;
-- What is already here was brought across or decided in this service.
UPDATE organisations SET register_source = 'decision', register_as_of = (updated_at AT TIME ZONE 'UTC')::date
    WHERE provider_id IS NOT NULL;
UPDATE locations SET register_source = 'decision',
    register_as_of = (COALESCE(deregistered_at, registered_at) AT TIME ZONE 'UTC')::date
    WHERE registered_at IS NOT NULL;

-- A registered manager as the register names them: a name only, never matched to a person (names are not
-- identities), so unverified; a verified manager comes only from the registration flow (registered_managers).
CREATE TABLE published_managers (
    location_id UUID PRIMARY KEY REFERENCES locations (id),
    full_name   TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 300),
    as_of       DATE NOT NULL
);

CREATE TABLE register_imports (
    id                  UUID PRIMARY KEY,
    kind                TEXT NOT NULL CHECK (kind IN ('ods', 'csv', 'ndjson')),
    source              TEXT NOT NULL CHECK (source IN ('register_file', 'syndication')),
    as_of               DATE NOT NULL,
    document_id         UUID,
    file_name           TEXT NOT NULL,
    sha256              TEXT,
    dry_run             BOOLEAN NOT NULL,
    started_by          UUID REFERENCES users (id),
    started_at          TIMESTAMPTZ NOT NULL,
    heartbeat_at        TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    failure             TEXT,
    rows_read           BIGINT NOT NULL DEFAULT 0,
    providers_created   BIGINT NOT NULL DEFAULT 0,
    providers_updated   BIGINT NOT NULL DEFAULT 0,
    providers_unchanged BIGINT NOT NULL DEFAULT 0,
    locations_created   BIGINT NOT NULL DEFAULT 0,
    locations_updated   BIGINT NOT NULL DEFAULT 0,
    locations_unchanged BIGINT NOT NULL DEFAULT 0,
    rows_refused        BIGINT NOT NULL DEFAULT 0,
    rows_in_conflict    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX register_imports_by_start ON register_imports (started_at, id);

-- The rows an import refused or found in conflict, with why.
CREATE TABLE register_import_rows (
    import_id   UUID NOT NULL REFERENCES register_imports (id),
    row_number  BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('refused', 'conflict')),
    provider_id TEXT,
    location_id TEXT,
    reason      TEXT NOT NULL,
    PRIMARY KEY (import_id, outcome, row_number, reason)
);

-- A reissued code ends the one before it.
ALTER TABLE enrolment_codes ADD COLUMN ended_at TIMESTAMPTZ;
CREATE INDEX enrolment_codes_by_organisation ON enrolment_codes (organisation_id, created_at);

-- The event feed gains the register's changes to an organisation's record and its locations.
ALTER TABLE organisation_events DROP CONSTRAINT organisation_events_object_type_check;
ALTER TABLE organisation_events ADD CONSTRAINT organisation_events_object_type_check
    CHECK (object_type IN ('notification', 'registration_application', 'document', 'organisation', 'location'));

-- The regulator's own organisation: it holds the files its staff upload (a register file to import) through
-- the same upload path as everyone's. It has no provider ID, so no code enrols anyone in it, and no members:
-- staff with `staff_admin` reach its documents (api/src/auth/principal.rs).
INSERT INTO organisations (id, name, provider_id, four_eyes, version, created_at, updated_at)
    VALUES ('00000000-0000-4000-8000-000000000001', 'Care Quality Commission (staff files)', NULL, TRUE, 1,
            '2026-12-08T00:00:00Z', '2026-12-08T00:00:00Z');
