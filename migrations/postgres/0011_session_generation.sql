-- Ending every session of an admin (2FA reset, deactivation, a new password, "sign out other
-- sessions") moves the admin's session generation on. A session remembers the generation it
-- was made under and is refused once it differs, so a sign-in step that was in flight while its
-- admin's sessions were ended cannot leave a session behind.
ALTER TABLE admins ADD COLUMN session_generation BIGINT NOT NULL DEFAULT 0;

-- The generation a session was made under (or moved to, for the session kept by "sign out other
-- sessions" or a password change, in the same transaction as the move). Written when a session
-- is created and by that move only: a request still running with the old value cannot write it
-- back, and loading a session takes it from here.
ALTER TABLE sessions ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
