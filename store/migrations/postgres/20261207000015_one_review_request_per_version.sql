-- A review is asked for once per version of a draft (docs/emails.md): two requests at the same moment, a
-- double click say, cannot both be recorded, so the submitters are not emailed twice.
CREATE UNIQUE INDEX notification_events_one_review_request ON notification_events (notification_id, version)
    WHERE action = 'review_requested';
