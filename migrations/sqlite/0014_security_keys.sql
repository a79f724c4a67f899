-- Security keys and passkeys (WebAuthn) beside TOTP. An admin may have TOTP, keys, or both;
-- 2FA is on when any second factor is registered.

-- One row per registered key. `credential` is webauthn-rs's `SecurityKey` as JSON: the public
-- key, its algorithm and the signature counter (no secret: a database dump signs nothing).
-- The credential id is unique across the deployment: one key is never two admins' factor.
CREATE TABLE security_keys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id       INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    credential_id  TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    credential     TEXT    NOT NULL,
    -- The signature counter last accepted, apart from the JSON so an assertion can move it on
    -- with a compare-and-swap (a counter going back is a cloned key).
    sign_count     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER NULL,
    -- Set when the key answered with a counter lower than before (a cloned key): from then on
    -- it is not asked for and not accepted, until it is removed (by its admin with another
    -- factor, or by a 2FA reset). It still counts as a factor, so 2FA stays on meanwhile.
    suspended_at   INTEGER NULL
);
CREATE UNIQUE INDEX security_keys_credential_key ON security_keys (credential_id);
CREATE INDEX security_keys_admin_idx ON security_keys (admin_id);

-- "Require security keys": where 2FA is enforced, TOTP alone does not do.
ALTER TABLE accounts ADD COLUMN require_keys INTEGER NOT NULL DEFAULT 0
    CHECK (require_keys IN (0, 1));

-- How many second factors each admin has (TOTP counts one, each key one), kept by the triggers
-- below. The admin counts (migration 0009) follow it instead of looking for a TOTP credential,
-- so "2FA set up" means any factor, everywhere.
ALTER TABLE admins ADD COLUMN factors INTEGER NOT NULL DEFAULT 0;
UPDATE admins SET factors = (SELECT COUNT(*) FROM totp_credentials t WHERE t.admin_id = admins.id);

CREATE TRIGGER admin_factors_totp_added AFTER INSERT ON totp_credentials
BEGIN
    UPDATE admins SET factors = factors + 1 WHERE id = NEW.admin_id;
END;
CREATE TRIGGER admin_factors_totp_removed AFTER DELETE ON totp_credentials
BEGIN
    UPDATE admins SET factors = factors - 1 WHERE id = OLD.admin_id;
END;
CREATE TRIGGER admin_factors_key_added AFTER INSERT ON security_keys
BEGIN
    UPDATE admins SET factors = factors + 1 WHERE id = NEW.admin_id;
END;
CREATE TRIGGER admin_factors_key_removed AFTER DELETE ON security_keys
BEGIN
    UPDATE admins SET factors = factors - 1 WHERE id = OLD.admin_id;
END;

-- The counts now follow `factors` alone: a function of the admin's row.
DROP TRIGGER admin_counts_totp_added;
DROP TRIGGER admin_counts_totp_removed;
DROP TRIGGER admin_counts_admin_changed;
CREATE TRIGGER admin_counts_admin_changed AFTER UPDATE OF active, enforce_2fa, factors ON admins
BEGIN
    UPDATE admin_counts SET
        active = active - (OLD.active = 1) + (NEW.active = 1),
        active_totp = active_totp
            + (NEW.active = 1 AND NEW.factors > 0) - (OLD.active = 1 AND OLD.factors > 0),
        active_on_no_totp = active_on_no_totp
            + (NEW.active = 1 AND NEW.enforce_2fa IS 1 AND NEW.factors = 0)
            - (OLD.active = 1 AND OLD.enforce_2fa IS 1 AND OLD.factors = 0),
        active_default_no_totp = active_default_no_totp
            + (NEW.active = 1 AND NEW.enforce_2fa IS NULL AND NEW.factors = 0)
            - (OLD.active = 1 AND OLD.enforce_2fa IS NULL AND OLD.factors = 0)
    WHERE account_id = NEW.account_id;
END;
