DROP INDEX CONCURRENTLY IF EXISTS users_email_address_idx;
ALTER TABLE users DROP COLUMN IF EXISTS email_address;
