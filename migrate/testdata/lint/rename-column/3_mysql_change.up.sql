ALTER TABLE users CHANGE COLUMN email email_address VARCHAR(255);
