-- The old service still reads email while this runs.
ALTER TABLE users RENAME COLUMN email TO email_address;
ALTER TABLE users DROP COLUMN nickname;
ALTER TABLE users ALTER COLUMN age TYPE bigint;
DROP TABLE legacy_sessions;
