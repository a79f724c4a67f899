-- Accounts (MSSP tenants), their admins, TOTP credentials and server-side sessions.
-- Times are unix seconds; booleans are 0/1 integers (portable across SQLite and PostgreSQL
-- through sqlx's Any driver). Integers are BIGINT so both backends decode them as i64.

CREATE TABLE accounts (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT   NOT NULL,
    force_2fa   BIGINT NOT NULL DEFAULT 0 CHECK (force_2fa IN (0, 1)),
    created_at  BIGINT NOT NULL
);

CREATE TABLE admins (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      BIGINT NOT NULL REFERENCES accounts (id),
    email           TEXT   NOT NULL,
    username        TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    password_hash   TEXT   NOT NULL,
    role            TEXT   NOT NULL CHECK (role IN ('super_admin', 'admin', 'sub_admin')),
    active          BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    -- NULL: the account's "Force two-factor authentication" applies.
    enforce_2fa     BIGINT NULL CHECK (enforce_2fa IN (0, 1)),
    last_sign_in_at BIGINT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
-- Sign-in takes an email or a username without naming the account, so both are unique
-- across the deployment. Stored lower-case.
CREATE UNIQUE INDEX admins_email_key ON admins (email);
CREATE UNIQUE INDEX admins_username_key ON admins (username);
CREATE INDEX admins_account_idx ON admins (account_id, id);

CREATE TABLE totp_credentials (
    admin_id        BIGINT PRIMARY KEY REFERENCES admins (id) ON DELETE CASCADE,
    -- The shared secret; one column so it can be encrypted at rest later.
    secret          TEXT   NOT NULL,
    -- Newest time step accepted; codes for it or older steps are replays (RFC 6238 §5.2).
    last_used_step  BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    -- SHA-256 of the session id from the cookie: a database dump holds no usable cookie.
    id_hash       TEXT   PRIMARY KEY,
    data          TEXT   NOT NULL,
    expires_at    BIGINT NOT NULL,
    admin_id      BIGINT NULL REFERENCES admins (id) ON DELETE CASCADE,
    complete      BIGINT NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    user_agent    TEXT   NULL,
    client_ip     TEXT   NULL
);
CREATE INDEX sessions_admin_idx ON sessions (admin_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
