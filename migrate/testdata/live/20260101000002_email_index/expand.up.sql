-- A lower-cased copy of email, kept by a trigger for the rows the running service writes, and its index.
ALTER TABLE users ADD COLUMN email_lower TEXT;
CREATE FUNCTION users_email_lower() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.email_lower := lower(NEW.email);
    RETURN NEW;
END
$$;
CREATE TRIGGER users_email_lower BEFORE INSERT OR UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION users_email_lower();
ALTER TABLE users ADD CONSTRAINT users_email_lower_not_null CHECK (email_lower IS NOT NULL) NOT VALID;
CREATE UNIQUE INDEX CONCURRENTLY users_email_lower_key ON users (email_lower);
