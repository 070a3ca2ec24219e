DROP INDEX CONCURRENTLY IF EXISTS users_email_lower_key;
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_lower_not_null;
DROP TRIGGER IF EXISTS users_email_lower ON users;
DROP FUNCTION IF EXISTS users_email_lower();
ALTER TABLE users DROP COLUMN IF EXISTS email_lower;
