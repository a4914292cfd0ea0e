-- Documents (evidence and application files) and the resumable uploads that become them. The bytes live in
-- the blob store (a folder or an S3 bucket), named by id; these rows are the metadata and the upload state.

CREATE TABLE uploads (
    id                 BLOB PRIMARY KEY,
    organisation_id    BLOB NOT NULL REFERENCES organisations (id),
    location_id        BLOB REFERENCES locations (id),
    filename           TEXT NOT NULL,
    media_type         TEXT NOT NULL,
    length             INTEGER NOT NULL,
    received           INTEGER NOT NULL,
    -- SHA-256 of the bytes so far, as the hasher's serialised state, so hashing continues across requests
    -- (and nodes) without reading the bytes again.
    hash_state         BLOB NOT NULL,
    created_by_user    BLOB REFERENCES users (id),
    created_by_client  BLOB NOT NULL,
    created_at         TEXT NOT NULL,
    expires_at         TEXT NOT NULL,
    -- Set when the last byte arrived: the document it became.
    document_id        BLOB
) STRICT;
CREATE INDEX uploads_by_expiry ON uploads (expires_at);

CREATE TABLE documents (
    id                  BLOB PRIMARY KEY,
    organisation_id     BLOB NOT NULL REFERENCES organisations (id),
    location_id         BLOB REFERENCES locations (id),
    filename            TEXT NOT NULL,
    media_type          TEXT NOT NULL,
    size                INTEGER NOT NULL,
    sha256              TEXT NOT NULL,
    uploaded_by_user    BLOB REFERENCES users (id),
    uploaded_by_client  BLOB NOT NULL,
    created_at          TEXT NOT NULL,
    scan_status         TEXT NOT NULL CHECK (scan_status IN ('pending', 'clean', 'infected', 'failed')),
    scanner             TEXT,
    scan_detail         TEXT,
    scanned_at          TEXT,
    scan_attempts       INTEGER NOT NULL DEFAULT 0,
    -- When a pending scan may next be tried (a claim by one node, or a retry's backoff).
    scan_next_at        TEXT NOT NULL,
    -- Set when something that attaches the document is submitted: from then on it cannot be deleted.
    frozen_at           TEXT
) STRICT;
CREATE INDEX documents_by_organisation ON documents (organisation_id, created_at, id);
CREATE INDEX documents_pending_scan ON documents (scan_status, scan_next_at);
