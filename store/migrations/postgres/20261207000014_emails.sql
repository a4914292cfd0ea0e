-- Email that tells people what is waiting (docs/emails.md): each email queued for a person, from queued to
-- sent; what has been turned into emails already; and each person's choices.
CREATE TABLE notification_emails (
    id              UUID PRIMARY KEY,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    user_id         UUID NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL CHECK (kind IN ('review_waiting', 'question_asked', 'notification_due',
                                                  'notification_late', 'registration_information_requested')),
    object_type     TEXT NOT NULL CHECK (object_type IN ('notification', 'registration_application')),
    object_id       UUID NOT NULL,
    -- A history entry's id, or (a reminder) the notification's: nobody is told the same thing twice.
    source_id       UUID NOT NULL,
    to_address      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TIMESTAMPTZ,
    abandoned_at    TIMESTAMPTZ,
    UNIQUE (kind, source_id, user_id)
);
CREATE INDEX notification_emails_to_send ON notification_emails (next_attempt_at)
    WHERE sent_at IS NULL AND abandoned_at IS NULL;
CREATE INDEX notification_emails_by_organisation ON notification_emails (organisation_id, created_at, id);

-- What has been turned into emails (kind 'event': a history entry; 'notification_due' or 'notification_late':
-- a draft's reminder), so each is handled once, whoever it turned out to concern.
CREATE TABLE email_triggers (
    kind       TEXT NOT NULL,
    source_id  UUID NOT NULL,
    handled_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, source_id)
);

-- The kinds a person has chosen not to receive (everything is sent unless they say otherwise).
CREATE TABLE email_opt_outs (
    user_id UUID NOT NULL REFERENCES users (id),
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- The history entries people are emailed about, and the drafts reminders are for, found without a scan.
CREATE INDEX notification_events_emailed ON notification_events (at)
    WHERE action IN ('review_requested', 'information_requested');
CREATE INDEX registration_application_events_emailed ON registration_application_events (at)
    WHERE action = 'information_requested';
CREATE INDEX notifications_drafts_by_creation ON notifications (created_at, id) WHERE status = 'draft';
