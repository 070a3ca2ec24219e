-- Safe: the old service is gone by the contract.
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;
ALTER TABLE users ALTER COLUMN email_address SET NOT NULL;
