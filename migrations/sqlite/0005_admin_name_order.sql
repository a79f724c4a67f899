-- Admin Management sorts by name without regard to case: an index on that expression lets
-- page 1 of a large account read 25 rows instead of sorting them all.
CREATE INDEX admins_account_lower_name_idx ON admins (account_id, LOWER(name), id);
