-- Four eyes as a review: a person with the submitter role approves one version of a draft notification or
-- application (docs/review.md). An edit clears the approval; a submission keeps it, as the record of who
-- reviewed what was sent. History entries of an approval name the version approved.
ALTER TABLE organisations ADD COLUMN software_submits INTEGER NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN approved_by_user BLOB;
ALTER TABLE notifications ADD COLUMN approved_version INTEGER;
ALTER TABLE notifications ADD COLUMN approved_at TEXT;
ALTER TABLE notification_events ADD COLUMN version INTEGER;
ALTER TABLE registration_applications ADD COLUMN approved_by_user BLOB;
ALTER TABLE registration_applications ADD COLUMN approved_version INTEGER;
ALTER TABLE registration_applications ADD COLUMN approved_at TEXT;
ALTER TABLE registration_application_events ADD COLUMN version INTEGER;
