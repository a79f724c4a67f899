-- 2FA reset requests, in-app notifications, the audit log, and rate-limit counters.

CREATE TABLE reset_requests (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    admin_id      BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn')),
    requested_at  BIGINT NOT NULL,
    requested_ip  TEXT    NULL,
    decided_at    BIGINT NULL,
    decided_by    BIGINT NULL REFERENCES admins (id),
    -- The requester has been told the outcome (a denial is told once, at the next attempt).
    outcome_seen  BIGINT NOT NULL DEFAULT 0 CHECK (outcome_seen IN (0, 1))
);
-- One pending request per admin.
CREATE UNIQUE INDEX reset_requests_one_pending ON reset_requests (admin_id) WHERE status = 'pending';
CREATE INDEX reset_requests_admin_idx ON reset_requests (admin_id, id);
CREATE INDEX reset_requests_account_idx ON reset_requests (account_id, status);

-- After an approved reset (or the operator's reset-2fa) the admin is taken to the 2FA setup
-- at the next sign-in, even when 2FA is not enforced for them (then they may skip it).
ALTER TABLE admins ADD COLUMN prompt_2fa_setup BIGINT NOT NULL DEFAULT 0 CHECK (prompt_2fa_setup IN (0, 1));

CREATE TABLE notifications (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    BIGINT NOT NULL REFERENCES accounts (id),
    recipient_id  BIGINT NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    kind          TEXT    NOT NULL,
    subject_id    BIGINT NULL REFERENCES admins (id) ON DELETE CASCADE,
    message       TEXT    NOT NULL,
    link          TEXT    NULL,
    created_at    BIGINT NOT NULL,
    read_at       BIGINT NULL
);
CREATE INDEX notifications_recipient_idx ON notifications (recipient_id, id);

-- Security events. Written by the server only; the app has no way to edit or delete them.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  BIGINT NULL REFERENCES accounts (id),
    actor_id    BIGINT NULL,
    target_id   BIGINT NULL,
    event       TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',
    client_ip   TEXT    NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, id);
CREATE INDEX audit_log_target_idx ON audit_log (target_id, id);

-- Fixed-window counters for rate limits, shared by every instance.
CREATE TABLE rate_limits (
    key           TEXT    PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    hits          BIGINT NOT NULL
);
