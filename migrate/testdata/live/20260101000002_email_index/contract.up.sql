ALTER TABLE users VALIDATE CONSTRAINT users_email_lower_not_null;
ALTER TABLE users ALTER COLUMN email_lower SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_email_lower_not_null;
