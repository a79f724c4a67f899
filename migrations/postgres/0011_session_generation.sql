-- Ending every session of an admin (2FA reset, deactivation, a new password, "sign out other
-- sessions") moves the admin's session generation on. A session remembers the generation it
-- was made under and is refused once it differs, so a sign-in step that was in flight while its
-- admin's sessions were ended cannot leave a session behind.
ALTER TABLE admins ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;
