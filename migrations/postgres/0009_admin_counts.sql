-- Admin Management at any size: each account's admin counts (the pager's total, the 2FA
-- overview above the table) kept current on write by triggers, so a page view reads one row
-- instead of counting every admin of the account. `tests/it/administration.rs` checks them
-- against a full count after every kind of change. Sorting by last sign-in walks an index.

CREATE TABLE admin_counts (
    account_id             BIGINT PRIMARY KEY REFERENCES accounts (id),
    admins                 BIGINT NOT NULL DEFAULT 0,
    active                 BIGINT NOT NULL DEFAULT 0,
    -- Active admins with 2FA set up.
    active_totp            BIGINT NOT NULL DEFAULT 0,
    -- Active admins without 2FA whose "Enforce 2FA" is on.
    active_on_no_totp      BIGINT NOT NULL DEFAULT 0,
    -- Active admins without 2FA who follow the account's "Force two-factor authentication".
    active_default_no_totp BIGINT NOT NULL DEFAULT 0
);

INSERT INTO admin_counts (account_id, admins, active, active_totp, active_on_no_totp,
                          active_default_no_totp)
SELECT c.id,
       (SELECT COUNT(*) FROM admins a WHERE a.account_id = c.id),
       (SELECT COUNT(*) FROM admins a WHERE a.account_id = c.id AND a.active = 1),
       (SELECT COUNT(*) FROM admins a JOIN totp_credentials t ON t.admin_id = a.id
         WHERE a.account_id = c.id AND a.active = 1),
       (SELECT COUNT(*) FROM admins a
         WHERE a.account_id = c.id AND a.active = 1 AND a.enforce_2fa = 1
           AND NOT EXISTS (SELECT 1 FROM totp_credentials t WHERE t.admin_id = a.id)),
       (SELECT COUNT(*) FROM admins a
         WHERE a.account_id = c.id AND a.active = 1 AND a.enforce_2fa IS NULL
           AND NOT EXISTS (SELECT 1 FROM totp_credentials t WHERE t.admin_id = a.id))
FROM accounts c;

CREATE FUNCTION admin_counts_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO admin_counts (account_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER admin_counts_account AFTER INSERT ON accounts
    FOR EACH ROW EXECUTE FUNCTION admin_counts_account();

-- What one admin adds to each count, given whether 2FA is set up.
CREATE FUNCTION admin_counts_share(active BIGINT, enforce BIGINT, totp BIGINT,
                                   OUT active_totp BIGINT, OUT on_no_totp BIGINT,
                                   OUT default_no_totp BIGINT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT active * totp,
           active * (1 - totp) * (CASE WHEN enforce = 1 THEN 1 ELSE 0 END),
           active * (1 - totp) * (CASE WHEN enforce IS NULL THEN 1 ELSE 0 END)
$$;

-- Admins never move between accounts and are never deleted (deactivated instead).
CREATE FUNCTION admin_counts_admin() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    has_totp BIGINT := (SELECT COUNT(*) FROM totp_credentials WHERE admin_id = NEW.id);
    prev RECORD;
    cur RECORD;
BEGIN
    SELECT * INTO cur FROM admin_counts_share(NEW.active, NEW.enforce_2fa, has_totp);
    IF TG_OP = 'INSERT' THEN
        UPDATE admin_counts SET
            admins = admins + 1,
            active = active + NEW.active,
            active_totp = active_totp + cur.active_totp,
            active_on_no_totp = active_on_no_totp + cur.on_no_totp,
            active_default_no_totp = active_default_no_totp + cur.default_no_totp
        WHERE account_id = NEW.account_id;
    ELSE
        SELECT * INTO prev FROM admin_counts_share(OLD.active, OLD.enforce_2fa, has_totp);
        UPDATE admin_counts SET
            active = active - OLD.active + NEW.active,
            active_totp = active_totp - prev.active_totp + cur.active_totp,
            active_on_no_totp = active_on_no_totp - prev.on_no_totp + cur.on_no_totp,
            active_default_no_totp = active_default_no_totp - prev.default_no_totp
                + cur.default_no_totp
        WHERE account_id = NEW.account_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER admin_counts_admin AFTER INSERT OR UPDATE OF active, enforce_2fa ON admins
    FOR EACH ROW EXECUTE FUNCTION admin_counts_admin();

CREATE FUNCTION admin_counts_totp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed BIGINT := CASE WHEN TG_OP = 'INSERT' THEN NEW.admin_id ELSE OLD.admin_id END;
    sign BIGINT := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
    a RECORD;
BEGIN
    -- Locked: a concurrent change of the admin (deactivation, say) waits for this one, and
    -- its trigger then sees this credential, so neither reads the other's old state.
    SELECT account_id, active, enforce_2fa INTO a FROM admins WHERE id = changed FOR UPDATE;
    IF FOUND THEN
        UPDATE admin_counts SET
            active_totp = active_totp + sign * a.active,
            active_on_no_totp = active_on_no_totp
                - sign * a.active * (CASE WHEN a.enforce_2fa = 1 THEN 1 ELSE 0 END),
            active_default_no_totp = active_default_no_totp
                - sign * a.active * (CASE WHEN a.enforce_2fa IS NULL THEN 1 ELSE 0 END)
        WHERE account_id = a.account_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER admin_counts_totp AFTER INSERT OR DELETE ON totp_credentials
    FOR EACH ROW EXECUTE FUNCTION admin_counts_totp();

-- Last sign-in, never-signed-in first when ascending: the order the index holds.
CREATE INDEX admins_account_last_sign_in_first_idx
    ON admins (account_id, last_sign_in_at NULLS FIRST, id);

-- The functions resolve names as this migration did, whatever a session's search_path.
ALTER FUNCTION admin_counts_account() SET search_path FROM CURRENT;
ALTER FUNCTION admin_counts_admin() SET search_path FROM CURRENT;
ALTER FUNCTION admin_counts_totp() SET search_path FROM CURRENT;
ALTER FUNCTION admin_counts_share(BIGINT, BIGINT, BIGINT) SET search_path FROM CURRENT;
