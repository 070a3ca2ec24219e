ALTER TABLE users RENAME COLUMN mail TO email;
ALTER TABLE users RENAME nick TO "Nickname";
ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk;
