ALTER TABLE users ALTER COLUMN email_lower DROP NOT NULL;
ALTER TABLE users ADD CONSTRAINT users_email_lower_not_null CHECK (email_lower IS NOT NULL) NOT VALID;
