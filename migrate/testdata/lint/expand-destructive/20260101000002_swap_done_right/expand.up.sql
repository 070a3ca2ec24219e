-- Safe: expand only adds; a table it created itself may go again.
ALTER TABLE users ADD COLUMN email_address TEXT;
CREATE TABLE scratch (id INT);
DROP TABLE scratch;
CREATE INDEX CONCURRENTLY users_email_address_idx ON users (email_address);
