-- Administration: forced change of an initial password, and indexes for the admin table
-- (search, sort and pagination within one account).

ALTER TABLE admins ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));

CREATE INDEX admins_account_name_idx ON admins (account_id, name, id);
CREATE INDEX admins_account_email_idx ON admins (account_id, email);
CREATE INDEX admins_account_username_idx ON admins (account_id, username);
CREATE INDEX admins_account_role_idx ON admins (account_id, role, id);
CREATE INDEX admins_account_last_sign_in_idx ON admins (account_id, last_sign_in_at, id);
