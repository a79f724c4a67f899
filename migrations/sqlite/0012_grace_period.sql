-- Enforcement with a deadline: "Force two-factor authentication" and an admin's own "Enforce 2FA"
-- may come with a grace period. Until its end (unix seconds) an admin without 2FA is asked at
-- each sign-in and may go on without it; from then on the setup is required. NULL: required at
-- once. Only meaningful while the enforcement is on; cleared when it is turned off.
ALTER TABLE accounts ADD COLUMN force_2fa_deadline BIGINT NULL;
ALTER TABLE admins ADD COLUMN enforce_2fa_deadline BIGINT NULL;

-- The chart's "in grace period" counts the admins whose own enforcement has a deadline: few, so
-- a partial index keeps that count independent of the account's size.
CREATE INDEX admins_enforce_2fa_deadline ON admins (account_id, enforce_2fa_deadline)
    WHERE enforce_2fa_deadline IS NOT NULL;
