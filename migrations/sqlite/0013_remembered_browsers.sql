-- Remember this browser: per account, the super admin may let a browser that passed the code
-- step skip it for up to 30 days ("Don't ask for a code on this browser for N days"; 0: off).
ALTER TABLE accounts ADD COLUMN remember_browser_days INTEGER NOT NULL DEFAULT 0
    CHECK (remember_browser_days BETWEEN 0 AND 30);
-- Moves on whenever the setting is lowered or turned off: every browser remembered before is
-- forgotten (a code step that read the old setting and stores its browser after the change
-- stores a dead one).
ALTER TABLE accounts ADD COLUMN remember_epoch INTEGER NOT NULL DEFAULT 0;

-- A remembered browser holds a random token in a cookie; only its SHA-256 is stored (a database
-- dump holds no usable token). It is bound to the admin, to the admin's session generation when
-- it was made (a reset approval, turning 2FA off, a new password, "Sign out all other sessions"
-- and a deactivation move it on, and so revoke every remembered browser of the admin; the rows
-- are deleted too) and to the account's remember epoch.
CREATE TABLE remembered_browsers (
    token_hash   TEXT    PRIMARY KEY,
    admin_id     INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    generation   INTEGER NOT NULL,
    epoch        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NULL,
    user_agent   TEXT    NULL,
    client_ip    TEXT    NULL
);
CREATE INDEX remembered_browsers_admin_idx ON remembered_browsers (admin_id);
