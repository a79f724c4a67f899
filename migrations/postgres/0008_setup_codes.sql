-- After a reset, the next sign-in asks for a one-time setup code that the super admin (or the
-- operator) hands over another way: the MAC of the code under the server's key ("key id:mac"),
-- and when it stops working. Cleared when the admin sets 2FA up again or skips an offered setup.
ALTER TABLE admins ADD COLUMN setup_code TEXT NULL;
ALTER TABLE admins ADD COLUMN setup_code_expires_at BIGINT NULL;
