-- The staged parts an upload's accepted writes made, in order (space-separated names), recorded with each
-- advance under its compare-and-set: on S3 each write is its own object, and two nodes can write at one
-- offset; only the parts the database accepted make the document (docs/documents.md).
ALTER TABLE uploads ADD COLUMN staged_parts TEXT NOT NULL DEFAULT '';
