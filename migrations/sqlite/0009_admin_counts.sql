-- Admin Management at any size: each account's admin counts (the pager's total, the 2FA
-- overview above the table) kept current on write by triggers, so a page view reads one row
-- instead of counting every admin of the account. `tests/it/administration.rs` checks them
-- against a full count after every kind of change.

CREATE TABLE admin_counts (
    account_id             INTEGER PRIMARY KEY REFERENCES accounts (id),
    admins                 INTEGER NOT NULL DEFAULT 0,
    active                 INTEGER NOT NULL DEFAULT 0,
    -- Active admins with 2FA set up.
    active_totp            INTEGER NOT NULL DEFAULT 0,
    -- Active admins without 2FA whose "Enforce 2FA" is on.
    active_on_no_totp      INTEGER NOT NULL DEFAULT 0,
    -- Active admins without 2FA who follow the account's "Force two-factor authentication".
    active_default_no_totp INTEGER NOT NULL DEFAULT 0
);

INSERT INTO admin_counts (account_id, admins, active, active_totp, active_on_no_totp,
                          active_default_no_totp)
SELECT c.id,
       (SELECT COUNT(*) FROM admins a WHERE a.account_id = c.id),
       (SELECT COUNT(*) FROM admins a WHERE a.account_id = c.id AND a.active = 1),
       (SELECT COUNT(*) FROM admins a JOIN totp_credentials t ON t.admin_id = a.id
         WHERE a.account_id = c.id AND a.active = 1),
       (SELECT COUNT(*) FROM admins a
         WHERE a.account_id = c.id AND a.active = 1 AND a.enforce_2fa IS 1
           AND NOT EXISTS (SELECT 1 FROM totp_credentials t WHERE t.admin_id = a.id)),
       (SELECT COUNT(*) FROM admins a
         WHERE a.account_id = c.id AND a.active = 1 AND a.enforce_2fa IS NULL
           AND NOT EXISTS (SELECT 1 FROM totp_credentials t WHERE t.admin_id = a.id))
FROM accounts c;

CREATE TRIGGER admin_counts_account AFTER INSERT ON accounts
BEGIN
    INSERT INTO admin_counts (account_id) VALUES (NEW.id);
END;

CREATE TRIGGER admin_counts_admin_added AFTER INSERT ON admins
BEGIN
    UPDATE admin_counts SET
        admins = admins + 1,
        active = active + (NEW.active = 1),
        active_totp = active_totp + (NEW.active = 1
            AND EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id)),
        active_on_no_totp = active_on_no_totp + (NEW.active = 1 AND NEW.enforce_2fa IS 1
            AND NOT EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id)),
        active_default_no_totp = active_default_no_totp + (NEW.active = 1
            AND NEW.enforce_2fa IS NULL
            AND NOT EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id))
    WHERE account_id = NEW.account_id;
END;

-- Admins never move between accounts and are never deleted (deactivated instead).
CREATE TRIGGER admin_counts_admin_changed AFTER UPDATE OF active, enforce_2fa ON admins
BEGIN
    UPDATE admin_counts SET
        active = active - (OLD.active = 1) + (NEW.active = 1),
        active_totp = active_totp
            + ((NEW.active = 1) - (OLD.active = 1))
              * EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id),
        active_on_no_totp = active_on_no_totp
            + ((NEW.active = 1 AND NEW.enforce_2fa IS 1) - (OLD.active = 1 AND OLD.enforce_2fa IS 1))
              * NOT EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id),
        active_default_no_totp = active_default_no_totp
            + ((NEW.active = 1 AND NEW.enforce_2fa IS NULL)
               - (OLD.active = 1 AND OLD.enforce_2fa IS NULL))
              * NOT EXISTS (SELECT 1 FROM totp_credentials WHERE admin_id = NEW.id)
    WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER admin_counts_totp_added AFTER INSERT ON totp_credentials
BEGIN
    UPDATE admin_counts SET
        active_totp = active_totp + (SELECT a.active = 1 FROM admins a WHERE a.id = NEW.admin_id),
        active_on_no_totp = active_on_no_totp
            - (SELECT a.active = 1 AND a.enforce_2fa IS 1 FROM admins a WHERE a.id = NEW.admin_id),
        active_default_no_totp = active_default_no_totp
            - (SELECT a.active = 1 AND a.enforce_2fa IS NULL FROM admins a WHERE a.id = NEW.admin_id)
    WHERE account_id = (SELECT account_id FROM admins WHERE id = NEW.admin_id);
END;

CREATE TRIGGER admin_counts_totp_removed AFTER DELETE ON totp_credentials
BEGIN
    UPDATE admin_counts SET
        active_totp = active_totp - (SELECT a.active = 1 FROM admins a WHERE a.id = OLD.admin_id),
        active_on_no_totp = active_on_no_totp
            + (SELECT a.active = 1 AND a.enforce_2fa IS 1 FROM admins a WHERE a.id = OLD.admin_id),
        active_default_no_totp = active_default_no_totp
            + (SELECT a.active = 1 AND a.enforce_2fa IS NULL FROM admins a WHERE a.id = OLD.admin_id)
    WHERE account_id = (SELECT account_id FROM admins WHERE id = OLD.admin_id);
END;
