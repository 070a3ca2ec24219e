ALTER TABLE users DROP COLUMN seed, DROP COLUMN status, DROP COLUMN created_at;
