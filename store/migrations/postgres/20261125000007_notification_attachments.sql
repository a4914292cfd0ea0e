-- The documents a notification refers to: a JSON array of {document_id, purpose} (and, once submitted, each
-- document's SHA-256, frozen with the content).
ALTER TABLE notifications ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
