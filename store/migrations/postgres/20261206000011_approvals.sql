-- Four eyes as a review: a person with the submitter role approves one version of a draft notification or
-- application (docs/review.md). An edit clears the approval; a submission keeps it, as the record of who
-- reviewed what was sent. History entries of an approval name the version approved.
ALTER TABLE organisations ADD COLUMN software_submits BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE notifications ADD COLUMN approved_by_user UUID;
ALTER TABLE notifications ADD COLUMN approved_version BIGINT;
ALTER TABLE notifications ADD COLUMN approved_at TIMESTAMPTZ;
ALTER TABLE notification_events ADD COLUMN version BIGINT;
ALTER TABLE registration_applications ADD COLUMN approved_by_user UUID;
ALTER TABLE registration_applications ADD COLUMN approved_version BIGINT;
ALTER TABLE registration_applications ADD COLUMN approved_at TIMESTAMPTZ;
ALTER TABLE registration_application_events ADD COLUMN version BIGINT;
