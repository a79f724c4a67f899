-- Security keys and passkeys (WebAuthn) beside TOTP. An admin may have TOTP, keys, or both;
-- 2FA is on when any second factor is registered.

-- One row per registered key. `credential` is webauthn-rs's `SecurityKey` as JSON: the public
-- key, its algorithm and the signature counter (no secret: a database dump signs nothing).
-- The credential id is unique across the deployment: one key is never two admins' factor.
CREATE TABLE security_keys (
    id             BIGSERIAL PRIMARY KEY,
    admin_id       BIGINT  NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    credential_id  TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    credential     TEXT    NOT NULL,
    -- The signature counter last accepted, apart from the JSON so an assertion can move it on
    -- with a compare-and-swap (a counter going back is a cloned key).
    sign_count     BIGINT  NOT NULL DEFAULT 0,
    created_at     BIGINT  NOT NULL,
    last_used_at   BIGINT  NULL,
    -- Set when the key answered with a counter lower than before (a cloned key): from then on
    -- it is not asked for and not accepted, until it is removed (by its admin with another
    -- factor, or by a 2FA reset). It still counts as a factor, so 2FA stays on meanwhile.
    suspended_at   BIGINT  NULL
);
CREATE UNIQUE INDEX security_keys_credential_key ON security_keys (credential_id);
CREATE INDEX security_keys_admin_idx ON security_keys (admin_id);

-- "Require security keys": where 2FA is enforced, TOTP alone does not do.
ALTER TABLE accounts ADD COLUMN require_keys BIGINT NOT NULL DEFAULT 0
    CHECK (require_keys IN (0, 1));

-- How many second factors each admin has (TOTP counts one, each key one), kept by the trigger
-- below. The admin counts (migration 0009) follow it instead of looking for a TOTP credential,
-- so "2FA set up" means any factor, everywhere.
ALTER TABLE admins ADD COLUMN factors BIGINT NOT NULL DEFAULT 0;
UPDATE admins SET factors = (SELECT COUNT(*) FROM totp_credentials t WHERE t.admin_id = admins.id);

-- The row update locks the admin: concurrent factor changes of one admin apply one after the
-- other, and the counts' trigger sees each step.
CREATE FUNCTION admin_factors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE admins SET factors = factors + 1 WHERE id = NEW.admin_id;
    ELSE
        UPDATE admins SET factors = factors - 1 WHERE id = OLD.admin_id;
    END IF;
    RETURN NULL;
END
$$;
ALTER FUNCTION admin_factors() SET search_path FROM CURRENT;

CREATE TRIGGER admin_factors_totp AFTER INSERT OR DELETE ON totp_credentials
    FOR EACH ROW EXECUTE FUNCTION admin_factors();
CREATE TRIGGER admin_factors_key AFTER INSERT OR DELETE ON security_keys
    FOR EACH ROW EXECUTE FUNCTION admin_factors();

-- The counts now follow `factors` alone: a function of the admin's row.
DROP TRIGGER admin_counts_totp ON totp_credentials;
DROP FUNCTION admin_counts_totp();
DROP TRIGGER admin_counts_admin ON admins;

CREATE OR REPLACE FUNCTION admin_counts_admin() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    prev RECORD;
    cur RECORD;
BEGIN
    SELECT * INTO cur FROM admin_counts_share(NEW.active, NEW.enforce_2fa,
                                              CASE WHEN NEW.factors > 0 THEN 1 ELSE 0 END);
    IF TG_OP = 'INSERT' THEN
        UPDATE admin_counts SET
            admins = admins + 1,
            active = active + NEW.active,
            active_totp = active_totp + cur.active_totp,
            active_on_no_totp = active_on_no_totp + cur.on_no_totp,
            active_default_no_totp = active_default_no_totp + cur.default_no_totp
        WHERE account_id = NEW.account_id;
    ELSE
        SELECT * INTO prev FROM admin_counts_share(OLD.active, OLD.enforce_2fa,
                                                   CASE WHEN OLD.factors > 0 THEN 1 ELSE 0 END);
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

CREATE TRIGGER admin_counts_admin AFTER INSERT OR UPDATE OF active, enforce_2fa, factors ON admins
    FOR EACH ROW EXECUTE FUNCTION admin_counts_admin();
ALTER FUNCTION admin_counts_admin() SET search_path FROM CURRENT;
