-- The regulator's own applications (the provider portal, the staff portal). A person signed in through one
-- acts in a first-party session, the only kind that may be handed an API client's credentials.
ALTER TABLE integrator_apps ADD COLUMN first_party BOOLEAN NOT NULL DEFAULT FALSE;
