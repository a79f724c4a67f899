-- Hardening: TOTP secrets encrypted at rest (each row records its key), recovery codes
-- (stored as keyed hashes), and brute-force counters for the sign-in steps.

-- NULL: a secret stored before encryption existed; encrypted at the next start-up.
ALTER TABLE totp_credentials ADD COLUMN key_id TEXT NULL;

CREATE TABLE recovery_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id   BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    key_id     TEXT    NOT NULL,
    code_mac   TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NULL
);
CREATE UNIQUE INDEX recovery_codes_mac_key ON recovery_codes (admin_id, code_mac);

-- Consecutive failures per admin and failures per address, for each sign-in step.
CREATE TABLE auth_failures (
    key             TEXT    PRIMARY KEY,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX audit_log_event_idx ON audit_log (account_id, event, id);
CREATE INDEX audit_log_time_idx ON audit_log (account_id, created_at);
