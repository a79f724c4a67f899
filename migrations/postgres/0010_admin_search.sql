-- Search in Admin Management through an index: trigram indexes (pg_trgm) answer the table's
-- `LIKE '%…%'` on name, email and username. pg_trgm is a trusted extension (PostgreSQL 13+:
-- the database owner may create it); where it is missing the search works as before, without
-- the index, and the server logs nothing worse than this migration's warning.

DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'pg_trgm is not available (%): Admin Management searches without an index',
        SQLERRM;
END
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX admins_name_trgm_idx ON admins USING gin (LOWER(name) gin_trgm_ops);
        CREATE INDEX admins_email_trgm_idx ON admins USING gin (email gin_trgm_ops);
        CREATE INDEX admins_username_trgm_idx ON admins USING gin (username gin_trgm_ops);
    END IF;
EXCEPTION WHEN OTHERS THEN
    -- pg_trgm installed in a schema this role does not search, say: no index, same answers.
    RAISE WARNING 'trigram indexes not created (%): Admin Management searches without them',
        SQLERRM;
END
$$;
