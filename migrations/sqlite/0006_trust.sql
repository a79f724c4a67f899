-- Keys for secrets at rest: one check value per key id (an AEAD of a fixed text under that
-- key), written when the key is first used. At start-up every key id the database knows must
-- be held and must open its check value, or the server refuses to start.
CREATE TABLE key_checks (
    key_id      TEXT    PRIMARY KEY,
    check_value TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Reset requests expire (status 'expired'), and a decision may carry a reason the requester
-- sees. SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing
-- references it).
CREATE TABLE reset_requests_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    admin_id      INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn', 'expired')),
    requested_at  INTEGER NOT NULL,
    requested_ip  TEXT    NULL,
    decided_at    INTEGER NULL,
    decided_by    INTEGER NULL REFERENCES admins (id),
    -- The requester has been told the outcome (a denial is told once, at the next attempt).
    outcome_seen  INTEGER NOT NULL DEFAULT 0 CHECK (outcome_seen IN (0, 1)),
    reason        TEXT    NULL
);
INSERT INTO reset_requests_new (id, account_id, admin_id, status, requested_at, requested_ip,
                                decided_at, decided_by, outcome_seen)
    SELECT id, account_id, admin_id, status, requested_at, requested_ip, decided_at, decided_by,
           outcome_seen
    FROM reset_requests;
DROP TABLE reset_requests;
ALTER TABLE reset_requests_new RENAME TO reset_requests;
CREATE UNIQUE INDEX reset_requests_one_pending ON reset_requests (admin_id) WHERE status = 'pending';
CREATE INDEX reset_requests_admin_idx ON reset_requests (admin_id, id);
CREATE INDEX reset_requests_account_idx ON reset_requests (account_id, status);
