-- Judging a reset request: the device it came from, and whether that browser had signed in as
-- the admin before (a valid known-browser token for them).
ALTER TABLE reset_requests ADD COLUMN requested_user_agent TEXT NULL;
ALTER TABLE reset_requests ADD COLUMN from_known_browser INTEGER NOT NULL DEFAULT 0;

-- After an approved reset the setup at the next sign-in is required, unless the super admin
-- chose to offer it only; an offered setup that was skipped is offered again, and the table
-- shows when it was skipped.
ALTER TABLE admins ADD COLUMN setup_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admins ADD COLUMN setup_skipped_at INTEGER NULL;
