-- Keys for secrets at rest: one check value per key id (an AEAD of a fixed text under that
-- key), written when the key is first used. At start-up every key id the database knows must
-- be held and must open its check value, or the server refuses to start.
CREATE TABLE key_checks (
    key_id      TEXT   PRIMARY KEY,
    check_value TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Reset requests expire (status 'expired'), and a decision may carry a reason the requester
-- sees.
ALTER TABLE reset_requests DROP CONSTRAINT reset_requests_status_check;
ALTER TABLE reset_requests ADD CONSTRAINT reset_requests_status_check
    CHECK (status IN ('pending', 'approved', 'denied', 'withdrawn', 'expired'));
ALTER TABLE reset_requests ADD COLUMN reason TEXT NULL;
