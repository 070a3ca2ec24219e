-- Portable SQL: the same live migration on PostgreSQL, MariaDB and SQLite.
ALTER TABLE users ADD COLUMN email_lower VARCHAR(100);
